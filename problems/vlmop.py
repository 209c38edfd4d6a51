"""VLMOP1–3, the test problems of Van Veldhuizen & Lamont ("Multiobjective evolutionary algorithm
test suites", ACM SAC 1999), as used by PSL-MOBO (Lin et al., NeurIPS 2022) and SVH-PSL.

Defaults follow the PSL-MOBO reference code (repository Xi-L/PSL-MOBO, ``problem.py``), which
SVH-PSL copies for VLMOP2: VLMOP1 on ``x in [-2, 4]`` (the 1999 suite uses ``[-1e5, 1e5]``; the
front is the same), VLMOP2 with ``n_var = 6`` on ``[-2, 2]`` (the suite: 2 variables), VLMOP3 on
``[-3, 3]^2``. The reference code evaluates on ``[0, 1]`` inputs and rescales inside; here the
variables live on their own bounds, as the contract asks.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from moo.problem import Problem
from moo.registry import register_problem
from moo.problems._common import FrontBoundsMixin, load_front


@register_problem("vlmop1")
class VLMOP1(FrontBoundsMixin, Problem):
    """VLMOP1 (Schaffer's problem): ``f1 = x^2``, ``f2 = (x - 2)^2``; front for ``x in [0, 2]``."""

    differentiable = True

    def __init__(self, lower: float = -2.0, upper: float = 4.0):
        super().__init__(1, 2, [[lower], [upper]])

    def _evaluate(self, X):
        x = X[..., 0]
        return torch.stack([x ** 2, (x - 2.0) ** 2], -1)

    def pareto_front(self, n: int | None = None) -> Tensor:
        x = torch.linspace(0.0, 2.0, n or 100, dtype=torch.float64)
        return torch.stack([x ** 2, (x - 2.0) ** 2], -1)


@register_problem("vlmop2")
class VLMOP2(FrontBoundsMixin, Problem):
    """VLMOP2: ``f1,2 = 1 - exp(-sum_i (x_i -/+ 1/sqrt(n))^2)``.

    The Pareto set is ``x_1 = ... = x_n = t`` with ``t in [-1/sqrt(n), 1/sqrt(n)]``, so the front
    ``(1 - exp(-(u-1)^2), 1 - exp(-(u+1)^2))``, ``u in [-1, 1]``, does not depend on ``n``.
    """

    differentiable = True

    def __init__(self, n_var: int = 6):
        super().__init__(n_var, 2, [[-2.0] * n_var, [2.0] * n_var])

    def _evaluate(self, X):
        shift = 1.0 / math.sqrt(self.n_var)
        f1 = 1.0 - torch.exp(-((X - shift) ** 2).sum(-1))
        f2 = 1.0 - torch.exp(-((X + shift) ** 2).sum(-1))
        return torch.stack([f1, f2], -1)

    def pareto_front(self, n: int | None = None) -> Tensor:
        u = torch.linspace(-1.0, 1.0, n or 100, dtype=torch.float64)
        return torch.stack([1.0 - torch.exp(-(u - 1.0) ** 2), 1.0 - torch.exp(-(u + 1.0) ** 2)], -1).flip(0)


@register_problem("vlmop3")
class VLMOP3(FrontBoundsMixin, Problem):
    """VLMOP3: three objectives of two variables on ``[-3, 3]^2``; the front is shipped
    (``problems/data/vlmop3.csv``, the non-dominated points of a dense grid, see
    ``benchmarks/make_reference_fronts.py``)."""

    differentiable = True

    def __init__(self):
        super().__init__(2, 3, [[-3.0, -3.0], [3.0, 3.0]])

    def _evaluate(self, X):
        x1, x2 = X[..., 0], X[..., 1]
        r2 = x1 ** 2 + x2 ** 2
        f1 = 0.5 * r2 + torch.sin(r2)
        f2 = (3.0 * x1 - 2.0 * x2 + 4.0) ** 2 / 8.0 + (x1 - x2 + 1.0) ** 2 / 27.0 + 15.0
        f3 = 1.0 / (r2 + 1.0) - 1.1 * torch.exp(-r2)
        return torch.stack([f1, f2, f3], -1)

    def pareto_front(self, n: int | None = None) -> Tensor:
        return load_front("vlmop3")
