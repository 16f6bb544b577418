r"""Fig. 5 of the paper redrawn from the authors' published Llama-2-13B curves: MMLU helpfulness against λ with
Theorem 2's form fitted as the authors did, the toolkit's expectation law near λ = 0 and, on the A–D curves, the
restricted form (:mod:`bounds.paper`, docs/paper-curves.md).

One row per model and steering vector, one column per MMLU subject and measure (P(correct letter) over the full
vocabulary, and renormalised over A–D): the published means with ±1 pseudo-count standard error; Theorem 2's form
:math:`1/(1+a+ab^2\lambda^2/2)` fitted unweighted on λ ∈ [−5, 5] (the authors' fit,
:func:`bounds.paper.fit_paper_curves`); the expectation law :math:`p_0(1-c\lambda^2)` of docs/specification.md
§12.2(c) (:class:`bounds.fitting.ExpectationModel`, second order, so fitted only on the near-zero window
:math:`|\lambda|\le` :data:`bounds.paper.NEAR_ZERO_WINDOW`); and on the A–D curves the restricted form
:math:`(1-2/k)T+1/k`, :math:`k=4`. No model is run. Run
``python -m paper_figures.fig5_paper_curves [--out DIR]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bounds._plot import add_caption, new_figure
from bounds.paper import MEASURES, MODELS, NEAR_ZERO_WINDOW, RESTRICTED_K, PaperFits, fit_paper_curves
from bounds.paper.results import number
from paper_figures._common import draw_published, provenance_sentence, save

FILENAME = "fig5_paper_curves.png"
#: how each measure is named in a column title
MEASURE_LABEL = {"full_vocabulary": "full vocabulary", "restricted_A-D": "renormalised over A–D"}


def helpfulness_fits() -> PaperFits:
    """Theorem 2's form on the 24 published helpfulness curves and the restricted form on the 12 A–D ones
    (:func:`bounds.paper.fit_paper_curves`, default settings)."""
    return fit_paper_curves(quantity="helpfulness")


def expectation_fit(curve: Any, window: float = NEAR_ZERO_WINDOW) -> Any:
    r"""The expectation law :math:`p_0(1-c\lambda^2)` (:class:`bounds.fitting.ExpectationModel`) fitted unweighted to
    the published means with :math:`|\lambda|\le` ``window`` (a second-order law: valid near 0 only).

    Returns:
        the :class:`lmfit.model.ModelResult`.
    """
    from bounds.fitting import ExpectationModel, fit

    inside = curve.window(-window, window)
    return fit(ExpectationModel(), np.asarray(curve.lam)[inside], np.asarray(curve.mean)[inside])


def _panel(ax: Any, cf: Any, restricted: Any, n: int) -> None:
    c = cf.curve
    lo, hi = cf.window
    ax.axvspan(lo, hi, color="0.93", lw=0, label=f"fit window λ ∈ [{lo:g}, {hi:g}]")
    ax.axvspan(-NEAR_ZERO_WINDOW, NEAR_ZERO_WINDOW, color="0.85", lw=0, label=f"near zero |λ| ≤ {NEAR_ZERO_WINDOW:g}")
    draw_published(ax, c, n, cf.window, "C0", "published mean ± SE (fitted)")
    lam, values = cf.grid()
    ax.plot(lam, values["unweighted"], color="C3", lw=1.4, gid="theorem-2",
            label="Theorem 2's form (the authors' fit)")  # fmt: skip
    res = expectation_fit(c)
    x = np.linspace(-NEAR_ZERO_WINDOW, NEAR_ZERO_WINDOW, 101)
    ax.plot(x, res.eval(lam=x), color="k", ls="--", lw=1.4, gid="expectation",
            label="expectation law p0(1 − cλ²), near zero")  # fmt: skip
    u = cf.unweighted
    lines = [
        f"T2: b = {number(u.params['b'].value)} (b/2.5 = {number(u.derived['b_over_2_5'].value)}), "
        f"γ = {number(u.derived['gamma'].value)}",
        f"E: p0 = {number(res.params['p0'].value)}, c = {number(res.params['c'].value)}",
    ]
    if restricted is not None:
        lr, vr = restricted.grid()
        ax.plot(lr, vr["unweighted"], color="C2", ls="-.", lw=1.4, gid="restricted",
                label=f"restricted (1 − 2/k)T + 1/k, k = {RESTRICTED_K}")  # fmt: skip
        ax.axhline(1.0 / RESTRICTED_K, color="0.4", ls=":", lw=0.9, label=f"chance 1/k = 1/{RESTRICTED_K}")
        ru = restricted.unweighted
        flag = " (degenerate)" if any(nt.startswith("degenerate") for nt in ru.notes) else ""
        lines.append(f"R: b = {number(ru.params['b'].value)}, γ = {number(ru.derived['gamma'].value)}{flag}")
    ax.text(0.02, 0.98, "\n".join(lines), transform=ax.transAxes, fontsize=5.2, va="top", ha="left",
            family="monospace", bbox={"facecolor": "white", "edgecolor": "0.7", "alpha": 0.9, "pad": 1.5})  # fmt: skip
    ax.set_ylim(0.0, 1.12)
    ax.set_xlim(float(c.lam[0]) - 0.5, float(c.lam[-1]) + 0.5)
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=7)


def _layout(fits: PaperFits) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Rows ``(model, vector)`` and columns ``(subject, measure)`` present in ``fits``."""
    keys = {cf.curve.key for cf in fits.helpfulness}
    vectors = sorted({k[1] for k in keys})
    subjects = sorted({k[2] for k in keys})
    rows = [(m, v) for m in MODELS for v in vectors if any(k[:2] == (m, v) for k in keys)]
    cols = [(s, m) for s in subjects for m in MEASURES if any(k[2:] == (s, m) for k in keys)]
    return rows, cols


def _legend(axes: Any, cols: list[tuple[str, str]]) -> None:
    """One legend, with every line (taken from the first A–D panel), in the empty upper part of the panel below the
    first full-vocabulary one (the base model's full-vocabulary curves stay under 0.4)."""
    with_all = next((j for j, (_s, m) in enumerate(cols) if m == "restricted_A-D"), 0)
    handles, labels = axes[0, with_all].get_legend_handles_labels()
    where = axes[min(1, axes.shape[0] - 1), 0]
    where.legend(handles, labels, fontsize=5.3, loc="upper center", bbox_to_anchor=(0.5, 0.86), framealpha=0.95)


def make_figure(fits: PaperFits | None = None) -> Any:
    """The figure (Agg canvas) from ``fits`` (default :func:`helpfulness_fits`): one row per (model, vector), one
    column per (subject, measure); in each panel the lines carry the ``gid`` ``"theorem-2"`` (``CurveFit.grid()``'s
    unweighted values), ``"expectation"`` (:func:`expectation_fit` on the near-zero window) and, on A–D,
    ``"restricted"``."""
    fits = helpfulness_fits() if fits is None else fits
    rows, cols = _layout(fits)
    by_key = {cf.curve.key: cf for cf in fits.helpfulness}
    restricted = {cf.curve.key: cf for cf in fits.restricted}
    fig, axes = new_figure((2.55 * len(cols), 2.25 * len(rows) + 0.4), len(rows), len(cols), squeeze=False,
                           sharex=True, sharey=True)  # fmt: skip
    n = fits.settings["n"]
    for i, (model, vector) in enumerate(rows):
        for j, (subject, measure) in enumerate(cols):
            ax = axes[i, j]
            cf = by_key.get((model, vector, subject, measure))
            if cf is None:
                ax.set_axis_off()
                continue
            _panel(ax, cf, restricted.get(cf.curve.key), n)
            if i == 0:
                ax.set_title(f"{subject.replace('_', ' ')}\n{MEASURE_LABEL[measure]}", fontsize=7.5)
            if j == 0:
                ax.set_ylabel(f"{model}\n{vector} vector\nP(correct)", fontsize=7.5)
            if i == len(rows) - 1:
                ax.set_xlabel("steering coefficient λ", fontsize=7.5)
    _legend(axes, cols)
    hw = fits.helpfulness[0].window
    caption = (
        f"Fig. 5 redrawn from the published curves: MMLU P(correct letter), over the full vocabulary and renormalised "
        f"over A–D. {provenance_sentence(fits)} Light shading: the authors' fit window λ ∈ [{hw[0]:g}, {hw[1]:g}] "
        f"(hollow points outside it are not fitted); dark shading: the near-zero window |λ| ≤ {NEAR_ZERO_WINDOW:g}. "
        "Red: Theorem 2's form 1/(1 + a + a b² λ²/2) fitted unweighted on the fit window (the authors' fit; T2 in the "
        "boxes: b = αβσ, the b/2.5 the authors plotted, γ = a p0/(1 − p0) with p0 the published mean at λ = 0). "
        "Black dashed: the expectation law p0(1 − cλ²) of §12.2(c) (the toolkit's corrected helpfulness law, second "
        "order), fitted unweighted on the near-zero window only (E). Green dash-dot, A–D only: the restricted form "
        f"(1 − 2/k)T + 1/k, k = {RESTRICTED_K} (the authors' 0.5 T + 0.25), fitted unweighted on the fit window (R), "
        "with the chance level 1/k dotted. Weighted fits, intervals and notes: steering-bounds fit --paper."
    )
    add_caption(fig, caption, width=230)
    return fig


def render(out_dir: str | Path) -> list[Path]:
    """Write :data:`FILENAME` under ``out_dir`` and return its path in a list (the ``"paper-data"`` protocol)."""
    return [save(make_figure(), out_dir, FILENAME)]


if __name__ == "__main__":
    from paper_figures.build import main

    main(render)
