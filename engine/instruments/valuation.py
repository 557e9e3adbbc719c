"""Money of a position, with the contract multiplier: what the portfolio, sizing and the risk
gate call so that an option or a future values correctly.

All in `Decimal`, in the instrument's quote currency. Quantities are signed (negative =
short) and counted in the instrument's units: coins or shares, base-currency units of a
forex pair, contracts of an option or a future. Prices are per unit of the underlying as
quoted (an option premium of 2.15 on a 100-multiplier contract costs 215 per contract).
For spot, stocks and forex the multiplier is 1 and every function is the plain formula.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from engine.instruments.model import Instrument


def notional(instrument: Instrument, qty: Decimal, price: Decimal) -> Decimal:
    """Signed market value: qty x price x multiplier."""
    return qty * price * instrument.multiplier


def pnl(instrument: Instrument, qty: Decimal, entry_price: Decimal,
        exit_price: Decimal) -> Decimal:
    """Profit of holding `qty` from `entry_price` to `exit_price` (before fees):
    qty x (exit - entry) x multiplier; a short (qty < 0) gains when the price falls."""
    return qty * (exit_price - entry_price) * instrument.multiplier


def cash_flow(instrument: Instrument, signed_qty: Decimal, price: Decimal) -> Decimal:
    """Cash a fill moves (before fees): a buy (qty > 0) pays qty x price x multiplier, a sell
    receives it. For a future this is the notional the position controls; a futures
    account moves only margin and daily variation, so a futures book should mark with
    `pnl` and leave cash for margin."""
    return -notional(instrument, signed_qty, price)


def qty_for_notional(instrument: Instrument, amount: Decimal, price: Decimal) -> Decimal:
    """The largest quantity, a whole number of lots, whose notional is at most `amount`
    (sizing: "put 10 % of equity in this"). Zero when not even one lot fits."""
    if amount <= 0 or price <= 0:
        return Decimal(0)
    raw = amount / (price * instrument.multiplier)
    lots = (raw / instrument.lot_size).to_integral_value(rounding=ROUND_DOWN)
    return lots * instrument.lot_size


def round_to_tick(instrument: Instrument, price: Decimal,
                  rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """`price` on the instrument's tick grid (nearest by default; ROUND_DOWN / ROUND_UP
    for a limit price that must not cross)."""
    ticks = (price / instrument.tick_size).to_integral_value(rounding=rounding)
    return ticks * instrument.tick_size


def round_to_lot(instrument: Instrument, qty: Decimal) -> Decimal:
    """`qty` truncated towards zero to whole lots (an order never exceeds what was asked)."""
    lots = (qty / instrument.lot_size).to_integral_value(rounding=ROUND_DOWN)
    return lots * instrument.lot_size
