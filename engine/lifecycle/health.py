"""Strategy health and the retirement lifecycle: ACTIVE -> DEGRADED -> SUSPENDED -> RETIRED.

Health is assessed after each of a strategy's closed shadow trades (its own stance held from
close to close, traded or not) over the trailing `window` of them, once it has at least
`min_trades`. Four checks, thresholds in [strategies.retirement]:

    expectancy     mean return            >= min_expectancy
    profit factor  gross profit / loss    >= min_profit_factor   (no loss: passes)
    win rate       share of returns > 0   >= min_win_rate
    drawdown       compounded, from peak  <= max_drawdown

An assessment is *unhealthy* when at least `failed_checks` of them fail.

    ACTIVE    -> DEGRADED   on an unhealthy assessment (weight x degraded_factor, 0.5)
    DEGRADED  -> ACTIVE     after `recovery_trades` consecutive healthy assessments
    DEGRADED  -> SUSPENDED  after `suspend_after` consecutive unhealthy ones (weight 0)
    SUSPENDED -> DEGRADED   once `cooldown_hours` have passed since the suspension and the
                            shadow trades closed since are healthy (`recovery_trades` of
                            them at least, assessed over those trades alone)
    SUSPENDED -> RETIRED    after `retire_after_days` suspended (0: never automatically)
    any       -> any        by hand (`desk strategies set-status`, the pane): actor user.

A RETIRED strategy stays retired until set otherwise by hand. Times are market time (the
trade's close), so live and backtests follow the same clock.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.lifecycle.adaptive import compounded_drawdown


class Status(enum.StrEnum):
    ACTIVE = "ACTIVE"
    DEGRADED = "DEGRADED"
    SUSPENDED = "SUSPENDED"
    RETIRED = "RETIRED"


@dataclass(frozen=True, slots=True)
class RetirementSettings:
    """[strategies.retirement] of desk.toml (documented there)."""

    enabled: bool = True
    window: int = 30
    min_trades: int = 10
    min_expectancy: float = 0.0
    min_profit_factor: float = 1.0
    min_win_rate: float = 0.35
    max_drawdown: float = 0.20
    failed_checks: int = 2
    degraded_factor: float = 0.5
    suspend_after: int = 3
    recovery_trades: int = 5
    cooldown_hours: float = 24.0
    retire_after_days: float = 0.0


def weight_factor(status: Status, settings: RetirementSettings) -> float:
    if status is Status.ACTIVE:
        return 1.0
    if status is Status.DEGRADED:
        return settings.degraded_factor
    return 0.0


def assess(returns: Sequence[float], settings: RetirementSettings) -> dict:
    """The four health metrics of `returns` and which checks fail."""
    r = list(returns)
    profit = sum(x for x in r if x > 0)
    loss = -sum(x for x in r if x < 0)
    metrics = {
        "trades": len(r),
        "expectancy": sum(r) / len(r) if r else 0.0,
        "profit_factor": profit / loss if loss > 0 else None,
        "win_rate": sum(1 for x in r if x > 0) / len(r) if r else 0.0,
        "drawdown": compounded_drawdown(r),
    }
    failed = []
    if metrics["expectancy"] < settings.min_expectancy:
        failed.append("expectancy")
    pf = metrics["profit_factor"]
    if pf is not None and pf < settings.min_profit_factor:
        failed.append("profit_factor")
    if metrics["win_rate"] < settings.min_win_rate:
        failed.append("win_rate")
    if metrics["drawdown"] > settings.max_drawdown:
        failed.append("drawdown")
    metrics["failed"] = failed
    metrics["healthy"] = len(failed) < settings.failed_checks
    return metrics


@dataclass
class Health:
    """One strategy's lifecycle state (per symbol book)."""

    status: Status = Status.ACTIVE
    returns: deque = field(default_factory=deque)  # trailing window of shadow returns
    unhealthy_run: int = 0
    healthy_run: int = 0
    since: datetime | None = None  # when the current status began
    since_suspended: list = field(default_factory=list)  # shadow returns since suspension
    reason: str = ""

    def record(self, value: float, ts: datetime, settings: RetirementSettings
               ) -> tuple[Status, Status, str, dict] | None:
        """Take one closed shadow trade; returns (old, new, reason, metrics) on a change."""
        self.returns.append(float(value))
        while len(self.returns) > settings.window:
            self.returns.popleft()
        if self.status is Status.SUSPENDED:
            self.since_suspended.append(float(value))
        if not settings.enabled or self.status is Status.RETIRED:
            return None
        if self.status is Status.SUSPENDED:
            return self._suspended(ts, settings)
        if len(self.returns) < settings.min_trades:
            return None
        metrics = assess(self.returns, settings)
        if metrics["healthy"]:
            self.healthy_run += 1
            self.unhealthy_run = 0
        else:
            self.unhealthy_run += 1
            self.healthy_run = 0
        failed = ", ".join(metrics["failed"]) or "none"
        if self.status is Status.ACTIVE and not metrics["healthy"]:
            return self._move(Status.DEGRADED, ts, f"unhealthy: {failed}", metrics)
        if self.status is Status.DEGRADED:
            if self.unhealthy_run >= settings.suspend_after:
                return self._move(Status.SUSPENDED, ts,
                                  f"{self.unhealthy_run} unhealthy assessments in a row: "
                                  f"{failed}", metrics)
            if self.healthy_run >= settings.recovery_trades:
                return self._move(Status.ACTIVE, ts,
                                  f"recovered: {self.healthy_run} healthy assessments",
                                  metrics)
        return None

    def _suspended(self, ts: datetime, settings: RetirementSettings):
        if self.since is None or self.since.year == 1:
            self.since = ts  # undated (set by hand without a time): the clock starts now
        since = _comparable(self.since, ts)
        if settings.retire_after_days > 0 and ts - since >= timedelta(
                days=settings.retire_after_days):
            metrics = assess(self.since_suspended, settings)
            return self._move(Status.RETIRED, ts,
                              f"suspended for {settings.retire_after_days:g} days", metrics)
        if ts - since < timedelta(hours=settings.cooldown_hours):
            return None
        recent = self.since_suspended[-settings.window:]
        if len(recent) < max(settings.recovery_trades, 1):
            return None
        metrics = assess(recent, settings)
        if metrics["healthy"]:
            return self._move(Status.DEGRADED, ts,
                              f"shadow trades recovered after the cool-down "
                              f"({len(recent)} trades)", metrics)
        return None

    def force(self, status: Status, ts: datetime, reason: str) -> tuple[Status, Status]:
        """A status set by hand: counters start over."""
        old = self.status
        self._move(status, ts, reason, {})
        return old, status

    def _move(self, status: Status, ts: datetime, reason: str, metrics: dict):
        old = self.status
        self.status = status
        self.since = ts
        self.reason = reason
        self.unhealthy_run = 0
        self.healthy_run = 0
        if status is Status.SUSPENDED:
            self.since_suspended = []
        if status is Status.DEGRADED and old is Status.SUSPENDED:
            # Back on probation: the window restarts from the trades that earned it.
            self.returns = deque(self.since_suspended)
        return old, status, reason, metrics


def _comparable(since: datetime | None, ts: datetime) -> datetime:
    """`since` as a time `ts` can be subtracted from: an undated status (set without a
    time) counts from `ts`; a naive time is read as UTC."""
    if since is None or since.year == 1:
        return ts
    if since.tzinfo is None and ts.tzinfo is not None:
        return since.replace(tzinfo=ts.tzinfo)
    if since.tzinfo is not None and ts.tzinfo is None:
        return since.replace(tzinfo=None)
    return since
