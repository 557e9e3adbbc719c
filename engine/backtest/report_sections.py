"""Sections of the HTML report beyond equity, drawdown and metrics: the compare table
with the buy-and-hold benchmark, the monthly returns heatmap, a price chart per symbol
with entries and exits, and a trade table narrow enough to need no sideways scrolling.

Everything is inline HTML and SVG (the report stays one self-contained file); every piece
of text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np

from engine.backtest.report import Marker, Overlay, format_metric, line_chart

MAX_MARKERS = 400  # per symbol: past this the chart shows the last ones and says so
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LONG, SHORT, EXIT = "#11804a", "#c0392b", "#1d2330"


def seconds_since(times: Sequence[str], origin: Any) -> np.ndarray:
    """ISO times as seconds after `origin` (the x axis of the report's charts)."""
    import pandas as pd

    stamps = pd.DatetimeIndex(pd.to_datetime(list(times), utc=True))
    base = pd.Timestamp(origin)
    base = base.tz_localize("UTC") if base.tzinfo is None else base.tz_convert("UTC")
    return (stamps - base).total_seconds().to_numpy(dtype=np.float64)


def benchmark_overlays(extras: Mapping[str, Any], index: Any) -> list[Overlay]:
    benchmark = extras.get("benchmark")
    if not benchmark or not len(index) or not hasattr(index[0], "isoformat"):
        return []
    xs = seconds_since(benchmark["times"], index[0])
    return [Overlay(xs, np.asarray(benchmark["equity"], dtype=np.float64), "#e08a1e",
                    benchmark["label"])]


def compare_table(label: str, metrics: Mapping, extras: Mapping[str, Any]) -> str:
    """The run, each strategy alone (--compare) and buy and hold, side by side."""
    rows: list[tuple[str, Mapping]] = [(label, metrics)]
    rows += [(entry["label"], entry["metrics"]) for entry in extras.get("compare", [])]
    if extras.get("benchmark"):
        rows.append((extras["benchmark"]["label"], extras["benchmark"]["metrics"]))
    if len(rows) == 1:
        return ""
    keys = ("total_return", "annualized_return", "sharpe", "max_drawdown", "num_trades")
    head = "".join(f"<th>{h}</th>" for h in ("Run", "Return", "CAGR", "Sharpe",
                                               "Max drawdown", "Trades"))
    body = "".join(
        "<tr><td>" + escape(name) + "</td>"
        + "".join(f"<td>{escape(format_metric(k, m.get(k)))}</td>" for k in keys)
        + "</tr>" for name, m in rows)
    return (f"<h2>Compared</h2><table><thead><tr>{head}</tr></thead><tbody>{body}"
            "</tbody></table>")


def monthly_heatmap(monthly: Mapping[str, float]) -> str:
    """Years down, months across, each cell coloured by its return; the year's compound
    return at the end of its row."""
    if not monthly:
        return ""
    years: dict[int, dict[int, float]] = {}
    for key, value in monthly.items():
        year, month = (int(part) for part in key.split("-")[:2])
        years.setdefault(year, {})[month] = value
    scale = max((abs(v) for v in monthly.values() if v is not None), default=0.0) or 1.0
    head = "<th>Year</th>" + "".join(f"<th>{m}</th>" for m in MONTHS) + "<th>Year</th>"
    rows = []
    for year in sorted(years):
        cells = [f"<td>{year}</td>"]
        for month in range(1, 13):
            value = years[year].get(month)
            cells.append(_heat_cell(value, scale))
        total = math.prod(1.0 + v for v in years[year].values()) - 1.0
        cells.append(f"<td><b>{total * 100:.1f}%</b></td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return ('<h2>Monthly returns</h2><table class="heat"><thead><tr>' + head
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _heat_cell(value: float | None, scale: float) -> str:
    if value is None:
        return "<td></td>"
    strength = min(abs(value) / scale, 1.0) * 0.65 + 0.08
    rgb = "17,128,74" if value >= 0 else "192,57,43"
    return (f'<td style="background:rgba({rgb},{strength:.2f})">{value * 100:.1f}%</td>')


def price_charts(extras: Mapping[str, Any], trades: Sequence[Mapping], labeler) -> str:
    """One chart per symbol: its closes, a triangle at each entry (up for a long, down for
    a short) and a ring at each exit, each with a tooltip."""
    prices = extras.get("prices") or {}
    out = []
    for symbol, series in prices.items():
        if not series["times"]:
            continue
        origin = series["times"][0]
        xs = seconds_since(series["times"], origin)
        ys = np.asarray(series["close"], dtype=np.float64)
        mine = [t for t in trades if t.get("symbol") == symbol]
        shown = mine[-MAX_MARKERS:]
        markers = []
        for t in shown:
            long = str(t.get("side", "")).lower() in ("long", "buy")
            times = [t["entry_time"], t.get("exit_time") or t["entry_time"]]
            entry_x, exit_x = seconds_since(times, origin)
            markers.append(Marker(float(entry_x), float(t["entry_price"]),
                                  "up" if long else "down", LONG if long else SHORT,
                                  f"{t.get('side')} entry {t['entry_time']} @ "
                                  f"{t['entry_price']}"))
            if t.get("exit_price") not in (None, ""):
                markers.append(Marker(float(exit_x), float(t["exit_price"]), "exit", EXIT,
                                      f"exit {t['exit_time']} @ {t['exit_price']} "
                                      f"(P&L {t.get('pnl')})"))
        note = (f'<p class="note">Showing the last {len(shown):,} of {len(mine):,} trades.'
                "</p>" if len(mine) > len(shown) else "")
        out.append(line_chart(xs, ys, _labeler_from(origin), f"{symbol}: close, entries "
                              "(▲ long, ▼ short) and exits (○)", _price_axis,
                              markers=markers) + note)
    return "<h2>Prices, entries and exits</h2>" + "".join(out) if out else ""


def _labeler_from(origin: str):
    import pandas as pd

    base = pd.Timestamp(origin)

    def label(v: float, span: float) -> str:
        ts = base + pd.Timedelta(seconds=float(v))
        return ts.strftime("%Y-%m-%d" if span >= 5 * 86400 else "%m-%d %H:%M")

    return label


def _price_axis(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.4g}"


# -- trades ----------------------------------------------------------------------------------

TRADE_COLUMNS = (
    ("symbol", "Symbol"), ("side", "Side"), ("entry_time", "Entry"),
    ("entry_price", "Entry px"), ("exit_time", "Exit"), ("exit_price", "Exit px"),
    ("qty", "Qty"), ("pnl", "P&L"), ("return_pct", "Return"), ("strategy", "Strategy"),
)


def trades_table(trades: Sequence[Mapping], max_rows: int) -> str:
    """The trade list in eleven narrow columns (times to the minute, prices to 6
    significant digits, P&L to the cent) that fit the page's width; the strategy column
    wraps. Fees, regime and attribution are in the JSON."""
    if not trades:
        return '<p class="note">No closed trades.</p>'
    shown = trades[:max_rows]
    head = "<th>#</th>" + "".join(f"<th>{label}</th>" for _, label in TRADE_COLUMNS)
    body = []
    for i, t in enumerate(shown, 1):
        cells = [f"<td>{i}</td>"]
        for key, _ in TRADE_COLUMNS:
            value = t.get(key)
            cls = _sign_class(value) if key in ("pnl", "return_pct") else ""
            cells.append(f"<td{cls}>{escape(_trade_cell(key, value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = ""
    if len(trades) > len(shown):
        note = (f'<p class="note">Showing the first {len(shown):,} of {len(trades):,} '
                "trades.</p>")
    return (note + '<table class="trades"><thead><tr>' + head + "</tr></thead><tbody>"
            + "".join(body) + "</tbody></table>")


def _trade_cell(key: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if key.endswith("_time"):
        return str(value)[:16].replace("T", " ")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if key == "pnl":
        return f"{number:,.2f}"
    if key == "return_pct":
        return f"{number:.2f}%"
    if key == "qty":
        return f"{number:.8g}"
    return f"{number:,.6g}" if abs(number) < 1e6 else f"{number:,.0f}"


def _sign_class(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return ' class="pos"' if v > 0 else ' class="neg"' if v < 0 else ""
