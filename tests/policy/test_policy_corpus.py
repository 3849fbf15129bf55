"""The policy corpus: every forbidden patch refused with its reason, every benign one accepted."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from policy_corpus import BENIGN, FORBIDDEN, Case
from policy_patchkit import EXEC, LINK, Entry

from crewchief.gate.patchfile import parse
from crewchief.gate.policy import PolicyRules, evaluate
from repo_helpers import init_repo


def _decide(case: Case) -> tuple[set[str], bool]:
    decision = evaluate(case.change.patch, case.owned, PolicyRules(**case.rules))
    assert decision.accepted == (not decision.violations)
    return decision.codes(), decision.needs_human


def test_corpus_is_big_and_distinct() -> None:
    assert len(BENIGN) >= 100
    assert len(FORBIDDEN) >= 100
    names = [c.name for c in BENIGN + FORBIDDEN]
    assert len(names) == len(set(names))
    patches = [
        (c.change.patch, c.owned, tuple(sorted(c.rules.items()))) for c in BENIGN + FORBIDDEN
    ]
    assert len(patches) == len(set(patches))


@pytest.mark.parametrize("case", FORBIDDEN, ids=lambda c: c.name)
def test_forbidden_patch_is_refused_with_its_reason(case: Case) -> None:
    codes, needs_human = _decide(case)
    assert codes == set(case.codes)
    assert needs_human == case.needs_human


@pytest.mark.parametrize("case", BENIGN, ids=lambda c: c.name)
def test_benign_patch_is_accepted(case: Case) -> None:
    codes, _ = _decide(case)
    assert codes == set()


@pytest.mark.parametrize("case", BENIGN, ids=lambda c: c.name)
def test_benign_patch_parses_back_to_its_exact_bytes(case: Case) -> None:
    assert b"".join(f.raw for f in parse(case.change.patch)) == case.change.patch


def _write(root: Path, path: bytes, entry: Entry) -> None:
    full = os.path.join(os.fsencode(root), path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    content, mode = entry
    if mode == LINK:
        os.symlink(content, full)
        return
    with open(full, "wb") as fh:
        fh.write(content)
    os.chmod(full, 0o755 if mode == EXEC else 0o644)


def _read(root: Path, path: bytes) -> Entry | None:
    full = os.path.join(os.fsencode(root), path)
    if os.path.islink(full):
        return os.readlink(full), LINK
    if not os.path.exists(full):
        return None
    with open(full, "rb") as fh:
        content = fh.read()
    return content, EXEC if os.stat(full).st_mode & stat.S_IXUSR else "100644"


def _tree(root: Path) -> set[bytes]:
    found = set()
    for dirpath, dirnames, filenames in os.walk(os.fsencode(root)):
        dirnames[:] = [d for d in dirnames if d != b".git"]
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            found.add(os.path.relpath(os.path.join(dirpath, name), os.fsencode(root)))
    return found


@pytest.mark.parametrize("case", [c for c in BENIGN if c.change.patch], ids=lambda c: c.name)
def test_benign_patch_applies_with_git_and_gives_its_result(case: Case, tmp_path: Path) -> None:
    init_repo(tmp_path)
    for path, entry in case.change.before.items():
        _write(tmp_path, path, entry)
    proc = subprocess.run(
        ["git", "apply", "--whitespace=nowarn", "-"],
        cwd=tmp_path,
        input=case.change.patch,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    for path, expected in case.change.after.items():
        assert _read(tmp_path, path) == expected
    expected_paths = {p for p, e in {**case.change.before, **case.change.after}.items() if e}
    assert _tree(tmp_path) == expected_paths
