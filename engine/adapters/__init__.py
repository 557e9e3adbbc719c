"""Adapters: implementations of the engine's ports over concrete technology.

- `memory`: the execution store in dicts and lists (backtests, tests).
- `sqlite`: the desk's database (`store/`). It is the only package under `engine/` that
  imports `store`; a test proves it (tests/test_import_hygiene.py).
"""
