"""What model calls cost: USD per million input, output and cached tokens, per model.

A model's price is looked up in this order: the configured table (``crewchief.toml``:
``[prices."<model>"] input = … output = … cached = …``, a key being a model string or a name
prefix), then the offline price catalogue that ships with pydantic-ai (``genai-prices``, kept
current by its releases), then ``DEFAULT_PRICES`` below (list prices when it was written). A model
none of them knows costs ``None`` (unknown), never zero.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from crewchief.errors import UserError
from crewchief.records import Record

_PER_TOKEN = 1_000_000


class Price(Record):
    """USD per million input, output and cache-read tokens of one model."""

    input: float
    output: float
    cached: float | None = None

    def cost(self, input_tokens: int, output_tokens: int, cached_tokens: int = 0) -> float:
        """USD for one call. ``input_tokens`` includes ``cached_tokens`` (pydantic-ai's
        convention); cached tokens cost ``cached`` (``input`` when the model has no cache price)."""
        cached = min(cached_tokens, input_tokens)
        cached_rate = self.input if self.cached is None else self.cached
        usd = (input_tokens - cached) * self.input + cached * cached_rate
        return (usd + output_tokens * self.output) / _PER_TOKEN


#: Model name prefix → price, the last resort after the configured table and the catalogue. The
#: longest prefix that matches a model's name wins (dated snapshots find their family).
DEFAULT_PRICES: Mapping[str, Price] = {
    "claude-opus-4-5": Price(input=5.0, output=25.0, cached=0.5),
    "claude-opus-4": Price(input=15.0, output=75.0, cached=1.5),
    "claude-sonnet-4": Price(input=3.0, output=15.0, cached=0.3),
    "claude-haiku-4": Price(input=1.0, output=5.0, cached=0.1),
    "claude-3-5-haiku": Price(input=0.8, output=4.0, cached=0.08),
    "gpt-5-nano": Price(input=0.05, output=0.4, cached=0.005),
    "gpt-5-mini": Price(input=0.25, output=2.0, cached=0.025),
    "gpt-5": Price(input=1.25, output=10.0, cached=0.125),
    "gpt-4.1-nano": Price(input=0.1, output=0.4, cached=0.025),
    "gpt-4.1-mini": Price(input=0.4, output=1.6, cached=0.1),
    "gpt-4.1": Price(input=2.0, output=8.0, cached=0.5),
    "gpt-4o-mini": Price(input=0.15, output=0.6, cached=0.075),
    "gpt-4o": Price(input=2.5, output=10.0, cached=1.25),
    "o4-mini": Price(input=1.1, output=4.4, cached=0.275),
    "o3": Price(input=2.0, output=8.0, cached=0.5),
}


def price_table(overrides: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, Price]:
    """The configured prices (config ``prices``) as a table; UserError if one is malformed."""
    table: dict[str, Price] = {}
    for name, fields in (overrides or {}).items():
        try:
            table[name] = Price.model_validate(dict(fields))
        except ValueError as e:
            raise UserError(
                f"prices.{name}: expected input, output (and cached) USD per 1M tokens: {e}"
            ) from e
    return table


def price_for(model: str, table: Mapping[str, Price]) -> Price | None:
    """The price of ``model`` (a model string such as ``openai:gpt-4o`` or a bare name): from
    ``table`` (the whole string, else the longest prefix of the name), else the catalogue, else
    ``DEFAULT_PRICES``."""
    if model in table:
        return table[model]
    found = _longest_prefix(bare_name(model), table)
    if found is None:
        provider, _, _ = model.partition(":")
        found = _catalogue(bare_name(model), provider if provider in _CATALOGUED else None)
    return found or _longest_prefix(bare_name(model), DEFAULT_PRICES)


_CATALOGUED = frozenset({"anthropic", "openai"})


def _longest_prefix(name: str, table: Mapping[str, Price]) -> Price | None:
    matches = [key for key in table if name.startswith(key)]
    return table[max(matches, key=len)] if matches else None


@functools.cache
def _catalogue(name: str, provider: str | None) -> Price | None:
    """The price genai-prices lists for ``name`` (at its base tier), or None if it has none."""
    from genai_prices import Usage, calc_price

    def per_million(**tokens: int) -> float:
        usage = Usage(**tokens)
        return float(calc_price(usage, model_ref=name, provider_id=provider).total_price)

    try:
        return Price(
            input=per_million(input_tokens=_PER_TOKEN),
            output=per_million(output_tokens=_PER_TOKEN),
            cached=per_million(input_tokens=_PER_TOKEN, cache_read_tokens=_PER_TOKEN),
        )
    except LookupError:
        return None


def bare_name(model: str) -> str:
    """``openai-compatible:qwen@http://…`` → ``qwen``; ``anthropic:claude-x`` → ``claude-x``."""
    _, sep, rest = model.partition(":")
    name = rest if sep else model
    return name.split("@", 1)[0]


def cost(
    model: str,
    input_tokens: int | None,
    output_tokens: int | None,
    cached_tokens: int | None,
    table: Mapping[str, Price],
) -> float | None:
    """USD for one call, or None when the model's price or its token counts are unknown."""
    price = price_for(model, table)
    if price is None or input_tokens is None or output_tokens is None:
        return None
    return price.cost(input_tokens, output_tokens, cached_tokens or 0)
