"""Opening stored data never runs code; a run folder is never damaged by a failed or concurrent
run; every corrupt or missing file is a named moo error (and one ``error:`` line on the CLI)."""
import json
import uuid

import numpy as np
import pytest
import torch

import moo
import moo.report
from moo.cli import main
from moo.errors import FormatError, MooError, RunFolderError, UntrustedSpecError
from moo.run_folder import FolderLock, problem_fingerprint
from moo.store import Store, cell_key
from toy_problems import Interrupt, Schaffer, interrupt_at


def solve(out=None, seed=0, budget=30, problem=None, **kw):
    return moo.solve(problem or Schaffer(2), kw.pop("algorithm", "pymoo.nsga2"), budget=budget, seed=seed,
                     device=kw.pop("device", "cpu"), progress=False, out=out, **{"pop_size": 10, **kw})


def cli(capsys, *argv):
    code = main(["-q", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


# ------------------------------------------------------------------ 1. opening data never runs code
@pytest.fixture
def evil(tmp_path, monkeypatch):
    """A user module that leaves a marker file when imported; returns (module name, marker)."""
    name = f"evil_{uuid.uuid4().hex[:8]}"
    marker = tmp_path / f"{name}.imported"
    code = (f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
            "from toy_problems import Schaffer as Thing\n"
            "from moo.algorithms.peers import PymooNSGA2 as Alg\n")
    mod_dir = tmp_path / "mods"
    mod_dir.mkdir()
    (mod_dir / f"{name}.py").write_text(code)
    monkeypatch.syspath_prepend(str(mod_dir))
    return name, marker


def _plant(folder, problem_name=None, algorithm_name=None):
    """Rewrite a finished run's stored names, as someone handing over a folder could."""
    for fname in ("result.json", "run.json"):
        if not (folder / fname).exists():
            continue
        doc = json.loads((folder / fname).read_text())
        meta = doc["meta"] if fname == "result.json" else doc
        key = "problem_spec" if fname == "result.json" else "problem"
        if problem_name:
            meta[key] = {"name": problem_name, "options": {}, "normalize": False}
        if algorithm_name:
            meta["algorithm"]["name"] = algorithm_name
        (folder / fname).write_text(json.dumps(doc))


def test_stored_module_names_are_not_imported_without_consent(tmp_path, evil, capsys):
    name, marker = evil
    run = tmp_path / "run"
    solve(run, problem=moo.get_problem("zdt1", n_var=3))
    _plant(run, problem_name=f"{name}:Thing")
    result = moo.Result.load(run)  # loading is data only
    with pytest.raises(UntrustedSpecError, match=rf"{name}:Thing.*trust=True \(command line: --trust\)"):
        result.problem()
    with pytest.warns(UserWarning, match="reference front not drawn"):
        result.plot(tmp_path / "front.png")
    code, err = cli(capsys, "plot", str(run))
    assert code == 0 and not marker.exists()
    (run / "result.json").unlink()  # an unfinished run: resume must rebuild the problem
    code, err = cli(capsys, "resume", str(run))
    assert code == 2 and len(err) == 1 and err[0].startswith("error:") and "--trust" in err[0]
    with pytest.raises(UntrustedSpecError):
        moo.resume(run)
    assert not marker.exists()
    # the classic attack: a stored name that is a callable of the standard library
    _plant(run, problem_name="os:system")
    with pytest.raises(UntrustedSpecError, match="'os:system'"):
        moo.resume(run)


def test_stored_algorithm_names_are_not_imported_without_consent(tmp_path, evil, capsys):
    name, marker = evil
    run = tmp_path / "run"
    solve(run, problem=moo.get_problem("zdt1", n_var=3))
    _plant(run, algorithm_name=f"{name}:Alg")
    (run / "result.json").unlink()
    with pytest.raises(UntrustedSpecError, match=f"algorithm '{name}:Alg'"):
        moo.resume(run)
    code, err = cli(capsys, "sample", str(run), "--pref", "0.5,0.5")
    assert code == 2 and len(err) == 1
    assert not marker.exists()
    # with consent the user's own code is imported and the run finishes
    resumed = moo.resume(run, trust=True)
    assert marker.exists() and resumed.n_evals == 30


def test_a_store_row_naming_user_code_is_not_imported_by_the_report(tmp_path, evil):
    name, marker = evil
    pspec = {"name": f"{name}:Thing", "options": {}, "normalize": False}
    aspec = {"name": "nsga2", "config": {}}
    with Store(tmp_path / "runs.db") as db:
        for seed in (0, 1):
            X = np.random.default_rng(seed).random((5, 2))
            db.add_run({"cell_key": cell_key("s", pspec, aspec, seed, 10), "suite": "s", "problem": "p",
                        "problem_spec": pspec, "algorithm": "a", "algorithm_spec": aspec, "seed": seed,
                        "budget": 10, "n_evals": 10, "wall_time": 1.0, "conventions": {}, "meta": {},
                        "indicators": {"hv": 0.5 + seed}, "history": [], "X": X, "F": X})
    moo.report.write_report(tmp_path / "runs.db", tmp_path / "report")
    assert (tmp_path / "report" / "report.md").exists() and not marker.exists()
    moo.report.write_report(tmp_path / "runs.db", tmp_path / "report2", trust=True)
    assert marker.exists()


def test_stored_options_must_be_plain_data_of_the_right_type(tmp_path):
    run = tmp_path / "run"
    solve(run, problem=moo.get_problem("zdt1", n_var=3))
    (run / "result.json").unlink()
    spec = json.loads((run / "run.json").read_text())
    spec["algorithm"]["config"]["pop_size"] = "x"  # would reach pymoo's Cython
    (run / "run.json").write_text(json.dumps(spec))
    with pytest.raises(MooError, match="pop_size"):
        moo.resume(run)


# ------------------------------------------------------------------ 2. a run folder is never damaged
def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and p.name != ".lock"}


@pytest.mark.parametrize("bad", [{"device": "cuda:7"}, {"device": "tpu"}, {"seed": 1.7}, {"seed": -1},
                                 {"budget": 0}, {"lr": "fast"}, {"pop_size": "x"}, {"problem": "zdt99"}])
def test_a_failed_rerun_leaves_a_finished_result_intact(tmp_path, bad):
    run = tmp_path / "run"
    solve(run)
    before = _snapshot(run)
    with pytest.raises(MooError):
        solve(run, **bad)
    assert _snapshot(run) == before
    assert moo.Result.load(run).n_evals == 30


def test_bad_input_creates_no_folder(tmp_path):
    for bad in ({"device": "cuda:7"}, {"seed": 1.7}, {"pop_size": -3}):
        with pytest.raises(MooError):
            solve(tmp_path / "fresh", **bad)
        assert not (tmp_path / "fresh").exists()


def test_a_finished_result_is_replaced_only_when_asked(tmp_path, capsys):
    run = tmp_path / "run"
    first = solve(run, seed=0)
    with pytest.raises(RunFolderError, match="holds a finished result.*overwrite=True"):
        solve(run, seed=1)
    assert torch.equal(moo.Result.load(run).F_all, first.F_all)
    second = solve(run, seed=1, overwrite=True)
    assert torch.equal(moo.Result.load(run).F_all, second.F_all) and not torch.equal(first.F_all, second.F_all)
    code, err = cli(capsys, "solve", "--problem", "zdt1", "--algorithm", "nsga2", "--budget", "20",
                    "--out", str(run), "--device", "cpu")
    assert code == 2 and "--overwrite" in err[0]
    assert cli(capsys, "solve", "--problem", "zdt1", "--algorithm", "nsga2", "--budget", "20",
               "--out", str(run), "--device", "cpu", "--overwrite")[0] == 0


def test_an_unfinished_run_is_not_started_over_silently(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(Interrupt):
        solve(run, budget=60, checkpoint_every=1, callbacks=[interrupt_at(2)])
    with pytest.raises(RunFolderError, match="unfinished run.*moo resume"):
        solve(run, budget=60)
    assert (run / "checkpoint.pt").exists()


def test_a_second_run_into_a_locked_folder_fails_at_once(tmp_path):
    run = tmp_path / "run"
    seen = []

    def second_run(rec):
        if rec["step"] == 1:
            with pytest.raises(RunFolderError, match="another run .* is writing"):
                solve(run, overwrite=True)
            with pytest.raises(RunFolderError, match="another run"):
                moo.resume(run, problem=Schaffer(2))
            seen.append(rec["step"])

    result = solve(run, budget=40, callbacks=[second_run])
    assert seen == [1] and moo.Result.load(run).n_evals == 40 == result.n_evals
    with FolderLock(run):  # the lock is released when the run ends
        pass


def test_temporary_files_do_not_collide_with_stale_ones(tmp_path):
    """Fixed temporary names (``result.json.tmp``) break when a stale one is in the way."""
    run = tmp_path / "run"
    run.mkdir()
    for stale in ("result.json.tmp", "arrays.npz.tmp.npz", "checkpoint.pt.tmp", "run.json.tmp"):
        (run / stale).mkdir()
    solve(run, budget=30, checkpoint_every=1)
    assert moo.Result.load(run).n_evals == 30
    assert not [p for p in run.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]


class Shifted(Schaffer):
    """Same name, dimensions and bounds as Schaffer; other objective values."""

    def _evaluate(self, X):
        return super()._evaluate(X) + 0.5


def test_resume_refuses_a_problem_that_does_not_match_the_run(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(Interrupt):
        solve(run, budget=60, checkpoint_every=1, callbacks=[interrupt_at(2)])
    with pytest.raises(RunFolderError, match="n_var: stored 2, now 3"):
        moo.resume(run, problem=Schaffer(3))
    with pytest.raises(RunFolderError, match="objective values at fixed points differ"):
        moo.resume(run, problem=Shifted(2))
    assert moo.resume(run, problem=Schaffer(2), progress=False).n_evals == 60


def test_the_fingerprint_does_not_count_evaluations_and_records_what_the_issue_names():
    p = moo.get_problem("zdt1", n_var=4)
    fp = problem_fingerprint(p)
    assert p.n_evals == 0
    assert {"name", "options", "n_var", "n_obj", "bounds", "values_sha256"} <= set(fp)
    assert fp != problem_fingerprint(moo.get_problem("zdt2", n_var=4))
    assert fp == problem_fingerprint(moo.get_problem("zdt1", n_var=4))


def _interrupted(run, **kw):
    with pytest.raises(Interrupt):
        solve(run, budget=60, checkpoint_every=1, callbacks=[interrupt_at(2)], **kw)


def _edit_checkpoint(run, **changes):
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    ckpt.update(changes)
    torch.save(ckpt, run / "checkpoint.pt")


def test_unknown_format_versions_are_refused(tmp_path):
    run = tmp_path / "run"
    _interrupted(run)
    _edit_checkpoint(run, format=99)
    with pytest.raises(FormatError, match="format version 99"):
        moo.resume(run, problem=Schaffer(2))
    spec = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**spec, "format": 2}))
    with pytest.raises(FormatError, match="run spec .* format version 2"):
        moo.resume(run, problem=Schaffer(2))
    done = tmp_path / "done"
    solve(done)
    doc = json.loads((done / "result.json").read_text())
    (done / "result.json").write_text(json.dumps({**doc, "format": 7}))
    with pytest.raises(FormatError, match="format version 7"):
        moo.Result.load(done)


def test_archives_whose_shapes_disagree_are_refused(tmp_path):
    run = tmp_path / "run"
    _interrupted(run)
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    _edit_checkpoint(run, archive_F=ckpt["archive_F"][:-3])
    with pytest.raises(FormatError, match="one row per point"):
        moo.resume(run, problem=Schaffer(2))
    _edit_checkpoint(run, archive_F=torch.zeros(ckpt["archive_X"].shape[0], 3, dtype=torch.float64))
    with pytest.raises(FormatError, match="3 objectives per point, but the problem has 2"):
        moo.resume(run, problem=Schaffer(2))
    done = tmp_path / "done"
    solve(done)
    with np.load(done / "arrays.npz") as a:
        arrays = dict(a)
    np.savez(done / "arrays.npz", **{**arrays, "F_all": arrays["F_all"][:5]})
    with pytest.raises(FormatError, match="one row per point"):
        moo.Result.load(done)
    np.savez(done / "arrays.npz", **{**arrays, "X": np.zeros((arrays["X"].shape[0], 5))})
    with pytest.raises(FormatError, match="5 variables per point, but the problem has 2"):
        moo.Result.load(done)


class Counting(Schaffer):
    calls = 0

    def _evaluate(self, X):
        Counting.calls += X.shape[0]
        return super()._evaluate(X)


def test_resume_of_a_finished_run_returns_its_result_without_evaluating(tmp_path, caplog):
    run = tmp_path / "run"
    done = solve(run, budget=40)  # no checkpoint was written
    Counting.calls = 0
    with caplog.at_level("WARNING", logger="moo"):
        again = moo.resume(run, problem=Counting(2))
    assert Counting.calls == 0 and torch.equal(again.F_all, done.F_all)
    assert any("already finished" in r.message for r in caplog.records)


# ------------------------------------------------------------------ 3. named errors for corrupt files
def _truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


def _corruptions():
    def edit_json(name, fn):
        def go(run):
            doc = json.loads((run / name).read_text())
            fn(doc)
            (run / name).write_text(json.dumps(doc))
        return go

    return {
        "truncated result.json": lambda run: _truncate(run / "result.json"),
        "invalid result.json": lambda run: (run / "result.json").write_text("{not json"),
        "result.json is a list": lambda run: (run / "result.json").write_text("[1, 2]"),
        "result.json without meta": edit_json("result.json", lambda d: d.pop("meta")),
        "result.json with a text seed": edit_json("result.json", lambda d: d["meta"].update(seed="zero")),
        "history with a text hv": edit_json("result.json", lambda d: d["history"][0].update(hv="big")),
        "missing arrays.npz": lambda run: (run / "arrays.npz").unlink(),
        "truncated arrays.npz": lambda run: _truncate(run / "arrays.npz"),
        "arrays.npz without F": lambda run: np.savez(run / "arrays.npz", X=np.zeros((1, 2))),
        "arrays.npz with an object array": lambda run: np.savez(run / "arrays.npz", X=np.array([{}], dtype=object),
                                                                F=np.zeros((1, 2)), X_all=np.zeros((1, 2)),
                                                                F_all=np.zeros((1, 2))),
        "missing model.pt": edit_json("result.json", lambda d: d.update(has_model=True)),
    }


@pytest.mark.parametrize("corruption", sorted(_corruptions()))
def test_a_corrupt_result_is_a_named_error_and_one_cli_line(tmp_path, capsys, corruption):
    run = tmp_path / "run"
    solve(run)
    _corruptions()[corruption](run)
    with pytest.raises(FormatError):
        moo.Result.load(run)
    code, err = cli(capsys, "plot", str(run))
    assert code == 2 and len(err) == 1 and err[0].startswith("error:")


@pytest.mark.parametrize("corruption", ["truncated", "not torch", "missing history", "bad mode", "tampered state"])
def test_a_corrupt_checkpoint_is_a_named_error(tmp_path, capsys, corruption):
    run = tmp_path / "run"
    _interrupted(run, algorithm="nsga2")  # resumed from its state_dict
    ckpt = run / "checkpoint.pt"
    if corruption == "truncated":
        _truncate(ckpt)
    elif corruption == "not torch":
        ckpt.write_text("hello")
    elif corruption == "missing history":
        state = torch.load(ckpt, weights_only=True)
        del state["history"]
        torch.save(state, ckpt)
    elif corruption == "bad mode":
        _edit_checkpoint(run, mode="exec")
    else:
        state = torch.load(ckpt, weights_only=True)
        _edit_checkpoint(run, state={k: v for k, v in state["state"].items() if k != next(iter(state["state"]))})
    with pytest.raises(FormatError):
        moo.resume(run, problem=Schaffer(2))


@pytest.mark.parametrize("content", ["", "{", "[]", '{"format": 1}', '{"format": 1, "algorithm": [], "seed": 0}'])
def test_a_corrupt_run_spec_is_a_named_error(tmp_path, capsys, content):
    run = tmp_path / "run"
    _interrupted(run)
    (run / "run.json").write_text(content)
    with pytest.raises(FormatError):
        moo.resume(run)
    code, err = cli(capsys, "resume", str(run))
    assert code == 2 and len(err) == 1 and err[0].startswith("error:")


def test_a_missing_model_of_a_pareto_set_learner(tmp_path):
    run = tmp_path / "run"
    moo.solve("zdt1", "psl", budget=40, seed=0, device="cpu", progress=False, out=run)
    assert moo.Result.load(run).state is not None
    (run / "model.pt").unlink()
    with pytest.raises(FormatError, match="model .* is missing"):
        moo.Result.load(run)


def test_an_output_path_below_a_file_is_a_named_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RunFolderError, match="is a file, not a folder"):
        solve(blocker / "run")
    with pytest.raises(RunFolderError, match="is a file, not a folder"):
        solve(blocker)
    code, err = cli(capsys, "solve", "--problem", "zdt1", "--algorithm", "nsga2", "--budget", "20",
                    "--out", str(blocker / "run"), "--device", "cpu")
    assert code == 2 and len(err) == 1 and "is a file" in err[0]
    store = tmp_path / "runs.db"
    pspec, aspec = {"name": "zdt1", "options": {}, "normalize": False}, {"name": "nsga2", "config": {}}
    with Store(store) as db:
        X = np.random.default_rng(0).random((4, 2))
        db.add_run({"cell_key": cell_key("s", pspec, aspec, 0, 10), "suite": "s", "problem": "zdt1",
                    "problem_spec": pspec, "algorithm": "a", "algorithm_spec": aspec, "seed": 0, "budget": 10,
                    "n_evals": 10, "wall_time": 1.0, "conventions": {}, "meta": {}, "indicators": {"hv": 0.5},
                    "history": [], "X": X, "F": X})
    code, err = cli(capsys, "report", str(store), "--out", str(blocker / "report"))
    assert code == 2 and len(err) == 1 and "is a file" in err[0]
