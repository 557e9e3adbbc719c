"""The lifecycle in the live desk: restore the books at start, journal and save them after
each step that changed them, attribute each order, control by hand (reset weights, force a
status) and the per-strategy rows the Strategies pane shows.

Every function takes the `LiveEngine` and runs under its lock where it touches state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from engine.lifecycle.book import LifecycleBook
from engine.lifecycle.health import Status

# Order of severity, for a strategy whose books (one per symbol) disagree.
_SEVERITY = {Status.ACTIVE: 0, Status.DEGRADED: 1, Status.SUSPENDED: 2, Status.RETIRED: 3}


@dataclass(frozen=True, slots=True)
class StrategyView:
    """One row of the Strategies pane."""

    id: str
    status: str
    base_weight: float
    weight: float  # effective, averaged over the symbols' books
    trades: int
    expectancy: float | None
    profit_factor: float | None
    win_rate: float | None
    sharpe: float | None
    pnl: Decimal
    last_change: str  # ISO time of the last status change, "" if none
    reason: str
    by_symbol: Mapping[str, Mapping] = field(default_factory=dict)
    by_regime: Mapping[str, Mapping] = field(default_factory=dict)


def books(engine) -> dict[str, LifecycleBook]:
    return {symbol: state.ensemble.lifecycle for symbol, state in engine.symbols.items()
            if state.ensemble is not None and state.ensemble.lifecycle is not None}


def start(engine) -> None:
    """After the warm-up: stored books replace what the history derived (weights are not
    re-derived at every start); the warm-up's own entries are history, not events."""
    from engine.adapters.sqlite.lifecycle import restore_books

    found = books(engine)
    restore_books(engine.store, found)
    for book in found.values():
        book.log.drain()
        break  # one log is shared by every symbol's book


def after_step(engine) -> int:
    """Journal the entries the step made and save the books they changed; returns how
    many entries were written."""
    from engine.adapters.sqlite.lifecycle import journal_entries, save_books

    found = books(engine)
    if not found:
        return 0
    entries = next(iter(found.values())).log.drain()
    if not entries:
        return 0
    count = journal_entries(engine.store, entries)
    save_books(engine.store, found)
    return count


def attribute(engine, orders, votes: Mapping[str, float] | None, regime: str) -> None:
    """Keep the votes behind each order the decision sent (the desk's trades are
    attributed from them, `desk report strategies --live`)."""
    from engine.adapters.sqlite.lifecycle import save_attribution
    from engine.lifecycle.attribution import Attribution

    if not votes:
        return
    attribution = Attribution.of(votes, regime)
    for order in orders or ():
        save_attribution(engine.store, order.client_order_id, attribution)


def reset_weights(engine) -> str:
    """Every book back to base weights, journaled with actor user."""
    with engine.lock:
        found = books(engine)
        if not found:
            return "no ensemble: there are no strategy weights to reset"
        for book in found.values():
            book.reset_weights(engine.now(), actor="user")
        after_step(engine)
        engine._publish()
        return ""


def set_status(engine, strategy: str, status: str, reason: str) -> str:
    """Force a strategy's status in every symbol's book, journaled with actor user."""
    try:
        wanted = Status(status.upper())
    except ValueError:
        return f"unknown status {status!r}; expected one of {', '.join(s.value for s in Status)}"
    with engine.lock:
        found = books(engine)
        if not found:
            return "no ensemble: strategies have no lifecycle"
        if strategy not in next(iter(found.values())).base:
            return f"unknown strategy {strategy!r}"
        for book in found.values():
            book.set_status(strategy, wanted, reason or "set by hand", engine.now(),
                            actor="user")
        after_step(engine)
        engine._publish()
        return ""


class ViewCache:
    """The pane's rows: the decomposition is recomputed only when a trade has closed."""

    def __init__(self) -> None:
        self._key = None
        self._decomposition: dict = {}

    def views(self, engine) -> tuple[StrategyView, ...]:
        from engine.lifecycle.decomposition import decompose

        found = books(engine)
        if not found:
            return ()
        key = len(engine.trader.trades.closed)
        if key != self._key:
            self._key = key
            self._decomposition = decompose(engine.trader.trades.closed)
        return strategy_views(found, self._decomposition)


def strategy_views(found: Mapping[str, LifecycleBook], decomposition: Mapping
                   ) -> tuple[StrategyView, ...]:
    first = next(iter(found.values()))
    by_strategy = decomposition.get("by_strategy", {})
    pairs = decomposition.get("by_strategy_regime", {})
    rows = []
    for sid, base in first.base.items():
        healths = [book.health[sid] for book in found.values()]
        worst = max(healths, key=lambda h: (_SEVERITY[h.status], _when(h)))
        changed = [h for h in healths if _when(h)]
        last = max(changed, key=_when) if changed else None
        weight = sum(book.weights(None)[sid] for book in found.values()) / len(found)
        m = by_strategy.get(sid, {})
        rows.append(StrategyView(
            id=sid, status=str(worst.status), base_weight=base, weight=weight,
            trades=int(m.get("trades", 0)), expectancy=m.get("expectancy"),
            profit_factor=m.get("profit_factor"), win_rate=m.get("win_rate"),
            sharpe=m.get("sharpe"), pnl=Decimal(m.get("pnl", 0)),
            last_change="" if last is None else _when(last),
            reason="" if last is None else last.reason,
            by_symbol=_symbol_rows(found, sid, decomposition),
            by_regime={key.split("|", 1)[1]: value for key, value in pairs.items()
                       if key.split("|", 1)[0] == sid},
        ))
    return tuple(rows)


def _symbol_rows(found, sid, decomposition) -> dict:
    """Per symbol: the strategy's status and weight in that symbol's book and its
    attributed metrics there."""
    pairs = decomposition.get("by_strategy_symbol", {})
    return {symbol: dict(pairs.get(f"{sid}|{symbol}", {}))
            | {"status": str(book.health[sid].status), "weight": book.weights(None)[sid]}
            for symbol, book in found.items()}


def _when(health) -> str:
    """When the status began, as ISO text ("" if never changed or undated)."""
    since = health.since
    return "" if since is None or since.year == 1 else since.isoformat()



def views(engine) -> tuple[StrategyView, ...]:
    """The Strategies pane's rows for this engine's snapshot."""
    cache = engine.__dict__.setdefault("_lifecycle_views", ViewCache())
    return cache.views(engine)
