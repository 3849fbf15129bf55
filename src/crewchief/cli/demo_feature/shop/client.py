"""The client library: what callers use instead of talking to the handler."""

from shop import handlers


def fetch_order(order_id: int) -> dict[str, object]:
    return handlers.get_order(order_id)
