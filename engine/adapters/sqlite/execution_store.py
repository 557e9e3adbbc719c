"""`SqliteExecutionStore`: the execution port over the desk's `Store`.

Writes go through the writer connection inside `store.unit_of_work()` (one `BEGIN
IMMEDIATE` transaction); reads take the store's lock, because the writer connection is
shared with other threads and a read in the middle of their transaction would see rows
they have not committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from engine.execution.store_port import ExecutionStore
from store import executions as rows
from store.db import Store


class SqliteExecutionStore(ExecutionStore):
    def __init__(self, store: Store) -> None:
        self.store = store

    def close(self, checkpoint: bool = True) -> None:
        self.store.close(checkpoint=checkpoint)

    # -- transactions ----------------------------------------------------------------------

    def unit_of_work(self) -> AbstractContextManager[Any]:
        return self.store.unit_of_work()

    def transaction_open(self) -> bool:
        with self.store.lock:  # another thread's transaction ends first; ours would not
            return self.store.conn.in_transaction

    # -- writes (inside the caller's unit of work) -----------------------------------------

    def insert_session(
        self, session: Mapping[str, Any], parts: Sequence[Mapping[str, Any]], now: datetime
    ) -> None:
        with self.store.unit_of_work() as conn:
            rows.insert_session(conn, session, parts, now)

    def update_session(self, session_id: str, *, status: str, note: str, now: datetime) -> None:
        with self.store.unit_of_work() as conn:
            rows.update_session(conn, session_id, status=status, note=note, now=now)

    def update_part(self, session_id: str, part_no: int, **values: Any) -> None:
        with self.store.unit_of_work() as conn:
            rows.update_part(conn, session_id, part_no, **values)

    def upsert_order(self, order: Mapping[str, Any], now: datetime) -> None:
        with self.store.unit_of_work() as conn:
            rows.upsert_order(conn, order, now)

    def set_order_status(
        self, client_order_id: str, status: str, now: datetime,
        broker_order_id: str | None = None,
    ) -> None:
        with self.store.unit_of_work() as conn:
            rows.set_order_status(conn, client_order_id, status, now, broker_order_id)

    def insert_fill(self, fill: Mapping[str, Any]) -> bool:
        with self.store.unit_of_work() as conn:
            return rows.insert_fill(conn, fill)

    def audit(self, kind: str, actor: str, payload: Mapping[str, Any]) -> None:
        self.store.audit.append(kind, actor, dict(payload))

    # -- reads -----------------------------------------------------------------------------

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        with self.store.lock:
            return rows.get_session(self.store.conn, session_id)

    def sessions(self, status: str | None = None) -> list[dict[str, Any]]:
        with self.store.lock:
            return rows.sessions(self.store.conn, status)

    def session_ids(self) -> list[str]:
        with self.store.lock:
            return rows.session_ids(self.store.conn)

    def parts(self, session_id: str) -> list[dict[str, Any]]:
        with self.store.lock:
            return rows.parts(self.store.conn, session_id)

    def child_orders(self, session_id: str) -> list[dict[str, Any]]:
        with self.store.lock:
            return rows.child_orders(self.store.conn, session_id)

    def fills_of(self, client_order_ids: Iterable[str]) -> list[dict[str, Any]]:
        with self.store.lock:
            return rows.fills_of(self.store.conn, client_order_ids)
