"""The backtest summary's one line of what the filters and the quality score did."""

from __future__ import annotations

from engine.signals.filters.summary import filters_line, total_counts

SUMMARY = {
    "A": {"counts": {"direction": {"veto": 2, "pass": 8}, "quality": {"veto": 3, "pass": 7}}},
    "B": {"counts": {"direction": {"veto": 1, "pass": 9}, "quality": {"veto": 0, "pass": 10}}},
}


def test_counts_add_up_over_symbols():
    assert total_counts(SUMMARY) == {"direction": {"veto": 3, "pass": 17},
                                     "quality": {"veto": 3, "pass": 17}}


def test_one_line_names_each_filter_then_the_quality_score():
    assert filters_line(SUMMARY) == \
        "filters: direction vetoed 3 of 20; quality dropped 3 of 20"
    assert filters_line({}) == ""
