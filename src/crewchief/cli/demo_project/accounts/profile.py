from core import users


def display_name(uid: int) -> str:
    return users.fetch_user(uid).name.title()


def contact_line(uid: int) -> str:
    user = users.fetch_user(uid)
    return f"{user.name} <{user.email}>"


def is_domestic(uid: int, country: str = "US") -> bool:
    return users.fetch_user(uid).country == country
