"""Model strings, keys and reachability checked before any work; prices."""

from __future__ import annotations

import socket

import pytest
from pydantic_ai import models
from pydantic_ai.models.function import FunctionModel

from crewchief.errors import UserError
from crewchief.models.pricing import Price, bare_name, cost, price_for, price_table
from crewchief.models.providers import build_model, check_ready, parse_model

from .wire import Canned, loopback


def test_model_strings_parse() -> None:
    assert parse_model("anthropic:claude-sonnet-4-6").key_env == "ANTHROPIC_API_KEY"
    assert parse_model("openai:gpt-4.1-mini").name == "gpt-4.1-mini"
    ref = parse_model("openai-compatible:qwen3-coder@http://localhost:8000/v1/")
    assert (ref.name, ref.base_url, ref.key_env) == (
        "qwen3-coder",
        "http://localhost:8000/v1",
        None,
    )
    ref = parse_model("scripted:crewchief.models.scripted:appender?line=x&seed=3")
    assert ref.params == (("line", "x"), ("seed", "3"))


@pytest.mark.parametrize(
    "bad",
    [
        "gpt-4o",
        "openai:",
        "mistral:large",
        "scripted:nomodule",
        "openai-compatible:qwen",
        "openai-compatible:q@ftp://x",
    ],
)
def test_malformed_model_strings_name_the_accepted_formats(bad: str) -> None:
    with pytest.raises(UserError, match="expected"):
        parse_model(bad)


def test_missing_keys_are_one_clear_error_naming_each_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError) as err:
        check_ready(
            {
                "manager": "anthropic:claude-opus-4-8",
                "worker": "openai:gpt-4.1-mini",
                "reviewer": "anthropic:claude-opus-4-8",
            }
        )
    assert str(err.value) == (
        "model API keys missing:\n"
        "  set ANTHROPIC_API_KEY in the environment: manager uses anthropic:claude-opus-4-8\n"
        "  set OPENAI_API_KEY in the environment: worker uses openai:gpt-4.1-mini\n"
        "  set ANTHROPIC_API_KEY in the environment: reviewer uses anthropic:claude-opus-4-8"
    )
    with pytest.raises(UserError, match="set OPENAI_API_KEY"):
        build_model("openai:gpt-4.1-mini")


def test_keys_present_and_no_server_to_probe_is_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    check_ready(
        {
            "manager": "anthropic:claude-opus-4-8",
            "worker": "scripted:crewchief.models.scripted:appender",
        }
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_openai_compatible_server_is_refused_up_front() -> None:
    spec = f"openai-compatible:qwen3-coder@http://127.0.0.1:{free_port()}/v1"
    with (
        models.override_allow_model_requests(True),
        pytest.raises(
            UserError, match=r"cannot reach the OpenAI-compatible server at http://127\.0\.0\.1:"
        ),
    ):
        check_ready({"worker": spec}, timeout_s=1.0)


def test_reachable_server_passes_whatever_it_answers() -> None:
    with loopback(Canned([])) as url, models.override_allow_model_requests(True):
        check_ready({"worker": f"openai-compatible:qwen3-coder@{url}"})  # a 501 is an answer


def test_no_probe_while_model_requests_are_not_allowed() -> None:
    check_ready({"worker": f"openai-compatible:q@http://127.0.0.1:{free_port()}/v1"})


def test_scripted_model_string_builds_its_factory_model() -> None:
    model = build_model("scripted:crewchief.models.scripted:appender?line=%23x")
    assert isinstance(model, FunctionModel)
    with pytest.raises(UserError, match="cannot load"):
        build_model("scripted:crewchief.models.scripted:nothing_here")
    with pytest.raises(UserError, match="returned str"):
        build_model("scripted:os.path:basename?p=x")


def test_prices_configured_then_catalogue_then_defaults() -> None:
    table = price_table(
        {
            "openai-compatible:qwen3-coder@http://h/v1": {"input": 0.2, "output": 0.8},
            "gpt-4.1": {"input": 9, "output": 9},
        }
    )
    assert price_for("openai-compatible:qwen3-coder@http://h/v1", table) == Price(
        input=0.2, output=0.8
    )
    assert price_for("openai:gpt-4.1-mini", table) == Price(input=9, output=9)  # prefix
    sonnet = price_for("anthropic:claude-sonnet-4-6", {})
    assert sonnet == Price(input=3.0, output=15.0, cached=0.3)
    assert price_for("openai-compatible:my-own-model@http://h/v1", {}) is None
    assert bare_name("openai-compatible:m@http://h/v1") == "m"


def test_cost_bills_cached_tokens_at_the_cache_price() -> None:
    table = {"m": Price(input=2.0, output=10.0, cached=0.5)}
    assert cost("openai:m", 1_000_000, 100_000, 400_000, table) == pytest.approx(1.2 + 0.2 + 1.0)
    assert cost("openai:m", None, 10, 0, table) is None
    with pytest.raises(UserError, match=r"prices\.m: expected input, output"):
        price_table({"m": {"input": 1}})
