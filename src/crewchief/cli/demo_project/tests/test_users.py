import pytest
from core import users


def test_get_user_reads_the_database():
    assert users.get_user(1).name == "Ada"
    assert users.LOOKUPS["db"] == 1


def test_cached_lookups_hit_the_database_once():
    users.get_user(2, cache=True)
    users.get_user(2, cache=True)
    assert users.LOOKUPS["db"] == 1


def test_unknown_user_is_a_lookup_error():
    with pytest.raises(LookupError):
        users.get_user(99)


def test_fetch_user_is_deprecated():
    deprecated = users.fetch_user
    with pytest.warns(DeprecationWarning):
        deprecated(1)
