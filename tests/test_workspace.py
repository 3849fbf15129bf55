"""Worktree pool: isolated, reusable, sparse on demand, safe under concurrency, user untouched."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from crewchief.attempts.workspace import WorkspacePool
from crewchief.git import diff_worktree
from repo_helpers import git, make_repo, refs


def _repo(tmp_path: Path) -> Path:
    files = {f"pkg{i}/m{j}.py": f"x = {i}{j}\n" for i in range(4) for j in range(5)}
    files["run.sh"] = "echo hi\n"
    return make_repo(tmp_path / "r", files)


def test_eight_workers_start_at_once_without_lock_errors(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    head = git(repo, "rev-parse", "HEAD")
    pool = WorkspacePool(repo)

    def use(i: int) -> bytes:
        ws = pool.acquire(head)
        (ws.path / f"pkg{i % 4}" / "m0.py").write_text(f"changed {i}\n")
        patch = diff_worktree(ws.path, head)
        pool.release(ws)
        return patch

    with ThreadPoolExecutor(8) as ex:
        patches = list(ex.map(use, range(8)))
    assert all(p.startswith(b"diff --git") for p in patches)
    pool.close()
    assert "worktrees" not in git(repo, "worktree", "list")


def test_the_users_checkout_index_and_branches_are_untouched(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "pkg0/m0.py").write_text("user's uncommitted edit\n")
    before = refs(repo)
    config = (repo / ".git/config").read_text()
    pool = WorkspacePool(repo)
    ws = pool.acquire(git(repo, "rev-parse", "HEAD"), ["pkg1/m1.py"])
    (ws.path / "pkg1/m1.py").write_text("worker edit\n")
    diff_worktree(ws.path, ws.base)
    pool.release(ws)
    pool.close()
    assert refs(repo) == before
    assert (repo / ".git/config").read_text() == config
    assert (repo / "pkg0/m0.py").read_text() == "user's uncommitted edit\n"


def test_a_reused_workspace_rewrites_only_files_that_differ(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    first = git(repo, "rev-parse", "HEAD")
    (repo / "pkg3/m4.py").write_text("y = 1\n")
    git(repo, "commit", "-qam", "second")
    second = git(repo, "rev-parse", "HEAD")
    pool = WorkspacePool(repo)
    ws = pool.acquire(first)
    (ws.path / "pkg0/m0.py").write_text("scribble\n")
    (ws.path / "stray.txt").write_text("left behind\n")
    untouched = (ws.path / "pkg2/m2.py").stat().st_ino, (ws.path / "pkg2/m2.py").stat().st_mtime_ns
    pool.release(ws)
    again = pool.acquire(second)
    assert again.path == ws.path
    assert (again.path / "pkg3/m4.py").read_text() == "y = 1\n"
    assert (again.path / "pkg0/m0.py").read_text() == "x = 00\n"
    assert not (again.path / "stray.txt").exists()
    stat = (again.path / "pkg2/m2.py").stat()
    assert (stat.st_ino, stat.st_mtime_ns) == untouched
    pool.close()


def test_sparse_workspace_checks_out_only_the_given_paths(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    pool = WorkspacePool(repo)
    ws = pool.acquire(git(repo, "rev-parse", "HEAD"), ["pkg1/m1.py", "pkg2/"])
    files = sorted(str(p.relative_to(ws.path)) for p in ws.path.rglob("*.py"))
    assert files == ["pkg1/m1.py"] + [f"pkg2/m{j}.py" for j in range(5)]
    (ws.path / "pkg1/m1.py").write_text("edited\n")
    patch = diff_worktree(ws.path, ws.base)
    assert patch.count(b"diff --git") == 1  # files outside the cone are not "deleted"
    pool.close()


def test_diff_has_added_deleted_renamed_and_mode_changes(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    pool = WorkspacePool(repo)
    ws = pool.acquire(git(repo, "rev-parse", "HEAD"))
    (ws.path / "new.py").write_bytes(b"caf\xe9\r\nno newline")
    (ws.path / "pkg0/m1.py").unlink()
    (ws.path / "pkg0/m2.py").rename(ws.path / "pkg0/renamed.py")
    os.chmod(ws.path / "run.sh", 0o755)
    patch = diff_worktree(ws.path, ws.base)
    assert b"new file mode 100644" in patch and b"caf\xe9\r\n" in patch
    assert b"deleted file mode" in patch
    assert b"rename from pkg0/m2.py\nrename to pkg0/renamed.py" in patch
    assert b"old mode 100644\nnew mode 100755" in patch
    assert b"\\ No newline at end of file" in patch
    pool.close()


def test_a_dead_processs_worktree_is_taken_over(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    head = git(repo, "rev-parse", "HEAD")
    first = WorkspacePool(repo)
    ws = first.acquire(head)
    (ws.path / "junk").write_text("x")
    os.close(ws._lock_fd)  # what the kernel does when the holder dies
    ws._lock_fd = -1
    second = WorkspacePool(repo)
    again = second.acquire(head)
    assert again.path == ws.path and not (again.path / "junk").exists()
    second.close()


def test_an_edit_of_the_same_size_in_the_same_instant_as_the_checkout_is_in_the_diff(
    tmp_path: Path,
) -> None:
    """Git's racy-clean rule: a file whose stat data still matches its index entry is taken as
    unchanged unless it was written no earlier than the index itself. A worker that rewrites a
    file with content of the same size within the checkout's timestamp granularity (a fast
    agent, or a loaded machine) leaves exactly that; the diff must still see the edit. Made
    here without waiting on the clock: file and index stamped with one instant, ctime not
    trusted (as a project may configure)."""
    repo = _repo(tmp_path)
    git(repo, "config", "core.trustctime", "false")
    ws = WorkspacePool(repo).acquire(git(repo, "rev-parse", "HEAD"))
    target = ws.path / "pkg1/m1.py"
    instant = target.stat().st_mtime_ns - 10**9
    os.utime(target, ns=(instant, instant))
    git(ws.path, "update-index", "--refresh")  # the entry records that instant, unsmudged
    index = Path(git(ws.path, "rev-parse", "--path-format=absolute", "--git-path", "index"))
    target.write_text("x = 99\n")  # the same size as "x = 11\n"
    os.utime(target, ns=(instant, instant))  # the same stat data as the entry
    os.utime(index, ns=(instant, instant))  # the index written in that same instant: racy
    patch = diff_worktree(ws.path, ws.base)
    assert b"+x = 99" in patch
