"""Secrets never reach the ledger: env values and known key formats are replaced."""

from __future__ import annotations

import pytest

from crewchief.ledger.redact import Redactor, is_secret_name, redact

# Built by concatenation so that secret scanners do not flag this file.
OPENAI = "sk-" + "proj-" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4"
ANTHROPIC = "sk-ant-" + "api03-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2"
GHP = "ghp_" + "A" * 18 + "b" * 18
GH_PAT = "github_pat_" + "11ABCDEFG0" + "x" * 40
AWS = "AKIA" + "IOSFODNN7EXAMPLE"
SLACK = "xoxb-" + "1234567890-abcdefghij"
JWT = (
    "eyJhbGciOiJIUzI1NiJ9"
    + "."
    + "eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    + "."
    + "dBjftJeZ4CVPmB92K27uhbUJU1p1r"
)
PEM = (
    "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQUFBQUFB\n"
    "-----END OPENSSH " + "PRIVATE KEY-----"
)


@pytest.mark.parametrize(
    ("secret", "label"),
    [
        (OPENAI, "openai-key"),
        (ANTHROPIC, "anthropic-key"),
        (GHP, "github-token"),
        (GH_PAT, "github-token"),
        (AWS, "aws-access-key"),
        (SLACK, "slack-token"),
        (JWT, "jwt"),
        (PEM, "private-key"),
        ("glpat-" + "abcdefghij0123456789", "gitlab-token"),
        ("AIza" + "SyA" + "1" * 32, "google-api-key"),
        ("hf_" + "abcdefghijklmnopqrstuvwxyz0123", "huggingface-token"),
    ],
)
def test_known_key_format_is_redacted_anywhere(secret: str, label: str) -> None:
    text = f"error: request failed with key {secret} (retrying)"
    out = Redactor().redact(text)
    assert secret not in out
    assert f"[REDACTED:{label}]" in out
    assert out.startswith("error: request failed with key ") and out.endswith(" (retrying)")


def test_unterminated_private_key_is_redacted_to_the_end() -> None:
    text = "key:\n-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEow\nIBAAKCAQEA"
    assert Redactor().redact(text) == "key:\n[REDACTED:private-key]"


def test_env_secret_value_is_redacted_even_without_a_known_format() -> None:
    env = {"MY_SERVICE_TOKEN": "plainwordsecret", "HOME": "/root", "SHORT_KEY": "abc"}
    red = Redactor.from_env(env)
    out = red.redact("token is plainwordsecret; home /root; abc")
    assert out == "token is [REDACTED:MY_SERVICE_TOKEN]; home /root; abc"


def test_env_names_passed_explicitly_are_redacted() -> None:
    red = Redactor.from_env({"MODEL_CREDS_VAR": "hunter2hunter2"}, names=["MODEL_CREDS_VAR"])
    assert "hunter2hunter2" not in red("x hunter2hunter2 y")


def test_longest_env_value_wins_when_values_overlap() -> None:
    red = Redactor.from_env({"A_KEY": "abcdefgh", "B_KEY": "abcdefghijkl"})
    assert red("abcdefghijkl") == "[REDACTED:B_KEY]"


def test_process_environment_is_used_by_module_redact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREWCHIEF_TEST_PASSWORD", "correct-horse-42")
    assert redact("pw=correct-horse-42") == "pw=[REDACTED:CREWCHIEF_TEST_PASSWORD]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("OPENAI_API_KEY=abc123def456", "OPENAI_API_KEY=[REDACTED:assignment]"),
        ('"password": "s3cretPass"', '"password": "[REDACTED:assignment]"'),
        ("db_password: hunter22x", "db_password: [REDACTED:assignment]"),
        ("Authorization: Bearer abcdef0123456789", "Authorization: Bearer [REDACTED:bearer]"),
        (
            "https://user:pa55word@example.com/x",
            "https://user:[REDACTED:url-password]@example.com/x",
        ),
    ],
)
def test_secret_in_context_is_redacted_and_context_kept(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "api_key = os.environ['OPENAI_API_KEY']",
        "token = get_token(session)",
        "the tokenizer splits tokens into pieces",
        "password: required",
        "sk-short",
        "see https://example.com/path:8080",
        "keyboard layout is us",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor().redact(text) == text


def test_secret_names() -> None:
    assert is_secret_name("OPENAI_API_KEY")
    assert is_secret_name("GITHUB_TOKEN")
    assert is_secret_name("db_password")
    assert is_secret_name("AWS_SECRET_ACCESS_KEY")
    assert not is_secret_name("SSH_AUTH_SOCK")
    assert not is_secret_name("PATH")
    assert not is_secret_name("LANG")


def test_bytes_are_redacted_without_losing_undecodable_bytes() -> None:
    red = Redactor.from_env({"X_TOKEN": "tok-12345678"})
    assert red.redact_bytes(b"\xff tok-12345678 \xfe") == b"\xff [REDACTED:X_TOKEN] \xfe"
