r"""Render the report of ``steering-bounds check`` as ``report.json``, ``report.md`` and PNG figures.

The report is a plain dictionary built by :mod:`validation.check` (schema ``"steering-bounds/check-report"``,
version 1): JSON-safe lists, floats, strings and ``None``. This module only *consumes* it. Conventions:

* **Per-λ arrays** have length :math:`G` = ``len(report["lambda_grid"]["values"])``; ``None`` marks an undefined
  point (rendered ``–`` in tables, a gap in figures). A "curve" object is ``{"mean": [G], "se": [G], "n": int,
  "label": str, "unit": str}``; the error bars of the figures and the ``mean ± se`` cells are one standard error
  across queries.
* **Defensive rendering.** Any key may be absent or ``None`` (a run without PIQA, a failed fit, a degenerate
  :math:`B_0`): the missing piece is skipped, never an exception. A per-λ array whose length is not :math:`G` is
  skipped and listed under "Rendering notes". Only a wrong ``schema`` or an unsupported ``schema_version`` raises.
* **Numbers** are printed with 3 significant digits.
* **Figures** are drawn with matplotlib's Agg canvas through the object-oriented API (``Figure`` +
  ``FigureCanvasAgg``): no pyplot, so the process-wide backend of the caller (e.g. a notebook) is never switched.
  Each figure is written only when its data is present; a figure that fails to draw is reported with a
  :class:`RuntimeWarning` and the others are still written.
* **Files** are written atomically (temporary file in the same directory, then :func:`os.replace`), so an
  interrupted run never leaves a truncated ``report.json``. The JSON is strict (``allow_nan=False``): non-finite
  floats are converted to ``None`` by :func:`validation.measure.jsonable` first.
"""

from __future__ import annotations

import json
import math
import os
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bounds.errors import ParameterError
from validation.analysis import SCHEMA, SCHEMA_VERSION
from validation.measure import jsonable

__all__ = [
    "FIGURE_NAMES",
    "SCHEMA",
    "SUPPORTED_SCHEMA_VERSIONS",
    "check_schema",
    "plot_figures",
    "render_markdown",
    "write_report",
]

SUPPORTED_SCHEMA_VERSIONS = (SCHEMA_VERSION,)
FIGURE_NAMES = (
    "assumption1_norms.png",
    "assumption2_margins.png",
    "assumption3_noise.png",
    "behavior.png",
    "helpfulness.png",
)

_DPI = 120
_SIZE_ONE = (7.0, 4.5)
_SIZE_TWO_COLS = (9.5, 4.5)
_SIZE_TWO_ROWS = (7.0, 6.0)
_SIZE_LEGEND_BELOW = (7.0, 5.6)
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


# ---------------------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------------------
def check_schema(report: object) -> None:
    """Check that ``report`` is a check report this module can render.

    Raises:
        TypeError: ``report`` is not a mapping.
        ParameterError: (a ``ValueError``) ``report["schema"]`` is not :data:`SCHEMA`, or
            ``report["schema_version"]`` is not one of :data:`SUPPORTED_SCHEMA_VERSIONS`.
    """
    if not isinstance(report, Mapping):
        raise TypeError(f"report must be a dict (the check report), got {type(report).__name__}")
    schema = report.get("schema")
    if schema != SCHEMA:
        raise ParameterError(f"report['schema'] must be {SCHEMA!r}, got {schema!r}")
    version = report.get("schema_version")
    if isinstance(version, bool) or version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ParameterError(
            f"report['schema_version'] = {version!r} is not supported (supported: {list(SUPPORTED_SCHEMA_VERSIONS)})"
        )


def _get(obj: Any, *keys: Any) -> Any:
    """``obj[k0][k1]...`` or ``None`` when any level is missing or not a mapping."""
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _num(x: Any) -> float | None:
    """``x`` as a finite float, else ``None`` (booleans, strings and non-finite values are not numbers here)."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        return None
    v = float(x)
    return v if math.isfinite(v) else None


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


def _grid(report: Mapping[str, Any]) -> np.ndarray | None:
    """The λ grid as a float array, or ``None`` when absent/unusable."""
    values = _get(report, "lambda_grid", "values")
    if not isinstance(values, Sequence) or isinstance(values, str) or len(values) == 0:
        return None
    arr = _floats(values)
    return None if arr is None or np.isnan(arr).all() else arr


def _floats(values: Any, length: int | None = None) -> np.ndarray | None:
    """A per-λ list as a float array (``None`` entries become NaN); ``None`` if unusable or of the wrong length."""
    if values is None or isinstance(values, (str, Mapping)):
        return None
    try:
        arr = np.array([np.nan if _num(v) is None else float(v) for v in values], dtype=float)
    except TypeError:
        return None
    if arr.ndim != 1 or (length is not None and arr.size != length):
        return None
    return arr


def _series(obj: Any, length: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean and SE arrays of a curve object (``{"mean", "se"}``) or of a bare per-λ list (SE all NaN)."""
    if isinstance(obj, Mapping):
        mean = _floats(obj.get("mean"), length)
        if mean is None:
            return None
        se = _floats(obj.get("se"), length)
        return mean, se if se is not None else np.full(length, np.nan)
    mean = _floats(obj, length)
    return None if mean is None else (mean, np.full(length, np.nan))


def _model_name(report: Mapping[str, Any]) -> str:
    name = _get(report, "model", "name") or _get(report, "config", "model")
    return str(name) if name else "unknown model"


def _behavior_name(report: Mapping[str, Any]) -> str | None:
    name = _get(report, "behavior", "name") or _get(report, "config", "behavior")
    return str(name) if name else None


def _curve_label(report: Mapping[str, Any], key: str, default: str) -> str:
    curve = _get(report, "curves", key)
    label = _get(curve, "legend") or _get(curve, "label") or default
    n = _get(curve, "n")
    return f"{label} (n = {n})" if isinstance(n, int) and not isinstance(n, bool) else str(label)


def _bounds(report: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The bounds in a stable order (known names first)."""
    bounds = report.get("bounds")
    if not isinstance(bounds, Mapping):
        return []
    names = [n for n in _BOUND_ORDER if n in bounds] + sorted(str(n) for n in bounds if n not in _BOUND_ORDER)
    return [(n, bounds[n]) for n in names if isinstance(bounds.get(n), Mapping)]


def _violations(bound: Mapping[str, Any], lam: np.ndarray) -> np.ndarray:
    """Boolean mask over the grid of the λ where the measurement violates ``bound``."""
    comp = bound.get("comparison")
    if not isinstance(comp, Mapping):
        return np.zeros(lam.size, dtype=bool)
    flags = comp.get("violated")
    if isinstance(flags, Sequence) and not isinstance(flags, str) and len(flags) == lam.size:
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


# ---------------------------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------------------------
def render_markdown(report: dict) -> str:
    """The check report as a markdown document (``report.md``).

    Sections, each only when its data is present: title, verdict table (statistic, threshold, pass/fail, rule) with
    the evidence, assumption details, parameters with their intervals, chance messages, per-λ measurements
    (``mean ± se``), bounds (where violated, what was not compared, excluded queries), fits next to their measured
    counterparts, data and provenance (hashes, layers, grid rule, versions, run time) and figure links.

    Args:
        report: the check report dictionary (see the module docstring).

    Returns:
        The markdown text (ends with a newline).

    Raises:
        TypeError: ``report`` is not a mapping.
        ValueError: wrong ``schema`` or unsupported ``schema_version``.
    """
    check_schema(report)
    notes: list[str] = []
    lam = _grid(report)
    lines: list[str] = []
    title = f"# Steering-bounds check: {_model_name(report)}"
    behavior = _behavior_name(report)
    if behavior:
        title += f", behavior `{behavior}`"
    lines += [title, ""]
    meta = [
        ("Created", report.get("created")),
        ("Command", f"`{report['command']}`" if report.get("command") else None),
        ("Layers", _full_list(report["layers"]) if report.get("layers") is not None else None),
        ("λ grid", None if lam is None else f"{lam.size} points from {_fmt(lam.min())} to {_fmt(lam.max())}"),
    ]
    lines += [f"- **{k}**: {_fmt(v)}" for k, v in meta if v is not None] + [""]

    sections: list[Callable[..., list[str]]] = [
        _md_verdict,
        _md_assumption_details,
        _md_parameters,
        _md_chance,
        _md_per_lambda,
        _md_bounds,
        _md_fits,
        _md_figures,
        _md_provenance,
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


def _verdict_result(passed: Any, fallback: Any) -> str:
    if passed is True:
        return "**pass**"
    if passed is False:
        return "**FAIL**"
    if isinstance(fallback, str) and fallback:
        return {"pass": "**pass**", "fail": "**FAIL**"}.get(fallback.lower(), fallback)
    return "n/a"


def _statistic_text(v: Mapping[str, Any]) -> str:
    stat = v.get("statistic")
    value = v.get("value")
    if isinstance(stat, str) and stat:
        return f"{stat} = {_fmt(value)}" if "value" in v else stat
    return _fmt(stat if stat is not None else value)


def _md_verdict(report: Mapping[str, Any], lam: Any, notes: list[str]) -> list[str]:
    summary = _get(report, "verdict", "summary")
    rows, evidence = [], []
    for key, label in _ASSUMPTIONS:
        v = _get(report, "assumptions", key, "verdict")
        fallback = _get(report, "verdict", key)
        if not isinstance(v, Mapping):
            if fallback is None:
                continue
            v = {}
        rows.append(
            [
                label,
                _statistic_text(v),
                _fmt(v.get("threshold")),
                _verdict_result(v.get("passed"), fallback),
                v.get("rule"),
            ]
        )
        ev = v.get("evidence")
        if ev:
            evidence.append(f"- **Assumption {label.split(':')[0]}**: {_fmt(ev)}")
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


def _md_assumption_details(report: Mapping[str, Any], lam: Any, notes: list[str]) -> list[str]:
    a = report.get("assumptions")
    if not isinstance(a, Mapping):
        return []
    out: list[str] = []
    a1 = a.get("assumption_1")
    if isinstance(a1, Mapping):
        alpha = a1.get("alpha")
        items = []
        if isinstance(alpha, Mapping):
            items.append(f"α = {_interval_text(alpha)}" + (f" (side: {alpha['side']})" if alpha.get("side") else ""))
        lr = a1.get("linear_range")
        if isinstance(lr, Sequence) and not isinstance(lr, str) and len(lr) == 2:
            items.append(f"linear range λ ∈ [{_fmt(lr[0])}, {_fmt(lr[1])}]")
        elif "linear_range" in a1:
            items.append("linear range: none detected")
        if _num(a1.get("r2")) is not None:
            items.append(f"R² = {_fmt(a1['r2'])}")
        if items:
            out += ["### Assumption 1", "", *[f"- {i}" for i in items], ""]
    a2 = a.get("assumption_2")
    if isinstance(a2, Mapping) and isinstance(a2.get("Delta"), Mapping):
        out += ["### Assumption 2", "", f"- Δ = {_interval_text(a2['Delta'])}", ""]
    a3 = a.get("assumption_3")
    if isinstance(a3, Mapping):
        items = [
            f"{name} = {_fmt(a3.get(key))}"
            for key, name in (
                ("sigma", "σ"),
                ("sigma_pooled_differences", "spread of z_b − z_a*"),
                ("ratio_pooled_to_within", "ratio (√2 ≈ 1.414 expected)"),
                ("skewness", "skewness"),
                ("excess_kurtosis", "excess kurtosis"),
                ("top_k_mass_mean", "mean top-k mass"),
                ("k", "k"),
                ("lambda_ref", "λ_ref"),
            )
            if a3.get(key) is not None
        ]
        tests = a3.get("tests")
        trows = []
        if isinstance(tests, Mapping):
            trows = [
                [name, _fmt(_get(t, "statistic")), _fmt(_get(t, "pvalue")), _fmt(_get(t, "n"))]
                for name, t in tests.items()
                if isinstance(t, Mapping)
            ]
        if items or trows:
            out += ["### Assumption 3", ""]
            out += [f"- {i}" for i in items]
            if trows:
                out += ["", *_table(["Test", "Statistic", "p-value", "n"], trows)]
            out += [""]
    return ["## Assumption details", "", *out] if out else []


def _interval_text(obj: Any) -> str:
    """``estimate ± se [low, high] (level)`` for a parameter object (or a bare number)."""
    if not isinstance(obj, Mapping):
        return _fmt(obj)
    est = next((obj[k] for k in ("estimate", "mean", "value") if k in obj), None)
    if isinstance(est, Sequence) and not isinstance(est, str):
        return _fmt(est)
    text = _pm(est, obj.get("se", obj.get("stderr")))
    lo = obj.get("ci_low", obj.get("low"))
    hi = obj.get("ci_high", obj.get("high"))
    if _num(lo) is not None or _num(hi) is not None:
        text += f" [{_fmt(lo)}, {_fmt(hi)}]"
        level = _num(obj.get("level"))
        if level is not None:
            text += f" ({level:.0%})"
    return text


def _param_notes(obj: Any) -> str:
    if not isinstance(obj, Mapping):
        return ""
    parts = [f"{k} = {_fmt(obj[k])}" for k in ("n", "side", "kind", "method", "note") if obj.get(k) is not None]
    return ", ".join(parts)


def _md_parameters(report: Mapping[str, Any], lam: Any, notes: list[str]) -> list[str]:
    params = report.get("parameters")
    if not isinstance(params, Mapping) or not params:
        return []
    known = dict(_PARAMETERS)
    order = [k for k, _ in _PARAMETERS if k in params] + sorted(str(k) for k in params if k not in known)
    rows = [[known.get(k, k), _interval_text(params[k]), _param_notes(params[k])] for k in order]
    return ["## Parameters", "", *_table(["Parameter", "Estimate ± SE [interval]", "Notes"], rows)]


def _md_chance(report: Mapping[str, Any], lam: Any, notes: list[str]) -> list[str]:
    chance = report.get("chance")
    if not isinstance(chance, Mapping):
        return []
    out = []
    for task, c in chance.items():
        if not isinstance(c, Mapping):
            continue
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
    return ["## Chance", "", *out] if out else []


def _md_per_lambda(report: Mapping[str, Any], lam: np.ndarray | None, notes: list[str]) -> list[str]:
    curves = report.get("curves")
    if lam is None or not isinstance(curves, Mapping):
        return []
    G = lam.size
    flagged: dict[str, np.ndarray] = {}
    for _, bound in _bounds(report):
        key = bound.get("measured")
        if isinstance(key, str):
            flagged[key] = flagged.get(key, np.zeros(G, bool)) | _violations(bound, lam)

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
            unit = _get(c, "unit")
            legend.append(
                f"- *{header}*: {_get(c, 'label') or key}"
                + (f" [{unit}]" if unit else "")
                + f", n = {_fmt(_get(c, 'n'))}"
            )
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


def _md_bounds(report: Mapping[str, Any], lam: np.ndarray | None, notes: list[str]) -> list[str]:
    bounds = _bounds(report)
    if not bounds:
        return []
    out = ["## Bounds", ""]
    for name, b in bounds:
        comp = b.get("comparison") if isinstance(b.get("comparison"), Mapping) else {}
        out += [f"### {b.get('title') or name}", ""]
        items = [
            ("bound", f"`{name}` ({_kind_text(b.get('kind'))})"),
            ("measured curve", f"`{b['measured']}`" if b.get("measured") else None),
            ("status", b.get("status")),
            ("note", b.get("note")),
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
        if b.get("n_queries_used") is not None:
            out.append(f"- **queries used**: {_fmt(b['n_queries_used'])}")
        excluded = b.get("excluded")
        if isinstance(excluded, Mapping):
            out.append(f"- **excluded queries**: {len(excluded)}")
            reasons = list(excluded.items())
            out += [f"  - query {q}: {r}" for q, r in reasons[:5]]
            if len(reasons) > 5:
                out.append(f"  - … and {len(reasons) - 5} more")
        out += [*_bound_table(report, b, comp, lam, notes, name), ""]
    return out


def _bound_table(
    report: Mapping[str, Any], b: Mapping[str, Any], comp: Mapping[str, Any], lam: Any, notes: list[str], name: str
) -> list[str]:
    if lam is None:
        return []
    G = lam.size
    values = _floats(b.get("values"), G)
    if values is None:
        if b.get("values") is not None:
            notes.append(f"bound {name!r}: values skipped (not a list of length G = {G})")
        return []
    measured = _series(_get(report, "curves", b.get("measured")), G) if isinstance(b.get("measured"), str) else None
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


def _md_fits(report: Mapping[str, Any], lam: Any, notes: list[str]) -> list[str]:
    fits = report.get("fits")
    if not isinstance(fits, Mapping) or not fits:
        return []
    out = ["## Fits", ""]
    for name, fit in fits.items():
        if not isinstance(fit, Mapping):
            continue
        out += [f"### {str(name).capitalize()}", ""]
        if fit.get("error"):
            out += [f"Fit failed: {fit['error']}", ""]
            continue
        head = [f"- **model**: {fit['model']}"] if fit.get("model") else []
        if _num(fit.get("aic")) is not None:
            head.append(f"- **AIC**: {_fmt(fit['aic'])}")
        out += head
        params = fit.get("params") if isinstance(fit.get("params"), Mapping) else {}
        counterpart = fit.get("measured_counterpart") if isinstance(fit.get("measured_counterpart"), Mapping) else {}
        rows = []
        for p, val in params.items():
            fitted = _pm(val.get("value"), val.get("stderr")) if isinstance(val, Mapping) else _fmt(val)
            meas = _interval_text(counterpart[p]) if p in counterpart else _DASH
            rows.append([p, fitted, meas])
        rows += [[p, _DASH, _interval_text(v)] for p, v in counterpart.items() if p not in params]
        if rows:
            out += ["", *_table(["Parameter", "Fitted ± stderr", "Measured counterpart"], rows)]
        out.append("")
    return out if len(out) > 2 else []


def _md_figures(report: Mapping[str, Any], lam: Any, notes: list[str]) -> list[str]:
    figs = report.get("figures")
    if not isinstance(figs, Sequence) or isinstance(figs, str) or not figs:
        return []
    captions = {
        "assumption1_norms.png": "Assumption 1: norms of the steering-induced change vs λ",
        "assumption2_margins.png": "Assumption 2: margins along δ̂ vs λ",
        "assumption3_noise.png": "Assumption 3: projections of unrelated tokens",
        "behavior.png": "Behavior B(λ) with the Theorem 1 bounds",
        "helpfulness.png": "Helpfulness H(λ) with the bounds",
    }
    out = ["## Figures", ""]
    for f in figs:
        f = str(f)
        out += [f"![{captions.get(f, f)}]({f})", ""]
    return out


def _md_provenance(report: Mapping[str, Any], lam: np.ndarray | None, notes: list[str]) -> list[str]:
    out = ["## Data and provenance", ""]
    model = report.get("model")
    if isinstance(model, Mapping) and model:
        first = ["name", "source", "path", "sha256", "n_layers", "hidden_size", "vocab_size", "dtype", "device"]
        keys = [k for k in first if k in model] + [k for k in model if k not in first]
        out += ["### Model", "", *_table(["Field", "Value"], [[k, _fmt(model[k])] for k in keys]), ""]
    beh = report.get("behavior")
    if isinstance(beh, Mapping) and beh:
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
    vec = report.get("vectors")
    if isinstance(vec, Mapping) and vec:
        out += ["### Steering vectors", ""]
        for key in ("method", "n_pairs", "dataset_hash", "path"):
            if vec.get(key) is not None:
                out.append(f"- **{key}**: {_fmt(vec[key])}")
        ev = vec.get("explained_variance") if isinstance(vec.get("explained_variance"), Mapping) else {}
        acc = vec.get("accuracy") if isinstance(vec.get("accuracy"), Mapping) else {}
        ev_s = {str(k): v for k, v in ev.items()}
        acc_s = {str(k): v for k, v in acc.items()}
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
    if report.get("layers") is not None:
        grid_items.append(f"- **layers**: {_full_list(report['layers'])}")
    if report.get("layer_convention"):
        grid_items.append(f"- **layer convention**: {report['layer_convention']}")
    lg = report.get("lambda_grid")
    if isinstance(lg, Mapping):
        if lam is not None:
            grid_items.append(f"- **λ values**: {', '.join(_fmt(float(v)) for v in lam)}")
        for key in ("scale", "fractions", "rule"):
            if lg.get(key) is not None:
                grid_items.append(f"- **λ {key}**: {_full_list(lg[key])}")
    if grid_items:
        out += ["### Layers and λ grid", "", *grid_items, ""]
    data = report.get("data")
    if isinstance(data, Mapping) and data:
        rows = [
            [name, _fmt(_get(d, "source")), _fmt(_get(d, "n")), _fmt(_get(d, "hash"))]
            for name, d in data.items()
            if isinstance(d, Mapping)
        ]
        if rows:
            out += ["### Data", "", *_table(["Set", "Source", "n", "Hash"], rows), ""]
    config = report.get("config")
    if isinstance(config, Mapping) and config:
        out += ["### Configuration", "", *_table(["Setting", "Value"], [[k, _fmt(v)] for k, v in config.items()]), ""]
    versions = report.get("versions")
    if isinstance(versions, Mapping) and versions:
        out += ["### Versions", "", *_table(["Package", "Version"], [[k, _fmt(v)] for k, v in versions.items()]), ""]
    runtime = report.get("runtime_seconds")
    if isinstance(runtime, Mapping) and runtime:
        rows = [[k, _fmt(v)] for k, v in runtime.items()]
        total = [_num(v) for v in runtime.values()]
        if "total" not in runtime and any(t is not None for t in total):
            rows.append(["total (sum)", _fmt(sum(t for t in total if t is not None))])
        out += ["### Run time", "", *_table(["Stage", "Seconds"], rows), ""]
    return out if len(out) > 2 else []


# ---------------------------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------------------------
def plot_figures(report: dict, out_dir: Path) -> list[str]:
    """Draw the report's figures as PNG files in ``out_dir`` (each only when its data is present).

    * ``assumption1_norms.png``: left, :math:`\\|\\delta\\|` after the final norm (behavior prompts, and MMLU
      prompts when measured) vs λ with ±1 SE bars, the line :math:`\\alpha|\\lambda|` and the detected linear range
      shaded; right, the pre-norm residual change and :math:`\\|U\\delta\\|` (twin axes: their scales differ).
    * ``assumption2_margins.png``: top, mean and minimum hard margin, mean gap (and soft margin) vs λ with the zero
      line and Δ; bottom, fraction of queries with a positive margin (and mean soft-margin mass ρ).
    * ``assumption3_noise.png``: left, histogram of the pooled differences :math:`(z_b-z_{a^*})/\\sigma` with the
      :math:`N(0,2)` density (differences of two i.i.d. :math:`N(\\cdot,\\sigma^2)` have SD :math:`\\sqrt2\\sigma`);
      right, QQ plot of the standardised contrasts against standard normal quantiles with :math:`y=x`.
    * ``behavior.png``: :math:`B` single token, binary and generated vs λ (±1 SE), the Theorem 1 bounds dashed, the
      fitted curve, violations marked in red.
    * ``helpfulness.png``: :math:`H` (MMLU full vocabulary, MMLU A–D, PIQA) vs λ (±1 SE), chance levels 1/4 and
      1/2 dotted, the helpfulness bounds dashed, the fitted curve, violations marked in red.

    Args:
        report: the check report dictionary.
        out_dir: directory to write into (created if missing).

    Returns:
        The file names written (relative to ``out_dir``), in the order above.

    Raises:
        TypeError: ``report`` is not a mapping.
        ValueError: wrong ``schema`` or unsupported ``schema_version``.
    """
    check_schema(report)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    drawers: tuple[tuple[str, Callable[[Any, Mapping[str, Any], np.ndarray | None], bool]], ...] = (
        ("assumption1_norms.png", _fig_assumption1),
        ("assumption2_margins.png", _fig_assumption2),
        ("assumption3_noise.png", _fig_assumption3),
        ("behavior.png", _fig_behavior),
        ("helpfulness.png", _fig_helpfulness),
    )
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    lam = _grid(report)
    written = []
    for name, draw in drawers:
        fig = Figure(figsize=_SIZE_ONE, dpi=_DPI)
        FigureCanvasAgg(fig)
        try:
            if not draw(fig, report, lam):
                continue
            _atomic_savefig(fig, out / name)
            written.append(name)
        except Exception as exc:
            warnings.warn(f"figure {name} not written: {type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=2)
    return written


def _atomic_savefig(fig: Any, path: Path) -> None:
    _atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=_DPI, bbox_inches="tight"))


def _errorbar(ax: Any, lam: np.ndarray, mean: np.ndarray, se: np.ndarray, **kw: Any) -> Any:
    """``ax.errorbar`` with NaN SE drawn without a bar; returns the line for legends."""
    yerr = None if np.isnan(se).all() else np.where(np.isnan(se), 0.0, se)
    return ax.errorbar(lam, mean, yerr=yerr, capsize=3, marker="o", markersize=4, linewidth=1.4, **kw)


def _legend_below(ax: Any) -> None:
    """Legend in two columns under the axes: curves, bounds, fits and violation markers never hide data."""
    ax.figure.set_size_inches(*_SIZE_LEGEND_BELOW)
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)


def _title(report: Mapping[str, Any], what: str, n: Any = None) -> str:
    n_text = f", n = {n}" if isinstance(n, int) and not isinstance(n, bool) else ""
    return f"{what}\n{_model_name(report)}{n_text}"


def _curve_unit(report: Mapping[str, Any], key: str, default: str) -> str:
    unit = _get(report, "curves", key, "unit")
    return str(unit) if unit else default


def _fig_assumption1(fig: Any, report: Mapping[str, Any], lam: np.ndarray | None) -> bool:
    if lam is None:
        return False
    G = lam.size
    curves = report.get("curves") if isinstance(report.get("curves"), Mapping) else {}
    post = _series(curves.get("delta_norm_post"), G)
    mmlu = _series(curves.get("mmlu_delta_norm_post"), G)
    pre = _series(curves.get("delta_norm_pre"), G)
    logit = _series(curves.get("delta_logit_norm"), G)
    if post is None and mmlu is None and pre is None and logit is None:
        return False
    two = (post is not None or mmlu is not None) and (pre is not None or logit is not None)
    if two:
        fig.set_size_inches(*_SIZE_TWO_COLS)
    axes = fig.subplots(1, 2) if two else [fig.subplots()]
    ax = axes[0]
    if post is not None or mmlu is not None:
        if post is not None:
            _errorbar(ax, lam, *post, color="C0", label=_curve_label(report, "delta_norm_post", "‖δ‖ behavior prompts"))
        if mmlu is not None:
            _errorbar(
                ax, lam, *mmlu, color="C2", label=_curve_label(report, "mmlu_delta_norm_post", "‖δ‖ MMLU prompts")
            )
        a1 = _get(report, "assumptions", "assumption_1")
        alpha = _get(a1, "alpha")
        a_est = _num(_get(alpha, "estimate"))
        if a_est is None:
            a_est = _num(_get(report, "parameters", "alpha", "estimate"))
            alpha = _get(report, "parameters", "alpha")
        if a_est is not None:
            xs = np.linspace(lam.min(), lam.max(), 200)
            side = _get(alpha, "side")
            ax.plot(
                xs,
                a_est * np.abs(xs),
                "k--",
                linewidth=1.1,
                label=f"α|λ|, α = {_pm(a_est, _get(alpha, 'se'))}" + (f" ({side})" if side else ""),
            )
        lr = _get(a1, "linear_range")
        if isinstance(lr, Sequence) and not isinstance(lr, str) and len(lr) == 2:
            lo, hi = _num(lr[0]), _num(lr[1])
            if lo is not None and hi is not None and hi > lo:
                r2 = _num(_get(a1, "r2"))
                label = "linear range" + (f" (R² = {r2:.3g})" if r2 is not None else "")
                ax.axvspan(lo, hi, color="C0", alpha=0.12, label=label)
        ax.set_xlabel("λ (steering strength)")
        ax.set_ylabel(f"‖δ‖ after final norm [{_curve_unit(report, 'delta_norm_post', 'hidden-state units')}]")
        ax.set_title("δ multiplied by the unembedding", fontsize=10)
        ax.legend(fontsize=8, loc="upper center")
        ax.grid(alpha=0.3)
    if pre is not None or logit is not None:
        ax = axes[-1]
        handles = []
        if pre is not None:
            handles.append(
                _errorbar(ax, lam, *pre, color="C1", label=_curve_label(report, "delta_norm_pre", "pre-norm ‖Δh‖"))
            )
            ax.set_ylabel(f"pre-norm residual change [{_curve_unit(report, 'delta_norm_pre', 'hidden-state units')}]")
            ax.tick_params(axis="y", colors="C1")
        if logit is not None:
            ax2 = ax.twinx() if pre is not None else ax
            handles.append(
                _errorbar(ax2, lam, *logit, color="C4", label=_curve_label(report, "delta_logit_norm", "‖Uδ‖"))
            )
            ax2.set_ylabel(f"‖Uδ‖ [{_curve_unit(report, 'delta_logit_norm', 'logits')}]")
            if pre is not None:
                ax2.tick_params(axis="y", colors="C4")
        ax.set_xlabel("λ (steering strength)")
        ax.set_title("pre-norm residual change and logit change", fontsize=10)
        ax.legend(handles=handles, fontsize=8, loc="upper center")
        ax.grid(alpha=0.3)
    n = _get(curves.get("delta_norm_post"), "n")
    fig.suptitle(_title(report, "Assumption 1: ‖δ‖ = α|λ|", n), fontsize=11)
    fig.tight_layout()
    return True


def _fig_assumption2(fig: Any, report: Mapping[str, Any], lam: np.ndarray | None) -> bool:
    a2 = _get(report, "assumptions", "assumption_2")
    a4 = _get(report, "assumptions", "assumption_4")
    if lam is None or (not isinstance(a2, Mapping) and not isinstance(a4, Mapping)):
        return False
    G = lam.size
    top = [
        (_series(_get(a2, "margin_mean"), G), "mean margin (min over pairs, mean over queries)", "C0"),
        (_series(_get(a2, "margin_min"), G), "min margin over queries", "C3"),
        (_series(_get(a2, "mean_gap_mean"), G), "mean gap (authors' measure)", "C2"),
        (_series(_get(a4, "soft_margin_mean"), G), "mean soft margin (Assumption 4)", "C5"),
    ]
    bottom = [
        (_series(_get(a2, "fraction_positive_margin"), G), "fraction of queries with margin > 0", "C0"),
        (_series(_get(a4, "rho_mean"), G), "mean soft-margin mass ρ", "C1"),
    ]
    top = [t for t in top if t[0] is not None and not np.isnan(t[0][0]).all()]
    bottom = [b for b in bottom if b[0] is not None and not np.isnan(b[0][0]).all()]
    if not top and not bottom:
        return False
    if top and bottom:
        fig.set_size_inches(*_SIZE_TWO_ROWS)
        ax_top, ax_bot = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    else:
        ax_top = ax_bot = fig.subplots()
    if top:
        for (m, s), label, color in top:
            _errorbar(ax_top, lam, m, s, color=color, label=label)
        ax_top.axhline(0.0, color="k", linewidth=0.8)
        delta = _num(_get(a2, "Delta", "estimate"))
        if delta is None:
            delta = _num(_get(report, "parameters", "Delta", "estimate"))
        if delta is not None:
            ax_top.axhline(delta, color="0.4", linestyle=":", linewidth=1.2, label=f"Δ = {delta:.3g}")
        ax_top.set_ylabel("projection on δ̂ [hidden-state units]")
        ax_top.legend(fontsize=8)
        ax_top.grid(alpha=0.3)
    if bottom:
        for (m, s), label, color in bottom:
            _errorbar(ax_bot, lam, m, s, color=color, label=label)
        ax_bot.set_ylim(-0.05, 1.05)
        ax_bot.set_ylabel("fraction")
        ax_bot.legend(fontsize=8)
        ax_bot.grid(alpha=0.3)
    (ax_bot if bottom else ax_top).set_xlabel("λ (steering strength)")
    n = _get(report, "curves", "B_single", "n")
    fig.suptitle(_title(report, "Assumption 2: margin between aligned and misaligned tokens along δ̂", n), fontsize=11)
    fig.tight_layout()
    return True


def _fig_assumption3(fig: Any, report: Mapping[str, Any], lam: Any) -> bool:
    a3 = _get(report, "assumptions", "assumption_3")
    if not isinstance(a3, Mapping):
        return False
    sigma = _num(a3.get("sigma"))
    diffs = a3.get("differences")
    pooled = None
    if sigma is not None and sigma > 0 and isinstance(diffs, Sequence) and not isinstance(diffs, str):
        flat = [v for row in diffs if isinstance(row, Sequence) and not isinstance(row, str) for v in row]
        arr = _floats(flat)
        if arr is not None:
            arr = arr[np.isfinite(arr)] / sigma
            pooled = arr if arr.size >= 2 else None
    qt, qs = _floats(a3.get("qq_theoretical")), _floats(a3.get("qq_sample"))
    qq = None
    if qt is not None and qs is not None and qt.size == qs.size:
        ok = np.isfinite(qt) & np.isfinite(qs)
        qq = (qt[ok], qs[ok]) if ok.sum() >= 2 else None
    if pooled is None and qq is None:
        return False
    if pooled is not None and qq is not None:
        fig.set_size_inches(*_SIZE_TWO_COLS)
        axes = list(fig.subplots(1, 2))
    else:
        axes = [fig.subplots()]
    if pooled is not None:
        ax = axes[0]
        ax.hist(
            pooled,
            bins=min(60, max(10, int(np.sqrt(pooled.size)))),
            density=True,
            color="C0",
            alpha=0.6,
            label=f"(z_b − z_a*)/σ, {pooled.size} differences",
        )
        lim = max(4.0 * math.sqrt(2.0), float(np.max(np.abs(pooled))))
        xs = np.linspace(-lim, lim, 400)
        ax.plot(xs, np.exp(-(xs**2) / 4.0) / math.sqrt(4.0 * math.pi), "k-", linewidth=1.4, label="N(0, 2) density")
        ratio = _num(a3.get("ratio_pooled_to_within"))
        if ratio is not None:
            ax.plot([], [], " ", label=f"SD ratio {ratio:.3g} (√2 ≈ 1.414 expected)")
        ax.set_xlabel("(z_b − z_a*) / σ  [dimensionless]")
        ax.set_ylabel("density")
        ax.set_title(f"pooled differences, σ = {sigma:.3g}", fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if qq is not None:
        ax = axes[-1]
        ax.plot(qq[0], qq[1], "o", color="C1", markersize=3.5, label="standardised contrasts")
        lo, hi = float(min(qq[0].min(), qq[1].min())), float(max(qq[0].max(), qq[1].max()))
        ax.plot([lo, hi], [lo, hi], "k--", linewidth=1.1, label="y = x (normal)")
        ax.set_xlabel("standard normal quantile")
        ax.set_ylabel("sample quantile [units of σ]")
        tests = a3.get("tests") if isinstance(a3.get("tests"), Mapping) else {}
        pv = [f"{k}: p = {_fmt(_get(t, 'pvalue'))}" for k, t in tests.items() if k in ("shapiro", "dagostino")]
        ax.set_title("QQ plot" + (f" ({'; '.join(pv)})" if pv else ""), fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    k = a3.get("k")
    lref = _num(a3.get("lambda_ref"))
    what = "Assumption 3: projections of the top-k tokens of unrelated queries"
    extra = ", ".join(
        p for p in (f"k = {k}" if k is not None else "", f"λ_ref = {lref:.3g}" if lref is not None else "") if p
    )
    n = _get(report, "curves", "H_mmlu_full", "n")
    fig.suptitle(_title(report, what + (f" ({extra})" if extra else ""), n), fontsize=11)
    fig.tight_layout()
    return True


def _overlay(
    ax: Any,
    report: Mapping[str, Any],
    lam: np.ndarray,
    names: Sequence[str],
    colors: Mapping[str, str],
    fit_key: str,
) -> None:
    """Bounds (dashed), their violations (red markers) and the fit of ``fit_key`` on ``ax``."""
    G = lam.size
    bounds = dict(_bounds(report))
    marked = False
    for i, name in enumerate(names):
        b = bounds.get(name)
        if b is None:
            continue
        values = _floats(b.get("values"), G)
        measured = b.get("measured") if isinstance(b.get("measured"), str) else None
        color = colors.get(measured or "", f"C{6 + i}")
        label = b.get("legend") or b.get("title") or name
        if values is not None and not np.isnan(values).all():
            shown = np.where(np.isfinite(values), values, np.nan)
            ax.plot(
                lam,
                shown,
                linestyle=("--", ":", "-.")[i % 3],
                color=color,
                linewidth=1.3,
                label=f"{label} ({_kind_text(b.get('kind'))})",
            )
        else:  # say why the bound is missing instead of dropping it silently (e.g. a degenerate B0 = ±1)
            ax.plot([], [], " ", label=f"{label}: not drawn ({b.get('reason') or b.get('status') or 'undefined'})")
        viol = _violations(b, lam)
        series = _series(_get(report, "curves", measured), G) if measured else None
        if viol.any() and series is not None:
            ax.plot(
                lam[viol],
                series[0][viol],
                "x",
                color="red",
                markersize=10,
                markeredgewidth=2.2,
                label=None if marked else "bound violated",
            )
            marked = True
    fit = _get(report, "fits", fit_key)
    if isinstance(fit, Mapping) and not fit.get("error"):
        curve = _floats(fit.get("curve"))
        x = _floats(fit.get("lam") if fit.get("lam") is not None else fit.get("lambda"))
        if curve is not None and x is None and curve.size == G:
            x = lam
        if curve is not None and x is not None and x.size == curve.size and not np.isnan(curve).all():
            order = np.argsort(x)
            label = "fit" + (f": {fit['model']}" if fit.get("model") else "")
            ax.plot(x[order], curve[order], "-.", color="0.25", linewidth=1.2, label=label[:60])


def _fig_behavior(fig: Any, report: Mapping[str, Any], lam: np.ndarray | None) -> bool:
    if lam is None:
        return False
    G = lam.size
    keys = (
        ("B_single", "C0", "B single token"),
        ("B_single_binary", "C1", "B binary"),
        ("B_generated", "C2", "B generated"),
    )
    present = [(k, c, lab, s) for k, c, lab in keys if (s := _series(_get(report, "curves", k), G)) is not None]
    if not present:
        return False
    ax = fig.subplots()
    for key, color, default, (m, s) in present:
        _errorbar(ax, lam, m, s, color=color, label=_curve_label(report, key, default))
    colors = {k: c for k, c, _ in keys}
    _overlay(ax, report, lam, ["theorem_1", "theorem_1_norm"], colors, "behavior")
    ax.axhline(0.0, color="k", linewidth=0.6)
    ax.set_ylim(-1.08, 1.08)
    ax.set_xlabel("λ (steering strength)")
    ax.set_ylabel("B(λ) = P(aligned) − P(misaligned)  [−1, 1]")
    _legend_below(ax)
    ax.grid(alpha=0.3)
    beh = _behavior_name(report)
    ax.set_title(
        _title(report, f"Behavior{f' ({beh})' if beh else ''} vs λ", _get(report, "curves", present[0][0], "n")),
        fontsize=11,
    )
    fig.tight_layout()
    return True


def _fig_helpfulness(fig: Any, report: Mapping[str, Any], lam: np.ndarray | None) -> bool:
    if lam is None:
        return False
    G = lam.size
    keys = (
        ("H_mmlu_full", "C0", "H MMLU, full vocabulary"),
        ("H_mmlu_restricted", "C1", "H MMLU, A–D"),
        ("H_piqa", "C2", "H PIQA, choice likelihood"),
    )
    present = [(k, c, lab, s) for k, c, lab in keys if (s := _series(_get(report, "curves", k), G)) is not None]
    if not present:
        return False
    ax = fig.subplots()
    for key, color, default, (m, s) in present:
        _errorbar(ax, lam, m, s, color=color, label=_curve_label(report, key, default))
    names = {k for k, *_ in present}
    if names & {"H_mmlu_full", "H_mmlu_restricted"}:
        ax.axhline(0.25, color="C1", linestyle=":", linewidth=1.2, label="chance 1/4 (A–D)")
    if "H_piqa" in names:
        ax.axhline(0.5, color="C2", linestyle=":", linewidth=1.2, label="chance 1/2 (PIQA)")
    colors = {k: c for k, c, _ in keys}
    _overlay(ax, report, lam, ["theorem_2_as_stated", "helpfulness_expectation"], colors, "helpfulness")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("λ (steering strength)")
    ax.set_ylabel("H(λ) = P(correct answer)  [0, 1]")
    _legend_below(ax)
    ax.grid(alpha=0.3)
    ns = {k: n for k, *_ in present if isinstance(n := _get(report, "curves", k, "n"), int) and not isinstance(n, bool)}
    n_text = ""
    if len(set(ns.values())) == 1:
        n_text = f", n = {next(iter(ns.values()))} queries per task"
    elif ns:
        n_text = ", n = " + ", ".join(f"{n} ({k.removeprefix('H_')})" for k, n in ns.items())
    ax.set_title(f"Helpfulness vs λ\n{_model_name(report)}{n_text}", fontsize=11)
    fig.tight_layout()
    return True


# ---------------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------------
def _atomic_write(path: Path, write: Callable[[Any], Any]) -> None:
    """Write ``path`` through ``write(binary file)`` into a temporary sibling, then :func:`os.replace` it.

    The temporary file is created with ``open(..., "xb")`` (not :func:`tempfile.mkstemp`, whose files are mode
    0600), so the result gets the usual permissions of the user's umask.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _atomic_write_text(path: Path, text: str) -> None:
    _atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def write_report(report: dict, out_dir: Path | str) -> dict[str, Path]:
    """Write ``report.json``, the PNG figures and ``report.md`` into ``out_dir``.

    The report is first made strictly JSON-safe with :func:`validation.measure.jsonable` (numpy values to Python,
    NaN/±inf to ``None``). The figures are drawn, their names stored in ``report["figures"]`` (in the caller's dict
    too, so it matches what was written), then ``report.json`` (``indent=1``, ``allow_nan=False``; other objects
    such as a :class:`~pathlib.Path` are written as their ``str``) and ``report.md`` are written atomically.

    Args:
        report: the check report dictionary.
        out_dir: output directory (created if missing).

    Returns:
        ``{"json": path, "markdown": path}`` plus one entry per figure keyed by its stem (e.g.
        ``"behavior"``).

    Raises:
        TypeError: ``report`` is not a mapping.
        ValueError: wrong ``schema`` or unsupported ``schema_version``.
    """
    check_schema(report)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clean = jsonable(report)
    figures = plot_figures(clean, out)
    clean["figures"] = list(figures)
    if isinstance(report, dict):
        report["figures"] = list(figures)
    text = json.dumps(clean, indent=1, allow_nan=False, ensure_ascii=False, default=str)  # e.g. a Path: its text
    paths = {"json": out / "report.json", "markdown": out / "report.md"}
    _atomic_write_text(paths["json"], text + "\n")
    _atomic_write_text(paths["markdown"], render_markdown(clean))
    paths.update({Path(f).stem: out / f for f in figures})
    return paths
