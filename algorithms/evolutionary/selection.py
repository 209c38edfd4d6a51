"""Mating and survival selection shared by NSGA-II and NSGA-III, with constraint domination.

Constraint domination (Deb 2000; Deb et al. 2002, §VI): a feasible solution beats an infeasible
one, two infeasible solutions compare by total constraint violation, and two feasible ones by
the algorithm's own criterion. ``cv`` below is the total violation ``sum_j max(g_j, 0)``
(pymoo's default), 0 for a feasible solution.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from moo.pareto import crowding_distance, total_violation


def random_pairs(n_pop: int, n_tournaments: int, *, generator: torch.Generator,
                 device: torch.device) -> Tensor:
    """Competitor indices ``[n_tournaments, 2]`` drawn from concatenated random permutations of
    the population, so every member competes about equally often (as in pymoo)."""
    n_perms = math.ceil(2 * n_tournaments / n_pop)
    perms = [torch.randperm(n_pop, generator=generator, device=device) for _ in range(n_perms)]
    return torch.cat(perms)[: 2 * n_tournaments].view(n_tournaments, 2)


def _coin(n: int, like: Tensor, generator: torch.Generator) -> Tensor:
    return torch.rand(n, generator=generator, device=like.device) < 0.5


def tournament_dominance_crowding(pairs: Tensor, F: Tensor, cv: Tensor, crowding: Tensor, *,
                                  generator: torch.Generator) -> Tensor:
    """NSGA-II's binary tournament (pymoo's ``comp_by_dom_and_crowding``): by violation when
    either is infeasible, else by Pareto dominance, else the larger crowding distance; remaining
    ties are broken at random. Returns the winners' indices ``[n]``."""
    a, b = pairs[:, 0], pairs[:, 1]
    coin = _coin(len(a), F, generator)
    infeasible = (cv[a] > 0) | (cv[b] > 0)
    Fa, Fb = F[a], F[b]
    a_dom = (Fa <= Fb).all(-1) & (Fa < Fb).any(-1)
    b_dom = (Fb <= Fa).all(-1) & (Fb < Fa).any(-1)
    by_cv = torch.where(cv[a] < cv[b], a, torch.where(cv[b] < cv[a], b, torch.where(coin, a, b)))
    by_cd = torch.where(crowding[a] > crowding[b], a,
                        torch.where(crowding[b] > crowding[a], b, torch.where(coin, a, b)))
    feasible_winner = torch.where(a_dom, a, torch.where(b_dom, b, by_cd))
    return torch.where(infeasible, by_cv, feasible_winner)


def tournament_violation_then_random(pairs: Tensor, cv: Tensor, *, generator: torch.Generator) -> Tensor:
    """NSGA-III's tournament (Deb & Jain 2014; pymoo's ``comp_by_cv_then_random``): the smaller
    violation wins; two feasible competitors (or equal violations) are decided at random."""
    a, b = pairs[:, 0], pairs[:, 1]
    coin = _coin(len(a), cv, generator)
    return torch.where(cv[a] < cv[b], a, torch.where(cv[b] < cv[a], b, torch.where(coin, a, b)))


def fronts_until(rank: Tensor, n_survive: int) -> Tensor:
    """The highest front index that still has to be (partly) taken to fill ``n_survive`` places."""
    counts = torch.bincount(rank[rank >= 0])
    return int(torch.searchsorted(counts.cumsum(0), torch.tensor(n_survive, device=rank.device)).clamp(max=len(counts) - 1))


def front_crowding(F: Tensor, rank: Tensor, last: int) -> Tensor:
    """Crowding distance of every row within its own front, for fronts ``0..last`` (others 0),
    computed for all of those fronts in one batched call."""
    masks = rank.unsqueeze(0) == torch.arange(last + 1, device=rank.device).unsqueeze(1)  # [R, n]
    cd = crowding_distance(F.unsqueeze(0).expand(last + 1, -1, -1), mask=masks)
    return cd.sum(0)


def random_tiebreak_order(keys: list[Tensor], *, generator: torch.Generator) -> Tensor:
    """Indices sorting rows ascending by ``keys[0]``, then ``keys[1]``, …, with remaining ties in
    random order."""
    n = keys[0].shape[0]
    order = torch.randperm(n, generator=generator, device=keys[0].device)
    for key in reversed(keys):
        order = order[torch.sort(key[order], stable=True).indices]
    return order


def split_feasible(cv: Tensor, n_survive: int, survive_feasible, *, generator: torch.Generator) -> Tensor:
    """Constraint-domination survival: the feasible rows go through ``survive_feasible(idx, k)``
    (which returns the chosen subset of ``idx``, at most ``k``); the places left are filled with the
    infeasible rows of least violation (ties at random)."""
    feasible = (cv <= 0).nonzero().flatten()
    chosen = survive_feasible(feasible, min(n_survive, len(feasible))) if len(feasible) else feasible
    left = n_survive - len(chosen)
    if left > 0:
        infeasible = (cv > 0).nonzero().flatten()
        order = random_tiebreak_order([cv[infeasible]], generator=generator)
        chosen = torch.cat([chosen, infeasible[order[:left]]])
    return chosen


__all__ = ["random_pairs", "tournament_dominance_crowding",
           "tournament_violation_then_random", "fronts_until", "front_crowding",
           "random_tiebreak_order", "split_feasible"]
