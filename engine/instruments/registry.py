"""Symbol (+ optional settings) -> Instrument.

Without settings a symbol is read from its shape:
- a pair of fiat currencies (EUR/USD, USD/JPY) is a forex pair;
- an OCC option symbol (AAPL251219C00150000, root padded or not) is an option on the
  root, 100 shares a contract, American;
- anything else is spot with multiplier 1 (BTC/USDT: base BTC, quote USDT; a symbol with
  no "/" is quoted in USD). So every symbol Desk traded before keeps its arithmetic.

Settings (a mapping, e.g. one table of a TOML file) override or complete that reading:
`kind` (spot, stock, etf, forex, option, future), `quote`, `base`, `tick_size`, `lot_size`,
`multiplier`, and for options `underlying`, `strike`, `expiry` (YYYY-MM-DD), `right`
(call/put), `style` (american/european); for futures `underlying` and `expiry`. Unknown
keys and bad values stop with one line naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.instruments import forex
from engine.instruments.errors import InstrumentError, InstrumentSettingError
from engine.instruments.model import (
    Etf,
    ExerciseStyle,
    ForexPair,
    Future,
    Instrument,
    Kind,
    Option,
    OptionRight,
    Spot,
    Stock,
)

_OCC = re.compile(r"^([A-Z][A-Z0-9.]{0,5})\s*(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")
_COMMON = ("kind", "quote", "tick_size", "lot_size", "multiplier")
_KEYS: dict[Kind, tuple[str, ...]] = {
    Kind.SPOT: (*_COMMON, "base"),
    Kind.STOCK: _COMMON,
    Kind.ETF: _COMMON,
    Kind.FOREX: (*_COMMON, "base"),
    Kind.OPTION: (*_COMMON, "underlying", "strike", "expiry", "right", "style"),
    Kind.FUTURE: (*_COMMON, "underlying", "expiry"),
}
_CLASSES: dict[Kind, type[Instrument]] = {
    Kind.SPOT: Spot, Kind.STOCK: Stock, Kind.ETF: Etf, Kind.FOREX: ForexPair,
    Kind.OPTION: Option, Kind.FUTURE: Future,
}


def instrument_for(symbol: str, settings: Mapping[str, Any] | None = None,
                   where: str = "instruments") -> Instrument:
    """The instrument `symbol` names; `settings` override what its shape says. Errors name
    `where`."symbol".key."""
    fields = _from_shape(symbol)
    shape_kind = fields.pop("kind")
    settings = settings or {}
    place = f'{where}."{symbol}"'
    kind = _parse(place, "kind", settings["kind"], _kind) if "kind" in settings \
        else shape_kind
    if kind is not shape_kind:
        # A kind set by hand: the shape's reading of another kind does not apply.
        fields = {k: v for k, v in fields.items() if k == "quote"}
    allowed = _KEYS[kind]
    for key, raw in settings.items():
        if key not in allowed:
            raise InstrumentSettingError(place, key, f"unknown key for a {kind} "
                                         f"(known: {', '.join(allowed)})")
        if key != "kind":
            fields[key] = _parse(place, key, raw, _PARSERS[key])
    if kind in (Kind.OPTION, Kind.FUTURE):
        missing = [k for k in ("underlying", "expiry", "strike", "right")
                   if k in allowed and k not in fields]
        if missing:
            raise InstrumentSettingError(place, "", f"a {kind} needs {', '.join(missing)}")
    try:
        return _CLASSES[kind](symbol=symbol, **fields)
    except InstrumentError as error:
        raise InstrumentSettingError(place, "", str(error)) from None


def _from_shape(symbol: str) -> dict[str, Any]:
    text = symbol.strip().upper()
    occ = _OCC.match(text)
    if occ:
        root, yy, mm, dd, right, strike = occ.groups()
        try:
            expiry = date(2000 + int(yy), int(mm), int(dd))
        except ValueError:
            raise InstrumentError(f"{symbol}: option symbol has no valid date") from None
        return {"kind": Kind.OPTION, "underlying": root, "quote": "USD", "expiry": expiry,
                "right": OptionRight.CALL if right == "C" else OptionRight.PUT,
                "strike": Decimal(strike) / 1000}
    if "/" in text:
        base, _, quote = text.partition("/")
        quote = quote.split(":")[0]  # a derivative's settle currency (BTC/USDT:USDT)
        if base in forex.FIAT and quote in forex.FIAT and base != quote:
            tick = forex.pip_size(quote) / 10  # quotes carry a fractional pip
            return {"kind": Kind.FOREX, "base": base, "quote": quote, "tick_size": tick}
        return {"kind": Kind.SPOT, "base": base, "quote": quote}
    return {"kind": Kind.SPOT, "base": text, "quote": "USD"}


def _parse(place: str, key: str, raw: Any, parser: Callable[[Any], Any]) -> Any:
    try:
        return parser(raw)
    except (ValueError, TypeError, InvalidOperation, KeyError) as error:
        expected = str(error) if isinstance(error, ValueError) and str(error) else "a value"
        raise InstrumentSettingError(place, key, f"expected {expected}, got {raw!r}") from None


def _kind(raw: Any) -> Kind:
    try:
        return Kind(str(raw).lower())
    except ValueError:
        raise ValueError(f"one of {', '.join(k.value for k in Kind)}") from None


def _positive(raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise ValueError("a number > 0")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError("a number > 0") from None
    if not value.is_finite() or value <= 0:
        raise ValueError("a number > 0")
    return value


def _currency(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip() or not raw.strip().isalnum():
        raise ValueError("a currency or asset code such as USD")
    return raw.strip().upper()


def _name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("a symbol")
    return raw.strip()


def _date(raw: Any) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise ValueError("a date YYYY-MM-DD") from None


def _enum(enum_type: type) -> Callable[[Any], Any]:
    def parse(raw: Any) -> Any:
        try:
            return enum_type(str(raw).lower())
        except ValueError:
            raise ValueError(f"one of {', '.join(e.value for e in enum_type)}") from None
    return parse


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "quote": _currency, "base": _currency, "tick_size": _positive, "lot_size": _positive,
    "multiplier": _positive, "underlying": _name, "strike": _positive, "expiry": _date,
    "right": _enum(OptionRight), "style": _enum(ExerciseStyle),
}


class Instruments:
    """Symbol -> Instrument for a run: the configured ones ([instruments] in desk.toml), and
    any other symbol read from its shape (spot with multiplier 1 unless it is a fiat pair or
    an OCC option symbol). Built once; lookups are cached."""

    def __init__(self, settings: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._settings = dict(settings or {})
        self._cache: dict[str, Instrument] = {
            symbol: instrument_for(symbol, table) for symbol, table in self._settings.items()}

    def __getitem__(self, symbol: str) -> Instrument:
        found = self._cache.get(symbol)
        if found is None:
            found = self._cache[symbol] = instrument_for(symbol)
        return found

    def multiplier(self, symbol: str) -> Decimal:
        return self[symbol].multiplier
