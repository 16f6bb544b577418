"""Per-query steerability: each behavior prompt's slope near λ = 0 with its interval (the prompts that move against
the vector highlighted), and the slope against the αΔ_q that Theorem 1 says drives it (``report.steerability``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from bounds import _plot

from ..schema import CheckReport, Slopes
from . import _common as rd

FILENAME = "steerability.png"
_COLOURS = {"wrong": "C3", "right": "C2", "open": "0.55"}
_TITLES = {"B_single_binary": "binary B", "logit_difference": "log P(A+) − log P(A−)"}


def _arrays(m: Slopes) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Slopes and their interval ends (NaN where undefined), or ``None`` when no slope is finite."""
    n = len(m.slope or [])
    slope, lo, hi = (rd.floats(v, n) for v in (m.slope, m.ci_low, m.ci_high))
    if slope is None or not np.isfinite(slope).any():
        return None
    nan = np.full(n, np.nan)
    return slope, nan if lo is None else lo, nan if hi is None else hi


def _kinds(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``"wrong"`` (interval below 0), ``"right"`` (above 0) or ``"open"`` (contains 0, or no interval)."""
    return np.where(hi < 0, "wrong", np.where(lo > 0, "right", "open"))


def _forest(ax: Any, name: str, m: Slopes, arrays: tuple[np.ndarray, ...]) -> str:
    slope, lo, hi = arrays
    kinds = _kinds(lo, hi)
    order = np.argsort(np.where(np.isfinite(slope), slope, np.inf), kind="stable")
    rank = np.empty(slope.size, dtype=int)
    rank[order] = np.arange(slope.size)
    labels = {"wrong": "interval below 0 (wrong way)", "right": "interval above 0", "open": "interval contains 0"}
    for kind, colour in _COLOURS.items():
        sel = (kinds == kind) & np.isfinite(slope)
        if not sel.any():
            continue
        err = np.vstack([slope[sel] - lo[sel], hi[sel] - slope[sel]])
        err = np.where(np.isfinite(err), err, 0.0)
        ax.errorbar(rank[sel], slope[sel], yerr=err, fmt="o", color=colour, markersize=4, capsize=2, linewidth=1,
                    label=f"{labels[kind]}: {int(sel.sum())}")  # fmt: skip
    ax.axhline(0.0, color="k", linewidth=0.8)
    mean = rd.num(m.mean)
    if mean is not None:
        ax.axhline(mean, color="0.35", linestyle="--", linewidth=1, label=f"mean slope {rd.pm(mean, m.mean_se)}")
    ax.set_xlabel("prompts, sorted by slope")
    ax.set_ylabel(f"slope d/dλ of {_TITLES.get(name, name)}")
    ax.set_title(f"{_TITLES.get(name, name)}: per-prompt slope ± {_level(m)} CI", fontsize=9.5)
    share = rd.num(m.wrong_way_share)
    text = f"{name}: {m.n_wrong_way} of {m.n_with_interval} prompts with an interval steer the wrong way"
    if share is not None:
        text += (
            f" ({share:.0%}, Wilson {_level(m)} [{rd.num(m.wrong_way_low) or 0:.0%}, "
            f"{rd.num(m.wrong_way_high) or 0:.0%}])"
        )
    return text + f", {m.n_right_way} the right way."


def _scatter(ax: Any, name: str, m: Slopes, arrays: tuple[np.ndarray, ...], drive: np.ndarray | None) -> str:
    slope, lo, hi = arrays
    if drive is None or not (np.isfinite(drive) & np.isfinite(slope)).any():
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no αΔ_q in the report", ha="center", va="center", transform=ax.transAxes)
        return f"{name}: no αΔ_q to rank against."
    kinds = _kinds(lo, hi)
    for kind, colour in _COLOURS.items():
        sel = (kinds == kind) & np.isfinite(slope) & np.isfinite(drive)
        if sel.any():
            err = np.where(np.isfinite(lo[sel]), np.vstack([slope[sel] - lo[sel], hi[sel] - slope[sel]]), 0.0)
            ax.errorbar(drive[sel], slope[sel], yerr=err, fmt="o", color=colour, markersize=4, capsize=2,
                        linewidth=0.8)  # fmt: skip
    if name == "logit_difference":
        x = np.array([np.nanmin(drive), np.nanmax(drive)])
        ax.plot(x, x, ":", color="C0", linewidth=1.2, label="slope = αΔ_q (first-order lower bound)")
        rd.legend(ax, below=False, loc="best", fontsize=7)
    ax.axhline(0.0, color="k", linewidth=0.8)
    ax.axvline(0.0, color="0.6", linewidth=0.6)
    ax.set_xlabel("αΔ_q (α × the prompt's hard margin on the window)")
    ax.set_ylabel(f"slope of {_TITLES.get(name, name)}")
    rho = rd.num(m.spearman_rho)
    stat = (
        f"Spearman ρ = {rho:+.2f} (p = {rd.num(m.spearman_p) or 0:.2g}, n = {m.spearman_n})"
        if rho is not None
        else (f"no Spearman ρ: {m.spearman_note}")
    )
    ax.set_title(stat, fontsize=9.5)
    return f"{name}: {stat}."


def _level(m: Slopes) -> str:
    level = rd.num(m.level)
    return f"{level:.0%}" if level is not None else ""


def make_figure(report: CheckReport) -> Any:
    """The steerability figure of ``report``: per measure a column with the per-prompt slopes (sorted, with their
    intervals) over the slope against αΔ_q, and its caption.

    Raises:
        NothingToDraw: no ``steerability`` in the report, or no measure with a finite slope.
    """
    st = report.steerability
    if st is None or not st.measures:
        raise rd.NothingToDraw("the report has no steerability (report.steerability.measures)")
    cols = [(k, m, a) for k, m in st.measures.items() if (a := _arrays(m)) is not None]
    if not cols:
        raise rd.NothingToDraw("the report's steerability has no finite per-query slope")
    drive = rd.floats(st.drive, cols[0][2][0].size)
    fig, axes = _plot.new_figure((4.2 * len(cols), 7.4), nrows=2, ncols=len(cols), squeeze=False)
    drawn = [
        f"Least-squares slope of each behavior prompt's curve against λ on {st.window} (λ = "
        f"{', '.join(f'{x:g}' for x in (rd.floats(st.window_lam) if st.window_lam else []))}). Bottom: the slope "
        "against αΔ_q, the drive of Theorem 1's first order "
        "(dotted: slope = αΔ_q, the logit difference's lower bound in the exact steered model)."
    ]
    for j, (name, m, arrays) in enumerate(cols):
        drawn.append(_forest(axes[0, j], name, m, arrays))
        rd.legend(axes[0, j], below=False, loc="upper left", fontsize=6.8)
        axes[0, j].grid(alpha=0.3)
        drawn.append(_scatter(axes[1, j], name, m, arrays, drive))
        axes[1, j].grid(alpha=0.3)
    behavior = report.behavior.get("name")
    fig.suptitle(f"Per-query steerability — {rd.model_name(report)}" + (f", '{behavior}'" if behavior else ""),
                 fontsize=11)  # fmt: skip
    bars = f"each prompt's own {_level(cols[0][1])} t interval from its regression residuals (none with 2 points)"
    text = rd.caption(report, "Per-query steerability near λ = 0.", ("behavior_prompts",), drawn, error_bars=bars)
    _plot.add_caption(fig, text, width=int(60 * len(cols)))
    return fig


render = rd.renderer(make_figure, FILENAME)
