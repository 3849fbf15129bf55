"""The remote attempt is a pure function of plain data: a bundle (or path) holding the base
commit, and the job, give the patch the local path gives, touching nothing of the driver's.
No Ray here: the function does not need it, and neither does starting the CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crewchief import config
from crewchief.attempts.body import WorkerJob
from crewchief.attempts.dispatch import backend_settings, run_attempt
from crewchief.attempts.remote import bundle, run_remote_attempt
from crewchief.attempts.workspace import WorkspacePool
from crewchief.records import Task
from repo_helpers import PY, git

#: Edits, adds and deletes, so the patch has every kind of file change.
COMMAND = "sed -i 's/+ 1/+ 2/' alpha/a.py && printf 'X = 1\\n' > alpha/extra.py && rm gamma/c.py"
TASK = Task(
    id="t1",
    title="edit, add, delete",
    instructions=COMMAND,
    owned_paths=("alpha/a.py", "alpha/extra.py", "gamma/c.py"),
    backend="recipe:command",
    spec={"command": COMMAND},
)


def _driver_state(repo: Path) -> str:
    """Every ref (crewchief's too), the worktrees and the checkout's status."""
    return "\n".join(
        [
            git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
            git(repo, "worktree", "list", "--porcelain"),
            git(repo, "status", "--porcelain", "--ignored"),
        ]
    )


def _job(repo: Path, base: str) -> WorkerJob:
    cfg = config.load(repo)
    return WorkerJob(
        task=TASK,
        attempt_id="run.t1.1",
        base_commit=base,
        timeout_s=cfg.task_timeout_s,
        settings=backend_settings(TASK, cfg),
    )


def _local_patch(repo: Path, base: str, sparse: bool = False) -> bytes:
    pool = WorkspacePool(repo)
    try:
        cfg = config.load(repo, {"sparse_worktrees": sparse})
        out = run_attempt(repo, pool, cfg, TASK, "run.t1.1", base)
    finally:
        pool.close()
    assert out.result.status == "ok", out.result.error
    return out.result.patch


@pytest.mark.parametrize("source_kind", ["bundle", "path"])
def test_a_remote_attempt_returns_the_patch_the_local_path_makes(
    project: Path, source_kind: str
) -> None:
    base = git(project, "rev-parse", "HEAD")
    expected = _local_patch(project, base)
    source = bundle(project, base) if source_kind == "bundle" else str(project)
    before = _driver_state(project)
    result = run_remote_attempt(source, _job(project, base))
    assert result.status == "ok", result.error
    assert result.patch == expected
    assert b"+X = 1" in expected and b"deleted file mode" in expected
    assert _driver_state(project) == before


def test_a_sparse_remote_attempt_sees_what_a_sparse_worktree_sees(project: Path) -> None:
    base = git(project, "rev-parse", "HEAD")
    expected = _local_patch(project, base, sparse=True)
    result = run_remote_attempt(bundle(project, base), _job(project, base), TASK.owned_paths)
    assert result.status == "ok", result.error
    assert result.patch == expected


def test_a_remote_attempt_gives_the_same_result_twice_from_one_bundle(project: Path) -> None:
    base = git(project, "rev-parse", "HEAD")
    source = bundle(project, base)
    first = run_remote_attempt(source, _job(project, base))
    second = run_remote_attempt(source, _job(project, base))
    assert (first.status, first.patch) == (second.status, second.patch)


def test_a_later_commit_is_fetched_from_its_own_bundle(project: Path) -> None:
    (project / "alpha/a.py").write_text("from lib import api\n\n\ndef f(v):\n    return 1 + 1\n")
    git(project, "commit", "-qam", "second")
    base = git(project, "rev-parse", "HEAD")
    result = run_remote_attempt(bundle(project, base), _job(project, base))
    assert result.status == "ok", result.error
    assert b"-    return 1 + 1\n+    return 1 + 2\n" in result.patch


def test_the_cli_starts_without_importing_ray(tmp_path: Path) -> None:
    code = "import sys, crewchief.cli; assert 'ray' not in sys.modules, 'ray imported'"
    subprocess.run([PY, "-c", code], cwd=tmp_path, check=True)


def test_asking_for_ray_without_it_installed_is_a_user_error(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['ray'] = None\n"  # makes `import ray` fail as if not installed
        "from crewchief.config import Config\n"
        "from crewchief.errors import UserError\n"
        "from crewchief.attempts.executor_choice import make_executor\n"
        "try:\n"
        "    make_executor(Config(executor='ray'))\n"
        "except UserError as e:\n"
        "    print(e)\n"
    )
    proc = subprocess.run([PY, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert proc.stdout.strip() == 'executor = "ray" needs Ray: pip install "crewchief[distributed]"'
