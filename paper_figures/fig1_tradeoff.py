r"""Fig. 1 of the paper: the tradeoff, alignment rising linearly while helpfulness falls quadratically near λ = 0.

Drawn from :mod:`bounds` alone (what each curve is: docs/gallery.md and the caption). Run
``python -m paper_figures.fig1_tradeoff [--out DIR]``; it writes ``fig1_tradeoff.png``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import bounds
from bounds import tradeoff
from bounds._plot import add_caption, new_figure
from bounds.simulate import simulate_helpfulness
from bounds.synthetic import synthetic_query, two_token_extremal
from paper_figures._common import lam_grid, save

FILENAME = "fig1_tradeoff.png"


@dataclass(frozen=True)
class Params:
    """The parameters of Fig. 1 (all stated in its caption).

    Attributes:
        alpha: :math:`\\alpha>0`, :math:`\\|\\delta\\|=\\alpha|\\lambda|` (Assumption 1).
        delta: :math:`\\Delta>0`, the margin of Assumption 2.
        B0: unsteered behavior :math:`-1<B_0<1`.
        k: vocabulary of the synthetic query (every token noised), ``>= 2``.
        p0: unsteered probability of the correct answer, :math:`0<p_0<1`.
        shape: how the wrong answers share :math:`1-p_0` (:data:`bounds.synthetic.WRONG_SHAPES`).
        law: the noise law :math:`D` (a name of :func:`bounds.synthetic.as_noise_law`; symmetric for §12.2c).
        sigma: :math:`\\sigma>0`, standard deviation of each projection.
        lam_max: the λ grid is ``linspace(0, lam_max, n_lam)``.
        n_lam: grid points of the Monte-Carlo mean.
        n_draws: Monte-Carlo realisations.
        seed: seed of the noise.
    """

    alpha: float = 1.0
    delta: float = 1.0
    B0: float = -0.5
    k: int = 10
    p0: float = 0.6
    shape: str = "zipf"
    law: str = "normal"
    sigma: float = 1.0
    lam_max: float = 2.0
    n_lam: int = 41
    n_draws: int = 4000
    seed: int = 0


def compute(params: Params | None = None) -> dict[str, Any]:
    """Every plotted array of Fig. 1, computed from :mod:`bounds`.

    Returns:
        a dict with ``lam`` (the grid), ``B`` (Theorem 1), ``B_exact`` (two-token instance), ``B_tangent``,
        ``H_mean`` / ``H_se`` (Monte-Carlo), ``H_second_order`` (§12.2c), ``regime`` (list of ``(lo, hi)``),
        ``query`` (the :class:`~bounds.synthetic.SyntheticQuery`), ``sim`` (the simulation) and ``params``.

    Raises:
        ValueError: a parameter outside its domain (raised by the :mod:`bounds` function that checks it).
    """
    pr = Params() if params is None else params
    lam = lam_grid(pr.lam_max, pr.n_lam)
    B = np.asarray(bounds.alignment_lower(pr.alpha, pr.B0, lam, pr.delta))
    inst = two_token_extremal(pr.B0, pr.delta)
    B_exact = np.asarray(inst.behavior(pr.alpha * lam))
    b_law = tradeoff.alignment_theorem_1_law(pr.alpha, pr.delta, pr.B0)
    B_tangent = pr.B0 + float(b_law.d(0.0)) * lam
    query = synthetic_query(pr.k, pr.p0, pr.shape, pr.seed)
    sim = simulate_helpfulness(
        query, pr.law, lam, pr.seed, alpha=pr.alpha, sigma=pr.sigma, n_draws=int(pr.n_draws), noise="all"
    )
    H2 = np.asarray(bounds.helpfulness_expectation(query.p0, query.S2, pr.alpha, pr.sigma, lam))
    h_law = tradeoff.helpfulness_expectation_law(query.p0, query.S2, pr.alpha, pr.sigma)
    regime = tradeoff.efficient_regime(b_law, h_law, (0.0, pr.lam_max))
    return {
        "lam": lam,
        "B": B,
        "B_exact": B_exact,
        "B_tangent": B_tangent,
        "B_slope": float(b_law.d(0.0)),
        "H_mean": np.asarray(sim.mean_H.value),
        "H_se": np.asarray(sim.mean_H.se),
        "H_second_order": H2,
        "regime": regime,
        "query": query,
        "sim": sim,
        "params": pr,
    }


def make_figure(params: Params | None = None) -> Any:
    """Fig. 1 as a matplotlib ``Figure`` (Agg canvas); every line carries a ``gid`` naming its quantity."""
    d = compute(params)
    pr, lam, q, sim = d["params"], d["lam"], d["query"], d["sim"]
    fig, ax = new_figure((7.0, 5.0))
    for i, (lo, hi) in enumerate(d["regime"]):
        ax.axvspan(lo, hi, color="tab:green", alpha=0.10, lw=0, label="efficient regime $B'>-H'$" if i == 0 else None)
    ax.plot(lam, d["B"], color="tab:blue", lw=2.0, gid="B_theorem_1", label=r"alignment: Theorem 1 $B(\lambda)$")
    ax.plot(
        lam[::4],
        d["B_exact"][::4],
        "o",
        ms=4,
        mfc="none",
        color="tab:blue",
        gid="B_exact",
        label="exact $B$ of the two-token instance",
    )
    ax.plot(
        lam,
        d["B_tangent"],
        ":",
        color="tab:blue",
        lw=1.2,
        gid="B_tangent",
        label=rf"linear: $B_0+{d['B_slope']:.3g}\,\lambda$",
    )
    ax.fill_between(lam, d["H_mean"] - d["H_se"], d["H_mean"] + d["H_se"], color="tab:red", alpha=0.25, lw=0)
    ax.plot(lam, d["H_mean"], color="tab:red", lw=2.0, gid="H_mean", label=r"helpfulness: Monte-Carlo $E_z[H_\lambda]$")
    curv = q.p0 * (1 - q.p0) - q.S2
    ax.plot(
        lam,
        d["H_second_order"],
        "--",
        color="tab:red",
        lw=1.2,
        gid="H_second_order",
        label=rf"quadratic: $p_0-{q.p0 * (pr.alpha * pr.sigma) ** 2 * curv:.3g}\,\lambda^2$ (§12.2c)",
    )
    ax.axhline(0.0, color="0.8", lw=0.8)
    ax.set_xlim(lam[0], lam[-1])
    ax.set_ylim(-1.0, 1.0)
    ax.set_xlabel(r"steering coefficient $\lambda$ (dimensionless; $\|\delta\|=\alpha\lambda$)")
    ax.set_ylabel("behavior $B$ (in [-1, 1]) and helpfulness $H$ (in [0, 1])")
    ax.set_title("Alignment rises linearly, helpfulness falls quadratically near $\\lambda=0$", fontsize=10)
    ax.legend(loc="lower right", fontsize=7.5, framealpha=0.9)
    ax.grid(alpha=0.3)
    regime = ", ".join(f"[{lo:.3g}, {hi:.3g}]" for lo, hi in d["regime"]) or "empty"
    st1, st2 = bounds.statement("theorem-1"), bounds.statement("theorem-2-expectation")
    se_max = float(np.max(d["H_se"]))
    parts = [
        f"Theory only (bounds). Alignment: {st1.id} ({st1.status}) with α = {pr.alpha:g}, Δ = {pr.delta:g},",
        f"B0 = {pr.B0:g}; the two-token instance bounds.synthetic.two_token_extremal attains it exactly.",
        f"Helpfulness: Monte-Carlo mean over {sim.n_draws} draws of the noise law D = scipy {sim.law}",
        f"(σ = {pr.sigma:g}, seed {pr.seed}) on all {q.V} tokens of a synthetic query (p0 = {q.p0:g},",
        f"{pr.shape} wrong answers, S2 = {q.S2:.3g}), band ±1 SE (largest SE {se_max:.2g}); dashed: {st2.id}",
        f"({st2.status}), the second-order expansion, valid for small ασλ. Efficient regime",
        f"(bounds.tradeoff.efficient_regime on Theorem 1 and the second-order law, λ in [0, {pr.lam_max:g}]):",
        f"{regime}. λ grid: {lam.size} points from 0 to {pr.lam_max:g}.",
    ]
    add_caption(fig, " ".join(parts))
    return fig


def render(out_dir: str | Path, *, params: Params | None = None) -> list[Path]:
    """Write :data:`FILENAME` under ``out_dir`` and return its path in a list (the ``"theory"`` figure protocol)."""
    return [save(make_figure(params), out_dir, FILENAME)]


if __name__ == "__main__":
    from paper_figures.build import main

    main(render)
