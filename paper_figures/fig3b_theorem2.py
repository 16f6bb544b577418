"""Fig. 3b of the paper: Theorem 2's helpfulness bound (eq. 6) against λ for several asymmetry factors γ.

The curves are :func:`bounds.helpfulness_upper`, the paper's functional form: **Theorem 2 as stated fails**, so they
are not a valid bound (docs/gallery.md). β is not the paper's 0.8 by default but the Monte-Carlo mean of
:math:`\\beta=\\min(Y^+,Y^-)` for a stated synthetic query (docs/specification.md §6.1's caution). Run
``python -m paper_figures.fig3b_theorem2 [--out DIR]``; it writes ``fig3b_theorem2.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import bounds
from bounds._plot import add_caption, new_figure
from bounds.simulate import simulate_helpfulness
from bounds.synthetic import synthetic_query
from paper_figures._common import save

FILENAME = "fig3b_theorem2.png"
#: the asymmetry factors drawn, one curve each (γ = 2 min(P+, P-)/(1 - p0) lies in [0, 1])
GAMMA_VALUES = (0.1, 0.25, 0.5, 0.75, 1.0)
#: the λ grid: 321 points on [-8, 8] (eq. 6 is even in λ)
LAM = np.linspace(-8.0, 8.0, 321)
#: the synthetic query whose mean β is used when none is given: k tokens, p0, wrong-answer shape, noise law
BETA_QUERY = {"k": 10, "p0": 0.5, "shape": "uniform", "law": "normal", "n_draws": 2000, "seed": 0}


def estimate_beta(
    k: int = 10, p0: float = 0.5, shape: str = "uniform", law: str = "normal", *, n_draws: int = 2000, seed: int = 0
) -> Any:
    """Monte-Carlo mean of :math:`\\beta=\\min(Y^+,Y^-)` (with its SE) for a synthetic query, σ = 1.

    Args:
        k: top-:math:`k` size (every token noised, no tail), ``>= 2``.
        p0: unsteered probability of the correct answer, in (0, 1).
        shape: wrong-answer shape (:data:`bounds.synthetic.WRONG_SHAPES`).
        law: noise law name (:func:`bounds.synthetic.as_noise_law`).
        n_draws: realisations, ``>= 2``. seed: noise seed.

    Returns:
        the :class:`~bounds._montecarlo.Estimate` of the mean β (``value``, ``se``, ``n``).
    """
    query = synthetic_query(k, p0, shape, seed)
    return simulate_helpfulness(query, law, np.zeros(1), seed, n_draws=n_draws).beta


def make_figure(
    p0: float = 0.5, alpha: float = 1.0, sigma: float = 1.0, beta: float | None = None, gammas: tuple = GAMMA_VALUES
) -> Any:
    """Eq. (6) against :data:`LAM` for each γ in ``gammas``; lines carry ``gid`` ``"gamma=<γ>"`` in that order.

    Args:
        p0: :math:`0<p_0\\le1`. alpha: :math:`\\alpha\\ge0`. sigma: :math:`\\sigma\\ge0`.
        beta: :math:`\\beta\\ge0`; ``None``: the Monte-Carlo mean of :func:`estimate_beta` on :data:`BETA_QUERY`.
        gammas: the γ values, each in [0, 1].

    Raises:
        ValueError: a parameter outside its domain (from :func:`bounds.helpfulness_upper`), or no γ.
    """
    if len(gammas) == 0:
        raise ValueError("gammas must hold at least one value in [0, 1], got none")
    if beta is None:
        est = estimate_beta(**BETA_QUERY)
        b, beta_note = (
            float(est.value),
            (
                f"β = {float(est.value):.3g} ± {float(est.se):.1g} (SE) is the Monte-Carlo mean of min(Y+, Y-) over "
                f"{est.n} draws of {BETA_QUERY['law']} noise on a synthetic query (k = {BETA_QUERY['k']}, "
                f"p0 = {BETA_QUERY['p0']:g}, {BETA_QUERY['shape']} wrong answers, seed {BETA_QUERY['seed']}), not the "
                "paper's √(2/π) ≈ 0.8 (docs/specification.md §6.1)"
            ),
        )
    else:
        b, beta_note = float(beta), f"β = {float(beta):g} (given)"
    st = bounds.statement("theorem-2")
    fig, ax = new_figure((7.0, 4.8))
    for g in gammas:
        y = bounds.helpfulness_upper(p0, g, alpha, b, sigma, LAM)
        ax.plot(LAM, y, lw=1.8, gid=f"gamma={g:g}", label=rf"$\gamma={g:g}$")
    ax.axhline(p0, color="0.35", ls="--", lw=1.0, label=rf"unsteered $p_0={p0:g}$")
    ax.axvline(0.0, color="0.7", lw=0.8)
    ax.set_xlim(LAM[0], LAM[-1])
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel(r"steering coefficient $\lambda$ (dimensionless)")
    ax.set_ylabel(r"eq. (6) bound on helpfulness $H_\lambda(q)$ (probability)")
    ax.set_title(
        f"Theorem 2 as stated (eq. 6), status: {st.status.upper()} in bounds.registry\n"
        rf"$p_0/(p_0+\gamma(1-p_0)(1+(\alpha\beta\sigma\lambda)^2/2))$, $\alpha\beta\sigma={alpha * b * sigma:.3g}$",
        fontsize=10,
    )
    ax.legend(loc="lower center", ncol=3, fontsize=8, title="asymmetry factor", title_fontsize=8)
    ax.grid(alpha=0.3)
    gs = ", ".join(f"{g:g}" for g in gammas)
    parts = [
        f"Source: bounds.helpfulness_upper, statement {st.id} ({st.name}; provenance {', '.join(st.provenance)}).",
        f"STATUS {st.status.upper()}: the inequality does not hold with the claimed probability 1 - 2/k (pinned",
        "counterexample and figure counterexample_theorem-2.png); drawn as the paper's functional form, which",
        f"the authors fit, not as a valid bound. Parameters: p0 = {p0:g}, α = {alpha:g}, σ = {sigma:g}, {beta_note};",
        f"γ ∈ {{{gs}}}; {LAM.size} values of λ from {LAM[0]:g} to {LAM[-1]:g}. Theory only: no model is involved.",
    ]
    add_caption(fig, " ".join(parts))
    return fig


def render(out_dir: str | Path, *, beta: float | None = None) -> list[Path]:
    """Write :data:`FILENAME` under ``out_dir`` and return its path in a list (the ``"theory"`` figure protocol)."""
    return [save(make_figure(beta=beta), out_dir, FILENAME)]


if __name__ == "__main__":
    from paper_figures.build import main

    main(render)
