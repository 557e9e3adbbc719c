"""The README tells the truth: its quick start is what CI runs, and its standalone audit
verifier (plain Python, none of our code) accepts our export and rejects a tampered one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from store.audit_export import export_audit
from store.db import Store

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, re.S)


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [b.strip() for b in re.findall(r"```sh\n(.*?)```", quick, re.S)]
    assert len(commands) == 2
    assert commands[0].endswith("desk")
    assert "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines()


def test_the_readme_verifier_accepts_an_export_and_names_a_tampered_entry(tmp_path):
    recipe = next(b for b in re.findall(r"```python\n(.*?)```", README, re.S)
                  if "def verify(" in b)
    script = tmp_path / "verify_export.py"
    script.write_text(recipe, encoding="utf-8")
    key = tmp_path / "key.pem"
    store = Store.open(tmp_path / "desk.db", audit_key_path=key)
    with store.unit_of_work():
        for n in range(12):
            store.audit.append("order.filled", "engine",
                               {"n": n, "price": 101.25 + n, "symbol": "BTC/USDT", "note": "é"})
    public_key = store.audit.public_key_b64()
    store.close()
    out = tmp_path / "audit.jsonl"
    export_audit(tmp_path / "desk.db", out, key_path=key)

    ok = subprocess.run([sys.executable, str(script), str(out), public_key],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "12 entries valid"

    lines = out.read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[5])
    entry["payload"]["price"] = "999"
    lines[5] = json.dumps(entry)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = subprocess.run([sys.executable, str(script), str(out), public_key],
                         capture_output=True, text=True)
    assert bad.returncode != 0
    assert f"seq {entry['seq']} modified" in bad.stderr
