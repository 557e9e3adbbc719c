"""Portfolio mode's state as the snapshot's `PortfolioView` (pane 9, the Risk pane)."""

from __future__ import annotations

from datetime import datetime

from engine.live.snapshot import PortfolioRowView, PortfolioView, ProposalView


def portfolio_view(kernel, now: datetime | None) -> PortfolioView | None:
    """None when portfolio mode is off. `now` is the engine's market time."""
    mode = kernel.portfolio_mode
    if mode is None:
        return None
    state, settings = mode.state, mode.settings
    assets = sorted(set(state.targets) | set(state.current))
    rows = tuple(PortfolioRowView(a, state.targets.get(a, 0.0), state.current.get(a, 0.0),
                                  state.current.get(a, 0.0) - state.targets.get(a, 0.0))
                 for a in assets)
    basket = tuple(
        ProposalView(p.order.client_order_id, p.order.symbol, str(p.order.side), p.order.qty,
                     p.order.ref_price, p.order.reason, p.created_at, p.expires_at)
        for p in kernel.trader.proposals.values() if p.order.strategy == "portfolio")
    return PortfolioView(
        rows=rows, scheme=settings.rules.scheme, mode=settings.rebalance.mode,
        next_rebalance=next_rebalance(mode, now), last_reason=state.last_reason,
        last_rebalance=state.last_rebalance, hedge_fraction=state.hedge_fraction,
        hedge_triggers=tuple(state.hedge_triggers), drawdown=state.drawdown,
        drawdown_level=state.drawdown_level, drawdown_scalar=state.drawdown_scalar,
        optimization_note=state.optimization_note, optimization=dict(state.optimization),
        basket=basket)


def next_rebalance(mode, now: datetime | None) -> str:
    """Periodic: when the next one falls due. Threshold: how far the largest drift is from
    the absolute threshold (the relative one is in the journal's reason when it fires)."""
    state, policy = mode.state, mode.settings.rebalance
    if not mode.ready:
        return "warming up"
    if policy.mode == "periodic":
        if state.next_due is None:
            return "due now"
        return f"due {state.next_due:%Y-%m-%d %H:%M}"
    room = policy.threshold - state.max_drift
    if room <= 0:
        return f"drift {state.max_drift:.2%} past the {policy.threshold:.2%} threshold"
    return f"drift {state.max_drift:.2%} of {policy.threshold:.2%} ({room:.2%} to go)"
