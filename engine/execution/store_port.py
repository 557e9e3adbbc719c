"""The execution store port: what `ExecutionManager` needs to persist sessions, and no more.

Two adapters implement it: `engine.adapters.sqlite.SqliteExecutionStore` (the desk's
database, one `BEGIN IMMEDIATE` transaction per unit of work, audit entries on the signed
chain) and `engine.adapters.memory.MemoryExecutionStore` (dicts and an audit list, for
backtests: no temporary file).

Rows are plain dicts whose values come back as the SQLite adapter stores them: quantities,
prices and times as TEXT (times ISO 8601, UTC), `params` as a dict. The manager rebuilds its
sessions from those, whichever adapter it runs on.

Rules every adapter keeps:

- every write happens inside `unit_of_work()`; the writes of one unit (and its audit
  entries) become visible together or, on an exception, not at all; a nested unit joins
  the outer one;
- reads may happen inside or outside a unit; inside, they see its uncommitted writes;
- `transaction_open()` is how the manager proves that no broker call happens while an
  intent is still uncommitted.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any


class ExecutionStore(ABC):
    """Persistence of execution sessions, their parts, child orders, fills and audit."""

    # False for a store that drops audit entries (a backtest's): callers may then skip
    # building their payloads, the larger part of a market order's bookkeeping.
    keeps_audit = True

    # -- transactions ----------------------------------------------------------------------

    @abstractmethod
    def unit_of_work(self) -> AbstractContextManager[Any]:
        """A context in which writes commit together (rolled back on an exception)."""

    @abstractmethod
    def transaction_open(self) -> bool:
        """True while a unit of work of the calling thread is open. A unit of another
        thread is waited for first: its end, not ours, is what the caller needs."""

    # -- sessions and parts ----------------------------------------------------------------

    @abstractmethod
    def insert_session(
        self, session: Mapping[str, Any], parts: Sequence[Mapping[str, Any]], now: datetime
    ) -> None:
        """A new session (id, kind, symbol, side, total_qty, arrival_price, params) and its
        parts (part_no, scheduled_at, qty), all `pending`."""

    @abstractmethod
    def update_session(self, session_id: str, *, status: str, note: str, now: datetime) -> None:
        """A session's status and note (kept in its params)."""

    @abstractmethod
    def update_part(self, session_id: str, part_no: int, **values: Any) -> None:
        """Set any of status, client_order_id, attempt, filled_qty, avg_price of a part."""

    @abstractmethod
    def get_session(self, session_id: str) -> dict[str, Any] | None:
        """The session row (params as a dict), or None."""

    @abstractmethod
    def sessions(self, status: str | None = None) -> list[dict[str, Any]]:
        """Session rows (all, or those in `status`), oldest first."""

    @abstractmethod
    def session_ids(self) -> list[str]:
        """The id of every session, oldest first."""

    @abstractmethod
    def parts(self, session_id: str) -> list[dict[str, Any]]:
        """The parts of a session by part number, each with `order_type`: the type of its
        current attempt's order (None before the first submission)."""

    # -- child orders and fills ------------------------------------------------------------

    @abstractmethod
    def upsert_order(self, order: Mapping[str, Any], now: datetime) -> None:
        """Insert an order keyed by client order id, or update the status of the one there."""

    @abstractmethod
    def set_order_status(
        self, client_order_id: str, status: str, now: datetime,
        broker_order_id: str | None = None,
    ) -> None:
        """An order's new status (and broker id, once known); nothing for an unknown id."""

    @abstractmethod
    def child_orders(self, session_id: str) -> list[dict[str, Any]]:
        """client_order_id, type and status of every order of a session, oldest first."""

    @abstractmethod
    def insert_fill(self, fill: Mapping[str, Any]) -> bool:
        """Store a fill once per trade id; False if that trade id was already stored."""

    @abstractmethod
    def fills_of(self, client_order_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Stored fills (trade_id, client_order_id, qty, price, fee, ts) of these orders,
        in the order they were stored."""

    # -- audit -----------------------------------------------------------------------------

    @abstractmethod
    def audit(self, kind: str, actor: str, payload: Mapping[str, Any]) -> None:
        """Append an audit entry (inside the caller's unit of work, when one is open)."""
