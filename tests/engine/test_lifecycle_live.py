"""The lifecycle in the live desk: entries journaled, weights and statuses saved and back
after a restart, reset and forced status journaled with actor user, and the desk's own
trades decomposed from its stored fills."""

from __future__ import annotations

from decimal import Decimal

from engine.adapters.sqlite.lifecycle import (
    live_trades,
    reset_stored_weights,
    set_stored_status,
    stored_states,
)
from engine.lifecycle.decomposition import decompose
from engine.lifecycle.health import Status
from engine.lifecycle.live import books
from tests.live_engine import live_engine

LIFECYCLE = {
    "ensemble": {"adaptive": {"enabled": True, "update_every": 2, "min_trades": 2}},
    "strategies": {"retirement": {"enabled": True}},
    "engine": {"approval": "auto", "regime": False},
}


def _audit(engine, kind):
    return [e for e in engine.store.audit.tail(100_000) if e.kind == kind]


def test_weights_move_within_bounds_are_journaled_and_survive_a_restart(tmp_path):
    engine, _, cfg = live_engine(tmp_path, **LIFECYCLE)
    for _ in range(300):
        engine.step()
    updates = _audit(engine, "weights.updated")
    assert updates, "no weight update in 300 bars"
    entry = updates[-1]
    assert entry.actor == "engine" and set(entry.payload) >= {"old", "new", "scores"}
    found = books(engine)
    symbol, book = next(iter(found.items()))
    moved = book.adaptive_weights()
    base = book.base
    assert moved != base
    for sid, w in moved.items():
        assert 0.1 * base[sid] - 1e-12 <= w <= 2.0 * base[sid] + 1e-12
    statuses = {sid: book.status(sid) for sid in base}
    engine.stop()

    again, _, _ = live_engine(tmp_path, **LIFECYCLE)
    restored = books(again)[symbol]
    assert restored.adaptive_weights() == moved  # not re-derived from the history
    assert {sid: restored.status(sid) for sid in base} == statuses
    assert again.reset_weights() == ""
    assert books(again)[symbol].adaptive_weights() == base
    reset = _audit(again, "weights.updated")[-1]
    assert reset.actor == "user" and reset.payload["reset"] is True
    assert stored_states(again.store)[symbol]["current"] == {}
    again.stop()


def test_a_forced_status_is_journaled_zeroes_the_weight_and_shows_in_the_snapshot(tmp_path):
    engine, _, _ = live_engine(tmp_path, **LIFECYCLE)
    engine.step()
    assert engine.set_strategy_status("momentum", "suspended", "reviewing") == ""
    assert engine.set_strategy_status("momentum", "asleep") .startswith("unknown status")
    assert engine.set_strategy_status("nope", "ACTIVE").startswith("unknown strategy")
    entry = _audit(engine, "strategy.status_changed")[-1]
    assert entry.actor == "user" and entry.payload["new"] == "SUSPENDED"
    assert entry.payload["reason"] == "reviewing"
    for book in books(engine).values():
        assert book.weights()["momentum"] == 0.0
    row = {r.id: r for r in engine.latest_snapshot().strategies}["momentum"]
    assert row.status == "SUSPENDED" and row.weight == 0.0 and row.reason == "reviewing"
    engine.stop()


def test_commands_on_a_stopped_desk_change_the_stored_books(tmp_path):
    engine, _, cfg = live_engine(tmp_path, **LIFECYCLE)
    for _ in range(50):
        engine.step()
    base = dict(next(iter(books(engine).values())).base)
    engine.stop()
    from engine.adapters.sqlite.open import open_store

    store = open_store(cfg)
    try:
        symbols = set_stored_status(store, base, "rsi", Status.RETIRED, "broken feed")
        assert symbols == sorted(cfg.feed.symbols)
        assert all(s["health"]["rsi"]["status"] == "RETIRED"
                   for s in stored_states(store).values())
        assert reset_stored_weights(store, base) == symbols
        kinds = [(e.kind, e.actor) for e in store.audit.tail(len(symbols))]
        assert kinds == [("weights.updated", "user")] * len(symbols)
    finally:
        store.close()
    again, _, _ = live_engine(tmp_path, **LIFECYCLE)
    assert all(book.status("rsi") is Status.RETIRED for book in books(again).values())
    assert again.set_strategy_status("rsi", "SUSPENDED", "probation") == ""
    for _ in range(100):  # shadow trades of a suspended strategy meet the cool-down rule
        again.step()
    assert again.failure() == ""
    again.stop()


def test_the_desks_trades_decompose_from_stored_fills(tmp_path):
    engine, _, _ = live_engine(tmp_path, **LIFECYCLE)
    for _ in range(400):
        engine.step()
    in_memory = engine.trader.trades.closed
    assert in_memory, "no trade closed in 400 bars"
    stored = live_trades(engine.store)
    assert [(t.symbol, t.pnl, t.votes()) for t in stored] == \
        [(t.symbol, t.pnl, t.votes()) for t in in_memory]
    d = decompose(stored)
    assert sum((g["pnl_cents"] for g in d["by_strategy"].values()), Decimal(0)) \
        == d["total"]["pnl_cents"]
    assert set(d["by_strategy"]) - {"ensemble"}  # attributed to strategies, not the label
    engine.stop()
