"""The benchmark report: tables (mean ± std, best in bold, average rank, rank-sum test against the
best) checked on a store with known values, the plots and the self-contained HTML page, and the
page in a real headless browser."""
import csv
import math
import re
import shutil

import numpy as np
import pytest

from moo.cli import main
from moo.errors import MooValueError
from moo.registry import get_problem
from moo.report import write_report
from moo.store import Store, cell_key

SEEDS = range(5)
# per (problem, algorithm): hv values over the seeds; igd_plus is made to rank the other way
HV = {
    ("zdt1", "A"): [0.80, 0.81, 0.82, 0.83, 0.84],
    ("zdt1", "B"): [0.79, 0.815, 0.825, 0.80, 0.81],  # overlaps A
    ("zdt1", "C"): [0.50, 0.51, 0.52, 0.53, 0.54],  # clearly below A
    ("dtlz2", "A"): [0.40, 0.41, 0.42, 0.43, 0.44],
    ("dtlz2", "B"): [0.60, 0.61, 0.62, 0.63, 0.64],
    ("dtlz2", "C"): [0.30, 0.31, 0.32, 0.33, 0.34],
    ("dtlz2-5", "A"): [1.0, 1.1, 1.2, 1.3, 1.4],
    ("dtlz2-5", "B"): [0.9, 1.0, 1.1, 1.2, 1.3],
    ("dtlz2-5", "C"): [1.5, 1.6, 1.7, 1.8, 1.9],
}
SPECS = {"zdt1": ("zdt1", {"n_var": 4}), "dtlz2": ("dtlz2", {"n_obj": 3}), "dtlz2-5": ("dtlz2", {"n_obj": 5})}


def _front(label: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    name, options = SPECS[label]
    problem = get_problem(name, **options)
    rng = np.random.default_rng(seed)
    import torch

    lo, hi = problem.bounds
    X = lo + (hi - lo) * torch.as_tensor(rng.random((12, problem.n_var)))
    return X.numpy(), problem.evaluate(X).numpy()


def _fill(path, suite: str = "fake") -> None:
    with Store(path) as db:
        for (p, a), values in HV.items():
            name, options = SPECS[p]
            pspec = {"name": name, "options": options, "normalize": False}
            aspec = {"name": "nsga2", "config": {"label": a}}
            for seed, hv in zip(SEEDS, values):
                X, F = _front(p, seed)
                history = [{"step": s, "n_evals": 20 * s, "time": 0.01 * s, "hv": hv * s / 5} for s in range(1, 6)]
                db.add_run({"cell_key": cell_key(suite, pspec, aspec, seed, 100), "suite": suite, "problem": p,
                            "problem_spec": pspec, "algorithm": a, "algorithm_spec": aspec, "seed": seed,
                            "budget": 100, "n_evals": 100, "wall_time": 1.0 + seed, "conventions": {"ref": p},
                            "meta": {"versions": {"moo": "test"}}, "indicators": {"hv": hv, "igd_plus": 2.0 - hv},
                            "history": history, "X": X, "F": F})


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    _fill(root / "runs.db")
    written = write_report(root / "runs.db", root / "out", command="moo report runs.db --out out")
    return root / "out", written


def _rank_sum_p(x, y) -> float:
    """Two-sided Wilcoxon rank-sum p-value, normal approximation, computed by hand."""
    pooled = np.concatenate([x, y])
    ranks = np.empty(len(pooled))
    ranks[np.argsort(pooled, kind="stable")] = np.arange(1, len(pooled) + 1)
    for v in np.unique(pooled):  # average ranks of ties
        ranks[pooled == v] = ranks[pooled == v].mean()
    n1, n2 = len(x), len(y)
    w = ranks[:n1].sum()
    z = (w - n1 * (n1 + n2 + 1) / 2) / math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    return math.erfc(abs(z) / math.sqrt(2))


def _summary(out) -> dict:
    with open(out / "summary.csv") as fh:
        return {(r["problem"], r["algorithm"], r["indicator"]): r for r in csv.DictReader(fh)}


def test_summary_table_statistics(report):
    out, _ = report
    rows = _summary(out)
    for (p, a), values in HV.items():
        row = rows[p, a, "hv"]
        assert float(row["mean"]) == pytest.approx(np.mean(values), rel=1e-12)
        assert float(row["std"]) == pytest.approx(np.std(values, ddof=1), rel=1e-12)
        assert int(row["n"]) == 5
    assert [rows["zdt1", a, "hv"]["best"] for a in "ABC"] == ["True", "False", "False"]
    assert [rows["zdt1", a, "hv"]["verdict"] for a in "ABC"] == ["", "≈", "−"]
    for a in "BC":
        assert float(rows["zdt1", a, "hv"]["p_value_vs_best"]) == pytest.approx(
            _rank_sum_p(HV["zdt1", a], HV["zdt1", "A"]), rel=1e-9)
    # igd_plus = 2 - hv: lower is better, so the same algorithm wins
    assert rows["dtlz2", "B", "igd_plus"]["best"] == "True" and rows["dtlz2", "B", "hv"]["best"] == "True"
    assert [float(rows["dtlz2-5", a, "hv"]["rank"]) for a in "ABC"] == [2.0, 3.0, 1.0]


def test_markdown_bold_best_and_average_rank(report):
    out, _ = report
    md = (out / "report.md").read_text()
    assert "Regenerate with: `moo report runs.db --out out`" in md
    hv_section = md.split("## hypervolume")[1].split("##")[0]
    assert "| zdt1 | **0.82 ± 0.016** | 0.808 ± 0.014 ≈ | 0.52 ± 0.016 − |" in hv_section
    # ranks: A 1, 2, 2 -> 1.667; B 2, 1, 3 -> 2; C 3, 3, 1 -> 2.333
    assert "| average rank | 1.67 | 2 | 2.33 |" in hv_section
    for image in re.findall(r"!\[[^]]*\]\(([^)]+)\)", md):
        assert (out / image).stat().st_size > 1000, image


def test_plots_and_csvs_are_written(report):
    out, written = report
    assert {f"convergence:{p}:hv" for p in SPECS} <= set(written)
    with open(out / "runs.csv") as fh:
        assert len(list(csv.DictReader(fh))) == len(HV) * len(SEEDS)
    from PIL import Image

    with Image.open(out / "fronts.png") as im:  # a 3 × 3 grid of panels
        assert im.size[0] > 600 and im.size[1] > 600


def test_html_is_self_contained(report):
    out, _ = report
    page = (out / "report.html").read_text()
    head, body = page.split("</head>")
    assert "Plotly=" in head.replace(" ", "") or "window.Plotly" in head  # plotly.js is embedded in the page
    assert not re.search(r"<(script|link|img)[^>]*(src|href)=", body)  # and nothing is loaded from elsewhere
    assert page.count("Plotly.newPlot") == 2 * len(SPECS)  # a front and a convergence plot per problem
    assert "<b>0.82 ± 0.016</b>" in page


def test_report_errors(tmp_path, report, capsys):
    with pytest.raises(MooValueError, match="holds no runs"):
        Store(tmp_path / "empty.db").close()
        write_report(tmp_path / "empty.db", tmp_path / "o")
    two = tmp_path / "two.db"
    _fill(two, "one")
    _fill(two, "two")
    with pytest.raises(MooValueError, match="several suites"):
        write_report(two, tmp_path / "o")
    with pytest.raises(MooValueError, match="'three' has no runs"):
        write_report(two, tmp_path / "o", suite="three")
    bad = tmp_path / "bad.db"
    bad.write_text("not a database")
    assert main(["report", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "not an SQLite database" in capsys.readouterr().err


def _browser():
    """Playwright's Python driver and a Chromium binary (Debian's), or skip."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (.ci/install-browser installs it)")
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("no chromium binary (.ci/install-browser installs Debian's chromium)")
    return sync_playwright, exe


def test_html_report_in_headless_chromium(report):
    sync_playwright, exe = _browser()
    out, _ = report
    errors = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url}"))
            page.goto((out / "report.html").as_uri(), wait_until="load")
            n = 2 * len(SPECS)
            page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {n}",
                                   timeout=30000)
            drawn = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(d => ({
                traces: d._fullData ? d._fullData.length : 0,
                points: d.querySelectorAll('.point, .scatterlayer path, .gl-container canvas').length,
                height: d.getBoundingClientRect().height}))""")
            shot = page.screenshot(full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert len(drawn) == 2 * len(SPECS)
    assert all(d["traces"] >= 3 and d["height"] > 300 for d in drawn), drawn
    assert all(d["points"] > 0 for d in drawn), drawn
    from io import BytesIO

    from PIL import Image

    pixels = np.asarray(Image.open(BytesIO(shot)).convert("L"))
    assert pixels.shape[0] > 3000 and (pixels < 128).mean() > 0.001  # a long page with dark marks on it


def test_runs_of_an_earlier_config_are_superseded(tmp_path):
    from moo.report import _latest

    path = tmp_path / "runs.db"
    _fill(path)
    pspec = {"name": "zdt1", "options": {"n_var": 4}, "normalize": False}
    aspec = {"name": "nsga2", "config": {"label": "A", "pop_size": 7}}  # same label and seed, new config
    X, F = _front("zdt1", 0)
    with Store(path) as db:
        db.add_run({"cell_key": cell_key("fake", pspec, aspec, 0, 100), "suite": "fake", "problem": "zdt1",
                    "problem_spec": pspec, "algorithm": "A", "algorithm_spec": aspec, "seed": 0, "budget": 100,
                    "n_evals": 100, "wall_time": 1.0, "conventions": {}, "meta": {}, "indicators": {"hv": 0.1},
                    "history": [], "X": X, "F": F})
        runs = db.runs("fake")
    kept, left_out = _latest(runs)
    assert (len(runs), len(kept), left_out) == (len(HV) * 5 + 1, len(HV) * 5, 1)
    (a0,) = [r for r in kept if (r.problem, r.algorithm, r.seed) == ("zdt1", "A", 0)]
    assert a0.algorithm_spec == aspec and a0.indicators == {"hv": 0.1}
