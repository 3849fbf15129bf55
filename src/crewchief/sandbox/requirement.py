"""Which work of a run is sandboxed, checked before anything runs, and said when it is not.

Every piece of a worker's code runs in a bubblewrap sandbox unless the configuration names the
escape hatch (``sandbox = "off"`` for checks and the suite, ``recipe_sandbox``, an agent's
``sandbox.mode``). :func:`require` refuses a run whose sandboxed work this machine cannot
sandbox (exit 2, with how to fix it) before the run starts; :func:`record_unsandboxed` puts every
escape hatch in the run's log, where ``status`` shows it (``ledger.views.unsandboxed``);
:func:`end_survivors` ends the processes a killed run left behind (they carry the run's id in
their sandbox marker).
"""

from __future__ import annotations

from crewchief.attempts import procio
from crewchief.config import Config
from crewchief.ledger.store import Ledger
from crewchief.records import Plan
from crewchief.sandbox.probe import probe_bwrap
from crewchief.sandbox.runner import SandboxConfig


def sandboxes_of(cfg: Config, plan: Plan) -> list[SandboxConfig]:
    """The sandboxes a run of ``plan`` under ``cfg`` uses (escape hatches included)."""
    boxes = [cfg.check_sandbox()]
    for backend in sorted({t.backend for t in plan.tasks}):
        kind, _, name = backend.partition(":")
        if kind == "recipe":
            boxes.append(cfg.recipe_sandbox_for(name))
        elif kind == "agent":
            boxes.append(_agent_sandbox(cfg, name))
    return boxes


def _agent_sandbox(cfg: Config, name: str) -> SandboxConfig:
    from crewchief.backends.external import agent_template

    box = agent_template(name, cfg.agents.get(name)).sandbox
    return box if "bwrap" in box.model_fields_set else box.model_copy(update={"bwrap": cfg.bwrap})


def require(cfg: Config, plan: Plan) -> None:
    """SandboxUnavailable (a UserError: exit 2, nothing changed) unless every sandbox the run
    needs can be created here. The probe is retried: a transient failure is not "no sandbox"."""
    for program in dict.fromkeys(b.bwrap for b in sandboxes_of(cfg, plan) if b.mode != "off"):
        probe_bwrap(program)


def record_unsandboxed(ledger: Ledger, run_id: str, cfg: Config) -> list[str]:
    """Log what this drive runs without a sandbox (a ``sandbox_off`` event); return it."""
    off = cfg.unsandboxed()
    if off:
        ledger.event(run_id, "sandbox_off", {"unsandboxed": list(off)})
    return off


def end_survivors(ledger: Ledger, run_id: str) -> int:
    """Kill every process left by an earlier, killed drive of ``run_id`` (found by the run id
    in its sandbox marker) and log how many there were. Call only holding the run's lock."""
    killed = procio.kill_owned(run_id)
    if killed:
        ledger.event(run_id, "survivors_killed", {"count": killed})
    return killed
