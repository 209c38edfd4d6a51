"""How well and how evenly a final front covers a two-objective reference front.

Figures of a solved cell (protocol ``spread``), on raw objectives, beside the suite's evaluator:

* ``hv_ratio``: the hypervolume of the cell's front (reference point ``ref_point`` in every
  objective) divided by that of the problem's reference front ``pareto_front(front_points)``
  (1,000 points of the analytic front by default);
* ``spacing``: Schott's spacing (J. R. Schott, "Fault tolerant design using single and
  multicriteria genetic algorithm optimization", MSc thesis, MIT 1995): the standard deviation
  (population, ``ddof=0``) of each point's L1 distance to its nearest other point; 0 is perfectly
  even; undefined (``None``) with fewer than 3 points;
* ``largest_gap``: the longest Euclidean step between neighbours along the front, the points
  sorted by f1 with the reference front's two extremes added as the ends, divided by the
  reference front's length along the same path (steps longer than 10 × the median step, the
  jumps between a disconnected front's pieces such as ZDT3's, are left out of that length);
* ``n_nd``: the number of points in the cell's front.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from moo.errors import MooValueError
from moo.protocol import Protocol


def spacing(F: np.ndarray) -> float | None:
    """Schott's spacing of ``F [n, m]``: std of the nearest-neighbour L1 distances (``None`` for n < 3)."""
    F = np.asarray(F, dtype=float)
    if len(F) < 3:
        return None
    from scipy.spatial import cKDTree

    # a k-d tree keeps this O(n log n) in memory and time: an archive may hold 50,000+ points
    nearest = cKDTree(F).query(F, k=2, p=1)[0][:, 1]  # [:, 0] is the point itself
    return float(np.std(nearest))


def largest_gap(F: np.ndarray, front: np.ndarray) -> float | None:
    """Longest neighbour step of ``F`` along f1 (ends: the front's extremes) over the front's length."""
    F, front = np.asarray(F, dtype=float), np.asarray(front, dtype=float)
    if len(F) == 0:
        return None
    pts = np.vstack([front[np.argmin(front[:, 0])], F[np.argsort(F[:, 0])], front[np.argmax(front[:, 0])]])
    steps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    path = np.linalg.norm(np.diff(front[np.argsort(front[:, 0])], axis=0), axis=1)
    length = path[path < 10 * np.median(path)].sum()
    return float(steps.max() / length)


class Spread(Protocol):
    """Solve each cell; add the hypervolume ratio to the reference front, Schott's spacing, the
    largest gap and the front's size (two objectives)."""

    name = "spread"
    indicator_names = ("hv_ratio", "spacing", "largest_gap", "n_nd")
    higher_is_better = frozenset({"hv_ratio"})
    indicator_titles = {"hv_ratio": "HV / reference front's HV (ref. point 1.1, raw objectives)",
                        "spacing": "Schott's spacing (lower is more even)",
                        "largest_gap": "largest gap / front length",
                        "n_nd": "non-dominated points"}

    @dataclasses.dataclass
    class Options:
        #: points of the problem's reference front (``pareto_front(n)``)
        front_points: int = 1000
        #: the hypervolume reference point, in every objective (raw objectives)
        ref_point: float = 1.1

        def __post_init__(self):
            if isinstance(self.front_points, bool) or not isinstance(self.front_points, int) or self.front_points < 2:
                raise MooValueError(f"front_points must be an integer >= 2, got {self.front_points!r}")

    def indicators(self, cell, problem, result) -> dict:
        from moo.indicators import hypervolume

        F = result.F.detach().cpu().double()
        front = problem.pareto_front(self.options.front_points).detach().cpu().double()
        ref = torch.full((F.shape[1],), float(self.options.ref_point), dtype=torch.float64)
        hv_front = float(hypervolume(front, ref))
        hv = float(hypervolume(F, ref)) if F.shape[0] else 0.0
        return {"hv_ratio": hv / hv_front, "spacing": spacing(F.numpy()),
                "largest_gap": largest_gap(F.numpy(), front.numpy()), "n_nd": float(F.shape[0])}
