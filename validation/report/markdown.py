"""``report.md`` of a :class:`~validation.report.schema.CheckReport`, and :func:`write_report`.

A section is rendered only when its data is present (a run without PIQA, a failed fit); a per-λ array whose length
is not :math:`G` is skipped and listed under "Rendering notes". Numbers are printed with 3 significant digits;
``mean ± se`` cells are one standard error across queries.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bounds._io import atomic_write

from .figures import plot_figures
from .figures._common import floats as _floats
from .figures._common import num as _num
from .schema import BoundEntry, CheckReport, Curve, Parameter, ParameterSpread, Slopes

__all__ = ["render_markdown", "write_report"]

_DASH = "–"

_ASSUMPTIONS = (
    ("assumption_1", "1: ‖δ‖ = α|λ| (linear response)"),
    ("assumption_2", "2: hard margin Δ (aligned vs misaligned)"),
    ("assumption_3", "3: i.i.d. Gaussian projections (σ)"),
    ("assumption_4", "4: soft margin (mass ρ, depth Δ_M)"),
)

_PARAMETERS = (
    ("alpha", "α (‖δ‖ = α|λ|)"),
    ("Delta", "Δ (hard margin)"),
    ("Delta_positive", "Δ on λ > 0"),
    ("Delta_linear_window", "Δ on α's window"),
    ("sigma", "σ (within-query spread)"),
    ("beta", "β"),
    ("gamma", "γ"),
    ("p0_mmlu_full", "p0 MMLU, full vocabulary"),
    ("p0_mmlu_restricted", "p0 MMLU, A–D"),
    ("p0_piqa", "p0 PIQA, choice likelihood"),
    ("acc0_piqa", "accuracy at λ=0, PIQA"),
    ("acc0_mmlu", "accuracy at λ=0, MMLU"),
    ("B0_single", "B0 single token"),
    ("B0_single_binary", "B0 single token, binary"),
    ("B0_generated", "B0 generated"),
)

# (curve key, short column header); the first table follows the brief of the report, the second lists the rest.
_MAIN_COLUMNS = (
    ("delta_norm_post", "‖δ‖"),
    ("B_single", "B single"),
    ("B_single_binary", "B binary"),
    ("B_generated", "B generated"),
    ("H_mmlu_full", "H MMLU full"),
    ("H_mmlu_restricted", "H MMLU A–D"),
    ("H_piqa", "H PIQA"),
)
_OTHER_COLUMNS = (
    ("delta_norm_pre", "pre-norm ‖Δh‖"),
    ("delta_logit_norm", "‖Uδ‖"),
    ("mmlu_delta_norm_post", "‖δ‖ MMLU"),
    ("coverage_single", "coverage"),
    ("acc_mmlu", "acc MMLU"),
    ("acc_piqa", "acc PIQA"),
)
_BOUND_ORDER = ("theorem_1", "theorem_1_norm", "theorem_2_as_stated", "helpfulness_expectation")


def _fmt(x: Any, sig: int = 3) -> str:
    """Compact text for a table cell: numbers with ``sig`` significant digits, ``–`` for missing values."""
    if x is None:
        return _DASH
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        v = float(x)
        return f"{v:.{sig}g}" if math.isfinite(v) else _DASH
    if isinstance(x, str):
        return x
    if isinstance(x, Mapping):
        return ", ".join(f"{k}: {_fmt(v, sig)}" for k, v in x.items()) or _DASH
    if isinstance(x, Sequence):
        items = [_fmt(v, sig) for v in x]
        if len(items) > 8:
            items = [*items[:4], "…", *items[-2:]]
        return "[" + ", ".join(items) + "]"
    return str(x)


def _pm(mean: Any, se: Any) -> str:
    """``mean ± se`` (3 significant digits each); only the mean when the SE is missing."""
    m = _num(mean)
    if m is None:
        return _DASH
    s = _num(se)
    return f"{m:.3g}" if s is None else f"{m:.3g} ± {s:.2g}"


def _cell(x: Any) -> str:
    """Text safe for one markdown table cell (pipes escaped, line breaks removed)."""
    text = x if isinstance(x, str) else _fmt(x)
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ").strip() or _DASH


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A GitHub-flavoured markdown table."""
    out = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _grid(report: CheckReport) -> np.ndarray | None:
    """The λ grid as a float array, or ``None`` when absent."""
    arr = _floats(report.lam)
    return None if arr is None or arr.size == 0 or np.isnan(arr).all() else arr


def _series(curve: Curve | None, length: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean and SE arrays of a curve, or ``None`` when absent or of the wrong length."""
    mean = None if curve is None else _floats(curve.mean, length)
    if mean is None:
        return None
    se = _floats(curve.se, length)
    return mean, se if se is not None else np.full(length, np.nan)


def _model_name(report: CheckReport) -> str:
    name = report.model.get("name") or report.config.get("model")
    return str(name) if name else "unknown model"


def _behavior_name(report: CheckReport) -> str | None:
    name = report.behavior.get("name") or report.config.get("behavior")
    return str(name) if name else None


def _bounds(report: CheckReport) -> list[tuple[str, BoundEntry]]:
    """The bounds in a stable order (known names first)."""
    names = [n for n in _BOUND_ORDER if n in report.bounds] + sorted(n for n in report.bounds if n not in _BOUND_ORDER)
    return [(n, report.bounds[n]) for n in names]


def _violations(bound: BoundEntry, lam: np.ndarray) -> np.ndarray:
    """Boolean mask over the grid of the λ where the measurement violates ``bound``."""
    comp = bound.comparison or {}
    flags = comp.get("violated")
    if flags is not None and len(flags) == lam.size:
        return np.array([v is True or v == 1 for v in flags], dtype=bool)
    vl = _floats(comp.get("violating_lam"))
    if vl is None or vl.size == 0:
        return np.zeros(lam.size, dtype=bool)
    return np.isclose(lam[:, None], vl[None, :], rtol=1e-9, atol=1e-12).any(axis=1)


def _kind_text(kind: Any) -> str:
    """Words for a bound's ``kind`` (Theorem 1 is ``"mixed"``: a lower bound for λ ≥ 0, an upper one for λ < 0)."""
    return {
        "lower": "lower bound",
        "upper": "upper bound",
        "mixed": "lower for λ ≥ 0, upper for λ < 0",
        "approximation": "approximation, not a bound",
    }.get(str(kind), str(kind) if kind else "bound")


def _full_list(values: Any) -> str:
    """Every element of a list (no elision), for provenance fields such as the grid and the layers."""
    if isinstance(values, Sequence) and not isinstance(values, str):
        return ", ".join(_fmt(v) for v in values) or _DASH
    return _fmt(values)


def _lam_list(values: Any) -> str:
    arr = _floats(values)
    if arr is None or arr.size == 0:
        return "none"
    return ", ".join(_fmt(float(v)) for v in arr)


#: One sentence per steering-position setting of the check (``config.positions``; a report without it steered at
#: every position).
POSITIONS_TEXT = {
    "all": "the vector is added at every position (the paper's)",
    "last": "the vector is added from the last prompt token on (the last prompt token, then every generated or "
    "scored continuation token)",
}


def _positions(report: CheckReport) -> str | None:
    """The steering positions of the run, as ``report.md`` states them (``None`` for a report without settings)."""
    if not report.config:
        return None
    value = report.config.get("positions") or "all"
    return f"`{value}`: {POSITIONS_TEXT.get(value, 'unknown setting')}"


def render_markdown(report: CheckReport) -> str:
    """``report.md``: verdicts, assumption details, parameters, chance, per-λ measurements, bounds, fits, figures and
    provenance, each section only when its data is present (ends with a newline)."""
    notes: list[str] = []
    lam = _grid(report)
    lines: list[str] = []
    title = f"# Steering-bounds check: {_model_name(report)}"
    behavior = _behavior_name(report)
    if behavior:
        title += f", behavior `{behavior}`"
    lines += [title, ""]
    meta = [
        ("Created", report.created or None),
        ("Command", f"`{report.command}`" if report.command else None),
        ("Layers", _full_list(report.layers) if report.layers is not None else None),
        ("Steering positions", _positions(report)),
        ("λ grid", None if lam is None else f"{lam.size} points from {_fmt(lam.min())} to {_fmt(lam.max())}"),
    ]
    lines += [f"- **{k}**: {_fmt(v)}" for k, v in meta if v is not None] + [""]

    sections: list[Callable[..., list[str]]] = [
        _md_verdict,
        _md_assumption_details,
        _md_parameters,
        _md_chance,
        _md_steerability,
        _md_per_lambda,
        _md_bounds,
        _md_fits,
        _md_kl,
        _md_figures,
        _md_provenance,
        _md_candidates,
    ]
    for section in sections:
        try:
            block = section(report, lam, notes)
        except Exception as exc:
            notes.append(f"section {section.__name__.removeprefix('_md_')} not rendered: {type(exc).__name__}: {exc}")
            block = []
        if block:
            lines += [*block, ""]
    if notes:
        lines += ["## Rendering notes", "", *[f"- {n}" for n in notes], ""]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.rstrip("\n") + "\n"


def _verdict_result(passed: Any) -> str:
    return {True: "**pass**", False: "**FAIL**"}.get(passed, "n/a")


def _md_verdict(report: CheckReport, lam: Any, notes: list[str]) -> list[str]:
    summary = report.summary
    rows, evidence = [], []
    for key, label in _ASSUMPTIONS:
        if key not in report.assumptions:
            continue
        v = report.assumptions[key].verdict
        rows.append([label, f"{v.statistic} = {_fmt(v.value)}", _fmt(v.threshold), _verdict_result(v.passed), v.rule])
        if v.evidence:
            evidence.append(f"- **Assumption {label.split(':')[0]}**: {_fmt(v.evidence)}")
    if not rows and not summary:
        return []
    out = ["## Verdict", ""]
    if summary:
        out += [str(summary), ""]
    if rows:
        out += _table(["Assumption", "Statistic", "Threshold", "Result", "Rule"], rows)
    if evidence:
        out += ["", "Evidence:", "", *evidence]
    return out


def _md_assumption_details(report: CheckReport, lam: Any, notes: list[str]) -> list[str]:
    a = report.assumptions
    out: list[str] = []
    a1 = a.get("assumption_1")
    if a1 is not None:
        alpha = report.parameters.get("alpha")
        items = []
        if alpha is not None:
            items.append(f"α = {_interval_text(alpha)}" + (f" (side: {alpha.side})" if alpha.side else ""))
        lr = a1.linear_range
        items.append(
            "linear range: none detected" if lr is None else f"linear range λ ∈ [{_fmt(lr[0])}, {_fmt(lr[1])}]"
        )
        out += ["### Assumption 1", "", *[f"- {i}" for i in items], ""]
    if a.get("assumption_2") is not None and report.parameters.get("Delta") is not None:
        out += ["### Assumption 2", ""]
        for key in ("Delta", "Delta_positive", "Delta_linear_window"):
            p = report.parameters.get(key)
            if p is not None:
                out.append(f"- Δ = {_interval_text(p)}" + (f" ({_window_text(p)})" if p.window else ""))
        out.append("")
    a3 = a.get("assumption_3")
    if a3 is not None:
        sigma = report.parameters.get("sigma")
        items = [f"σ = {_fmt(sigma.estimate)}"] if sigma is not None and sigma.estimate is not None else []
        items += [
            f"{name} = {_fmt(getattr(a3, key))}"
            for key, name in (
                ("sigma_pooled_differences", "spread of z_b − z_a*"),
                ("ratio_pooled_to_within", "ratio (√2 ≈ 1.414 expected)"),
                ("skewness", "skewness"),
                ("excess_kurtosis", "excess kurtosis"),
                ("top_k_mass_mean", "mean top-k mass"),
                ("k", "k"),
                ("lambda_ref", "λ_ref"),
            )
            if getattr(a3, key) is not None
        ]
        trows = [[name, _fmt(t["statistic"]), _fmt(t["pvalue"]), _fmt(t["n"])] for name, t in (a3.tests or {}).items()]
        if items or trows:
            out += ["### Assumption 3", ""]
            out += [f"- {i}" for i in items]
            if trows:
                out += ["", *_table(["Test", "Statistic", "p-value", "n"], trows)]
            out += [""]
    return ["## Assumption details", "", *out] if out else []


def _interval_text(obj: Any) -> str:
    """``estimate ± se [low, high] (level)`` for a :class:`Parameter` or a fit's counterpart (an ``estimate``/``se``
    object or a bare number)."""
    if isinstance(obj, Mapping):
        obj = Parameter(**{k: v for k, v in obj.items() if k in ("estimate", "se", "ci_low", "ci_high")})
    if not isinstance(obj, Parameter):
        return _fmt(obj)
    text = _pm(obj.estimate, obj.se)
    lo = obj.ci_low if obj.ci_low is not None else obj.low
    hi = obj.ci_high if obj.ci_high is not None else obj.high
    if _num(lo) is not None or _num(hi) is not None:
        text += f" [{_fmt(lo)}, {_fmt(hi)}]"
        level = _num(obj.level)
        if level is not None:
            text += f" ({level:.0%})"
    return text


def _param_notes(p: Parameter | None) -> str:
    if p is None:
        return ""
    return ", ".join(
        f"{k} = {_fmt(getattr(p, k))}" for k in ("n", "side", "kind", "method", "note") if getattr(p, k) is not None
    )


def _window_text(p: Parameter | ParameterSpread | None) -> str:
    """The window an estimate rests on: its words and the range of its grid points (``–`` when not recorded)."""
    if p is None or not p.window:
        return _DASH
    lam = _floats(p.window_lam if isinstance(p, Parameter) else p.lam)
    if lam is None or lam.size == 0:
        return p.window
    if lam.size == 1:
        return p.window if "=" in p.window else f"{p.window}: λ = {_fmt(float(lam[0]))}"
    return f"{p.window}: λ from {_fmt(float(lam.min()))} to {_fmt(float(lam.max()))} ({lam.size} values)"


def _spread_row(label: str, sp: ParameterSpread) -> list[str]:
    lo, hi, rlo, rhi = (_num(x) for x in (sp.low, sp.high, sp.rel_low, sp.rel_high))
    text = f"{_fmt(lo)} to {_fmt(hi)}"
    if rlo is not None and rhi is not None:
        text += f" ({rlo:+.0%} to {rhi:+.0%} of the headline)"
    where = f"lowest at λ = {_fmt(sp.lam_low)}, highest at λ = {_fmt(sp.lam_high)}"
    return [f"{label} read at each λ", text, _window_text(sp), where]


def _md_parameters(report: CheckReport, lam: Any, notes: list[str]) -> list[str]:
    params = report.parameters
    if not params:
        return []
    known = dict(_PARAMETERS)
    order = [k for k, _ in _PARAMETERS if k in params] + sorted(str(k) for k in params if k not in known)
    rows = []
    for k in order:
        p = params[k]
        rows.append([known.get(k, k), _interval_text(p), _window_text(p), _param_notes(p)])
        if k in report.spreads:
            rows.append(_spread_row(known.get(k, k).split(" (")[0], report.spreads[k]))
    header = ["Parameter", "Estimate ± SE [interval]", "Window (the λ it rests on)", "Notes"]
    return ["## Parameters", "", *_table(header, rows)]


def _md_steerability(report: CheckReport, lam: Any, notes: list[str]) -> list[str]:
    st = report.steerability
    if st is None or not st.measures:
        return []
    lam_w = _floats(st.window_lam)
    out = [
        "## Per-query steerability",
        "",
        f"- **window**: {st.window or _DASH}" + ("" if lam_w is None else f"; λ = {_lam_list(lam_w)}"),
        f"- **method**: {st.rule or _DASH}",
        f"- **drive**: {st.drive_definition or _DASH}",
        "",
    ]
    level = _num(st.level)
    pct = f"{level:.0%}" if level is not None else "level"
    rows = [_slopes_row(name, m, pct) for name, m in st.measures.items()]
    header = ["Quantity", "Mean slope ± SE [CI]", "Median [q25, q75]", "Range", "Wrong way (CI < 0)",
              "Right way (CI > 0)", "Spearman ρ with αΔ_q (p, n)"]  # fmt: skip
    out += _table(header, rows)
    out.append("")
    for name, m in st.measures.items():
        slope, hi = _floats(m.slope), _floats(m.ci_high)
        if slope is None or hi is None or hi.size != slope.size:
            continue
        wrong = [str(i) for i in np.flatnonzero(np.nan_to_num(hi, nan=np.inf) < 0)]
        out.append(
            f"- **{name}**: {_fmt(m.n_wrong_way)} of {_fmt(m.n_with_interval)} prompts with an interval steer the "
            f"wrong way" + (f" (prompts {', '.join(wrong)})" if wrong else "") + f"; {_fmt(m.n_right_way)} the right "
            f"way; {_fmt(m.n_defined)} of {_fmt(m.n_queries)} have a slope."
        )
    return out


#: what each KL-budget λ is (``KLBudget.at`` keys)
_KL_BUDGET_ROWS = {
    "measured": "measured: the mean KL on MMLU reaches τ",
    "second_order": "second-order law ½α²λ² mean Var_q = τ (not safe)",
    "safe_mean": "rigorous bound, mean over queries (RMS R_q)",
    "safe_every_query": "rigorous bound, every query (largest R_q)",
}


def _md_kl(report: CheckReport, lam: Any, notes: list[str]) -> list[str]:
    kl = report.kl
    if kl is None or not kl.measured or lam is None:
        return []
    level = _num(kl.level)
    pct = f"{level:.0%}" if level is not None else "level"
    out = ["## KL divergence", "", f"- **definition**: {kl.definition or _DASH}"]
    out.append(f"- **z read at**: λ_ref = {_fmt(kl.lam_ref)}; mean Var_q, median R_q: "
               f"{_fmt(_nanstat(kl.var_z, np.nanmean))}, {_fmt(_nanstat(kl.z_range, np.nanmedian))}")  # fmt: skip
    out += [f"- **end of the theory's regime**: {kl.regime or _DASH}", ""]
    mm = kl.measured.get("mmlu", {})
    columns = {
        "MMLU measured [CI]": mm,
        "PIQA context": kl.measured.get("piqa_context"),
        "PIQA continuation (per token)": kl.measured.get("piqa_continuation"),
        "benign prompts (behavior data) [CI]": kl.measured.get("benign"),
    }
    header = ["λ", *[k for k, v in columns.items() if v], "predicted ½‖δ‖²Var", "predicted ½α²λ²Var",
              "bound ‖δ‖²R²/8", "share above own bound"]  # fmt: skip
    series = [_floats(x) for x in (kl.predicted_norm, kl.predicted_alpha, kl.bound, kl.above_bound_fraction)]
    if kl.measured.get("benign") and kl.benign_predicted_norm is not None:
        header.append("benign predicted ½‖δ‖²Var")
        series.append(_floats(kl.benign_predicted_norm))
    rows = []
    for g, x in enumerate(lam):
        row = [_fmt(x)]
        for name, v in columns.items():
            if not v:
                continue
            mean, lo, hi = (_floats(v.get(k)) for k in ("mean", "ci_low", "ci_high"))
            cell = _fmt(mean[g]) if mean is not None else _DASH
            if name.endswith("[CI]") and lo is not None and hi is not None and np.isfinite(lo[g]):
                cell += f" [{_fmt(lo[g])}, {_fmt(hi[g])}]"
            row.append(cell)
        row += [_DASH if s is None else _fmt(s[g]) for s in series]
        rows.append(row)
    over = "the MMLU queries" + (" and over the benign prompts" if kl.measured.get("benign") else "")
    out += [*_table(header, rows), "", f"Intervals: {pct} t intervals of the mean over {over}.", ""]
    if kl.measured.get("benign"):
        out += [f"Benign prompts: the benign matched prompts of the behavior data (last prompt token); mean Var_q, "
                f"median R_q: {_fmt(_nanstat(kl.benign_var_z, np.nanmean))}, "
                f"{_fmt(_nanstat(kl.benign_z_range, np.nanmedian))}.", ""]  # fmt: skip
    elif kl.benign_reason:
        out += [f"Benign prompts: none, {kl.benign_reason}.", ""]
    b = kl.budget
    if b is not None:
        out += [f"### λ at the KL budget τ = {_fmt(b.tau)} nats", "", f"- {b.note or ''}"]
        if b.measured is None and b.measured_reason:
            out.append(f"- **measured**: none, {b.measured_reason}")
        out.append("")
        curves = list(dict.fromkeys(k for row in (b.at or {}).values() for k in row if k != "lam"))
        rows = [
            [_KL_BUDGET_ROWS.get(name, name), *[_fmt(row.get(k)) if row.get(k) is not None else _DASH
                                                for k in ("lam", *curves)]]
            for name, row in (b.at or {}).items()
        ]  # fmt: skip
        out += _table(["λ of the budget", "λ", *curves], rows)
        out += ["", "Values at each λ: the measured mean curves interpolated linearly on the grid (– outside it)."]
    return out


def _nanstat(values: Any, fn: Any) -> float | None:
    v = _floats(values)
    return None if v is None or not np.isfinite(v).any() else float(fn(v))


def _slopes_row(name: str, m: Slopes, pct: str) -> list[str]:
    mean = _pm(m.mean, m.mean_se)
    if _num(m.mean_ci_low) is not None:
        mean += f" [{_fmt(m.mean_ci_low)}, {_fmt(m.mean_ci_high)}]"
    share = _num(m.wrong_way_share)
    wrong = f"{_fmt(m.n_wrong_way)}/{_fmt(m.n_with_interval)}"
    if share is not None:
        wrong += f" = {share:.0%} [{_num(m.wrong_way_low) or 0:.0%}, {_num(m.wrong_way_high) or 0:.0%}] ({pct} Wilson)"
    rho = _num(m.spearman_rho)
    corr = (
        f"{rho:+.3f} (p = {_fmt(m.spearman_p)}, n = {_fmt(m.spearman_n)})"
        if rho is not None
        else f"– ({m.spearman_note or 'not computed'})"
    )
    label = f"`{name}`" + (f": {m.label}" if m.label and m.label != name else "")
    return [
        label,
        mean,
        f"{_fmt(m.median)} [{_fmt(m.q25)}, {_fmt(m.q75)}]",
        f"{_fmt(m.min)} to {_fmt(m.max)}",
        wrong,
        f"{_fmt(m.n_right_way)}/{_fmt(m.n_with_interval)}",
        corr,
    ]


def _md_chance(report: CheckReport, lam: Any, notes: list[str]) -> list[str]:
    out = []
    for task, c in report.chance.items():
        msg = c.get("message")
        if not msg:
            state = next(
                (
                    w
                    for w, k in (("at chance", "at_chance"), ("above", "above_chance"), ("below", "below_chance"))
                    if c.get(k)
                ),
                "undetermined",
            )
            msg = f"{state} (chance = {_fmt(c.get('chance'))})"
        flag = " **(at chance)**" if c.get("at_chance") is True else ""
        out.append(f"- **{str(task).upper()}**{flag}: {msg}")
    room = report.behavior.get("room")
    if room:
        flag = "" if room.get("can_show_effect") else " **(cannot show an effect)**"
        out.append(f"- **Generated behavior**{flag}: {room.get('message')}")
    return ["## Chance", "", *out] if out else []


def _md_per_lambda(report: CheckReport, lam: np.ndarray | None, notes: list[str]) -> list[str]:
    curves = report.curves
    if lam is None:
        return []
    G = lam.size
    flagged: dict[str, np.ndarray] = {}
    for _, bound in _bounds(report):
        if bound.measured is not None:
            flagged[bound.measured] = flagged.get(bound.measured, np.zeros(G, bool)) | _violations(bound, lam)

    def table(columns: Sequence[tuple[str, str]]) -> tuple[list[str], list[str]]:
        cols, legend = [], []
        for key, header in columns:
            if curves.get(key) is None:
                continue
            s = _series(curves[key], G)
            if s is None:
                notes.append(f"curve {key!r} skipped: its mean is not a list of length G = {G}")
                continue
            cols.append((key, header, s))
            c = curves[key]
            legend.append(f"- *{header}*: {c.label or key}" + (f" [{c.unit}]" if c.unit else "") + f", n = {_fmt(c.n)}")
        if not cols:
            return [], []
        rows = []
        for i in range(G):
            row = [_fmt(float(lam[i]))]
            for key, _, (m, s) in cols:
                text = _pm(m[i], s[i])
                if key in flagged and flagged[key][i]:
                    text += " ✗"
                row.append(text)
            rows.append(row)
        return _table(["λ", *[h for _, h, _ in cols]], rows), legend

    main, legend_main = table(_MAIN_COLUMNS)
    other, legend_other = table(_OTHER_COLUMNS)
    if not main and not other:
        return []
    out = [
        "## Per-λ measurements",
        "",
        "Mean ± standard error across queries; ✗: a bound on this curve is violated.",
        "",
    ]
    if main:
        out += [*main, "", *legend_main, ""]
    if other:
        out += ["### Other per-λ curves", "", *other, "", *legend_other]
    return out


def _md_bounds(report: CheckReport, lam: np.ndarray | None, notes: list[str]) -> list[str]:
    bounds = _bounds(report)
    if not bounds:
        return []
    out = ["## Bounds", ""]
    for name, b in bounds:
        comp = b.comparison or {}
        out += [f"### {b.title or name}", ""]
        items = [
            ("bound", f"`{name}` ({_kind_text(b.kind)})"),
            ("measured curve", f"`{b.measured}`" if b.measured else None),
            ("status", b.status),
            ("note", b.note),
            ("rule", comp.get("rule")),
        ]
        out += [f"- **{k}**: {v}" for k, v in items if v]
        viol = _lam_list(comp.get("violating_lam"))
        if viol == "none" and lam is not None and _violations(b, lam).any():
            viol = _lam_list(lam[_violations(b, lam)])
        out.append(f"- **violated at λ**: {viol}")
        nc = _floats(comp.get("not_compared_lam"))
        if nc is not None and nc.size:
            out.append(f"- **not compared at λ** (undefined bound or measurement): {_lam_list(nc)}")
        if b.n_queries_used is not None:
            out.append(f"- **queries used**: {_fmt(b.n_queries_used)}")
        excluded = b.excluded
        if excluded is not None:
            out.append(f"- **excluded queries**: {len(excluded)}")
            reasons = list(excluded.items())
            out += [f"  - query {q}: {r}" for q, r in reasons[:5]]
            if len(reasons) > 5:
                out.append(f"  - … and {len(reasons) - 5} more")
        out += [*_bound_table(report, b, comp, lam, notes, name), ""]
    return out


def _bound_table(
    report: CheckReport, b: BoundEntry, comp: Mapping[str, Any], lam: Any, notes: list[str], name: str
) -> list[str]:
    if lam is None:
        return []
    G = lam.size
    values = _floats(b.values, G)
    if values is None:
        if b.values is not None:
            notes.append(f"bound {name!r}: values skipped (not a list of length G = {G})")
        return []
    measured = _series(report.curves.get(b.measured or ""), G)
    excess = _floats(comp.get("excess"), G)
    viol = _violations(b, lam)
    rows = []
    for i in range(G):
        row = [_fmt(float(lam[i])), _fmt(float(values[i]))]
        if measured is not None:
            row.append(_pm(measured[0][i], measured[1][i]))
        if excess is not None:
            row.append(_fmt(float(excess[i])))
        row.append("**yes**" if viol[i] else "no")
        rows.append(row)
    header = [
        "λ",
        "bound",
        *(["measured"] if measured is not None else []),
        *(["excess"] if excess is not None else []),
    ]
    return ["", *_table([*header, "violated"], rows)]


def _md_fits(report: CheckReport, lam: Any, notes: list[str]) -> list[str]:
    if not report.fits:
        return []
    out = ["## Fits", ""]
    for name, fit in report.fits.items():
        out += [f"### {name.capitalize()}", ""]
        if fit.error:
            out += [f"Fit failed: {fit.error}", ""]
            continue
        head = [f"- **model**: {fit.model}"] if fit.model else []
        if _num(fit.aic) is not None:
            head.append(f"- **AIC**: {_fmt(fit.aic)}")
        out += head
        params = fit.params or {}
        counterpart = fit.measured_counterpart or {}
        rows = []
        for p, val in params.items():
            fitted = _pm(val.get("value"), val.get("stderr"))
            meas = _interval_text(counterpart[p]) if p in counterpart else _DASH
            rows.append([p, fitted, meas])
        rows += [[p, _DASH, _interval_text(v)] for p, v in counterpart.items() if p not in params]
        if rows:
            out += ["", *_table(["Parameter", "Fitted ± stderr", "Measured counterpart"], rows)]
        out.append("")
    return out if len(out) > 2 else []


def _md_figures(report: CheckReport, lam: Any, notes: list[str]) -> list[str]:
    if not report.figures:
        return []
    captions = {
        "fig4_behavior.png": "Behavior B(λ) with the fitted tanh law and the Theorem 1 bounds",
        "fig5_helpfulness.png": "Helpfulness H(λ) with the fitted Theorem 2 form",
        "fig6_8_delta_norm.png": "Assumption 1: norms of the steering-induced change vs λ",
        "fig9_10_noise.png": "Assumption 3: projections of unrelated tokens and their spread",
        "fig11_12_separation.png": "Assumption 2: separation of the answer tokens along δ̂ vs λ",
        "steerability.png": "Per-query steerability: each prompt's slope near λ = 0 and its rank against αΔ_q",
        "kl.png": "KL divergence: measured KL(P_λ‖P_0) per λ against the second-order law and the rigorous bound",
    }
    out = ["## Figures", ""]
    for f in report.figures:
        out += [f"![{captions.get(f, f)}]({f})", ""]
    return out


def _md_provenance(report: CheckReport, lam: np.ndarray | None, notes: list[str]) -> list[str]:
    out = ["## Data and provenance", ""]
    model = report.model
    if model:
        first = ["name", "source", "path", "sha256", "n_layers", "hidden_size", "vocab_size", "dtype", "device"]
        keys = [k for k in first if k in model] + [k for k in model if k not in first]
        out += ["### Model", "", *_table(["Field", "Value"], [[k, _fmt(model[k])] for k in keys]), ""]
    beh = report.behavior
    if beh:
        out += ["### Behavior", ""]
        for key in ("name", "documentation"):
            if beh.get(key):
                out.append(f"- **{key}**: {beh[key]}")
        for key, nkey in (("aligned", "n_aligned_ids"), ("misaligned", "n_misaligned_ids")):
            toks = beh.get(key)
            if isinstance(toks, Sequence) and not isinstance(toks, str):
                shown = ", ".join(f"`{t!s}`" for t in list(toks)[:12]) + (" …" if len(toks) > 12 else "")
                out.append(f"- **{key} tokens** ({_fmt(beh.get(nkey))} ids): {shown}")
        warns = beh.get("warnings")
        if isinstance(warns, Sequence) and not isinstance(warns, str):
            out += [f"- **warning**: {w}" for w in warns]
        out.append("")
    vec = report.vectors
    if vec:
        out += ["### Steering vectors", ""]
        for key in ("method", "n_pairs", "dataset_hash", "path"):
            if vec.get(key) is not None:
                out.append(f"- **{key}**: {_fmt(vec[key])}")
        ev_s = {str(k): v for k, v in (vec.get("explained_variance") or {}).items()}
        acc_s = {str(k): v for k, v in (vec.get("accuracy") or {}).items()}
        layer_keys = list(ev_s) + [k for k in acc_s if k not in ev_s]
        if layer_keys:
            rows = [[k, _fmt(ev_s.get(k)), _fmt(acc_s.get(k))] for k in layer_keys]
            out += ["", *_table(["Layer", "Explained variance", "Sign accuracy"], rows)]
        extra = [
            k for k in vec if k not in ("method", "n_pairs", "dataset_hash", "path", "explained_variance", "accuracy")
        ]
        out += [f"- **{k}**: {_fmt(vec[k])}" for k in extra]
        out.append("")
    grid_items = []
    if report.layers is not None:
        grid_items.append(f"- **layers**: {_full_list(report.layers)}")
    if report.layer_convention:
        grid_items.append(f"- **layer convention**: {report.layer_convention}")
    lg = report.lambda_grid
    if lg:
        if lam is not None:
            grid_items.append(f"- **λ values**: {', '.join(_fmt(float(v)) for v in lam)}")
        for key in ("scale", "fractions", "rule"):
            if lg.get(key) is not None:
                grid_items.append(f"- **λ {key}**: {_full_list(lg[key])}")
    if grid_items:
        out += ["### Layers and λ grid", "", *grid_items, ""]
    if report.data:
        rows = [[name, _fmt(d.get("source")), _fmt(d.get("n")), _fmt(d.get("hash"))] for name, d in report.data.items()]
        out += ["### Data", "", *_table(["Set", "Source", "n", "Hash"], rows), ""]
    if report.config:
        rows = [[k, _fmt(v)] for k, v in report.config.items()]
        out += ["### Configuration", "", *_table(["Setting", "Value"], rows), ""]
    if report.versions:
        rows = [[k, _fmt(v)] for k, v in report.versions.items()]
        out += ["### Versions", "", *_table(["Package", "Version"], rows), ""]
    runtime = report.runtime_seconds
    if runtime:
        rows = [[k, _fmt(v)] for k, v in runtime.items()]
        total = [_num(v) for v in runtime.values()]
        if "total" not in runtime and any(t is not None for t in total):
            rows.append(["total (sum)", _fmt(sum(t for t in total if t is not None))])
        out += ["### Run time", "", *_table(["Stage", "Seconds"], rows), ""]
    return out if len(out) > 2 else []


#: the columns of the candidate table: (key in ``at``, header)
_CANDIDATE_COLUMNS = (
    ("B_generated", "B generated"),
    ("B_single_binary", "B binary"),
    ("H_mmlu_full", "H MMLU full"),
    ("H_mmlu_restricted", "H MMLU A–D"),
    ("H_piqa", "H PIQA"),
    ("kl_mmlu", "KL MMLU"),
)


def _md_candidates(report: CheckReport, lam: Any, notes: list[str]) -> list[str]:
    c = report.candidates
    if c is None or not c.rows:
        return []
    cols = [(k, h) for k, h in _CANDIDATE_COLUMNS if any(k in (row.at or {}) for row in c.rows)]
    rows = []
    for row in c.rows:
        at = row.at or {}
        vals = [_DASH if at.get(k) is None else _fmt(at[k]) for k, _ in cols]
        rows.append([row.title or row.key, _DASH if row.lam is None else _fmt(row.lam), *vals])
    out = [
        "## A λ you can defend",
        "",
        f"Candidate strengths (target behavior {_fmt(c.target_behavior)}); the measured mean curves at each λ, "
        "interpolated linearly on the grid (– where the candidate is absent or outside the grid).",
        "",
        *_table(["Candidate", "λ", *[h for _, h in cols]], rows),
        "",
    ]
    for row in c.rows:
        title = (row.title or row.key or "").replace("*", "\\*")
        line = f"- **{title}**: for {row.purpose or _DASH}; rests on {row.assumptions or _DASH}."
        if row.reason:
            line += f" {'Absent' if row.lam is None else 'Note'}: {row.reason}."
        out.append(line)
    return out


def write_report(report: CheckReport, out_dir: Path | str) -> dict[str, Path]:
    """Write ``report.json`` (strict JSON, ``indent=1``: non-finite floats as ``null``, other objects such as a
    :class:`~pathlib.Path` as their ``str``), the figures and ``report.md`` into ``out_dir`` (created if missing).

    The written figures' names are stored in ``report.figures``.

    Returns:
        ``{"json": path, "markdown": path}`` plus one entry per figure keyed by its stem (e.g. ``"fig4_behavior"``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clean = CheckReport.from_json(json.loads(json.dumps(report.to_json(), default=str)))
    report.figures = clean.figures = plot_figures(clean, out)
    paths = {"json": out / "report.json", "markdown": out / "report.md"}
    atomic_write(paths["json"], json.dumps(clean.to_json(), indent=1, allow_nan=False, ensure_ascii=False) + "\n")
    atomic_write(paths["markdown"], render_markdown(clean))
    paths.update({Path(f).stem: out / f for f in clean.figures})
    return paths
