"""The ExecutionStore port: the SQLite and in-memory adapters behave alike.

Every test runs on both, so a backtest (memory) and the desk (SQLite) persist sessions
by the same rules: atomic units of work, fills once per trade id, rows with TEXT values.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from engine.adapters.memory import MemoryExecutionStore
from engine.adapters.sqlite.open import open_execution_store
from engine.execution.store_port import ExecutionStore

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
def port(request, tmp_path):
    if request.param == "memory":
        yield MemoryExecutionStore()
        return
    sqlite = open_execution_store(tmp_path / "desk.db")
    yield sqlite
    sqlite.close(checkpoint=False)


def add_session(port: ExecutionStore, sid: str = "S-a", now: datetime = T0, parts: int = 2):
    with port.unit_of_work():
        port.insert_session(
            {"id": sid, "kind": "twap", "symbol": "BTC/USDT", "side": "buy",
             "total_qty": D("1.5"), "arrival_price": D("100.25"),
             "params": {"type": "limit", "limit_price": D("99.5")}},
            [{"part_no": i, "scheduled_at": now + timedelta(minutes=i), "qty": D("0.75")}
             for i in range(1, parts + 1)],
            now,
        )
        port.audit("session.started", "engine", {"session_id": sid})


def child(cid: str, sid: str = "S-a", type_: str = "limit") -> dict:
    return {"client_order_id": cid, "symbol": "BTC/USDT", "side": "buy", "type": type_,
            "qty": D("0.75"), "limit_price": D("99.5"), "status": "submitted",
            "session_id": sid, "ref_price": D("100")}


def fill(trade_id: str, cid: str, qty: str = "0.5", price: str = "100") -> dict:
    return {"trade_id": trade_id, "client_order_id": cid, "symbol": "BTC/USDT",
            "side": "buy", "qty": D(qty), "price": D(price), "fee": D("0.01"), "ts": T0}


def test_rows_come_back_as_text_with_params_as_a_dict(port):
    add_session(port)
    row = port.get_session("S-a")
    assert (row["total_qty"], row["arrival_price"], row["status"]) == ("1.5", "100.25",
                                                                       "running")
    assert row["params"] == {"type": "limit", "limit_price": "99.5"}  # through JSON
    assert datetime.fromisoformat(row["created_at"]) == T0
    parts = port.parts("S-a")
    assert [(p["part_no"], p["qty"], p["status"], p["attempt"], p["order_type"])
            for p in parts] == [(1, "0.75", "pending", 0, None), (2, "0.75", "pending", 0, None)]
    assert datetime.fromisoformat(parts[1]["scheduled_at"]) == T0 + timedelta(minutes=2)


def test_a_part_reports_the_type_of_its_current_attempt(port):
    add_session(port)
    with port.unit_of_work():
        port.upsert_order(child("S-a-p001-a1"), T0)
        port.update_part("S-a", 1, status="submitted", client_order_id="S-a-p001-a1",
                         attempt=1)
        port.upsert_order(child("S-a-p001-a2", type_="market"), T0)
        port.update_part("S-a", 1, client_order_id="S-a-p001-a2", attempt=2)
    part = port.parts("S-a")[0]
    assert (part["status"], part["attempt"], part["order_type"]) == ("submitted", 2, "market")
    with pytest.raises(ValueError, match="no updatable column"):
        port.update_part("S-a", 1, qty=D(1))


def test_upsert_changes_only_the_status_and_set_status_ignores_unknown_ids(port):
    add_session(port)
    with port.unit_of_work():
        port.upsert_order(child("S-a-p001-a1"), T0)
        port.upsert_order(child("S-a-p001-a1", type_="market") | {"status": "rejected"}, T0)
        port.set_order_status("S-a-p001-a1", "rejected", T0, broker_order_id="B1")
        port.set_order_status("nobody", "filled", T0)
    assert port.child_orders("S-a") == [
        {"client_order_id": "S-a-p001-a1", "type": "limit", "status": "rejected"}]


def test_fills_are_kept_once_per_trade_id_in_the_order_stored(port):
    add_session(port)
    with port.unit_of_work():  # a fill's order is stored first (a foreign key in SQLite)
        port.upsert_order(child("S-a-p001-a1"), T0)
        port.upsert_order(child("S-a-p002-a1"), T0)
        assert port.insert_fill(fill("t2", "S-a-p002-a1"))
        assert port.insert_fill(fill("t1", "S-a-p001-a1", "0.25", "101"))
        assert not port.insert_fill(fill("t1", "S-a-p001-a1", "9", "9"))
    got = port.fills_of(["S-a-p001-a1", "S-a-p002-a1", "other"])
    assert [(f["trade_id"], f["qty"], f["price"], f["fee"]) for f in got] == [
        ("t2", "0.5", "100", "0.01"), ("t1", "0.25", "101", "0.01")]
    assert port.fills_of([]) == []


def test_a_failed_unit_of_work_leaves_nothing_behind(port):
    add_session(port)
    with pytest.raises(RuntimeError), port.unit_of_work():
        port.upsert_order(child("S-a-p001-a1"), T0)
        port.update_part("S-a", 1, status="submitted", client_order_id="S-a-p001-a1",
                         attempt=1)
        port.insert_fill(fill("t1", "S-a-p001-a1"))
        port.update_session("S-a", status="done", note="all", now=T0)
        with port.unit_of_work():  # a nested unit joins the outer one and rolls back with it
            port.audit("order.submitted", "engine", {"client_order_id": "S-a-p001-a1"})
        raise RuntimeError("crash between intent and commit")
    assert port.child_orders("S-a") == []
    assert port.fills_of(["S-a-p001-a1"]) == []
    assert port.parts("S-a")[0]["status"] == "pending"
    assert port.get_session("S-a")["status"] == "running"
    with port.unit_of_work():  # the trade id is free again
        port.upsert_order(child("S-a-p001-a1"), T0)
        assert port.insert_fill(fill("t1", "S-a-p001-a1"))


def test_session_ids_and_sessions_are_oldest_first(port):
    add_session(port, "S-b", T0 + timedelta(hours=1))
    add_session(port, "S-a", T0)
    with port.unit_of_work():
        port.update_session("S-a", status="done", note="filled", now=T0)
    assert port.session_ids() == ["S-a", "S-b"]
    assert [s["id"] for s in port.sessions("running")] == ["S-b"]
    assert port.get_session("S-a")["params"]["note"] == "filled"
    assert port.get_session("S-x") is None


def test_transaction_open_only_inside_a_unit_of_work(port):
    assert not port.transaction_open()
    with port.unit_of_work():
        assert port.transaction_open()
    assert not port.transaction_open()


def test_memory_audit_is_a_list_of_entries():
    port = MemoryExecutionStore()
    add_session(port)
    assert port.audit_entries == [{"kind": "session.started", "actor": "engine",
                                   "payload": {"session_id": "S-a"}}]
