"""The roles built from crewchief's own Config."""

from __future__ import annotations

import pytest

from crewchief.config import Config
from crewchief.errors import UserError
from crewchief.llm import roles
from crewchief.models.pricing import Price

APPENDER = "scripted:crewchief.models.scripted:appender"


def config(**extra: object) -> Config:
    return Config.model_validate(
        {
            "manager_model": APPENDER,
            "worker_model": "openai:gpt-4.1-mini",
            "test_command": "pytest -q",
            "fast_checks": ["ruff check {files}"],
            "prices": {"gpt-4.1-mini": {"input": 0.5, "output": 2.0}},
            **extra,
        }
    )


def test_planner_and_reviewer_come_from_config() -> None:
    cfg = config(worker_risk_levels=["low"], worker_backend="agent:aider")
    planner = roles.planner(cfg)
    assert planner.allowed_checks == ("ruff check", "pytest -q")
    assert planner.backend == "agent:aider"
    assert planner.worker.risk_levels == ("low",)
    assert planner.worker.price == Price(input=0.5, output=2.0)
    assert roles.reviewer(cfg).model_label == APPENDER  # defaults to the manager model
    other = APPENDER + "?line=r"
    assert roles.reviewer(config(reviewer_model=other)).model_label == other


def test_missing_models_and_keys_stop_the_run_before_any_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(UserError, match="no manager model"):
        roles.check_models(Config())
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError, match="set OPENAI_API_KEY in the environment: worker uses"):
        roles.check_models(config())
    roles.check_models(config(), workers=False)  # plan-only runs need no worker model


def test_role_models() -> None:
    assert roles.role_models(config(reviewer_model="openai:gpt-5")) == {
        "manager": APPENDER,
        "reviewer": "openai:gpt-5",
        "worker": "openai:gpt-4.1-mini",
    }
