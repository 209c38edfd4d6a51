"""Preference vectors on the simplex and scalarizations of objective vectors."""
from __future__ import annotations

import itertools

import torch
from torch import Tensor


def das_dennis(n_partitions: int, n_obj: int, *, dtype: torch.dtype = torch.float64,
               device: torch.device | str | None = None) -> Tensor:
    """The Das-Dennis simplex-lattice grid: every ``w`` with ``w_i = k_i / n_partitions``,
    ``sum k_i = n_partitions``. Returns ``[C(n_partitions + n_obj - 1, n_obj - 1), n_obj]``."""
    rows = []
    for bars in itertools.combinations(range(n_partitions + n_obj - 1), n_obj - 1):
        edges = (-1,) + bars + (n_partitions + n_obj - 1,)
        rows.append([edges[i + 1] - edges[i] - 1 for i in range(n_obj)])
    return torch.tensor(rows, dtype=dtype, device=device) / n_partitions
