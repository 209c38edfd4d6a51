"""The benchmark report: tables, plots and one self-contained HTML page from a result store.

``write_report(store, out)`` reads the runs of one suite from a :class:`moo.store.Store` and
writes into ``out``:

* ``report.md``: for each indicator a table of mean ± std per problem (rows) and algorithm
  (columns), the best mean in bold, the other cells marked by a two-sided Wilcoxon rank-sum test
  (``scipy.stats.ranksums``) against the best algorithm of that row (``≈``: not significantly
  different at level 0.05, ``−``: significantly worse), and each algorithm's average rank over
  the problems; plus the evaluator conventions the numbers were computed with;
* ``summary.csv`` (one row per problem × algorithm × indicator: n, mean, std, rank, p-value)
  and ``runs.csv`` (one row per run);
* ``convergence_<problem>.png``: the convergence indicator against true evaluations, median
  over seeds with the min–max band shaded (:func:`moo.plot.plot_convergence`);
* ``fronts.png``: a grid (problems × algorithms) of final fronts, each the run of median
  quality over seeds, with the problem's reference front in grey;
* ``report.html``: all of the above in one page with interactive plotly fronts and
  convergence curves; plotly.js is embedded, so the page works offline.
"""
from __future__ import annotations

import csv
import html
import json
import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moo.errors import MooValueError
from moo.store import Store, StoredRun

log = logging.getLogger("moo")

#: indicators where a larger value is better; every other indicator is minimised
HIGHER_IS_BETTER = {"hv"}
WALL_TIME = "wall_time_s"
ALPHA = 0.05
_INDICATOR_NAMES = {"hv": "hypervolume", "igd_plus": "IGD+", "igd": "IGD", "gd": "GD", "gd_plus": "GD+",
                    "lhd": "log hypervolume difference (LHD)", "r2": "R2", "epsilon": "additive epsilon",
                    "step_time_s": "time per step (s, median after 3 warm-up steps)", WALL_TIME: "wall time (s)"}


@dataclass
class Cell:
    """Statistics of one indicator for one problem × algorithm."""

    values: list
    mean: float
    std: float
    best: bool = False
    rank: float = math.nan
    p_value: float | None = None  # rank-sum test against the best algorithm of the row

    @property
    def verdict(self) -> str:
        if self.best or self.p_value is None:
            return ""
        return "≈" if self.p_value >= ALPHA else "−"


class Table:
    """One indicator over problems × algorithms, with best, ranks and tests filled in."""

    def __init__(self, indicator: str, problems: list[str], algorithms: list[str], runs: list[StoredRun],
                 higher_is_better=HIGHER_IS_BETTER, title: str | None = None):
        from scipy.stats import rankdata, ranksums

        self.indicator, self.problems, self.algorithms = indicator, problems, algorithms
        self.higher = indicator in higher_is_better
        self.name = title or _INDICATOR_NAMES.get(indicator, indicator)
        sign = -1.0 if self.higher else 1.0  # sign * value: smaller is better
        self.cells: dict[tuple[str, str], Cell] = {}
        for p in problems:
            for a in algorithms:
                vals = [_value(r, indicator) for r in runs if r.problem == p and r.algorithm == a]
                vals = [v for v in vals if v is not None]
                if vals:
                    self.cells[p, a] = Cell(vals, float(np.mean(vals)),
                                            float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0)
            row = [(a, self.cells[p, a]) for a in algorithms if (p, a) in self.cells]
            if not row:
                continue
            ranks = rankdata([sign * c.mean for _, c in row])
            best = min(row, key=lambda ac: sign * ac[1].mean)[1]
            for (a, c), rank in zip(row, ranks):
                c.rank = float(rank)
                c.best = sign * c.mean == sign * best.mean
                if not c.best and len(c.values) > 1 and len(best.values) > 1:
                    c.p_value = float(ranksums(c.values, best.values).pvalue)
        self.average_rank = {}
        for a in algorithms:
            ranks = [self.cells[p, a].rank for p in problems if (p, a) in self.cells]
            self.average_rank[a] = float(np.mean(ranks)) if ranks else math.nan

    def title(self) -> str:
        return f"{self.name} ({'higher' if self.higher else 'lower'} is better)"

    def text(self, p: str, a: str) -> tuple[str, bool]:
        """The cell's text (without emphasis) and whether it is the best of its row."""
        c = self.cells.get((p, a))
        if c is None:
            return "–", False
        text = f"{_fmt(c.mean)} ± {_fmt(c.std, 2)}"
        return (f"{text} {c.verdict}".rstrip(), c.best)

    def markdown(self) -> str:
        lines = [f"| problem | {' | '.join(self.algorithms)} |", "|---" * (len(self.algorithms) + 1) + "|"]
        for p in self.problems:
            cells = []
            for a in self.algorithms:
                text, best = self.text(p, a)
                cells.append(f"**{text}**" if best else text)
            lines.append(f"| {p} | {' | '.join(cells)} |")
        lines.append(f"| average rank | {' | '.join(_fmt(self.average_rank[a], 3) for a in self.algorithms)} |")
        return "\n".join(lines)

    def html(self) -> str:
        head = "".join(f"<th>{html.escape(a)}</th>" for a in self.algorithms)
        rows = []
        for p in self.problems:
            cells = []
            for a in self.algorithms:
                text, best = self.text(p, a)
                cells.append(f"<td><b>{html.escape(text)}</b></td>" if best else f"<td>{html.escape(text)}</td>")
            rows.append(f"<tr><th>{html.escape(p)}</th>{''.join(cells)}</tr>")
        ranks = "".join(f"<td>{_fmt(self.average_rank[a], 3)}</td>" for a in self.algorithms)
        rows.append(f"<tr class='rank'><th>average rank</th>{ranks}</tr>")
        return f"<table><tr><th>problem</th>{head}</tr>{''.join(rows)}</table>"

    def csv_rows(self) -> list[dict]:
        return [{"problem": p, "algorithm": a, "indicator": self.indicator, "n": len(c.values), "mean": c.mean,
                 "std": c.std, "best": c.best, "rank": c.rank,
                 "p_value_vs_best": "" if c.p_value is None else c.p_value, "verdict": c.verdict}
                for (p, a), c in self.cells.items()]


def _value(run: StoredRun, indicator: str) -> float | None:
    return run.wall_time if indicator == WALL_TIME else run.indicators.get(indicator)


def _fmt(x: float, digits: int = 4) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.{digits}g}"


def _suite_runs(db: Store, suite: str | None) -> tuple[str, list[StoredRun]]:
    suites = db.suites()
    if not suites:
        raise MooValueError(f"store {str(db.path)!r} holds no runs; run `moo bench` first")
    if suite is None:
        if len(suites) > 1:
            raise MooValueError(f"store {str(db.path)!r} holds several suites {suites}; pick one with --suite")
        suite = suites[0]
    elif suite not in suites:
        raise MooValueError(f"suite {suite!r} has no runs in {str(db.path)!r}; it holds {suites}")
    return suite, db.runs(suite)


def _latest(runs: list[StoredRun]) -> tuple[list[StoredRun], int]:
    """One run per (problem, algorithm, seed): the latest stored, when a suite was edited and re-run
    with another config under the same labels. Returns the runs and how many were left out."""
    latest: dict[tuple, StoredRun] = {}
    for r in runs:
        key = (r.problem, r.algorithm, r.seed)
        if key not in latest or r.id > latest[key].id:
            latest[key] = r
    kept = [r for r in runs if latest[(r.problem, r.algorithm, r.seed)] is r]
    return kept, len(runs) - len(kept)


def _representative(runs: list[StoredRun], indicator: str | None, higher_is_better=HIGHER_IS_BETTER) -> StoredRun:
    """The run of median quality over seeds (by ``indicator``; the lowest seed without one)."""
    runs = sorted(runs, key=lambda r: r.seed)
    scored = [r for r in runs if indicator and _value(r, indicator) is not None]
    if not scored:
        return runs[0]
    sign = -1.0 if indicator in higher_is_better else 1.0
    scored.sort(key=lambda r: (sign * _value(r, indicator), r.seed))
    return scored[(len(scored) - 1) // 2]


def _reference_front(run: StoredRun, trust: bool = False):
    """The problem's reference front (``None`` when it has none or cannot be rebuilt; a user's
    own ``module:Attr`` problem is rebuilt only with ``trust``)."""
    from moo.errors import MooError, UntrustedSpecError
    from moo.rebuild import problem_from_spec

    try:
        front = problem_from_spec(run.problem_spec, trust=trust, source=f"store row {run.id}").pareto_front()
    except UntrustedSpecError as exc:
        log.warning("reference front not drawn: %s", exc)
        return None
    except MooError:
        return None
    return None if front is None else front.detach().cpu().double().numpy()


class _Data:
    """The runs of one suite, grouped."""

    def __init__(self, suite: str, runs: list[StoredRun], trust: bool = False, protocol=None):
        from moo.protocol import Protocol

        self.protocol = protocol or Protocol()
        higher = HIGHER_IS_BETTER | self.protocol.higher_is_better
        self.suite, self.runs = suite, runs
        self.problems = sorted({r.problem for r in runs})
        self.algorithms = sorted({r.algorithm for r in runs})
        indicators = sorted({k for r in runs for k in r.indicators})
        self.indicators = [k for k in ("hv", "lhd", "igd_plus") if k in indicators] + \
                          [k for k in indicators if k not in ("hv", "lhd", "igd_plus")]
        self.main = self.indicators[0] if self.indicators else None
        self.convergence = sorted({k for r in runs for rec in r.history for k, v in rec.items()
                                   if v is not None and k not in ("step", "n_evals", "time")})
        self.tables = [Table(k, self.problems, self.algorithms, runs, higher, self.protocol.indicator_titles.get(k))
                       for k in self.indicators + [WALL_TIME]]
        self.fronts = {}
        for p in self.problems:
            group = [r for r in runs if r.problem == p]
            self.fronts[p] = {a: _representative([r for r in group if r.algorithm == a], self.main, higher)
                              for a in self.algorithms if any(r.algorithm == a for r in group)}
        self.has_fronts = any(r.F.size for r in runs)  # a protocol that times or trains keeps no front
        self.reference = {p: _reference_front(next(iter(self.fronts[p].values())), trust) if self.has_fronts
                          else None for p in self.problems}

    def histories(self, problem: str, indicator: str) -> dict:
        out = {}
        for a in self.algorithms:
            hs = [r.history for r in self.runs if r.problem == problem and r.algorithm == a]
            hs = [h for h in hs if any(rec.get(indicator) is not None for rec in h)]
            if hs:
                out[a] = hs
        return out

    def conventions(self) -> dict:
        out = {}
        for p in self.problems:
            seen = {json.dumps(r.conventions, sort_keys=True) for r in self.runs if r.problem == p}
            out[p] = [json.loads(s) for s in sorted(seen)]
        return out


# ---------------------------------------------------------------------------------- outputs
def _write_csv(data: _Data, out: Path) -> list[Path]:
    summary = out / "summary.csv"
    rows = [row for t in data.tables for row in t.csv_rows()]
    with open(summary, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    runs_csv = out / "runs.csv"
    fields = ["problem", "algorithm", "seed", "budget", "n_evals", WALL_TIME] + data.indicators
    with open(runs_csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for r in data.runs:
            writer.writerow({"problem": r.problem, "algorithm": r.algorithm, "seed": r.seed, "budget": r.budget,
                             "n_evals": r.n_evals, WALL_TIME: r.wall_time,
                             **{k: r.indicators.get(k) for k in data.indicators}})
    return [summary, runs_csv]


def _file_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)


def _write_convergence(data: _Data, out: Path) -> dict[tuple[str, str], Path]:
    import matplotlib.pyplot as plt

    from moo.plot import plot_convergence

    written = {}
    for p in data.problems:
        for k in data.convergence:
            hs = data.histories(p, k)
            if not hs:
                continue
            path = out / f"convergence_{_file_name(p)}" f"{'' if k == 'hv' else '_' + k}.png"
            fig = plot_convergence(hs, indicator=k, path=path, title=f"{p}: {k}, median and range over seeds")
            plt.close(fig)
            written[p, k] = path
    return written


def _write_fronts(data: _Data, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows, cols = len(data.problems), len(data.algorithms)
    fig = plt.figure(figsize=(3.2 * cols, 2.9 * rows))
    for i, p in enumerate(data.problems):
        ref = data.reference[p]
        for j, a in enumerate(data.algorithms):
            run = data.fronts[p].get(a)
            m = run.F.shape[1] if run is not None else 2
            ax = fig.add_subplot(rows, cols, i * cols + j + 1, projection="3d" if m == 3 else None)
            if run is None:
                ax.set_axis_off()
                continue
            F = run.F
            if m == 2:
                if ref is not None:
                    order = np.argsort(ref[:, 0])
                    ax.plot(ref[order, 0], ref[order, 1], ".", ms=1.5, color="0.65")
                ax.scatter(F[:, 0], F[:, 1], s=8, color="C3")
            elif m == 3:
                if ref is not None:
                    ax.scatter(*ref.T, s=1, color="0.65", alpha=0.3)
                ax.scatter(*F.T, s=6, color="C3")
            else:
                stack = F if ref is None else np.vstack([F, ref])
                lo, hi = stack.min(0), stack.max(0)
                scale = np.where(hi > lo, hi - lo, 1.0)
                for row in (F - lo) / scale:
                    ax.plot(np.arange(m), row, color="C3", lw=0.6, alpha=0.5)
            ax.set_title(f"{a} on {p} (seed {run.seed})", fontsize=8)
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    path = out / "fronts.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _front_figure(data: _Data, p: str):
    import plotly.graph_objects as go

    fig = go.Figure()
    ref = data.reference[p]
    runs = data.fronts[p]
    m = next(iter(runs.values())).F.shape[1]
    if m == 2:
        if ref is not None:
            fig.add_trace(go.Scatter(x=ref[:, 0], y=ref[:, 1], mode="markers", name="reference front",
                                     marker=dict(size=3, color="lightgray")))
        for a, r in runs.items():
            fig.add_trace(go.Scatter(x=r.F[:, 0], y=r.F[:, 1], mode="markers", name=f"{a} (seed {r.seed})",
                                     marker=dict(size=6)))
        fig.update_layout(xaxis_title="f1", yaxis_title="f2")
    elif m == 3:
        if ref is not None:
            fig.add_trace(go.Scatter3d(x=ref[:, 0], y=ref[:, 1], z=ref[:, 2], mode="markers",
                                       name="reference front", marker=dict(size=1.5, color="lightgray")))
        for a, r in runs.items():
            fig.add_trace(go.Scatter3d(x=r.F[:, 0], y=r.F[:, 1], z=r.F[:, 2], mode="markers",
                                       name=f"{a} (seed {r.seed})", marker=dict(size=3)))
        fig.update_layout(scene=dict(xaxis_title="f1", yaxis_title="f2", zaxis_title="f3"))
    else:  # value paths: one polyline per point, one trace per algorithm
        for a, r in runs.items():
            xs, ys = [], []
            for row in r.F:
                xs += list(range(1, m + 1)) + [None]
                ys += list(row) + [None]
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=f"{a} (seed {r.seed})", opacity=0.6))
        fig.update_layout(xaxis_title="objective", yaxis_title="value")
    fig.update_layout(title=f"{p}: final fronts (median run by {data.main})", height=480, margin=dict(t=50))
    return fig


def _convergence_figure(data: _Data, p: str, indicator: str):
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (a, hs) in enumerate(data.histories(p, indicator).items()):
        curves = [np.asarray([(r["n_evals"], r[indicator]) for r in h if r.get(indicator) is not None], dtype=float)
                  for h in hs]
        grid = np.unique(np.concatenate([c[:, 0] for c in curves]))
        Y = np.stack([np.interp(grid, c[:, 0], c[:, 1]) for c in curves])
        color = _PALETTE[i % len(_PALETTE)]
        fig.add_trace(go.Scatter(x=grid, y=Y.min(0), mode="lines", line=dict(width=0), showlegend=False,
                                 legendgroup=a, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=grid, y=Y.max(0), mode="lines", line=dict(width=0), fill="tonexty",
                                 fillcolor=_rgba(color, 0.2), showlegend=False, legendgroup=a, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=grid, y=np.median(Y, 0), mode="lines", name=a, legendgroup=a,
                                 line=dict(color=color)))
    fig.update_layout(title=f"{p}: {indicator} (median, range over seeds)", xaxis_title="true evaluations",
                      yaxis_title=indicator, height=420, margin=dict(t=50))
    return fig


_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
tr th:first-child{text-align:left}tr.rank td{font-style:italic}code,pre{background:#f4f4f4}
pre{padding:8px;overflow-x:auto;font-size:12px}"""


def _inline_code(text: str) -> str:
    """Markdown's `code` spans as HTML ``<code>`` elements."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", text)


def _write_html(data: _Data, out: Path, header: list[str], extra: list[str]) -> Path:
    from plotly.offline import get_plotlyjs

    parts = [f"<h1>Benchmark report: suite {html.escape(data.suite)}</h1>"]
    parts += [f"<p>{_inline_code(html.escape(line))}</p>" for line in header]
    for t in data.tables:
        parts.append(f"<h2>{html.escape(t.title())}</h2>{t.html()}")
    parts.append(f"<p>Bold: best mean. Other cells: two-sided Wilcoxon rank-sum test against the best of the row "
                 f"(≈ not significantly different at α = {ALPHA}, − significantly worse).</p>")
    if extra:  # the protocol's sections, as preformatted markdown
        parts.append(f"<pre class='protocol'>{html.escape(chr(10).join(extra))}</pre>")
    n_plots = 0
    for p in data.problems:
        parts.append(f"<h2>{html.escape(p)}</h2>")
        figures = [_front_figure(data, p)] * data.has_fronts + [_convergence_figure(data, p, k) for k in data.convergence
                                              if data.histories(p, k)]
        for fig in figures:
            parts.append(fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"plot{n_plots}"))
            n_plots += 1
    parts.append("<h2>Evaluator conventions</h2>")
    for p, convs in data.conventions().items():
        parts.append(f"<h3>{html.escape(p)}</h3><pre>{html.escape(json.dumps(convs, indent=1))}</pre>")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>moo benchmark: {html.escape(data.suite)}"
            f"</title><style>{_CSS}</style><script type='text/javascript'>{get_plotlyjs()}</script></head>"
            f"<body>{''.join(parts)}</body></html>")
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _write_markdown(data: _Data, out: Path, header: list[str], convergence: dict, extra: list[str]) -> Path:
    lines = [f"# Benchmark report: suite `{data.suite}`", ""] + [f"{line}  " for line in header] + [""]
    for t in data.tables:
        lines += [f"## {t.title()}", "", t.markdown(), ""]
    lines += [f"Bold: best mean of the row. `≈`: not significantly different from the best (two-sided Wilcoxon "
              f"rank-sum test, scipy.stats.ranksums, α = {ALPHA}); `−`: significantly worse. Average rank: rank of "
              "the mean within each problem (ties averaged), averaged over problems. Wall time: per run, on the "
              "machine and with the parallelism that ran it (a shared or oversubscribed machine inflates it), "
              "without the time spent recording the convergence indicators.", ""]
    lines += extra + [""] * bool(extra)
    if convergence:
        lines += ["## Convergence", ""]
        for (p, k), path in convergence.items():
            lines.append(f"![{p} {k}]({path.name})")
        lines.append("")
    if data.has_fronts:
        lines += ["## Final fronts", "", "Median run over seeds by the first indicator; reference front in grey.", "",
                  "![fronts](fronts.png)", ""]
    lines += ["## Evaluator conventions", ""]
    for p, convs in data.conventions().items():
        for c in convs:
            lines.append(f"- **{p}**: `{json.dumps(c, sort_keys=True)}`")
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_report(store: str | os.PathLike, out: str | os.PathLike, *, suite: str | None = None,
                 command: str | None = None, trust: bool = False) -> dict[str, Path]:
    """Write the report of ``suite`` (the store's only suite when ``None``) into ``out``.

    ``command`` is the command line that regenerates the report, written in its header.
    Reference fronts come from the problems the store names; a user's own ``module:Attr``
    problem is imported for it only with ``trust=True`` (otherwise its front is left out).
    Returns the written files by kind (``markdown``, ``html``, ``summary_csv``, ``runs_csv``,
    ``fronts``, and ``convergence:PROBLEM:INDICATOR``).
    """
    from moo.run_folder import check_writable_path, make_folder

    out = check_writable_path(out, "report folder")
    with Store(store, readonly=True) as db:
        suite, runs = _suite_runs(db, suite)
    runs, superseded = _latest(runs)
    from moo.protocol import get_protocol

    protocol = get_protocol(runs[0].conventions.get("protocol"))  # a shipped protocol, found by name only
    make_folder(out, "report folder")
    data = _Data(suite, runs, trust, protocol)
    seeds = sorted({r.seed for r in runs})
    budgets = sorted({r.budget for r in runs})
    header = [f"{len(runs)} runs: {len(data.problems)} problems × {len(data.algorithms)} algorithms × "
              f"{len(seeds)} seeds {seeds}, budget {', '.join(map(str, budgets))} true evaluations."]
    if superseded:
        header.append(f"{superseded} older runs of the same problem, algorithm and seed (an earlier config of the "
                      "suite) are left out.")
    if command:
        header.append(f"Regenerate with: `{command}`")
    versions = runs[0].meta.get("versions", {})
    if versions:
        header.append("Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    csvs = _write_csv(data, out)
    convergence = _write_convergence(data, out)
    written = {"summary_csv": csvs[0], "runs_csv": csvs[1],
               **{f"convergence:{p}:{k}": path for (p, k), path in convergence.items()}}
    if data.has_fronts:
        written["fronts"] = _write_fronts(data, out)
    extra = protocol.report(runs, out)
    written["markdown"] = _write_markdown(data, out, header, convergence, extra)
    written["html"] = _write_html(data, out, header, extra)
    return written
