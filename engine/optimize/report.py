"""The HTML report of an optimization: the best parameters and their metrics, a
sensitivity chart per parameter (fitness against the parameter, the others at the best
point), for walk-forward the in-sample / out-of-sample table per window and the stitched
out-of-sample equity, and the trials. Charts are the backtest report's SVG line charts."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

import numpy as np

from engine.backtest.report import _CSS, _metrics_table, format_metric, line_chart

MAX_TRIAL_ROWS = 2000


def render(document: dict[str, Any], equity: Any = None) -> str:
    title = (f"Desk optimize #{document.get('run_id')}: {document['strategy']} on "
             f"{document['source']} ({document['method']}, fitness {document['fitness_name']})")
    best = document["best"]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">best {escape(_params(best["params"]))}: fitness '
        f'{best["fitness"]:.4f}</p>',
    ]
    if "out_of_sample" in document:
        oos = document["out_of_sample"]
        parts.append(f'<p class="sub">in-sample fitness (mean over windows) '
                     f'{document["in_sample"]["fitness"]:.4f}; out-of-sample (stitched) '
                     f'{oos["fitness"]:.4f}</p>')
        if equity is not None and len(equity):
            from engine.backtest.report import _format_money, _x_axis

            xs, labeler = _x_axis(equity.index)
            parts += ["<h2>Stitched out-of-sample equity</h2>",
                      line_chart(xs, equity.to_numpy(dtype=np.float64), labeler,
                                 "Equity (test windows only)", _format_money)]
        parts += ["<h2>Walk-forward windows</h2>", _windows_table(document["windows"]),
                  "<h2>Out-of-sample metrics (stitched)</h2>", _metrics_table(oos["metrics"])]
    parts += ["<h2>Sensitivity</h2>",
              '<p class="note">Fitness when one parameter moves, the others held at the best '
              "point. A narrow spike is a fragile optimum.</p>"]
    for name, sweep in document.get("sensitivity", {}).items():
        parts.append(_sensitivity_chart(name, sweep))
    parts += ["<h2>Metrics of the best parameters</h2>", _metrics_table(best["metrics"])]
    if document.get("posterior"):
        parts += ["<h2>Posterior (MCMC)</h2>", _posterior_table(document)]
    parts += ["<h2>Trials</h2>", _trials_table(document["trials"]),
              f'<p class="note">Generated {datetime.now(UTC):%Y-%m-%d %H:%M UTC} by Desk.</p>',
              "</body></html>"]
    return "\n".join(parts) + "\n"


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def _sensitivity_chart(name: str, sweep: list[dict[str, Any]]) -> str:
    values = [p["value"] for p in sweep]
    numeric = all(isinstance(v, int | float) for v in values)
    xs = np.asarray(values if numeric else range(len(values)), dtype=np.float64)
    ys = np.asarray([p["fitness"] for p in sweep], dtype=np.float64)

    def label(v: float, _span: float) -> str:
        if numeric:
            return f"{v:,.4g}"
        i = int(round(v))
        return str(values[i]) if 0 <= i < len(values) else ""

    return line_chart(xs, ys, label, f"Fitness against {name}", lambda v: f"{v:,.3g}")


def _row(cells: list[str], header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{escape(c)}</{tag}>" for c in cells) + "</tr>"


def _windows_table(windows: list[dict[str, Any]]) -> str:
    head = ["Train", "Test", "Parameters", "Adopted", "IS fitness", "OOS fitness",
            "IS return", "OOS return", "OOS trades"]
    rows = [_row(head, header=True)]
    for w in windows:
        rows.append(_row([
            f"{w['train_start'][:10]} → {w['train_end'][:10]}",
            f"{w['test_start'][:10]} → {w['test_end'][:10]}", _params(w["params"]),
            "yes" if w["adopted"] else "no", f"{w['in_sample_fitness']:.3f}",
            f"{w['out_of_sample_fitness']:.3f}",
            format_metric("total_return", w["in_sample"].get("total_return")),
            format_metric("total_return", w["out_of_sample"].get("total_return")),
            format_metric("num_trades", w["out_of_sample"].get("num_trades")),
        ]))
    return "<table>" + "".join(rows) + "</table>"


def _posterior_table(document: dict[str, Any]) -> str:
    rows = [_row(["Parameter", "Mean", "5%", "95%", "R-hat"], header=True)]
    for name, post in document["posterior"].items():
        if "mean" in post:
            rows.append(_row([name, f"{post['mean']:.4g}", f"{post['ci90'][0]:.4g}",
                              f"{post['ci90'][1]:.4g}", f"{post['rhat']:.3f}"]))
    rate = document.get("acceptance_rate")
    note = f'<p class="note">acceptance rate {rate:.1%}</p>' if rate is not None else ""
    return "<table>" + "".join(rows) + "</table>" + note


def _trials_table(trials: list[dict[str, Any]]) -> str:
    rows = [_row(["#", "Scope", "Parameters", "Fitness", "Return", "Sharpe", "Trades"],
                 header=True)]
    ranked = sorted(enumerate(trials, 1), key=lambda t: -t[1]["fitness"])
    for number, t in ranked[:MAX_TRIAL_ROWS]:
        m = t["metrics"]
        rows.append(_row([str(number), t["scope"], _params(t["params"]), f"{t['fitness']:.4f}",
                          format_metric("total_return", m.get("total_return")),
                          format_metric("sharpe", m.get("sharpe")),
                          format_metric("num_trades", m.get("num_trades"))]))
    more = len(trials) - MAX_TRIAL_ROWS
    note = f'<p class="note">{more:,} more trials in --json.</p>' if more > 0 else ""
    return '<table class="trades">' + "".join(rows) + "</table>" + note
