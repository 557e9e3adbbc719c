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
from itertools import accumulate
from operator import attrgetter, sub

from engine.lifecycle.attribution import from_units, split_units, to_cents, to_units

_PNL, _FEES, _RETURN = attrgetter("pnl_units"), attrgetter("fee_units"), attrgetter("return_pct")
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
    return _split(trades)[0]


def _split(trades: Iterable) -> tuple[list[Share], list[Share]]:
    """(each strategy's share of each trade, each whole trade), in exit order."""
    parts, whole = [], []
    ordered = sorted(trades, key=lambda t: t.exit_time)
    for number, trade in enumerate(ordered):
        votes = trade.votes()
        pnl_units, fee_units = to_units(trade.pnl), to_units(trade.fees)
        pnl = split_units(pnl_units, votes)
        fees = split_units(fee_units, votes)
        ret = float(trade.return_pct)
        for sid in sorted(pnl):
            parts.append(Share(number, sid, trade.symbol, trade.regime, trade.exit_time,
                               pnl[sid], fees[sid], ret))
        whole.append(Share(number, "*", trade.symbol, trade.regime, trade.exit_time,
                           pnl_units, fee_units, ret))
    return parts, whole


def group_metrics(rows: Sequence[Share]) -> dict:
    """The module's metrics for one group of shares (in exit order)."""
    pnl_units = list(map(_PNL, rows))
    total = sum(pnl_units)
    wins = [u for u in pnl_units if u > 0]
    gains = sum(wins)
    losses = gains - total
    # Exact integers all the way: running P&L from 0, its running peak, the deepest gap.
    running = list(accumulate(pnl_units, initial=0))
    deepest = max(map(sub, accumulate(running, max), running))
    returns = list(map(_RETURN, rows))
    return {
        "trades": len(rows),
        "pnl": from_units(total),
        "fees": from_units(sum(map(_FEES, rows))),
        "expectancy": float(from_units(total)) / len(rows) if rows else None,
        "profit_factor": gains / losses if losses else None,
        "win_rate": len(wins) / len(rows) if rows else None,
        "sharpe": _sharpe(returns),
        "max_drawdown": from_units(deepest),
    }


def decompose(trades: Iterable) -> dict:
    """`{by_strategy, by_symbol, by_regime, by_strategy_regime, by_strategy_symbol,
    total}`: each group's metrics (module doc); `pnl_cents` of the groups of any one
    breakdown add up to `total.pnl_cents` exactly. The pairs are keyed "strategy|regime"
    and "strategy|symbol"."""
    rows, whole = _split(trades)
    keys = {
        "by_strategy": (rows, lambda r: r.strategy),
        # A trade belongs to one symbol and one regime: its whole P&L, counted once.
        "by_symbol": (whole, lambda r: r.symbol),
        "by_regime": (whole, lambda r: r.regime),
        "by_strategy_regime": (rows, lambda r: f"{r.strategy}|{r.regime}"),
        "by_strategy_symbol": (rows, lambda r: f"{r.strategy}|{r.symbol}"),
    }
    out: dict = {}
    for name, (source, key) in keys.items():
        groups: dict[str, list[Share]] = defaultdict(list)
        for row in source:
            groups[key(row)].append(row)
        metrics = {k: group_metrics(members) for k, members in sorted(groups.items())}
        cents = to_cents({k: to_units(m["pnl"]) for k, m in metrics.items()})
        out[name] = {k: m | {"pnl_cents": cents[k]} for k, m in metrics.items()}
    total = group_metrics(whole)
    total["pnl_cents"] = total["pnl"].quantize(Decimal("0.01"))
    out["total"] = total
    return out


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
    mean = math.fsum(returns) / len(returns)
    std = math.sqrt(math.fsum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
    return mean / std if std > 1e-12 else None
