"""The backtest driver: the kernel called at event bars only (loop), the run (run), its
executors in memory (execution), the whole `desk --backtest` job (job) and the HTML report."""
