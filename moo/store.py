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

Only the benchmark drivers write; workers hand their results back to theirs. Several drivers
(``moo bench`` processes, on one host or on several sharing the file) may work on one store at
once: a driver *claims* a cell in the ``claims`` table (its owner token, pid, host and the time)
before computing it, and a cell claimed by a live driver is left to it. A claim is released when
its run is stored (in the same transaction) or fails, and when its driver ends; a claim whose
process is gone (same host) or whose driver has not refreshed it for ``timeout`` seconds (see
:data:`CLAIM_TIMEOUT_S`; drivers refresh theirs every few seconds) can be taken over.

Schema versions: the ``claims`` table is part of schema version 1. It holds no results, only
work in progress, so a version-1 store written before it existed gains it, empty, the first
time it is opened for writing (a read-only open leaves the file as it is), and a moo that does
not know the table ignores it. Tables that hold results change only with a new
:data:`SCHEMA_VERSION`, and a store of another version is refused.

Every failure to read or write the file, and every stored row that is not what this module
writes (invalid JSON, a wrong type, a front whose blob does not match its shape), raises
:class:`StoreError` naming the store and the row, never a raw ``sqlite3``/``json``/NumPy error.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from moo.errors import MooValueError

log = logging.getLogger("moo.store")

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
_CLAIMS_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    cell_key TEXT PRIMARY KEY,
    suite TEXT NOT NULL,
    owner TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    claimed REAL NOT NULL,
    heartbeat REAL NOT NULL
)"""
#: the tables a store must have; ``claims`` is created on a writable open when missing
_TABLES = {"schema_version", "runs", "indicators", "history", "fronts"}

#: seconds after which a claim that its driver has not refreshed can be taken over
CLAIM_TIMEOUT_S = 600.0
#: seconds between a driver's refreshes of its claims (:class:`ClaimKeeper`)
CLAIM_REFRESH_S = 15.0


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


def cell_key(suite: str, problem: dict, algorithm: dict, seed: int, budget: int,
             protocol: dict | None = None) -> str:
    """The identity of a cell: a hash of the suite name, the problem spec (name, options,
    normalization), the algorithm spec (name, config), the seed, the budget and the suite's
    protocol spec (when it has one)."""
    doc = {"suite": suite, "problem": problem, "algorithm": algorithm, "seed": int(seed), "budget": int(budget)}
    if protocol is not None:
        doc["protocol"] = protocol
    doc = canonical(doc)
    return hashlib.sha256(doc.encode()).hexdigest()


@dataclass(frozen=True)
class Claimant:
    """Who claims cells: a token unique to one driver (one :func:`moo.bench.run_suite` call),
    with its process id and host name for the liveness check and for people reading the table."""

    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)


def _process_alive(pid: int, host: str) -> bool:
    """Whether process ``pid`` on ``host`` may still run: ``False`` only when it is on this host
    and is gone (or a zombie); a process on another host cannot be checked (``True``)."""
    if host != socket.gethostname():
        return True
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    try:  # Linux: a killed process its parent has not reaped yet is a zombie, i.e. gone
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


class ClaimKeeper:
    """Refreshes ``owner``'s claims in the store at ``path`` every ``interval`` seconds, from a
    daemon thread with its own connection, until :meth:`stop`; so a driver busy with one long
    cell keeps it, and one that died stops refreshing and loses its claims after the timeout."""

    def __init__(self, path: str | os.PathLike, owner: Claimant, interval: float = CLAIM_REFRESH_S):
        self._uri = f"{Path(path).resolve().as_uri()}?mode=rw"
        self._owner, self._interval = owner, interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="moo-claim-keeper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = None
        try:
            while not self._stopped.wait(self._interval):
                try:
                    if conn is None:
                        conn = sqlite3.connect(self._uri, uri=True, timeout=30.0, isolation_level=None)
                    conn.execute("UPDATE claims SET heartbeat = ? WHERE owner = ?", (time.time(), self._owner.token))
                except sqlite3.Error as exc:  # the driver's own writes report real trouble
                    log.debug("could not refresh claims: %s", exc)
        finally:
            if conn is not None:
                conn.close()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


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
        self.readonly = readonly
        try:
            exists = self.path.is_file() and self.path.stat().st_size > 0
            if self.path.exists() and not self.path.is_file():
                raise StoreError(f"store path {str(self.path)!r} must be a database file, got a directory")
            if readonly and not exists:
                raise StoreError(f"store {str(self.path)!r} does not exist or is empty")
            if exists:
                self._check_header()
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot open store {str(self.path)!r}: {exc.strerror or exc}"
                             f"{f' ({exc.filename})' if exc.filename else ''}") from exc
        uri = f"{self.path.resolve().as_uri()}?mode={'ro' if readonly else 'rwc'}"
        try:
            self.conn = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise self._error(exc, "create" if not exists else "open") from exc
        if exists:
            self._check_schema()
            if not readonly:
                self._check_writable()
        else:
            try:
                self._create()
            except sqlite3.Error as exc:
                self.conn.close()
                raise self._error(exc, "create") from exc

    # ------------------------------------------------------------------ opening
    def _error(self, exc: sqlite3.Error, doing: str) -> StoreError:
        """A :class:`StoreError` for an sqlite3 error met while ``doing`` (a verb) the store."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc)
        where = f"cannot {doing} store {str(self.path)!r}"
        if name.startswith("SQLITE_READONLY") or "readonly" in text or name.startswith("SQLITE_CANTOPEN") \
                or "unable to open" in text:
            hint = ("it was opened read-only" if self.readonly else
                    "it is read-only (the file is not writable, its folder is not, or the file system is "
                    "mounted read-only): make it writable, or pass another --store path")
            return StoreError(f"{where}: {hint} ({text})")
        if name.startswith("SQLITE_BUSY") or "locked" in text:
            return StoreError(f"{where}: another process has held it locked for 30 s ({text}); try again")
        return StoreError(f"{where}: {text}")

    @contextmanager
    def _sql(self, doing: str):
        """Turn any sqlite3 error inside the block into a :class:`StoreError`."""
        try:
            yield
        except sqlite3.Error as exc:
            raise self._error(exc, doing) from exc

    def _check_writable(self) -> None:
        """Make sure a store opened for writing can be written, at once rather than after a run:
        create the ``claims`` table where an older version-1 store lacks it, else try a write
        and roll it back (the file is left as it was)."""
        try:
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                if "claims" in tables:
                    self.conn.execute("CREATE TABLE moo_write_probe (x INTEGER)")
                    self.conn.execute("ROLLBACK")
                else:
                    self.conn.execute(_CLAIMS_SCHEMA)
                    self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            self.conn.close()
            raise self._error(exc, "write to") from exc

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
            self.conn.execute(_CLAIMS_SCHEMA)
            self.conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    def _transaction(self):
        conn = self.conn

        class _Tx:
            def __enter__(self):
                conn.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, exc, tb):
                if exc_type is None:
                    conn.execute("COMMIT")
                elif conn.in_transaction:
                    conn.execute("ROLLBACK")
                return False

        return _Tx()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ claims
    def claim(self, cell_key: str, suite: str, owner: Claimant, *, timeout: float = CLAIM_TIMEOUT_S) -> str:
        """Claim the cell ``cell_key`` for ``owner``, in one transaction. Returns ``"claimed"``
        (it is ``owner``'s now: unclaimed, already ``owner``'s, or taken over from a driver that is
        gone or has not refreshed its claim for ``timeout`` seconds), ``"stored"`` (its run is in
        the store) or ``"busy"`` (a live driver holds it)."""
        now = time.time()
        with self._sql("claim a cell in"), self._transaction():
            if self.conn.execute("SELECT 1 FROM runs WHERE cell_key = ?", (cell_key,)).fetchone():
                return "stored"
            row = self.conn.execute("SELECT owner, pid, host, heartbeat FROM claims WHERE cell_key = ?",
                                    (cell_key,)).fetchone()
            if row is not None and row[0] != owner.token:
                holder, pid, host, heartbeat = row
                fresh = isinstance(heartbeat, (int, float)) and now - heartbeat < timeout
                if fresh and _process_alive(pid, host):
                    return "busy"
            self.conn.execute("INSERT OR REPLACE INTO claims (cell_key, suite, owner, pid, host, claimed, heartbeat) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (cell_key, suite, owner.token, owner.pid, owner.host, now, now))
        return "claimed"

    def release(self, cell_key: str, owner: Claimant) -> None:
        """Give up ``owner``'s claim on ``cell_key`` (a failed cell: a later run retries it)."""
        with self._sql("release a claim in"):
            self.conn.execute("DELETE FROM claims WHERE cell_key = ? AND owner = ?", (cell_key, owner.token))

    def release_all(self, owner: Claimant) -> int:
        """Give up every claim of ``owner`` (its driver ends); returns how many there were."""
        with self._sql("release claims in"):
            return self.conn.execute("DELETE FROM claims WHERE owner = ?", (owner.token,)).rowcount

    def refresh_claims(self, owner: Claimant) -> int:
        """Mark ``owner``'s claims as alive now; returns how many it holds."""
        with self._sql("refresh claims in"):
            return self.conn.execute("UPDATE claims SET heartbeat = ? WHERE owner = ?",
                                     (time.time(), owner.token)).rowcount

    def claim_holder(self, cell_key: str) -> dict | None:
        """The claim on ``cell_key`` (as in :meth:`claims`), or ``None``."""
        rows = [c for c in self.claims() if c["cell_key"] == cell_key]
        return rows[0] if rows else None

    def claims(self, suite: str | None = None) -> list[dict]:
        """The cells claimed now (of one suite, or all): ``cell_key``, ``suite``, ``owner``,
        ``pid``, ``host``, ``claimed`` and ``heartbeat`` (Unix times)."""
        cols = ("cell_key", "suite", "owner", "pid", "host", "claimed", "heartbeat")
        where, args = ("WHERE suite = ?", (suite,)) if suite is not None else ("", ())
        with self._sql("read claims from"):
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "claims" not in tables:  # an older version-1 store opened read-only
                return []
            rows = self.conn.execute(f"SELECT {', '.join(cols)} FROM claims {where} ORDER BY claimed", args).fetchall()
        return [dict(zip(cols, r)) for r in rows]

    # ------------------------------------------------------------------ writing
    def finished_keys(self, suite: str | None = None) -> set[str]:
        """The cell keys already stored (of one suite, or all)."""
        with self._sql("read"):
            if suite is None:
                rows = self.conn.execute("SELECT cell_key FROM runs").fetchall()
            else:
                rows = self.conn.execute("SELECT cell_key FROM runs WHERE suite = ?", (suite,)).fetchall()
        return {r[0] for r in rows}

    def add_run(self, run: dict) -> int | None:
        """Store one finished run in one transaction; returns its id, or ``None`` when the cell
        was already stored (the stored run is kept). Any claim on the cell is released in the
        same transaction.

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
        with self._sql("write a run to"), self._transaction():
            self.conn.execute("DELETE FROM claims WHERE cell_key = ?", (run["cell_key"],))
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
        with self._sql("read"):
            return [r[0] for r in self.conn.execute("SELECT DISTINCT suite FROM runs ORDER BY suite").fetchall()]

    def count(self, suite: str | None = None) -> int:
        """Number of stored runs (of one suite, or all)."""
        with self._sql("read"):
            if suite is None:
                return self.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
            return self.conn.execute("SELECT COUNT(*) FROM runs WHERE suite = ?", (suite,)).fetchone()[0]

    def runs(self, suite: str | None = None) -> list[StoredRun]:
        """Every stored run (of one suite, or all), ordered by problem, algorithm and seed.

        A row that is not what :meth:`add_run` writes (tampered with or damaged) raises
        :class:`StoreError` naming the run and the column."""
        where, args = ("WHERE suite = ?", (suite,)) if suite is not None else ("", ())
        with self._sql("read"):
            rows = self.conn.execute(
                "SELECT id, cell_key, suite, problem, problem_spec, algorithm, algorithm_spec, seed, budget, n_evals, "
                f"wall_time, conventions, meta FROM runs {where} ORDER BY suite, problem, algorithm, seed, id", args
            ).fetchall()
            out = []
            for r in rows:
                run_id = r[0]
                indicators = self.conn.execute("SELECT name, value FROM indicators WHERE run_id = ? ORDER BY name",
                                               (run_id,)).fetchall()
                history = self.conn.execute("SELECT record FROM history WHERE run_id = ? ORDER BY step",
                                            (run_id,)).fetchall()
                front = self.conn.execute("SELECT n_points, n_var, n_obj, X, F FROM fronts WHERE run_id = ?",
                                          (run_id,)).fetchone()
                out.append(self._decode_run(r, indicators, history, front))
        return out

    # ------------------------------------------------------------------ checking rows
    def _bad(self, run_id, what: str) -> StoreError:
        return StoreError(f"store {str(self.path)!r}: run {run_id!r} {what}; the row was changed outside moo or "
                          "damaged (delete that run, or re-run the suite into a new store)")

    def _text(self, value, run_id, column: str) -> str:
        if not isinstance(value, str):
            raise self._bad(run_id, f"has {column} {value!r} ({type(value).__name__}), expected text")
        return value

    def _int(self, value, run_id, column: str, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(run_id, f"has {column} {value!r} ({type(value).__name__}), expected an integer")
        if minimum is not None and value < minimum:
            raise self._bad(run_id, f"has {column} {value}, expected an integer >= {minimum}")
        return value

    def _real(self, value, run_id, column: str, nullable: bool = False) -> float | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._bad(run_id, f"has {column} {value!r} ({type(value).__name__}), expected a number")
        return float(value)

    def _json(self, text, run_id, column: str, kind: type = dict):
        text = self._text(text, run_id, f"{column} (JSON)")
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise self._bad(run_id, f"has invalid JSON in {column} ({exc})") from None
        if not isinstance(value, kind):
            raise self._bad(run_id, f"has {column} of JSON type {type(value).__name__}, expected "
                                    f"{'an object' if kind is dict else kind.__name__}")
        return value

    def _matrix(self, blob, run_id, column: str, n: int, k: int) -> np.ndarray:
        if not isinstance(blob, bytes):
            raise self._bad(run_id, f"has front {column} of type {type(blob).__name__}, expected a blob")
        if len(blob) != n * k * 8:
            raise self._bad(run_id, f"has a front {column} blob of {len(blob)} bytes, expected {n * k * 8} "
                                    f"(n_points {n} x {k} float64 values)")
        return np.frombuffer(blob, dtype="<f8").reshape(n, k).copy()

    def _decode_run(self, r, indicators, history, front) -> StoredRun:
        run_id = r[0]
        values = {}
        for name, value in indicators:
            values[self._text(name, run_id, "an indicator name")] = self._real(value, run_id, f"indicator {name!r}",
                                                                             nullable=True)
        records = [self._json(h[0], run_id, f"history record {i}") for i, h in enumerate(history)]
        if front is None:
            raise self._bad(run_id, "has no front (no row in the fronts table)")
        n = self._int(front[0], run_id, "front n_points", 0)
        d = self._int(front[1], run_id, "front n_var", 0)
        m = self._int(front[2], run_id, "front n_obj", 0)
        return StoredRun(
            id=self._int(run_id, run_id, "id"), cell_key=self._text(r[1], run_id, "cell_key"),
            suite=self._text(r[2], run_id, "suite"), problem=self._text(r[3], run_id, "problem"),
            problem_spec=self._json(r[4], run_id, "problem_spec"), algorithm=self._text(r[5], run_id, "algorithm"),
            algorithm_spec=self._json(r[6], run_id, "algorithm_spec"), seed=self._int(r[7], run_id, "seed", 0),
            budget=self._int(r[8], run_id, "budget", 1), n_evals=self._int(r[9], run_id, "n_evals", 0),
            wall_time=self._real(r[10], run_id, "wall_time"), conventions=self._json(r[11], run_id, "conventions"),
            meta=self._json(r[12], run_id, "meta"), indicators=values, history=records,
            X=self._matrix(front[3], run_id, "X", n, d), F=self._matrix(front[4], run_id, "F", n, m))
