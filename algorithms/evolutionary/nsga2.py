"""NSGA-II on torch tensors (Deb, Pratap, Agarwal & Meyarivan, "A Fast and Elitist
Multiobjective Genetic Algorithm: NSGA-II", IEEE TEVC 2002).

Defaults are the paper's and pymoo's: random initial population, binary tournament by
constraint domination, Pareto dominance and crowding distance, SBX (``eta_c = 15``, probability
0.9), polynomial mutation (``eta_m = 20``, probability ``1 / n_var`` per variable), and
rank-and-crowding survival. As in pymoo, duplicate offspring are eliminated and the splitting
front is truncated by crowding distance computed once over the whole front, ties at random.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from moo.pareto import non_dominated_rank
from moo.registry import register_algorithm

from .base import GeneticAlgorithm
from .selection import (front_crowding, fronts_until, random_pairs, random_tiebreak_order, split_feasible,
                        tournament_dominance_crowding)


@register_algorithm("nsga2")
class NSGA2(GeneticAlgorithm):
    """NSGA-II (Deb et al. 2002). See the module docstring for the operators and defaults."""

    name = "nsga2"
    state_attrs = ("crowding",)

    @dataclass
    class Config(GeneticAlgorithm.Config):
        """Args: pop_size; eta_c, prob_c: SBX index and pair probability; eta_m, prob_m:
        polynomial-mutation index and per-variable probability (``None``: ``1 / n_var``);
        eliminate_duplicates: regenerate offspring equal to a member or to each other."""

    def _setup(self) -> None:
        super()._setup()
        self.crowding: Tensor | None = None

    def _select_parents(self, n_pairs: int) -> tuple[Tensor, Tensor]:
        pairs = random_pairs(self.X.shape[0], 2 * n_pairs, generator=self.generator, device=self.device)
        winners = tournament_dominance_crowding(pairs, self.F, self.cv, self.crowding, generator=self.generator)
        return winners[:n_pairs], winners[n_pairs:]

    def _survive(self, F: Tensor, cv: Tensor, n_survive: int) -> Tensor:
        crowding = torch.zeros(F.shape[0], dtype=F.dtype, device=F.device)

        def rank_and_crowding(idx: Tensor, k: int) -> Tensor:
            rank = non_dominated_rank(F[idx], n_stop=k)
            last = fronts_until(rank, k)
            cd = front_crowding(F[idx], rank, last)
            crowding[idx] = cd
            within = (rank >= 0) & (rank <= last)
            order = random_tiebreak_order([rank[within].to(F.dtype), -cd[within]], generator=self.generator)
            return idx[within.nonzero().flatten()[order[:k]]]

        keep = split_feasible(cv, n_survive, rank_and_crowding, generator=self.generator)
        self.crowding = crowding[keep]
        return keep
