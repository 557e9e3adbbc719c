"""Why the desk proposes, and why it does not.

`explain_proposal` answers `enter` on a proposal: the order and its reason, the ensemble's
votes and weights, the regime and its size multiplier, how the size was reached, the
latest filter and quality verdict, and every risk and compliance rule the order meets now
(value, limit, headroom) from a preview of the gate, which changes nothing.

`idle_reasons` says per symbol why nothing is proposed, first reason first: the kill
switch, a risk halt, the paused feed, an execution still running, a filter that dropped
the last decision, the last risk denial (among the newest RECENT_DENIAL_ENTRIES audit
entries), already positioned the ensemble's way, a SELL while flat with shorts off, or
simply no change of signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.types import OrderSide, Side

RECENT_DENIAL_ENTRIES = 500  # a denial older than this many audit entries no longer explains


@dataclass(frozen=True, slots=True)
class Explanation:
    title: str
    rows: tuple[tuple[str, str], ...]  # (label, text); a label starting "§" heads a section


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.6g}"
    return str(value)


def explain_proposal(engine, order_id: str) -> Explanation | None:
    proposal = engine.trader.proposals.get(order_id)
    if proposal is None:
        return None
    order = proposal.order
    state = engine.symbols.get(order.symbol)
    rows: list[tuple[str, str]] = [
        ("§ Order", ""),
        ("order", f"{order.side} {order.qty} {order.symbol} @ {_fmt(order.ref_price)}"),
        ("reason", order.reason or "—"),
        ("strategy", order.strategy or "—"),
    ]
    decision = state.decision if state is not None else None
    rows.append(("§ Ensemble", ""))
    if decision is None:
        rows.append(("decision", "a single strategy decides (no ensemble)"))
    else:
        rows += [("decision", f"{decision.decision.name} at confidence "
                              f"{float(decision.confidence):.2f} ({decision.mode})"),
                 ("votes", ", ".join(f"{k} {v}" for k, v in dict(decision.vote_counts).items()))]
        for sid, weight in dict(decision.weights).items():
            side, conf = state.stances.get(sid, (Side.HOLD, 0.0))
            rows.append((f"  {sid}", f"weight {weight:.2f} · votes {side.name} ({conf:.2f})"))
    if state is not None:
        probabilities = ", ".join(f"{k} {v:.0%}" for k, v in state.probabilities.items())
        rows += [("§ Regime", ""),
                 ("regime", f"{state.regime_label} ({probabilities or 'not fitted yet'})"),
                 ("size multiplier", f"{state.size_multiplier:.2f} for this regime")]
    rows += _size_rows(engine, order)
    rows += _judged_rows(engine, order.symbol)
    rows += _gate_rows(engine, order)
    return Explanation(f"Why {order.side} {order.qty} {order.symbol}", tuple(rows))


def _size_rows(engine, order) -> list[tuple[str, str]]:
    equity = engine.portfolio.equity
    held = engine.portfolio.position(order.symbol).qty
    size = engine.trader.rules.size
    target = f"{size:.0%} of equity {_fmt(equity)}"
    if order.reduce_only:
        why = f"closes the position of {held} first (reduce only)"
    elif order.side == OrderSide.BUY:
        why = f"target long = {target} × regime multiplier / price; held {held}"
    else:
        why = (f"target short = {target} × regime multiplier / price; held {held}"
               if engine.trader.rules.allow_short else f"sells what is held ({held})")
    notional = order.qty * (order.ref_price or Decimal(0))
    return [("§ Size", ""), ("quantity", f"{order.qty} (notional {_fmt(notional)})"),
            ("why", why)]


def _judged_rows(engine, symbol: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = [("§ Filters and quality", "")]
    if getattr(engine, "filters", None) is None:
        return rows + [("verdict", "no filters or quality score configured")]
    latest = _latest(engine, ("decision.judged",)).get(("decision.judged", symbol))
    if latest is None:
        return rows + [("verdict", "none recorded yet for this symbol")]
    multiplier = _number(latest.get("multiplier"))
    outcome = (f"dropped: {_judged_text(latest)}" if latest.get("dropped")
               else f"kept · size ×{multiplier:.2f}" if multiplier is not None else "kept")
    rows.append(("outcome", outcome))
    for verdict in latest.get("filters") or []:
        rows.append((f"  {verdict.get('filter', '?')}", _verdict_text(verdict)))
    if isinstance(latest.get("quality"), dict):
        rows.append(("  quality", _quality_text(latest["quality"])))
    return rows


def _number(value) -> float | None:
    """A number of a judged record (its audit payload may hold numbers as text)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _verdict_text(verdict: dict) -> str:
    """"pass · lightgbm: down, p 0.40 (a veto needs 0.60)"."""
    p, threshold = _number(verdict.get("probability")), _number(verdict.get("threshold"))
    text = f"{verdict.get('verdict', '?')} · {verdict.get('model', '?')}: " \
           f"{verdict.get('prediction', '?')}"
    if p is not None:
        text += f", p {p:.2f}"
    if threshold is not None:
        text += f" (a veto needs {threshold:.2f})"
    return text


def _quality_text(quality: dict) -> str:
    """"0.50 · confluence 0.59, alignment 0.40, setups won 0.50 of 3 · size ×0.99"."""
    def two(key: str) -> str:
        value = _number(quality.get(key))
        return "?" if value is None else f"{value:.2f}"

    text = (f"{two('score')} · confluence {two('confluence')}, alignment {two('alignment')},"
            f" setups won {two('success')} of {quality.get('similar_trades', '?')}")
    return text + (" · below min_score" if quality.get("dropped")
                   else f" · size ×{two('multiplier')}")


def _gate_rows(engine, order) -> list[tuple[str, str]]:
    """Every rule the order meets now: a preview of the gate (nothing is submitted)."""
    verdict = engine.kernel.broker.check(order, price=order.ref_price, now=engine.now())
    rows = [("§ Risk and compliance (now)",
             "passes every rule" if verdict.allowed else "DENIED: " + "; ".join(verdict.reasons))]
    for check in verdict.checks:
        mark = "ok" if check.passed else "FAILS"
        room = headroom(check.value, check.limit) if check.passed else ""
        text = f"{mark} · {_fmt(check.value)} of limit {_fmt(check.limit)}"
        if room:
            text += f" · headroom {room}"
        if check.reason:
            text += f" · {check.reason}"
        rows.append((f"  {check.rule}", text))
    return rows


def headroom(value, limit) -> str:
    """How far a passing check is from its limit, when both are numbers ("" otherwise).
    A passing value sits on the allowed side of its limit, whichever way the rule points
    (a maximum, or a floor such as a minimum notional or a loss limit), so the room left is
    the distance between the two."""
    try:
        left = abs(float(limit) - float(value))
    except (TypeError, ValueError):
        return ""
    return f"{left:.4g}"


def _latest(engine, kinds: tuple[str, ...]) -> dict[tuple[str, str], dict]:
    from engine.adapters.sqlite.history import latest_audit

    head = engine.store.audit.head[0]
    return latest_audit(engine.store, kinds, max(head - RECENT_DENIAL_ENTRIES, 0))


def recent_verdicts(engine) -> dict[tuple[str, str], dict]:
    """(kind, symbol) -> the newest recent risk denial and judged decision: what
    `idle_reasons` and `judged_summaries` read, in one read of the audit."""
    return _latest(engine, ("risk.denied", "decision.judged"))


def judged_summaries(engine, latest: dict[tuple[str, str], dict]) -> dict[str, str]:
    """Symbol -> its last judged decision in a few words ("kept ×0.99", "dropped: direction
    vetoed"); empty without [filters] or [quality]."""
    if getattr(engine, "filters", None) is None:
        return {}
    out = {}
    for symbol in engine.symbols:
        judged = latest.get(("decision.judged", symbol))
        if judged is None:
            out[symbol] = "—"
        elif judged.get("dropped"):
            out[symbol] = f"dropped: {_judged_text(judged)}"
        else:
            multiplier = _number(judged.get("multiplier"))
            out[symbol] = "kept" + (f" ×{multiplier:.2f}" if multiplier is not None else "")
    return out


def idle_reasons(engine, latest: dict[tuple[str, str], dict] | None = None) -> dict[str, str]:
    """Symbol -> why nothing is proposed for it now ("" while an order waits); `latest`:
    `recent_verdicts` (read here when not given)."""
    risk = engine.gate.state()
    waiting = {p.order.symbol for p in engine.trader.proposals.values()}
    latest = recent_verdicts(engine) if latest is None else latest
    reasons = {}
    for symbol, state in engine.symbols.items():
        held = engine.portfolio.position(symbol).qty
        side = state.side
        denied = latest.get(("risk.denied", symbol))
        judged = latest.get(("decision.judged", symbol))
        if symbol in waiting:
            reason = ""
        elif risk.kill_switch:
            reason = "kill switch on: no new orders"
        elif risk.halted_reason:
            reason = f"risk halt: {risk.halted_reason}"
        elif engine.paused:
            reason = "feed paused"
        elif engine.executor.running(symbol):
            reason = "an execution is still running"
        elif judged and judged.get("dropped"):
            reason = f"last decision dropped by the filters ({_judged_text(judged)})"
        elif denied:
            reasons_text = "; ".join(denied.get("reasons") or []) or "a rule"
            reason = f"last order denied: {reasons_text}"
        elif (side == Side.BUY and held > 0) or (side == Side.SELL and held < 0):
            reason = f"already {'long' if held > 0 else 'short'} as the signal says"
        elif side == Side.SELL and held == 0 and not engine.trader.rules.allow_short:
            reason = "signal SELL while flat: shorts are off"
        else:
            reason = f"no signal change (ensemble {side.name})"
        reasons[symbol] = reason
    return reasons


def _judged_text(judged: dict) -> str:
    """Why a judged decision was dropped: the filters that vetoed it, or its quality score
    below [quality] min_score."""
    vetoes = [v.get("filter", "?") for v in judged.get("filters") or []
              if v.get("verdict") == "veto"]
    reasons = [f"{', '.join(vetoes)} vetoed"] if vetoes else []
    quality = judged.get("quality")
    if isinstance(quality, dict) and quality.get("dropped"):
        score = _number(quality.get("score"))
        reasons.append(f"quality {score:.2f} below min_score" if score is not None
                       else "quality below min_score")
    return "; ".join(reasons) or "no reason recorded"
