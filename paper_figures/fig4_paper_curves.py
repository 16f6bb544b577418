r"""Fig. 4 of the paper redrawn from the authors' published Llama-2-13B curves: behavior against λ with the tanh law
fitted unweighted (as the authors did) and weighted (:mod:`bounds.paper`, docs/paper-curves.md).

One panel per model (rows: base, chat) and steering vector (columns): the published means with ±1 pseudo-count
standard error, the fit window λ ∈ [−3, 5] shaded, :math:`\tanh(a\lambda+b_0)` fitted unweighted (solid) and weighted
(dashed) by :func:`bounds.paper.fit_paper_curves`. The chat curves fall with λ (steered away from the aligned set):
they are fitted as −mean and drawn as −tanh. No model is run. Run ``python -m paper_figures.fig4_paper_curves
[--out DIR]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bounds._plot import add_caption, new_figure
from bounds.paper import MODELS, PaperFits, fit_paper_curves
from bounds.paper.results import number
from paper_figures._common import draw_published, provenance_sentence, save

FILENAME = "fig4_paper_curves.png"
#: line style of each weighting's fitted law
STYLES = {
    "unweighted": ("C3", "-", "tanh fit, unweighted (the authors')"),
    "weighted": ("k", "--", "tanh fit, weighted"),
}


def behavior_fits() -> PaperFits:
    """The tanh fits of the 4 published behavior curves (:func:`bounds.paper.fit_paper_curves`, default settings)."""
    return fit_paper_curves(quantity="behavior")


def _panel(ax: Any, cf: Any, n: int) -> None:
    c = cf.curve
    ax.axvspan(*cf.window, color="0.92", lw=0, label=f"fit window λ ∈ [{cf.window[0]:g}, {cf.window[1]:g}]")
    draw_published(ax, c, n, cf.window, "C0", "published mean ± SE (fitted points)")
    lam, values = cf.grid()
    for w, y in values.items():
        color, ls, label = STYLES[w]
        ax.plot(lam, cf.sign * y, color=color, ls=ls, lw=1.5, gid=w, label=label)
    lines = []
    for w, f in cf.fits.items():
        lines.append(f"{w}: a = {f.params['a'].text()}, b0 = {f.params['b0'].text()}")
        lines.append(f"    αΔ = 2a = {number(f.derived['alpha_delta'].value)}, χ²_red = {number(f.redchi)}")
    if any(not d.startswith("best by") for d in cf.disagreements):
        lines.append("weightings disagree: " + ", ".join(d.split(":")[0] for d in cf.disagreements))
    if cf.unweighted.derived["b0_fixed"] is None:
        published = cf.sign * cf.unweighted.derived["B0_measured"].value
        lines.append(f"B0 = {published:+g} at λ = 0: b0 = artanh B0 is infinite, so b0 is left free")
    # below the curve's floor at −1 (the y range leaves room): lower right under a rising curve, else lower left
    x, ha = (0.98, "right") if cf.sign > 0 else (0.02, "left")
    ax.text(x, 0.02, "\n".join(lines), transform=ax.transAxes, fontsize=6, va="bottom", ha=ha, family="monospace",
            multialignment="left", bbox={"facecolor": "white", "edgecolor": "0.7", "alpha": 0.9, "pad": 2})  # fmt: skip
    law = "−tanh(aλ + b0), fitted to −mean" if cf.sign < 0 else "tanh(aλ + b0)"
    ax.set_title(f"{c.model}: {c.vector} vector → {c.behavior} ({c.steering}); {law}", fontsize=8)
    ax.set_ylim(-1.75, 1.12)
    ax.set_yticks(np.linspace(-1.0, 1.0, 9))
    ax.set_xlabel("steering coefficient λ")
    ax.set_ylabel("behavior B(λ) (+1 aligned)")
    ax.grid(alpha=0.3)


def make_figure(fits: PaperFits | None = None) -> Any:
    """The 2 × 2 figure (Agg canvas) from ``fits`` (default :func:`behavior_fits`): rows the models
    (:data:`bounds.paper.MODELS`), columns the vectors; each panel's fitted lines carry the ``gid`` of their
    weighting (``"unweighted"``, ``"weighted"``) and are ``sign * CurveFit.grid()``."""
    fits = behavior_fits() if fits is None else fits
    vectors = sorted({cf.curve.vector for cf in fits.behavior})
    fig, axes = new_figure((11.0, 8.6), len(MODELS), len(vectors), squeeze=False)
    by_key = {(cf.curve.model, cf.curve.vector): cf for cf in fits.behavior}
    for i, model in enumerate(MODELS):
        for j, vector in enumerate(vectors):
            cf = by_key.get((model, vector))
            if cf is None:
                axes[i, j].set_axis_off()
                continue
            _panel(axes[i, j], cf, fits.settings["n"])
    axes[0, 0].legend(fontsize=6.5, loc="upper left")
    window = fits.behavior[0].window
    counts = {cf.curve.label: int(np.asarray(cf.lam).size) for cf in fits.behavior}
    caption = (
        f"Fig. 4 redrawn from the published curves. {provenance_sentence(fits)} Shaded: the authors' fit window "
        f"λ ∈ [{window[0]:g}, {window[1]:g}] ({min(counts.values())} points per curve; hollow points outside it are "
        "not fitted). Red solid: tanh(aλ + b0), b0 free, fitted unweighted with the noise scale from the residuals "
        "(the authors' fit); black dashed: the same law weighted by the standard errors shown. The base model is "
        "steered towards the aligned set; the chat model away from it, so its curves are fitted as −mean and drawn as "
        "−tanh. αΔ = 2a (Theorem 1 with ½, full-gap Δ). Tables and notes: steering-bounds fit --paper."
    )
    add_caption(fig, caption, width=200)
    return fig


def render(out_dir: str | Path) -> list[Path]:
    """Write :data:`FILENAME` under ``out_dir`` and return its path in a list (the ``"paper-data"`` protocol)."""
    return [save(make_figure(), out_dir, FILENAME)]


if __name__ == "__main__":
    from paper_figures.build import main

    main(render)
