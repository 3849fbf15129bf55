"""Model strings → pydantic-ai models, and the checks that a run can reach them.

Accepted model strings:

- ``anthropic:<model>`` (key: ``ANTHROPIC_API_KEY``)
- ``openai:<model>`` (key: ``OPENAI_API_KEY``)
- ``openai-compatible:<model>@<base_url>`` (key, optional: ``OPENAI_COMPATIBLE_API_KEY``), e.g. a
  local vLLM/Ollama server or a LiteLLM proxy in front of other providers
- ``scripted:<module>:<factory>[?name=value&…]``: ``factory(**params)`` returns a pydantic-ai
  Model. Tests and benchmarks use it to run scripted models, even inside worker processes.

Provider SDKs are imported only when a model is built. HTTP retries (429, 5xx, with backoff and
``Retry-After``) are done by the SDK clients, ``MAX_RETRIES`` times.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl

from crewchief.errors import UserError

if TYPE_CHECKING:
    import httpx2
    from pydantic_ai.models import Model

ProviderName = Literal["anthropic", "openai", "openai-compatible", "scripted"]

#: Retries of one failed HTTP request by the provider SDK (429, 408, 409, 5xx, connection errors).
MAX_RETRIES = 4
#: How long the up-front reachability probe of an OpenAI-compatible server may take.
PROBE_TIMEOUT_S = 3.0

_KEY_ENV: Mapping[str, str] = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
_COMPATIBLE_KEY_ENV = "OPENAI_COMPATIBLE_API_KEY"
_FORMATS = (
    "anthropic:<model>, openai:<model>, openai-compatible:<model>@<base_url>, "
    "scripted:<module>:<factory>"
)


@dataclass(frozen=True)
class ModelRef:
    """A parsed model string."""

    spec: str
    provider: ProviderName
    name: str
    base_url: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    @property
    def key_env(self) -> str | None:
        """The environment variable that must hold this model's API key (None: no key needed)."""
        return _KEY_ENV.get(self.provider)


def parse_model(spec: str) -> ModelRef:
    """Parse a model string; UserError naming the accepted formats if it is malformed."""
    provider, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise UserError(f"model {spec!r}: expected one of {_FORMATS}")
    if provider in ("anthropic", "openai"):
        return ModelRef(spec, provider, rest)  # type: ignore[arg-type]
    if provider == "openai-compatible":
        name, at, url = rest.partition("@")
        if not (name and at and url.startswith(("http://", "https://"))):
            raise UserError(f"model {spec!r}: expected openai-compatible:<model>@http(s)://host/v1")
        return ModelRef(spec, "openai-compatible", name, base_url=url.rstrip("/"))
    if provider == "scripted":
        target, _, query = rest.partition("?")
        if ":" not in target:
            raise UserError(f"model {spec!r}: expected scripted:<module>:<factory>")
        return ModelRef(spec, "scripted", target, params=tuple(parse_qsl(query)))
    raise UserError(f"model {spec!r}: unknown provider {provider!r} (expected {_FORMATS})")


#: Set to "1" (the test suite does) to refuse real model requests in this process and its children.
NO_REQUESTS_ENV = "CREWCHIEF_NO_MODEL_REQUESTS"


def refuse_requests_if_asked() -> None:
    """At a process's start (the CLI, a worker process): with ``NO_REQUESTS_ENV`` set, no real
    model request may leave this process. pydantic-ai takes a second to import, so its
    ``ALLOW_MODEL_REQUESTS`` is switched off where every model is built or probed
    (``build_model``, ``check_ready``), not here: a command that asks no model never pays for
    it."""
    _refusal["pending"] = os.environ.get(NO_REQUESTS_ENV) == "1"


#: Whether this process was asked to refuse model requests and has not switched them off yet.
_refusal = {"pending": False}


def _switch_requests_off_if_asked() -> None:
    if _refusal["pending"]:
        from pydantic_ai import models

        models.ALLOW_MODEL_REQUESTS = False
        _refusal["pending"] = False


def build_model(spec: str, *, http_client: httpx2.AsyncClient | None = None) -> Model:
    """The pydantic-ai model for ``spec``; keys come from the environment.

    ``http_client`` replaces the SDK's own HTTP client (tests point it at a local transport).
    """
    _switch_requests_off_if_asked()
    ref = parse_model(spec)
    if ref.provider == "scripted":
        return _scripted(ref)
    missing = missing_keys({spec: spec})
    if missing:
        raise UserError(missing[0])
    if ref.provider == "anthropic":
        return _anthropic(ref, http_client)
    return _openai(ref, http_client)


def _anthropic(ref: ModelRef, http_client: httpx2.AsyncClient | None) -> Model:
    from anthropic import AsyncAnthropic
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.providers.anthropic import AnthropicProvider

    client = AsyncAnthropic(
        api_key=os.environ["ANTHROPIC_API_KEY"], max_retries=MAX_RETRIES, http_client=http_client
    )
    return AnthropicModel(ref.name, provider=AnthropicProvider(anthropic_client=client))


def _openai(ref: ModelRef, http_client: httpx2.AsyncClient | None) -> Model:
    from openai import AsyncOpenAI
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider
    from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

    if ref.provider == "openai":
        key = os.environ["OPENAI_API_KEY"]
    else:  # a local server may need no key, but the SDK insists on a non-empty one
        key = os.environ.get(_COMPATIBLE_KEY_ENV) or "no-key"
    client = AsyncOpenAI(
        api_key=key, base_url=ref.base_url, max_retries=MAX_RETRIES, http_client=http_client
    )
    if ref.provider == "openai":
        return OpenAIChatModel(ref.name, provider=OpenAIProvider(openai_client=client))
    provider = OpenAICompatibleProvider("openai-compatible", openai_client=client)
    return OpenAIChatModel(ref.name, provider=provider)


def _scripted(ref: ModelRef) -> Model:
    from pydantic_ai.models import Model

    module_name, _, factory_name = ref.name.rpartition(":")
    try:
        factory = getattr(importlib.import_module(module_name), factory_name)
    except (ImportError, AttributeError) as e:
        raise UserError(f"model {ref.spec!r}: cannot load {ref.name}: {e}") from e
    model = factory(**dict(ref.params))
    if not isinstance(model, Model):
        raise UserError(f"model {ref.spec!r}: {ref.name} returned {type(model).__name__}")
    return model


def missing_keys(models: Mapping[str, str]) -> list[str]:
    """One message per role (``models`` maps role → model string) whose API key is not set."""
    problems = []
    for role, spec in models.items():
        env = parse_model(spec).key_env
        if env and not os.environ.get(env):
            problems.append(f"set {env} in the environment: {role} uses {spec}")
    return problems


def check_ready(models: Mapping[str, str], *, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Refuse, before any work starts, a run whose models cannot be used: a malformed string, an
    API key not set (one UserError naming every variable to set), or an OpenAI-compatible server
    that does not answer within ``timeout_s``. ``models`` maps a role to its model string.

    The network probe is skipped while pydantic-ai's ``ALLOW_MODEL_REQUESTS`` is False.
    """
    refs = {role: parse_model(spec) for role, spec in models.items()}
    problems = missing_keys(models)
    if problems:
        raise UserError("model API keys missing:\n  " + "\n  ".join(problems))
    urls = sorted({r.base_url for r in refs.values() if r.base_url is not None})
    if urls and _requests_allowed():
        for url in urls:
            _probe(url, timeout_s)


def _requests_allowed() -> bool:
    _switch_requests_off_if_asked()
    from pydantic_ai import models

    return bool(models.ALLOW_MODEL_REQUESTS)


def _probe(base_url: str, timeout_s: float) -> None:
    """Any HTTP answer from ``<base_url>/models`` counts as reachable (even 401 or 404)."""
    import httpx2

    try:
        httpx2.get(f"{base_url}/models", timeout=timeout_s)
    except httpx2.HTTPError as e:
        raise UserError(
            f"cannot reach the OpenAI-compatible server at {base_url} "
            f"({type(e).__name__}: {e}); is it running?"
        ) from e
