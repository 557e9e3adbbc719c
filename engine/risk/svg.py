"""Small inline-SVG charts for the risk reports: a fan of paths and a histogram.

No JavaScript, fonts or network: the reports open offline. Text is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape

import numpy as np

from engine.backtest.report import PAGE_CSS, nice_ticks

WIDTH, HEIGHT = 960, 300
LEFT, RIGHT, TOP, BOTTOM = 84, 20, 34, 42
CSS = PAGE_CSS + """
.bad{color:#c0392b;font-weight:600}
"""


def _frame(title: str, y_lo: float, y_hi: float, y_format: Callable[[float], str],
           x_hi: float, x_label: str) -> tuple[list[str], Callable, Callable]:
    ticks = nice_ticks(y_lo, y_hi)
    y_lo, y_hi = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(v: float) -> float:
        return LEFT + v / (x_hi or 1) * plot_w

    def py(v: float) -> float:
        return TOP + (y_hi - v) / ((y_hi - y_lo) or 1) * plot_h

    out = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" '
           f'role="img" aria-label="{escape(title)}">',
           f'<text class="title" x="{LEFT}" y="20">{escape(title)}</text>']
    for t in ticks:
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py(t):.1f}" '
                   f'y2="{py(t):.1f}"/><text x="{LEFT - 6}" y="{py(t) + 4:.1f}" '
                   f'text-anchor="end">{escape(y_format(t))}</text>')
    out.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
               f"{escape(x_label)}</text>")
    return out, px, py


def fan_chart(bands: Mapping[int, np.ndarray], samples: np.ndarray, title: str,
              y_format: Callable[[float], str]) -> str:
    """Percentile bands (5-95 and 25-75 shaded, the median drawn) over a few sample paths."""
    steps = len(next(iter(bands.values())))
    lo, hi = float(np.min(bands[min(bands)])), float(np.max(bands[max(bands)]))
    if len(samples):
        lo, hi = min(lo, float(samples.min())), max(hi, float(samples.max()))
    out, px, py = _frame(title, lo, hi, y_format, steps - 1, f"{steps - 1} steps")
    x = np.arange(steps)
    for path in samples:
        pts = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, path, strict=True))
        out.append(f'<polyline points="{pts}" fill="none" stroke="#9aa1ad" '
                   'stroke-opacity="0.35" stroke-width="0.7"/>')
    for low, high, opacity in ((5, 95, 0.18), (25, 75, 0.32)):
        upper = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, bands[high], strict=True))
        lower = " ".join(f"{px(a):.1f},{py(b):.1f}"
                         for a, b in zip(x[::-1], bands[low][::-1], strict=True))
        out.append(f'<polygon points="{upper} {lower}" fill="#2563eb" '
                   f'fill-opacity="{opacity}" stroke="none"/>')
    median = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, bands[50], strict=True))
    out.append(f'<polyline points="{median}" fill="none" stroke="#1d4ed8" stroke-width="1.8"/>')
    out.append("</svg>")
    return "".join(out)


def histogram(values: np.ndarray, title: str, x_format: Callable[[float], str],
              bins: int = 50, marker: float | None = None) -> str:
    """A histogram of `values`; `marker` draws a vertical line (e.g. the starting value)."""
    counts, edges = np.histogram(values, bins=bins)
    top = float(counts.max()) if len(counts) else 1.0
    out, _px, py = _frame(title, 0.0, top, lambda v: f"{v:,.0f}", 1.0, "")
    plot_w = WIDTH - LEFT - RIGHT
    span = float(edges[-1] - edges[0]) or 1.0

    def ex(v: float) -> float:
        return LEFT + (v - edges[0]) / span * plot_w

    for count, a, b in zip(counts, edges[:-1], edges[1:], strict=True):
        width = max(ex(b) - ex(a) - 1, 1)
        out.append(f'<rect x="{ex(a):.1f}" y="{py(count):.1f}" width="{width:.1f}" '
                   f'height="{py(0) - py(count):.1f}" fill="#2563eb" fill-opacity="0.7"/>')
    for v in np.linspace(edges[0], edges[-1], 6):
        out.append(f'<text x="{ex(v):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
                   f"{escape(x_format(float(v)))}</text>")
    if marker is not None and edges[0] <= marker <= edges[-1]:
        out.append(f'<line x1="{ex(marker):.1f}" x2="{ex(marker):.1f}" y1="{TOP}" '
                   f'y2="{py(0):.1f}" stroke="#c0392b" stroke-width="1.5"/>')
    out.append("</svg>")
    return "".join(out)
