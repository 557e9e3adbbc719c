"""Canonical JSON of the audit log: the exact bytes every entry hash and signature cover.

The public contract (documented in the README so a third party can verify an export):

- a payload is a JSON object whose non-integer numbers are decimal *strings* (never floats),
  so every verifier reads the same value whatever its float parser does;
- canonical JSON is `json.dumps(obj, sort_keys=True, separators=(",", ":"),
  ensure_ascii=False)`, hashed as UTF-8;
- an entry's hash is the lowercase hex SHA-256 of the canonical JSON of
  {"seq", "ts", "kind", "actor", "payload", "prev_hash"}.

`entry_json` builds that string by concatenation (no dict, no json.dumps of the payload,
which is already canonical in the database) because verification runs it once per entry;
a test proves it equal to json.dumps for arbitrary text.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from json.encoder import encode_basestring  # C-accelerated: what ensure_ascii=False uses
from typing import Any

GENESIS_HASH = "0" * 64


_PLAIN = frozenset({str, int, bool, type(None)})

# A prebuilt encoder: json.dumps(obj, sort_keys=True, separators=(",", ":"),
# ensure_ascii=False) without re-reading its keyword arguments on every call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_dumps(obj: Any) -> str:
    """The one JSON serialisation that hashes and signatures are computed over."""
    return _ENCODER.encode(obj)


def utc_iso(ts: datetime) -> str:
    """`2026-11-22T04:05:18.123456Z`. A naive datetime is taken as UTC (the engine's rule)."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.isoformat(timespec="microseconds") + "Z"


_SECOND: tuple[int, str] = (-1, "")  # (epoch second, its "YYYY-MM-DDTHH:MM:SS." text)


def utc_now_iso() -> str:
    """Now as `utc_iso` writes it. Every audit entry asks, so the text of the current second
    is kept and only the microseconds are formatted (a tuple swap: safe across threads)."""
    global _SECOND
    seconds, micros = divmod(time.time_ns() // 1000, 1_000_000)
    cached = _SECOND
    if cached[0] != seconds:
        cached = (seconds, datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S."))
        _SECOND = cached
    return f"{cached[1]}{micros:06d}Z"


def normalize_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A payload made of JSON-safe values only; numbers that are not integers become strings.

    Raises ValueError (NaN, infinity, non-string key) or TypeError (an unsupported type),
    naming the offending key path, e.g. `payload.fills[2].price`.
    """
    if not isinstance(payload, Mapping):
        raise TypeError(f"audit payload must be a mapping, got {type(payload).__name__}")
    return _normalize_mapping(payload, "payload")


def _normalize_mapping(value: Mapping[Any, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    plain = _PLAIN
    for key, item in value.items():
        if type(key) is not str:
            if not isinstance(key, str):
                raise ValueError(f"{path}: key {key!r} is not a string")
            key = str(key)
        # The common case costs one set lookup; the key path is only formatted on the
        # slow path (nested values, conversions, errors).
        out[key] = item if type(item) in plain else _normalize(item, path, key)
    return out


def _normalize(value: Any, parent: str, key: str | int) -> Any:
    kind = type(value)
    if kind is Decimal:
        if not value.is_finite():
            raise ValueError(f"{_path(parent, key)}: {value} is not a finite number")
        return str(value)
    if kind is float:
        if not math.isfinite(value):
            raise ValueError(f"{_path(parent, key)}: {value} is not a finite number")
        return str(Decimal(repr(value)))
    if kind in _PLAIN:
        return value
    # Subclasses: bool cannot be subclassed; StrEnum and IntEnum become plain values.
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Decimal):
        return _normalize(Decimal(value), parent, key)
    if isinstance(value, float):
        return _normalize(float(value), parent, key)
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, enum.Enum):
        return _normalize(value.value, parent, key)
    if isinstance(value, Mapping):
        return _normalize_mapping(value, _path(parent, key))
    if isinstance(value, list | tuple):
        here = _path(parent, key)
        return [_normalize(item, here, i) for i, item in enumerate(value)]
    raise TypeError(f"{_path(parent, key)}: {kind.__name__} is not allowed in an audit payload")


def _path(parent: str, key: str | int) -> str:
    return f"{parent}[{key}]" if isinstance(key, int) else f"{parent}.{key}"


def entry_json(seq: int, ts: str, kind: str, actor: str, payload_json: str, prev_hash: str) -> str:
    """Canonical JSON of an entry's hashed fields; `payload_json` must already be canonical.

    Keys in sorted order: actor, kind, payload, prev_hash, seq, ts.
    """
    return (
        '{"actor":'
        + encode_basestring(actor)
        + ',"kind":'
        + encode_basestring(kind)
        + ',"payload":'
        + payload_json
        + ',"prev_hash":'
        + encode_basestring(prev_hash)
        + ',"seq":'
        + str(seq)
        + ',"ts":'
        + encode_basestring(ts)
        + "}"
    )


def entry_hash(seq: int, ts: str, kind: str, actor: str, payload_json: str, prev_hash: str) -> str:
    data = entry_json(seq, ts, kind, actor, payload_json, prev_hash).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def checkpoint_json(seq: int, hash_: str, ts: str, every: int | None = None) -> str:
    """The bytes a checkpoint signature covers: canonical JSON of {"seq","hash","ts"}, plus
    "every" (the checkpoint cadence from this entry on) for checkpoints stored in the
    database, so the cadence verify enforces is signed and cannot be changed quietly."""
    if every is None:
        return canonical_dumps({"seq": seq, "hash": hash_, "ts": ts})
    return canonical_dumps({"seq": seq, "hash": hash_, "ts": ts, "every": every})
