"""`moo check`: each typical mistake in a user's problem is found and named with its fix."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import moo
from moo.check import check_problem, worst
from moo.cli import main


class Good(moo.Problem):
    differentiable = True

    def __init__(self):
        super().__init__(n_var=3, n_obj=2, bounds=[[-2.0] * 3, [2.0] * 3], n_constr=1)

    def _evaluate(self, X):
        return torch.stack([((X - 1) ** 2).sum(-1), ((X + 1) ** 2).sum(-1)], -1)

    def _constraints(self, X):
        return (X ** 2).sum(-1, keepdim=True) - 2.0

    @property
    def ref_point(self):
        return torch.tensor([20.0, 20.0])


class ColumnIndexing(Good):  # X[:, 0] breaks on a batch with leading dimensions
    def _evaluate(self, X):
        return torch.stack([X[:, 0] ** 2, (X[:, 0] - 1) ** 2], -1)


class ForgotNConstr(Good):
    def __init__(self):
        moo.Problem.__init__(self, n_var=3, n_obj=2, bounds=[[-2.0] * 3, [2.0] * 3])


class WrongSign(Good):  # written as feasible where G >= 0
    def _constraints(self, X):
        return 100.0 - (X ** 2).sum(-1, keepdim=True)


class NumpyInside(Good):  # claims gradients but leaves torch
    def _evaluate(self, X):
        return torch.as_tensor(np.stack([np.sum((X.detach().numpy() - 1) ** 2, -1),
                                         np.sum((X.detach().numpy() + 1) ** 2, -1)], -1))


class NaNs(Good):
    def _evaluate(self, X):
        F = super()._evaluate(X)
        return torch.where(X[..., :1] > 0, torch.nan, F)


def messages(problem, level):
    return " ".join(f.what for f in check_problem(problem) if f.level == level)


def test_a_good_problem_passes():
    findings = check_problem(Good())
    assert worst(findings) in ("ok", "note")
    assert any("2 of 8" in f.what or "feasible" in f.what for f in findings)


@pytest.mark.parametrize("cls,level,hint", [
    (ColumnIndexing, "error", "X[..., 0]"),
    (ForgotNConstr, "error", "n_constr"),
    (WrongSign, "warning", "c - h(x)"),
    (NumpyInside, "warning", "torch ops"),
    (NaNs, "error", "non-finite"),
])
def test_each_mistake_is_found_with_its_fix(cls, level, hint):
    assert hint in messages(cls(), level)


def test_no_reference_point_is_flagged():
    class NoRef(Good):
        ref_point = None

    assert "ref_point" in messages(NoRef(), "warning")


def test_cli_finds_a_module_in_the_current_folder_and_a_file_path(tmp_path, monkeypatch, capsys):
    (tmp_path / "bowls_here.py").write_text(
        "import torch, moo\n"
        "class Bowls(moo.Problem):\n"
        "    def __init__(self):\n"
        "        super().__init__(n_var=2, n_obj=2, bounds=[[0.0, 0.0], [1.0, 1.0]])\n"
        "    def _evaluate(self, X):\n"
        "        return torch.stack([X[..., 0], 1 - X[..., 0] + X[..., 1]], -1)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if p not in ("", str(tmp_path))])
    assert main(["check", "bowls_here:Bowls"]) == 0
    assert "2 variables, 2 objectives" in capsys.readouterr().out
    other = tmp_path / "sub"
    other.mkdir()
    monkeypatch.chdir(other)
    assert main(["check", str(tmp_path / "bowls_here.py") + ":Bowls"]) == 0
    assert main(["check", "no_such_module_here:Bowls"]) == 2
    assert "file.py:Attr" in capsys.readouterr().err


def test_cli_check_fails_with_status_2_on_an_error(tmp_path, monkeypatch, capsys):
    path = tmp_path / "broken_cols.py"
    path.write_text("import torch, moo\n"
                    "class P(moo.Problem):\n"
                    "    def __init__(self):\n"
                    "        super().__init__(n_var=2, n_obj=2, bounds=[[0.0, 0.0], [1.0, 1.0]])\n"
                    "    def _evaluate(self, X):\n"
                    "        return torch.stack([X[:, 0], 1 - X[:, 0]], -1)\n")
    assert main(["check", f"{path}:P"]) == 2
    assert "X[..., 0]" in capsys.readouterr().out


def test_progress_says_no_point_is_inside_the_reference_box_instead_of_hv_0(caplog):
    import logging

    from moo.solve import _Progress

    progress = _Progress(budget=100, label="run", enabled=None)
    progress.bar = None  # the log-line path, as on a non-terminal
    with caplog.at_level(logging.INFO):
        progress.update(20, {"hv": 0.0})
        progress.update(60, {"hv": 0.25})
    lines = [r.getMessage() for r in caplog.records]
    assert "no point inside the reference box yet" in lines[0] and "hv=" not in lines[0]
    assert "hv=0.25" in lines[1]
