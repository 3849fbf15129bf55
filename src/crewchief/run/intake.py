"""Intake: check that a repository can take a run, plan it, validate the plan, and record both.

Every refusal here is a UserError raised before anything is written: no ledger row, no worktree,
no ref.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from crewchief import git
from crewchief.backends.base import Planner
from crewchief.config import Config
from crewchief.errors import UserError
from crewchief.ledger.store import Ledger
from crewchief.records import ChangeRequest, Plan
from crewchief.run.plan import predicted_conflicts, validate


def preflight(repo: Path, cfg: Config) -> tuple[str, str]:
    """(target branch, its commit) if ``repo`` can take a run now; UserError otherwise."""
    git.head_commit(repo)
    target = cfg.target_branch or git.current_branch(repo)
    if target is None:
        raise UserError("HEAD is detached: check out a branch or set target_branch")
    commit = git.rev_parse(repo, f"refs/heads/{target}")
    if commit is None:
        raise UserError(f"target branch {target!r} does not exist")
    if git.run(["status", "--porcelain", "--untracked-files=no"], repo).stdout:
        raise UserError("the working tree has uncommitted changes: commit or stash them first")
    if not cfg.test_command:
        raise UserError(
            "no test command: set test_command in crewchief.toml (crewchief init) "
            "or pass --test-command"
        )
    return target, commit


def make_plan(repo: Path, request: ChangeRequest, planner: Planner, cfg: Config) -> Plan:
    """The planner's plan, refused with every reason if it does not validate."""
    return checked(planner.plan(request, repo), cfg)


def load_plan_file(path: Path, cfg: Config) -> Plan:
    """A plan written by ``crewchief plan`` (and perhaps edited by a person), validated."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise UserError(f"cannot read plan file {path}: {e.strerror}") from e
    return checked(parse_plan(raw, str(path)), cfg)


def parse_plan(raw: bytes | str, source: str) -> Plan:
    """A plan from its JSON; UserError naming ``source`` and the first field that is wrong."""
    try:
        return Plan.model_validate_json(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"{source}: not a valid plan: {where}: {first['msg']}") from e


def checked(plan: Plan, cfg: Config) -> Plan:
    """``plan`` if it validates, else UserError naming every problem."""
    problems = validate(plan, cfg.max_tasks)
    if problems:
        raise UserError("the plan is not valid: " + "; ".join(problems))
    return plan


def open_run(
    repo: Path, request: ChangeRequest, plan: Plan, cfg: Config, target: str, base: str
) -> tuple[Ledger, str]:
    """Record a new run with its plan; returns the ledger and the run id."""
    ledger = Ledger.for_repo(repo)
    run_id = ledger.create_run(request, base, target, cfg.model_dump_json(), plan)
    for warning in predicted_conflicts(plan):
        ledger.event(run_id, "predicted_conflict", {"detail": warning})
    return ledger, run_id
