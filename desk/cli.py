"""The `desk` command line: parses arguments and hands them to one command module.

Only `argparse` is imported here; each command's module (and the heavy libraries it needs)
is imported when that command runs, so `desk --help` and `desk --version` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sqlite3
import sys
from collections.abc import Sequence

from desk import __version__

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def _common(parser: argparse.ArgumentParser) -> None:
    """--config and --db are accepted before or after a subcommand."""
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="configuration file (default: ./desk.toml, then $XDG_CONFIG_HOME/desk/desk.toml, "
        "then the packaged default)",
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="SQLite database (default: [store] path, else $XDG_DATA_HOME/desk/desk.db)",
    )


def _backtest_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("backtest (desk --backtest ...)")
    group.add_argument("--backtest", action="store_true", help="run a headless backtest")
    parser.add_argument(
        "--headless", action="store_true",
        help='run the live engine without the TUI (needs [engine] approval = "auto")',
    )
    group.add_argument(
        "--data",
        metavar="SOURCE",
        help="CSV/Parquet file, arch:sp500, arch:nasdaq or sim:SYMBOL[,SYMBOL...]",
    )
    group.add_argument("--bars", type=int, metavar="N", help="bars of simulated data")
    group.add_argument("--seed", type=int, metavar="N", help="seed of simulated data")
    group.add_argument("--freq", metavar="F", help="bar interval of simulated data (e.g. 1h)")
    group.add_argument(
        "--strategy",
        action="append",
        metavar="NAME[:key=value,...]",
        help="a strategy to run (repeatable); default: the config's ensemble",
    )
    group.add_argument(
        "--ensemble",
        metavar="MODE",
        choices=["majority_vote", "weighted_vote", "confidence_average"],
        help="voting mode when several strategies run",
    )
    group.add_argument("--cash", metavar="N", help="starting cash")
    group.add_argument("--fee", metavar="FRACTION", help="fee as a fraction of notional")
    group.add_argument("--slippage", metavar="BPS", help="slippage in basis points")
    group.add_argument("--size", metavar="FRACTION", help="fraction of equity per position")
    group.add_argument("--allow-short", action="store_true", help="let SELL open shorts")
    group.add_argument(
        "--execution",
        metavar="MODE",
        choices=["market", "smart", "twap", "vwap", "dca"],
        help="executor used for orders in the backtest",
    )
    group.add_argument("--start", metavar="DATE", help="first bar (inclusive)")
    group.add_argument("--end", metavar="DATE", help="last bar (inclusive)")
    group.add_argument("--clean", action="store_true", help="drop bad rows instead of stopping")
    group.add_argument(
        "--compare", action="store_true", help="also run each strategy alone and compare"
    )
    group.add_argument(
        "--walk-forward-models", action="store_true", default=None,
        help="with [filters] on: refit every filter's model every [filters] retrain_every "
        "bars on the trailing window, instead of using the stored models",
    )
    group.add_argument("--json", metavar="PATH", help="write the result as JSON")
    group.add_argument("--report", metavar="PATH.html", help="write an HTML report")
    group.add_argument("--portfolio", action="store_true",
                       help="run the [portfolio] book over every asset of --data (closes)")
    group.add_argument("--scheme", metavar="METHOD", choices=(
        "max_sharpe", "min_vol", "risk_parity", "mean_variance", "min_cvar", "equal",
        "inverse_vol", "momentum", "kelly"), help="--portfolio: the target weights' scheme")
    group.add_argument("--rebalance", choices=("threshold", "periodic"),
                       help="--portfolio: rebalancing mode")


def _runs_parser(commands) -> None:
    """`desk runs list|show`: stored backtest runs, listed and reopened."""
    runs = commands.add_parser("runs", help="list and reopen stored backtest runs")
    actions = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the stored runs, newest first")
    _common(listing)
    listing.add_argument("--limit", type=int, default=50, metavar="N",
                         help="at most N runs (default 50)")
    show = actions.add_parser(
        "show", help="one run again: summary, compare table, benchmark; --json, --report",
        description="Print a stored run's metrics beside its buy-and-hold benchmark and its "
        "--compare table, and write it again as JSON or as the HTML report.")
    _common(show)
    show.add_argument("run_id", type=int, metavar="ID", help="the run's id (desk runs list)")
    show.add_argument("--json", metavar="PATH", help="write the run as JSON")
    show.add_argument("--report", metavar="PATH.html", help="write the HTML report")


def _report_parser(commands) -> None:
    """`desk report strategies`: the performance decomposition of a run or of the desk."""
    report = commands.add_parser("report", help="performance decomposition reports")
    kinds = report.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    strategies = kinds.add_parser(
        "strategies", help="P&L by strategy, symbol and regime (a stored run or --live)",
        description="The decomposition of a stored backtest run (--run ID, see desk runs "
        "list) or of the desk's own trades (--live): trades, P&L, fees, expectancy, profit "
        "factor, win rate, Sharpe and max drawdown per strategy, symbol and regime.")
    _common(strategies)
    source = strategies.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", type=int, metavar="ID", help="a stored backtest run")
    source.add_argument("--live", action="store_true", help="the desk's own trades")
    strategies.add_argument("--json", metavar="PATH", help="write it as JSON")
    strategies.add_argument("--csv", metavar="PATH", help="write it as CSV")


def _strategies_parser(commands) -> None:
    """`desk strategies list|reset-weights|set-status`: the stored strategy lifecycle."""
    parser = commands.add_parser("strategies", help="strategy statuses and adaptive weights")
    actions = parser.add_subparsers(dest="strategies_command", metavar="ACTION",
                                    required=True)
    _common(actions.add_parser("list", help="each strategy's stored status and weight"))
    _common(actions.add_parser("reset-weights", help="adaptive weights back to base "
                               "(journaled, actor user)"))
    status = actions.add_parser("set-status", help="force a strategy's status (journaled)")
    _common(status)
    status.add_argument("strategy_id", metavar="ID", help="a strategy of the ensemble")
    status.add_argument("status", metavar="STATUS",
                        help="ACTIVE, DEGRADED, SUSPENDED or RETIRED")
    status.add_argument("--reason", required=True, help="why (kept in the audit entry)")


def _data_record_parser(data_commands) -> None:
    """`desk data record` (desk.commands.data_record: argparse only at import)."""
    from desk.commands.data_record import add_parser

    _common(add_parser(data_commands))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="desk",
        description="A terminal trading desk. With no command, opens the desk on the "
        "configured feed and broker (default: a simulated market and a paper broker).",
    )
    parser.add_argument("--version", action="version", version=f"desk {__version__}")
    _common(parser)
    _backtest_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    audit = commands.add_parser("audit", help="export and verify the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    export = audit_commands.add_parser("export", help="export audit entries (signed)")
    _common(export)
    export.add_argument("--out", required=True, metavar="FILE", help="output file")
    export.add_argument("--from", dest="from_seq", type=int, metavar="SEQ", help="first seq")
    export.add_argument("--to", dest="to_seq", type=int, metavar="SEQ", help="last seq")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    verify = audit_commands.add_parser("verify", help="verify a database or an export")
    _common(verify)
    verify.add_argument("--file", metavar="EXPORT", help="verify an export instead of the db")
    verify.add_argument("--pubkey", metavar="B64", help="trusted Ed25519 public key (base64)")
    verify.add_argument("--anchor", metavar="SEQ:HASH", help="a trusted (seq, hash) pair")
    pubkey = audit_commands.add_parser("pubkey", help="print the audit public key (base64)")
    _common(pubkey)

    keys = commands.add_parser("keys", help="manage exchange API keys in the encrypted vault")
    keys_commands = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    for name, text in (("set", "store keys for an exchange"), ("delete", "delete them")):
        sub = keys_commands.add_parser(name, help=text)
        _common(sub)
        sub.add_argument("exchange", metavar="EXCHANGE")
    _common(keys_commands.add_parser("list", help="list exchanges with stored keys"))

    data = commands.add_parser("data", help="download market data")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    fetch = data_commands.add_parser("fetch", help="download candles to Parquet")
    _common(fetch)
    fetch.add_argument("exchange", metavar="EXCHANGE")
    fetch.add_argument("symbol", metavar="SYMBOL")
    fetch.add_argument("timeframe", metavar="TIMEFRAME")
    fetch.add_argument("--since", metavar="DATE")
    fetch.add_argument("--out", metavar="FILE")
    _data_record_parser(data_commands)
    _price_parser(commands)
    _montecarlo_parser(commands)
    _train_parser(commands)
    _portfolio_parser(commands)
    _optimize_parser(commands)
    _features_parser(commands)
    _runs_parser(commands)
    _stress_parser(commands)
    _compliance_parser(commands)
    _report_parser(commands)
    _strategies_parser(commands)
    return parser



def _portfolio_parser(commands) -> None:
    """`desk portfolio optimize|...`: numbers are parsed by the command (one-line errors)."""
    portfolio = commands.add_parser("portfolio", help="optimize and allocate a basket")
    actions = portfolio.add_subparsers(dest="portfolio_command", metavar="ACTION",
                                       required=True)
    optimize = actions.add_parser(
        "optimize", help="optimal weights of a basket (stored, with an audit entry)",
        description="Weights from close prices. Returns are simple (pct_change); expected "
        "returns their arithmetic mean and the covariance theirs (Ledoit-Wolf or sample), "
        "annualized with the bars per year inferred from the data (252 for daily stock "
        "bars). Long-only, 0 <= w <= --max-weight, summing to 1. --json keys: weights, "
        "expected_return, volatility, sharpe, cvar_95 (per bar), risk_contributions, "
        "solver, settings, id, data, start, end, periods_per_year (and frontier).")
    _common(optimize)
    optimize.add_argument(
        "--data", action="append", required=True, metavar="PRICES",
        help="a wide CSV/Parquet (date, then one close column per asset), OHLCV files "
        "(comma-separated or --data repeated), or sim:A,B,C")
    optimize.add_argument("--method", default="max_sharpe", choices=(
        "max_sharpe", "min_vol", "risk_parity", "mean_variance", "min_cvar", "equal",
        "inverse_vol", "momentum", "kelly"))
    optimize.add_argument("--max-weight", default="0.3", metavar="W",
                          help="largest weight of one asset (default 0.3)")
    optimize.add_argument("--rf", default="0.02", metavar="R",
                          help="annual risk-free rate (default 0.02)")
    optimize.add_argument("--cov", default="ledoit_wolf", choices=("ledoit_wolf", "sample"))
    optimize.add_argument("--risk-aversion", default="1", metavar="LAMBDA",
                          help="mean_variance: maximize mu'w - LAMBDA/2 w'Sw (default 1)")
    optimize.add_argument("--alpha", default="0.95", metavar="A",
                          help="min_cvar: confidence level (default 0.95)")
    optimize.add_argument("--start", metavar="DATE", help="first price (inclusive)")
    optimize.add_argument("--end", metavar="DATE", help="last price (inclusive)")
    optimize.add_argument("--bars", metavar="N", help="keep the last N prices (sim: N bars)")
    optimize.add_argument("--seed", metavar="N", help="seed of simulated prices")
    optimize.add_argument("--frontier", action="store_true",
                          help="also print the efficient frontier")
    optimize.add_argument("--points", default="20", metavar="N",
                          help="frontier points (default 20)")
    optimize.add_argument("--json", metavar="PATH", help="write the result as JSON")
    optimize.add_argument("--report", metavar="PATH.html",
                          help="write an HTML report with the frontier chart")
    allocate = actions.add_parser(
        "allocate", help="strategy x asset allocation matrix",
        description="Each (strategy, asset) pair is the strategy's long-only stance on the "
        "asset, net of [broker] fee + slippage on every change of position. The matrix "
        "maximizes mu'x - LAMBDA/2 x'Sx + BETA (1 - sum x^2), 0 <= x <= --max-weight, "
        "summing to 1.")
    _common(allocate)
    allocate.add_argument("--strategies", required=True, metavar="A,B,C",
                          help="strategy ids (their desk.toml defaults)")
    allocate.add_argument("--data", action="append", required=True, metavar="PRICES",
                          help="as for optimize")
    allocate.add_argument("--risk-aversion", default="1", metavar="LAMBDA")
    allocate.add_argument("--diversification", default="0.1", metavar="BETA")
    allocate.add_argument("--max-weight", default="0.3", metavar="W",
                          help="largest share of one pair (default 0.3)")
    allocate.add_argument("--start", metavar="DATE")
    allocate.add_argument("--end", metavar="DATE")
    allocate.add_argument("--bars", metavar="N")
    allocate.add_argument("--seed", metavar="N")
    allocate.add_argument("--json", metavar="PATH", help="write the matrix as JSON")
    merge = actions.add_parser(
        "import", help="merge a virtual portfolio export (JSON or CSV), each trade once",
        description="Trades are merged by uid: one already in the portfolio is skipped, so "
        "importing the same export twice, or an export of an export, counts nothing twice. "
        "Positions are recomputed from the trades.")
    _common(merge)
    merge.add_argument("file", metavar="FILE")
    merge.add_argument("--into", metavar="NAME",
                       help="virtual portfolio to merge into (default: the export's name)")
    export = actions.add_parser(
        "export", help="write a virtual portfolio's positions, trades and allocations")
    _common(export)
    export.add_argument("name", metavar="NAME")
    export.add_argument("--out", required=True, metavar="FILE")
    export.add_argument("--format", choices=("json", "csv"),
                        help="default: csv for a .csv file, else json")


def _train_parser(commands) -> None:
    train = commands.add_parser(
        "train", help="cross-validate and store a predictive filter's model")
    _common(train)
    train.add_argument("--data", metavar="SOURCE", help="CSV/Parquet file or arch:sp500")
    train.add_argument("--symbol", metavar="S", help="symbol of the data (default: the first)")
    # No argparse `choices`: an unknown name is one line from `desk train` (exit 2), not a
    # usage block.
    train.add_argument("--model", metavar="NAME",
                       help="lightgbm, random_forest or logistic: direction classifier;"
                       " garch: GARCH(1,1) volatility; vol_lightgbm or vol_random_forest:"
                       " regressor of realized volatility ([filters.volatility] type"
                       ' "lightgbm" / "random_forest"); volume: volume surge classifier')
    train.add_argument("--horizon", type=int, metavar="N",
                       help="bars ahead (default: [filters.direction] horizon or "
                       "[filters.volatility] forecast_horizon)")
    train.add_argument("--start", metavar="DATE", help="first bar (inclusive)")
    train.add_argument("--end", metavar="DATE", help="last bar (inclusive)")
    train.add_argument("--select-features", type=int, metavar="K",
                       help="direction models: keep the top K features by mutual information"
                       " with the forward return, ranked on each CV fold's training rows (the"
                       " stored model: on all rows) and stored with the model")
    train.add_argument("--json", metavar="PATH", help="write the CV report as JSON")
    train.add_argument("--list", action="store_true", help="list the stored models")


def _price_parser(commands) -> None:
    """`desk price option|pip`: values are parsed by the command, so a bad one is one line."""
    price = commands.add_parser("price", help="price an option or a forex pip")
    kinds = price.add_subparsers(dest="price_command", metavar="WHAT", required=True)
    option = kinds.add_parser(
        "option", help="Black-Scholes-Merton price and Greeks (and implied volatility)",
        description="Price a European option with Black-Scholes-Merton. Rates and the "
        "dividend yield are continuously compounded (0.05 = 5%%); vega and rho are per "
        "1.00, theta per year (and per calendar day, /365). With --price and no --vol the "
        "Greeks are taken at the implied volatility.")
    _common(option)
    option.add_argument("--type", metavar="call|put", help="call or put")
    option.add_argument("--spot", metavar="S", help="price of the underlying")
    option.add_argument("--strike", metavar="K", help="strike price")
    option.add_argument("--expiry", metavar="DATE|YEARS",
                        help="expiry date YYYY-MM-DD (calendar days / 365) or years")
    option.add_argument("--rate", metavar="r", help="risk-free rate, e.g. 0.05")
    option.add_argument("--vol", metavar="SIGMA", help="annualized volatility, e.g. 0.20")
    option.add_argument("--div", metavar="q", help="continuous dividend yield (default 0)")
    option.add_argument("--price", metavar="P", help="market price: solve for implied vol")
    option.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    pip = kinds.add_parser("pip", help="value of one pip of a forex position")
    _common(pip)
    pip.add_argument("--pair", metavar="BASE/QUOTE", help="currency pair, e.g. EUR/USD")
    pip.add_argument("--units", metavar="N", help="position size in units of the base")
    pip.add_argument("--lots", metavar="N[:standard|mini|micro]",
                     help="position size in lots instead of --units (default standard)")
    pip.add_argument("--account", metavar="CCY", help="account currency (default: quote)")
    pip.add_argument("--rate", metavar="X",
                     help="conversion rate when the account currency is not the quote: "
                     "the market pair of quote and account, e.g. GBP/USD for EUR/GBP "
                     "in a USD account")


def _features_parser(commands) -> None:
    """`desk features rank`: mutual information of candidate features with forward returns."""
    parser = commands.add_parser("features", help="rank candidate features")
    actions = parser.add_subparsers(dest="features_command", metavar="ACTION", required=True)
    rank = actions.add_parser(
        "rank", help="rank indicators at several lengths by mutual information with the "
        "forward return, with each one's entropy",
        description="--json keys: source, horizon, rows, features [{name, "
        "mutual_information, entropy}] (nats).")
    _common(rank)
    rank.add_argument("--data", required=True, metavar="SOURCE",
                      help="CSV/Parquet file, arch:sp500, arch:nasdaq or sim:SYMBOL,...")
    rank.add_argument("--horizon", type=int, default=1, metavar="N",
                      help="bars ahead of the forward return (default 1)")
    rank.add_argument("--bars", type=int, metavar="N", help="bars of simulated data")
    rank.add_argument("--seed", type=int, metavar="N", help="seed (simulated data, estimator)")
    rank.add_argument("--start", metavar="DATE", help="first bar (inclusive)")
    rank.add_argument("--end", metavar="DATE", help="last bar (inclusive)")
    rank.add_argument("--json", metavar="PATH", help="write the ranking as JSON")


def _optimize_parser(commands) -> None:
    """`desk optimize`: parameter searches whose every trial is a `desk --backtest`."""
    parser = commands.add_parser(
        "optimize", help="search a strategy's parameters (grid, random, ga, de, mcmc, wfo, "
        "qlearn)",
        description="Every trial is a backtest of the configuration with the strategy's "
        "parameters set by the search; runs and trials are stored (desk optimize list, "
        "show ID). --json keys: best {params, fitness, metrics}, trials [{scope, params, "
        "fitness, metrics}], sensitivity; wfo: windows [{train_start, train_end, test_start, "
        "test_end, params, in_sample, out_of_sample}], in_sample, out_of_sample; mcmc: "
        "acceptance_rate, posterior.")
    _common(parser)
    parser.add_argument("action", nargs="?", choices=("list", "show"),
                        help="list stored runs, or show one (with its ID)")
    parser.add_argument("run_id", nargs="?", type=int, metavar="ID", help="run id (show)")
    parser.add_argument("--data", metavar="SOURCE",
                        help="CSV/Parquet file, arch:sp500, arch:nasdaq or sim:SYMBOL,...")
    parser.add_argument("--strategy", metavar="NAME", help="the strategy whose parameters vary")
    parser.add_argument("--param", action="append", metavar="NAME=LO:HI[:STEP]",
                        help="a parameter range (integers for integer parameters), or "
                        "NAME=A,B,C for a choice (repeatable)")
    parser.add_argument("--method", choices=("grid", "random", "ga", "de", "mcmc", "wfo",
                                             "qlearn"))
    parser.add_argument("--fitness", choices=("sharpe", "sortino", "calmar", "total_return",
                                              "composite"),
                        help="what is maximised (default [optimization] fitness)")
    parser.add_argument("--trials", type=int, metavar="N",
                        help="trials (wfo: per window; default [optimization] trials)")
    parser.add_argument("--seed", type=int, metavar="N",
                        help="seed of the search (default 0) and of simulated data")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="local worker processes (default [optimization] workers: cores)")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="run the trials on a Dask cluster (tcp://HOST:8786)")
    parser.add_argument("--resume", type=int, metavar="ID",
                        help="finish a stopped run without redoing its finished trials")
    parser.add_argument("--apply", action="store_true",
                        help="make the best parameters the strategy's set at the desk's "
                        "next start (audit params.changed)")
    parser.add_argument("--json", metavar="PATH", help="write the result as JSON")
    parser.add_argument("--report", metavar="PATH.html", help="write an HTML report")
    parser.add_argument("--bars", type=int, metavar="N", help="bars of simulated data")
    parser.add_argument("--freq", metavar="F", help="bar interval of simulated data")
    parser.add_argument("--start", metavar="DATE", help="first bar (inclusive)")
    parser.add_argument("--end", metavar="DATE", help="last bar (inclusive)")
    parser.add_argument("--clean", action="store_true", help="drop bad rows instead of stopping")


def _montecarlo_parser(commands) -> None:
    """`desk montecarlo`: equity paths from a stored run, a data source or a returns file."""
    parser = commands.add_parser(
        "montecarlo", help="Monte Carlo of the equity: bootstrap, parametric, block, trades",
        description="Simulate equity paths and report the final-value and max-drawdown "
        "distributions, the probability of profit and the VaR/CVaR of the final value. "
        "--json keys: initial, final_value {mean, quantiles}, probability_of_profit, "
        "probability_of_loss, max_drawdown {mean, quantiles}, var, cvar, method, model, "
        "paths, horizon, seed.")
    _common(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", type=int, metavar="ID", help="a stored backtest run")
    source.add_argument("--data", metavar="SOURCE",
                        help="CSV/Parquet file, arch:sp500, arch:nasdaq or sim:SYMBOL,...")
    source.add_argument("--returns", metavar="FILE",
                        help="CSV of simple per-period returns (one column, or date,return)")
    parser.add_argument("--method", required=True,
                        choices=("bootstrap", "parametric", "block", "trades"))
    parser.add_argument("--paths", type=int, default=10_000, metavar="N")
    parser.add_argument("--horizon", type=int, default=252, metavar="N",
                        help="periods per path (trades: the run's trade count)")
    parser.add_argument("--seed", type=int, default=0, metavar="N")
    parser.add_argument("--capital", metavar="MONEY",
                        help="starting value (default [broker] cash)")
    parser.add_argument("--block", choices=("stationary", "circular"), default="stationary",
                        help="block bootstrap kind (method block)")
    parser.add_argument("--block-length", type=float, metavar="BARS",
                        help="mean block length (default: arch's optimal block length)")
    parser.add_argument("--dist", choices=("auto", "normal", "t"), default="auto",
                        help="parametric distribution; auto keeps the lower AIC")
    parser.add_argument("--loss", type=float, default=0.2, metavar="FRACTION",
                        help="report the probability of losing more than this (default 0.2)")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="run the chunks on a Dask cluster (tcp://host:port)")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--report", metavar="PATH.html", help="write an HTML report")


def _stress_parser(commands) -> None:
    """`desk stress`: the five named scenarios and [[stress.scenarios]] on a book."""
    parser = commands.add_parser(
        "stress", help="stress scenarios on a backtest's final book or the live book",
        description="Apply the built-in scenarios (2008 crisis, COVID crash, flash crash, "
        "correction, stagflation) and [[stress.scenarios]] to a book: P&L, drawdown, "
        "VaR under the scenario and the limits it would breach.")
    _common(parser)
    book = parser.add_mutually_exclusive_group()
    book.add_argument("--run", type=int, metavar="ID",
                      help="a stored backtest's final book (default: the latest run)")
    book.add_argument("--live", action="store_true", help="the desk's stored positions")
    parser.add_argument("--book", choices=("final", "peak"), default="final",
                        help="with --run: the final book, or the largest book the run held")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")


def _compliance_parser(commands) -> None:
    """`desk compliance report`: the audit log of a period, sectioned, with its proof."""
    compliance = commands.add_parser("compliance", help="compliance reports from the audit log")
    actions = compliance.add_subparsers(dest="compliance_command", metavar="ACTION",
                                        required=True)
    report = actions.add_parser(
        "report", help="orders, denials, trips, interventions, changes and errors of a period",
        description="Stream the audit entries of [--from, --to] (UTC days, inclusive) into "
        "sections, each line with its seq and hash, with the verification of the log (chain, "
        "checkpoint signature, key fingerprint). A tampered log says TAMPERED on the first "
        "line and exits 1.")
    _common(report)
    report.add_argument("--from", dest="date_from", required=True, metavar="DATE")
    report.add_argument("--to", dest="date_to", required=True, metavar="DATE")
    report.add_argument("--out", required=True, metavar="FILE.html|.json|.csv")


def _command_module(args: argparse.Namespace) -> str:
    if args.command is None:
        if args.backtest:
            if getattr(args, "portfolio", False):
                return "desk.commands.portfolio_backtest"
            return "desk.commands.backtest"
        return "desk.commands.headless" if args.headless else "desk.commands.tui"
    return f"desk.commands.{args.command}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("config", "db"):
        if not hasattr(args, name):
            setattr(args, name, None)
    if args.command is None and not args.backtest and args.data:
        parser.error("--data needs --backtest")
    if args.backtest and args.headless:
        parser.error("--headless runs the live engine; --backtest is a separate run")
    module = importlib.import_module(_command_module(args))
    # Imported after parsing: both modules are tiny, and --help never needs them.
    from engine.errors import DeskError
    from store.errors import StoreError

    try:
        return int(module.run(args) or 0)
    except (DeskError, StoreError) as error:
        print(f"desk: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except (sqlite3.Error, OSError) as error:
        # The last resort for what no command foresaw (a read-only file, a full disk):
        # one line, never a traceback with local variables.
        from engine.errors import one_line_reason

        print(f"desk: {one_line_reason(error)}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
