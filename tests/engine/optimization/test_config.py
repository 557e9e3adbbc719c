"""[optimization] in desk.toml: documented defaults, one-line errors."""

from __future__ import annotations

import pytest

from engine.config.schema import config_from_dict, load_config
from engine.errors import ConfigError
from engine.optimize.fitness import DEFAULT_COMPOSITE, fitness


def test_packaged_defaults_are_the_documents_weights():
    cfg = load_config(None)
    weights = cfg.optimization.composite
    assert {k: getattr(weights, k) for k in DEFAULT_COMPOSITE} == DEFAULT_COMPOSITE
    assert cfg.optimization.fitness == "sharpe"


@pytest.mark.parametrize(("table", "message"), [
    ({"fitness": "profit"}, '[optimization] fitness: expected one of "sharpe"'),
    ({"ga": {"population": 1}},
     "[optimization.ga] population: expected an integer in [2, 100_000], got 1"),
    ({"mcmc": {"chains": 1}}, "[optimization.mcmc] chains: expected an integer in [2, 64], got 1"),
    ({"wfo": {"unit": "weeks"}}, '[optimization.wfo] unit: expected "bars" or "days"'),
    ({"de": {"mutation_min": 1.5, "mutation_max": 1.0}},
     "[optimization.de] mutation_min: expected at most mutation_max (1), got 1.5"),
    ({"qlearn": {"alphas": 0.1}}, "[optimization.qlearn] alphas: unknown key"),
])
def test_bad_values_are_one_line(table, message):
    with pytest.raises(ConfigError) as error:
        config_from_dict({"optimization": table}, name="desk.toml")
    assert str(error.value).startswith(f"desk.toml: {message}")
    assert "\n" not in str(error.value)


def test_composite_fitness_by_hand():
    metrics = {"sharpe": 1.5, "total_return": 0.2, "win_rate": None, "max_drawdown": 0.1}
    assert fitness(metrics, "composite") == 1.5 + 0.3 * 0.2 + 0.0 - 0.1 * 0.1
    assert fitness(metrics, "composite", {"sharpe": 2.0}) == 3.0
    assert fitness({"sharpe": None}, "sharpe") == 0.0
    assert fitness({"calmar": float("inf")}, "calmar") == 0.0
