"""Gaussian HMM: likelihood, smoothing and filtering against brute force and plain loops."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.signals.regime import GaussianHMM, HMMParams, RegimeFilter, label_states
from engine.signals.regime.inference import forward, forward_backward, log_emission
from engine.signals.regime.model import FittedHMM
from engine.signals.regime.scan import chunked_scan, prefix_scan, sequential_scan


def make_params(k: int = 3) -> HMMParams:
    if k == 2:
        return HMMParams(
            np.array([0.6, 0.4]),
            np.array([[0.9, 0.1], [0.2, 0.8]]),
            np.array([0.01, -0.02]),
            np.array([0.01, 0.03]) ** 2,
        )
    return HMMParams(
        np.array([0.5, 0.3, 0.2]),
        np.array([[0.97, 0.02, 0.01], [0.03, 0.95, 0.02], [0.02, 0.02, 0.96]]),
        np.array([0.01, -0.015, 0.0]),
        np.array([0.01, 0.03, 0.005]) ** 2,
    )


def simulate(params: HMMParams, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = params.n_states
    states = np.empty(n, dtype=np.int64)
    states[0] = rng.choice(k, p=params.startprob)
    u = rng.random(n)
    cum = np.cumsum(params.transmat, axis=1)
    for t in range(1, n):
        states[t] = min(int(np.searchsorted(cum[states[t - 1]], u[t], side="right")), k - 1)
    returns = rng.normal(params.means[states], np.sqrt(params.vars[states]))
    return returns, states


def all_paths(params: HMMParams, r: np.ndarray) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """Every state path and its log p(r, path), from the definition with scipy's density."""
    from scipy.stats import norm

    k, n = params.n_states, len(r)
    paths = list(itertools.product(range(k), repeat=n))
    arr = np.array(paths)
    density = norm.logpdf(r[:, None], params.means[None, :], np.sqrt(params.vars)[None, :])
    joint = np.log(params.startprob[arr[:, 0]])
    joint += np.log(params.transmat[arr[:, :-1], arr[:, 1:]]).sum(axis=1)
    joint += density[np.arange(n)[None, :], arr].sum(axis=1)
    return paths, joint


@pytest.mark.parametrize("k", [2, 3])
def test_loglikelihood_equals_sum_over_all_state_paths(k: int) -> None:
    params = make_params(k)
    r, _ = simulate(params, 8, seed=k)
    _, joint = all_paths(params, r)
    brute = float(np.logaddexp.reduce(joint))
    _, logs = forward(params, r)
    assert logs[-1] == pytest.approx(brute, abs=1e-9)


def test_filtered_and_smoothed_marginals_equal_brute_force() -> None:
    params = make_params(3)
    r, _ = simulate(params, 7, seed=11)
    paths, joint = all_paths(params, r)
    weights = np.exp(joint - np.logaddexp.reduce(joint))
    arr = np.array(paths)
    smoothed = np.array([[weights[arr[:, t] == s].sum() for s in range(3)] for t in range(7)])
    np.testing.assert_allclose(forward_backward(params, r).gamma, smoothed, atol=1e-12)

    # Filtered at t: the brute force over the prefix r[0..t] only.
    alpha, _ = forward(params, r)
    for t in range(7):
        p_paths, p_joint = all_paths(params, r[: t + 1])
        w = np.exp(p_joint - np.logaddexp.reduce(p_joint))
        last = np.array([p[-1] for p in p_paths])
        np.testing.assert_allclose(alpha[t], [w[last == s].sum() for s in range(3)], atol=1e-12)


def test_expected_transition_counts_equal_brute_force() -> None:
    params = make_params(2)
    r, _ = simulate(params, 8, seed=5)
    paths, joint = all_paths(params, r)
    weights = np.exp(joint - np.logaddexp.reduce(joint))
    expected = np.zeros((2, 2))
    for w, p in zip(weights, paths, strict=True):
        for a, b in itertools.pairwise(p):
            expected[a, b] += w
    np.testing.assert_allclose(forward_backward(params, r).xi_sum, expected, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 15, 16, 17, 63, 64, 65, 1000, 4099])
def test_chunked_scan_equals_sequential_recursion(n: int) -> None:
    params = make_params(3)
    r, _ = simulate(params, n + 1, seed=n)
    logb = log_emission(params, r)
    v0 = np.array([0.2, 0.5, 0.3])
    seq, seq_logs = sequential_scan(v0, -1.5, params.transmat, logb)
    fast, fast_logs = chunked_scan(v0, -1.5, params.transmat, logb)
    np.testing.assert_allclose(fast, seq, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast_logs, seq_logs, rtol=1e-13, atol=1e-9)


@pytest.mark.parametrize("m", [1, 15, 16, 33, 100])
def test_prefix_scan_equals_sequential_product(m: int) -> None:
    rng = np.random.default_rng(m)
    mats = rng.random((m, 3, 3))
    v0 = np.array([1.0, 0.0, 0.0])
    out, logs = prefix_scan(v0, 0.0, mats, np.zeros(m))
    v = v0.copy()
    log_v = 0.0
    for t in range(m):
        v = v @ mats[t]
        log_v += np.log(v.sum())
        v = v / v.sum()
        np.testing.assert_allclose(out[t], v, atol=1e-13)
        assert logs[t] == pytest.approx(log_v, rel=1e-12)


def test_fit_recovers_parameters_of_a_known_hmm() -> None:
    truth = make_params(3)
    r, states = simulate(truth, 6000, seed=42)
    fitted = GaussianHMM(n_states=3).fit(r)
    # Match fitted states to true ones by mean (the true means are well separated).
    order = np.argsort(fitted.means)
    true_order = np.argsort(truth.means)
    np.testing.assert_allclose(fitted.means[order], truth.means[true_order], atol=0.002)
    np.testing.assert_allclose(
        np.sqrt(fitted.vars[order]), np.sqrt(truth.vars[true_order]), rtol=0.1
    )
    perm = np.empty(3, dtype=np.int64)
    perm[true_order] = order
    np.testing.assert_allclose(fitted.transmat[np.ix_(perm, perm)], truth.transmat, atol=0.02)
    assert fitted.labels[perm[0]] == "bull"
    assert fitted.labels[perm[1]] == "bear"
    assert fitted.labels[perm[2]] == "sideways"
    # The smoothed most likely state agrees with the simulated states most of the time.
    assert np.mean(perm[states] == fitted.posterior(r).argmax(axis=1)) > 0.9
    # The reported log-likelihood is that of the final parameters.
    assert fitted.loglik == pytest.approx(fitted.loglikelihood(r))


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.sampled_from([2, 3]))
def test_em_loglikelihood_never_decreases(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    # Heavy-tailed returns from no HMM at all: EM must still climb monotonically.
    r = rng.standard_t(df=3, size=300) * 0.01
    fitted = GaussianHMM(n_states=k, max_iter=30, tol=0.0).fit(r)
    steps = np.diff(fitted.history)
    assert np.all(steps >= -1e-8 * abs(fitted.history[-1]))


def test_variance_floor_keeps_states_off_degenerate_points() -> None:
    r = np.r_[np.zeros(50), np.random.default_rng(0).normal(0, 0.01, 200)]
    fitted = GaussianHMM(n_states=3, var_floor_ratio=1e-2).fit(r)
    assert np.all(fitted.vars >= 1e-2 * r.var() * (1 - 1e-12))
    assert np.isfinite(fitted.loglik)


def test_filtered_probabilities_are_causal_and_sum_to_one() -> None:
    params = make_params(3)
    r, _ = simulate(params, 500, seed=3)
    fitted = FittedHMM(params, 0.0, 0, True, ())
    probs = fitted.filtered(r)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    # Row t must not depend on anything after t.
    np.testing.assert_allclose(fitted.filtered(r[:200]), probs[:200], atol=1e-12)


def test_streaming_filter_matches_batch() -> None:
    params = make_params(3)
    r, _ = simulate(params, 3000, seed=8)
    fitted = FittedHMM(params, 0.0, 0, True, ())
    batch = fitted.filtered(r)
    live = fitted.filter()
    assert live.probabilities is None and live.label is None
    stream = np.array([live.update(x) for x in r])
    np.testing.assert_array_equal(stream, batch)  # one arithmetic, bit for bit
    assert live.loglik == pytest.approx(fitted.loglikelihood(r), rel=1e-12)
    assert live.label == fitted.labels[int(batch[-1].argmax())]
    assert isinstance(live, RegimeFilter)


def test_stable_on_200k_observations() -> None:
    params = make_params(3)
    r, _ = simulate(params, 200_000, seed=9)
    r[1000] = 0.5  # an outlier tens of standard deviations out
    fitted = FittedHMM(params, 0.0, 0, True, ())
    probs = fitted.filtered(r)
    post = fitted.posterior(r)
    assert np.all(np.isfinite(probs)) and np.all(np.isfinite(post))
    np.testing.assert_allclose(post.sum(axis=1), 1.0, atol=1e-9)
    ll = fitted.loglikelihood(r)
    assert np.isfinite(ll)
    _, logs = forward(params, r)
    assert np.all(np.isfinite(logs))
    # Each bar adds a finite predictive log density; the outlier's is very negative.
    assert np.diff(logs)[999] < -100


def test_fit_on_a_long_series_is_finite_and_labels_three_regimes() -> None:
    params = make_params(3)
    r, _ = simulate(params, 50_000, seed=10)
    fitted = GaussianHMM(n_states=3, max_iter=5).fit(r)
    assert np.isfinite(fitted.loglik)
    assert sorted(fitted.labels) == ["bear", "bull", "sideways"]


def test_sideways_is_the_calmest_state_whatever_its_mean() -> None:
    # A calm state with the middle mean, the old rule's "sideways", stays sideways ...
    assert label_states(np.array([0.0, 0.01, -0.01]), np.array([1.0, 2.0, 3.0])) == (
        "sideways", "bull", "bear")
    # ... but a calm state with the highest mean is sideways too (low volatility), and the
    # volatile states split into bull (higher mean) and bear.
    assert label_states(np.array([0.002, 0.001, -0.003]), np.array([0.5, 4.0, 9.0])) == (
        "sideways", "bull", "bear")
    # The middle mean is not sideways when it is volatile.
    assert label_states(np.array([0.01, 0.0, -0.01]), np.array([2.0, 3.0, 1.0])) == (
        "bull", "bear", "sideways")


def test_two_states_calm_and_one_named_by_the_sign_of_its_mean() -> None:
    assert label_states(np.array([0.02, -0.01]), np.array([1.0, 4.0])) == ("sideways", "bear")
    assert label_states(np.array([-0.01, 0.02]), np.array([1.0, 4.0])) == ("sideways", "bull")
    assert label_states(np.array([0.0, 0.0]), np.array([4.0, 1.0])) == ("bear", "sideways")


def test_three_states_always_show_all_three_regimes() -> None:
    # Both volatile states gain: the lower is still called bear, so a trader sees three.
    assert label_states(np.array([0.01, 0.02, 0.0]), np.array([2.0, 3.0, 1.0])) == (
        "bear", "bull", "sideways")


def test_further_states_by_the_sign_of_their_mean() -> None:
    means = np.array([0.03, -0.02, 0.0, 0.01, -0.005, 0.002])
    vars_ = np.array([5.0, 6.0, 0.5, 2.0, 3.0, 4.0])
    assert label_states(means, vars_) == ("bull", "bear", "sideways", "bull", "bear", "bull")


def test_label_ties_go_to_the_lower_state_index() -> None:
    assert label_states(np.zeros(3), np.ones(3)) == ("sideways", "bull", "bear")
    assert label_states(np.zeros(2), np.ones(2)) == ("sideways", "bear")


@pytest.mark.parametrize("k", range(2, 11))
def test_every_state_count_gets_one_sideways_and_bull_and_bear_from_three(k) -> None:
    rng = np.random.default_rng(k)
    for _ in range(50):
        means, vars_ = rng.normal(0, 0.01, k), rng.uniform(0.1, 5.0, k)
        labels = label_states(means, vars_)
        assert labels.count("sideways") == 1
        assert labels[int(np.argmin(vars_))] == "sideways"
        if k >= 3:
            assert {"bull", "bear"} <= set(labels)
        others = [i for i in range(k) if labels[i] != "sideways"]
        assert labels[max(others, key=lambda i: means[i])] in (("bull",) if k >= 3 else
                                                                ("bull", "bear"))


def test_label_probabilities_sum_states_by_label() -> None:
    from engine.signals.regime.labels import label_probabilities

    probs = np.array([[0.1, 0.2, 0.3, 0.4]])
    merged = label_probabilities(probs, ("bull", "sideways", "bull", "bear"))
    np.testing.assert_allclose(merged, [[0.4, 0.4, 0.2]])  # LABELS order: bull, bear, sideways


@pytest.mark.parametrize(
    ("returns", "message"),
    [
        ([0.1, np.nan, 0.2, 0.1, 0.0, 0.3], "finite"),
        (np.zeros((3, 2)), "one-dimensional"),
        ([0.1, 0.2], "at least 6"),
    ],
)
def test_fit_rejects_bad_input(returns: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GaussianHMM(n_states=3).fit(returns)


def test_fit_is_deterministic() -> None:
    r, _ = simulate(make_params(3), 800, seed=1)
    a, b = GaussianHMM().fit(r), GaussianHMM().fit(r)
    np.testing.assert_array_equal(a.means, b.means)
    np.testing.assert_array_equal(a.transmat, b.transmat)
