"""``paper_fits.json`` and ``paper_fits.md``: the fits of :func:`~bounds.paper.fit_paper_curves` as plain JSON and as
markdown tables (the work of ``steering-bounds fit --paper``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write, jsonable
from .fits import fit_paper_curves
from .results import WEIGHTINGS, CurveFit, Estimate, Fit, PaperFits, number
from .standard_errors import DEFAULT_N

__all__ = ["fits_markdown", "fits_to_dict", "summary", "write_paper_fits"]

#: the markdown file's header line (the docs page pastes the file from the next line on)
TITLE = "# Fits of the paper's published Llama-2-13B curves"


# -- JSON --------------------------------------------------------------------------------------------------------------
def _estimate(e: Estimate | None) -> dict[str, Any] | None:
    if e is None:
        return None
    ends = [None if not math.isfinite(x) else x for x in e.interval]
    open_ends = [s for s, x in zip(("lower", "upper"), e.interval, strict=True) if math.isinf(x)]
    out = {"value": e.value, "stderr": e.stderr, "interval": ends, "method": e.method, "note": e.note}
    if open_ends:
        out["unbounded"] = open_ends
    return out


def _fit(f: Fit) -> dict[str, Any]:
    c = f.comparison
    return {
        "params": {k: _estimate(v) for k, v in f.params.items()},
        "derived": {k: _estimate(v) for k, v in f.derived.items()},
        "comparison": {
            "window": list(c.window),
            "best_aic": c.best_aic,
            "best_bic": c.best_bic,
            "delta_aic": c.delta_aic,
            "delta_bic": c.delta_bic,
            "absolute_errors": c.absolute_errors,
        },
        "se": None if f.se is None else f.se.tolist(),
        "chisqr": f.chisqr,
        "redchi": f.redchi,
        "success": f.success,
        "notes": list(f.notes),
    }


def _curve_fit(cf: CurveFit, grid_points: int = 101) -> dict[str, Any]:
    c = cf.curve
    lam, values = cf.grid(grid_points)
    return {
        "label": cf.label,
        "quantity": c.quantity,
        "model": c.model,
        "vector": c.vector,
        "behavior": c.behavior,
        "subject": c.subject,
        "measure": c.measure,
        "source": c.source,
        "law": cf.law,
        "n": cf.n,
        "window": list(cf.window),
        "sign": cf.sign,
        "steering": c.steering if c.quantity == "behavior" else None,
        "data": {
            "lam": cf.lam.tolist(),
            "y": cf.y.tolist(),
            "std": cf.std.tolist(),
            "weight_share": cf.weight_share.tolist(),
        },
        "fits": {w: _fit(f) for w, f in cf.fits.items()},
        "curve_grid": {"lam": lam.tolist(), **{w: v.tolist() for w, v in values.items()}},
        "disagreements": list(cf.disagreements),
        "weights": cf.why,
    }


def _sensitivity(fits: PaperFits) -> list[dict[str, Any]]:
    rows = [_sens_row(fits.settings["n"], fits.all)]
    rows += [_sens_row(n, again) for n, again in sorted(fits.sensitivity.items())]
    return rows


def _sens_row(n: int, items: tuple[CurveFit, ...]) -> dict[str, Any]:
    params = [cf.label for cf in items if any(not d.startswith("best by") for d in cf.disagreements)]
    winners = [cf.label for cf in items if any(d.startswith("best by") for d in cf.disagreements)]
    redchi = [cf.weighted.redchi for cf in items]
    key = {"tanh": "a", "theorem-2": "b", "restricted": "b"}
    return {
        "n": n,
        "fits": len(items),
        "parameter_disagreements": params,
        "comparison_disagreements": winners,
        "weighted_redchi_above_3": sum(r > 3.0 for r in redchi),
        "median_weighted_redchi": float(np.median(redchi)),
        "weighted_key_parameter": {cf.label: cf.weighted.params[key[cf.law]].value for cf in items},
    }


def fits_to_dict(fits: PaperFits) -> dict[str, Any]:
    """The content of ``paper_fits.json``: settings, provenance, every fit (data, window, both weightings with
    parameters, intervals, derived quantities, comparison, notes and the fitted curve on a grid), the disagreements
    and the sensitivity to ``n``; plain JSON types (unbounded interval ends are ``null``, named in ``unbounded``)."""
    return jsonable(
        {
            "settings": fits.settings,
            "provenance": fits.provenance.to_dict(),
            "count_granularity": fits.granularity,
            "behavior": [_curve_fit(cf) for cf in fits.behavior],
            "helpfulness": [_curve_fit(cf) for cf in fits.helpfulness],
            "restricted": [_curve_fit(cf) for cf in fits.restricted],
            "sensitivity": _sensitivity(fits),
        }
    )


# -- markdown ----------------------------------------------------------------------------------------------------------
def _ci(e: Estimate | None) -> str:
    return "–" if e is None else e.text()


def _best(f: Fit) -> str:
    c = f.comparison
    return c.best_aic if c.best_aic == c.best_bic else f"{c.best_aic} / {c.best_bic}"


def _row(cf: CurveFit, w: str) -> list[str]:
    f = cf.fits[w]
    c = cf.curve
    who = [c.model, c.vector, c.behavior] if c.quantity == "behavior" else [c.model, c.vector, c.subject, c.measure]
    if cf.law == "tanh":
        d = f.derived
        vals = [
            _ci(f.params["a"]),
            _ci(f.params["b0"]),
            _ci(d["alpha_delta"]),
            number(d["B0_implied"].value),
            number(d["B0_measured"].value),
            number(d["transition"].value) if d["transition"] else "–",
        ]
    else:
        d = f.derived
        vals = [
            _ci(f.params["a"]),
            _ci(f.params["b"]),
            number(d["b_over_2_5"].value),
            number(d["p0"].value),
            _ci(d["gamma"]),
        ]
    flags = "; ".join(n.split(":")[0] for n in f.notes if n.startswith(("saturated", "degenerate", "reduced", "γ")))
    return [*who, w, *vals, _best(f), number(f.redchi), flags or ""]


def _table(items: tuple[CurveFit, ...], law: str) -> list[str]:
    if law == "tanh":
        head = [
            "model",
            "vector",
            "behavior",
            "weighting",
            "a [CI]",
            "b0 [CI]",
            "αΔ = 2a [CI]",
            "tanh b0",
            "B0 measured",
            "zero crossing −b0/a",
            "best: linear vs tanh (AIC / BIC)",
            "χ²_red",
            "flags",
        ]
    else:
        head = [
            "model",
            "vector",
            "subject",
            "measure",
            "weighting",
            "a [CI]",
            "b = αβσ [CI]",
            "b/2.5",
            "p0",
            "γ [CI]",
            "best near 0 (AIC / BIC)",
            "χ²_red",
            "flags",
        ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_row(cf, w)) + " |" for cf in items for w in WEIGHTINGS]
    return lines


def _largest_changes(rows: list[dict[str, Any]], count: int = 3) -> list[str]:
    """Per other n, the fits whose weighted key parameter (tanh: a; helpfulness: b) moves most from the main n."""
    if len(rows) < 2:
        return []
    base = rows[0]["weighted_key_parameter"]
    out = [
        "",
        f"Largest relative changes of the weighted key parameter (a for tanh, b otherwise) from n = {rows[0]['n']}:",
    ]
    for r in rows[1:]:
        change = {k: v / base[k] - 1.0 for k, v in r["weighted_key_parameter"].items() if base[k]}
        top = sorted(change.items(), key=lambda kv: -abs(kv[1]))[:count]
        median = float(np.median(np.abs(list(change.values()))))
        out.append(
            f"- n = {r['n']}: " + "; ".join(f"{k} {v:+.1%}" for k, v in top) + f" (median |change| {median:.1%})"
        )
    return out


def fits_markdown(fits: PaperFits, command: str | None = None) -> str:
    """The tables of ``paper_fits.md`` (behavior, Theorem 2's form, the restricted form), the disagreements of the
    weightings, the sensitivity to ``n`` and every note."""
    s = fits.settings
    level = f"{s['level']:.0%}"
    out = [TITLE, ""]
    if command:
        out += [f"Written by `{command}`.", ""]
    p = fits.provenance
    out += [
        f"Data: {p.paper}, the authors' `{p.repository}` at commit `{p.commit[:7]}` ({p.commit_date}), shipped in "
        f"`{p.package_folder}`. Settings: n = {s['n']} prompts/questions per point (assumed), pseudo-count "
        f"{s['pseudo_count']:g} at each end of the score's range, intervals at {level} (profile likelihood), behavior "
        f"window {s['behavior_window']}, helpfulness window {s['helpfulness_window']}, near-zero comparison on "
        f"|λ| ≤ {s['near_zero_window']:g}, k = {s['k']}. Unweighted: the noise scale from the residuals (as the "
        "authors fitted). Weighted: the pseudo-count standard errors as absolute errors. Misaligning (chat) behavior "
        "curves are fitted as −mean (the sign the authors used).",
        "",
    ]
    sections = (
        ("Behavior: tanh(aλ + b0) on λ ∈ [−3, 5]", fits.behavior, "tanh"),
        ("Helpfulness: 1/(1 + a + a b² λ²/2) on λ ∈ [−5, 5]", fits.helpfulness, "theorem-2"),
        ("Restricted A–D: (1 − 2/k) T + 1/k, k = 4, on λ ∈ [−5, 5]", fits.restricted, "restricted"),
    )
    for title, items, law in sections:
        if items:
            out += [f"## {title}", "", *_table(items, law), ""]
    out += ["## Where weighted and unweighted disagree", ""]
    any_dis = False
    for cf in fits.all:
        if cf.disagreements:
            any_dis = True
            out.append(f"- **{cf.label}**: " + "; ".join(cf.disagreements) + f". Weighted: {cf.why}.")
    if not any_dis:
        out.append("- none")
    out += [
        "",
        "## Sensitivity to the assumed n",
        "",
        "| n | fits | a parameter disagrees | a comparison's winner differs | weighted χ²_red > 3 "
        "| median weighted χ²_red |",
        "|---|---|---|---|---|---|",
    ]
    for r in _sensitivity(fits):
        out.append(
            f"| {r['n']} | {r['fits']} | {len(r['parameter_disagreements'])} | "
            f"{len(r['comparison_disagreements'])} | {r['weighted_redchi_above_3']} | "
            f"{r['median_weighted_redchi']:.3g} |"
        )
    out += _largest_changes(_sensitivity(fits))
    if fits.granularity:
        out += [
            "",
            "Prompt counts the behavior means allow (the true count is a multiple): "
            + "; ".join(f"{k}: {v}" for k, v in fits.granularity.items())
            + ".",
        ]
    out += ["", "## Notes", ""]
    for cf in fits.all:
        for w, f in cf.fits.items():
            out += [f"- {cf.label} ({w}): {n}" for n in f.notes]
    return "\n".join(out) + "\n"


# -- the command -------------------------------------------------------------------------------------------------------
def summary(fits: PaperFits) -> str:
    """A few lines for the terminal: counts, the disagreements and the degenerate fits."""
    s = fits.settings
    lines = [
        f"fitted {len(fits.behavior)} behavior, {len(fits.helpfulness)} helpfulness and {len(fits.restricted)} "
        f"restricted curves, unweighted and weighted (n = {s['n']})"
    ]
    for cf in fits.behavior:
        u, w = cf.unweighted.params, cf.weighted.params
        lines.append(
            f"  {cf.curve.label}: a = {u['a'].value:.4g} / {w['a'].value:.4g}, b0 = {u['b0'].value:.4g} / "
            f"{w['b0'].value:.4g} (unweighted / weighted)"
        )
    dis = [cf for cf in fits.all if cf.disagreements]
    lines.append(f"weighted and unweighted disagree on {len(dis)} of {len(fits.all)} fits")
    for cf in dis:
        lines.append(f"  {cf.label}: {cf.disagreements[0]}")
    for r in _sensitivity(fits)[1:]:
        lines.append(
            f"at n = {r['n']}: {len(r['parameter_disagreements'])} parameter and "
            f"{len(r['comparison_disagreements'])} comparison disagreements"
        )
    return "\n".join(lines)


def write_paper_fits(
    out_dir: str | Path,
    *,
    n: int = DEFAULT_N,
    level: float = 0.95,
    sensitivity_n: tuple[int, ...] = (),
    command: str | None = None,
    **selection: str,
) -> PaperFits:
    """Fit the published curves (:func:`~bounds.paper.fit_paper_curves`) and write ``out_dir/paper_fits.json`` and
    ``out_dir/paper_fits.md`` (the folder is created; both files written atomically).

    Args:
        out_dir: the output folder.
        n: assumed prompts/questions per point.
        level: confidence level of the intervals.
        sensitivity_n: other sample sizes to refit at.
        **selection: as in :func:`~bounds.paper.fit_paper_curves`.
        command: the command line to record in the markdown (``None``: none).

    Returns:
        the :class:`~bounds.paper.PaperFits` written.
    """
    fits = fit_paper_curves(n=n, level=level, sensitivity_n=sensitivity_n, **selection)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    payload = fits_to_dict(fits) | {"command": command}
    atomic_write(out / "paper_fits.json", json.dumps(payload, indent=1, ensure_ascii=False, allow_nan=False) + "\n")
    atomic_write(out / "paper_fits.md", fits_markdown(fits, command))
    return fits
