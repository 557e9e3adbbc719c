"""The Market pane: the watchlist from the snapshot, the chart of the highlighted symbol
(redrawn only when what it shows changes), and `m` on a wide terminal showing it alone."""

from __future__ import annotations

from dataclasses import replace

from desk.app import DeskApp
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.market import spread_bps, volume_text
from desk.widgets.price_chart import PriceChart, chart_key
from tests.desk.builders import NOW, RecordingControl, market, snapshot


def make_app(control=None) -> DeskApp:
    return DeskApp(control or RecordingControl(), clock=lambda: NOW)


def test_spread_and_volume_figures():
    btc = market()[0]
    assert round(spread_bps(btc), 6) == 10  # last -/+ 5 bp
    assert volume_text(1_204_554) == "1.2M" and volume_text(52_310) == "52.3k"
    assert volume_text(999) == "999"


async def test_m_shows_the_watchlist_and_the_selected_symbols_chart():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        await pilot.pause()
        table = app.main.query_one("#market-table", KeyedTable)
        assert [str(c) for c in table.get_row("SOL/USDT")[:3]] == ["SOL/USDT", "176.40",
                                                                 "+3.42%"]
        chart = app.main.query_one(PriceChart)
        assert chart._key[0] == "BTC/USDT"
        await pilot.press("down")
        await pilot.pause()
        assert chart._key[0] == "ETH/USDT"


async def test_the_chart_redraws_only_when_its_bars_fills_or_stop_change():
    control = RecordingControl()
    app = make_app(control)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        await pilot.pause()
        chart = app.main.query_one(PriceChart)
        drawn = []
        original = chart.plt.clear_figure
        chart.plt.clear_figure = lambda: (drawn.append(1), original())[1]
        app.render_snapshot(replace(control.current, equity=control.current.equity + 1))
        assert drawn == []  # nothing the chart shows changed
        btc = control.current.market[0]
        moved = replace(btc, stop=btc.stop + 10)
        app.render_snapshot(replace(control.current,
                                    market=(moved, *control.current.market[1:])))
        assert drawn == [1]


def test_chart_key_covers_what_the_chart_draws():
    btc = market()[0]
    assert chart_key(btc) != chart_key(replace(btc, marks=()))
    assert chart_key(btc) == chart_key(replace(btc, day_volume=1.0))
    assert chart_key(None) == ()


async def test_on_a_wide_terminal_m_shows_market_alone_and_1_brings_the_grid_back():
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("m")
        await pilot.pause()
        assert app.main.has_class("-solo")
        assert [p.number for p in app.main.query("Pane") if p.display and
                p.styles.display != "none" and p.region.width] == [11]
        await pilot.press("1")
        await pilot.pause()
        assert not app.main.has_class("-solo")


def test_snapshot_market_is_consistent_with_last_prices():
    snap = snapshot()
    assert {m.symbol: m.last for m in snap.market} == snap.last_prices
