"""The ledger of one optimization's trials: each distinct trial runs once.

A search asks for batches of parameter sets; the ledger answers those it already holds (a
search that revisits a point, or a resumed run whose trials were stored before it stopped)
and sends only the rest to the backend, in chunks, recording each chunk as it finishes. A
Ctrl-C or a crash therefore loses at most the chunk in flight, and `--resume` replays the
same seeded search, which asks for the same points and finds them done.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.optimize.backends import Backend
from engine.optimize.evaluate import Task, TrialResult
from engine.optimize.space import key

# scope: which part of a run a trial belongs to ("search", "sensitivity", "wfo:3:train").
Record = Callable[[str, Sequence[TrialResult]], None]
Progress = Callable[["LedgerStats"], None]
Evaluate = Callable[[Sequence[Mapping[str, Any]]], list[float]]


@dataclass
class LedgerStats:
    done: int = 0  # trials run by this process
    reused: int = 0  # trials answered from the ledger (revisited or resumed)
    best: float = -math.inf
    started: float = 0.0
    expected: int = 0  # trials the method will ask for (an estimate; 0: unknown)

    @property
    def rate(self) -> float:
        elapsed = time.perf_counter() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0


class Ledger:
    def __init__(self, backend: Backend, *, known: Mapping[tuple[str, str], TrialResult]
                 | None = None, record: Record | None = None,
                 progress: Progress | None = None) -> None:
        self.backend = backend
        self.results: dict[tuple[str, str], TrialResult] = dict(known or {})
        self.record = record
        self.progress = progress
        self.stats = LedgerStats(started=time.perf_counter())
        self.order: list[tuple[str, TrialResult]] = []  # every trial asked for, first time
        self._seen: set[tuple[str, str]] = set()

    def run(self, tasks: Sequence[Task], scope: str = "search") -> list[TrialResult]:
        """Results of `tasks`, in order; only trials not yet in the ledger are run."""
        keys = [(scope, key(task.params)) for task in tasks]
        missing: dict[tuple[str, str], Task] = {}
        for k, task in zip(keys, tasks, strict=True):
            held = self.results.get(k)
            stale = held is not None and task.keep_equity and held.equity is None
            if (held is None or stale) and k not in missing:
                missing[k] = task
        self.stats.reused += len(tasks) - len(missing)
        if self.progress is not None and not missing:
            self.progress(self.stats)
        pending = list(missing.items())
        chunk = max(self.backend.workers * 4, 8)
        for lo in range(0, len(pending), chunk):
            part = pending[lo:lo + chunk]
            results = self.backend.map([task for _, task in part])
            for (k, _), result in zip(part, results, strict=True):
                self.results[k] = result
                self.stats.done += 1
                self.stats.best = max(self.stats.best, result.fitness)
            if self.record is not None:
                self.record(scope, results)
            if self.progress is not None:
                self.progress(self.stats)
        out = [self.results[k] for k in keys]
        for k, result in zip(keys, out, strict=True):
            if k not in self._seen:
                self._seen.add(k)
                self.order.append((k[0], result))
        return out

    def objective(self, scope: str = "search", window=None) -> Evaluate:
        """A batch fitness function over parameter sets, for the search methods."""

        def evaluate(batch: Sequence[Mapping[str, Any]]) -> list[float]:
            return [r.fitness for r in self.run([Task(dict(p), window) for p in batch], scope)]

        return evaluate

    def result(self, params: Mapping[str, Any], scope: str = "search") -> TrialResult:
        return self.results[(scope, key(params))]
