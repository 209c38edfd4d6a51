"""The learned Pareto-set model scored at fixed preferences, against three denominators.

Protocol ``pareto-set``, for Pareto-set learners (PSL, Lin et al., "Pareto Set Learning for
Expensive Multi-Objective Optimization", NeurIPS 2022, and its kin): after the budget, the
model's solutions ``result.pareto_set(prefs)`` at ``prefs``, the Das-Dennis grid with at most
``n_prefs`` points (100 for two objectives, 91 for three), are evaluated and scored by hypervolume
at reference point ``ref_point`` in every (raw) objective:

* ``hv_set``: that hypervolume;
* ``ratio_front``: over the hypervolume of the problem's reference front with the same number of
  points (``pareto_front(len(prefs))``: 100 points evenly spaced in f1 for ZDT, the 91 Das-Dennis
  directions normalized onto the sphere for DTLZ2);
* ``ratio_optima``: over the hypervolume of the exact optima of the learner's own scalarization
  (its ``scalarization`` and ``rho``, preferences shifted by its ``pref_eps``, the run's final
  ideal point from the stored model state) for the very same preferences, each found by
  exhaustive search over a dense sampling of the analytic front (``pareto_front(dense_points)``
  for two objectives, ``pareto_front(dense_points_many)`` for more): what a perfect model would
  output. On DTLZ2 it lies *below* the same-size front: the ideal point sits 0.1 below the
  front, so for a preference on the simplex's boundary (36 of the 91, weight 1e-4 after the shift)
  the Tchebycheff term is constant along the boundary arc and the augmentation term picks the
  arc's end: those optima pile up on the three corners, and a ratio above 100 % means the model
  did not follow that degeneracy;
* ``ratio_exact``: over the exact hypervolume of the continuous front, given per problem label in
  the option ``exact_hv`` (``None`` for a problem not listed);
* ``n_prefs``: the number of preferences.
"""
from __future__ import annotations

import dataclasses

import torch

from moo.errors import MooValueError
from moo.protocol import Protocol


def scalarization_optima(scalarize, prefs: torch.Tensor, ideal: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
    """For each preference ``w`` of ``prefs [k, m]``, the row of ``dense [N, m]`` minimising
    ``scalarize(F, w, ideal)``."""
    return torch.stack([dense[scalarize(dense, w.expand_as(dense), ideal).argmin()] for w in prefs])


class ParetoSet(Protocol):
    """Solve each cell with a Pareto-set learner; score its model at Das-Dennis preferences."""

    name = "pareto-set"
    indicator_names = ("hv_set", "ratio_front", "ratio_optima", "ratio_exact", "n_prefs")
    higher_is_better = frozenset({"hv_set", "ratio_front", "ratio_optima", "ratio_exact"})
    indicator_titles = {"hv_set": "HV of the model's solutions at the Das-Dennis preferences (ref. point 1.1)",
                        "ratio_front": "HV / reference front's (same size) -- the target's column",
                        "ratio_optima": "HV / exact scalarization optima's (same preferences)",
                        "ratio_exact": "HV / exact HV of the continuous front",
                        "n_prefs": "preferences (= reference front points)"}

    @dataclasses.dataclass
    class Options:
        #: at most this many Das-Dennis preferences (the grid with the most partitions that fits)
        n_prefs: int = 100
        #: the hypervolume reference point, in every objective (raw objectives)
        ref_point: float = 1.1
        #: points of the dense front sampling for two objectives
        dense_points: int = 200_001
        #: at most this many for three or more objectives (80,601: DTLZ2's 400-partition grid)
        dense_points_many: int = 80_601
        #: exact hypervolume of the continuous front at ``ref_point``, by problem label
        exact_hv: dict = dataclasses.field(default_factory=dict)

        def __post_init__(self):
            for key in ("n_prefs", "dense_points", "dense_points_many"):
                value = getattr(self, key)
                if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                    raise MooValueError(f"protocol 'pareto-set': {key} must be an integer >= 2, got {value!r}")
            for key, value in self.exact_hv.items():
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                    raise MooValueError(f"protocol 'pareto-set': exact_hv[{key!r}] must be a positive number, "
                                        f"got {value!r}")

    def check_algorithm(self, name: str, config: dict) -> dict:
        from moo.registry import get_algorithm

        algorithm = get_algorithm(name, **config)
        full = algorithm.config_dict()
        missing = [k for k in ("scalarization", "rho", "pref_eps") if k not in full]
        if not algorithm.learns_pareto_set or missing:
            raise MooValueError(f"protocol 'pareto-set' needs a scalarizing Pareto-set learner (a model from "
                                f"preferences, config options scalarization, rho, pref_eps); {name!r} is not one")
        return full

    def indicators(self, cell, problem, result) -> dict:
        from moo.algorithms.psl import build_scalarization
        from moo.indicators import hypervolume
        from moo.preferences import sample_preferences

        o, m = self.options, problem.n_obj
        ref = torch.full((m,), float(o.ref_point), dtype=torch.float64)
        hv = lambda F: float(hypervolume(F.detach().cpu().double(), ref))  # noqa: E731
        prefs = sample_preferences("das-dennis", o.n_prefs, m)
        with torch.no_grad():
            F = problem.evaluate(result.pareto_set(prefs).double())
        hv_set = hv(F)
        front = problem.pareto_front(len(prefs))
        config = cell["algorithm_spec"]["config"]
        scalarize = build_scalarization(config["scalarization"], config["rho"])
        dense = problem.pareto_front(o.dense_points if m == 2 else o.dense_points_many).double()
        ideal = result.state["ideal"].detach().cpu().double()
        optima = scalarization_optima(scalarize, prefs + config["pref_eps"], ideal, dense)
        exact = o.exact_hv.get(cell["problem"])
        return {"hv_set": hv_set, "ratio_front": hv_set / hv(front), "ratio_optima": hv_set / hv(optima),
                "ratio_exact": None if exact is None else hv_set / exact, "n_prefs": float(len(prefs))}
