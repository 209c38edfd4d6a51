"""The ZDT bi-objective test problems (Zitzler, Deb & Thiele, Evolutionary Computation 8(2), 2000).

ZDT1–4 and ZDT6 in torch, batched over leading dimensions, with analytic Pareto fronts.
Defaults follow the paper and pymoo: ``n_var = 30`` for ZDT1–3, ``10`` for ZDT4 and ZDT6.
ZDT5 (binary strings) is not included.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from moo.registry import register_problem
from moo.problem import Problem
from moo.problems._common import FrontBoundsMixin, check_int, nondominated

#: The five x-intervals of ZDT3's disconnected front (the f1 values of its Pareto-optimal pieces).
ZDT3_REGIONS = ((0.0, 0.0830015349), (0.182228780, 0.2577623634), (0.4093136748, 0.4538821041),
                (0.6183967944, 0.6525117038), (0.8233317983, 0.8518328654))
#: ZDT6's Pareto-optimal f1 starts at the global minimum of 1 - exp(-4x) sin^6(6 pi x) on [0, 1].
ZDT6_F1_MIN = 0.2807753191


class _ZDT(FrontBoundsMixin, Problem):
    differentiable = True

    def __init__(self, n_var: int = 30):
        n_var = check_int("n_var", n_var, 2, type(self).__name__)
        super().__init__(n_var, 2, [[0.0] * n_var, [1.0] * n_var])

    def _g(self, X: Tensor) -> Tensor:
        return 1.0 + 9.0 / (self.n_var - 1) * X[..., 1:].sum(-1)

    def _h(self, f1: Tensor, g: Tensor) -> Tensor:
        raise NotImplementedError

    def _f1(self, X: Tensor) -> Tensor:
        return X[..., 0]

    def _evaluate(self, X: Tensor) -> Tensor:
        f1 = self._f1(X)
        g = self._g(X)
        return torch.stack([f1, g * self._h(f1, g)], -1)

    def _curve(self, f1: Tensor) -> Tensor:
        return torch.stack([f1, self._h(f1, torch.ones_like(f1))], -1)

    def pareto_front(self, n: int | None = None) -> Tensor:
        """``n`` points (default 100) on the analytic front, evenly spaced in f1."""
        return self._curve(torch.linspace(0.0, 1.0, n or 100, dtype=torch.float64))


@register_problem("zdt1")
class ZDT1(_ZDT):
    """ZDT1: convex front ``f2 = 1 - sqrt(f1)``."""

    def _h(self, f1, g):
        return 1.0 - torch.sqrt(f1 / g)


@register_problem("zdt2")
class ZDT2(_ZDT):
    """ZDT2: concave front ``f2 = 1 - f1^2``."""

    def _h(self, f1, g):
        return 1.0 - (f1 / g) ** 2


@register_problem("zdt3")
class ZDT3(_ZDT):
    """ZDT3: five disconnected pieces of ``f2 = 1 - sqrt(f1) - f1 sin(10 pi f1)``."""

    def _h(self, f1, g):
        return 1.0 - torch.sqrt(f1 / g) - f1 / g * torch.sin(10.0 * math.pi * f1)

    def pareto_front(self, n: int | None = None) -> Tensor:
        """About ``n`` points (default 100), spread over the five pieces in proportion to their f1 length.

        The pieces' end points are known to 10 digits, so a point where two pieces meet in f2 can be
        dominated by ~1e-10; such points are dropped."""
        n = n or 100
        lengths = [hi - lo for lo, hi in ZDT3_REGIONS]
        total = sum(lengths)
        pieces = [torch.linspace(lo, hi, max(2, round(n * (hi - lo) / total)), dtype=torch.float64)
                  for lo, hi in ZDT3_REGIONS]
        return torch.from_numpy(nondominated(self._curve(torch.cat(pieces)).numpy()))


@register_problem("zdt4")
class ZDT4(_ZDT):
    """ZDT4: ZDT1's front behind 21^9 local fronts (Rastrigin g); x1 in [0, 1], the rest in [-5, 5]."""

    def __init__(self, n_var: int = 10):
        super().__init__(n_var)
        lower = [0.0] + [-5.0] * (self.n_var - 1)
        upper = [1.0] + [5.0] * (self.n_var - 1)
        self.bounds = self._check_bounds([lower, upper])

    def _g(self, X):
        rest = X[..., 1:]
        return 1.0 + 10.0 * (self.n_var - 1) + (rest ** 2 - 10.0 * torch.cos(4.0 * math.pi * rest)).sum(-1)

    def _h(self, f1, g):
        return 1.0 - torch.sqrt(f1 / g)


@register_problem("zdt6")
class ZDT6(_ZDT):
    """ZDT6: non-uniform, concave front ``f2 = 1 - f1^2`` for ``f1`` in [0.2808, 1]."""

    def __init__(self, n_var: int = 10):
        super().__init__(n_var)

    def _f1(self, X):
        x1 = X[..., 0]
        return 1.0 - torch.exp(-4.0 * x1) * torch.sin(6.0 * math.pi * x1) ** 6

    def _g(self, X):
        return 1.0 + 9.0 * (X[..., 1:].sum(-1) / (self.n_var - 1)) ** 0.25

    def _h(self, f1, g):
        return 1.0 - (f1 / g) ** 2

    def pareto_front(self, n: int | None = None) -> Tensor:
        return self._curve(torch.linspace(ZDT6_F1_MIN, 1.0, n or 100, dtype=torch.float64))
