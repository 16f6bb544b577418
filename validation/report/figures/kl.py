"""The KL price of steering: the measured KL(P_λ‖P_0) per λ (MMLU last prompt token with its interval, PIQA, the
benign matched prompts of the behavior data with their interval) against
the second-order law ½‖δ‖²Var_{P_0}(z) (with the measured ‖δ‖ and with α|λ|) and the rigorous bound ‖δ‖²R_z²/8,
on a log scale, with the KL budget τ and the λ that spend it (``report.kl``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from bounds import _plot

from ..schema import CheckReport
from . import _common as rd

FILENAME = "kl.png"


def _positive(x: np.ndarray | None) -> np.ndarray | None:
    """``x`` with entries <= 0 masked (NaN) for a log axis."""
    return None if x is None else np.where(x > 0, x, np.nan)


def _g(x: Any) -> str:
    v = rd.num(x)
    return "none" if v is None else f"λ = {v:.3g}"


def make_figure(report: CheckReport) -> Any:
    """Measured vs predicted KL per λ on each side of 0 (|λ| on the x axis, log-log), and its caption.

    Raises:
        NothingToDraw: no ``kl`` with a measured MMLU curve in the report.
    """
    kl = report.kl
    lam = rd.require_grid(report)
    mm = (kl.measured or {}).get("mmlu") if kl is not None else None
    mean = rd.floats(mm.get("mean"), lam.size) if mm else None
    if kl is None or mean is None:
        raise rd.NothingToDraw("the report has no measured KL (report.kl.measured.mmlu)")
    lo, hi = (rd.floats(mm.get(k), lam.size) for k in ("ci_low", "ci_high"))
    sides = [s for s in (1.0, -1.0) if np.any(np.sign(lam) == s)]
    fig, axes = _plot.new_figure((5.0 * len(sides), 4.8), ncols=len(sides), squeeze=False)
    lines = {
        "predicted ½‖δ_q‖²Var_q (measured ‖δ‖)": (rd.floats(kl.predicted_norm, lam.size), "-", "C1"),
        "predicted ½α²λ²Var_q (Assumption 1)": (rd.floats(kl.predicted_alpha, lam.size), "--", "C2"),
        "rigorous bound ‖δ_q‖²R_q²/8": (rd.floats(kl.bound, lam.size), ":", "C3"),
    }
    piqa = {
        "PIQA last context token": (kl.measured or {}).get("piqa_context"),
        "PIQA answer, per token": (kl.measured or {}).get("piqa_continuation"),
    }
    benign = (kl.measured or {}).get("benign")
    budget = kl.budget
    for ax, side in zip(axes[0], sides, strict=True):
        sel = np.sign(lam) == side
        x = np.abs(lam[sel])
        order = np.argsort(x)
        x = x[order]

        def pick(a: np.ndarray | None, sel: np.ndarray = sel, order: np.ndarray = order) -> np.ndarray | None:
            return None if a is None else _positive(a[sel][order])

        m = pick(mean)
        err = None
        if lo is not None and hi is not None:
            lo_s, hi_s = lo[sel][order], hi[sel][order]
            err = np.vstack([np.clip(m - np.maximum(lo_s, m * 1e-3), 0, None), np.clip(hi_s - m, 0, None)])
            err = np.where(np.isfinite(err), err, 0.0)
        ax.errorbar(x, m, yerr=err, fmt="o-", color="C0", markersize=4, capsize=2, linewidth=1.4,
                    label="measured, MMLU last token (mean, CI)")  # fmt: skip
        for (label, data), colour in zip(piqa.items(), ("C4", "C5"), strict=True):
            if data:
                ax.plot(x, pick(rd.floats(data.get("mean"), lam.size)), "s-", color=colour, markersize=3,
                        linewidth=0.9, alpha=0.8, label=f"measured, {label}")  # fmt: skip
        if benign:
            bm = pick(rd.floats(benign.get("mean"), lam.size))
            ax.plot(x, bm, "^-", color="C6", markersize=3.5, linewidth=1.1, label="benign prompts (behavior data)")
            blo, bhi = (pick(rd.floats(benign.get(k), lam.size)) for k in ("ci_low", "ci_high"))
            if blo is not None and bhi is not None:
                ax.fill_between(x, np.where(np.isfinite(blo), blo, bm), bhi, color="C6", alpha=0.15, linewidth=0)
        for label, (values, style, colour) in lines.items():
            if values is not None:
                ax.plot(x, pick(values), style, color=colour, linewidth=1.4, label=label)
        if budget is not None and rd.num(budget.tau) is not None:
            ax.axhline(float(budget.tau), color="0.4", linewidth=0.8, label=f"budget τ = {budget.tau:g} nats")
            if side > 0:
                for key, colour in (("measured", "C0"), ("second_order", "C2"), ("safe_mean", "C3")):
                    at = rd.num(getattr(budget, key))
                    if at is not None and 0 < at <= x.max():
                        ax.axvline(at, color=colour, linewidth=0.8, alpha=0.7)
        _plot.log_scale(ax)
        ax.set_xlabel(f"|λ| (λ {'> 0' if side > 0 else '< 0'})")
        ax.set_ylabel("KL(P_λ ‖ P_0), nats")
        ax.set_title(f"λ {'> 0' if side > 0 else '< 0'}", fontsize=9.5)
        ax.grid(alpha=0.3, which="both")
        rd.legend(ax, below=False, loc="upper left", fontsize=6.5)
    drawn = [
        f"Means over the MMLU queries of the measured KL "
        f"and of the per-query predictions with Var_q and R_q of z = U δ̂ read at λ_ref = {rd.num(kl.lam_ref) or 0:.3g}"
        f". {(kl.regime or '')[:1].upper()}{(kl.regime or '')[1:]}."
    ]
    if budget is not None:
        drawn.append(
            f"Vertical lines: the λ > 0 spending τ, measured ({_g(budget.measured)}), second-order "
            f"({_g(budget.second_order)}), safe for the mean ({_g(budget.safe_mean)})."
        )
    fig.suptitle(rd.model_title(report, "the KL price of steering"), fontsize=11)
    bars = f"the {rd.num(kl.level) or 0.95:.0%} t interval of the mean KL over the MMLU queries"
    if benign:
        bars += "; shaded: the same for the benign matched prompts of the behavior data (last prompt token)"
    keys = ("mmlu", "piqa", "benign_prompts") if benign else ("mmlu", "piqa")
    text = rd.caption(report, "KL divergence of the next-token distribution.", keys, drawn, error_bars=bars)
    _plot.add_caption(fig, text, width=int(60 * len(sides)))
    return fig


render = rd.renderer(make_figure, FILENAME)
