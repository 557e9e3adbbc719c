"""The Monte Carlo report: one self-contained HTML file (fan chart, histograms, figures)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from engine.risk.montecarlo import MonteCarloResult
from engine.risk.svg import CSS, fan_chart, histogram


def render_montecarlo(result: MonteCarloResult, *, title: str, subtitle: str = "") -> str:
    summary = result.summary()
    rows = [("Method", _model_text(summary["model"])),
            ("Paths x horizon", f"{result.paths:,} x {result.horizon:,}"),
            ("Seed", str(result.seed)),
            ("Initial", f"{result.initial:,.2f}"),
            ("Mean final value", f"{summary['final_value']['mean']:,.2f}"),
            ("Probability of profit", f"{summary['probability_of_profit']:.2%}"),
            (f"Probability of losing more than {result.loss_threshold:.0%}",
             f"{summary['probability_of_loss']['probability']:.2%}")]
    rows += [(f"Final value, {p}th percentile", f"{v:,.2f}")
             for p, v in summary["final_value"]["quantiles"].items()]
    rows += [(f"Max drawdown, {p}th percentile", f"{v:.2%}")
             for p, v in summary["max_drawdown"]["quantiles"].items()]
    for level in summary["var"]:
        rows.append((f"VaR {level}% of the final value", f"{summary['var'][level]:,.2f}"))
        rows.append((f"CVaR {level}% of the final value", f"{summary['cvar'][level]:,.2f}"))
    table = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
    samples = result.fan[:40]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{escape(subtitle)}</p>' if subtitle else "",
        "<h2>Paths</h2>",
        fan_chart(result.fan_bands(), samples,
                  f"Equity: 5-95% and 25-75% bands of the first {len(result.fan)} paths, "
                  "median", _money_axis),
        "<h2>Final value</h2>",
        histogram(result.final, "Final value (red: the starting value)", _money_axis,
                  marker=result.initial),
        "<h2>Max drawdown</h2>",
        histogram(result.max_drawdown * 100, "Max drawdown of each path (%)",
                  lambda v: f"{v:.1f}%"),
        "<h2>Figures</h2>",
        f"<table><tbody>{table}</tbody></table>",
        f'<p class="note">Generated {datetime.now(UTC):%Y-%m-%d %H:%M UTC} by Desk.</p>',
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _model_text(model: dict) -> str:
    extra = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                      for k, v in model.items() if k != "method")
    return f"{model['method']} ({extra})"


def _money_axis(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.4g}"
