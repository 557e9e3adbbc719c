"""Walk-forward refits side by side on threads.

LightGBM trains in C with the GIL released, so fits on separate threads run on separate
cores of one process: nothing is forked or pickled, and the models come back as they are.
Each fit is the same whatever runs beside it (fixed seeds, one OpenMP thread per fit), so
the predictions do not depend on how many threads there were. GARCH (arch: Python and
SciPy, under the GIL) gains nothing from threads of its own, so the filters themselves
also run side by side (`side_by_side`): the GARCH refits run while the LightGBM ones do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from engine import cores

T = TypeVar("T")
R = TypeVar("R")


def fit_each(fit: Callable[[T], R], jobs: Sequence[T]) -> list[R]:
    """`fit` of every job, in order, over the free cores' threads."""
    workers = min(cores.free_cores(), len(jobs))
    if workers < 2:
        return [fit(job) for job in jobs]
    return _threads(workers, [lambda job=job: fit(job) for job in jobs])


def side_by_side(tasks: Sequence[Callable[[], R]]) -> list[R]:
    """Each task's result, in order, the tasks run on threads of their own."""
    if len(tasks) < 2:
        return [task() for task in tasks]
    return _threads(len(tasks), tasks)


def _threads(workers: int, tasks: Sequence[Callable[[], R]]) -> list[R]:
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="desk-fit")
    try:
        futures = [pool.submit(task) for task in tasks]
        return [future.result() for future in futures]
    finally:
        # On an error or Ctrl-C the fits not yet started are dropped, not run to the end.
        pool.shutdown(wait=True, cancel_futures=True)
