"""Pictures of the Order Flow pane (10, key 0) and the bid / ask columns of Positions, from
a fixed snapshot whose order flow is consistent with its prices (the quotes straddle the
last prices; imbalances follow the sizes shown).

Regenerate with `pytest tests/desk/test_snapshots_order_flow.py --snapshot-update`, then look
at the SVGs under tests/desk/__snapshots__ before committing them.
"""

from __future__ import annotations

from decimal import Decimal as D

from desk.app import DeskApp
from engine.live.snapshot import FlowAlert, FlowView
from tests.desk.builders import LAST, NOW, RecordingControl, snapshot


def ladder(best: float, step: float, sizes: tuple[float, ...], sign: int):
    return tuple((round(best + sign * step * k, 2), s) for k, s in enumerate(sizes))


def flow(symbol: str, tick: float, bid_size: float, ask_size: float, book_z: float,
         aggressor: float, confidence: float, maker: float, signal: str = "HOLD",
         kind: str = "", withdrawn: bool = False) -> FlowView:
    last = float(LAST[symbol])
    bid, ask = round(last - tick, 2), round(last + tick, 2)
    buy = 10.0 * (1 + aggressor) / 2
    return FlowView(
        symbol, NOW, bid, ask, bid_size, ask_size,
        (bid_size - ask_size) / (bid_size + ask_size), book_z, aggressor, buy, 10.0 - buy,
        25.0 * book_z, book_z * 1.1, 1 if book_z > 0 else -1, confidence, maker, withdrawn,
        8.4, signal, kind, 0.78 if signal != "HOLD" else 0.0,
        ladder(bid, tick, (bid_size, 1.8, 2.6, 3.1, 4.0), -1),
        ladder(ask, tick, (ask_size, 1.5, 2.2, 3.4, 3.9), +1), 12_480, 8_731)


def flows() -> tuple[FlowView, ...]:
    return (
        flow("BTC/USDT", 0.5, 2.314, 0.412, 2.4, 0.46, 0.81, 0.86, "BUY", "imbalance"),
        flow("ETH/USDT", 0.05, 11.2, 14.9, -0.6, -0.12, 0.22, 0.74),
        flow("SOL/USDT", 0.04, 35.0, 610.5, -2.9, -0.71, 0.88, 0.12, "BUY", "reversion",
             withdrawn=True),
    )


def desk_with_flow() -> DeskApp:
    views = flows()
    current = snapshot(
        order_flow=views,
        quotes={v.symbol: (D(repr(v.bid)), D(repr(v.ask))) for v in views},
        flow_alerts=(FlowAlert(1, NOW, "SOL/USDT", "withdrawal",
                               "SOL/USDT: market maker backing away"),),
    )
    return DeskApp(RecordingControl(current=current), clock=lambda: NOW)


def test_order_flow_tab_on_a_small_terminal(snap_compare):
    """80x24 after `0`: the Order Flow tab active: three symbols with bid in the bid colour
    and ask in the ask colour to their precision, imbalance and its z signed and coloured
    (BTC buy side, SOL sell side), aggressor flow in %, maker score (SOL "gone" in the
    alert colour) and the HFT signal; spread and sizes give way at this width."""
    assert snap_compare(desk_with_flow(), terminal_size=(80, 24), press=["0"])


def test_order_flow_row_opens_the_depth_ladder(snap_compare):
    """80x24 after `0` then `enter`: the BTC/USDT depth ladder: five asks above (best
    lowest), the spread in price and bp, five bids below (best highest), with sizes; then
    imbalance, aggressor flow, pressure, maker score and refresh rate, the HFT signal and
    the stream's counts."""
    assert snap_compare(desk_with_flow(), terminal_size=(80, 24), press=["0", "enter"])


def test_wide_terminal_shows_order_flow_in_the_grid(snap_compare):
    """160x48: the grid of panes, Order Flow (0) in the bottom row beside Strategies (8):
    quotes, imbalance and z, aggressor flow, SOL's maker "gone" in the alert colour, BTC's
    HFT signal "BUY 0.78 imb" and SOL's "BUY 0.78 rev" in the bid colour (spread and sizes
    give way in the half-width pane); Positions shows Bid and Ask (average price and
    realized P&L give way)."""
    assert snap_compare(desk_with_flow(), terminal_size=(160, 48))


def test_positions_show_bid_and_ask(snap_compare):
    """80x24, Positions: each row ends with the symbol's bid and ask (bid colour, ask
    colour), straddling the last price; realized P&L gives way at this width."""
    assert snap_compare(desk_with_flow(), terminal_size=(80, 24))
