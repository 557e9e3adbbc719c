"""The regime policy: one rule (refit every N bars on the trailing window, causally), whose
backtest face (a whole close series at once) and live face (a tracker taking one close at
a time) give the same labels and probabilities at every bar, on real data."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from engine import cores
from engine.signals.regime import GaussianHMM
from engine.signals.regime.inference import forward
from engine.signals.regime.labels import LABELS
from engine.signals.regime.policy import RegimePolicy

STOCKS = Path(__file__).resolve().parents[3] / "shared" / "data" / \
    "sp500_20_stocks_daily.csv.gz"


@cache
def sp500() -> np.ndarray:
    from engine.data.datasets import load_dataset

    return load_dataset("sp500")[1]["close"].to_numpy()


def _stepped(policy: RegimePolicy, close: np.ndarray, history: int):
    """Labels, probabilities and held bars of the tracker: warm-up on `history` closes,
    then one close at a time; rows before the end of the warm-up are not compared."""
    tracker = policy.tracker()
    labels = np.full(len(close), -2, dtype=np.int8)
    probs = np.full((len(close), len(LABELS)), np.nan)
    held = np.zeros(len(close), dtype=np.int64)
    labels[history - 1] = tracker.warm_up(close[:history])
    held[history - 1] = tracker.held_bars
    if tracker.probabilities is not None:
        probs[history - 1] = tracker.probabilities
    for t in range(history, len(close)):
        labels[t] = tracker.update(float(close[t]))
        held[t] = tracker.held_bars
        if tracker.probabilities is not None:
            probs[t] = tracker.probabilities
    return labels, probs, held


def _run_lengths(labels: np.ndarray) -> np.ndarray:
    out = np.zeros(len(labels), dtype=np.int64)
    for t, label in enumerate(labels):
        if label >= 0:
            out[t] = out[t - 1] + 1 if t and labels[t - 1] == label else 1
    return out


@pytest.mark.parametrize(("window", "refit_every", "states", "history"), [
    (500, 250, 3, 2),  # warm-up of two closes: every bar compared, 19 fits
    (300, 211, 3, 1200),  # a warm-up spanning several fits, then 18 more
    (250, 400, 2, 700),
    (400, 333, 4, 10),
])
def test_live_tracker_equals_the_whole_frame_run_on_sp500(window, refit_every, states,
                                                         history) -> None:
    close = sp500()
    policy = RegimePolicy(window, refit_every, states)
    run = policy.run(close)
    labels, probs, held = _stepped(policy, close, history)
    compared = slice(history - 1, None)
    assert len(run.fits) >= 5
    np.testing.assert_array_equal(labels[compared], run.labels[compared])
    # Not only the argmax: the probabilities are the same numbers, bit for bit.
    np.testing.assert_array_equal(probs[compared], run.probabilities[compared])
    np.testing.assert_array_equal(held[compared], _run_lengths(run.labels)[compared])
    assert set(np.unique(run.labels[window:])) == {0, 1, 2}


@pytest.mark.skipif(not STOCKS.is_file(), reason="shared stock data not present")
@pytest.mark.parametrize("ticker", ["AAPL", "AMD"])
def test_live_tracker_equals_the_whole_frame_run_on_stocks(ticker) -> None:
    import pandas as pd

    close = pd.read_csv(STOCKS, usecols=[ticker])[ticker].dropna().to_numpy()[:4000]
    policy = RegimePolicy(500, 250, 3)
    run = policy.run(close)
    labels, probs, _ = _stepped(policy, close, 600)
    np.testing.assert_array_equal(labels[599:], run.labels[599:])
    np.testing.assert_array_equal(probs[599:], run.probabilities[599:])


def test_the_run_follows_the_rule_by_an_independent_computation() -> None:
    """Each bar's label from scratch: fit the last fit bar's trailing window, filter with
    the plain forward recursion (a different arithmetic) and sum the states by label."""
    close = sp500()[:1400]
    window, every = 300, 150
    run = RegimePolicy(window, every, 3).run(close)
    returns = np.diff(np.log(close))
    assert [f for f, _ in run.fits] == list(range(300, 1400, 150))
    assert np.all(run.labels[:window] == -1) and np.all(run.labels[window:] >= 0)
    models = {f: GaussianHMM(3).fit(returns[f - window:f]) for f, _ in run.fits}
    for t in range(window, len(close), 7):
        f = window + (t - window) // every * every
        model = models[f]
        alpha = forward(model.params, returns[f - window:t])[0][-1]
        merged = dict.fromkeys(LABELS, 0.0)
        for label, p in zip(model.labels, alpha, strict=True):
            merged[label] += p
        expected = np.array([merged[label] for label in LABELS])
        np.testing.assert_allclose(run.probabilities[t], expected, rtol=0, atol=1e-10)
        assert run.labels[t] == int(expected.argmax())


def test_a_label_never_uses_later_bars() -> None:
    close = sp500()[:1500]
    policy = RegimePolicy(300, 200, 3)
    full = policy.run(close)
    cut = policy.run(close[:1111])
    np.testing.assert_array_equal(cut.labels, full.labels[:1111])
    np.testing.assert_array_equal(cut.probabilities, full.probabilities[:1111])


def test_short_data_has_no_regime_and_bad_closes_are_named() -> None:
    policy = RegimePolicy(300, 100, 3)
    run = policy.run(sp500()[:300])
    assert run.fits == () and np.all(run.labels == -1)
    tracker = policy.tracker()
    assert tracker.warm_up(sp500()[:300]) == -1 and tracker.label is None
    assert tracker.update(float(sp500()[300])) >= 0  # bar 300 is the first fit bar
    with pytest.raises(ValueError, match="bar 2 holds"):
        policy.run(np.array([1.0, 2.0, -1.0]))
    with pytest.raises(ValueError, match="refit_every"):
        RegimePolicy(300, 0, 3)


def test_refit_every_is_a_checked_engine_key(tmp_path) -> None:
    from engine.config.schema import load_config
    from engine.errors import ConfigError

    (tmp_path / "desk.toml").write_text("[engine]\nregime_refit_every = 0\n")
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path / "desk.toml")
    assert str(error.value).endswith(
        "[engine] regime_refit_every: expected an integer in [1, 10^6], got 0")


def test_fits_spread_over_processes_equal_the_fits_made_one_by_one(monkeypatch):
    """A backtest's refits run as one batch, split over several cores when there are many;
    each is the same deterministic fit the live tracker makes alone (a batch of one), so
    parameters and likelihoods are equal to the bit."""
    from engine.signals.regime import policy
    from engine.signals.regime.fit import GaussianHMM

    monkeypatch.setattr(policy, "PARALLEL_FITS", 4)  # two processes from 8 windows on
    monkeypatch.setattr(cores, "free_cores", lambda: 2)  # even with the tests' workers
    returns = np.diff(np.log(sp500()))
    windows = [returns[i * 200:i * 200 + 300] for i in range(11)]
    together = policy.fit_all(3, windows)
    for window, model in zip(windows, together, strict=True):
        alone = GaussianHMM(n_states=3).fit(window)
        assert model.loglik == alone.loglik
        assert model.history == alone.history and model.n_iter == alone.n_iter
        np.testing.assert_array_equal(model.params.means, alone.params.means)
        np.testing.assert_array_equal(model.params.vars, alone.params.vars)
        np.testing.assert_array_equal(model.params.transmat, alone.params.transmat)
        np.testing.assert_array_equal(model.params.startprob, alone.params.startprob)


def test_fits_stay_in_one_process_when_the_other_cores_are_busy(monkeypatch):
    """With its neighbour core busy a split runs three processes on two cores and loses
    (4.7 s against 3.4 s on 1M bars): fit_all then fits in this process."""
    import concurrent.futures

    from engine.signals.regime import policy

    def no_pool(*_args, **_kwargs):
        raise AssertionError("a process pool was started")

    monkeypatch.setattr(policy, "PARALLEL_FITS", 4)
    monkeypatch.setattr(cores, "free_cores", lambda: 1)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    returns = np.diff(np.log(sp500()))
    windows = [returns[i * 200:i * 200 + 300] for i in range(9)]
    assert len(policy.fit_all(3, windows)) == 9


def test_the_free_core_probe_counts_the_other_runnable_processes():
    from engine.cores import free_of

    assert free_of(2, "0.10 0.20 0.30 1/250 999") == 2  # only the caller runs
    assert free_of(2, "1.90 1.50 1.20 2/250 999") == 1  # one neighbour: one core left
    assert free_of(4, "3.00 2.00 1.00 3/250 999") == 2
    assert free_of(2, "7.00 6.00 5.00 9/250 999") == 1  # never below one
    assert free_of(2, "garbled") == 2  # unreadable: all of them
    # This process's own runnable threads (a GARCH thread beside the LightGBM fits) are
    # not a neighbour: with two of them running and nothing else, both cores are free.
    assert free_of(2, "1.90 1.50 1.20 2/250 999", own=2) == 2
    assert free_of(2, "1.90 1.50 1.20 3/250 999", own=2) == 1


def test_this_process_counts_its_own_running_threads():
    import hashlib
    import threading

    from engine.cores import own_running

    assert own_running() >= 1  # the caller runs
    stop = threading.Event()
    data = bytes(1 << 22)

    def spin():  # hashing releases the GIL: the thread stays runnable beside the caller
        while not stop.is_set():
            hashlib.sha256(data).digest()

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        seen = max(own_running() for _ in range(50))
    finally:
        stop.set()
        spinner.join()
    assert seen >= 2
