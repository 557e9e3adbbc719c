"""The one error of the portfolio layer: bad input to an allocator or an optimizer."""

from __future__ import annotations

from engine.errors import DeskError


class PortfolioInputError(DeskError):
    """Prices or settings an optimizer cannot work with (too few assets or rows, a NaN
    column, infeasible bounds). One line naming the problem; exit code 2 like all bad
    input."""

    exit_code = 2


class PortfolioSolverError(DeskError):
    """A solver stopped without an optimum (its status is in the message)."""

    exit_code = 1
