"""Self-optimization: parameter searches whose every trial is a backtest of the one engine.

- `space`: what may vary (`--param`), the strategy's own rules deciding what is allowed;
- `fitness`: what is maximised, read from the backtest's metrics;
- `evaluate`: one trial = one `run_backtest` of the spec `desk --backtest` builds;
- `regime_cache`: regime fits shared by the trials of a run (they never depend on them);
- `backends`: in this process, a local process pool, or a Dask cluster;
- `ledger`: each distinct trial runs once, is stored as it finishes, and is reused on
  `--resume`;
- `methods/`: grid, random, ga (optuna NSGA-II), de (scipy), mcmc, walk-forward windows;
- `walk_forward`, `sensitivity`, `run` (one optimization end to end), `job` (stored runs,
  resume, `--apply`), `report` (HTML);
- `qlearn`, `market_states`, `qlearn_run`: the Q-learning strategy selector;
- `mle`: maximum likelihood by differential evolution (the Student-t of returns);
- `features`: mutual-information ranking of candidate features (`desk features rank`).
"""
