"""`desk portfolio allocate`: the matrix printed and written, one line on bad input."""

from __future__ import annotations

import json

import pytest

from desk.cli import main
from tests.engine.portfolio_builders import SP500_TAIL


def test_matrix_is_printed_and_written(tmp_path, capsys):
    out = tmp_path / "m.json"
    assert main(["portfolio", "allocate", "--strategies", "sma_cross,momentum", "--data",
                 str(SP500_TAIL), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sma_cross" in printed and "momentum" in printed and "AAPL" in printed
    weights = json.loads(out.read_text())["weights"]
    assert set(weights) == {"sma_cross", "momentum"} and len(weights["momentum"]) == 20
    assert sum(sum(row.values()) for row in weights.values()) == pytest.approx(1.0)


def test_an_unknown_strategy_is_one_line(tmp_path, capsys):
    code = main(["portfolio", "allocate", "--strategies", "sma_cros", "--data",
                 str(SP500_TAIL)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "sma_cros" in err
