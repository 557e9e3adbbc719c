"""The portfolio backtest report: one self-contained HTML file (inline SVG, no script).

Equity and drift (the largest |weight - target| before each bar's trades) as line
charts, the weights over time as a stacked area chart (the white band on top is the quote
currency), the summary, and the last journal entries.
"""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np
import pandas as pd

from engine.backtest.report import PAGE_CSS
from engine.portfolio.backtest import PortfolioBacktestResult

_WIDTH, _HEIGHT = 960, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 140, 34, 40
MAX_COLUMNS = 600  # time buckets of the stacked chart; ample for a 960-pixel-wide picture
MAX_JOURNAL_ROWS = 200
_PALETTE = ("#2563eb", "#c0392b", "#11804a", "#d97706", "#7c3aed", "#0891b2", "#be185d",
            "#4d7c0f", "#b45309", "#1e40af", "#9f1239", "#047857", "#6d28d9", "#0e7490",
            "#a16207", "#15803d", "#7e22ce", "#b91c1c", "#1d4ed8", "#334155")

_CSS = PAGE_CSS + """
td.text{text-align:left;white-space:normal}
"""

_SUMMARY = (
    ("total_return", "Total return", "pct"), ("annualized_return", "Annualized return", "pct"),
    ("volatility", "Volatility (annualized)", "pct"), ("sharpe", "Sharpe", "num"),
    ("max_drawdown", "Max drawdown", "pct"), ("turnover", "Turnover (x average equity)", "num"),
    ("turnover_annual", "Turnover a year", "num"), ("costs", "Costs (fees + slippage)", "money"),
    ("rebalances", "Rebalances", "int"), ("rebalances_skipped", "Skipped (cost > benefit)", "int"),
    ("hedges", "Hedge steps in", "int"), ("unhedges", "Hedge steps out", "int"),
    ("average_holdings", "Average holdings", "num"),
    ("average_cash_weight", "Average quote-currency weight", "pct"),
)


def format_value(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "pct":
        return f"{value * 100:,.2f}%"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "money":
        return f"{value:,.2f}"
    return f"{value:,.3f}"


def stacked_weights_chart(weights: pd.DataFrame) -> str:
    """Weights over time, stacked, one colour per asset, bucketed to MAX_COLUMNS columns."""
    head = (f'<svg viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" height="{_HEIGHT}" '
            'role="img" aria-label="Weights over time"><text class="title" '
            f'x="{_LEFT}" y="20">Weights over time (stacked; the rest is the quote currency)'
            "</text>")
    if weights.empty:
        return head + "</svg>"
    values = weights.to_numpy()
    buckets = np.array_split(np.arange(len(values)), min(MAX_COLUMNS, len(values)))
    means = np.array([values[b].mean(axis=0) for b in buckets])
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    xs = _LEFT + np.linspace(0, plot_w, len(means))

    def py(v: np.ndarray) -> np.ndarray:
        return _TOP + (1 - v) * plot_h

    out = [head]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = float(py(np.array(tick)))
        out.append(f'<line class="grid" x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y:.1f}" '
                   f'y2="{y:.1f}"/><text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f"{tick:.0%}</text>")
    lower = np.zeros(len(means))
    order = np.argsort(-means.mean(axis=0))
    shown = [i for i in order if means[:, i].max() > 0]
    for rank, i in enumerate(shown):
        upper = lower + means[:, i]
        top = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, py(upper), strict=True))
        bottom = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs[::-1], py(lower)[::-1],
                                                              strict=True))
        colour = _PALETTE[rank % len(_PALETTE)]
        out.append(f'<polygon points="{top} {bottom}" fill="{colour}" fill-opacity="0.8"/>')
        if rank < 14:  # a legend longer than the chart is no help
            out.append(f'<rect x="{_LEFT + plot_w + 10}" y="{_TOP + rank * 16}" width="10" '
                       f'height="10" fill="{colour}"/><text x="{_LEFT + plot_w + 24}" '
                       f'y="{_TOP + rank * 16 + 9}">{escape(str(weights.columns[i]))}</text>')
        lower = upper
    first, last = weights.index[0], weights.index[-1]
    for frac, stamp in ((0.0, first), (1.0, last)):
        anchor = "start" if frac == 0 else "end"
        out.append(f'<text x="{_LEFT + frac * plot_w:.1f}" y="{_HEIGHT - _BOTTOM + 16}" '
                   f'text-anchor="{anchor}">{escape(str(stamp)[:10])}</text>')
    out.append("</svg>")
    return "".join(out)


def _line(series: pd.Series, title: str, fmt) -> str:
    from engine.backtest.report import line_chart

    xs = np.arange(len(series), dtype=float)
    stamps = [str(s)[:10] for s in series.index]

    def label(v: float, span: float) -> str:
        return stamps[min(max(int(round(v)), 0), len(stamps) - 1)] if stamps else ""

    return line_chart(xs, series.to_numpy(dtype=float), label, title, fmt)


def render_portfolio_report(result: PortfolioBacktestResult, *, title: str, subtitle: str
                            ) -> str:
    summary = "".join(
        f"<tr><td>{escape(label)}</td><td>{escape(format_value(result.summary.get(key), kind))}"
        "</td></tr>" for key, label, kind in _SUMMARY)
    journal = result.journal[-MAX_JOURNAL_ROWS:]
    rows = "".join(
        f"<tr><td>{escape(e['ts'][:10])}</td><td>{escape(e['kind'])}</td>"
        f'<td class="text">{escape(_describe(e))}</td></tr>' for e in journal)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><p class=\"sub\">{escape(subtitle)}</p>"
        f"<h2>Equity</h2>{_line(result.equity, 'Equity', lambda v: f'{v:,.0f}')}"
        f"<h2>Weights</h2>{stacked_weights_chart(result.weights)}"
        f"<h2>Drift</h2>{_line(result.drift * 100, 'Largest drift from target (%)', _pct)}"
        f"<h2>Summary</h2><table>{summary}</table>"
        f"<h2>Journal (last {len(journal)} of {len(result.journal)})</h2>"
        f"<table><tr><th>Date</th><th>Decision</th><th>Why</th></tr>{rows}</table>"
        "</body></html>")


def _pct(v: float) -> str:
    return f"{v:.1f}%"


def _describe(entry: dict) -> str:
    skip = {"ts", "kind"}
    return "; ".join(f"{k}: {v}" for k, v in entry.items() if k not in skip)
