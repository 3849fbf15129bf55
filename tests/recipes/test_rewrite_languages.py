"""The language table and the rewrite engine's contract on plain text, across languages."""

from __future__ import annotations

import pytest
from ast_grep_py import SgRoot

from crewchief.errors import UserError
from crewchief.recipes.languages import LANGUAGES, resolve_language
from crewchief.recipes.rewrite import apply, compile_rule


@pytest.mark.parametrize("name", [lang.name for lang in LANGUAGES])
def test_every_listed_language_is_accepted_by_ast_grep(name: str) -> None:
    assert SgRoot("x", name).root() is not None


@pytest.mark.parametrize("alias, name", [("PY", "python"), ("ts", "typescript"), ("golang", "go")])
def test_aliases_resolve_case_insensitively(alias: str, name: str) -> None:
    assert resolve_language(alias).name == name


def test_unknown_language_is_refused_before_reaching_ast_grep() -> None:
    with pytest.raises(UserError, match="unknown language 'cobol'"):
        resolve_language("cobol")


@pytest.mark.parametrize(
    "lang, pattern, rewrite, source, expected",
    [
        (
            "rust",
            "$X.unwrap()",
            '$X.expect("checked")',
            "let v = f().unwrap();",
            'let v = f().expect("checked");',
        ),
        (
            "java",
            "$L.size() == 0",
            "$L.isEmpty()",
            "if (xs.size() == 0) {}",
            "if (xs.isEmpty()) {}",
        ),
        (
            "tsx",
            "<Old $$$P />",
            "<New $$$P />",
            "const a = <Old x={1} y />;",
            "const a = <New x={1} y />;",
        ),
    ],
)
def test_rewrite_works_in_other_languages(
    lang: str, pattern: str, rewrite: str, source: str, expected: str
) -> None:
    new, count = apply(compile_rule(lang, pattern, rewrite), source)
    assert (new, count) == (expected, 1)


def test_non_ascii_text_before_a_match_does_not_shift_the_rewrite() -> None:
    new, _ = apply(compile_rule("python", "old($A)", "new($A)"), "é = 'ü✓'; old(1)\n")
    assert new == "é = 'ü✓'; new(1)\n"


def test_match_inside_a_dropped_capture_is_dropped_with_it() -> None:
    new, count = apply(compile_rule("python", "f($A, $B)", "f($A)"), "f(1, f(2, 3))\n")
    assert (new, count) == ("f(1)\n", 1)


def test_go_call_needs_a_selector_because_alone_it_parses_as_a_conversion() -> None:
    source = 'func f() {\n\tfmt.Println("a", b)\n\tfmt.Println()\n}\n'
    bare = compile_rule("go", "fmt.Println($$$A)", "log.Print($$$A)")
    assert apply(bare, source) == (source, 0)
    rule = compile_rule(
        "go", "func t() { fmt.Println($$$A) }", "log.Print($$$A)", selector="call_expression"
    )
    assert apply(rule, source) == (source.replace("fmt.Println", "log.Print"), 2)


def test_unknown_selector_kind_is_a_user_error() -> None:
    with pytest.raises(UserError, match="Kind `call` is invalid"):
        compile_rule("go", "func t() { f($A) }", "g($A)", selector="call")
