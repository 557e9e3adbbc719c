"""One desk per database: the instance lock."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from store.instance_lock import DatabaseInUse, InstanceLock


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path):
    db = tmp_path / "desk.db"
    with InstanceLock.acquire(db):
        with pytest.raises(DatabaseInUse, match=f"another desk \\(PID {os.getpid()}\\)"):
            InstanceLock.acquire(db)
    with InstanceLock.acquire(db):  # released: free again
        pass
    assert stat.S_IMODE(os.stat(tmp_path / "desk.db.lock").st_mode) == 0o600


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    db = tmp_path / "desk.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from store.instance_lock import InstanceLock;"
         f" InstanceLock.acquire({str(db)!r}); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, cwd=os.getcwd(),
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(DatabaseInUse, match=f"PID {holder.pid}"):
            InstanceLock.acquire(db)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    InstanceLock.acquire(db).release()
