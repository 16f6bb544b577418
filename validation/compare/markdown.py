"""``compare.md``: the comparison's result (what ``compare.json`` holds) as tables, the ranking, the figures and the
notes; a missing value is ``–`` with its reason listed under its table."""

from __future__ import annotations

from typing import Any

from ..report.markdown import _table
from .ranking import MARGINS
from .rows import PARAMETERS, TASKS

__all__ = ["render_markdown"]

_PARAMETER_TITLES = {
    "alpha": "α", "Delta": "Δ (hard margin)", "mean_gap": "mean gap (λ>0)", "sigma": "σ", "beta": "β", "gamma": "γ",
    "B0_single": "B0 single", "B0_generated": "B0 generated", "p0_mmlu_full": "p0 MMLU full",
    "p0_mmlu_restricted": "p0 MMLU A–D", "p0_piqa": "p0 PIQA",
}  # fmt: skip
_DASH = "–"


def _est(e: dict[str, Any] | None, sig: int = 3) -> str:
    """``value [low, high]`` of an estimate or parameter dict (``–`` when missing)."""
    if not e:
        return _DASH
    v = e.get("value", e.get("estimate"))
    if v is None:
        return _DASH
    lo, hi = e.get("low"), e.get("high")
    if lo is not None and hi is None:  # an interval with no upper end (a slope ratio where H is flat within noise)
        return f"{v:.{sig}g} [{lo:.{sig}g}, ∞)"
    return f"{v:.{sig}g}" + ("" if lo is None or hi is None else f" [{lo:.{sig}g}, {hi:.{sig}g}]")


def _cell(e: dict[str, Any] | None, where: str, notes: list[str], sig: int = 3) -> str:
    """:func:`_est`, and the reason into ``notes`` when the value is missing."""
    text = _est(e, sig)
    if text == _DASH and e and e.get("reason"):
        notes.append(f"{where}: {e['reason']}")
    return text


def _notes(notes: list[str]) -> list[str]:
    return ["", *[f"- {n}" for n in notes]] if notes else []


def _rows(result: dict[str, Any]) -> list[str]:
    body = [
        [i, r["model"], r["behavior"], r["method"], ",".join(map(str, r["layers"])), r["positions"], f"`{r['source']}`"]
        for i, r in enumerate(result["rows"], 1)
    ]
    return ["## Rows", "", *_table(["#", "model", "behavior", "method", "layers", "positions", "report"], body)]


def _parameters(result: dict[str, Any]) -> list[str]:
    rows = result["rows"]
    probe = any(r["probe_heldout_accuracy"] for r in rows)
    header = ["#", *(_PARAMETER_TITLES[p] for p in PARAMETERS)] + (["probe held-out acc (mean, min)"] if probe else [])
    body = []
    for i, r in enumerate(rows, 1):
        line = [i, *(_est(r["parameters"][p]) for p in PARAMETERS)]
        if probe:
            acc = r["probe_heldout_accuracy"]
            line.append(f"{acc['mean']:.3f}, {acc['min']:.3f}" if acc else _DASH)
        body.append(line)
    text = "Intervals as stored in each report (its level); mean gap: the mean over λ > 0 of Assumption 2's mean gap."
    return ["## Measured parameters", "", text, "", *_table(header, body)]


def _assumptions(result: dict[str, Any]) -> list[str]:
    header = ["#", "A1", "A2", "A3", "A4", "MMLU", "PIQA", "cannot show an effect"]
    body, notes = [], []
    for i, r in enumerate(result["rows"], 1):
        chance = []
        for task in ("mmlu", "piqa"):
            c = r["chance"].get(task)
            chance.append(_DASH if c is None else ("AT CHANCE" if c["at_chance"] else "not at chance"))
            if c is not None and c.get("message"):
                notes.append(f"{i} ({task.upper()}): {c['message']}")
        v = r["verdicts"]
        cannot = "; ".join(r["cannot_show_effect"]) or "no"
        body.append([i, v["assumption_1"], v["assumption_2"], v["assumption_3"], v["assumption_4"], *chance, cannot])
    return ["## Assumptions, chance and what each row can show", "", *_table(header, body), *_notes(notes)]


def _consequences(result: dict[str, Any]) -> list[str]:
    level = result["settings"]["level"]
    out = [
        "## Consequences measured",
        "",
        "λ where the behavior crosses 0 and where it reaches 90 % of the way from B(0) to its plateau (the largest "
        "mean over λ > 0), by linear interpolation between grid points; ΔH = H(λ) − H(0) on each task there, "
        f"± z·sqrt(SE(λ)² + SE(0)²) with z = {result['settings']['z']:.3g} ({level:.0%}).",
    ]
    slopes_header, slopes_body, slope_notes = ["#"], [[i] for i in range(1, len(result["rows"]) + 1)], []
    for curve in ("B_generated", "B_single"):
        header = ["#", "λ(B = 0)", *(f"ΔH {t.title} (B = 0)" for t in TASKS.values()), "λ 90 % (plateau)"]
        header += [f"ΔH {t.title} (90 %)" for t in TASKS.values()]
        slopes_header += [f"{curve} / {t.title}" for t in TASKS.values()]
        body, notes = [], []
        for i, r in enumerate(result["rows"], 1):
            c = r["consequences"][curve]
            if "reason" in c:
                notes.append(f"{i}: {c['reason']}")
                body.append([i, *[_DASH] * (len(header) - 1)])
                slopes_body[i - 1] += [_DASH] * len(TASKS)
                continue
            line: list[Any] = [i]
            for what in ("cross_zero", "plateau_90"):
                lam = c[what]["lam"]
                cell = _cell(lam, f"{i}, {what}", notes)
                if what == "plateau_90" and lam.get("plateau") is not None:
                    cell += f" (plateau {lam['plateau']:.3g} at λ = {lam['lam_plateau']:.3g})"
                line.append(cell)
                changes = c[what]["helpfulness_change"]
                if lam.get("value") is None:
                    line += [_DASH] * len(TASKS)
                else:
                    line += [_cell(changes[t], f"{i}, ΔH {t} at {what}", notes) for t in TASKS]
            body.append(line)
            slopes_body[i - 1] += [_cell(c["slope_ratio"][t], f"{i}, {curve} / {t}", slope_notes) for t in TASKS]
        out += ["", f"### {curve}", "", *_table(header, body), *_notes(notes)]
    out += [
        "",
        "### Slope ratio near λ = 0",
        "",
        "(dB/dλ) / (−dH/dλ) by finite differences from λ = 0 to the first λ > 0 of the grid, ± z·SE by the delta "
        "method; undefined (–) when H does not fall there (−dH/dλ ≤ 0); with no upper end (∞) when it falls by less "
        "than z SE: H is flat to first order at λ = 0, as the theory's H is (quadratic in λ), the efficient regime.",
        "",
        *_table(slopes_header, slopes_body),
        *_notes(slope_notes),
    ]
    return out


def _ranking(result: dict[str, Any]) -> list[str]:
    s, rk, rows = result["settings"], result["ranking"], result["rows"]
    labels = [r["label"] for r in rows]
    out = [
        "## Ranking: alignment gained per helpfulness lost",
        "",
        f"Score = {s['behavior_curve']}(λ*) − {s['behavior_curve']}(0), with λ* the first λ > 0 where "
        f"{TASKS[s['task']].title} helpfulness has fallen by {s['budget']:g} below its value at λ = 0 (task: "
        f"{s['task_rule']}). Measured: on the interpolated curves (± z SE of B). Predicted: on Theorem 1 (α, margin, "
        "B0) and eq. (6) (p0, γ, α, β, σ), the laws of the row's measured parameters, once with the hard margin Δ "
        "and once with the mean gap.",
    ]
    if rk.get("reason"):
        out += ["", f"Ranking: {rk['reason']}."]
    order = sorted(range(len(rows)), key=lambda i: (rk["ranks"]["measured"][labels[i]] or len(rows) + 1, i))
    header = ["measured rank", "#", "row", "measured score", "λ*"]
    for m in MARGINS:
        header += [f"predicted ({MARGINS[m]})", "rank"]
    body, notes = [], []
    for i in order:
        m = rk["scores"]["measured"][i]
        line = [rk["ranks"]["measured"][labels[i]] or _DASH, i + 1, labels[i], _cell(m, f"{i + 1}, measured", notes)]
        line.append(_DASH if m.get("lam_star") is None else f"{m['lam_star']:.3g}")
        if m.get("note"):
            notes.append(f"{i + 1}, measured: {m['note']}")
        if m.get("at_chance"):
            notes.append(f"{i + 1}: {m['at_chance']} (scores kept: the full-vocabulary H still falls)")
        for margin in MARGINS:
            p = rk["scores"][f"predicted_{margin}"][i]
            line += [
                _cell(p, f"{i + 1}, predicted ({MARGINS[margin]})", notes),
                rk["ranks"][f"predicted_{margin}"][labels[i]] or _DASH,
            ]
            if p.get("note"):
                notes.append(f"{i + 1}, predicted ({MARGINS[margin]}): {p['note']}")
        body.append(line)
    out += ["", *_table(header, body), *_notes(notes), "", "**Agreement of the rankings**", ""]
    out += _agreement(rk["agreement"], "")
    if "agreement_not_at_chance" in rk:
        out += _agreement(rk["agreement_not_at_chance"], ", rows at chance on the task left out")
    return out


def _agreement(agreement: dict[str, Any], which: str) -> list[str]:
    out = []
    for margin, a in agreement.items():
        head = f"- predicted with the {MARGINS[margin]}{which}: "
        left = f"{a['n_left_out']} row(s) left out (no measured or no predicted score)"
        if a["kendall_tau"] is None:
            out.append(head + f"{a['reason'] or 'undefined'}; {left}.")
            continue
        top = "the same row" if a["top1_agree"] else f"different rows ({a['top1_measured']} vs {a['top1_predicted']})"
        tau = f"Kendall's τ = {a['kendall_tau']:.3f} (p = {a['p_value']:.3g}) over {a['n_used']} rows"
        out.append(head + f"{tau}; top-1: {top}; {left}.")
    return out


def _figures(result: dict[str, Any]) -> list[str]:
    titles = {
        "compare_vs_delta.png": "Curves against the signed ‖δ‖ at the final hidden state",
        "compare_vs_lambda.png": "Curves against λ",
        "compare_pareto.png": "Tradeoff: B against H along λ",
    }
    out = ["## Figures", ""]
    for name in result.get("figures", []):
        out += [f"![{titles.get(name, name)}]({name})", ""]
    return out


_NOTES = [
    "Intervals of differences treat the two λ values as independent although they share the queries (conservative "
    "when their errors are positively correlated); a missing SE counts as 0; λ* itself carries no interval.",
    "Eq. (6) (Theorem 2 as stated) fails as a probability bound (docs/specification.md §6.3): the predicted score "
    "uses it only as the authors' functional form with the measured p0, γ, β, σ; its H(0) = p0 / (p0 + γ(1 − p0)) "
    "is its own reference for the budget.",
    "Each row uses its own λ grid; values between grid points are linear interpolations.",
    "PIQA has no ‖δ‖ curve of its own; the figures draw it against the behavior prompts' ‖δ‖ at the same λ.",
]


def render_markdown(result: dict[str, Any]) -> str:
    """The text of ``compare.md`` for ``result`` (what :func:`validation.compare.compare` returns)."""
    s = result["settings"]
    lines = [
        f"# Comparison of {len(result['rows'])} check report(s)",
        "",
        f"Ranking task: {s['task_rule']}; helpfulness budget {s['budget']:g} (absolute); behavior curve "
        f"{s['behavior_curve']}; intervals at {s['level']:.0%} (z = {s['z']:.3g}).",
        "",
    ]
    for section in (_rows, _parameters, _assumptions, _consequences, _ranking, _figures):
        lines += [*section(result), ""]
    lines += ["## Notes", "", *[f"- {n}" for n in _NOTES]]
    return "\n".join(lines) + "\n"
