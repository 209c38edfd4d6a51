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
    resumed.load_archive(*part.archive)
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
        name, has_uncertainty, cv_rmse = "exact", False, None

        def __init__(self, j):
            self.j = j

        def predict(self, Z):
            return Z[:, self.j], None

        predict_joint = predict

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


@pytest.mark.parametrize("source", ["joint", "residual"])
def test_batch_does_not_repeat_a_correlated_twin(source):
    """Two candidates whose draws move together are one bet: once the first is picked, the second
    adds nothing in any draw, so the greedy batch takes the distinct candidate next. The draws
    are correlated by the predictor's joint distribution (``joint``: a GP or an ensemble) or, for
    a predictor without uncertainty, by its residual correlation over the features (``residual``:
    ridge, SVR). Picking on the mean, or with independent draws per candidate, takes the twin."""
    from moo.algorithms.linas import PredictedProblem

    class Correlated:
        name, has_uncertainty = "correlated", source == "joint"

        def __init__(self, j, spread):
            self.j, self.spread = j, spread
            self.cv_rmse = None if source == "joint" else spread

        def predict(self, Z):
            return Z[:, self.j], torch.full_like(Z[:, 0], self.spread) if source == "joint" else None

        def predict_joint(self, Z):
            if source == "residual":
                return Z[:, self.j], None
            return Z[:, self.j], self.spread * torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=Z.dtype)

        def residual_correlation(self, Z):  # twins (distance 0) correlated 1, the third nearly independent
            return torch.exp(-100 * torch.cdist(Z, Z).pow(2))

    p = moo.get_problem("zdt1", n_var=2)
    alg = LINAS(**{**FAST, "n_mc": 256})
    alg.setup(p, seed=0, device="cpu", budget=30)
    pool = torch.tensor([[0.5, 0.5], [0.5, 0.5], [0.6, 0.6]], dtype=torch.float64)  # twin, twin, distinct
    surrogate = PredictedProblem(p, [Correlated(0, 0.3), Correlated(1, 0.0)], lambda X: X, residual_std=True)
    Y = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    pick = alg._greedy_ehvi(surrogate, pool, Y, 2).tolist()
    assert pick[0] in (0, 1) and pick[1] == 2


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


class Costly(Discrete):
    """``Discrete`` with a second objective spanning two decades, declared log-scaled."""

    log_objectives = (1,)

    def _evaluate(self, X):
        F = super()._evaluate(X)
        return torch.stack([F[..., 0], 10 ** F[..., 1]], -1)


def test_log_objectives_are_taken_from_the_problem_and_scaled_before_normalizing():
    p = Costly()
    alg = LINAS(**FAST)
    alg.setup(p, seed=0, device="cpu", budget=20)
    assert alg.log_objectives == [1]
    F = torch.tensor([[0.5, 1.0], [0.0, 10.0], [1.0, 1000.0]], dtype=torch.float64)
    # log10 first: 1, 10, 1000 -> 0, 1, 3 -> 0, 1/3, 1; the linear objective is only min-max scaled
    assert torch.allclose(alg._scaled(F)[0], torch.tensor([[0.5, 0.0], [0.0, 1 / 3], [1.0, 1.0]], dtype=torch.float64))
    plain = LINAS(**{**FAST, "log_objectives": ()})
    plain.setup(p, seed=0, device="cpu", budget=20)
    assert plain.log_objectives == [] and torch.allclose(plain._scaled(F)[0][:, 1], (F[:, 1] - 1) / 999)
    with pytest.raises(moo.MooValueError, match="positive"):
        alg._scaled(torch.tensor([[0.5, 0.0], [0.1, 2.0]], dtype=torch.float64))
    with pytest.raises(moo.MooValueError, match="log_objectives"):
        LINAS(log_objectives=(2,)).setup(p, seed=0, device="cpu")
    run(p, 25)  # the whole loop on the log scale


def test_predictors_without_uncertainty_get_their_cross_validated_rmse():
    from moo.algorithms.linas import PredictedProblem
    from moo.algorithms.predictors import select_predictor

    p = Discrete()
    X = sample_uniform(30, p.xl.double(), p.xu.double(), VariableLayout(p.var_types, 3, torch.device("cpu")),
                       generator=torch.Generator().manual_seed(0))
    Z, F = default_features(X, p), p.evaluate(X)
    models = [select_predictor(Z, F[:, j], candidates=("ridge",), n_folds=3,
                               generator=torch.Generator().manual_seed(j))[0] for j in range(2)]
    features = lambda X: default_features(X, p)  # noqa: E731
    _, std = PredictedProblem(p, models, features, residual_std=True).predict(X[:4])
    assert torch.allclose(std, torch.tensor([[m.cv_rmse for m in models]] * 4, dtype=std.dtype))
    assert float(std.min()) > 0
    _, std0 = PredictedProblem(p, models, features).predict(X[:4])
    assert torch.equal(std0, torch.zeros_like(std0))
    # their joint draws: that spread around the mean, correlated across rows as the RBF kernel
    # exp(-gamma |z - z'|^2) with scikit-learn's gamma = 1 / (d Var(Z)) says
    surrogate = PredictedProblem(p, models, features, residual_std=True)
    rows = torch.cat([X[:3], X[:1]])  # the last row repeats the first
    mean, draws = surrogate.sample(rows, 20000, torch.Generator().manual_seed(0))  # [4, 2], [S, 4, 2]
    assert torch.equal(mean, surrogate.predict(rows)[0])
    assert draws.shape == (20000, 4, 2)
    torch.testing.assert_close(draws.mean(0), mean, rtol=0, atol=0.05 * float(std.max()))
    torch.testing.assert_close(draws.std(0), std, rtol=0.03, atol=0)
    Zr = features(rows)
    expected = torch.exp(-torch.cdist(Zr, Zr).pow(2) / (Z.shape[1] * Z.var(unbiased=False)))
    torch.testing.assert_close(torch.corrcoef(draws[:, :, 0].T), expected, rtol=0, atol=0.03)
    assert float(expected[0, 3]) == pytest.approx(1.0) and float(expected[0, 1]) < 0.9


class CheapCostly(Costly):
    """``Costly`` whose costly-looking second objective is declared cheap (computable exactly)."""

    cheap_objectives = (1,)

    def evaluate_cheap(self, X):
        return self._evaluate(X)[..., 1:]


def test_cheap_objectives_are_computed_exactly_on_the_predictors_scale():
    from moo.algorithms.linas import PredictedProblem

    p = CheapCostly()
    alg, steps = run(p, 25)
    assert alg.cheap == (1,)
    assert all(s.extras["predictor_1"] == "exact" and s.extras["predictor_0"] != "exact" for s in steps[1:])
    X, F = alg.archive
    Y, lo, hi = alg._scaled(F)
    # the exact values of the measured points are their measured values on the same scale
    assert torch.allclose(alg._cheap_scaled(X, lo, hi)[:, 0], Y[:, 1])
    surrogate = PredictedProblem(p, [None, None], lambda X: X, exact=lambda X: alg._cheap_scaled(X, lo, hi).repeat(1, 2))
    mean, std = surrogate.predict(X[:3])
    assert torch.allclose(mean, Y[:3, [1, 1]]) and torch.equal(std, torch.zeros_like(std))
    off = LINAS(**{**FAST, "use_cheap": False})
    off.setup(p, seed=0, device="cpu", budget=25)
    assert off.cheap == ()


def test_reference_point_is_the_problems_own_where_it_is_looser():
    class WithRef(Costly):
        @property
        def ref_point(self):
            return torch.tensor([2.0, 1000.0], dtype=torch.float64)

    F = torch.tensor([[0.0, 1.0], [1.0, 1000.0]], dtype=torch.float64)
    alg = LINAS(**FAST)
    alg.setup(WithRef(), seed=0, device="cpu", budget=20)
    _, lo, hi = alg._scaled(F)
    # objective 0: (2 - 0) / (1 - 0) = 2 > 1.1; objective 1 (log): (3 - 0) / (3 - 0) = 1 < 1.1, so 1.1
    assert torch.allclose(alg._reference(lo, hi), torch.tensor([2.0, 1.1], dtype=torch.float64))
    off = LINAS(**{**FAST, "use_problem_ref": False})
    off.setup(WithRef(), seed=0, device="cpu", budget=20)
    assert torch.allclose(off._reference(lo, hi), torch.tensor([1.1, 1.1], dtype=torch.float64))

