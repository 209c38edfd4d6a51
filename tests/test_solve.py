import numpy as np
import pytest
import torch

import moo
from moo import BudgetError, CheckpointError, MooValueError
from moo.solve import STOP
from toy_problems import Interrupt, Schaffer, interrupt_at


def run(seed=0, budget=450, **kw):
    return moo.solve(Schaffer(3), "pymoo.nsga2", budget=budget, seed=seed, device="cpu", progress=False,
                     pop_size=40, **kw)


@pytest.mark.parametrize("budget", [0, -5, 1.5, True, float("nan"), "100"])
def test_non_positive_or_non_integer_budget_is_rejected(budget):
    with pytest.raises(BudgetError, match="budget must be a positive integer"):
        run(budget=budget)


def test_budget_is_spent_exactly_even_mid_generation():
    res = run(budget=450)  # 40 per generation: the last one is truncated to 10
    assert res.n_evals == 450 and res.F_all.shape[0] == 450
    assert [r["n_evals"] for r in res.history][-2:] == [440, 450]


def test_same_seed_same_result_other_seed_other_result():
    a, b, c = run(seed=3), run(seed=3), run(seed=4)
    assert torch.equal(a.F_all, b.F_all) and torch.equal(a.X, b.X)
    assert not torch.equal(a.F_all, c.F_all)


def test_history_records_evaluations_time_and_hypervolume():
    res = run(budget=800)
    evals = [r["n_evals"] for r in res.history]
    times = [r["time"] for r in res.history]
    assert evals == sorted(evals) and times == sorted(times)
    hv = [r["hv"] for r in res.history]
    assert hv[-1] > hv[0] and hv[-1] == res.hv
    # the hv column is the evaluator's convention: normalized by ideal/nadir, ref 1.1
    ev = moo.indicators.Evaluator.for_problem(Schaffer(3))
    assert res.hv == pytest.approx(ev.hypervolume(res.F), rel=1e-12)
    assert res.meta["conventions"] == ev.conventions


def test_callback_can_stop_the_run():
    seen = []
    res = run(budget=4000, callbacks=[lambda rec: (seen.append(rec["step"]), STOP if rec["step"] == 3 else None)[1]])
    assert seen == [1, 2, 3] and res.n_evals == 120


def test_algorithm_options_only_with_a_name():
    with pytest.raises(MooValueError, match="only accepted with an algorithm given by name"):
        moo.solve(Schaffer(2), moo.get_algorithm("pymoo.nsga2"), budget=10, pop_size=4)
    with pytest.raises(MooValueError, match="unknown option\\(s\\) \\['popsize'\\]"):
        moo.solve(Schaffer(2), "pymoo.nsga2", budget=10, popsize=4)


def test_checkpoint_needs_a_folder():
    with pytest.raises(MooValueError, match="pass out=DIR"):
        run(checkpoint_every=1)
    with pytest.raises(MooValueError, match="pass out=DIR"):
        run(checkpoint_seconds=5.0)


def test_time_based_checkpoints(tmp_path):
    """With a zero-ish interval every step checkpoints; with a long one none does."""
    run(budget=200, out=tmp_path / "often", checkpoint_seconds=1e-9)
    assert torch.load(tmp_path / "often" / "checkpoint.pt", weights_only=True)["step"] == 5
    run(budget=200, out=tmp_path / "never", checkpoint_seconds=3600.0)
    assert not (tmp_path / "never" / "checkpoint.pt").exists()
    with pytest.raises(MooValueError, match="checkpoint_seconds must be a positive number"):
        run(out=tmp_path / "bad", checkpoint_seconds=0)


@pytest.mark.parametrize("algorithm, options, budget", [
    ("pymoo.nsga2", {"pop_size": 20}, 200),                       # resumed by replay
    ("botorch.qparego", {"n_init": 6, "batch_size": 2, "num_restarts": 2, "raw_samples": 32,
                         "mc_samples": 16}, 12),                   # resumed from its state_dict
])
def test_resume_after_interruption_matches_uninterrupted_run(tmp_path, algorithm, options, budget):
    problem = Schaffer(2)
    full = moo.solve(problem, algorithm, budget=budget, seed=7, device="cpu", progress=False, **options)
    with pytest.raises(Interrupt):
        moo.solve(problem, algorithm, budget=budget, seed=7, device="cpu", progress=False,
                  out=tmp_path, checkpoint_every=1, callbacks=[interrupt_at(3)], **options)
    resumed = moo.resume(tmp_path, problem=Schaffer(2), progress=False)
    assert torch.equal(resumed.F_all, full.F_all) and torch.equal(resumed.X, full.X)
    assert [r["n_evals"] for r in resumed.history] == [r["n_evals"] for r in full.history]
    assert moo.Result.load(tmp_path).n_evals == budget


def test_resume_needs_a_run_folder(tmp_path):
    with pytest.raises(CheckpointError, match="run.json is missing"):
        moo.resume(tmp_path)


class IdealOnly(Schaffer):
    """Knows its ideal point but no nadir, reference point or front: no hypervolume convention."""

    @property
    def nadir(self):
        return None


def test_history_without_a_hypervolume_convention_has_no_hv_column():
    res = moo.solve(IdealOnly(2), "pymoo.nsga2", budget=80, seed=0, device="cpu", progress=False, pop_size=20)
    assert res.n_evals == 80 and res.hv is None
    assert all("hv" not in rec for rec in res.history)


def test_every_callback_sees_the_stopping_record():
    seen = []
    res = run(budget=4000, callbacks=[lambda rec: STOP, lambda rec: seen.append(rec["step"])])
    assert res.n_evals == 40 and seen == [1]


@pytest.mark.parametrize("history_every", [0, -1, 1.5])
def test_history_every_must_be_positive(history_every):
    with pytest.raises(MooValueError, match="history_every must be a positive integer"):
        run(history_every=history_every)


def test_a_reused_run_folder_never_resumes_the_previous_run(tmp_path):
    run(seed=0, budget=200, out=tmp_path, checkpoint_every=1)
    with pytest.raises(Interrupt):  # a new run in the same folder, interrupted before its first checkpoint
        run(seed=1, budget=200, out=tmp_path, callbacks=[interrupt_at(1)], overwrite=True)
    resumed = moo.resume(tmp_path, problem=Schaffer(3), progress=False)
    assert torch.equal(resumed.F_all, run(seed=1, budget=200).F_all)


def test_an_algorithm_loaded_by_module_path_resumes(tmp_path):
    with pytest.raises(Interrupt):
        moo.solve(Schaffer(2), "moo.algorithms.peers:PymooNSGA2", budget=120, seed=2, device="cpu",
                  progress=False, out=tmp_path, checkpoint_every=1, callbacks=[interrupt_at(2)], pop_size=20)
    resumed = moo.resume(tmp_path, problem=Schaffer(2), progress=False, trust=True)
    full = moo.solve(Schaffer(2), "pymoo.nsga2", budget=120, seed=2, device="cpu", progress=False, pop_size=20)
    assert resumed.meta["algorithm"]["name"] == "moo.algorithms.peers:PymooNSGA2"
    assert torch.equal(resumed.F_all, full.F_all)
