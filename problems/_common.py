"""Helpers shared by the problem library: shipped reference fronts and front-derived ideal/nadir."""
from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import torch
from torch import Tensor

from moo.errors import MooValueError
from moo.problem import Problem

#: Points sampled from an analytic front to read its ideal and nadir points.
FRONT_SAMPLES_FOR_BOUNDS = 2000


@functools.lru_cache(maxsize=None)
def _read_front(name: str) -> np.ndarray:
    path = resources.files("moo.problems").joinpath("data", f"{name}.csv")
    if not path.is_file():
        raise MooValueError(f"no shipped reference front for problem {name!r} (expected {path}); "
                            "run `python -m moo.benchmarks.make_reference_fronts` to compute it")
    return np.loadtxt(str(path), delimiter=",", comments="#", ndmin=2)


def load_front(name: str) -> Tensor:
    """The shipped reference front ``problems/data/<name>.csv`` as a float64 tensor ``[k, n_obj]``."""
    return torch.from_numpy(_read_front(name).copy())


def nondominated(F: np.ndarray) -> np.ndarray:
    """Rows of ``F`` (minimization) that no other row dominates, duplicates dropped."""
    import moocore

    F = np.unique(np.asarray(F, dtype=np.float64), axis=0)
    return F[moocore.is_nondominated(F)]


def check_int(arg: str, value, low: int, problem: str) -> int:
    """``value`` as an ``int`` if it is an integer ``>= low``, else a :class:`MooValueError` naming ``arg``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise MooValueError(f"{arg} must be an integer >= {low} for {problem}, got {value!r}")
    return int(value)


class FrontBoundsMixin:
    """``ideal``/``nadir`` read off :meth:`pareto_front` (analytic or shipped), cached per instance."""

    def _front_bounds(self: Problem) -> tuple[Tensor, Tensor]:
        cached = self.__dict__.get("_front_bounds_cache")
        if cached is None:
            front = self.pareto_front(FRONT_SAMPLES_FOR_BOUNDS)
            cached = (front.min(0).values, front.max(0).values)
            self.__dict__["_front_bounds_cache"] = cached
        return cached

    @property
    def ideal(self) -> Tensor:
        return self._front_bounds()[0].clone()

    @property
    def nadir(self) -> Tensor:
        return self._front_bounds()[1].clone()
