"""One pre-trade check's outcome: the rule, passed or failed, the value and the limit.

Every order's `order.proposed` / `risk.denied` audit entry carries the list of checks the
gate ran (`RiskDecision.checks`), so a compliance report can show what each order was
judged against, not only what failed.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Check(NamedTuple):
    """Immutable; a tuple because the gate makes about ten for every order it judges,
    and a tuple is built in a third of a frozen dataclass's time."""

    rule: str
    passed: bool
    value: Any = None  # what was measured (a fraction, money, a count, a time)
    limit: Any = None  # what it was held to
    reason: str = ""  # one line, for a failure (or why a rule could not judge)

    def as_dict(self) -> dict[str, Any]:
        out = {"rule": self.rule, "passed": self.passed, "value": _plain(self.value),
               "limit": _plain(self.limit)}
        if self.reason:
            out["reason"] = self.reason
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 10)
    return value
