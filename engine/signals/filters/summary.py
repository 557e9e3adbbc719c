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


def filters_line(summary: dict) -> str:
    """One line of what the layer did over a run ("" when it was off): each filter's vetoes
    of the decisions it judged, and the decisions the quality score dropped."""
    totals = total_counts(summary)
    if not totals:
        return ""
    parts = [f"{name} vetoed {c['veto']:,} of {c['veto'] + c['pass']:,}"
             for name, c in totals.items() if name != "quality"]
    if "quality" in totals:
        c = totals["quality"]
        parts.append(f"quality dropped {c['veto']:,} of {c['veto'] + c['pass']:,}")
    return "filters: " + "; ".join(parts)
