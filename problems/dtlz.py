"""The DTLZ scalable test problems (Deb, Thiele, Laumanns & Zitzler, "Scalable test problems for
evolutionary multiobjective optimization", 2005), DTLZ1–7 for any number of objectives.

Options: ``n_obj`` (default 3) and ``n_var`` (default ``n_obj + k - 1`` with the paper's
recommended ``k``: 5 for DTLZ1, 10 for DTLZ2–6, 20 for DTLZ7). pymoo's classes default to
``n_var = 7`` (DTLZ1) and ``10`` (DTLZ2–7) instead; pass ``n_var`` to match them. The
objective formulas are the paper's and pymoo's (cross-checked in the tests).

Fronts: DTLZ1's plane ``sum f = 0.5`` and DTLZ2–4's unit sphere are Das-Dennis grids (the
sphere's projected onto it); DTLZ5/6 return the curve of ``g = 0`` solutions, which is their
whole front for ``n_obj <= 3``; for ``n_obj >= 4`` the front is known to contain more than that
curve (Huband et al., IEEE TEVC 2006), so their reference front there is only a subset; DTLZ7's
disconnected front comes from a grid over its first ``n_obj - 1`` objectives, filtered to the
non-dominated points.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from moo.preferences import das_dennis
from moo.problem import Problem
from moo.registry import register_problem
from moo.problems._common import FrontBoundsMixin, check_int, nondominated


def _lattice_partitions(n: int, n_obj: int) -> int:
    """The largest Das-Dennis partition count whose grid has at most ``n`` points (at least 1)."""
    p = 1
    while math.comb(p + 1 + n_obj - 1, n_obj - 1) <= n:
        p += 1
    return p


def _angular(theta: Tensor, radius: Tensor) -> Tensor:
    """DTLZ2's spherical map: ``f_i = r prod_{j < M-1-i} cos(theta_j pi/2) * sin(theta_{M-1-i} pi/2)``."""
    return _products(torch.cos(theta * (math.pi / 2)), torch.sin(theta * (math.pi / 2)), radius)


def _products(c: Tensor, s: Tensor, scale: Tensor) -> Tensor:
    """``f_i = scale * prod_{j < M-1-i} c_j * s_{M-1-i}`` (no ``s`` factor for ``i = 0``)."""
    ones = torch.ones_like(c[..., :1])
    head = torch.cat([ones, torch.cumprod(c, -1)], -1)
    tail = torch.cat([s, ones], -1)
    return (head * tail).flip(-1) * scale.unsqueeze(-1)


class _DTLZ(FrontBoundsMixin, Problem):
    differentiable = True
    default_k = 10

    def __init__(self, n_var: int | None = None, n_obj: int = 3):
        n_obj = check_int("n_obj", n_obj, 2, type(self).__name__)
        n_var = n_obj + self.default_k - 1 if n_var is None else n_var
        n_var = check_int("n_var", n_var, n_obj, f"{type(self).__name__} with n_obj = {n_obj}")
        super().__init__(n_var, n_obj, [[0.0] * n_var, [1.0] * n_var])
        self.k = n_var - n_obj + 1

    def _split(self, X: Tensor) -> tuple[Tensor, Tensor]:
        return X[..., : self.n_obj - 1], X[..., self.n_obj - 1:]

    @staticmethod
    def _g_rastrigin(xm: Tensor) -> Tensor:
        return 100.0 * (xm.shape[-1] + ((xm - 0.5) ** 2 - torch.cos(20.0 * math.pi * (xm - 0.5))).sum(-1))

    @staticmethod
    def _g_sphere(xm: Tensor) -> Tensor:
        return ((xm - 0.5) ** 2).sum(-1)

    def _simplex(self, n: int | None) -> Tensor:
        return das_dennis(_lattice_partitions(n or 100 * self.n_obj, self.n_obj), self.n_obj)


@register_problem("dtlz1")
class DTLZ1(_DTLZ):
    """DTLZ1: linear front ``sum f_i = 0.5`` behind ``11^k - 1`` local fronts."""

    default_k = 5

    def _evaluate(self, X):
        x, xm = self._split(X)
        return _products(x, 1.0 - x, 0.5 * (1.0 + self._g_rastrigin(xm)))

    def pareto_front(self, n: int | None = None) -> Tensor:
        """A Das-Dennis grid of at most ``n`` points on the plane (default about ``100 n_obj``)."""
        return 0.5 * self._simplex(n)


class _Spherical(_DTLZ):
    def pareto_front(self, n: int | None = None) -> Tensor:
        """A Das-Dennis grid of at most ``n`` points projected onto the unit sphere."""
        w = self._simplex(n)
        return w / w.norm(dim=-1, keepdim=True)


@register_problem("dtlz2")
class DTLZ2(_Spherical):
    """DTLZ2: the positive orthant of the unit sphere."""

    def _evaluate(self, X):
        x, xm = self._split(X)
        return _angular(x, 1.0 + self._g_sphere(xm))


@register_problem("dtlz3")
class DTLZ3(_Spherical):
    """DTLZ3: DTLZ2's sphere behind DTLZ1's multimodal ``g``."""

    def _evaluate(self, X):
        x, xm = self._split(X)
        return _angular(x, 1.0 + self._g_rastrigin(xm))


@register_problem("dtlz4")
class DTLZ4(_Spherical):
    """DTLZ4: DTLZ2 with the position variables raised to ``alpha`` (default 100), a biased density."""

    def __init__(self, n_var: int | None = None, n_obj: int = 3, alpha: float = 100.0):
        super().__init__(n_var, n_obj)
        self.alpha = float(alpha)

    def _evaluate(self, X):
        x, xm = self._split(X)
        return _angular(x ** self.alpha, 1.0 + self._g_sphere(xm))


class _Degenerate(_DTLZ):
    def _g(self, xm: Tensor) -> Tensor:
        raise NotImplementedError

    def _evaluate(self, X):
        x, xm = self._split(X)
        g = self._g(xm).unsqueeze(-1)
        theta = torch.cat([x[..., :1], (1.0 + 2.0 * g * x[..., 1:]) / (2.0 * (1.0 + g))], -1)
        return _angular(theta, 1.0 + g.squeeze(-1))

    def pareto_front(self, n: int | None = None) -> Tensor:
        """``n`` points (default 100) on the ``g = 0`` curve (the whole front for ``n_obj <= 3``)."""
        n = n or 100
        t = torch.linspace(0.0, 1.0, n, dtype=torch.float64).unsqueeze(-1)
        theta = torch.cat([t, torch.full((n, self.n_obj - 2), 0.5, dtype=torch.float64)], -1)
        return _angular(theta, torch.ones(n, dtype=torch.float64))


@register_problem("dtlz5")
class DTLZ5(_Degenerate):
    """DTLZ5: a degenerate curve on the sphere, DTLZ2's ``g``."""

    def _g(self, xm):
        return self._g_sphere(xm)


@register_problem("dtlz6")
class DTLZ6(_Degenerate):
    """DTLZ6: DTLZ5's curve with the harder ``g = sum x_i^0.1``."""

    def _g(self, xm):
        return (xm ** 0.1).sum(-1)


@register_problem("dtlz7")
class DTLZ7(_DTLZ):
    """DTLZ7: ``2^(n_obj-1)`` disconnected front regions."""

    default_k = 20

    def _evaluate(self, X):
        f, xm = self._split(X)
        g = 1.0 + 9.0 / self.k * xm.sum(-1)
        h = self.n_obj - (f / (1.0 + g).unsqueeze(-1) * (1.0 + torch.sin(3.0 * math.pi * f))).sum(-1)
        return torch.cat([f, ((1.0 + g) * h).unsqueeze(-1)], -1)

    def pareto_front(self, n: int | None = None) -> Tensor:
        """The non-dominated points of a grid over the first ``n_obj - 1`` objectives (about ``n`` of them)."""
        n = n or 100 * self.n_obj
        per_axis = max(2, math.ceil((4 * n) ** (1.0 / (self.n_obj - 1))))
        axis = torch.linspace(0.0, 1.0, per_axis, dtype=torch.float64)
        head = torch.cartesian_prod(*([axis] * (self.n_obj - 1))).reshape(-1, self.n_obj - 1)
        last = 2.0 * self.n_obj - (head * (1.0 + torch.sin(3.0 * math.pi * head))).sum(-1)
        return torch.from_numpy(nondominated(torch.cat([head, last.unsqueeze(-1)], -1).numpy()))
