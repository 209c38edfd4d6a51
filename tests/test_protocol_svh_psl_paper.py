"""The svh-psl-paper protocol (benchmarks/protocols/svh_psl_paper.py): the SVH-PSL paper's LHD
convention against hand computations and pymoo's ZDT1 front, and a tiny suite end to end."""
import math

import numpy as np
import pytest
import torch

import moo
from moo.benchmarks.protocols.svh_psl_paper import PAPER, PAPER_LHD, SVHPSLPaper, paper_lhd
from moo.errors import MooValueError


def test_paper_lhd_raw_objectives_by_hand():
    """ZDT1: raw objectives, reference point 1.1. Two points (0.2, 0.5) and (0.5, 0.2): HV =
    0.9 * 0.6 + 0.6 * 0.9 - 0.6 * 0.6 = 0.72; LHD = ln(0.871409 - 0.72)."""
    p = moo.get_problem("zdt1", n_var=20)
    F = torch.tensor([[0.2, 0.5], [0.5, 0.2]], dtype=torch.float64)
    assert paper_lhd(p, F) == pytest.approx(math.log(0.871409 - 0.72), rel=1e-9)
    # a point past the reference point adds nothing; no point: HV 0
    assert paper_lhd(p, torch.cat([F, torch.tensor([[1.2, 0.0]])])) == pytest.approx(math.log(0.871409 - 0.72))
    assert paper_lhd(p, torch.zeros(0, 2)) == pytest.approx(math.log(0.871409))
    # beyond the paper's HV_true: the floor ln(1e-14)
    assert paper_lhd(p, torch.tensor([[-1.0, -1.0]])) == pytest.approx(math.log(1e-14))


def test_paper_lhd_normalized_re_by_hand():
    """RE21: normalized by the paper code's (pre-fix) ideal/nadir. A point a quarter / half of the
    way from ideal to nadir is (0.25, 0.5) normalized: HV = 0.85 * 0.6 = 0.51."""
    p = moo.get_problem("re21")
    ideal, nadir, hv_true = PAPER["re21"]
    F = torch.tensor([[ideal[0] + 0.25 * (nadir[0] - ideal[0]), ideal[1] + 0.5 * (nadir[1] - ideal[1])]],
                     dtype=torch.float64)
    assert paper_lhd(p, F) == pytest.approx(math.log(hv_true - 0.51), rel=1e-9)


def test_paper_hv_true_of_zdt1_is_pymoos_front():
    """The paper's ZDT1 HV_true is the hypervolume of pymoo's default front (raw, ref 1.1)."""
    from pymoo.problems import get_problem as pymoo_problem

    p = moo.get_problem("zdt1", n_var=20)
    front = torch.as_tensor(pymoo_problem("zdt1", n_var=20).pareto_front())
    assert math.exp(paper_lhd(p, front)) < 1e-6  # HV_true - HV(front) is (almost) zero
    assert set(PAPER) == set(PAPER_LHD)


SUITE = """
name = "svh-psl-paper-tiny"
budget = 16
seeds = [0]
history_points = 16

[evaluator]
indicators = ["lhd_paper", "lhd", "hv", "fit_time_s", "train_time_s", "select_time_s", "fallback_batches"]
convergence = ["lhd"]

[protocol]
name = "svh-psl-paper"
[protocol.problem_config.psl-mobo]
zdt1 = { standardize_objectives = false }

[[problems]]
name = "zdt1"
options = { n_var = 4 }

[[problems]]
name = "vlmop2"

[[algorithms]]
name = "psl-mobo"
config = { n_init = 6, batch_size = 5, n_steps = 3, n_candidate = 20, hidden = [8, 8] }

[[algorithms]]
name = "pymoo.nsga2"
config = { pop_size = 8 }
"""


def test_tiny_suite_end_to_end(tmp_path):
    from moo.bench import load_suite, run_suite
    from moo.report import write_report
    from moo.store import Store

    path = tmp_path / "tiny.toml"
    path.write_text(SUITE)
    summary = run_suite(load_suite(path), tmp_path / "runs.db", progress=False)
    assert summary.n_run == 4 and not summary.failures
    with Store(tmp_path / "runs.db") as db:
        runs = db.runs()
    by = {(r.problem, r.algorithm): r for r in runs}
    for (prob, algo), r in by.items():
        p = moo.get_problem(r.problem_spec["name"], **r.problem_spec["options"])
        # the final figure is the paper LHD of the stored front, and the last convergence record's
        assert r.indicators["lhd_paper"] == pytest.approx(paper_lhd(p, torch.as_tensor(r.F)), abs=1e-12)
        curve = [h["lhd_paper"] for h in r.history if h.get("lhd_paper") is not None]
        assert len(curve) >= 2 and curve[-1] == pytest.approx(r.indicators["lhd_paper"], abs=1e-12)
        assert all(b <= a + 1e-12 for a, b in zip(curve, curve[1:]))  # the evaluated set only grows
        assert r.indicators["fallback_batches"] == 0.0
        timed = [r.indicators[k] for k in ("fit_time_s", "train_time_s", "select_time_s")]
        if algo == "psl-mobo":
            assert all(t is not None and t > 0 for t in timed)
        else:
            assert timed == [None, None, None]
    # the per-problem override reached the run and its stored spec, and only there
    assert by["zdt1", "psl-mobo"].algorithm_spec["config"]["standardize_objectives"] is False
    assert by["vlmop2", "psl-mobo"].algorithm_spec["config"]["standardize_objectives"] is True

    written = write_report(tmp_path / "runs.db", tmp_path / "rep")
    md = written["markdown"].read_text()
    assert (tmp_path / "rep" / "lhd_paper.png").stat().st_size > 0
    mean = by["vlmop2", "psl-mobo"].indicators["lhd_paper"]
    assert f"| vlmop2 | {PAPER_LHD['vlmop2']} | {mean:.2f} ± 0.00 (1) |" in md
    assert "psl-mobo on zdt1: {'standardize_objectives': False}" in md
    assert any("lhd_paper" in str(k) for k in written)  # the standard convergence plots include it


def test_suite_checks(tmp_path):
    from moo.bench import load_suite

    path = tmp_path / "bad.toml"
    path.write_text(SUITE.replace('name = "vlmop2"', 'name = "dtlz2"'))
    with pytest.raises(MooValueError, match="paper's problems"):
        load_suite(path)
    path.write_text(SUITE.replace("zdt1 = { standardize_objectives = false }", "zdt1 = { n_steps = -1 }"))
    with pytest.raises(MooValueError):
        load_suite(path)
    with pytest.raises(MooValueError, match="problem_config"):
        SVHPSLPaper(problem_config={"psl-mobo": {"zdt1": 3}})


@pytest.mark.parametrize("name", ["expensive", "psl-mobo", "svh-psl-local-step", "svh-psl-reference-quirks"])
def test_shipped_suites_load(name):
    from moo.bench import load_suite

    suite = load_suite(name)
    assert suite.protocol["name"] == "svh-psl-paper"
    assert all(np.isfinite(PAPER[p.name][2]) for p in suite.problems)
