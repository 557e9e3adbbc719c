"""Execution sessions and their parts, and the deterministic child client order ids.

A child's client order id is a function of (session, part, attempt) only, so a restart that
replays an intent produces the same id and the broker's duplicate check (or a lookup by
that id) tells whether it was already placed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

PART_STATES = ("pending", "submitted", "unknown", "filled", "failed", "skipped", "cancelled")
FINAL_PART_STATES = frozenset({"filled", "failed", "skipped", "cancelled"})
SESSION_STATES = ("running", "done", "cancelled", "failed")

_SAFE = re.compile(r"[A-Za-z0-9_-]{1,20}\Z")
_CHILD = re.compile(r"-p(\d{3})-a(\d+)\Z")
MAX_CLIENT_ID = 36  # Binance's limit on newClientOrderId, the strictest common venue


def session_id_for(parent_client_order_id: str) -> str:
    """`S-<parent id>`, or `S-<12 hex of its sha256>` when the parent id is long or holds
    characters an exchange would refuse, so that every child id stays <= 36 characters."""
    if not parent_client_order_id:
        raise ValueError("the parent order needs a client order id")
    if _SAFE.match(parent_client_order_id):
        return f"S-{parent_client_order_id}"
    return "S-" + hashlib.sha256(parent_client_order_id.encode()).hexdigest()[:12]


def child_order_id(session_id: str, part_no: int, attempt: int) -> str:
    cid = f"{session_id}-p{part_no:03d}-a{attempt}"
    if len(cid) > MAX_CLIENT_ID:
        raise ValueError(f"child client order id {cid!r} is longer than {MAX_CLIENT_ID}")
    return cid


@lru_cache(maxsize=256)  # a fill's id is parsed three times on its way to the books
def parse_child_id(cid: str) -> tuple[str, int, int] | None:
    """(session id, part number, attempt) of a child id, None for any other order."""
    m = _CHILD.search(cid)
    if m is None or not cid.startswith("S-"):
        return None
    return cid[: m.start()], int(m.group(1)), int(m.group(2))


@dataclass(slots=True)
class Part:
    part_no: int  # from 1
    due: datetime
    qty: Decimal
    status: str = "pending"
    attempt: int = 0  # 0 until first submitted
    client_order_id: str = ""  # of the current attempt
    filled_qty: Decimal = Decimal(0)
    avg_price: Decimal | None = None
    order_type: str = "market"  # type of the current attempt ("market" after a fallback)
    rejected: int = 0  # definite rejections so far: the fallback is tried after the first
    note: str = ""
    # The fills of this part's children the store accepted (once per trade id), in the
    # order it stored them: (client order id, qty, price, UTC time). The part's figures are
    # computed from these, so a fill needs no read back from the store.
    fills: list[tuple[str, Decimal, Decimal, datetime]] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.status in FINAL_PART_STATES


@dataclass(slots=True)
class ExecutionSession:
    id: str
    kind: str  # "market" | "smart" | "twap" | "vwap" | "dca"
    symbol: str
    side: str  # "buy" | "sell"
    total_qty: Decimal
    arrival_price: Decimal | None
    parent_client_order_id: str
    created_at: datetime
    params: dict = field(default_factory=dict)  # schedule parameters + parent order details
    parts: list[Part] = field(default_factory=list)
    status: str = "running"
    note: str = ""

    @property
    def filled_qty(self) -> Decimal:
        return sum((p.filled_qty for p in self.parts), Decimal(0))

    @property
    def avg_price(self) -> Decimal | None:
        notional = sum(
            (p.filled_qty * p.avg_price for p in self.parts if p.avg_price is not None),
            Decimal(0),
        )
        filled = self.filled_qty
        return notional / filled if filled else None

    @property
    def parts_done(self) -> int:
        """Parts filled (what the Execution pane's progress counts: a cancelled or skipped
        part is over, but not done)."""
        return sum(1 for p in self.parts if p.status == "filled")

    def part(self, part_no: int) -> Part:
        return self.parts[part_no - 1]
