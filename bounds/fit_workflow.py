r"""The workhorse of ``steering-bounds fit``: read steering curves (:func:`load_curves`; the input schema is in
docs/api/fitting.md), fit the laws, analyse the tradeoff and write ``fit.json``, ``curves.png`` and ``pareto.png``
(:func:`run_fit`). Importing this module imports neither lmfit nor matplotlib.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ._check import check_integer
from ._io import atomic_write, read_records
from ._plot import new_figure, save
from .errors import ParameterError, SteeringBoundsError
from .tradeoff import _scalar

__all__ = [
    "ALIGNMENT_LAWS",
    "BETA_REFERENCE",
    "HELPFULNESS_LAWS",
    "CurveSet",
    "Curves",
    "CurvesFormatError",
    "load_curves",
    "run_fit",
]

#: the alignment laws :func:`run_fit` can fit
ALIGNMENT_LAWS = ("tanh", "tanh-fixed-b0")
#: the helpfulness laws :func:`run_fit` can fit
HELPFULNESS_LAWS = ("theorem-2", "restricted", "expectation")

#: reference values of β = min(Y+, Y-) (docs/specification.md §6.1) used to turn a fitted b = αβσ into ασ = b/β; the
#: last is the paper's A.3 value, the mean of one |N(0, 1)|, which overstates β
BETA_REFERENCE: dict[str, float] = {
    "k=4: simulated min(Y+,Y-) ~ 0.47": 0.47,
    "k=10: simulated min(Y+,Y-) ~ 0.54": 0.54,
    "k=50: simulated min(Y+,Y-) ~ 0.58": 0.58,
    "paper A.3: sqrt(2/pi) ~ 0.80 (mean of one |N(0,1)|; overstates beta)": math.sqrt(2.0 / math.pi),
}

_VALUE_COLUMNS = ("behavior", "helpfulness")
_KNOWN = ("lam", "query", "behavior", "helpfulness", "behavior_se", "helpfulness_se")
_RANGES = {"behavior": (-1.0, 1.0), "helpfulness": (0.0, 1.0)}
#: the query id used when the file has no ``query`` column
SINGLE_QUERY = "all"


class CurvesFormatError(SteeringBoundsError, ValueError):
    """Malformed curve file; the message starts with ``path:line:`` (or ``path:`` for file-level problems)."""


# -- Data containers --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CurveSet:
    r"""The curves of one quantity on a common :math:`\lambda` grid.

    Attributes:
        quantity: ``"behavior"`` or ``"helpfulness"``.
        queries: query ids, one per row of ``Y``, in order of first appearance in the file.
        lam: the common grid, increasing, shape ``(G,)``.
        Y: values, shape ``(n_queries, G)``.
        se: per-point standard errors, shape ``(n_queries, G)``, or ``None`` when the file has none.
        dropped: measurements left out because their :math:`\lambda` is not measured for every query.
    """

    quantity: str
    queries: tuple[str, ...]
    lam: np.ndarray
    Y: np.ndarray
    se: np.ndarray | None
    dropped: int

    @property
    def n_queries(self) -> int:
        """Number of per-query curves."""
        return len(self.queries)

    def mean_and_se(self) -> tuple[np.ndarray, np.ndarray | None]:
        r"""The curve to show and compare models on: the mean over queries with its standard error
        :math:`s/\sqrt n` (several queries), else the single curve with its ``se`` (or ``None``)."""
        if self.n_queries >= 2:
            return self.Y.mean(axis=0), self.Y.std(axis=0, ddof=1) / np.sqrt(self.n_queries)
        return self.Y[0], None if self.se is None else self.se[0]


@dataclass(frozen=True)
class Curves:
    """Everything :func:`load_curves` read from one file.

    Attributes:
        source: the file path.
        behavior: behavior curves, or ``None`` when the file has none.
        helpfulness: helpfulness curves, or ``None``.
        ignored_columns: columns/keys that are not part of the schema.
        notes: remarks about the data (points dropped off the common grid, unused standard errors).
    """

    source: str
    behavior: CurveSet | None
    helpfulness: CurveSet | None
    ignored_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


# -- Reading ----------------------------------------------------------------------------------------------------------
@dataclass
class _Row:
    line: int
    query: str
    lam: float
    values: dict[str, float]  # behavior / helpfulness / *_se present in this row


def _fail(path: Path, line: int | None, msg: str) -> CurvesFormatError:
    where = f"{path}:{line}" if line is not None else f"{path}"
    return CurvesFormatError(f"{where}: {msg}")


def _number(path: Path, line: int, key: str, raw: object) -> float | None:
    """A finite float from a CSV cell or JSON value; ``None`` for an empty cell / ``null``."""
    if raw is None:
        return None
    if isinstance(raw, str):
        text = raw.strip()
        if text == "":
            return None
        try:
            value = float(text)
        except ValueError:
            raise _fail(path, line, f"column {key!r}: not a number: {raw!r}") from None
    elif isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise _fail(path, line, f"column {key!r}: not a number: {raw!r}")
    else:
        value = float(raw)
    if not math.isfinite(value):
        raise _fail(path, line, f"column {key!r}: must be finite, got {raw!r}")
    return value


def _row(path: Path, line: int, record: Mapping[str, object], has_query: bool) -> _Row:
    lam = _number(path, line, "lam", record.get("lam"))
    if lam is None:
        raise _fail(path, line, "missing value for the required column 'lam'")
    values: dict[str, float] = {}
    for key in ("behavior", "helpfulness", "behavior_se", "helpfulness_se"):
        v = _number(path, line, key, record.get(key))
        if v is None:
            continue
        if key in _RANGES:
            lo, hi = _RANGES[key]
            if not lo <= v <= hi:
                raise _fail(path, line, f"column {key!r}: must lie in [{lo:g}, {hi:g}], got {v!r}")
        elif v <= 0:
            raise _fail(path, line, f"column {key!r}: a standard error must be > 0, got {v!r}")
        values[key] = v
    for key in ("behavior_se", "helpfulness_se"):
        if key in values and key.removesuffix("_se") not in values:
            raise _fail(path, line, f"column {key!r} is given without a {key.removesuffix('_se')!r} value")
    if not any(k in values for k in _VALUE_COLUMNS):
        raise _fail(path, line, "neither 'behavior' nor 'helpfulness' has a value in this row")
    query = SINGLE_QUERY
    if has_query:
        q = record.get("query")
        if q is None or (isinstance(q, str) and q.strip() == ""):
            raise _fail(path, line, "missing value for the column 'query' (every row needs a query id)")
        if isinstance(q, bool) or not isinstance(q, (str, int)):
            raise _fail(path, line, f"column 'query': must be a string or an integer id, got {q!r}")
        query = str(q).strip()
    return _Row(line=line, query=query, lam=lam, values=values)


def _check_header(path: Path, names: list[str]) -> None:
    if "lam" not in names:
        raise _fail(path, 1, f"missing required column 'lam' (header: {names})")
    if not any(c in names for c in _VALUE_COLUMNS):
        raise _fail(path, 1, f"needs a 'behavior' and/or a 'helpfulness' column (header: {names})")


def _curve_set(path: Path, rows: list[_Row], quantity: str) -> tuple[CurveSet | None, list[str]]:
    present = [r for r in rows if quantity in r.values]
    if not present:
        return None, []
    notes: list[str] = []
    by_query: dict[str, dict[float, _Row]] = {}
    for r in present:
        grid = by_query.setdefault(r.query, {})
        if r.lam in grid:
            raise _fail(
                path,
                r.line,
                f"duplicate {quantity} for query {r.query!r} at lam = {r.lam!r} "
                f"(first given at line {grid[r.lam].line})",
            )
        grid[r.lam] = r
    common = set.intersection(*(set(g) for g in by_query.values()))
    lam = np.array(sorted(common), dtype=np.float64)
    if lam.size < 3:
        raise _fail(
            path,
            None,
            f"{quantity}: only {lam.size} lam value(s) are measured for every one of the {len(by_query)} queries; "
            "at least 3 common values are needed to fit a curve",
        )
    dropped = sum(len(g) for g in by_query.values()) - lam.size * len(by_query)
    if dropped:
        notes.append(
            f"{quantity}: {dropped} measurement(s) at lam values not measured for every query were left out "
            f"(common grid of {lam.size} values)"
        )
    queries = tuple(by_query)
    Y = np.array([[by_query[q][x].values[quantity] for x in lam] for q in queries])
    se_key = f"{quantity}_se"
    with_se = [by_query[q][x] for q in queries for x in lam if se_key in by_query[q][x].values]
    se = None
    if with_se:
        if len(with_se) != lam.size * len(queries):
            missing = next(by_query[q][x] for q in queries for x in lam if se_key not in by_query[q][x].values)
            raise _fail(path, missing.line, f"{se_key!r} is given for some {quantity} rows but not for this one")
        se = np.array([[by_query[q][x].values[se_key] for x in lam] for q in queries])
        if len(queries) >= 2:
            notes.append(
                f"{quantity}: {se_key} is not used for the dataset-average fit (its weights are the standard error "
                "across queries); it is kept in the data"
            )
    return CurveSet(quantity, queries, lam, Y, se, dropped), notes


def load_curves(path: str | Path) -> Curves:
    r"""Read steering curves from a CSV, JSON Lines or JSON file (schema: docs/api/fitting.md) onto, per quantity,
    the grid of the :math:`\lambda` values measured for **every** query (others dropped with a note; at least 3).

    Args:
        path: the file; its suffix picks the format (``.csv``, ``.jsonl``/``.ndjson``, ``.json``).

    Returns:
        :class:`Curves`.

    Raises:
        CurvesFormatError: (a ``ValueError``) malformed input; the message starts with ``path:line:`` (or
            ``path:`` for a problem with the whole file).
        MissingFileError: (a ``FileNotFoundError``) no such file.
    """
    p = Path(path)
    records = read_records(p, "curves", error=CurvesFormatError, header=lambda names: _check_header(p, names))
    if not records:
        raise _fail(p, None, "no data rows" if p.suffix.lower() == ".csv" else "no records")
    for line, obj in records:
        if not isinstance(obj, dict):
            raise _fail(p, line, f"each record must be a JSON object, got {type(obj).__name__}")
    columns = set().union(*(obj for _, obj in records))
    if not any(c in columns for c in _VALUE_COLUMNS):
        raise _fail(p, None, f"no record has a 'behavior' or 'helpfulness' key (keys: {sorted(columns)})")
    rows = []
    for line, obj in records:
        if "lam" not in obj:
            raise _fail(p, line, "missing required key 'lam'")
        rows.append(_row(p, line, obj, "query" in columns))
    notes: list[str] = []
    sets = {}
    for q in _VALUE_COLUMNS:
        sets[q], more = _curve_set(p, rows, q)
        notes += more
    ignored = tuple(sorted(set(columns) - set(_KNOWN)))
    return Curves(str(p), sets["behavior"], sets["helpfulness"], ignored, tuple(notes))


# -- Fitting one quantity ----------------------------------------------------------------------------------------------
def _f(x: object) -> float | None:
    """A float for JSON: non-finite values become ``None`` (the accompanying notes say why)."""
    if x is None:
        return None
    v = float(x)  # type: ignore[arg-type]
    return v if math.isfinite(v) else None


def _pair(x: object) -> dict[str, float | None]:
    """A mapping result (value or ``(value, stderr)``) as ``{"value", "stderr"}``."""
    if isinstance(x, tuple):
        return {"value": _f(x[0]), "stderr": _f(x[1])}
    return {"value": _f(x), "stderr": None}


@dataclass
class _Fitted:
    """One quantity's fit and everything reported about it."""

    result: Any  # lmfit ModelResult
    report: dict[str, Any]
    boot: Any  # BootstrapResult | None
    lam: np.ndarray  # the λ values the fit used


def _fit_one(
    curves: CurveSet,
    model: Any,
    *,
    columns: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
    level: float,
    warnings_: list[str],
) -> _Fitted:
    from bounds.fitting import bootstrap, confidence_intervals, fit, fit_dataset_average

    lam = curves.lam[columns]
    Y = curves.Y[:, columns]
    q = curves.quantity
    boot = None
    per_query = None
    if curves.n_queries >= 2:
        weighted = True
        try:
            result = fit_dataset_average(model, lam, Y, weighted=True)
            method = "dataset average, weighted by the standard error across queries (absolute errors)"
        except ValueError as exc:
            if "zero standard error" not in str(exc):
                raise
            weighted = False
            result = fit_dataset_average(model, lam, Y, weighted=False)
            method = "dataset average, unweighted (zero spread across queries at some λ; noise from residuals)"
            warnings_.append(f"{q}: {exc}; fitted the unweighted mean instead")
        if n_boot > 0:
            boot = bootstrap(model, lam, Y, n_boot=n_boot, rng=rng, level=level, weighted=weighted, full=result)
        per_query = _per_query(model, lam, Y)
    else:
        se = None if curves.se is None else curves.se[0, columns]
        result = fit(model, lam, Y[0], y_err=se)
        method = "single curve, " + (
            "weighted by its standard errors (absolute)" if se is not None else "unweighted (noise from residuals)"
        )
    if not result.success:
        warnings_.append(f"{q}: the fit did not converge ({result.message})")
    try:
        ci = confidence_intervals(result, level)
    except ValueError as exc:
        ci = None
        warnings_.append(f"{q}: no confidence intervals ({exc})")
    params = {}
    for name, par in result.params.items():
        entry: dict[str, Any] = {
            "value": _f(par.value),
            "stderr": _f(par.stderr),
            "vary": bool(par.vary),
            "min": _f(par.min),
            "max": _f(par.max),
        }
        if ci is not None and name in ci:
            lo, hi = ci[name]
            entry["ci"] = [_f(lo), _f(hi)]
            entry["ci_method"] = ci.methods.get(name)
            if name in ci.notes:
                entry["ci_note"] = ci.notes[name]
        if boot is not None and name in boot.ci:
            entry["bootstrap_ci"] = [_f(boot.ci[name][0]), _f(boot.ci[name][1])]
            entry["bootstrap_std"] = _f(boot.std[name])
        if per_query is not None and name in per_query["params"]:
            entry["per_query"] = per_query["params"][name]
        params[name] = entry
    report = {
        "model": type(model).__name__,
        "function": getattr(result.model.func, "__name__", ""),
        "method": method,
        "n_queries": curves.n_queries,
        "lam_fitted": [_f(lam.min()), _f(lam.max())],
        "n_points": int(lam.size),
        "confidence_level": level,
        "params": params,
        "chisqr": _f(result.chisqr),
        "redchi": _f(result.redchi),
        "aic": _f(result.aic),
        "bic": _f(result.bic),
        "nfree": int(result.nfree),
        "success": bool(result.success),
        "message": str(result.message),
        "bootstrap": None
        if boot is None
        else {"n_boot": boot.n_boot, "n_failed": boot.n_failed, "level": boot.level, "resampled": "queries"},
        "per_query_fits": None if per_query is None else {k: v for k, v in per_query.items() if k != "params"},
    }
    if curves.n_queries >= 2 and result.redchi is not None and result.redchi > 3.0:
        warnings_.append(
            f"{q}: reduced chi-square {result.redchi:.3g} of the dataset-average fit: the form does not describe the "
            "average within its standard error (an average of per-query laws need not follow the law); prefer the "
            "bootstrap intervals"
        )
    return _Fitted(result=result, report=report, boot=boot, lam=lam)


def _per_query(model: Any, lam: np.ndarray, Y: np.ndarray) -> dict[str, Any]:
    """Each query's own fit, summarised by the median and quartiles of each parameter (failures counted)."""
    from bounds.fitting import fit

    values: dict[str, list[float]] = {}
    failed = 0
    for row in Y:
        try:
            r = fit(model, lam, row)
        except (ValueError, ArithmeticError):
            failed += 1
            continue
        if not r.success:
            failed += 1
            continue
        for name, par in r.params.items():
            if par.vary:
                values.setdefault(name, []).append(float(par.value))
    params = {
        name: {
            "median": _f(np.median(v)),
            "q25": _f(np.quantile(v, 0.25)),
            "q75": _f(np.quantile(v, 0.75)),
        }
        for name, v in values.items()
    }
    return {"n": int(Y.shape[0]), "n_failed": failed, "params": params}


def _comparison_dict(cmp: Any) -> dict[str, Any]:
    return {
        "absolute_errors": bool(cmp.absolute_errors),
        "best_aic": cmp.best_aic,
        "best_bic": cmp.best_bic,
        "scores": {
            name: {
                "k": s.nvarys,
                "n": s.ndata,
                "chisqr": _f(s.chisqr),
                "aic": _f(s.aic),
                "delta_aic": _f(s.delta_aic),
                "bic": _f(s.bic),
                "delta_bic": _f(s.delta_bic),
                "success": s.success,
            }
            for name, s in cmp.scores.items()
        },
        "table": cmp.table(),
    }


def _value_at_zero(curves: CurveSet) -> tuple[float, float | None] | None:
    """The measured value at λ = 0 (mean over queries with its SE), or ``None`` when λ = 0 is not on the grid."""
    hit = np.flatnonzero(curves.lam == 0.0)
    if hit.size == 0:
        return None
    mean, se = curves.mean_and_se()
    j = int(hit[0])
    return float(mean[j]), (None if se is None else float(se[j]))


# -- The workflow ------------------------------------------------------------------------------------------------------
def _check_choice(name: str, value: object, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ParameterError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return str(value)


def run_fit(
    curves: Curves | str | Path,
    *,
    out_dir: str | Path,
    alignment_law: Literal["tanh", "tanh-fixed-b0"] = "tanh",
    helpfulness_law: Literal["theorem-2", "restricted", "expectation"] = "theorem-2",
    k: int = 4,
    w: float = 1.0,
    tau: float = 0.1,
    lam_range: Sequence[float] | None = None,
    B0: float | None = None,
    window: float | None = None,
    alpha: float | None = None,
    beta: float | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    r"""Fit the chosen laws to steering curves, analyse the tradeoff, write ``fit.json``/``curves.png``/``pareto.png``.

    What is fitted, compared and mapped, and how: docs/api/fitting.md.

    Args:
        curves: a :class:`Curves` or a path for :func:`load_curves`.
        out_dir: output folder (created if needed).
        alignment_law: ``"tanh"`` or ``"tanh-fixed-b0"``.
        helpfulness_law: ``"theorem-2"``, ``"restricted"`` or ``"expectation"``.
        k: answer options of the restricted form, an integer :math:`\ge3` (used by ``"restricted"`` only).
        w: weight :math:`w\ge0` of :math:`H` in :math:`\max B+wH`.
        tau: tolerated relative helpfulness loss, :math:`0\le\tau\le1`.
        lam_range: ``(lo, hi)`` of the tradeoff analysis, or ``None``.
        B0: unsteered behavior in :math:`(-1,1)` for ``"tanh-fixed-b0"`` (default: measured at :math:`\lambda=0`).
        window: half-width of the near-zero window (expectation fit and helpfulness model comparison); default half
            the largest :math:`|\lambda|` of the helpfulness data.
        alpha: :math:`\alpha>0` of Assumption 1 if measured (turns :math:`\alpha\Delta` into :math:`\Delta` and
            :math:`b` into :math:`\sigma`).
        beta: :math:`\beta>0` to use for :math:`\sigma` (default: report every reference β).
        n_boot: bootstrap resamples, an integer :math:`\ge0` (0: no bootstrap).
        level: confidence level of all intervals, :math:`0<\text{level}<1`.
        seed: seed of the bootstrap generator, an integer :math:`\ge0`.

    Returns:
        the summary written to ``fit.json`` (plain JSON types).

    Raises:
        ValueError/TypeError: a bad option (named), malformed data (:class:`CurvesFormatError`), or a fit that
            cannot run (too few points, an infinite :math:`\operatorname{artanh}B_0`).
    """
    from bounds import tradeoff
    from bounds.fitting import (
        AlignmentModel,
        ExpectationModel,
        RestrictedModel,
        Theorem2Model,
        alpha_delta_from_tanh,
        b0_from_B0,
        compare_alignment,
        compare_helpfulness_near_zero,
        gamma_from_theorem_2,
        sigma_from_theorem_2,
    )

    a_law = _check_choice("alignment_law", alignment_law, ALIGNMENT_LAWS)
    h_law = _check_choice("helpfulness_law", helpfulness_law, HELPFULNESS_LAWS)
    kk = check_integer("k", k, 3) if h_law == "restricted" else check_integer("k", k, 2)
    wt = _scalar("w", w, 0.0, np.inf)
    tu = _scalar("tau", tau, 0.0, 1.0)
    nb = check_integer("n_boot", n_boot, 0)
    sd = check_integer("seed", seed, 0)
    lv = _scalar("level", level, -np.inf, np.inf)
    if not 0.0 < lv < 1.0:
        raise ParameterError(f"level must lie in the open interval (0, 1), got {lv!r}")
    b0_given = None if B0 is None else _scalar("B0", B0, -1.0, 1.0)
    alpha_v = None if alpha is None else _scalar("alpha", alpha, 0.0, np.inf)
    beta_v = None if beta is None else _scalar("beta", beta, 0.0, np.inf)
    if alpha_v == 0.0:
        raise ParameterError("alpha must be > 0, got 0.0")
    if beta_v == 0.0:
        raise ParameterError("beta must be > 0, got 0.0")
    if lam_range is not None:
        lam_range = tradeoff._check_range(lam_range)
    data = curves if isinstance(curves, Curves) else load_curves(curves)  # options are checked first
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(sd)
    warns: list[str] = list(data.notes)
    summary: dict[str, Any] = {
        "source": data.source,
        "settings": {
            "alignment_law": a_law,
            "helpfulness_law": h_law,
            "k": kk,
            "w": wt,
            "tau": tu,
            "lam_range": None if lam_range is None else list(lam_range),
            "B0": b0_given,
            "window": window,
            "alpha": alpha_v,
            "beta": beta_v,
            "n_boot": nb,
            "level": lv,
            "seed": sd,
        },
        "ignored_columns": list(data.ignored_columns),
        "behavior": None,
        "helpfulness": None,
        "tradeoff": None,
        "warnings": warns,
    }

    fitted_b = fitted_h = None
    # ---- behavior ----------------------------------------------------------------------------------------------
    if data.behavior is not None:
        cs = data.behavior
        b0_fixed = None
        measured = _value_at_zero(cs)
        if a_law == "tanh-fixed-b0":
            if b0_given is not None:
                b0_source = "given"
                b0_fixed = b0_from_B0(b0_given)
            elif measured is not None:
                b0_source = "measured (mean behavior at λ = 0)"
                b0_fixed = b0_from_B0(measured[0])
            else:
                raise ParameterError(
                    "alignment_law 'tanh-fixed-b0' needs B0: pass B0 or include λ = 0 in the behavior data"
                )
        model = AlignmentModel(b0=b0_fixed)  # b0=None: b0 free
        fitted_b = _fit_one(
            cs, model, columns=np.ones(cs.lam.size, bool), n_boot=nb, rng=rng, level=lv, warnings_=warns
        )
        rep = fitted_b.report
        rep["law"] = a_law
        if b0_fixed is not None:
            rep["b0_fixed"] = {"value": b0_fixed, "source": b0_source}
        mean, se = cs.mean_and_se()
        try:
            rep["comparison"] = _comparison_dict(compare_alignment(cs.lam, mean, y_err=se, b0=b0_fixed))
        except ValueError as exc:
            rep["comparison"] = None
            warns.append(f"behavior: model comparison skipped ({exc})")
        a_par = fitted_b.result.params["a"]
        mapped: dict[str, Any] = {
            "alpha_delta": _pair(alpha_delta_from_tanh(a_par)) | {"formula": "αΔ = 2a (Theorem 1 with ½, full-gap Δ)"},
            "B0_implied": {"value": _f(math.tanh(fitted_b.result.params["b0"].value)), "formula": "tanh(b0)"},
            "B0_measured": None if measured is None else {"value": measured[0], "stderr": measured[1]},
        }
        if alpha_v is not None:
            ad = alpha_delta_from_tanh(a_par)
            val, err = ad if isinstance(ad, tuple) else (ad, None)
            mapped["delta"] = {"value": _f(val / alpha_v), "stderr": _f(None if err is None else err / alpha_v)}
        rep["mapped"] = mapped
        if a_par.value <= 1e-9:
            warns.append(
                "behavior: fitted a is at its bound 0: the behavior does not increase with λ, which tanh(aλ+b0) with "
                "a ≥ 0 cannot describe; if the curve falls with λ, fit -λ (docs/specification.md §0)"
            )
        summary["behavior"] = rep

    # ---- helpfulness -------------------------------------------------------------------------------------------
    if data.helpfulness is not None:
        cs = data.helpfulness
        max_abs = float(np.max(np.abs(cs.lam)))
        win = 0.5 * max_abs if window is None else _scalar("window", window, 0.0, np.inf)
        if win <= 0:
            raise ParameterError(f"window must be > 0, got {win!r}")
        plain = {"theorem-2": Theorem2Model, "expectation": ExpectationModel}
        model = RestrictedModel(kk) if h_law == "restricted" else plain[h_law]()
        columns = np.abs(cs.lam) <= win if h_law == "expectation" else np.ones(cs.lam.size, bool)
        if h_law == "expectation" and columns.sum() < 3:
            raise ParameterError(f"window = {win:g} keeps {int(columns.sum())} helpfulness λ values; at least 3 needed")
        fitted_h = _fit_one(cs, model, columns=columns, n_boot=nb, rng=rng, level=lv, warnings_=warns)
        rep = fitted_h.report
        rep["law"] = h_law
        rep["window"] = win
        mean, se = cs.mean_and_se()
        try:
            rep["comparison_near_zero"] = _comparison_dict(
                compare_helpfulness_near_zero(cs.lam, mean, window=win, y_err=se)
            )
        except ValueError as exc:
            rep["comparison_near_zero"] = None
            warns.append(f"helpfulness: model comparison near λ = 0 skipped ({exc})")
        measured = _value_at_zero(cs)
        params = fitted_h.result.params
        mapped = {"p0_measured": None if measured is None else {"value": measured[0], "stderr": measured[1]}}
        if h_law in ("theorem-2", "restricted"):
            mapped["b"] = _pair((params["b"].value, params["b"].stderr)) | {
                "formula": "b = αβσ (reported as fitted; never rescaled)"
            }
            mapped["alpha_sigma_for_beta"] = {
                label: _pair(sigma_from_theorem_2(params["b"], 1.0, bv)) for label, bv in BETA_REFERENCE.items()
            }
            if alpha_v is not None:
                betas = {"given": beta_v} if beta_v is not None else BETA_REFERENCE
                mapped["sigma_for_beta"] = {
                    label: _pair(sigma_from_theorem_2(params["b"], alpha_v, bv)) for label, bv in betas.items()
                }
            elif beta_v is not None:
                mapped["alpha_sigma_for_beta"]["given"] = _pair(sigma_from_theorem_2(params["b"], 1.0, beta_v))
            mapped["beta_caution"] = tradeoff.BETA_CAUTION
            if measured is not None and 0.0 < measured[0] < 1.0:
                p0_arg = measured if measured[1] is not None else measured[0]
                mapped["gamma"] = _pair(gamma_from_theorem_2(params["a"], p0_arg)) | {
                    "formula": "γ = a p0 / (1 - p0), p0 = measured helpfulness at λ = 0"
                    + (
                        " (the restricted-choice value: T inside the mixture is eq. (6) with the unsteered p0, "
                        "docs/specification.md §7)"
                        if h_law == "restricted"
                        else ""
                    )
                }
                if mapped["gamma"]["value"] is not None and mapped["gamma"]["value"] > 1.0:
                    warns.append(
                        f"helpfulness: γ = {mapped['gamma']['value']:.3g} > 1, outside its range "
                        "(docs/specification.md §6.1): the form or the p0 used (a dataset average) does not describe "
                        "the data"
                    )
            else:
                mapped["gamma"] = None
            mapped["theorem_2_status"] = tradeoff._theorem_2_failure_note()
        else:
            mapped["c"] = _pair((params["c"].value, params["c"].stderr)) | {
                "formula": "c = α²σ²[p0(1-p0) - S2], S2 = Σ_{b≠a*} P(b|q)² (docs/specification.md §12.2c); "
                "needs S2 to give ασ"
            }
        rep["mapped"] = mapped
        summary["helpfulness"] = rep

    # ---- tradeoff ----------------------------------------------------------------------------------------------
    if fitted_b is not None and fitted_h is not None:
        B = tradeoff.Law.from_result(fitted_b.result, "behavior")
        H = tradeoff.Law.from_result(fitted_h.result, "helpfulness")
        lo = max(float(fitted_b.lam.min()), float(fitted_h.lam.min()))
        hi = min(float(fitted_b.lam.max()), float(fitted_h.lam.max()))
        if lam_range is None:
            if not lo < hi:
                raise ParameterError(
                    f"the behavior and helpfulness fits share no λ range ([{lo:g}, {hi:g}]): pass lam_range"
                )
            rng_used: tuple[float, float] = (lo, hi)
        else:
            rng_used = (float(lam_range[0]), float(lam_range[1]))
            if rng_used[0] < lo or rng_used[1] > hi:
                warns.append(
                    f"tradeoff: lam_range {list(rng_used)} extends beyond the λ range both fits used [{lo:g}, {hi:g}]: "
                    "the laws are extrapolated there"
                )
        analysis = tradeoff.analyse(B, H, w=wt, tau=tu, lam_range=rng_used)
        summary["tradeoff"] = analysis.to_dict()
        save(analysis.plot(), out / "pareto.png")
    else:
        missing = "behavior" if fitted_b is None else "helpfulness"
        summary["tradeoff_skipped"] = f"the file has no {missing} curves: the tradeoff needs both"

    _plot_curves(data, fitted_b, fitted_h, out / "curves.png")
    summary["files"] = {
        "fit_json": str(out / "fit.json"),
        "curves_png": str(out / "curves.png"),
        "pareto_png": str(out / "pareto.png") if summary["tradeoff"] is not None else None,
    }
    text = json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False)
    atomic_write(out / "fit.json", text + "\n")
    return json.loads(text)


def _band(fitted: _Fitted, grid: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Pointwise percentile band of the bootstrap refits' curves (``None`` without a bootstrap)."""
    boot = fitted.boot
    if boot is None or not boot.samples:
        return None
    names = list(boot.samples)
    n = min(v.size for v in boot.samples.values())
    if n < 2:
        return None
    model, pars = fitted.result.model, fitted.result.params.copy()
    curves = np.empty((n, grid.size))
    for i in range(n):
        for name in names:
            pars[name].set(value=float(boot.samples[name][i]))
        curves[i] = model.eval(pars, lam=grid)
    q = (0.5 - level / 2.0, 0.5 + level / 2.0)
    return np.quantile(curves, q[0], axis=0), np.quantile(curves, q[1], axis=0)


def _plot_curves(data: Curves, fitted_b: _Fitted | None, fitted_h: _Fitted | None, path: Path) -> None:
    """Data (per-query curves faint, mean with error bars) and the fitted laws, one panel per quantity."""
    panels = [(cs, f) for cs, f in ((data.behavior, fitted_b), (data.helpfulness, fitted_h)) if cs is not None]
    fig, _ = new_figure((6.0 * len(panels), 4.4), 0)
    labels = {"behavior": "behavior expectation B(λ)", "helpfulness": "helpfulness H(λ)"}
    for i, (cs, fitted) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        if cs.n_queries >= 2:
            for row in cs.Y[: min(cs.n_queries, 50)]:
                ax.plot(cs.lam, row, color="0.85", lw=0.6, zorder=1)
        mean, se = cs.mean_and_se()
        label = (
            f"mean of {cs.n_queries} queries ± SE"
            if cs.n_queries >= 2
            else "data" + (" ± SE" if se is not None else "")
        )
        ax.errorbar(cs.lam, mean, yerr=se, fmt="o", ms=3, color="black", capsize=2, label=label, zorder=3)
        if fitted is not None:
            grid = np.linspace(float(cs.lam.min()), float(cs.lam.max()), 400)
            inside = (grid >= fitted.lam.min()) & (grid <= fitted.lam.max())
            g = grid[inside]
            band = _band(fitted, g, fitted.report["confidence_level"])
            if band is not None:
                ax.fill_between(g, band[0], band[1], color="C0", alpha=0.2, label="bootstrap band", zorder=2)
            vals = ", ".join(
                f"{n}={p['value']:.3g}" for n, p in fitted.report["params"].items() if p["value"] is not None
            )
            ax.plot(
                g, fitted.result.eval(lam=g), color="C0", lw=2, label=f"fit {fitted.report['law']}: {vals}", zorder=4
            )
        ax.set_xlabel("steering coefficient λ")
        ax.set_ylabel(labels[cs.quantity])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(Path(data.source).name, fontsize=9)
    fig.tight_layout()
    save(fig, path)
