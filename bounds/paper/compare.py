"""Where the weighted and the unweighted fit of one curve disagree, and which points carry the weighted fit."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def disagreements(unweighted: Any, weighted: Any) -> list[str]:
    """One sentence per disagreement of two :class:`~bounds.paper.fits.Fit` of the same curve and law.

    A parameter disagrees when its two values differ by more than the larger of the two intervals' half-widths
    (undecided, and said so, when an interval is unbounded); a comparison disagrees when its winner by AIC or by BIC
    differs.
    """
    out = []
    for name, pu in unweighted.params.items():
        pw = weighted.params[name]
        half = max(pu.half_width, pw.half_width)
        diff = abs(pw.value - pu.value)
        if not math.isfinite(half):
            continue
        if diff > half:
            out.append(
                f"{name}: weighted {pw.value:.4g} vs unweighted {pu.value:.4g}, a difference of {diff:.3g} > "
                f"{half:.3g} (the larger interval half-width)"
            )
    cu, cw = unweighted.comparison, weighted.comparison
    for crit in ("aic", "bic"):
        bu, bw = getattr(cu, f"best_{crit}"), getattr(cw, f"best_{crit}")
        if bu != bw:
            delta = getattr(cw, f"delta_{crit}")[bu]
            out.append(
                f"best by {crit.upper()}: weighted {bw} vs unweighted {bu} (weighted Δ{crit.upper()} of {bu}: "
                f"{delta:.3g})"
            )
    return out


def weight_story(lam: np.ndarray, std: np.ndarray, share: np.ndarray) -> str:
    """Which points carry the weighted fit's weight: the heaviest points holding half of it, and the share of the
    points with a published std of 0 (every prompt or question scored the same)."""
    order = np.argsort(-share, kind="stable")
    held = np.cumsum(share[order])
    k = int(np.searchsorted(held, 0.5) + 1)
    heavy = sorted(float(x) for x in lam[order[:k]])
    text = (
        f"half the weight on {k} of {lam.size} points (λ = {', '.join(f'{x:g}' for x in heavy)}; "
        f"uniform would be {k / lam.size:.0%})"
    )
    zero = std == 0
    if zero.any():
        text += f"; the {int(zero.sum())} points with std 0 carry {float(share[zero].sum()):.0%}"
    return text
