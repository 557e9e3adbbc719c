"""A rebalance basket: the orders that take a spot book from its positions to target
weights, as the kernel's risk gate, approval and executors take them.

- Targets are fractions of equity (cash + positions at `prices`); the rest stays in the
  quote currency. Long-only: a target of 0 sells the whole position.
- Sells come first (reduce-only, never more than is held) so their proceeds pay for the
  buys. Buys are scaled so that, at `prices`, they and their fee and slippage fit in the
  cash after the sells: the book never borrows.
- Quantities are Decimals rounded down to the symbol's quantity step; an order under
  `min_notional` is left out (the asset stays a little off target).
- Client order ids are `<basket id>-<n>`: deterministic, so a resent basket is recognised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from engine.types import OrderRequest, OrderSide, OrderType

DEFAULT_STEP = Decimal("0.00000001")


@dataclass(frozen=True)
class Basket:
    id: str
    reason: str
    orders: tuple[OrderRequest, ...]  # sells first
    equity: Decimal
    turnover: Decimal  # traded notional at the reference prices

    @property
    def sells(self) -> tuple[OrderRequest, ...]:
        return tuple(o for o in self.orders if o.side is OrderSide.SELL)

    @property
    def buys(self) -> tuple[OrderRequest, ...]:
        return tuple(o for o in self.orders if o.side is OrderSide.BUY)


def _down(qty: Decimal, step: Decimal) -> Decimal:
    return (qty / step).to_integral_value(rounding=ROUND_DOWN) * step


def rebalance_basket(
    *,
    basket_id: str,
    positions: Mapping[str, Decimal],
    prices: Mapping[str, Decimal],
    cash: Decimal,
    targets: Mapping[str, float],
    reason: str,
    steps: Mapping[str, Decimal] | None = None,
    min_notional: Decimal = Decimal(0),
    cost_rate: Decimal = Decimal(0),
) -> Basket:
    """The basket for `targets`; `cost_rate` is fee + slippage as a fraction of notional."""
    steps = steps or {}
    symbols = sorted(set(positions) | set(targets))
    equity = cash + sum((positions.get(s, Decimal(0)) * prices[s] for s in symbols),
                        Decimal(0))
    sells: list[tuple[str, Decimal]] = []
    buys: list[tuple[str, Decimal]] = []
    for symbol in symbols:
        held = positions.get(symbol, Decimal(0))
        wanted = equity * Decimal(repr(float(targets.get(symbol, 0.0)))) / prices[symbol]
        step = steps.get(symbol, DEFAULT_STEP)
        if wanted < held:
            qty = held if targets.get(symbol, 0.0) == 0 else _down(held - wanted, step)
            sells.append((symbol, min(qty, held)))
        elif wanted > held:
            buys.append((symbol, _down(wanted - held, step)))
    sells = [(s, q) for s, q in sells if q > 0 and q * prices[s] >= min_notional]
    proceeds = sum((q * prices[s] for s, q in sells), Decimal(0)) * (1 - cost_rate)
    budget = cash + proceeds
    spend = sum((q * prices[s] for s, q in buys), Decimal(0)) * (1 + cost_rate)
    if spend > budget and spend > 0:
        scale = budget / spend
        buys = [(s, _down(q * scale, steps.get(s, DEFAULT_STEP))) for s, q in buys]
    buys = [(s, q) for s, q in buys if q > 0 and q * prices[s] >= min_notional]
    orders = tuple(
        OrderRequest(symbol=s, side=side, qty=q, type=OrderType.MARKET, reason=reason,
                     strategy="portfolio", client_order_id=f"{basket_id}-{n}",
                     ref_price=prices[s], reduce_only=side is OrderSide.SELL)
        for n, (s, q, side) in enumerate(
            [(s, q, OrderSide.SELL) for s, q in sells]
            + [(s, q, OrderSide.BUY) for s, q in buys], start=1))
    turnover = sum((o.qty * prices[o.symbol] for o in orders), Decimal(0))
    return Basket(basket_id, reason, orders, equity, turnover)
