from core import users


def names(uids: list[int]) -> list[str]:
    return [users.fetch_user(uid).name for uid in uids]


def by_country(uids: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for uid in uids:
        country = users.fetch_user(uid).country
        counts[country] = counts.get(country, 0) + 1
    return counts


def total_credit(uids: list[int]) -> int:
    return sum(users.fetch_user(uid).credit_cents for uid in uids)
