"""The model-driven roles built from configuration: what the driver calls to get a planner, a
reviewer and the workers' spec, and to check before any work that every model can be used."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from crewchief.errors import UserError
from crewchief.llm.planner import LLMPlanner
from crewchief.llm.reviewer import LLMReviewer
from crewchief.llm.spec import WorkerSpec
from crewchief.models.pricing import price_for, price_table
from crewchief.models.providers import check_ready
from crewchief.records import Risk


class ModelConfig(Protocol):
    """The configuration fields the roles read (``crewchief.config.Config`` has them)."""

    @property
    def manager_model(self) -> str | None: ...
    @property
    def worker_model(self) -> str | None: ...
    @property
    def reviewer_model(self) -> str | None: ...
    @property
    def prices(self) -> Mapping[str, Mapping[str, float]]: ...
    @property
    def worker_max_steps(self) -> int: ...
    @property
    def worker_token_budget(self) -> int: ...
    @property
    def worker_risk_levels(self) -> list[Risk]: ...
    @property
    def max_tasks(self) -> int: ...
    @property
    def test_command(self) -> str | None: ...
    @property
    def worker_backend(self) -> str: ...
    @property
    def fast_checks(self) -> list[str]: ...


def role_models(cfg: ModelConfig, *, workers: bool = True) -> dict[str, str]:
    """Role → model string of every model a run will use; UserError if one is not configured."""
    if not cfg.manager_model:
        raise UserError("no manager model: set manager_model (e.g. anthropic:claude-sonnet-4-5)")
    models = {"manager": cfg.manager_model, "reviewer": cfg.reviewer_model or cfg.manager_model}
    if workers:
        if not cfg.worker_model:
            raise UserError("no worker model: set worker_model (e.g. openai:gpt-4.1-mini)")
        models["worker"] = cfg.worker_model
    return models


def check_models(cfg: ModelConfig, *, workers: bool = True) -> None:
    """Before any work starts: every model configured, its key set, its server reachable."""
    check_ready(role_models(cfg, workers=workers))


def worker_spec(cfg: ModelConfig) -> WorkerSpec:
    """What every LLM task carries to its worker (model, limits, price, risk levels)."""
    model = role_models(cfg)["worker"]
    return WorkerSpec(
        model=model,
        max_steps=cfg.worker_max_steps,
        token_budget=cfg.worker_token_budget,
        price=price_for(model, price_table(cfg.prices)),
        risk_levels=tuple(cfg.worker_risk_levels),
    )


def planner(cfg: ModelConfig) -> LLMPlanner:
    """The manager as planner, its checks limited to the project's own commands."""
    allowed = [c.split("{files}")[0].strip() for c in cfg.fast_checks]
    allowed += [cfg.test_command] if cfg.test_command else []
    return LLMPlanner(
        role_models(cfg, workers=False)["manager"],
        worker_spec(cfg),
        prices=price_table(cfg.prices),
        max_tasks=cfg.max_tasks,
        allowed_checks=[a for a in allowed if a],
        backend=cfg.worker_backend,
    )


def reviewer(cfg: ModelConfig) -> LLMReviewer:
    """The manager (or ``reviewer_model``) as reviewer."""
    return LLMReviewer(role_models(cfg, workers=False)["reviewer"], prices=price_table(cfg.prices))
