"""Fig. 2b of the paper: Theorem 1's alignment bound against λ for several unsteered behaviors B0.

The curves are :func:`bounds.alignment_lower`: a lower bound for λ ≥ 0 and an upper bound for λ < 0 (docs/gallery.md).
Run ``python -m paper_figures.fig2b_theorem1 [--out DIR]``; it writes ``fig2b_theorem1.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import bounds
from bounds._plot import add_caption, new_figure
from paper_figures._common import save

#: the unsteered behavior expectations drawn, one curve each
B0_VALUES = (-0.9, -0.5, 0.0, 0.5, 0.9)
#: the λ grid: 401 points on [-10, 10]
LAM = np.linspace(-10.0, 10.0, 401)
FILENAME = "fig2b_theorem1.png"


def make_figure(alpha_delta: float = 1.0) -> Any:
    """The bound tanh(αΔλ/2 + artanh B0) for each B0 in :data:`B0_VALUES` on :data:`LAM`, with the product αΔ given.

    ``alpha_delta``: the product :math:`\\alpha\\Delta>0` (Assumption 1's slope times Assumption 2's margin;
    ``ValueError`` otherwise). The first ``len(B0_VALUES)`` lines of the axes are the curves, in that order; the
    figure (Agg canvas) has a caption naming the statement and the parameters.
    """
    ad = float(alpha_delta)
    if not np.isfinite(ad) or ad <= 0:
        raise ValueError(f"alpha_delta must be a finite number > 0, got {alpha_delta!r}")
    st = bounds.statement("theorem-1")
    fig, ax = new_figure((7.0, 4.6))
    for b0 in B0_VALUES:
        ax.plot(LAM, bounds.alignment_lower(ad, b0, LAM, 1.0), lw=1.8, label=f"$B_0={b0:+.1f}$", gid=f"B0={b0:g}")
    ax.axvline(0.0, color="0.6", lw=0.8)
    ax.axhline(0.0, color="0.85", lw=0.8)
    ax.set_xlabel(r"steering coefficient $\lambda$ (= $r_e$, dimensionless)")
    ax.set_ylabel(r"bound on behavior expectation $B_{P_\lambda}(q)$ (in $[-1,1]$)")
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlim(LAM[0], LAM[-1])
    ax.set_title(
        rf"Theorem 1: $\tanh(\alpha\Delta\lambda/2+\operatorname{{artanh}}B_0)$, $\alpha\Delta={ad:g}$"
        "\nlower bound for $\\lambda\\geq0$, upper bound for $\\lambda<0$",
        fontsize=10,
    )
    ax.legend(loc="lower right", fontsize=8, title="unsteered behavior", title_fontsize=8)
    ax.grid(alpha=0.3)
    b0s = ", ".join(f"{b:g}" for b in B0_VALUES)
    add_caption(
        fig,
        f"Source: bounds.alignment_lower, statement {st.id} ({st.name}; status {st.status}; provenance "
        f"{', '.join(st.provenance)}): {st.text()}. Parameters: αΔ = {ad:g}, B0 ∈ {{{b0s}}}, "
        f"{LAM.size} values of λ from {LAM[0]:g} to {LAM[-1]:g}. For λ < 0 the same expression is an upper bound "
        "(docs/specification.md §0). Theory only: no model is involved.",
    )
    return fig


def render(out_dir: str | Path, *, alpha_delta: float = 1.0) -> list[Path]:
    """Write :data:`FILENAME` under ``out_dir`` and return its path in a list (the ``"theory"`` figure protocol)."""
    return [save(make_figure(alpha_delta), out_dir, FILENAME)]


if __name__ == "__main__":
    from paper_figures.build import main

    main(render)
