from accounts import profile, settings


def test_display_name():
    assert profile.display_name(1) == "Ada"


def test_contact_line():
    assert profile.contact_line(2) == "Grace <grace@example.com>"


def test_domestic():
    assert profile.is_domestic(2) and not profile.is_domestic(1)


def test_settings_summary():
    assert settings.summary(3) == {"name": "Linus", "locale": "fi_FI", "credit": True}
