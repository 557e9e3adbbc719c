"""Performance decomposition: closed trades broken down by strategy, symbol and regime.

Each trade's P&L and fees are split among the strategies that opened it
(`engine.lifecycle.attribution`, exact in 1e-8 units), so every breakdown adds up to the
run's total exactly, and the cents printed add up to the printed total.

Metrics of a group (its trades, or its shares of the trades it took part in):

- trades: trades the group took part in; pnl, fees: attributed money (pnl is net of fees);
- expectancy: mean attributed pnl per trade (money);
- profit_factor: gross attributed profit / gross attributed loss (None without a loss);
- win_rate: share of its trades with pnl > 0;
- sharpe: mean / std (ddof=1) of the trades' returns (return_pct, per trade, not
  annualized; None below two trades or with zero spread). A share of a trade has the
  trade's return: attribution splits money, not the rate of return;
- max_drawdown: deepest fall of the running attributed pnl from its peak (money, >= 0;
  the running sum starts at 0).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from engine.lifecycle.attribution import from_units, split_units, to_cents, to_units

METRICS = ("trades", "expectancy", "profit_factor", "win_rate", "sharpe", "max_drawdown",
           "pnl", "fees")
DIMENSIONS = ("by_strategy", "by_symbol", "by_regime", "by_strategy_regime",
              "by_strategy_symbol")


@dataclass(frozen=True, slots=True)
class Share:
    """One strategy's part of one closed trade."""

    trade_no: int  # the trade's place in exit order
    strategy: str
    symbol: str
    regime: str
    exit_time: object  # datetime: the order groups' running pnl is built in
    pnl_units: int  # 1e-8 units
    fee_units: int
    return_pct: float


def shares(trades: Iterable) -> list[Share]:
    """Every trade split among its strategies, in the order of the trades' exits."""
    out = []
    ordered = sorted(trades, key=lambda t: t.exit_time)
    for number, trade in enumerate(ordered):
        votes = trade.votes()
        pnl = split_units(to_units(trade.pnl), votes)
        fees = split_units(to_units(trade.fees), votes)
        for sid in sorted(pnl):
            out.append(Share(number, sid, trade.symbol, trade.regime, trade.exit_time, pnl[sid],
                             fees[sid], float(trade.return_pct)))
    return out


def group_metrics(rows: Sequence[Share]) -> dict:
    """The module's metrics for one group of shares (in exit order)."""
    pnl_units = [r.pnl_units for r in rows]
    total = sum(pnl_units)
    gains = sum(u for u in pnl_units if u > 0)
    losses = -sum(u for u in pnl_units if u < 0)
    running, peak, deepest = 0, 0, 0
    for u in pnl_units:
        running += u
        peak = max(peak, running)
        deepest = max(deepest, peak - running)
    returns = [r.return_pct for r in rows]
    return {
        "trades": len(rows),
        "pnl": from_units(total),
        "fees": from_units(sum(r.fee_units for r in rows)),
        "expectancy": float(from_units(total)) / len(rows) if rows else None,
        "profit_factor": gains / losses if losses else None,
        "win_rate": sum(1 for u in pnl_units if u > 0) / len(rows) if rows else None,
        "sharpe": _sharpe(returns),
        "max_drawdown": from_units(deepest),
    }


def decompose(trades: Iterable) -> dict:
    """`{by_strategy, by_symbol, by_regime, by_strategy_regime, by_strategy_symbol,
    total}`: each group's metrics (module doc); `pnl_cents` of the groups of any one
    breakdown add up to `total.pnl_cents` exactly. The pairs are keyed "strategy|regime"
    and "strategy|symbol"."""
    rows = shares(trades)
    keys = {
        "by_strategy": lambda r: r.strategy,
        "by_symbol": lambda r: r.symbol,
        "by_regime": lambda r: r.regime,
        "by_strategy_regime": lambda r: f"{r.strategy}|{r.regime}",
        "by_strategy_symbol": lambda r: f"{r.strategy}|{r.symbol}",
    }
    out: dict = {}
    for name, key in keys.items():
        groups: dict[str, list[Share]] = defaultdict(list)
        for row in rows:
            groups[key(row)].append(row)
        if name == "by_symbol":
            # A trade belongs to one symbol: its whole pnl, counted once.
            groups = {sym: _whole_trades(members) for sym, members in groups.items()}
        if name == "by_regime":
            groups = {reg: _whole_trades(members) for reg, members in groups.items()}
        cents = to_cents({k: sum(r.pnl_units for r in members) for k, members in groups.items()})
        out[name] = {k: group_metrics(members) | {"pnl_cents": cents[k]}
                     for k, members in sorted(groups.items())}
    total = group_metrics(_whole_trades(rows))
    total["pnl_cents"] = from_units(sum(r.pnl_units for r in rows)).quantize(Decimal("0.01"))
    out["total"] = total
    return out


def _whole_trades(rows: Sequence[Share]) -> list[Share]:
    """Merge the shares of each trade back into one row (a symbol or regime takes whole
    trades: two strategies' shares of one trade are one trade there)."""
    merged: dict[int, Share] = {}
    for r in rows:
        seen = merged.get(r.trade_no)
        merged[r.trade_no] = r if seen is None else Share(
            r.trade_no, "*", r.symbol, r.regime, r.exit_time, seen.pnl_units + r.pnl_units,
            seen.fee_units + r.fee_units, r.return_pct)
    return list(merged.values())


def ranked(breakdown: dict, metric: str, n: int = 3, *, bottom: bool = False) -> list[str]:
    """Top (or bottom) `n` group names of one breakdown by `metric` (groups where the
    metric is undefined are left out); ties keep name order."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    scored = [(float(m[metric]), name) for name, m in breakdown.items()
              if m.get(metric) is not None]
    scored.sort(key=lambda item: (item[0] if bottom else -item[0], item[1]))
    return [name for _, name in scored[:n]]


def to_jsonable(decomposition: dict) -> dict:
    """Decimals as strings (exact), floats that are not finite as null."""
    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value
    return plain(decomposition)


def _sharpe(returns: Sequence[float]) -> float | None:
    if len(returns) < 2:
        return None
    mean = sum(returns) / len(returns)
    var = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    std = math.sqrt(var)
    return mean / std if std > 1e-12 else None
