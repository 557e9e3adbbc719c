"""HTML report: one parseable, self-contained file with two SVG charts, metrics and trades."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from engine.backtest.report import (
    MAX_TRADE_ROWS,
    downsample,
    format_metric,
    nice_ticks,
    render_report,
)
from engine.trading.metrics import compute_metrics


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.svg_points: list[int] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag in ("polyline",):
            self.svg_points.append(len(dict(attrs)["points"].split()))

    def handle_data(self, data):
        self.text.append(data)


def write_report(path, **kwargs) -> None:
    path.write_text(render_report(**kwargs), encoding="utf-8")


def parse(path) -> tuple[Collector, str]:
    raw = path.read_text(encoding="utf-8")
    c = Collector()
    c.feed(raw)
    c.close()
    return c, raw


def curve(n: int, freq: str = "D") -> pd.Series:
    rng = np.random.default_rng(3)
    index = pd.date_range("2023-01-02", periods=n, freq=freq)
    return pd.Series(100_000 * np.cumprod(1 + rng.normal(0.0003, 0.01, n)), index=index)


def test_report_is_self_contained_with_two_charts_metrics_and_trades(tmp_path):
    equity = curve(400)
    trades = [
        {"symbol": "BTC/USDT", "side": "long", "entry_time": "2023-01-05T00:00:00",
         "pnl": "123.45", "return_pct": 1.2345},
        {"symbol": "ETH/USDT", "side": "short", "entry_time": "2023-02-01T00:00:00",
         "pnl": "-67.89", "return_pct": -0.5},
    ]
    metrics = compute_metrics(equity.to_numpy(), equity.index, trades, exposure=0.4)
    out = tmp_path / "run.html"
    write_report(out, title="Backtest <sma & rsi>", metrics=metrics, equity=equity,
                 trades=trades, subtitle="BTC/USDT, ETH/USDT")
    c, raw = parse(out)
    assert c.tags.count("svg") == 2
    assert "script" not in c.tags and "link" not in c.tags and "img" not in c.tags
    assert not [a for a in c.attrs if a[0] in ("src", "href")]
    assert not re.search(r"https?://|url\(|@import", raw)
    text = "".join(c.text)
    assert "Backtest <sma & rsi>" in text  # escaped in the file, intact once parsed
    assert "<sma" not in raw
    for key in ("total_return", "sharpe", "max_drawdown", "var_95", "num_trades"):
        assert format_metric(key, metrics[key]) in text
    assert "123.45" in text and "-67.89" in text and "ETH/USDT" in text
    assert "2023-01-02" in text  # the time axis is labelled with dates
    assert "Showing the first" not in text


def test_metric_formatting():
    assert format_metric("total_return", 0.12345) == "12.35%"
    assert format_metric("sharpe", 1.23456) == "1.235"
    assert format_metric("num_trades", 12345) == "12,345"
    assert format_metric("avg_trade", 1234.5) == "1,234.50"
    assert format_metric("profit_factor", None) == "\u2014"


def test_big_runs_are_downsampled_and_trade_list_capped(tmp_path):
    equity = curve(200_000, freq="min")
    equity.iloc[123_456] = equity.iloc[123_456] * 0.5  # a one-bar crash must survive
    trades = [{"pnl": str(i), "return_pct": 0.1} for i in range(MAX_TRADE_ROWS + 7)]
    out = tmp_path / "big.html"
    write_report(out, title="big", metrics={"num_trades": len(trades)}, equity=equity,
                 trades=trades)
    c, raw = parse(out)
    assert all(n <= 2002 for n in c.svg_points) and len(c.svg_points) == 2
    # metrics: header + one row; trades: header + the capped rows
    assert c.tags.count("tr") == 2 + 1 + MAX_TRADE_ROWS
    text = "".join(c.text)
    assert f"Showing the first {MAX_TRADE_ROWS:,} of {MAX_TRADE_ROWS + 7:,} trades" in text
    assert "-50.0%" in text or "-60%" in text  # the drawdown axis reaches the crash


def test_downsample_keeps_extremes_and_order():
    rng = np.random.default_rng(0)
    ys = rng.normal(size=100_001)
    ys[777] = -50.0
    ys[99_999] = 50.0
    keep = downsample(np.arange(len(ys), dtype=float), ys, max_points=1000)
    assert len(keep) <= 1002
    assert 777 in keep and 99_999 in keep and keep[0] == 0 and keep[-1] == 100_000
    assert np.all(np.diff(keep) > 0)


@pytest.mark.parametrize(("lo", "hi"), [(0.0, 1.0), (97_312.0, 131_877.0), (-23.4, 0.0),
                                        (5.0, 5.0)])
def test_nice_ticks_cover_the_range_with_round_steps(lo, hi):
    ticks = nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi and 3 <= len(ticks) <= 12
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** np.floor(np.log10(step))
    assert any(abs(mantissa - m) < 1e-9 for m in (1, 2, 2.5, 5, 10))


def test_empty_equity_and_no_trades_still_make_a_valid_page(tmp_path):
    out = tmp_path / "empty.html"
    write_report(out, title="empty", metrics={}, equity=pd.Series([], dtype=float),
                 trades=[])
    c, _ = parse(out)
    text = "".join(c.text)
    assert c.tags.count("svg") == 2 and "no data" in text and "No closed trades." in text


def test_extras_add_compare_benchmark_heatmap_and_a_price_chart_with_every_trade(tmp_path):
    """The compare table has the run, each strategy and buy and hold; the equity chart
    carries the benchmark's dashed line; the heatmap has one row per year; the price chart
    has one triangle per entry and one ring per exit; still no script or link."""
    from engine.backtest.report_data import report_data

    equity = curve(400)
    closes = equity / 1000.0
    prices = pd.DataFrame({"open": closes, "high": closes, "low": closes, "close": closes,
                           "volume": 1.0})
    trades = [
        {"symbol": "SPX", "side": "long", "entry_time": "2023-02-01T00:00:00",
         "entry_price": "101.5", "exit_time": "2023-03-01T00:00:00", "exit_price": "104.2",
         "qty": "3", "pnl": "8.1", "return_pct": 2.66, "strategy": "sma_cross",
         "attribution": {"sma_cross": 1.0}, "regime": "bull", "fees": "0.1"},
        {"symbol": "SPX", "side": "short", "entry_time": "2023-06-01T00:00:00",
         "entry_price": "99.0", "exit_time": "2023-06-20T00:00:00", "exit_price": "97.0",
         "qty": "3", "pnl": "6", "return_pct": 2.0, "strategy": "rsi"},
    ]
    alone = [type("R", (), {"label": name, "metrics": {"total_return": 0.05}})()
             for name in ("sma_cross", "rsi")]
    extras = report_data({"SPX": prices}, 100_000, equity, alone)
    out = tmp_path / "full.html"
    write_report(out, title="t", metrics={"total_return": 0.1}, equity=equity, trades=trades,
                 extras=extras, label="ensemble")
    c, raw = parse(out)
    text = "".join(c.text)
    assert "script" not in c.tags and not [a for a in c.attrs if a[0] in ("src", "href")]
    assert "Compared" in text and "buy and hold (equal weight, no costs)" in text
    compare_rows = raw.split("<h2>Compared</h2>")[1].split("</table>")[0].count("<tr>")
    assert compare_rows == 1 + 1 + 2 + 1  # header, the run, two strategies, buy and hold
    assert raw.count('stroke-dasharray="5 3"') >= 2  # the benchmark line and its legend
    heat = raw.split('class="heat"')[1].split("</table>")[0]
    assert heat.count("<tr>") == 1 + 2  # header, 2023 and 2024
    chart = raw.split("Prices, entries and exits")[1]
    assert chart.count("<polygon") == 2 and chart.count("<circle") == 2
    trade_head = raw.split('class="trades"')[1].split("</thead>")[0]
    assert trade_head.count("<th>") == 11 and "attribution" not in trade_head
    assert "overflow-x" not in raw
