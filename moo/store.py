"""The benchmark result store: one embedded SQLite database (stdlib :mod:`sqlite3`).

A store holds finished benchmark runs, one row per *cell* (suite, problem with its options,
algorithm with its config, seed, budget), with the run's metadata, its indicator values, its
history and its final front. Each run is written in a single transaction, so a run is either
stored whole or not at all: a suite killed at any moment (even by SIGKILL) resumes by skipping
the cells already stored, and no cell is stored twice (the cell key is ``UNIQUE``).

The file identifies itself: ``PRAGMA application_id`` is :data:`APPLICATION_ID` and the
``schema_version`` table holds :data:`SCHEMA_VERSION`. A file that is not SQLite, or an SQLite
database written by something else, raises :class:`StoreError` and is left untouched; only an
empty (zero-byte or absent) file is initialised.

Only one process writes (the benchmark driver); workers hand their results back to it.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moo.errors import MooValueError

APPLICATION_ID = 0x6D6F6F62  # "moob"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    cell_key TEXT NOT NULL UNIQUE,
    suite TEXT NOT NULL,
    problem TEXT NOT NULL,
    problem_spec TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    algorithm_spec TEXT NOT NULL,
    seed INTEGER NOT NULL,
    budget INTEGER NOT NULL,
    n_evals INTEGER NOT NULL,
    wall_time REAL NOT NULL,
    conventions TEXT NOT NULL,
    meta TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX runs_suite ON runs (suite, problem, algorithm);
CREATE TABLE indicators (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    name TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, name)
);
CREATE TABLE history (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    step INTEGER NOT NULL,
    n_evals INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
);
CREATE TABLE fronts (
    run_id INTEGER PRIMARY KEY REFERENCES runs (id),
    n_points INTEGER NOT NULL,
    n_var INTEGER NOT NULL,
    n_obj INTEGER NOT NULL,
    X BLOB NOT NULL,
    F BLOB NOT NULL
);
"""
_TABLES = {"schema_version", "runs", "indicators", "history", "fronts"}


class StoreError(MooValueError):
    """A store file is corrupt, foreign, of another schema version, or a run is malformed."""


def canonical(obj) -> str:
    """Canonical JSON (sorted keys, no spaces) used in cell keys and stored specs."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def cell_key(suite: str, problem: dict, algorithm: dict, seed: int, budget: int) -> str:
    """The identity of a cell: a hash of the suite name, the problem spec (name, options,
    normalization), the algorithm spec (name, config), the seed and the budget."""
    doc = canonical({"suite": suite, "problem": problem, "algorithm": algorithm,
                     "seed": int(seed), "budget": int(budget)})
    return hashlib.sha256(doc.encode()).hexdigest()


@dataclass
class StoredRun:
    """One run read back from the store (arrays as float64 NumPy matrices)."""

    id: int
    cell_key: str
    suite: str
    problem: str
    problem_spec: dict
    algorithm: str
    algorithm_spec: dict
    seed: int
    budget: int
    n_evals: int
    wall_time: float
    conventions: dict
    meta: dict
    indicators: dict
    history: list
    X: np.ndarray
    F: np.ndarray


class Store:
    """An open benchmark store. Use as a context manager or call :meth:`close`.

    Args:
        path: the database file; created (with its folder) when absent or empty.
        readonly: open for reading only; the file must exist.
    """

    def __init__(self, path: str | os.PathLike, *, readonly: bool = False):
        self.path = Path(path)
        exists = self.path.is_file() and self.path.stat().st_size > 0
        if self.path.exists() and not self.path.is_file():
            raise StoreError(f"store path {str(self.path)!r} must be a database file, got a directory")
        if readonly and not exists:
            raise StoreError(f"store {str(self.path)!r} does not exist or is empty")
        if exists:
            self._check_header()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        uri = f"{self.path.resolve().as_uri()}?mode={'ro' if readonly else 'rwc'}"
        self.conn = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None)
        self.conn.execute("PRAGMA foreign_keys = ON")
        if exists:
            self._check_schema()
        else:
            self._create()

    # ------------------------------------------------------------------ opening
    def _check_header(self) -> None:
        """Reject a file that is not SQLite before sqlite3 touches it."""
        with open(self.path, "rb") as fh:
            head = fh.read(100)
        if not head.startswith(b"SQLite format 3\x00"):
            raise StoreError(f"{str(self.path)!r} is not a moo benchmark store: it is not an SQLite database "
                             "(corrupt or another kind of file); it was left untouched. "
                             "Pass another --store path.")
        app_id = int.from_bytes(head[68:72], "big")
        if app_id != APPLICATION_ID:
            raise StoreError(f"{str(self.path)!r} is an SQLite database of another application "
                             f"(application_id {app_id:#x}, expected {APPLICATION_ID:#x} for a moo store); "
                             "it was left untouched. Pass another --store path.")

    def _check_schema(self) -> None:
        try:
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = self.conn.execute("SELECT version FROM schema_version").fetchone() \
                if "schema_version" in tables else None
            check = self.conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(check)
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise StoreError(f"{str(self.path)!r} is a corrupt moo store ({exc}); it was left untouched") from exc
        if not _TABLES <= tables or version is None:
            self.conn.close()
            raise StoreError(f"{str(self.path)!r} is not a complete moo store: tables {sorted(_TABLES - tables)} "
                             "are missing; it was left untouched")
        if version[0] != SCHEMA_VERSION:
            self.conn.close()
            raise StoreError(f"{str(self.path)!r} has store schema version {version[0]}, this moo reads "
                             f"version {SCHEMA_VERSION}")

    def _create(self) -> None:
        with self._transaction():
            self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)
            self.conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    def _transaction(self):
        conn = self.conn

        class _Tx:
            def __enter__(self):
                conn.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, exc, tb):
                conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
                return False

        return _Tx()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ writing
    def finished_keys(self, suite: str | None = None) -> set[str]:
        """The cell keys already stored (of one suite, or all)."""
        if suite is None:
            rows = self.conn.execute("SELECT cell_key FROM runs")
        else:
            rows = self.conn.execute("SELECT cell_key FROM runs WHERE suite = ?", (suite,))
        return {r[0] for r in rows}

    def add_run(self, run: dict) -> int | None:
        """Store one finished run in one transaction; returns its id, or ``None`` when the cell
        was already stored (the stored run is kept).

        ``run`` is the dict that :func:`moo.bench.run_cell` returns: ``cell_key``, ``suite``,
        ``problem``, ``problem_spec``, ``algorithm``, ``algorithm_spec``, ``seed``, ``budget``,
        ``n_evals``, ``wall_time``, ``conventions``, ``meta``, ``indicators``, ``history``,
        ``X`` and ``F`` (float64 matrices).
        """
        missing = sorted({"cell_key", "suite", "problem", "problem_spec", "algorithm", "algorithm_spec", "seed",
                          "budget", "n_evals", "wall_time", "conventions", "meta", "indicators", "history",
                          "X", "F"} - set(run))
        if missing:
            raise StoreError(f"run is missing the fields {missing}")
        X = np.ascontiguousarray(run["X"], dtype="<f8")
        F = np.ascontiguousarray(run["F"], dtype="<f8")
        if X.ndim != 2 or F.ndim != 2 or X.shape[0] != F.shape[0]:
            raise StoreError(f"run front must be X [n, d] and F [n, m] with the same n, got {X.shape} and {F.shape}")
        with self._transaction():
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO runs (cell_key, suite, problem, problem_spec, algorithm, algorithm_spec, "
                "seed, budget, n_evals, wall_time, conventions, meta, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run["cell_key"], run["suite"], run["problem"], canonical(run["problem_spec"]), run["algorithm"],
                 canonical(run["algorithm_spec"]), int(run["seed"]), int(run["budget"]), int(run["n_evals"]),
                 float(run["wall_time"]), canonical(run["conventions"]), canonical(run["meta"]), time.time()))
            if cur.rowcount == 0:
                return None
            run_id = cur.lastrowid
            self.conn.executemany("INSERT INTO indicators (run_id, name, value) VALUES (?, ?, ?)",
                                  [(run_id, k, None if v is None else float(v)) for k, v in run["indicators"].items()])
            self.conn.executemany("INSERT INTO history (run_id, step, n_evals, record) VALUES (?, ?, ?, ?)",
                                  [(run_id, i, int(rec["n_evals"]), canonical(rec))
                                   for i, rec in enumerate(run["history"])])
            self.conn.execute("INSERT INTO fronts (run_id, n_points, n_var, n_obj, X, F) VALUES (?, ?, ?, ?, ?, ?)",
                              (run_id, F.shape[0], X.shape[1], F.shape[1], X.tobytes(), F.tobytes()))
        return run_id

    # ------------------------------------------------------------------ reading
    def suites(self) -> list[str]:
        """The suite names with stored runs."""
        return [r[0] for r in self.conn.execute("SELECT DISTINCT suite FROM runs ORDER BY suite")]

    def count(self, suite: str | None = None) -> int:
        """Number of stored runs (of one suite, or all)."""
        if suite is None:
            return self.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        return self.conn.execute("SELECT COUNT(*) FROM runs WHERE suite = ?", (suite,)).fetchone()[0]

    def runs(self, suite: str | None = None) -> list[StoredRun]:
        """Every stored run (of one suite, or all), ordered by problem, algorithm and seed."""
        where, args = ("WHERE suite = ?", (suite,)) if suite is not None else ("", ())
        rows = self.conn.execute(
            "SELECT id, cell_key, suite, problem, problem_spec, algorithm, algorithm_spec, seed, budget, n_evals, "
            f"wall_time, conventions, meta FROM runs {where} ORDER BY suite, problem, algorithm, seed, id", args
        ).fetchall()
        out = []
        for r in rows:
            run_id = r[0]
            indicators = dict(self.conn.execute("SELECT name, value FROM indicators WHERE run_id = ? ORDER BY name",
                                                (run_id,)).fetchall())
            history = [json.loads(h[0]) for h in self.conn.execute(
                "SELECT record FROM history WHERE run_id = ? ORDER BY step", (run_id,))]
            n, d, m, xb, fb = self.conn.execute("SELECT n_points, n_var, n_obj, X, F FROM fronts WHERE run_id = ?",
                                                (run_id,)).fetchone()
            out.append(StoredRun(
                id=run_id, cell_key=r[1], suite=r[2], problem=r[3], problem_spec=json.loads(r[4]), algorithm=r[5],
                algorithm_spec=json.loads(r[6]), seed=r[7], budget=r[8], n_evals=r[9], wall_time=r[10],
                conventions=json.loads(r[11]), meta=json.loads(r[12]), indicators=indicators, history=history,
                X=np.frombuffer(xb, dtype="<f8").reshape(n, d).copy(),
                F=np.frombuffer(fb, dtype="<f8").reshape(n, m).copy()))
        return out
