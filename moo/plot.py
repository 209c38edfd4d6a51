"""Plots: Pareto fronts (2-D, 3-D, parallel coordinates) and convergence curves.

PNG through matplotlib by default; ``html=True`` gives a self-contained interactive plotly page
(the plotly library is embedded, so it opens offline).
"""
from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np

from moo.errors import MooValueError, ShapeError
from moo.problem import as_tensor


def _array(F, name: str) -> np.ndarray:
    a = as_tensor(F, name=name).detach().cpu().double().numpy()
    if a.ndim != 2:
        raise ShapeError(f"{name} must be a [n, m] matrix of objective values, got shape {list(a.shape)}")
    return a


def _labels(m: int, labels: Sequence[str] | None) -> list[str]:
    if labels is None:
        return [f"f{i + 1}" for i in range(m)]
    if len(labels) != m:
        raise MooValueError(f"labels must name {m} objectives, got {len(labels)}")
    return list(labels)


def _finish_png(fig, path):
    if path is not None:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig


def plot_front(F, *, reference_front=None, title: str = "", labels: Sequence[str] | None = None,
               path: str | os.PathLike | None = None, html: bool = False):
    """Scatter the objective vectors ``F [n, m]``.

    m = 2: a scatter with the reference front drawn as a line; m = 3: a 3-D scatter; m > 3:
    parallel coordinates (each objective scaled to its range over ``F`` and the reference front).
    Returns the matplotlib (or plotly, with ``html=True``) figure; writes it when ``path`` is given.
    """
    F = _array(F, "F")
    ref = None if reference_front is None else _array(reference_front, "reference_front")
    if ref is not None and ref.shape[1] != F.shape[1]:
        raise ShapeError(f"reference_front has {ref.shape[1]} objectives, F has {F.shape[1]}")
    names = _labels(F.shape[1], labels)
    if html:
        return _front_plotly(F, ref, title, names, path)
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    m = F.shape[1]
    if m == 2:
        fig, ax = plt.subplots(figsize=(5.5, 4.5))
        if ref is not None:
            order = np.argsort(ref[:, 0])
            ax.plot(ref[order, 0], ref[order, 1], ".", ms=2, color="0.6", label="reference front")
        ax.scatter(F[:, 0], F[:, 1], s=14, color="C3", label=f"found ({len(F)})", zorder=3)
        ax.set_xlabel(names[0]), ax.set_ylabel(names[1])
        ax.legend(loc="best")
    elif m == 3:
        fig = plt.figure(figsize=(6, 5))
        ax = fig.add_subplot(projection="3d")
        if ref is not None:
            ax.scatter(*ref.T, s=2, color="0.6", alpha=0.4, label="reference front")
        ax.scatter(*F.T, s=12, color="C3", label=f"found ({len(F)})")
        ax.set_xlabel(names[0]), ax.set_ylabel(names[1]), ax.set_zlabel(names[2])
        ax.legend(loc="best")
    else:
        fig, ax = plt.subplots(figsize=(1.2 * m + 3, 4.5))
        stack = F if ref is None else np.vstack([F, ref])
        lo, hi = stack.min(0), stack.max(0)
        scale = np.where(hi > lo, hi - lo, 1.0)
        xs = np.arange(m)
        if ref is not None:
            for row in (ref - lo) / scale:
                ax.plot(xs, row, color="0.75", lw=0.5, alpha=0.5)
        for row in (F - lo) / scale:
            ax.plot(xs, row, color="C3", lw=0.8, alpha=0.6)
        ax.set_xticks(xs, names)
        ax.set_ylabel("scaled objective value")
    ax.set_title(title)
    return _finish_png(fig, path)


def _front_plotly(F, ref, title, names, path):
    import plotly.graph_objects as go

    m = F.shape[1]
    fig = go.Figure()
    if m == 2:
        if ref is not None:
            fig.add_trace(go.Scatter(x=ref[:, 0], y=ref[:, 1], mode="markers", name="reference front",
                                     marker=dict(size=3, color="lightgray")))
        fig.add_trace(go.Scatter(x=F[:, 0], y=F[:, 1], mode="markers", name="found", marker=dict(size=7)))
        fig.update_layout(xaxis_title=names[0], yaxis_title=names[1])
    elif m == 3:
        if ref is not None:
            fig.add_trace(go.Scatter3d(x=ref[:, 0], y=ref[:, 1], z=ref[:, 2], mode="markers",
                                       name="reference front", marker=dict(size=2, color="lightgray")))
        fig.add_trace(go.Scatter3d(x=F[:, 0], y=F[:, 1], z=F[:, 2], mode="markers", name="found",
                                   marker=dict(size=4)))
        fig.update_layout(scene=dict(xaxis_title=names[0], yaxis_title=names[1], zaxis_title=names[2]))
    else:
        fig = go.Figure(go.Parcoords(dimensions=[dict(label=n, values=F[:, i]) for i, n in enumerate(names)]))
    fig.update_layout(title=title)
    if path is not None:
        fig.write_html(path, include_plotlyjs=True)
    return fig


def plot_convergence(histories: Mapping[str, Sequence[dict] | Sequence[Sequence[dict]]], *,
                     indicator: str = "hv", path: str | os.PathLike | None = None, html: bool = False,
                     title: str = ""):
    """Indicator against true evaluations, one line per label.

    ``histories`` maps a label to one run's history (list of records with ``n_evals`` and the
    indicator) or to several runs' histories (seeds): then the median is drawn with the
    min–max band shaded, each run interpolated onto a common evaluation grid.
    """
    series = {}
    for label, runs in histories.items():
        if runs and isinstance(runs[0], dict):
            runs = [runs]
        curves = []
        for run in runs:
            pts = [(r["n_evals"], r[indicator]) for r in run if r.get(indicator) is not None]
            if pts:
                curves.append(np.asarray(pts, dtype=float))
        if not curves:
            raise MooValueError(f"no {indicator!r} values recorded for {label!r}")
        grid = np.unique(np.concatenate([c[:, 0] for c in curves]))
        Y = np.stack([np.interp(grid, c[:, 0], c[:, 1]) for c in curves])
        series[label] = (grid, np.median(Y, 0), Y.min(0), Y.max(0))
    if html:
        import plotly.graph_objects as go

        fig = go.Figure()
        for label, (x, med, lo, hi) in series.items():
            fig.add_trace(go.Scatter(x=x, y=med, mode="lines", name=label))
        fig.update_layout(title=title, xaxis_title="evaluations", yaxis_title=indicator)
        if path is not None:
            fig.write_html(path, include_plotlyjs=True)
        return fig
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (label, (x, med, lo, hi)) in enumerate(series.items()):
        ax.plot(x, med, color=f"C{i}", label=label)
        if (hi > lo).any():
            ax.fill_between(x, lo, hi, color=f"C{i}", alpha=0.2)
    ax.set_xlabel("true evaluations"), ax.set_ylabel(indicator), ax.set_title(title)
    ax.legend(loc="best")
    return _finish_png(fig, path)
