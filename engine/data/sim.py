"""The simulated market: the desk's default feed, deterministic for a seed.

Model, per bar t and symbol i (log returns):

    r[t, i] = drift[regime_t] * s[t, i] + s[t, i] * exp(h_t - H_SD**2) * eps[t, i]

- regime_t: a bull / bear / sideways Markov chain shared by all symbols; a regime lasts a
  few hundred bars on average whatever the interval (a year-long cycle on daily bars, an
  intraday trend on minute bars), so any chart of a few hundred bars shows regimes.
- s[t, i]: the symbol's calm volatility scaled to the bar interval (sqrt of time) times the
  regime's volatility multiplier; the drift is in units of it so trends stay visible.
- h_t: a shared AR(1) log-volatility (volatility clustering).
- eps: multivariate Student-t (fat tails) with a one-factor correlation, via Cholesky.

Bars are generated in fixed chunks, each from its own generator seeded by (seed, chunk),
so history(n) followed by k next_bars() is exactly history(n + k).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from engine.data.frame import COLUMNS
from engine.data.microstructure import (
    OrderBook,
    TradePrint,
    synth_book,
    synth_flow,
    synth_trades,
)
from engine.data.symbols import correlation, profile
from engine.errors import DataError
from engine.types import Bar

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
CHUNK = 4096
SECONDS_PER_YEAR = 365.25 * 86400  # crypto trades around the clock


@dataclass(frozen=True, slots=True)
class Regime:
    name: str
    drift: float  # mean log return per bar, in units of the bar's regime volatility
    vol: float  # volatility multiplier
    mean_bars: float  # expected length in bars


REGIMES = (
    Regime("bull", 0.06, 0.9, 400.0),
    Regime("bear", -0.07, 1.4, 250.0),
    Regime("sideways", 0.0, 0.7, 300.0),
)
REGIME_NAMES = tuple(r.name for r in REGIMES)
# Where the chain goes when it leaves a regime (row: from). Bull and bear mostly cool
# down into sideways before turning.
JUMPS = np.array([[0.0, 0.35, 0.65], [0.45, 0.0, 0.55], [0.5, 0.5, 0.0]])

PHI = 0.985  # persistence of log-volatility per bar
H_SD = 0.45  # stationary standard deviation of log-volatility
T_DF = 5.0  # Student-t degrees of freedom of the shocks
GAP = 0.05  # open-vs-previous-close gap, in bar volatilities
RANGE = 0.6  # intra-bar excursion beyond open/close, in bar volatilities


def transition_matrix() -> np.ndarray:
    """The per-bar regime transition matrix implied by REGIMES and JUMPS."""
    leave = np.array([1.0 / r.mean_bars for r in REGIMES])
    matrix = JUMPS * leave[:, None]
    np.fill_diagonal(matrix, 1.0 - leave)
    return matrix


class SimMarket:
    """A deterministic multi-symbol market: batch history, then a bar-by-bar stream."""

    def __init__(
        self,
        symbols: Sequence[str],
        *,
        seed: int,
        freq: str = "1min",
        start: datetime | None = None,
    ) -> None:
        self.symbols = tuple(symbols)
        if not self.symbols:
            raise DataError("sim: no symbols")
        if len(set(self.symbols)) != len(self.symbols):
            raise DataError(f"sim: duplicate symbols in {', '.join(self.symbols)}")
        if seed < 0:
            raise DataError(f"sim: seed must be >= 0, got {seed}")
        self.seed = int(seed)
        self.freq = freq
        try:
            step = pd.Timedelta(freq)
        except (ValueError, TypeError) as exc:
            raise DataError(f"sim: bad bar interval {freq!r} (e.g. 1min, 1h, 1D)") from exc
        if step <= pd.Timedelta(0):
            raise DataError(f"sim: bar interval must be positive, got {freq!r}")
        self.interval = step.to_pytimedelta()
        self._step_ns = int(step.value)
        start_ts = pd.Timestamp(start if start is not None else DEFAULT_START)
        start_ts = (
            start_ts.tz_localize("UTC") if start_ts.tz is None else start_ts.tz_convert("UTC")
        )
        self.start = start_ts.to_pydatetime()
        self._start_ns = int(start_ts.as_unit("ns").value)

        profiles = [profile(s) for s in self.symbols]
        self.correlation = correlation(profiles)
        self._chol = np.linalg.cholesky(self.correlation)
        bar_years = step.total_seconds() / SECONDS_PER_YEAR
        self._bar_vol = np.array([p.annual_vol for p in profiles]) * math.sqrt(bar_years)
        bar_days = step.total_seconds() / 86400
        self._bar_units = np.array([p.daily_notional / p.price * bar_days for p in profiles])
        self._log_close = np.log([p.price for p in profiles])
        self._regime_vol = np.array([r.vol for r in REGIMES])
        self._regime_drift = np.array([r.drift for r in REGIMES])
        self._jump_cdf = np.cumsum(JUMPS, axis=1)

        self._chunks: list[dict[str, np.ndarray]] = []
        self._regime = 0
        self._regime_left = 0
        self._zi = np.zeros(1)
        self._cursor = 0

    # -- public API ---------------------------------------------------------------------

    @property
    def position(self) -> int:
        """Bars handed out so far (history plus stream)."""
        return self._cursor

    @property
    def regimes(self) -> np.ndarray:
        """True regime index (into REGIME_NAMES) of every bar handed out so far."""
        return self._concat("regime", self._cursor)

    def history(self, n: int) -> dict[str, pd.DataFrame]:
        """The first `n` bars of every symbol; the stream continues after them."""
        if n < 0:
            raise DataError(f"sim: history needs n >= 0, got {n}")
        self._ensure(n)
        index = pd.DatetimeIndex(
            pd.to_datetime(self._start_ns + self._step_ns * np.arange(n), unit="ns", utc=True),
            name="ts",
        )
        arrays = {c: self._concat(c, n) for c in COLUMNS}
        self._cursor = n
        return {
            sym: pd.DataFrame({c: arrays[c][:, i] for c in COLUMNS}, index=index)
            for i, sym in enumerate(self.symbols)
        }

    def next_bars(self) -> dict[str, Bar]:
        """The next bar of every symbol."""
        i = self._cursor
        self._ensure(i + 1)
        self._cursor = i + 1
        return {sym: self._bar(i, k) for k, sym in enumerate(self.symbols)}

    def last_bar(self, symbol: str) -> Bar:
        if self._cursor == 0:
            raise DataError("sim: no bar yet; call history() or next_bars() first")
        return self._bar(self._cursor - 1, self._index(symbol))

    def book(self, symbol: str, levels: int = 10) -> OrderBook:
        """Bids and asks around the last close; the same state gives the same book."""
        bar = self.last_bar(symbol)
        k = self._index(symbol)
        chunk, j = divmod(self._cursor - 1, CHUNK)
        vol = float(self._chunks[chunk]["sigma"][j, k])
        rng = np.random.default_rng([self.seed, self._cursor, k, 1])
        return synth_book(bar, vol, levels, rng)

    def trades(self, symbol: str) -> list[TradePrint]:
        """A few trade prints of the last bar, within its low and high."""
        bar = self.last_bar(symbol)
        rng = np.random.default_rng([self.seed, self._cursor, self._index(symbol), 2])
        return synth_trades(bar, self.interval, rng)

    def flow(self, symbol: str, updates: int = 20, levels: int = 5) -> list[OrderBook | TradePrint]:
        """The last bar's stream of book updates and trades (engine.data.microstructure
        synth_flow); the same state gives the same stream."""
        bar = self.last_bar(symbol)
        k = self._index(symbol)
        chunk, j = divmod(self._cursor - 1, CHUNK)
        vol = float(self._chunks[chunk]["sigma"][j, k])
        rng = np.random.default_rng([self.seed, self._cursor, k, 3])
        return synth_flow(bar, vol, self.interval, updates, levels, rng)

    # -- internals ----------------------------------------------------------------------

    def _index(self, symbol: str) -> int:
        try:
            return self.symbols.index(symbol)
        except ValueError:
            raise DataError(f"sim: unknown symbol {symbol!r}") from None

    def _bar(self, i: int, k: int) -> Bar:
        chunk, j = divmod(i, CHUNK)
        data = self._chunks[chunk]
        ts = pd.Timestamp(self._start_ns + self._step_ns * i, unit="ns", tz="UTC")
        values = [float(data[c][j, k]) for c in COLUMNS]
        return Bar(self.symbols[k], ts.to_pydatetime(), *values)

    def _concat(self, key: str, n: int) -> np.ndarray:
        needed = -(-n // CHUNK)
        if needed == 0:
            shape = (0,) if key == "regime" else (0, len(self.symbols))
            return np.empty(shape)
        return np.concatenate([c[key] for c in self._chunks[:needed]])[:n]

    def _ensure(self, n: int) -> None:
        while len(self._chunks) * CHUNK < n:
            self._chunks.append(self._generate_chunk(len(self._chunks)))

    def _regime_path(self, rng: np.random.Generator) -> np.ndarray:
        # Run lengths are geometric, so the loop runs once per regime change, not per bar.
        path = np.empty(CHUNK, dtype=np.int8)
        filled = 0
        while filled < CHUNK:
            if self._regime_left == 0:
                self._regime = int(np.searchsorted(self._jump_cdf[self._regime], rng.random()))
                self._regime_left = int(rng.geometric(1.0 / REGIMES[self._regime].mean_bars))
            take = min(self._regime_left, CHUNK - filled)
            path[filled : filled + take] = self._regime
            filled += take
            self._regime_left -= take
        return path

    def _generate_chunk(self, number: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, number])
        n_sym = len(self.symbols)
        if number == 0:
            self._regime = int(rng.integers(len(REGIMES)))
            self._regime_left = int(rng.geometric(1.0 / REGIMES[self._regime].mean_bars))
            # Start the log-volatility in its stationary distribution.
            self._zi = np.array([PHI * H_SD * rng.standard_normal()])
        regime = self._regime_path(rng)

        eta = rng.standard_normal(CHUNK) * (H_SD * math.sqrt(1 - PHI**2))
        h, self._zi = _log_volatility(eta, self._zi)
        # Shared chi-square mixing gives a multivariate t: fat tails, same correlation.
        mixing = np.sqrt(rng.chisquare(T_DF, CHUNK) / (T_DF - 2))
        eps = (rng.standard_normal((CHUNK, n_sym)) @ self._chol.T) / mixing[:, None]

        calm = self._bar_vol[None, :] * self._regime_vol[regime][:, None]
        sigma = calm * np.exp(h - H_SD**2)[:, None]
        returns = self._regime_drift[regime][:, None] * calm + sigma * eps
        log_close = self._log_close + np.cumsum(returns, axis=0)
        log_prev = np.vstack([self._log_close, log_close[:-1]])
        self._log_close = log_close[-1]

        gap = GAP * sigma * rng.standard_normal((CHUNK, n_sym))
        open_ = np.exp(log_prev + gap)
        close = np.exp(log_close)
        # Multiplying by >= 1 (dividing for the low) keeps low <= open, close <= high exact.
        high = np.maximum(open_, close) * np.exp(
            RANGE * sigma * np.abs(rng.standard_normal(sigma.shape))
        )
        low = np.minimum(open_, close) / np.exp(
            RANGE * sigma * np.abs(rng.standard_normal(sigma.shape))
        )
        # Busier on big moves and in volatile spells; log-normal noise around that.
        log_volume = (
            0.5 * (np.abs(eps) - 0.8)
            + 0.8 * h[:, None]
            + 0.35 * rng.standard_normal((CHUNK, n_sym))
        )
        volume = self._bar_units[None, :] * np.exp(log_volume)
        return {
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
            "sigma": sigma,
            "regime": regime,
        }


def _log_volatility(eta: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """h_t = eta_t + PHI·h_{t-1}, with `state` = PHI·h_{t-1} carried between chunks: step for
    step the arithmetic of scipy's lfilter([1], [1, -PHI], eta, zi=state), so the market is
    the same to the bit, without importing scipy.signal (about a second cold) for it."""
    out = np.empty(len(eta))
    z = float(state[0])
    for t, e in enumerate(eta.tolist()):
        y = e + z
        out[t] = y
        z = PHI * y
    return out, np.array([z])
