"""The strategy lifecycle in SQLite: lifecycle books saved and restored across restarts,
their entries journaled, the votes behind each live order kept for attribution, the desk's
own trades rebuilt from stored fills, and backtest runs' decompositions. SQL: store.lifecycle.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from engine.lifecycle.attribution import Attribution
from engine.lifecycle.book import LifecycleBook, LogEntry
from engine.lifecycle.health import Status
from store import lifecycle as rows
from store.db import Store


def save_books(store: Store, books: Mapping[str, LifecycleBook]) -> None:
    """Every symbol's book, in one unit of work."""
    with store.unit_of_work() as conn:
        for symbol, book in books.items():
            rows.save_book(conn, symbol, json.dumps(book.to_state(), sort_keys=True))


def stored_states(store: Store) -> dict[str, dict]:
    with store.lock:
        found = rows.load_books(store.conn)
    return {symbol: json.loads(text) for symbol, text in found.items()}


def restore_books(store: Store, books: Mapping[str, LifecycleBook]) -> list[str]:
    """Give each book its stored state (weights and health survive a restart); returns the
    symbols restored. A book with no stored state keeps what its warm-up derived."""
    states = stored_states(store)
    restored = []
    for symbol, book in books.items():
        if symbol in states:
            book.restore(states[symbol])
            restored.append(symbol)
    return restored


def journal_entries(store: Store, entries: Iterable[LogEntry]) -> int:
    """Each entry as an audit entry of its kind and actor; returns how many."""
    count = 0
    with store.unit_of_work():
        for entry in entries:
            store.audit.append(entry.kind, entry.actor, _jsonable(entry.payload))
            count += 1
    return count


def _jsonable(payload: Mapping[str, Any]) -> dict:
    # Metrics hold floats and None only; round-trip through JSON drops tuples and sets.
    return json.loads(json.dumps(payload, default=str))


# -- changes by hand, from the command line (the desk's own book when it is stopped) --------


def reset_stored_weights(store: Store, base: Mapping[str, float], actor: str = "user"
                         ) -> list[str]:
    """Stored adaptive weights back to base for every symbol, journaled (actor `user`);
    returns the symbols reset. With no stored book there is nothing to reset."""
    states = stored_states(store)
    books = {}
    for symbol, state in states.items():
        book = LifecycleBook(base=dict(base), symbol=symbol)
        book.restore(state)
        book.reset_weights(datetime.now(UTC), actor)
        books[symbol] = book
    _save_and_journal(store, books)
    return sorted(books)


def set_stored_status(store: Store, base: Mapping[str, float], strategy: str, status: Status,
                      reason: str, ts: datetime | None = None, *, symbols: Iterable[str] = ()
                      ) -> list[str]:
    """Force `strategy`'s status in every stored book (and in a fresh book for each of
    `symbols` not stored yet), journaled with actor `user`; returns the symbols."""
    states = stored_states(store)
    books = {}
    for symbol in sorted(set(states) | set(symbols)):
        book = LifecycleBook(base=dict(base), symbol=symbol)
        if symbol in states:
            book.restore(states[symbol])
        book.set_status(strategy, status, reason, ts or datetime.now(UTC), actor="user")
        books[symbol] = book
    _save_and_journal(store, books)
    return sorted(books)


def _save_and_journal(store: Store, books: Mapping[str, LifecycleBook]) -> None:
    with store.unit_of_work() as conn:
        for symbol, book in books.items():
            for entry in book.log.drain():
                store.audit.append(entry.kind, entry.actor, _jsonable(entry.payload))
            rows.save_book(conn, symbol, json.dumps(book.to_state(), sort_keys=True))


# -- attribution of the desk's own trades -----------------------------------------------------


def save_attribution(store: Store, client_order_id: str, attribution: Attribution) -> None:
    with store.unit_of_work() as conn:
        rows.save_attribution(conn, client_order_id, json.dumps(attribution.to_dict()))


def live_trades(store: Store) -> list:
    """The desk's closed trades rebuilt from its stored fills, each attributed to the
    votes stored with the order that opened it (the order's strategy label otherwise)."""
    from engine.adapters.sqlite.fills import stored_fills
    from engine.execution.session import parse_child_id, session_id_for
    from engine.trading.trades import TradeTracker

    with store.lock:
        labels = rows.order_strategies(store.conn)
        stored = rows.load_attributions(store.conn)
    parents = {}
    for cid in labels:
        try:
            parents[session_id_for(cid)] = cid
        except ValueError:
            continue
    votes = {cid: _attribution(text) for cid, text in stored.items()}
    tracker = TradeTracker()
    for fill in stored_fills(store):
        child = parse_child_id(fill.client_order_id)
        parent = parents.get(child[0], child[0]) if child else fill.client_order_id
        tracker.on_fill(fill, labels.get(parent, ""), votes.get(parent))
    return tracker.closed


def _attribution(text: str) -> Attribution:
    data = json.loads(text)
    return Attribution(tuple(sorted((sid, float(w)) for sid, w in data["votes"].items())),
                       str(data.get("regime", "unknown")))


# -- backtest runs ------------------------------------------------------------------------------


def save_run_lifecycle(store: Store, run_id: int, document: Mapping[str, Any]) -> None:
    """A stored run's decomposition and lifecycle entries (its --json parts)."""
    with store.unit_of_work() as conn:
        rows.save_run_lifecycle(conn, run_id, json.dumps(document["decomposition"]),
                                json.dumps(document["lifecycle"]))


def run_lifecycle(store: Store, run_id: int) -> tuple[dict, dict] | None:
    """(decomposition, lifecycle) of a stored run; None when the run has none stored."""
    with store.lock:
        found = rows.load_run_lifecycle(store.conn, run_id)
    return None if found is None else (json.loads(found[0]), json.loads(found[1]))


def run_exists(store: Store, run_id: int) -> bool:
    with store.lock:
        return rows.run_exists(store.conn, run_id)
