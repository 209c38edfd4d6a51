"""NSGA-III on torch tensors (Deb & Jain, "An Evolutionary Many-Objective Optimization Algorithm
Using Reference-Point-Based Nondominated Sorting Approach, Part I", IEEE TEVC 2014).

Defaults are the paper's: Das-Dennis reference directions with the paper's partitions per
number of objectives, population = the smallest multiple of 4 not below the number of
directions (pymoo uses the number of directions itself), SBX with ``eta_c = 30`` applied to
every pair, polynomial mutation with ``eta_m = 20`` and probability ``1 / n_var``, a binary
tournament by constraint violation and otherwise random, and reference-direction niching on the
splitting front with pymoo's robust hyperplane normalization (see :mod:`.reference`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from moo.pareto import non_dominated_rank
from moo.registry import register_algorithm

from .base import GeneticAlgorithm
from .reference import HyperplaneNormalization, associate, niching, reference_directions
from .selection import (fronts_until, random_pairs, split_feasible,
                        tournament_violation_then_random)


@register_algorithm("nsga3")
class NSGA3(GeneticAlgorithm):
    """NSGA-III (Deb & Jain 2014). See the module docstring for the operators and defaults."""

    name = "nsga3"
    state_attrs = ("normalization",)

    @dataclass
    class Config(GeneticAlgorithm.Config):
        """Args: n_partitions, n_inner: Das-Dennis partitions of the outer and inner layer
        (``None``: the paper's choice for the number of objectives); pop_size: ``None`` for the
        paper's rule; the operator settings as in NSGA-II, with the paper's ``eta_c = 30`` and
        crossover on every pair."""

        pop_size: int | None = None
        eta_c: float = 30.0
        prob_c: float = 1.0
        n_partitions: int | None = None
        n_inner: int = 0

    def _setup(self) -> None:
        c = self.config
        self.ref_dirs = reference_directions(self.problem.n_obj, c.n_partitions, c.n_inner,
                                             dtype=self.dtype, device=self.device)
        super()._setup()
        self.normalization = HyperplaneNormalization(self.problem.n_obj, dtype=self.dtype, device=self.device)

    def _pop_size(self) -> int:
        if self.config.pop_size is not None:
            return int(self.config.pop_size)
        return -(-self.ref_dirs.shape[0] // 4) * 4

    def _select_parents(self, n_pairs: int) -> tuple[Tensor, Tensor]:
        pairs = random_pairs(self.X.shape[0], 2 * n_pairs, generator=self.generator, device=self.device)
        winners = tournament_violation_then_random(pairs, self.cv, generator=self.generator)
        return winners[:n_pairs], winners[n_pairs:]

    def _survive(self, F: Tensor, cv: Tensor, n_survive: int) -> Tensor:
        def reference_niching(idx: Tensor, k: int) -> Tensor:
            Fi = F[idx]
            rank = non_dominated_rank(Fi, n_stop=k)
            last = fronts_until(rank, k)
            self.normalization.update(Fi, (rank == 0).nonzero().flatten())
            within = ((rank >= 0) & (rank <= last)).nonzero().flatten()
            if len(within) == k:
                return idx[within]
            niche, dist = associate(Fi[within], self.ref_dirs, self.normalization.ideal,
                                    self.normalization.nadir)
            before = rank[within] < last
            count = torch.bincount(niche[before], minlength=self.ref_dirs.shape[0])
            on_last = (~before).nonzero().flatten()
            picked = niching(k - int(before.sum()), count, niche[on_last], dist[on_last],
                             generator=self.generator)
            return idx[torch.cat([within[before], within[on_last[picked]]])]

        return split_feasible(cv, n_survive, reference_niching, generator=self.generator)
