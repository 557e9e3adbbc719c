"""Imbalance detectors on synthetic flows whose sign is known, with every z-score checked
against an independent pandas computation over the same stream."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.microstructure.imbalance import ImbalanceDetector, combine, ofi_increment

WINDOW, Z_WINDOW, MIN_PERIODS = 20, 200, 30


def z_of(series: pd.Series) -> pd.Series:
    rolling = series.rolling(Z_WINDOW, min_periods=MIN_PERIODS)
    return (series - rolling.mean()) / rolling.std(ddof=1)


def quotes(pressure: int, n_calm: int = 300, n_pushed: int = 40, seed: int = 1):
    """Best quotes: a calm, balanced stretch, then `pressure` (+1 buyers / -1 sellers):
    the pressured side's touch grows and its best price keeps improving."""
    rng = np.random.default_rng(seed)
    bid, ask = 100.0, 100.02
    rows = []
    for i in range(n_calm + n_pushed):
        bid_size, ask_size = rng.lognormal(0, 0.3, size=2)
        if i >= n_calm:
            if pressure > 0:
                bid_size *= 4
                if rng.random() < 0.5:
                    bid, ask = bid + 0.01, ask + 0.01
            else:
                ask_size *= 4
                if rng.random() < 0.5:
                    bid, ask = bid - 0.01, ask - 0.01
        elif rng.random() < 0.3:
            move = 0.01 * rng.choice([-1, 1])
            bid, ask = bid + move, ask + move
        rows.append((round(bid, 2), bid_size, round(ask, 2), ask_size))
    return pd.DataFrame(rows, columns=["bid", "bid_size", "ask", "ask_size"])


@pytest.mark.parametrize("pressure", [1, -1])
def test_book_and_ofi_pressure_have_the_right_sign_and_z(pressure):
    frame = quotes(pressure)
    detector = ImbalanceDetector(WINDOW, Z_WINDOW, MIN_PERIODS)
    book_z = []
    for row in frame.itertuples(index=False):
        detector.on_quote(row.bid, row.bid_size, row.ask, row.ask_size)
        book_z.append(detector.book_z)
    reading = detector.reading()

    # Independent: the formulas over whole columns with pandas.
    book = (frame.bid_size - frame.ask_size) / (frame.bid_size + frame.ask_size)
    prev = frame.shift(1)
    e = ((frame.bid >= prev.bid) * frame.bid_size - (frame.bid <= prev.bid) * prev.bid_size
         - (frame.ask <= prev.ask) * frame.ask_size + (frame.ask >= prev.ask) * prev.ask_size)
    ofi = e.iloc[1:].rolling(WINDOW, min_periods=1).sum()
    assert reading.book == pytest.approx(book.iloc[-1])
    assert reading.book_z == pytest.approx(z_of(book).iloc[-1], rel=1e-9)
    assert reading.ofi == pytest.approx(ofi.iloc[-1], rel=1e-9)
    assert reading.ofi_z == pytest.approx(z_of(ofi).iloc[-1], rel=1e-9)
    np.testing.assert_allclose(book_z, z_of(book).to_numpy(), rtol=1e-9)
    # Under pressure, the touch imbalance sits about a standard deviation (of the calm
    # stretch) to the pressured side and the OFI of the window is far out.
    assert np.mean(book_z[-40:]) * pressure > 1.0
    assert np.sign(reading.ofi_z) == pressure and abs(reading.ofi_z) > 2


def trades(pressure: int, n_calm: int = 400, n_pushed: int = 30, seed: int = 2):
    rng = np.random.default_rng(seed)
    p_buy = np.r_[np.full(n_calm, 0.5), np.full(n_pushed, 0.5 + 0.4 * pressure)]
    side = np.where(rng.random(len(p_buy)) < p_buy, 1, -1)
    return pd.DataFrame({"size": rng.lognormal(0, 0.5, len(p_buy)), "side": side})


@pytest.mark.parametrize("pressure", [1, -1])
def test_aggressor_pressure_has_the_right_sign_and_z(pressure):
    frame = trades(pressure)
    detector = ImbalanceDetector(WINDOW, Z_WINDOW, MIN_PERIODS)
    for row in frame.itertuples(index=False):
        detector.on_trade(row.size, row.side)
    reading = detector.reading()

    buys = (frame["size"] * (frame.side > 0)).rolling(WINDOW, min_periods=1).sum()
    sells = (frame["size"] * (frame.side < 0)).rolling(WINDOW, min_periods=1).sum()
    imbalance = (buys - sells) / (buys + sells)
    assert reading.aggressor == pytest.approx(imbalance.iloc[-1], rel=1e-9)
    assert reading.aggressor_z == pytest.approx(z_of(imbalance).iloc[-1], rel=1e-9)
    assert reading.buy_volume == pytest.approx(buys.iloc[-1])
    assert np.sign(reading.aggressor) == np.sign(reading.aggressor_z) == pressure
    assert abs(reading.aggressor_z) > 2


@pytest.mark.parametrize("pressure", [1, -1])
def test_detector_predicts_the_pressure_with_high_confidence(pressure):
    book, tape = quotes(pressure), trades(pressure, n_calm=300, n_pushed=40)
    detector = ImbalanceDetector(WINDOW, Z_WINDOW, MIN_PERIODS)
    for quote, trade in zip(book.itertuples(index=False), tape.itertuples(index=False),
                            strict=True):
        detector.on_quote(quote.bid, quote.bid_size, quote.ask, quote.ask_size)
        detector.on_trade(trade.size, trade.side)
    reading = detector.reading()
    assert reading.direction == pressure
    assert reading.confidence > 0.7
    assert reading.composite_z == pytest.approx(
        np.mean([reading.book_z, reading.aggressor_z, reading.ofi_z]))


def test_a_balanced_flow_predicts_little():
    rng = np.random.default_rng(5)
    detector = ImbalanceDetector(WINDOW, Z_WINDOW, MIN_PERIODS)
    high = 0
    for _ in range(2000):
        detector.on_quote(100.0, *rng.lognormal(0, 0.3, 1), 100.02, *rng.lognormal(0, 0.3, 1))
        detector.on_trade(float(rng.lognormal()), int(rng.choice([-1, 1])))
        high += detector.reading().confidence > 0.7
    assert high / 2000 < 0.05


def test_ofi_increment_cases():
    # bid up: the new bid queue is all new buying interest
    assert ofi_increment(100.01, 5, 100.03, 2, 100.00, 3, 100.03, 2) == 5
    # bid unchanged, size 3 -> 4: +1; ask unchanged, size 2 -> 1: +1
    assert ofi_increment(100.0, 4, 100.03, 1, 100.0, 3, 100.03, 2) == 2
    # ask down: new selling interest; bid down: the old bid queue is gone
    assert ofi_increment(99.99, 1, 100.02, 6, 100.0, 3, 100.03, 2) == -3 - 6


def test_combine_agreement_scales_confidence():
    _, direction, full = combine((2.0, 2.0, 2.0))
    assert direction == 1 and full == pytest.approx(np.tanh(1.0))
    _, direction, split = combine((3.0, 3.0, -0.0001))
    assert direction == 1 and split < full * 1.2 and split == pytest.approx(
        (2 / 3) * np.tanh((6.0 - 0.0001) / 3 / 2))
    assert combine((float("nan"),) * 3) [1:] == (0, 0.0)
