"""Lightly trained objective predictors and their selection by cross-validated rank correlation.

The predictors of DyNAS-T's LINAS loop (ridge regression and an RBF support-vector regressor,
both scikit-learn) plus two with uncertainty, as the predictor-assisted search of InstaTune
(Sridhar et al., 2023) and SimQ-NAS (Sarah et al., 2023) is extended here: a Gaussian process
(:class:`moo.surrogates.GPSurrogate`, BoTorch) and a small MLP ensemble (a deep ensemble whose
member disagreement is the uncertainty). Each maps features ``X [n, d]`` (float64, roughly in
``[0, 1]``) to one objective; targets are standardized inside every predictor.

:func:`select_predictor` scores each candidate by Kendall's tau between out-of-fold
predictions and the truth (k-fold cross-validation; DyNAS-T reports Kendall's tau for its
predictors), then refits the best on all data. Ranking quality, not squared error, is what an
evolutionary search on the predictor needs.
"""
from __future__ import annotations

import contextlib
import math
import warnings
from typing import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from moo.errors import MooValueError, ShapeError
from moo.surrogates import GPSurrogate


@contextlib.contextmanager
def one_thread():
    """Run torch on one intra-op thread inside the block, restoring the count after. The
    predictors' tensors are tiny: splitting them over threads only adds synchronisation, which
    on a busy CPU made an MLP-ensemble fit 50x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def psd_root(cov: Tensor) -> Tensor:
    """A factor ``R`` with ``R R^T = cov`` for a symmetric positive semi-definite ``cov [k, k]``,
    by eigen-decomposition (negative round-off eigenvalues clipped): a Cholesky factorization
    fails where near-duplicate candidates make ``cov`` numerically singular."""
    eigenvalues, vectors = torch.linalg.eigh((cov + cov.T) / 2)
    return vectors * eigenvalues.clamp_min(0).sqrt()


class Predictor:
    """One objective's predictor: :meth:`fit` on ``(X [n, d], y [n])``, :meth:`predict` gives
    ``(mean [k], std [k] or None)``. ``has_uncertainty`` says whether ``std`` is returned;
    :meth:`predict_joint` gives the joint (correlated) predictive distribution over the rows.
    All run on one torch thread (:func:`one_thread`)."""

    name = "predictor"
    has_uncertainty = False
    cv_rmse: float | None = None  # set by select_predictor

    def fit(self, X: Tensor, y: Tensor) -> "Predictor":
        X, y = _check_xy(X, y)
        self._mu = y.mean()
        self._sigma = y.std().clamp_min(1e-12) if y.numel() > 1 else y.new_tensor(1.0)
        with one_thread():
            self._fit(X, (y - self._mu) / self._sigma)
        return self

    def predict(self, X: Tensor) -> tuple[Tensor, Tensor | None]:
        with one_thread():
            mean, std = self._predict(X.to(torch.float64))
        mean = mean * self._sigma + self._mu
        return mean, None if std is None else std * self._sigma

    def predict_joint(self, X: Tensor) -> tuple[Tensor, Tensor | None]:
        """Mean ``[k]`` and a factor ``R [k, r]`` of the joint predictive covariance ``R R^T`` of
        the rows of ``X`` (``None`` without uncertainty): ``mean + R @ eps`` with ``eps ~ N(0, I_r)``
        draws the objective at all rows at once, correlated as the predictor believes."""
        with one_thread():
            mean, root = self._predict_joint(X.to(torch.float64))
        return mean * self._sigma + self._mu, None if root is None else root * self._sigma

    def _fit(self, X: Tensor, z: Tensor) -> None:
        raise NotImplementedError

    def _predict(self, X: Tensor) -> tuple[Tensor, Tensor | None]:
        raise NotImplementedError

    def residual_correlation(self, X: Tensor) -> Tensor:
        """Correlation ``[k, k]`` of this predictor's errors at the rows of ``X``, for a predictor
        without uncertainty whose error bar is a constant (its ``cv_rmse``): the identity here
        (independent errors)."""
        return torch.eye(X.shape[0], dtype=torch.float64, device=X.device)

    def _predict_joint(self, X: Tensor) -> tuple[Tensor, Tensor | None]:
        mean, std = self._predict(X)
        return mean, None if std is None else torch.diag(std)


class _SklearnPredictor(Predictor):
    """A scikit-learn regressor (no uncertainty of its own). Its errors are taken as correlated
    by the RBF kernel ``exp(-gamma |x - x'|^2)`` with scikit-learn's ``gamma="scale"``,
    ``1 / (d Var(X_train))`` (the SVR's own kernel): an architecture and its near twin are
    mispredicted alike, two unrelated ones independently."""

    def _fit(self, X: Tensor, z: Tensor) -> None:
        self.model = self._make().fit(X.cpu().numpy(), z.cpu().numpy())
        self._gamma = 1.0 / (X.shape[1] * float(X.var(unbiased=False)) or 1.0)

    def residual_correlation(self, X: Tensor) -> Tensor:
        X = X.to(torch.float64)
        return torch.exp(-self._gamma * torch.cdist(X, X).pow(2))

    def _predict(self, X: Tensor) -> tuple[Tensor, None]:
        out = self.model.predict(X.detach().cpu().numpy())
        return torch.as_tensor(out, dtype=torch.float64, device=X.device), None


class RidgePredictor(_SklearnPredictor):
    """Ridge regression, the penalty chosen by efficient leave-one-out CV over ``alphas``."""

    name = "ridge"

    def __init__(self, alphas: Sequence[float] = tuple(np.logspace(-3, 3, 13))):
        self.alphas = tuple(alphas)

    def _make(self):
        from sklearn.linear_model import RidgeCV

        return RidgeCV(alphas=self.alphas)


class SVRPredictor(_SklearnPredictor):
    """RBF support-vector regression (``gamma="scale"``) on standardized targets. DyNAS-T tunes
    ``C`` by an inner grid search; here ``C`` and ``epsilon`` are fixed (defaults below), which
    keeps a selection round cheap: the selection's own cross-validation already rejects an SVR
    that ranks badly."""

    name = "svr"

    def __init__(self, C: float = 10.0, epsilon: float = 0.05):
        self.C, self.epsilon = C, epsilon

    def _make(self):
        from sklearn.svm import SVR

        return SVR(kernel="rbf", gamma="scale", C=self.C, epsilon=self.epsilon)


class GPPredictor(Predictor):
    """A Gaussian process (Matérn-5/2, ARD) from :class:`moo.surrogates.GPSurrogate` on the unit
    cube of the features; predicts the posterior mean and standard deviation.

    BoTorch's likelihood fit, when an attempt fails, retries from hyper-parameters drawn with
    torch's global generator; the fit runs on a forked global generator seeded from
    ``generator`` (default: seed 0), so a fit is reproducible and leaves the global state alone."""

    name = "gp"
    has_uncertainty = True

    def __init__(self, maxiter: int | None = 50, *, generator: torch.Generator | None = None):
        self.maxiter = maxiter  # light training: L-BFGS iterations of the likelihood fit
        self.generator = generator

    def _fit(self, X: Tensor, z: Tensor) -> None:
        lo, hi = X.min(0).values, X.max(0).values
        bounds = torch.stack([torch.minimum(lo, torch.zeros_like(lo)), torch.maximum(hi, torch.ones_like(hi))])
        g = self.generator
        seed = 0 if g is None else int(torch.randint(2 ** 62, (1,), generator=g, device=g.device))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.gp = GPSurrogate(bounds).fit(X, z.unsqueeze(-1), maxiter=self.maxiter)

    def _predict(self, X: Tensor) -> tuple[Tensor, Tensor]:
        with torch.no_grad():
            mean, std = self.gp.predict(X)
        return mean.squeeze(-1), std.squeeze(-1)

    def _predict_joint(self, X: Tensor) -> tuple[Tensor, Tensor]:
        with torch.no_grad():
            mean, _ = self.gp.predict(X)
            cov = self.gp.covariance(X)[0]
        return mean.squeeze(-1), psd_root(cov)


class MLPEnsemblePredictor(Predictor):
    """A deep ensemble of ``n_members`` one-hidden-layer MLPs trained at once as batched
    matrices (full-batch Adam with weight decay, each member from its own initialisation);
    the mean and standard deviation over members are the prediction and its uncertainty."""

    name = "mlp"
    has_uncertainty = True

    def __init__(self, *, generator: torch.Generator, n_members: int = 5, hidden: int = 32,
                 steps: int = 200, lr: float = 1e-2, weight_decay: float = 1e-3):
        if isinstance(n_members, bool) or not isinstance(n_members, int) or n_members < 2:
            raise MooValueError(f"n_members must be an integer >= 2 (their spread is the uncertainty), "
                                f"got {n_members!r}")
        self.generator = generator
        self.n_members, self.hidden, self.steps = n_members, hidden, steps
        self.lr, self.weight_decay = lr, weight_decay

    def _forward(self, X: Tensor) -> Tensor:
        W1, b1, W2, b2 = self.params
        H = torch.relu(torch.matmul(X.unsqueeze(0), W1) + b1)  # [K, n, h]
        return (torch.matmul(H, W2) + b2).squeeze(-1)  # [K, n]

    def _fit(self, X: Tensor, z: Tensor) -> None:
        K, d, h = self.n_members, X.shape[1], self.hidden
        g = self.generator

        def uniform(shape, fan_in):  # PyTorch's default nn.Linear initialisation
            bound = 1.0 / math.sqrt(fan_in)
            t = torch.rand(shape, generator=g, dtype=torch.float64, device=g.device) * 2 * bound - bound
            return t.to(X.device).requires_grad_()

        self.params = [uniform((K, d, h), d), uniform((K, 1, h), d), uniform((K, h, 1), h), uniform((K, 1, 1), h)]
        opt = torch.optim.Adam(self.params, lr=self.lr, weight_decay=self.weight_decay)
        for _ in range(self.steps):
            loss = (self._forward(X) - z).pow(2).mean() * K
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    def _predict(self, X: Tensor) -> tuple[Tensor, Tensor]:
        with torch.no_grad():
            P = self._forward(X)
        return P.mean(0), P.std(0)

    def _predict_joint(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """The members' sample covariance across rows: ``R = (P - mean)^T / sqrt(K - 1)``, of
        rank ``K - 1`` at most (4 with the default 5 members), so rows far apart can come out
        strongly correlated too: what a small ensemble can say."""
        with torch.no_grad():
            P = self._forward(X)
        mean = P.mean(0)
        return mean, (P - mean).T / math.sqrt(P.shape[0] - 1)


#: name -> factory(generator) of every predictor :func:`select_predictor` can choose.
PREDICTORS: dict[str, Callable[[torch.Generator], Predictor]] = {
    "ridge": lambda g: RidgePredictor(),
    "svr": lambda g: SVRPredictor(),
    "gp": lambda g: GPPredictor(generator=g),
    "mlp": lambda g: MLPEnsemblePredictor(generator=g),
}


def make_predictor(name: str, generator: torch.Generator) -> Predictor:
    """A fresh predictor by name (one of :data:`PREDICTORS`)."""
    if name not in PREDICTORS:
        raise MooValueError(f"predictor must be one of {sorted(PREDICTORS)}, got {name!r}")
    return PREDICTORS[name](generator)


def kendall_tau(a: Tensor, b: Tensor) -> float:
    """Kendall's tau-b between two 1-D samples (scipy); 0 where it is undefined (a constant)."""
    from scipy.stats import kendalltau

    tau = kendalltau(a.detach().cpu().numpy(), b.detach().cpu().numpy()).statistic
    return 0.0 if not np.isfinite(tau) else float(tau)


def cross_val_tau(name: str, X: Tensor, y: Tensor, *, n_folds: int = 5,
                  generator: torch.Generator) -> float:
    """Kendall's tau between ``y`` and the out-of-fold predictions of predictor ``name``."""
    return kendall_tau(out_of_fold(name, X, y, n_folds=n_folds, generator=generator), y)


def out_of_fold(name: str, X: Tensor, y: Tensor, *, n_folds: int = 5, generator: torch.Generator) -> Tensor:
    """The ``n_folds``-fold out-of-fold predictions (means) of predictor ``name`` for every row."""
    X, y = _check_xy(X, y)
    n = y.shape[0]
    k = min(n_folds, n)
    if k < 2:
        raise MooValueError(f"cross-validation needs at least 2 rows, got {n}")
    fold = torch.randperm(n, generator=generator, device=generator.device).to(y.device) % k
    oof = torch.empty_like(y)
    for i in range(k):
        test = fold == i
        model = make_predictor(name, generator).fit(X[~test], y[~test])
        oof[test] = model.predict(X[test])[0]
    return oof


def select_predictor(X: Tensor, y: Tensor, *, candidates: Sequence[str] = tuple(PREDICTORS),
                     n_folds: int = 5, generator: torch.Generator) -> tuple[Predictor, dict[str, float]]:
    """The candidate with the highest cross-validated Kendall's tau, refitted on all of
    ``(X, y)``, and every candidate's score. Ties go to the earlier candidate (the simpler one
    in the default order). A candidate that raises while fitting scores NaN, with a warning,
    and the next best is used. The returned predictor's ``cv_rmse`` is the root mean squared
    error of its out-of-fold predictions: an honest error bar for a predictor without its own
    uncertainty (it includes noise the features cannot explain)."""
    if not candidates:
        raise MooValueError("candidates must name at least one predictor")
    for name in candidates:
        if name not in PREDICTORS:
            raise MooValueError(f"candidates must be among {sorted(PREDICTORS)}, got {name!r}")
    scores, rmse = {}, {}
    for name in candidates:
        try:
            oof = out_of_fold(name, X, y, n_folds=n_folds, generator=generator)
            scores[name] = kendall_tau(oof, y)
            rmse[name] = float((oof - y.to(oof)).pow(2).mean().sqrt())
        except Exception as exc:  # e.g. a GP likelihood fit that fails on degenerate data
            warnings.warn(f"predictor {name!r} failed in cross-validation ({type(exc).__name__}: {exc}); "
                          "it is skipped for this fit", RuntimeWarning, stacklevel=2)
            scores[name] = float("nan")
    for best in sorted((n for n in candidates if not math.isnan(scores[n])), key=lambda n: -scores[n]):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = make_predictor(best, generator).fit(X, y)
            model.cv_rmse = rmse[best]
            return model, scores
        except Exception as exc:
            warnings.warn(f"predictor {best!r} failed to fit ({type(exc).__name__}: {exc}); trying the next",
                          RuntimeWarning, stacklevel=2)
            scores[best] = float("nan")
    raise MooValueError(f"every candidate predictor failed on this data (n = {len(y)}): {candidates}")


def _check_xy(X: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    if X.dim() != 2 or y.dim() != 1 or X.shape[0] != y.shape[0]:
        raise ShapeError(f"predictors need X [n, d] and y [n] with equal n, got {list(X.shape)} and {list(y.shape)}")
    if X.shape[0] == 0:
        raise MooValueError("predictors need at least one training row, got 0")
    return X.detach().to(torch.float64), y.detach().to(torch.float64)
