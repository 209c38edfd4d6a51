"""Adapters that turn outside definitions into :class:`moo.Problem` (and one back into pymoo).

- :class:`FunctionProblem` wraps a plain Python/NumPy callable: the black-box case.
- :func:`from_pymoo` wraps a pymoo ``Problem``.
- :func:`from_botorch` wraps a BoTorch multi-objective test function.
- :func:`to_pymoo` exposes a moo problem to pymoo's algorithms.

All of them go through :meth:`moo.Problem.evaluate`, so a wrong shape raises
:class:`moo.ShapeError`, a NaN/inf raises :class:`moo.NonFiniteError`, and any other exception
raised inside the wrapped code surfaces as :class:`moo.EvaluationError` with the original chained.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from moo.errors import BoundsError, MooTypeError, MooValueError, ShapeError
from moo.problem import Problem, as_tensor


def _to_numpy(X: Tensor) -> np.ndarray:
    return X.detach().to("cpu", torch.float64).numpy()


def _rows_out(values, n_rows: int, width: int, what: str, source: str) -> np.ndarray:
    """``values`` as a float64 ``[n_rows, width]`` array, or a :class:`ShapeError` naming ``source``."""
    out = np.asarray(values, dtype=np.float64)
    if out.ndim == 1 and width == 1 and out.shape[0] == n_rows:
        out = out[:, None]
    if out.shape != (n_rows, width):
        raise ShapeError(f"{source} returned {what} of shape {list(out.shape)} for {n_rows} row(s), "
                         f"expected [{n_rows}, {width}]")
    return out


def _optional_tensor(value, n_obj: int, name: str) -> Tensor | None:
    if value is None:
        return None
    t = as_tensor(value, dtype=torch.float64, name=name).reshape(-1)
    if t.shape != (n_obj,):
        raise ShapeError(f"{name} must have {n_obj} entries (one per objective), got {list(t.shape)}")
    return t


class FunctionProblem(Problem):
    """A problem defined by a Python/NumPy callable (a black box: not differentiable).

    Args:
        fn: with ``vectorized=True`` (default), maps an ``[N, n_var]`` float64 array to ``[N, n_obj]``;
            with ``vectorized=False``, maps one ``[n_var]`` row to ``[n_obj]`` and is called per row.
        n_var, n_obj: dimensions.
        bounds: ``[2, n_var]`` lower and upper bounds.
        constraints_fn: optional callable of the same kind returning ``[N, n_constr]`` (feasible where
            ``<= 0``); ``n_constr`` must then be given.
        ideal, nadir, ref_point, front: optional knowledge about the problem (objective space).
        var_types, name: as for :class:`moo.Problem`.

    Inputs on any device/dtype are evaluated on CPU in float64 and returned on the caller's device
    and dtype. Leading batch dimensions are flattened for ``fn`` and restored afterwards.
    """

    differentiable = False

    def __init__(self, fn: Callable, n_var: int, n_obj: int, bounds, *, vectorized: bool = True,
                 constraints_fn: Callable | None = None, n_constr: int = 0, ideal=None, nadir=None,
                 ref_point=None, front=None, var_types: Sequence[str] | None = None, name: str | None = None):
        if not callable(fn):
            raise MooTypeError(f"fn must be callable, got {type(fn).__name__}")
        if constraints_fn is not None and not callable(constraints_fn):
            raise MooTypeError(f"constraints_fn must be callable or None, got {type(constraints_fn).__name__}")
        if (constraints_fn is None) != (n_constr == 0):
            raise MooValueError(f"constraints_fn and n_constr go together: got constraints_fn="
                                f"{'a callable' if constraints_fn else None} and n_constr={n_constr}")
        super().__init__(n_var, n_obj, bounds, n_constr=n_constr, var_types=var_types,
                         name=name or getattr(fn, "__name__", "function"))
        self.fn, self.constraints_fn, self.vectorized = fn, constraints_fn, bool(vectorized)
        self._ideal = _optional_tensor(ideal, self.n_obj, "ideal")
        self._nadir = _optional_tensor(nadir, self.n_obj, "nadir")
        self._ref_point = _optional_tensor(ref_point, self.n_obj, "ref_point")
        self._front = None
        if front is not None:
            self._front = as_tensor(front, dtype=torch.float64, name="front")
            if self._front.dim() != 2 or self._front.shape[1] != self.n_obj:
                raise ShapeError(f"front must have shape [k, n_obj={self.n_obj}], got {list(self._front.shape)}")

    def _call(self, fn: Callable, X: Tensor, width: int, what: str) -> Tensor:
        rows = _to_numpy(X).reshape(-1, self.n_var)
        source = f"function {self.name!r}"
        if self.vectorized:
            out = _rows_out(fn(rows), rows.shape[0], width, what, source)
        else:
            out = np.empty((rows.shape[0], width))
            for r, x in enumerate(rows):
                value = np.asarray(fn(x), dtype=np.float64).reshape(-1)
                if value.shape != (width,):
                    raise ShapeError(f"{source} returned {what} of shape {list(np.shape(value))} for row {r}, "
                                     f"expected [{width}]")
                out[r] = value
        return torch.from_numpy(out).to(device=X.device, dtype=X.dtype).reshape(X.shape[:-1] + (width,))

    def _evaluate(self, X: Tensor) -> Tensor:
        return self._call(self.fn, X, self.n_obj, "objectives")

    def _constraints(self, X: Tensor) -> Tensor:
        return self._call(self.constraints_fn, X, self.n_constr, "constraints")

    @property
    def ideal(self) -> Tensor | None:
        return self._ideal

    @property
    def nadir(self) -> Tensor | None:
        return self._nadir

    @property
    def ref_point(self) -> Tensor | None:
        return self._ref_point

    def pareto_front(self, n: int | None = None) -> Tensor | None:
        return self._front


class PymooProblem(Problem):
    """A pymoo ``Problem`` behind the moo contract; see :func:`from_pymoo`."""

    differentiable = False

    def __init__(self, pymoo_problem):
        self.source = pymoo_problem
        xl, xu = pymoo_problem.xl, pymoo_problem.xu
        if xl is None or xu is None:
            raise BoundsError(f"pymoo problem {type(pymoo_problem).__name__} has no bounds (xl={xl}, xu={xu}); "
                              "moo problems live on a box")
        n_var = int(pymoo_problem.n_var)
        bounds = np.stack([np.broadcast_to(np.asarray(xl, dtype=np.float64), (n_var,)),
                           np.broadcast_to(np.asarray(xu, dtype=np.float64), (n_var,))])
        self.n_ieq, self.n_eq = int(pymoo_problem.n_ieq_constr), int(pymoo_problem.n_eq_constr)
        vtype = getattr(pymoo_problem, "vtype", None)
        var_types = ["int"] * n_var if vtype is not None and np.issubdtype(np.dtype(vtype), np.integer) else None
        super().__init__(n_var, int(pymoo_problem.n_obj), bounds, n_constr=self.n_ieq + self.n_eq,
                         var_types=var_types, name=type(pymoo_problem).__name__.lower())

    def _run(self, X: Tensor) -> tuple[dict, int]:
        rows = _to_numpy(X).reshape(-1, self.n_var)
        return self.source.evaluate(rows, return_as_dictionary=True), rows.shape[0]

    def _evaluate(self, X: Tensor) -> Tensor:
        out, n = self._run(X)
        F = _rows_out(out["F"], n, self.n_obj, "objectives", f"pymoo problem {self.name!r}")
        return torch.from_numpy(F).to(device=X.device, dtype=X.dtype).reshape(X.shape[:-1] + (self.n_obj,))

    def _constraints(self, X: Tensor) -> Tensor:
        out, n = self._run(X)
        parts = []
        if self.n_ieq:
            parts.append(_rows_out(out["G"], n, self.n_ieq, "inequality constraints", f"pymoo problem {self.name!r}"))
        if self.n_eq:
            H = _rows_out(out["H"], n, self.n_eq, "equality constraints", f"pymoo problem {self.name!r}")
            parts.append(np.abs(H))
        G = np.concatenate(parts, axis=1)
        return torch.from_numpy(G).to(device=X.device, dtype=X.dtype).reshape(X.shape[:-1] + (self.n_constr,))

    def pareto_front(self, n: int | None = None) -> Tensor | None:
        """pymoo's ``pareto_front()`` at pymoo's own default size, where it has one offline.

        ``n`` is not passed on: pymoo caches the first front it computes whatever the arguments, and
        some problems read a positional argument as reference directions."""
        try:
            front = self.source.pareto_front()
        except Exception:  # pymoo fetches some fronts over the network: no front here
            return None
        if front is None:
            return None
        front = np.asarray(front, dtype=np.float64)
        return torch.from_numpy(front) if front.ndim == 2 and front.shape[1] == self.n_obj else None

    @property
    def ideal(self) -> Tensor | None:
        front = self.pareto_front()
        return None if front is None else front.min(0).values

    @property
    def nadir(self) -> Tensor | None:
        front = self.pareto_front()
        return None if front is None else front.max(0).values


def from_pymoo(pymoo_problem) -> PymooProblem:
    """Wrap a pymoo ``Problem``: ``xl``/``xu`` become the bounds, ``n_ieq_constr`` inequality
    constraints (``G <= 0``) come first in :meth:`Problem.constraints`, then ``|H|`` for the
    ``n_eq_constr`` equality constraints; ``pareto_front()``, ``ideal`` and ``nadir`` come from pymoo's
    front where pymoo can give one offline. pymoo minimizes, as moo does. Not differentiable."""
    try:
        from pymoo.core.problem import Problem as _PymooBase
    except ImportError as exc:  # pragma: no cover - pymoo is a dependency
        raise MooTypeError("from_pymoo needs pymoo installed") from exc
    if not isinstance(pymoo_problem, _PymooBase):
        raise MooTypeError(f"from_pymoo expects a pymoo.core.problem.Problem, got {type(pymoo_problem).__name__}")
    return PymooProblem(pymoo_problem)


class BoTorchProblem(Problem):
    """A BoTorch multi-objective test function behind the moo contract; see :func:`from_botorch`."""

    differentiable = True

    def __init__(self, test_function):
        self.source = test_function
        bounds = test_function.bounds.detach().to("cpu", torch.float64)
        n_var = int(test_function.dim)
        var_types = ["real"] * n_var
        for j in getattr(test_function, "discrete_inds", []) or []:
            var_types[j] = "int"
        for j in getattr(test_function, "categorical_inds", []) or []:
            var_types[j] = "cat"
        n_constr = int(getattr(test_function, "num_constraints", 0) or 0)
        super().__init__(n_var, int(test_function.num_objectives), bounds, n_constr=n_constr,
                         var_types=var_types, name=type(test_function).__name__.lower())
        if any(v != "real" for v in var_types):
            self.differentiable = False

    def _evaluate(self, X: Tensor) -> Tensor:
        return self.source.evaluate_true(X)

    def _constraints(self, X: Tensor) -> Tensor:
        return -self.source.evaluate_slack_true(X)

    @property
    def ref_point(self) -> Tensor:
        return torch.as_tensor(self.source._ref_point, dtype=torch.float64)

    def pareto_front(self, n: int | None = None) -> Tensor | None:
        """BoTorch's ``gen_pareto_front(n)`` (default 100 points), in minimization form; ``None`` where it has none."""
        try:
            front = self.source.gen_pareto_front(n or 100)
        except NotImplementedError:
            return None
        front = front.detach().to("cpu", torch.float64)
        return -front if self.source.negate else front

    @property
    def ideal(self) -> Tensor | None:
        front = self.pareto_front(1000)
        return None if front is None else front.min(0).values

    @property
    def nadir(self) -> Tensor | None:
        front = self.pareto_front(1000)
        return None if front is None else front.max(0).values


def from_botorch(test_function) -> BoTorchProblem:
    """Wrap a BoTorch ``MultiObjectiveTestProblem`` (e.g. ``BraninCurrin()``, ``DTLZ2(dim=6)``).

    BoTorch defines its multi-objective test functions as minimization problems and maximizes
    ``forward(X) = -f(X)`` when built with ``negate=True`` (the setting its tutorials use). moo
    always minimizes, so the adapter evaluates the noise-free ``evaluate_true(X)`` — the
    minimization form — whatever ``negate`` says, and maps the reference point and
    ``gen_pareto_front`` back to it. Constraint slacks ``c(x) >= 0`` become ``G = -c <= 0``.
    Differentiable (torch) unless the function has discrete or categorical inputs.
    """
    try:
        from botorch.test_functions.base import MultiObjectiveTestProblem
    except ImportError as exc:  # pragma: no cover - botorch is a dependency
        raise MooTypeError("from_botorch needs botorch installed") from exc
    if not isinstance(test_function, MultiObjectiveTestProblem):
        raise MooTypeError("from_botorch expects a botorch.test_functions MultiObjectiveTestProblem, "
                           f"got {type(test_function).__name__}")
    return BoTorchProblem(test_function)


def to_pymoo(problem: Problem, *, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"):
    """A pymoo ``Problem`` that evaluates ``problem`` in batches (counted in ``problem.n_evals``).

    Constraints, when ``problem`` has them, are passed as pymoo inequality constraints ``G <= 0``.
    """
    from pymoo.core.problem import Problem as _PymooBase

    class _MooAsPymoo(_PymooBase):
        def __init__(self):
            super().__init__(n_var=problem.n_var, n_obj=problem.n_obj, n_ieq_constr=problem.n_constr,
                             xl=problem.xl.numpy(), xu=problem.xu.numpy())

        def _evaluate(self, x, out, *args, **kwargs):
            X = torch.as_tensor(np.asarray(x, dtype=np.float64), dtype=dtype, device=device)
            out["F"] = _to_numpy(problem.evaluate(X))
            if problem.n_constr:
                out["G"] = _to_numpy(problem.constraints(X))

    return _MooAsPymoo()
