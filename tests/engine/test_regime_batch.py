"""Batched EM: one fitting routine for the backtest's many refits and the live tracker's
single refit. A window fitted inside a batch gets exactly (bit for bit) the parameters,
log-likelihood history and iteration count it gets alone, wherever it sits in the batch and
whatever else is in it; and the batched forward-backward agrees with the definition."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.signals.regime import batch
from engine.signals.regime import fit as fit_module
from engine.signals.regime.fit import GaussianHMM
from engine.signals.regime.inference import HMMParams, forward_backward
from engine.signals.regime.model import FittedHMM

TRUTH = HMMParams(
    np.array([0.5, 0.3, 0.2]),
    np.array([[0.97, 0.02, 0.01], [0.03, 0.95, 0.02], [0.02, 0.02, 0.96]]),
    np.array([0.001, -0.0015, 0.0]),
    np.array([0.01, 0.03, 0.005]) ** 2,
)


def simulate(n: int, rng: np.random.Generator) -> np.ndarray:
    cum = np.cumsum(TRUTH.transmat, axis=1)
    state = 0
    out = np.empty(n)
    for t in range(n):
        state = min(int(np.searchsorted(cum[state], rng.random(), side="right")), 2)
        out[t] = rng.normal(TRUTH.means[state], np.sqrt(TRUTH.vars[state]))
    return out


def window(kind: str, n: int, seed: int) -> np.ndarray:
    """Returns of one window: regimes that EM finds quickly, heavy tails from no HMM at all
    (slow, often stopped by max_iter), or a series with long runs of identical returns
    (states pinned to the variance floor)."""
    rng = np.random.default_rng(seed)
    if kind == "regimes":
        return simulate(n, rng)
    if kind == "heavy":
        return rng.standard_t(df=3, size=n) * 0.01
    r = rng.normal(0.0, 0.01, n)
    r[: n // 3] = 0.0
    return r


def assert_same_fit(together: FittedHMM, alone: FittedHMM) -> None:
    for name in ("startprob", "transmat", "means", "vars"):
        np.testing.assert_array_equal(getattr(together, name), getattr(alone, name),
                                      err_msg=name, strict=True)
    np.testing.assert_array_equal(np.array(together.history), np.array(alone.history))
    assert together.loglik == alone.loglik
    assert together.n_iter == alone.n_iter
    assert together.converged == alone.converged


windows_strategy = st.lists(
    st.tuples(st.sampled_from(["regimes", "heavy", "flat"]), st.integers(0, 2**32 - 1)),
    min_size=1, max_size=9)


@settings(max_examples=25, deadline=None)
@given(specs=windows_strategy, n=st.sampled_from([40, 97, 160]), k=st.sampled_from([2, 3]),
       max_iter=st.integers(1, 40), order=st.randoms(use_true_random=False))
def test_a_window_fitted_in_any_batch_equals_its_fit_alone(specs, n, k, max_iter, order):
    windows = [window(kind, n, seed) for kind, seed in specs]
    hmm = GaussianHMM(n_states=k, max_iter=max_iter)
    alone = [hmm.fit(w) for w in windows]

    together = hmm.fit_batch(windows)
    for fitted, single in zip(together, alone, strict=True):
        assert_same_fit(fitted, single)
    # Another position in another batch: shuffled, with every window twice.
    positions = list(range(len(windows))) * 2
    order.shuffle(positions)
    for i, fitted in zip(positions, hmm.fit_batch([windows[i] for i in positions]),
                         strict=True):
        assert_same_fit(fitted, alone[i])


def test_batches_mix_windows_that_converge_and_windows_stopped_by_max_iter() -> None:
    """The draw above cannot promise both in one batch: this batch has both, on real
    returns, and each still equals its fit alone."""
    from engine.data.datasets import load_dataset

    close = load_dataset("sp500")[1]["close"].to_numpy()
    returns = np.diff(np.log(close))
    windows = [returns[i:i + 300] for i in range(0, len(returns) - 300, 250)]
    hmm = GaussianHMM(n_states=3, max_iter=60)
    together = hmm.fit_batch(windows)
    assert {f.converged for f in together} == {True, False}
    assert len({f.n_iter for f in together}) > 5
    for w, fitted in zip(windows, together, strict=True):
        assert_same_fit(fitted, hmm.fit(w))


def test_memory_bounded_batches_give_the_same_fits(monkeypatch) -> None:
    windows = [window("heavy", 120, seed) for seed in range(7)]
    whole = GaussianHMM(n_states=3, max_iter=30).fit_batch(windows)
    # Room for two windows at a time: four batches, the last one window.
    hmm = GaussianHMM(n_states=3, max_iter=30)
    monkeypatch.setattr(fit_module, "BATCH_BYTES", 2 * 8 * 120 * (6 * 3 + 4))
    assert hmm.batch_size(120) == 2
    for a, b in zip(hmm.fit_batch(windows), whole, strict=True):
        assert_same_fit(a, b)


def test_windows_of_different_lengths_are_fitted_each_in_its_own_batch() -> None:
    windows = [window("regimes", n, n) for n in (50, 80, 50, 120, 80)]
    hmm = GaussianHMM(n_states=2, max_iter=25)
    for w, fitted in zip(windows, hmm.fit_batch(windows), strict=True):
        assert_same_fit(fitted, hmm.fit(w))


def all_paths_posteriors(params: HMMParams, r: np.ndarray):
    """Occupancy, expected transition counts and log-likelihood from every state path."""
    from scipy.stats import norm

    k, n = params.n_states, len(r)
    paths = np.array(list(itertools.product(range(k), repeat=n)))
    density = norm.logpdf(r[:, None], params.means, np.sqrt(params.vars))
    joint = (np.log(params.startprob[paths[:, 0]])
             + np.log(params.transmat[paths[:, :-1], paths[:, 1:]]).sum(axis=1)
             + density[np.arange(n), paths].sum(axis=1))
    loglik = float(np.logaddexp.reduce(joint))
    weights = np.exp(joint - loglik)
    occupancy = np.array([(weights[:, None] * (paths == s)).sum() for s in range(k)])
    counts = np.zeros((k, k))
    for t in range(1, n):
        np.add.at(counts, (paths[:, t - 1], paths[:, t]), weights)
    return occupancy, counts, loglik


def stacked(models: list[HMMParams]) -> tuple[np.ndarray, ...]:
    return tuple(np.stack([getattr(m, name) for m in models], axis=-1)
                 for name in ("startprob", "transmat", "means", "vars"))


def test_batched_expectations_equal_the_sum_over_all_state_paths() -> None:
    rng = np.random.default_rng(3)
    other = HMMParams(np.array([0.2, 0.5, 0.3]),
                      np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.25, 0.25, 0.5]]),
                      np.array([0.02, -0.01, 0.0]), np.array([0.02, 0.01, 0.004]) ** 2)
    models = [TRUTH, other]
    r = np.stack([simulate(7, rng), simulate(7, rng)], axis=1)  # (T, B)
    e = batch.expectations(r, *stacked(models))
    for b, params in enumerate(models):
        occupancy, counts, loglik = all_paths_posteriors(params, r[:, b])
        np.testing.assert_allclose(e.occupancy[:, b], occupancy, rtol=0, atol=1e-12)
        np.testing.assert_allclose(e.xi_sum[:, :, b], counts, rtol=0, atol=1e-12)
        assert e.loglik[b] == pytest.approx(loglik, abs=1e-10)
        mean_moment = (forward_backward(params, r[:, b]).gamma
                       * (r[:, b, None] - params.means)).sum(axis=0)
        np.testing.assert_allclose(e.first[:, b], mean_moment, rtol=0, atol=1e-14)


def _equal_the_chunked_forward_backward(r: np.ndarray, tol: dict) -> None:
    """Each column's expectations against inference.py's chunked scans and matrix
    products (an independent arithmetic), to the tolerances `tol`."""
    e = batch.expectations(r, *stacked([TRUTH] * r.shape[1]))
    for b in range(r.shape[1]):
        reference = forward_backward(TRUTH, r[:, b])
        np.testing.assert_allclose(e.occupancy[:, b], reference.gamma.sum(axis=0),
                                   rtol=tol["occupancy"])
        np.testing.assert_allclose(e.xi_sum[:, :, b], reference.xi_sum, rtol=tol["xi"],
                                   atol=tol["xi_atol"])
        np.testing.assert_allclose(e.gamma0[:, b], reference.gamma[0], rtol=tol["gamma0"],
                                   atol=tol["gamma0_atol"])
        assert e.loglik[b] == pytest.approx(reference.loglik, rel=tol["loglik"])


def test_batched_expectations_equal_the_chunked_forward_backward_on_long_windows() -> None:
    """Windows long enough to span many blocks and to need rescaling at every step."""
    rng = np.random.default_rng(5)
    r = np.stack([simulate(3 * batch.BLOCK + 5, rng) for _ in range(3)], axis=1)
    r[40, 1] = 0.4  # an outlier dozens of standard deviations out
    _equal_the_chunked_forward_backward(r, {"occupancy": 1e-12, "xi": 1e-11, "xi_atol": 1e-12,
                                            "gamma0": 1e-12, "gamma0_atol": 0,
                                            "loglik": 1e-13})


def test_sum_time_adds_in_an_order_fixed_by_the_length() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(37, 3, 5)) * 10.0 ** rng.integers(-8, 8, size=(37, 3, 5))
    whole = batch.sum_time(x)
    for b in range(5):
        np.testing.assert_array_equal(batch.sum_time(x[:, :, b:b + 1].copy())[:, 0],
                                      whole[:, b])
    np.testing.assert_allclose(whole, x.sum(axis=0), rtol=1e-12)


def test_filtering_many_series_equals_each_series_streamed_alone() -> None:
    """`filter_batch` (the backtest's labels) and `RegimeFilter` (the live tracker's) are
    one arithmetic: each series under its own model, the same bits in a batch of many."""
    from engine.signals.regime.stream import RegimeFilter, filter_batch

    rng = np.random.default_rng(11)
    models = [GaussianHMM(n_states=3, max_iter=20).fit(window(kind, 200, seed)).params
              for seed, kind in enumerate(["regimes", "heavy", "flat", "regimes"])]
    series = np.stack([simulate(150, rng) for _ in models])
    together = filter_batch(models, series)
    for params, returns, probs in zip(models, series, together, strict=True):
        live = RegimeFilter(params, ("bull", "bear", "sideways"))
        np.testing.assert_array_equal(np.array([live.update(r) for r in returns]), probs)
        np.testing.assert_array_equal(filter_batch([params], returns[None, :])[0], probs)


def test_a_backtest_labels_the_same_bars_whatever_its_filter_groups(monkeypatch) -> None:
    from engine.data.datasets import load_dataset
    from engine.signals.regime import policy

    close = load_dataset("sp500")[1]["close"].to_numpy()[:3000]
    rule = policy.RegimePolicy(300, 200, 3)
    whole = rule.run(close)
    monkeypatch.setattr(policy, "FILTER_GROUP_BYTES", 3 * 8 * 499 * 3)  # three per group
    grouped = rule.run(close)
    np.testing.assert_array_equal(grouped.labels, whole.labels)
    np.testing.assert_array_equal(grouped.probabilities, whole.probabilities)


def test_long_windows_scan_in_chunks_and_still_fit_alone_as_in_a_batch() -> None:
    """Past `batch.LONG` returns the time scan runs chunk-parallel: a live refit on a long
    window takes seconds, not minutes. The choice depends on the length only, so a long
    window too is the same fit alone and in a batch."""
    n = batch.LONG + 700
    windows = [window(kind, n, seed) for seed, kind in enumerate(["regimes", "heavy", "flat"])]
    hmm = GaussianHMM(n_states=3, max_iter=6)
    together = hmm.fit_batch([windows[2], windows[0], windows[1], windows[0]])
    for i, fitted in zip([2, 0, 1, 0], together, strict=True):
        assert_same_fit(fitted, hmm.fit(windows[i]))


def test_chunked_scan_expectations_equal_the_chunked_forward_backward() -> None:
    rng = np.random.default_rng(8)
    r = np.stack([simulate(batch.LONG + 123, rng) for _ in range(2)], axis=1)
    r[1000, 0] = 0.5  # an outlier dozens of standard deviations out
    _equal_the_chunked_forward_backward(r, {"occupancy": 1e-10, "xi": 1e-9, "xi_atol": 1e-10,
                                            "gamma0": 1e-10, "gamma0_atol": 1e-14,
                                            "loglik": 1e-12})
