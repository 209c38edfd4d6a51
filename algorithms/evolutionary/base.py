"""The generational loop shared by NSGA-II and NSGA-III.

One ask/tell round is one generation: the first asks for a random initial population, every
later one selects parents and asks for ``pop_size`` offspring (crossover, mutation, duplicate
elimination); told their values, it keeps ``pop_size`` survivors of parents and offspring. The
last generation is truncated so that the budget is never exceeded.
Subclasses choose parents (:meth:`_select_parents`) and survivors (:meth:`_survive`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from moo.algorithm import Algorithm, StepInfo, bounds_on, feasible_front
from moo.errors import MooValueError

from .operators import VariableLayout, sample_uniform, variation


class GeneticAlgorithm(Algorithm):
    """Base of the torch genetic algorithms (see the module docstring)."""

    @dataclass
    class Config:
        pop_size: int = 100
        eta_c: float = 15.0
        prob_c: float = 0.9
        eta_m: float = 20.0
        prob_m: float | None = None
        eliminate_duplicates: bool = True

    state_attrs = ("X", "F", "cv", "generation")  # the population, its values, its violations
    _MAX_MATING_ROUNDS = 100  # as pymoo: give up filling the offspring after this many rounds

    def _setup(self) -> None:
        c = self.config
        if c.pop_size is not None and (isinstance(c.pop_size, bool) or int(c.pop_size) != c.pop_size
                                       or c.pop_size < 2):
            raise MooValueError(f"pop_size must be an integer >= 2, got {c.pop_size!r}")
        like = torch.empty(0, dtype=self.dtype, device=self.device)
        self.xl, self.xu = bounds_on(self.problem, like)
        self.layout = VariableLayout(self.problem.var_types, self.problem.n_var, self.device)
        self.pop_size = self._pop_size()
        self.X: Tensor | None = None
        self.F: Tensor | None = None
        self.cv: Tensor | None = None
        self.generation = 0

    def _pop_size(self) -> int:
        return int(self.config.pop_size)

    # ------------------------------------------------------------------ hooks
    def _select_parents(self, n_pairs: int) -> tuple[Tensor, Tensor]:
        """Indices of ``n_pairs`` mating pairs in the current population."""
        raise NotImplementedError

    def _survive(self, F: Tensor, cv: Tensor, n_survive: int) -> Tensor:
        """Indices of the ``n_survive`` rows of ``F`` that form the next population; may set
        per-member attributes for the next mating selection (in the returned order)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ ask/tell
    def _ask(self) -> Tensor:
        n = self.pop_size if self.remaining is None else min(self.pop_size, self.remaining)
        if n == 0:
            return self.xl.new_empty(0, self.problem.n_var)
        if self.X is None:
            return sample_uniform(n, self.xl, self.xu, self.layout, generator=self.generator)
        return self._offspring(n)

    def _tell(self, X: Tensor, F: Tensor, G: Tensor | None) -> StepInfo:
        if X.shape[0] == 0:
            return StepInfo()
        cv = self.violation(G, F)
        if self.X is not None:
            X, F, cv = torch.cat([self.X, X]), torch.cat([self.F, F]), torch.cat([self.cv, cv])
        keep = self._survive(F, cv, min(self.pop_size, X.shape[0]))
        self.X, self.F, self.cv = X[keep], F[keep], cv[keep]
        self.generation += 1
        return StepInfo(extras={"generation": self.generation})

    def _offspring(self, n: int) -> Tensor:
        """``n`` new (non-duplicate, where possible) offspring of the current population."""
        c = self.config
        accepted = self.X.new_empty(0, self.X.shape[1])
        for _ in range(self._MAX_MATING_ROUNDS):
            need = n - accepted.shape[0]
            i, j = self._select_parents((need + 1) // 2)
            C = variation(self.X[i], self.X[j], self.xl, self.xu, self.layout, eta_c=c.eta_c,
                          prob_c=c.prob_c, eta_m=c.eta_m, prob_m=c.prob_m, generator=self.generator)
            if c.eliminate_duplicates:
                C = _drop_duplicates(C, torch.cat([self.X, accepted]))
            accepted = torch.cat([accepted, C[:need]])
            if accepted.shape[0] >= n or not c.eliminate_duplicates:
                break
        return accepted

    # ------------------------------------------------------------------ results
    def approximation(self) -> tuple[Tensor, Tensor]:
        """The non-dominated feasible members of the current population (all members when none
        is feasible)."""
        if self.X is None:
            return super().approximation()
        return feasible_front(self.X, self.F, self.cv)


def _drop_duplicates(C: Tensor, existing: Tensor) -> Tensor:
    """Rows of ``C`` equal neither to a row of ``existing`` nor to an earlier row of ``C``.

    Rows are first hashed by a fixed projection (equal rows share a key); only rows whose key
    occurs more than once are compared exactly, which keeps this cheap for large populations.
    """
    pool = torch.cat([existing, C])
    weights = torch.arange(1, pool.shape[1] + 1, dtype=pool.dtype, device=pool.device).sqrt()
    _, key_inv, key_count = torch.unique(pool @ weights, return_inverse=True, return_counts=True)
    suspect = (key_count[key_inv] > 1).nonzero().flatten()
    keep = torch.ones(C.shape[0], dtype=torch.bool, device=C.device)
    if len(suspect):
        _, inverse = torch.unique(pool[suspect], dim=0, return_inverse=True)
        first = torch.full((int(inverse.max()) + 1,), pool.shape[0], dtype=torch.long, device=C.device)
        first.scatter_reduce_(0, inverse, suspect, reduce="amin")
        dup = suspect[first[inverse] != suspect]          # a later copy of an earlier row
        dup = dup[dup >= existing.shape[0]] - existing.shape[0]
        keep[dup] = False
    return C[keep]
