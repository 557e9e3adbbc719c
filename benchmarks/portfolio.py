"""Portfolio optimizers against PyPortfolioOpt, measured in the same run on the same inputs.

    python benchmarks/portfolio.py [--data WIDE_PRICES.csv[.gz]] [--repeats N]

Cases (the issue's targets in brackets):
- max Sharpe, 20 assets x 2,000 daily returns [<= 10 ms];
- max Sharpe, 100 assets x 2,000 returns [<= 100 ms];
- min CVaR 95%, 20 assets x 2,000 scenarios [<= 200 ms];
- a portfolio backtest, 20 assets x 10 years daily, rebalanced monthly [<= 2 s], against
  vectorbt's target-percent orders on the same rebalance days.

Each case times the solve from the same annualized mean and Ledoit-Wolf covariance (the
peer's `EfficientFrontier.max_sharpe` / `EfficientCVaR.min_cvar`, which solve with cvxpy),
and the whole call from prices (estimation included; the peer's mean_historical_return
with compounding=False and CovarianceShrinkage.ledoit_wolf, the same conventions). It
prints the best of N runs, the ratio peer / Desk, and how far apart the weights are.

With --data, the 20-asset cases use the last 2,001 rows of that wide file (e.g. the
S&P 500 20-stock file); without it, a seeded factor model of the same shape. The 100-asset
case is always the factor model (no file here has 100 assets).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._timing import best_of  # noqa: E402
from engine.portfolio.inputs import estimate_inputs  # noqa: E402
from engine.portfolio.max_sharpe import max_sharpe, max_sharpe_weights  # noqa: E402
from engine.portfolio.min_cvar import min_cvar_weights  # noqa: E402
from engine.portfolio.result import empirical_cvar  # noqa: E402

ROWS = 2000


def factor_prices(n_assets: int, rows: int = ROWS, seed: int = 1) -> pd.DataFrame:
    """Daily closes from a 3-factor model with asset-specific drift and noise."""
    rng = np.random.default_rng(seed)
    loadings = rng.normal(0.6, 0.4, size=(n_assets, 3))
    factors = rng.normal(0.0, 0.008, size=(rows, 3))
    returns = (factors @ loadings.T + rng.normal(0.0, 0.015, size=(rows, n_assets))
               + rng.normal(0.0004, 0.0003, size=n_assets))
    index = pd.bdate_range("2015-01-01", periods=rows + 1, tz="UTC")
    closes = 100 * np.cumprod(np.vstack([np.ones(n_assets), 1 + returns]), axis=0)
    return pd.DataFrame(closes, index=index, columns=[f"S{i:03d}" for i in range(n_assets)])


def real_prices(path: str) -> pd.DataFrame:
    from engine.portfolio.prices import load_prices

    return load_prices([path]).iloc[-(ROWS + 1):]


def real_prices_rows(path: str, rows: int) -> pd.DataFrame:
    from engine.portfolio.prices import load_prices

    return load_prices([path]).iloc[-rows:]


def _peer_max_sharpe(mu, cov, cap):
    from pypfopt import EfficientFrontier

    return EfficientFrontier(mu, cov, weight_bounds=(0, cap)).max_sharpe(risk_free_rate=0.02)


def _peer_from_prices(prices, cap):
    from pypfopt import expected_returns, risk_models

    mu = expected_returns.mean_historical_return(prices, compounding=False)
    cov = risk_models.CovarianceShrinkage(prices).ledoit_wolf()
    return _peer_max_sharpe(mu, cov, cap)


def max_sharpe_case(label: str, prices: pd.DataFrame, cap: float, repeats: int) -> None:
    inputs = estimate_inputs(prices)
    ours, _, _ = max_sharpe_weights(inputs.mu, inputs.cov, max_weight=cap)
    theirs = np.array(list(_peer_max_sharpe(inputs.mu, inputs.cov, cap).values()))
    solve = best_of(repeats, lambda: max_sharpe_weights(inputs.mu, inputs.cov, max_weight=cap))
    peer_solve = best_of(repeats, lambda: _peer_max_sharpe(inputs.mu, inputs.cov, cap))
    whole = best_of(repeats, lambda: max_sharpe(estimate_inputs(prices), max_weight=cap))
    peer_whole = best_of(repeats, lambda: _peer_from_prices(prices, cap))
    print(f"max Sharpe, {label}: {inputs.n} assets x {len(inputs.returns):,} returns,"
          f" max_weight {cap:g}")
    print(f"  solve        Desk {solve * 1e3:7.2f} ms   PyPortfolioOpt {peer_solve * 1e3:7.2f} ms"
          f"   ratio {peer_solve / solve:5.2f}x")
    print(f"  from prices  Desk {whole * 1e3:7.2f} ms   PyPortfolioOpt {peer_whole * 1e3:7.2f} ms"
          f"   ratio {peer_whole / whole:5.2f}x")
    print(f"  weights: max |Desk - PyPortfolioOpt| = {np.abs(ours - theirs).max():.1e}")


def min_cvar_case(label: str, prices: pd.DataFrame, cap: float, repeats: int) -> None:
    from pypfopt import EfficientCVaR

    inputs = estimate_inputs(prices)
    returns = pd.DataFrame(inputs.returns, columns=inputs.assets)

    def peer():
        return EfficientCVaR(None, returns, beta=0.95, weight_bounds=(0, cap)).min_cvar()

    ours, objective, _, _ = min_cvar_weights(inputs.returns, max_weight=cap)
    theirs = np.array(list(peer().values()))
    solve = best_of(repeats, lambda: min_cvar_weights(inputs.returns, max_weight=cap))
    peer_solve = best_of(repeats, peer)
    their_cvar = empirical_cvar(-(inputs.returns @ theirs))
    print(f"min CVaR 95, {label}: {inputs.n} assets x {len(inputs.returns):,} scenarios,"
          f" max_weight {cap:g}")
    print(f"  solve        Desk {solve * 1e3:7.2f} ms   PyPortfolioOpt {peer_solve * 1e3:7.2f} ms"
          f"   ratio {peer_solve / solve:5.2f}x")
    print(f"  CVaR: Desk {objective * 100:.6f}%  PyPortfolioOpt {their_cvar * 100:.6f}% per bar"
          f" (an LP may have several optimal weights: the objective is what must agree)")


def backtest_case(label: str, prices: pd.DataFrame, repeats: int) -> None:
    """An equal-weight book of every asset rebalanced every 30 days (hedging and the
    drawdown controller off), on the kernel (gate, executor, paper broker), against
    vectorbt's target-percent orders on the same fill days."""
    from engine.portfolio.backtest import PortfolioBacktestSettings, run_portfolio_backtest
    from engine.portfolio.drawdown_control import DrawdownPolicy
    from engine.portfolio.hedging import HedgePolicy
    from engine.portfolio.rebalance import RebalancePolicy
    from engine.portfolio.targets import TargetRules

    n = prices.shape[1]
    settings = PortfolioBacktestSettings(
        rules=TargetRules(scheme="equal", window=60, max_weight=1.0, rotation_method="momentum",
                          lookback=20, top_n=n, max_assets=n, risk_per_asset=1.0),
        rebalance=RebalancePolicy(mode="periodic", period_days=30, fee=0.001, slippage_bps=0),
        hedge=HedgePolicy(enabled=False),
        drawdown=DrawdownPolicy(0.98, 0.99, 1.0, 1.0), min_position_size=0.0)
    result = run_portfolio_backtest(prices, settings)
    ours = best_of(repeats, lambda: run_portfolio_backtest(prices, settings))
    # Desk decides at a close and fills at the next bar (a prices-only file: its close);
    # the peer orders at that next bar's close.
    days = pd.DatetimeIndex([e["ts"] for e in result.journal if e["kind"] == "rebalance"])
    days = days.tz_localize(None) if prices.index.tz is None else days.tz_convert(
        prices.index.tz)  # the journal is in UTC
    filled = prices.index.get_indexer(days) + 1
    assert (filled > 0).all()
    sizes = pd.DataFrame(np.nan, index=prices.index, columns=prices.columns)
    sizes.iloc[filled[filled < len(prices)]] = 1.0 / n

    def peer():
        import vectorbt as vbt

        return vbt.Portfolio.from_orders(
            prices, size=sizes, size_type="targetpercent", fees=0.001, group_by=True,
            cash_sharing=True, call_seq="auto", init_cash=settings.cash, freq="1D")

    theirs = peer()
    peer_time = best_of(repeats, peer)
    final_peer = float(theirs.value().iloc[-1])
    final_ours = float(result.equity.iloc[-1])
    years = len(prices) / 252
    print(f"portfolio backtest, {label}: {n} assets x {len(prices):,} days ({years:.1f} years),"
          f" equal weight every 30 days, fee 10 bp, {result.summary['rebalances']} rebalances,"
          f" turnover {result.summary['turnover_annual']:.2f}x equity a year")
    print(f"  run          Desk {ours * 1e3:7.1f} ms   vectorbt       {peer_time * 1e3:7.1f} ms"
          f"   ratio {peer_time / ours:5.2f}x")
    print(f"  final equity Desk {final_ours:,.2f}   vectorbt {final_peer:,.2f}"
          f"   (relative gap {abs(final_ours / final_peer - 1):.1e})")


def default_book_case(label: str, prices: pd.DataFrame, repeats: int) -> None:
    """The packaged [portfolio] settings (risk parity, threshold rebalancing, rotation,
    hedging and the drawdown controller on): no peer runs this book, so time only."""
    from engine.config.schema import load_config
    from engine.portfolio.backtest import run_portfolio_backtest
    from engine.portfolio.backtest_settings import settings_from_config

    settings = settings_from_config(load_config(Path(__file__).resolve().parents[1]
                                                / "desk.toml"))
    result = run_portfolio_backtest(prices, settings)
    seconds = best_of(repeats, lambda: run_portfolio_backtest(prices, settings))
    summary = result.summary
    print(f"default [portfolio] book, {label}: {prices.shape[1]} assets x {len(prices):,} days,"
          f" {settings.rules.scheme} / {settings.rebalance.mode}: {seconds * 1e3:.0f} ms;"
          f" {summary['rebalances']} rebalances, {summary['hedges']} hedge steps in,"
          f" turnover {summary['turnover_annual']:.2f}x equity a year")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a wide price file with 20 or more assets")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    twenty = real_prices(args.data) if args.data else factor_prices(20)
    label = f"{Path(args.data).name}, last {ROWS:,} returns" if args.data else "factor model"
    max_sharpe_case(label, twenty, 0.3, args.repeats)
    max_sharpe_case("factor model", factor_prices(100, seed=2), 0.05, max(args.repeats // 4, 3))
    min_cvar_case(label, twenty, 0.3, max(args.repeats // 4, 3))
    decade = (real_prices_rows(args.data, 2521) if args.data else factor_prices(20, 2520))
    backtest_case(label.split(",")[0], decade, 3)
    default_book_case(label.split(",")[0], decade, 3)


if __name__ == "__main__":
    main()
