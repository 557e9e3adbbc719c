"""`desk montecarlo` as one library call: pick the returns, fit the model, simulate."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.errors import DataError, DeskError
from engine.risk.montecarlo import MonteCarloResult, Runner, fit_model, run_local, simulate


class MonteCarloInputError(DeskError):
    """Bad input to a Monte Carlo run (no such run, a method that needs a run...)."""

    exit_code = 2


@dataclass(frozen=True)
class MonteCarloOptions:
    method: str
    run_id: int | None = None
    data: str | None = None
    returns_file: str | None = None
    paths: int = 10_000
    horizon: int = 252
    seed: int = 0
    capital: Decimal | None = None  # None: [broker] cash
    block: str = "stationary"
    block_length: float | None = None  # None: arch's optimal block length
    dist: str = "auto"
    loss_threshold: float = 0.2


def run_montecarlo(cfg, options: MonteCarloOptions, *, runner: Runner = run_local,
                   store_opener=None) -> tuple[MonteCarloResult, str]:
    """The simulation and a one-line description of its input."""
    from engine.risk import mc_inputs

    if options.paths < 1 or options.paths > 10_000_000:
        raise MonteCarloInputError(f"--paths: expected 1 to 10,000,000, got {options.paths}")
    if options.horizon < 1 or options.horizon > 100_000:
        raise MonteCarloInputError(f"--horizon: expected 1 to 100,000, got {options.horizon}")
    if not 0 < options.loss_threshold < 1:
        raise MonteCarloInputError(f"--loss: expected a fraction in (0, 1), got "
                                   f"{options.loss_threshold}")
    if options.block_length is not None and not 1 <= options.block_length <= 1e6:
        raise MonteCarloInputError(f"--block-length: expected a number of bars >= 1, got "
                                   f"{options.block_length:g}")
    capital = float(options.capital if options.capital is not None else cfg.broker.cash)
    if options.method == "trades" and options.run_id is None:
        raise MonteCarloInputError("--method trades: needs --run ID (a backtest's trades)")
    if options.run_id is not None:
        run = _read_run(cfg, options.run_id, store_opener)
        initial_run = float(run.metrics.get("initial_equity") or cfg.broker.cash)
        if options.method == "trades":
            returns = mc_inputs.trade_returns(run.trades, initial_run)
            if len(returns) < 2:
                raise MonteCarloInputError(f"--run {options.run_id}: needs at least 2 closed "
                                           f"trades, the run has {len(returns)}")
        else:
            if run.equity is None:
                raise MonteCarloInputError(
                    f"--run {options.run_id}: the run has no stored equity curve (stored "
                    "before curves were kept): run the backtest again")
            returns = mc_inputs.returns_from_equity(run.equity)
        described = f"run {options.run_id} ({run.data_source})"
    elif options.returns_file is not None:
        returns = mc_inputs.returns_from_csv(options.returns_file)
        described = f"returns file {options.returns_file}"
    elif options.data is not None:
        returns = mc_inputs.returns_from_source(options.data)
        described = f"data {options.data}"
    else:
        raise MonteCarloInputError("needs one of --run ID, --data SOURCE or --returns FILE")
    try:
        model = fit_model(returns, options.method, block=options.block, dist=options.dist,
                          block_length=options.block_length)
    except ValueError as error:
        raise DataError(f"{described}: {error}") from None
    result = simulate(model, paths=options.paths, horizon=options.horizon, seed=options.seed,
                      initial=capital, loss_threshold=options.loss_threshold, runner=runner)
    return result, described


def _read_run(cfg, run_id: int, store_opener):
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.risk_runs import configured_db, read_run

    if store_opener is None and not configured_db(cfg).is_file():
        # A read must not create a database (and an audit key) as a side effect.
        raise MonteCarloInputError(f"{configured_db(cfg)}: no such database (run desk "
                                   "--backtest first, or pass --db)")
    store = (store_opener or open_store)(cfg)
    try:
        run = read_run(store, run_id)
    finally:
        store.close()
    if run is None:
        if run_id is None:
            raise MonteCarloInputError("no stored backtest run: run desk --backtest first")
        raise MonteCarloInputError(f"--run {run_id}: no stored backtest run with this id")
    return run
