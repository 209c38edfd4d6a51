import json
import zipfile

import numpy as np
import pytest
import torch

import moo
from moo import CheckpointError, MooTypeError
from moo.plot import plot_convergence, plot_front
from toy_problems import Schaffer


@pytest.fixture(scope="module")
def result():
    return moo.solve(moo.get_problem("toy_problems:Schaffer"), "pymoo.nsga2", budget=200, seed=1,
                     device="cpu", progress=False, pop_size=20)


def test_save_and_load_round_trip_without_pickle(result, tmp_path):
    result.save(tmp_path)
    with zipfile.ZipFile(tmp_path / "arrays.npz") as z:  # plain .npy members, no object arrays
        assert sorted(z.namelist()) == ["F.npy", "F_all.npy", "X.npy", "X_all.npy"]
    np.load(tmp_path / "arrays.npz", allow_pickle=False)["F"]
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["meta"]["algorithm"]["name"] == "pymoo.nsga2" and doc["meta"]["seed"] == 1
    back = moo.Result.load(tmp_path)
    for name in ("X", "F", "X_all", "F_all"):
        assert torch.equal(getattr(back, name), getattr(result, name))
    assert back.history == result.history and back.meta == result.meta
    assert back.problem(trust=True).spec["name"] == "toy_problems:Schaffer"


def test_load_of_an_unfinished_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="holds no finished result"):
        moo.Result.load(tmp_path)


def test_pareto_set_only_for_learners(result):
    with pytest.raises(MooTypeError, match="did not learn a Pareto-set model"):
        result.pareto_set([[0.5, 0.5]])


def test_summary_names_algorithm_budget_and_hv(result):
    text = result.summary()
    assert "pymoo.nsga2 on schaffer: 200 evaluations" in text and f"{result.hv:.6g}" in text


def test_front_plots_png_3d_parallel_and_html(result, tmp_path):
    result.plot(tmp_path / "front.png")
    assert (tmp_path / "front.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    F3 = torch.rand(30, 3)
    plot_front(F3, reference_front=torch.rand(50, 3), path=tmp_path / "f3.png")
    fig = plot_front(torch.rand(30, 5), path=tmp_path / "f5.png")
    assert len(fig.axes[0].lines) == 30  # one polyline per point in parallel coordinates
    plot_front(F3, path=tmp_path / "f3.html", html=True)
    html = (tmp_path / "f3.html").read_text()
    assert "scatter3d" in html and "plotly" in html.lower()
    with pytest.raises(ValueError, match="reference_front has 2 objectives, F has 3"):
        plot_front(F3, reference_front=torch.rand(5, 2))


def test_convergence_plot_with_seed_band(result, tmp_path):
    other = moo.solve(Schaffer(2), "pymoo.nsga2", budget=200, seed=2, device="cpu", progress=False, pop_size=20)
    fig = plot_convergence({"nsga2": [result.history, other.history]}, path=tmp_path / "c.png")
    assert len(fig.axes[0].collections) == 1  # the shaded min-max band
    with pytest.raises(ValueError, match="no 'igd' values recorded"):
        plot_convergence({"x": result.history}, indicator="igd")
