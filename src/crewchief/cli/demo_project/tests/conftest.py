import pytest
from core import users


@pytest.fixture(autouse=True)
def fresh_users():
    users.reset()
    yield
    users.reset()
