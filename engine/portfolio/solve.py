"""The one way this room calls SciPy's SLSQP on a smooth problem over box bounds and
linear constraints, and reads its outcome."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from engine.portfolio.errors import PortfolioSolverError

# Tight enough that weights agree with an interior-point solver to about 1e-7.
FTOL = 1e-13
MAX_ITER = 1000


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # inspects the loaded libraries once (~50 ms)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS on one thread while a solver runs. The matrices here are at most a few hundred
    wide: threads buy nothing, and on a busy machine OpenBLAS's spinning threads made SLSQP
    on 100 assets 40 times slower (3.2 s against 0.08 s)."""
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


@dataclass(frozen=True)
class Solved:
    x: np.ndarray
    status: str
    seconds: float


def slsqp(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    bounds: Sequence[tuple[float | None, float | None]],
    constraints: Sequence[dict],
    *,
    what: str,
) -> Solved:
    """Minimize `objective` (returning value and gradient). Raises PortfolioSolverError
    naming `what` when SLSQP ends without success."""
    from scipy.optimize import minimize

    with single_threaded_blas():
        started = time.perf_counter()
        result = minimize(objective, x0, jac=True, method="SLSQP", bounds=bounds,
                          constraints=constraints, options={"ftol": FTOL, "maxiter": MAX_ITER})
        seconds = time.perf_counter() - started
    if not result.success:
        raise PortfolioSolverError(f"{what}: SLSQP stopped without an optimum ({result.message})")
    return Solved(np.asarray(result.x, dtype=float), f"optimal (SLSQP, {result.nit} iterations)",
                  seconds)


def sum_to_one(n: int) -> dict:
    """The equality constraint sum(w) = 1 with its constant Jacobian."""
    ones = np.ones(n)
    return {"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: ones}
