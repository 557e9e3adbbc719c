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


# A judged decision as the audit keeps it: numbers of the verdicts as text.
JUDGED = {
    "dropped": True, "multiplier": "1.0",
    "filters": [
        {"filter": "direction", "model": "lightgbm", "prediction": "down",
         "probability": "0.71", "threshold": "0.6", "verdict": "veto"},
        {"filter": "volatility", "model": "garch", "prediction": "low 0.1617%",
         "probability": "0.0", "threshold": "0.6", "verdict": "pass"},
    ],
    "quality": {"score": "0.25", "confluence": "0.5", "alignment": "0.0", "success": "0.25",
                "similar_trades": 4, "multiplier": "0.5", "dropped": True},
}


def test_a_dropped_decision_names_the_vetoes_and_the_low_quality():
    from engine.live.why import _judged_text

    assert _judged_text(JUDGED) == "direction vetoed; quality 0.25 below min_score"
    passed = {**JUDGED, "filters": JUDGED["filters"][1:],
              "quality": {**JUDGED["quality"], "dropped": False}}
    assert _judged_text(passed) == "no reason recorded"


def test_verdicts_read_as_sentences_not_records():
    from engine.live.why import _quality_text, _verdict_text

    assert _verdict_text(JUDGED["filters"][0]) == \
        "veto · lightgbm: down, p 0.71 (a veto needs 0.60)"
    assert _quality_text(JUDGED["quality"]) == \
        "0.25 · confluence 0.50, alignment 0.00, setups won 0.25 of 4 · below min_score"
    kept = {**JUDGED["quality"], "score": 0.5, "multiplier": 0.992157, "dropped": False}
    assert _quality_text(kept).endswith("· size ×0.99")


def test_each_symbols_last_judgement_in_a_few_words():
    from types import SimpleNamespace

    from engine.live.why import judged_summaries

    engine = SimpleNamespace(filters=object(), symbols={"A": None, "B": None, "C": None})
    latest = {("decision.judged", "A"): JUDGED,
              ("decision.judged", "B"): {**JUDGED, "dropped": False, "multiplier": "0.5"}}
    assert judged_summaries(engine, latest) == {
        "A": "dropped: direction vetoed; quality 0.25 below min_score", "B": "kept ×0.50",
        "C": "—"}
    assert judged_summaries(SimpleNamespace(filters=None, symbols={"A": None}), latest) == {}
