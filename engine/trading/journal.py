"""The journal port: how the engine records what it decides and what happens.

The engine talks to the store only through this small interface (see DESIGN.md): live
trading journals every step to SQLite and the audit chain; a backtest keeps its decisions
in memory and stores the finished run once, so it uses `MemoryJournal`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.types import Fill, OrderRequest


class Journal(ABC):
    """Records orders, fills, decisions and audit events.

    `batch()` groups writes into one unit of work. A batch never spans a broker call:
    the intent of an order is committed before the order leaves the process, the outcome
    after, and no write lock is held across the network.
    """

    # False for a journal that drops events and order rows (a backtest's): callers may
    # then skip building their payloads.
    records = True

    @contextmanager
    def batch(self) -> Iterator[None]:
        yield

    @abstractmethod
    def event(self, kind: str, actor: str, payload: Mapping[str, Any]) -> None:
        """One audit entry (`order.approved`, `risk.denied`, ...)."""

    @abstractmethod
    def order(self, order: OrderRequest, status: str, ts: datetime, **extra: Any) -> None:
        """Insert or update the order row keyed by its client order id."""

    @abstractmethod
    def fill(self, fill: Fill) -> bool:
        """Store a fill once per broker trade id; False if it was already stored."""

    @abstractmethod
    def signal(self, ts: datetime, symbol: str, strategy: str, side: str, conf: float) -> None:
        """A strategy's new BUY or SELL signal."""

    @abstractmethod
    def decision(self, payload: Mapping[str, Any]) -> None:
        """An ensemble decision with its votes and weights."""

    @abstractmethod
    def position(self, symbol: str, qty: Any, avg_price: Any, realized: Any, fees: Any) -> None:
        """The position of a symbol after a fill."""


@dataclass
class MemoryJournal(Journal):
    """Keeps everything in lists: for backtests (stored once at the end) and tests."""

    events: list[tuple[str, str, dict]] = field(default_factory=list)
    orders: dict[str, tuple[OrderRequest, str]] = field(default_factory=dict)
    fills: dict[str, Fill] = field(default_factory=dict)
    decisions: list[dict] = field(default_factory=list)
    signals: list[tuple] = field(default_factory=list)
    positions: dict[str, tuple] = field(default_factory=dict)
    keep_events: bool = True

    @property
    def records(self) -> bool:
        return self.keep_events

    def event(self, kind: str, actor: str, payload: Mapping[str, Any]) -> None:
        if self.keep_events:
            self.events.append((kind, actor, dict(payload)))

    def order(self, order: OrderRequest, status: str, ts: datetime, **extra: Any) -> None:
        if self.keep_events:  # a backtest's journal keeps no orders: nothing reads them
            self.orders[order.client_order_id] = (order, status)

    def fill(self, fill: Fill) -> bool:
        if fill.trade_id in self.fills:
            return False
        self.fills[fill.trade_id] = fill
        return True

    def signal(self, ts: datetime, symbol: str, strategy: str, side: str, conf: float) -> None:
        if self.keep_events:
            self.signals.append((ts, symbol, strategy, side, conf))

    def decision(self, payload: Mapping[str, Any]) -> None:
        if self.keep_events:
            self.decisions.append(dict(payload))

    def position(self, symbol: str, qty: Any, avg_price: Any, realized: Any, fees: Any) -> None:
        self.positions[symbol] = (qty, avg_price, realized, fees)

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.events]
