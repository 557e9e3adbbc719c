"""GARCH(1,1) volatility with `arch`, and the forecast recursion of a fitted model.

arch fits the model (constant mean, GARCH(1,1), normal or Student-t errors) on returns
scaled by SCALE (percent), and further by a power of ten when their variance is outside
arch's range (`rescale=True`): minute returns in percent are too small for its optimizer,
which then stopped near its starting values, 30-100 log-likelihood units below the optimum
on 10k simulated minute returns. The model keeps its total `scale`. In scaled units, with
residuals e_t = r_t - mu,

    sigma2[t+1] = omega + alpha * e_t**2 + beta * sigma2[t]
    sigma2[t+k] = omega + (alpha + beta) * sigma2[t+k-1]          (k >= 2, forecasts)

`GarchModel.forecast_after` runs exactly this recursion from the fit's last conditional
variance over new returns, so a model fitted at bar f forecasts every later bar without
refitting; at the fit's own last bar it equals arch's `res.forecast(horizon=h)` (a test
holds it to arch's value).

The forecast of a bar is the mean per-bar variance of the next `horizon` bars, in return
units. Its "high" probability is P(realized per-bar variance of the horizon > threshold**2)
when each of the h returns is N(0, forecast): the mean of h squared returns is then
forecast * chi2_h / h, so P = Q(h/2, h * threshold**2 / (2 * forecast)) (regularized upper
incomplete gamma). With Student-t errors this is an approximation.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

import numpy as np

SCALE = 100.0  # arch works on percent returns (then rescales by powers of ten if needed)


@dataclass(frozen=True)
class GarchModel:
    mu: float  # in scaled units
    omega: float
    alpha: float
    beta: float
    nu: float | None  # Student-t degrees of freedom, None for normal errors
    last_sigma2: float  # conditional variance of the fit's last bar (scaled units)
    last_resid: float  # residual of the fit's last bar (scaled units)
    distribution: str
    loglikelihood: float  # arch's, of the scaled returns
    # Returns x scale are the model's units: SCALE times arch's own rescaling (a model
    # stored before rescaling was kept has the class default, SCALE).
    scale: float = SCALE

    def params(self) -> dict:
        out = {"mu": self.mu, "omega": self.omega, "alpha": self.alpha, "beta": self.beta,
               "scale": self.scale}
        if self.nu is not None:
            out["nu"] = self.nu
        return out

    def next_variances(self, new_returns: np.ndarray) -> np.ndarray:
        """sigma2[t+1 | t] for each bar t of `new_returns` (the returns after the fit's last
        bar), scaled units; element -1 is the forecast from before them (the fit's own)."""
        resid2 = (np.asarray(new_returns, dtype=np.float64) * self.scale - self.mu) ** 2
        first = self.omega + self.alpha * self.last_resid ** 2 + self.beta * self.last_sigma2
        beta, terms = self.beta, self.omega + self.alpha * resid2
        # s[t+1] = omega + alpha e_t^2 + beta s[t]: one multiply-add per bar, exact.
        return np.fromiter(accumulate(terms, lambda s, x: beta * s + x, initial=first),
                           dtype=np.float64, count=len(terms) + 1)

    def next_from(self, sigma2_next: float, new_returns: np.ndarray) -> float:
        """sigma2[t+1 | t] after `new_returns`, from sigma2 of the first of them given before
        it (`sigma2_next`, scaled units): the recursion of `next_variances`, resumed."""
        s = sigma2_next
        for r in np.asarray(new_returns, dtype=np.float64):
            s = self.omega + self.alpha * (r * self.scale - self.mu) ** 2 + self.beta * s
        return s

    def horizon_mean(self, one_step: np.ndarray, horizon: int) -> np.ndarray:
        """Mean of sigma2[t+1..t+h | t] from the one-step forecasts, in return units."""
        persistence = self.alpha + self.beta
        total = np.zeros_like(one_step)
        step = one_step.copy()
        for _ in range(horizon):
            total += step
            step = self.omega + persistence * step
        return total / horizon / self.scale ** 2

    def forecast_after(self, new_returns: np.ndarray, horizon: int) -> np.ndarray:
        """Per-bar variance forecast (return units) of the next `horizon` bars, made at the
        close of each bar of `new_returns` (which follow the fit's last bar)."""
        return self.horizon_mean(self.next_variances(new_returns)[1:], horizon)

    def forecast_at_fit_end(self, horizon: int) -> np.ndarray:
        """sigma2[T+1..T+h | T] of the fit's last bar T, scaled units (arch's convention)."""
        out = np.empty(horizon)
        step = self.next_variances(np.empty(0))[0]
        for k in range(horizon):
            out[k] = step
            step = self.omega + (self.alpha + self.beta) * step
        return out


def fit_garch(returns: np.ndarray, distribution: str = "normal") -> GarchModel:
    """Fit constant-mean GARCH(1,1) on log returns (return units) with arch."""
    from arch import arch_model

    r = np.asarray(returns, dtype=np.float64)
    if len(r) < 50 or not np.all(np.isfinite(r)):
        raise ValueError(f"GARCH needs at least 50 finite returns, got {len(r)}")
    dist = "t" if distribution == "t" else "normal"
    model = arch_model(r * SCALE, mean="Constant", vol="GARCH", p=1, q=1, dist=dist,
                       rescale=True)
    res = model.fit(disp="off", show_warning=False)
    p = res.params
    scale = SCALE * float(res.scale)
    resid = r[-1] * scale - float(p["mu"])
    return GarchModel(
        mu=float(p["mu"]), omega=float(p["omega"]), alpha=float(p["alpha[1]"]),
        beta=float(p["beta[1]"]), nu=float(p["nu"]) if dist == "t" else None,
        last_sigma2=float(res.conditional_volatility[-1] ** 2), last_resid=resid,
        distribution=dist, loglikelihood=float(res.loglikelihood), scale=scale,
    )


def high_probability(variance: np.ndarray, threshold: float, horizon: int) -> np.ndarray:
    """P(realized per-bar variance of the horizon > threshold**2) (module doc)."""
    from scipy.special import gammaincc

    v = np.maximum(np.asarray(variance, dtype=np.float64), 1e-300)
    return gammaincc(horizon / 2.0, horizon * threshold ** 2 / (2.0 * v))
