"""`desk compliance report`: the audit log of a period as a report with its own proof."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from engine.errors import DeskError

FORMATS = {".html": "html", ".htm": "html", ".json": "json", ".csv": "csv"}


class ComplianceInputError(DeskError):
    exit_code = 2


def _date(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ComplianceInputError(f"{option} {text!r}: expected a date YYYY-MM-DD") from None


def run(args: argparse.Namespace) -> int:
    from desk.commands.audit import _resolve
    from desk.commands.output_paths import check_output_path, write_atomically
    from engine.adapters.sqlite.compliance import stream_entries, verify
    from engine.risk.compliance_report import build_report, day_bounds, status_line

    start, end = _date("--from", args.date_from), _date("--to", args.date_to)
    if end < start:
        raise ComplianceInputError(f"--to {end} is before --from {start}")
    fmt = FORMATS.get(Path(args.out).suffix.lower())
    if fmt is None:
        raise ComplianceInputError(f"--out {args.out}: expected a .html, .json or .csv file")
    check_output_path(args.out, "--out")
    db, key = _resolve(args)
    if not db.is_file():
        raise ComplianceInputError(f"{db}: no such database")
    ts_from, ts_to = day_bounds(start, end)
    outcome = {}

    def write(handle) -> None:
        def checked(last_seq):
            outcome["verification"] = verify(db, key, last_seq)
            return outcome["verification"]

        outcome["stats"] = build_report(stream_entries(db, ts_from, ts_to), checked, handle,
                                        fmt, period=(start, end),
                                        spill_dir=str(Path(args.out).resolve().parent))

    started = time.perf_counter()
    write_atomically(args.out, write, option="--out")
    elapsed = time.perf_counter() - started
    stats, verification = outcome["stats"], outcome["verification"]
    print(status_line(verification))
    print(f"{stats.entries:,} entries (seq {stats.first_seq}..{stats.last_seq}) from {start} "
          f"to {end} in {elapsed:.2f} s -> {args.out}")
    denials = ", ".join(f"{rule} {n}" for rule, n in stats.denials_by_rule.most_common())
    print(f"denials by rule: {denials or 'none'}")
    return 0 if verification.ok else 1
