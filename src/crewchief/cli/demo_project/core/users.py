"""User lookups. ``fetch_user`` is deprecated: call ``get_user(uid, cache=True)``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass


@dataclass
class User:
    uid: int
    name: str
    email: str
    country: str
    credit_cents: int = 0


_DB = {
    1: User(1, "Ada", "ada@example.com", "GB", 1500),
    2: User(2, "Grace", "grace@example.com", "US", 0),
    3: User(3, "Linus", "linus@example.com", "FI", 250),
}
_CACHE: dict[int, User] = {}
LOOKUPS = {"db": 0}


def get_user(uid: int, cache: bool = False) -> User:
    """The user with id ``uid``; with ``cache=True`` a repeated lookup skips the database."""
    if cache and uid in _CACHE:
        return _CACHE[uid]
    LOOKUPS["db"] += 1
    try:
        user = _DB[uid]
    except KeyError:
        raise LookupError(f"no user {uid}") from None
    if cache:
        _CACHE[uid] = user
    return user


def fetch_user(uid: int) -> User:
    """Deprecated: use ``get_user(uid, cache=True)``."""
    warnings.warn("fetch_user is deprecated; use get_user(uid, cache=True)",
                  DeprecationWarning, stacklevel=2)
    return get_user(uid)


def reset() -> None:
    _CACHE.clear()
    LOOKUPS["db"] = 0
