"""The engine's one door to the SQLite store (`store/`).

Only the modules of this package import `store`; everything else in `engine/` reaches the
database through them:

- `execution_store`: `SqliteExecutionStore`, the execution port over a `Store`;
- `journal`: `StoreJournal`, the trading journal (orders, fills, signals, decisions,
  positions) over a `Store`;
- `open`: opening the configured store, the instance lock, the vault;
- `fills`, `audit`, `runs`: the few reads and writes the live engine and the backtest job
  need (stored fills, chain verification, backtest runs).

Kept light: import the module you need; nothing here loads `store` at package import.
"""
