"""The secret corpus against the detector itself: every format redacted from text, refused in a
patch with its file, line and kind, and masked in the stored copy; ordinary code is left alone."""

from __future__ import annotations

import pytest

from crewchief.gate.patchfile import parse
from crewchief.gate.policy import PolicyRules, evaluate
from crewchief.gate.secretscan import mask_patch, scan_files
from crewchief.ledger.redact import Redactor, is_secret_name
from secret_corpus import CORPUS, ENV_SECRETS, Canary


def add_patch(path: str, text: str) -> bytes:
    """A git patch adding ``path`` with ``text`` (one line per line of it)."""
    lines = text.split("\n")
    body = "".join(f"+{line}\n" for line in lines)
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{body}"
    ).encode()


def test_the_corpus_has_at_least_thirty_formats() -> None:
    assert len({c.name for c in CORPUS}) == len(CORPUS) >= 30


@pytest.mark.parametrize("canary", CORPUS, ids=lambda c: c.name)
def test_every_format_is_redacted_from_text(canary: Canary) -> None:
    out = Redactor().redact(f"worker said: {canary.text} (done)")
    assert all(v not in out for v in canary.values)
    assert "[REDACTED:" in out and out.startswith("worker said: ")


@pytest.mark.parametrize("canary", CORPUS, ids=lambda c: c.name)
def test_a_patch_adding_any_format_is_refused_with_file_line_and_kind(canary: Canary) -> None:
    patch = add_patch("src/conf.txt", "# settings\n" + canary.text)
    decision = evaluate(patch, ["src/"], PolicyRules())
    secrets = [v for v in decision.violations if v.code == "secret"]
    assert secrets and not decision.accepted and not decision.needs_human
    assert all(v.path == "src/conf.txt" and v.detail.startswith("line ") for v in secrets)
    assert min(int(v.detail.split()[1].rstrip(":")) for v in secrets) >= 2
    assert all(value not in v.detail for v in secrets for value in canary.values)


@pytest.mark.parametrize("canary", CORPUS, ids=lambda c: c.name)
def test_the_stored_copy_of_such_a_patch_masks_every_value(canary: Canary) -> None:
    patch = add_patch("src/conf.txt", canary.text)
    masked = mask_patch(patch, scan_files(parse(patch)))
    assert all(v.encode() not in masked for v in canary.values)
    assert b"[REDACTED:" in masked and masked.startswith(b"diff --git a/src/conf.txt")


def test_a_line_marked_with_the_allowlist_pragma_is_not_a_finding() -> None:
    token = CORPUS[3].text  # a GitHub token
    patch = add_patch("src/fixture.py", f"TOKEN = '{token}'  # pragma: allowlist secret")
    assert evaluate(patch, ["src/"], PolicyRules()).accepted


def test_the_nextline_pragma_covers_only_the_next_line() -> None:
    token = CORPUS[3].values[0]
    text = f"# pragma: allowlist nextline secret\nA = 'ghp_{token}'\nB = 'ghp_{token}x'"
    found = scan_files(parse(add_patch("src/fixture.py", text)))
    assert [f.line for f in found] == [3]


def test_a_secret_known_by_value_is_a_finding_whatever_it_looks_like() -> None:
    patch = add_patch("src/conf.txt", "value: correct horse battery staple")
    known = (("correct horse battery", "BACKUP_PASSPHRASE"),)
    decision = evaluate(patch, ["src/"], PolicyRules(), known_secrets=known)
    assert [v.detail for v in decision.violations] == ["line 1: adds a secret (BACKUP_PASSPHRASE)"]


@pytest.mark.parametrize(
    "line",
    [
        'digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',
        'request_id = "3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b"',
        'password = os.environ["DB_PASSWORD"]',
        "api_key = settings.API_KEY",
        "token = get_token(session)",
        'PASSWORD_FIELD = "password"',
        "def check_password(user, password):",
        "the tokenizer splits tokens into pieces",
    ],
)
def test_ordinary_code_in_a_patch_is_no_finding(line: str) -> None:
    assert scan_files(parse(add_patch("src/app.py", line))) == []


def test_every_secret_on_one_line_is_redacted_and_none_swallows_the_next() -> None:
    chain = next(c for c in CORPUS if c.name == "password-chain")
    out = Redactor().redact(chain.text)
    assert out == "a_password: [REDACTED:assignment] password: [REDACTED:assignment]"


def test_two_tokens_of_different_kinds_on_one_line_are_both_redacted() -> None:
    line = " ".join(c.text for c in CORPUS if c.name in ("github-ghp", "sendgrid", "npm"))
    out = Redactor().redact(line)
    assert out.count("[REDACTED:") == 3


@pytest.mark.parametrize("name", sorted(ENV_SECRETS))
def test_environment_variables_with_secret_names_are_redacted_by_value(name: str) -> None:
    value = ENV_SECRETS[name]
    assert is_secret_name(name)
    out = Redactor.from_env({name: value}).redact(f"echo {value}")
    assert out == f"echo [REDACTED:{name}]"


@pytest.mark.parametrize("name", ["PWD", "OLDPWD", "PATH", "HOME", "SSH_AUTH_SOCK"])
def test_ordinary_environment_variables_are_not_secrets(name: str) -> None:
    assert not is_secret_name(name)
