"""Pictures of the desk from a fixed snapshot and a frozen clock.

Regenerate with `pytest tests/desk/test_snapshots.py --snapshot-update`, then look at the
SVGs under tests/desk/__snapshots__ before committing them.
"""

from __future__ import annotations

from dataclasses import replace

from desk.app import DeskApp
from tests.desk.builders import NOW, RecordingControl, risk, snapshot


def desk(**changes) -> DeskApp:
    return DeskApp(RecordingControl(current=snapshot(**changes)), clock=lambda: NOW)


def test_small_terminal_positions_tab(snap_compare):
    """80x24: status line (equity, day P&L in loss colour, manual mode), a tab strip with
    seven numbered panes, Positions active: three rows (BTC long, ETH short, SOL long) with
    P&L coloured; the footer lists every key without being cut."""
    assert snap_compare(desk(), terminal_size=(80, 24))


def test_small_terminal_signals_tab(snap_compare):
    """80x24 after `2`: the 3x3 signal matrix (BUY green, SELL red, HOLD grey with
    confidence), the manual-approval caption and two proposals with 3:45 and 0:40 left."""
    assert snap_compare(desk(), terminal_size=(80, 24), press=["2"])


def test_wide_terminal_shows_every_pane(snap_compare):
    """160x48: a two-column grid of framed panes 1-6 and the audit pane across the bottom;
    Positions has the focus (highlighted frame); the Regime pane shows the BTC transition
    matrix; the Risk pane shows day-loss and drawdown bars and all three exposures."""
    assert snap_compare(desk(), terminal_size=(160, 48))


def test_very_wide_terminal_shows_full_tables(snap_compare):
    """200x60: the same two-column grid with 100-column panes: every table (positions up
    to Realized, proposal reasons, ensemble weights) is shown in full, lists get taller."""
    assert snap_compare(desk(), terminal_size=(200, 60))


def test_kill_switch_on_and_feed_paused_are_loud(snap_compare):
    """160x48: KILL SWITCH ON and PAUSED in the status line on the error colour, and the
    Risk pane's banner on the error colour with the halt reason; auto-approval caption."""
    app = desk(risk=risk(kill_switch=True), paused=True, approval_mode="auto")
    assert snap_compare(app, terminal_size=(160, 48))


def test_cancel_asks_first(snap_compare):
    """80x24 after `4` then `c`: the Execution tab under a centred confirmation asking to
    cancel twap buy SOL/USDT (twap-0003), 3/6 parts done, with the y / n / escape hint."""
    assert snap_compare(desk(), terminal_size=(80, 24), press=["4", "c"])


def test_help_lists_the_keys(snap_compare):
    """80x24 after `?`: a centred list of every key with its description, ctrl+p included."""
    assert snap_compare(desk(), terminal_size=(80, 24), press=["question_mark"])


def test_light_theme(snap_compare):
    """160x48 in desk-light: the same grid on a light background, profit dark green and loss
    dark red, still legible."""
    app = desk()
    app.theme = "desk-light"
    assert snap_compare(app, terminal_size=(160, 48))


def test_expired_proposal_reads_expired(snap_compare):
    """80x24 after `2`: the ETH proposal's expiry moved into the past reads "expired"."""
    late = snapshot().proposals[1]
    proposals = (snapshot().proposals[0], replace(late, expires_at=NOW.replace(minute=29)))
    assert snap_compare(desk(proposals=proposals), terminal_size=(80, 24), press=["2"])


def test_too_small_terminal_asks_for_room(snap_compare):
    """78x22: no cut-off tabs or keys, one centred warning line saying the desk needs at
    least 80x24 and that this terminal is 78x22, and that q quits."""
    assert snap_compare(desk(), terminal_size=(78, 22))


def test_audit_details_show_payload_and_hashes(snap_compare):
    """80x24 after `7` then enter: the details of audit entry 1208 (risk.denied): seq, wall
    time, kind, actor, summary, the payload field by field and both hashes in full."""
    assert snap_compare(desk(), terminal_size=(80, 24), press=["7", "enter"])


def test_execution_at_80_columns_keeps_slippage(snap_compare):
    """80x24 after `4`: the Execution tab with slippage in bp on both rows (+8.8 bp for the
    TWAP, +1.5 bp for the market order); no column is cut mid-value."""
    assert snap_compare(desk(), terminal_size=(80, 24), press=["4"])


def test_market_pane_at_80x24(snap_compare):
    """80x24 after `m`: the watchlist (BTC +1.23% green, ETH -0.81% red, SOL +3.42%; bid,
    ask, a 10.0 bp spread, regime; day volume gives way at this width) over the BTC
    chart: 120 bars, a ▲ buy 80
    bars back, a ▼ sell 30 bars back and the stop as a red line, named in the title."""
    assert snap_compare(desk(), terminal_size=(80, 24), press=["m"])


def test_market_pane_at_160x48_is_shown_alone(snap_compare):
    """160x48 after `m`, `down`: the Market pane alone at full size under the tab strip
    (not squeezed into the grid), the ETH chart (no fills, no stop) across the width."""
    assert snap_compare(desk(), terminal_size=(160, 48), press=["m", "down"])


def test_order_ticket_at_80x24(snap_compare):
    """80x24 after `o` and typing 0.05: the centred ticket, one line per field (symbol
    BTC/USDT, side buy, size in quantity, amount 0.05, type market, no limit price, executor
    market) and the enter / escape hint; the footer shows o Order and x Close."""
    assert snap_compare(desk(), terminal_size=(80, 24), press=["o", "0", ".", "0", "5"])


def test_order_ticket_refused_at_160x48(snap_compare):
    """160x48: the ticket after a refused send: "Refused:" and the reason in the error
    colour under the fields, the ticket still open over the grid."""
    app = DeskApp(RecordingControl(current=snapshot(), refusal="kill switch on: manual kill "
                                   "switch"), clock=lambda: NOW)
    assert snap_compare(app, terminal_size=(160, 48), press=["o", "1", "enter"])


def test_history_fills_at_80x24(snap_compare):
    """80x24 after `h`: the caption (Fills, all symbols, today -8.16 realized, v and f)
    over four fills newest first (SOL by hand marked "manual", ETH sold, BTC in two buys)."""
    assert snap_compare(desk(), terminal_size=(80, 24), press=["h"])


def test_history_pnl_by_day_at_160x48(snap_compare):
    """160x48 after `h`, `v`, `v`: History alone at full size, P&L by day: 03-15 -8.16 and
    03-14 -8.35 in the loss colour, 03-13 +412.30 in the profit colour, fees and fills."""
    assert snap_compare(desk(), terminal_size=(160, 48), press=["h", "v", "v"])


def test_proposal_explained_at_80x24(snap_compare):
    """80x24 after `2`, enter: the explanation of the BTC proposal: the ensemble section
    (decision, sma_cross weight and vote), the risk section (passes every rule,
    max_position with its headroom), then the proposal's own fields."""
    assert snap_compare(desk(), terminal_size=(80, 24), press=["2", "enter"])


def test_nothing_proposed_says_why_at_160x48(snap_compare):
    """160x48 with no proposals: in the Signals cell of the grid (six rows of panes leave it
    five lines), "Nothing proposed:" under the caption and the first reason, BTC already
    long; the rest scroll below (the 80x24 picture shows all three)."""
    idle = {"BTC/USDT": "already long as the signal says",
            "ETH/USDT": "last order denied: ETH/USDT position would be 12,000.00, above 25%",
            "SOL/USDT": "no signal change (ensemble HOLD)"}
    assert snap_compare(desk(proposals=(), idle=idle), terminal_size=(160, 48))


def test_nothing_proposed_says_why_at_80x24(snap_compare):
    """80x24 after `2` with no proposals: under the caption, "Nothing proposed:" and one
    muted line per symbol (BTC already long, ETH's last order denied with its reason, SOL
    no signal change), above the empty proposal table."""
    idle = {"BTC/USDT": "already long as the signal says",
            "ETH/USDT": "last order denied: ETH/USDT position would be 12,000.00, above 25%",
            "SOL/USDT": "no signal change (ensemble HOLD)"}
    assert snap_compare(desk(proposals=(), idle=idle), terminal_size=(80, 24), press=["2"])
