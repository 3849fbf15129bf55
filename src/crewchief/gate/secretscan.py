"""Finding secrets: where credentials are in a text, and which lines of a patch add one.

Two detectors, one answer. Yelp's detect-secrets (pinned) supplies the curated token formats of
its plugins (AWS, Azure, Discord, SendGrid, Telegram, Twilio, Slack, Stripe, PyPI, npm, IBM, …)
and, for patches, its language-aware ``KeywordDetector``, its false-positive filters and its
inline allowlist comment (``pragma: allowlist secret``). Its plugins report values, not
positions, and miss several current formats (fine-grained GitHub and Anthropic/OpenAI project
keys, GitLab's group in full, Slack webhooks in full, Heroku, Shopify, Mailgun, DSNs, base64 of a
token, secrets assigned to names such as ``*_CREDS`` or ``*_WEBHOOK``), so crewchief's own
patterns below cover those and give every hit a span. Nothing here calls a network: the plugins'
``verify`` is never reached (detect-secrets only verifies when its verification filter is on).

A hit is a span of the text and a kind; callers replace spans, never values, so two secrets on
one line are both found and one never swallows the next.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from crewchief.gate.patchfile import FilePatch, path_text

#: Shortest value treated as a secret: shorter values ("1", "true", "dev") are too common to hide.
MIN_SECRET_LEN = 8

_KEYWORDS = (
    r"KEY|TOKEN|SECRET|PASS(?:W(?:OR)?D|PHRASE)?|PWD|CREDS?|CREDENTIALS?|WEBHOOK|DSN"
    r"|AUTH|COOKIE|SESSION|PRIVATE|CONN(?:ECTION)?_?STR(?:ING)?|DATABASE_URL"
)


@dataclass(frozen=True, order=True)
class Hit:
    """``text[start:end]`` is a secret of ``kind`` (a short label such as ``github-token``)."""

    start: int
    end: int
    kind: str


# --- crewchief's own patterns --------------------------------------------------------------------
#: (kind, pattern, needs a word boundary before it). A pattern with a group named ``secret``
#: hides that group only, the rest of the match is context that stays readable; otherwise the
#: whole match is the secret. Patterns start with a literal where they can (Python's regex engine
#: then skips ahead by substring search, hundreds of times faster than trying ``\b`` at every
#: position); the boundary is checked afterwards.
_OWN: tuple[tuple[str, re.Pattern[str], bool], ...] = tuple(
    (kind, re.compile(rx, flags), boundary)
    for kind, rx, flags, boundary in (
        (
            "private-key",
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
            r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
            re.DOTALL,
            False,
        ),
        ("anthropic-key", r"sk-ant-[A-Za-z0-9_\-]{16,}", 0, True),
        ("openai-key", r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}", 0, True),
        ("github-token", r"(?:gh[pousr]_[A-Za-z0-9_]{30,}|github_pat_[A-Za-z0-9_]{22,})", 0, True),
        (
            "gitlab-token",
            r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|oas|agent)-[A-Za-z0-9_\-]{20,}",
            0,
            True,
        ),
        (
            "aws-access-key",
            r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Za-z0-9])",
            0,
            True,
        ),
        (
            "aws-secret-key",
            r"(?:(?i:aws)[\w\-. ]{0,30}?(?i:secret|key)[\w\-]*|(?:AKIA|ASIA)[A-Z0-9]{16})"
            r"[\"']?\s*[:=,\s]\s*[\"']?(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
            0,
            False,
        ),
        ("slack-token", r"xox[abposre]-[A-Za-z0-9\-]{10,}", 0, True),
        (
            "slack-webhook",
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[\w/]+",
            0,
            False,
        ),
        ("google-api-key", r"AIza[0-9A-Za-z_\-]{35}", 0, True),
        ("stripe-key", r"[rs]k_(?:live|test)_[0-9A-Za-z]{16,}", 0, True),
        ("huggingface-token", r"hf_[A-Za-z0-9]{30,}", 0, True),
        ("npm-token", r"npm_[A-Za-z0-9]{36}", 0, True),
        ("pypi-token", r"pypi-AgE[A-Za-z0-9_\-]{50,}", 0, True),
        ("sendgrid-key", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}", 0, True),
        ("telegram-bot-token", r"(?<![\d:])\d{8,10}:AA[A-Za-z0-9_\-]{33}(?![\w-])", 0, True),
        ("twilio-key", r"(?:SK|AC)[0-9a-f]{32}(?![A-Za-z0-9])", 0, True),
        ("mailgun-key", r"key-[0-9a-f]{32}(?![A-Za-z0-9])", 0, True),
        ("shopify-token", r"shp(?:at|ss|ca|pa)_[0-9a-fA-F]{32}(?![A-Za-z0-9])", 0, True),
        (
            "discord-token",
            r"[MNO][A-Za-z\d_\-]{23,25}\.[A-Za-z\d_\-]{6}\.[A-Za-z\d_\-]{27,}",
            0,
            True,
        ),
        ("jwt", r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", 0, True),
        (
            "heroku-key",
            r"(?i:heroku)[^\n]{0,40}?(?<![0-9a-f])(?P<secret>[0-9a-f]{8}-[0-9a-f]{4}-"
            r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?![0-9a-f])",
            0,
            False,
        ),
        ("azure-key", r"(?i:AccountKey)=(?P<secret>[A-Za-z0-9+/=]{20,})", 0, False),
        (
            "bearer",
            r"(?i:bearer|authorization:\s*(?:token|basic))\s+(?P<secret>[A-Za-z0-9_\-.=+/~]{8,})",
            0,
            True,
        ),
        ("url-password", r"://[^\s:/@]+:(?P<secret>[^\s@/]{3,})@", 0, False),
    )
)

#: ``NAME = value`` where the name says secret, found in an ASCII-lowercased copy of the text.
#: Only the name and the operator are matched, so the search resumes right after them: the
#: value is read separately and can never hide the next name on the line
#: (``a_password: password: x``).
_ASSIGNMENT = re.compile(
    r"(?:key|token|secret|pass(?:w(?:or)?d|phrase)?|pwd|creds?|credentials?|webhook|dsn"
    r"|auth|cookie|session|private|conn(?:ection)?_?str(?:ing)?|database_url)"
    r"s?(?:[_\-]?id)?[\"']?[ \t]*(?::=|=>|[:=])[ \t]*[\"']?"
)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_VALUE = re.compile(r"[A-Za-z0-9_\-+/=.~!@#$%^&*]{8,}(?![\w(\[])")
_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])")


def _looks_like_secret(value: str) -> bool:
    """A generic assignment's value: long, or mixing letters and digits (not a plain word)."""
    if value.startswith(("$", "[REDACTED")):
        return False
    return len(value) >= 20 or (any(c.isdigit() for c in value) and any(c.isalpha() for c in value))


# --- detect-secrets ----------------------------------------------------------------------------

#: Its plugins that are not token formats: public IPs are no secret; the entropy plugins flag
#: every quoted digest; its keyword plugin is line-oriented and slow, so it serves patches only.
_NOT_TOKEN_PLUGINS = frozenset(
    {"IPPublicDetector", "Base64HighEntropyString", "HexHighEntropyString", "KeywordDetector"}
)
#: Substrings without which a plugin's patterns cannot match: a text lacking all of them skips
#: the plugin (its regexes are not literal-first and cost a pass each). A plugin not listed
#: (say, one a later detect-secrets adds) always runs.
_NEEDLES: dict[str, tuple[str, ...]] = {
    "ArtifactoryDetector": ("AKC", "AP"),
    "AWSKeyDetector": ("A3T", "ABIA", "ACCA", "AKIA", "ASIA", "aws"),
    "AzureStorageKeyDetector": ("AccountKey=",),
    "BasicAuthDetector": ("://",),
    "CloudantDetector": ("cl",),
    "DiscordBotTokenDetector": (".",),
    "GitHubTokenDetector": ("_",),
    "GitLabTokenDetector": ("gl", "GR1348941"),
    "IbmCloudIamDetector": ("ibm", "iam", "cloud", "api"),
    "IbmCosHmacDetector": ("secret",),
    "JwtTokenDetector": ("eyJ",),
    "MailchimpDetector": ("-us",),
    "NpmDetector": ("_authToken",),
    "OpenAIDetector": ("T3BlbkFJ",),
    "PrivateKeyDetector": ("PRIVATE", "PuTTY"),
    "PypiTokenDetector": ("pypi-",),
    "SendGridDetector": ("SG.",),
    "SlackDetector": ("xox", "hooks.slack.com"),
    "SoftlayerDetector": ("sl", "softlayer"),
    "SquareOAuthDetector": ("sq0csp-",),
    "StripeDetector": ("k_live_",),
    "TelegramBotTokenDetector": (":",),
    "TwilioKeyDetector": ("AC", "SK"),
}


@functools.cache
def _library_patterns() -> tuple[tuple[str, tuple[str, ...] | None, re.Pattern[str]], ...]:
    """The token regexes of detect-secrets' plugins (kind, needles, regex), made
    line-anchored for whole texts."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    found: list[tuple[str, tuple[str, ...] | None, re.Pattern[str]]] = []
    classes: list[type] = list(get_mapping_from_secret_type_to_class().values())
    for cls in classes:
        if cls.__name__ in _NOT_TOKEN_PLUGINS or not hasattr(cls, "denylist"):
            continue
        kind = _slug(str(getattr(cls, "secret_type", cls.__name__)))
        needles = _NEEDLES.get(cls.__name__)
        for rx in cls().denylist:
            found.append((kind, needles, re.compile(rx.pattern, rx.flags | re.MULTILINE)))
    return tuple(found)


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


# --- finding -----------------------------------------------------------------------------------


def find(text: str, *, decode: bool = True) -> list[Hit]:
    """Every secret in ``text``: sorted, overlapping hits merged (see :func:`merge`).

    With ``decode``, a base64 run that decodes to text holding a secret is itself a hit.
    """
    hits: list[Hit] = []
    for kind, rx, boundary in _OWN:
        hits += [_hit(m, kind) for m in rx.finditer(text) if not boundary or _at_word(text, m)]
    for kind, needles, rx in _library_patterns():
        if needles is None or any(n in text for n in needles):
            hits += [_hit(m, kind) for m in rx.finditer(text)]
    hits += _assignments(text)
    if decode:
        hits += _encoded(text)
    return merge(h for h in hits if h.end > h.start)


def _at_word(text: str, m: re.Match[str]) -> bool:
    """Whether ``m`` starts a word (what ``\b`` in front of the pattern would have said)."""
    return m.start() == 0 or not (text[m.start() - 1].isalnum() or text[m.start() - 1] == "_")


def _hit(m: re.Match[str], kind: str) -> Hit:
    """The span to hide: the ``secret`` group, else the last group long enough to be a secret
    (detect-secrets' groups are sometimes only a prefix such as ``ghp``), else the match."""
    if "secret" in m.re.groupindex:
        return Hit(*m.span("secret"), kind)
    groups = [i for i in range(1, (m.re.groups or 0) + 1) if m.group(i)]
    if groups and len(m.group(groups[-1])) >= MIN_SECRET_LEN:
        return Hit(*m.span(groups[-1]), kind)
    return Hit(*m.span(), kind)


def _assignments(text: str) -> list[Hit]:
    hits = []
    for m in _ASSIGNMENT.finditer(text.translate(_ASCII_LOWER)):
        value = _VALUE.match(text, m.end())
        if value is not None and _looks_like_secret(value.group()):
            hits.append(Hit(*value.span(), "assignment"))
    return hits


def _encoded(text: str) -> list[Hit]:
    hits = []
    for m in _BASE64_RUN.finditer(text):
        try:
            decoded = base64.b64decode(m.group(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        if decoded.isprintable() and find(decoded, decode=False):
            hits.append(Hit(*m.span(), "base64-secret"))
    return hits


def merge(hits: Iterable[Hit]) -> list[Hit]:
    """Overlapping or touching hits as one. The earliest-starting hit names the merged one;
    among hits starting together the longest, then the first given (our patterns come first)."""
    out: list[Hit] = []
    for h in sorted(hits, key=lambda h: (h.start, -h.end)):
        if out and h.start <= out[-1].end:
            last = out[-1]
            out[-1] = Hit(last.start, max(last.end, h.end), last.kind)
        else:
            out.append(h)
    return out


def mask(text: str, hits: Sequence[Hit]) -> str:
    """``text`` with every hit replaced by ``[REDACTED:<kind>]``."""
    parts, pos = [], 0
    for h in merge(hits):
        parts += [text[pos : h.start], f"[REDACTED:{h.kind}]"]
        pos = h.end
    return "".join([*parts, text[pos:]])


# --- patches -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A secret a patch adds: where (new-side ``line`` of ``path``) and what ``kind``.

    ``values`` are the raw strings to mask (for a secret spanning lines, one per line); they
    live in memory only and are never part of a record.
    """

    path: str
    line: int
    kind: str
    values: tuple[str, ...] = field(repr=False, compare=False)


def scan_files(files: Sequence[FilePatch], known: Sequence[tuple[str, str]] = ()) -> list[Finding]:
    """The secrets the added lines of ``files`` carry, except lines marked with detect-secrets'
    inline allowlist comment (``pragma: allowlist secret``, or ``pragma: allowlist nextline
    secret`` on the line before). ``known`` are (value, label) pairs of secrets known by value
    (the environment's): any added line holding one is a finding too, whatever it looks like."""
    found: list[Finding] = []
    for f in files:
        if f.binary or f.new_path is None:
            continue
        path = path_text(f.new_path)
        for hunk in f.hunks:
            added = [(n, _line(c)) for n, c in hunk.added()]
            found += _scan_added(path, added)
            found += [
                Finding(path, n, label, (value,))
                for n, text in added
                for value, label in known
                if value in text
            ]
    return found


def _line(content: bytes) -> str:
    return content.decode("utf-8", "surrogateescape").rstrip("\r\n")


def _scan_added(path: str, added: list[tuple[int, str]]) -> list[Finding]:
    if not added:
        return []
    lines = [text for _, text in added]
    text = "\n".join(lines)
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    found = []
    for h in find(text):
        index = bisect.bisect_right(starts, h.start) - 1
        pieces = tuple(p for p in text[h.start : h.end].split("\n") if p)
        found.append(Finding(path, added[index][0], h.kind, pieces))
    found += _keywords(path, added)
    return [f for f in found if not _allowlisted(path, added, f.line)]


def _keywords(path: str, added: list[tuple[int, str]]) -> list[Finding]:
    """detect-secrets' KeywordDetector (``password = "…"`` in the file's own syntax), through
    its false-positive filters."""
    from detect_secrets.filters import heuristic
    from detect_secrets.plugins.keyword import KeywordDetector

    if heuristic.is_lock_file(path) or heuristic.is_swagger_file(path):
        return []
    detector = KeywordDetector()
    found = []
    for lineno, line in added:
        if heuristic.is_indirect_reference(line):
            continue
        for s in detector.analyze_line(filename=path, line=line, line_number=lineno):
            value = s.secret_value or ""
            if value and not _filtered(value, line):
                found.append(Finding(path, lineno, "secret-keyword", (value,)))
    return found


#: Values that name a secret rather than hold one (``PASSWORD_FIELD = "password"``).
_PLACEHOLDERS = frozenset({"password", "passwd", "pwd", "secret", "token", "key", "api_key"})


def _filtered(value: str, line: str) -> bool:
    from detect_secrets.filters import heuristic

    return (
        value.startswith("[REDACTED")
        or value.casefold() in _PLACEHOLDERS
        or heuristic.is_sequential_string(value)
        or heuristic.is_potential_uuid(value)
        or heuristic.is_likely_id_string(value, line)
        or heuristic.is_templated_secret(value)
        or heuristic.is_prefixed_with_dollar_sign(value)
        or heuristic.is_not_alphanumeric_string(value)
    )


def _allowlisted(path: str, added: list[tuple[int, str]], lineno: int) -> bool:
    from detect_secrets.filters.allowlist import is_line_allowlisted
    from detect_secrets.util.code_snippet import get_code_snippet

    lines = [text for _, text in added]
    index = next(i for i, (n, _) in enumerate(added) if n == lineno)
    context = get_code_snippet(lines=lines, line_number=index + 1)
    return bool(is_line_allowlisted(filename=path, line=lines[index], context=context))


def mask_patch(patch: bytes, findings: Sequence[Finding]) -> bytes:
    """``patch`` with every value of ``findings`` replaced by ``[REDACTED:<kind>]``, wherever it
    occurs (longest first, so a value inside another is not left half-masked). The result is for
    storing and showing: it is never applied."""
    pairs = {v: f.kind for f in findings for v in f.values}
    for value in sorted(pairs, key=len, reverse=True):
        raw = value.encode("utf-8", "surrogateescape")
        patch = patch.replace(raw, f"[REDACTED:{pairs[value]}]".encode())
    return patch
