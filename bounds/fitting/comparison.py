r"""Model comparison by AIC and BIC: linear vs tanh for alignment, quadratic vs linear vs flat near :math:`\lambda=0`.

Every candidate is fitted to the same data with :func:`~bounds.fitting.fit`, and the criteria use the likelihood that
fit assumed (:math:`k` varying parameters, :math:`n` points): with absolute errors (``y_err``)
:math:`\mathrm{AIC}=\chi^2+2k`, :math:`\mathrm{BIC}=\chi^2+k\ln n`; with the noise scale profiled out (no ``y_err``)
:math:`n\ln(\chi^2/n)` replaces :math:`\chi^2` (lmfit's ``aic``/``bic``). Only differences to the best matter
(:math:`\Delta<2` no preference, :math:`\Delta>6` (BIC) or :math:`>10` (AIC) a strong one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import lmfit
import numpy as np
from lmfit.model import ModelResult
from lmfit.models import ConstantModel, PolynomialModel

from .._check import as_real, check_open
from .estimation import _check_curve, _check_err, _check_lam, _check_model, fit
from .models import AlignmentModel

__all__ = [
    "ModelComparison",
    "ModelScore",
    "compare_alignment",
    "compare_helpfulness_near_zero",
    "compare_models",
]


@dataclass(frozen=True)
class ModelScore:
    """One candidate's fit and criteria.

    Attributes:
        name: the candidate's name (key of the ``models`` mapping).
        aic, bic: information criteria (module docstring).
        delta_aic, delta_bic: difference to the best candidate (0 for the best).
        chisqr: weighted sum of squared residuals.
        redchi: ``chisqr / nfree``.
        nvarys: number of varying parameters :math:`k`.
        ndata: number of points :math:`n`.
        nfev: function evaluations of the fit.
        success: lmfit's convergence flag.
        result: the :class:`~lmfit.model.ModelResult`.
    """

    name: str
    aic: float
    bic: float
    delta_aic: float
    delta_bic: float
    chisqr: float
    redchi: float
    nvarys: int
    ndata: int
    nfev: int
    success: bool
    result: ModelResult


@dataclass(frozen=True)
class ModelComparison:
    """The candidates' scores, in the order given, and the best by AIC and by BIC.

    Attributes:
        scores: ``{name: ModelScore}``.
        best_aic: name of the candidate with the smallest AIC.
        best_bic: name of the candidate with the smallest BIC.
        absolute_errors: whether the criteria used absolute errors (``y_err`` given).
    """

    scores: dict[str, ModelScore]
    best_aic: str
    best_bic: str
    absolute_errors: bool

    @property
    def best(self) -> dict[str, str]:
        """``{"aic": best_aic, "bic": best_bic}``."""
        return {"aic": self.best_aic, "bic": self.best_bic}

    @property
    def results(self) -> dict[str, ModelResult]:
        """``{name: ModelResult}``."""
        return {k: s.result for k, s in self.scores.items()}

    def __getitem__(self, name: str) -> ModelScore:
        return self.scores[name]

    def table(self) -> str:
        """A plain-text table of the scores (name, k, chisqr, AIC, ΔAIC, BIC, ΔBIC)."""
        head = f"{'model':<12} {'k':>2} {'chisqr':>12} {'AIC':>11} {'dAIC':>9} {'BIC':>11} {'dBIC':>9}"
        rows = [
            f"{s.name:<12} {s.nvarys:>2} {s.chisqr:>12.5g} {s.aic:>11.4f} {s.delta_aic:>9.3f} {s.bic:>11.4f} "
            f"{s.delta_bic:>9.3f}"
            for s in self.scores.values()
        ]
        return "\n".join([head, *rows])


def _criteria(result: ModelResult, absolute: bool) -> tuple[float, float]:
    n, k = int(result.ndata), int(result.nvarys)
    if absolute:
        chi = float(result.chisqr)
        return chi + 2.0 * k, chi + k * np.log(n)
    return float(result.aic), float(result.bic)


def _polynomial(degree: int, lam: np.ndarray, y: np.ndarray) -> tuple[lmfit.Model, lmfit.Parameters]:
    """lmfit's ``PolynomialModel(degree)`` (``c0 + c1·λ + …``, evaluated by Horner) and its ordinary least-squares
    coefficients as starting values. Not lmfit's ``guess``: ``np.polyfit`` rescales the columns, and a start that
    differs in the last bits changes the fitted scores in the last bits."""
    model = PolynomialModel(degree)
    coef, *_ = np.linalg.lstsq(np.vander(lam, degree + 1, increasing=True), y, rcond=None)
    return model, model.make_params(**{f"c{i}": float(c) for i, c in enumerate(coef)})


def compare_models(
    lam: object,
    y: object,
    models: Mapping[str, lmfit.Model],
    *,
    y_err: object = None,
    params: Mapping[str, lmfit.Parameters] | None = None,
) -> ModelComparison:
    r"""Fit every candidate to the same curve and rank them by AIC and BIC (criteria in the module docstring).

    Args:
        lam: steering coefficients, 1-D, finite.
        y: observed values, same shape.
        models: ``{name: lmfit.Model}`` in ``lam``, at least one.
        y_err: optional absolute standard errors of ``y`` (:math:`>0`, broadcastable).
        params: optional ``{name: Parameters}`` starting values for some candidates (others use ``guess``).

    Returns:
        :class:`ModelComparison`.

    Raises:
        TypeError: a candidate that is not an lmfit Model.
        ValueError: no candidates, bad data (as in :func:`~bounds.fitting.fit`), or a candidate with as many
            varying parameters as points.
    """
    if not isinstance(models, Mapping) or len(models) == 0:
        raise ValueError(f"models must be a non-empty mapping {{name: lmfit.Model}}, got {models!r}")
    starts = dict(params or {})
    unknown = set(starts) - set(models)
    if unknown:
        raise ValueError(f"params has entries for unknown models {sorted(unknown)}; models are {list(models)}")
    fits: dict[str, ModelResult] = {}
    for name, model in models.items():
        try:
            _check_model(model)
        except TypeError as exc:
            raise TypeError(f"models[{name!r}]: {exc}") from exc
        fits[name] = fit(model, lam, y, y_err=y_err, params=starts.get(name))
    absolute = y_err is not None
    crit = {name: _criteria(r, absolute) for name, r in fits.items()}
    best_aic = min(crit, key=lambda k: crit[k][0])
    best_bic = min(crit, key=lambda k: crit[k][1])
    scores = {
        name: ModelScore(
            name=name,
            aic=aic,
            bic=bic,
            delta_aic=aic - crit[best_aic][0],
            delta_bic=bic - crit[best_bic][1],
            chisqr=float(r.chisqr),
            redchi=float(r.redchi),
            nvarys=int(r.nvarys),
            ndata=int(r.ndata),
            nfev=int(r.nfev),
            success=bool(r.success),
            result=r,
        )
        for (name, r), (aic, bic) in zip(fits.items(), crit.values(), strict=True)
    }
    return ModelComparison(scores=scores, best_aic=best_aic, best_bic=best_bic, absolute_errors=absolute)


def compare_alignment(lam: object, y: object, *, y_err: object = None, b0: float | None = None) -> ModelComparison:
    r"""Alignment curve: ``"linear"`` (lmfit's :class:`~lmfit.models.PolynomialModel` of degree 1, ``c0 + c1·λ``)
    vs ``"tanh"`` (:math:`\tanh(a\lambda+b_0)`).

    Theorem 1's law saturates at ±1; over a small :math:`\lambda` range it is indistinguishable from its tangent
    :math:`B_0+\tfrac{\alpha\Delta}{2}(1-B_0^2)\lambda`. Both candidates have two parameters (one for the tanh law
    when ``b0`` is fixed), so with free ``b0`` AIC and BIC rank them by :math:`\chi^2` alone.

    Args:
        lam: steering coefficients, 1-D.
        y: behavior expectations.
        y_err: optional absolute standard errors.
        b0: ``None`` (free) or a fixed :math:`b_0=\operatorname{artanh}B_0` for the tanh candidate.

    Returns:
        :class:`ModelComparison` with candidates ``"linear"`` and ``"tanh"``.

    Raises:
        ValueError: as :func:`compare_models`; ``b0`` infinite (see :class:`AlignmentModel`).
    """
    lm = _check_lam(lam)
    linear, start = _polynomial(1, lm, _check_curve(y, lm))
    models = {"linear": linear, "tanh": AlignmentModel(b0=b0)}
    return compare_models(lm, y, models, y_err=y_err, params={"linear": start})


def compare_helpfulness_near_zero(lam: object, y: object, *, window: float, y_err: object = None) -> ModelComparison:
    r"""Helpfulness near :math:`\lambda=0`: ``"quadratic"`` vs ``"linear"`` vs ``"flat"`` on :math:`|\lambda|\le w`.

    Theorem 2's form and §12.2(c)'s expectation are even in :math:`\lambda` near 0 (a parabola, no linear term);
    a single query's helpfulness has a random first-order term (docs/specification.md §6.3); flat means no effect of
    steering. Only points with :math:`|\lambda|\le` ``window`` are used. The candidates are lmfit's own
    :class:`~lmfit.models.PolynomialModel` of degree 2 (``c0 + c1·λ + c2·λ²``) and 1, and
    :class:`~lmfit.models.ConstantModel` (``c``), in their variable ``x`` = λ; the quadratic keeps its linear term
    ``c1`` free, so a fitted ``c1`` near 0 confirms the symmetry.

    Args:
        lam: steering coefficients, 1-D.
        y: helpfulness values.
        window: half-width :math:`w>0` of the window around 0.
        y_err: optional absolute standard errors, broadcastable to ``y`` (restricted to the window with it).

    Returns:
        :class:`ModelComparison` with candidates ``"quadratic"``, ``"linear"``, ``"flat"``.

    Raises:
        ValueError: ``window`` not finite and positive, fewer than 4 points in the window, or bad data.
    """
    lm = _check_lam(lam)
    w = float(check_open("window", as_real("window", window), 0.0, np.inf))
    yv = _check_curve(y, lm)
    inside = np.abs(lm) <= w
    if inside.sum() < 4:
        raise ValueError(f"window = {w} keeps {int(inside.sum())} points with |lam| <= window; at least 4 are needed")
    x, yw = lm[inside], yv[inside]
    (quadratic, q0), (linear, l0) = _polynomial(2, x, yw), _polynomial(1, x, yw)
    models = {"quadratic": quadratic, "linear": linear, "flat": ConstantModel()}
    err = None if y_err is None else _check_err(y_err, yv.shape)[inside]
    return compare_models(x, yw, models, y_err=err, params={"quadratic": q0, "linear": l0})
