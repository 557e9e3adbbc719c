"""An optimization report: one self-contained HTML file (inline SVG, no script, no network).

It charts the efficient frontier (annualized volatility across, expected return up), each
asset alone, and the optimized portfolio; then lists the weights, risk contributions and
figures. Every piece of text is HTML-escaped.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from html import escape

import numpy as np

from engine.backtest.report import PAGE_CSS
from engine.portfolio.frontier import FrontierPoint
from engine.portfolio.inputs import MarketInputs
from engine.portfolio.result import PortfolioResult

_WIDTH, _HEIGHT = 960, 420
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 24, 34, 46

_CSS = PAGE_CSS


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]."""
    if hi <= lo:
        lo, hi = lo - 0.01, hi + 0.01
    raw = (hi - lo) / count
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw)
    first, last = math.floor(lo / step) * step, math.ceil(hi / step) * step
    return [first + i * step for i in range(int(round((last - first) / step)) + 1)]


def frontier_chart(
    frontier: list[FrontierPoint], inputs: MarketInputs, result: PortfolioResult
) -> str:
    """The frontier as an SVG line, assets as grey dots, the result as a red diamond."""
    asset_vol = np.sqrt(np.diag(inputs.cov))
    xs = np.r_[[p.volatility for p in frontier], asset_vol, result.volatility]
    ys = np.r_[[p.expected_return for p in frontier], inputs.mu, result.expected_return]
    x_ticks, y_ticks = _ticks(0.0, float(xs.max())), _ticks(min(0.0, float(ys.min())),
                                                             float(ys.max()))
    x_lo, x_hi, y_lo, y_hi = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM

    def px(v: float) -> float:
        return _LEFT + (v - x_lo) / (x_hi - x_lo) * plot_w

    def py(v: float) -> float:
        return _TOP + (y_hi - v) / (y_hi - y_lo) * plot_h

    title = "Efficient frontier (annualized)"
    out = [f'<svg viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" height="{_HEIGHT}" '
           f'role="img" aria-label="{title}"><text class="title" x="{_LEFT}" y="20">'
           f"{title}</text>"]
    for t in y_ticks:
        out.append(f'<line class="grid" x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{py(t):.1f}" '
                   f'y2="{py(t):.1f}"/><text x="{_LEFT - 6}" y="{py(t) + 4:.1f}" '
                   f'text-anchor="end">{t * 100:.0f}%</text>')
    for t in x_ticks:
        out.append(f'<line class="grid" x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{_TOP}" '
                   f'y2="{_HEIGHT - _BOTTOM}"/><text x="{px(t):.1f}" '
                   f'y="{_HEIGHT - _BOTTOM + 16}" text-anchor="middle">{t * 100:.0f}%</text>')
    out.append(f'<text x="{_LEFT + plot_w / 2}" y="{_HEIGHT - 8}" text-anchor="middle">'
               "volatility</text>")
    points = " ".join(f"{px(p.volatility):.1f},{py(p.expected_return):.1f}" for p in frontier)
    out.append(f'<polyline points="{points}" fill="none" stroke="#2563eb" stroke-width="2"/>')
    for name, vol, mu in zip(inputs.assets, asset_vol, inputs.mu, strict=True):
        out.append(f'<circle cx="{px(vol):.1f}" cy="{py(mu):.1f}" r="3" fill="#9aa1ad"/>'
                   f'<text x="{px(vol) + 5:.1f}" y="{py(mu) + 4:.1f}">{escape(name)}</text>')
    cx, cy = px(result.volatility), py(result.expected_return)
    out.append(f'<polygon points="{cx:.1f},{cy - 7:.1f} {cx + 7:.1f},{cy:.1f} {cx:.1f},'
               f'{cy + 7:.1f} {cx - 7:.1f},{cy:.1f}" fill="#c0392b"/>'
               f'<text x="{cx + 10:.1f}" y="{cy - 8:.1f}" class="title">'
               f"{escape(result.method)}</text></svg>")
    return "".join(out)


def render_optimization_report(
    result: PortfolioResult,
    inputs: MarketInputs,
    frontier: list[FrontierPoint],
    *,
    data_label: str,
    period: str,
) -> str:
    """The whole HTML page."""
    rows = sorted(zip(result.assets, result.weights, result.risk_contributions, strict=True),
                  key=lambda row: -row[1])
    weights = "".join(f"<tr><td>{escape(a)}</td><td>{w * 100:.2f}%</td><td>{rc * 100:.2f}%"
                      "</td></tr>" for a, w, rc in rows)
    figures = (
        ("Expected return (annualized)", f"{result.expected_return * 100:.2f}%"),
        ("Volatility (annualized)", f"{result.volatility * 100:.2f}%"),
        ("Sharpe", f"{result.sharpe:.3f}"),
        ("CVaR 95 (per bar)", f"{result.cvar_95 * 100:.2f}%"),
        ("Bars per year", f"{inputs.periods_per_year:g}"),
        ("Solver", f"{result.status}, {result.solve_seconds * 1e3:.1f} ms"),
    )
    table = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in figures)
    points = "".join(
        f"<tr><td>{i + 1}</td><td>{p.expected_return * 100:.2f}%</td>"
        f"<td>{p.volatility * 100:.2f}%</td><td>{p.sharpe:.3f}</td></tr>"
        for i, p in enumerate(frontier))
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Portfolio {escape(result.method)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Portfolio optimization: {escape(result.method)}</h1>"
        f'<p class="sub">{escape(data_label)} · {escape(period)} · {inputs.n} assets · '
        f"{len(inputs.returns):,} returns · made {made}</p>"
        f"{frontier_chart(frontier, inputs, result)}"
        f"<h2>Figures</h2><table>{table}</table>"
        f"<h2>Weights</h2><table><tr><th>Asset</th><th>Weight</th><th>Risk contribution</th>"
        f"</tr>{weights}</table>"
        f"<h2>Frontier points</h2><table><tr><th>#</th><th>Expected return</th>"
        f"<th>Volatility</th><th>Sharpe</th></tr>{points}</table></body></html>"
    )
