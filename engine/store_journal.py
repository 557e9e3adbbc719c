"""Where the journal over the SQLite store used to live; it is now in the store adapter
(`engine.adapters.sqlite`). Kept as a name for callers written before the move."""

from engine.adapters.sqlite.journal import StoreJournal
from engine.adapters.sqlite.open import open_store

__all__ = ["StoreJournal", "open_store"]
