"""Suites fail fast and share a store (issue #22, item 7), and the store's own failures are named
(item 3): `load_suite` builds every problem, evaluator and algorithm config before a cell runs;
two drivers on one store never compute a cell twice (claims); a read-only store or a tampered row
gives a StoreError, which the CLI prints as one line."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from moo.bench import load_suite, run_suite, suite_descriptions, suite_names
from moo.cli import main
from moo.errors import MooError, MooTypeError, MooValueError, ShapeError
from moo.store import SCHEMA_VERSION, Claimant, Store, StoreError, cell_key

TINY = """
name = "tiny"
budget = 20
seeds = [0, 1]
[[problems]]
name = "zdt1"
options = { n_var = 3 }
[[algorithms]]
name = "pymoo.nsga2"
config = { pop_size = 10 }
"""


def _suite(tmp_path, body: str, name: str = "s.toml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


# ---------------------------------------------------------------------------------- fail fast
_ZDT1 = "[[problems]]\nname = 'zdt1'\noptions = { n_var = 3 }\n"
_NSGA2 = "[[algorithms]]\nname = 'pymoo.nsga2'\nconfig = { pop_size = 10 }\n"


@pytest.mark.parametrize("body, error, message", [
    ("budget = 10\n[evaluator]\nindicators = ['hv', 'hypervol']\n" + _ZDT1 + _NSGA2, MooValueError,
     r"evaluator.indicators names unknown indicator\(s\) \['hypervol'\]"),
    ("budget = 10\n[evaluator]\nconvergence = ['igd+']\n" + _ZDT1 + _NSGA2, MooValueError,
     r"evaluator.convergence names unknown indicator\(s\) \['igd\+'\]"),
    ("budget = 10\n[evaluator]\nnormalize = false\nindicators = ['hv']\n" + _ZDT1 + _NSGA2, MooValueError,
     r"problems\[0\] \('zdt1'\): evaluator.indicators asks for \['hv'\], which the conventions"),
    ("budget = 10\n[evaluator]\nnormalize = false\nref_point = [2.0, 5.0, 1.0]\n" + _ZDT1 + _NSGA2, ShapeError,
     r"problems\[0\] \('zdt1'\).*ref_point must have shape \[n_obj\] = \[2\], got \[3\]"),
    ("budget = 10\ndevice = 'cuda:7'\n" + _ZDT1 + _NSGA2, MooValueError,
     r"device 'cuda:7' .*available devices: cpu"),
    ("budget = 10\ndevice = 'gpu'\n" + _ZDT1 + _NSGA2, MooValueError, r"device 'gpu' is not a device name"),
    ("budget = 10\ndevice = 0\n" + _ZDT1 + _NSGA2, MooValueError, r"suite device must be a string"),
    ("budget = 10\n" + _ZDT1 + "[[algorithms]]\nname = 'pymoo.nsga2'\nconfig = { pop_size = 'x' }\n", MooTypeError,
     r"algorithms\[0\] \('pymoo.nsga2'\): option 'pop_size' .* must be an integer, got 'x'"),
    ("budget = 10\n" + _ZDT1 + "[[algorithms]]\nname = 'nsga2'\nconfig = { eta_c = nan }\n", MooValueError,
     r"algorithms\[0\] \('nsga2'\): option 'eta_c' .* must be finite, got nan"),
    ("budget = 10\n" + _ZDT1 + "[[algorithms]]\nname = 'moo-svgd'\nconfig = { lr = 'fast' }\n", MooTypeError,
     r"option 'lr' .* must be a number, got 'fast'"),
    ("budget = 10\n[evaluator]\nref_point = nan\n" + _ZDT1 + _NSGA2, MooValueError,
     r"ref_point must be a finite number"),
])
def test_load_suite_checks_every_cell_before_running(tmp_path, body, error, message):
    with pytest.raises(error, match=message) as info:
        load_suite(_suite(tmp_path, body))
    assert "\n" not in str(info.value)


def test_bad_suite_fails_before_the_store_is_touched(tmp_path, capsys):
    suite = _suite(tmp_path, "budget = 10\n[evaluator]\nindicators = ['hv', 'hypervol']\n" + _ZDT1 + _NSGA2)
    db = tmp_path / "never.db"
    assert main(["-q", "bench", "--suite", suite, "--store", str(db)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "hypervol" in err[0]
    assert not db.exists()  # no cell ran, nothing was created


def test_moo_list_suites_names_the_shipped_suites(capsys):
    assert main(["list", "suites"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "suites:"
    descriptions = suite_descriptions()
    assert set(descriptions) == set(suite_names()) >= {"smoke", "synthetic", "expensive", "many-objective"}
    for name, description in descriptions.items():
        assert description, name
        assert any(line.split()[0] == name and description in line for line in out[1:]), name
    with pytest.raises(MooValueError, match="Run `moo list suites`"):  # the hint names this command
        load_suite("smok")


# ---------------------------------------------------------------------------------- claims
def _stored_run(suite: str, seed: int) -> dict:
    problem = {"name": "zdt1", "options": {"n_var": 3}, "normalize": False}
    algorithm = {"name": "nsga2", "config": {"pop_size": 10}}
    rng = np.random.default_rng(seed)
    return {"cell_key": cell_key(suite, problem, algorithm, seed, 50), "suite": suite, "problem": "zdt1",
            "problem_spec": problem, "algorithm": "nsga2", "algorithm_spec": algorithm, "seed": seed, "budget": 50,
            "n_evals": 50, "wall_time": 0.1, "conventions": {}, "meta": {}, "indicators": {"hv": 0.5},
            "history": [{"step": 1, "n_evals": 50, "hv": 0.5}], "X": rng.random((3, 3)), "F": rng.random((3, 2))}


def test_a_cell_claimed_by_a_live_driver_is_not_taken(tmp_path):
    a, b = Claimant(), Claimant()
    run = _stored_run("s", 0)
    with Store(tmp_path / "runs.db") as db:
        assert db.claim(run["cell_key"], "s", a) == "claimed"
        assert db.claim(run["cell_key"], "s", a) == "claimed"  # its own again
        assert db.claim(run["cell_key"], "s", b) == "busy"
        (held,) = db.claims("s")
        assert (held["owner"], held["pid"], held["host"]) == (a.token, os.getpid(), a.host)
        assert held["claimed"] <= held["heartbeat"] <= time.time()
        db.release(run["cell_key"], b)  # not b's: nothing happens
        assert db.claim(run["cell_key"], "s", b) == "busy"
        db.release(run["cell_key"], a)
        assert db.claim(run["cell_key"], "s", b) == "claimed"
        assert db.add_run(run) is not None  # storing the run releases its claim
        assert db.claims() == []
        assert db.claim(run["cell_key"], "s", a) == "stored"


def test_claims_of_dead_or_silent_drivers_are_taken_over(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    dead = Claimant(pid=proc.pid)
    far = Claimant(host="another-host.invalid")  # its process cannot be checked: only the timeout
    me = Claimant()
    with Store(tmp_path / "runs.db") as db:
        assert db.claim("k1", "s", dead) == "claimed"
        assert db.claim("k1", "s", me) == "claimed"  # its process is gone
        assert db.claim("k2", "s", far) == "claimed"
        assert db.claim("k2", "s", me) == "busy"
        db.conn.execute("UPDATE claims SET heartbeat = heartbeat - 1000 WHERE cell_key = 'k2'")
        assert db.claim("k2", "s", me, timeout=2000) == "busy"
        assert db.claim("k2", "s", me, timeout=600) == "claimed"  # not refreshed for 1000 s
        assert {c["cell_key"]: c["owner"] for c in db.claims()} == {"k1": me.token, "k2": me.token}
        assert db.refresh_claims(me) == 2 and db.release_all(me) == 2 and db.claims() == []


def test_run_suite_leaves_claimed_cells_to_their_driver(tmp_path):
    suite = load_suite(_suite(tmp_path, TINY))
    cells = suite.cells()
    db_path = tmp_path / "runs.db"
    other = Claimant()  # another driver in a live process
    with Store(db_path) as db:
        assert db.claim(cells[0]["cell_key"], "tiny", other) == "claimed"
    summary = run_suite(suite, db_path, progress=False)
    assert (summary.n_run, summary.n_elsewhere, summary.failures) == (1, 1, [])
    with Store(db_path, readonly=True) as db:
        assert [r.seed for r in db.runs()] == [cells[1]["seed"]]
        assert [c["owner"] for c in db.claims()] == [other.token]  # this driver's claims are gone
    with Store(db_path) as db:
        db.release(cells[0]["cell_key"], other)
    again = run_suite(suite, db_path, progress=False)
    assert (again.n_skipped, again.n_run, again.n_elsewhere) == (1, 1, 0)
    with Store(db_path, readonly=True) as db:
        assert db.count("tiny") == 2 and db.claims() == []


def test_failed_cells_release_their_claims(tmp_path):
    suite = _suite(tmp_path, TINY.replace("pymoo.nsga2", "moo-svgd").replace("pop_size", "n_particles")
                   .replace("= 10", "= 1"))
    db_path = tmp_path / "runs.db"
    summary = run_suite(suite, db_path, progress=False)
    assert summary.n_run == 0 and len(summary.failures) == 2 and "n_particles" in summary.failures[0][1]
    with Store(db_path, readonly=True) as db:
        assert db.claims() == [] and db.count() == 0


_DRIVER = """
import json, os, sys, time
from pathlib import Path
from moo.bench import load_suite, run_suite
suite, store, ready, go = sys.argv[1:]
suite = load_suite(suite)
Path(ready).touch()
while not os.path.exists(go):
    time.sleep(0.01)
s = run_suite(suite, store, progress=False)
print(json.dumps({"n_run": s.n_run, "n_skipped": s.n_skipped, "n_elsewhere": getattr(s, "n_elsewhere", 0),
                  "failures": s.failures}))
"""


def test_two_drivers_on_one_store_share_the_cells(tmp_path):
    suite = _suite(tmp_path, """
        name = "shared"
        budget = 900
        seeds = 8
        [[problems]]
        name = "zdt1"
        options = { n_var = 6 }
        [[algorithms]]
        name = "pymoo.nsga2"
        config = { pop_size = 30 }
        """)
    db = tmp_path / "runs.db"
    Store(db).close()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _DRIVER, suite, str(db), str(tmp_path / f"ready{i}"), str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for i in range(2)]
    try:
        deadline = time.monotonic() + 120
        while not all((tmp_path / f"ready{i}").exists() for i in range(2)):
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), \
                [p.stderr.read() for p in procs if p.poll() is not None]
            time.sleep(0.02)
        go.touch()  # both start run_suite together
        outs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    summaries = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    assert all(s["failures"] == [] for s in summaries)
    assert sum(s["n_run"] for s in summaries) == 8, summaries  # no cell computed twice
    for s in summaries:  # every cell the other one took is accounted for
        assert s["n_run"] + s["n_skipped"] + s["n_elsewhere"] == 8, s
    conn = sqlite3.connect(db)
    counts = dict(conn.execute("SELECT cell_key, COUNT(*) FROM runs GROUP BY cell_key").fetchall())
    assert conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    conn.close()
    assert counts == {c["cell_key"]: 1 for c in load_suite(suite).cells()}


def test_version_1_store_without_claims_table_still_opens(tmp_path):
    """A store written before the claims table existed: read as it is, and gains the table (empty,
    same schema version) when opened for writing."""
    path = tmp_path / "old.db"
    with Store(path) as db:
        db.add_run(_stored_run("tiny", 5))
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE claims")
    conn.commit()
    conn.close()
    content = path.read_bytes()
    with Store(path, readonly=True) as db:
        assert db.count() == 1 and db.claims() == [] and db.runs()[0].seed == 5
    assert path.read_bytes() == content  # a read-only open changes nothing
    summary = run_suite(_suite(tmp_path, TINY), path, progress=False)
    assert summary.n_run == 2
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "claims" in tables and "moo_write_probe" not in tables
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)] == [(1,)]
    conn.close()


# ---------------------------------------------------------------------------------- read-only store
_AS_OTHER_USER = os.geteuid() == 0  # root writes anywhere: the check then runs as user nobody


@pytest.fixture
def open_dir():
    """A folder another user can enter (pytest's tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="moo-ro-"))
    path.chmod(0o755)
    yield path
    for p in [path, *path.rglob("*")]:
        p.chmod(0o777 if p.is_dir() else 0o666)
    shutil.rmtree(path)


def _run_unprivileged(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``python ARGS`` as this user, or as user nobody (65534) when this one is root."""
    prefix, kwargs = [], {}
    if _AS_OTHER_USER:
        if shutil.which("setpriv"):
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        else:
            kwargs = {"user": 65534, "group": 65534, "extra_groups": []}
    env = {**os.environ, "HOME": str(cwd), "MPLCONFIGDIR": str(cwd), "OMP_NUM_THREADS": "1"}
    try:
        done = subprocess.run([*prefix, sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=300, **kwargs)
    except PermissionError as exc:  # no right to change user here
        pytest.skip(f"cannot run as another user: {exc}")
    if _AS_OTHER_USER and done.returncode != 0 and "Permission denied" in done.stderr \
            and "moo" not in done.stderr:  # this Python cannot start as another user
        pytest.skip(f"cannot run Python as another user: {done.stderr.strip()[-200:]}")
    return done


_OPEN_STORE = """
import json, sys
from moo.store import Store
from moo.errors import MooError
out = {}
try:
    Store(sys.argv[1]).close()
    out["writable"] = "opened"
except MooError as exc:
    out["writable"] = [type(exc).__name__, str(exc)]
with Store(sys.argv[1], readonly=True) as db:
    out["count"] = db.count()
print(json.dumps(out))
"""


@pytest.mark.parametrize("how", ["file", "folder"])
def test_read_only_store_is_a_store_error_and_one_cli_line(open_dir, how):
    folder = open_dir / "stores"
    folder.mkdir()
    path = folder / "runs.db"
    with Store(path) as db:
        db.add_run(_stored_run("tiny", 3))
    content = path.read_bytes()
    if how == "file":
        path.chmod(0o444)
        folder.chmod(0o777)
    else:
        path.chmod(0o666)
        folder.chmod(0o555)
    probe = _run_unprivileged(["-c", _OPEN_STORE, str(path)], open_dir)
    assert probe.returncode == 0, probe.stderr
    out = json.loads(probe.stdout.strip().splitlines()[-1])
    assert out["count"] == 1  # still readable
    assert out["writable"] != "opened", "a store that cannot be written was opened for writing"
    kind, message = out["writable"]
    assert kind == "StoreError" and "read-only" in message and str(path) in message and "\n" not in message
    (open_dir / "tiny.toml").write_text(TINY)
    (open_dir / "tiny.toml").chmod(0o644)
    cli = _run_unprivileged(["-m", "moo.cli", "-q", "bench", "--suite", str(open_dir / "tiny.toml"),
                             "--store", str(path)], open_dir)
    lines = cli.stderr.strip().splitlines()
    assert cli.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: ") and "read-only" in lines[0], \
        cli.stderr
    assert path.read_bytes() == content


# ---------------------------------------------------------------------------------- tampered rows
@pytest.mark.parametrize("sql, message", [
    ("UPDATE runs SET problem_spec = '{not json'", r"run 1 has invalid JSON in problem_spec"),
    ("UPDATE runs SET meta = '[1, 2]'", r"run 1 has meta of JSON type list, expected an object"),
    ("UPDATE runs SET conventions = 7", r"run 1 has conventions of JSON type int, expected an object"),
    ("UPDATE runs SET algorithm_spec = x'00ff'", r"run 1 has algorithm_spec \(JSON\) b'\\x00\\xff' \(bytes\), "
                                                 r"expected text"),
    ("UPDATE runs SET seed = 'abc'", r"run 1 has seed 'abc' \(str\), expected an integer"),
    ("UPDATE runs SET seed = -4", r"run 1 has seed -4, expected an integer >= 0"),
    ("UPDATE runs SET wall_time = 'slow'", r"run 1 has wall_time 'slow' \(str\), expected a number"),
    ("UPDATE indicators SET value = 'high'", r"run 1 has indicator 'hv' 'high' \(str\), expected a number"),
    ("UPDATE history SET record = 'nope'", r"run 1 has invalid JSON in history record 0"),
    ("UPDATE fronts SET X = zeroblob(7)", r"run 1 has a front X blob of 7 bytes, expected 72"),
    ("UPDATE fronts SET n_points = n_points + 1", r"run 1 has a front X blob of 72 bytes, expected 96"),
    ("UPDATE fronts SET n_points = -1", r"run 1 has front n_points -1, expected an integer >= 0"),
    ("UPDATE fronts SET n_obj = 'two'", r"run 1 has front n_obj 'two' \(str\), expected an integer"),
    ("UPDATE fronts SET F = 'text'", r"run 1 has front F of type str, expected a blob"),
    ("DELETE FROM fronts", r"run 1 has no front"),
])
def test_tampered_rows_are_store_errors(tmp_path, sql, message):
    path = tmp_path / "runs.db"
    with Store(path) as db:
        db.add_run(_stored_run("tiny", 3))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(sql)
    conn.commit()
    conn.close()
    with Store(path, readonly=True) as db:
        assert db.count() == 1  # the store opens; reading the row names what is wrong with it
        with pytest.raises(StoreError, match=message) as info:
            db.runs()
    assert isinstance(info.value, MooError) and str(path) in str(info.value) and "\n" not in str(info.value)
