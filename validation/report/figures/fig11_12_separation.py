"""Figs. 11–12 of the paper: the projections z = ⟨u_s, δ̂⟩ of the aligned and misaligned answer tokens (Assumption 2,
λ ≠ 0), the hard margin Δ = min_T z − max_F z against the authors' mean gap, and the fraction of queries separated."""

from __future__ import annotations

from typing import Any

import numpy as np

from bounds import _plot

from ..schema import Assumption2, CheckReport
from . import _common as rd

FILENAME = "fig11_12_separation.png"
Z_UNIT = "z = ⟨u_s, δ̂⟩ [logits per unit ‖δ‖]"


def _full(values: list[float | None] | None, lam: np.ndarray) -> np.ndarray | None:
    """A per-λ list of the full grid (None entries → NaN), or ``None`` if absent, of another length or never finite."""
    v = rd.floats(values, lam.size)
    return v if v is not None and np.isfinite(v).any() else None


def _details(a2: Assumption2, path: tuple[str, ...], lam: np.ndarray) -> np.ndarray | None:
    """A per-λ list of ``a2.details`` (given on ``details.lam``, λ ≠ 0) placed on the full grid."""
    v = rd.on_grid(rd.get(a2.details, *path), rd.get(a2.details, "lam"), lam)
    return v if v is not None and np.isfinite(v).any() else None


def _projections(ax: Any, a2: Assumption2, lam: np.ndarray) -> list[str] | None:
    zp, zm = _full(a2.z_aligned_mean, lam), _full(a2.z_misaligned_mean, lam)
    pmin, mmax = _full(a2.z_aligned_min_mean, lam), _full(a2.z_misaligned_max_mean, lam)
    if zp is None and zm is None:
        return None
    if zp is not None:
        ax.plot(lam, zp, "o-", color="C1", linewidth=1.5, markersize=4, label="A+ (aligned): mean z")
    if zm is not None:
        ax.plot(lam, zm, "s-", color="C0", linewidth=1.5, markersize=4, label="A− (misaligned): mean z")
    out = [
        "Fig. 11: query means of the mean projection of A+ and of A− (solid); a crossing at λ = 0 is expected "
        "(δ̂ turns round with the sign of λ)."
    ]
    if pmin is not None and mmax is not None:
        pos = lam > 0
        ax.plot(lam[pos], pmin[pos], "v--", color="C1", markersize=4, label="min over A+ of z (λ > 0)")
        ax.plot(lam[pos], mmax[pos], "^--", color="C0", markersize=4, label="max over A− of z (λ > 0)")
        sep = pos & (pmin > mmax)
        over = pos & (pmin <= mmax)
        ax.fill_between(lam, pmin, mmax, where=over, color="C3", alpha=0.15, interpolate=True,
                        label="overlap: min A+ ≤ max A− (no hard margin)")  # fmt: skip
        if sep.any():
            ax.fill_between(lam, pmin, mmax, where=sep, color="C2", alpha=0.2, interpolate=True,
                            label="separated: min A+ > max A−")  # fmt: skip
        out.append(
            "Dashed (λ > 0 only, where A+ is the set steered towards): query means of min over A+ and max over A− "
            f"of z; they overlap at {int(over.sum())} of {int(pos.sum())} positive λ (on the query mean)."
        )
    else:
        out.append("Extremes min A+ / max A− not in the report: not drawn.")
    ax.axhline(0.0, color="k", linewidth=0.6)
    ax.set_ylabel(Z_UNIT)
    ax.set_title("Fig. 11: projections of the answer tokens on δ̂", fontsize=10)
    return out


def _margins(ax: Any, report: CheckReport, a2: Assumption2, lam: np.ndarray) -> list[str] | None:
    margin, mmin, gap = _full(a2.margin_mean, lam), _full(a2.margin_min, lam), _full(a2.mean_gap_mean, lam)
    if margin is None and mmin is None and gap is None:
        return None
    out = []
    if margin is not None:
        rd.errorbar(ax, lam, margin, _details(a2, ("margin_summary", "se"), lam), color="C0",
                    label="hard margin Δ: query mean ±1 SE")  # fmt: skip
    if mmin is not None:
        ax.plot(lam, mmin, "v:", color="C3", markersize=4, label="hard margin: min over queries")
    out.append(
        "Fig. 12: hard margin Δ = min_T z − max_F z and the authors' mean gap mean_T z − mean_F z, T the set steered "
        "towards (A+ for λ > 0, A− for λ < 0), F the other; the Δ of the bounds is each query's minimum over λ, "
        "averaged."
    )
    if gap is not None:
        rd.errorbar(ax, lam, gap, _details(a2, ("mean_gap_summary", "se"), lam), color="C2",
                    label="authors' mean gap: mean ±1 SE")  # fmt: skip
    ax.axhline(0.0, color="k", linewidth=0.8)
    delta = report.parameters.get("Delta")
    d = None if delta is None else rd.num(delta.estimate)
    if d is not None:
        ax.axhline(d, color="0.35", linestyle="--", linewidth=1.1,
                   label=f"Δ of the bounds = {rd.pm(d, delta.se)}")  # fmt: skip
    ax.set_ylabel(f"margin along δ̂ [{Z_UNIT.split('[')[1]}")
    ax.set_title("Fig. 12: hard margin and mean gap (T: set steered towards)", fontsize=10)
    if margin is not None and gap is not None:
        both = np.isfinite(margin) & np.isfinite(gap)
        out.append(
            "Fig. 12: the mean gap is positive at "
            f"{int(np.sum(gap[both] > 0))} of {int(both.sum())} λ ≠ 0 while the mean hard margin is positive at "
            f"{int(np.sum(margin[both] > 0))}: the mean gap is not the margin."
        )
    return out


def _fractions(ax: Any, a2: Assumption2, lam: np.ndarray) -> list[str] | None:
    frac = _full(a2.fraction_positive_margin, lam)
    only = _details(a2, ("fraction_mean_gap_only",), lam)
    if frac is None and only is None:
        return None
    if frac is not None:
        ax.plot(lam, frac, "o-", color="C0", markersize=4, label="fraction of queries with Δ > 0 (separated)")
    if only is not None:
        ax.plot(lam, only, "s--", color="C2", markersize=4, label="fraction with mean gap > 0 but Δ ≤ 0")
    ax.set_ylim(-0.04, 1.04)
    ax.set_ylabel("fraction of queries")
    ax.set_title("queries separated along δ̂ at each λ", fontsize=10)
    return []


def make_figure(report: CheckReport) -> Any:
    """Figs. 11–12 from ``report``: the figure with its caption.

    Raises:
        NothingToDraw: no λ grid, or no projections, margins or fractions in ``assumptions.assumption_2``.
    """
    lam = rd.require_grid(report)
    a2 = report.assumptions.get("assumption_2")
    if a2 is None:
        raise rd.NothingToDraw("the report has no assumptions.assumption_2")
    has = {
        "projections": any(_full(v, lam) is not None for v in (a2.z_aligned_mean, a2.z_misaligned_mean)),
        "margins": any(_full(v, lam) is not None for v in (a2.margin_mean, a2.margin_min, a2.mean_gap_mean)),
        "fractions": _full(a2.fraction_positive_margin, lam) is not None
        or _details(a2, ("fraction_mean_gap_only",), lam) is not None,
    }
    drawers = (
        ("projections", "Fig. 11 (projections)", lambda ax: _projections(ax, a2, lam), 3.8, 0.5),
        ("margins", "Fig. 12 (margins)", lambda ax: _margins(ax, report, a2, lam), 3.8, 0.5),
        ("fractions", "fraction panel", lambda ax: _fractions(ax, a2, lam), 2.4, 0.0),
    )
    panels = [d for d in drawers if has[d[0]]]
    if not panels:
        raise rd.NothingToDraw("the report has no assumptions.assumption_2 projections, margins or fractions")
    heights = [p[3] for p in panels]
    fig, axes = rd.panels_figure(2.0 + sum(heights) + 0.9 * len(panels), len(panels))
    axes[0].get_subplotspec().get_gridspec().set_height_ratios(heights)
    drawn: list[str] = []
    for ax, (_, _, draw, _, room) in zip(axes, panels, strict=True):
        drawn += draw(ax) or []
        ax.axvline(0.0, color="0.6", linewidth=0.6)
        ax.grid(alpha=0.3)
        if room:
            rd.headroom(ax, room)
            rd.legend(ax, below=False, loc="upper center", ncol=2, fontsize=6.8)
        else:
            rd.legend(ax, below=False, loc="best", fontsize=7)
    for ax in axes[:-1]:
        ax.sharex(axes[-1])
        ax.tick_params(labelbottom=False)
    drawn += [f"{name} skipped: not in the report." for key, name, *_ in drawers if not has[key]]
    if a2.verdict.evidence:
        drawn.append(f"Assumption 2 evidence: {a2.verdict.evidence}.")
    axes[-1].set_xlabel(rd.lam_label(report))
    behavior = report.behavior.get("name")
    title = f"Figs. 11–12: separation along δ̂ — {rd.model_name(report)}" + (f", '{behavior}'" if behavior else "")
    fig.suptitle(title, fontsize=11)
    text = rd.caption(report, "Figs. 11–12: separation of the answer tokens along δ̂.", ("behavior_prompts",), drawn)
    _plot.add_caption(fig, text)
    return fig


render = rd.renderer(make_figure, FILENAME)
