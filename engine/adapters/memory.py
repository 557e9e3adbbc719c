"""`MemoryExecutionStore`: the execution port in dicts and lists, for backtests and tests.

It behaves like the SQLite adapter where the manager can tell: rows come back with the
same keys and TEXT values (quantities, prices, ISO times, params through JSON; kept as
given and turned into text when read, since a backtest writes rows five times as often as
it reads them), a unit of
work is atomic (an undo log rolls its writes back on an exception), a nested unit joins the
outer one, fills are kept once per trade id, and one re-entrant lock orders threads. The
audit trail is a list of entries, `audit_entries`, with no hashes: nothing outlives the
run, so there is nothing to sign.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from engine.execution.store_port import ExecutionStore

_PART_UPDATABLE = frozenset({"status", "client_order_id", "attempt", "filled_qty", "avg_price"})


def _iso(ts: datetime) -> str:
    """The SQLite store's time format: UTC, microseconds, a trailing Z (naive = UTC)."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.isoformat(timespec="microseconds") + "Z"


def _text(value: Any) -> Any:
    if value is None or isinstance(value, str | int):
        return value
    if isinstance(value, datetime):
        return _iso(value)
    return str(value)


class _UnitOfWork:
    """A class, not a @contextmanager generator: a backtest opens one per store call, tens
    of thousands a run, and this costs a fraction of a generator's set-up."""

    __slots__ = ("_store", "_outer")

    def __init__(self, store: MemoryExecutionStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        store = self._store
        store._lock.acquire()
        self._outer = store._depth == 0
        if self._outer and store._ended:
            store._forget_ended()
        store._depth += 1

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        store = self._store
        try:
            store._depth -= 1
            if self._outer:
                if exc_type is not None:
                    store._rollback()
                store._undo.clear()
        finally:
            store._lock.release()


_ENDED = frozenset({"done", "failed", "cancelled"})


class MemoryExecutionStore(ExecutionStore):
    def __init__(self, *, keep_audit: bool = True, keep_ended: bool = True) -> None:
        """Backtests keep neither:

        - `keep_audit=False`: the audit entries are not kept, as a backtest's MemoryJournal
          keeps no events; nothing reads them after the run.
        - `keep_ended=False`: an ended session's rows (parts, child orders, fills) are
          dropped at the start of the next unit of work, after the manager has read what it
          needs (it tells `on_finish` of the session in hand). A run at high turnover
          would otherwise hold a million sessions' rows: most of its memory.
        """
        self._lock = threading.RLock()
        self._keep_ended = keep_ended
        self._ended: list[str] = []  # session ids to forget
        self._depth = 0
        self._undo: list[Any] = []  # callables, or (row, key, had, old) of a _set
        self._keep_audit = keep_audit
        self.keeps_audit = keep_audit
        self._sessions: dict[str, dict[str, Any]] = {}  # insertion order = creation order
        self._parts: dict[str, list[dict[str, Any]]] = {}
        self._part_at: dict[tuple[str, int], dict[str, Any]] = {}  # (session, part no)
        self._orders: dict[str, dict[str, Any]] = {}  # by client order id, oldest first
        self._fills: dict[str, dict[str, Any]] = {}  # by trade id, oldest first
        self._fills_by_order: dict[str, list[str]] = {}  # client order id -> trade ids
        self._fill_seq: dict[str, int] = {}  # trade id -> storage order (SQLite's id)
        self._session_orders: dict[str, list[str]] = {}  # session id -> client order ids
        self.audit_entries: list[dict[str, Any]] = []

    # -- transactions ----------------------------------------------------------------------

    def unit_of_work(self) -> _UnitOfWork:
        return _UnitOfWork(self)

    def transaction_open(self) -> bool:
        with self._lock:
            return self._depth > 0

    def _rollback(self) -> None:
        for undo in reversed(self._undo):
            if isinstance(undo, tuple):  # (row, key, had, old) of a _set
                row, key, had, old = undo
                if had:
                    row[key] = old
                else:
                    row.pop(key, None)
            else:
                undo()
        self._undo.clear()

    def _forget_ended(self) -> None:
        """Drop the rows of sessions that ended (their unit of work has committed)."""
        for sid in self._ended:
            if self._sessions.get(sid, {}).get("status") not in _ENDED:
                continue  # rolled back since, or gone already
            del self._sessions[sid]
            for part in self._parts.pop(sid, ()):
                self._part_at.pop((sid, part["part_no"]), None)
            for cid in self._session_orders.pop(sid, ()):
                self._orders.pop(cid, None)
                for trade_id in self._fills_by_order.pop(cid, ()):
                    self._fills.pop(trade_id, None)
                    self._fill_seq.pop(trade_id, None)
        self._ended.clear()

    def _set(self, row: dict[str, Any], key: str, value: Any) -> None:
        """row[key] = value, undone on a rollback."""
        self._undo.append((row, key, key in row, row.get(key)))
        row[key] = value

    # -- sessions and parts ----------------------------------------------------------------

    def insert_session(
        self, session: Mapping[str, Any], parts: Sequence[Mapping[str, Any]], now: datetime
    ) -> None:
        with self.unit_of_work():
            sid = session["id"]
            if sid in self._sessions:
                raise ValueError(f"execution session {sid!r} already exists")
            self._sessions[sid] = {
                "id": sid, "kind": session["kind"], "symbol": session["symbol"],
                "side": session["side"], "total_qty": session["total_qty"],
                "status": session.get("status", "running"),
                # A copy, read back through JSON as SQLite stores it (Decimals as text).
                "params": dict(session.get("params", {})),
                "schedule": [{"part_no": p["part_no"], "due": p["scheduled_at"],
                              "qty": p["qty"]} for p in parts],
                "arrival_price": session.get("arrival_price"),
                "created_at": now, "updated_at": now,
            }
            self._parts[sid] = [{
                "session_id": sid, "part_no": p["part_no"],
                "scheduled_at": p["scheduled_at"], "qty": p["qty"],
                "status": p.get("status", "pending"),
                "client_order_id": p.get("client_order_id"), "attempt": p.get("attempt", 0),
                "filled_qty": p.get("filled_qty", "0"),
                "avg_price": p.get("avg_price"),
            } for p in parts]
            for part in self._parts[sid]:
                self._part_at[(sid, part["part_no"])] = part

            def undo() -> None:
                self._sessions.pop(sid)
                for part in self._parts.pop(sid):
                    self._part_at.pop((sid, part["part_no"]), None)

            self._undo.append(undo)

    def update_session(self, session_id: str, *, status: str, note: str, now: datetime) -> None:
        with self.unit_of_work():
            row = self._sessions.get(session_id)
            if row is None:
                return
            self._set(row, "status", status)
            self._set(row, "updated_at", now)
            self._set(row, "params", row["params"] | {"note": note})
            if not self._keep_ended and status in _ENDED:
                self._ended.append(session_id)

    def update_part(self, session_id: str, part_no: int, **values: Any) -> None:
        unknown = set(values) - _PART_UPDATABLE
        if unknown:
            raise ValueError(f"execution_parts has no updatable column {sorted(unknown)}")
        with self.unit_of_work():
            part = self._part_at.get((session_id, part_no))
            if part is None:
                return
            for key, value in values.items():
                self._set(part, key, value)

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._sessions.get(session_id)
            return None if row is None else _session_dict(row)

    def sessions(self, status: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [_session_dict(r) for r in self._ordered()
                    if status is None or r["status"] == status]

    def session_ids(self) -> list[str]:
        with self._lock:
            return [r["id"] for r in self._ordered()]

    def _ordered(self) -> list[dict[str, Any]]:
        # SQLite's ORDER BY created_at, id: a backtest's clock can start sessions out of
        # insertion order only if it runs backwards, but the rule is the same.
        return sorted(self._sessions.values(), key=lambda r: (_iso(r["created_at"]), r["id"]))

    def parts(self, session_id: str) -> list[dict[str, Any]]:
        with self._lock:
            out = []
            for p in sorted(self._parts.get(session_id, ()), key=lambda p: p["part_no"]):
                order = self._orders.get(p["client_order_id"] or "")
                out.append(_row(p) | {"order_type": None if order is None else order["type"]})
            return out

    # -- child orders and fills ------------------------------------------------------------

    def upsert_order(self, order: Mapping[str, Any], now: datetime) -> None:
        with self.unit_of_work():
            cid = order["client_order_id"]
            row = self._orders.get(cid)
            if row is not None:  # like ON CONFLICT: only the status and the time change
                self._set(row, "status", order["status"])
                self._set(row, "updated_at", now)
                return
            sid = order.get("session_id")
            self._orders[cid] = {
                "client_order_id": cid, "symbol": order["symbol"], "side": order["side"],
                "type": order["type"], "qty": order["qty"],
                "limit_price": order.get("limit_price"), "status": order["status"],
                "strategy": order.get("strategy", ""), "reason": order.get("reason", ""),
                "session_id": sid, "ref_price": order.get("ref_price"),
                "broker_order_id": None, "created_at": now, "updated_at": now,
            }
            self._session_orders.setdefault(sid or "", []).append(cid)

            def undo() -> None:
                self._orders.pop(cid)
                self._session_orders[sid or ""].remove(cid)

            self._undo.append(undo)

    def set_order_status(
        self, client_order_id: str, status: str, now: datetime,
        broker_order_id: str | None = None,
    ) -> None:
        with self.unit_of_work():
            row = self._orders.get(client_order_id)
            if row is None:
                return
            self._set(row, "status", status)
            self._set(row, "updated_at", now)
            if broker_order_id is not None:
                self._set(row, "broker_order_id", broker_order_id)

    def child_orders(self, session_id: str) -> list[dict[str, Any]]:
        with self._lock:
            orders = (self._orders[cid] for cid in self._session_orders.get(session_id, ()))
            return [{"client_order_id": o["client_order_id"], "type": o["type"],
                     "status": o["status"]} for o in orders]

    def insert_fill(self, fill: Mapping[str, Any]) -> bool:
        with self.unit_of_work():
            trade_id = fill["trade_id"]
            if trade_id in self._fills:
                return False
            cid = fill["client_order_id"]
            self._fills[trade_id] = {
                "trade_id": trade_id, "client_order_id": cid, "symbol": fill["symbol"],
                "side": fill["side"], "qty": fill["qty"], "price": fill["price"],
                "fee": fill.get("fee", "0"), "ts": fill["ts"],
            }
            self._fills_by_order.setdefault(cid, []).append(trade_id)
            self._fill_seq[trade_id] = len(self._fill_seq)

            def undo() -> None:
                self._fills.pop(trade_id)
                self._fill_seq.pop(trade_id)
                self._fills_by_order[cid].remove(trade_id)

            self._undo.append(undo)
            return True

    def fills_of(self, client_order_ids: Iterable[str]) -> list[dict[str, Any]]:
        cols = ("trade_id", "client_order_id", "qty", "price", "fee", "ts")
        with self._lock:
            trade_ids = {t for cid in set(client_order_ids)
                         for t in self._fills_by_order.get(cid, ())}
            # In the order they were stored, as SQLite's ORDER BY id.
            ordered = sorted(trade_ids, key=self._fill_seq.__getitem__)
            return [{c: _text(self._fills[t][c]) for c in cols} for t in ordered]

    # -- audit -----------------------------------------------------------------------------

    def audit(self, kind: str, actor: str, payload: Mapping[str, Any]) -> None:
        if not self._keep_audit:
            return
        with self.unit_of_work():
            self.audit_entries.append({"kind": kind, "actor": actor, "payload": dict(payload)})
            self._undo.append(self.audit_entries.pop)


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row as SQLite returns it: values as TEXT (quantities, prices, ISO times)."""
    return {k: _text(v) for k, v in row.items()}


def _session_dict(row: dict[str, Any]) -> dict[str, Any]:
    out = _row({k: v for k, v in row.items() if k not in ("params", "schedule")})
    out["params"] = json.loads(json.dumps(row["params"], sort_keys=True, default=str))
    out["schedule"] = [_row(p) for p in row["schedule"]]
    return out
