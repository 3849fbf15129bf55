"""Property: a patch the policy accepts, applied by git to a real repository, changes only the
task's owned paths, byte-exactly as the worker left them, and nothing else (not .git, nothing
outside the repository)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from policy_corpus import BENIGN

from crewchief.gate.policy import PolicyRules, evaluate
from crewchief.records import owned_by
from repo_helpers import git, init_repo, make_repo

PATHS = ["a.txt", "src/a.py", "src/b.py", "src/sub/c.txt", "lib/d.txt", "e f.txt", "src/é.txt"]
OWNED_CHOICES = [("src/",), ("src/", "a.txt"), ("lib/d.txt",), ("src/sub/",), ("",)]
LINK_TARGETS = ["a.py", "../a.txt", "../../x", "/etc/passwd", "sub/c.txt", "..", "../.git/hooks"]
CONTENT = st.binary(max_size=40).map(lambda b: b.replace(b"\0", b"")) | st.sampled_from(
    [b"x\r\ny\r\n", b"caf\xe9\n", "bidi \u202e\n".encode(), b"no newline", b"", b"\x00\x01bin"]
)

Op = tuple[str, str, bytes, str]  # (kind, path, content, other)
OPS = st.tuples(
    st.sampled_from(["write", "delete", "rename", "chmod", "symlink"]),
    st.sampled_from(PATHS),
    CONTENT,
    st.sampled_from(PATHS + LINK_TARGETS),
)


def _git_bytes(cwd: Path, *args: str, data: bytes | None = None) -> bytes:
    """git with a patch's raw bytes in or out (``diff --binary``, ``apply -``), which
    ``repo_helpers.git``'s text does not carry; it commits nothing, so needs no author."""
    proc = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


def _snapshot(root: Path) -> dict[str, tuple[str, bytes]]:
    """Every file and symlink under root (``.git`` included) with its kind/mode and content."""
    found: dict[str, tuple[str, bytes]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                found[rel] = ("link", os.readlink(full).encode())
            else:
                found[rel] = (oct(os.stat(full).st_mode & 0o111), Path(full).read_bytes())
    return found


def _work(root: Path, op: Op) -> None:
    kind, path, content, other = op
    full = root / path
    if kind == "write":
        full.parent.mkdir(parents=True, exist_ok=True)
        if full.is_symlink():
            full.unlink()
        full.write_bytes(content)
    elif kind == "delete" and (full.is_file() or full.is_symlink()):
        full.unlink()
    elif kind == "rename" and full.is_file() and not (root / other).exists() and other in PATHS:
        (root / other).parent.mkdir(parents=True, exist_ok=True)
        full.rename(root / other)
    elif kind == "chmod" and full.is_file() and not full.is_symlink():
        full.chmod(full.stat().st_mode ^ 0o111)
    elif kind == "symlink" and not full.exists() and not full.is_symlink():
        full.parent.mkdir(parents=True, exist_ok=True)
        full.symlink_to(other)


def _changed(before: dict[str, tuple[str, bytes]], after: dict[str, tuple[str, bytes]]) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=st.dictionaries(st.sampled_from(PATHS), CONTENT, min_size=1, max_size=5),
    ops=st.lists(OPS, min_size=1, max_size=5),
    owned=st.sampled_from(OWNED_CHOICES),
    allow_modes=st.booleans(),
    allow_binary=st.booleans(),
)
def test_accepted_patch_changes_only_owned_paths_byte_exactly(
    files: dict[str, bytes],
    ops: list[Op],
    owned: tuple[str, ...],
    allow_modes: bool,
    allow_binary: bool,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base, work, target = Path(tmp, "base"), Path(tmp, "work"), Path(tmp, "out", "repo")
        make_repo(base, {**files, "keep": b"k\n"}, message="base")
        shutil.copytree(base, work, symlinks=True)
        for op in ops:
            _work(work, op)
        git(work, "add", "-A")
        patch = _git_bytes(work, "diff", "--cached", "--binary", "--find-renames", "HEAD")
        rules = PolicyRules(allow_mode_changes=allow_modes, allow_binary=allow_binary)
        decision = evaluate(patch, owned, rules, repo=base)
        event("accepted" if decision.accepted else "refused")
        if not decision.accepted:
            return
        shutil.copytree(base, target, symlinks=True)
        (target.parent / "outside.txt").write_bytes(b"untouched\n")
        before = _snapshot(target.parent)
        _git_bytes(target, "apply", "--allow-empty", "--whitespace=nowarn", "-", data=patch)
        after = _snapshot(target.parent)
        changed = _changed(before, after)
        assert all(p.startswith("repo/") and owned_by(owned, p[len("repo/") :]) for p in changed)
        worker = {k: v for k, v in _snapshot(work).items() if not k.startswith(".git/")}
        result = {
            k[len("repo/") :]: v
            for k, v in after.items()
            if k.startswith("repo/") and not k.startswith("repo/.git/")
        }
        assert result == worker


def _mutations() -> st.SearchStrategy[tuple[int, bytes, int]]:
    return st.tuples(
        st.integers(min_value=0, max_value=400),
        st.sampled_from(
            [
                b"\n",
                b"+",
                b"-",
                b" ",
                b"../",
                b".git/",
                b"/",
                b"\\",
                b"@@ -1 +1 @@\n",
                b"diff --git a/x b/x\n",
                b"--- a/x\n+++ b/.git/x\n",
                b"\x00",
                b"1",
            ]
        ),
        st.integers(min_value=0, max_value=3),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from([c for c in BENIGN if c.change.patch]), edit=_mutations())
def test_mutated_patch_if_accepted_stays_in_scope(
    case: object, edit: tuple[int, bytes, int]
) -> None:
    """Fuzz the parser against git: corrupt a benign patch; if the policy still accepts it,
    whatever git then does stays within the owned paths."""
    from policy_corpus import Case

    assert isinstance(case, Case)
    at, insert, drop = edit
    patch = case.change.patch
    at = min(at, len(patch))
    patch = patch[:at] + insert + patch[at + drop :]
    decision = evaluate(patch, case.owned, PolicyRules(**case.rules))
    event("accepted" if decision.accepted else "refused")
    if not decision.accepted:
        return
    with tempfile.TemporaryDirectory() as tmp:
        repo = init_repo(Path(tmp, "repo"))
        for path, (content, mode) in case.change.before.items():
            full = os.path.join(os.fsencode(repo), path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            if mode == "120000":
                os.symlink(content, full)
            else:
                Path(os.fsdecode(full)).write_bytes(content)
                os.chmod(full, 0o755 if mode == "100755" else 0o644)
        before = _snapshot(Path(tmp))
        subprocess.run(
            ["git", "apply", "--whitespace=nowarn", "-"],
            cwd=repo,
            input=patch,
            capture_output=True,
            check=False,
        )
        changed = _changed(before, _snapshot(Path(tmp)))
        for p in changed:
            assert p.startswith("repo/") and not p.startswith("repo/.git/")
            assert owned_by(case.owned, p[len("repo/") :]), p
