"""Desk against its peers, side by side in one run on the same data (the box is noisy, so
only ratios measured together mean anything). Needs the `bench` extra:

    pip install -e ".[bench]"
    python benchmarks/peers.py [--only high,small,memory] [--bars 500000]
                               [--memory-bars 1000000,3000000,10000000]

* high: 500,000 hourly bars (backtesting.py's EURUSD hourly returns, tiled), SMA 10/20
  reversal, long and short, 100% of equity, no fees or slippage, regime off, risk limits
  opened to 100%: run time and trades of backtesting.py, Desk and vectorbt (same signals).
* small: GOOG daily (2,148 bars) from a CSV, whole process: `desk --backtest` against a
  Python process running backtesting.py's SmaCross; process time is the child's user+sys.
* memory: peak RSS of a child process running the high-turnover backtest on N bars, at 1%
  of equity a position so that it trades every crossover to the end (see MEMORY_CHILD).

Every figure states its turnover: orders per 1,000 bars. Nothing here is asserted by tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of, turnover_label  # noqa: E402

FAST, SLOW = 10, 20
CASH = 10_000_000  # large, so backtesting.py's whole units round 100% of equity finely
SPEC = f"sma_cross:fast={FAST},slow={SLOW}"

# The high-turnover run's configuration: every crossover trades, nothing refuses it.
HIGH_TURNOVER_CONFIG = {
    "broker": {"cash": str(CASH), "fee": "0", "slippage_bps": "0"},
    "engine": {"size": 1.0, "allow_short": True, "regime": False},
    "risk": {"max_position_pct": 1.0, "max_daily_loss_pct": 1.0, "max_drawdown_pct": 1.0,
             "max_correlation": 1.0, "max_portfolio_volatility": 10.0,
             "max_concentration": 1.0},
    # The peers know no pre-trade compliance (liquidity, hours, per-symbol caps).
    "compliance": {"enabled": False},
    "execution": {"mode": "market"},
    "feed": {"history_bars": 1},  # the smallest warm-up the schema allows
}


# --------------------------------------------------------------------------- data


def tiled_eurusd(bars: int, freq: str = "h") -> pd.DataFrame:
    """EURUSD hourly bars tiled to `bars`: close-to-close returns (their drift removed)
    repeat, and each bar keeps its open/high/low in proportion to its close. Lower-case
    columns, UTC index every `freq`."""
    from backtesting.test import EURUSD

    close = EURUSD["Close"].to_numpy()
    returns = close[1:] / close[:-1]
    # Without drift: each tile ends where it began. Tiled as they are, the sample's +14.6%
    # a tile compounds to prices near 1e15 by 1.3M bars, where all of equity buys less
    # than one quantity step: a 10M-bar run stopped trading there and measured the loop.
    returns = returns / np.exp(np.mean(np.log(returns)))
    shape = {c: (EURUSD[c.capitalize()].to_numpy() / close)[1:] for c in ("open", "high", "low")}
    reps = -(-bars // len(returns))
    path = close[0] * np.cumprod(np.tile(returns, reps)[:bars])
    frame = pd.DataFrame(
        {c: path * np.tile(ratio, reps)[:bars] for c, ratio in shape.items()},
        # Nanosecond stamps, as Desk's own loaders give (pandas 3 defaults to microseconds).
        index=pd.date_range("2000-01-03", periods=bars, freq=freq, tz="UTC").as_unit("ns"),
    )
    frame["close"] = path
    frame["volume"] = np.tile(EURUSD["Volume"].to_numpy()[1:], reps)[:bars].astype(float)
    return frame[["open", "high", "low", "close", "volume"]]


def _peer_frame(frame: pd.DataFrame) -> pd.DataFrame:
    peer = frame.rename(columns=str.capitalize)
    peer.index = peer.index.tz_localize(None)
    return peer


# --------------------------------------------------------------------------- peers


def _sma_cross_strategy():
    from backtesting import Strategy
    from backtesting.lib import crossover
    from backtesting.test import SMA

    class SmaCross(Strategy):
        n1, n2 = FAST, SLOW

        def init(self):
            self.fast = self.I(SMA, self.data.Close, self.n1)
            self.slow = self.I(SMA, self.data.Close, self.n2)

        def next(self):
            # Reversal at every crossover; exclusive_orders closes the other side first.
            if crossover(self.fast, self.slow):
                self.buy()
            elif crossover(self.slow, self.fast):
                self.sell()

    return SmaCross


def run_backtesting_py(frame: pd.DataFrame):
    from backtesting import Backtest

    bt = Backtest(_peer_frame(frame), _sma_cross_strategy(), cash=CASH, commission=0.0,
                  exclusive_orders=True, finalize_trades=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bt.run()


def vectorbt_time(frame: pd.DataFrame) -> tuple[float, float, int] | None:
    """(first call incl. JIT, warm best of 3, trades) for the same crossovers, filled at the
    next bar's open like the others; None if vectorbt is not installed."""
    try:
        import vectorbt as vbt
    except ImportError:
        return None
    close = frame["close"]
    fast, slow = close.rolling(FAST).mean(), close.rolling(SLOW).mean()
    above = fast > slow
    up = above & ~above.shift(1, fill_value=False) & slow.shift(1).notna()
    down = ~above & above.shift(1, fill_value=False) & slow.notna()
    # A signal on bar t's close trades at bar t+1's open.
    long_in, short_in = up.shift(1, fill_value=False), down.shift(1, fill_value=False)

    def run():
        return vbt.Portfolio.from_signals(
            close, entries=long_in, short_entries=short_in, price=frame["open"],
            size=np.inf, init_cash=CASH, fees=0.0, freq="1h")

    started = time.perf_counter()
    portfolio = run()
    first = time.perf_counter() - started
    return first, best_of(3, run), int(portfolio.trades.count())


# --------------------------------------------------------------------------- Desk


def desk_spec(config: dict):
    from engine.backtest.job import build_spec
    from engine.config.schema import config_from_dict

    cfg = config_from_dict(config)
    return build_spec(cfg, [SPEC]), cfg


def run_desk(frame: pd.DataFrame, size: float | None = None):
    """The high-turnover run; `size` replaces its 100% of equity per position."""
    from dataclasses import replace

    from engine.backtest.run import run_backtest

    spec, _ = desk_spec(HIGH_TURNOVER_CONFIG)
    # The brief's run primes on no bars: the strategies' own warm-up is their NaNs.
    spec = replace(spec, warmup=0, size=spec.size if size is None else size)
    return spec, run_backtest({"EURUSD": frame}, spec)


def desk_signal_time(frame: pd.DataFrame, spec) -> float:
    from engine.signals.pipeline import plan_symbol

    return best_of(3, lambda: plan_symbol(frame, spec.strategies, spec.ensemble,
                                          regime_window=None))


def compare_trades(frame: pd.DataFrame, desk_trades, peer_trades: pd.DataFrame) -> dict:
    """Trades matched on their entry bar: how many also share exit bar, prices and side.

    A position still open at the end is closed by each at its own convention: Desk at the
    last bar's close, backtesting.py (finalize_trades) at the last bar's open. That trade
    is compared on its entry and side alone, and counted as `closed_at_end`."""
    index = frame.index
    last = len(index) - 1
    desk = {}
    for t in desk_trades:
        entry = int(index.get_loc(pd.Timestamp(t.entry_time)))
        desk[entry] = (int(index.get_loc(pd.Timestamp(t.exit_time))), float(t.entry_price),
                       float(t.exit_price), t.side)
    same = at_end = 0
    for row in peer_trades.itertuples():
        mine = desk.get(int(row.EntryBar))
        if mine is None:
            continue
        side = "long" if row.Size > 0 else "short"
        if mine[3] != side or not np.isclose(mine[1], row.EntryPrice, rtol=1e-12):
            continue
        if mine[0] == int(row.ExitBar) == last:
            at_end += 1
            same += 1
        elif mine[0] == int(row.ExitBar) and np.isclose(mine[2], row.ExitPrice, rtol=1e-12):
            same += 1
    return {"matched": same, "of": max(len(desk), len(peer_trades)), "closed_at_end": at_end}


def high_turnover(bars: int) -> None:
    print(f"\n== High turnover: {bars:,} hourly bars (EURUSD returns tiled), SMA {FAST}/{SLOW} "
          "reversal, long/short, 100% equity, no costs, regime off, risk at 100% ==")
    frame = tiled_eurusd(bars)
    # One small run of each first, so lazy imports and first calls are not timed.
    run_backtesting_py(frame.iloc[:2000])
    run_desk(frame.iloc[:2000])

    started = time.perf_counter()
    stats = run_backtesting_py(frame)
    peer_s = time.perf_counter() - started
    peer_trades = stats["_trades"]
    peer_orders = 2 * len(peer_trades)  # each trade is an entry fill and an exit fill

    spec, result = run_desk(frame)
    desk_s = result.timing["run_s"]
    orders = result.stats["orders_filled"]
    signal_s = desk_signal_time(frame, spec)
    same = compare_trades(frame, result.trades, peer_trades)

    print(f"backtesting.py  {peer_s:7.2f} s  trades {len(peer_trades):,}  "
          f"({turnover_label(peer_orders, bars)})")
    print(f"Desk            {desk_s:7.2f} s  trades {len(result.trades):,}, orders {orders:,}, "
          f"denied {result.stats['orders_denied']:,}, stops {result.stats['stops_hit']:,}  "
          f"({turnover_label(orders, bars)})")
    print(f"  Desk / backtesting.py speed: {peer_s / desk_s:.2f}x "
          f"({'faster' if desk_s < peer_s else 'slower'}); target >= 10x")
    print(f"  trades equal in entry/exit bar, side and prices: {same['matched']:,} of "
          f"{same['of']:,} ({same['matched'] / max(same['of'], 1):.1%}); of them "
          f"{same['closed_at_end']} still open at the end, closed at each one's convention"
          " (Desk: the last close; backtesting.py: the last open)")
    print(f"  Desk signals {signal_s:.3f} s; per order (run - signals) / orders: "
          f"{1e6 * (desk_s - signal_s) / max(orders, 1):.1f} us")
    vbt = vectorbt_time(frame)
    if vbt is None:
        print("vectorbt        not installed (pip install -e '.[bench]')")
    else:
        first, warm, trades = vbt
        print(f"vectorbt        {warm:7.3f} s warm (first call with JIT {first:.2f} s), "
              f"trades {trades:,}  ({turnover_label(2 * trades, bars)}); "
              f"Desk / vectorbt speed: {warm / desk_s:.3f}x")


# --------------------------------------------------------------------------- small file


def _child_env(home: Path) -> dict:
    env = dict(os.environ)
    # Compiled bytecode as an installed user has it, cached outside the source tree; the
    # signing key and default paths live in the scratch directory, not the user's.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    env["XDG_CONFIG_HOME"] = str(home / "config")
    env["XDG_DATA_HOME"] = str(home / "data")
    return env


def process_time(argv: list[str], env: dict, cwd: Path) -> tuple[float, float, str]:
    """(user+sys CPU, wall seconds, stdout) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed: {done.stderr.strip()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done.stdout


PEER_SCRIPT = textwrap.dedent(f"""
    import sys
    import pandas as pd
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover
    from backtesting.test import SMA

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(SMA, self.data.Close, {FAST})
            self.slow = self.I(SMA, self.data.Close, {SLOW})

        def next(self):
            if crossover(self.fast, self.slow):
                self.position.close(); self.buy()
            elif crossover(self.slow, self.fast):
                self.position.close(); self.sell()

    data = pd.read_csv(sys.argv[1], index_col=0, parse_dates=True)
    stats = Backtest(data, SmaCross, cash=10_000, finalize_trades=True).run()
    print(stats["# Trades"])
""")


def small_file(repeats: int = 5) -> None:
    from backtesting.test import GOOG

    print("\n== Small file: GOOG daily, 2,148 bars, whole process (user+sys CPU, best of "
          f"{repeats}) ==")
    home = Path(tempfile.mkdtemp(prefix="desk-peers-"))
    csv = home / "goog.csv"
    GOOG.to_csv(csv)
    (home / "high_turnover.toml").write_text(_toml(HIGH_TURNOVER_CONFIG))
    env = _child_env(home)
    desk = [sys.executable, "-m", "desk.cli"]
    runs = {
        "backtesting.py SmaCross": lambda i: [sys.executable, str(home / "peer.py"), str(csv)],
        "desk --backtest (default config, regime on)": lambda i: desk + [
            "--db", str(home / f"a{i}.db"), "--backtest", "--data", str(csv),
            "--strategy", SPEC, "--json", str(home / f"a{i}.json")],
        "desk --backtest (high-turnover config)": lambda i: desk + [
            "--config", str(home / "high_turnover.toml"), "--db", str(home / f"b{i}.db"),
            "--backtest", "--data", str(csv), "--strategy", SPEC,
            "--json", str(home / f"b{i}.json")],
    }
    (home / "peer.py").write_text(PEER_SCRIPT)
    for argv in runs.values():
        process_time(argv(-1), env, home)  # warm: bytecode cache and page cache
    # Interleaved, one run of each per round: a virtual machine's speed drifts by 10% over
    # a minute, which would otherwise favour whichever ran in the faster stretch.
    times: dict[str, list] = {name: [] for name in runs}
    for i in range(repeats):
        for name, argv in runs.items():
            times[name].append(process_time(argv(i), env, home))
    results = {name: min(found) for name, found in times.items()}
    peer_cpu, _, peer_out = results["backtesting.py SmaCross"]
    for name, (cpu, wall, out) in results.items():
        if name.startswith("desk"):
            tag = "a" if "default" in name else "b"
            stats = json.loads((home / f"{tag}0.json").read_text())
            orders = stats["stats"]["orders_filled"]
            bars = stats["timing"]["bars"]
            note = (f"orders {orders}, trades {len(stats['trades'])} "
                    f"({turnover_label(orders, bars)}); vs peer {peer_cpu / cpu:.2f}x")
        else:
            trades = int(out.split()[-1])
            note = f"trades {trades} ({turnover_label(2 * trades, len(GOOG))})"
        print(f"{name:46s} CPU {cpu:5.2f} s  wall {wall:5.2f} s  {note}")
    print(f"(scratch files in {home})")


def _toml(config: dict) -> str:
    """A desk.toml holding `config`'s tables (scalar values only, as HIGH_TURNOVER_CONFIG)."""
    lines = []
    for table, values in config.items():
        lines.append(f"[{table}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- memory

MEMORY_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    sys.path.insert(0, sys.argv[2])
    import peers
    bars = int(sys.argv[1])
    # Minute stamps: 3M hours would pass the year 2262, the end of nanosecond time.
    frame = peers.tiled_eurusd(bars, freq="min")
    data_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    # 1% of equity a position, not 100%: SMA 10/20 reversal loses steadily on these
    # returns, and at 100% equity fell below the minimum order within a few million bars,
    # after which the run stopped trading and measured no orders. At 1% every crossover
    # still trades (the same orders and trades to keep in memory) all the way to 10M bars.
    spec, result = peers.run_desk(frame, size=0.01)
    print(json.dumps({"bars": bars, "data_kb": data_rss,
                      "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "run_s": time.perf_counter() - started,
                      "orders": result.stats["orders_filled"],
                      "denied": {rule: d["count"] for rule, d
                                 in result.stats["deny_reasons"].items()},
                      "trades": len(result.trades)}))
""")


def memory(sizes: list[int], timeout: float) -> None:
    print("\n== Memory: peak RSS of a child running the high-turnover backtest on N bars ==")
    here = str(Path(__file__).resolve().parent)
    measured = []
    for bars in sizes:
        try:
            done = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(bars), here],
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            print(f"{bars:>12,} bars  not finished within {timeout:.0f} s")
            continue
        if done.returncode != 0:
            print(f"{bars:>12,} bars  failed: {done.stderr.strip()[-300:]}")
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        measured.append(row)
        print(f"{bars:>12,} bars  peak RSS {row['peak_kb'] / 1024:8.0f} MB "
              f"(after building the data {row['data_kb'] / 1024:6.0f} MB), "
              f"run {row['run_s']:6.1f} s, trades {row['trades']:,} "
              f"({turnover_label(row['orders'], bars)}), denied {row['denied'] or 'none'}")
    if len(measured) >= 2:
        a, b = measured[0], measured[-1]
        slope = (b["peak_kb"] - a["peak_kb"]) / (b["bars"] - a["bars"]) * 1024
        print(f"growth: about {slope:.0f} bytes per bar between {a['bars']:,} and "
              f"{b['bars']:,} bars")
        if b["bars"] < 10_000_000:
            guess = (b["peak_kb"] * 1024 + slope * (10_000_000 - b["bars"])) / 2**20
            print(f"EXTRAPOLATED (not measured): 10,000,000 bars ~ {guess:,.0f} MB peak RSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="high,small,memory")
    parser.add_argument("--bars", type=int, default=500_000)
    parser.add_argument("--memory-bars", default="1000000,3000000,10000000")
    parser.add_argument("--memory-timeout", type=float, default=900.0)
    args = parser.parse_args()
    # backtesting.py's progress bar (tqdm) would only add its drawing to the peer's time.
    os.environ.setdefault("TQDM_DISABLE", "1")
    parts = set(args.only.split(","))
    try:
        import vectorbt  # noqa: F401
    except ImportError as exc:
        print(f"vectorbt unavailable here ({exc}); its figures are skipped")
    if "high" in parts:
        high_turnover(args.bars)
    if "small" in parts:
        small_file()
    if "memory" in parts:
        memory([int(b) for b in args.memory_bars.split(",")], args.memory_timeout)


if __name__ == "__main__":
    main()
