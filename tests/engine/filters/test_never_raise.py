"""Filters never raise a decision's size or confidence; quality only lowers confidence,
and its size multiplier never takes an entry past the position limit. By hypothesis."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config.schema import config_from_dict
from engine.signals import quality as q
from engine.signals.filters.features import Bars
from engine.signals.filters.layer import SignalLayer
from engine.signals.filters.predict import FilterPredictions

N = 60


def _layer(filters_on: bool, quality_on: bool, *, min_score=0.4, max_multiplier=2.0,
           size=0.1, limit=0.25, allow_short=False, block=True, require=True):
    cfg = config_from_dict({
        "filters": {"enabled": filters_on, "volatility": {"block_high_volatility": block},
                    "volume": {"require_surge": require}},
        "quality": {"enabled": quality_on, "min_score": min_score,
                    "max_multiplier": max_multiplier},
    })
    return SignalLayer(cfg.filters if filters_on else None,
                       cfg.quality if quality_on else None, allow_short, size, limit)


class _FixedPredictions(SignalLayer):
    """The layer with given predictions instead of fitted models."""

    def __init__(self, base: SignalLayer, preds) -> None:
        object.__setattr__(self, "_base", base)
        object.__setattr__(self, "_preds", preds)

    def __getattr__(self, name):
        return getattr(self._base, name)

    def predictions(self, symbol, bars, regime_probs, at=None):
        return self._preds if self._base.filters is not None else []


@st.composite
def scenario(draw):
    """Random decisions, stances, regimes, predictions and prices from a drawn seed (arrays
    drawn element by element are too large for hypothesis to shrink well)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    hold = draw(st.floats(0, 0.9))  # how often a bar keeps the previous decision
    decision = rng.integers(-1, 2, N).astype(np.int8)
    for t in range(1, N):
        if rng.random() < hold:
            decision[t] = decision[t - 1]
    confidence = np.where(decision != 0, rng.uniform(0.01, 1, N), 0.0)
    size_mult = rng.choice([0.5, 0.75, 1.0, 1.25], N)
    stances = {sid: rng.integers(-1, 2, N).astype(np.int8)
               for sid in ("sma_cross", "rsi", "momentum")}
    weights = np.repeat(rng.uniform(0.1, 3, (len(stances), 1)), N, axis=1)
    regime = rng.integers(-1, 3, N).astype(np.int8)
    preds = [
        FilterPredictions("direction", "lightgbm", rng.integers(-1, 2, N).astype(float),
                          rng.uniform(0, 1, N), rng.random(N) < 0.5, rng.random(N) < 0.9),
        FilterPredictions("volatility", "garch", rng.uniform(0, 0.05, N),
                          rng.uniform(0, 1, N), rng.random(N) < 0.5, rng.random(N) < 0.9),
        FilterPredictions("volume", "zscore", rng.normal(0, 2, N), np.ones(N),
                          rng.random(N) < 0.3, rng.random(N) < 0.9),
    ]
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, N)))
    bars = Bars(prices, prices * 1.01, prices * 0.99, prices, np.ones(N))
    return decision, confidence, size_mult, stances, weights, regime, preds, bars


def _apply(layer, s):
    decision, confidence, size_mult, stances, weights, regime, preds, bars = s
    return _FixedPredictions(layer, preds).apply(
        "X", bars, decision=decision, confidence=confidence, size_multiplier=size_mult,
        stances=stances, weights=weights, regime=regime, regime_probs=None)


@settings(max_examples=100, deadline=None)
@given(s=scenario(), allow_short=st.booleans())
def test_filters_alone_never_raise_size_or_confidence(s, allow_short):
    decision, confidence, size_mult = s[0], s[1], s[2]
    out = _apply(_layer(True, False, allow_short=allow_short), s)
    assert np.all(out.confidence <= confidence)
    assert np.all(out.size_multiplier <= size_mult)
    # a decision is kept unchanged or dropped to HOLD, never turned into another side
    assert np.all((out.decision == decision) | (out.decision == 0))
    kept = out.decision != 0
    assert np.array_equal(out.confidence[kept], confidence[kept])


@settings(max_examples=100, deadline=None)
@given(s=scenario(), max_multiplier=st.floats(1, 10), size=st.floats(0.01, 0.5),
       limit=st.floats(0.01, 1), min_score=st.floats(0, 1))
def test_quality_only_lowers_confidence_and_respects_the_limit(s, max_multiplier, size,
                                                                limit, min_score):
    decision, confidence, size_mult = s[0], s[1], s[2]
    layer = _layer(True, True, max_multiplier=max_multiplier, size=size, limit=limit,
                   min_score=min_score)
    out = _apply(layer, s)
    assert np.all((out.decision == decision) | (out.decision == 0))
    assert np.all(out.confidence <= confidence + 1e-15)
    assert np.all(out.size_multiplier <= size_mult * max_multiplier + 1e-12)
    raised = out.size_multiplier > size_mult
    # wherever quality raised the size, the position stays within the limit
    assert np.all(size * out.size_multiplier[raised] <= limit * (1 + 1e-12))
    for record in out.records.values():
        score = record["quality"]
        assert 0.0 <= score["score"] <= 1.0
        if abs(score["score"] - min_score) > 1e-6:  # the record rounds to 6 places
            assert score["dropped"] == (score["score"] < min_score)


@settings(max_examples=300, deadline=None)
@given(score=st.floats(0, 1), max_multiplier=st.floats(1, 10), size=st.floats(1e-4, 1),
       regime=st.sampled_from([0.5, 0.75, 1.0, 1.25]), limit=st.floats(1e-4, 1))
def test_size_multiplier_is_capped(score, max_multiplier, size, regime, limit):
    m = q.size_multiplier(score, max_multiplier, size=size, regime_multiplier=regime,
                          limit=limit)
    assert 0.0 <= m <= max_multiplier
    assert m <= max(1.0, 2 * score)
    if m > 1.0:
        assert size * regime * m <= limit * (1 + 1e-12)


def test_a_setup_counts_only_once_its_trade_has_closed():
    history = q.SetupHistory(min_trades=2)
    key = (("rsi",), 1, "bull")
    history.add(10, key, True)
    history.add(12, key, False)
    history.advance(11)
    assert history.rate(key) == (0.5, 1)  # one closed: below min_trades, neutral
    history.advance(12)
    assert history.rate(key) == (0.5, 2)  # one win in two
    history.add(20, key, True)
    history.advance(19)
    assert history.rate(key) == (0.5, 2)
    history.advance(20)
    assert history.rate(key) == (2 / 3, 3)


def test_alignment_follows_the_regime():
    assert q.alignment([("momentum", 1.0)], 1, "bull") == 1.0
    assert q.alignment([("momentum", 1.0)], 1, "bear") == 0.0
    assert q.alignment([("rsi", 1.0)], 1, "sideways") == 1.0
    assert q.alignment([("rsi", 1.0), ("momentum", 3.0)], -1, "bear") == 0.75
    assert q.alignment([("rsi", 1.0)], 1, "unknown") == 0.5
