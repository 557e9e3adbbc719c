"""Risk benchmarks, each against a peer measured in the same run on the same data.

    python benchmarks/risk.py [--entries 1000000] [--skip-compliance]

- Monte Carlo bootstrap, 10,000 paths x 252 (target <= 50 ms) vs a per-path numpy loop;
- stationary block bootstrap, same size (target <= 250 ms) vs arch's own compiled sampler
  (arch.bootstrap._samplers.stationary_bootstrap_sample) called once per path;
- the whole `desk montecarlo` command, 10,000 x 252 (target <= 1.5 s) vs the bare
  interpreter importing numpy (the floor any Python command pays);
- the risk gate per order with 20 symbols (every rule and the risk score; target <= 1 ms)
  vs the same gate with only the four original rules;
- the compliance report over N audit entries (streams in constant memory) vs
  `desk audit verify` over the same database, with the peak memory of each.

The returns are the S&P 500 daily returns of 20 stocks shipped in tests/data (2019-2022).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._timing import best_of  # noqa: E402

DATA = ROOT / "tests" / "data" / "sp500_20_stocks_daily_tail.csv"


def prices() -> tuple[list[str], np.ndarray]:
    import pandas as pd

    frame = pd.read_csv(DATA, index_col="date", parse_dates=True)
    return list(frame.columns), frame.to_numpy(dtype=np.float64).T


def bench_montecarlo(returns: np.ndarray) -> None:
    from arch.bootstrap._samplers import stationary_bootstrap_sample

    from engine.risk.montecarlo import fit_model, simulate

    paths, horizon = 10_000, 252
    boot = fit_model(returns, "bootstrap")
    ours = best_of(5, lambda: simulate(boot, paths=paths, horizon=horizon, seed=1))

    def naive() -> None:
        rng = np.random.default_rng(1)
        for _ in range(paths):
            path = rng.choice(returns, horizon)
            equity = np.cumprod(1 + path)
            (1 - equity / np.maximum.accumulate(np.maximum(equity, 1.0))).max()

    peer = best_of(2, naive)
    print(f"bootstrap MC {paths:,} x {horizon}: {ours * 1e3:7.1f} ms   per-path numpy loop "
          f"{peer * 1e3:8.1f} ms   ratio {peer / ours:5.1f}x   (target <= 50 ms)")

    block = fit_model(returns, "block")
    ours = best_of(5, lambda: simulate(block, paths=paths, horizon=horizon, seed=1))
    n, p = len(returns), 1.0 / block.block_length

    def arch_loop() -> None:
        rng = np.random.default_rng(1)
        for _ in range(paths):
            index = stationary_bootstrap_sample(
                rng.integers(0, n, horizon, dtype=np.int64), rng.random(horizon), p)
            equity = np.cumprod(1 + returns[index % n])
            (1 - equity / np.maximum.accumulate(np.maximum(equity, 1.0))).max()

    peer = best_of(2, arch_loop)
    print(f"block MC     {paths:,} x {horizon}: {ours * 1e3:7.1f} ms   arch sampler per path "
          f"{peer * 1e3:7.1f} ms   ratio {peer / ours:5.1f}x   (target <= 250 ms; block "
          f"length {block.block_length:.2f})")


def bench_command(returns: np.ndarray, tmp: Path) -> None:
    csv_path = tmp / "returns.csv"
    csv_path.write_text("\n".join(f"{r:.10f}" for r in returns) + "\n")
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp / "xc"), XDG_DATA_HOME=str(tmp / "xd"))

    def command(*extra: str) -> None:
        subprocess.run([sys.executable, "-m", "desk.cli", "montecarlo", "--returns",
                        str(csv_path), "--paths", "10000", "--horizon", "252",
                        "--json", str(tmp / "mc.json"), *extra], check=True, cwd=ROOT,
                       env=env, stdout=subprocess.DEVNULL)

    def floor() -> None:
        subprocess.run([sys.executable, "-c", "import numpy"], check=True, env=env)

    variants = (("--method", "bootstrap"), ("--method", "block"),
                ("--method", "block", "--block-length", "20"))
    for extra in variants:
        ours = best_of(3, lambda e=extra: command(*e))
        peer = best_of(3, floor)
        name = " ".join(extra)
        print(f"desk montecarlo {name:<35} 10,000 x 252: {ours:5.2f} s   python + numpy "
              f"{peer:5.2f} s   ratio {ours / peer:4.1f}x the floor   (target <= 1.5 s)")


def bench_gate(symbols: list[str], closes: np.ndarray) -> None:
    import pandas as pd

    from engine.config.schema import config_from_dict
    from engine.risk.compliance import ComplianceRules
    from engine.risk.market import ArrayHistory
    from engine.risk.score import book_risk
    from engine.trading.portfolio import Portfolio
    from engine.trading.risk import GatedBroker, RiskGate, RiskLimits
    from engine.types import Fill, OrderRequest, OrderSide, OrderType

    syms = [f"{s}/USD" for s in symbols]
    index = pd.date_range("2019-01-10", periods=closes.shape[1], freq="D", tz="UTC")
    arrays = {s: {"close": closes[i], "volume": np.full(closes.shape[1], 1e7)}
              for i, s in enumerate(syms)}
    now = index[-1].to_pydatetime()
    cfg = config_from_dict({})

    def build(limits: RiskLimits):
        portfolio = Portfolio(Decimal("10000000"))
        for i, s in enumerate(syms[:10]):  # ten positions of 2% each already held
            price = Decimal(repr(float(closes[i, -1])))
            qty = (Decimal(200000) / price).quantize(Decimal("1"))
            portfolio.apply_fill(Fill(f"f{i}", f"t{i}", s, OrderSide.BUY, qty, price,
                                      Decimal(0), now))
        gate = RiskGate(limits)
        gate.attach_market(ArrayHistory(index, arrays))
        return GatedBroker(_NullBroker(), gate, portfolio), portfolio, gate

    full = RiskLimits.from_config(cfg)
    assert isinstance(full.compliance, ComplianceRules)
    ours_broker, portfolio, gate = build(full)
    base_broker, _p, _g = build(RiskLimits())
    orders = [OrderRequest(s, OrderSide.BUY, Decimal(10), OrderType.MARKET,
                           client_order_id=f"o{i}") for i, s in enumerate(syms[10:] * 50)]
    price = {s: Decimal(repr(float(closes[i, -1]))) for i, s in enumerate(syms)}
    ours_broker.check(orders[0], price=price[orders[0].symbol], now=now)  # warm the bar cache

    def run_gate(broker) -> None:
        for o in orders:
            broker.check(o, price=price[o.symbol], now=now)

    def run_score() -> None:
        stats = gate.bar_stats(now)
        exposures = {s: float(v) for s, v in portfolio.exposure().items()}
        for _ in range(len(orders)):
            book_risk(exposures, float(portfolio.equity), gate.drawdown, stats, stats.returns,
                      stats.symbols, cfg.risk)

    ours = best_of(5, lambda: run_gate(ours_broker)) / len(orders)
    score = best_of(5, run_score) / len(orders)
    peer = best_of(5, lambda: run_gate(base_broker)) / len(orders)
    total = ours + score
    print(f"gate, 20 symbols, 10 held: all rules {ours * 1e6:6.1f} us + risk score "
          f"{score * 1e6:6.1f} us = {total * 1e6:6.1f} us/order   four original rules "
          f"{peer * 1e6:6.1f} us   ratio {total / peer:4.1f}x   (target <= 1000 us)")


class _NullBroker:
    def submit(self, order):
        return "x"

    def fetch_order(self, cid):
        return None

    def quantity_step(self, symbol):
        return None


def build_audit_db(path: Path, key: Path, entries: int) -> None:
    """A database of `entries` audit entries written by the store's own chain code (one
    transaction per 50,000), a realistic mix of kinds, checkpoints at the cadence."""
    from store.db import Store

    store = Store.open(path, audit_key_path=key, checkpoint_every=100_000)
    kinds = [("order.proposed", "engine", {"client_order_id": "o", "symbol": "AAPL/USD",
                                           "side": "buy", "qty": "10", "checks": [
                                               {"rule": "max_position", "passed": True,
                                                "value": "0.1", "limit": "0.25"}]}),
             ("order.filled", "engine", {"symbol": "AAPL/USD", "qty": "10", "price": "150"}),
             ("risk.denied", "engine", {"rules": ["max_correlation"], "reasons": ["x"]}),
             ("order.approved", "user", {"client_order_id": "o"})]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    done = 0
    while done < entries:
        with store.unit_of_work():
            for i in range(done, min(done + 50_000, entries)):
                kind, actor, payload = kinds[i % len(kinds)]
                store.audit.append(kind, actor, payload, ts=start + timedelta(seconds=i))
        done = min(done + 50_000, entries)
    store.close(checkpoint=True)


def bench_compliance(tmp: Path, entries: int) -> None:
    db, key = tmp / "audit.db", tmp / "audit.pem"
    started = time.perf_counter()
    build_audit_db(db, key, entries)
    print(f"(built {entries:,} audit entries in {time.perf_counter() - started:.1f} s)")
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp / "xc"), XDG_DATA_HOME=str(tmp / "xd"))
    config = tmp / "desk.toml"
    config.write_text(f'[audit]\nkey_path = "{key}"\n')
    measure = ("import resource, runpy, sys, time; sys.argv = ['desk'] + sys.argv[1:];"
               "t = time.perf_counter();\n"
               "try:\n    runpy.run_module('desk.cli', run_name='__main__')\n"
               "except SystemExit:\n    pass\n"
               "print('TIME', time.perf_counter() - t, 'RSS_MB',"
               " resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)")

    def timed(*args: str) -> tuple[float, float]:
        result = subprocess.run([sys.executable, "-c", measure, *args], cwd=ROOT, env=env,
                                capture_output=True, text=True)
        line = [x for x in result.stderr.splitlines() if x.startswith("TIME")][-1].split()
        return float(line[1]), float(line[3])

    common = ["--config", str(config), "--db", str(db)]
    report = timed("compliance", "report", "--from", "2026-01-01", "--to", "2026-12-31",
                   "--out", str(tmp / "report.json"), *common)
    verify = timed("audit", "verify", *common)
    print(f"compliance report over {entries:,} entries: {report[0]:6.2f} s, peak RSS "
          f"{report[1]:5.0f} MB   desk audit verify {verify[0]:6.2f} s, {verify[1]:5.0f} MB   "
          f"ratio {report[0] / verify[0]:4.2f}x verify")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--skip-compliance", action="store_true")
    args = parser.parse_args()
    symbols, closes = prices()
    returns = closes[:, 1:] / closes[:, :-1] - 1
    portfolio_returns = returns.mean(axis=0)  # an equal-weight book of the 20 stocks
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        bench_montecarlo(portfolio_returns)
        bench_command(portfolio_returns, tmp)
        bench_gate(symbols, closes)
        if not args.skip_compliance:
            bench_compliance(tmp, args.entries)


if __name__ == "__main__":
    main()
