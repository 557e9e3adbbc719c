"""The catalogue of strategies, and building them from names, --strategy specs and config.

Every error is a ConfigError whose one line names where the bad value came from:
`--strategy sma_cross:fats=5: unknown parameter fats (expected fast, slow)` or
`[strategies.rsi] period: expected an integer, got 14.5`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from engine.errors import ConfigError
from engine.signals.strategies.base import Strategy
from engine.signals.strategies.breakout import Breakout
from engine.signals.strategies.ema_cross import EmaCross
from engine.signals.strategies.hft import Hft
from engine.signals.strategies.mean_reversion import MeanReversion
from engine.signals.strategies.momentum import Momentum
from engine.signals.strategies.rsi import Rsi
from engine.signals.strategies.sma_cross import SmaCross

STRATEGIES: dict[str, type[Strategy]] = {
    cls.id: cls for cls in (SmaCross, EmaCross, Rsi, Momentum, MeanReversion, Breakout, Hft)
}


def _strategy_class(name: str) -> type[Strategy]:
    try:
        return STRATEGIES[name]
    except KeyError:
        close = difflib.get_close_matches(name, STRATEGIES, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise ConfigError(
            f"unknown strategy {name!r} ({hint}expected one of {', '.join(STRATEGIES)})"
        ) from None


def _field_kind(annotation: object) -> type:
    return {"int": int, "float": float}.get(annotation, annotation)  # type: ignore[arg-type]


def _coerce(name: str, kind: type, value: Any, text: bool) -> Any:
    """A parameter value of the declared type; with `text`, strings (a --strategy spec's
    values) are parsed, otherwise (config tables) a string is the wrong type."""
    if text and isinstance(value, str):
        text = value.strip()
        try:
            return kind(text)
        except ValueError:
            expected = "an integer" if kind is int else "a number"
            raise ConfigError(f"{name}: expected {expected}, got {value!r}") from None
    if isinstance(value, bool):
        raise ConfigError(f"{name}: expected {'an integer' if kind is int else 'a number'}, "
                          f"got {value!r}")
    if kind is int:
        if isinstance(value, int):
            return value
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    if kind is float and isinstance(value, int | float):
        return float(value)
    raise ConfigError(f"{name}: expected a number, got {value!r}")


def create(name: str, **params: Any) -> Strategy:
    """The strategy `name` with `params` over its defaults (values may be text)."""
    return _build(name, params, text=True)


def _build(name: str, params: Mapping[str, Any], text: bool) -> Strategy:
    cls = _strategy_class(name)
    kinds = {f.name: _field_kind(f.type) for f in fields(cls.Params)}
    unknown = [key for key in params if key not in kinds]
    if unknown:
        raise ConfigError(
            f"unknown parameter {', '.join(unknown)} (expected {', '.join(kinds)})"
        )
    values = {key: _coerce(key, kinds[key], value, text) for key, value in params.items()}
    chosen = cls.Params(**values)
    problems = cls.check(chosen)
    if problems:
        raise ConfigError("; ".join(problems))
    return cls(chosen)


def _in_context(where: str, build, *args: Any, **kwargs: Any) -> Strategy:
    """Run `build`, prefixing any ConfigError with where its input came from."""
    try:
        return build(*args, **kwargs)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None


def parse_spec(spec: str) -> Strategy:
    """A strategy from a --strategy value: `name` or `name:key=value,key=value`."""
    where = f"--strategy {spec}"
    name, _, rest = spec.strip().partition(":")
    params: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key or not value.strip():
            raise ConfigError(f"{where}: expected key=value, got {item!r}")
        if key in params:
            raise ConfigError(f"{where}: parameter {key} given twice")
        params[key] = value
    return _in_context(where, create, name.strip(), **params)


def from_config(
    strategies_table: Mapping[str, Mapping[str, Any]], ids: Iterable[str] | None = None
) -> dict[str, Strategy]:
    """Strategies by id, each with the parameters of its [strategies.<id>] table.

    `ids` defaults to every registered strategy; a strategy without a table keeps its
    defaults (desk.toml: "Each table is optional"). A table for an unknown strategy is an
    error, never silently ignored.
    """
    for name in strategies_table:
        if name not in STRATEGIES:
            _in_context(f"[strategies.{name}]", _strategy_class, name)
    wanted = list(STRATEGIES) if ids is None else list(ids)
    built: dict[str, Strategy] = {}
    for name in wanted:
        table = strategies_table.get(name, {})
        built[name] = _in_context(f"[strategies.{name}]", _build, name, table, text=False)
    return built
