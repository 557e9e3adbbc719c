"""The Order Flow pane over the real live engine on the simulated market: bid, ask,
imbalance and the maker score of every symbol, and the depth ladder on enter."""

from __future__ import annotations

from desk.app import DeskApp
from desk.screens.details import DetailsScreen
from desk.widgets.format import price
from desk.widgets.keyed_table import KeyedTable
from tests.live_engine import live_engine


async def test_order_flow_pane_shows_the_simulated_book(tmp_path):
    engine, clock, _ = live_engine(tmp_path)
    try:
        for _ in range(40):
            engine.step()
        views = {v.symbol: v for v in engine.latest_snapshot().order_flow}
        app = DeskApp(engine, clock=clock)
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.press("0")
            await pilot.pause()
            table = app.main.query_one("#order-flow-table", KeyedTable)
            assert table.row_count == len(views) == 3
            for symbol, view in views.items():
                cells = dict(zip(table.shown_keys, table.get_row(symbol), strict=True))
                assert str(cells["bid"]) == price(view.bid)
                assert str(cells["ask"]) == price(view.ask)
                assert str(cells["maker"]) == f"{view.maker_score:.2f}" or view.withdrawn
                assert str(cells["imbalance"]).endswith("%")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, DetailsScreen)
            labels = [label for label, _ in app.screen.details.rows]
            assert app.screen.details.title.startswith("Depth ")
            assert labels[:5] == ["ask 5", "ask 4", "ask 3", "ask 2", "ask 1"]
            assert labels[5:11] == ["spread", "bid 1", "bid 2", "bid 3", "bid 4", "bid 5"]
    finally:
        engine.stop()
