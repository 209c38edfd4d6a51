"""Quality indicators on torch: hypervolume (exact, Monte Carlo, contributions, improvement), R2,
IGD, IGD+, GD, GD+, additive epsilon, and the :class:`Evaluator` that fixes their conventions.

Inputs are tensors (arrays accepted) of shape ``[..., n, m]``, minimization, batched over the
leading dimensions; outputs keep the input's dtype and device.

Edge cases, treated alike by every indicator, batched or not, and by :class:`Evaluator`:

* an empty approximation set (``n = 0``, or every row masked) has hypervolume 0 (no
  contributions, and a candidate improves it by the volume of its own box) and scores ``+inf``
  on IGD, IGD+, GD, GD+, additive epsilon and R2 — the worst value of each;
* NaN or ``±inf`` in a real row of ``F``, a reference front, a reference or ideal point, or the
  weights raises :class:`~moo.errors.NonFiniteError` (padded rows may hold anything);
* an empty reference front or weight set, or ``m = 0`` objectives, raises
  :class:`~moo.errors.ShapeError`;
* an indicator the conventions cannot give raises :class:`~moo.errors.IndicatorUnavailableError`.

Hypervolume is computed in float64 whatever the input dtype (float32 on MPS).
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
