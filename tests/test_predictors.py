"""Objective predictors and their selection by cross-validated Kendall's tau."""
import itertools

import pytest
import torch

import moo
from moo.algorithms.predictors import (GPPredictor, MLPEnsemblePredictor, PREDICTORS, cross_val_tau,
                                       kendall_tau, make_predictor, out_of_fold, select_predictor)


def data(n=60, d=3, seed=0, f=lambda X: X[:, 0] + 0.5 * X[:, 1] ** 2):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    return X, f(X)


def test_kendall_tau_matches_pair_count():
    a = torch.tensor([0.1, 0.4, 0.2, 0.9, 0.5, 0.3])
    b = torch.tensor([1.0, 3.0, 4.0, 6.0, 2.0, 0.5])
    pairs = list(itertools.combinations(range(6), 2))
    s = sum(1 if (a[i] - a[j]) * (b[i] - b[j]) > 0 else -1 for i, j in pairs)
    assert kendall_tau(a, b) == pytest.approx(s / len(pairs))
    assert kendall_tau(a, torch.ones(6)) == 0.0  # undefined for a constant: 0, not NaN


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_each_predictor_ranks_held_out_points(name):
    X, y = data(80)
    Xt, yt = data(40, seed=1)
    model = make_predictor(name, torch.Generator().manual_seed(0)).fit(X, y)
    mean, std = model.predict(Xt)
    assert mean.shape == (40,) and mean.dtype == torch.float64
    assert kendall_tau(mean, yt) > 0.75
    assert (std is not None) == model.has_uncertainty
    if std is not None:
        assert std.shape == (40,) and bool((std >= 0).all())


def test_gp_uncertainty_grows_away_from_data():
    X, y = data(30, d=1, f=lambda X: torch.sin(3 * X[:, 0]))
    model = GPPredictor().fit(X, y)
    _, std_in = model.predict(X[:5])
    _, std_out = model.predict(torch.full((1, 1), 3.0, dtype=torch.float64))
    assert float(std_out) > 5 * float(std_in.max())


def test_mlp_ensemble_is_reproducible_and_disagrees_off_data():
    X, y = data(40)
    p1 = MLPEnsemblePredictor(generator=torch.Generator().manual_seed(3)).fit(X, y)
    p2 = MLPEnsemblePredictor(generator=torch.Generator().manual_seed(3)).fit(X, y)
    far = torch.full((1, 3), 4.0, dtype=torch.float64)
    assert torch.equal(p1.predict(X)[0], p2.predict(X)[0])
    assert float(p1.predict(far)[1]) > float(p1.predict(X)[1].mean())


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_joint_prediction_agrees_with_the_marginal_one_and_correlates_twins(name):
    X, y = data(40)
    Xt = data(8, seed=1)[0]
    Xt = torch.cat([Xt, Xt[:1] + 1e-4])  # the last row: a near twin of the first
    model = make_predictor(name, torch.Generator().manual_seed(0)).fit(X, y)
    mean, std = model.predict(Xt)
    jmean, root = model.predict_joint(Xt)
    torch.testing.assert_close(jmean, mean)
    if std is None:  # ridge, SVR: errors correlated by the RBF kernel on the features
        assert root is None
        corr = model.residual_correlation(Xt)
        gamma = 1.0 / (X.shape[1] * X.var(unbiased=False))
        torch.testing.assert_close(corr, torch.exp(-gamma * torch.cdist(Xt, Xt).pow(2)))
    else:
        cov = root @ root.T
        torch.testing.assert_close(cov.diagonal(), std ** 2, rtol=1e-5, atol=1e-10)
        corr = cov / (std.unsqueeze(0) * std.unsqueeze(1))
        if name == "mlp":  # the members' own covariance across the rows
            P = model._forward(Xt) * model._sigma
            torch.testing.assert_close(cov, torch.cov(P.T), rtol=1e-6, atol=1e-12)
    assert float(corr[0, -1]) > 0.99  # the twins move together
    assert float(corr[0, 1:-1].abs().min()) < 0.9  # not every row does


def test_selection_prefers_the_model_that_ranks_a_nonlinear_target():
    X, y = data(80, d=2, f=lambda X: torch.sin(9 * X[:, 0]))
    g = torch.Generator().manual_seed(0)
    model, scores = select_predictor(X, y, candidates=("ridge", "svr"), generator=g)
    assert scores["svr"] > scores["ridge"] + 0.2
    assert model.name == "svr" and set(scores) == {"ridge", "svr"}
    # the score is the tau of the pooled out-of-fold predictions: reproducible from the seed
    again = cross_val_tau("svr", X, y, generator=torch.Generator().manual_seed(0))
    first_ridge = cross_val_tau("ridge", X, y, generator=torch.Generator().manual_seed(0))
    assert -1 <= first_ridge <= 1 and -1 <= again <= 1


def test_bad_inputs_raise():
    X, y = data(10)
    g = torch.Generator().manual_seed(0)
    with pytest.raises(moo.ShapeError):
        make_predictor("ridge", g).fit(X, y[:5])
    with pytest.raises(moo.MooValueError, match="predictor"):
        make_predictor("xgboost", g)
    with pytest.raises(moo.MooValueError, match="candidates"):
        select_predictor(X, y, candidates=("ridge", "forest"), generator=g)
    with pytest.raises(moo.MooValueError, match="n_members"):
        MLPEnsemblePredictor(generator=g, n_members=1)


def test_selection_reports_the_out_of_fold_rmse_of_the_chosen_predictor():
    X, y = data(60, d=2, f=lambda X: 3 * X[:, 0] - X[:, 1])
    model, scores = select_predictor(X, y, candidates=("ridge", "svr"), n_folds=4,
                                     generator=torch.Generator().manual_seed(5))
    # the same folds (same seed, same draw order) give the same out-of-fold predictions
    g = torch.Generator().manual_seed(5)
    oof = {name: out_of_fold(name, X, y, n_folds=4, generator=g) for name in ("ridge", "svr")}
    assert scores == {name: pytest.approx(kendall_tau(p, y)) for name, p in oof.items()}
    assert model.cv_rmse == pytest.approx(float((oof[model.name] - y).pow(2).mean().sqrt()))
    assert model.name == "ridge" and model.cv_rmse < 0.05 * float(y.std())  # a linear target: near exact


def test_gp_fit_is_reproducible_and_leaves_the_global_generator_alone():
    X, y = data(25, d=4)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    p1 = GPPredictor(generator=torch.Generator().manual_seed(7)).fit(X, y)
    assert torch.equal(torch.get_rng_state(), before)
    torch.rand(5)  # another global state: the fit must not depend on it
    p2 = GPPredictor(generator=torch.Generator().manual_seed(7)).fit(X, y)
    Xt = data(10, d=4, seed=3)[0]
    assert torch.equal(p1.predict(Xt)[0], p2.predict(Xt)[0]) and torch.equal(p1.predict(Xt)[1], p2.predict(Xt)[1])
