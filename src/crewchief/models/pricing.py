"""What model calls cost: a price table in USD per million tokens, overridable from config.

Prices change; the defaults are the providers' list prices when this table was written and are
meant to be overridden in ``crewchief.toml`` (``[prices."<model>"] input = … output = … cached =
…``). A model the table does not know costs ``None`` (unknown), never zero.
"""

from __future__ import annotations

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


#: Model name prefix → price. The longest prefix that matches a model's name wins, so dated
#: snapshots (``claude-sonnet-4-5-20250929``) find their family.
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
    """The default table with ``overrides`` (config ``prices``) on top; UserError if malformed."""
    table = dict(DEFAULT_PRICES)
    for name, fields in (overrides or {}).items():
        try:
            table[name] = Price.model_validate(dict(fields))
        except ValueError as e:
            raise UserError(
                f"prices.{name}: expected input, output (and cached) USD per 1M tokens: {e}"
            ) from e
    return table


def price_for(model: str, table: Mapping[str, Price]) -> Price | None:
    """The price of ``model`` (a model string such as ``openai:gpt-4o`` or a bare name).

    An exact entry for the whole string wins; then the longest prefix of the bare model name.
    """
    if model in table:
        return table[model]
    name = bare_name(model)
    matches = [key for key in table if name.startswith(key)]
    return table[max(matches, key=len)] if matches else None


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
