"""The virtual portfolio: a named book of trades in several asset types, exported and merged
without double counting.

- Asset types: crypto, stock, etf, forex, option, future. Each trade carries a multiplier
  (units of the underlying per unit of quantity): 1 unless given, 100 by default for an
  option; a future must state its own. Money = qty x price x multiplier.
- Trades are the only truth. Positions (quantity, average price, realized P&L, fees) are
  recomputed from them, never imported as numbers: merging two exports that hold the same
  trade must not count it twice.
- A trade's `uid` is unique within a portfolio: "<origin>:<trade id>", where origin is the
  portfolio the trade was first recorded in. Importing keeps the uid, so a trade that came
  back through a second export is recognised and skipped.
- Exports are JSON ({"format": "desk.virtual_portfolio/1", ...}) or CSV (one row per
  record, `record` = trade or allocation). Money and quantities are decimal strings.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.portfolio.errors import PortfolioInputError

FORMAT = "desk.virtual_portfolio/1"
ASSET_TYPES = ("crypto", "stock", "etf", "forex", "option", "future")
DEFAULT_MULTIPLIER = {"option": Decimal(100)}
TRADE_FIELDS = ("uid", "ts", "symbol", "asset_type", "side", "qty", "price", "fee",
                "multiplier", "strategy")


@dataclass(frozen=True)
class VirtualTrade:
    uid: str
    ts: str  # ISO 8601 UTC
    symbol: str
    asset_type: str
    side: str  # "buy" or "sell"
    qty: Decimal
    price: Decimal
    fee: Decimal
    multiplier: Decimal
    strategy: str = ""


@dataclass(frozen=True)
class Allocation:
    ts: str
    weights: dict[str, float]
    source: str  # the portfolio (or run) that recorded it


@dataclass(frozen=True)
class Position:
    symbol: str
    asset_type: str
    qty: Decimal
    avg_price: Decimal
    multiplier: Decimal
    realized_pnl: Decimal
    fees: Decimal


def make_trade(*, uid: str, ts: str, symbol: str, asset_type: str, side: str, qty: Any,
               price: Any, fee: Any = "0", multiplier: Any = None, strategy: str = "",
               where: str = "trade") -> VirtualTrade:
    """A checked trade; every problem is one line naming `where` and the field."""
    if asset_type not in ASSET_TYPES:
        raise PortfolioInputError(
            f"{where}: asset_type: expected one of {', '.join(ASSET_TYPES)}, got {asset_type}")
    if side not in ("buy", "sell"):
        raise PortfolioInputError(f"{where}: side: expected buy or sell, got {side}")
    if not uid:
        raise PortfolioInputError(f"{where}: uid: missing")
    if multiplier in (None, ""):
        if asset_type == "future":
            raise PortfolioInputError(f"{where}: multiplier: a future must state its own")
        multiplier = DEFAULT_MULTIPLIER.get(asset_type, Decimal(1))
    values = {}
    for name, raw in (("qty", qty), ("price", price), ("fee", fee), ("multiplier", multiplier)):
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise PortfolioInputError(f"{where}: {name}: not a number: {raw}") from None
        if not value.is_finite() or value < 0 or (name in ("qty", "multiplier") and value == 0):
            raise PortfolioInputError(f"{where}: {name}: expected a positive number, got {raw}")
        values[name] = value
    return VirtualTrade(uid, ts, symbol, asset_type, side, values["qty"], values["price"],
                        values["fee"], values["multiplier"], strategy)


def positions(trades: Iterable[VirtualTrade]) -> dict[str, Position]:
    """Positions from trades in time order: average cost, realized P&L, fees (long and
    short, multiplier-aware; a trade that crosses zero closes, then opens the rest)."""
    book: dict[str, Position] = {}
    for trade in sorted(trades, key=lambda t: (t.ts, t.uid)):
        old = book.get(trade.symbol) or Position(trade.symbol, trade.asset_type, Decimal(0),
                                                  Decimal(0), trade.multiplier, Decimal(0),
                                                  Decimal(0))
        signed = trade.qty if trade.side == "buy" else -trade.qty
        qty, avg, realized = old.qty, old.avg_price, old.realized_pnl
        if qty == 0 or (qty > 0) == (signed > 0):  # opening or adding
            new_qty = qty + signed
            avg = (avg * abs(qty) + trade.price * abs(signed)) / abs(new_qty)
        else:  # reducing, closing, maybe reversing
            closed = min(abs(signed), abs(qty))
            direction = 1 if qty > 0 else -1
            realized += (trade.price - avg) * closed * direction * trade.multiplier
            new_qty = qty + signed
            if new_qty == 0:
                avg = Decimal(0)
            elif (new_qty > 0) != (qty > 0):
                avg = trade.price
        book[trade.symbol] = Position(trade.symbol, trade.asset_type, new_qty, avg,
                                      trade.multiplier, realized, old.fees + trade.fee)
    return book


@dataclass(frozen=True)
class MergeOutcome:
    added: list[VirtualTrade]
    duplicates: int
    allocations_added: list[Allocation]


def merge(existing_uids: set[str], existing_allocations: set[tuple[str, str]],
          trades: Iterable[VirtualTrade], allocations: Iterable[Allocation]) -> MergeOutcome:
    """What an import adds: trades whose uid is new (also within the file), allocations
    whose (ts, source) is new."""
    seen, added, duplicates = set(existing_uids), [], 0
    for trade in trades:
        if trade.uid in seen:
            duplicates += 1
            continue
        seen.add(trade.uid)
        added.append(trade)
    keys, new_allocations = set(existing_allocations), []
    for allocation in allocations:
        key = (allocation.ts, allocation.source)
        if key not in keys:
            keys.add(key)
            new_allocations.append(allocation)
    return MergeOutcome(added, duplicates, new_allocations)


def _trade_row(trade: VirtualTrade) -> dict[str, str]:
    row = asdict(trade)
    return {k: str(v) for k, v in row.items()}


def export_json(name: str, trades: list[VirtualTrade], allocations: list[Allocation]) -> str:
    book = positions(trades)
    document = {
        "format": FORMAT, "name": name,
        "positions": [{k: str(v) for k, v in asdict(p).items()} for p in book.values()],
        "trades": [_trade_row(t) for t in sorted(trades, key=lambda t: (t.ts, t.uid))],
        "allocations": [asdict(a) for a in allocations],
    }
    return json.dumps(document, indent=2) + "\n"


def export_csv(name: str, trades: list[VirtualTrade], allocations: list[Allocation]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, ["record", "portfolio", *TRADE_FIELDS, "weights", "source"],
                            lineterminator="\n")
    writer.writeheader()
    for trade in sorted(trades, key=lambda t: (t.ts, t.uid)):
        writer.writerow({"record": "trade", "portfolio": name, **_trade_row(trade)})
    for allocation in allocations:
        writer.writerow({"record": "allocation", "portfolio": name, "ts": allocation.ts,
                         "weights": json.dumps(allocation.weights, sort_keys=True),
                         "source": allocation.source})
    return out.getvalue()


def read_export(text: str, path: str) -> tuple[str, list[VirtualTrade], list[Allocation]]:
    """(name, trades, allocations) from a JSON or CSV export; one line naming the record on
    any problem. Positions in the file are ignored: they are recomputed from the trades."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise PortfolioInputError(f"{path}: not JSON: line {error.lineno}: {error.msg}"
                                      ) from None
        if document.get("format") != FORMAT:
            raise PortfolioInputError(f"{path}: format: expected {FORMAT},"
                                      f" got {document.get('format')}")
        rows = [("trade", r) for r in document.get("trades", [])]
        rows += [("allocation", r) for r in document.get("allocations", [])]
        name = str(document.get("name", ""))
    else:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "record" not in reader.fieldnames:
            raise PortfolioInputError(f"{path}: not a virtual portfolio export (no record"
                                      " column)")
        records = list(reader)
        rows = [(r["record"], r) for r in records]
        name = records[0].get("portfolio", "") if records else ""
    trades, allocations = [], []
    for number, (kind, row) in enumerate(rows, start=1):
        where = f"{path}: {kind} #{number}"
        if kind == "trade":
            trades.append(make_trade(where=where, **{k: row.get(k) or "" for k in
                                                     TRADE_FIELDS if k in row} |
                                     {"multiplier": row.get("multiplier") or None}))
        elif kind == "allocation":
            weights = row.get("weights")
            if isinstance(weights, str):
                try:
                    weights = json.loads(weights)
                except json.JSONDecodeError:
                    raise PortfolioInputError(f"{where}: weights: not JSON") from None
            if not isinstance(weights, dict):
                raise PortfolioInputError(f"{where}: weights: expected an object")
            allocations.append(Allocation(str(row.get("ts", "")), {
                str(k): float(v) for k, v in weights.items()}, str(row.get("source", ""))))
        else:
            raise PortfolioInputError(f"{where}: record: expected trade or allocation")
    return name, trades, allocations
