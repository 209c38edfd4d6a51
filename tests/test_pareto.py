"""moo.pareto against pymoo's non-dominated sorting / crowding distance and moocore's filter."""
import moocore
import numpy as np
import pytest
import torch
from pymoo.operators.survival.rank_and_crowding.metrics import get_crowding_function
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from moo.errors import NonFiniteError, ShapeError
from moo.pareto import crowding_distance, dominance_matrix, non_dominated_mask, non_dominated_rank, pareto_front


def _sets(seed=0):
    """Random sets with many ties (integer grid) and continuous ones, m = 2..5."""
    rng = np.random.default_rng(seed)
    for m in (2, 3, 4, 5):
        for n in (1, 2, 3, 17, 60):
            yield rng.integers(0, 4, size=(n, m)).astype(float)
            yield rng.random((n, m))


def test_non_dominated_mask_matches_moocore():
    for F in _sets():
        expected = moocore.is_nondominated(F, keep_weakly=True)  # duplicates kept
        np.testing.assert_array_equal(non_dominated_mask(F).numpy(), expected)


def test_rank_matches_pymoo():
    for F in _sets(1):
        _, expected = NonDominatedSorting().do(F, return_rank=True)
        ours = non_dominated_rank(torch.as_tensor(F))
        assert ours.dtype == torch.long
        np.testing.assert_array_equal(ours.numpy(), expected)


def test_crowding_distance_matches_pymoo():
    cd = get_crowding_function("cd")  # the one pymoo's NSGA-II uses
    for F in _sets(2):
        _, rank = NonDominatedSorting().do(F, return_rank=True)
        for r in range(rank.max() + 1):
            front = F[rank == r]
            np.testing.assert_allclose(crowding_distance(front).numpy(), cd.do(front), rtol=1e-12)


def test_crowding_distance_hand_case():
    F = torch.tensor([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0]])
    # row 1: (3-0)/4 + (4-1)/4 = 1.5, /2 -> 0.75 ; row 2: (4-1)/4 + (2-0)/4 = 1.25 -> 0.625
    expected = torch.tensor([float("inf"), 0.75, 0.625, float("inf")])
    torch.testing.assert_close(crowding_distance(F), expected)


def test_batched_and_masked_equal_per_set():
    g = torch.Generator().manual_seed(0)
    for m in (2, 3):
        F = torch.randint(0, 6, (5, 40, m), generator=g).double()
        mask = torch.rand(5, 40, generator=g) < 0.6
        nd, rk, cd = (fn(F, mask=mask) for fn in (non_dominated_mask, non_dominated_rank, crowding_distance))
        for b in range(5):
            Fb = F[b][mask[b]]
            assert torch.equal(nd[b][mask[b]], non_dominated_mask(Fb))
            assert torch.equal(rk[b][mask[b]], non_dominated_rank(Fb))
            torch.testing.assert_close(cd[b][mask[b]], crowding_distance(Fb))
            assert not nd[b][~mask[b]].any() and (rk[b][~mask[b]] == -1).all()


def test_two_objective_fast_path_equals_pairwise():
    g = torch.Generator().manual_seed(3)
    F = torch.randint(0, 8, (3, 200, 2), generator=g).double()
    assert torch.equal(non_dominated_mask(F), ~dominance_matrix(F).any(-2))


def test_pareto_front_and_duplicates():
    F = torch.tensor([[1.0, 2.0], [1.0, 2.0], [2.0, 1.0], [2.0, 2.0], [0.5, 3.0]])
    rows, index = pareto_front(F, return_index=True)
    assert index.tolist() == [0, 1, 2, 4]
    assert torch.equal(rows, F[[0, 1, 2, 4]])
    assert non_dominated_rank(F).tolist() == [0, 0, 0, 1, 0]


def test_float32_and_empty():
    F = torch.rand(10, 3, generator=torch.Generator().manual_seed(0))
    assert non_dominated_mask(F).shape == (10,)
    assert non_dominated_mask(torch.empty(0, 3)).shape == (0,)
    assert non_dominated_rank(torch.empty(0, 3)).shape == (0,)


def test_bad_inputs():
    with pytest.raises(ShapeError, match="F must have shape"):
        non_dominated_mask(torch.zeros(3))
    with pytest.raises(NonFiniteError, match="NaN"):
        non_dominated_rank(torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(ShapeError, match="mask"):
        non_dominated_mask(torch.zeros(3, 2), mask=torch.ones(4, dtype=torch.bool))
