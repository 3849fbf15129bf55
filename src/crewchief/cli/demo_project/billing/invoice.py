from core import users

VAT = {"GB": 20, "FI": 24, "US": 0}


def vat_rate(uid: int) -> int:
    return VAT.get(users.fetch_user(uid).country, 0)


def invoice_lines(uid: int, amount_cents: int) -> list[str]:
    user = users.fetch_user(uid)
    vat = amount_cents * vat_rate(uid) // 100
    return [f"Bill to: {user.name}", f"Net: {amount_cents}", f"VAT: {vat}",
            f"Total: {amount_cents + vat}"]


def recipient(uid: int) -> str:
    return users.fetch_user(uid).email
