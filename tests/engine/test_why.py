"""Why the desk proposes and why not: the explanation of a live proposal names the
ensemble's votes and weights, the regime, the size, and every gate rule with its headroom;
the idle reasons follow the kill switch, the pause, positions and denials."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.live.manual import parse
from engine.live.why import headroom
from tests.live_engine import live_engine, step_until_proposal


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_headroom_is_the_distance_to_the_limit(value, limit):
    assert float(headroom(value, limit)) == float(f"{abs(limit - value):.4g}")


def test_headroom_of_a_non_number_is_empty():
    assert headroom(None, 0.3) == "" and headroom("BTC/USDT", None) == ""


def test_a_live_proposal_is_explained_section_by_section(tmp_path):
    engine, _, _ = live_engine(tmp_path)
    proposal = step_until_proposal(engine)
    explanation = engine.explain(proposal.order_id)
    rules = [check.rule for check in engine.kernel.broker.check(
        engine.trader.proposals[proposal.order_id].order, price=proposal.price,
        now=engine.now()).checks]
    engine.stop()
    labels = [label for label, _ in explanation.rows]
    sections = [label for label in labels if label.startswith("§")]
    assert sections == ["§ Order", "§ Ensemble", "§ Regime", "§ Size",
                        "§ Filters and quality", "§ Risk and compliance (now)"]
    for sid in engine.strategies:  # every strategy's weight and vote
        assert f"  {sid}" in labels
    assert [label.strip() for label in labels[labels.index("§ Risk and compliance (now)") + 1:]] \
        == rules
    assert explanation.title.startswith(f"Why {proposal.side}")
    assert engine.explain("no-such-order") is None


def test_idle_reasons_follow_the_kill_switch_the_pause_and_the_position(tmp_path):
    engine, _, _ = live_engine(tmp_path)
    engine.step()
    idle = engine.latest_snapshot().idle
    assert set(idle) == set(engine.symbols)
    engine.set_kill_switch(True)
    assert set(engine.latest_snapshot().idle.values()) == {"kill switch on: no new orders"}
    engine.set_kill_switch(False)
    engine.set_paused(True)
    assert set(engine.latest_snapshot().idle.values()) == {"feed paused"}
    engine.set_paused(False)
    engine.place_order(parse("SOL/USDT", "buy", "10000000"))  # far above every limit
    reason = engine.latest_snapshot().idle["SOL/USDT"]
    engine.stop()
    assert reason.startswith("last order denied: SOL/USDT position would be")
