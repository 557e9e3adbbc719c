"""The decomposition as rows of text: what `desk report strategies` prints and writes as
CSV. Money to the cent, rates in %, ratios to two places; "-" where a value is undefined."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

COLUMNS = ("group", "name", "trades", "pnl", "fees", "expectancy", "profit_factor",
           "win_rate", "sharpe", "max_drawdown")
SECTIONS = (("by_strategy", "strategy"), ("by_symbol", "symbol"), ("by_regime", "regime"),
            ("by_strategy_regime", "strategy|regime"))


def rows(decomposition: Mapping, *, grouped: bool = False) -> list[tuple[str, ...]]:
    """One row per group of every breakdown, then the total; `grouped` puts thousands
    separators in money (for people, not for CSV)."""
    out = []
    for section, label in SECTIONS:
        for name, m in decomposition.get(section, {}).items():
            out.append((label, name, *cells(m, grouped=grouped)))
    total = decomposition.get("total")
    if total:
        out.append(("total", "all", *cells(total, grouped=grouped)))
    return out


def cells(m: Mapping, *, grouped: bool = False) -> tuple[str, ...]:
    """trades, pnl, fees, expectancy, profit factor, win rate, sharpe, max drawdown."""
    def money(value) -> str:
        return _money(value, grouped)

    return (
        str(m.get("trades", 0)),
        money(m.get("pnl_cents", m.get("pnl"))),
        money(m.get("fees")),
        money(m.get("expectancy")),
        _ratio(m.get("profit_factor")),
        _pct(m.get("win_rate")),
        _ratio(m.get("sharpe")),
        money(m.get("max_drawdown")),
    )


def _money(value, grouped: bool = False) -> str:
    if value is None:
        return "-"
    cents = Decimal(str(value)).quantize(Decimal("0.01"))
    return f"{cents:,}" if grouped else str(cents)


def _ratio(value) -> str:
    return "-" if value is None else f"{float(value):.2f}"


def _pct(value) -> str:
    return "-" if value is None else f"{float(value) * 100:.1f}%"
