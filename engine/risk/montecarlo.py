"""Monte Carlo of an equity path: i.i.d. bootstrap, parametric (normal or Student-t by
maximum likelihood), block bootstrap (stationary or circular, arch's optimal block length)
and the reshuffled trade sequence of a backtest.

Conventions:

- Input: simple per-period returns r (or, for "trades", the return of each closed trade in
  the order they closed). A path compounds `horizon` draws from `initial`:
  V_t = initial x prod_{s<=t} (1 + r_s). "trades" adds instead: each trade's P&L as a
  fraction of the run's starting equity, in a shuffled order, V_t = initial x (1 + sum r_s);
  every path then ends at the same value and only the drawdowns differ.
- Paths are generated in chunks of `CHUNK` paths; chunk k draws from its own generator,
  numpy's default_rng([seed, k]). So the answer depends only on (seed, paths, horizon,
  method, data): the first chunks of a larger run equal a smaller run, and chunks computed
  in any order, process or Dask worker merge to the same result. Memory holds one chunk of
  paths (CHUNK x horizon floats) plus one final value and one drawdown per path.
- max drawdown of a path: max_t 1 - V_t / max(initial, V_0..t), a positive fraction.
- VaR / CVaR of the final value are money at 95% and 99%: initial - q and
  initial - mean(V_T[V_T <= q]) with q the (1 - level) quantile of V_T (the historical
  estimator of engine.risk.var on the final returns, times initial).
- The fan chart keeps the first `FAN_PATHS` paths (a fixed subsample, not the extremes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from engine.risk.var import var_es

METHODS = ("bootstrap", "parametric", "block", "trades")
CHUNK = 1000  # paths per chunk: part of the seed contract (see the module doc)
QUANTILES = (1, 5, 25, 50, 75, 95, 99)  # percent
FAN_PATHS = 200
FAN_BANDS = (5, 25, 50, 75, 95)
MIN_T_DF = 2.0  # a Student-t at or below this has no finite variance


@dataclass(frozen=True)
class Model:
    """What the paths are drawn from, fitted once before any chunk runs (a worker gets
    this small object, never the fitting code's inputs)."""

    method: str
    returns: np.ndarray
    block_kind: str = ""  # "stationary" | "circular" for method "block"
    block_length: float = 0.0
    dist: str = ""  # "normal" | "t" for method "parametric"
    params: tuple[float, ...] = ()  # (mean, std) or (df, loc, scale)

    def describe(self) -> dict:
        out: dict = {"method": self.method, "observations": int(len(self.returns))}
        if self.method == "block":
            out |= {"block": self.block_kind, "block_length": self.block_length}
        if self.method == "parametric":
            names = ("mean", "std") if self.dist == "normal" else ("df", "loc", "scale")
            out |= {"distribution": self.dist, **dict(zip(names, self.params, strict=True))}
        return out


@dataclass
class ChunkResult:
    number: int
    final: np.ndarray  # final value of each path
    max_drawdown: np.ndarray  # of each path
    fan: np.ndarray  # the first paths of chunk 0 (equity, initial included), else empty


@dataclass
class MonteCarloResult:
    model: Model
    initial: float
    paths: int
    horizon: int
    seed: int
    final: np.ndarray
    max_drawdown: np.ndarray
    fan: np.ndarray
    loss_threshold: float = 0.2
    extra: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """The --json document (keys as documented in desk montecarlo --help)."""
        final, init = self.final, self.initial
        tail = {}
        cvar = {}
        for level in (0.95, 0.99):
            estimate = var_es(final / init - 1.0, level, "historical")
            tail[f"{level * 100:.0f}"] = _money(estimate.var * init)
            cvar[f"{level * 100:.0f}"] = _money(estimate.es * init)
        return {
            "initial": init,
            "final_value": {"mean": _money(float(final.mean())),
                            "quantiles": _quantiles(final, money=True)},
            "probability_of_profit": float(np.mean(final > init)),
            "probability_of_loss": {
                "threshold": self.loss_threshold,
                "probability": float(np.mean(final < init * (1 - self.loss_threshold))),
            },
            "max_drawdown": {"mean": float(self.max_drawdown.mean()),
                             "quantiles": _quantiles(self.max_drawdown)},
            "var": tail,
            "cvar": cvar,
            "method": self.model.method,
            "model": self.model.describe(),
            "paths": self.paths,
            "horizon": self.horizon,
            "seed": self.seed,
        }

    def fan_bands(self) -> dict[int, np.ndarray]:
        """Percentile -> the band of the fan paths at each step."""
        return {p: np.percentile(self.fan, p, axis=0) for p in FAN_BANDS}


def _money(value: float) -> float:
    return round(float(value), 2)


def _quantiles(values: np.ndarray, *, money: bool = False) -> dict[str, float]:
    qs = np.percentile(values, QUANTILES)
    return {str(p): (_money(q) if money else float(q)) for p, q in zip(QUANTILES, qs,
                                                                          strict=True)}


# -- fitting ---------------------------------------------------------------------------------


def fit_model(returns: np.ndarray, method: str, *, block: str = "stationary",
              dist: str = "auto", block_length: float | None = None) -> Model:
    """The model of `method` fitted to `returns` (see the module doc). `block_length`
    overrides arch's optimal block length (and spares importing arch, about a second)."""
    r = np.asarray(returns, dtype=np.float64).ravel()
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if len(r) < 2 or not np.isfinite(r).all():
        raise ValueError(f"need at least 2 finite returns, got {len(r)}")
    if method != "trades" and (r <= -1).any():
        raise ValueError("a return of -100% or less cannot be compounded")
    if method == "block":
        if block not in ("stationary", "circular"):
            raise ValueError(f"block must be 'stationary' or 'circular', got {block!r}")
        if block_length is not None and not block_length >= 1:
            raise ValueError(f"block length must be >= 1, got {block_length}")
        length = block_length if block_length is not None else optimal_block(r, block)
        return Model(method, r, block_kind=block, block_length=float(length))
    if method == "parametric":
        name, params = fit_distribution(r, dist)
        return Model(method, r, dist=name, params=params)
    return Model(method, r)


def optimal_block(r: np.ndarray, kind: str) -> float:
    """arch's optimal block length (Politis and White 2004, with Patton, Politis and White's
    correction) for the stationary or circular bootstrap, at least 1."""
    from arch.bootstrap import optimal_block_length

    if kind not in ("stationary", "circular"):
        raise ValueError(f"block must be 'stationary' or 'circular', got {kind!r}")
    length = float(optimal_block_length(r)[kind].iloc[0])
    return max(length, 1.0) if math.isfinite(length) else 1.0


def fit_distribution(r: np.ndarray, dist: str) -> tuple[str, tuple[float, ...]]:
    """Normal or Student-t by maximum likelihood; "auto" keeps the one with the lower AIC
    (the t has one more parameter), and the normal when the t's df is <= 2."""
    from scipy import stats

    if dist not in ("auto", "normal", "t"):
        raise ValueError(f"dist must be 'auto', 'normal' or 't', got {dist!r}")
    mean, std = float(r.mean()), float(r.std(ddof=0))  # the normal's MLE
    normal = ("normal", (mean, std))
    if dist == "normal":
        return normal
    df, loc, scale = stats.t.fit(r)
    t = ("t", (float(df), float(loc), float(scale)))
    # A t with df <= 2 has no variance (df <= 1: no mean): compounding its draws explodes.
    # That happens on returns with a spike at zero (a strategy flat half the time), where
    # the fit also collapses its scale towards zero.
    if df <= MIN_T_DF or scale <= 1e-6 * std:
        if dist == "t":
            raise ValueError(f"the Student-t fitted by maximum likelihood is degenerate (df "
                             f"{df:.2f}, scale {scale:.3g}; no finite variance at df <= "
                             f"{MIN_T_DF:g}): use --dist normal")
        return normal
    if dist == "t":
        return t
    aic_normal = 2 * 2 - 2 * float(stats.norm.logpdf(r, mean, std).sum())
    aic_t = 2 * 3 - 2 * float(stats.t.logpdf(r, df, loc, scale).sum())
    return t if aic_t < aic_normal else normal


# -- drawing -----------------------------------------------------------------------------


def chunk_sizes(paths: int) -> list[int]:
    return [min(CHUNK, paths - start) for start in range(0, paths, CHUNK)]


def simulate_chunk(model: Model, number: int, size: int, horizon: int, seed: int,
                   initial: float) -> ChunkResult:
    """Chunk `number`: `size` paths of `horizon` steps from default_rng([seed, number])."""
    rng = np.random.default_rng([seed, number])
    r = draw_returns(model, rng, size, horizon)
    if model.method == "trades":
        equity = np.cumsum(r, axis=1)
        equity += 1.0
    else:
        r += 1.0  # a fresh array from draw_returns: in place, no copy
        equity = np.cumprod(r, axis=1, out=r)  # per unit of initial
    peak = np.maximum.accumulate(equity, axis=1)
    np.maximum(peak, 1.0, out=peak)  # the starting value is the first peak
    np.divide(equity, peak, out=peak)
    drawdown = 1.0 - peak.min(axis=1)
    fan = np.empty((0, horizon + 1))
    if number == 0:
        kept = equity[:FAN_PATHS] * initial
        fan = np.hstack([np.full((len(kept), 1), initial), kept])
    return ChunkResult(number, equity[:, -1] * initial, drawdown, fan)


def draw_returns(model: Model, rng: np.random.Generator, size: int,
                 horizon: int) -> np.ndarray:
    """A (size, horizon) matrix of per-period returns drawn by the model."""
    r = model.returns
    n = len(r)
    if model.method == "bootstrap":
        return r[rng.integers(0, n, size=(size, horizon))]
    if model.method == "parametric":
        if model.dist == "normal":
            mean, std = model.params
            # A draw below -100% would make the equity negative: clipped to a total loss.
            return np.maximum(rng.normal(mean, std, size=(size, horizon)), -1.0)
        df, loc, scale = model.params
        # A t draw below -100% would make the equity negative: clipped to a total loss.
        return np.maximum(loc + scale * rng.standard_t(df, size=(size, horizon)), -1.0)
    if model.method == "block":
        if model.block_kind == "stationary":
            index = stationary_indices(rng, n, size, horizon, model.block_length)
        else:
            index = circular_indices(rng, n, size, horizon, model.block_length)
        return r[index]
    # trades: each path is a permutation of the trade sequence
    return r[rng.permuted(np.broadcast_to(np.arange(n), (size, n)), axis=1)]


def stationary_indices(rng: np.random.Generator, n: int, size: int, horizon: int,
                       block_length: float) -> np.ndarray:
    """Politis and Romano's stationary bootstrap, vectorized over paths: arch's rule
    (arch.bootstrap._samplers.stationary_bootstrap_sample) step for step. A step starts a new
    block at a uniform position when its uniform is <= 1 / block_length (and always at the
    first step of a path); otherwise it takes the next observation, wrapping at the end."""
    starts = rng.integers(0, n, size=(size, horizon), dtype=np.int64)
    u = rng.random((size, horizon))
    new = u <= 1.0 / block_length
    new[:, 0] = True
    steps = np.arange(horizon, dtype=np.int64)
    # The step at which each step's block began; the index is that block's start plus the
    # offset into it, wrapped at the end of the data.
    began = np.where(new, steps, 0)
    np.maximum.accumulate(began, axis=1, out=began)
    index = starts.ravel()[began + (np.arange(size, dtype=np.int64) * horizon)[:, None]]
    index += steps
    index -= began
    return _wrap(index, n, horizon)


def _wrap(index: np.ndarray, n: int, horizon: int) -> np.ndarray:
    """index mod n, for indices below n + horizon (a subtraction beats a division)."""
    if horizon <= n:
        index[index >= n] -= n
        return index
    index %= n
    return index


def circular_indices(rng: np.random.Generator, n: int, size: int, horizon: int,
                     block_length: float) -> np.ndarray:
    """The circular block bootstrap (arch's CircularBlockBootstrap): blocks of
    round(block_length) observations from uniform starts, wrapping at the end."""
    b = max(int(round(block_length)), 1)
    blocks = -(-horizon // b)
    starts = rng.integers(0, n, size=(size, blocks), dtype=np.int64)
    index = (starts[:, :, None] + np.arange(b, dtype=np.int64)).reshape(size, blocks * b)
    return index[:, :horizon] % n  # a block may be longer than the data: a general modulo


# -- running -----------------------------------------------------------------------------

Runner = Callable[[Callable[..., ChunkResult], list[tuple]], Iterable[ChunkResult]]


def run_local(function: Callable[..., ChunkResult], calls: list[tuple]) -> list[ChunkResult]:
    return [function(*call) for call in calls]


def run_on_cluster(address: str) -> Runner:
    """A runner that maps the chunks over a Dask cluster (imported only when used)."""

    def runner(function: Callable[..., ChunkResult], calls: list[tuple]) -> list[ChunkResult]:
        from dask.distributed import Client

        with Client(address, timeout=30) as client:
            futures = client.map(function, *zip(*calls, strict=True), pure=False)
            return client.gather(futures)

    return runner


def simulate(model: Model, *, paths: int = 10_000, horizon: int = 252, seed: int = 0,
             initial: float = 100_000.0, loss_threshold: float = 0.2,
             runner: Runner = run_local,
             progress: Callable[[int, int], None] | None = None) -> MonteCarloResult:
    """`paths` paths of `horizon` steps (the trade count for "trades") from `initial`."""
    if paths < 1 or horizon < 1:
        raise ValueError(f"paths and horizon must be >= 1, got {paths} and {horizon}")
    if model.method == "trades":
        horizon = len(model.returns)
    calls = [(model, k, size, horizon, seed, initial)
             for k, size in enumerate(chunk_sizes(paths))]
    chunks = sorted(runner(simulate_chunk, calls), key=lambda c: c.number)
    if progress:
        progress(len(chunks), len(calls))
    return MonteCarloResult(
        model=model, initial=float(initial), paths=paths, horizon=horizon, seed=seed,
        final=np.concatenate([c.final for c in chunks]),
        max_drawdown=np.concatenate([c.max_drawdown for c in chunks]),
        fan=chunks[0].fan, loss_threshold=loss_threshold,
    )


def analytic_mean_final(model: Model, horizon: int, initial: float) -> float:
    """E[V_T] for i.i.d. draws: initial x (1 + E[r])^T, with E[r] the sample mean for the
    bootstraps and the fitted mean for the parametric normal (and the t's loc, its mean
    for df > 1). Not defined for the block bootstrap, whose draws are dependent."""
    if model.method == "parametric":
        mean = model.params[0] if model.dist == "normal" else model.params[1]
    elif model.method == "bootstrap":
        mean = float(model.returns.mean())
    else:
        raise ValueError(f"no i.i.d. expectation for method {model.method!r}")
    return initial * (1.0 + mean) ** horizon
