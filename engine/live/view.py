"""Builds the desk's `Snapshot` from the live engine's state (plain data, no references)."""

from __future__ import annotations

from decimal import Decimal

from engine.live.audit_summary import summarize
from engine.live.market_view import market_views
from engine.live.snapshot import (
    AuditView,
    EnsembleView,
    HistoryView,
    PositionView,
    ProposalView,
    RegimeView,
    RiskView,
    SignalView,
    Snapshot,
)
from engine.live.why import idle_reasons, judged_summaries, recent_verdicts
from engine.risk.live_view import live_risk

AUDIT_TAIL = 50
EXECUTIONS = 50


def _portfolio_view(engine):
    from engine.live.portfolio_view import portfolio_view

    kernel = getattr(engine, "kernel", None)
    return None if kernel is None else portfolio_view(kernel, engine.market_ts)


def build_snapshot(engine) -> Snapshot:
    portfolio = engine.portfolio
    symbols = tuple(engine.symbols)
    last_prices = {s: Decimal(repr(st.last_close)) for s, st in engine.symbols.items()}
    equity = portfolio.equity
    risk = engine.gate.state()
    flows = engine.flow.views()
    history = engine.history_book.view(engine.market_ts) if hasattr(engine, "history_book") \
        else HistoryView()
    verdicts = recent_verdicts(engine)
    return Snapshot(
        market_ts=engine.market_ts,
        equity=equity,
        cash=portfolio.cash,
        # The gate's day starts again at a restart: today's P&L realized before it is
        # added back from the stored fills.
        day_pnl=risk.day_pnl + history.today_before_start,
        approval_mode=engine.cfg.engine.approval,
        paused=engine.paused,
        symbols=symbols,
        last_prices=last_prices,
        quotes=_quotes(engine, flows),
        positions=_positions(portfolio, symbols),
        signals=tuple(
            SignalView(symbol, sid, side.name, confidence, ts)
            for symbol, state in engine.symbols.items()
            for sid, (side, confidence, ts) in state.latest_signals.items()
        ),
        proposals=tuple(
            ProposalView(p.order.client_order_id, p.order.symbol, str(p.order.side), p.order.qty,
                         p.order.ref_price or Decimal(0), p.order.reason, p.created_at,
                         p.expires_at)
            for p in engine.trader.proposals.values()
        ),
        ensemble=tuple(
            EnsembleView(symbol, d.decision.name, dict(d.vote_counts), dict(d.weights),
                         float(d.confidence), d.mode, d.ts)
            for symbol, state in engine.symbols.items()
            if (d := state.decision) is not None
        ),
        executions=_executions(engine),
        regimes=tuple(
            RegimeView(symbol, state.regime_label, dict(state.probabilities), state.held_bars,
                       tuple(state.regime_labels), state.transition)
            for symbol, state in engine.symbols.items() if state.regime_labels
        ),
        risk=_risk(engine, risk),
        audit_tail=tuple(_audit_view(e) for e in engine.audit_tail(AUDIT_TAIL)),
        order_flow=flows,
        flow_alerts=engine.flow.recent_alerts(),
        strategies=_strategy_views(engine),
        portfolio=_portfolio_view(engine),
        market=market_views(engine),
        idle=idle_reasons(engine, verdicts),
        judged=judged_summaries(engine, verdicts),
        history=history,
        chain_verified_seq=engine.verified_seq,
        chain_ok=engine.chain_ok,
    )


# Audit entries never change once written: each is summarized once, not at every snapshot
# (a snapshot a bar re-summarizing the whole tail cost about 2 ms). Keyed by the entry's
# own hash, so entries of different databases never meet.
_AUDIT_VIEWS: dict[tuple[int, str], AuditView] = {}
_AUDIT_VIEWS_KEPT = 4 * AUDIT_TAIL


def _audit_view(e) -> AuditView:
    key = (e.seq, e.hash)
    view = _AUDIT_VIEWS.get(key)
    if view is None:
        view = AuditView(e.seq, e.ts, e.kind, e.actor, summarize(e.kind, e.payload),
                         dict(e.payload) if isinstance(e.payload, dict) else {},
                         e.prev_hash, e.hash)
        if len(_AUDIT_VIEWS) >= _AUDIT_VIEWS_KEPT:
            _AUDIT_VIEWS.pop(next(iter(_AUDIT_VIEWS)))  # the oldest first
        _AUDIT_VIEWS[key] = view
    return view


def _executions(engine) -> tuple:
    """Sessions in memory first (running, then recently ended), then the newest stored
    ones not among them: after a restart the pane still shows what was executed."""
    live = engine.executor.views()[:EXECUTIONS]
    if len(live) >= EXECUTIONS:
        return tuple(live)
    from engine.adapters.sqlite.history_book import stored_executions

    seen = {view.id for view in live}
    stored = [view for view in stored_executions(engine.store, EXECUTIONS) if view.id not in seen]
    return tuple((live + stored)[:EXECUTIONS])


def _quotes(engine, flows: tuple) -> dict[str, tuple[Decimal, Decimal]]:
    """Best bid and ask per symbol: the exchange stream's, else the order-flow trackers'
    last book (the simulated market's stream, a recording's)."""
    quotes = {v.symbol: (Decimal(repr(v.bid)), Decimal(repr(v.ask))) for v in flows}
    stream = engine.market_stream
    if stream is None:
        return quotes
    for symbol in engine.symbols:
        quote = stream.quote(symbol)
        if quote is not None:
            quotes[symbol] = (Decimal(repr(quote[0])), Decimal(repr(quote[1])))
    return quotes


def _positions(portfolio, symbols) -> tuple[PositionView, ...]:
    views = []
    for symbol in symbols:
        p = portfolio.position(symbol)
        if p.qty == 0 and p.realized_pnl == 0:
            continue
        side = "long" if p.qty > 0 else "short" if p.qty < 0 else "flat"
        views.append(PositionView(symbol, side, p.qty, p.avg_price, p.last or Decimal(0),
                                  p.unrealized, p.realized_pnl))
    return tuple(views)


def _risk(engine, state) -> RiskView:
    exposure = engine.portfolio.exposure()
    return RiskView(
        exposure=dict(exposure),
        gross_exposure=engine.portfolio.gross_exposure,
        day_pnl=state.day_pnl,
        daily_loss_limit=state.daily_loss_limit.quantize(Decimal("0.01")),
        drawdown=float(state.drawdown),
        max_drawdown=float(engine.spec.risk_limits.max_drawdown_pct),
        **live_risk(engine),  # VaR (engine.risk.var), score, headroom, worst scenario
        kill_switch=bool(state.kill_switch),
        halted_reason=state.halted_reason or "",
    )


def _strategy_views(engine) -> tuple:
    from engine.lifecycle.live import views

    return views(engine)
