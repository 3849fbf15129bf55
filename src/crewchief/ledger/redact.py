"""Secrets out of text: everything crewchief stores or shows passes through a Redactor first.

Two nets. The values of secret-looking environment variables (``*_API_KEY``, ``*TOKEN*``,
``*PASS*``, ``*PWD*``, ``*CREDS*``, ``*CREDENTIAL*``, ``*WEBHOOK*``, ``*DSN*``, …, at least 8
characters) are replaced wherever they appear, whatever they look like. Then every credential
:mod:`crewchief.gate.secretscan` finds (detect-secrets' token formats plus crewchief's own: GitHub,
GitLab, Slack, cloud and payment keys, PEM private keys, JWTs, bearer headers, passwords in URLs
and DSNs, a base64 run that decodes to a secret, and ``NAME=value`` where the name says secret)
is replaced even when crewchief never saw the value in an environment. Every match on a line is
replaced, not only the first. Neither net catches a secret that was transformed otherwise
(URL-encoded, split across lines, encrypted) before it was printed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, JsonValue

from crewchief.gate import secretscan
from crewchief.gate.secretscan import MIN_SECRET_LEN, Hit

__all__ = ["MIN_SECRET_LEN", "Redactor", "is_secret_name", "redact", "redact_json", "redact_record"]

_SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASS|PWD|CREDS|CREDENTIAL|AUTH|PRIVATE|COOKIE|SESSION|WEBHOOK|DSN"
    r"|DATABASE_URL|CONN(?:ECTION)?_?STR",
    re.IGNORECASE,
)
#: Names that match the pattern above but hold nothing secret (paths, sockets, settings).
_NOT_SECRET = frozenset(
    {
        "SSH_AUTH_SOCK",
        "XAUTHORITY",
        "GPG_AGENT_INFO",
        "KEYTIMEOUT",
        "GIT_ASKPASS",
        "SSH_ASKPASS",
        "SUDO_ASKPASS",
        "PWD",
        "OLDPWD",
    }
)


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret."""
    return name.upper() not in _NOT_SECRET and _SECRET_NAME.search(name) is not None


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
        hits = _literal_hits(text, self.literals) + secretscan.find(text)
        return secretscan.mask(text, hits) if hits else text

    def redact_bytes(self, data: bytes) -> bytes:
        """The same for raw output: decoded losslessly, redacted, encoded back."""
        text = data.decode("utf-8", "surrogateescape")
        return self.redact(text).encode("utf-8", "surrogateescape")


def _literal_hits(text: str, literals: tuple[tuple[str, str], ...]) -> list[Hit]:
    if not literals:
        return []
    labels: dict[str, str] = {}
    for value, label in sorted(literals, key=lambda item: -len(item[0])):
        labels.setdefault(value, label)
    rx = re.compile("|".join(re.escape(v) for v in labels))
    return [Hit(m.start(), m.end(), labels[m.group()]) for m in rx.finditer(text)]


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
