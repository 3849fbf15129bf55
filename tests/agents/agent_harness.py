"""A real repository with a crewchief-style worktree, and a way to run a script as an agent."""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import repo_helpers
from crewchief import git
from crewchief.backends.agent_templates import AgentTemplate
from crewchief.backends.base import WorkContext
from crewchief.backends.external import ExternalAgentBackend
from crewchief.gate.policy import PolicyDecision, PolicyRules, evaluate
from crewchief.records import Task, WorkerResult
from crewchief.sandbox.runner import GiB, SandboxConfig, bwrap_path

SCRIPTS = Path(__file__).parent / "scripts"
HAS_BWRAP = bwrap_path() is not None
MODES = [
    pytest.param("bwrap", marks=pytest.mark.skipif(not HAS_BWRAP, reason="no usable bwrap")),
    "none",
]


@dataclass
class Outcome:
    result: WorkerResult
    patch: bytes
    decision: PolicyDecision


@dataclass
class Repo:
    root: Path
    worktree: Path
    base: str
    tag: str

    def run_agent(
        self,
        script: str,
        *,
        mode: str,
        via: str = "stdin",
        instructions: str = "Do the task.",
        owned: tuple[str, ...] = ("src/",),
        timeout_s: float = 20.0,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        **template: Any,
    ) -> Outcome:
        handover = {
            "stdin": ("stdin",),
            "file": ("file", "{prompt_file}"),
            "arg": ("arg", "{prompt}"),
        }
        sandbox = template.pop("sandbox", {})
        tmpl = AgentTemplate(
            name=script,
            command=(sys.executable, str(SCRIPTS / script), *handover[via], *args, self.tag),
            prompt_via=via,  # type: ignore[arg-type]
            sandbox=SandboxConfig(mode=mode, max_memory_bytes=4 * GiB, **sandbox),  # type: ignore[arg-type]
            **template,
        )
        task = Task(
            id="t1",
            title="test task",
            instructions=instructions,
            owned_paths=owned,
            backend=f"agent:{script}",
        )
        ctx = WorkContext(
            worktree=self.worktree, base_commit=self.base, attempt_id="a1", timeout_s=timeout_s
        )
        result = ExternalAgentBackend(tmpl, env=env).run(task, ctx)
        patch = git.diff_worktree(self.worktree, self.base)
        return Outcome(result, patch, evaluate(patch, owned, PolicyRules()))

    def state(self) -> dict[str, object]:
        """Everything of the main repository a worker must not change."""
        files = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d not in (".git", ".crewchief")]
            for name in filenames:
                path = Path(dirpath, name)
                files[str(path.relative_to(self.root))] = path.read_bytes()
        dot_git = self.root / ".git"
        hooks = {p.name: p.read_bytes() for p in (dot_git / "hooks").iterdir()}
        refs = git.out(["for-each-ref", "--format=%(refname) %(objectname)"], self.root)
        return {
            "files": files,
            "hooks": hooks,
            "config": (dot_git / "config").read_bytes(),
            "refs": refs,
            "head": (dot_git / "HEAD").read_bytes(),
            "admin": (Path(self.worktree / ".git").read_bytes()),
        }

    def leftovers(self) -> list[int]:
        """Processes still running whose command line carries this test's tag."""
        found = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
                except OSError:
                    continue
                if self.tag.encode() in cmdline:
                    found.append(int(name))
        return found


def agent_repo(tmp_path: Path) -> Repo:
    """A repository built by ``repo_helpers.make_repo``, a detached worktree of its first commit
    where crewchief puts a worker's, and a user.name in its own config (``state`` holds it)."""
    files = {"README.md": "# demo\n", "src/a.py": "print('a')\n", "lib/b.py": "print('b')\n"}
    root = repo_helpers.make_repo(tmp_path / "repo", files, message="base")
    base = repo_helpers.git(root, "rev-parse", "HEAD")
    worktree = root / ".crewchief" / "worktrees" / "w1"
    repo_helpers.git(root, "worktree", "add", "-q", "--detach", str(worktree), base)
    repo_helpers.git(root, "config", "user.name", "someone")
    return Repo(root, worktree, base, f"crewchief-test-{uuid.uuid4().hex}")
