"""Variation operators on torch tensors: SBX, polynomial mutation, and their mixed-variable forms.

Real variables use simulated binary crossover (SBX; Deb & Agrawal 1995) and polynomial mutation
(Deb & Goyal 1996) in the bounded forms of Deb's NSGA-II code, which pymoo also follows.
Integer variables go through the same operators and are then rounded back into their bounds
(pymoo's ``RoundingRepair``). Categorical variables (indices ``0..k-1``) take each value from a
random parent (uniform crossover) and are resampled uniformly by mutation.

All draws come from the caller's ``torch.Generator``; every function is batched over rows.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from moo.errors import MooValueError, ShapeError


def _rand(shape, like: Tensor, generator: torch.Generator) -> Tensor:
    return torch.rand(shape, generator=generator, dtype=like.dtype, device=like.device)


def _betaq(beta: Tensor, u: Tensor, eta: float) -> Tensor:
    """SBX spread factor for a child whose distance to the nearer bound gives ``beta``."""
    alpha = 2.0 - beta.pow(-(eta + 1.0))
    inner = torch.where(u <= 1.0 / alpha, u * alpha, 1.0 / (2.0 - u * alpha))
    return inner.pow(1.0 / (eta + 1.0))


def sbx(P1: Tensor, P2: Tensor, xl: Tensor, xu: Tensor, *, eta: float = 15.0, prob: float = 0.9,
        prob_var: float = 0.5, generator: torch.Generator, eps: float = 1e-14) -> tuple[Tensor, Tensor]:
    """Simulated binary crossover of parent pairs ``P1, P2 [n, d]`` within ``[xl, xu]``.

    Args:
        eta: distribution index (larger keeps children closer to the parents).
        prob: probability that a pair is crossed at all (otherwise the children copy the parents).
        prob_var: probability that a variable of a crossed pair is recombined.
        generator: the source of every random draw.
        eps: parents closer than this in a variable are not recombined there.

    Returns:
        Two children ``[n, d]``, clamped into the bounds.
    """
    if P1.shape != P2.shape or P1.dim() != 2:
        raise ShapeError(f"parents must be two [n, n_var] tensors of equal shape, got "
                         f"{list(P1.shape)} and {list(P2.shape)}")
    n, d = P1.shape
    pair = _rand((n, 1), P1, generator) < prob
    cross = pair & (_rand((n, d), P1, generator) < prob_var)
    cross &= (P1 - P2).abs() > eps
    cross &= (xu > xl).unsqueeze(0)
    y1, y2 = torch.minimum(P1, P2), torch.maximum(P1, P2)
    delta = torch.where(cross, y2 - y1, torch.ones_like(y1))
    u = _rand((n, d), P1, generator)
    c_low = 0.5 * ((y1 + y2) - _betaq(1.0 + 2.0 * (y1 - xl) / delta, u, eta) * delta)
    c_high = 0.5 * ((y1 + y2) + _betaq(1.0 + 2.0 * (xu - y2) / delta, u, eta) * delta)
    swap = _rand((n, d), P1, generator) < 0.5
    C1 = torch.where(cross, torch.where(swap, c_high, c_low), P1)
    C2 = torch.where(cross, torch.where(swap, c_low, c_high), P2)
    return C1.clamp(xl, xu), C2.clamp(xl, xu)


def polynomial_mutation(X: Tensor, xl: Tensor, xu: Tensor, *, eta: float = 20.0,
                        prob_var: float | None = None, generator: torch.Generator) -> Tensor:
    """Bounded polynomial mutation of every row of ``X [n, d]``.

    Args:
        eta: distribution index.
        prob_var: per-variable mutation probability; ``None`` means ``1 / d``.
        generator: the source of every random draw.
    """
    n, d = X.shape
    p = 1.0 / d if prob_var is None else prob_var
    span = xu - xl
    mut = (_rand((n, d), X, generator) < p) & (span > 0).unsqueeze(0)
    safe_span = torch.where(span > 0, span, torch.ones_like(span))
    delta1 = (X - xl) / safe_span
    delta2 = (xu - X) / safe_span
    u = _rand((n, d), X, generator)
    power = 1.0 / (eta + 1.0)
    low = (2.0 * u + (1.0 - 2.0 * u) * (1.0 - delta1).pow(eta + 1.0)).pow(power) - 1.0
    high = 1.0 - (2.0 * (1.0 - u) + 2.0 * (u - 0.5) * (1.0 - delta2).pow(eta + 1.0)).pow(power)
    deltaq = torch.where(u <= 0.5, low, high)
    Y = torch.where(mut, X + deltaq * span, X)
    return Y.clamp(xl, xu)


class VariableLayout:
    """Which columns are real, integer and categorical, from a problem's ``var_types``."""

    def __init__(self, var_types: Sequence[str] | None, n_var: int, device: torch.device):
        types = tuple(var_types) if var_types is not None else ("real",) * n_var
        if len(types) != n_var:
            raise MooValueError(f"var_types must have one entry per variable ({n_var}), got {len(types)}")
        self.types = types
        self.integer = torch.tensor([t == "int" for t in types], device=device)
        self.categorical = torch.tensor([t == "cat" for t in types], device=device)
        self.numeric = ~self.categorical
        self.all_real = not bool((self.integer | self.categorical).any())


def repair(X: Tensor, xl: Tensor, xu: Tensor, layout: VariableLayout) -> Tensor:
    """Clamp into the bounds and round integer and categorical columns to valid values."""
    X = X.clamp(xl, xu)
    if layout.all_real:
        return X
    discrete = layout.integer | layout.categorical
    rounded = torch.minimum(torch.maximum(X.round(), xl.ceil()), xu.floor())
    return torch.where(discrete, rounded, X)


def sample_uniform(n: int, xl: Tensor, xu: Tensor, layout: VariableLayout, *,
                   generator: torch.Generator) -> Tensor:
    """``n`` random points: uniform reals, uniform integers/categories within the bounds."""
    u = _rand((n, xl.shape[0]), xl, generator)
    X = xl + u * (xu - xl)
    if layout.all_real:
        return X
    # Discrete columns: every integer in [ceil(xl), floor(xu)] equally likely.
    lo, hi = xl.ceil(), xu.floor()
    discrete = torch.minimum(lo + (u * (hi - lo + 1.0)).floor(), hi)
    return torch.where(layout.integer | layout.categorical, discrete, X)


def categorical_crossover(P1: Tensor, P2: Tensor, layout: VariableLayout, *,
                          generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Uniform crossover on the categorical columns (others untouched): each child takes each
    category from one parent at random, its sibling from the other."""
    take = (_rand(P1.shape, P1, generator) < 0.5) & layout.categorical
    return torch.where(take, P2, P1), torch.where(take, P1, P2)


def categorical_mutation(X: Tensor, xl: Tensor, xu: Tensor, layout: VariableLayout, *,
                         prob_var: float | None = None, generator: torch.Generator) -> Tensor:
    """Resample each categorical value uniformly among its categories with ``prob_var``
    (default ``1 / n_var``)."""
    n, d = X.shape
    p = 1.0 / d if prob_var is None else prob_var
    mut = (_rand((n, d), X, generator) < p) & layout.categorical
    fresh = sample_uniform(n, xl, xu, layout, generator=generator)
    return torch.where(mut, fresh, X)


def variation(P1: Tensor, P2: Tensor, xl: Tensor, xu: Tensor, layout: VariableLayout, *,
              eta_c: float, prob_c: float, eta_m: float, prob_m: float | None,
              generator: torch.Generator) -> Tensor:
    """Children of parent pairs ``P1, P2 [k, d]``: crossover then mutation, respecting the
    variable types. Returns ``[2k, d]`` (the two children of pair ``i`` at ``i`` and ``k + i``)."""
    C1, C2 = sbx(P1, P2, xl, xu, eta=eta_c, prob=prob_c, generator=generator)
    C = torch.cat([C1, C2])
    if not layout.all_real:
        D1, D2 = categorical_crossover(P1, P2, layout, generator=generator)
        C = torch.where(layout.categorical, torch.cat([D1, D2]), C)
    M = polynomial_mutation(C, xl, xu, eta=eta_m, prob_var=prob_m, generator=generator)
    if not layout.all_real:
        M = torch.where(layout.categorical, C, M)
        M = categorical_mutation(M, xl, xu, layout, prob_var=prob_m, generator=generator)
    return repair(M, xl, xu, layout)
