"""Self-optimization: parameter searches whose every trial is a backtest of the one engine.

Rooms: `space` (what may vary), `fitness` (what is maximised), `evaluate` (one trial = one
`run_backtest` of the spec `desk --backtest` builds), `backends` (in process, a process
pool, a Dask cluster), `ledger` (trials done once, persisted, resumable), `methods/` (grid,
random, ga, de, mcmc, wfo, qlearn), `sensitivity`, `run` (one optimization end to end).
"""
