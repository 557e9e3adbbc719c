"""Audit log speed: appends/s (1000 per transaction), verify entries/s, export peak memory.

    python benchmarks/audit.py [--entries N]

Targets: >= 50,000 appends/s, >= 300,000 verified entries/s, export memory flat in N.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

from store.audit_export import export_audit
from store.audit_verify import verify_db, verify_export
from store.db import Store

BATCH = 1000


def build(db: Path, key: Path, entries: int) -> float:
    store = Store.open(db, audit_key_path=key, checkpoint_every=1000)
    store.audit.checkpoint()  # create the key outside the timed loop
    payload = {"symbol": "BTC/USDT", "side": "buy", "strategy": "sma_cross"}
    start = time.perf_counter()
    done = 0
    while done < entries:
        with store.unit_of_work():
            for i in range(min(BATCH, entries - done)):
                store.audit.append(
                    "order.filled",
                    "engine",
                    {**payload, "qty": Decimal("0.015"), "price": 43000.5 + i, "n": done + i},
                )
        done += BATCH
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.entries
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        db, key = base / "bench.db", base / "audit.pem"
        elapsed = build(db, key, n)
        print(f"entries            {n:,}")
        print(f"append             {n / elapsed:,.0f} entries/s  (batches of {BATCH})")
        print(f"database size      {os.path.getsize(db) / 1e6:,.1f} MB")

        start = time.perf_counter()
        result = verify_db(db, key_path=key)
        elapsed = time.perf_counter() - start
        assert result.ok, result.summary()
        print(f"verify db          {n / elapsed:,.0f} entries/s  ({result.summary()})")

        out = base / "audit.jsonl"
        start = time.perf_counter()
        export_audit(db, out, key_path=key)
        elapsed = time.perf_counter() - start
        print(f"export jsonl       {n / elapsed:,.0f} entries/s  "
              f"({os.path.getsize(out) / 1e6:,.1f} MB file)")  # fmt: skip
        # Again under tracemalloc (which slows allocation, so not timed): the peak Python
        # heap of a streamed export does not grow with the number of entries.
        tracemalloc.start()
        export_audit(db, base / "again.jsonl", key_path=key)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"export peak memory {peak / 1e6:,.2f} MB (tracemalloc, Python heap)")

        start = time.perf_counter()
        result = verify_export(out)
        elapsed = time.perf_counter() - start
        assert result.ok, result.summary()
        print(f"verify export      {n / elapsed:,.0f} entries/s")
        max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        print(f"process max RSS    {max_rss:,.0f} MB")


if __name__ == "__main__":
    main()
