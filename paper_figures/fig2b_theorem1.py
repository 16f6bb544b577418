"""Fig. 2b of the paper: Theorem 1's alignment bound against λ for several unsteered behaviors B0.

Uses only the public API of :mod:`bounds`. Run ``python paper_figures/fig2b_theorem1.py [--out DIR]``; it writes
``fig2b_theorem1.png`` (λ < 0: the same expression is an upper bound, THEORY §0).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import bounds

B0_VALUES = (-0.9, -0.5, 0.0, 0.5, 0.9)


def make_figure(alpha_delta: float = 1.0) -> plt.Figure:
    """The bound tanh(αΔλ/2 + artanh B0) for each B0 in :data:`B0_VALUES`, with αΔ given."""
    lam = np.linspace(-10, 10, 401)
    fig, ax = plt.subplots(figsize=(6.0, 4.0), dpi=120)
    for b0 in B0_VALUES:
        ax.plot(lam, bounds.alignment_lower(alpha_delta, b0, lam, 1.0), label=f"$B_0={b0:+.1f}$")
    ax.axvline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel(r"steering coefficient $\lambda$ (= $r_e$)")
    ax.set_ylabel(r"bound on behavior expectation $B_{P_\lambda}(q)$")
    ax.set_ylim(-1.05, 1.05)
    ax.set_title(
        rf"Theorem 1: $\tanh(\alpha\Delta\lambda/2+\operatorname{{artanh}}B_0)$, $\alpha\Delta={alpha_delta:g}$"
        "\nlower bound for $\\lambda\\geq0$, upper bound for $\\lambda<0$",
        fontsize=10,
    )
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="output folder (default: current folder)")
    parser.add_argument("--alpha-delta", type=float, default=1.0, help="the product alpha*Delta (default 1)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "fig2b_theorem1.png"
    fig = make_figure(args.alpha_delta)
    fig.savefig(path)
    plt.close(fig)
    print(path)
    return path


if __name__ == "__main__":
    main()
