import csv
import io

from core import users


def to_csv(uids: list[int]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["uid", "name", "email"])
    for uid in uids:
        user = users.fetch_user(uid)
        writer.writerow([user.uid, user.name, users.fetch_user(uid).email])
    return buf.getvalue()
