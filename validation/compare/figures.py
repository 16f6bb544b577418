r"""The comparison's figures (drawn with :mod:`bounds._plot`): every row's behavior and helpfulness curves against
the signed :math:`\|\delta\|` and against λ, and the tradeoff B against H along λ with each row's Pareto points."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bounds import _plot
from bounds.tradeoff import pareto_frontier

from ..report.figures import _common as rd
from .rows import TASKS, Row

__all__ = ["FILENAMES", "PANELS", "plot_curves", "plot_pareto", "write_figures"]

FILENAMES = {"delta": "compare_vs_delta.png", "lambda": "compare_vs_lambda.png", "pareto": "compare_pareto.png"}

#: one panel per curve: (curve, title, the ‖δ‖ curve it is drawn against, the ones tried in order)
PANELS = (
    ("B_generated", "B generated (greedy responses)", ("delta_norm_post",)),
    ("B_single", "B single token P(A+) − P(A−)", ("delta_norm_post",)),
    ("H_mmlu_full", "H MMLU P(correct), full vocabulary", ("mmlu_delta_norm_post", "delta_norm_post")),
    ("H_mmlu_restricted", "H MMLU P(correct | A–D)", ("mmlu_delta_norm_post", "delta_norm_post")),
    ("H_piqa", "H PIQA P(correct | choices)", ("delta_norm_post",)),
)
_NORM_TEXT = {"delta_norm_post": "‖δ‖ on the behavior prompts", "mmlu_delta_norm_post": "‖δ‖ on MMLU"}


def _style(i: int) -> dict[str, Any]:
    return {"color": f"C{i % 10}", "linestyle": ("-", "--", ":", "-.")[(i // 10) % 4]}


def _signed_norm(row: Row, lam: np.ndarray, keys: tuple[str, ...]) -> tuple[np.ndarray, str] | None:
    for key in keys:
        c = rd.curve(row.report, key, lam, key)
        if c is not None:
            return np.sign(lam) * c.mean, key
    return None


def plot_curves(rows: list[Row], x: str = "delta") -> Any:
    """Every row's curves of :data:`PANELS`, one panel per curve, against sign(λ)‖δ‖ (``x="delta"``: the final
    hidden state's change, ``curves.delta_norm_post``, or on MMLU ``mmlu_delta_norm_post``) or λ (``"lambda"``)."""
    fig, axes = _plot.new_figure((15.0, 9.0), 2, 3)
    used: dict[str, set[str]] = {}
    for ax, (key, title, norms) in zip(axes.flat, PANELS, strict=False):
        for i, row in enumerate(rows):
            lam = rd.floats(row.report.lam)
            c = None if lam is None else rd.curve(row.report, key, lam, key)
            xs = None if c is None or lam is None else ((lam, "λ") if x == "lambda" else _signed_norm(row, lam, norms))
            if c is None or xs is None:
                continue
            used.setdefault(key, set()).add(xs[1])
            ok = np.isfinite(xs[0]) & np.isfinite(c.mean)
            _plot.errorbar(ax, xs[0][ok], c.mean[ok], c.se[ok], label=f"{i + 1}: {row.label}", **_style(i))
        names = sorted(used.get(key, ()))
        xlabel = "λ" if x == "lambda" else "sign(λ) · " + " / ".join(_NORM_TEXT.get(n, n) for n in names or norms)
        ax.set(title=title, xlabel=xlabel)
        ax.axvline(0.0, color="0.6", lw=0.8)
        ax.grid(alpha=0.3)
        if key not in used:
            ax.text(0.5, 0.5, "no report has this curve", ha="center", va="center", transform=ax.transAxes)
    legend_ax = axes.flat[-1]
    legend_ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    for ax in axes.flat[1:-1]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    legend_ax.legend(handles, labels, loc="upper left", fontsize=7, frameon=False)
    against = "λ" if x == "lambda" else "the signed ‖δ‖ at the final hidden state (the theory's variable)"
    caption = (
        f"Each row's curves against {against}; bars: ±1 SE across queries. PIQA has no ‖δ‖ of its own: it is drawn "
        "against the behavior prompts' ‖δ‖ at the same λ."
    )
    _plot.add_caption(fig, caption)
    return fig


def plot_pareto(rows: list[Row], task: str, curve: str) -> Any:
    """B (``curve``) against H on ``task`` along each row's λ ≥ 0 points, the Pareto points
    (:func:`bounds.tradeoff.pareto_frontier`) circled and λ = 0 squared."""
    fig, ax = _plot.new_figure((9.0, 6.5))
    drawn = 0
    for i, row in enumerate(rows):
        lam = rd.floats(row.report.lam)
        b = None if lam is None else rd.curve(row.report, curve, lam, curve)
        h = None if lam is None else rd.curve(row.report, TASKS[task].curve, lam, task)
        if lam is None or b is None or h is None:
            continue
        ok = (lam >= 0) & np.isfinite(b.mean) & np.isfinite(h.mean)
        x, bm, hm = lam[ok], b.mean[ok], h.mean[ok]
        if x.size == 0:
            continue
        pf = pareto_frontier(lambda v, x=x, bm=bm: np.interp(v, x, bm), lambda v, x=x, hm=hm: np.interp(v, x, hm), x)
        style = _style(i)
        ax.plot(bm, hm, marker="o", ms=3, lw=1.3, label=f"{i + 1}: {row.label}", **style)
        ax.scatter(bm[pf.mask], hm[pf.mask], s=70, facecolors="none", edgecolors=style["color"], lw=1.2)
        ax.scatter(bm[:1], hm[:1], marker="s", s=40, color=style["color"], zorder=3)
        ax.annotate(
            str(i + 1), (bm[-1], hm[-1]), fontsize=8, color=style["color"], xytext=(3, 3), textcoords="offset points"
        )
        drawn += 1
    if not drawn:
        ax.text(0.5, 0.5, f"no report has both {curve} and {TASKS[task].curve}", ha="center", transform=ax.transAxes)
    ax.set(xlabel=f"behavior {curve}", ylabel=f"helpfulness {TASKS[task].curve}", title="Tradeoff along λ ≥ 0")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    caption = (
        "Each row's measured (B, H) at its grid's λ ≥ 0 (square: λ = 0; the number marks the largest λ); circled: "
        "the row's Pareto points (no other λ of the row has both larger B and H)."
    )
    _plot.add_caption(fig, caption)
    return fig


def write_figures(rows: list[Row], out: str | Path, task: str, curve: str) -> list[str]:
    """Draw the three figures into ``out``; return their file names."""
    out = Path(out)
    figs = {"delta": plot_curves(rows, "delta"), "lambda": plot_curves(rows, "lambda")}
    figs["pareto"] = plot_pareto(rows, task, curve)
    return [_plot.save(fig, out / FILENAMES[name]).name for name, fig in figs.items()]
