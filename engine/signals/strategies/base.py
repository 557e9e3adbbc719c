"""The strategy port: a causal function from a bar frame to per-bar signal events.

A strategy computes over a whole frame at once (backtests) and answers for the last bar of
the history so far (live, `latest`); both read the same arrays, so they agree by
construction, and `tests/engine/test_strategies_lookahead.py` proves it on real data.

Signals are events: BUY on the bar an entry condition becomes true, SELL on the bar the
opposite one does, HOLD otherwise. `stance` turns events into the position they imply.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from engine.errors import DataError
from engine.signals.indicators import ATR_PERIOD
from engine.types import Side

if TYPE_CHECKING:
    import pandas

COLUMNS = ("open", "high", "low", "close", "volume")
FLOW_PREFIX = "flow_"  # order-flow feature columns (engine.microstructure.tracker FEATURES)


@dataclass(frozen=True, slots=True, eq=False)
class SignalArrays:
    """Per-bar signals: `side` int8 (1 BUY, -1 SELL, 0 HOLD), `confidence` float64 in
    [0, 1] and 0 wherever side is HOLD."""

    side: np.ndarray
    confidence: np.ndarray

    def __post_init__(self) -> None:
        if self.side.shape != self.confidence.shape or self.side.ndim != 1:
            raise ValueError(
                f"side and confidence must be 1-D arrays of one length, got "
                f"{self.side.shape} and {self.confidence.shape}"
            )

    def __len__(self) -> int:
        return len(self.side)


@dataclass(frozen=True, slots=True)
class Prices:
    """The float64 columns of a frame, read once. `flow`: per-bar order-flow features by
    name (the frame's `flow_*` columns without the prefix), when the data has a book
    stream (engine.microstructure); None otherwise."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    flow: dict[str, np.ndarray] | None = None

    @classmethod
    def of(cls, frame: pandas.DataFrame) -> Prices:
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise DataError(
                f"bar frame lacks column(s) {', '.join(missing)} "
                f"(expected {', '.join(COLUMNS)}; got {', '.join(map(str, frame.columns))})"
            )
        flow = {str(c)[len(FLOW_PREFIX):]: frame[c].to_numpy(dtype=np.float64)
                for c in frame.columns if str(c).startswith(FLOW_PREFIX)}
        return cls(*(frame[c].to_numpy(dtype=np.float64) for c in COLUMNS), flow=flow or None)


def events(
    buy: np.ndarray,
    sell: np.ndarray,
    buy_confidence: np.ndarray,
    sell_confidence: np.ndarray,
    valid: np.ndarray,
) -> SignalArrays:
    """Signal arrays from per-bar entry conditions: an event fires on the bar a condition
    becomes true after a bar where it could be evaluated and was false.

    Requiring the previous bar to be `valid` keeps the end of the warm-up from looking like
    a fresh event. Confidence is clipped to [0, 1] and NaN-safe (NaN counts as 0).
    """
    prev_valid = np.zeros(len(valid), dtype=bool)
    prev_valid[1:] = valid[:-1]
    buy = buy & valid
    sell = sell & valid
    new_buy = buy & prev_valid & ~np.concatenate(([False], buy[:-1]))
    new_sell = sell & prev_valid & ~np.concatenate(([False], sell[:-1]))
    # A bar cannot both start a long and a short condition; if both rules fire (possible
    # only with degenerate parameters) the bar is left as HOLD rather than guessed.
    both = new_buy & new_sell
    new_buy &= ~both
    new_sell &= ~both
    side = np.zeros(len(valid), dtype=np.int8)
    side[new_buy] = 1
    side[new_sell] = -1
    confidence = np.zeros(len(valid))
    confidence[new_buy] = np.nan_to_num(buy_confidence[new_buy], nan=0.0)
    confidence[new_sell] = np.nan_to_num(sell_confidence[new_sell], nan=0.0)
    np.clip(confidence, 0.0, 1.0, out=confidence)
    return SignalArrays(side, confidence)


def stance(arrays: SignalArrays) -> SignalArrays:
    """Carry each BUY/SELL (and its confidence) forward until the next one: the position the
    events imply. HOLD before the first event."""
    n = len(arrays.side)
    last = np.where(arrays.side != 0, np.arange(n), -1)
    np.maximum.accumulate(last, out=last)
    seen = last >= 0
    side = np.zeros(n, dtype=np.int8)
    confidence = np.zeros(n)
    side[seen] = arrays.side[last[seen]]
    confidence[seen] = arrays.confidence[last[seen]]
    return SignalArrays(side, confidence)


# Wilder's smoothing keeps (1 - 1/p) of the past each bar: after 40 p bars that is
# e^-40 < 1e-17, below float64 resolution (2.2e-16); an EMA, 2/(p+1), forgets faster.
RECURSIVE_MEMORY = 40


class Strategy(ABC):
    """A named, parameterised, causal signal generator.

    Subclasses set `id`, `Params` (a frozen dataclass whose defaults are desk.toml's) and
    implement `warmup` and `signals`. Parameter checks beyond types go in `check`, which
    returns human-readable problems (e.g. "fast (30) must be less than slow (10)").
    """

    id: ClassVar[str]
    Params: ClassVar[type]

    def __init__(self, params: Any = None) -> None:
        if params is None:
            params = self.Params()
        if not isinstance(params, self.Params):
            raise TypeError(f"{self.id}: params must be {self.Params.__qualname__}")
        problems = self.check(params)
        if problems:
            from engine.errors import ConfigError

            raise ConfigError(f"{self.id}: {'; '.join(problems)}")
        self.params = params

    @classmethod
    def check(cls, params: Any) -> list[str]:
        """Problems with `params` (an empty list when they are usable)."""
        problems = []
        for f in fields(params):
            value = getattr(params, f.name)
            if f.name in cls.period_fields() and (not isinstance(value, int) or value < 1):
                problems.append(f"{f.name} must be a positive integer, got {value!r}")
        return problems

    @classmethod
    def period_fields(cls) -> tuple[str, ...]:
        """Names of the integer bar-count parameters."""
        return tuple(f.name for f in fields(cls.Params) if f.type in (int, "int"))

    @property
    @abstractmethod
    def warmup(self) -> int:
        """Bars before the first bar whose signal can be non-HOLD."""

    @property
    def memory(self) -> int:
        """Bars a live window must hold for the latest signal to equal the one computed over
        the whole history. Indicators over finite windows need only the warm-up; a recursive
        average (EMA, Wilder's RSI and ATR) remembers every bar, with a weight that decays
        geometrically: past `RECURSIVE_MEMORY` periods a bar weighs less than float
        resolution. Every strategy may use the ATR; those with other recursive averages
        name their longest period in `recursive_period`."""
        return max(self.warmup, RECURSIVE_MEMORY * max(ATR_PERIOD,
                                                       self.recursive_period))

    @property
    def recursive_period(self) -> int:
        """The longest period of a recursive average (EMA, Wilder) the signals use."""
        return 0

    @abstractmethod
    def signals(self, prices: Prices) -> SignalArrays:
        """Per-bar events over `prices` (causal: bar t reads bars <= t only)."""

    def compute(self, frame: pandas.DataFrame) -> SignalArrays:
        """Signals for every bar of `frame` (columns open, high, low, close, volume)."""
        return self.signals(Prices.of(frame))

    def latest(self, frame: pandas.DataFrame) -> tuple[Side, float]:
        """The signal of the last bar of `frame`, computed over the whole frame."""
        return self.latest_of(Prices.of(frame))

    def latest_of(self, prices: Prices) -> tuple[Side, float]:
        """`latest` over columns already read (the live engine shares them between
        strategies)."""
        if len(prices.close) == 0:
            return Side.HOLD, 0.0
        arrays = self.signals(prices)
        return Side(int(arrays.side[-1])), float(arrays.confidence[-1])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


def squash(strength: np.ndarray) -> np.ndarray:
    """Map a non-negative signal strength to a confidence in [0, 1): tanh, negatives to 0.

    tanh is ~linear for weak signals and saturates for strong ones, so one unit of strength
    (one ATR, one σ...) reads as 0.76 and three as 0.995.
    """
    with np.errstate(invalid="ignore"):
        return np.tanh(np.maximum(strength, 0.0))


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den without warnings: x/0 is inf (a move out of a flat market), 0/0 is NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / den
