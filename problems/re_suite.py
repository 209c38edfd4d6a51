"""The RE suite of real-world multi-objective problems (Tanabe & Ishibuchi, "An easy-to-use
real-world multi-objective optimization problem suite", Applied Soft Computing 89, 2020).

RE21–RE25, RE31–RE37, RE41, RE42, RE61 and RE91 in their current, bug-fixed definitions (the
authors' repository ryojitanabe/reproblems, change log up to 2021-05-29: RE21's ``E = 2e5`` and
``2/x1`` term, RE24's upper bound 50 on ``x2``, RE25's ``G = 11.5e6``, RE42's ``500000 - DWT``).
As in the suite, the original constraints ``g_j >= 0`` are folded into the last objective as the
total violation ``sum_j max(0, -g_j)`` (RE34 and RE37 have none), and variables that take discrete
values are snapped inside the function:

- RE22 ``x1`` and RE25 ``x3`` to the nearest value of a table (left ``"real"`` in
  ``var_types``, since the table values are not integers);
- RE23 ``x1, x2`` (times 0.0625), RE25 ``x1``, RE35 ``x3`` and every RE36 variable are rounded
  to integers (``"int"`` in ``var_types``); rounding is half-to-even, as NumPy's in the suite.

Problems with a snapped variable are not differentiable; the others are, written in torch
(``abs``/``max`` and the violation's kink are non-smooth points, as in the formulas).

RE22's table of bar areas is the suite's own, as its C, Java, MATLAB and Python code all write it:
``..., 3.08, 3,10, 3.16, ...``, that is the two values 3 and 10 where the source's table has 3.10
(see :class:`RE22`). We keep it because the suite's published front was computed with it.

Ideal and nadir points (``normalize=True`` maps by them): the suite's published files where they
bracket its current reference front (RE22–RE25, RE31–RE37, RE41). For RE21, RE42, RE61 and RE91
the published files do not bracket the current front (RE21's nadir file is that of the pre-fix
problem; see ``../shared/reference/re/NOTES.md``), so we use the extremes of the suite's current
reference front instead. RE91 is stochastic in the suite; see :class:`RE91`.

``pareto_front()`` returns the front this project computed itself and ships in
``problems/data/reNN.csv`` (``benchmarks/make_reference_fronts.py`` records how).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from moo.problem import Problem
from moo.registry import register_problem
from moo.problems._common import load_front

# The suite's RE22 list, in its order: "3.0, 10.0" after 3.08 is its "3,10" (see RE22); the order is
# kept so that ties between two table values go to the same one as the suite's first-index argmin.
RE22_TABLE = (0.20, 0.31, 0.40, 0.44, 0.60, 0.62, 0.79, 0.80, 0.88, 0.93, 1.0, 1.20, 1.24, 1.32, 1.40,
              1.55, 1.58, 1.60, 1.76, 1.80, 1.86, 2.0, 2.17, 2.20, 2.37, 2.40, 2.48, 2.60, 2.64, 2.79,
              2.80, 3.0, 3.08, 3.0, 10.0, 3.16, 3.41, 3.52, 3.60, 3.72, 3.95, 3.96, 4.0, 4.03, 4.20, 4.34,
              4.40, 4.65, 4.74, 4.80, 4.84, 5.0, 5.28, 5.40, 5.53, 5.72, 6.0, 6.16, 6.32, 6.60, 7.11,
              7.20, 7.80, 7.90, 8.0, 8.40, 8.69, 9.0, 9.48, 10.27, 11.0, 11.06, 11.85, 12.0, 13.0,
              14.0, 15.0)
RE25_TABLE = (0.009, 0.0095, 0.0104, 0.0118, 0.0128, 0.0132, 0.014, 0.015, 0.0162, 0.0173, 0.018,
              0.02, 0.023, 0.025, 0.028, 0.032, 0.035, 0.041, 0.047, 0.054, 0.063, 0.072, 0.08,
              0.092, 0.105, 0.12, 0.135, 0.148, 0.162, 0.177, 0.192, 0.207, 0.225, 0.244, 0.263,
              0.283, 0.307, 0.331, 0.362, 0.394, 0.4375, 0.5)


def _violation(*g: Tensor) -> Tensor:
    """The suite's folded constraint objective: ``sum_j max(0, -g_j)`` for constraints ``g_j >= 0``."""
    return sum(torch.clamp(-gj, min=0.0) for gj in g)


def _snap(x: Tensor, table: tuple[float, ...]) -> Tensor:
    """The nearest table value to each entry of ``x`` (the first one on a tie, as ``argmin`` in the suite)."""
    values = torch.tensor(table, dtype=x.dtype, device=x.device)
    return values[(x.unsqueeze(-1) - values).abs().argmin(-1)]


def _cols(X: Tensor) -> tuple[Tensor, ...]:
    return X.unbind(-1)


class _RE(Problem):
    """Shared knowledge of an RE problem: bounds, published ideal/nadir, shipped front."""

    differentiable = True
    lower: tuple[float, ...] = ()
    upper: tuple[float, ...] = ()
    n_objectives: int = 2
    int_vars: tuple[int, ...] = ()
    ideal_point: tuple[float, ...] = ()
    nadir_point: tuple[float, ...] = ()

    def __init__(self):
        n_var = len(self.lower)
        var_types = None
        if self.int_vars:
            var_types = ["int" if j in self.int_vars else "real" for j in range(n_var)]
        super().__init__(n_var, self.n_objectives, [self.lower, self.upper], var_types=var_types,
                         name=type(self).__name__.lower())

    @property
    def ideal(self) -> Tensor:
        return torch.tensor(self.ideal_point, dtype=torch.float64)

    @property
    def nadir(self) -> Tensor:
        return torch.tensor(self.nadir_point, dtype=torch.float64)

    def pareto_front(self, n: int | None = None) -> Tensor | None:
        """The shipped approximate front (``n`` is ignored: the whole file is returned)."""
        return load_front(self.name)


@register_problem("re21")
class RE21(_RE):
    """RE21 (RE2-4-1): four-bar truss design; volume and displacement."""

    lower = (1.0, math.sqrt(2.0), math.sqrt(2.0), 1.0)
    upper = (3.0, 3.0, 3.0, 3.0)
    ideal_point = (1237.84142, 0.00276142375)
    nadir_point = (2886.36956, 0.04)

    def _evaluate(self, X):
        x1, x2, x3, x4 = _cols(X)
        F, E, L = 10.0, 2.0e5, 200.0
        f1 = L * (2.0 * x1 + math.sqrt(2.0) * x2 + torch.sqrt(x3) + x4)
        f2 = (F * L / E) * (2.0 / x1 + 2.0 * math.sqrt(2.0) / x2 - 2.0 * math.sqrt(2.0) / x3 + 2.0 / x4)
        return torch.stack([f1, f2], -1)


@register_problem("re22")
class RE22(_RE):
    """RE22 (RE2-3-2): reinforced concrete beam design; ``x1`` snapped to the suite's table of bar areas.

    Paper vs code: the code's table reads ``3.08, 3,10, 3.16`` (areas 3 and 10, no 3.10; the paper's supplement prints
    ``3, 1``, the source's table 3.10); moo follows the code, because the published front was computed with it.
    On the face ``x2 = 0`` of the box the code divides by zero (NaN or inf); moo takes ``x2 = max(x2, 1e-12)``,
    a finite, very large violation.
    """

    differentiable = False
    lower = (0.2, 0.0, 0.0)
    upper = (15.0, 20.0, 40.0)
    ideal_point = (5.88, 0.0)
    nadir_point = (361.262944647, 180.01547)

    def _evaluate(self, X):
        x1, x2, x3 = _cols(X)
        x1 = _snap(x1, RE22_TABLE)
        f1 = 29.4 * x1 + 0.6 * x2 * x3
        x2 = x2.clamp_min(1e-12)
        g1 = x1 * x3 - 7.735 * x1 ** 2 / x2 - 180.0
        g2 = 4.0 - x3 / x2
        return torch.stack([f1, _violation(g1, g2)], -1)


@register_problem("re23")
class RE23(_RE):
    """RE23 (RE2-4-3): pressure vessel design; ``x1, x2`` are integers (thickness = 0.0625 x)."""

    differentiable = False
    lower = (1.0, 1.0, 10.0, 10.0)
    upper = (100.0, 100.0, 200.0, 240.0)
    int_vars = (0, 1)
    ideal_point = (15.9018007813, 0.0)
    nadir_point = (5852.05896876, 1288669.78054)

    def _evaluate(self, X):
        x1, x2, x3, x4 = _cols(X)
        x1, x2 = 0.0625 * torch.round(x1), 0.0625 * torch.round(x2)
        f1 = 0.6224 * x1 * x3 * x4 + 1.7781 * x2 * x3 ** 2 + 3.1661 * x1 ** 2 * x4 + 19.84 * x1 ** 2 * x3
        g1 = x1 - 0.0193 * x3
        g2 = x2 - 0.00954 * x3
        g3 = math.pi * x3 ** 2 * x4 + (4.0 / 3.0) * math.pi * x3 ** 3 - 1296000.0
        return torch.stack([f1, _violation(g1, g2, g3)], -1)


@register_problem("re24")
class RE24(_RE):
    """RE24 (RE2-2-4): hatch cover design; weight and constraint violation."""

    lower = (0.5, 0.5)
    upper = (4.0, 50.0)
    ideal_point = (60.5, 0.0)
    nadir_point = (481.608088535, 44.2819047619)

    def _evaluate(self, X):
        x1, x2 = _cols(X)
        f1 = x1 + 120.0 * x2
        E, sigma_b_max, tau_max, delta_max = 700000.0, 700.0, 450.0, 1.5
        sigma_k = E * x1 ** 2 / 100.0
        sigma_b = 4500.0 / (x1 * x2)
        tau = 1800.0 / x2
        delta = 56.2 * 10000.0 / (E * x1 * x2 ** 2)
        g = (1.0 - sigma_b / sigma_b_max, 1.0 - tau / tau_max, 1.0 - delta / delta_max, 1.0 - sigma_b / sigma_k)
        return torch.stack([f1, _violation(*g)], -1)


@register_problem("re25")
class RE25(_RE):
    """RE25 (RE2-3-5): coil compression spring design; ``x1`` integer, ``x3`` snapped to the wire-diameter table."""

    differentiable = False
    lower = (1.0, 0.6, 0.09)
    upper = (70.0, 3.0, 0.5)
    int_vars = (0,)
    ideal_point = (0.037591349242869145, 0.0)
    nadir_point = (0.40397042546, 2224669.22419)

    def _evaluate(self, X):
        x1, x2, x3 = _cols(X)
        x1 = torch.round(x1)
        x3 = _snap(x3, RE25_TABLE)
        f1 = math.pi ** 2 * x2 * x3 ** 2 * (x1 + 2.0) / 4.0
        Cf = (4.0 * (x2 / x3) - 1.0) / (4.0 * (x2 / x3) - 4.0) + 0.615 * x3 / x2
        Fmax, S, G, lmax, Fp, sigma_pm, sigma_w = 1000.0, 189000.0, 11.5e6, 14.0, 300.0, 6.0, 1.25
        K = G * x3 ** 4 / (8.0 * x1 * x2 ** 3)
        lf = Fmax / K + 1.05 * (x1 + 2.0) * x3
        sigma_p = Fp / K
        g = (S - 8.0 * Cf * Fmax * x2 / (math.pi * x3 ** 3),
             lmax - lf,
             x2 / x3 - 3.0,
             sigma_pm - sigma_p,
             -sigma_p - (Fmax - Fp) / K - 1.05 * (x1 + 2.0) * x3 + lf,
             sigma_w - (Fmax - Fp) / K)
        return torch.stack([f1, _violation(*g)], -1)


@register_problem("re31")
class RE31(_RE):
    """RE31 (RE3-3-1): two-bar truss design."""

    n_objectives = 3
    lower = (0.00001, 0.00001, 1.0)
    upper = (100.0, 100.0, 3.0)
    ideal_point = (5.53731918799e-05, 0.333333333333, 0.0)
    nadir_point = (500.002668442, 8246211.25124, 19359919.7502)

    def _evaluate(self, X):
        x1, x2, x3 = _cols(X)
        f1 = x1 * torch.sqrt(16.0 + x3 ** 2) + x2 * torch.sqrt(1.0 + x3 ** 2)
        f2 = 20.0 * torch.sqrt(16.0 + x3 ** 2) / (x1 * x3)
        g = (0.1 - f1, 100000.0 - f2, 100000.0 - 80.0 * torch.sqrt(1.0 + x3 ** 2) / (x3 * x2))
        return torch.stack([f1, f2, _violation(*g)], -1)


@register_problem("re32")
class RE32(_RE):
    """RE32 (RE3-4-2): welded beam design."""

    n_objectives = 3
    lower = (0.125, 0.1, 0.1, 0.125)
    upper = (5.0, 10.0, 10.0, 5.0)
    ideal_point = (0.010205496875, 0.00043904, 0.0)
    nadir_point = (37.7831517014, 17561.6, 425062976.628)

    def _evaluate(self, X):
        x1, x2, x3, x4 = _cols(X)
        P, L, E, G, tau_max, sigma_max = 6000.0, 14.0, 30e6, 12e6, 13600.0, 30000.0
        f1 = 1.10471 * x1 ** 2 * x2 + 0.04811 * x3 * x4 * (14.0 + x2)
        f2 = 4.0 * P * L ** 3 / (E * x4 * x3 ** 3)
        M = P * (L + x2 / 2.0)
        R = torch.sqrt(x2 ** 2 / 4.0 + ((x1 + x3) / 2.0) ** 2)
        J = 2.0 * math.sqrt(2.0) * x1 * x2 * (x2 ** 2 / 12.0 + ((x1 + x3) / 2.0) ** 2)
        tau_dd = M * R / J
        tau_d = P / (math.sqrt(2.0) * x1 * x2)
        tau = torch.sqrt(tau_d ** 2 + 2.0 * tau_d * tau_dd * x2 / (2.0 * R) + tau_dd ** 2)
        sigma = 6.0 * P * L / (x4 * x3 ** 2)
        PC = 4.013 * E * torch.sqrt(x3 ** 2 * x4 ** 6 / 36.0) / L ** 2 * (1.0 - x3 / (2.0 * L) * math.sqrt(E / (4.0 * G)))
        g = (tau_max - tau, sigma_max - sigma, x4 - x1, PC - P)
        return torch.stack([f1, f2, _violation(*g)], -1)


@register_problem("re33")
class RE33(_RE):
    """RE33 (RE3-4-3): disc brake design."""

    n_objectives = 3
    lower = (55.0, 75.0, 1000.0, 11.0)
    upper = (80.0, 110.0, 3000.0, 20.0)
    ideal_point = (-0.721525, 1.13907203907, 0.0)
    nadir_point = (5.3067, 3.12833430979, 25.0)

    def _evaluate(self, X):
        x1, x2, x3, x4 = _cols(X)
        d2 = x2 ** 2 - x1 ** 2
        d3 = x2 ** 3 - x1 ** 3
        f1 = 4.9e-5 * d2 * (x4 - 1.0)
        f2 = 9.82e6 * d2 / (x3 * x4 * d3)
        g = ((x2 - x1) - 20.0,
             0.4 - x3 / (3.14 * d2),
             1.0 - 2.22e-3 * x3 * d3 / d2 ** 2,
             2.66e-2 * x3 * x4 * d3 / d2 - 900.0)
        return torch.stack([f1, f2, _violation(*g)], -1)


@register_problem("re34")
class RE34(_RE):
    """RE34 (RE3-5-4): vehicle crashworthiness design (three response surfaces, no constraints)."""

    n_objectives = 3
    lower = (1.0,) * 5
    upper = (3.0,) * 5
    ideal_point = (1661.7078225, 6.14280000608, 0.0394)
    nadir_point = (1695.2002035, 10.7454, 0.26399999965)

    def _evaluate(self, X):
        x1, x2, x3, x4, x5 = _cols(X)
        f1 = 1640.2823 + 2.3573285 * x1 + 2.3220035 * x2 + 4.5688768 * x3 + 7.7213633 * x4 + 4.4559504 * x5
        f2 = (6.5856 + 1.15 * x1 - 1.0427 * x2 + 0.9738 * x3 + 0.8364 * x4 - 0.3695 * x1 * x4
              + 0.0861 * x1 * x5 + 0.3628 * x2 * x4 - 0.1106 * x1 ** 2 - 0.3437 * x3 ** 2 + 0.1764 * x4 ** 2)
        f3 = (-0.0551 + 0.0181 * x1 + 0.1024 * x2 + 0.0421 * x3 - 0.0073 * x1 * x2 + 0.024 * x2 * x3
              - 0.0118 * x2 * x4 - 0.0204 * x3 * x4 - 0.008 * x3 * x5 - 0.0241 * x2 ** 2 + 0.0109 * x4 ** 2)
        return torch.stack([f1, f2, f3], -1)


@register_problem("re35")
class RE35(_RE):
    """RE35 (RE3-7-5): speed reducer design; ``x3`` (number of teeth) is an integer."""

    differentiable = False
    n_objectives = 3
    lower = (2.6, 0.7, 17.0, 7.3, 7.3, 2.9, 5.0)
    upper = (3.6, 0.8, 28.0, 8.3, 8.3, 3.9, 5.5)
    int_vars = (2,)
    ideal_point = (2352.34611145, 694.233587469, 0.0)
    nadir_point = (6634.56208, 1695.96387746, 397.358927317)

    def _evaluate(self, X):
        x1, x2, x3, x4, x5, x6, x7 = _cols(X)
        x3 = torch.round(x3)
        f1 = (0.7854 * x1 * x2 ** 2 * (10.0 * x3 ** 2 / 3.0 + 14.933 * x3 - 43.0934)
              - 1.508 * x1 * (x6 ** 2 + x7 ** 2) + 7.477 * (x6 ** 3 + x7 ** 3) + 0.7854 * (x4 * x6 ** 2 + x5 * x7 ** 2))
        f2 = torch.sqrt((745.0 * x4 / (x2 * x3)) ** 2 + 1.69e7) / (0.1 * x6 ** 3)
        g = (1.0 / 27.0 - 1.0 / (x1 * x2 ** 2 * x3),
             1.0 / 397.5 - 1.0 / (x1 * x2 ** 2 * x3 ** 2),
             1.0 / 1.93 - x4 ** 3 / (x2 * x3 * x6 ** 4),
             1.0 / 1.93 - x5 ** 3 / (x2 * x3 * x7 ** 4),
             40.0 - x2 * x3,
             12.0 - x1 / x2,
             x1 / x2 - 5.0,
             -1.9 + x4 - 1.5 * x6,
             -1.9 + x5 - 1.1 * x7,
             1300.0 - f2,
             1100.0 - torch.sqrt((745.0 * x5 / (x2 * x3)) ** 2 + 1.575e8) / (0.1 * x7 ** 3))
        return torch.stack([f1, f2, _violation(*g)], -1)


@register_problem("re36")
class RE36(_RE):
    """RE36 (RE3-4-6): gear train design; all four numbers of teeth are integers."""

    differentiable = False
    n_objectives = 3
    lower = (12.0,) * 4
    upper = (60.0,) * 4
    int_vars = (0, 1, 2, 3)
    ideal_point = (7.89473684213e-05, 12.0, 0.0)
    nadir_point = (5.931, 56.0, 0.355720675227)

    def _evaluate(self, X):
        Xr = torch.round(X)
        x1, x2, x3, x4 = _cols(Xr)
        f1 = torch.abs(6.931 - (x3 / x1) * (x4 / x2))
        f2 = Xr.amax(-1)
        return torch.stack([f1, f2, _violation(0.5 - f1 / 6.931)], -1)


@register_problem("re37")
class RE37(_RE):
    """RE37 (RE3-4-7): rocket injector design (response surfaces, no constraints)."""

    n_objectives = 3
    lower = (0.0,) * 4
    upper = (1.0,) * 4
    ideal_point = (0.00889341391106, 0.00488, -0.431499999825)
    nadir_point = (0.98949120096, 0.956587924661, 0.987530948586)

    def _evaluate(self, X):
        a, ha, oa, optt = _cols(X)
        f1 = (0.692 + 0.477 * a - 0.687 * ha - 0.080 * oa - 0.0650 * optt - 0.167 * a * a - 0.0129 * ha * a
              + 0.0796 * ha * ha - 0.0634 * oa * a - 0.0257 * oa * ha + 0.0877 * oa * oa - 0.0521 * optt * a
              + 0.00156 * optt * ha + 0.00198 * optt * oa + 0.0184 * optt * optt)
        f2 = (0.153 - 0.322 * a + 0.396 * ha + 0.424 * oa + 0.0226 * optt + 0.175 * a * a + 0.0185 * ha * a
              - 0.0701 * ha * ha - 0.251 * oa * a + 0.179 * oa * ha + 0.0150 * oa * oa + 0.0134 * optt * a
              + 0.0296 * optt * ha + 0.0752 * optt * oa + 0.0192 * optt * optt)
        f3 = (0.370 - 0.205 * a + 0.0307 * ha + 0.108 * oa + 1.019 * optt - 0.135 * a * a + 0.0141 * ha * a
              + 0.0998 * ha * ha + 0.208 * oa * a - 0.0301 * oa * ha - 0.226 * oa * oa + 0.353 * optt * a
              - 0.0497 * optt * oa - 0.423 * optt * optt + 0.202 * ha * a * a - 0.281 * oa * a * a
              - 0.342 * ha * ha * a - 0.245 * ha * ha * oa + 0.281 * oa * oa * ha - 0.184 * optt * optt * a
              - 0.281 * ha * a * oa)
        return torch.stack([f1, f2, f3], -1)


_CAR_LOWER = (0.5, 0.45, 0.5, 0.5, 0.875, 0.4, 0.4)
_CAR_UPPER = (1.5, 1.35, 1.5, 1.5, 2.625, 1.2, 1.2)


@register_problem("re41")
class RE41(_RE):
    """RE41 (RE4-7-1): car side impact design."""

    n_objectives = 4
    lower = _CAR_LOWER
    upper = _CAR_UPPER
    ideal_point = (15.576004, 3.58525, 10.61064375, 0.0)
    nadir_point = (39.2905121788, 4.42725, 13.09138125, 9.49401929991)

    def _evaluate(self, X):
        x1, x2, x3, x4, x5, x6, x7 = _cols(X)
        f1 = 1.98 + 4.9 * x1 + 6.67 * x2 + 6.98 * x3 + 4.01 * x4 + 1.78 * x5 + 0.00001 * x6 + 2.73 * x7
        f2 = 4.72 - 0.5 * x4 - 0.19 * x2 * x3
        v_mbp = 10.58 - 0.674 * x1 * x2 - 0.67275 * x2
        v_fd = 16.45 - 0.489 * x3 * x7 - 0.843 * x5 * x6
        f3 = 0.5 * (v_mbp + v_fd)
        g = (1.0 - (1.16 - 0.3717 * x2 * x4 - 0.0092928 * x3),
             0.32 - (0.261 - 0.0159 * x1 * x2 - 0.06486 * x1 - 0.019 * x2 * x7 + 0.0144 * x3 * x5 + 0.0154464 * x6),
             0.32 - (0.214 + 0.00817 * x5 - 0.045195 * x1 - 0.0135168 * x1 + 0.03099 * x2 * x6 - 0.018 * x2 * x7
                     + 0.007176 * x3 + 0.023232 * x3 - 0.00364 * x5 * x6 - 0.018 * x2 * x2),
             0.32 - (0.74 - 0.61 * x2 - 0.031296 * x3 - 0.031872 * x7 + 0.227 * x2 * x2),
             32.0 - (28.98 + 3.818 * x3 - 4.2 * x1 * x2 + 1.27296 * x6 - 2.68065 * x7),
             32.0 - (33.86 + 2.95 * x3 - 5.057 * x1 * x2 - 3.795 * x2 - 3.4431 * x7 + 1.45728),
             32.0 - (46.36 - 9.9 * x2 - 4.4505 * x1),
             4.0 - f2,
             9.9 - v_mbp,
             15.7 - v_fd)
        return torch.stack([f1, f2, f3, _violation(*g)], -1)


@register_problem("re42")
class RE42(_RE):
    """RE42 (RE4-6-2): conceptual marine design (Parsons & Scott 2004); annual cargo is maximized, so
    the suite minimizes its negative (third objective).

    Kept as the suite defines it: ``sea_days = 5000 / 24 * V_k`` multiplies by the speed where
    Parsons & Scott divide, which makes the cargo deadweight, and so the annual cargo, negative
    over the whole box: the first objective (cost per tonne) is negative and the third positive,
    as in the suite's published front.
    """

    n_objectives = 4
    lower = (150.0, 20.0, 13.0, 10.0, 14.0, 0.63)
    upper = (274.32, 32.31, 25.0, 11.71, 18.0, 0.75)
    ideal_point = (-2756.25904, 3962.55784, 1947.88086, 0.0)
    nadir_point = (-663.415705, 15811.2376, 5195.43503, 13.0265363)

    def _evaluate(self, X):
        L, B, D, T, Vk, CB = _cols(X)
        displacement = 1.025 * L * B * T * CB
        Fn = 0.5144 * Vk / torch.sqrt(9.8065 * L)
        a = 4977.06 * CB ** 2 - 8105.61 * CB + 4456.51
        b = -10847.2 * CB ** 2 + 12817.0 * CB - 6960.32
        power = displacement ** (2.0 / 3.0) * Vk ** 3 / (a + b * Fn)
        outfit_weight = L ** 0.8 * B ** 0.6 * D ** 0.3 * CB ** 0.1
        steel_weight = 0.034 * L ** 1.7 * B ** 0.7 * D ** 0.4 * CB ** 0.5
        machinery_weight = 0.17 * power ** 0.9
        light_ship_weight = steel_weight + outfit_weight + machinery_weight
        ship_cost = 1.3 * (2000.0 * steel_weight ** 0.85 + 3500.0 * outfit_weight + 2400.0 * power ** 0.8)
        dwt = displacement - light_ship_weight
        running_costs = 40000.0 * dwt ** 0.3
        sea_days = 5000.0 / 24.0 * Vk
        daily_consumption = 0.19 * power * 24.0 / 1000.0 + 0.2
        fuel_cost = 1.05 * daily_consumption * sea_days * 100.0
        port_cost = 6.3 * dwt ** 0.8
        cargo_dwt = dwt - daily_consumption * (sea_days + 5.0) - 2.0 * dwt ** 0.5
        port_days = 2.0 * (cargo_dwt / 8000.0 + 0.5)
        rtpa = 350.0 / (sea_days + port_days)
        annual_costs = 0.2 * ship_cost + running_costs + (fuel_cost + port_cost) * rtpa
        annual_cargo = cargo_dwt * rtpa
        KB = 0.53 * T
        BMT = (0.085 * CB - 0.002) * B ** 2 / (T * CB)
        KG = 1.0 + 0.52 * D
        g = (L / B - 6.0,
             15.0 - L / D,
             19.0 - L / T,
             0.45 * dwt ** 0.31 - T,
             0.7 * D + 0.7 - T,
             500000.0 - dwt,
             dwt - 3000.0,
             0.32 - Fn,
             KB + BMT - KG - 0.07 * B)
        return torch.stack([annual_costs / annual_cargo, light_ship_weight, -annual_cargo, _violation(*g)], -1)


@register_problem("re61")
class RE61(_RE):
    """RE61 (RE6-3-1): water resource planning (Musselman & Talavage)."""

    n_objectives = 6
    lower = (0.01, 0.01, 0.01)
    upper = (0.45, 0.10, 0.10)
    ideal_point = (63840.2774, 30.0, 285346.896, 183749.967, 7.22222222, 0.0)
    nadir_point = (76347.3928, 1350.0, 2853468.96, 15725809.9, 346735.0, 93789.3225)

    def _evaluate(self, X):
        x1, x2, x3 = _cols(X)
        x12 = x1 * x2
        f1 = 106780.37 * (x2 + x3) + 61704.67
        f2 = 3000.0 * x1
        f3 = 305700.0 * 2289.0 * x2 / (0.06 * 2289.0) ** 0.65
        f4 = 250.0 * 2289.0 * torch.exp(-39.75 * x2 + 9.9 * x3 + 2.74)
        f5 = 25.0 * (1.39 / x12 + 4940.0 * x3 - 80.0)
        g = (1.0 - (0.00139 / x12 + 4.94 * x3 - 0.08),
             1.0 - (0.000306 / x12 + 1.082 * x3 - 0.0986),
             50000.0 - (12.307 / x12 + 49408.24 * x3 + 4051.02),
             16000.0 - (2.098 / x12 + 8046.33 * x3 - 696.71),
             10000.0 - (2.138 / x12 + 7883.39 * x3 - 705.04),
             2000.0 - (0.417 * x12 + 1721.26 * x3 - 136.54),
             550.0 - (0.164 / x12 + 631.13 * x3 - 54.48))
        return torch.stack([f1, f2, f3, f4, f5, _violation(*g)], -1)


_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer (Steele et al. 2014), vectorized over uint64 arrays. The arithmetic
    wraps modulo 2**64 by design; NumPy warns of that overflow on 0-d arrays, so it is silenced."""
    with np.errstate(over="ignore"):
        z = (z + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
        return z ^ (z >> np.uint64(31))


def hashed_normals(X: Tensor, seed: int, count: int) -> Tensor:
    """``count`` standard normal draws per row of ``X``, a pure function of ``(seed, row bits)``.

    Each row's float64 bit pattern is hashed with SplitMix64 into a key; ``count`` uniforms are
    drawn from the key by counter and turned into normals by Box-Muller. The same point always gets
    the same noise, whatever the batch, order or device.
    """
    bits = np.ascontiguousarray(X.detach().to("cpu", torch.float64).numpy()).view(np.uint64)
    key = np.full(bits.shape[:-1], np.uint64(seed & 0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    for j in range(bits.shape[-1]):
        key = _splitmix64(key ^ bits[..., j])
    pairs = (count + 1) // 2
    u = np.stack([_splitmix64(key ^ np.uint64(c + 1)) for c in range(2 * pairs)], -1)
    u = ((u >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0 ** -53  # in (0, 1)
    r = np.sqrt(-2.0 * np.log(u[..., 0::2]))
    z = np.concatenate([r * np.cos(2 * np.pi * u[..., 1::2]), r * np.sin(2 * np.pi * u[..., 1::2])], -1)
    return torch.from_numpy(z[..., :count].copy()).to(device=X.device, dtype=X.dtype)


@register_problem("re91")
class RE91(_RE):
    """RE91 (RE9-7-1): car cabin design, nine objectives of seven variables and four random inputs.

    The suite draws ``x8, x9 ~ N(0.345, 0.006^2), N(0.192, 0.006^2)`` and ``x10, x11 ~ N(0, 10^2)``
    afresh (``np.random``) at every call, so the same ``x`` gives different objectives. Here:

    - ``noise=True`` (default): the same distributions, drawn from a hash of ``(seed, x)``
      (:func:`hashed_normals`) — stochastic across points like the suite, but a pure function,
      reproducible by ``seed`` whatever the batching, order or device. Not differentiable (the
      draw changes with every bit of ``x``).
    - ``noise=False``: the random inputs fixed at their means; a deterministic, differentiable
      variant (not part of the suite).

    ``ideal``/``nadir`` are the extremes of the suite's reference front (its published files do
    not bracket it); the shipped front belongs to ``noise=True, seed=0``, and ``pareto_front()``
    returns ``None`` for any other setting.
    """

    n_objectives = 9
    lower = _CAR_LOWER
    upper = _CAR_UPPER
    ideal_point = (15.5513439, 0.0, 0.0, 0.0907242296, 0.367459287, 0.527364947, 0.735415465,
                   0.618676034, 0.660886967)
    nadir_point = (42.6835133, 1.33622652, 342.340087, 1.01496018, 1.54367647, 1.31245897, 1.2206352,
                   1.17458862, 1.04376916)

    def __init__(self, noise: bool = True, seed: int = 0):
        super().__init__()
        self.noise, self.seed = bool(noise), int(seed)
        self.differentiable = not self.noise

    def _random_inputs(self, X: Tensor) -> tuple[Tensor, ...]:
        mean = X.new_tensor([0.345, 0.192, 0.0, 0.0])
        if not self.noise:
            return tuple(mean.expand(X.shape[:-1] + (4,)).unbind(-1))
        scale = X.new_tensor([0.006, 0.006, 10.0, 10.0])
        return tuple((mean + scale * hashed_normals(X, self.seed, 4)).unbind(-1))

    def _evaluate(self, X):
        x1, x2, x3, x4, x5, x6, x7 = _cols(X)
        x8, x9, x10, x11 = self._random_inputs(X)

        def pos(v):
            return torch.clamp(v, min=0.0)

        f1 = 1.98 + 4.9 * x1 + 6.67 * x2 + 6.98 * x3 + 4.01 * x4 + 1.75 * x5 + 0.00001 * x6 + 2.73 * x7
        f2 = pos(1.16 - 0.3717 * x2 * x4 - 0.00931 * x2 * x10 - 0.484 * x3 * x9 + 0.01343 * x6 * x10)
        f3 = pos((0.261 - 0.0159 * x1 * x2 - 0.188 * x1 * x8 - 0.019 * x2 * x7 + 0.0144 * x3 * x5
                  + 0.87570001 * x5 * x10 + 0.08045 * x6 * x9 + 0.00139 * x8 * x11 + 0.00001575 * x10 * x11) / 0.32)
        f4 = pos((0.214 + 0.00817 * x5 - 0.131 * x1 * x8 - 0.0704 * x1 * x9 + 0.03099 * x2 * x6
                  - 0.018 * x2 * x7 + 0.0208 * x3 * x8 + 0.121 * x3 * x9 - 0.00364 * x5 * x6
                  + 0.0007715 * x5 * x10 - 0.0005354 * x6 * x10 + 0.00121 * x8 * x11 + 0.00184 * x9 * x10
                  - 0.018 * x2 * x2) / 0.32)
        f5 = pos((0.74 - 0.61 * x2 - 0.163 * x3 * x8 + 0.001232 * x3 * x10 - 0.166 * x7 * x9
                  + 0.227 * x2 * x2) / 0.32)
        tmp = ((28.98 + 3.818 * x3 - 4.2 * x1 * x2 + 0.0207 * x5 * x10 + 6.63 * x6 * x9 - 7.77 * x7 * x8
                + 0.32 * x9 * x10)
               + (33.86 + 2.95 * x3 + 0.1792 * x10 - 5.057 * x1 * x2 - 11.0 * x2 * x8 - 0.0215 * x5 * x10
                  - 9.98 * x7 * x8 + 22.0 * x8 * x9)
               + (46.36 - 9.9 * x2 - 12.9 * x1 * x8 + 0.1107 * x3 * x10)) / 3.0
        f6 = pos(tmp / 32.0)
        f7 = pos((4.72 - 0.5 * x4 - 0.19 * x2 * x3 - 0.0122 * x4 * x10 + 0.009325 * x6 * x10
                  + 0.000191 * x11 * x11) / 4.0)
        f8 = pos((10.58 - 0.674 * x1 * x2 - 1.95 * x2 * x8 + 0.02054 * x3 * x10 - 0.0198 * x4 * x10
                  + 0.028 * x6 * x10) / 9.9)
        f9 = pos((16.45 - 0.489 * x3 * x7 - 0.843 * x5 * x6 + 0.0432 * x9 * x10 - 0.0556 * x9 * x11
                  - 0.000786 * x11 * x11) / 15.7)
        return torch.stack([f1, f2, f3, f4, f5, f6, f7, f8, f9], -1)

    def pareto_front(self, n: int | None = None) -> Tensor | None:
        return load_front(self.name) if (self.noise and self.seed == 0) else None
