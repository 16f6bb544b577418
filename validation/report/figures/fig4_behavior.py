"""Fig. 4 of the paper: behavior vs λ (binary first-token and generated, ±1 SE) with the fitted tanh law
(``fits.behavior``) and Theorem 1 (``bounds.theorem_1``, ``theorem_1_norm``) when some query satisfies its hypotheses,
else the reason in the caption."""

from __future__ import annotations

from typing import Any

import numpy as np

from bounds import _plot

from ..schema import CheckReport
from . import _common as rd

FILENAME = "fig4_behavior.png"
CURVES = (
    ("B_single_binary", "C1", "B binary (A± only), first token"),
    ("B_generated", "C2", "B generated (greedy responses)"),
)
BOUNDS = (("theorem_1", "C3", "--"), ("theorem_1_norm", "C4", ":"))


def _bound(ax: Any, report: CheckReport, lam: np.ndarray, name: str, color: str, style: str) -> str | None:
    """Draw ``bounds[name]`` (with violations marked); return why it is not drawn, or ``None`` when drawn."""
    b = report.bounds.get(name)
    if b is None:
        return f"the report has no bounds.{name}"
    values = rd.floats(b.values, lam.size)
    if b.applicable is False or values is None or not np.isfinite(values).any():
        return str(b.reason or b.note or "no values")
    legend = b.legend or name
    used = f", mean over {b.n_queries_used} queries" if isinstance(b.n_queries_used, int) else ""
    ax.plot(lam, values, style, color=color, linewidth=1.6, label=f"{legend}: lower for λ ≥ 0, upper for λ < 0{used}")
    hit = np.array([v is True for v in rd.get(b.comparison, "violated") or []], dtype=bool)
    measured = rd.curve(report, str(b.measured), lam, "")
    if hit.size == lam.size and measured is not None and hit.any():
        ax.plot(lam[hit], measured.mean[hit], "x", color="red", markersize=10, mew=2.2, label=f"{legend} violated")
    return None


def make_figure(report: CheckReport) -> Any:
    """Fig. 4 from ``report``: the figure with its caption.

    Raises:
        NothingToDraw: no λ grid, or neither ``curves.B_single_binary`` nor ``curves.B_generated``.
    """
    lam = rd.require_grid(report)
    series = [(s, color) for key, color, dflt in CURVES if (s := rd.curve(report, key, lam, dflt)) is not None]
    if not series:
        raise rd.NothingToDraw("the report has neither curves.B_single_binary nor curves.B_generated")
    fig, ax = _plot.new_figure((7.0, 6.2))
    drawn: list[str] = []
    for s, color in series:
        rd.errorbar(ax, lam, s.mean, s.se, color=color, label=f"{s.legend} (n = {s.n}), ±1 SE")
    keys = {s.key for s, _ in series}
    missing = [k for k, *_ in CURVES if k not in keys]
    if "B_single_binary" in keys:
        drawn.append(
            "B binary = (P(A+) − P(A−))/(P(A+) + P(A−)) over the token sets A± at the first answer token "
            f"(n = {next(s.n for s, _ in series if s.key == 'B_single_binary')} prompts)."
        )
    if "B_generated" in keys:
        tokens = report.config.get("max_new_tokens")
        drawn.append(
            "B generated: greedy responses"
            + (f" of {tokens} tokens" if isinstance(tokens, int) else "")
            + " classified aligned (+1) or misaligned (−1) by the behavior's rule-based classifier."
        )
    if missing:
        drawn.append(f"Not in the report, not drawn: curves.{', curves.'.join(missing)}.")

    # fitted tanh law
    fit = report.fits.get("behavior")
    params = rd.fit_params(fit, ("a", "b0"))
    if params is not None:
        from bounds.fitting import tanh_law

        xs = np.linspace(lam.min(), lam.max(), 400)
        (a, sa), (b0, sb0) = params["a"], params["b0"]
        ax.plot(
            xs,
            tanh_law(xs, a, b0),
            "-",
            color="0.15",
            linewidth=1.3,
            label=f"fit tanh(aλ + b0): a = {rd.pm(a, sa)}, b0 = {rd.pm(b0, sb0)}",
        )
        redchi = rd.num(fit.redchi)
        cp = fit.measured_counterpart or {}
        cp_text = []
        for key, what in (
            ("a", "a = αΔ/2 = {:.3g} with the hard margin Δ"),
            ("a (alpha x authors' mean gap / 2)", "α·(mean gap)/2 = {:.3g} with the authors' mean gap"),
            ("b0", "b0 = artanh B0 = {:.3g}"),
        ):
            if rd.num(rd.get(cp, key)) is not None:
                cp_text.append(what.format(rd.num(cp[key])))
        drawn.append(
            "Black: the tanh law fitted (lmfit, weighted by the SE) to the mean binary curve of "
            f"{fit.n_queries} prompts"
            + (f", reduced χ² = {redchi:.3g}" if redchi is not None else "")
            + (f"; measured counterparts {'; '.join(cp_text)}" if cp_text else "")
            + "."
        )
    else:
        drawn.append(f"Fitted tanh law not drawn: {rd.fit_missing_reason(report, 'behavior')}.")
        rd.no_data_entry(ax, "tanh fit: not in the report")

    # Theorem 1
    not_drawn: dict[str, list[str]] = {}
    for name, color, style in BOUNDS:
        why = _bound(ax, report, lam, name, color, style)
        if why is not None:
            b = report.bounds.get(name)
            not_drawn.setdefault(why, []).append(str((b and b.legend) or name))
    delta = report.parameters.get("Delta")
    for why, labels in not_drawn.items():
        rd.no_data_entry(ax, f"{' and '.join(labels)}: not drawn (reason in the caption)")
        dtext = ""
        if delta is not None and rd.num(delta.estimate) is not None:
            dtext = f" (measured hard margin Δ = {rd.pm(delta.estimate, delta.se)})"
        drawn.append(f"Bound {' and '.join(labels)} not drawn: {why}{dtext}.")

    ax.axhline(0.0, color="k", linewidth=0.6)
    ax.axvline(0.0, color="0.6", linewidth=0.6)
    ax.set_ylim(-1.08, 1.08)
    ax.set_xlabel(rd.lam_label(report))
    ax.set_ylabel("behavior B(λ)  [−1 misaligned … +1 aligned]")
    ax.set_title(rd.model_title(report, "Fig. 4: behavior vs λ"), fontsize=10)
    ax.grid(alpha=0.3)
    rd.legend(ax)
    text = rd.caption(report, "Fig. 4: behavior vs steering coefficient λ.", ("behavior_prompts",), drawn)
    _plot.add_caption(fig, text)
    return fig


render = rd.renderer(make_figure, FILENAME)
