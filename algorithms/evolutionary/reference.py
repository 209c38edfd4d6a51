"""NSGA-III's reference-direction machinery (Deb & Jain, "An Evolutionary Many-Objective
Optimization Algorithm Using Reference-Point-Based Nondominated Sorting Approach, Part I",
IEEE TEVC 2014): Das-Dennis directions, adaptive hyperplane normalization, association of
members to directions, and niche-preserving selection.

The normalization follows pymoo's ``HyperplaneNormalization``, which differs from the paper in
documented ways that make it robust: the ideal and worst points are remembered across
generations, the extreme points are kept across generations (so they are never lost),
objective differences below 1e-3 count as 0 when extreme points are chosen, a degenerate
hyperplane (singular system, intercept <= 1e-6) falls back to the worst point of the first
front, a nadir beyond the worst point seen is cut back to it, and an objective range <= 1e-6 is
widened to the worst of the population.
"""
from __future__ import annotations

import torch
from torch import Tensor

from moo.errors import MooValueError
from moo.preferences import das_dennis

# Deb & Jain (2014), Table I: (outer, inner) partitions; inner 0 means a single layer.
_PARTITIONS = {2: (99, 0), 3: (12, 0), 4: (8, 0), 5: (6, 0), 6: (4, 1), 7: (3, 2), 8: (3, 2),
               9: (3, 2), 10: (3, 2)}


def reference_directions(n_obj: int, n_partitions: int | None = None, n_inner: int = 0, *,
                         dtype: torch.dtype = torch.float64, device=None) -> Tensor:
    """Das-Dennis reference directions ``[H, n_obj]``; with ``n_inner > 0`` a second, inner layer
    shrunk halfway towards the centroid (Deb & Jain's two-layer scheme for many objectives).
    ``n_partitions=None`` takes Deb & Jain's choice for ``n_obj`` (2 for more than 10 objectives,
    with 1 inner)."""
    if n_partitions is None:
        n_partitions, n_inner = _PARTITIONS.get(n_obj, (2, 1))
    if n_partitions < 1:
        raise MooValueError(f"n_partitions must be >= 1, got {n_partitions}")
    W = das_dennis(n_partitions, n_obj, dtype=dtype, device=device)
    if n_inner > 0:
        inner = das_dennis(n_inner, n_obj, dtype=dtype, device=device) * 0.5 + 0.5 / n_obj
        W = torch.cat([W, inner])
    return W


class HyperplaneNormalization:
    """Adaptive normalization of Deb & Jain (2014), §IV-C, as in pymoo (see the module docstring).

    State (``ideal``, ``worst``, ``extremes``) persists between generations and is saved with
    :meth:`state` / restored with :meth:`load`.
    """

    def __init__(self, n_obj: int, *, dtype: torch.dtype, device: torch.device):
        self.ideal = torch.full((n_obj,), float("inf"), dtype=dtype, device=device)
        self.worst = torch.full((n_obj,), float("-inf"), dtype=dtype, device=device)
        self.extremes: Tensor | None = None
        self.nadir: Tensor | None = None

    def update(self, F: Tensor, front: Tensor) -> None:
        """Update with the population ``F`` whose first front is ``F[front]``."""
        self.ideal = torch.minimum(self.ideal, F.amin(0))
        self.worst = torch.maximum(self.worst, F.amax(0))
        m = F.shape[1]
        cand = F[front] if self.extremes is None else torch.cat([self.extremes, F[front]])
        shifted = cand - self.ideal
        shifted = torch.where(shifted < 1e-3, torch.zeros_like(shifted), shifted)
        weights = torch.full((m, m), 1e6, dtype=F.dtype, device=F.device).fill_diagonal_(1.0)
        asf = (shifted.unsqueeze(0) * weights.unsqueeze(1)).amax(-1)  # [m, k]
        self.extremes = cand[asf.argmin(1)]
        self.nadir = self._nadir(F.amax(0), F[front].amax(0))

    def _nadir(self, worst_of_population: Tensor, worst_of_front: Tensor) -> Tensor:
        M = self.extremes - self.ideal
        b = torch.ones(M.shape[0], dtype=M.dtype, device=M.device)
        nadir = worst_of_front
        plane, info = torch.linalg.solve_ex(M, b)
        if int(info) == 0 and bool(torch.isfinite(plane).all()):
            intercepts = 1.0 / plane
            consistent = torch.allclose(M @ plane, b)
            if consistent and bool((intercepts > 1e-6).all()):
                nadir = torch.minimum(self.ideal + intercepts, self.worst)
        return torch.where(nadir - self.ideal <= 1e-6, worst_of_population, nadir)

    def state(self) -> dict:
        out = {"ideal": self.ideal.cpu(), "worst": self.worst.cpu()}
        if self.extremes is not None:
            out["extremes"] = self.extremes.cpu()
        return out

    def load(self, state: dict) -> None:
        to = dict(device=self.ideal.device, dtype=self.ideal.dtype)
        self.ideal, self.worst = state["ideal"].to(**to), state["worst"].to(**to)
        self.extremes = state["extremes"].to(**to) if "extremes" in state else None


def associate(F: Tensor, W: Tensor, ideal: Tensor, nadir: Tensor) -> tuple[Tensor, Tensor]:
    """Niche (closest reference line) and perpendicular distance to it for every row of ``F``,
    after normalizing by ``ideal`` and ``nadir``."""
    denom = nadir - ideal
    denom = torch.where(denom == 0, torch.full_like(denom, 1e-12), denom)
    N = (F - ideal) / denom
    unit = W / W.norm(dim=1, keepdim=True)
    proj = N @ unit.T                                              # [n, H]
    dist2 = (N * N).sum(1, keepdim=True) - proj * proj
    dist = dist2.clamp(min=0).sqrt()
    d, niche = dist.min(1)
    return niche, d


def niching(n_select: int, niche_count: Tensor, niche: Tensor, dist: Tensor, *,
            generator: torch.Generator) -> Tensor:
    """Deb & Jain's niche-preserving operator: indices (into ``niche``/``dist``, the last front)
    of ``n_select`` members. Repeatedly takes the least crowded niches (ties at random); a niche
    with no member yet takes its closest candidate, one with members a random candidate."""
    niche_count = niche_count.clone()
    available = torch.ones(niche.shape[0], dtype=torch.bool, device=niche.device)
    chosen: list[Tensor] = []
    n_chosen = 0
    while n_chosen < n_select:
        cand = available.nonzero().flatten()
        niches = torch.unique(niche[cand])
        counts = niche_count[niches]
        least = niches[counts == counts.min()]
        perm = torch.randperm(len(least), generator=generator, device=niche.device)
        least = least[perm][: n_select - n_chosen]
        in_least = torch.isin(niche[cand], least)
        cand = cand[in_least]
        # Rank candidates inside each niche: closest first for empty niches, random otherwise.
        key = torch.where(niche_count[niche[cand]] == 0, dist[cand], torch.zeros_like(dist[cand]))
        order = torch.randperm(len(cand), generator=generator, device=niche.device)
        order = order[torch.sort(key[order], stable=True).indices]
        order = order[torch.sort(niche[cand][order], stable=True).indices]
        ordered = cand[order]
        first = torch.ones_like(ordered, dtype=torch.bool)
        first[1:] = niche[ordered][1:] != niche[ordered][:-1]
        picked = ordered[first]
        chosen.append(picked)
        n_chosen += len(picked)
        available[picked] = False
        niche_count[niche[picked]] += 1
    return torch.cat(chosen)
