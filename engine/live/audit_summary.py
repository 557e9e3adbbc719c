"""One line per audit entry for the Audit pane: what happened, in words.

Every kind the engine writes has its own line (a kill switch reads "ON: no new orders" or
"off: orders allowed", never an empty cell); a kind added later falls back to its scalar
payload fields, so no entry is ever summarized as nothing. Payload values arrive as the
store keeps them (numbers as strings or numbers), so figures are trimmed here, not trusted
to be short.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

LIMIT = 160

Payload = Mapping[str, Any]


def summarize(kind: str, payload: Payload | str | None) -> str:
    """The Audit pane's summary of one entry (at most LIMIT characters)."""
    if payload is None:
        return kind
    if isinstance(payload, str):
        return payload[:LIMIT]
    handler = _BY_KIND.get(kind) or _by_prefix(kind)
    text = handler(payload) if handler else ""
    return (text or _fallback(payload) or kind)[:LIMIT]


def _get(p: Payload, key: str, default: Any = "") -> Any:
    """A payload field, with `default` for a missing field or a stored null: a summary
    never reads "None"."""
    value = p.get(key)
    return default if value is None else value


def number(value: Any) -> str:
    """A stored figure without binary noise or trailing zeros: '0.05', '68,250.5'."""
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not d.is_finite():
        return str(value)
    places = 2 if abs(d) >= 1 else 8
    text = f"{d:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _price(value: Any) -> str:
    """A price: cents from 1 up ('68,250.50'), up to 8 places below."""
    text = number(value)
    whole, _, cents = text.partition(".")
    if text.lstrip("-")[:1].isdigit() and whole.replace(",", "").lstrip("-") not in ("", "0"):
        return f"{whole}.{cents.ljust(2, '0')}"
    return text


def _order(p: Payload) -> str:
    side, qty, symbol = _get(p, "side", ""), _get(p, "qty"), _get(p, "symbol", "")
    price = _get(p, "price", _get(p, "ref_price", _get(p, "limit_price")))
    line = " ".join(f"{side} {number(qty) if qty != '' else ''} {symbol}".split())
    if price != "":
        line += f" @ {_price(price)}"
    return line


def _proposed(p: Payload) -> str:
    reason = _get(p, "reason")
    return _order(p) + (f" · {reason}" if reason else "")


def _approved(p: Payload) -> str:
    execution = _get(p, "execution")
    return _order(p) + (f" as {execution}" if execution else "")


def _denied(p: Payload) -> str:
    reasons = _get(p, "reasons") or _get(p, "rules") or []
    return f"{_order(p)} · denied: {'; '.join(map(str, reasons)) or 'no reason recorded'}"


def _filled(p: Payload) -> str:
    fee = _get(p, "fee")
    return _order(p) + (f" fee {_price(fee)}" if fee != "" else "")


def _cancelled(p: Payload) -> str:
    where = "cancelled at the broker" if _get(p, "at_broker") else "not confirmed by the broker"
    return f"{_get(p, 'session_id', '')} part {_get(p, 'part_no', '?')}: {where}"


def _kill_switch(p: Payload) -> str:
    return "ON: no new orders" if _get(p, "on") else "off: orders allowed"


def _session_started(p: Payload) -> str:
    return (f"{_get(p, 'kind')} {_get(p, 'side')} {number(_get(p, 'total_qty'))} "
            f"{_get(p, 'symbol')} in {_get(p, 'parts', '?')} parts ({_get(p, 'session_id')})")


def _session_ended(p: Payload) -> str:
    avg = _get(p, "avg_price")
    line = (f"{_get(p, 'session_id', '')}: filled {number(_get(p, 'filled_qty', 0))} of "
            f"{number(_get(p, 'total_qty', '?'))}")
    if avg not in (None, ""):
        line += f" avg {_price(avg)}"
    note = _get(p, "note")
    return line + (f" · {note}" if note else "")


def _session_cancelled(p: Payload) -> str:
    return (f"{_get(p, 'session_id', '')}: {_get(p, 'dropped_parts', 0)} parts dropped, "
            f"{_get(p, 'cancelled_children', 0)} cancelled at the broker, filled "
            f"{number(_get(p, 'filled_qty', 0))}")


def _session_resumed(p: Payload) -> str:
    return (f"{_get(p, 'session_id', '')} resumed ({_get(p, 'catch_up', '')}): "
            f"{_get(p, 'pending', 0)} parts pending")


def _lookup(p: Payload) -> str:
    return (f"{_get(p, 'session_id')} part {_get(p, 'part_no', '?')} "
            f"{_get(p, 'client_order_id')}")


def _engine_started(p: Payload) -> str:
    symbols = ", ".join(_get(p, "symbols", []))
    return (f"{symbols} · approval {_get(p, 'approval', '?')} · broker {_get(p, 'broker', '?')}"
            f" · feed {_get(p, 'feed', '?')}")


def _engine_stopped(p: Payload) -> str:
    return (f"equity {number(_get(p, 'equity', '?'))} · {_get(p, 'open_proposals', 0)} "
            "proposals open")


def _engine_crashed(p: Payload) -> str:
    return str(_get(p, "reason") or _get(p, "error") or "")


def _config_loaded(p: Payload) -> str:
    digest = str(_get(p, "config_hash", ""))[:12]
    return f"{_get(p, 'source', '')} (hash {digest})"


def _backtest(p: Payload) -> str:
    total = _get(p, "total_return")
    ret = f", return {float(total) * 100:.2f}%" if isinstance(total, int | float) else ""
    return (f"run {_get(p, 'run_id', '?')}: {_get(p, 'label', '')} on {_get(p, 'source', '')}, "
            f"{_get(p, 'trades', 0)} trades{ret}")


_BY_KIND: dict[str, Callable[[Payload], str]] = {
    "order.proposed": _proposed,
    "order.approved": _approved,
    "order.rejected": _order,
    "order.expired": _order,
    "order.submitted": _order,
    "order.filled": _filled,
    "order.cancelled": _cancelled,
    "order.unknown": _lookup,
    "order.absent": _lookup,
    "order.found": _lookup,
    "order.manual": _proposed,
    "risk.denied": _denied,
    "risk.kill_switch": _kill_switch,
    "feed.paused": lambda p: "feed paused: nothing trades, proposals do not expire",
    "feed.resumed": lambda p: "feed resumed",
    "session.started": _session_started,
    "session.cancelled": _session_cancelled,
    "session.resumed": _session_resumed,
    "engine.started": _engine_started,
    "engine.stopped": _engine_stopped,
    "engine.crashed": _engine_crashed,
    "config.loaded": _config_loaded,
    "backtest.completed": _backtest,
}


def _by_prefix(kind: str) -> Callable[[Payload], str] | None:
    if kind.startswith("session."):
        return _session_ended  # done, failed, partial: how the session ended
    return None


def _fallback(p: Payload) -> str:
    parts = [f"{k}={number(v) if isinstance(v, int | float) else v}" for k, v in p.items()
             if isinstance(v, str | int | float | bool) and v != ""]
    return " ".join(parts)
