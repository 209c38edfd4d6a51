"""The SQLite result store: round trip, one transaction per run, no duplicates, and clear errors
for corrupt, foreign or other-version files that are left untouched."""
import sqlite3

import numpy as np
import pytest

from moo.errors import MooError, MooValueError
from moo.store import APPLICATION_ID, SCHEMA_VERSION, Store, StoreError, cell_key


def _run(key_seed: int = 0, **overrides) -> dict:
    rng = np.random.default_rng(key_seed)
    problem = {"name": "zdt1", "options": {"n_var": 3}, "normalize": False}
    algorithm = {"name": "nsga2", "config": {"pop_size": 10}}
    run = {
        "cell_key": cell_key("s", problem, algorithm, key_seed, 50), "suite": "s", "problem": "zdt1",
        "problem_spec": problem, "algorithm": "nsga2", "algorithm_spec": algorithm, "seed": key_seed, "budget": 50,
        "n_evals": 50, "wall_time": 0.25, "conventions": {"ref_point": [1.1, 1.1]}, "meta": {"seed": key_seed},
        "indicators": {"hv": 0.5 + key_seed, "igd_plus": None},
        "history": [{"step": 1, "n_evals": 10, "time": 0.1, "hv": 0.2}, {"step": 2, "n_evals": 50, "time": 0.2, "hv": 0.5}],
        "X": rng.random((4, 3)), "F": rng.random((4, 2)),
    }
    run.update(overrides)
    return run


def test_round_trip_keeps_every_field(tmp_path):
    path = tmp_path / "runs.db"
    runs = [_run(0), _run(1)]
    with Store(path) as db:
        ids = [db.add_run(r) for r in runs]
        assert all(isinstance(i, int) for i in ids)
    with Store(path, readonly=True) as db:
        assert db.suites() == ["s"] and db.count("s") == 2 and db.count("other") == 0
        back = db.runs("s")
        assert db.finished_keys("s") == {r["cell_key"] for r in runs}
    for src, got in zip(runs, back):
        assert got.cell_key == src["cell_key"] and got.seed == src["seed"]
        assert got.problem_spec == src["problem_spec"] and got.algorithm_spec == src["algorithm_spec"]
        assert got.indicators == src["indicators"]  # None survives as NULL
        assert got.history == src["history"] and got.conventions == src["conventions"]
        np.testing.assert_array_equal(got.X, src["X"])  # bit-exact float64
        np.testing.assert_array_equal(got.F, src["F"])


def test_cell_stored_once(tmp_path):
    with Store(tmp_path / "runs.db") as db:
        assert db.add_run(_run(0)) is not None
        assert db.add_run(_run(0, wall_time=9.0)) is None  # same cell: kept as first stored
        assert db.count() == 1
        assert db.runs()[0].wall_time == 0.25
        assert db.conn.execute("SELECT COUNT(*) FROM history").fetchone()[0] == 2


def test_cell_key_depends_on_every_part():
    p, a = {"name": "zdt1", "options": {}, "normalize": False}, {"name": "nsga2", "config": {"pop_size": 10}}
    base = cell_key("s", p, a, 0, 100)
    assert base == cell_key("s", dict(reversed(list(p.items()))), a, 0, 100)  # key order does not matter
    variants = [cell_key("t", p, a, 0, 100), cell_key("s", {**p, "options": {"n_var": 5}}, a, 0, 100),
                cell_key("s", p, {**a, "config": {"pop_size": 20}}, 0, 100), cell_key("s", p, a, 1, 100),
                cell_key("s", p, a, 0, 200), cell_key("s", {**p, "normalize": True}, a, 0, 100)]
    assert len({base, *variants}) == 7


def test_failed_write_leaves_nothing(tmp_path):
    with Store(tmp_path / "runs.db") as db:
        bad = _run(0, history=[{"step": 1, "time": 0.1}])  # no n_evals: fails after the runs row is inserted
        with pytest.raises(KeyError):
            db.add_run(bad)
        assert db.count() == 0
        assert db.conn.execute("SELECT COUNT(*) FROM indicators").fetchone()[0] == 0
        assert db.add_run(_run(0)) is not None  # the cell is free again


def test_malformed_run_is_rejected(tmp_path):
    with Store(tmp_path / "runs.db") as db:
        run = _run(0)
        del run["F"]
        with pytest.raises(StoreError, match="missing the fields"):
            db.add_run(run)
        with pytest.raises(StoreError, match="same n"):
            db.add_run(_run(0, F=np.zeros((3, 2))))


def _assert_untouched(path, content: bytes) -> None:
    assert path.read_bytes() == content
    assert not (path.parent / (path.name + "-journal")).exists()


def test_corrupt_file_raises_and_is_untouched(tmp_path):
    path = tmp_path / "runs.db"
    content = b"this is a text file, not a database\n" * 20
    path.write_bytes(content)
    with pytest.raises(StoreError, match="not an SQLite database") as info:
        Store(path)
    assert isinstance(info.value, MooError) and isinstance(info.value, ValueError)
    _assert_untouched(path, content)


def test_truncated_store_raises_and_is_untouched(tmp_path):
    path = tmp_path / "runs.db"
    with Store(path) as db:
        for seed in range(30):
            db.add_run(_run(seed, X=np.zeros((200, 3)), F=np.zeros((200, 2))))
    content = path.read_bytes()[: len(path.read_bytes()) // 2]  # header intact, pages lost
    path.write_bytes(content)
    with pytest.raises(StoreError, match="corrupt"):
        Store(path)
    _assert_untouched(path, content)


def test_foreign_sqlite_database_raises_and_is_untouched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE runs (id INTEGER, payload TEXT)")
    conn.execute("INSERT INTO runs VALUES (1, 'theirs')")
    conn.commit()
    conn.close()
    content = path.read_bytes()
    with pytest.raises(StoreError, match="another application"):
        Store(path)
    _assert_untouched(path, content)


def test_other_schema_version_raises(tmp_path):
    path = tmp_path / "runs.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}"):
        Store(path)


def test_new_store_identifies_itself(tmp_path):
    path = tmp_path / "sub" / "runs.db"
    Store(path).close()  # creates the folder too
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    conn.close()
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    Store(empty).close()  # a zero-byte file is initialised, not refused
    with pytest.raises(MooValueError, match="does not exist"):
        Store(tmp_path / "absent.db", readonly=True)
    with pytest.raises(StoreError, match="directory"):
        Store(tmp_path)
