"""The Evaluator: one set of conventions (normalization, reference point, reference front) for
every score, recorded next to the numbers so results from different runs are comparable."""
from __future__ import annotations

import math
import warnings
from typing import Iterable

import torch
from torch import Tensor

from moo.errors import IndicatorUnavailableError, MooValueError, NonFiniteError, ShapeError
from moo.indicators._common import choice, point_mask
from moo.indicators.distance import epsilon_additive, gd, gd_plus, igd, igd_plus
from moo.indicators.hypervolume import hypervolume
from moo.indicators.r2 import r2
from moo.problem import NormalizedProblem, Problem, as_tensor

__all__ = ["Evaluator", "LHD_FLOOR", "NORMALIZED_REF"]

NORMALIZED_REF = 1.1  # reference point in every objective of the normalized space
LHD_FLOOR = 1e-14  # LHD = ln(max(HV(front) - HV(F), LHD_FLOOR))
INDICATORS = ("hv", "lhd", "igd", "igd_plus", "gd", "gd_plus", "epsilon", "r2")


def _vec(value, name: str, m: int | None) -> Tensor | None:
    if value is None:
        return None
    v = as_tensor(value, name=name, dtype=torch.float64).detach().cpu()
    if v.dim() != 1 or (m is not None and v.shape[0] != m):
        raise ShapeError(f"{name} must have shape [n_obj] = [{m}], got {list(v.shape)}")
    if not bool(torch.isfinite(v).all()):
        raise NonFiniteError(f"{name} must be finite, got {v.tolist()}")
    return v


class Evaluator:
    """Scores approximation sets under fixed, recorded conventions.

    Policy for the objective space and the hypervolume reference point (``normalize=None``):

    1. ideal and nadir known (arguments first, else the problem's): objectives are normalized,
       ``(F - ideal) / (nadir - ideal)``, and the reference point is 1.1 in every objective
       (PSL-MOBO / SVH-PSL convention). A :class:`~moo.problem.NormalizedProblem` has ideal 0 and
       nadir 1, so its objectives are not transformed again.
    2. otherwise the problem's own ``ref_point`` (or the ``ref_point`` argument) in raw space.
    3. otherwise, with a reference front, normalization by the front's own min/max and 1.1.
    4. otherwise hypervolume is unavailable and asking for it raises
       :class:`~moo.errors.IndicatorUnavailableError` (a :class:`~moo.errors.MooValueError`)
       naming what is missing.

    An explicit ``ref_point`` argument is read in raw space unless ``normalize=True`` (then in
    the normalized space). ``normalize=True`` without ideal/nadir uses the reference front's
    min/max; ``normalize=False`` keeps raw objectives. Points beyond the reference point
    contribute nothing; when no point dominates it the hypervolume is 0 and a warning names it.

    The reference front is the ``reference_front`` argument, else ``problem.pareto_front()``.
    IGD, IGD+, GD, GD+, epsilon and LHD need it; R2 uses the ideal point (0 once normalized)
    and :func:`moo.indicators.default_weights`. LHD is the log hypervolume difference of SVH-PSL,
    ``ln(max(HV(front) - HV(F), 1e-14))`` (natural log).

    Edge cases follow :mod:`moo.indicators`: an empty ``F`` has hypervolume 0 (so LHD is
    ``ln(HV(front))``) and IGD, IGD+, GD, GD+, epsilon and R2 ``+inf``; NaN or ``±inf`` in ``F``,
    the reference front, ``ideal``, ``nadir`` or ``ref_point`` raises
    :class:`~moo.errors.NonFiniteError`; an empty reference front raises
    :class:`~moo.errors.ShapeError`.
    """

    def __init__(self, problem: Problem | None = None, *, ideal=None, nadir=None, ref_point=None,
                 normalize: bool | None = None, reference_front=None, hv_method: str = "auto"):
        choice(hv_method, ("auto", "torch", "moocore"), "hv_method")
        m = problem.n_obj if problem is not None else None
        given = ideal is not None and nadir is not None
        if problem is not None:
            ideal = problem.ideal if ideal is None else ideal
            nadir = problem.nadir if nadir is None else nadir
        ideal, nadir = _vec(ideal, "ideal", m), _vec(nadir, "nadir", m)
        front = reference_front if reference_front is not None else (
            problem.pareto_front() if problem is not None else None)
        if front is not None:
            front = as_tensor(front, name="reference_front", dtype=torch.float64).detach().cpu()
            if front.dim() != 2 or (m is not None and front.shape[1] != m) or front.shape[0] == 0:
                raise ShapeError(f"reference_front must have shape [k >= 1, n_obj = {m}], got {list(front.shape)}")
            point_mask(None, front, "reference_front")
            m = front.shape[1]
        raw_ref = _vec(ref_point, "ref_point", m)
        problem_ref = _vec(problem.ref_point, "problem.ref_point", m) if problem is not None else None
        has_ideal_nadir = ideal is not None and nadir is not None

        if normalize is None:
            if raw_ref is not None:
                normalize = False
            elif has_ideal_nadir:
                normalize = True
            elif problem_ref is not None:
                normalize = False
            else:
                normalize = front is not None
        if normalize:
            self.source = "ideal/nadir arguments" if given else "problem ideal/nadir"
            if not has_ideal_nadir:
                if front is None:
                    raise MooValueError("normalize=True needs ideal and nadir (arguments or problem) or a "
                                        "reference front to take them from; none was given")
                ideal, nadir = front.amin(0), front.amax(0)
                self.source = "reference front min/max"
            if bool((nadir <= ideal).any()):
                raise MooValueError(f"nadir must exceed ideal in every objective to normalize, got "
                                    f"ideal={ideal.tolist()}, nadir={nadir.tolist()}")
            m = ideal.shape[0]
            self.ref_point = raw_ref if raw_ref is not None else torch.full((m,), NORMALIZED_REF, dtype=torch.float64)
            self.ref_source = "ref_point argument (normalized space)" if raw_ref is not None else \
                f"{NORMALIZED_REF} in every normalized objective"
            if isinstance(problem, NormalizedProblem) and not given:
                self.source = "NormalizedProblem (ideal 0, nadir 1: unchanged)"
        else:
            self.ref_point = raw_ref if raw_ref is not None else problem_ref
            self.source = "none"
            self.ref_source = ("ref_point argument" if raw_ref is not None else
                               "problem ref_point" if problem_ref is not None else "none (hypervolume unavailable)")
        self.problem = problem
        self.normalize = bool(normalize)
        self.ideal, self.nadir = ideal, nadir
        self.n_obj = m
        self.hv_method = hv_method
        self.reference_front = None if front is None else self.transform(front)
        self._front_hv: float | None = None

    @classmethod
    def for_problem(cls, problem: Problem) -> "Evaluator":
        """The default conventions for ``problem`` (see the class docstring)."""
        return cls(problem)

    # ------------------------------------------------------------------ helpers
    def transform(self, F) -> Tensor:
        """``F [n, m]`` as float64 on CPU in the evaluator's space (normalized when it normalizes)."""
        F = as_tensor(F, name="F", dtype=torch.float64).detach().cpu()
        if F.dim() != 2 or (self.n_obj is not None and F.shape[1] != self.n_obj):
            raise ShapeError(f"F must have shape [n, n_obj = {self.n_obj}], got {list(F.shape)}")
        point_mask(None, F, "F")
        if self.normalize:
            F = (F - self.ideal) / (self.nadir - self.ideal)
        return F

    def _need_ref(self) -> Tensor:
        if self.ref_point is None:
            name = self.problem.name if self.problem is not None else "(no problem)"
            raise IndicatorUnavailableError(f"hypervolume is unavailable for {name!r}: it needs ideal and nadir points, a "
                                "ref_point, or a reference front; none was given (pass ideal=/nadir=, "
                                "ref_point= or reference_front=)")
        return self.ref_point

    def _need_front(self, what: str) -> Tensor:
        if self.reference_front is None:
            raise IndicatorUnavailableError(f"{what} needs a reference front; the problem gives none and no "
                                "reference_front= was passed")
        return self.reference_front

    def _hv(self, F: Tensor, warn: bool) -> float:
        ref = self._need_ref()
        if warn and F.shape[0] and not bool((F < ref).all(-1).any()):
            warnings.warn(f"no point dominates the reference point {ref.tolist()} "
                          f"({'normalized' if self.normalize else 'raw'} objectives): hypervolume is 0",
                          stacklevel=3)
        return float(hypervolume(F, ref, method=self.hv_method))

    # ------------------------------------------------------------------ indicators
    def hypervolume(self, F) -> float:
        """Hypervolume of ``F [n, m]`` (raw objectives) under the evaluator's conventions."""
        return self._hv(self.transform(F), warn=True)

    def front_hypervolume(self) -> float:
        """Hypervolume of the reference front (cached)."""
        if self._front_hv is None:
            self._front_hv = self._hv(self._need_front("the reference hypervolume"), warn=False)
        return self._front_hv

    def lhd(self, F) -> float:
        """Log hypervolume difference, ``ln(max(HV(front) - HV(F), 1e-14))`` (natural log, SVH-PSL)."""
        return math.log(max(self.front_hypervolume() - self.hypervolume(F), LHD_FLOOR))

    def available(self) -> tuple[str, ...]:
        """The indicators :meth:`score` computes by default under these conventions."""
        out = []
        if self.ref_point is not None:
            out.append("hv")
        if self.reference_front is not None:
            out += (["lhd"] if self.ref_point is not None else []) + ["igd", "igd_plus", "gd", "gd_plus", "epsilon"]
        if self.normalize or (self.ideal is not None):
            out.append("r2")
        return tuple(out)

    def score(self, F, indicators: Iterable[str] | None = None) -> dict[str, float]:
        """Indicator values of ``F [n, m]`` (raw objectives) as floats.

        ``indicators`` from ``("hv", "lhd", "igd", "igd_plus", "gd", "gd_plus", "epsilon", "r2")``;
        default :meth:`available`. Asking for one the conventions cannot give, or using the
        default when they give none (no reference point, reference front or ideal point), raises
        :class:`~moo.errors.IndicatorUnavailableError`; an explicit empty ``indicators`` gives ``{}``.
        An empty ``F`` scores hv 0 and ``+inf`` for the distance indicators and R2.
        """
        names = self.available() if indicators is None else tuple(indicators)
        if not names and indicators is None:
            name = self.problem.name if self.problem is not None else "(no problem)"
            raise IndicatorUnavailableError(
                f"no indicator is available for {name!r}: hv needs ideal and nadir points or a ref_point, "
                "igd/gd/epsilon/lhd a reference front, r2 an ideal point, and none was given (pass ideal=/nadir=, "
                "ref_point= or reference_front=)")
        unknown = [n for n in names if n not in INDICATORS]
        if unknown:
            raise MooValueError(f"unknown indicator(s) {unknown}; choose from {INDICATORS}")
        Fn = self.transform(F)
        out: dict[str, float] = {}
        for name in names:
            if name == "hv":
                out[name] = self._hv(Fn, warn=True)
            elif name == "lhd":
                hv = out["hv"] if "hv" in out else self._hv(Fn, warn=True)
                out[name] = math.log(max(self.front_hypervolume() - hv, LHD_FLOOR))
            elif name == "r2":
                if not (self.normalize or self.ideal is not None):
                    raise IndicatorUnavailableError("r2 needs an ideal point (ideal= or a problem that defines it)")
                ideal = torch.zeros(Fn.shape[1], dtype=torch.float64) if self.normalize else self.ideal
                out[name] = float(r2(Fn, ideal=ideal))
            else:
                fn = {"igd": igd, "igd_plus": igd_plus, "gd": gd, "gd_plus": gd_plus, "epsilon": epsilon_additive}[name]
                out[name] = float(fn(Fn, self._need_front(name)))
        return out

    @property
    def conventions(self) -> dict:
        """The conventions as a JSON-friendly dict, to store with every score."""
        tolist = lambda v: None if v is None else [float(x) for x in v]  # noqa: E731
        return {
            "problem": None if self.problem is None else self.problem.name,
            "normalization": ("ideal/nadir" if self.normalize else "none"),
            "normalization_source": self.source,
            "ref_point_source": self.ref_source,
            "ideal": tolist(self.ideal),
            "nadir": tolist(self.nadir),
            "ref_point": tolist(self.ref_point),
            "ref_point_space": "normalized" if self.normalize else "raw",
            "reference_front_size": None if self.reference_front is None else int(self.reference_front.shape[0]),
            "hv_method": self.hv_method,
            "lhd": f"ln(max(HV(front) - HV(F), {LHD_FLOOR})), natural log",
            "r2": "Brockhoff et al. 2012, Das-Dennis weights, ideal = 0 in normalized space"
            if self.normalize else "Brockhoff et al. 2012, Das-Dennis weights, problem ideal",
        }

    def __repr__(self) -> str:
        c = self.conventions
        return f"Evaluator(problem={c['problem']!r}, normalization={c['normalization']!r}, ref_point={c['ref_point']})"
