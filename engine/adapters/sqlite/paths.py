"""The store's well-known places, for the engine (the configuration looks for desk.toml in
the user's configuration folder). Light: only `store.paths` is loaded."""

from __future__ import annotations

from store.paths import config_home, data_home

__all__ = ["config_home", "data_home"]
