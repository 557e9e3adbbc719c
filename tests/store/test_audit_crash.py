"""A writer killed with SIGKILL mid-batch leaves a valid chain made of whole batches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from store.audit_verify import verify_db
from store.db import Store

BATCH = 500

WRITER = textwrap.dedent(
    """
    import sys
    from store.db import Store

    store = Store.open(sys.argv[1], audit_key_path=sys.argv[2], checkpoint_every=1000)
    batch = int(sys.argv[3])
    while True:
        with store.unit_of_work():
            for i in range(batch):
                store.audit.append("order.filled", "engine", {"i": i, "qty": 0.25})
        print(store.audit.head[0], flush=True)
    """
)


def test_sigkill_mid_run_leaves_whole_batches(tmp_path):
    db, key = tmp_path / "desk.db", tmp_path / "audit.pem"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(key), str(BATCH)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        committed = [int(proc.stdout.readline()) for _ in range(4)]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert committed == [BATCH, 2 * BATCH, 3 * BATCH, 4 * BATCH]
    result = verify_db(db, key_path=key)
    assert result.ok, result.failure
    assert result.entries >= 4 * BATCH and result.entries % BATCH == 0
    # The store reopens on the surviving head and carries on.
    store = Store.open(db, audit_key_path=key)
    assert store.audit.head[0] == result.entries
    store.audit.append("engine.started", "system", {"after": "crash"})
    store.close()
    assert verify_db(db, key_path=key).entries == result.entries + 1
