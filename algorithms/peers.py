"""Peer libraries' solvers behind moo's Algorithm contract, the baselines benchmarks compare against.

Libraries and papers:

- pymoo: Julian Blank and Kalyanmoy Deb, "pymoo: Multi-Objective Optimization in Python", IEEE
  Access 2020. Registered as ``pymoo.nsga2`` (Deb, Pratap, Agarwal & Meyarivan, "A Fast and
  Elitist Multiobjective Genetic Algorithm: NSGA-II", IEEE TEVC 2002), ``pymoo.nsga3`` (Deb &
  Jain, "An Evolutionary Many-Objective Optimization Algorithm Using Reference-Point-Based
  Nondominated Sorting Approach, Part I", IEEE TEVC 2014), ``pymoo.moead`` (Zhang & Li, "MOEA/D:
  A Multiobjective Evolutionary Algorithm Based on Decomposition", IEEE TEVC 2007) and
  ``pymoo.smsemoa`` (Beume, Naujoks & Emmerich, "SMS-EMOA: Multiobjective Selection Based on
  Dominated Hypervolume", EJOR 2007).
- BoTorch: Balandat et al., "BoTorch: A Framework for Efficient Monte-Carlo Bayesian
  Optimization", NeurIPS 2020. Registered as ``botorch.qnehvi`` (Daulton, Balandat & Bakshy,
  "Parallel Bayesian Optimization of Multiple Noisy Objectives with Expected Hypervolume
  Improvement", NeurIPS 2021, in its log form from Ament, Daulton, Eriksson, Balandat & Bakshy,
  "Unexpected Improvements to Expected Improvement for Bayesian Optimization", NeurIPS 2023) and
  ``botorch.qparego`` (Knowles, "ParEGO: A Hybrid Algorithm with On-Line Landscape Approximation
  for Expensive Multiobjective Optimization Problems", IEEE TEVC 2006, in its batch form from
  Daulton, Balandat & Bakshy, "Differentiable Expected Hypervolume Improvement for Parallel
  Multi-Objective Bayesian Optimization", NeurIPS 2020).

Method. The pymoo peers are pymoo's own implementations, driven by pymoo's ask/tell one
generation (one offspring for MOEA/D) per round; they resume by replay. The BoTorch peers run
the loop of BoTorch's multi-objective BO tutorial as ask/tell: the first ask is a scrambled
Sobol design, each later ask fits one GP per objective (:class:`moo.surrogates.GPSurrogate`) on
every told point and proposes a ``q``-batch maximizing the acquisition; their state is the data
and the random generator, so checkpoints are exact.

Defaults: the pymoo peers keep pymoo's operators and settings (``pymoo.nsga2``'s population
excepted, below); the BoTorch peers' ``BoTorchAlgorithm.Config`` sets ``n_init = 2 (d + 1)``
(``None``), ``batch_size = 4``, ``num_restarts = 10``, ``raw_samples = 512``,
``mc_samples = 128`` and ``max_retries = 2``.

Constraints and variable types. NSGA-II, NSGA-III and SMS-EMOA receive the constraints
(constraint domination); pymoo's MOEA/D has no constraint handling and is refused a constrained
problem at setup. On integer or categorical variables NSGA-II, NSGA-III and SMS-EMOA run on
pymoo's mixed-variable representation (``Real``, ``Integer`` and ``Choice`` variables,
``MixedVariableSampling``, ``MixedVariableMating`` with the algorithm's own parent selection,
``MixedVariableDuplicateElimination``); MOEA/D keeps SBX and PM and rounds integer variables
with a repair, and is refused categorical ones. The problem is evaluated at integral values
only. The BoTorch peers optimize a continuous acquisition on objective GPs: they are refused
constraints and integer or categorical variables.

Deviations from the libraries' defaults and tutorial:

* ``pymoo.nsga2``: population 40 instead of pymoo's 100.
* BoTorch peers: the objectives are rescaled per objective to [0, 1] over the data before the
  fit (the LogEI smoothing is scale-dependent; raw units gave NaN gradients on wide ranges).
* BoTorch peers: a failed acquisition optimization is retried, then replaced by a uniform batch
  with a warning, instead of stopping the run.

Measurements behind these choices: ``docs/notes/peers.md``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from pymoo.core.individual import Individual
from pymoo.core.population import Population
from pymoo.core.problem import Problem as PymooProblem
from pymoo.core.repair import Repair
from torch import Tensor

from moo.algorithm import Algorithm, StepInfo, feasible_front
from moo.algorithms.evolutionary.operators import VariableLayout, repair
from moo.errors import MooValueError
from moo.pareto import total_violation
from moo.preferences import das_dennis
from moo.registry import register_algorithm
from moo.surrogates import GPSurrogate


# ---------------------------------------------------------------------------------------- pymoo
def _pymoo_vars(problem) -> dict:
    """pymoo's mixed-variable description of ``problem``'s variables: ``x0 .. x{n-1}`` as
    ``Real`` on the bounds, ``Integer`` on the integers within them, ``Choice`` among them."""
    from pymoo.core.variable import Choice, Integer, Real

    out = {}
    for j, (kind, lo, hi) in enumerate(zip(problem.var_types, problem.xl.tolist(), problem.xu.tolist())):
        if kind == "real":
            out[f"x{j}"] = Real(bounds=(lo, hi))
        elif kind == "int":
            out[f"x{j}"] = Integer(bounds=(math.ceil(lo), math.floor(hi)))
        else:
            out[f"x{j}"] = Choice(options=list(range(math.ceil(lo), math.floor(hi) + 1)))
    return out


class _PymooBridge(PymooProblem):
    """The pymoo ``Problem`` a pymoo algorithm is set up on: it evaluates nothing itself but
    hands pymoo the values told for the asked individuals (:meth:`PymooAlgorithm._tell`). Asked
    rows beyond the remaining budget were not evaluated: they get ``inf`` objectives, and the
    run ends with that generation. With ``mixed`` it declares pymoo's mixed variables
    (:func:`_pymoo_vars`), whose individuals are dicts ``{"x0": .., ..}``."""

    def __init__(self, owner: "PymooAlgorithm", mixed: bool):
        p = owner.problem
        space = dict(vars=_pymoo_vars(p)) if mixed else dict(n_var=p.n_var, xl=p.xl.numpy(), xu=p.xu.numpy())
        super().__init__(n_obj=p.n_obj, n_ieq_constr=p.n_constr, **space)
        self.mixed = mixed
        self.told: dict[str, np.ndarray] = {}

    def rows(self, x) -> np.ndarray:
        """pymoo's decision vectors (arrays, or mixed-variable dicts) as a float matrix."""
        if self.mixed:
            x = [[row[f"x{j}"] for j in range(self.n_var)] for row in x]
        return np.asarray(x, dtype=np.float64).reshape(len(x), self.n_var)

    def _evaluate(self, x, out, *args, **kwargs):
        for key, told in self.told.items():  # "F", and "G" with constraints
            out[key] = np.full((len(x), told.shape[1]), np.inf)
            out[key][: told.shape[0]] = told


class _RoundIntegers(Repair):
    """pymoo's ``RoundingRepair`` on the integer columns of a moo problem only, into its bounds."""

    def __init__(self, problem):
        super().__init__()
        self.layout = VariableLayout(problem.var_types, problem.n_var, torch.device("cpu"))
        self.xl, self.xu = problem.xl.double(), problem.xu.double()

    def _do(self, problem, X, **kwargs):
        return repair(torch.as_tensor(np.asarray(X, dtype=np.float64)), self.xl, self.xu, self.layout).numpy()


class PymooAlgorithm(Algorithm):
    """Base of the pymoo peers: builds the pymoo algorithm in ``_make`` and drives it by pymoo's
    own ask/tell, one generation per round. pymoo's state is not tensors, so these resume by
    replay.

    ``_make(**options)`` passes ``options`` to the pymoo algorithm's constructor: none on an
    all-real problem, otherwise :meth:`_discrete_options`."""

    resume_by = "replay"

    def _make(self, **options):
        raise NotImplementedError

    def _discrete_options(self) -> dict:
        """Constructor options for a problem with integer or categorical variables: pymoo's
        mixed-variable sampling, mating (with the algorithm's own parent selection) and
        duplicate elimination."""
        from pymoo.core.mixed import (MixedVariableDuplicateElimination, MixedVariableMating,
                                      MixedVariableSampling)

        dedup = MixedVariableDuplicateElimination()
        selection = self._make().mating.selection
        return dict(sampling=MixedVariableSampling(), eliminate_duplicates=dedup,
                    mating=MixedVariableMating(selection=selection, eliminate_duplicates=dedup))

    def _setup(self) -> None:
        options = self._discrete_options() if self.problem.is_discrete() else {}
        self._pymoo = self._make(**options)
        self._bridge = _PymooBridge(self, mixed="mating" in options)
        self._pymoo.setup(self._bridge, termination=("n_gen", 2**62), seed=self.seed)
        self._infills = None

    def _ask(self) -> Tensor:
        """pymoo's next infills (a generation; one offspring for MOEA/D), those not yet
        evaluated, cut to the remaining budget."""
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            self._pymoo_asked = self._pymoo.ask()  # MOEA/D asks for one Individual at a time
        self._infills = Population.create(self._pymoo_asked) if isinstance(self._pymoo_asked, Individual) else self._pymoo_asked
        fresh = [ind.X for ind in self._infills if "F" not in ind.evaluated]
        X = torch.as_tensor(self._bridge.rows(fresh), device=self.device, dtype=self.dtype)
        return X if self.remaining is None else X[: self.remaining]

    def _tell(self, X: Tensor, F: Tensor, G: Tensor | None) -> StepInfo:
        """The told values go to pymoo through its own evaluator (which counts, and computes the
        constraint violation), then pymoo advances, exactly as its ``next()`` would."""
        self._bridge.told = {"F": F.cpu().double().numpy()}
        if G is not None:
            self._bridge.told["G"] = G.cpu().double().numpy()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            self._pymoo.evaluator.eval(self._bridge, self._infills, algorithm=self._pymoo)
            self._pymoo.tell(infills=self._pymoo_asked)
        self._infills = None
        return StepInfo()


@register_algorithm("pymoo.nsga2")
class PymooNSGA2(PymooAlgorithm):
    """pymoo's NSGA-II (Deb et al., IEEE TEVC 2002) with pymoo's operators (SBX eta=15, PM eta=20).

    Deviation: a population of 40 rather than pymoo's 100, better at moo's usual budgets
    (``docs/notes/peers.md``).
    """

    name = "pymoo.nsga2"

    @dataclass
    class Config:
        pop_size: int = 40

    def _make(self, **options):
        from pymoo.algorithms.moo.nsga2 import NSGA2

        return NSGA2(pop_size=self.config.pop_size, **options)


def _ref_dirs(n_obj: int, n_partitions: int | None) -> np.ndarray:
    """Das-Dennis directions; by default about 100 for 2-3 objectives, fewer partitions beyond."""
    if n_partitions is None:
        n_partitions = {1: 1, 2: 99, 3: 12, 4: 7, 5: 5, 6: 4}.get(n_obj, 3)
    return das_dennis(n_partitions, n_obj).numpy()


@register_algorithm("pymoo.nsga3")
class PymooNSGA3(PymooAlgorithm):
    """pymoo's NSGA-III (Deb & Jain 2014) on Das-Dennis reference directions."""

    name = "pymoo.nsga3"

    @dataclass
    class Config:
        n_partitions: int | None = None
        pop_size: int | None = None

    def _make(self, **options):
        from pymoo.algorithms.moo.nsga3 import NSGA3

        return NSGA3(ref_dirs=_ref_dirs(self.problem.n_obj, self.config.n_partitions),
                     pop_size=self.config.pop_size, **options)


@register_algorithm("pymoo.moead")
class PymooMOEAD(PymooAlgorithm):
    """pymoo's MOEA/D (Zhang & Li 2007) with PBI decomposition, 20 neighbours.

    Refused at setup: constraints (pymoo's MOEA/D has none) and categorical variables (its
    neighbourhood mating has no mixed-variable form); integer variables are rounded by a repair.
    """

    name = "pymoo.moead"
    handles_constraints = False
    handles_var_types = ("real", "int")

    @dataclass
    class Config:
        n_partitions: int | None = None
        n_neighbors: int = 20
        prob_neighbor_mating: float = 0.9

    def _make(self, **options):
        from pymoo.algorithms.moo.moead import MOEAD

        return MOEAD(ref_dirs=_ref_dirs(self.problem.n_obj, self.config.n_partitions),
                     n_neighbors=self.config.n_neighbors,
                     prob_neighbor_mating=self.config.prob_neighbor_mating, **options)

    def _discrete_options(self) -> dict:
        """Integer variables only (categorical ones are refused): SBX and PM, then rounding."""
        return dict(repair=_RoundIntegers(self.problem))


@register_algorithm("pymoo.smsemoa")
class PymooSMSEMOA(PymooAlgorithm):
    """pymoo's SMS-EMOA (Beume et al. 2007): survival by least hypervolume contribution."""

    name = "pymoo.smsemoa"

    @dataclass
    class Config:
        pop_size: int = 100

    def _make(self, **options):
        from pymoo.algorithms.moo.sms import SMSEMOA

        return SMSEMOA(pop_size=self.config.pop_size, **options)


# -------------------------------------------------------------------------------------- BoTorch
class BoTorchAlgorithm(Algorithm):
    """Base of the BoTorch peers: the multi-objective BO tutorial's loop, as ask/tell.

    The first ask is a scrambled-Sobol design of ``n_init`` points (default ``2 (d + 1)``); each
    later ask fits one GP per objective (:class:`moo.surrogates.GPSurrogate`, shared with
    PSL-MOBO) on every told point and proposes ``batch_size`` points maximizing the
    acquisition, cut to the remaining budget; a tell adds the points to the data (the archive).
    BoTorch maximizes, so the GPs model ``-F``, rescaled per objective to [0, 1] over the data
    (the problem's reference point through the same map); the rescaling changes neither the GP
    nor the dominance order, and keeps the LogEI family's absolute smoothing temperatures on a
    fixed scale. BoTorch's draws come from the global generator, reseeded for every ask from the
    run's generator, so the state is the data and the generator and checkpoints are exact.

    When the acquisition optimizer raises ``OptimizationGradientError`` (a NaN gradient at every
    restart) the optimization is repeated from fresh raw samples up to ``max_retries`` times;
    if every attempt fails the batch is drawn uniformly from the box, with a ``RuntimeWarning``
    and ``fallback_batch`` in the step's extras. Constraints and integer or categorical
    variables are refused at setup. Background: ``docs/notes/peers.md``.
    """

    handles_constraints = False
    handles_var_types = ("real",)

    @dataclass
    class Config:
        n_init: int | None = None
        batch_size: int = 4
        num_restarts: int = 10
        raw_samples: int = 512
        mc_samples: int = 128
        max_retries: int = 2

    def _setup(self) -> None:
        if self.config.max_retries < 0:
            raise MooValueError(f"{self.name}: max_retries must be >= 0, got {self.config.max_retries}")
        self.bounds = self.problem.bounds.to(self.device, self.dtype)
        self._fallback_note: str | None = None
        self._ask_extras: dict = {}

    def _seed_torch(self) -> int:
        return int(torch.randint(2**31 - 1, (1,), generator=self.generator, device=self.device))

    def _ask(self) -> Tensor:
        """The Sobol design first; afterwards the GPs are fitted on every told point and the
        acquisition's batch is proposed (cut to the remaining budget)."""
        X_all, F_all = self.archive
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(self._seed_torch())  # BoTorch draws from the global generator
            if X_all.shape[0] == 0:
                from torch.quasirandom import SobolEngine

                n = self.config.n_init or 2 * (self.problem.n_var + 1)
                u = SobolEngine(self.problem.n_var, scramble=True, seed=self._seed_torch()).draw(n)
                X = self.bounds[0] + (self.bounds[1] - self.bounds[0]) * u.to(self.device, self.dtype)
            else:
                Y, ref = self._unit_scaled(-F_all)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = GPSurrogate(self.bounds).fit(X_all, Y).model
                    X = self._candidates(model, X_all, Y, ref)
        self._ask_extras = {}
        if self._fallback_note is not None:
            warnings.warn(self._fallback_note, RuntimeWarning, stacklevel=3)
            self._fallback_note = None
            self._ask_extras["fallback_batch"] = 1  # in the run's history, so a report can flag the run
        return X if self.remaining is None else X[: self.remaining]

    def _tell(self, X: Tensor, F: Tensor, G: Tensor | None) -> StepInfo:
        """The told points join the data (the archive, which the base class has extended)."""
        extras, self._ask_extras = self._ask_extras, {}
        return StepInfo(extras=extras)

    def _candidates(self, model, X: Tensor, Y: Tensor, ref_point: Tensor) -> Tensor:
        """The next batch from the GPs ``model`` of the unit-scaled objectives ``Y`` (maximised)
        and the reference point in the same units."""
        raise NotImplementedError

    def _maximize(self, optimize, n: int, /, **kwargs) -> Tensor:
        """``optimize(**kwargs)`` (a BoTorch ``optimize_acqf*``), retried from fresh raw samples
        on ``OptimizationGradientError``; ``n`` uniform points in the box if every try fails."""
        from botorch.exceptions.errors import OptimizationGradientError

        for _ in range(self.config.max_retries + 1):
            try:
                return optimize(**kwargs)[0].detach()
            except OptimizationGradientError as err:
                error = err
        self._fallback_note = (f"{self.name}: acquisition optimization failed {self.config.max_retries + 1} "
                               f"times at {self.archive[0].shape[0]} evaluations ({error}); this batch of "
                               f"{n} is drawn uniformly from the box")
        u = torch.rand(n, self.problem.n_var, dtype=self.dtype, device=self.device)
        return self.bounds[0] + (self.bounds[1] - self.bounds[0]) * u

    def _sampler(self):
        from botorch.sampling import SobolQMCNormalSampler

        return SobolQMCNormalSampler(sample_shape=torch.Size([self.config.mc_samples]))

    def _unit_scaled(self, Y: Tensor) -> tuple[Tensor, Tensor]:
        """``Y`` (maximised) rescaled per objective to [0, 1] over its rows, and the reference
        point in those units: the problem's own when it has one (``-ref_point``), else BoTorch's
        ``infer_reference_point`` on the rescaled data."""
        from botorch.utils.multi_objective.hypervolume import infer_reference_point

        lo, hi = Y.min(0).values, Y.max(0).values
        span = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
        unit = (Y - lo) / span
        ref = self.problem.ref_point
        if ref is not None:
            return unit, (-torch.as_tensor(ref, device=self.device, dtype=self.dtype) - lo) / span
        return unit, infer_reference_point(unit)


@register_algorithm("botorch.qnehvi")
class BoTorchQNEHVI(BoTorchAlgorithm):
    """qLogNEHVI (Daulton et al. 2021; Ament et al. 2023), BoTorch's recommended form of qNEHVI."""

    name = "botorch.qnehvi"

    def _candidates(self, model, X, Y, ref_point):
        from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
        from botorch.optim import optimize_acqf

        acq = qLogNoisyExpectedHypervolumeImprovement(
            model=model, ref_point=ref_point.tolist(), X_baseline=X, prune_baseline=True,
            sampler=self._sampler())
        return self._maximize(optimize_acqf, self.config.batch_size, acq_function=acq, bounds=self.bounds,
                              q=self.config.batch_size, num_restarts=self.config.num_restarts,
                              raw_samples=self.config.raw_samples, options={"batch_limit": 5, "maxiter": 200},
                              sequential=True)


@register_algorithm("botorch.qparego")
class BoTorchQParEGO(BoTorchAlgorithm):
    """qParEGO (Knowles 2006; Daulton et al. 2020): one random augmented-Chebyshev
    scalarization per batch element, each maximised with qLogNEI."""

    name = "botorch.qparego"

    def _candidates(self, model, X, Y, ref_point):
        from botorch.acquisition.logei import qLogNoisyExpectedImprovement
        from botorch.acquisition.objective import GenericMCObjective
        from botorch.optim.optimize import optimize_acqf_list
        from botorch.utils.multi_objective.scalarization import get_chebyshev_scalarization
        from botorch.utils.sampling import sample_simplex

        with torch.no_grad():
            pred = model.posterior(X).mean
        acqs = []
        for _ in range(self.config.batch_size):
            w = sample_simplex(Y.shape[-1], dtype=self.dtype, device=self.device).squeeze(0)
            objective = GenericMCObjective(get_chebyshev_scalarization(weights=w, Y=pred))
            acqs.append(qLogNoisyExpectedImprovement(model=model, objective=objective, X_baseline=X,
                                                     sampler=self._sampler(), prune_baseline=True))
        return self._maximize(optimize_acqf_list, len(acqs), acq_function_list=acqs, bounds=self.bounds,
                              num_restarts=self.config.num_restarts, raw_samples=self.config.raw_samples,
                              options={"batch_limit": 5, "maxiter": 200})
