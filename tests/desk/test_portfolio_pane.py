"""The Portfolio pane (9): target against current weight and drift per asset, the next
rebalance, hedge and drawdown-controller state, the last optimization's figures; in manual
mode the proposed rebalance basket, which `a` approves whole (sells first) and `y` approves
one order at a time; pictures at 80x24 (a tab) and in the wide grid."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from desk.app import DeskApp
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.portfolio import state_lines
from engine.live.snapshot import PortfolioRowView, PortfolioView, ProposalView
from tests.desk.builders import NOW, RecordingControl, snapshot


def basket() -> tuple[ProposalView, ...]:
    expires = NOW + timedelta(minutes=5)
    reason = "SOL/USDT drifted +6.10% (threshold 5.00%)"
    return (
        ProposalView("desk-pf000004-1", "SOL/USDT", "sell", Decimal("61.25"),
                     Decimal("176.40"), reason, NOW, expires),
        ProposalView("desk-pf000004-2", "BTC/USDT", "buy", Decimal("0.0912"),
                     Decimal("68250.50"), reason, NOW, expires),
        ProposalView("desk-pf000004-3", "ETH/USDT", "buy", Decimal("0.875"),
                     Decimal("3712.25"), reason, NOW, expires),
    )


def portfolio(with_basket: bool = True, **changes) -> PortfolioView:
    rows = (PortfolioRowView("BTC/USDT", 0.30, 0.2412, -0.0588),
            PortfolioRowView("ETH/USDT", 0.30, 0.2725, -0.0275),
            PortfolioRowView("SOL/USDT", 0.25, 0.3110, 0.0610))
    base = dict(rows=rows, scheme="risk_parity", mode="threshold",
                next_rebalance="drift 6.10% past the 5.00% threshold",
                last_reason="SOL/USDT drifted +6.10% (threshold 5.00%)",
                last_rebalance=NOW - timedelta(days=9), hedge_fraction=0.10,
                hedge_triggers=("ADX 12.4 < 15",), drawdown=0.112, drawdown_level="warning",
                drawdown_scalar=0.75, optimization_note="rotation by momentum, risk_parity",
                optimization={"expected_return": 0.184, "volatility": 0.412,
                              "sharpe": 0.398, "invested": 1.0},
                basket=basket() if with_basket else ())
    return PortfolioView(**(base | changes))


def make(view: PortfolioView | None = None) -> tuple[DeskApp, RecordingControl]:
    control = RecordingControl(current=snapshot(portfolio=view or portfolio()))
    return DeskApp(control, clock=lambda: NOW), control


def test_the_header_says_schedule_hedge_drawdown_and_optimization():
    lines = state_lines(portfolio())
    assert lines[0] == "threshold · next: drift 6.10% past the 5.00% threshold"
    assert "hedge 10% in quote (ADX 12.4 < 15)" in lines[1]
    assert "drawdown 11.2% warning x0.75" in lines[1]
    assert lines[2].startswith("risk_parity: return 18.4%, vol 41.2%, Sharpe 0.40")


async def test_the_pane_lists_weights_drift_and_the_basket():
    app, _ = make()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("9")
        assert app.main.active == 9
        assets = app.main.query_one("#portfolio-table", KeyedTable)
        orders = app.main.query_one("#portfolio-basket", KeyedTable)
        assert assets.row_count == 3 and orders.row_count == 3


async def test_a_approves_the_whole_basket_sells_first():
    app, control = make()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("9", "a")
        await pilot.pause()
    assert [c for c in control.calls if c[0] == "approve"] == [
        ("approve", "desk-pf000004-1"), ("approve", "desk-pf000004-2"),
        ("approve", "desk-pf000004-3")]


async def test_y_approves_the_selected_order_alone():
    app, control = make()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("9", "down", "y")
        await pilot.pause()
    assert [c for c in control.calls if c[0] == "approve"] == [
        ("approve", "desk-pf000004-2")]


async def test_a_without_a_basket_approves_nothing():
    app, control = make(portfolio(with_basket=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("9", "a")
        await pilot.pause()
    assert not [c for c in control.calls if c[0] == "approve"]


def test_small_terminal_portfolio_tab(snap_compare):
    """80x24, pane 9 as a tab: three assets with target, current and drift (SOL/USDT past
    the threshold), the header's three lines and the three-order basket waiting."""
    app, _ = make()
    assert snap_compare(app, terminal_size=(80, 24), press=["9"])


def test_wide_grid_includes_the_portfolio_pane(snap_compare):
    """160x48, every pane at once: the Portfolio pane in its grid cell with the basket."""
    app, _ = make()
    assert snap_compare(app, terminal_size=(160, 48))


async def test_the_risk_pane_shows_the_drawdown_controller():
    from textual.widgets import Static

    app, _ = make()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        banner = str(app.main.query_one("#kill-switch", Static).render())
        assert "drawdown controller warning x0.75 (11.2% from peak)" in banner
