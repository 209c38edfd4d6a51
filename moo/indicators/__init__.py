"""Quality indicators on torch: hypervolume (exact, Monte Carlo, contributions, improvement), R2,
IGD, IGD+, GD, GD+, additive epsilon, and the :class:`Evaluator` that fixes their conventions.

Inputs are tensors (arrays accepted) of shape ``[..., n, m]``, minimization, batched over the
leading dimensions; outputs keep the input's dtype and device.
"""
from moo.indicators.distance import epsilon_additive, gd, gd_plus, igd, igd_plus
from moo.indicators.evaluator import Evaluator
from moo.indicators.hypervolume import HVEstimate, hv_contributions, hv_improvement, hypervolume
from moo.indicators.r2 import default_weights, r2, r2_gflownet

__all__ = [
    "Evaluator",
    "HVEstimate",
    "default_weights",
    "epsilon_additive",
    "gd",
    "gd_plus",
    "hv_contributions",
    "hv_improvement",
    "hypervolume",
    "igd",
    "igd_plus",
    "r2",
    "r2_gflownet",
]
