from orders import checkout, history


def test_total_uses_credit_and_shipping():
    assert checkout.total_cents(1, [1000]) == 1000 + 900 - 1500


def test_confirmation():
    assert checkout.confirmation(2, [1000]) == "Thanks Grace, you paid 15.00"


def test_history():
    assert history.lifetime_value(1) == 2000
    assert history.headline(3) == "Linus: 0 orders"
