"""The live driver: feeds, the engine loop on the wall clock, its per-symbol state, the
snapshots it publishes and `build_live`, the one place live wiring happens."""
