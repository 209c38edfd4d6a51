"""The :class:`Result` every solver returns, and its on-disk form.

A saved result is a folder: ``result.json`` (metadata and history), ``arrays.npz`` (the
approximation set and every evaluated point; written and read with ``allow_pickle=False``) and,
for Pareto-set learners, ``model.pt`` (the algorithm's ``state_dict``, read with
``weights_only=True``). Nothing is pickled, and loading checks the format version and that
the arrays' shapes agree, so a truncated, tampered or foreign folder raises
:class:`~moo.errors.FormatError`. A result is data: rebuilding its problem or model
(:meth:`Result.problem`, :meth:`Result.pareto_set`) goes through :mod:`moo.rebuild`, which imports
a user's ``module:Attr`` only with ``trust=True``.
"""
from __future__ import annotations

import os
import platform
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from moo.errors import FormatError, MooError, MooTypeError, MooValueError, RunFolderError, UntrustedSpecError
from moo.problem import Problem, as_tensor
from moo.rebuild import algorithm_from_spec, problem_from_spec
from moo.run_folder import (check_archive, check_fields, read_arrays, read_json, read_torch, write_arrays,
                            write_json, write_torch)

RESULT_JSON, ARRAYS, MODEL = "result.json", "arrays.npz", "model.pt"
RESULT_FORMAT = 1
_ARRAYS = ("X", "F", "X_all", "F_all")


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


_META_TYPES = {"seed": (int,), "budget": (int,), "n_evals": (int,), "n_steps": (int,), "wall_time": (int, float),
               "problem": (dict,), "algorithm": (dict,), "conventions": (dict, type(None))}


def _check_meta(doc: dict, source: str) -> None:
    """Refuse metadata and history whose known fields have the wrong types (a tampered file)."""
    check_fields(doc["meta"], _META_TYPES, f"result {source!r}, meta", optional=True)
    for i, rec in enumerate(doc["history"]):
        hv = rec.get("hv") if isinstance(rec, dict) else None
        if not isinstance(rec, dict) or not (hv is None or isinstance(hv, (int, float)) and not isinstance(hv, bool)):
            raise FormatError(f"result {source!r}: history[{i}] must be a table whose 'hv' is a number, got {rec!r}")


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

    def problem(self, *, trust: bool = False) -> Problem:
        """Rebuild the problem from the stored spec (problems built by name only).

        A user's own ``module:Attr`` problem is imported only with ``trust=True``: importing
        runs code named in the result, which may come from someone else.
        """
        spec = self.meta.get("problem_spec")
        if not spec:
            raise MooValueError("this result's problem was built in code, not by name; it cannot be rebuilt")
        return problem_from_spec(spec, trust=trust, source="this result")

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
        if m.get("feasible") is False:
            lines.append(f"INFEASIBLE: no point satisfies the constraints (largest total violation "
                         f"{m.get('max_violation')}); these are the least infeasible points, not a front")
        if self.F.shape[0]:
            lines.append(f"objective ranges: min {np.round(_np(self.F.min(0).values), 4).tolist()}, "
                         f"max {np.round(_np(self.F.max(0).values), 4).tolist()}")
        return "\n".join(lines)

    def pareto_set(self, prefs, *, trust: bool = False) -> Tensor:
        """Solutions of the learned Pareto-set model for preferences ``prefs [k, n_obj]``.

        Rebuilds the problem and the algorithm from the stored specs (see :meth:`problem` for
        ``trust``) and loads the stored model into it.
        """
        if self.state is None:
            raise MooTypeError(f"algorithm {self.meta.get('algorithm', {}).get('name')!r} did not learn a "
                               "Pareto-set model; only Pareto-set learners (psl, psl-mobo, ...) have one")
        algorithm = algorithm_from_spec(self.meta.get("algorithm"), trust=trust, source="this result")
        algorithm.setup(self.problem(trust=trust), seed=self.meta.get("seed", 0), device="cpu",
                        budget=self.meta.get("budget"))
        try:
            algorithm.load_state_dict(self.state)
        except MooError:
            raise
        except Exception as exc:  # a tampered or foreign model.pt
            raise FormatError(f"the stored model does not fit {algorithm.name!r}: {type(exc).__name__}: {exc}") from exc
        with torch.no_grad():
            return algorithm.pareto_set(as_tensor(prefs, name="prefs")).cpu()

    def plot(self, path: str | os.PathLike | None = None, *, kind: str = "front", html: bool = False,
             reference_front: bool = True, trust: bool = False):
        """Plot the front (``kind="front"``) or the hypervolume history (``kind="convergence"``).

        Returns the figure; writes a PNG (or HTML with ``html=True``) when ``path`` is given. The
        reference front comes from the rebuilt problem; for a user's own problem that needs
        ``trust=True`` (see :meth:`problem`), and without it the front is drawn alone.
        """
        from moo import plot

        if kind == "front":
            ref = None
            if reference_front and self.meta.get("problem_spec"):
                try:
                    ref = self.problem(trust=trust).pareto_front()
                except UntrustedSpecError as exc:
                    warnings.warn(f"reference front not drawn: {exc}", stacklevel=2)
            return plot.plot_front(self.F, reference_front=ref, title=self._title(), path=path, html=html)
        if kind == "convergence":
            return plot.plot_convergence({self._title(): self.history}, path=path, html=html)
        raise ValueError(f"kind must be 'front' or 'convergence', got {kind!r}")

    def _title(self) -> str:
        return f"{self.meta.get('algorithm', {}).get('name', '?')} on {self.meta.get('problem', {}).get('name', '?')}"

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | os.PathLike) -> Path:
        """Write the result into ``directory`` (created if needed); returns the folder."""
        from moo.run_folder import make_folder

        d = make_folder(Path(directory), "result folder")
        write_arrays(d / ARRAYS, **{name: _np(getattr(self, name)) for name in _ARRAYS})
        if self.state is not None:
            write_torch(self.state, d / MODEL)
        # written last: its presence marks a complete result
        write_json({"format": RESULT_FORMAT, "meta": self.meta, "history": self.history,
                    "has_model": self.state is not None}, d / RESULT_JSON)
        return d

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "Result":
        """Read a result written by :meth:`save`; never runs code named in it.

        Raises :class:`~moo.errors.FormatError` for a truncated, tampered or unknown-version
        file, or arrays whose shapes disagree.
        """
        d = Path(directory)
        if not (d / RESULT_JSON).is_file():
            raise RunFolderError(f"{str(d)!r} holds no finished result ({RESULT_JSON} is missing)")
        doc = read_json(d / RESULT_JSON, "result", formats=(RESULT_FORMAT,),
                        keys={"meta": dict, "history": list, "has_model": bool})
        arrays = read_arrays(d / ARRAYS, _ARRAYS, "result arrays")
        problem = doc["meta"].get("problem")
        dims = problem if isinstance(problem, dict) else {}
        n_var, n_obj = (v if isinstance(v, int) and not isinstance(v, bool) else None
                        for v in (dims.get("n_var"), dims.get("n_obj")))
        where = f"result arrays {str(d / ARRAYS)!r}"
        check_archive(arrays["X"], arrays["F"], where + " (approximation set)", n_var=n_var, n_obj=n_obj)
        check_archive(arrays["X_all"], arrays["F_all"], where + " (evaluated points)", n_var=n_var, n_obj=n_obj)
        if arrays["X"].shape[1] != arrays["X_all"].shape[1] or arrays["F"].shape[1] != arrays["F_all"].shape[1]:
            raise FormatError(f"{where}: the approximation set and the evaluated points have different widths")
        _check_meta(doc, str(d / RESULT_JSON))
        state = None
        if doc["has_model"]:
            state = read_torch(d / MODEL, "result model")
            if not isinstance(state, dict):
                raise FormatError(f"result model {str(d / MODEL)!r} must hold a table, got {type(state).__name__}")
        data = {k: torch.from_numpy(np.ascontiguousarray(arrays[k], dtype=np.float64)) for k in _ARRAYS}
        return cls(**data, history=doc["history"], meta=doc["meta"], state=state)
