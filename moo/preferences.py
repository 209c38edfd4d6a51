"""Preference vectors on the simplex and scalarizations of objective vectors.

Samplers return ``[n, m]`` tensors whose rows lie on the probability simplex; every random draw
comes from the ``generator`` the caller passes. Scalarizations map objective vectors
``F [..., m]`` and preferences ``w [..., m]`` (broadcast against each other) to ``[...]``; they
are written in torch ops, so they are batched over preferences and differentiable in ``F``.
All of them are minimized.
"""
from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor

from moo.errors import MooValueError, ShapeError


def das_dennis(n_partitions: int, n_obj: int, *, dtype: torch.dtype = torch.float64,
               device: torch.device | str | None = None) -> Tensor:
    """The Das-Dennis simplex-lattice grid: every ``w`` with ``w_i = k_i / n_partitions``,
    ``sum k_i = n_partitions``. Returns ``[C(n_partitions + n_obj - 1, n_obj - 1), n_obj]``."""
    rows = []
    for bars in itertools.combinations(range(n_partitions + n_obj - 1), n_obj - 1):
        edges = (-1,) + bars + (n_partitions + n_obj - 1,)
        rows.append([edges[i + 1] - edges[i] - 1 for i in range(n_obj)])
    return torch.tensor(rows, dtype=dtype, device=device) / n_partitions


# ---------------------------------------------------------------------------- samplers
def _check_counts(n: int, n_obj: int) -> None:
    for arg, value, low in (("n", n, 1), ("n_obj", n_obj, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise MooValueError(f"{arg} must be an integer >= {low}, got {value!r}")


def _standard_gamma(alpha: Tensor, generator: torch.Generator | None) -> Tensor:
    """Gamma(alpha, 1) draws from ``generator`` (Marsaglia & Tsang 2000, with the
    ``U^(1/alpha)`` boost for ``alpha < 1``); ``torch._standard_gamma`` takes no generator."""
    boost = alpha < 1
    a = torch.where(boost, alpha + 1, alpha)
    d = a - 1.0 / 3.0
    c = 1.0 / torch.sqrt(9.0 * d)
    out = torch.empty_like(a)
    todo = torch.ones_like(a, dtype=torch.bool)
    while bool(todo.any()):
        z = torch.randn(a.shape, generator=generator, dtype=a.dtype, device=a.device)
        u = torch.rand(a.shape, generator=generator, dtype=a.dtype, device=a.device)
        v = (1 + c * z) ** 3
        ok = (v > 0) & (torch.log(u.clamp_min(1e-300)) < 0.5 * z ** 2 + d - d * v
                        + d * torch.log(v.clamp_min(1e-300)))
        take = todo & ok
        out = torch.where(take, d * v, out)
        todo = todo & ~ok
    if bool(boost.any()):
        u = torch.rand(a.shape, generator=generator, dtype=a.dtype, device=a.device)
        out = torch.where(boost, out * u.clamp_min(1e-300) ** (1.0 / alpha), out)
    return out


def dirichlet(n: int, n_obj: int, alpha: float | Tensor = 1.0, *, generator: torch.Generator | None = None,
              dtype: torch.dtype = torch.float64, device: torch.device | str | None = None) -> Tensor:
    """``n`` draws from Dirichlet(``alpha``) on the ``n_obj``-simplex, ``[n, n_obj]``.

    ``alpha`` is a scalar or one concentration per objective; ``alpha = 1`` is uniform on the
    simplex, ``alpha < 1`` favours the corners (PHN samples rays with ``alpha = 0.2``).
    """
    _check_counts(n, n_obj)
    alpha_t = torch.as_tensor(alpha, dtype=dtype, device=device).expand(n_obj)
    if not bool((alpha_t > 0).all()):
        raise MooValueError(f"alpha must be positive, got {alpha!r}")
    g = _standard_gamma(alpha_t.expand(n, n_obj).contiguous(), generator)
    return g / g.sum(-1, keepdim=True).clamp_min(1e-300)


def uniform_simplex(n: int, n_obj: int, *, generator: torch.Generator | None = None,
                    dtype: torch.dtype = torch.float64, device: torch.device | str | None = None) -> Tensor:
    """``n`` points uniform on the simplex (normalized exponential draws), ``[n, n_obj]``."""
    _check_counts(n, n_obj)
    u = torch.rand(n, n_obj, generator=generator, dtype=dtype, device=device)
    e = -torch.log1p(-u)  # Exp(1); 1 - u is never 0 since u < 1
    return e / e.sum(-1, keepdim=True)


def project_simplex(W: Tensor) -> Tensor:
    """Euclidean projection of each row of ``W [..., m]`` onto the probability simplex
    (the sort-based algorithm of Held, Wolfe & Crowder 1974 / Duchi et al. 2008)."""
    m = W.shape[-1]
    s, _ = torch.sort(W, dim=-1, descending=True)
    css = s.cumsum(-1) - 1
    k = torch.arange(1, m + 1, dtype=W.dtype, device=W.device)
    cond = s - css / k > 0
    rho = cond.to(W.dtype).cumsum(-1).argmax(-1, keepdim=True)  # last index where cond holds
    theta = css.gather(-1, rho) / (rho + 1).to(W.dtype)
    return (W - theta).clamp_min(0)


def riesz_energy(n: int, n_obj: int, *, s: float | None = None, n_iter: int = 300,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None) -> Tensor:
    """``n`` evenly spread preferences: minimizers of the Riesz ``s``-energy
    ``sum_{i<j} ||w_i - w_j||^-s`` on the simplex (Blank et al. 2021, the construction behind
    pymoo's ``"energy"`` reference directions), found by projected normalized gradient descent
    from the ``n_obj`` corners plus uniform draws. ``s`` defaults to ``n_obj``."""
    _check_counts(n, n_obj)
    s = float(n_obj if s is None else s)
    corners = torch.eye(n_obj, dtype=dtype, device=device)[: min(n, n_obj)]
    rest = uniform_simplex(n - corners.shape[0], n_obj, generator=generator, dtype=dtype, device=device) \
        if n > corners.shape[0] else corners[:0]
    W = torch.cat([corners, rest])
    if n < 2:
        return W
    step = 1.0 / n
    eye = torch.eye(n, dtype=torch.bool, device=W.device)
    for t in range(n_iter):
        W.requires_grad_(True)
        d = torch.cdist(W, W).masked_fill(eye, 1.0).clamp_min(1e-12)
        energy = (d ** -s).masked_fill(eye, 0.0).sum() / 2
        (grad,) = torch.autograd.grad(torch.log(energy), W)
        with torch.no_grad():
            grad = grad - grad.mean(-1, keepdim=True)  # tangent to the simplex
            norm = grad.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            W = project_simplex(W - step * (1 - t / n_iter) * grad / norm)
    return W.detach()


def sample_preferences(method: str, n: int, n_obj: int, *, generator: torch.Generator | None = None,
                       dtype: torch.dtype = torch.float64, device: torch.device | str | None = None,
                       **options) -> Tensor:
    """Preferences by sampler name: ``"dirichlet"`` (``alpha=``), ``"uniform"``, ``"energy"``,
    or ``"das-dennis"`` (the grid with the most partitions giving at most ``n`` points, at
    least 1 partition)."""
    if method == "dirichlet":
        return dirichlet(n, n_obj, options.get("alpha", 1.0), generator=generator, dtype=dtype, device=device)
    if method == "uniform":
        return uniform_simplex(n, n_obj, generator=generator, dtype=dtype, device=device)
    if method == "energy":
        return riesz_energy(n, n_obj, generator=generator, dtype=dtype, device=device, **options)
    if method == "das-dennis":
        _check_counts(n, n_obj)
        h = 1
        while math.comb(h + 1 + n_obj - 1, n_obj - 1) <= n:
            h += 1
        return das_dennis(h, n_obj, dtype=dtype, device=device)
    raise MooValueError(f"method must be one of 'dirichlet', 'uniform', 'energy', 'das-dennis', got {method!r}")


# ---------------------------------------------------------------------------- scalarizations
def _prep(F: Tensor, w: Tensor, ideal) -> tuple[Tensor, Tensor]:
    if not isinstance(F, Tensor) or not isinstance(w, Tensor):
        raise ShapeError("F and w must be tensors")
    if F.shape[-1] != w.shape[-1]:
        raise ShapeError(f"F and w must have the same number of objectives in the last dimension, "
                         f"got F {list(F.shape)} and w {list(w.shape)}")
    w = w.to(F)
    if ideal is None:
        return F, w
    z = torch.as_tensor(ideal).to(F)
    if z.shape[-1:] != F.shape[-1:]:
        raise ShapeError(f"ideal must have {F.shape[-1]} entries in its last dimension, got {list(z.shape)}")
    return F - z, w


def linear(F: Tensor, w: Tensor, ideal=None) -> Tensor:
    """Weighted sum ``sum_i w_i (f_i - z_i)`` (``z = 0`` when ``ideal`` is ``None``)."""
    D, w = _prep(F, w, ideal)
    return (w * D).sum(-1)


def tchebycheff(F: Tensor, w: Tensor, ideal=None, *, inverse: bool = False, eps: float = 0.0) -> Tensor:
    """Weighted Tchebycheff ``max_i w_i (f_i - z_i)``; with ``inverse=True`` the
    inverse-weight form ``max_i (f_i - z_i) / w_i`` (Ma et al. 2017; PSL and PSL-MOBO), whose
    optimum for preference ``w`` lies on the ray ``z + t w``. ``eps`` is added to ``w`` first
    (PSL-MOBO adds 1e-4 so that no weight is zero)."""
    D, w = _prep(F, w, ideal)
    w = w + eps
    return (D / w if inverse else w * D).amax(-1)


def augmented_tchebycheff(F: Tensor, w: Tensor, ideal=None, *, rho: float = 0.01, inverse: bool = False,
                          eps: float = 0.0) -> Tensor:
    """Augmented Tchebycheff (Steuer & Choo 1983): :func:`tchebycheff` ``+ rho * sum_i (f_i - z_i)``.
    PSL-MOBO uses ``inverse=True, rho=0.01``."""
    D, _ = _prep(F, w, ideal)
    return tchebycheff(F, w, ideal, inverse=inverse, eps=eps) + rho * D.sum(-1)


def modified_tchebycheff(F: Tensor, w: Tensor, ideal=None, *, rho: float = 0.01) -> Tensor:
    """Modified Tchebycheff (Kaliszewski 1987): ``max_i w_i [(f_i - z_i) + rho sum_j (f_j - z_j)]``."""
    D, w = _prep(F, w, ideal)
    return (w * (D + rho * D.sum(-1, keepdim=True))).amax(-1)


def smooth_tchebycheff(F: Tensor, w: Tensor, ideal=None, *, mu: float = 0.1) -> Tensor:
    """Smooth Tchebycheff (Lin et al., ICML 2024): ``mu * log sum_i exp(w_i (f_i - z_i) / mu)``;
    tends to :func:`tchebycheff` as ``mu -> 0`` and is smooth for ``mu > 0``."""
    if mu <= 0:
        raise MooValueError(f"mu must be positive, got {mu!r}")
    D, w = _prep(F, w, ideal)
    return mu * torch.logsumexp(w * D / mu, dim=-1)


def pbi(F: Tensor, w: Tensor, ideal=None, *, theta: float = 5.0) -> Tensor:
    """Penalty-based boundary intersection (Zhang & Li 2007, MOEA/D): ``d1 + theta * d2`` with
    ``d1`` the length of ``f - z`` along ``w`` and ``d2`` its distance from that ray."""
    D, w = _prep(F, w, ideal)
    u = w / w.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    d1 = (D * u).sum(-1)
    d2 = (D - d1.unsqueeze(-1) * u).norm(dim=-1)
    return d1 + theta * d2


def aasf(F: Tensor, w: Tensor, ideal=None, *, rho: float = 1e-4, weight_0: float = 1e-10) -> Tensor:
    """Augmented achievement scalarizing function (Wierzbicki 1980):
    ``max_i (f_i - z_i) / w_i + rho * sum_i (f_i - z_i) / w_i``, zero weights replaced by
    ``weight_0`` in the max (pymoo's ``AASF`` convention)."""
    D, w = _prep(F, w, ideal)
    w_asf = torch.where(w == 0, torch.full_like(w, weight_0), w)
    return (D / w_asf).amax(-1) + rho * (D / w.clamp_min(1e-12)).sum(-1)


SCALARIZATIONS = {
    "linear": linear,
    "tchebycheff": tchebycheff,
    "augmented-tchebycheff": augmented_tchebycheff,
    "modified-tchebycheff": modified_tchebycheff,
    "smooth-tchebycheff": smooth_tchebycheff,
    "pbi": pbi,
    "aasf": aasf,
}


def get_scalarization(name: str):
    """A scalarization function by name (see ``SCALARIZATIONS``)."""
    try:
        return SCALARIZATIONS[name]
    except KeyError:
        raise MooValueError(f"scalarization must be one of {sorted(SCALARIZATIONS)}, got {name!r}") from None
