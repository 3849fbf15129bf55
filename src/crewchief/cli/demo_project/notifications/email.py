from core import users


def greeting(uid: int) -> str:
    return f"Hello {users.fetch_user(uid).name},"


def address(uid: int) -> str:
    return users.fetch_user(uid).email


def compose(uid: int, body: str) -> dict[str, str]:
    return {"to": address(uid), "text": f"{greeting(uid)}\n\n{body}"}
