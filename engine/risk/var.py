"""Value at Risk and Expected Shortfall: the one function every figure comes from.

Conventions:

- Input: simple per-bar returns r_t (equity_t / equity_{t-1} - 1, or a book's P&L per unit
  of exposure). Output: VaR and ES as *positive* fractions for losses (a VaR of 0.021 is a
  2.1% loss); negative when even the tail is a gain.
- level: the confidence, 0.95 or 0.99 (any value in (0.5, 1) works); alpha = 1 - level.
- Methods:
  - ``historical``: q = the alpha-quantile of r with linear interpolation between order
    statistics (numpy's and pandas' default, Excel's PERCENTILE.INC); VaR = -q and
    ES = -mean(r[r <= q]).
  - ``normal``: mean m and standard deviation s (ddof=1); z = Phi^-1(alpha);
    VaR = -(m + s z), ES = -(m - s phi(z) / alpha).
  - ``cornish_fisher``: z replaced by the Cornish-Fisher expansion with the sample skewness S
    and excess kurtosis K (population moments, as scipy.stats' defaults):
    z_cf = z + (z^2 - 1) S/6 + (z^3 - 3z) K/24 - (2z^3 - 5z) S^2/36; VaR = -(m + s z_cf).
    ES integrates the same expansion over the normal tail in closed form (the moments of a
    truncated normal): ES = -(m + s E[z_cf(Z) | Z <= z]). With S = K = 0 both reduce to the
    normal figures exactly.
- Horizon: a figure over h bars assumes i.i.d. bars. The parametric methods scale the
  moments (mean h m, deviation sqrt(h) s, skewness S / sqrt(h), excess kurtosis K / h); the
  historical method scales the one-bar figures by sqrt(h) (the square-root-of-time rule), as
  there is no distribution to scale. h is `horizon_bars(...)`: 1 for "bar", bars per day for
  "day", bars per year for "year".
- Every estimate carries its label: "VaR 95% historical (1 day)".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

METHODS = ("historical", "normal", "cornish_fisher")
HORIZONS = ("bar", "day", "year")
LEVELS = (0.95, 0.99)
_METHOD_NAMES = {"historical": "historical", "normal": "normal",
                 "cornish_fisher": "Cornish-Fisher"}
_STD_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class RiskEstimate:
    """VaR and ES of one method, level and horizon, as positive loss fractions."""

    method: str
    level: float
    horizon: str  # "bar" | "day" | "year"
    bars: float  # bars in the horizon
    var: float | None
    es: float | None

    @property
    def label(self) -> str:
        return f"VaR {self.level:.0%} {_METHOD_NAMES[self.method]} ({_horizon_text(self)})"

    @property
    def es_label(self) -> str:
        return f"ES {self.level:.0%} {_METHOD_NAMES[self.method]} ({_horizon_text(self)})"

    def as_dict(self) -> dict:
        return {"method": self.method, "level": self.level, "horizon": self.horizon,
                "bars": self.bars, "var": self.var, "es": self.es, "label": self.label}


def _horizon_text(estimate: RiskEstimate) -> str:
    return f"1 {estimate.horizon}" if estimate.horizon != "bar" or estimate.bars == 1 else (
        f"{estimate.bars:g} bars")


def horizon_bars(horizon: str, *, bar_seconds: float | None = None,
                 periods_per_year: float | None = None) -> float:
    """Bars in `horizon`: "bar" is 1; "day" is 86,400 / bar_seconds (at least 1: a daily or
    slower bar is its own day); "year" is `periods_per_year`."""
    if horizon == "bar":
        return 1.0
    if horizon == "day":
        if not bar_seconds or bar_seconds <= 0:
            raise ValueError("a one-day horizon needs the bar length (bar_seconds)")
        return max(86_400.0 / bar_seconds, 1.0)
    if horizon == "year":
        if not periods_per_year or periods_per_year <= 0:
            raise ValueError("a one-year horizon needs periods_per_year")
        return float(periods_per_year)
    raise ValueError(f"horizon must be one of {', '.join(HORIZONS)}, got {horizon!r}")


def var_es(
    returns: np.ndarray,
    level: float = 0.95,
    method: str = "historical",
    *,
    horizon: str = "bar",
    bars: float = 1.0,
) -> RiskEstimate:
    """VaR and ES of `returns` at `level` by `method`, over `bars` bars named `horizon`
    (see the module doc; `horizon_bars` turns a named horizon into bars). Undefined figures
    (no returns; fewer than two for the parametric methods) are None."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if not 0.5 < level < 1:
        raise ValueError(f"level must be in (0.5, 1), got {level}")
    if not bars >= 1:
        raise ValueError(f"bars must be >= 1, got {bars}")
    r = np.asarray(returns, dtype=np.float64).ravel()
    if method == "historical":
        var, es = _historical(r, level)
        if var is not None and bars != 1:
            root = math.sqrt(bars)
            var, es = var * root, es * root
    else:
        var, es = _parametric(r, level, bars, cornish_fisher=method == "cornish_fisher")
    return RiskEstimate(method, level, horizon, float(bars), var, es)


def _historical(r: np.ndarray, level: float) -> tuple[float | None, float | None]:
    if len(r) == 0:
        return None, None
    # The linear-interpolation quantile from the two order statistics around it; one
    # partition is cheaper than np.quantile's general machinery on a million returns.
    h = (len(r) - 1) * (1.0 - level)
    lo = int(math.floor(h))
    hi = min(lo + 1, len(r) - 1)
    part = np.partition(r, [lo, hi])
    q = float(part[lo] + (h - lo) * (part[hi] - part[lo]))
    tail = part[: hi + 1]  # everything <= q lies in the first hi + 1 after partitioning
    tail = tail[tail <= q]
    return -q, -float(tail.mean())


def moments(r: np.ndarray) -> tuple[float, float, float, float]:
    """(mean, standard deviation with ddof=1, skewness, excess kurtosis); the last two are
    population moments (scipy.stats.skew / kurtosis defaults) and 0 for a flat series."""
    m = float(r.mean())
    s = float(r.std(ddof=1))
    d = r - m
    m2 = float(np.mean(d * d))
    if m2 <= 1e-30:
        return m, s, 0.0, 0.0
    skew = float(np.mean(d**3)) / m2**1.5
    kurt = float(np.mean(d**4)) / m2**2 - 3.0
    return m, s, skew, kurt


def _parametric(r: np.ndarray, level: float, bars: float, *,
                cornish_fisher: bool) -> tuple[float | None, float | None]:
    if len(r) < 2:
        return None, None
    m, s, skew, kurt = moments(r)
    # Moments of the sum of `bars` i.i.d. bars.
    m, s = m * bars, s * math.sqrt(bars)
    if not cornish_fisher:
        skew = kurt = 0.0
    else:
        skew, kurt = skew / math.sqrt(bars), kurt / bars
    return cornish_fisher_var_es(m, s, skew, kurt, level)


def cornish_fisher_var_es(mean: float, std: float, skew: float, kurt: float,
                          level: float) -> tuple[float, float]:
    """VaR and ES of a distribution with these moments (excess kurtosis `kurt`), by the
    Cornish-Fisher expansion; skew = kurt = 0 gives the normal closed form."""
    alpha = 1.0 - level
    z = _STD_NORMAL.inv_cdf(alpha)
    z2, z3 = z * z, z * z * z
    z_cf = z + (z2 - 1) * skew / 6 + (z3 - 3 * z) * kurt / 24 - (2 * z3 - 5 * z) * skew**2 / 36
    # E[z_cf(Z) 1{Z <= z}] from the truncated moments of Z: I0 = alpha, I1 = -phi,
    # I2 = alpha - z phi, I3 = -(z^2 + 2) phi.
    phi = _STD_NORMAL.pdf(z)
    tail = (-phi - z * phi * skew / 6 + (1 - z2) * phi * kurt / 24
            - (1 - 2 * z2) * phi * skew**2 / 36)
    return -(mean + std * z_cf), -(mean + std * tail / alpha)


def standard_set(returns: np.ndarray, *, bars_per_day: float, periods_per_year: float | None,
                 ) -> list[RiskEstimate]:
    """Every method at 95% and 99%, per bar, per day and (with periods_per_year) per year:
    the table a report shows."""
    horizons = [("bar", 1.0), ("day", max(bars_per_day, 1.0))]
    if periods_per_year:
        horizons.append(("year", float(periods_per_year)))
    return [var_es(returns, level, method, horizon=name, bars=h)
            for name, h in horizons for level in LEVELS for method in METHODS]
