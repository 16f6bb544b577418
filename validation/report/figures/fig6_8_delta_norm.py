"""Figs. 6–8 of the paper: ‖δ‖ after the final norm with Assumption 1's α|λ| (``parameters.alpha``) and its linear
range, the pre-norm residual change and ‖Uδ‖ with their one-sided slopes α± (``assumption_1.details``), vs λ."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bounds import _plot

from ..schema import CheckReport
from . import _common as rd

FILENAME = "fig6_8_delta_norm.png"
# (panel title, curves (key, color, default legend), details quantity, y label)
PANELS = (
    (
        "Fig. 6: ‖δ‖ after the final norm (what U multiplies)",
        (("delta_norm_post", "C0", "‖δ‖ behavior prompts"), ("mmlu_delta_norm_post", "C2", "‖δ‖ MMLU prompts")),
        "delta_final",
        "‖δ‖ after final norm [hidden-state units]",
    ),
    (
        "Fig. 7: change of the pre-norm residual stream",
        (("delta_norm_pre", "C1", "‖Δh‖ pre-norm residual"),),
        "delta_residual",
        "‖Δh‖ pre-norm [hidden-state units]",
    ),
    (
        "Fig. 8: logit change ‖Uδ‖",
        (("delta_logit_norm", "C4", "‖Uδ‖"),),
        "U_delta",
        "‖Uδ‖ [logits]",
    ),
)


def _side(report: CheckReport, quantity: str, side: str) -> Mapping[str, Any] | None:
    a1 = report.assumptions.get("assumption_1")
    s = None if a1 is None else rd.get(a1.details, "quantities", quantity, "sides", side)
    return s if isinstance(s, Mapping) and s.get("available", True) else None


def _side_lines(ax: Any, report: CheckReport, lam: np.ndarray, quantity: str, color: str) -> list[str]:
    """Draw α₊λ (λ ≥ 0) and α₋|λ| (λ ≤ 0) with their linear ranges; return caption sentences."""
    out = []
    for side, sign, sub, style in (("positive", 1.0, "₊", "--"), ("negative", -1.0, "₋", "-.")):
        s = _side(report, quantity, side)
        alpha = rd.num(rd.get(s, "alpha_curve"))
        if s is None or alpha is None:
            continue
        edge = lam.max() if sign > 0 else lam.min()
        if edge * sign <= 0:
            continue
        xs = np.linspace(0.0, edge, 50)
        se = rd.num(s.get("alpha_curve_se"))
        r2 = rd.num(s.get("r2"))
        r2_text = f" (R² = {r2:.3g})" if r2 is not None else ""
        ax.plot(xs, alpha * np.abs(xs), style, color="k", linewidth=1.1,
                label=f"α{sub}|λ|, α{sub} = {rd.pm(alpha, se)}{r2_text}")  # fmt: skip
        upto = rd.num(s.get("linear_up_to"))
        linear = bool(s.get("linear")) and upto is not None and upto > 0
        if linear:
            ax.axvspan(0.0, sign * upto, color=color, alpha=0.10,
                       label=f"linear range λ{'≥' if sign > 0 else '≤'}0: up to |λ| = {upto:.3g}")  # fmt: skip
            out.append(f"λ {'>' if sign > 0 else '<'} 0: α{sub} = {rd.pm(alpha, se)}, linear up to |λ| = {upto:.3g}.")
        else:
            rd.no_data_entry(ax, f"λ{'≥' if sign > 0 else '≤'}0: not linear within 10 %")
            out.append(f"λ {'>' if sign > 0 else '<'} 0: α{sub} = {rd.pm(alpha, se)}, no linear range within 10 %.")
    return out


def _global_alpha(ax: Any, report: CheckReport, lam: np.ndarray, color: str) -> list[str]:
    """Draw Assumption 1's α|λ| and its linear range (``assumption_1.linear_range``); return caption sentences."""
    a1 = report.assumptions.get("assumption_1")
    alpha = report.parameters.get("alpha")
    est = None if alpha is None else rd.num(alpha.estimate)
    out = []
    if est is None:
        out.append("Fig. 6: no α in the report (parameters.alpha): α|λ| not drawn.")
    else:
        xs = np.linspace(lam.min(), lam.max(), 401)
        side = alpha.side
        ax.plot(xs, est * np.abs(xs), "--", color="k", linewidth=1.2,
                label=f"α|λ|, α = {rd.pm(est, alpha.se)}" + (f" ({side} fit)" if side else ""))  # fmt: skip
        lo, hi = rd.num(alpha.ci_low), rd.num(alpha.ci_high)
        ci = f", 95 % interval [{lo:.3g}, {hi:.3g}]" if lo is not None and hi is not None else ""
        out.append(f"Fig. 6: α = {rd.pm(est, alpha.se)}{ci} ({side or '?'} fit; the α the bounds use).")
    lr = None if a1 is None else rd.floats(a1.linear_range, 2)
    if lr is not None and np.all(np.isfinite(lr)) and lr[1] > lr[0]:
        ax.axvspan(lr[0], lr[1], color=color, alpha=0.10, label=f"linear range [{lr[0]:.3g}, {lr[1]:.3g}]")
        out.append(f"Shaded: linear range λ ∈ [{lr[0]:.3g}, {lr[1]:.3g}] (query-mean ‖δ‖ within 10 % of a line).")
    if a1 is not None and a1.verdict.evidence:
        out.append(f"Assumption 1 evidence: {a1.verdict.evidence}.")
    return out


def make_figure(report: CheckReport) -> Any:
    """Figs. 6–8 from ``report``: the figure with its caption.

    Raises:
        NothingToDraw: no λ grid, or none of the curves ``delta_norm_post``, ``mmlu_delta_norm_post``,
            ``delta_norm_pre``, ``delta_logit_norm``.
    """
    lam = rd.require_grid(report)
    panels = []
    drawn: list[str] = []
    for title, keys, quantity, ylabel in PANELS:
        present = [(s, c) for key, c, dflt in keys if (s := rd.curve(report, key, lam, dflt)) is not None]
        if present:
            panels.append((title, present, quantity, ylabel))
        else:
            drawn.append(f"{title.split(':')[0]} skipped: no curves.{' / curves.'.join(k for k, *_ in keys)}.")
    if not panels:
        raise rd.NothingToDraw("the report has none of the ‖δ‖ curves (delta_norm_post, delta_norm_pre, ...)")
    fig, axes = rd.panels_figure(1.6 + 3.4 * len(panels), len(panels))
    for ax, (title, present, quantity, ylabel) in zip(axes, panels, strict=True):
        for s, color in present:
            rd.errorbar(ax, lam, s.mean, s.se, color=color, label=f"{s.legend} (n = {s.n}), ±1 SE")
        color = present[0][1]
        if quantity == "delta_final":
            drawn += _global_alpha(ax, report, lam, color)
        else:
            sentences = _side_lines(ax, report, lam, quantity, color)
            if sentences:
                drawn.append(f"{title.split(':')[0]} (dashed: one-sided fits): " + " ".join(sentences))
            else:
                drawn.append(f"{title.split(':')[0]}: no one-sided fits in the report (assumption_1.details).")
        ax.axvline(0.0, color="0.6", linewidth=0.6)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0.0)
        rd.legend(ax, below=False, loc="upper center", fontsize=7)
        ax.set_xlim(lam.min() - 0.03 * np.ptp(lam), lam.max() + 0.03 * np.ptp(lam))
    for ax in axes[:-1]:
        ax.sharex(axes[-1])
        ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel(rd.lam_label(report))
    fig.suptitle(f"Figs. 6–8: ‖δ‖ vs λ — {rd.model_name(report)}", fontsize=11)
    text = rd.caption(report, "Figs. 6–8: norm of the representation change vs λ.", ("behavior_prompts", "mmlu"), drawn)
    _plot.add_caption(fig, text)
    return fig


render = rd.renderer(make_figure, FILENAME)
