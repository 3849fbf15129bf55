from core import users

SHIPPING_CENTS = {"US": 500, "GB": 900, "FI": 1100}


def shipping_for(uid: int) -> int:
    return SHIPPING_CENTS.get(users.fetch_user(uid).country, 1500)


def total_cents(uid: int, items: list[int]) -> int:
    subtotal = sum(items) + shipping_for(uid)
    credit = min(users.fetch_user(uid).credit_cents, subtotal)
    return subtotal - credit


def confirmation(uid: int, items: list[int]) -> str:
    user = users.fetch_user(uid)
    return f"Thanks {user.name}, you paid {total_cents(uid, items) / 100:.2f}"
