"""A second `desk` on the same database exits at once with one line naming the first."""

from __future__ import annotations

import subprocess

from tests.desk.terminal import Terminal, audit_kinds, desk_command, desk_env, wait_for


def test_a_second_desk_on_one_database_exits_naming_the_holder(tmp_path):
    db = tmp_path / "desk.db"
    env = desk_env(tmp_path)
    desk = desk_command(db)
    first = Terminal(desk, env, tmp_path)
    try:
        wait_for(lambda: "engine.started" in audit_kinds(db), 30, "the first desk")
        before = audit_kinds(db)
        second = subprocess.run(desk, env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=30, stdin=subprocess.DEVNULL)
        assert second.returncode == 1
        lines = (second.stdout + second.stderr).strip().splitlines()
        assert len(lines) == 1, lines
        assert f"another desk (PID {first.process.pid})" in lines[0]
        after = audit_kinds(db)
        assert after[: len(before)] == before
        assert "engine.started" not in after[len(before):]  # the second one wrote nothing
        first.press("q")
        assert first.process.wait(timeout=30) == 0
    finally:
        if first.process.poll() is None:
            first.process.kill()
