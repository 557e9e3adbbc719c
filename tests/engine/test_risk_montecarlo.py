"""Monte Carlo: seeded and chunked reproducibility, the analytic mean, the block bootstrap
against arch's own index rules, AR(1) dependence kept by blocks and lost by i.i.d. draws,
and a Dask cluster giving the local answer."""

from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import CircularBlockBootstrap
from arch.bootstrap._samplers import stationary_bootstrap_sample

from engine.risk.montecarlo import (
    CHUNK,
    analytic_mean_final,
    circular_indices,
    fit_model,
    simulate,
    simulate_chunk,
    stationary_indices,
)


def _returns(n=1500, seed=11):
    return np.random.default_rng(seed).normal(0.0005, 0.011, n)


@pytest.mark.parametrize("method", ["bootstrap", "parametric", "block"])
def test_a_seed_gives_the_same_paths_and_another_seed_does_not(method):
    model = fit_model(_returns(), method)
    a = simulate(model, paths=2500, horizon=60, seed=3)
    b = simulate(model, paths=2500, horizon=60, seed=3)
    c = simulate(model, paths=2500, horizon=60, seed=4)
    np.testing.assert_array_equal(a.final, b.final)
    np.testing.assert_array_equal(a.max_drawdown, b.max_drawdown)
    assert a.summary() == b.summary()
    assert not np.array_equal(a.final, c.final)


def test_chunked_equals_unchunked_in_any_order_and_a_prefix_equals_a_smaller_run():
    model = fit_model(_returns(), "bootstrap")
    whole = simulate(model, paths=3 * CHUNK + 17, horizon=40, seed=9)
    # The chunks one by one, in reverse order, merged by chunk number: the same answer.
    sizes = [CHUNK, CHUNK, CHUNK, 17]
    parts = [simulate_chunk(model, k, sizes[k], 40, 9, 100_000.0) for k in (3, 2, 1, 0)]
    merged = np.concatenate([p.final for p in sorted(parts, key=lambda p: p.number)])
    np.testing.assert_array_equal(merged, whole.final)
    smaller = simulate(model, paths=2 * CHUNK, horizon=40, seed=9)
    np.testing.assert_array_equal(smaller.final, whole.final[: 2 * CHUNK])


@pytest.mark.parametrize("method", ["bootstrap", "parametric"])
def test_mean_final_value_matches_its_analytic_expectation_within_monte_carlo_error(method):
    model = fit_model(_returns(), method, dist="normal")
    result = simulate(model, paths=20_000, horizon=120, seed=1, initial=50_000)
    expected = analytic_mean_final(model, 120, 50_000)
    error = result.final.std(ddof=1) / np.sqrt(result.paths)
    assert abs(result.final.mean() - expected) < 4 * error


def test_stationary_indices_follow_arch_sampler_on_the_same_draws():
    n, length = 400, 7.5
    mine = stationary_indices(np.random.default_rng(5), n, 1, n, length)[0]
    rng = np.random.default_rng(5)
    starts = rng.integers(0, n, size=n, dtype=np.int64)
    u = rng.random(n)
    theirs = stationary_bootstrap_sample(starts, u, 1.0 / length)
    np.testing.assert_array_equal(mine, theirs)


def test_circular_indices_equal_arch_circular_block_bootstrap():
    x = np.arange(300.0)
    arch = CircularBlockBootstrap(12, x, seed=np.random.default_rng(8))
    theirs = arch.update_indices()
    mine = circular_indices(np.random.default_rng(8), 300, 1, 300, 12.0)[0]
    np.testing.assert_array_equal(mine, theirs)


def _lag1(paths: np.ndarray) -> float:
    d = paths - paths.mean(axis=1, keepdims=True)
    return float(np.mean((d[:, 1:] * d[:, :-1]).sum(axis=1) / (d * d).sum(axis=1)))


def test_block_bootstrap_keeps_ar1_autocorrelation_where_iid_destroys_it():
    rng = np.random.default_rng(21)
    phi, n = 0.6, 6000
    x = np.zeros(n)
    shocks = rng.normal(0, 0.01, n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + shocks[t]
    block = fit_model(x, "block")
    assert block.block_length > 5  # arch finds the dependence
    from engine.risk.montecarlo import draw_returns

    kept = _lag1(draw_returns(block, np.random.default_rng(1), 300, 500))
    lost = _lag1(draw_returns(fit_model(x, "bootstrap"), np.random.default_rng(1), 300, 500))
    assert kept == pytest.approx(phi, abs=0.08)
    assert abs(lost) < 0.05


def test_trades_reshuffle_keeps_the_final_value_and_varies_the_drawdown():
    pnl = np.array([0.02, -0.05, 0.03, -0.01, 0.04, -0.03, 0.01, 0.02])
    model = fit_model(pnl, "trades")
    result = simulate(model, paths=500, horizon=999, seed=2, initial=10_000)
    assert result.horizon == len(pnl)
    np.testing.assert_allclose(result.final, 10_000 * (1 + pnl.sum()))
    assert result.max_drawdown.min() < result.max_drawdown.max()


def test_parametric_auto_prefers_student_t_on_fat_tails_and_normal_on_normal_data():
    fat = np.random.default_rng(4).standard_t(3, 4000) * 0.01
    assert fit_model(fat, "parametric").dist == "t"
    assert fit_model(_returns(4000), "parametric").dist == "normal"


def test_summary_has_the_documented_keys_and_ordered_quantiles():
    result = simulate(fit_model(_returns(), "bootstrap"), paths=3000, horizon=50, seed=0)
    summary = result.summary()
    for key in ("initial", "final_value", "probability_of_profit", "max_drawdown", "var",
                "cvar", "method", "paths", "horizon", "seed"):
        assert key in summary
    q = summary["final_value"]["quantiles"]
    assert list(q) == ["1", "5", "25", "50", "75", "95", "99"]
    assert list(q.values()) == sorted(q.values())
    final = result.final
    cut = np.quantile(final, 0.05)
    assert summary["var"]["95"] == pytest.approx(result.initial - cut, abs=0.01)
    assert summary["cvar"]["95"] == pytest.approx(result.initial - final[final <= cut].mean(),
                                                  abs=0.01)
    assert summary["probability_of_profit"] == pytest.approx(np.mean(final > result.initial))


def test_a_dask_cluster_gives_the_local_answer():
    distributed = pytest.importorskip("dask.distributed")
    from engine.risk.montecarlo import run_on_cluster

    model = fit_model(_returns(), "block")
    local = simulate(model, paths=2 * CHUNK + 5, horizon=30, seed=6)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        remote = simulate(model, paths=2 * CHUNK + 5, horizon=30, seed=6,
                          runner=run_on_cluster(cluster.scheduler_address))
    np.testing.assert_array_equal(local.final, remote.final)
    np.testing.assert_array_equal(local.max_drawdown, remote.max_drawdown)


def test_a_t_without_finite_variance_is_never_compounded():
    # Most bars flat (a strategy out of the market): the t's fit collapses onto the spike
    # at zero (df near or below 2, a vanishing scale).
    r = np.random.default_rng(9).normal(0, 0.01, 4000)
    r[::2] = 0.0
    r[1::4] = 0.0
    model = fit_model(r, "parametric")
    assert model.dist == "normal"
    with pytest.raises(ValueError, match="degenerate"):
        fit_model(r, "parametric", dist="t")
