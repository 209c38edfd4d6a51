"""The :class:`Result` every solver returns, and its on-disk form.

A saved result is a folder: ``result.json`` (metadata and history), ``arrays.npz`` (the
approximation set and every evaluated point; written and read with ``allow_pickle=False``) and,
for Pareto-set learners, ``model.pt`` (the algorithm's ``state_dict``, read with
``weights_only=True``). Nothing is pickled.
"""
from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from moo.errors import CheckpointError, MooTypeError
from moo.problem import Problem, as_tensor

RESULT_JSON, ARRAYS, MODEL = "result.json", "arrays.npz", "model.pt"


def _versions() -> dict:
    import moo

    out = {"moo": moo.__version__, "torch": torch.__version__, "numpy": np.__version__,
           "python": platform.python_version()}
    for name in ("pymoo", "botorch", "gpytorch", "moocore"):
        try:
            out[name] = __import__(name).__version__
        except Exception:  # an optional peer that is absent or has no version
            pass
    return out


def algorithm_spec(algorithm) -> str:
    """The name that rebuilds ``algorithm``: its registry spec, else ``module:Class``."""
    return algorithm.spec or f"{type(algorithm).__module__}:{type(algorithm).__qualname__}"


def run_metadata(problem: Problem, algorithm, *, seed: int, budget: int, device, wall_time: float,
                 n_steps: int, conventions: dict | None) -> dict:
    """The metadata stored with every result."""
    return {
        "problem": problem.describe(),
        "problem_spec": problem.spec,
        "algorithm": {"name": algorithm_spec(algorithm), "config": algorithm.config_dict()},
        "seed": seed,
        "budget": budget,
        "n_evals": algorithm.n_evals,
        "n_steps": n_steps,
        "device": str(device),
        "wall_time": wall_time,
        "conventions": conventions,
        "versions": _versions(),
    }


def _np(t: Tensor) -> np.ndarray:
    return t.detach().cpu().to(torch.float64).numpy()


@dataclass
class Result:
    """What a solver found.

    Attributes:
        X, F: the approximation set (non-dominated solutions found) and its objective values.
        X_all, F_all: every archived evaluated point, in evaluation order.
        history: one record per step: ``step``, ``n_evals``, ``time`` (s), ``hv`` where the
            problem gives a hypervolume convention, and the algorithm's scalar extras.
        meta: problem, algorithm and config, seed, budget, device, versions, and the
            indicator conventions the ``hv`` column used.
        state: the algorithm's ``state_dict`` for Pareto-set learners (see :meth:`pareto_set`).
    """

    X: Tensor
    F: Tensor
    X_all: Tensor
    F_all: Tensor
    history: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    state: dict | None = None

    def __post_init__(self):
        for name in ("X", "F", "X_all", "F_all"):
            setattr(self, name, as_tensor(getattr(self, name), name=name).detach().cpu().to(torch.float64))

    # ------------------------------------------------------------------ convenience
    @property
    def n_evals(self) -> int:
        return int(self.meta.get("n_evals", self.F_all.shape[0]))

    @property
    def hv(self) -> float | None:
        """The final hypervolume in the history's convention (``None`` where there is none)."""
        for rec in reversed(self.history):
            if rec.get("hv") is not None:
                return rec["hv"]
        return None

    def problem(self) -> Problem:
        """Rebuild the problem from the stored spec (problems built by name only)."""
        from moo.registry import get_problem

        spec = self.meta.get("problem_spec")
        if not spec:
            raise CheckpointError("this result's problem was built in code, not by name; it cannot be rebuilt")
        return get_problem(spec["name"], normalize=spec.get("normalize", False), **spec.get("options", {}))

    def summary(self) -> str:
        """A few human-readable lines."""
        m = self.meta
        alg = m.get("algorithm", {}).get("name", "?")
        prob = m.get("problem", {}).get("name", "?")
        lines = [f"{alg} on {prob}: {self.n_evals} evaluations, {m.get('n_steps', '?')} steps, "
                 f"{m.get('wall_time', float('nan')):.2f} s, seed {m.get('seed')}",
                 f"approximation set: {self.F.shape[0]} non-dominated points"]
        if self.hv is not None:
            conv = m.get("conventions") or {}
            space = "objectives normalized by ideal/nadir" if conv.get("normalization") == "ideal/nadir" \
                else "raw objectives"
            lines.append(f"hypervolume: {self.hv:.6g} ({space}, reference point {conv.get('ref_point')})")
        if self.F.shape[0]:
            lines.append(f"objective ranges: min {np.round(_np(self.F.min(0).values), 4).tolist()}, "
                         f"max {np.round(_np(self.F.max(0).values), 4).tolist()}")
        return "\n".join(lines)

    def pareto_set(self, prefs) -> Tensor:
        """Solutions of the learned Pareto-set model for preferences ``prefs [k, n_obj]``."""
        from moo.registry import get_algorithm

        if self.state is None:
            raise MooTypeError(f"algorithm {self.meta.get('algorithm', {}).get('name')!r} did not learn a "
                               "Pareto-set model; only Pareto-set learners (psl, psl-mobo, ...) have one")
        alg_meta = self.meta["algorithm"]
        algorithm = get_algorithm(alg_meta["name"], **alg_meta["config"])
        algorithm.setup(self.problem(), seed=self.meta["seed"], device="cpu", budget=self.meta["budget"])
        algorithm.load_state_dict(self.state)
        with torch.no_grad():
            return algorithm.pareto_set(as_tensor(prefs, name="prefs")).cpu()

    def plot(self, path: str | os.PathLike | None = None, *, kind: str = "front", html: bool = False,
             reference_front: bool = True):
        """Plot the front (``kind="front"``) or the hypervolume history (``kind="convergence"``).

        Returns the figure; writes a PNG (or HTML with ``html=True``) when ``path`` is given.
        """
        from moo import plot

        if kind == "front":
            ref = None
            if reference_front and self.meta.get("problem_spec"):
                ref = self.problem().pareto_front()
            return plot.plot_front(self.F, reference_front=ref, title=self._title(), path=path, html=html)
        if kind == "convergence":
            return plot.plot_convergence({self._title(): self.history}, path=path, html=html)
        raise ValueError(f"kind must be 'front' or 'convergence', got {kind!r}")

    def _title(self) -> str:
        return f"{self.meta.get('algorithm', {}).get('name', '?')} on {self.meta.get('problem', {}).get('name', '?')}"

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | os.PathLike) -> Path:
        """Write the result into ``directory`` (created if needed); returns the folder."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / (ARRAYS + ".tmp.npz")
        np.savez(tmp, X=_np(self.X), F=_np(self.F), X_all=_np(self.X_all), F_all=_np(self.F_all))
        os.replace(tmp, d / ARRAYS)
        if self.state is not None:
            tmp = d / (MODEL + ".tmp")
            torch.save(self.state, tmp)
            os.replace(tmp, d / MODEL)
        tmp = d / (RESULT_JSON + ".tmp")
        tmp.write_text(json.dumps({"format": 1, "meta": self.meta, "history": self.history,
                                   "has_model": self.state is not None}, indent=2, default=float))
        os.replace(tmp, d / RESULT_JSON)  # written last: its presence marks a complete result
        return d

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "Result":
        """Read a result written by :meth:`save`."""
        d = Path(directory)
        if not (d / RESULT_JSON).is_file():
            raise CheckpointError(f"{d} holds no finished result ({RESULT_JSON} is missing)")
        doc = json.loads((d / RESULT_JSON).read_text())
        with np.load(d / ARRAYS, allow_pickle=False) as arrays:
            data = {k: torch.from_numpy(arrays[k]) for k in ("X", "F", "X_all", "F_all")}
        state = torch.load(d / MODEL, weights_only=True, map_location="cpu") if doc.get("has_model") else None
        return cls(**data, history=doc["history"], meta=doc["meta"], state=state)
