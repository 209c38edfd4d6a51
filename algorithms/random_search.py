"""Random search: the baseline every search method should beat.

Each step asks ``batch_size`` points drawn uniformly from the bounds: reals uniformly,
integer and categorical variables uniformly over their values. The points form one stream
from the solver's generator, so the batch size changes when points are asked, not which.
Constraints are honoured the base class's way: the approximation keeps feasible points only.
"""
from __future__ import annotations

from dataclasses import dataclass

from moo.algorithm import Algorithm, StepInfo
from moo.registry import register_algorithm

from .evolutionary.operators import VariableLayout, sample_uniform


@register_algorithm("random")
class RandomSearch(Algorithm):
    """Uniform random sampling of the search space, ``batch_size`` points per ask."""

    name = "random"

    @dataclass
    class Config:
        #: points per ask (the last ask of a budget may be smaller)
        batch_size: int = 10

    def _setup(self) -> None:
        self.layout = VariableLayout(self.problem.var_types, self.problem.n_var, self.device)

    def _ask(self):
        k = self.config.batch_size if self.remaining is None else min(self.config.batch_size, self.remaining)
        xl, xu = self.problem.bounds.to(self.device, self.dtype)
        return sample_uniform(k, xl, xu, self.layout, generator=self.generator)

    def _tell(self, X, F, G) -> StepInfo:
        return StepInfo()
