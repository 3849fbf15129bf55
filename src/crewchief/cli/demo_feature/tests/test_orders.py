from shop.app import describe
from shop.handlers import get_order


def test_get_order_returns_its_total():
    assert get_order(2)["total_cents"] == 399


def test_describe_shows_the_total():
    assert describe(1).startswith("order 1: 12.50")
