"""Figs. 9–10 of the paper: Assumption 3's logit noise. The pooled contrasts (z_b − z_a*)/σ of the MMLU queries'
top-k tokens with N(0, 2) (what i.i.d. projections predict) and the sample's own normal; the within-query SD of the
top-k logit changes against ‖δ‖ (``spread_by_lambda``, ``curves.mmlu_delta_norm_post``) with the line σ‖δ‖."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from bounds import _plot

from ..schema import CheckReport
from . import _common as rd

FILENAME = "fig9_10_noise.png"


def _sigma(report: CheckReport) -> float | None:
    p = report.parameters.get("sigma")
    return None if p is None else rd.num(p.estimate)


def standardized_differences(report: CheckReport) -> tuple[np.ndarray, float] | None:
    """The pooled :math:`(z_b-z_{a^*})/\\sigma` (finite values) and σ, or ``None`` when absent or σ ≤ 0."""
    sigma = _sigma(report)
    a3 = report.assumptions.get("assumption_3")
    if sigma is None or sigma <= 0 or a3 is None or a3.differences is None:
        return None
    arr = rd.floats([v for row in a3.differences for v in row])
    arr = arr[np.isfinite(arr)] / sigma
    return (arr, sigma) if arr.size >= 2 else None


def _normal(x: np.ndarray, mean: float, sd: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mean) / sd) ** 2) / (sd * math.sqrt(2.0 * math.pi))


def _histogram(ax: Any, report: CheckReport, d: np.ndarray, sigma: float) -> list[str]:
    a3 = report.assumptions["assumption_3"]
    n_q, k, lref = rd.get(a3.details, "n_queries"), a3.k, rd.num(a3.lambda_ref)
    ax.hist(d, bins=min(50, max(10, int(1.2 * math.sqrt(d.size)))), density=True, color="C0", alpha=0.55,
            edgecolor="white", linewidth=0.4, label=f"(z_b − z_a*)/σ, {d.size} contrasts")  # fmt: skip
    m, s = float(np.mean(d)), float(np.std(d, ddof=1))
    lim = max(4.0 * math.sqrt(2.0), float(np.max(np.abs(d - m))) + abs(m))
    xs = np.linspace(-lim, lim, 400)
    ax.plot(xs, _normal(xs, 0.0, math.sqrt(2.0)), "k--", linewidth=1.4, label="N(0, 2): i.i.d. prediction")
    ax.plot(xs, _normal(xs, m, s), "-", color="C3", linewidth=1.4, label=f"N({m:.2f}, {s:.2f}²): sample mean, SD")
    ax.set_xlabel("(z_b − z_a*) / σ  [units of σ]")
    ax.set_ylabel("density")
    pv = {name: rd.num(t["pvalue"]) for name, t in (a3.tests or {}).items()}
    shown = [f"{n} p = {p:.2g}" for n, p in pv.items() if p is not None and n in ("shapiro", "rank_correlation")]
    ax.set_title("Fig. 9: logit-noise projections" + (f" ({'; '.join(shown)})" if shown else ""), fontsize=10)
    out = [
        f"Fig. 9: {d.size} contrasts z_b − z_a* of the top-{k if k is not None else '?'} tokens of "
        f"{n_q if n_q is not None else '?'} MMLU queries against the correct answer, at λ_ref = "
        + (f"{lref:.3g}" if lref is not None else "?")
        + f", in units of the within-query spread σ = {sigma:.4g}; sample mean {m:.3g}, SD {s:.3g} (√2 = 1.414 "
        "expected under i.i.d. projections: the contrasts share z_a*)."
    ]
    if pv:
        out.append(
            "Tests (p-values): " + ", ".join(f"{n} {p:.2g}" for n, p in pv.items() if p is not None) + "; normality "
            "is not the assumption (i.i.d. with finite variance is)."
        )
    if a3.verdict.passed is not None:
        out.append(f"Assumption 3 verdict: {'pass' if a3.verdict.passed else 'fail'}.")
    return out


def _spread(ax: Any, report: CheckReport, sbl: Mapping[str, Any]) -> list[str] | None:
    lam = rd.floats(report.lam)
    norm = report.curves.get("mmlu_delta_norm_post")
    if lam is None or norm is None:
        return None
    G = lam.size
    x, xse = rd.floats(norm.mean, G), rd.floats(norm.se, G)
    y, yse = rd.floats(rd.get(sbl, "logit_change_sd", "mean"), G), rd.floats(rd.get(sbl, "logit_change_sd", "se"), G)
    pred = rd.floats(sbl.get("sigma_times_norm"), G)
    if x is None or y is None or not np.isfinite(x + y).any():
        return None
    for mask, color, marker, label in (  # λ = 0 (δ = 0, no spread) is left out
        (lam > 0, "C0", "o", "λ > 0"),
        (lam < 0, "C3", "s", "λ < 0"),
    ):
        if mask.any():
            ax.errorbar(x[mask], y[mask], xerr=None if xse is None else xse[mask],
                        yerr=None if yse is None else yse[mask], fmt=marker, color=color, markersize=5, capsize=3,
                        label=f"measured SD, {label}")  # fmt: skip
    out = []
    sigma = _sigma(report)
    if pred is not None and np.isfinite(pred).any():
        order = np.argsort(x)
        ok = np.isfinite(x[order]) & np.isfinite(pred[order])
        ax.plot(x[order][ok], pred[order][ok], "k--", linewidth=1.3,
                label="σ‖δ‖" + (f", σ = {sigma:.3g}" if sigma is not None else ""))  # fmt: skip
        fin = np.isfinite(x) & np.isfinite(y) & np.isfinite(pred) & (pred > 0)
        if fin.any():
            ratio = y[fin] / pred[fin]
            out.append(
                f"Measured SD / σ‖δ‖ ranges over [{ratio.min():.3g}, {ratio.max():.3g}] across the λ ≠ 0 of the grid."
            )
    else:
        out.append("No sigma_times_norm in the report: the line σ‖δ‖ is not drawn.")
    n = norm.n
    ax.set_xlabel("‖δ‖ on MMLU prompts [hidden-state units]")
    ax.set_ylabel("SD of top-k logit changes [logits]")
    ax.set_title("Fig. 10: spread of the logit changes vs ‖δ‖", fontsize=10)
    note = sbl.get("note", "")
    out.insert(
        0,
        f"Fig. 10: per λ, the query-mean ‖δ‖ and within-query SD of the top-k logit changes (n = {n} MMLU queries, "
        f"±1 SE both ways); dashed: σ‖δ‖. {note}.",
    )
    return out


def make_figure(report: CheckReport) -> Any:
    """Figs. 9–10 from ``report``: the figure with its caption.

    Raises:
        NothingToDraw: neither ``assumption_3.differences`` (with σ > 0) nor ``assumption_3.spread_by_lambda``.
    """
    diff = standardized_differences(report)
    a3 = report.assumptions.get("assumption_3")
    sbl = None if a3 is None else a3.spread_by_lambda
    has_spread = sbl is not None and bool(report.lam)
    if diff is None and not has_spread:
        raise rd.NothingToDraw(
            "the report has neither assumptions.assumption_3.differences (with sigma > 0) nor "
            "assumptions.assumption_3.spread_by_lambda"
        )
    n_panels = int(diff is not None) + int(has_spread)
    fig, axes = rd.panels_figure(1.8 + 3.9 * n_panels, n_panels)
    drawn: list[str] = []
    i = 0
    if diff is not None:
        drawn += _histogram(axes[i], report, *diff)
        rd.legend(axes[i], below=False, loc="upper left")
        axes[i].grid(alpha=0.3)
        i += 1
    else:
        drawn.append("Fig. 9 skipped: no assumption_3.differences (or σ) in the report.")
    if has_spread:
        sentences = _spread(axes[i], report, sbl)
        if sentences is None:
            axes[i].set_axis_off()
            drawn.append("Fig. 10 skipped: assumption_3.spread_by_lambda is malformed.")
        else:
            drawn += sentences
            rd.legend(axes[i], below=False, loc="upper left")
            axes[i].grid(alpha=0.3)
            axes[i].set_xlim(left=0.0)
            axes[i].set_ylim(bottom=0.0)
    else:
        drawn.append("Fig. 10 skipped: no assumption_3.spread_by_lambda in the report.")
    fig.suptitle(f"Figs. 9–10: logit noise (Assumption 3) — {rd.model_name(report)}", fontsize=11)
    text = rd.caption(report, "Figs. 9–10: the logit noise of Assumption 3.", ("mmlu",), drawn)
    _plot.add_caption(fig, text)
    return fig


render = rd.renderer(make_figure, FILENAME)
