"""The Strategies pane (8): rows from the snapshot, suspend / resume / reset weights ask
first and reach the engine, `enter` shows the decomposition by symbol and regime; pictures
at 80x24 (a tab) and in the wide grid, including a forced suspend."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from desk.app import DeskApp
from desk.screens.confirm import ConfirmScreen
from desk.screens.details import DetailsScreen
from desk.widgets.keyed_table import KeyedTable
from engine.live.snapshot import StrategyView
from tests.desk.builders import NOW, RecordingControl, snapshot


def _row(sid, status="ACTIVE", base=1.0, weight=1.0, trades=12, pnl="412.30", **kw):
    return StrategyView(
        id=sid, status=status, base_weight=base, weight=weight, trades=trades,
        expectancy=kw.get("expectancy", 34.36), profit_factor=kw.get("pf", 1.84),
        win_rate=kw.get("win", 0.5833), sharpe=kw.get("sharpe", 0.31), pnl=Decimal(pnl),
        last_change=kw.get("change", ""), reason=kw.get("reason", ""),
        by_symbol={"BTC/USDT": {"status": status, "weight": weight, "trades": 7,
                                "pnl": "300.10", "win_rate": 0.571, "profit_factor": 2.1,
                                "sharpe": 0.4},
                   "ETH/USDT": {"status": status, "weight": weight, "trades": 5,
                                "pnl": "112.20", "win_rate": 0.6}},
        by_regime={"bull": {"trades": 8, "pnl": "500.00", "win_rate": 0.625},
                   "sideways": {"trades": 4, "pnl": "-87.70", "win_rate": 0.5}},
    )


def strategies() -> tuple[StrategyView, ...]:
    return (
        _row("sma_cross", weight=1.08, pnl="412.30"),
        _row("rsi", status="DEGRADED", weight=0.46, pnl="-120.55", pf=0.71, win=0.31,
             sharpe=-0.22, expectancy=-10.05, change="2024-03-14T09:00:00+00:00",
             reason="unhealthy: expectancy, profit_factor, win_rate"),
        _row("momentum", base=1.5, weight=1.62, trades=9, pnl="861.00"),
    )


@dataclass
class LifecycleControl(RecordingControl):
    """Applies a forced status and a reset to its snapshot, as the engine does."""

    def set_strategy_status(self, strategy: str, status: str, reason: str = "") -> str:
        self._record("set_strategy_status", strategy, status, reason)
        rows = tuple(
            replace(v, status=status, reason=reason, last_change="2024-03-15T14:30:00+00:00",
                    weight=0.0 if status == "SUSPENDED" else v.base_weight)
            if v.id == strategy else v for v in self.current.strategies)
        self.current = replace(self.current, strategies=rows)
        return self.refusal

    def reset_weights(self) -> str:
        self._record("reset_weights")
        return self.refusal


def make(control=None) -> tuple[DeskApp, LifecycleControl]:
    control = control or LifecycleControl(current=snapshot(strategies=strategies()))
    return DeskApp(control, clock=lambda: NOW), control


async def test_the_pane_lists_each_strategy_with_its_status_and_weights():
    app, _ = make()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("8")
        table = app.main.query_one("#strategies-table", KeyedTable)
        assert table.row_count == 3
        assert "Status" in [c.label.plain for c in table.columns.values()]
        assert app.main.active == 8


async def test_s_asks_first_then_suspends_the_selected_strategy():
    app, control = make()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("8", "down", "s")
        assert isinstance(app.screen, ConfirmScreen)
        assert "rsi" in app.screen.question
        await pilot.press("n")
        assert not [c for c in control.calls if c[0] == "set_strategy_status"]
        await pilot.press("s", "y")
        assert ("set_strategy_status", "rsi", "SUSPENDED", "suspended from the desk") \
            in control.calls


async def test_u_resumes_and_w_resets_weights_after_asking():
    app, control = make()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("8", "down", "u", "y")
        assert ("set_strategy_status", "rsi", "ACTIVE", "resumed from the desk") in control.calls
        await pilot.press("w")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        assert ("reset_weights",) in control.calls


async def test_resume_of_an_active_strategy_says_so_and_calls_nothing():
    app, control = make()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("8", "u")
        assert not isinstance(app.screen, ConfirmScreen)
        assert not [c for c in control.calls if c[0] == "set_strategy_status"]


async def test_enter_shows_the_decomposition_by_symbol_and_regime():
    app, _ = make()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("8", "enter")
        assert isinstance(app.screen, DetailsScreen)
        labels = [label for label, _ in app.screen.details.rows]
        assert "symbol BTC/USDT" in labels and "regime sideways" in labels
        values = dict(app.screen.details.rows)
        assert "7 trades" in values["symbol BTC/USDT"]
        assert "300.10" in values["symbol BTC/USDT"]


def test_small_terminal_strategies_tab(snap_compare):
    """80x24, pane 8 as a tab: status (DEGRADED in the alert colour), weight and P&L always
    shown; the ratios give way before them."""
    app, _ = make()
    assert snap_compare(app, terminal_size=(80, 24), press=["8"])


def test_forced_suspend_shows_weight_zero(snap_compare):
    """After s, y on rsi: SUSPENDED in the loss colour, weight 0.00, the reason in the last
    change."""
    app, _ = make()
    assert snap_compare(app, terminal_size=(80, 24), press=["8", "down", "s", "y"])


def test_wide_grid_includes_the_strategies_pane(snap_compare):
    """160x48: pane 8 sits in the grid beside the others."""
    app, _ = make()
    assert snap_compare(app, terminal_size=(160, 48))
