"""A backtest report: one self-contained HTML file a browser opens with no network.

Equity and drawdown charts are inline SVG drawn here (no JavaScript, no external CSS or
fonts), followed by the metrics table and the trade list. Long runs are downsampled to about
2,000 points per chart, keeping each bucket's lowest and highest value so peaks and the
deepest drawdown survive. Every piece of text is HTML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

import numpy as np

from engine.trading.metrics import drawdown_series

MAX_POINTS = 2000
MAX_TRADE_ROWS = 5000

_WIDTH, _HEIGHT = 960, 280
_LEFT, _RIGHT, _TOP, _BOTTOM = 84, 20, 34, 42

_PCT_KEYS = frozenset({
    "total_return", "annualized_return", "volatility", "max_drawdown", "var_95",
    "expected_shortfall_95", "var_99", "expected_shortfall_99", "win_rate", "exposure",
    "risk_free_rate",
})
_MONEY_KEYS = frozenset({
    "avg_trade", "best_trade", "worst_trade", "initial_equity", "final_equity",
})
_LABELS = {
    "total_return": "Total return",
    "annualized_return": "Annualized return (CAGR)",
    "volatility": "Volatility (annualized)",
    "sharpe": "Sharpe",
    "sortino": "Sortino",
    "calmar": "Calmar",
    "max_drawdown": "Max drawdown",
    # The labels engine.risk.var gives these figures (metrics' var_label, var_99_label).
    "var_95": "VaR 95% historical (1 bar)",
    "expected_shortfall_95": "ES 95% historical (1 bar)",
    "var_99": "VaR 99% historical (1 bar)",
    "expected_shortfall_99": "ES 99% historical (1 bar)",
    "risk_free_rate": "Risk-free rate (annual, in Sharpe and Sortino)",
    "win_rate": "Win rate",
    "profit_factor": "Profit factor",
    "avg_trade": "Average trade",
    "avg_trade_return_pct": "Average trade return (%)",
    "num_trades": "Trades",
    "exposure": "Exposure",
    "periods_per_year": "Bars per year",
}

# The stylesheet every self-contained HTML report shares (backtest, portfolio, Monte Carlo,
# optimization); each page adds only its own classes.
PAGE_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;
max-width:1000px;color:#1d2330;background:#fff;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#5b6475;margin:0 0 16px}
svg{display:block;background:#fafbfc;border:1px solid #e3e6eb;border-radius:4px;
margin:8px 0;max-width:100%;height:auto}
svg text{font-size:11px;fill:#5b6475}svg .title{font-size:13px;fill:#1d2330}
svg .grid{stroke:#e3e6eb;stroke-width:1}svg .axis{stroke:#9aa1ad;stroke-width:1}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;margin:4px 0}
th,td{padding:3px 10px;border-bottom:1px solid #eceef2;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}th{background:#f3f5f8}
.pos{color:#11804a}.neg{color:#c0392b}.note{color:#5b6475;font-style:italic}
"""
_CSS = PAGE_CSS + """
.trades{width:100%;font-size:12px}.trades td,.trades th{padding:2px 5px}
.trades td:last-child{white-space:normal}.heat td{min-width:44px}
"""


def render_report(
    *,
    title: str,
    metrics: dict,
    equity: Any,
    trades: list[dict],
    subtitle: str = "",
    extras: dict | None = None,
    label: str = "this run",
) -> str:
    """The report for one run as one HTML document. `equity` is a pandas Series indexed by
    bar time (any index works; a DatetimeIndex gets date labels); `trades` are flat dicts,
    one a row. `extras` (engine.backtest.report_data) adds the compare table, the
    buy-and-hold benchmark, monthly returns and the price charts."""
    from engine.backtest import report_sections as sections

    extras = extras or {}
    values = np.asarray(equity.to_numpy(), dtype=np.float64)
    xs, labeler = _x_axis(equity.index)
    keep = np.isfinite(values)
    values, xs = values[keep], xs[keep]
    drawdown = drawdown_series(values) * 100.0 if len(values) else values
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{escape(subtitle)}</p>' if subtitle else "",
        "<h2>Equity</h2>",
        line_chart(xs, values, labeler, "Equity", _format_money,
                   overlays=sections.benchmark_overlays(extras, equity.index)),
        "<h2>Drawdown</h2>",
        line_chart(xs, drawdown, labeler, "Drawdown from peak (%)", _format_pct_axis,
                   fill_to_zero=True),
        "<h2>Metrics</h2>",
        _metrics_table(metrics),
        sections.compare_table(label, metrics, extras),
        sections.monthly_heatmap(extras.get("monthly") or {}),
        sections.price_charts(extras, trades, labeler),
        "<h2>Trades</h2>",
        sections.trades_table(trades, MAX_TRADE_ROWS),
        f'<p class="note">Generated {escape(datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))}'
        " by Desk.</p>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def format_metric(key: str, value: Any) -> str:
    """How the report shows one metric (None means not defined: an em dash)."""
    if value is None:
        return "\u2014"
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return "\u2014"
    if key in _PCT_KEYS:
        return f"{v * 100:,.2f}%"
    if key in _MONEY_KEYS:
        return f"{v:,.2f}"
    if key == "periods_per_year":
        return f"{v:,.1f}"
    return f"{v:,.3f}"


# -- charts --------------------------------------------------------------------------------


def downsample(xs: np.ndarray, ys: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most ~max_points points: per bucket its lowest and highest value (in
    time order), plus the first and last point."""
    n = len(ys)
    if n <= max_points:
        return np.arange(n)
    buckets = max_points // 2
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    size = int(np.max(np.diff(edges)))
    # Pad each bucket to the same length so argmin/argmax run over a 2-D view at once.
    starts = edges[:-1]
    offsets = np.arange(size)
    idx = np.minimum(starts[:, None] + offsets[None, :], edges[1:, None] - 1)
    block = ys[idx]
    lo = idx[np.arange(buckets), block.argmin(axis=1)]
    hi = idx[np.arange(buckets), block.argmax(axis=1)]
    return np.unique(np.concatenate(([0, n - 1], lo, hi)))


def line_chart(
    xs: np.ndarray,
    ys: np.ndarray,
    labeler,
    title: str,
    y_format,
    fill_to_zero: bool = False,
    overlays: Sequence[Overlay] = (),
    markers: Sequence[Marker] = (),
) -> str:
    """An SVG line chart with value and time axes. `overlays` are further lines on the
    same axes (e.g. a benchmark), named in a legend; `markers` are points drawn on top
    (e.g. entries and exits), each with a tooltip."""
    head = (f'<svg viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" height="{_HEIGHT}" '
            f'role="img" aria-label="{escape(title)}">'
            f'<text class="title" x="{_LEFT}" y="20">{escape(title)}</text>')
    if len(ys) == 0:
        return head + f'<text x="{_WIDTH / 2}" y="{_HEIGHT / 2}">no data</text></svg>'
    keep = downsample(xs, ys)
    x, y = xs[keep], ys[keep]
    y_lo, y_hi = float(y.min()), float(y.max())
    for overlay in overlays:
        if len(overlay.ys):
            y_lo, y_hi = min(y_lo, float(overlay.ys.min())), max(y_hi, float(overlay.ys.max()))
    if fill_to_zero:
        y_hi = max(y_hi, 0.0)
    ticks = nice_ticks(y_lo, y_hi)
    y_lo, y_hi = min(y_lo, ticks[0]), max(y_hi, ticks[-1])
    x_lo, x_hi = float(x[0]), float(x[-1])
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1.0, x_hi + 1.0
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM

    def px(v):
        return _LEFT + (v - x_lo) / (x_hi - x_lo) * plot_w

    def py(v):
        return _TOP + (y_hi - v) / (y_hi - y_lo) * plot_h

    out = [head]
    for t in ticks:
        yy = py(t)
        out.append(f'<line class="grid" x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" '
                   f'y1="{yy:.1f}" y2="{yy:.1f}"/>')
        out.append(f'<text x="{_LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">'
                   f"{escape(y_format(t))}</text>")
    ticks = np.linspace(x_lo, x_hi, 6)
    for i, v in enumerate(ticks):
        xx = px(v)
        # The end labels lean inward so the chart's edges never clip them.
        anchor = "start" if i == 0 else "end" if i == len(ticks) - 1 else "middle"
        out.append(f'<line class="axis" x1="{xx:.1f}" x2="{xx:.1f}" '
                   f'y1="{_HEIGHT - _BOTTOM}" y2="{_HEIGHT - _BOTTOM + 5}"/>')
        out.append(f'<text x="{xx:.1f}" y="{_HEIGHT - _BOTTOM + 18}" text-anchor="{anchor}">'
                   f"{escape(labeler(v, x_hi - x_lo))}</text>")
    out.append(f'<line class="axis" x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" '
               f'y1="{_HEIGHT - _BOTTOM}" y2="{_HEIGHT - _BOTTOM}"/>')
    points = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, y, strict=True))
    if fill_to_zero:
        zero = py(0.0)
        area = f"{px(x[0]):.1f},{zero:.1f} {points} {px(x[-1]):.1f},{zero:.1f}"
        out.append(f'<polygon points="{area}" fill="#c0392b" fill-opacity="0.25" '
                   'stroke="none"/>')
        out.append(f'<polyline points="{points}" fill="none" stroke="#c0392b" '
                   'stroke-width="1.2"/>')
    else:
        out.append(f'<polyline points="{points}" fill="none" stroke="#2563eb" '
                   'stroke-width="1.5"/>')
    for n, overlay in enumerate(overlays):
        if len(overlay.ys):
            line = " ".join(f"{px(a):.1f},{py(b):.1f}"
                            for a, b in zip(overlay.xs, overlay.ys, strict=True))
            out.append(f'<polyline points="{line}" fill="none" stroke="{overlay.color}" '
                       'stroke-width="1.2" stroke-dasharray="5 3"/>')
        lx = _WIDTH - _RIGHT - 230
        out.append(f'<line x1="{lx}" x2="{lx + 24}" y1="{16 + 14 * n}" y2="{16 + 14 * n}" '
                   f'stroke="{overlay.color}" stroke-width="2" stroke-dasharray="5 3"/>'
                   f'<text x="{lx + 30}" y="{20 + 14 * n}">{escape(overlay.label)}</text>')
    for marker in markers:
        out.append(_marker_svg(px(marker.x), py(marker.y), marker))
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class Overlay:
    xs: np.ndarray
    ys: np.ndarray
    color: str
    label: str


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    shape: str  # "up" | "down" | "exit"
    color: str
    tip: str


def _marker_svg(cx: float, cy: float, marker: Marker) -> str:
    tip = f"<title>{escape(marker.tip)}</title>"
    if marker.shape == "exit":
        return (f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="#fff" '
                f'stroke="{marker.color}" stroke-width="1.5">{tip}</circle>')
    dy = 6 if marker.shape == "up" else -6
    points = f"{cx:.1f},{cy - dy:.1f} {cx - 5:.1f},{cy + dy:.1f} {cx + 5:.1f},{cy + dy:.1f}"
    return f'<polygon points="{points}" fill="{marker.color}">{tip}</polygon>'



def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]."""
    if hi == lo:
        pad = abs(hi) * 0.01 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw)
    first = math.floor(lo / step) * step
    last = math.ceil(hi / step) * step
    n = int(round((last - first) / step))
    return [first + i * step for i in range(n + 1)]


def _x_axis(index: Any):
    """Numeric x positions and a labeler for them: seconds for a DatetimeIndex (so gaps in
    time show as gaps), bar numbers otherwise."""
    import pandas as pd

    if isinstance(index, pd.DatetimeIndex) and len(index):
        origin = index[0]
        xs = (index - origin).total_seconds().to_numpy(dtype=np.float64)

        def label(v: float, span: float) -> str:
            ts = origin + pd.Timedelta(seconds=float(v))
            return ts.strftime("%Y-%m-%d" if span >= 5 * 86400 else "%m-%d %H:%M")

        return xs, label
    return np.arange(len(index), dtype=np.float64), lambda v, span: f"{v:,.0f}"


def _format_money(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.4g}"


def _format_pct_axis(v: float) -> str:
    return f"{v:.1f}%" if abs(v) < 10 else f"{v:.0f}%"


# -- tables --------------------------------------------------------------------------------


def _metrics_table(metrics: dict) -> str:
    rows = [
        f"<tr><td>{escape(_LABELS.get(k, k.replace('_', ' ').capitalize()))}</td>"
        f"<td>{escape(format_metric(k, v))}</td></tr>"
        for k, v in metrics.items()
    ]
    return ("<table><thead><tr><th>Metric</th><th>Value</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")

