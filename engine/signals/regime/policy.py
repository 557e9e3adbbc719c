"""The regime policy: when the model is fitted, on which returns, and how a bar is labelled.
One rule, two faces (the backtest's whole-frame run and the live tracker), equal bar for bar.

Rule: bars are counted from the start of the data (a live desk's warm-up history is the
start of its data). The return of bar t is log(close_t / close_{t-1}), known at bar t's
close. At bar `window` and then every `refit_every` bars, a Gaussian HMM is fitted on the
trailing `window` returns (those of bars t-window+1 .. t); the fit uses nothing after bar t.
The label at bar t comes from the model fitted last (at bar f <= t): its causal filter run
from the start of its training window through bar t's return, the state probabilities summed
by label (`labels.label_probabilities`), the most probable label winning (ties: LABELS
order). Bars before the first fit carry no regime (-1).

Each model starts its filter afresh on its own training window, so a label depends only on
the last fit and the returns since its window began: the live tracker needs only its last
fit, and its arithmetic (`stream.RegimeFilter`) is the batch's (`stream.filter_batch`).
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from engine.signals.regime.fit import GaussianHMM
from engine.signals.regime.labels import LABELS, label_probabilities
from engine.signals.regime.model import FittedHMM
from engine.signals.regime.stream import RegimeFilter, filter_batch

# Refit cadence when desk.toml says nothing: see desk.toml for the trade-off it makes.
DEFAULT_REFIT_EVERY = 1440
# Bytes of one filter array per group of segments in `RegimePolicy.run` (cache-sized).
FILTER_GROUP_BYTES = 2 * 2**20


def log_closes(close: object) -> np.ndarray:
    """log(close) of positive finite closes, (n,) float64, or ValueError naming the bar."""
    c = np.asarray(close, dtype=np.float64)
    if c.ndim != 1:
        raise ValueError(f"closes must be one-dimensional, got shape {c.shape}")
    bad = ~(np.isfinite(c) & (c > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"closes must be positive and finite; bar {i} holds {c[i]}")
    return np.log(c)


@dataclass(frozen=True)
class RegimeRun:
    """The policy over a whole close series."""

    labels: np.ndarray  # (n,) int8 index into LABELS, -1 before the first fit
    probabilities: np.ndarray  # (n, len(LABELS)) P(label) per bar, NaN before the first fit
    fits: tuple[tuple[int, FittedHMM], ...]  # (bar fitted at, model), in bar order

    def model_at(self, bar: int) -> FittedHMM | None:
        """The model that labels `bar`, None before the first fit."""
        current = None
        for fitted_at, model in self.fits:
            if fitted_at > bar:
                break
            current = model
        return current


@dataclass(frozen=True)
class RegimePolicy:
    window: int = 500  # returns each fit sees
    refit_every: int = DEFAULT_REFIT_EVERY  # bars between fits
    states: int = 3

    def __post_init__(self) -> None:
        if self.states < 2:
            raise ValueError(f"states must be at least 2, got {self.states}")
        if self.window < 2 * self.states:
            raise ValueError(f"window must be at least {2 * self.states} returns for "
                             f"{self.states} states, got {self.window}")
        if self.refit_every < 1:
            raise ValueError(f"refit_every must be at least 1, got {self.refit_every}")

    def is_fit_bar(self, bar: int) -> bool:
        return bar >= self.window and (bar - self.window) % self.refit_every == 0

    def last_fit_bar(self, bar: int) -> int | None:
        """The fit bar whose model labels `bar`, None before the first fit."""
        if bar < self.window:
            return None
        return bar - (bar - self.window) % self.refit_every

    def fit(self, returns: np.ndarray) -> FittedHMM:
        return GaussianHMM(n_states=self.states).fit(returns)

    def run(self, close: object) -> RegimeRun:
        """Labels and label probabilities of every bar of `close` (the backtest face)."""
        logs = log_closes(close)
        n = len(logs)
        returns = np.diff(logs)
        labels = np.full(n, -1, dtype=np.int8)
        probabilities = np.full((n, len(LABELS)), np.nan)
        w = self.window
        bars = range(w, n, self.refit_every)
        models = fit_all(self.states, [returns[f - w:f] for f in bars])
        fits = tuple(zip(bars, models, strict=True))
        if not fits:
            return RegimeRun(labels, probabilities, fits)
        # Series s: the returns of bars f-w+1 .. the segment's last bar (f + refit_every - 1
        # or the end); its row w-1+i is the filter at bar f+i. returns[j] is bar j+1's.
        length = w + self.refit_every - 1
        # Series are filtered a group at a time: the filter's arrays for all of a long
        # backtest's segments at once would be tens of megabytes of fresh memory, slower to
        # map than to compute. A row is the same bits in any group (see `filter_batch`).
        group = max(1, FILTER_GROUP_BYTES // (8 * length * self.states))
        for lo in range(0, len(fits), group):
            part = fits[lo:lo + group]
            series = np.zeros((len(part), length))
            for s, (f, _) in enumerate(part):
                seg = returns[f - w:f + self.refit_every - 1]
                series[s, : len(seg)] = seg
            state_probs = filter_batch([m.params for _, m in part], series)
            for s, (f, model) in enumerate(part):
                end = min(f + self.refit_every, n)
                probs = label_probabilities(state_probs[s, w - 1:w - 1 + end - f],
                                            model.labels)
                probabilities[f:end] = probs
                labels[f:end] = probs.argmax(axis=1)
        return RegimeRun(labels, probabilities, fits)

    def tracker(self) -> RegimeTracker:
        return RegimeTracker(self)


@dataclass
class RegimeTracker:
    """The live face: warm up on the start of the data, then one close at a time."""

    policy: RegimePolicy
    bar: int = -1  # index of the last bar taken, from the start of the data
    label_index: int = -1  # into LABELS, -1 before the first fit
    probabilities: np.ndarray | None = None  # (len(LABELS),) P(label), None before a fit
    held_bars: int = 0  # consecutive bars with the current label (0 before the first fit)
    model: FittedHMM | None = None
    _filter: RegimeFilter | None = None
    _last_log: float | None = None
    _returns: deque = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._returns = deque(maxlen=self.policy.window)

    @property
    def label(self) -> str | None:
        return LABELS[self.label_index] if self.label_index >= 0 else None

    @property
    def transition(self) -> np.ndarray | None:
        return None if self.model is None else self.model.transmat

    @property
    def state_labels(self) -> tuple[str, ...]:
        return () if self.model is None else self.model.labels

    def warm_up(self, close: object) -> int:
        """Take the data's first closes at once; give the label index at the last of them.

        Only the last fit matters to the labels from here on, so only it is made (plus the
        earlier ones `held_bars` needs when the current label reaches back past it)."""
        if self.bar >= 0:
            raise ValueError("warm_up takes the start of the data: this tracker has bars")
        logs = log_closes(close)
        n = len(logs)
        if n == 0:
            return self.label_index
        returns = np.diff(logs)
        self.bar, self._last_log = n - 1, float(logs[-1])
        self._returns.extend(returns[-self.policy.window:])
        f = self.policy.last_fit_bar(self.bar)
        if f is None:
            return self.label_index
        w = self.policy.window
        self._refit(returns[f - w:f])
        labels = [self.label_index]
        for r in returns[f:]:
            self._set(self._filter.update(float(r)))
            labels.append(self.label_index)
        run = _run_length(labels)
        if run == len(labels) and f > w:  # the label runs back into earlier fits' bars
            earlier = self.policy.run(np.asarray(close, dtype=np.float64)[:f]).labels
            run += _run_length(earlier.tolist(), self.label_index)
        self.held_bars = run
        return self.label_index

    def update(self, close: float) -> int:
        """Take the next bar's close; give its label index."""
        log_close = float(log_closes(np.array([close]))[0])
        self.bar += 1
        if self._last_log is not None:
            r = log_close - self._last_log
            self._returns.append(r)
        self._last_log = log_close
        previous = self.label_index
        if self.policy.is_fit_bar(self.bar):
            self._refit(np.array(self._returns))
        elif self._filter is not None:
            self._set(self._filter.update(r))
        self.held_bars = (self.held_bars + 1 if self.label_index == previous
                          else 1) if self.label_index >= 0 else 0
        return self.label_index

    def _refit(self, window_returns: np.ndarray) -> None:
        self.model = self.policy.fit(window_returns)
        self._filter = self.model.filter()
        for r in window_returns:
            probs = self._filter.update(float(r))
        self._set(probs)

    def _set(self, state_probs: np.ndarray) -> None:
        self.probabilities = label_probabilities(state_probs, self.model.labels)
        self.label_index = int(self.probabilities.argmax())


def _run_length(labels: list[int], value: int | None = None) -> int:
    """How many entries at the end of `labels` equal `value` (default: the last entry)."""
    if not labels:
        return 0
    value = labels[-1] if value is None else value
    count = 0
    for label in reversed(labels):
        if label != value:
            break
        count += 1
    return count


# All of a backtest's fits run as one batched EM (`GaussianHMM.fit_batch`), the routine a
# live refit runs as a batch of one. From this many windows per free core on, the batch is
# split over the free cores: each process pays the whole per-iteration overhead of the time
# loop, so a split pays only once the windows' own arithmetic outweighs it. Each window's
# fit is the same bits in any batch, so the labels are the same however it is split.
# Measured on 2 cores, 695 windows of 500 returns: one process 3.4-3.6 s; two processes
# 2.4 s with the other core idle, but 4.7 s with it busy (3 processes on 2 cores).
PARALLEL_FITS = 64


def fit_all(states: int, windows: list[np.ndarray]) -> list[FittedHMM]:
    """`GaussianHMM(states).fit` of every window, in order, as one batch; split over
    processes when there are many windows and cores (fork only: the children inherit the
    loaded modules)."""
    import multiprocessing

    from engine import cores

    workers = min(cores.free_cores(), len(windows) // PARALLEL_FITS)
    fork = "fork" in multiprocessing.get_all_start_methods()
    # A daemonic process (a Dask worker, a multiprocessing.Pool worker) may not have
    # children: it fits in one process.
    daemon = multiprocessing.current_process().daemon
    if workers < 2 or not fork or daemon:
        return GaussianHMM(n_states=states).fit_batch(windows)
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    bounds = np.linspace(0, len(windows), workers + 1).astype(int)
    parts = [windows[lo:hi] for lo, hi in itertools.pairwise(bounds)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        fitted = pool.map(partial(_fit_batch, states), parts)
        return [model for part in fitted for model in part]


def _fit_batch(states: int, windows: list[np.ndarray]) -> list[FittedHMM]:
    return GaussianHMM(n_states=states).fit_batch(windows)
