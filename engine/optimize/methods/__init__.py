"""Search methods. Each maximises a batch fitness function over a `ParamSpace` and is
deterministic for a seed: it asks for the same points in the same batches whatever runs
them, which is what makes local, pool and cluster runs equal and `--resume` possible."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Fitness of a batch of parameter sets (all feasible), in order.
Evaluate = Callable[[Sequence[Mapping[str, Any]]], list[float]]


@dataclass
class SearchOutcome:
    best: dict[str, Any]
    fitness: float
    evaluations: int = 0  # points asked for (a point asked twice counts twice)
    history: list[float] = field(default_factory=list)  # best so far per generation/batch
    extras: dict[str, Any] = field(default_factory=dict)


def best_of(points: Sequence[Mapping[str, Any]], values: Sequence[float]) -> tuple[dict, float]:
    """The first point with the highest value (ties: the earliest, so order decides)."""
    best = max(range(len(values)), key=lambda i: (values[i], -i))
    return dict(points[best]), float(values[best])
