"""Terminations: each rule stops where it says, combinations follow | and &, stored rules resume."""
from __future__ import annotations

import math

import pytest
import torch

import moo
from moo.errors import MooTypeError, MooValueError, RunFolderError
from moo.termination import (AllOf, AnyOf, IndicatorTarget, MaxEvaluations, MaxSteps, MaxTime, Progress, StopWhen,
                             termination_from_spec)
from toy_problems import Interrupt, interrupt_at


def run(termination, **kw):
    kw.setdefault("pop_size", 10)
    return moo.solve(moo.get_problem("zdt1", n_var=4), "nsga2", termination=termination, seed=0, device="cpu", progress=False, **kw)


def test_max_steps_stops_after_that_many_steps():
    result = run(MaxSteps(4))
    assert result.meta["n_steps"] == 4 and result.n_evals == 40
    assert result.meta["budget"] is None  # no evaluation cap


def test_budget_and_termination_stop_at_whichever_comes_first():
    assert moo.solve("zdt1", "nsga2", budget=25, termination=MaxSteps(10), seed=0, device="cpu",
                     progress=False, pop_size=10).n_evals == 25
    assert moo.solve("zdt1", "nsga2", budget=500, termination=MaxSteps(2), seed=0, device="cpu",
                     progress=False, pop_size=10).n_evals == 20


def test_indicator_target_stops_at_the_first_step_that_reaches_it():
    reference = run(MaxSteps(30))
    hv = [r["hv"] for r in reference.history]
    target = 0.9 * hv[-1]
    first = next(i for i, v in enumerate(hv) if v >= target)
    assert first > 0  # reached at some step, not at the first
    result = run(IndicatorTarget("hv", target) | MaxSteps(30))
    assert result.meta["n_steps"] == first + 1
    assert result.history[-1]["hv"] >= target > result.history[-2]["hv"]
    assert torch.equal(result.F, moo.solve(moo.get_problem("zdt1", n_var=4), "nsga2", budget=(first + 1) * 10, seed=0, device="cpu",
                                           progress=False, pop_size=10).F)


def test_smaller_is_better_indicator_target():
    result = run(IndicatorTarget("igd_plus", 0.2) | MaxSteps(40), history_indicators=["igd_plus"])
    assert result.history[-1]["igd_plus"] <= 0.2
    assert all(r["igd_plus"] > 0.2 for r in result.history[:-1])


def test_indicator_target_needs_an_evaluator_that_gives_it():
    with pytest.raises(MooValueError, match="evaluator=None"):
        run(IndicatorTarget("hv", 0.5) | MaxSteps(3), evaluator=None)
    with pytest.raises(MooValueError, match="indicator"):
        run(IndicatorTarget("nope", 0.5) | MaxSteps(3))


def test_wall_time_and_callables():
    result = run(MaxTime(0.2) | MaxSteps(10_000))
    assert 0.2 <= result.meta["wall_time"] and result.meta["n_steps"] < 10_000
    seen = []
    result = run(StopWhen(lambda p: seen.append(p) or p.n_evals >= 30))
    assert result.n_evals == 30 and isinstance(seen[-1], Progress) and seen[-1].record["n_evals"] == 30


def test_all_of_needs_every_rule():
    rule = MaxSteps(3) & StopWhen(lambda p: p.n_evals >= 50)
    assert run(rule).meta["n_steps"] == 5
    assert AllOf(MaxEvaluations(10), MaxSteps(2)).max_evals is None
    assert AllOf(MaxEvaluations(10), MaxEvaluations(20)).max_evals == 20
    assert AnyOf(MaxEvaluations(10), MaxSteps(2), MaxEvaluations(7)).max_evals == 7


def test_specs_round_trip_and_bad_rules_are_refused():
    rule = (MaxEvaluations(100) | IndicatorTarget("hv", 0.6)) & MaxTime(5)
    assert termination_from_spec(rule.to_spec()) == rule
    assert (MaxSteps(2) | StopWhen(print)).to_spec() is None
    for bad in ({"evals": 0}, {"steps": 1.5}, {"seconds": -1}, {"any": []}, {"nope": 1}, "x"):
        with pytest.raises((MooValueError, MooTypeError)):
            termination_from_spec(bad)
    with pytest.raises(MooTypeError):
        run(42)
    with pytest.raises(MooValueError, match="budget"):
        moo.solve("zdt1", "nsga2", seed=0, progress=False)
    assert math.isclose(MaxTime(1).seconds, 1.0)


def test_resume_stops_by_the_stored_rule(tmp_path):
    rule = MaxSteps(6) | IndicatorTarget("hv", 0.99)
    full = run(rule)
    with pytest.raises(Interrupt):
        run(rule, out=tmp_path / "r", checkpoint_every=1, callbacks=[interrupt_at(3)])
    resumed = moo.resume(tmp_path / "r", progress=False)
    assert resumed.meta["n_steps"] == full.meta["n_steps"] == 6
    assert torch.equal(resumed.F, full.F)


def test_a_rule_holding_code_must_be_passed_again_to_resume(tmp_path):
    rule = StopWhen(lambda p: p.step >= 5)
    full = run(rule)
    with pytest.raises(Interrupt):
        run(rule, out=tmp_path / "r", checkpoint_every=1, callbacks=[interrupt_at(2)])
    with pytest.raises(RunFolderError, match="termination="):
        moo.resume(tmp_path / "r", progress=False)
    resumed = moo.resume(tmp_path / "r", termination=rule, progress=False)
    assert torch.equal(resumed.F, full.F)
