"""The languages ast-grep-py supports, by name, alias and file extension.

ast-grep-py *panics* (a ``BaseException`` plus a Rust backtrace on stderr) when handed a language
it does not know, so every language name is resolved here first and only canonical names reach it.
The table follows ast-grep's "languages with built-in support" list for ast-grep-py 0.51.
"""

from __future__ import annotations

from dataclasses import dataclass

from crewchief.errors import UserError


@dataclass(frozen=True)
class Language:
    """One ast-grep language: the name ast-grep takes, what people call it, its file suffixes."""

    name: str
    aliases: tuple[str, ...]
    extensions: tuple[str, ...]

    def matches_file(self, path: str) -> bool:
        """Whether ``path`` (repository-relative POSIX) has one of this language's extensions."""
        base = path.rsplit("/", 1)[-1]
        return any(base.endswith("." + ext) for ext in self.extensions)


LANGUAGES: tuple[Language, ...] = (
    Language("bash", ("bash", "sh"), ("bash", "bats", "sh", "zsh", "ksh")),
    Language("c", ("c",), ("c", "h")),
    Language("cpp", ("cc", "c++", "cpp", "cxx"), ("cc", "hpp", "cpp", "c++", "hh", "cxx", "cu")),
    Language("csharp", ("cs", "csharp", "c#"), ("cs",)),
    Language("css", ("css",), ("css",)),
    Language("dart", ("dart",), ("dart",)),
    Language("elixir", ("ex", "elixir"), ("ex", "exs")),
    Language("go", ("go", "golang"), ("go",)),
    Language("haskell", ("hs", "haskell"), ("hs",)),
    Language("hcl", ("hcl", "terraform", "tf"), ("hcl", "tf")),
    Language("html", ("html",), ("html", "htm", "xhtml")),
    Language("java", ("java",), ("java",)),
    Language("javascript", ("javascript", "js", "jsx"), ("cjs", "js", "mjs", "jsx")),
    Language("json", ("json",), ("json",)),
    Language("kotlin", ("kotlin", "kt"), ("kt", "ktm", "kts")),
    Language("lua", ("lua",), ("lua",)),
    Language("markdown", ("markdown", "md"), ("markdown", "md")),
    Language("nix", ("nix",), ("nix",)),
    Language("php", ("php",), ("php",)),
    Language("python", ("py", "python"), ("py", "py3", "pyi", "bzl")),
    Language("ruby", ("rb", "ruby"), ("rb", "rbw", "gemspec")),
    Language("rust", ("rs", "rust"), ("rs",)),
    Language("scala", ("scala",), ("scala", "sc", "sbt")),
    Language("solidity", ("solidity", "sol"), ("sol",)),
    Language("swift", ("swift",), ("swift",)),
    Language("typescript", ("ts", "typescript"), ("ts", "cts", "mts")),
    Language("tsx", ("tsx",), ("tsx",)),
    Language("yaml", ("yaml", "yml"), ("yml", "yaml")),
)

_BY_ALIAS = {alias: lang for lang in LANGUAGES for alias in (lang.name, *lang.aliases)}


def resolve_language(name: str) -> Language:
    """The language called ``name`` (any alias, any case); UserError naming the known ones."""
    found = _BY_ALIAS.get(name.strip().lower())
    if found is None:
        known = ", ".join(lang.name for lang in LANGUAGES)
        raise UserError(f"unknown language {name!r} (ast-grep knows: {known})")
    return found
