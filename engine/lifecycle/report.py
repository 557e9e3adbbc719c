"""The lifecycle part of a backtest's --json: the decomposition of its closed trades and
the lifecycle's entries (weight updates and status changes), in the order they happened."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from engine.lifecycle.book import LogEntry, status_changes, weight_updates
from engine.lifecycle.decomposition import decompose, to_jsonable


def lifecycle_document(trades: Iterable, entries: Sequence[LogEntry] = ()) -> dict:
    """`{"decomposition": {...}, "lifecycle": {"status_changes": [...],
    "weight_updates": [...]}}` for a run's JSON document."""
    return {
        "decomposition": to_jsonable(decompose(trades)),
        "lifecycle": {
            "status_changes": status_changes(entries),
            "weight_updates": weight_updates(entries),
        },
    }
