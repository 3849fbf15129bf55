"""The handler: turns a stored order into the response the API sends."""

from shop.models import Order

ORDERS = {1: Order(id=1, total_cents=1250), 2: Order(id=2, total_cents=399)}


def get_order(order_id: int) -> dict[str, object]:
    order = ORDERS[order_id]
    return {"id": order.id, "total_cents": order.total_cents}
