"""A real repository with a crewchief-style worktree, and a way to run a script as an agent."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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


def make_repo(tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    git.run(["init", "-q", "-b", "main"], root)
    (root / "README.md").write_text("# demo\n")
    (root / "src").mkdir()
    (root / "src" / "a.py").write_text("print('a')\n")
    (root / "lib").mkdir()
    (root / "lib" / "b.py").write_text("print('b')\n")
    git.run(["add", "-A"], root)
    git.run(["commit", "-qm", "base"], root)
    base = git.head_commit(root)
    worktree = root / ".crewchief" / "worktrees" / "w1"
    git.run(["worktree", "add", "-q", "--detach", str(worktree), base], root)
    subprocess.run(["git", "config", "user.name", "someone"], cwd=root, check=True)
    return Repo(root, worktree, base, f"crewchief-test-{uuid.uuid4().hex}")
