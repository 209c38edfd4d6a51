"""The problem contract every solver consumes.

A :class:`Problem` is a batched, minimized vector function on a box. Subclasses set the
dimensions and bounds in ``__init__`` and implement :meth:`Problem._evaluate`; the public
:meth:`Problem.evaluate` validates shapes, rejects non-finite objectives, wraps errors raised by
user code and counts evaluations (one per row).
"""
from __future__ import annotations

import math
from typing import Iterable, Protocol, Sequence, runtime_checkable

import numpy as np
import torch
from torch import Tensor

from moo.errors import (
    BoundsError,
    EvaluationError,
    MooError,
    MooTypeError,
    MooValueError,
    NonFiniteError,
    ShapeError,
)

VAR_TYPES = ("real", "int", "cat")


def as_tensor(x, *, like: Tensor | None = None, dtype: torch.dtype | None = None,
              device: torch.device | str | None = None, name: str = "X") -> Tensor:
    """Convert arrays, lists and tensors to a tensor; NumPy and lists become float64.

    ``like`` gives the target dtype and device; an explicit ``dtype``/``device`` wins over it.
    Complex values (which a cast to a real dtype would silently truncate), strings and other
    non-numeric data raise :class:`MooTypeError`; ragged nested lists raise :class:`ShapeError`.
    """
    if isinstance(x, Tensor):
        t = x
        if t.is_complex():
            raise MooTypeError(f"{name} must be real, got a complex tensor ({t.dtype})")
    elif isinstance(x, (np.ndarray, list, tuple, float, int, np.floating, np.integer, np.bool_)):
        try:
            a = np.asarray(x)
        except ValueError as exc:  # ragged nested sequences
            raise ShapeError(f"{name} must be a rectangular array of numbers, got a ragged "
                             f"{type(x).__name__}: {exc}") from None
        except (TypeError, RuntimeError) as exc:  # e.g. a list holding tensors that require grad
            raise MooTypeError(f"{name} must be a tensor or an array of numbers, got a "
                               f"{type(x).__name__} NumPy cannot convert: {exc}") from None
        if a.dtype.kind == "c":
            raise MooTypeError(f"{name} must be real, got complex values ({a.dtype})")
        if a.dtype.kind not in "fiubO":
            raise MooTypeError(f"{name} must hold numbers, got an array of dtype {a.dtype}")
        try:
            a = np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError) as exc:  # object arrays of None, strings, tensors, ...
            raise MooTypeError(f"{name} must hold real numbers, got {type(x).__name__} with "
                               f"entries that are not: {exc}") from None
        t = torch.as_tensor(a)
    else:
        raise MooTypeError(f"{name} must be a torch.Tensor or array-like, got {type(x).__name__}")
    if like is not None:
        dtype = dtype or like.dtype
        device = device or like.device
    if (dtype is not None and t.dtype != dtype) or (device is not None and t.device != torch.device(device)):
        t = t.to(dtype=dtype or t.dtype, device=device or t.device)
    return t


def _check_finite(F: Tensor, what: str, problem: str) -> None:
    if F.dtype.is_floating_point and not bool(torch.isfinite(F).all()):
        bad = (~torch.isfinite(F)).reshape(-1, F.shape[-1]).any(-1).nonzero().flatten()
        raise NonFiniteError(
            f"problem {problem!r} returned non-finite {what} (NaN or inf) for {len(bad)} "
            f"row(s), first at flat index {bad[:5].tolist()}"
        )


class Problem:
    """A multi-objective minimization problem on a box.

    Args:
        n_var: number of decision variables.
        n_obj: number of objectives (at least 1; most indicators need 2+).
        bounds: ``[2, n_var]`` lower and upper bounds (tensor or array-like).
        n_constr: number of inequality constraints, feasible where ``G <= 0``.
        var_types: one of ``"real"``, ``"int"``, ``"cat"`` per variable; ``None`` means all real.
            Integer and categorical variables take integral values within their bounds
            (categorical: indices ``0..k-1``).
        name: a short lower-case name, used in results and tables.

    What a subclass defines (``moo check module:Class`` tries them on random points)::

        class TwoBowls(moo.Problem):
            differentiable = True                    # _evaluate is torch ops: gradient solvers may run

            def __init__(self):
                super().__init__(n_var=3, n_obj=2, bounds=[[-2.0] * 3, [2.0] * 3], n_constr=1)

            def _evaluate(self, X):                  # X [..., n_var] -> F [..., n_obj], minimized
                return torch.stack([((X - 1) ** 2).sum(-1), ((X + 1) ** 2).sum(-1)], -1)

            def _constraints(self, X):               # X [..., n_var] -> G [..., n_constr], feasible where G <= 0
                return (X ** 2).sum(-1, keepdim=True) - 2.0

            @property
            def ref_point(self):                     # hypervolume reference point, raw objectives
                return torch.tensor([20.0, 20.0])

    Hooks:
        _evaluate(X): required. ``X`` is a torch tensor ``[..., n_var]`` in the caller's dtype and
            device; index the last dimension (``X[..., j]``) so any batch shape works. Return
            ``[..., n_obj]`` (a tensor, array or list; it is converted and checked).
        _constraints(X): with ``n_constr > 0``; ``[..., n_constr]``, feasible where ``G <= 0``
            (a constraint ``h(x) >= c`` is written ``c - h(x)``).
        ideal, nadir: properties, ``[n_obj]`` tensors, where known: the best and worst value of each
            objective over the Pareto front; with both, indicators normalize objectives to [0, 1].
        ref_point: property, ``[n_obj]``, the hypervolume reference point in raw objectives.
        pareto_front(n=None): ``[k, n_obj]`` points of the front (``n`` of them where it is
            analytic), for IGD, IGD+ and LHD.
        var_types: pass ``var_types=["real", "int", "cat", ...]`` to ``__init__`` (one per variable).

    Class attributes a subclass may set:
        differentiable: ``True`` when ``_evaluate`` is written in torch ops so gradients flow.
        fingerprint_points: how many fixed points a run evaluates (outside its budget) to
            fingerprint the problem in ``run.json``, so that ``resume`` refuses a problem that
            changed; set 0 where an evaluation is expensive or random (NAS, policy rollouts).

    Optional capabilities a solver may use (:class:`Encodable`, :class:`CheapObjectives`,
    :class:`LogScaledObjectives`) are declared by defining their members.
    """

    differentiable: bool = False
    fingerprint_points: int = 3
    #: How the registry built this problem (name, options, normalize), so runs can rebuild it.
    spec: dict | None = None

    def __init__(self, n_var: int, n_obj: int, bounds, *, n_constr: int = 0,
                 var_types: Sequence[str] | None = None, name: str | None = None):
        for arg, value, low in (("n_var", n_var, 1), ("n_obj", n_obj, 1), ("n_constr", n_constr, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise MooValueError(f"{arg} must be an integer >= {low}, got {value!r}")
        self.n_var, self.n_obj, self.n_constr = int(n_var), int(n_obj), int(n_constr)
        self.bounds = self._check_bounds(bounds)
        if var_types is not None:
            if isinstance(var_types, str) or not isinstance(var_types, Iterable):
                raise MooTypeError(f"var_types must be a sequence with one of {VAR_TYPES} per variable "
                                   f"({self.n_var}), got {type(var_types).__name__} {var_types!r}")
            var_types = tuple(var_types)
            if len(var_types) != self.n_var or any(v not in VAR_TYPES for v in var_types):
                raise MooValueError(
                    f"var_types must list one of {VAR_TYPES} per variable ({self.n_var}), got {var_types!r}")
            if all(v == "real" for v in var_types):
                var_types = None
        self.var_types = var_types
        if name is not None and not isinstance(name, str):
            raise MooTypeError(f"name must be a string or None, got {type(name).__name__} {name!r}")
        self.name = name or type(self).__name__.lower()
        self.n_evals = 0

    # ------------------------------------------------------------------ validation
    def _check_bounds(self, bounds) -> Tensor:
        try:
            b = as_tensor(bounds, name="bounds", dtype=torch.float64)
        except ShapeError as exc:
            raise BoundsError(str(exc)) from None
        if b.shape != (2, self.n_var):
            raise BoundsError(f"bounds must have shape [2, n_var] = [2, {self.n_var}], got {list(b.shape)}")
        if not bool(torch.isfinite(b).all()):
            raise BoundsError("bounds must be finite")
        if bool((b[0] > b[1]).any()):
            idx = (b[0] > b[1]).nonzero().flatten().tolist()
            raise BoundsError(f"lower bound above upper bound for variable(s) {idx[:10]}: "
                              f"lower={b[0, idx[:3]].tolist()}, upper={b[1, idx[:3]].tolist()}")
        return b.cpu()

    def _check_input(self, X) -> Tensor:
        """``X`` as a real floating tensor ``[..., n_var]``: float tensors keep their dtype and
        device; integer and bool tensors, like arrays and lists, become float64. Complex, non-finite
        or wrongly shaped input is refused before any user code runs."""
        X = as_tensor(X, name="X")
        if not X.dtype.is_floating_point:
            X = X.to(torch.float64)
        if X.dim() == 0 or X.shape[-1] != self.n_var:
            raise ShapeError(f"X must have shape [..., n_var] with n_var = {self.n_var} for problem "
                             f"{self.name!r}, got {list(X.shape)}")
        if not bool(torch.isfinite(X).all()):
            bad = (~torch.isfinite(X.detach())).reshape(-1, self.n_var).any(-1).nonzero().flatten()
            raise NonFiniteError(f"X contains NaN or inf in {len(bad)} row(s) (first at flat index "
                                 f"{bad[:5].tolist()}); problem {self.name!r} is defined on finite points")
        return X

    def _check_output(self, out, X: Tensor, width: int, what: str) -> Tensor:
        """``out`` as a finite ``[..., width]`` tensor in ``X``'s dtype and on its device."""
        if isinstance(out, Tensor) and out.is_complex():
            raise MooTypeError(f"problem {self.name!r} returned complex {what} ({out.dtype}); "
                               "objectives and constraints are real")
        expected = tuple(X.shape[:-1]) + (width,)
        if not isinstance(out, Tensor):
            out = as_tensor(out, name=f"{what} returned by problem {self.name!r}")
            if out.numel() == 0 and math.prod(expected) == 0:
                out = out.reshape(expected)  # an empty list has no trailing dimension to check
        if tuple(out.shape) != expected:
            raise ShapeError(f"problem {self.name!r} returned {what} of shape {list(out.shape)}, "
                             f"expected {list(expected)}")
        if out.dtype != X.dtype or out.device != X.device:
            out = out.to(device=X.device, dtype=X.dtype)
        _check_finite(out, what, self.name)
        return out

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, X) -> Tensor:
        """Objective values ``F`` of shape ``[..., n_obj]`` for ``X`` of shape ``[..., n_var]``.

        Runs on ``X``'s device and dtype (arrays, lists and integer or bool tensors become float64
        tensors); ``F`` comes back in that dtype and on that device whatever ``_evaluate`` returned.
        Counts one evaluation per row in :attr:`n_evals`, only for a batch that is accepted.

        Raises :class:`ShapeError` (X or F of the wrong shape), :class:`MooTypeError` (complex or
        non-numeric X or F), :class:`NonFiniteError` (NaN/inf in X or F) and
        :class:`EvaluationError` (``_evaluate`` raised; the original exception is chained).
        """
        X = self._check_input(X)
        try:
            F = self._evaluate(X)
        except MooError:
            raise
        except Exception as exc:
            raise EvaluationError(f"problem {self.name!r} raised {type(exc).__name__} while evaluating "
                                  f"X of shape {list(X.shape)}: {exc}") from exc
        F = self._check_output(F, X, self.n_obj, "objectives")
        self.n_evals += int(np.prod(X.shape[:-1], dtype=np.int64))
        return F

    def constraints(self, X) -> Tensor:
        """Constraint values ``G`` of shape ``[..., n_constr]``; feasible where ``G <= 0``."""
        X = self._check_input(X)
        if self.n_constr == 0:
            return X.new_zeros(X.shape[:-1] + (0,))
        try:
            G = self._constraints(X)
        except MooError:
            raise
        except Exception as exc:
            raise EvaluationError(f"problem {self.name!r} raised {type(exc).__name__} in constraints: {exc}") from exc
        return self._check_output(G, X, self.n_constr, "constraints")

    def _evaluate(self, X: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement _evaluate(X)")

    def _constraints(self, X: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} declares n_constr={self.n_constr} "
                                  "but does not implement _constraints(X)")

    # ------------------------------------------------------------------ knowledge
    @property
    def xl(self) -> Tensor:
        return self.bounds[0]

    @property
    def xu(self) -> Tensor:
        return self.bounds[1]

    @property
    def ideal(self) -> Tensor | None:
        """Best value of each objective over the Pareto front, where known."""
        return None

    @property
    def nadir(self) -> Tensor | None:
        """Worst value of each objective over the Pareto front, where known."""
        return None

    @property
    def ref_point(self) -> Tensor | None:
        """The problem's own hypervolume reference point in raw objective space, where it has one."""
        return None

    def pareto_front(self, n: int | None = None) -> Tensor | None:
        """Points on (an approximation of) the Pareto front, ``[k, n_obj]`` float64, or ``None``.

        ``n`` asks for about ``n`` points where the front is analytic; problems with a shipped
        reference front return it whole.
        """
        return None

    def is_discrete(self) -> bool:
        return self.var_types is not None

    def describe(self) -> dict:
        """A JSON-friendly summary used by ``moo info`` and stored in results."""
        out = {
            "name": self.name,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "n_var": self.n_var,
            "n_obj": self.n_obj,
            "n_constr": self.n_constr,
            "differentiable": self.differentiable,
            "var_types": list(self.var_types) if self.var_types else "all real",
            "lower": self.xl.tolist(),
            "upper": self.xu.tolist(),
        }
        for key in ("ideal", "nadir", "ref_point"):
            value = getattr(self, key)
            out[key] = None if value is None else as_tensor(value).tolist()
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, n_var={self.n_var}, n_obj={self.n_obj})"


# ---------------------------------------------------------------------- optional capabilities
# A solver that can use one of these tests ``isinstance(problem, Capability)``; a problem gains it
# by defining the members (no base class to inherit).
@runtime_checkable
class Encodable(Protocol):
    """A problem with its own predictor features: ``encode(X [..., n_var]) -> [..., k]`` (e.g. an
    architecture's counted costs beside its choices), used by predictor-assisted searches."""

    def encode(self, X: Tensor) -> Tensor: ...


@runtime_checkable
class CheapObjectives(Protocol):
    """A problem some of whose objectives cost nothing to compute (counted, not trained):
    ``cheap_objectives`` lists their indices, ``evaluate_cheap(X)`` returns them (counted
    neither as true evaluations nor against a budget), equal to what ``evaluate`` returns."""

    cheap_objectives: tuple[int, ...]

    def evaluate_cheap(self, X: Tensor) -> Tensor: ...


@runtime_checkable
class LogScaledObjectives(Protocol):
    """A problem whose objectives ``log_objectives`` (indices) span orders of magnitude, so that
    models fit and compare them on a log scale."""

    log_objectives: tuple[int, ...]


class NormalizedProblem(Problem):
    """A view of ``problem`` with objectives mapped by ideal/nadir to ``[0, 1]``.

    The reference point becomes 1.1 in every objective, the convention of the Pareto-set
    learning literature (PSL-MOBO, SVH-PSL).
    """

    def __init__(self, problem: Problem, ideal=None, nadir=None):
        ideal = problem.ideal if ideal is None else ideal
        nadir = problem.nadir if nadir is None else nadir
        if ideal is None or nadir is None:
            raise MooValueError(f"normalize=True needs ideal and nadir points, and problem "
                                f"{problem.name!r} does not define them; pass ideal= and nadir=")
        self.inner = problem
        self._ideal = as_tensor(ideal, dtype=torch.float64)
        self._nadir = as_tensor(nadir, dtype=torch.float64)
        if self._ideal.shape != (problem.n_obj,) or self._nadir.shape != (problem.n_obj,):
            raise ShapeError(f"ideal and nadir must have shape [{problem.n_obj}], got "
                             f"{list(self._ideal.shape)} and {list(self._nadir.shape)}")
        if bool((self._nadir <= self._ideal).any()):
            raise MooValueError(f"nadir must exceed ideal in every objective, got ideal={self._ideal.tolist()}, "
                                f"nadir={self._nadir.tolist()}")
        super().__init__(problem.n_var, problem.n_obj, problem.bounds, n_constr=problem.n_constr,
                         var_types=problem.var_types, name=problem.name)
        self.differentiable = problem.differentiable

    def _scale(self, F: Tensor) -> Tensor:
        ideal = self._ideal.to(F)
        return (F - ideal) / (self._nadir.to(F) - ideal)

    def _evaluate(self, X: Tensor) -> Tensor:
        # the inner problem's output is checked (and converted) under its own name before scaling
        return self._scale(self.inner._check_output(self.inner._evaluate(X), X, self.n_obj, "objectives"))

    def _constraints(self, X: Tensor) -> Tensor:
        return self.inner._check_output(self.inner._constraints(X), X, self.n_constr, "constraints")

    @property
    def ideal(self) -> Tensor:
        return torch.zeros(self.n_obj, dtype=torch.float64)

    @property
    def nadir(self) -> Tensor:
        return torch.ones(self.n_obj, dtype=torch.float64)

    @property
    def ref_point(self) -> Tensor:
        return torch.full((self.n_obj,), 1.1, dtype=torch.float64)

    def pareto_front(self, n: int | None = None) -> Tensor | None:
        front = self.inner.pareto_front(n)
        return None if front is None else self._scale(as_tensor(front, dtype=torch.float64))

    def describe(self) -> dict:
        out = super().describe()
        out["normalized"] = {"ideal": self._ideal.tolist(), "nadir": self._nadir.tolist()}
        return out
