"""The live engine on the simulated market: approval, rejection, expiry, the kill switch,
and the same decisions as the backtest's vectorized pipeline."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import numpy as np
import pytest

from engine.execution.session import session_id_for
from engine.live.feeds import SimFeed
from engine.signals.pipeline import plan_symbol
from tests.live_engine import START, live_engine, step_until_proposal


def _kinds(cfg) -> list[str]:
    with sqlite3.connect(cfg.store.path) as conn:
        return [k for (k,) in conn.execute("SELECT kind FROM audit_entries ORDER BY seq")]


def test_an_approved_order_fills_and_both_land_in_sqlite(tmp_path):
    engine, _, cfg = live_engine(tmp_path)
    proposal = step_until_proposal(engine)
    assert engine.approve(proposal.order_id) == ""
    engine.step()  # the next bar's open fills it
    engine.stop()
    with sqlite3.connect(cfg.store.path) as conn:
        status = conn.execute("SELECT status FROM orders WHERE client_order_id = ?",
                              (proposal.order_id,)).fetchone()
        fills = conn.execute("SELECT qty FROM fills WHERE client_order_id LIKE ?",
                             (session_id_for(proposal.order_id) + "-%",)).fetchall()
    assert status == ("filled",)
    assert [q for (q,) in fills] == [str(proposal.qty)]  # one market part, one fill
    kinds = _kinds(cfg)
    assert kinds[:2] == ["config.loaded", "engine.started"]
    assert kinds.index("order.approved") < kinds.index("order.filled")
    assert kinds[-1] == "engine.stopped"


def test_a_rejected_order_never_reaches_the_broker(tmp_path):
    engine, _, cfg = live_engine(tmp_path)
    proposal = step_until_proposal(engine)
    assert engine.reject(proposal.order_id) == ""
    engine.step()
    assert engine.broker.open_orders() == [] and not engine.executor.views()
    assert engine.reject(proposal.order_id) != ""  # already decided
    engine.stop()
    with sqlite3.connect(cfg.store.path) as conn:
        assert conn.execute("SELECT status FROM orders WHERE client_order_id = ?",
                            (proposal.order_id,)).fetchone() == ("rejected",)
    assert "order.rejected" in _kinds(cfg) and "order.filled" not in _kinds(cfg)


def test_an_order_left_undecided_expires_as_the_system(tmp_path):
    engine, clock, cfg = live_engine(tmp_path, engine={"approval_timeout": 30})
    proposal = step_until_proposal(engine)
    clock.now += timedelta(seconds=29)
    engine.expire_proposals()
    assert engine.latest_snapshot().proposals
    clock.now += timedelta(seconds=2)
    engine.expire_proposals()
    assert not engine.latest_snapshot().proposals
    assert engine.approve(proposal.order_id) != ""
    engine.stop()
    with sqlite3.connect(cfg.store.path) as conn:
        actor = conn.execute("SELECT actor FROM audit_entries WHERE kind = 'order.expired'"
                             ).fetchone()
    assert actor == ("system",)


def test_the_kill_switch_denies_the_next_proposal(tmp_path):
    engine, _, cfg = live_engine(tmp_path)
    engine.set_kill_switch(True)
    for _ in range(400):
        engine.step()
        if "risk.denied" in _kinds(cfg):
            break
    assert not engine.latest_snapshot().proposals
    assert engine.latest_snapshot().risk.kill_switch
    engine.stop()
    with sqlite3.connect(cfg.store.path) as conn:
        payload = conn.execute("SELECT payload FROM audit_entries WHERE kind = 'risk.denied'"
                               ).fetchone()[0]
    assert "kill switch on" in payload
    assert "order.submitted" not in _kinds(cfg)


def test_auto_approval_submits_without_a_keypress(tmp_path):
    engine, _, cfg = live_engine(tmp_path, engine={"approval": "auto"})
    for _ in range(400):
        engine.step()
        if "order.filled" in _kinds(cfg):
            break
    engine.stop()
    kinds = _kinds(cfg)
    assert "order.filled" in kinds and "order.approved" not in kinds


ALL_SIX = ["sma_cross", "ema_cross", "rsi", "momentum", "mean_reversion", "breakout"]


@pytest.mark.parametrize(("strategies", "dynamic"), [
    (ALL_SIX, False),
    (ALL_SIX, True),
    (["momentum"], False),
])
def test_live_decisions_equal_the_backtest_pipeline(tmp_path, strategies, dynamic):
    """Bar by bar the live engine must reach the decisions the vectorized pipeline
    computes over the same bars (history + live bars stay inside the live window here, so
    the two see exactly the same data) — with performance-based weights too, which the
    live engine learns trade by trade and the backtest walks forward."""
    members = [{"id": s, "weight": 1.0} for s in strategies]
    ensemble = {"strategies": members, "dynamic_weights": dynamic,
                "mode": "confidence_average", "thresholds": {"confidence": 0.2}}
    engine, _, cfg = live_engine(tmp_path, ensemble=ensemble,
                                 engine={"approval": "auto", "regime": False})
    steps = 250
    live = {s: [] for s in cfg.feed.symbols}
    for _ in range(steps):
        engine.step()
        for symbol, state in engine.symbols.items():
            live[symbol].append(int(state.side))
    engine.stop()
    if dynamic:  # the weights did move away from the static ones
        learned = [w for st in engine.symbols.values() for w in st.ensemble.weights().values()]
        assert any(abs(w - 1.0) > 1e-3 for w in learned)
    market = SimFeed(cfg.feed.symbols, seed=cfg.feed.seed, freq=cfg.feed.freq,
                     history_bars=cfg.feed.history_bars, now=START).market
    frames = market.history(cfg.feed.history_bars + steps)
    for symbol, frame in frames.items():
        plan = plan_symbol(frame, engine.strategies, engine.ensemble, regime_window=None)
        np.testing.assert_array_equal(plan.decision[-steps:], np.array(live[symbol]))


class StreamDouble:
    """Stands in for engine.venues.ccxt.market_stream.MarketStream: the last trade and quote of each
    symbol, set by the test."""

    def __init__(self) -> None:
        self.prices: dict[str, float] = {}
        self.started = self.closed = False

    def start(self) -> None:
        self.started = True

    def close(self) -> None:
        self.closed = True

    def last_trade(self, symbol):
        from engine.data.microstructure import TradePrint
        from engine.types import OrderSide

        price = self.prices.get(symbol)
        return None if price is None else TradePrint(symbol, START, price, 1.0, OrderSide.BUY)

    def quote(self, symbol):
        price = self.prices.get(symbol)
        return None if price is None else (price - 0.5, price + 0.5)


def test_streamed_trades_mark_open_positions_between_bars(tmp_path):
    stream = StreamDouble()
    engine, _, _ = live_engine(tmp_path, market_stream=lambda: stream,
                               engine={"approval": "auto"})
    assert stream.started
    for _ in range(400):
        engine.step()
        held = [p for p in engine.latest_snapshot().positions if p.qty > 0]
        if held:
            break
    position = held[0]
    stream.prices[position.symbol] = float(position.avg_price) * 1.01
    engine.mark_from_stream()
    snapshot = engine.latest_snapshot()
    marked = next(p for p in snapshot.positions if p.symbol == position.symbol)
    assert float(marked.last) == pytest.approx(float(position.avg_price) * 1.01)
    assert marked.unrealized > 0
    bid, ask = snapshot.quotes[position.symbol]
    assert bid < ask
    engine.stop()
    assert stream.closed
