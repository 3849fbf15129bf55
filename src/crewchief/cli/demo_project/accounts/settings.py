from core import users


def locale_for(uid: int) -> str:
    country = users.fetch_user(uid).country
    return {"GB": "en_GB", "US": "en_US", "FI": "fi_FI"}.get(country, "en")


def can_use_credit(uid: int) -> bool:
    return users.fetch_user(uid).credit_cents > 0


def summary(uid: int) -> dict[str, object]:
    user = users.fetch_user(uid)
    return {"name": user.name, "locale": locale_for(uid), "credit": can_use_credit(uid)}
