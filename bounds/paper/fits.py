r"""Every published curve fitted with the authors' forms and windows, unweighted (as they did) and weighted by the
pseudo-count standard errors of :mod:`bounds.paper.standard_errors`, through :mod:`bounds.fitting`
(docs/paper-curves.md).

* behavior: :math:`\tanh(a\lambda+b_0)` (:class:`~bounds.fitting.AlignmentModel`, :math:`b_0` free) on
  :math:`\lambda\in[-3,5]`, fitted to ``sign * mean`` (:attr:`~bounds.paper.PaperCurve.sign`); linear vs tanh by
  :func:`~bounds.fitting.compare_alignment` on the same window.
* helpfulness: :math:`1/(1+a+ab^2\lambda^2/2)` (:class:`~bounds.fitting.Theorem2Model`) on :math:`[-5,5]` for every
  curve, and :math:`(1-2/k)T+1/k`, :math:`k=4` (:class:`~bounds.fitting.RestrictedModel`) for the A–D curves; flat vs
  linear vs quadratic on :math:`|\lambda|\le2.5` by :func:`~bounds.fitting.compare_helpfulness_near_zero`.

Importing this module imports no lmfit (the fits do).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._check import as_real, check_open
from ..errors import ParameterError
from .data import PaperCurve, paper_measurements, paper_provenance
from .results import WEIGHTINGS, Comparison, CurveFit, Estimate, Fit, PaperFits
from .standard_errors import DEFAULT_N, PSEUDO_COUNT, check_n, count_granularity, standard_errors

__all__ = [
    "BEHAVIOR_WINDOW",
    "HELPFULNESS_WINDOW",
    "LAWS",
    "NEAR_ZERO_WINDOW",
    "PLOT_DIVISOR",
    "RESTRICTED_K",
    "SENSITIVITY_N",
    "WEIGHTINGS",
    "fit_curve",
    "fit_paper_curves",
]

#: the laws: Theorem 1's tanh (behavior), Theorem 2's form and the restricted-choice form (helpfulness)
LAWS = ("tanh", "theorem-2", "restricted")
#: the authors' fit windows of λ
BEHAVIOR_WINDOW = (-3.0, 5.0)
HELPFULNESS_WINDOW = (-5.0, 5.0)
#: half-width of the window of the helpfulness model comparison (half the fit window, as ``steering-bounds fit``)
NEAR_ZERO_WINDOW = 2.5
#: answer options of the restricted form (the authors' 0.5 T + 0.25)
RESTRICTED_K = 4
#: the authors' notebooks plot the fitted b divided by this (docs/specification.md §13.3)
PLOT_DIVISOR = 2.5
#: the other sample sizes ``steering-bounds fit --paper`` refits at: 16, the prompt count the bias curves' means
#: allow (:func:`~bounds.paper.count_granularity`), and 400, four times the default
SENSITIVITY_N = (16, 400)


# -- one fit -----------------------------------------------------------------------------------------------------------
def _model(law: str) -> Any:
    from bounds.fitting import AlignmentModel, RestrictedModel, Theorem2Model

    return {"tanh": AlignmentModel, "theorem-2": Theorem2Model}.get(law, lambda: RestrictedModel(RESTRICTED_K))()


def _estimates(result: Any, level: float) -> dict[str, Estimate]:
    from bounds.fitting import confidence_intervals

    ci = confidence_intervals(result, level)
    out = {}
    for name, par in result.params.items():
        se = None if par.stderr is None or not math.isfinite(par.stderr) else float(par.stderr)
        out[name] = Estimate(
            float(par.value), se, tuple(map(float, ci[name])), ci.methods[name], ci.notes.get(name, "")
        )
    return out


def _comparison(law: str, lam: np.ndarray, y: np.ndarray, se: np.ndarray | None, near_zero: float) -> Comparison:
    from bounds.fitting import compare_alignment, compare_helpfulness_near_zero

    if law == "tanh":
        cmp, window = compare_alignment(lam, y, y_err=se), (float(lam.min()), float(lam.max()))
    else:
        cmp, window = compare_helpfulness_near_zero(lam, y, window=near_zero, y_err=se), (-near_zero, near_zero)
    return Comparison(
        window,
        cmp.best_aic,
        cmp.best_bic,
        {k: float(s.delta_aic) for k, s in cmp.scores.items()},
        {k: float(s.delta_bic) for k, s in cmp.scores.items()},
        bool(cmp.absolute_errors),
    )


def _fit_one(cf: dict[str, Any], weighting: str, level: float, near_zero: float) -> Fit:
    from bounds.fitting import fit

    from .derived import derived_quantities

    se = cf["se"] if weighting == "weighted" else None
    result = fit(_model(cf["law"]), cf["lam"], cf["y"], y_err=se)
    params = _estimates(result, level)
    derived, notes = derived_quantities(cf, params)
    if not result.success:
        notes.append(f"the fit did not converge ({result.message})")
    if weighting == "weighted" and result.redchi > 3.0:
        notes.append(
            f"reduced chi-square {result.redchi:.3g} at n = {cf['n']}: the form does not describe the curve within "
            "these standard errors"
        )
    return Fit(
        weighting,
        cf["law"],
        params,
        derived,
        _comparison(cf["law"], cf["lam"], cf["y"], se, near_zero),
        se,
        float(result.chisqr),
        float(result.redchi),
        bool(result.success),
        tuple(notes),
        result,
    )


def _check_law(curve: PaperCurve, law: str | None) -> str:
    if law is None:
        return "tanh" if curve.quantity == "behavior" else "theorem-2"
    allowed = ("tanh",) if curve.quantity == "behavior" else ("theorem-2", "restricted")
    if curve.quantity == "helpfulness" and curve.measure != "restricted_A-D":
        allowed = ("theorem-2",)
    if law not in allowed:
        raise ParameterError(f"law must be one of {list(allowed)} for {curve.label}, got {law!r}")
    return law


def fit_curve(
    curve: PaperCurve,
    law: str | None = None,
    *,
    n: int = DEFAULT_N,
    level: float = 0.95,
    near_zero_window: float = NEAR_ZERO_WINDOW,
) -> CurveFit:
    r"""Fit one published curve with one law on the authors' window, unweighted and weighted.

    Args:
        curve: a :class:`~bounds.paper.PaperCurve`.
        law: ``"tanh"`` (behavior; the default there), ``"theorem-2"`` (helpfulness; the default there) or
            ``"restricted"`` (A–D curves only).
        n: assumed prompts/questions per point, an integer :math:`\ge2`: the weighted fit's standard errors and the
            standard error of :math:`p_0`.
        level: confidence level of every interval, in (0, 1).
        near_zero_window: half-width of the helpfulness model comparison's window, > 0.

    Returns:
        :class:`CurveFit`.

    Raises:
        ParameterError: a bad ``law`` for this curve, ``n``, ``level`` or ``near_zero_window``.
    """
    from .compare import disagreements, weight_story

    lw = _check_law(curve, law)
    nn = check_n(n)
    lv = _check_level(level)
    if not (math.isfinite(near_zero_window) and near_zero_window > 0):
        raise ParameterError(f"near_zero_window: expected a finite half-width > 0, got {near_zero_window!r}")
    window = BEHAVIOR_WINDOW if curve.quantity == "behavior" else HELPFULNESS_WINDOW
    inside = curve.window(*window)
    sign = curve.sign
    cf = {
        "curve": curve,
        "law": lw,
        "n": nn,
        "level": lv,
        "sign": sign,
        "lam": np.array(curve.lam[inside]),
        "y": sign * np.array(curve.mean[inside]),
        "std": np.array(curve.std[inside]),
        "se": standard_errors(curve, nn)[inside],
    }
    fits = {w: _fit_one(cf, w, lv, near_zero_window) for w in WEIGHTINGS}
    share = cf["se"] ** -2.0 / np.sum(cf["se"] ** -2.0)
    return CurveFit(
        curve,
        lw,
        nn,
        window,
        sign,
        cf["lam"],
        cf["y"],
        cf["std"],
        fits["unweighted"],
        fits["weighted"],
        share,
        tuple(disagreements(fits["unweighted"], fits["weighted"])),
        weight_story(cf["lam"], cf["std"], share),
    )


def _check_level(level: object) -> float:
    return float(check_open("level", as_real("level", level), 0.0, 1.0))


def _fit_all(curves: tuple[PaperCurve, ...], n: int, level: float, near_zero: float) -> dict[str, tuple[CurveFit, ...]]:
    opts = {"n": n, "level": level, "near_zero_window": near_zero}
    return {
        "behavior": tuple(fit_curve(c, **opts) for c in curves if c.quantity == "behavior"),
        "helpfulness": tuple(fit_curve(c, **opts) for c in curves if c.quantity == "helpfulness"),
        "restricted": tuple(fit_curve(c, "restricted", **opts) for c in curves if c.measure == "restricted_A-D"),
    }


def fit_paper_curves(
    *,
    n: int = DEFAULT_N,
    level: float = 0.95,
    near_zero_window: float = NEAR_ZERO_WINDOW,
    sensitivity_n: tuple[int, ...] = (),
    **selection: str,
) -> PaperFits:
    """Fit every selected published curve (all 28 by default: 4 behavior, 24 helpfulness, 12 of them also with the
    restricted form), both weightings, as :func:`fit_curve`; refit at each ``sensitivity_n`` to show how the
    conclusions depend on the assumed ``n``.

    Args:
        n: as in :func:`fit_curve`.
        level: as in :func:`fit_curve`.
        near_zero_window: as in :func:`fit_curve`.
        sensitivity_n: other sample sizes to refit at (each an integer >= 2); ``()`` for none.
        **selection: keywords of :func:`~bounds.paper.paper_measurements` (``model=``, ``vector=``, ...).

    Returns:
        :class:`PaperFits`.

    Raises:
        ParameterError: a bad setting or selection (named).
    """
    nn, lv = check_n(n), _check_level(level)
    others = tuple(check_n(x) for x in sensitivity_n)
    curves = paper_measurements(**selection)
    main = _fit_all(curves, nn, lv, near_zero_window)
    settings = {
        "n": nn,
        "level": lv,
        "pseudo_count": PSEUDO_COUNT,
        "behavior_window": list(BEHAVIOR_WINDOW),
        "helpfulness_window": list(HELPFULNESS_WINDOW),
        "near_zero_window": near_zero_window,
        "k": RESTRICTED_K,
        "sensitivity_n": list(others),
        "selection": dict(selection),
    }
    sens: dict[int, tuple[CurveFit, ...]] = {}
    for m in others:
        again = _fit_all(curves, m, lv, near_zero_window)
        sens[m] = (*again["behavior"], *again["helpfulness"], *again["restricted"])
    gran = {c.label: count_granularity(c) for c in curves if c.quantity == "behavior"}
    return PaperFits(
        settings, paper_provenance(), main["behavior"], main["helpfulness"], main["restricted"], sens, gran
    )
