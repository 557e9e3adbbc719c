"""The lifecycle book of one symbol: adaptive weights and each strategy's health, fed with
the strategies' closed shadow trades, and the audit entries their changes make.

Shadow trades (`engine.signals.weighting.virtual_trades`: a strategy's stance held from the
close where it turns to the close where it turns again) measure every strategy alike,
whether the ensemble followed it or not, so a suspended strategy keeps being measured and
can earn its way back. They depend only on prices, so a backtest replays them causally
(the weights at bar t use trades closed at or before t) exactly as the live desk records
them bar by bar.

On a desk that cannot short ([engine] allow_short = false) a SELL stance means "be flat", so
only shadow long trades are a strategy's record there.

Effective weight = adaptive weight (per regime when `per_regime`) x the status factor
(ACTIVE 1, DEGRADED `degraded_factor`, SUSPENDED and RETIRED 0).

Entries (`LifecycleLog`): `weights.updated` {symbol, regime, ts, trades, old, new, scores}
and `strategy.status_changed` {symbol, strategy, old, new, reason, metrics, ts}; actor
"engine", or "user" for a reset or a status set by hand.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.lifecycle.adaptive import AdaptiveSettings, bounded_update, score_terms, target_weight
from engine.lifecycle.health import Health, RetirementSettings, Status, weight_factor

ALL_REGIMES = "all"


@dataclass
class LogEntry:
    kind: str  # "weights.updated" | "strategy.status_changed"
    actor: str
    payload: dict


class LifecycleLog:
    """Where every symbol's book writes its entries: one list shared by the per-symbol
    copies (deepcopy returns the same log), drained by whoever journals them."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []

    def __deepcopy__(self, memo) -> LifecycleLog:
        return self

    def add(self, kind: str, actor: str, payload: dict) -> None:
        self.entries.append(LogEntry(kind, actor, payload))

    def drain(self) -> list[LogEntry]:
        out, self.entries = self.entries, []
        return out


@dataclass
class LifecycleBook:
    base: dict[str, float]
    adaptive: AdaptiveSettings = field(default_factory=AdaptiveSettings)
    retirement: RetirementSettings = field(default_factory=RetirementSettings)
    log: LifecycleLog = field(default_factory=LifecycleLog)
    symbol: str = ""
    window: int = 50  # shadow trades per strategy the score reads ([ensemble] performance_window)
    # A desk that cannot short reads a SELL stance as "be flat": its shadow short trades are
    # not the strategy's record there ([engine] allow_short = false).
    long_only: bool = False
    current: dict[str, dict[str, float]] = field(default_factory=dict)  # regime -> weights
    recent: dict[str, dict[str, deque]] = field(default_factory=dict)  # regime -> returns
    closed: dict[str, int] = field(default_factory=dict)  # regime -> trades since update
    updated_at: dict[str, datetime] = field(default_factory=dict)  # regime -> last update
    health: dict[str, Health] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for sid in self.base:
            self.health.setdefault(sid, Health())

    @property
    def active(self) -> bool:
        """Whether anything here can change a weight."""
        return self.adaptive.enabled or self.retirement.enabled

    def _key(self, regime: str | None) -> str:
        return (regime or "unknown") if self.adaptive.per_regime else ALL_REGIMES

    def adaptive_weights(self, regime: str | None = None) -> dict[str, float]:
        return dict(self.current.get(self._key(regime), self.base))

    def weights(self, regime: str | None = None) -> dict[str, float]:
        """Effective weights: adaptive x status factor (module doc)."""
        adaptive = self.adaptive_weights(regime)
        return {sid: w * weight_factor(self.health[sid].status, self.retirement)
                for sid, w in adaptive.items()}

    def status(self, sid: str) -> Status:
        return self.health[sid].status

    # -- events ------------------------------------------------------------------------

    def record(self, sid: str, value: float, ts: datetime | None, regime: str | None,
               side: int = 1) -> None:
        """One closed shadow trade of `sid` (a return fraction, held `side` +1 long / -1
        short) at `ts` in `regime`. A long-only book ignores short ones."""
        if self.long_only and side < 0:
            return
        when = ts or datetime.min
        change = self.health[sid].record(value, when, self.retirement)
        if change is not None:
            self._status_entry(sid, *change, ts=when, actor="engine")
        if not self.adaptive.enabled:
            return
        key = self._key(regime)
        window = self.recent.setdefault(key, {})
        trades = window.setdefault(sid, deque(maxlen=self.window))
        trades.append(float(value))
        self.closed[key] = self.closed.get(key, 0) + 1
        if self.closed[key] >= self.adaptive.update_every or self._due(key, when):
            self._update(key, when)

    def _due(self, key: str, ts: datetime) -> bool:
        """The schedule: `update_hours` of market time since this regime's last update
        (counted from its first trade)."""
        hours = self.adaptive.update_hours
        if hours <= 0 or ts == datetime.min:
            return False
        last = self.updated_at.setdefault(key, ts)
        return ts - last >= timedelta(hours=hours)

    def _update(self, key: str, ts: datetime) -> None:
        self.closed[key] = 0
        if ts != datetime.min:
            self.updated_at[key] = ts
        old = dict(self.current.get(key, self.base))
        scores: dict[str, dict | None] = {}
        targets: dict[str, float | None] = {}
        for sid in self.base:
            trades = self.recent.get(key, {}).get(sid, ())
            if len(trades) < self.adaptive.min_trades:
                scores[sid], targets[sid] = None, None
                continue
            terms = score_terms(trades)
            scores[sid] = {k: round(v, 6) for k, v in terms.items()}
            targets[sid] = target_weight(self.base[sid], terms["score"], self.adaptive)
        if all(t is None for t in targets.values()):
            return
        new = bounded_update(old, self.base, targets, self.adaptive)
        self.current[key] = new
        self.log.add("weights.updated", "engine", {
            "symbol": self.symbol, "regime": key, "ts": _iso(ts),
            "old": _rounded(old), "new": _rounded(new), "scores": scores,
        })

    def reset_weights(self, ts: datetime | None, actor: str = "user") -> None:
        """Back to the base weights in every regime (the rollback)."""
        old = {key: _rounded(w) for key, w in self.current.items()}
        self.current.clear()
        self.recent.clear()
        self.closed.clear()
        self.updated_at.clear()
        self.log.add("weights.updated", actor, {
            "symbol": self.symbol, "regime": "all", "ts": _iso(ts), "reset": True,
            "old": old, "new": _rounded(self.base), "scores": {},
        })

    def set_status(self, sid: str, status: Status, reason: str, ts: datetime | None,
                   actor: str = "user") -> None:
        if sid not in self.health:
            raise KeyError(sid)
        old, new = self.health[sid].force(status, ts or datetime.min, reason)
        self._status_entry(sid, old, new, reason, {}, ts=ts, actor=actor)

    def _status_entry(self, sid: str, old: Status, new: Status, reason: str, metrics: dict,
                      *, ts: datetime | None, actor: str) -> None:
        self.log.add("strategy.status_changed", actor, {
            "symbol": self.symbol, "strategy": sid, "old": str(old), "new": str(new),
            "reason": reason, "metrics": _plain_metrics(metrics), "ts": _iso(ts),
        })

    # -- persistence -------------------------------------------------------------------

    def to_state(self) -> dict:
        """What survives a restart: weights per regime, each strategy's status and its
        trailing shadow returns (JSON data)."""
        return {
            "current": self.current,
            "recent": {k: {sid: list(r) for sid, r in v.items()} for k, v in self.recent.items()},
            "closed": self.closed,
            "updated_at": {k: _iso(v) for k, v in self.updated_at.items()},
            "health": {sid: {"status": str(h.status), "returns": list(h.returns),
                             "unhealthy_run": h.unhealthy_run, "healthy_run": h.healthy_run,
                             "since": _iso(h.since), "reason": h.reason,
                             "since_suspended": list(h.since_suspended)}
                       for sid, h in self.health.items()},
        }

    def restore(self, state: Mapping) -> None:
        """Take a stored state; strategies it does not know start fresh, weights of
        strategies no longer configured are dropped (and the rest re-checked)."""
        current = {}
        for key, weights in state.get("current", {}).items():
            if set(weights) == set(self.base):
                current[key] = {sid: float(w) for sid, w in weights.items()}
        self.current = current
        self.recent = {k: {sid: deque(r, maxlen=self.window) for sid, r in v.items()
                           if sid in self.base} for k, v in state.get("recent", {}).items()}
        self.closed = {k: int(v) for k, v in state.get("closed", {}).items()}
        self.updated_at = {k: datetime.fromisoformat(v)
                           for k, v in state.get("updated_at", {}).items() if v}
        for sid, h in state.get("health", {}).items():
            if sid not in self.base:
                continue
            since = h.get("since")
            self.health[sid] = Health(
                status=Status(h["status"]), returns=deque(h.get("returns", ())),
                unhealthy_run=int(h.get("unhealthy_run", 0)),
                healthy_run=int(h.get("healthy_run", 0)),
                since=datetime.fromisoformat(since) if since else None,
                since_suspended=list(h.get("since_suspended", ())),
                reason=str(h.get("reason", "")))


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None or ts == datetime.min else ts.isoformat()


def _rounded(weights: Mapping[str, float]) -> dict[str, float]:
    return {sid: round(float(w), 12) for sid, w in weights.items()}


def _plain_metrics(metrics: Mapping) -> dict:
    out = {}
    for key, value in metrics.items():
        out[key] = round(value, 6) if isinstance(value, float) else value
    return out


def status_changes(entries: Sequence[LogEntry]) -> list[dict]:
    return [e.payload | {"actor": e.actor} for e in entries
            if e.kind == "strategy.status_changed"]


def weight_updates(entries: Sequence[LogEntry]) -> list[dict]:
    return [e.payload | {"actor": e.actor} for e in entries if e.kind == "weights.updated"]
