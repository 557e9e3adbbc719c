"""The execution manager: persistent multi-part sessions over the gated broker.

Never twice, never lost:

- a child's intent (part `submitted`, its orders row with the session id, audit
  `order.submitted`) is committed in one unit of work before `broker.submit`; the outcome
  is committed after;
- a submission whose outcome is not known (`OrderOutcomeUnknown`, a timeout, a connection
  error, a duplicate id) leaves the part `unknown`; later ticks look the order up by client
  order id with backoff, and only an order the broker definitively does not have is resent,
  under the next attempt's id;
- fills are stored once per trade id, and a part's filled quantity is recomputed from the
  stored fills, so a fill seen twice (or first recorded by someone else) counts once;
- `recover` rebuilds the running sessions from the store alone and reconciles every child that
  was in flight with the broker.

Persistence goes through the `ExecutionStore` port (store_port.py): SQLite live, memory in
backtests; the manager runs no SQL.

Thread-safety: one re-entrant lock around every public method (the desk's UI thread
cancels while the engine thread ticks).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.brokers.base import (
    BrokerError,
    BrokerOrder,
    DuplicateOrderError,
    InvalidOrderError,
    OrderOutcomeUnknown,
    OrderRejected,
)
from engine.execution.quality import ExecutionQuality, session_quality
from engine.execution.schedule import on_grid, plan
from engine.execution.session import (
    ExecutionSession,
    Part,
    child_order_id,
    parse_child_id,
    session_id_for,
)
from engine.execution.store_port import ExecutionStore
from engine.trading.risk import GatedBroker, OrderDenied, RiskDecision
from engine.types import Bar, Fill, OrderRequest, OrderSide, OrderStatus, OrderType

if TYPE_CHECKING:
    from engine.live.snapshot import ExecutionView

# Seconds between lookups of an order whose submission outcome is unknown.
LOOKUP_BACKOFF = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 60.0)
_UNKNOWN_ERRORS = (OrderOutcomeUnknown, DuplicateOrderError, TimeoutError, ConnectionError)
_ZERO = Decimal(0)


class BrokerCallInTransaction(RuntimeError):
    """A programming error: the engine tried to reach the broker before committing."""


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _dt(text: str) -> datetime:
    return _utc(datetime.fromisoformat(text))


class ExecutionManager:
    def __init__(
        self, broker: GatedBroker, store: ExecutionStore | Any, cfg: Any, *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`store` is an `ExecutionStore`; a desk `Store` (what callers passed before the
        port existed) is wrapped in the SQLite adapter."""
        self._broker = broker
        self._store = store if isinstance(store, ExecutionStore) else _sqlite(store)
        self._cfg = cfg
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._sessions: dict[str, ExecutionSession] = {}  # running (or just loaded)
        # Ended sessions leave `_sessions` (so ticks and in-flight checks stay cheap over a
        # long run) and the newest of them stay on show in the Execution pane.
        self._recent: deque[ExecutionSession] = deque(maxlen=50)
        self._recent_by_id: dict[str, ExecutionSession] = {}  # the same, by id
        self._lookups: dict[tuple[str, int], tuple[datetime, int]] = {}  # next lookup, step
        # Told of every session as it ends (a backtest tallies execution quality from the
        # sessions in hand instead of reading thousands back from the store at the end).
        self.on_finish: Callable[[ExecutionSession], None] | None = None

    # -- start -----------------------------------------------------------------------------

    def start(
        self, parent: OrderRequest, now: datetime, *, mode: str | None = None,
        arrival_price: Decimal, volume_history: Iterable[Any] | None = None,
    ) -> ExecutionSession:
        """Plan and persist a session for `parent` (idempotent per parent client order id:
        starting it again returns the stored session). Nothing is submitted: `tick` does."""
        now = _utc(now)
        mode = mode or self._cfg.mode
        with self._lock:
            sid = session_id_for(parent.client_order_id)
            existing = self._known(sid)
            if existing is not None:
                return existing
            planned, fallback, params = plan(
                mode, self._cfg, parent.qty, now, price=arrival_price,
                volume_history=volume_history,
            )
            step = self._broker.quantity_step(parent.symbol)
            if step:
                planned = on_grid(planned, step)
            params |= {
                "fallback_mode": fallback, "parent_client_order_id": parent.client_order_id,
                "type": str(parent.type), "strategy": parent.strategy, "reason": parent.reason,
                "limit_price": None if parent.limit_price is None else str(parent.limit_price),
                "reduce_only": parent.reduce_only, "note": "",
            }
            session = ExecutionSession(
                id=sid, kind=mode, symbol=parent.symbol, side=str(parent.side),
                total_qty=parent.qty, arrival_price=arrival_price,
                parent_client_order_id=parent.client_order_id, created_at=now, params=params,
                parts=[Part(i, p.due, p.qty, order_type=str(parent.type))
                       for i, p in enumerate(planned, 1)],
            )
            with self._store.unit_of_work():
                self._store.insert_session(
                    {"id": sid, "kind": mode, "symbol": parent.symbol, "side": session.side,
                     "total_qty": parent.qty, "arrival_price": arrival_price, "params": params},
                    [{"part_no": p.part_no, "scheduled_at": p.due, "qty": p.qty}
                     for p in session.parts],
                    now,
                )
                if self._store.keeps_audit:
                    self._audit("session.started", {
                        "session_id": sid, "kind": mode, "symbol": parent.symbol,
                        "side": session.side, "total_qty": parent.qty,
                        "arrival_price": arrival_price, "parts": len(session.parts),
                        "parent_client_order_id": parent.client_order_id,
                        "schedule": [{"due": p.due, "qty": p.qty} for p in session.parts],
                    })
            self._sessions[sid] = session
            return session

    # -- tick ------------------------------------------------------------------------------

    def tick(self, now: datetime) -> list[OrderRequest]:
        """Resolve unknown children whose lookup is due, submit parts whose time has come;
        returns the child orders the broker accepted in this call."""
        now = _utc(now)
        sent: list[OrderRequest] = []
        with self._lock:
            for session in list(self._sessions.values()):
                if session.status != "running":
                    continue
                for part in session.parts:
                    if part.status == "unknown":
                        self._resolve_unknown(session, part, now, sent)
                    elif part.status == "pending" and part.due <= now:
                        self._send(session, part, now, sent)
                self._maybe_finish(session, now)
        return sent

    def _child(
        self, s: ExecutionSession, part: Part, attempt: int, type_: str, price: Decimal | None
    ) -> OrderRequest:
        limit = s.params.get("limit_price")
        return OrderRequest(
            symbol=s.symbol, side=OrderSide(s.side), qty=part.qty, type=OrderType(type_),
            limit_price=Decimal(limit) if limit and type_ == "limit" else None,
            reason=f"{s.kind} part {part.part_no}/{len(s.parts)} of {s.parent_client_order_id}",
            strategy=s.params.get("strategy", ""),
            client_order_id=child_order_id(s.id, part.part_no, attempt),
            ref_price=price, reduce_only=bool(s.params.get("reduce_only", False)),
        )

    def _price(self, s: ExecutionSession) -> Decimal | None:
        return self._broker.portfolio.last_price(s.symbol) or s.arrival_price

    def _send(
        self, s: ExecutionSession, part: Part, now: datetime, sent: list[OrderRequest],
        *, fallback: bool = False,
    ) -> None:
        type_ = "market" if fallback else s.params.get("type", "market")
        price = self._price(s)
        order = self._child(s, part, part.attempt + 1, type_, price)
        verdict = self._broker.check(order, price=price, now=now)
        if not verdict.allowed:
            self._denied(s, part, order, verdict, now, intent=False)
            return
        cid = order.client_order_id
        with self._store.unit_of_work():
            self._store.update_part(s.id, part.part_no, status="submitted",
                             client_order_id=cid, attempt=part.attempt + 1)
            self._store.upsert_order(_order_row(order, s.id, "submitted"), now)
            if self._store.keeps_audit:
                self._audit("order.submitted", _order_payload(order, s.id, part.part_no))
        part.status, part.attempt, part.client_order_id, part.order_type = (
            "submitted", part.attempt + 1, cid, type_)
        try:
            self._outside_transaction()
            broker_id = self._broker.submit(order, price=price, now=now)
        except OrderDenied as denied:
            self._denied(s, part, order, denied.decision, now, intent=True)
        except (InvalidOrderError, OrderRejected) as error:
            why = error.why if isinstance(error, InvalidOrderError) else error.reason
            self._rejected(s, part, order, why, now, sent)
        except (*_UNKNOWN_ERRORS, BrokerError, OSError) as error:
            self._unknown(s, part, order, error, now)
        else:
            with self._store.unit_of_work():
                self._store.set_order_status(cid, "submitted", now, broker_order_id=broker_id)
            sent.append(order)

    def _denied(self, s, part, order, verdict: RiskDecision, now, *, intent: bool) -> None:
        reasons = verdict.reasons
        with self._store.unit_of_work():
            if intent:
                self._store.set_order_status(order.client_order_id, "denied", now)
            else:
                self._store.upsert_order(_order_row(order, s.id, "denied"), now)
                self._store.update_part(s.id, part.part_no, client_order_id=order.client_order_id,
                                 attempt=part.attempt + 1)
            self._store.update_part(s.id, part.part_no, status="failed")
            self._audit("risk.denied", _order_payload(order, s.id, part.part_no)
                        | {"reasons": list(reasons), "rules": list(verdict.rules),
                           "checks": verdict.checks_payload()})
        part.attempt = int(order.client_order_id.rsplit("-a", 1)[1])
        part.client_order_id = order.client_order_id
        part.status, part.note = "failed", "denied: " + "; ".join(reasons)

    def _rejected(self, s, part, order, why: str, now, sent) -> None:
        part.rejected += 1
        retry = part.rejected == 1 and s.params.get("fallback_mode") == "market"
        with self._store.unit_of_work():
            self._store.set_order_status(order.client_order_id, "rejected", now)
            if not retry:
                self._store.update_part(s.id, part.part_no, status="failed")
            self._audit("order.rejected", _order_payload(order, s.id, part.part_no)
                        | {"why": why, "fallback": "market" if retry else ""})
        if retry:
            self._send(s, part, now, sent, fallback=True)
        else:
            part.status, part.note = "failed", f"rejected: {why}"

    def _unknown(self, s, part, order, error: BaseException, now) -> None:
        with self._store.unit_of_work():
            self._store.set_order_status(order.client_order_id, "unknown", now)
            self._store.update_part(s.id, part.part_no, status="unknown")
            self._audit("order.unknown", _order_payload(order, s.id, part.part_no)
                        | {"error": f"{type(error).__name__}: {error}"})
        part.status = "unknown"
        self._lookups[(s.id, part.part_no)] = (now + timedelta(seconds=LOOKUP_BACKOFF[0]), 0)

    def _resolve_unknown(self, s, part: Part, now: datetime, sent) -> None:
        key = (s.id, part.part_no)
        due, step = self._lookups.get(key, (now, 0))
        if due > now:
            return
        self._outside_transaction()
        try:
            found = self._broker.fetch_order(part.client_order_id)
        except (*_UNKNOWN_ERRORS, BrokerError, OSError):
            step = min(step + 1, len(LOOKUP_BACKOFF) - 1)
            self._lookups[key] = (now + timedelta(seconds=LOOKUP_BACKOFF[step]), step)
            return
        self._lookups.pop(key, None)
        if found is None:
            self._absent(s, part, now, sent)
        else:
            self._adopt(s, part, found, now)

    def _absent(self, s, part: Part, now: datetime, sent) -> None:
        """The broker definitively does not have the child: resend under the next attempt."""
        with self._store.unit_of_work():
            self._store.set_order_status(part.client_order_id, "absent", now)
            self._audit("order.absent", {"session_id": s.id, "part_no": part.part_no,
                                         "client_order_id": part.client_order_id})
        self._send(s, part, now, sent, fallback=part.order_type != s.params.get("type"))

    def _adopt(self, s, part: Part, found: BrokerOrder, now: datetime) -> None:
        """The broker has the child: wait for its fills, or close the part if the broker
        ended it (cancelled) without filling all of it."""
        status = {OrderStatus.PARTIALLY_FILLED: "partially_filled",
                  OrderStatus.FILLED: "filled", OrderStatus.CANCELLED: "cancelled"}
        order_status = status.get(found.status, "submitted")
        part_status = "cancelled" if found.status == OrderStatus.CANCELLED else "submitted"
        if part.status == "filled":
            part_status = "filled"
        with self._store.unit_of_work():
            self._store.set_order_status(part.client_order_id, order_status, now,
                                  broker_order_id=found.broker_order_id)
            self._store.update_part(s.id, part.part_no, status=part_status)
            self._audit("order.found", {"session_id": s.id, "part_no": part.part_no,
                                        "client_order_id": part.client_order_id,
                                        "status": order_status, "filled_qty": found.filled_qty})
        part.status = part_status
        if part_status == "cancelled":
            part.note = "cancelled at the broker"

    # -- fills -----------------------------------------------------------------------------

    def owns(self, client_order_id: str) -> bool:
        """True for a child order of a session (the trader should leave its fill to us)."""
        return parse_child_id(client_order_id) is not None

    def on_fill(self, fill: Fill) -> bool:
        """Record a child's fill once per trade id and update its part and session; False if
        the order is not a session child (the caller records it)."""
        ref = parse_child_id(fill.client_order_id)
        if ref is None:
            return False
        with self._lock:
            s = self._known(ref[0])
            if s is None or not 1 <= ref[1] <= len(s.parts):
                return False
            part = s.part(ref[1])
            now = self._clock()
            entry = (fill.client_order_id, fill.qty, fill.price, _utc(fill.ts))
            try:
                with self._store.unit_of_work():
                    if self._store.insert_fill(_fill_row(fill)):
                        part.fills.append(entry)
                        if self._store.keeps_audit:
                            self._audit("order.filled",
                                        _fill_payload(fill, s.id, part.part_no))
                    self._refresh_part(s, part, fill.client_order_id, now)
                    self._maybe_finish(s, now)
            except BaseException:
                # The store rolled the fill back, and so does the part: delivered again,
                # it must count once.
                if part.fills and part.fills[-1] is entry:
                    part.fills.pop()
                raise
            return True

    def _refresh_part(self, s, part: Part, cid: str, now: datetime) -> None:
        qty = notional = child_qty = _ZERO
        for child, fill_qty, price, _ in part.fills:
            qty += fill_qty
            notional += fill_qty * price
            if child == cid:
                child_qty += fill_qty
        part.filled_qty = qty
        part.avg_price = notional / qty if qty else None
        if qty >= part.qty:
            part.status = "filled"
        self._store.set_order_status(cid, "filled" if child_qty >= part.qty else
                              "partially_filled", now)
        self._store.update_part(s.id, part.part_no, status=part.status, filled_qty=qty,
                         avg_price=part.avg_price)

    def _maybe_finish(self, s: ExecutionSession, now: datetime) -> None:
        if s.status != "running" or not all(p.final for p in s.parts):
            return
        counts = {k: sum(1 for p in s.parts if p.status == k)
                  for k in ("filled", "failed", "skipped", "cancelled")}
        filled = s.filled_qty
        s.status = "done" if filled > 0 else "failed"
        missed = len(s.parts) - counts["filled"]
        s.note = "" if not missed else (
            f"{counts['failed']} failed, {counts['skipped']} skipped, "
            f"{counts['cancelled']} cancelled of {len(s.parts)} parts")
        with self._store.unit_of_work():
            self._store.update_session(s.id, status=s.status, note=s.note, now=now)
            parent_status = ("filled" if filled >= s.total_qty else
                             "partially_filled" if filled > 0 else "failed")
            self._store.set_order_status(s.parent_client_order_id, parent_status, now)
            if self._store.keeps_audit:
                self._audit(f"session.{s.status}", {
                    "session_id": s.id, "filled_qty": filled, "total_qty": s.total_qty,
                    "avg_price": s.avg_price, "note": s.note, **counts,
                })
        self._retire(s)

    # -- cancel ----------------------------------------------------------------------------

    def cancel(self, session_id: str, now: datetime, actor: str = "user") -> str:
        """Cancel a running session: pending parts dropped, open children cancelled at the
        broker. "" on success, else why not."""
        now = _utc(now)
        with self._lock:
            s = self._known(session_id)
            if s is None:
                return f"no execution session {session_id}"
            if s.status != "running":
                return f"session {session_id} is already {s.status}"
            at_broker: list[tuple[Part, bool]] = []
            for part in s.parts:
                if part.status in ("submitted", "unknown"):
                    self._outside_transaction()
                    try:
                        ok = self._broker.cancel(part.client_order_id)
                    except (BrokerError, OSError):
                        ok = False
                    at_broker.append((part, ok))
            with self._store.unit_of_work():
                dropped = 0
                for part in s.parts:
                    if part.status == "pending":
                        part.status, dropped = "cancelled", dropped + 1
                        self._store.update_part(s.id, part.part_no, status="cancelled")
                for part, ok in at_broker:
                    # A child the broker would not cancel may have filled already: its fill
                    # is still welcome, so only a child it did cancel closes the part.
                    if ok or part.status == "unknown":
                        part.status = "cancelled"
                        self._store.update_part(s.id, part.part_no, status="cancelled")
                        self._store.set_order_status(part.client_order_id, "cancelled", now)
                    self._audit("order.cancelled", {
                        "session_id": s.id, "part_no": part.part_no,
                        "client_order_id": part.client_order_id, "at_broker": ok,
                    }, actor)
                s.status, s.note = "cancelled", f"cancelled by {actor}"
                self._store.update_session(s.id, status="cancelled", note=s.note, now=now)
                self._store.set_order_status(s.parent_client_order_id, "cancelled", now)
                self._audit("session.cancelled", {
                    "session_id": s.id, "dropped_parts": dropped,
                    "cancelled_children": sum(1 for _, ok in at_broker if ok),
                    "filled_qty": s.filled_qty,
                }, actor)
            self._retire(s)
            return ""

    # -- recovery --------------------------------------------------------------------------

    def recover(self, now: datetime, catch_up: str | None = None) -> list[Fill]:
        """Rebuild the running sessions from the store and reconcile in-flight children with
        the broker; returns the reconciliation fills it recorded (the caller books them into
        the portfolio: they did not come through `GatedBroker.on_bar`).

        A child the broker filled while we were down is recorded as ONE fill per child with
        trade id `<cid>:reconciled:<broker filled qty>`, at the price that makes the stored
        average equal the broker's average, fee 0 (BrokerOrder carries no fee): the broker
        port cannot list trades. Overdue pending parts run now ("run") or are skipped."""
        now = _utc(now)
        catch_up = catch_up or self._cfg.catch_up
        if catch_up not in ("skip", "run"):
            raise ValueError(f"catch_up must be 'skip' or 'run', got {catch_up!r}")
        recon: list[Fill] = []
        sent: list[OrderRequest] = []
        with self._lock:
            self._sessions.clear()
            self._lookups.clear()
            running = self._store.sessions("running")
            for row in running:
                s = self._load(row["id"])
                assert s is not None
                counts = dict.fromkeys(("reconciled", "resent", "waiting", "unknown"), 0)
                for part in s.parts:
                    if part.status in ("submitted", "unknown"):
                        self._recover_child(s, part, now, counts, recon, sent)
                overdue = [p for p in s.parts if p.status == "pending" and p.due < now]
                if catch_up == "skip" and overdue:
                    with self._store.unit_of_work():
                        for part in overdue:
                            part.status, part.note = "skipped", "due while Desk was down"
                            self._store.update_part(s.id, part.part_no, status="skipped")
                self._audit("session.resumed", {
                    "session_id": s.id, "catch_up": catch_up, **counts,
                    "skipped": len(overdue) if catch_up == "skip" else 0,
                    "run": len(overdue) if catch_up == "run" else 0,
                    "pending": sum(1 for p in s.parts if p.status == "pending"),
                })
                self._maybe_finish(s, now)
            self.tick(now)  # "run": overdue parts go now; "skip": nothing overdue is left
        return recon

    def _recover_child(self, s, part: Part, now, counts, recon: list[Fill], sent) -> None:
        self._outside_transaction()
        try:
            found = self._broker.fetch_order(part.client_order_id)
        except (*_UNKNOWN_ERRORS, BrokerError, OSError):
            counts["unknown"] += 1
            if part.status != "unknown":
                with self._store.unit_of_work():
                    self._store.update_part(s.id, part.part_no, status="unknown")
                part.status = "unknown"
            return
        if found is None:
            counts["resent"] += 1
            self._absent(s, part, now, sent)
            return
        fill = self._reconcile(s, part, found, now)
        if fill is not None:
            counts["reconciled"] += 1
            recon.append(fill)
        if part.status != "filled":
            self._adopt(s, part, found, now)
            counts["waiting"] += int(part.status == "submitted")

    def _reconcile(self, s, part: Part, found: BrokerOrder, now: datetime) -> Fill | None:
        if self._broker.replays_fills:
            return None  # its real trades arrive through on_bar; they are the record
        cid = part.client_order_id
        stored = self._store.fills_of([cid])
        qty = sum((Decimal(f["qty"]) for f in stored), _ZERO)
        notional = sum((Decimal(f["qty"]) * Decimal(f["price"]) for f in stored), _ZERO)
        if found.filled_qty <= qty or found.avg_price is None:
            return None
        missing = found.filled_qty - qty
        fill = Fill(
            client_order_id=cid, trade_id=f"{cid}:reconciled:{found.filled_qty}",
            symbol=s.symbol, side=OrderSide(s.side), qty=missing,
            price=(found.avg_price * found.filled_qty - notional) / missing, fee=_ZERO, ts=now,
            extra={"reconciled": True, "broker_order_id": found.broker_order_id},
        )
        self.on_fill(fill)
        return fill

    def _load(self, session_id: str) -> ExecutionSession | None:
        """A session rebuilt from its rows (and cached)."""
        # Three reads, one consistent picture: every write to a session's rows happens
        # under self._lock, which the callers hold.
        row = self._store.get_session(session_id)
        if row is None:
            return None
        orders = self._store.child_orders(session_id)
        part_rows = self._store.parts(session_id)
        params = row["params"]
        s = ExecutionSession(
            id=row["id"], kind=row["kind"], symbol=row["symbol"], side=row["side"],
            total_qty=Decimal(row["total_qty"]),
            arrival_price=None if row["arrival_price"] is None else Decimal(row["arrival_price"]),
            parent_client_order_id=params.get("parent_client_order_id", ""),
            created_at=_dt(row["created_at"]), params=params, status=row["status"],
            note=params.get("note", ""),
        )
        for p in part_rows:
            part = Part(
                p["part_no"], _dt(p["scheduled_at"]), Decimal(p["qty"]), status=p["status"],
                attempt=p["attempt"], client_order_id=p["client_order_id"] or "",
                filled_qty=Decimal(p["filled_qty"]),
                avg_price=None if p["avg_price"] is None else Decimal(p["avg_price"]),
                order_type=p["order_type"] or params.get("type", "market"),
            )
            prefix = f"{s.id}-p{part.part_no:03d}-"
            part.rejected = sum(1 for o in orders if o["client_order_id"].startswith(prefix)
                                and o["status"] == "rejected")
            s.parts.append(part)
        for f in self._store.fills_of([o["client_order_id"] for o in orders]):
            ref = parse_child_id(f["client_order_id"])
            if ref is not None and 1 <= ref[1] <= len(s.parts):
                s.part(ref[1]).fills.append((f["client_order_id"], Decimal(f["qty"]),
                                             Decimal(f["price"]), _dt(f["ts"])))
        if s.status == "running":
            self._sessions[s.id] = s
        return s

    def _known(self, session_id: str) -> ExecutionSession | None:
        """The session in memory (running or recently ended), else rebuilt from the store."""
        return self._in_memory(session_id) or self._load(session_id)

    def _in_memory(self, session_id: str) -> ExecutionSession | None:
        return self._sessions.get(session_id) or self._recent_by_id.get(session_id)

    def _retire(self, s: ExecutionSession) -> None:
        self._sessions.pop(s.id, None)
        if len(self._recent) == self._recent.maxlen:
            self._recent_by_id.pop(self._recent[0].id, None)
        self._recent.append(s)
        self._recent_by_id[s.id] = s
        if self.on_finish is not None:
            self.on_finish(s)

    # -- views -----------------------------------------------------------------------------

    def session(self, session_id: str) -> ExecutionSession | None:
        with self._lock:
            return self._known(session_id)

    def fully_filled(self, session_id: str) -> bool:
        """Whether a session in memory ended with every part filled: no fill of it can
        still arrive (a cancelled or failed part may yet see a late one)."""
        s = self._in_memory(session_id)
        return s is not None and s.status == "done" and all(
            p.status == "filled" for p in s.parts)

    def running(self, symbol: str) -> bool:
        """Whether a session of `symbol` is still running."""
        with self._lock:
            return any(s.symbol == symbol and s.status == "running"
                       for s in self._sessions.values())

    def pending_due(self, symbol: str) -> list[datetime]:
        """Due times of the parts of `symbol`'s running sessions still to be sent."""
        with self._lock:
            return [p.due for s in self._sessions.values()
                    if s.symbol == symbol and s.status == "running"
                    for p in s.parts if p.status == "pending"]

    def session_ids(self) -> list[str]:
        """Every session in the store, oldest first."""
        return self._store.session_ids()

    def running_sessions(self) -> list[ExecutionSession]:
        """The sessions not yet ended, oldest first."""
        with self._lock:
            return sorted(self._sessions.values(), key=lambda s: (s.created_at, s.id))

    def views(self) -> list[ExecutionView]:
        """Running sessions, then the newest ended ones, for the Execution pane."""
        # Here, not at the top: a backtest never builds a view, nor imports the snapshot.
        from engine.live.snapshot import ExecutionView

        with self._lock:
            running = sorted(self._sessions.values(), key=lambda s: (s.created_at, s.id))
            ended = [s for s in reversed(self._recent) if s.id not in self._sessions]
            ordered = running + ended
            return [ExecutionView(
                id=s.id, kind=s.kind, symbol=s.symbol, side=s.side, parts_done=s.parts_done,
                parts_total=len(s.parts), filled_qty=s.filled_qty, total_qty=s.total_qty,
                avg_price=s.avg_price, arrival_price=s.arrival_price, status=s.status,
            ) for s in ordered]

    def quality(
        self, session_id: str, bars: Iterable[Bar] = (),
        bars_between: Callable[[datetime, datetime], Iterable[Bar]] | None = None,
    ) -> ExecutionQuality | None:
        """Implementation shortfall of a session, and for given bars the market VWAP over
        its window (first due time to the last stored fill). `bars_between(start, end)`,
        if given, supplies only the window's bars (a long backtest has many sessions)."""
        with self._lock:
            s = self._known(session_id)
            if s is None:
                return None
            return self.quality_of(s, bars, bars_between)

    def quality_of(
        self, s: ExecutionSession, bars: Iterable[Bar] = (),
        bars_between: Callable[[datetime, datetime], Iterable[Bar]] | None = None,
    ) -> ExecutionQuality:
        """`quality` of a session already in hand (no second read of its rows)."""
        with self._lock:
            end = max([f[3] for p in s.parts for f in p.fills] + [p.due for p in s.parts])
        if bars_between is not None:
            bars = list(bars_between(s.created_at, end))
        return session_quality(
            side=s.side, arrival_price=s.arrival_price, avg_price=s.avg_price,
            filled_qty=s.filled_qty, start=s.created_at, end=end, bars=bars,
            with_vwap=s.kind == "vwap" or bool(bars),
        )

    def _outside_transaction(self) -> None:
        """Every broker call comes after its intent is committed: a transaction still open
        here would send an order the database does not yet hold (lost on a crash or a
        rollback) and keep SQLite's write lock across the network."""
        if self._store.transaction_open():  # waits for another thread's unit to end
            raise BrokerCallInTransaction(
                "a broker call inside an open store transaction: commit the intent first")

    def _audit(self, kind: str, payload: dict, actor: str = "engine") -> None:
        self._store.audit(kind, actor, payload)


def _sqlite(store: Any) -> ExecutionStore:
    from engine.adapters.sqlite.execution_store import SqliteExecutionStore

    return SqliteExecutionStore(store)


def _order_row(order: OrderRequest, session_id: str, status: str) -> dict:
    return {
        "client_order_id": order.client_order_id, "symbol": order.symbol,
        "side": str(order.side), "type": str(order.type), "qty": order.qty,
        "limit_price": order.limit_price, "status": status, "strategy": order.strategy,
        "reason": order.reason, "session_id": session_id, "ref_price": order.ref_price,
    }


def _order_payload(order: OrderRequest, session_id: str, part_no: int) -> dict:
    return {
        "session_id": session_id, "part_no": part_no,
        "client_order_id": order.client_order_id, "symbol": order.symbol,
        "side": str(order.side), "type": str(order.type), "qty": order.qty,
        "limit_price": order.limit_price, "ref_price": order.ref_price,
    }


def _fill_row(fill: Fill) -> dict:
    return {
        "trade_id": fill.trade_id, "client_order_id": fill.client_order_id,
        "symbol": fill.symbol, "side": str(fill.side), "qty": fill.qty, "price": fill.price,
        "fee": fill.fee, "ts": fill.ts,
    }


def _fill_payload(fill: Fill, session_id: str, part_no: int) -> dict:
    return {
        "session_id": session_id, "part_no": part_no,
        "client_order_id": fill.client_order_id, "trade_id": fill.trade_id,
        "symbol": fill.symbol, "side": str(fill.side), "qty": fill.qty, "price": fill.price,
        "fee": fill.fee, "ts": fill.ts,
    }
