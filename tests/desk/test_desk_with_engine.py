"""Pilot tests of the desk over the real live engine, store and audit chain: keys in the
app reach the engine, and their outcome lands in SQLite."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from desk.app import DeskApp
from engine.execution.session import session_id_for
from tests.live_engine import live_engine, step_until_proposal

SIZE = (80, 24)


def make_engine(tmp_path, **sections):
    return live_engine(tmp_path, **({"engine": {"approval_timeout": 60}} | sections))


def audit(cfg) -> list[tuple[str, str]]:
    with sqlite3.connect(cfg.store.path) as conn:
        return conn.execute("SELECT kind, actor FROM audit_entries ORDER BY seq").fetchall()


def order_status(cfg, order_id: str):
    with sqlite3.connect(cfg.store.path) as conn:
        row = conn.execute("SELECT status FROM orders WHERE client_order_id = ?",
                           (order_id,)).fetchone()
    return row[0] if row else None


async def test_a_approves_and_the_fill_lands_in_sqlite(tmp_path):
    engine, clock, cfg = make_engine(tmp_path)
    order_id = step_until_proposal(engine).order_id
    app = DeskApp(engine, clock=clock)
    engine.subscribe(app.publish)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await pilot.pause()
        engine.step()  # the next bar's open fills the approved order
        await pilot.pause()
    engine.stop()
    assert order_status(cfg, order_id) == "filled"
    with sqlite3.connect(cfg.store.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM fills WHERE client_order_id LIKE ?",
                            (session_id_for(order_id) + "-%",)).fetchone() == (1,)
    entries = audit(cfg)
    assert ("order.approved", "user") in entries
    assert ("order.filled", "engine") in entries
    assert entries[-1] == ("engine.stopped", "system")


async def test_r_rejects_and_nothing_is_submitted(tmp_path):
    engine, clock, cfg = make_engine(tmp_path)
    order_id = step_until_proposal(engine).order_id
    app = DeskApp(engine, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.pause()
        engine.step()
    engine.stop()
    assert order_status(cfg, order_id) == "rejected"
    kinds = [k for k, _ in audit(cfg)]
    assert ("order.rejected", "user") in audit(cfg) and "order.submitted" not in kinds


async def test_an_undecided_order_expires_while_the_desk_watches(tmp_path):
    engine, clock, cfg = make_engine(tmp_path)
    order_id = step_until_proposal(engine).order_id
    app = DeskApp(engine, clock=clock)
    engine.subscribe(app.publish)
    async with app.run_test(size=SIZE) as pilot:
        clock.now += timedelta(seconds=61)
        engine.expire_proposals()
        await pilot.pause()
        await pilot.press("a")  # too late: nothing left to approve
        await pilot.pause()
    engine.stop()
    assert order_status(cfg, order_id) == "expired"
    assert ("order.expired", "system") in audit(cfg)
    assert "order.approved" not in [k for k, _ in audit(cfg)]


async def test_the_kill_switch_key_blocks_the_next_proposal(tmp_path):
    engine, clock, cfg = make_engine(tmp_path)
    app = DeskApp(engine, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+k")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert engine.latest_snapshot().risk.kill_switch
    for _ in range(400):
        engine.step()
        if "risk.denied" in [k for k, _ in audit(cfg)]:
            break
    engine.stop()
    kinds = [k for k, _ in audit(cfg)]
    assert "risk.kill_switch" in kinds and "risk.denied" in kinds
    assert not engine.latest_snapshot().proposals
    assert "order.submitted" not in kinds


async def test_c_then_y_cancels_a_running_dca_session(tmp_path):
    engine, clock, cfg = make_engine(
        tmp_path, execution={"mode": "dca", "dca": {"interval_minutes": 30.0, "parts": 5}})
    engine.approve(step_until_proposal(engine).order_id)
    engine.step()  # part 1 fills; parts 2-5 wait for their time
    session = engine.latest_snapshot().executions[0]
    assert (session.kind, session.status, session.parts_done) == ("dca", "running", 1)
    app = DeskApp(engine, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "c")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    engine.stop()
    with sqlite3.connect(cfg.store.path) as conn:
        status = conn.execute("SELECT status FROM execution_sessions WHERE id = ?",
                              (session.id,)).fetchone()
        parts = conn.execute("SELECT status FROM execution_parts WHERE session_id = ?"
                             " ORDER BY part_no", (session.id,)).fetchall()
        actor = conn.execute("SELECT actor FROM audit_entries WHERE kind = 'session.cancelled'"
                             ).fetchone()
    assert status == ("cancelled",)
    assert [p for (p,) in parts] == ["filled"] + ["cancelled"] * 4
    assert actor == ("user",)


async def test_d_approves_as_a_dca_whatever_the_configured_mode(tmp_path):
    engine, clock, cfg = make_engine(tmp_path)  # [execution] mode = "market"
    order_id = step_until_proposal(engine).order_id
    app = DeskApp(engine, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        await pilot.pause()
    session = engine.latest_snapshot().executions[0]
    engine.stop()
    assert (session.kind, session.parts_total, session.status) == (
        "dca", cfg.execution.dca.parts, "running")
    with sqlite3.connect(cfg.store.path) as conn:
        payload = conn.execute("SELECT payload FROM audit_entries WHERE kind = 'order.approved'"
                               ).fetchone()[0]
    assert order_id in payload and '"execution":"dca"' in payload
