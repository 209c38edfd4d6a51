"""Benchmark suites: loading and checking TOML suites, `moo bench` on a local process pool, resume
after SIGKILL with every cell stored exactly once, failed cells, and the Ray path giving the same
store content as the pool."""
import os
import signal
import sqlite3
import subprocess
import sys
import time

import moocore
import numpy as np
import pytest

from moo.bench import load_suite, run_suite, suite_names
from moo.cli import main
from moo.errors import MooValueError, UnknownNameError
from moo.store import Store

SMOKE_CELLS = 10  # zdt1 × 3 algorithms + dtlz2 × 2 algorithms (moo-svgd on zdt1 only), 2 seeds


def _write_suite(path, body: str) -> str:
    path.write_text(body)
    return str(path)


@pytest.fixture(scope="module")
def pool_store(tmp_path_factory):
    """The smoke suite run by `moo bench --workers 2` (a spawn process pool)."""
    db = tmp_path_factory.mktemp("pool") / "runs.db"
    assert main(["-q", "bench", "--suite", "smoke", "--store", str(db), "--workers", "2"]) == 0
    return db


def _content(db) -> dict:
    """Everything stored per cell except wall-clock times."""
    with Store(db, readonly=True) as store:
        runs = store.runs("smoke")
    out = {}
    for r in runs:
        meta = {k: v for k, v in r.meta.items() if k != "wall_time"}
        history = [{k: v for k, v in rec.items() if k != "time"} for rec in r.history]
        out[r.cell_key] = (r.problem, r.algorithm, r.seed, r.n_evals, r.indicators, history, meta, r.conventions,
                           r.X.tobytes(), r.F.tobytes())
    return out


def test_shipped_suites_load():
    names = suite_names()
    assert {"smoke", "synthetic", "expensive", "many-objective"} <= set(names)
    for name in names:
        suite = load_suite(name)
        assert suite.cells(), name
    smoke = load_suite("smoke")
    cells = smoke.cells()
    assert len(cells) == SMOKE_CELLS and len({c["cell_key"] for c in cells}) == SMOKE_CELLS
    assert {c["problem"] for c in cells if c["algorithm"] == "moo-svgd"} == {"zdt1"}
    # the stored algorithm spec is the full config, defaults filled in
    nsga2 = next(c for c in cells if c["algorithm"] == "nsga2")["algorithm_spec"]
    assert nsga2["config"]["pop_size"] == 20 and "eta_c" in nsga2["config"]


@pytest.mark.parametrize("body, message", [
    ("budget = 10\n[[problems]]\nname = 'zdt1'\n[[algorithms]]\nname = 'nsga2'\nbogus = 1\n", "unknown keys"),
    ("budget = 0\n[[problems]]\nname = 'zdt1'\n[[algorithms]]\nname = 'nsga2'\n", "budget must be a positive"),
    ("budget = 10\nseeds = [1, 1]\n[[problems]]\nname = 'zdt1'\n[[algorithms]]\nname = 'nsga2'\n", "distinct"),
    ("budget = 10\n[[problems]]\nname = 'zdt1'\n[[algorithms]]\nname = 'nsga-2'\n", "Did you mean: nsga2"),
    ("budget = 10\n[[problems]]\nname = 'zdt1'\n[[algorithms]]\nname = 'nsga2'\nproblems = ['zdt9']\n",
     "not problem labels"),
    ("budget = 10\n[[problems]]\nname = 'zdt1'\n[[problems]]\nname = 'zdt1'\n[[algorithms]]\nname = 'nsga2'\n",
     "labels must be distinct"),
    ("budget = 10\n[evaluator]\nref_point = 'far'\n[[problems]]\nname = 'zdt1'\n[[algorithms]]\nname = 'nsga2'\n",
     "ref_point must be"),
    ("budget = 10\n[[problems]]\nname = 'zdt1'\n", "no \\[\\[algorithms\\]\\]"),
    ("budget = [10\n", "not valid TOML"),
])
def test_bad_suite_files_name_the_problem(tmp_path, body, message):
    with pytest.raises(MooValueError, match=message):
        load_suite(_write_suite(tmp_path / "s.toml", body))


def test_unknown_suite_name_suggests(capsys):
    with pytest.raises(UnknownNameError, match="Did you mean: smoke"):
        load_suite("smok")
    assert main(["bench", "--suite", "smok", "--store", "unused.db"]) == 2
    assert "unknown suite 'smok'" in capsys.readouterr().err


def test_user_suite_with_its_own_conventions(tmp_path):
    """A user's suite file: a raw-space reference point from the TOML is stored and used; the stored
    hypervolume equals moocore's on the stored front."""
    suite = _write_suite(tmp_path / "mine.toml", """
name = "mine"
budget = 120
seeds = [3]
[evaluator]
normalize = false
ref_point = [2.0, 5.0]
indicators = ["hv", "igd"]
[[problems]]
name = "zdt2"
label = "zdt2-small"
options = { n_var = 4 }
[[algorithms]]
name = "pymoo.nsga2"
config = { pop_size = 12 }
""")
    db = tmp_path / "mine.db"
    summary = run_suite(suite, db, progress=False)
    assert (summary.n_cells, summary.n_run, summary.failures) == (1, 1, [])
    with Store(db, readonly=True) as store:
        (run,) = store.runs("mine")
    assert run.problem == "zdt2-small" and run.seed == 3 and run.n_evals == 120
    assert run.conventions["ref_point"] == [2.0, 5.0] and run.conventions["evaluator"]["ref_point"] == [2.0, 5.0]
    assert run.conventions["evaluator"]["normalization"] == "none"
    assert run.indicators["hv"] == pytest.approx(moocore.hypervolume(run.F, ref=[2.0, 5.0]), rel=1e-12)
    assert run.history[-1]["n_evals"] == 120 and run.history[-1]["hv"] == pytest.approx(run.indicators["hv"])
    assert np.diff([h["n_evals"] for h in run.history]).min() > 0
    again = run_suite(suite, db, progress=False)
    assert (again.n_skipped, again.n_run) == (1, 0)


def test_failed_cell_is_reported_not_stored(tmp_path, capsys):
    suite = _write_suite(tmp_path / "fail.toml", """
budget = 40
[[problems]]
name = "zdt1"
options = { n_var = 3 }
[[algorithms]]
name = "pymoo.nsga2"
config = { pop_size = 10 }
[[algorithms]]
name = "moo-svgd"
config = { n_particles = 1 }
""")
    db = tmp_path / "fail.db"
    assert main(["-q", "bench", "--suite", suite, "--store", str(db)]) == 2
    err = capsys.readouterr().err
    assert "moo-svgd on zdt1, seed 0" in err and "n_particles" in err and "1 of 2 cells failed" in err
    with Store(db, readonly=True) as store:
        assert [r.algorithm for r in store.runs()] == ["pymoo.nsga2"]
    summary = run_suite(suite, db, progress=False)  # the failed cell is retried, the stored one skipped
    assert summary.n_skipped == 1 and len(summary.failures) == 1


def test_bench_smoke_on_a_process_pool_then_report(pool_store, tmp_path, capsys):
    with Store(pool_store, readonly=True) as store:
        runs = store.runs("smoke")
    assert len(runs) == SMOKE_CELLS and len({r.cell_key for r in runs}) == SMOKE_CELLS
    assert {r.n_evals for r in runs} == {300}
    assert all(r.indicators["hv"] is not None and r.indicators["igd_plus"] >= 0 for r in runs)
    assert main(["bench", "--suite", "smoke", "--store", str(pool_store)]) == 0  # nothing left to run
    assert f"{SMOKE_CELLS} already stored, 0 run now" in capsys.readouterr().out
    out = tmp_path / "report"
    assert main(["report", str(pool_store), "--out", str(out)]) == 0
    for name in ("report.md", "report.html", "summary.csv", "runs.csv", "fronts.png", "convergence_zdt1.png"):
        assert (out / name).stat().st_size > 0, name


def test_sigkill_mid_suite_then_rerun_stores_every_cell_once(tmp_path):
    suite = _write_suite(tmp_path / "kill.toml", """
name = "kill"
budget = 1500
seeds = 8
[[problems]]
name = "zdt1"
options = { n_var = 6 }
[[algorithms]]
name = "pymoo.nsga2"
config = { pop_size = 30 }
""")
    db = tmp_path / "kill.db"
    proc = subprocess.Popen([sys.executable, "-m", "moo.cli", "-q", "bench", "--suite", suite, "--store", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stored = 0
    deadline = time.monotonic() + 120
    try:
        while stored < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
            if db.exists():
                try:
                    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
                    stored = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
                    conn.close()
                except sqlite3.OperationalError:  # schema not created yet
                    pass
        assert proc.poll() is None, f"the suite ended before it could be killed: {proc.stderr.read()!r}"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with Store(db, readonly=True) as store:
        at_kill = store.count("kill")
    assert 2 <= at_kill < 8
    summary = run_suite(suite, db, progress=False)
    assert summary.n_skipped == at_kill and summary.n_run == 8 - at_kill and not summary.failures
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    counts = dict(conn.execute("SELECT cell_key, COUNT(*) FROM runs GROUP BY cell_key").fetchall())
    assert conn.execute("SELECT COUNT(*) FROM fronts").fetchone()[0] == 8
    conn.close()
    assert counts == {c["cell_key"]: 1 for c in load_suite(suite).cells()}


def test_ray_gives_the_same_store_as_the_pool(pool_store, tmp_path):
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'moo[distributed]'")
    db = tmp_path / "ray.db"
    summary = run_suite("smoke", db, ray=True, workers=2, progress=False)
    assert (summary.n_run, summary.failures) == (SMOKE_CELLS, [])
    ray_content, pool_content = _content(db), _content(pool_store)
    assert set(ray_content) == set(pool_content)
    fields = ("problem", "algorithm", "seed", "n_evals", "indicators", "history", "meta", "conventions", "X", "F")
    for key, value in pool_content.items():
        for name, got, want in zip(fields, ray_content[key], value):
            assert got == want, f"{name} differs for {value[:3]}"  # bit-identical, not just close


def test_median_step_time_skips_the_warm_up_steps():
    from moo.bench import _median_step_time

    # steps last 0 (until t=0), 1, 2, 3, 4, 5, 6 s: after the first three, 3, 4, 5, 6 -> median 4.5
    history = [{"time": t} for t in (0.0, 1.0, 3.0, 6.0, 10.0, 15.0, 21.0)]
    assert _median_step_time(history) == 4.5
    assert _median_step_time(history[:3]) is None


def test_step_time_is_a_final_indicator_of_the_run(tmp_path):
    suite = _write_suite(tmp_path / "t.toml", """
name = "t"
budget = 80
[evaluator]
indicators = ["step_time_s", "hv"]
convergence = []
[[problems]]
name = "zdt1"
options = { n_var = 4 }
[[algorithms]]
name = "nsga2"
config = { pop_size = 10 }
""")
    db = tmp_path / "t.db"
    assert run_suite(suite, db, progress=False).failures == []
    with Store(db, readonly=True) as store:
        (run,) = store.runs("t")
    assert 0 < run.indicators["step_time_s"] < run.wall_time / 4  # 8 steps; the median of the last 5
    text = (tmp_path / "t.toml").read_text()
    bad = _write_suite(tmp_path / "u.toml", text.replace("convergence = []", 'convergence = ["step_time_s"]'))
    with pytest.raises(MooValueError, match="step_time_s"):
        load_suite(bad)
