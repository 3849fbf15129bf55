"""Secrets out of text: everything crewchief stores or shows passes through a Redactor first.

Two nets. The values of secret-looking environment variables (``*_API_KEY``, ``*TOKEN*``,
``*PASSWORD*``, …, at least 8 characters) are replaced wherever they appear, whatever they look
like. Then common credential formats (OpenAI/Anthropic ``sk-…``, GitHub ``ghp_…``/``github_pat_…``,
AWS ``AKIA…``, Slack ``xox?-…``, PEM private keys, JWTs, bearer headers, passwords in URLs, and
``NAME=value`` assignments whose name says secret) are replaced even when crewchief never saw the
value in an environment. Neither net catches a secret that was transformed (base64, URL-encoded,
split across lines) before it was printed.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, JsonValue

#: Shortest value treated as a secret: shorter values ("1", "true", "dev") are too common to hide.
MIN_SECRET_LEN = 8

_SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSW(?:OR)?D|PASSPHRASE|CREDENTIAL|AUTH|PRIVATE|COOKIE|SESSION|DSN"
    r"|DATABASE_URL|CONN(?:ECTION)?_?STR",
    re.IGNORECASE,
)
#: Names that match the pattern above but hold nothing secret (paths, sockets, settings).
_NOT_SECRET = frozenset(
    {"SSH_AUTH_SOCK", "XAUTHORITY", "GPG_AGENT_INFO", "KEYTIMEOUT", "GIT_ASKPASS", "SSH_ASKPASS"}
)

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "private-key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?"
            r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
    ),
    ("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{16,}")),
    ("openai-key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}")),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b")),
    ("slack-token", re.compile(r"\bxox[abposre]-[A-Za-z0-9\-]{10,}")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")),
    ("stripe-key", re.compile(r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}")),
    ("huggingface-token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("npm-token", re.compile(r"\bnpm_[A-Za-z0-9]{36}")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),
)

#: Patterns whose group "secret" is replaced and the rest kept, so the text still reads.
_CONTEXT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "bearer",
        re.compile(
            r"(?i)(?:\bbearer|authorization:\s*(?:token|basic))\s+"
            r"(?P<secret>[A-Za-z0-9_\-.=+/~]{8,})"
        ),
    ),
    ("url-password", re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]+:(?P<secret>[^\s@/]{3,})@")),
    (
        "assignment",
        re.compile(
            r"(?i)\b[A-Z0-9_.\-]*(?:KEY|TOKEN|SECRET|PASSW(?:OR)?D|PASSPHRASE|CREDENTIAL)S?"
            r"[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9_\-+/=.~!@#$%^&*]{8,})(?![\w(])"
        ),
    ),
)


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret."""
    return name.upper() not in _NOT_SECRET and _SECRET_NAME.search(name) is not None


def _looks_like_secret(value: str) -> bool:
    """A generic assignment's value: long, or mixing letters and digits (not a plain word)."""
    return len(value) >= 20 or (any(c.isdigit() for c in value) and any(c.isalpha() for c in value))


@dataclass(frozen=True)
class Redactor:
    """Replaces known secret values (``literals``: value → label) and secret-looking tokens."""

    literals: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, names: Iterable[str] = ()) -> Redactor:
        """Secrets from ``env`` (default: this process's): secret-looking names, plus ``names``
        (variables the caller knows are secret, such as a configured model-key variable)."""
        env = os.environ if env is None else env
        wanted = set(names)
        found = [
            (value, name)
            for name, value in env.items()
            if len(value) >= MIN_SECRET_LEN and (name in wanted or is_secret_name(name))
        ]
        return cls(tuple(found))

    def with_secret(self, value: str, label: str) -> Redactor:
        """A Redactor that also hides ``value`` (e.g. a key read from a file, not the env)."""
        if len(value) < MIN_SECRET_LEN:
            return self
        return Redactor((*self.literals, (value, label)))

    def __call__(self, text: str) -> str:
        return self.redact(text)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``[REDACTED:<label>]``."""
        text = _replace_literals(text, self.literals)
        for label, rx in _PATTERNS:
            text = rx.sub(f"[REDACTED:{label}]", text)
        for label, rx in _CONTEXT_PATTERNS:
            text = rx.sub(functools.partial(_keep_context, label=label), text)
        return text

    def redact_bytes(self, data: bytes) -> bytes:
        """The same for raw output: decoded losslessly, redacted, encoded back."""
        text = data.decode("utf-8", "surrogateescape")
        return self.redact(text).encode("utf-8", "surrogateescape")


def _replace_literals(text: str, literals: tuple[tuple[str, str], ...]) -> str:
    if not literals:
        return text
    labels: dict[str, str] = {}
    for value, label in sorted(literals, key=lambda item: -len(item[0])):
        labels.setdefault(value, label)
    rx = re.compile("|".join(re.escape(v) for v in labels))
    return rx.sub(lambda m: f"[REDACTED:{labels[m.group()]}]", text)


def _keep_context(m: re.Match[str], *, label: str) -> str:
    secret = m.group("secret")
    if label == "assignment" and not _looks_like_secret(secret):
        return m.group()
    if secret.startswith("[REDACTED"):
        return m.group()
    start, end = m.span("secret")
    whole = m.group()
    offset = m.start()
    return whole[: start - offset] + f"[REDACTED:{label}]" + whole[end - offset :]


def redact(text: str) -> str:
    """``text`` with the secrets of this process's environment and known key formats hidden."""
    return Redactor.from_env().redact(text)


R = TypeVar("R", bound=BaseModel)


def redact_json(value: JsonValue, redactor: Redactor) -> JsonValue:
    """``value`` with every string in it redacted (keys are left alone)."""
    if isinstance(value, str):
        return redactor(value)
    if isinstance(value, list):
        return [redact_json(v, redactor) for v in value]
    if isinstance(value, dict):
        return {k: redact_json(v, redactor) for k, v in value.items()}
    return value


def redact_record(record: R, redactor: Redactor) -> R:
    """A copy of a pydantic record with every string field redacted, however deep."""
    return type(record).model_validate(redact_json(record.model_dump(mode="json"), redactor))
