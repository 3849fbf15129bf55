"""The orchestrator: one run through dispatch → verify → integrate, every step in the ledger first.

``drive`` is the whole story; the rooms it calls (dispatch, verify, integrate) hold the detail.
Resuming is driving again: finished attempts are read back from the ledger, abandoned ones retried.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any

from crewchief.attempts.dispatch import AttemptOutcome, run_attempt
from crewchief.attempts.executor import Executor
from crewchief.attempts.worker_part import warm_up
from crewchief.attempts.workspace import WorkspacePool
from crewchief.config import Config
from crewchief.errors import ModelUnavailable, UserError
from crewchief.gate import review
from crewchief.gate.review import record_model_work
from crewchief.gate.verify import DeferredReviewer, Reviewer, RuleReviewer
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import (
    RUN_CLOSED,
    TASK_ACCEPTED,
    TASK_DEAD,
    TASK_TO_LAND,
    RunState,
    TaskState,
)
from crewchief.merge import groups, integrate, reverify
from crewchief.merge.integrate import Chain, Pick
from crewchief.merge.queue import (
    MergeQueue,
    Settled,
    conflict_note,
    landed_commit,
    settle,
    suite_known,
)
from crewchief.merge.suite import FlakySuite, SuiteRunner
from crewchief.merge.suite_trust import SuiteTrust
from crewchief.records import (
    Attempt,
    CheckResult,
    EventKind,
    Plan,
    Task,
    Verdict,
    WorkerResult,
)
from crewchief.run.budget import over_budget, spend_of
from crewchief.run.runlock import run_lock
from crewchief.run.taskgraph import TaskGraph
from crewchief.sandbox import requirement as sandbox_policy

S = TaskState


class Orchestrator:
    def __init__(
        self,
        repo: Path,
        ledger: Ledger,
        cfg: Config,
        executor: Executor,
        reviewer: Reviewer | None = None,
    ) -> None:
        self.repo, self.ledger, self.cfg, self.executor = repo, ledger, cfg, executor
        self.reviewer = reviewer or RuleReviewer()
        self.pool = WorkspacePool(repo)
        self.suite = SuiteRunner(repo, ledger, cfg, self.pool)
        self._paused: str | None = None  # why no new attempt may start (a budget, a model error)
        self._pause_kind: EventKind = "budget_stop"
        self._trust: SuiteTrust | None = None  # the suite's base check and probe, under way
        self._distrust: str | None = None  # why the suite may not gate this run, once known
        self.queue: MergeQueue | None = None
        self._rebase: dict[str, tuple[str, str]] = {}  # task → (tip, note) for a conflict re-run
        self._awaiting: dict[str, str] = {}  # task → attempt whose verdict the host owes
        self._host_watch: Future[str] | None = None  # wakes the driver when the host answers
        self._watched: frozenset[str] = frozenset()

    def drive(self, run_id: str) -> RunState:
        """Run (or resume) ``run_id`` up to the human gate. Ctrl-C leaves it resumable."""
        with run_lock(self.repo, run_id):
            try:
                self._prepare(run_id)
                self._start_trust(run_id)
                self._review_unreviewed(run_id)
                self.queue = self._new_queue(run_id)
                self._dispatch(run_id)
                if self._paused:
                    self._pause(run_id, self._paused)
                elif self._distrust is not None or self._held(run_id):
                    pass  # the run's state says why (an untrusted suite, a flaky one)
                elif self.queue is not None and self.queue.start_red:
                    self._base_red(run_id)
                else:
                    queued = self.queue.final() if self.queue else None
                    self._integrate_or_hold(run_id, self._verified(run_id), queued)
            except KeyboardInterrupt:
                if self.queue is not None:
                    self.queue.stop()
                self.executor.cancel()
                self._abandon_running(run_id)
                self.ledger.set_run_state(run_id, RunState.INTERRUPTED)
                raise
            finally:
                self._close()
        return self.ledger.run(run_id).state

    # -- dispatch ------------------------------------------------------------------------------

    def _prepare(self, run_id: str) -> None:
        state = self.ledger.run(run_id).state
        if state in RUN_CLOSED:
            raise UserError(f"run {run_id} is {state}: nothing to resume")
        plan = self.ledger.plan(run_id)
        sandbox_policy.require(self.cfg, plan)
        sandbox_policy.end_survivors(self.ledger, run_id)
        sandbox_policy.record_unsandboxed(self.ledger, run_id, self.cfg)
        self._abandon_running(run_id)
        for task_id, st in self.ledger.task_states(run_id).items():
            risk = plan.task(task_id).risk
            if st == S.PLANNED and risk not in self.cfg.worker_risk_levels:
                self.ledger.event(run_id, "held_for_person", {"risk": risk}, task_id=task_id)
            elif st == S.PLANNED:
                self.ledger.set_task_state(run_id, task_id, S.READY)
        if state != RunState.RUNNING:
            self.ledger.set_run_state(run_id, RunState.RUNNING)
        self._paused = over_budget(self.ledger, self.cfg, run_id, None)

    def _pause(self, run_id: str, reason: str) -> None:
        """Stop at a budget or a model error: finished work is kept; ``resume`` (with a higher
        budget, or once the model answers again) goes on."""
        self.ledger.event(run_id, self._pause_kind, {"reason": reason})
        self.ledger.set_run_state(run_id, RunState.INTERRUPTED, reason=reason)

    def _abandon_running(self, run_id: str) -> None:
        for task_id, st in self.ledger.task_states(run_id).items():
            if st == S.RUNNING:
                self.ledger.set_task_state(run_id, task_id, S.READY, reason="interrupted")

    def _dispatch(self, run_id: str) -> None:
        plan = self.ledger.plan(run_id)
        warm_up(plan.tasks, self.cfg)
        inflight: dict[Future[AttemptOutcome], str] = {}
        while True:
            self._take_host_verdicts(run_id, plan)
            self._block_orphans(run_id, plan)
            suite = self._feed_queue(run_id, plan)
            stop = self._paused or self._distrust or self._held(run_id)
            free = 0 if stop else self.executor.workers - len(inflight)
            for task in self._startable(run_id, plan, set(inflight.values()))[:free]:
                inflight[self._start(run_id, plan, task)] = task.id
            host = self._watch_host() if self._awaiting and not stop else None
            if not inflight and suite is None and host is None:
                if not self._waiting_for_trust():
                    return
                self._suite_may_gate(run_id)  # the queue waits for the suite to be proven
                continue
            pending: list[Future[Any]] = [*inflight, *([suite] if suite else [])]
            pending += [host] if host else []  # a verdict may free more work
            if self._waiting_for_trust():  # its verdict may start the queue's first batch
                assert self._trust is not None
                pending.append(self._trust.future)
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            if suite in done:
                self._collect_batch(run_id, plan)
            for fut in [f for f in inflight if f in done]:
                inflight.pop(fut)
                self._record(run_id, plan.task(fut.result().task_id), fut.result())

    def _startable(self, run_id: str, plan: Plan, inflight: set[str]) -> list[Task]:
        states = self.ledger.task_states(run_id)
        return [
            t
            for t in plan.tasks
            if states[t.id] == S.READY
            and t.id not in inflight
            and all(states[d] in TASK_ACCEPTED or states[d] == S.NO_CHANGE for d in t.depends_on)
        ]

    def _block_orphans(self, run_id: str, plan: Plan) -> None:
        states = self.ledger.task_states(run_id)
        for t in plan.tasks:
            dead = [d for d in t.depends_on if states[d] in TASK_DEAD or states[d] == S.PLANNED]
            if states[t.id] == S.READY and dead:
                self.ledger.set_task_state(run_id, t.id, S.BLOCKED, because=", ".join(dead))

    def _start(
        self, run_id: str, plan: Plan, task: Task, base: str | None = None
    ) -> Future[AttemptOutcome]:
        number = len(self.ledger.attempts(run_id, task.id)) + 1
        rebase, note = self._rebase.pop(task.id, (None, None))
        attempt = Attempt(
            id=f"{run_id}.{task.id}.{number}",
            run_id=run_id,
            task_id=task.id,
            number=number,
            base_commit=base or rebase or self._base_for(run_id, plan, task),
            backend=task.backend,
            extra_instruction=note or self._feedback(run_id, task.id),
        )
        self.ledger.start_attempt(attempt)
        self.ledger.set_task_state(run_id, task.id, S.RUNNING, attempt=attempt.id)
        return self.executor.submit(lambda: self._attempt_body(task, attempt))

    def _attempt_body(self, task: Task, attempt: Attempt) -> AttemptOutcome:
        try:
            return run_attempt(
                self.repo,
                self.pool,
                self.cfg,
                task,
                attempt.id,
                attempt.base_commit,
                attempt.extra_instruction,
                self.executor.remote_worker,
            )
        except Exception as e:  # a crash in our own plumbing fails the attempt, not the run
            result = WorkerResult(status="error", error=f"{type(e).__name__}: {e}")
            return AttemptOutcome(task.id, attempt.id, result, ())

    def _record(self, run_id: str, task: Task, out: AttemptOutcome) -> None:
        self.ledger.finish_attempt(run_id, out.attempt_id, out.result, tree=out.tree)
        self.ledger.record_calls(
            run_id, spend_of(out.result, task.backend), task_id=task.id, attempt_id=out.attempt_id
        )
        for check in out.checks:
            self.ledger.record_check(run_id, check, task_id=task.id, attempt_id=out.attempt_id)
        if out.result.status != "ok":
            self.ledger.set_task_state(run_id, task.id, S.FAILED, reason=out.result.error or "")
            return
        if not out.result.patch:  # its own outcome: done, with nothing to integrate
            reason = "no change needed: the worker found nothing to change"
            self.ledger.set_task_state(run_id, task.id, S.NO_CHANGE, reason=reason)
            return
        self.ledger.set_task_state(run_id, task.id, S.PRODUCED)
        self._judge(run_id, task, out.attempt_id, out.result, out.checks)

    def _review_unreviewed(self, run_id: str) -> None:
        """Review again each produced patch whose review got no verdict (a model error)."""
        plan = self.ledger.plan(run_id)
        for task_id, st in self.ledger.task_states(run_id).items():
            attempts = self.ledger.attempts(run_id, task_id)
            result = self.ledger.result(attempts[-1].id) if attempts else None
            if st != S.PRODUCED or result is None or self._paused:
                continue
            checks = [
                CheckResult(
                    name=c.name,
                    kind=c.kind,
                    passed=bool(c.passed),
                    output=c.output,
                    duration_s=c.duration_s,
                )
                for c in self.ledger.checks(run_id, attempts[-1].id)
            ]
            self._judge(run_id, plan.task(task_id), attempts[-1].id, result, checks)

    def _judge(
        self,
        run_id: str,
        task: Task,
        attempt_id: str,
        result: WorkerResult,
        checks: Sequence[CheckResult],
    ) -> None:
        """The reviewer's verdict moves the task; no verdict (model error) pauses the run. A host
        reviewer's verdict is asked for and taken in when it comes (``_take_host_verdicts``)."""
        if isinstance(self.reviewer, DeferredReviewer):
            asked = self.reviewer.request(task, result, checks, attempt_id)
            if asked is None:
                self._awaiting[task.id] = attempt_id
                return
            verdict = asked
        else:
            try:
                verdict = self.reviewer.review(task, result, checks)
            except ModelUnavailable as e:
                record_model_work(self.ledger, e.work, run_id, task.id, attempt_id)
                self._paused, self._pause_kind = f"{task.id}: {e}", "model_error"
                return
            record_model_work(self.ledger, verdict.work, run_id, task.id, attempt_id)
        self._decide(run_id, task, attempt_id, verdict)

    def _decide(self, run_id: str, task: Task, attempt_id: str, verdict: Verdict) -> None:
        self.ledger.record_verdict(run_id, task.id, attempt_id, verdict)
        attempts_left = self._attempts_used(run_id, task.id) < self.cfg.max_attempts
        if verdict.decision == "approve":
            self.ledger.set_task_state(run_id, task.id, S.VERIFIED)
        elif verdict.decision == "revise" and attempts_left:
            self.ledger.set_task_state(run_id, task.id, S.READY, reason="revise")
        else:
            self.ledger.set_task_state(run_id, task.id, S.REJECTED, reasons=list(verdict.reasons))
        needs_more = self.ledger.task_states(run_id)[task.id] == S.READY
        self._paused = self._paused or over_budget(
            self.ledger, self.cfg, run_id, task.id if needs_more else None
        )

    # -- a host agent's reviews -----------------------------------------------------------------

    def _take_host_verdicts(self, run_id: str, plan: Plan) -> None:
        """Every verdict the host has given on a patch awaiting it, applied."""
        if not self._awaiting:
            return
        assert isinstance(self.reviewer, DeferredReviewer)
        given = self.reviewer.given()
        for task_id, attempt_id in list(self._awaiting.items()):
            verdict = given.get(attempt_id)
            if verdict is not None:
                del self._awaiting[task_id]
                self._decide(run_id, plan.task(task_id), attempt_id, verdict)

    def _watch_host(self) -> Future[str]:
        """A future done once the host answers any patch awaiting it (renewed as that set
        changes)."""
        watched = frozenset(self._awaiting.values())
        if self._host_watch is None or self._host_watch.done() or watched != self._watched:
            if self._host_watch is not None:
                self._host_watch.cancel()
            assert isinstance(self.reviewer, DeferredReviewer)
            self._host_watch, self._watched = self.reviewer.watch(watched), watched
        return self._host_watch

    def _host_judged(self, run_id: str, plan: Plan, task_id: str) -> None:
        """Wait for the host's verdict on ``task_id`` if it owes one (integration needs it)."""
        if task_id in self._awaiting:
            assert isinstance(self.reviewer, DeferredReviewer)
            self.reviewer.watch([self._awaiting[task_id]]).result()
            self._take_host_verdicts(run_id, plan)

    def _attempts_used(self, run_id: str, task_id: str) -> int:
        """Finished attempts; one abandoned by an interruption does not count."""
        return sum(1 for a in self.ledger.attempts(run_id, task_id) if a.ended_at is not None)

    def _feedback(self, run_id: str, task_id: str) -> str | None:
        verdicts = self.ledger.verdicts(run_id, task_id)
        if verdicts and verdicts[-1][1].decision == "revise":
            return verdicts[-1][1].feedback
        return None

    def _base_for(self, run_id: str, plan: Plan, task: Task) -> str:
        """The run's base, plus the accepted changes of every task ``task`` depends on."""
        base = str(self.ledger.run(run_id).base_commit)
        states = self.ledger.task_states(run_id)
        deps = {d for d in TaskGraph.of(plan).ancestors(task.id) if states[d] != S.NO_CHANGE}
        if not deps:
            return base
        picks = [self._pick(run_id, plan, d) for d in integrate.merge_order(plan, deps)]
        return integrate.build_chain(self.repo, run_id, base, picks).tip

    def _pick(self, run_id: str, plan: Plan, task_id: str) -> Pick:
        attempt_id = self.ledger.accepted_attempt(run_id, task_id)
        assert attempt_id is not None, f"task {task_id} has no accepted attempt"
        row = next(a for a in self.ledger.attempts(run_id, task_id) if a.id == attempt_id)
        result = self.ledger.result(attempt_id)
        assert result is not None
        model = result.usage.model or next((c.model for c in result.calls), None)
        return Pick(
            plan.task(task_id),
            attempt_id,
            row.base_commit,
            result.patch,
            row.backend,
            result.rationale,
            model,
            row.patch_tree,
        )

    def _verified(self, run_id: str) -> set[str]:
        return {t for t, s in self.ledger.task_states(run_id).items() if s in TASK_ACCEPTED}

    # -- the suite's trust ---------------------------------------------------------------------

    def _start_trust(self, run_id: str) -> None:
        """Begin proving the suite on the base (base check, sensitivity probe) beside the
        workers, unless this run has proved it already."""
        if not self.cfg.test_command or self._trust is not None or self._trusted(run_id):
            return
        owned = [p for t in self.ledger.plan(run_id).tasks for p in t.owned_paths]
        self._trust = SuiteTrust(
            self.repo,
            self.ledger,
            self.cfg.test_command,
            self.cfg.suite_timeout_s,
            self.cfg.check_sandbox(),
            probe=self.cfg.suite_probe,
        )
        self._trust.start(self.pool, str(self.ledger.run(run_id).base_commit), owned)

    def _suite_may_gate(self, run_id: str, wait: bool = True) -> bool | None:
        """Whether the suite may judge this run: the trust checks' verdict (waited for, or None
        while they run when not ``wait``). A suite that may not gate fails the run with why."""
        if self._distrust is not None:
            return False
        self._start_trust(run_id)
        if self._trust is None:
            return True  # proved before, or no test command (the suite runner says so)
        if not wait and not self._trust.done():
            return None
        trust, self._trust = self._trust.verdict(run_id), None
        if trust.problem is None:
            return True
        self._distrust = trust.problem
        self.ledger.set_run_state(run_id, RunState.FAILED, reason=trust.problem)
        return False

    def _waiting_for_trust(self) -> bool:
        """Queued work whose suite batch waits only for the trust checks to finish."""
        return self.queue is not None and bool(self.queue.waiting) and self._trust is not None

    def _trusted(self, run_id: str) -> bool:
        return any(
            e.kind == "suite_trust" and e.data.get("trusted") is True
            for e in self.ledger.event_records(run_id)
        )

    def _integrate_or_hold(
        self, run_id: str, task_ids: set[str], queued: Chain | None = None
    ) -> None:
        """Integrate; a flaky suite holds the run for a person (resume tests again); a manager
        that gives no summary pauses it, like a reviewer outage (resume asks again)."""
        try:
            self._integrate(run_id, task_ids, queued)
        except FlakySuite as e:
            self._hold_flaky(run_id, e)
        except ModelUnavailable as e:
            self._pause_kind = "model_error"
            self._pause(run_id, str(e))

    def _hold_flaky(self, run_id: str, e: FlakySuite) -> None:
        self.ledger.set_run_state(run_id, RunState.INTERRUPTED, reason=str(e), held=True)

    def _held(self, run_id: str) -> bool:
        """The run was held for a person while dispatching (a flaky suite in the queue)."""
        return self.ledger.run(run_id).state == RunState.INTERRUPTED

    def _close(self) -> None:
        if self._host_watch is not None:
            self._host_watch.cancel()
        if self._trust is not None:
            self._trust.close()
            self._trust = None
        if self.queue is not None:
            self.queue.close()
        self.pool.close()

    # -- merge queue ----------------------------------------------------------------------------

    def _new_queue(self, run_id: str) -> MergeQueue | None:
        """The run's merge queue, unless integration waits for the end: configured so, or the
        manager proposes the merge order (that needs every patch at once)."""
        if not self.cfg.merge_queue or isinstance(self.reviewer, review.ModelReviewer):
            return None
        # Each suite thread writes its checks through a ledger connection of its own.
        local = threading.local()

        def suite(commit: str) -> CheckResult:
            if not hasattr(local, "runner"):
                local.runner = SuiteRunner(self.repo, Ledger(self.ledger.path), self.cfg, self.pool)
            result: CheckResult = local.runner.result(run_id, commit)
            return result

        start = landed_commit(self.ledger, run_id)
        plan = self.ledger.plan(run_id)
        return MergeQueue(
            self.repo,
            self.ledger,
            run_id,
            plan,
            start,
            suite,
            parallel=self.cfg.queue_suites,
        )

    def _feed_queue(self, run_id: str, plan: Plan) -> Future[Settled] | None:
        """Offer the queue every complete unit of verified work not in it yet; conflicting
        picks go back to the workers. The batch under test, if any."""
        if self.queue is None or self.queue.start_red or self._distrust or self._held(run_id):
            return None  # nothing more is tested once the run is held or its suite distrusted
        self._drop_broken_groups(run_id, plan)
        states = self.ledger.task_states(run_id)
        ok = {t for t, s in states.items() if s in TASK_TO_LAND}
        for unit in groups.units(plan, integrate.merge_order(plan, ok - self.queue.queued())):
            for pick in self.queue.offer([self._pick(run_id, plan, t) for t in unit]):
                self._conflicted(run_id, pick, self.queue.chain())
        if self.queue.queued() and not self._suite_may_gate(run_id, wait=False):
            return None  # no green is trusted before the suite is proven on the base
        return self.queue.pump()

    def _collect_batch(self, run_id: str, plan: Plan) -> None:
        """A batch's verdict into the ledger: blamed tasks rejected, the green tip published,
        picks that no longer merge sent back to the workers."""
        assert self.queue is not None
        outstanding = {S.READY, S.RUNNING, S.PRODUCED}
        to_come = any(s in outstanding for s in self.ledger.task_states(run_id).values())
        to_come = to_come or bool(self.queue.waiting)

        def hold(blamed: frozenset[str], tested: Chain) -> bool:
            """Later work may fix it, or the drift check at the end re-runs who it broke."""
            return to_come or any(
                changer in blamed and affected not in blamed
                for changer, affected, _ in reverify.drifts(self.repo, plan, tested)
            )

        try:
            settled, lost = self.queue.collect(hold)
        except FlakySuite as e:
            batch = self.queue.take_oldest()
            if batch is not None:  # the person at the gate sees the build that was flaky
                self._publish(run_id, batch.chain)
            self._hold_flaky(run_id, e)
            return
        for blame in settled.blamed:
            self.ledger.set_task_state(
                run_id, blame.task_id, S.REJECTED, reason=blame.reason, output=blame.output
            )
        if settled.chain.links:
            self._publish(run_id, self.queue.green)
        for pick in lost:
            self._conflicted(run_id, pick, self.queue.chain())

    def _conflicted(self, run_id: str, pick: Pick, chain: Chain) -> None:
        """``pick`` no longer merges on ``chain``'s tip: re-run there, told its earlier diff and
        the commits it met, if it has an attempt left."""
        self.ledger.set_task_state(run_id, pick.task.id, S.CONFLICTED, tip=chain.tip)
        if self._paused or self._attempts_used(run_id, pick.task.id) >= self.cfg.max_attempts:
            return
        self._rebase[pick.task.id] = (chain.tip, conflict_note(self.repo, pick, chain))
        self.ledger.set_task_state(run_id, pick.task.id, S.READY, reason="re-run on new base")

    def _drop_broken_groups(self, run_id: str, plan: Plan) -> None:
        """A group lands whole or not at all: once a member can no longer land, the verified
        rest of its group is rejected, saying why."""
        states = self.ledger.task_states(run_id)
        for g in plan.landing_groups:
            dead = [t for t in g.tasks if states[t] in TASK_DEAD]
            for t in g.tasks:
                if dead and states[t] in TASK_TO_LAND:
                    reason = f"its landing group {g.name} cannot land: {', '.join(dead)} did not"
                    self.ledger.set_task_state(run_id, t, S.REJECTED, reason=reason)

    def _base_red(self, run_id: str) -> None:
        self.ledger.set_run_state(
            run_id, RunState.FAILED, reason="the full suite fails on the base commit"
        )

    # -- integrate ------------------------------------------------------------------------------

    def _integrate(self, run_id: str, task_ids: set[str], queued: Chain | None = None) -> None:
        """Commit ``task_ids`` in merge order (or take the merge queue's green ``queued``),
        re-run conflicts once, then make the suite green; groups land whole or not at all."""
        if (task_ids or queued) and not self._suite_may_gate(run_id):
            return
        self.ledger.set_run_state(run_id, RunState.INTEGRATING)
        plan = self.ledger.plan(run_id)
        self._drop_broken_groups(run_id, plan)
        if queued is None:
            chain = self._build(run_id, plan, task_ids)
        else:
            chain = self._settle_conflicts(run_id, plan, queued)
        chain = self._whole_groups(run_id, plan, self._reverify_drift(run_id, plan, chain))
        while chain.links:
            self._publish(run_id, chain)
            if self.suite.result(run_id, chain.tip).passed:
                self.ledger.set_run_state(run_id, RunState.AWAITING_APPROVAL)
                return
            dropped = self._drop_culprits(run_id, plan, chain)
            if dropped is None:
                return
            chain = self._whole_groups(run_id, plan, dropped)
        self.ledger.set_run_state(run_id, RunState.FAILED, reason="no patch left to integrate")

    def _build(self, run_id: str, plan: Plan, task_ids: set[str]) -> Chain:
        """The landable ``task_ids`` not merged yet, in merge order with each group together,
        committed on the landed point; conflicts re-run once on the tip."""
        states = self.ledger.task_states(run_id)
        ids = groups.landable(plan, {t for t in task_ids if states[t] in TASK_TO_LAND})
        picks = [self._pick(run_id, plan, t) for t in sorted(ids)]
        order = review.merge_order(self.ledger, self.reviewer, run_id, plan, picks)
        ordered = [t for u in groups.units(plan, order) for t in u]
        picks = sorted(picks, key=lambda p: ordered.index(p.task.id))
        start = landed_commit(self.ledger, run_id)
        built = integrate.build_chain(self.repo, run_id, start, picks)
        return self._settle_conflicts(run_id, plan, built)

    def _whole_groups(self, run_id: str, plan: Plan, chain: Chain) -> Chain:
        """``chain`` without the members of groups that are not whole in it (rebuilt)."""
        self._drop_broken_groups(run_id, plan)
        states = self.ledger.task_states(run_id)
        ids = [t for t, _, _ in chain.links if states[t] in TASK_ACCEPTED]
        keep = groups.landable(plan, ids)
        if len(keep) == len(chain.links):
            return chain
        picks = [self._pick(run_id, plan, t) for t in ids if t in keep]
        built = integrate.build_chain(self.repo, run_id, chain.start, picks)
        return self._settle_conflicts(run_id, plan, built)

    def _settle_conflicts(self, run_id: str, plan: Plan, chain: Chain) -> Chain:
        """Each pick that conflicts on the tip is re-run once on that tip, then appended."""
        for pick in chain.conflicts:
            self.ledger.set_task_state(run_id, pick.task.id, S.CONFLICTED, tip=chain.tip)
            if self._paused or self._attempts_used(run_id, pick.task.id) >= self.cfg.max_attempts:
                continue
            self.ledger.set_task_state(run_id, pick.task.id, S.READY, reason="re-run on new base")
            out = self._start(run_id, plan, pick.task, base=chain.tip).result()
            self._record(run_id, pick.task, out)
            self._host_judged(run_id, plan, pick.task.id)
            if self.ledger.task_states(run_id)[pick.task.id] == S.VERIFIED:
                new = integrate.build_chain(
                    self.repo, run_id, chain.tip, [self._pick(run_id, plan, pick.task.id)]
                )
                chain = Chain(chain.start, new.tip, chain.links + new.links, ())
        return Chain(chain.start, chain.tip, chain.links, ())

    def _reverify_drift(self, run_id: str, plan: Plan, chain: Chain) -> Chain:
        """Tasks whose code refers to a signature another landed patch changed are checked
        again at the tip; one that fails leaves the chain and is re-run there (like a conflict)."""
        failing: list[str] = []
        for task_id, reasons in reverify.drifted(self.repo, plan, chain).items():
            checks = reverify.recheck(self.pool, self.cfg, plan, task_id, chain.tip, reasons)
            for check in checks:
                self.ledger.record_check(run_id, check, task_id=task_id, commit=chain.tip)
            if not all(c.passed for c in checks):
                failing.append(task_id)
        if not failing:
            return chain
        keep = [self._pick(run_id, plan, t) for t, _, _ in chain.links if t not in failing]
        rebuilt = integrate.build_chain(self.repo, run_id, chain.start, keep)
        again = [self._pick(run_id, plan, t) for t in failing]
        return self._settle_conflicts(
            run_id, plan, Chain(rebuilt.start, rebuilt.tip, rebuilt.links, tuple(again))
        )

    def _drop_culprits(self, run_id: str, plan: Plan, chain: Chain) -> Chain | None:
        """Settle a red ``chain``: its culprits, found by leaving units out and then tasks of a
        red group (``queue.settle``), are rejected; the rest is rebuilt, conflicts re-run."""
        known = [suite_known(self.ledger, run_id, c) for _, _, c in chain.links]
        green = [i + 1 for i, passed in enumerate(known) if passed]
        keep = chain.links[: max(green, default=0)]  # proven green already (the merge queue's)
        start = keep[-1][2] if keep else chain.start
        picks = {t: self._pick(run_id, plan, t) for t, _, _ in chain.links[len(keep) :]}
        units = [[picks[t] for t in u] for u in groups.units(plan, list(picks))]
        suite = lambda commit: self.suite.result(run_id, commit)  # noqa: E731
        settled = settle(self.repo, run_id, plan, start, units, suite)
        if settled.start_red:
            self._base_red(run_id)
            return None
        for blame in settled.blamed:
            self.ledger.set_task_state(
                run_id, blame.task_id, S.REJECTED, reason=blame.reason, output=blame.output
            )
        links = keep + settled.chain.links
        rest = Chain(chain.start, settled.chain.tip, links, settled.conflicts)
        return self._settle_conflicts(run_id, plan, rest)

    def _publish(self, run_id: str, chain: Chain) -> None:
        integrate.publish(self.repo, run_id, chain.tip)
        self.ledger.record_integration(
            run_id,
            self.ledger.next_build(run_id),
            list(chain.links),
            chain.tip,
            suite_passed=suite_known(self.ledger, run_id, chain.tip),
        )

    def rebuild(self, run_id: str, task_ids: set[str]) -> RunState:
        """Integrate only ``task_ids`` again (after a person rejected others) and re-test."""
        with run_lock(self.repo, run_id):
            try:
                self._integrate_or_hold(run_id, task_ids)
            finally:
                self._close()
        return self.ledger.run(run_id).state
