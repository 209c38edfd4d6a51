"""F1–F6, the synthetic bi-objective problems of PSL-MOBO (Lin, Yang, Zhang & Zhang, "Pareto Set
Learning for Expensive Multi-Objective Optimization", NeurIPS 2022).

Formulas and defaults (``n_var = 6`` on ``[0, 1]``) follow the reference code (repository
Xi-L/PSL-MOBO, ``problem.py``); SVH-PSL's F2 is the same function. Every variable after the
first is steered towards a curve in ``x_1`` (variables ``x_i`` with odd 1-based ``i >= 3`` feed
``f1``, even ``i`` feed ``f2``); at the Pareto set both sums vanish, so each front is
``f2 = 1 - sqrt(f1)``, ``f1 in [0, 1]`` (analytic). As in the reference code, F6 raises the
even-index deviations to the fourth power and the odd-index ones to the second.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from moo.problem import Problem
from moo.registry import register_problem
from moo.problems._common import FrontBoundsMixin, check_int


class _PSLSynthetic(FrontBoundsMixin, Problem):
    differentiable = True
    #: ``f2 = g2 - sqrt(x1 g2)`` in F1, F2, F4–F6; F3 uses ``g2 (1 - sqrt(x1))``.
    f2_scaled_sqrt = True

    def __init__(self, n_var: int = 6):
        n_var = check_int("n_var", n_var, 3, type(self).__name__)
        super().__init__(n_var, 2, [[0.0] * n_var, [1.0] * n_var])

    def _deviation(self, x1: Tensor, xs: Tensor, i: Tensor) -> Tensor:
        """Per-variable penalty for ``xs = x_2..x_n`` (1-based indices ``i``), ``x1`` broadcast as ``[..., 1]``."""
        raise NotImplementedError

    def _evaluate(self, X):
        i = torch.arange(2, self.n_var + 1, device=X.device, dtype=X.dtype)
        x1 = X[..., 0]
        dev = self._deviation(x1.unsqueeze(-1), X[..., 1:], i)
        odd = (i % 2 == 1).to(X.dtype)
        g1 = 1.0 + (dev * odd).sum(-1) / odd.sum()
        g2 = 1.0 + (dev * (1.0 - odd)).sum(-1) / (1.0 - odd).sum()
        f1 = g1 * x1
        f2 = g2 * (1.0 - torch.sqrt(x1 / g2)) if self.f2_scaled_sqrt else g2 * (1.0 - torch.sqrt(x1))
        return torch.stack([f1, f2], -1)

    def pareto_front(self, n: int | None = None) -> Tensor:
        f1 = torch.linspace(0.0, 1.0, n or 100, dtype=torch.float64)
        return torch.stack([f1, 1.0 - torch.sqrt(f1)], -1)


def _phase(x1: Tensor, i: Tensor, n: int) -> Tensor:
    return 4.0 * math.pi * x1 + i * math.pi / n


@register_problem("f1")
class F1(_PSLSynthetic):
    """F1: ``x_i -> (2 x_1 - 1)^2``."""

    def _deviation(self, x1, xs, i):
        return (xs - (2.0 * x1 - 1.0) ** 2) ** 2


@register_problem("f2")
class F2(_PSLSynthetic):
    """F2: ``x_i -> x_1^(theta_i / 2)``, ``theta_i = 1 + 3 (i - 2) / (n - 2)``."""

    def _deviation(self, x1, xs, i):
        theta = 1.0 + 3.0 * (i - 2) / (self.n_var - 2)
        return (xs - x1 ** (0.5 * theta)) ** 2


@register_problem("f3")
class F3(_PSLSynthetic):
    """F3: ``x_i -> (sin(4 pi x_1 + i pi / n) + 1) / 2``; ``f2 = g2 (1 - sqrt(x_1))``."""

    f2_scaled_sqrt = False

    def _deviation(self, x1, xs, i):
        return (xs - (torch.sin(_phase(x1, i, self.n_var)) + 1.0) / 2.0) ** 2


@register_problem("f4")
class F4(_PSLSynthetic):
    """F4: ``2 x_i - 1 -> 0.8 x_1 sin(...)`` (even ``i``) / ``0.8 x_1 cos(...)`` (odd ``i``)."""

    def _deviation(self, x1, xs, i):
        phase = _phase(x1, i, self.n_var)
        target = torch.where(i % 2 == 0, torch.sin(phase), torch.cos(phase))
        return (2.0 * xs - 1.0 - 0.8 * x1 * target) ** 2


@register_problem("f5")
class F5(_PSLSynthetic):
    """F5: as F4 with the odd-index target ``0.8 x_1 cos((4 pi x_1 + i pi / n) / 3)``."""

    def _deviation(self, x1, xs, i):
        phase = _phase(x1, i, self.n_var)
        target = torch.where(i % 2 == 0, torch.sin(phase), torch.cos(phase / 3.0))
        return (2.0 * xs - 1.0 - 0.8 * x1 * target) ** 2


@register_problem("f6")
class F6(_PSLSynthetic):
    """F6: ``2 x_i - 1 -> (0.3 x_1^2 cos(12 pi x_1 + 4 i pi / n) + 0.6 x_1) * sin/cos(6 pi x_1 + i pi / n)``."""

    def _deviation(self, x1, xs, i):
        n = self.n_var
        amplitude = 0.3 * x1 ** 2 * torch.cos(12.0 * math.pi * x1 + 4.0 * i * math.pi / n) + 0.6 * x1
        phase = 6.0 * math.pi * x1 + i * math.pi / n
        even = i % 2 == 0
        y = 2.0 * xs - 1.0 - amplitude * torch.where(even, torch.sin(phase), torch.cos(phase))
        return torch.where(even, y ** 4, y ** 2)
