"""Where trials run: in this process, in a local process pool, or on a Dask cluster.

Every backend maps a batch of tasks to results in the batch's order, and each trial is a
pure function of its task and the data, so a search that is deterministic for a seed gives
the same results whichever backend runs it. The data (frames, configuration, objective)
goes to each pool process once, at its start, and to a cluster once, scattered to every
worker; tasks carry only parameters and windows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol

from engine.errors import DeskError
from engine.optimize.evaluate import Evaluator, Objective, Task, TrialResult
from engine.optimize.regime_cache import prefit, preload, shared_regimes


class Backend(Protocol):
    workers: int

    def map(self, tasks: Sequence[Task]) -> list[TrialResult]: ...

    def close(self) -> None: ...


class LocalBackend:
    """Trials one after another in this process."""

    workers = 1

    def __init__(self, frames, cfg, objective: Objective) -> None:
        self.evaluator = Evaluator(frames, cfg, objective)
        self._regimes = shared_regimes()
        self._regimes.__enter__()

    def map(self, tasks: Sequence[Task]) -> list[TrialResult]:
        return [self.evaluator.evaluate(task) for task in tasks]

    def close(self) -> None:
        self._regimes.__exit__(None, None, None)


# --- a local process pool -------------------------------------------------------------------

_worker_evaluator: Evaluator | None = None
_worker_regimes = None  # held: dropping the context would end the sharing


def _start_worker(frames, cfg, objective: Objective, regimes) -> None:
    import signal

    global _worker_evaluator, _worker_regimes
    # Ctrl-C is the parent's to handle: it lets running trials finish and keeps them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_evaluator = Evaluator(frames, cfg, objective)
    preload(regimes)
    _worker_regimes = shared_regimes()
    _worker_regimes.__enter__()  # for the life of the worker process: it only runs trials


def _run_in_worker(task: Task) -> TrialResult:
    assert _worker_evaluator is not None, "pool worker not started"
    return _worker_evaluator.evaluate(task)


class PoolBackend:
    """Trials in `workers` processes, each given the data once when it starts."""

    def __init__(self, frames, cfg, objective: Objective, workers: int) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        # The regime fits, the same for every trial, are made once here and shipped.
        self.pool = ProcessPoolExecutor(max_workers=workers, initializer=_start_worker,
                                        initargs=(frames, cfg, objective, prefit(frames, cfg)))

    def map(self, tasks: Sequence[Task]) -> list[TrialResult]:
        return list(self.pool.map(_run_in_worker, tasks))

    def close(self) -> None:
        # Ctrl-C: trials not started are dropped; finished ones were already kept.
        self.pool.shutdown(wait=True, cancel_futures=True)


# --- a Dask cluster -------------------------------------------------------------------------

# Per worker process: the evaluator built from the scattered data, by the data's key, so a
# worker builds it once however many trials it runs.
_cluster_evaluators: dict[str, Evaluator] = {}


def _run_on_cluster(task: Task, data: tuple, token: str) -> TrialResult:
    evaluator = _cluster_evaluators.get(token)
    if evaluator is None:
        frames, cfg, objective, regimes = data
        preload(regimes)
        evaluator = _cluster_evaluators.setdefault(token, Evaluator(frames, cfg, objective))
    with shared_regimes():
        return evaluator.evaluate(task)


class DaskBackend:
    """Trials on the Dask distributed cluster at `address` (e.g. tcp://10.0.0.5:8786), or on
    a `distributed.Client` already connected."""

    def __init__(self, frames, cfg, objective: Objective, address: Any) -> None:
        import uuid

        from distributed import Client

        if isinstance(address, str):
            try:
                self.client = Client(address, timeout=30)
            except (OSError, TimeoutError, ValueError) as error:
                raise DeskError(f"--cluster {address}: cannot connect: {error}") from None
            self._own_client = True
        else:
            self.client, self._own_client = address, False
        self.workers = max(len(self.client.scheduler_info().get("workers", {})), 1)
        self.token = uuid.uuid4().hex
        # Once, to every worker: tasks then carry only their parameters.
        # The regime fits, the same for every trial, travel with it.
        self.data = self.client.scatter((frames, cfg, objective, prefit(frames, cfg)),
                                        broadcast=True, hash=False)

    def map(self, tasks: Sequence[Task]) -> list[TrialResult]:
        futures = self.client.map(_run_on_cluster, list(tasks), data=self.data,
                                  token=self.token, pure=False)
        return self.client.gather(futures)

    def close(self) -> None:
        if self._own_client:
            self.client.close()


def default_workers() -> int:
    """The machine's cores (the ones this process may use)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return max(os.cpu_count() or 1, 1)


def open_backend(frames, cfg, objective: Objective, *, workers: int | None = None,
                 cluster: Any = None) -> Backend:
    """The backend for `--cluster` (an address or a Client) or `--workers N` (1: in this
    process; None or 0: the machine's cores)."""
    if cluster is not None:
        return DaskBackend(frames, cfg, objective, cluster)
    count = workers or default_workers()
    if count == 1:
        return LocalBackend(frames, cfg, objective)
    return PoolBackend(frames, cfg, objective, count)
