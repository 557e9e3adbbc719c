"""What the filters and the quality score did over a backtest, for its result and --json."""

from __future__ import annotations


def layer_summary(plans, index) -> dict:
    """{symbol: {"counts": {filter: {"veto", "pass"}}, "decisions": {iso time: record}}}
    for symbols whose plan ran the layer; {} when it was off."""
    out = {}
    for symbol, plan in plans.items():
        if plan.filter_counts is None:
            continue
        out[symbol] = {
            "counts": plan.filter_counts,
            "decisions": {index[t].isoformat(): record
                          for t, record in sorted(plan.verdicts.items())},
        }
    return out


def total_counts(summary: dict) -> dict[str, dict[str, int]]:
    """Veto / pass counts per filter, summed over symbols."""
    total: dict[str, dict[str, int]] = {}
    for entry in summary.values():
        for name, counts in entry["counts"].items():
            slot = total.setdefault(name, {"veto": 0, "pass": 0})
            slot["veto"] += counts["veto"]
            slot["pass"] += counts["pass"]
    return total
