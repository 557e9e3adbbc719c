"""Fixed-window rolling statistics in O(1) per value.

Conventions (those of pandas' `rolling(window, min_periods)`): the window holds the newest
`window` values including the current one; the standard deviation is the sample one
(ddof = 1); a z-score is (x - mean) / std of the window that includes x. With fewer than
`min_periods` values, or a window of identical values, the z-score is NaN.

Running sums are kept relative to a shift K (the mean when they were last rebuilt), which
avoids the cancellation of sum-of-squares formulas on large values; the sums are rebuilt
from the ring every `window` values so rounding cannot accumulate.
"""

from __future__ import annotations

import math

NAN = float("nan")


class RollingStats:
    """Mean, sample standard deviation and z-score over the last `window` values."""

    __slots__ = ("window", "min_periods", "_ring", "_next", "_count", "_shift", "_sum",
                 "_sumsq", "_since_rebuild")

    def __init__(self, window: int, min_periods: int | None = None) -> None:
        if window < 2:
            raise ValueError(f"window must be at least 2, got {window}")
        self.window = window
        self.min_periods = max(2, min(window, min_periods if min_periods else window))
        self._ring = [0.0] * window
        self._next = 0
        self._count = 0
        self._shift = 0.0
        self._sum = 0.0
        self._sumsq = 0.0
        self._since_rebuild = 0

    def __len__(self) -> int:
        return self._count

    def push(self, value: float) -> float:
        """Add `value` (dropping the oldest once the window is full); its z-score."""
        if self._count == 0:
            self._shift = value
        ring, i = self._ring, self._next
        if self._count == self.window:
            old = ring[i] - self._shift
            self._sum -= old
            self._sumsq -= old * old
        else:
            self._count += 1
        ring[i] = value
        self._next = i + 1 if i + 1 < self.window else 0
        d = value - self._shift
        self._sum += d
        self._sumsq += d * d
        self._since_rebuild += 1
        if self._since_rebuild >= self.window:
            self._rebuild()
        n = self._count
        if n < self.min_periods:
            return NAN
        total = self._sum
        var = (self._sumsq - total * total / n) / (n - 1)
        mean = self._shift + total / n
        if var <= (1e-12 * (abs(mean) + 1e-300)) ** 2:
            return NAN
        return (value - mean) / math.sqrt(var)

    def _rebuild(self) -> None:
        values = self._ring if self._count == self.window else self._ring[: self._count]
        self._shift = math.fsum(values) / self._count
        shift = self._shift
        self._sum = math.fsum(v - shift for v in values)
        self._sumsq = math.fsum((v - shift) * (v - shift) for v in values)
        self._since_rebuild = 0

    @property
    def mean(self) -> float:
        return self._shift + self._sum / self._count if self._count else NAN

    @property
    def std(self) -> float:
        n = self._count
        if n < 2:
            return NAN
        var = (self._sumsq - self._sum * self._sum / n) / (n - 1)
        return math.sqrt(var) if var > 0.0 else 0.0

    def z(self, value: float) -> float:
        """(value - mean) / std of the current window; NaN before `min_periods` values or
        when the window has no spread (relative to its scale)."""
        n = self._count
        if n < self.min_periods:
            return NAN
        mean = self._shift + self._sum / n
        var = (self._sumsq - self._sum * self._sum / n) / (n - 1)
        # A spread below rounding noise of the values is no spread: z would be noise.
        scale = abs(mean) + 1e-300
        if var <= (1e-12 * scale) ** 2:
            return NAN
        return (value - mean) / math.sqrt(var)


class RollingSum:
    """Sum of the last `window` values, exact to rounding (rebuilt every `window` values)."""

    __slots__ = ("window", "_ring", "_next", "_count", "_sum", "_since_rebuild")

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self.window = window
        self._ring = [0.0] * window
        self._next = 0
        self._count = 0
        self._sum = 0.0
        self._since_rebuild = 0

    def __len__(self) -> int:
        return self._count

    def push(self, value: float) -> float:
        i = self._next
        if self._count == self.window:
            self._sum -= self._ring[i]
        else:
            self._count += 1
        self._ring[i] = value
        self._next = i + 1 if i + 1 < self.window else 0
        self._sum += value
        self._since_rebuild += 1
        if self._since_rebuild >= self.window:
            self._sum = math.fsum(self._ring[: self._count])
            self._since_rebuild = 0
        return self._sum

    @property
    def total(self) -> float:
        return self._sum
