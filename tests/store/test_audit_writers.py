"""Several processes append to one audit log: the head is read inside each write
transaction, so their entries interleave into one valid chain and nobody's append fails."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from store.audit_verify import verify_db
from store.db import Store

WRITER = textwrap.dedent(
    """
    import sys
    from store.db import Store

    db, key, name, count, every = sys.argv[1:6]
    store = Store.open(db, audit_key_path=key, checkpoint_every=int(every),
                       busy_timeout_ms=30000)
    for i in range(int(count)):
        store.audit.append("backtest.completed", "engine", {"writer": name, "i": i})
    store.close()
    print("done", name)
    """
)


def test_processes_appending_at_once_build_one_valid_chain(tmp_path: Path) -> None:
    db, key = tmp_path / "desk.db", tmp_path / "audit.pem"
    # A long-lived store opened first, as the desk is: its head is stale once the others
    # append, and its next append must still land on top of theirs.
    desk = Store.open(db, audit_key_path=key, checkpoint_every=7)
    desk.audit.append("engine.started", "system", {})
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), str(db), str(key), f"w{n}", "40", str(every)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        for n, every in enumerate((7, 7, 5))  # one writer runs another cadence
    ]
    ours = 0
    while any(w.poll() is None for w in writers) or ours < 40:  # interleave with them
        desk.audit.append("order.filled", "engine", {"i": ours})
        ours += 1
    results = [w.communicate(timeout=120) for w in writers]
    assert [w.returncode for w in writers] == [0, 0, 0], [err for _, err in results]
    desk.audit.append("engine.stopped", "system", {})
    desk.close()

    result = verify_db(db, key_path=key, pubkey_b64=_pubkey(key))
    assert result.ok, result.summary()
    assert result.entries == 1 + ours + 40 * 3 + 1
    check = Store.open(db, audit_key_path=key)
    writers_seen = {e.payload.get("writer") for e in check.audit.tail(result.entries)}
    check.close(checkpoint=False)
    assert writers_seen == {None, "w0", "w1", "w2"}


def _pubkey(key: Path) -> str:
    from store.signing import AuditSigner

    return AuditSigner(key).public_key_b64()
