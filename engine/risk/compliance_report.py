"""The compliance report: what happened between two dates, from the audit log, with the
log's own proof.

Every audit entry of the range lands in exactly one section, chosen in this order:

1. ``interventions``: anything a user did (actor "user"): approvals, rejections, cancels,
   the kill switch, forced strategy statuses, pauses, manual orders;
2. ``denials``: ``risk.denied`` (also counted by rule in ``denials_by_rule``);
3. ``breaches``: limit breaches and automatic trips: ``risk.tripped``, ``risk.reset``,
   ``risk.alert``;
4. ``configuration``: ``config.*``, ``params.*``, ``weights.updated`` and status changes of
   strategies;
5. ``errors``: ``engine.crashed``, ``*.failed``, ``*.error``, ``order.unknown``;
6. ``orders``: ``order.*`` and ``session.*`` (with the pre-trade checks of each proposal);
7. ``other``: everything else (engine started and stopped, backtests, models...).

Each line carries the entry's seq and hash, so a third party ties it to `desk audit export`.
The report embeds the range it covers (first and last seq) and the verification of the log:
chain valid, the checkpoint whose signature covers the range's end, and the key's SHA-256
fingerprint. Over a tampered log the first line of the file says TAMPERED.

Memory stays flat: entries stream from a cursor, each rendered at once in the output's
format into one spill file per section, and the output is assembled by copying them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from json.encoder import encode_basestring as _enc
from typing import IO

SECTIONS = (
    ("interventions", "Manual interventions"),
    ("denials", "Denials"),
    ("breaches", "Limit breaches and automatic trips"),
    ("configuration", "Parameter and configuration changes"),
    ("errors", "System errors and crashes"),
    ("orders", "Orders and executions (with pre-trade checks)"),
    ("other", "Other entries"),
)
_CONFIG_KINDS = ("weights.updated", "strategy.status_changed")


def section_of(kind: str, actor: str) -> str:
    if actor == "user":
        return "interventions"
    if kind == "risk.denied":
        return "denials"
    if kind in ("risk.tripped", "risk.reset", "risk.alert"):
        return "breaches"
    if kind.startswith(("config.", "params.")) or kind in _CONFIG_KINDS:
        return "configuration"
    if kind == "engine.crashed" or kind.endswith((".failed", ".error")) or \
            kind == "order.unknown":
        return "errors"
    if kind.startswith(("order.", "session.")):
        return "orders"
    return "other"


_SUMMARY_KEYS = ("client_order_id", "symbol", "side", "qty", "price", "ref_price", "rule",
                 "rules", "reasons", "reason", "on", "status", "message", "error", "session_id")
_SUMMARY_SET = frozenset(_SUMMARY_KEYS)


def summary_of(kind: str, payload: dict) -> str:
    """One line: the fields a reader looks for first."""
    present = _SUMMARY_SET.intersection(payload)
    parts = []
    for key in _SUMMARY_KEYS:
        if key in present:
            value = payload[key]
            if isinstance(value, list):
                value = ", ".join(map(str, value))
            parts.append(f"{key}={value}")
    if "checks" in payload:
        checks = payload["checks"]
        failed = [c["rule"] for c in checks if not c.get("passed")]
        parts.append(f"checks {len(checks) - len(failed)}/{len(checks)} passed"
                     + (f" (failed: {', '.join(failed)})" if failed else ""))
    return " ".join(parts)[:500]


@dataclass
class ReportRange:
    first_seq: int | None = None
    last_seq: int | None = None
    entries: int = 0
    by_section: Counter = field(default_factory=Counter)
    denials_by_rule: Counter = field(default_factory=Counter)


def day_bounds(start: date, end: date) -> tuple[str, str]:
    """ISO text bounds [start 00:00, end + 1 day 00:00) UTC, comparable with audit ts."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    return f"{start.isoformat()}T00:00:00", f"{(end + timedelta(days=1)).isoformat()}T00:00:00"


def build_report(entries: Iterable[tuple[int, str, str, str, str, str]],
                 verify: Callable[[int | None], object], out: IO[str], fmt: str, *,
                 period: tuple[date, date], spill_dir: str | None = None) -> ReportRange:
    """Stream `entries` (seq, ts, kind, actor, payload JSON, hash) into `out` as `fmt`
    ("html", "json" or "csv"). `verify(last_seq)` returns the log's verification
    (engine.adapters.sqlite.compliance.Verification)."""
    stats = ReportRange()
    render, writer = _FORMATS[fmt]
    with tempfile.TemporaryDirectory(dir=spill_dir, prefix=".desk-compliance-") as tmp:
        spills = {name: open(os.path.join(tmp, name), "w+", encoding="utf-8")
                  for name, _ in SECTIONS}
        try:
            for seq, ts, kind, actor, payload_json, hash_ in entries:
                payload = json.loads(payload_json)
                section = section_of(kind, actor)
                stats.entries += 1
                stats.by_section[section] += 1
                if stats.first_seq is None:
                    stats.first_seq = seq
                stats.last_seq = seq
                if kind == "risk.denied":
                    stats.denials_by_rule.update(payload.get("rules") or ["unknown"])
                row = {"seq": seq, "ts": ts, "kind": kind, "actor": actor,
                       "summary": summary_of(kind, payload), "hash": hash_}
                if kind == "order.proposed" and "checks" in payload:
                    row["checks"] = payload["checks"]
                spills[section].write(render(section, row))
            verification = verify(stats.last_seq)
            for spill in spills.values():
                spill.seek(0)
            writer(out, stats, verification, spills, period)
        finally:
            for spill in spills.values():
                spill.close()
    return stats


def status_line(verification) -> str:
    if verification.ok:
        return f"VERIFIED: audit chain valid ({verification.summary})"
    return f"TAMPERED: audit verification {verification.summary}"


def _proof(stats: ReportRange, verification, period) -> dict:
    checkpoint = verification.checkpoint
    return {
        "period": {"from": period[0].isoformat(), "to": period[1].isoformat()},
        "range": {"first_seq": stats.first_seq, "last_seq": stats.last_seq,
                  "entries": stats.entries},
        "chain_valid": bool(verification.ok),
        "verification": verification.summary,
        "failure_seq": verification.failure_seq,
        "checkpoint": None if checkpoint is None else {
            "seq": checkpoint[0], "hash": checkpoint[1], "ts": checkpoint[2],
            "signature": "valid" if verification.ok else "not trusted: the log failed"},
        "key_fingerprint_sha256": verification.key_fingerprint,
    }


def _write_json(out, stats, verification, spills, period) -> None:
    out.write("{" + json.dumps("status") + ": " + json.dumps(status_line(verification))
              + ",\n")
    out.write('"proof": ' + json.dumps(_proof(stats, verification, period)) + ",\n")
    out.write('"denials_by_rule": ' + json.dumps(dict(stats.denials_by_rule.most_common()))
              + ",\n")
    out.write('"counts": ' + json.dumps(dict(stats.by_section)) + ",\n")
    out.write('"sections": {\n')
    for number, (name, _title) in enumerate(SECTIONS):
        out.write(f'{json.dumps(name)}: [')
        first = True
        for line in spills[name]:
            out.write(("\n" if first else ",\n") + line[:-1])
            first = False
        out.write("]" + (",\n" if number < len(SECTIONS) - 1 else "\n"))
    out.write("}}\n")


def _json_row(section: str, row: dict) -> str:
    # Formatted by hand with json's own string encoder: json.dumps of a dict per entry
    # was the report's largest cost over a million entries.
    text = (f'{{"seq":{row["seq"]},"ts":{_enc(row["ts"])},"kind":{_enc(row["kind"])},'
            f'"actor":{_enc(row["actor"])},"summary":{_enc(row["summary"])},'
            f'"hash":{_enc(row["hash"])}')
    if "checks" in row:
        text += ',"checks":' + json.dumps(row["checks"], separators=(",", ":"))
    return text + "}\n"


def _csv_row(section: str, row: dict) -> str:
    buf = io.StringIO()
    checks = json.dumps(row["checks"], separators=(",", ":")) if "checks" in row else ""
    csv.writer(buf, lineterminator="\n").writerow(
        (section, row["seq"], row["ts"], row["kind"], row["actor"], row["summary"], checks,
         row["hash"]))
    return buf.getvalue()


def _html_row(section: str, row: dict) -> str:
    summary = escape(row["summary"])
    if "checks" in row:
        summary += "<br>" + _checks_html(row["checks"])
    return (f"<tr><td>{row['seq']}</td><td>{escape(row['ts'])}</td>"
            f"<td>{escape(row['kind'])}</td><td>{escape(row['actor'])}</td>"
            f"<td>{summary}</td><td class=\"hash\">{escape(row['hash'][:16])}</td></tr>\n")


def _write_csv(out, stats, verification, spills, period) -> None:
    out.write(f"# {status_line(verification)}\n")
    proof = _proof(stats, verification, period)
    out.write(f"# range seq {proof['range']['first_seq']}..{proof['range']['last_seq']} "
              f"({stats.entries} entries) {period[0]}..{period[1]}; checkpoint "
              f"{json.dumps(proof['checkpoint'])}; key sha256 {verification.key_fingerprint}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("section", "seq", "ts", "kind", "actor", "summary", "checks", "hash"))
    for rule, count in stats.denials_by_rule.most_common():
        writer.writerow(("denials_by_rule", "", "", rule, "", str(count), "", ""))
    for name, _title in SECTIONS:
        shutil.copyfileobj(spills[name], out)


_CSS = ("body{font:13px/1.4 system-ui,sans-serif;margin:20px auto;max-width:1200px;"
        "color:#1d2330}h1{font-size:20px}h2{font-size:16px;margin-top:24px}"
        "table{border-collapse:collapse;font-variant-numeric:tabular-nums}"
        "td,th{padding:2px 8px;border-bottom:1px solid #eceef2;text-align:left;"
        "vertical-align:top}th{background:#f3f5f8}.bad{color:#c0392b;font-weight:700}"
        ".ok{color:#11804a;font-weight:700}.hash{font-family:monospace;font-size:11px;"
        "color:#5b6475}.fail{color:#c0392b}")


def _write_html(out, stats, verification, spills, period) -> None:
    status = status_line(verification)
    out.write(f"<!DOCTYPE html><!-- {escape(status)} -->\n")
    out.write(f'<html lang="en"><head><meta charset="utf-8"><title>{escape(status)}'
              f"</title><style>{_CSS}</style></head><body>\n")
    cls = "ok" if verification.ok else "bad"
    out.write(f'<p class="{cls}">{escape(status)}</p>\n')
    out.write(f"<h1>Compliance report {period[0]} to {period[1]}</h1>\n")
    proof = _proof(stats, verification, period)
    rows = [("Entries", f"{stats.entries:,}"),
            ("Seq range", f"{stats.first_seq} .. {stats.last_seq}"),
            ("Chain valid", "yes" if verification.ok else "NO"),
            ("Verification", verification.summary),
            ("Checkpoint covering the range", json.dumps(proof["checkpoint"])),
            ("Audit key fingerprint (SHA-256)", verification.key_fingerprint)]
    out.write("<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>"
                                  for k, v in rows) + "</table>\n")
    out.write("<h2>Denials by rule</h2><table><tr><th>Rule</th><th>Denials</th></tr>")
    for rule, count in stats.denials_by_rule.most_common():
        out.write(f"<tr><td>{escape(rule)}</td><td>{count:,}</td></tr>")
    out.write("</table>\n")
    for name, title in SECTIONS:
        out.write(f"<h2>{escape(title)} ({stats.by_section[name]:,})</h2>\n")
        out.write("<table><tr><th>Seq</th><th>Time (UTC)</th><th>Kind</th><th>Actor</th>"
                  "<th>Summary</th><th>Hash</th></tr>\n")
        shutil.copyfileobj(spills[name], out)
        out.write("</table>\n")
    out.write("</body></html>\n")


def _checks_html(checks: list[dict]) -> str:
    buf = io.StringIO()
    for check in checks:
        cls = "" if check.get("passed") else ' class="fail"'
        buf.write(f"<span{cls}>{escape(str(check['rule']))} "
                  f"{'pass' if check.get('passed') else 'FAIL'} "
                  f"{escape(str(check.get('value')))} / {escape(str(check.get('limit')))}"
                  "</span>; ")
    return buf.getvalue()


_FORMATS = {"json": (_json_row, _write_json), "csv": (_csv_row, _write_csv),
            "html": (_html_row, _write_html)}
