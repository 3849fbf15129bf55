from core import users


def refund_to_credit(uid: int, cents: int) -> int:
    user = users.fetch_user(uid)
    return user.credit_cents + cents


def refund_notice(uid: int, cents: int) -> str:
    return f"Refund of {cents / 100:.2f} for {users.fetch_user(uid).name}"
