"""The front end: a caller of the client."""

from shop.client import fetch_order


def describe(order_id: int) -> str:
    order = fetch_order(order_id)
    return f"order {order['id']}: {int(order['total_cents']) / 100:.2f}"
