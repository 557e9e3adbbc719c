"""Round trips: turns a stream of fills into closed trades (entry, exit, P&L) per symbol.

A trade opens when a symbol's position leaves zero and closes when it returns to zero (a
flip closes one trade and opens the next). P&L is net of the fees paid on both legs.

Attribution (`engine.lifecycle.attribution`) is fixed by the fill that opens the trade: the
strategies whose votes opened it and the regime then. A stop or exit that closes the trade
does not change it, so the stop's P&L belongs to the strategies that opened the position.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.lifecycle.attribution import Attribution
from engine.types import Fill, OrderSide

_OUTPUT_STEP = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class Trade:
    symbol: str
    side: str  # "long" | "short"
    entry_time: datetime
    entry_price: Decimal
    exit_time: datetime
    exit_price: Decimal
    qty: Decimal  # largest absolute size held during the trade
    pnl: Decimal
    return_pct: float  # pnl / entry notional, in percent
    strategy: str
    fees: Decimal = Decimal(0)  # both legs, already inside pnl
    attribution: Attribution | None = None  # None: wholly `strategy`'s

    @property
    def regime(self) -> str:
        return self.attribution.regime if self.attribution is not None else "unknown"

    def votes(self) -> tuple[tuple[str, float], ...]:
        """(strategy, weight) pairs the trade's P&L is split by."""
        if self.attribution is not None and self.attribution.votes:
            return self.attribution.votes
        return ((self.strategy or "unattributed", 1.0),)

    def to_dict(self) -> dict:
        """JSON-ready: Decimals as strings, to 1e-8 (averages carry long binary tails)."""
        return {
            "symbol": self.symbol,
            "side": self.side,
            "entry_time": self.entry_time.isoformat(),
            "entry_price": str(self.entry_price.quantize(_OUTPUT_STEP)),
            "exit_time": self.exit_time.isoformat(),
            "exit_price": str(self.exit_price.quantize(_OUTPUT_STEP)),
            "qty": str(self.qty),
            "pnl": str(self.pnl.quantize(_OUTPUT_STEP)),
            "return_pct": self.return_pct,
            "strategy": self.strategy,
            "fees": str(self.fees.quantize(_OUTPUT_STEP)),
            "regime": self.regime,
            "attribution": {sid: w for sid, w in self.votes()},
        }


@dataclass(slots=True)
class _Open:
    side: int
    entry_time: datetime
    qty: Decimal = Decimal(0)  # signed, current
    peak_qty: Decimal = Decimal(0)
    entry_cost: Decimal = Decimal(0)  # Σ qty*price of the opening fills
    entry_qty: Decimal = Decimal(0)
    exit_value: Decimal = Decimal(0)  # Σ qty*price of the closing fills
    exit_qty: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    strategy: str = ""
    attribution: Attribution | None = None


class TradeTracker:
    """Feed it every fill in order; `closed` collects the finished trades."""

    def __init__(self, multiplier: Callable[[str], Decimal] | None = None) -> None:
        """`multiplier(symbol)`: the contract multiplier that turns qty x price into money
        (100 for an option of 100 shares; 1, the default, for spot)."""
        self._open: dict[str, _Open] = {}
        self.closed: list[Trade] = []
        self._multiplier = multiplier

    def on_fill(self, fill: Fill, strategy: str = "",
                attribution: Attribution | None = None) -> None:
        signed = fill.qty if fill.side == OrderSide.BUY else -fill.qty
        remaining = signed
        fee_per_unit = fill.fee / fill.qty if fill.qty else Decimal(0)
        while remaining:
            trade = self._open.get(fill.symbol)
            if trade is None:
                trade = _Open(side=1 if remaining > 0 else -1, entry_time=fill.ts,
                              strategy=strategy, attribution=attribution)
                self._open[fill.symbol] = trade
            same_direction = (remaining > 0) == (trade.side > 0)
            if same_direction:
                part = remaining
                trade.entry_cost += abs(part) * fill.price
                trade.entry_qty += abs(part)
            else:
                part = remaining if abs(remaining) <= abs(trade.qty) else -trade.qty
                trade.exit_value += abs(part) * fill.price
                trade.exit_qty += abs(part)
            trade.fees += abs(part) * fee_per_unit
            trade.qty += part
            trade.peak_qty = max(trade.peak_qty, abs(trade.qty))
            remaining -= part
            if trade.qty == 0:
                self._close(fill.symbol, trade, fill.ts)

    def _close(self, symbol: str, trade: _Open, ts: datetime) -> None:
        del self._open[symbol]
        entry_price = trade.entry_cost / trade.entry_qty
        exit_price = trade.exit_value / trade.exit_qty
        gross = (trade.exit_value - trade.entry_cost * trade.exit_qty / trade.entry_qty)
        notional = entry_price * trade.exit_qty
        if self._multiplier is not None:
            mult = self._multiplier(symbol)
            gross, notional = gross * mult, notional * mult
        pnl = gross * trade.side - trade.fees
        self.closed.append(
            Trade(
                symbol=symbol,
                side="long" if trade.side > 0 else "short",
                entry_time=trade.entry_time,
                entry_price=entry_price,
                exit_time=ts,
                exit_price=exit_price,
                qty=trade.peak_qty,
                pnl=pnl,
                return_pct=float(pnl / notional * 100) if notional else 0.0,
                strategy=trade.strategy,
                fees=trade.fees,
                attribution=trade.attribution,
            )
        )

    def open_symbols(self) -> list[str]:
        return list(self._open)
