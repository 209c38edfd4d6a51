"""``moo check``: try a problem on a few random points before a run spends its budget on it.

:func:`check_problem` evaluates ``n`` random points of the box (integral where the variables
are integer or categorical) and reports, as :class:`Finding` lines, what a solver would trip
over: the shapes and dtype of ``F`` and ``G``, NaN/inf, a batch with leading dimensions, the
share of feasible points, whether repeated evaluation gives the same values, whether gradients
flow (and whether that matches ``differentiable``), and the shapes of the declared knowledge
(``ref_point``, ``ideal``, ``nadir``, ``pareto_front``). Every problem found comes with how to
fix it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from moo.errors import MooError
from moo.problem import Problem

#: severities, in order
LEVELS = ("ok", "note", "warning", "error")


@dataclass(frozen=True)
class Finding:
    """One line of the check: ``level`` is ``ok``, ``note``, ``warning`` or ``error``."""

    level: str
    what: str

    def __str__(self) -> str:
        return f"{self.level:>7}: {self.what}"


def random_points(problem: Problem, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` uniform points of the box, float64; integer and categorical variables rounded."""
    lo, hi = problem.bounds.double()
    X = lo + (hi - lo) * torch.rand(n, problem.n_var, generator=generator, dtype=torch.float64)
    if problem.var_types is not None:
        discrete = torch.tensor([t != "real" for t in problem.var_types])
        X[:, discrete] = X[:, discrete].round().clamp(lo[discrete], hi[discrete])
    return X


def check_problem(problem: Problem, n: int = 8, seed: int = 0) -> list[Finding]:
    """Evaluate ``problem`` at ``n`` random points and return what was found (see the module)."""
    out: list[Finding] = []
    ok, note, warn, error = (lambda text, lv=lv: out.append(Finding(lv, text)) for lv in LEVELS)
    ok(f"{problem.name}: {problem.n_var} variables, {problem.n_obj} objectives, {problem.n_constr} constraints"
       + (f", variable types {sorted(set(problem.var_types))}" if problem.var_types else ""))
    if problem.n_obj < 2:
        warn("one objective: most indicators (hypervolume, IGD) and Pareto-set learners need 2 or more")
    lo, hi = problem.bounds
    if not bool(torch.isfinite(problem.bounds).all()):
        error("bounds are not finite: every solver samples the box; give finite lower and upper bounds")
        return out
    if not bool((lo < hi).all()):
        fixed = (lo >= hi).nonzero().flatten().tolist()
        warn(f"variables {fixed} have lower bound >= upper bound (fixed); drop them from the problem")
    X = random_points(problem, n, torch.Generator().manual_seed(seed))
    try:
        F = problem.evaluate(X)
    except MooError as exc:
        error(f"evaluate failed on {n} random points: {exc}. _evaluate(X) takes X [..., n_var] (a torch tensor in "
              "the caller's dtype and device) and returns F [..., n_obj]; see help(moo.Problem)")
        return out
    raw = problem._evaluate(X.clone())
    if not isinstance(raw, torch.Tensor):
        note(f"_evaluate returned a {type(raw).__name__}; it is converted, but a torch tensor on X's device "
             "avoids a copy and keeps gradients")
    elif raw.dtype != X.dtype:
        warn(f"_evaluate returned {raw.dtype} for {X.dtype} input; it is cast, but precision may be lost: "
             "compute in X's dtype")
    ok(f"evaluate: X {list(X.shape)} -> F {list(F.shape)} {F.dtype}, all finite; "
       f"F ranges {[round(float(v), 4) for v in F.min(0).values]} .. {[round(float(v), 4) for v in F.max(0).values]}")
    try:
        batched = problem.evaluate(X.reshape(2, n // 2, problem.n_var)) if n % 2 == 0 else None
    except MooError as exc:
        error(f"evaluate on a batch with leading dimensions [2, {n // 2}, n_var] failed: {exc}. Index the last "
              "dimension (X[..., 0]) instead of columns (X[:, 0]) so any batch shape works")
        batched = None
    if batched is not None and not torch.allclose(batched.reshape(n, -1), F, rtol=1e-10, atol=1e-12):
        error("a batch with leading dimensions gives other values than the same points flat: index the last "
              "dimension (X[..., j]) and reduce over dim=-1")
    if not torch.equal(problem.evaluate(X), F):
        warn("evaluating the same points twice gives different values (a noisy problem): set "
             "fingerprint_points = 0 on the class so resume does not refuse it, and expect noisy indicators")
    _check_constraints(problem, X, ok, note, warn, error)
    _check_gradients(problem, X, ok, note, warn)
    for key in ("ideal", "nadir", "ref_point"):
        value = getattr(problem, key)
        if value is None:
            continue
        if tuple(torch.as_tensor(value).shape) != (problem.n_obj,):
            error(f"{key} has shape {list(torch.as_tensor(value).shape)}, expected [{problem.n_obj}] (one per objective)")
        else:
            ok(f"{key}: {[round(float(v), 4) for v in value]}")
    if problem.ref_point is None and (problem.ideal is None or problem.nadir is None):
        warn("no ref_point (and no ideal and nadir): the hypervolume is not available in summaries, histories and "
             "suites; declare a ref_point property (one value per objective, worse than any point of interest)")
    front = problem.pareto_front()
    if front is not None:
        if front.dim() != 2 or front.shape[1] != problem.n_obj:
            error(f"pareto_front() has shape {list(front.shape)}, expected [k, {problem.n_obj}]")
        else:
            ok(f"pareto_front: {front.shape[0]} points (IGD, IGD+ and LHD available)")
    else:
        note("no pareto_front(): IGD, IGD+ and LHD need a reference front; hypervolume and R2 do not")
    return out


def _check_constraints(problem, X, ok, note, warn, error) -> None:
    overrides = type(problem)._constraints is not Problem._constraints
    if problem.n_constr == 0:
        if overrides:
            error("the class defines _constraints but n_constr is 0, so they are never called: pass "
                  "n_constr=<number of constraints> to Problem.__init__")
        return
    try:
        G = problem.constraints(X)
    except MooError as exc:
        error(f"constraints failed: {exc}. _constraints(X) returns G [..., n_constr], feasible where G <= 0")
        return
    feasible = (G <= 0).all(-1)
    ok(f"constraints: G {list(G.shape)}, {int(feasible.sum())} of {X.shape[0]} random points feasible "
       "(feasible where every G <= 0)")
    if not bool(feasible.any()):
        warn("no random point is feasible: check the sign (moo wants g(x) <= 0 when feasible, so a constraint "
             "h(x) >= c is written c - h(x)); solvers still work, but start from infeasible points")
    elif bool(feasible.all()):
        note("every random point is feasible: check the sign (feasible where G <= 0) if that is unexpected")


def _check_gradients(problem, X, ok, note, warn) -> None:
    Xg = X.clone().requires_grad_(True)
    try:
        F = problem.evaluate(Xg)
        grad, = torch.autograd.grad(F.sum(), Xg, allow_unused=True)
        flows = grad is not None and bool(torch.isfinite(grad).all()) and bool(grad.abs().sum() > 0)
    except (MooError, RuntimeError):
        flows = False
    if problem.differentiable and not flows:
        warn("differentiable = True, but no finite gradient reaches X: write _evaluate in torch ops (no NumPy, "
             "no .item(), no detach), or set differentiable = False")
    elif problem.differentiable:
        ok("differentiable: gradients flow to X (psl, phn and moo-svgd can use them)")
    elif flows:
        note("gradients flow through _evaluate although differentiable = False: set differentiable = True on "
             "the class to let the gradient-based solvers (psl, phn, moo-svgd) run")
    else:
        note("not differentiable: use a black-box solver (nsga2, pymoo.*, psl-mobo, botorch.*)")


def worst(findings: list[Finding]) -> str:
    """The most severe level among ``findings``."""
    return max((f.level for f in findings), key=LEVELS.index, default="ok")


__all__ = ["Finding", "check_problem", "random_points", "worst"]
