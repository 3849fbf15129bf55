"""The data model: an order and what it costs."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Order:
    id: int
    total_cents: int
