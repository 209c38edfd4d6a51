"""Torch NSGA-II / NSGA-III: operators, selection, survival, constraints, determinism, budget.

Independent references: pymoo's SBX / polynomial mutation (distributions), its rank-and-crowding
survival, hyperplane normalization and niche association, and moocore's hypervolume.
"""
import io

import moocore
import numpy as np
import pytest
import torch

import moo
from moo import Problem
from moo.algorithms.evolutionary import NSGA2, NSGA3
from moo.algorithms.evolutionary.operators import (VariableLayout, polynomial_mutation, repair,
                                                   sample_uniform, sbx, variation)
from moo.algorithms.evolutionary.reference import (HyperplaneNormalization, associate, niching,
                                                   reference_directions)
from moo.algorithms.evolutionary.selection import (tournament_dominance_crowding,
                                                   tournament_violation_then_random)


class ZDT1(Problem):
    """ZDT1 written in the test (cross-checked against pymoo below)."""

    differentiable = True

    def __init__(self, n_var=30):
        super().__init__(n_var, 2, [[0.0] * n_var, [1.0] * n_var], name="zdt1")

    def _evaluate(self, X):
        g = 1 + 9 * X[..., 1:].sum(-1) / (self.n_var - 1)
        return torch.stack([X[..., 0], g * (1 - torch.sqrt(X[..., 0] / g))], -1)


class ConstrainedZDT1(ZDT1):
    """ZDT1 with the constraint f1 >= 0.4, i.e. 0.4 - x1 <= 0."""

    def __init__(self, n_var=10):
        Problem.__init__(self, n_var, 2, [[0.0] * n_var, [1.0] * n_var], n_constr=1, name="czdt1")

    def _constraints(self, X):
        return (0.4 - X[..., :1])


class Mixed(Problem):
    """Two reals, two integers in [-3, 4] and a categorical with 5 levels."""

    def __init__(self):
        super().__init__(5, 2, [[0, 0, -3, -3, 0], [1, 1, 4, 4, 4]], var_types=["real", "real", "int", "int", "cat"])

    def _evaluate(self, X):
        cat_cost = torch.tensor([3.0, 1.0, 0.0, 2.0, 4.0], dtype=X.dtype)[X[:, 4].long()]
        f1 = X[:, 0] + (X[:, 2] - 1).pow(2) + cat_cost
        f2 = 1 - X[:, 0] + X[:, 1] + (X[:, 3] + 2).pow(2) + cat_cost
        return torch.stack([f1, f2], -1)


def DTLZ2(n_var=7, n_obj=3):
    class _D(Problem):
        def __init__(self):
            super().__init__(n_var, n_obj, [[0.0] * n_var, [1.0] * n_var], name="dtlz2")

        def _evaluate(self, X):
            k = n_obj - 1
            g = (X[:, k:] - 0.5).pow(2).sum(-1, keepdim=True)
            c = torch.cos(X[:, :k] * torch.pi / 2)
            s = torch.sin(X[:, :k] * torch.pi / 2)
            cols = []
            for i in range(n_obj):
                f = torch.prod(c[:, : k - i], -1, keepdim=True)
                if i > 0:
                    f = f * s[:, k - i:k - i + 1]
                cols.append(f)
            return (1 + g) * torch.cat(cols, -1)
    return _D()


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def run(algo, problem, budget, seed=0):
    algo.setup(problem, seed=seed, device="cpu", budget=budget)
    while algo.remaining:
        algo.step()
    return algo


def test_own_problems_agree_with_pymoo():
    from pymoo.problems import get_problem
    X = np.random.default_rng(0).random((20, 30))
    np.testing.assert_allclose(ZDT1().evaluate(torch.tensor(X)).numpy(), get_problem("zdt1").evaluate(X), rtol=1e-12)
    X = np.random.default_rng(1).random((20, 7))
    np.testing.assert_allclose(DTLZ2().evaluate(torch.tensor(X)).numpy(), get_problem("dtlz2", n_var=7).evaluate(X), rtol=1e-12)


# ---------------------------------------------------------------- operators
def test_sbx_keeps_bounds_and_matches_pymoo_spread():
    from pymoo.operators.crossover.sbx import cross_sbx
    n, d = 20000, 3
    xl, xu = torch.tensor([0.0, -2.0, 5.0], dtype=torch.float64), torch.tensor([1.0, 2.0, 5.5], dtype=torch.float64)
    P1 = xl + torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64) * (xu - xl)
    P2 = xl + torch.tensor([0.6, 0.1, 0.95], dtype=torch.float64) * (xu - xl)
    P1, P2 = P1.expand(n, d).clone(), P2.expand(n, d).clone()
    C1, C2 = sbx(P1, P2, xl, xu, eta=15, prob=1.0, prob_var=1.0, generator=gen())
    C = torch.cat([C1, C2])
    assert bool(((C >= xl) & (C <= xu)).all())
    Xp = np.stack([P1.numpy(), P2.numpy()])
    Q = cross_sbx(Xp, xl.numpy(), xu.numpy(), np.full((n, 1), 15.0), np.full((n, 1), 1.0),
                  np.full((n, 1), 0.5), random_state=np.random.default_rng(0))
    Q = np.concatenate([Q[0], Q[1]])
    # same distribution of children: per-variable mean and spread within sampling error
    np.testing.assert_allclose(C.mean(0).numpy(), Q.mean(0), atol=0.01)
    np.testing.assert_allclose(C.std(0).numpy(), Q.std(0), rtol=0.03)
    # children straddle the parents' midpoint symmetrically (SBX preserves the mean)
    np.testing.assert_allclose((C1 + C2).mean(0).numpy(), (P1 + P2)[0].numpy(), atol=0.01)


def test_sbx_without_crossover_copies_parents():
    P1, P2 = torch.rand(10, 4, generator=gen(1), dtype=torch.float64), torch.rand(10, 4, generator=gen(2), dtype=torch.float64)
    C1, C2 = sbx(P1, P2, torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64), prob=0.0, generator=gen())
    assert torch.equal(C1, P1) and torch.equal(C2, P2)


def test_polynomial_mutation_bounds_rate_and_pymoo_spread():
    from pymoo.operators.mutation.pm import mut_pm
    n, d = 40000, 4
    xl, xu = torch.zeros(d, dtype=torch.float64), torch.tensor([1.0, 1.0, 10.0, 1.0], dtype=torch.float64)
    X = torch.tensor([0.05, 0.5, 9.0, 1.0], dtype=torch.float64).expand(n, d).clone()
    Y = polynomial_mutation(X, xl, xu, eta=20, generator=gen())
    assert bool(((Y >= xl) & (Y <= xu)).all())
    rate = (Y[:, :3] != X[:, :3]).double().mean().item()
    assert abs(rate - 1 / d) < 0.01  # per-variable probability 1/n_var
    Yp = mut_pm(X.numpy(), xl.numpy(), xu.numpy(), np.full(n, 20.0), np.full(n, 1.0), False,
                random_state=np.random.default_rng(0))
    Yp = np.where(np.random.default_rng(1).random((n, d)) < 1 / d, Yp, X.numpy())  # pymoo here mutates all
    for j in range(3):
        ours, theirs = Y[:, j][Y[:, j] != X[:, j]].numpy(), Yp[:, j][Yp[:, j] != X[0, j].item()]
        assert abs(ours.mean() - theirs.mean()) < 0.02 * (xu[j] - xl[j]).item()
        assert abs(ours.std() / theirs.std() - 1) < 0.1


def test_mixed_variation_respects_types_and_bounds():
    p = Mixed()
    layout = VariableLayout(p.var_types, p.n_var, torch.device("cpu"))
    xl, xu = p.xl, p.xu
    X = sample_uniform(400, xl, xu, layout, generator=gen())
    C = variation(X[:200], X[200:], xl, xu, layout, eta_c=15, prob_c=0.9, eta_m=20, prob_m=0.5, generator=gen(3))
    for Z in (X, C):
        assert bool(((Z >= xl) & (Z <= xu)).all())
        assert torch.equal(Z[:, 2:], Z[:, 2:].round())
    # every category and every integer value is reachable
    assert set(C[:, 4].long().tolist()) == set(range(5))
    assert set(X[:, 2].long().tolist()) == set(range(-3, 5))
    # categorical children carry a parent's value or a mutation, never something between
    assert bool(((C[:, 4] >= 0) & (C[:, 4] <= 4)).all())
    Y = repair(torch.tensor([[0.5, 1.7, 3.6, -3.4, 4.2]], dtype=torch.float64), xl, xu, layout)
    assert Y.tolist() == [[0.5, 1.0, 4.0, -3.0, 4.0]]


# ---------------------------------------------------------------- selection
def test_tournaments_follow_constraint_domination():
    F = torch.tensor([[0.0, 1.0], [1.0, 2.0], [0.5, 0.5], [5.0, 5.0], [0.2, 0.9]], dtype=torch.float64)
    cv = torch.tensor([0.0, 0.0, 0.0, 0.0, 3.0])
    crowd = torch.tensor([1.0, 0.0, 2.0, 9.0, 0.0], dtype=torch.float64)
    pairs = torch.tensor([[0, 1], [1, 0], [0, 2], [3, 4], [4, 3], [0, 4]])
    w = tournament_dominance_crowding(pairs, F, cv, crowd, generator=gen())
    # 0 dominates 1; 0 vs 2 non-dominated -> larger crowding (2); feasible 3 beats infeasible 4
    assert w.tolist() == [0, 0, 2, 3, 3, 0]
    cv2 = torch.tensor([0.0, 1.0, 2.0, 0.0, 0.0])
    w = tournament_violation_then_random(torch.tensor([[1, 2], [2, 1], [0, 1]]), cv2, generator=gen())
    assert w.tolist() == [1, 1, 0]
    # two feasible: a fair coin
    many = tournament_violation_then_random(torch.tensor([[0, 3]] * 2000), cv2, generator=gen())
    assert 0.45 < (many == 0).double().mean().item() < 0.55


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nsga2_survival_matches_pymoo(seed):
    from pymoo.core.population import Population
    from pymoo.core.problem import Problem as PymooProblem
    from pymoo.operators.survival.rank_and_crowding import RankAndCrowding
    F = np.random.default_rng(seed).random((60, 2)) ** 0.5
    F[:, 1] = 1 - F[:, 0] + 0.3 * np.random.default_rng(seed + 10).random(60)
    algo = NSGA2(pop_size=25)
    algo.setup(ZDT1(), seed=seed, device="cpu")
    keep = algo._survive(torch.tensor(F), torch.zeros(60, dtype=torch.float64), 25)
    pop = Population.new(F=F)
    theirs = RankAndCrowding().do(PymooProblem(n_var=1, n_obj=2), pop, n_survive=25,
                                  random_state=np.random.default_rng(seed))
    ours_set = {tuple(r) for r in F[keep.numpy()].round(12)}
    theirs_set = {tuple(r) for r in theirs.get("F").round(12)}
    assert ours_set == theirs_set


def test_constrained_survival_puts_feasible_first():
    F = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], dtype=torch.float64)
    cv = torch.tensor([5.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    algo = NSGA2(pop_size=3)
    algo.setup(ZDT1(), device="cpu")
    assert sorted(algo._survive(F, cv, 3).tolist()) == [1, 2, 3]
    algo3 = NSGA3(pop_size=3)
    algo3.setup(DTLZ2(n_obj=2, n_var=4), device="cpu")
    assert sorted(algo3._survive(F, cv, 3).tolist()) == [1, 2, 3]


# ---------------------------------------------------------------- NSGA-III machinery
def test_reference_directions_and_normalization_match_pymoo():
    from pymoo.algorithms.moo.nsga3 import HyperplaneNormalization as PymooNorm, associate_to_niches
    from pymoo.util.ref_dirs import get_reference_directions
    W = reference_directions(3)
    Wp = get_reference_directions("das-dennis", 3, n_partitions=12)
    assert W.shape == (91, 3)
    assert {tuple(r) for r in W.numpy().round(9)} == {tuple(r) for r in Wp.round(9)}
    assert reference_directions(8).shape == (120 + 36, 8)  # Deb & Jain's two layers for 8 objectives
    rng = np.random.default_rng(0)
    ours = HyperplaneNormalization(3, dtype=torch.float64, device=torch.device("cpu"))
    theirs = PymooNorm(3)
    for gen_i in range(3):
        F = rng.random((50, 3)) * np.array([1.0, 2.0, 4.0]) + gen_i * 0.1
        from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting
        nds = NonDominatedSorting().do(F, only_non_dominated_front=True)
        theirs.update(F, nds=nds)
        ours.update(torch.tensor(F), torch.tensor(nds))
        np.testing.assert_allclose(ours.ideal.numpy(), theirs.ideal_point)
        np.testing.assert_allclose(ours.nadir.numpy(), theirs.nadir_point, rtol=1e-10)
    niche, dist = associate(torch.tensor(F), W, ours.ideal, ours.nadir)
    n_p, d_p, _ = associate_to_niches(F, Wp, theirs.ideal_point, theirs.nadir_point)
    np.testing.assert_allclose(dist.numpy(), d_p, atol=1e-10)
    assert (W[niche].numpy().round(9) == Wp[n_p].round(9)).all()


def test_niching_fills_empty_niches_first():
    # 4 candidates: two in niche 0 (already crowded), one each in empty niches 1 and 2
    niche = torch.tensor([0, 0, 1, 2, 2])
    dist = torch.tensor([0.1, 0.2, 0.5, 0.9, 0.3], dtype=torch.float64)
    count = torch.tensor([3, 0, 0])
    picked = niching(2, count, niche, dist, generator=gen())
    assert sorted(picked.tolist()) == [2, 4]  # the closest member of each empty niche


# ---------------------------------------------------------------- whole runs
def test_nsga2_budget_determinism_and_improvement():
    hv = []
    algo = NSGA2(pop_size=40)
    algo.setup(ZDT1(n_var=10), seed=3, device="cpu", budget=1010)
    while algo.remaining:
        info = algo.step()
        hv.append(moocore.hypervolume(algo.approximation()[1].numpy(), ref=[1.1, 1.1]))
    assert algo.n_evals == 1010 and info.n_evals == 10  # the last generation is truncated
    assert algo.step().n_evals == 0
    assert hv[0] == 0 and hv[-1] > 0.45
    assert sum(b >= a - 1e-12 for a, b in zip(hv, hv[1:])) >= len(hv) - 3  # monotone-ish
    again = run(NSGA2(pop_size=40), ZDT1(n_var=10), 1010, seed=3)
    assert torch.equal(again.X, algo.X)


@pytest.mark.parametrize("cls,problem", [(NSGA2, lambda: ZDT1(n_var=8)), (NSGA3, lambda: DTLZ2())])
def test_checkpoint_resume_is_identical(cls, problem):
    full = run(cls(pop_size=24), problem(), 240, seed=5)
    part = cls(pop_size=24)
    part.setup(problem(), seed=5, device="cpu", budget=240)
    for _ in range(4):
        part.step()
    buf = io.BytesIO()
    torch.save(part.state_dict(), buf)
    buf.seek(0)
    resumed = cls(pop_size=24)
    resumed.setup(problem(), seed=5, device="cpu", budget=240)
    resumed.load_archive(*part.archive)  # the run loop stores the archive beside the state
    resumed.load_state_dict(torch.load(buf, weights_only=True))
    while resumed.remaining:
        resumed.step()
    assert torch.equal(resumed.X, full.X) and torch.equal(resumed.F, full.F)
    assert torch.equal(resumed.archive[0], full.archive[0])


def test_constraints_are_respected():
    algo = run(NSGA2(pop_size=40), ConstrainedZDT1(), 1600, seed=0)
    X, F = algo.approximation()
    assert len(F) >= 10
    assert bool((F[:, 0] >= 0.4).all())
    assert bool((algo.cv == 0).all())


def test_mixed_variables_reach_the_discrete_optimum():
    algo = run(NSGA2(pop_size=30), Mixed(), 900, seed=0)
    X, F = algo.approximation()
    assert torch.equal(X[:, 2:], X[:, 2:].round())
    # the best category (index 2) and the integer optima are found for the whole front
    assert set(X[:, 4].long().tolist()) == {2}
    assert set(X[:, 3].long().tolist()) == {-2}
    assert set(X[:, 2].long().tolist()) <= {0, 1, 2}


def test_nsga3_on_dtlz2_converges_and_spreads():
    algo = run(NSGA3(), DTLZ2(), 92 * 40, seed=0)
    assert algo.pop_size == 92  # smallest multiple of 4 above 91 directions
    X, F = algo.approximation()
    radius = F.norm(dim=1)
    assert float(radius.median()) < 1.05  # on (near) the unit sphere
    hv = moocore.hypervolume(F.numpy(), ref=[1.1, 1.1, 1.1])
    assert hv > 0.65  # Pareto front's HV is 1.331 - pi/6 = 0.807


def test_registered_by_name():
    assert isinstance(moo.get_algorithm("nsga2", pop_size=10), NSGA2)
    assert isinstance(moo.get_algorithm("nsga3"), NSGA3)
    with pytest.raises(moo.MooValueError):
        NSGA2(pop_size=1).setup(ZDT1(), device="cpu")


@pytest.mark.parametrize("m", [2, 3, 4])
def test_fast_ranks_equal_moo_pareto_and_pymoo(m):
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting
    from moo.pareto import non_dominated_rank
    g = gen(m)
    for F in (torch.rand(300, m, generator=g, dtype=torch.float64),
              torch.randint(0, 4, (300, m), generator=g).double()):  # ties and duplicates
        full = non_dominated_rank(F)  # the single-set fast path
        assert torch.equal(full, non_dominated_rank(F.unsqueeze(0))[0])  # the batched peel
        _, rank_p = NonDominatedSorting().do(F.numpy(), return_rank=True)
        assert (full.numpy() == rank_p).all()
        part = non_dominated_rank(F, n_stop=100)  # stops once 100 rows are ranked; the ranked ones agree
        ranked = part >= 0
        assert int(ranked.sum()) >= 100 and torch.equal(part[ranked], full[ranked])


def test_duplicate_offspring_are_dropped():
    from moo.algorithms.evolutionary.base import _drop_duplicates
    E = torch.tensor([[0.0, 1.0], [2.0, 3.0]], dtype=torch.float64)
    C = torch.tensor([[0.0, 1.0], [5.0, 5.0], [5.0, 5.0], [1.0, 0.0], [2.0, 3.0], [9.0, 9.0]], dtype=torch.float64)
    assert _drop_duplicates(C, E).tolist() == [[5.0, 5.0], [1.0, 0.0], [9.0, 9.0]]


def test_runs_under_moo_solve():
    result = moo.solve(moo.get_problem("zdt1", n_var=5), "nsga2", budget=230, seed=0, device="cpu", progress=False,
                       pop_size=20)
    assert result.F.shape[1] == 2 and len(result.F) >= 5
    again = moo.solve(moo.get_problem("zdt1", n_var=5), "nsga2", budget=230, seed=0, device="cpu", progress=False,
                      pop_size=20)
    assert torch.equal(result.F, again.F)
