"""The parameter space of one strategy: integer, float and categorical parameters.

Written on the command line as `NAME=LO:HI[:STEP]` (a range; integers when the strategy's
parameter is an int) or `NAME=A,B,C` (a categorical choice among listed values). Parameters
not named keep the configuration's value. Which combinations are allowed (`fast < slow`)
is the strategy's own `check`, the rule `desk --backtest` applies: the space never
restates it.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from engine.errors import ConfigError

# A grid beyond this many points is a mistake (a float range without a step, a typo in a
# bound); random, ga, de and mcmc sample such spaces instead.
MAX_GRID = 1_000_000


@dataclass(frozen=True)
class IntParam:
    name: str
    low: int
    high: int
    step: int = 1

    def values(self) -> list[int]:
        return list(range(self.low, self.high + 1, self.step))

    def sample(self, rng: np.random.Generator) -> int:
        return int(self.low + self.step * rng.integers(0, (self.high - self.low) // self.step + 1))

    def snap(self, x: float) -> int:
        """The allowed value nearest to x (clipped to the range)."""
        k = round((min(max(x, self.low), self.high) - self.low) / self.step)
        return int(self.low + self.step * k)

    @property
    def span(self) -> float:
        return float(self.high - self.low)


@dataclass(frozen=True)
class FloatParam:
    name: str
    low: float
    high: float
    step: float | None = None  # None: continuous

    def values(self) -> list[float]:
        if self.step is None:
            raise ConfigError(f"--param {self.name}: a grid needs a step (NAME=LO:HI:STEP)")
        count = int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1
        return [self.snap(self.low + i * self.step) for i in range(count)]

    def sample(self, rng: np.random.Generator) -> float:
        if self.step is not None:
            return self.values()[int(rng.integers(0, len(self.values())))]
        return float(rng.uniform(self.low, self.high))

    def snap(self, x: float) -> float:
        x = min(max(float(x), self.low), self.high)
        if self.step is None:
            return x
        # Rounded to 12 significant digits: 0.1 + 2 * 0.1 is 0.30000000000000004 otherwise,
        # and the value is written into a --strategy spec and a database key.
        return float(f"{self.low + round((x - self.low) / self.step) * self.step:.12g}")

    @property
    def span(self) -> float:
        return float(self.high - self.low)


@dataclass(frozen=True)
class CategoricalParam:
    name: str
    choices: tuple[Any, ...]

    def values(self) -> list[Any]:
        return list(self.choices)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.choices[int(rng.integers(0, len(self.choices)))]

    def snap(self, x: float) -> Any:
        """The choice at index round(x), clipped: searches over reals see categories as
        their indices."""
        return self.choices[int(min(max(round(x), 0), len(self.choices) - 1))]

    @property
    def span(self) -> float:
        return float(len(self.choices) - 1)


Param = IntParam | FloatParam | CategoricalParam


@dataclass(frozen=True)
class ParamSpace:
    """The varied parameters of `strategy`; `base` holds every parameter's value in force
    (the configuration's), which a trial's values override."""

    strategy: str
    params: tuple[Param, ...]
    base: Mapping[str, Any]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def full(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {**self.base, **values}

    def problems(self, values: Mapping[str, Any]) -> list[str]:
        """The strategy's own objections to these values (empty when they are usable)."""
        from engine.signals.strategies.registry import STRATEGIES

        if not self.strategy:  # a space over a plain function (tests, likelihoods): no rules
            return []
        cls = STRATEGIES[self.strategy]
        return cls.check(cls.Params(**self.full(values)))

    def feasible(self, values: Mapping[str, Any]) -> bool:
        return not self.problems(values)

    def grid(self) -> Iterator[dict[str, Any]]:
        """Every feasible combination, in lexicographic order of the parameters."""
        size = math.prod(len(p.values()) for p in self.params)
        if size > MAX_GRID:
            raise ConfigError(f"--method grid: {size:,} combinations (at most {MAX_GRID:,});"
                              " add steps or use random, ga or de")
        for combo in itertools.product(*(p.values() for p in self.params)):
            values = dict(zip(self.names, combo, strict=True))
            if self.feasible(values):
                yield values

    def sample(self, rng: np.random.Generator, tries: int = 10_000) -> dict[str, Any]:
        """A uniformly drawn feasible point (rejection sampling)."""
        for _ in range(tries):
            values = {p.name: p.sample(rng) for p in self.params}
            if self.feasible(values):
                return values
        raise ConfigError(f"--param: no feasible {self.strategy} parameters found in "
                          f"{tries:,} draws (check the ranges against the strategy's rules)")

    def snap(self, vector: Sequence[float]) -> dict[str, Any]:
        """Values from a real vector (a search's coordinates): each parameter's nearest
        allowed value; categoricals by index."""
        return {p.name: p.snap(x) for p, x in zip(self.params, vector, strict=True)}

    def vector(self, values: Mapping[str, Any]) -> np.ndarray:
        """Real coordinates of `values` (categoricals as their index)."""
        out = []
        for p in self.params:
            value = values[p.name]
            out.append(p.choices.index(value) if isinstance(p, CategoricalParam) else value)
        return np.asarray(out, dtype=np.float64)

    def bounds(self) -> list[tuple[float, float]]:
        return [(0.0, p.span) if isinstance(p, CategoricalParam) else (float(p.low), float(p.high))
                for p in self.params]

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "base": dict(self.base),
                "params": [describe(p) for p in self.params]}


def describe(p: Param) -> dict[str, Any]:
    if isinstance(p, CategoricalParam):
        return {"name": p.name, "kind": "categorical", "choices": list(p.choices)}
    kind = "int" if isinstance(p, IntParam) else "float"
    return {"name": p.name, "kind": kind, "low": p.low, "high": p.high, "step": p.step}


def key(values: Mapping[str, Any]) -> str:
    """A canonical text for a parameter set: the identity of a trial."""
    return json.dumps(dict(values), sort_keys=True, separators=(",", ":"))


def strategy_spec(strategy: str, values: Mapping[str, Any]) -> str:
    """The `--strategy` value that runs these parameters (floats in repr: exact)."""
    if not values:
        return strategy
    return strategy + ":" + ",".join(f"{k}={v!r}" for k, v in values.items())


def build_space(strategy: str, texts: Sequence[str], base: Mapping[str, Any]) -> ParamSpace:
    """The space the `--param` texts describe for `strategy`, over `base` values."""
    from engine.signals.strategies.registry import STRATEGIES, _strategy_class

    try:
        cls = _strategy_class(strategy)
    except ConfigError as error:
        raise ConfigError(f"--strategy {strategy}: {error}") from None
    kinds = {f.name: {"int": int, "float": float}.get(f.type, f.type)
             for f in fields(STRATEGIES[strategy].Params)}
    if not texts:
        raise ConfigError(f"--param: name at least one {strategy} parameter to vary "
                          f"(NAME=LO:HI[:STEP] or NAME=A,B,C; parameters: {', '.join(kinds)})")
    params: list[Param] = []
    for text in texts:
        param = parse_param(text, kinds, cls.id)
        if any(p.name == param.name for p in params):
            raise ConfigError(f"--param {text}: {param.name} is given twice")
        params.append(param)
    return ParamSpace(strategy, tuple(params), dict(base))


def parse_param(text: str, kinds: Mapping[str, type], strategy: str) -> Param:
    where = f"--param {text}"
    name, eq, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    if not eq or not name or not spec:
        raise ConfigError(f"{where}: expected NAME=LO:HI[:STEP] or NAME=A,B,C")
    if name not in kinds:
        raise ConfigError(f"{where}: {strategy} has no parameter {name} "
                          f"(expected one of {', '.join(kinds)})")
    kind = kinds[name]
    if "," in spec:
        choices = tuple(_number(part, kind, where) for part in spec.split(","))
        if len(set(choices)) != len(choices):
            raise ConfigError(f"{where}: a choice is listed twice")
        return CategoricalParam(name, choices)
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise ConfigError(f"{where}: expected NAME=LO:HI[:STEP] or NAME=A,B,C")
    low, high = (_number(part, kind, where) for part in parts[:2])
    step = _number(parts[2], kind, where) if len(parts) == 3 else None
    if not low < high:
        raise ConfigError(f"{where}: LO ({low}) must be below HI ({high})")
    if step is not None and not 0 < step <= high - low:
        raise ConfigError(f"{where}: STEP must be in (0, HI - LO], got {step}")
    if kind is int:
        return IntParam(name, low, high, step or 1)
    return FloatParam(name, float(low), float(high), None if step is None else float(step))


def _number(text: str, kind: type, where: str) -> Any:
    text = text.strip()
    try:
        value = kind(text)
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise ConfigError(f"{where}: expected {noun}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: expected a finite number, got {text!r}")
    return value
