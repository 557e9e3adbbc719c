"""Regime runs shared between the trials of one optimization.

A backtest labels regimes with `RegimePolicy.run(close)`: a pure function of the policy
(window, refit cadence, states) and the closes, and by far the costliest part of a trial
on long data (a 100k-bar run: ~9 s of HMM fits against ~1 s of event loop). Trial
parameters never change it, so while `shared_regimes()` is active, a run over closes
already seen is answered from memory. The answer is the very object the first run
produced (its arrays copied, so no trial can alter another's), so results are unchanged:
`tests/engine/optimization/test_optimize_engine.py` holds cached and uncached backtests equal.

Pool and cluster workers do not fit at all: `prefit` makes the whole-data fits once in the
parent, and they travel to each worker with the data (`preload`).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from engine.signals.regime.policy import RegimePolicy, RegimeRun

# Distinct close series kept (least recently used first out): an optimization sees one per
# symbol, or one per symbol and walk-forward window (train and test). A 100k-bar run holds
# about 2.5 MB, so the cache stays under ~80 MB.
MAX_RUNS = 32

_lock = threading.Lock()
_depth = 0
_original = RegimePolicy.run
_runs: OrderedDict[tuple, RegimeRun] = OrderedDict()


def _digest(close: object) -> bytes:
    data = np.ascontiguousarray(np.asarray(close, dtype=np.float64))
    digest = hashlib.blake2b(data.tobytes(), digest_size=20).digest()
    return digest + len(data).to_bytes(8, "little")


def _copy(run: RegimeRun) -> RegimeRun:
    return RegimeRun(run.labels.copy(), run.probabilities.copy(), run.fits)


def _shared_run(policy: RegimePolicy, close: object) -> RegimeRun:
    key = (policy, _digest(close))
    with _lock:
        found = _runs.get(key)
        if found is not None:
            _runs.move_to_end(key)
            return _copy(found)
    run = _original(policy, close)
    with _lock:
        _runs[key] = run
        while len(_runs) > MAX_RUNS:
            _runs.popitem(last=False)
    return _copy(run)


def prefit(frames, cfg) -> list[tuple[tuple, RegimeRun]]:
    """The regime runs a whole-data trial of `cfg` needs, computed here once (the fits
    spread over this machine's cores) so that workers start with them instead of each
    refitting: (key, run) pairs for `preload`. Empty when the regime is off."""
    engine = cfg.engine
    if not engine.regime:
        return []
    policy = RegimePolicy(engine.regime_window, engine.regime_refit_every, engine.regime_states)
    out = []
    with shared_regimes():
        for frame in frames.values():
            close = frame["close"].to_numpy()
            if len(close) > engine.regime_window:  # the pipeline's own condition
                policy.run(close)
                key = (policy, _digest(close))
                out.append((key, _runs[key]))
    return out


def preload(entries: list[tuple[tuple, RegimeRun]]) -> None:
    """Hold runs computed elsewhere (`prefit` in the parent, shipped with the data)."""
    with _lock:
        for key, run in entries:
            _runs[key] = run
            _runs.move_to_end(key)
        while len(_runs) > MAX_RUNS:
            _runs.popitem(last=False)


@contextmanager
def shared_regimes() -> Iterator[None]:
    """Share regime runs between backtests in this process while active (re-entrant and
    thread-safe: Dask runs trials on threads). Outside it, `RegimePolicy.run` is the
    original; the runs seen stay cached (bounded) for the next time it is entered."""
    global _depth
    with _lock:
        _depth += 1
        if _depth == 1:
            RegimePolicy.run = _shared_run  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                # The runs are kept: a Dask worker enters and leaves once per trial and
                # must not refit the regimes every time.
                RegimePolicy.run = _original  # type: ignore[method-assign]
