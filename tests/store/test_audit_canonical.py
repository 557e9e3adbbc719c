"""The canonical JSON of audit entries: the bytes the public contract hashes."""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store.canonical import (
    GENESIS_HASH,
    canonical_dumps,
    entry_hash,
    entry_json,
    normalize_payload,
    utc_iso,
)


def reference_json(seq, ts, kind, actor, payload, prev_hash) -> str:
    body = {"seq": seq, "ts": ts, "kind": kind, "actor": actor, "payload": payload,
            "prev_hash": prev_hash}  # fmt: skip
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200)
@given(
    seq=st.integers(min_value=1, max_value=2**53),
    ts=st.text(),
    kind=st.text(),
    actor=st.text(),
    payload=st.dictionaries(st.text(), json_values, max_size=4),
    prev_hash=st.text(),
)
def test_concatenated_entry_json_equals_json_dumps(seq, ts, kind, actor, payload, prev_hash):
    # Any text: quotes, backslashes, control characters, U+2028, astral planes:
    # the concatenation must equal json.dumps byte for byte.
    payload_json = canonical_dumps(payload)
    built = entry_json(seq, ts, kind, actor, payload_json, prev_hash)
    assert built == reference_json(seq, ts, kind, actor, payload, prev_hash)


def test_escaping_edge_cases_match_json_dumps():
    for text in ['"', "\\", "\n\t\r\b\f", "\x00\x1f\x7f", "\u2028\u2029", "é😀", "</script>"]:
        built = entry_json(7, text, text, text, canonical_dumps({text: text}), text)
        assert built == reference_json(7, text, text, text, {text: text}, text)


def test_entry_hash_is_sha256_of_utf8_canonical_json():
    payload = {"price": "43000.5", "qty": "0.001", "symbol": "BTC/USDT", "note": "entrée"}
    ts = "2026-11-22T04:05:18.123456Z"
    expected = hashlib.sha256(
        reference_json(1, ts, "order.filled", "engine", payload, GENESIS_HASH).encode("utf-8")
    ).hexdigest()
    got = entry_hash(1, ts, "order.filled", "engine", canonical_dumps(payload), GENESIS_HASH)
    assert got == expected
    assert len(got) == 64 and got == got.lower()


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Side(enum.StrEnum):
    BUY = "buy"


def test_numbers_that_are_not_integers_become_decimal_strings():
    payload = normalize_payload(
        {
            "float": 0.1,
            "big": 1e20,
            "tiny": 5e-324,
            "dec": Decimal("43000.50"),
            "int": 12,
            "bool": True,
            "none": None,
            "nested": {"list": [1.5, (2.25, Decimal("-0"))]},
        }
    )
    assert payload == {
        "float": "0.1",
        "big": "1E+20",
        "tiny": "5E-324",
        "dec": "43000.50",
        "int": 12,
        "bool": True,
        "none": None,
        "nested": {"list": ["1.5", ["2.25", "-0"]]},
    }
    assert "." not in canonical_dumps({k: v for k, v in payload.items() if isinstance(v, int)})


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_round_trips_through_its_string(x):
    text = normalize_payload({"x": x})["x"]
    assert isinstance(text, str)
    assert float(text) == x  # the shortest repr keeps the exact double


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), Decimal("NaN"),
                                 Decimal("Infinity")])  # fmt: skip
def test_non_finite_numbers_are_rejected_naming_the_key(bad):
    with pytest.raises(ValueError, match=r"payload\.legs\[1\]\.price"):
        normalize_payload({"legs": [{}, {"price": bad}]})


def test_unsupported_values_and_keys_are_rejected():
    with pytest.raises(TypeError, match=r"payload\.when: date"):
        normalize_payload({"when": datetime(2026, 1, 1).date()})
    with pytest.raises(ValueError, match="key 1"):
        normalize_payload({"a": {1: "x"}})
    with pytest.raises(TypeError, match="mapping"):
        normalize_payload(["not", "a", "dict"])  # type: ignore[arg-type]


def test_datetimes_and_enums():
    eastern = timezone(timedelta(hours=-5))
    payload = normalize_payload(
        {
            "aware": datetime(2026, 11, 21, 23, 5, 18, 123456, tzinfo=eastern),
            "naive": datetime(2026, 11, 22, 4, 5, 18),
            "colour": Colour.RED,
            "level": Level.HIGH,
            "side": Side.BUY,
        }
    )
    assert payload["aware"] == "2026-11-22T04:05:18.123456Z"
    assert payload["naive"] == "2026-11-22T04:05:18.000000Z"  # naive is taken as UTC
    assert payload["colour"] == "red" and type(payload["level"]) is int
    assert type(payload["side"]) is str
    assert canonical_dumps(payload).count('"level":3') == 1


def test_utc_iso_has_microseconds_and_z():
    assert utc_iso(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"


def test_utc_now_iso_is_now_in_the_entry_format():
    from datetime import UTC, datetime

    from store.canonical import utc_iso, utc_now_iso

    before = datetime.now(UTC)
    text = utc_now_iso()
    after = datetime.now(UTC)
    parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert before <= parsed <= after
    assert utc_iso(parsed) == text
