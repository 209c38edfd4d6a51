import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import moo
from moo.cli import main

TESTS = Path(__file__).parent


def test_list_and_info(capsys):
    assert main(["list", "algorithms"]) == 0
    out = capsys.readouterr().out
    assert "pymoo.nsga2" in out and "botorch.qnehvi" in out
    assert main(["info", "toy_problems:Schaffer", "--option", "n_var=3"]) == 0
    out = capsys.readouterr().out
    assert "n_var: 3" in out and "differentiable: True" in out


def test_unknown_names_exit_2_with_suggestions(capsys):
    assert main(["solve", "--problem", "toy_problems:Schaffer", "--algorithm", "pymoo.nsga", "--budget", "10"]) == 2
    err = capsys.readouterr().err
    assert "Did you mean:" in err and "pymoo.nsga2" in err


def test_bad_budget_exits_2(capsys):
    assert main(["solve", "--problem", "toy_problems:Schaffer", "--algorithm", "pymoo.nsga2", "--budget", "0"]) == 2
    assert "budget must be a positive integer" in capsys.readouterr().err


def test_user_problem_that_raises_exits_2(capsys):
    assert main(["-q", "solve", "--problem", "toy_problems:Raises", "--algorithm", "pymoo.nsga2", "--budget", "10"]) == 2
    assert "simulator crashed" in capsys.readouterr().err


def test_solve_then_plot(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["-q", "solve", "--problem", "toy_problems:Schaffer", "--algorithm", "pymoo.nsga2", "--budget", "120",
                 "--option", "pop_size=20", "--out", str(out)]) == 0
    assert "120 evaluations" in capsys.readouterr().out
    assert (out / "front.png").is_file()
    assert main(["plot", str(out), "--html"]) == 0
    assert (out / "front.html").is_file() and (out / "convergence.html").is_file()


def _moo(*args, **kw):
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    return subprocess.Popen([sys.executable, "-m", "moo.cli", "-q", *args], env=env, **kw)


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    """SIGKILL a CLI run mid-way, `moo resume` it, compare with an uninterrupted run."""
    args = ["solve", "--problem", "toy_problems:Slow", "--algorithm", "pymoo.nsga2", "--budget", "600",
            "--option", "pop_size=20", "--seed", "5", "--device", "cpu", "--checkpoint-every", "1"]
    killed, full = tmp_path / "killed", tmp_path / "full"
    proc = _moo(*args, "--out", str(killed))
    deadline = time.time() + 120
    while time.time() < deadline:  # wait for a few checkpoints, then kill hard
        if (killed / "checkpoint.pt").is_file():
            ckpt = torch.load(killed / "checkpoint.pt", weights_only=True)
            if ckpt["step"] >= 5:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "result.json").exists(), "the run finished before it could be killed"
    assert _moo("resume", str(killed), "--trust").wait() == 0
    assert _moo(*args, "--out", str(full)).wait() == 0
    a, b = moo.Result.load(killed), moo.Result.load(full)
    assert a.n_evals == b.n_evals == 600
    assert torch.equal(a.F_all, b.F_all) and torch.equal(a.F, b.F)
