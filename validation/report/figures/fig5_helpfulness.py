"""Fig. 5 of the paper: helpfulness vs λ, one panel per task (±1 SE), with the unsteered p0 intervals: MMLU with the
fit of Theorem 2's form (``fits.helpfulness``) and, on P(correct | A–D), the restricted form (1−2/k)T + 1/k fitted
here (the authors' ``0.5 T + 0.25``); PIQA with its fit (``fits.helpfulness_piqa``); chance levels dotted."""

from __future__ import annotations

from typing import Any

import numpy as np

from bounds import _plot

from ..schema import CheckReport
from . import _common as rd

FILENAME = "fig5_helpfulness.png"
MMLU = (("H_mmlu_full", "C0", "MMLU P(correct), full vocabulary"), ("H_mmlu_restricted", "C1", "MMLU P(correct | A–D)"))
PIQA = (("H_piqa", "C2", "PIQA P(correct | choices)"),)
P0 = {"H_mmlu_full": "p0_mmlu_full", "H_mmlu_restricted": "p0_mmlu_restricted", "H_piqa": "p0_piqa"}
FITS = {"H_mmlu_full": "helpfulness", "H_piqa": "helpfulness_piqa"}


def fit_restricted(lam: np.ndarray, mean: np.ndarray, se: np.ndarray, k: int) -> tuple[dict[str, Any], str]:
    """Fit :math:`(1-2/k)T+1/k` (:class:`bounds.fitting.RestrictedModel`, ``k`` ≥ 3 options) to a mean curve over
    ``lam``, weighted by its ``se`` (unweighted when some SE is not positive and finite; NaN means left out).

    Returns:
        ``({"a": (value, stderr), "b": (value, stderr), "redchi": float, "weighted": bool}, note)``.

    Raises:
        ValueError: fewer than 3 finite points, or lmfit rejects the data. RuntimeError: the minimiser failed.
    """
    from bounds.fitting import RestrictedModel, fit

    ok = np.isfinite(mean)
    if ok.sum() < 3:
        raise ValueError(f"need at least 3 finite points to fit 2 parameters, got {int(ok.sum())}")
    err = se[ok]
    weighted = bool(np.all(np.isfinite(err)) and np.all(err > 0))
    result = fit(RestrictedModel(k=k), lam[ok], mean[ok], y_err=err if weighted else None)
    out = {n: (float(result.params[n].value), result.params[n].stderr) for n in ("a", "b")}
    out["redchi"] = float(result.redchi)
    out["weighted"] = weighted
    note = "weighted by the SE" if weighted else "unweighted (some SE is zero or missing)"
    return out, note


def _p0(ax: Any, report: CheckReport, key: str, color: str, dx: float) -> str | None:
    """Draw the p0 interval of curve ``key`` at λ = dx; return its description, or ``None`` if absent."""
    p = report.parameters.get(P0[key])
    if p is None:
        return None
    est, lo, hi = rd.num(p.estimate), rd.num(p.low), rd.num(p.high)
    if est is None or lo is None or hi is None:
        return None
    level = rd.num(p.level)
    lvl = f"{100 * level:.0f} %" if level is not None else "?"
    ax.errorbar(
        [dx],
        [est],
        yerr=[[est - lo], [hi - est]],
        fmt="D",
        color=color,
        markerfacecolor="white",
        markersize=5,
        capsize=5,
        elinewidth=2.2,
        label=f"p0 = {est:.3g} [{lo:.3g}, {hi:.3g}] ({lvl})",
    )
    return f"{P0[key]} = {est:.3g} [{lo:.3g}, {hi:.3g}] ({lvl}, {p.method or '?'} interval, n = {p.n})"


def _theorem2(ax: Any, report: CheckReport, key: str, xs: np.ndarray, color: str, drawn: list[str]) -> None:
    """Draw the report's fit of Theorem 2's form to curve ``key`` (or say why not)."""
    from bounds.fitting import theorem_2_form

    fit = report.fits.get(FITS[key])
    params = rd.fit_params(fit, ("a", "b"))
    if params is None:
        drawn.append(f"Theorem 2's form for {key} not drawn: {rd.fit_missing_reason(report, FITS[key])}.")
        return
    (a, sa), (b, sb) = params["a"], params["b"]
    ax.plot(xs, theorem_2_form(xs, a, b), "-", color=color, alpha=0.75, linewidth=1.3,
            label=f"fit 1/(1 + a(1 + b²λ²/2)): a = {rd.pm(a, sa)}, b = {rd.pm(b, sb)}")  # fmt: skip
    redchi = rd.num(fit.redchi)
    cp = fit.measured_counterpart or {}
    cps = [f"{n} = {rd.num(cp[n]):.3g}" for n in ("a", "b") if rd.num(rd.get(cp, n)) is not None]
    drawn.append(
        f"Solid line on {key}: Theorem 2's form fitted by the check (lmfit, weighted by the SE, "
        f"{fit.n_queries} queries" + (f", reduced χ² = {redchi:.3g}" if redchi is not None else "") + ")"
        + (f"; measured counterparts (a = γ(1 − p0)/p0, b = αβσ): {', '.join(cps)}" if cps else "") + "."
    )  # fmt: skip


def _restricted(ax: Any, lam: np.ndarray, s: rd.Series, xs: np.ndarray, k: int, color: str, drawn: list[str]) -> None:
    """Fit and draw the restricted form on the A–D curve (or say why not)."""
    from bounds.fitting import restricted_form

    try:
        res, note = fit_restricted(lam, s.mean, s.se, k)
    except (ValueError, RuntimeError) as exc:
        drawn.append(f"Restricted form (1 − 2/k)T + 1/k not fitted: {type(exc).__name__}: {exc}.")
        return
    (a, sa), (b, sb) = res["a"], res["b"]
    identified = all(se is not None and np.isfinite(se) and se < abs(v) for v, se in ((a, sa), (b, sb)))
    params = f"a = {rd.pm(a, sa)}, b = {rd.pm(b, sb)}" if identified else "a, b not identified"
    ax.plot(xs, restricted_form(xs, a, b, k=k), "--", color=color, linewidth=1.6,
            label=f"fit (1 − 2/k)T + 1/k, k = {k}: {params}")  # fmt: skip
    why = ""
    if not identified:
        t0 = (float(restricted_form(0.0, a, b, k=k)) - 1.0 / k) / (1.0 - 2.0 / k)
        why = (
            f" Its parameters are not identified (a = {rd.pm(a, sa)}, b = {rd.pm(b, sb)}: SE not below the value): "
            f"the fit puts T(0) = {t0:.2g}, i.e. the curve at the chance level 1/{k}, where the form is flat, so it "
            "lies on the chance line."
        )
    drawn.append(
        f"Dashed: the restricted form (1 − 2/k)T + 1/k with k = {k} fitted here to the mean A–D curve "
        f"(bounds.fitting.RestrictedModel, {note}, reduced χ² = {res['redchi']:.3g}).{why}"
    )


def make_figure(report: CheckReport) -> Any:
    """Fig. 5 from ``report``: the figure with its caption.

    Raises:
        NothingToDraw: no λ grid, or none of ``curves.H_mmlu_full``, ``H_mmlu_restricted``, ``H_piqa``.
    """
    lam = rd.require_grid(report)
    panels = []
    for title, keys in (("MMLU", MMLU), ("PIQA", PIQA)):
        present = [(s, c) for key, c, dflt in keys if (s := rd.curve(report, key, lam, dflt)) is not None]
        if present:
            panels.append((title, present))
    if not panels:
        raise rd.NothingToDraw("the report has none of curves.H_mmlu_full, H_mmlu_restricted, H_piqa")
    fig, axes = rd.panels_figure(4.3 + 3.6 * len(panels), len(panels))
    drawn: list[str] = []
    missing = [t for t in ("MMLU", "PIQA") if t not in {p[0] for p in panels}]
    if missing:
        drawn.append(f"No {' or '.join(missing)} curves in the report: panel skipped.")
    xs = np.linspace(lam.min(), lam.max(), 400)
    dx = 0.012 * (lam.max() - lam.min())
    for ax, (title, present) in zip(axes, panels, strict=True):
        task = "mmlu" if title == "MMLU" else "piqa"
        chance = rd.num(rd.get(report.chance, task, "chance")) or (0.25 if task == "mmlu" else 0.5)
        k = round(1.0 / chance)
        for i, (s, color) in enumerate(present):
            rd.errorbar(ax, lam, s.mean, s.se, color=color, label=f"{s.legend} (n = {s.n}), ±1 SE")
            if s.key in FITS:
                _theorem2(ax, report, s.key, xs, color, drawn)
            elif k >= 3:
                _restricted(ax, lam, s, xs, k, color, drawn)
            p0 = _p0(ax, report, s.key, color, -dx * (i + 1))
            if p0 is not None:
                drawn.append(f"Diamond just left of λ = 0: {p0}.")
        ax.axhline(chance, color="0.35", linestyle=":", linewidth=1.3, label=f"chance 1/{k}")
        msg = rd.get(report.chance, task, "message")
        if isinstance(msg, str):
            drawn.append(f"{title} chance check: {msg}.")
        ax.axvline(0.0, color="0.6", linewidth=0.6)
        ax.set_ylabel(f"{title} helpfulness H(λ) = P(correct)")
        ax.set_title(rd.model_title(report, f"Fig. 5: {title} helpfulness vs λ"), fontsize=10)
        ax.grid(alpha=0.3)
        ax.set_xlabel(rd.lam_label(report))
        rd.legend(ax, offset=-0.17)
    keys = tuple(k for k in ("mmlu", "piqa") if k.upper() in {p[0] for p in panels})
    text = rd.caption(report, "Fig. 5: helpfulness vs steering coefficient λ.", keys, drawn)
    _plot.add_caption(fig, text)
    return fig


render = rd.renderer(make_figure, FILENAME)
