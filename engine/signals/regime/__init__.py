"""Market regimes: a Gaussian hidden Markov model on returns, labelled bull/bear/sideways.

    fitted = GaussianHMM(n_states=3).fit(returns)
    probs = fitted.filtered(returns)      # causal, (n, K)
    live = fitted.filter(); live.update(r)
    adapt(fitted.labels[probs[-1].argmax()])  # -> RegimeParams

The desk's rule (fit window, refit cadence, labels) is `RegimePolicy`: `.run(close)` for a
backtest, `.tracker()` live; the two agree bar for bar.
"""

from engine.signals.regime.fit import GaussianHMM
from engine.signals.regime.inference import HMMParams
from engine.signals.regime.labels import BEAR, BULL, LABELS, SIDEWAYS, label_states
from engine.signals.regime.model import FittedHMM
from engine.signals.regime.params import DEFAULT_REGIME_PARAMS, RegimeParams, adapt
from engine.signals.regime.policy import RegimePolicy, RegimeRun, RegimeTracker
from engine.signals.regime.stream import RegimeFilter

__all__ = [
    "BEAR",
    "BULL",
    "DEFAULT_REGIME_PARAMS",
    "LABELS",
    "SIDEWAYS",
    "FittedHMM",
    "GaussianHMM",
    "HMMParams",
    "RegimeFilter",
    "RegimeParams",
    "RegimePolicy",
    "RegimeRun",
    "RegimeTracker",
    "adapt",
    "label_states",
]
