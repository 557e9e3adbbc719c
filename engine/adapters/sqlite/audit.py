"""Checking the audit chain the live engine writes to."""

from __future__ import annotations

from typing import Any

from store.audit_verify import verify_range
from store.db import Store


def verify_since(store: Store, seq: int) -> Any:
    """Re-hash the entries after `seq`; the result has `ok` and `last_seq`."""
    with store.lock:  # the writer connection: no half-written step is read
        return verify_range(store.conn, seq)
