"""The predictor-assisted loop (LINAS): budget, no re-measurement, resume, selection, quality."""
import pytest
import torch

import moo
from moo.algorithms.evolutionary.operators import VariableLayout, sample_uniform
from moo.algorithms.linas import LINAS, default_features, new_rows
from moo.indicators import hypervolume
from moo.problem import Problem

FAST = dict(pop_size=10, n_init=10, batch_size=5, inner_generations=5, predictors=("ridge", "svr"), n_folds=3)


class Discrete(Problem):
    """A small mixed integer/categorical bi-objective problem (60 distinct points)."""

    def __init__(self):
        super().__init__(3, 2, [[0, 0, 0], [4, 3, 2]], var_types=["int", "int", "cat"], name="discrete")

    def _evaluate(self, X):
        shift = torch.tensor([0.0, 0.5, 1.0], dtype=X.dtype)[X[..., 2].long()]
        f1 = X[..., 0] / 4 + 0.1 * shift
        f2 = (1 - X[..., 0] / 4) ** 2 + (X[..., 1] - 1) ** 2 / 9 + shift
        return torch.stack([f1, f2], -1)


def run(problem, budget, seed=0, **kw):
    alg = LINAS(**{**FAST, **kw})
    alg.setup(problem, seed=seed, device="cpu", budget=budget)
    steps = []
    while alg.remaining:
        steps.append(alg.step())
    return alg, steps


def test_budget_is_exact_and_nothing_is_measured_twice():
    p = Discrete()
    alg, steps = run(p, 27)
    assert alg.n_evals == 27 and p.n_evals == 27
    assert [s.n_evals for s in steps] == [10, 5, 5, 5, 2]
    X, _ = alg.archive
    assert len(torch.unique(X, dim=0)) == 27
    assert alg.step().n_evals == 0 and p.n_evals == 27
    assert {"predictor_0", "tau_0", "predictor_1", "tau_1"} <= set(steps[1].extras)


def test_resume_from_state_dict_continues_exactly():
    p = moo.get_problem("zdt1", n_var=4)
    full, _ = run(p, 25)
    part = LINAS(**FAST)
    part.setup(p, seed=0, device="cpu", budget=25)
    part.step()
    part.step()
    state = part.state_dict()
    resumed = LINAS(**FAST)
    resumed.setup(p, seed=0, device="cpu", budget=25)
    resumed.load_state_dict(state)
    while resumed.remaining:
        resumed.step()
    assert torch.equal(resumed.archive[0], full.archive[0])


def test_beats_random_search_on_zdt1_at_equal_budget():
    p = moo.get_problem("zdt1", n_var=5)
    ref = torch.tensor([1.1, 1.1], dtype=torch.float64)
    alg, _ = run(p, 40, batch_size=10, pop_size=20, inner_generations=20)
    layout = VariableLayout(None, 5, torch.device("cpu"))
    hv_random = []
    for seed in range(5):
        X = sample_uniform(40, p.xl.double(), p.xu.double(), layout, generator=torch.Generator().manual_seed(seed))
        hv_random.append(float(hypervolume(p.evaluate(X), ref)))
    assert float(hypervolume(alg.approximation()[1], ref)) > max(hv_random)


def test_batch_follows_hypervolume_improvement():
    """With exact "predictors" (the true objectives), the greedy pick is the candidate of largest
    true hypervolume improvement, checked against moocore's hypervolume."""
    import moocore

    from moo.algorithms.linas import PredictedProblem

    class Exact:
        name, has_uncertainty = "exact", False

        def __init__(self, j):
            self.j = j

        def predict(self, Z):
            return Z[:, self.j], None

    p = moo.get_problem("zdt1", n_var=2)
    alg = LINAS(**FAST)
    alg.setup(p, seed=0, device="cpu", budget=30)
    surrogate = PredictedProblem(p, [Exact(0), Exact(1)], lambda X: p.evaluate(X))
    Y = torch.tensor([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]], dtype=torch.float64)
    pool = torch.rand(30, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    pick = alg._greedy_ehvi(surrogate, pool, Y, 2)
    C = p.evaluate(pool).numpy()
    base = moocore.hypervolume(Y.numpy(), ref=[1.1, 1.1])
    gain = [moocore.hypervolume(torch.cat([Y, torch.as_tensor(c)[None]]).numpy(), ref=[1.1, 1.1]) - base for c in C]
    assert int(pick[0]) == int(torch.tensor(gain).argmax())
    assert int(pick[1]) != int(pick[0])


def test_default_features_and_new_rows():
    p = Discrete()
    Z = default_features(torch.tensor([[2.0, 3.0, 1.0]], dtype=torch.float64), p)
    assert Z.tolist() == [[0.5, 1.0, 0.0, 1.0, 0.0]]
    C = torch.tensor([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [5.0, 6.0]])
    assert new_rows(C, torch.tensor([[5.0, 6.0]])).tolist() == [True, True, False, False]


def test_registered_runs_through_solve_and_rejects_bad_config():
    r = moo.solve("zdt1", "linas", budget=15, seed=1, device="cpu", progress=False, **FAST)
    assert r.F.shape[1] == 2
    with pytest.raises(moo.MooValueError, match="predictors"):
        LINAS(predictors=("forest",)).setup(Discrete(), seed=0, device="cpu")
    with pytest.raises(moo.MooValueError, match="batch_size"):
        LINAS(batch_size=0).setup(Discrete(), seed=0, device="cpu")
