"""Filenames that deceive: look-alike letters from another script, and names that collide.

A path is *deceptive* when one of its words mixes scripts (``mоd.py`` with a Cyrillic ``о``) or is
written entirely in letters of another script that each look like a Latin letter (``сор`` in
Cyrillic reads as ``cop``): a reviewer reads one file, git stores another. Script and look-alike
data are Unicode's (confusables.txt and Scripts.txt), as shipped by ``confusable-homoglyphs``.

Two paths *collide* when they differ only by case (``MOD.py`` beside ``mod.py``: one file on
macOS and Windows) or only by Unicode normalization (NFC ``é`` beside NFD ``e`` + U+0301: one
file on macOS).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

#: Script aliases that belong to every script (digits, punctuation, combining marks).
_NEUTRAL = frozenset({"COMMON", "INHERITED"})
_WORD = re.compile(r"[^\W\d_]+")


def deceptive(path: str) -> str | None:
    """Why ``path`` could be mistaken for another name, or None if it reads as what it is."""
    for word in _WORD.findall(unicodedata.normalize("NFC", path)):
        if word.isascii():
            continue
        from confusable_homoglyphs import categories  # its data loads in ~0.1 s: only here

        scripts = sorted(categories.unique_aliases(word) - _NEUTRAL)
        if len(scripts) > 1:
            return f"{word!r} mixes {' and '.join(scripts)} letters"
        if scripts != ["LATIN"] and (skeleton := _latin_lookalike(word)) is not None:
            return f"{word!r} is {scripts[0]} letters that look like the Latin {skeleton!r}"
    return None


def _latin_lookalike(word: str) -> str | None:
    """The Latin word ``word`` looks like, if every one of its letters has a Latin twin."""
    from confusable_homoglyphs import confusables

    found = confusables.is_confusable(word, greedy=True, preferred_aliases=["latin"]) or []
    twins = {e["character"]: e["homoglyphs"][0]["c"] for e in found if e["homoglyphs"]}
    if not all(ch in twins for ch in word):
        return None
    return "".join(twins[ch] for ch in word)


@dataclass(frozen=True)
class Collision:
    """``path`` (new) and ``other`` (already there, or new too) differ only ``by`` this."""

    path: str
    other: str
    by: Literal["case", "Unicode normalization"]


def _key(path: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", path).casefold())


def _prefixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def collisions(added: Iterable[str], existing: Iterable[str]) -> list[Collision]:
    """Each new path (or directory of one) that collides with an existing path or directory,
    or with another new one, without being equal to it."""
    seen: dict[str, str] = {}
    for path in existing:
        for prefix in _prefixes(path):
            seen.setdefault(_key(prefix), prefix)
    found = []
    for path in added:
        for prefix in _prefixes(path):
            other = seen.setdefault(_key(prefix), prefix)
            if other != prefix:
                same_nfc = unicodedata.normalize("NFC", other) == unicodedata.normalize(
                    "NFC", prefix
                )
                found.append(
                    Collision(path, other, "Unicode normalization" if same_nfc else "case")
                )
                break
    return found
