from core import users

_ORDERS = {1: [1200, 800], 2: [4500], 3: []}


def orders_of(uid: int) -> list[int]:
    users.fetch_user(uid)  # raises LookupError for unknown users
    return list(_ORDERS.get(uid, []))


def lifetime_value(uid: int) -> int:
    return sum(orders_of(uid))


def headline(uid: int) -> str:
    name = users.fetch_user(uid).name
    return f"{name}: {len(orders_of(uid))} orders"
