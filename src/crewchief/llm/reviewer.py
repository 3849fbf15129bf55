"""The manager as reviewer: a patch that passed the mechanical gate is judged against its task
and the plan, hunk by hunk, ending in approve | revise | reject.

What the gate already decided needs no model: a failed worker or an empty patch is rejected as
the rule reviewer does; a failed fast or acceptance check becomes a revision whose feedback is
the check's output. The verdict is kept consistent: an "approve" with a hunk judged wrong or off
plan becomes a revision, and a revision always carries feedback for the next attempt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from crewchief.errors import ModelUnavailable
from crewchief.gate import patchfile
from crewchief.gate.verify import RuleReviewer
from crewchief.llm import prompts
from crewchief.llm.agentrun import PerThreadModel, run_agent
from crewchief.llm.summary import AcceptedPatch, ChangeSummary, summarize_change
from crewchief.models.pricing import Price
from crewchief.records import (
    CheckResult,
    HunkVerdict,
    ModelWork,
    Plan,
    Task,
    Verdict,
    WorkerResult,
)

if TYPE_CHECKING:
    from pydantic_ai.models import Model

#: Longest answer the reviewer may give.
MAX_OUTPUT_TOKENS = 8000
#: Characters of patch shown to the reviewer; a larger patch is cut (and says so).
MAX_PATCH_CHARS = 60_000
#: Characters of a failed check's output that become revision feedback.
MAX_CHECK_FEEDBACK = 3000
_FIXABLE = frozenset({"fast", "acceptance"})


class HunkDraft(BaseModel):
    path: str
    hunk: int
    ok: bool
    note: str = ""


class ReviewDraft(BaseModel):
    """The reviewer model's answer."""

    hunks: list[HunkDraft]
    off_plan: list[str] = Field(default_factory=list, description='"<path> hunk <n>" entries')
    decision: Literal["approve", "revise", "reject"]
    reasons: list[str] = Field(default_factory=list)
    feedback: str = Field(default="", description="For revise: what the worker must change")


class LLMReviewer:
    """Implements the Reviewer seam with the manager (or a reviewer) model.

    Each verdict and summary carries the model work that made it (``work``); a model failure
    carries it on the ModelUnavailable. Safe to call from several threads at once (each thread
    gets its own provider client; the reviewer keeps no state between calls).
    """

    def __init__(
        self,
        model: str | Model,
        *,
        prices: Mapping[str, Price] | None = None,
        plan: Plan | None = None,
        output_retries: int = 2,
    ) -> None:
        self._model = PerThreadModel(model)
        self.model_label = self._model.label
        self.name = f"llm:{self.model_label}"
        self.prices, self.plan, self.output_retries = prices or {}, plan, output_retries

    def review(
        self,
        task: Task,
        result: WorkerResult,
        checks: Sequence[CheckResult],
        plan: Plan | None = None,
    ) -> Verdict:
        """The verdict on one attempt; ``plan`` (default: the one given at construction) gives
        the reviewer the goal and the other tasks. Raises ModelUnavailable when the model
        call fails after the SDK's retries or its answer stays unusable: that is no verdict."""
        early = self._mechanical(task, result, checks)
        if early is not None:
            return early
        from pydantic_ai import Agent

        prompt = _prompt(task, result, checks, plan or self.plan)
        agent = Agent(
            self._model.get(),
            output_type=ReviewDraft,
            retries={"output": self.output_retries},
            model_settings={"max_tokens": MAX_OUTPUT_TOKENS},
        )
        out = run_agent(
            agent, prompt, role="reviewer", model_label=self.model_label, prices=self.prices
        )
        work = ModelWork(calls=tuple(out.calls), transcript=tuple(out.transcript))
        if out.output is None:  # no verdict: only a verdict from the model may reject
            raise ModelUnavailable(
                f"the reviewer model {self.model_label} failed: {out.error}", work
            )
        verdict = verdict_from(out.output, result.patch, self.name)
        return verdict.model_copy(update={"work": work})

    def summarize(self, plan: Plan, accepted: Sequence[AcceptedPatch]) -> ChangeSummary:
        """A summary of the whole change set and a merge order with reasons (always a valid
        order: every accepted task once, after its dependencies). Raises ModelUnavailable
        when the manager gave none (its calls are kept for the ledger all the same)."""
        return summarize_change(
            self._model.get(), self.model_label, self.prices, plan, accepted, self.output_retries
        )

    def _mechanical(
        self, task: Task, result: WorkerResult, checks: Sequence[CheckResult]
    ) -> Verdict | None:
        failed = [c for c in checks if not c.passed]
        if result.status != "ok" or not result.patch or any(c.kind not in _FIXABLE for c in failed):
            return RuleReviewer(name=self.name).review(task, result, checks)
        if failed:
            return Verdict(
                decision="revise",
                reviewer=self.name,
                reasons=tuple(f"{c.kind} check failed: {c.name}" for c in failed),
                feedback="\n\n".join(
                    f"The check `{c.name}` failed:\n{c.output[-MAX_CHECK_FEEDBACK:]}"
                    for c in failed
                ),
            )
        return None


def _prompt(
    task: Task, result: WorkerResult, checks: Sequence[CheckResult], plan: Plan | None
) -> prompts.Prompt:
    others = [
        f"{t.id}: {t.title} (owns {', '.join(t.owned_paths)})"
        for t in (plan.tasks if plan else ())
        if t.id != task.id
    ]
    return prompts.render_pair(
        "reviewer",
        goal=plan.goal if plan else task.title,
        others=others,
        task_id=task.id,
        title=task.title,
        risk=task.risk,
        instructions=task.instructions,
        owned_paths=list(task.owned_paths),
        rationale=result.rationale,
        assumptions=list(result.assumptions),
        checks=", ".join(f"{c.name}: {'passed' if c.passed else 'failed'}" for c in checks)
        or "none ran",
        hunks=hunks_text(result.patch),
    )


def hunks_text(patch: bytes, limit: int = MAX_PATCH_CHARS) -> str:
    """The patch with each file's hunks numbered from 1 (a file without hunks: hunk 0)."""
    parts = []
    for fp in patchfile.parse(patch):
        path = patchfile.path_text(fp.new_path or fp.old_path or b"?")
        if not fp.hunks:
            parts.append(f"## {path} hunk 0 ({fp.kind}{', binary' if fp.binary else ''})")
        for n, h in enumerate(fp.hunks, 1):
            body = b"".join(h.lines).decode("utf-8", errors="replace")
            header = f"@@ -{h.old_start},{h.old_count} +{h.new_start},{h.new_count} @@"
            parts.append(f"## {path} hunk {n} ({fp.kind})\n```diff\n{header}\n{body}```")
    text = "\n\n".join(parts)
    return text if len(text) <= limit else text[:limit] + "\n[… patch cut for length]"


def hunk_ids(patch: bytes) -> list[tuple[str, int]]:
    """(path, hunk number) of every hunk, as ``hunks_text`` numbers them."""
    ids = []
    for fp in patchfile.parse(patch):
        path = patchfile.path_text(fp.new_path or fp.old_path or b"?")
        ids += [(path, n) for n in range(1, len(fp.hunks) + 1)] or [(path, 0)]
    return ids


def verdict_from(draft: ReviewDraft, patch: bytes, reviewer: str) -> Verdict:
    """The model's review as a consistent Verdict: every hunk judged (one the model skipped is
    marked unreviewed), off-plan hunks marked, and approve only when every hunk is fine."""
    given = {(h.path, h.hunk): h for h in draft.hunks}
    off = set(draft.off_plan)
    hunks = []
    for path, n in hunk_ids(patch):
        h = given.get((path, n))
        off_plan = f"{path} hunk {n}" in off
        note = (h.note if h else "not reviewed") + (" [off plan]" if off_plan else "")
        hunks.append(
            HunkVerdict(path=path, hunk=n, ok=bool(h and h.ok) and not off_plan, note=note.strip())
        )
    bad = [h for h in hunks if not h.ok]
    decision = draft.decision
    reasons = list(draft.reasons)
    if decision == "approve" and bad:
        decision = "revise"
        reasons.append(
            f"{len(bad)} hunk(s) not approved: " + ", ".join(f"{h.path} hunk {h.hunk}" for h in bad)
        )
    feedback = draft.feedback.strip() or None
    if decision == "revise" and feedback is None:
        feedback = "\n".join([*reasons, *(f"{h.path} hunk {h.hunk}: {h.note}" for h in bad)])
    return Verdict(
        decision=decision,
        reviewer=reviewer,
        reasons=tuple(reasons),
        feedback=feedback if decision != "approve" else None,
        hunks=tuple(hunks),
    )
