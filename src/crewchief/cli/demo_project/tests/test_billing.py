from billing import invoice, refunds


def test_invoice_has_vat():
    assert invoice.invoice_lines(3, 1000)[-1] == "Total: 1240"


def test_refunds():
    assert refunds.refund_to_credit(1, 100) == 1600
    assert refunds.refund_notice(2, 250) == "Refund of 2.50 for Grace"
