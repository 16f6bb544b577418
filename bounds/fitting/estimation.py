r"""Fitting the laws to steering curves (values :math:`y_g` at :math:`\lambda_g`, one curve per query, ``Y`` of shape
``(n_queries, G)``): single curves, per query, dataset averages, confidence intervals and the query bootstrap.

Every fit is an lmfit least-squares fit returning a :class:`lmfit.model.ModelResult`. With ``y_err`` the errors are
**absolute** (``scale_covar=False``: :math:`\chi^2` is a :math:`-2\log` likelihood); without it the noise scale is
estimated from the residuals (``scale_covar=True``). :math:`\gamma,\beta,p_0` and :math:`B_0` are per query while
the authors fit dataset averages (docs/specification.md §13.3): an average of per-query laws need not follow the law,
hence :func:`fit_per_query` and the :func:`bootstrap` over queries. No fitted parameter is ever rescaled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import lmfit
import numpy as np
from lmfit.model import ModelResult
from scipy import optimize, stats

from .._check import as_real, check_integer, check_open
from .._montecarlo import as_generator

__all__ = [
    "BootstrapResult",
    "ConfidenceIntervals",
    "average_curve",
    "bootstrap",
    "confidence_intervals",
    "fit",
    "fit_dataset_average",
    "fit_per_query",
]

#: profile search: at most this many doublings of the starting step before an end is declared infinite
_MAX_DOUBLINGS = 60


# -- Input checks ------------------------------------------------------------------------------------------------------
def _check_model(model: object) -> lmfit.Model:
    if not isinstance(model, lmfit.Model):
        raise TypeError(f"model must be an lmfit.Model (e.g. AlignmentModel()), got {type(model).__name__}")
    if len(model.independent_vars) != 1:
        raise ValueError(
            f"model must have a single independent variable (λ), got {list(model.independent_vars)}; use the models "
            "of bounds.fitting or lmfit's, or build yours with independent_vars=['lam']"
        )
    return model


def _x(model: lmfit.Model, lam: np.ndarray) -> dict[str, np.ndarray]:
    """``lam`` as the keyword of the model's independent variable (``lam`` here, ``x`` for lmfit's own models)."""
    return {model.independent_vars[0]: lam}


def _check_lam(lam: object) -> np.ndarray:
    lm = as_real("lam", lam)
    if lm.ndim != 1 or lm.size == 0:
        raise ValueError(f"lam must be a non-empty 1-D array of steering coefficients, got shape {lm.shape}")
    return lm


def _check_curve(y: object, lam: np.ndarray, name: str = "y") -> np.ndarray:
    yv = as_real(name, y)
    if yv.shape != lam.shape:
        raise ValueError(f"{name} must have the shape of lam {lam.shape}, got {yv.shape}")
    return yv


def _check_err(y_err: object, shape: tuple[int, ...], name: str = "y_err") -> np.ndarray:
    e = check_open(name, as_real(name, y_err), 0.0, np.inf)
    try:
        return np.broadcast_to(e, shape)
    except ValueError as exc:
        raise ValueError(f"{name} must broadcast to the data shape {shape}, got {e.shape}") from exc


def _check_curves(Y: object, lam: np.ndarray) -> np.ndarray:
    Yv = as_real("Y", Y)
    if Yv.ndim != 2 or Yv.shape[1] != lam.size or Yv.shape[0] == 0:
        raise ValueError(
            f"Y must have shape (n_queries, {lam.size}) (one curve per row, columns matching lam), got {Yv.shape}"
        )
    return Yv


def _start_params(model: lmfit.Model, y: np.ndarray, lam: np.ndarray, params: object) -> lmfit.Parameters:
    if params is None:
        try:
            return model.guess(y, **_x(model, lam))
        except NotImplementedError as exc:
            raise ValueError(f"params is required: {model!r} has no guess() for starting values") from exc
    if not isinstance(params, lmfit.Parameters):
        raise TypeError(f"params must be lmfit.Parameters (e.g. model.make_params(...)), got {type(params).__name__}")
    missing = [n for n in model.param_names if n not in params]
    if missing:
        raise ValueError(f"params lacks the model's parameters {missing}")
    return params


def _nvarys(params: lmfit.Parameters) -> int:
    return sum(1 for p in params.values() if p.vary and not p.expr)


def _run(
    model: lmfit.Model,
    lam: np.ndarray,
    y: np.ndarray,
    params: lmfit.Parameters,
    y_err: np.ndarray | None,
    scale_covar: bool | None,
    method: str = "leastsq",
) -> ModelResult:
    """The lmfit call shared by every fit (inputs already validated)."""
    weights = None if y_err is None else 1.0 / y_err
    scale = (y_err is None) if scale_covar is None else bool(scale_covar)
    return model.fit(y, params, **_x(model, lam), weights=weights, scale_covar=scale, method=method)


# -- Single fit --------------------------------------------------------------------------------------------------------
def fit(
    model: lmfit.Model,
    lam: object,
    y: object,
    *,
    y_err: object = None,
    params: lmfit.Parameters | None = None,
    scale_covar: bool | None = None,
    method: str = "leastsq",
) -> ModelResult:
    r"""Fit ``model`` to one curve :math:`(\lambda_g, y_g)` by (weighted) least squares.

    Args:
        model: an :class:`lmfit.Model` with one independent variable, λ (``lam`` for the models of
            :mod:`bounds.fitting`, ``x`` for lmfit's own).
        lam: steering coefficients, finite, 1-D.
        y: observed values at ``lam``, finite, same shape.
        y_err: optional standard errors of ``y``, :math:`>0`, broadcastable to ``y``; taken as absolute (see
            ``scale_covar``).
        params: starting :class:`lmfit.Parameters`; ``None`` uses ``model.guess``.
        scale_covar: scale the covariance by :math:`\chi^2/\nu`; default ``True`` without ``y_err`` (noise
            estimated from the residuals) and ``False`` with it (absolute errors).
        method: lmfit minimisation method (default ``"leastsq"``).

    Returns:
        the :class:`lmfit.model.ModelResult` (``params`` with ``stderr``, ``chisqr``, ``aic``, ``bic``, ...).

    Raises:
        TypeError: ``model`` not an lmfit Model, ``params`` not Parameters.
        ValueError: ``lam``/``y``/``y_err`` not finite or of mismatched shapes, ``y_err <= 0``, no more data points
            than varying parameters, or a model with more than one independent variable.
    """
    _check_model(model)
    lm = _check_lam(lam)
    yv = _check_curve(y, lm)
    err = None if y_err is None else _check_err(y_err, yv.shape)
    pars = _start_params(model, yv, lm, params)
    k = _nvarys(pars)
    if yv.size <= k:
        raise ValueError(f"y must have more points than the {k} varying parameters of the model, got {yv.size}")
    return _run(model, lm, yv, pars, err, scale_covar, method)


# -- Confidence intervals ----------------------------------------------------------------------------------------------
class ConfidenceIntervals(dict):
    """``{parameter name: (lower, upper)}`` for the varying parameters, plus how each interval was obtained.

    Attributes:
        level: the confidence level.
        methods: ``{name: "profile" | "normal"}``.
        notes: ``{name: text}`` for intervals that hit a parameter bound, are unbounded, or fell back to the normal
            approximation (with the reason).
    """

    def __init__(
        self,
        intervals: Mapping[str, tuple[float, float]],
        *,
        level: float,
        methods: Mapping[str, str],
        notes: Mapping[str, str] | None = None,
    ):
        super().__init__(intervals)
        self.level = level
        self.methods = dict(methods)
        self.notes = dict(notes or {})


def _normal_interval(result: ModelResult, name: str, level: float) -> tuple[float, float]:
    par = result.params[name]
    if par.stderr is None or not np.isfinite(par.stderr):
        raise ValueError(
            f"no uncertainty for parameter {name!r}: lmfit could not estimate the covariance (parameter at a bound "
            "or not identifiable from these data)"
        )
    # two-sided quantile: Student t with nfree dof when the noise scale was estimated, else normal
    t = stats.t.ppf(0.5 + level / 2.0, result.nfree) if result.scale_covar else stats.norm.ppf(0.5 + level / 2.0)
    q = float(t) * float(par.stderr)
    return float(par.value) - q, float(par.value) + q


def _chisqr_at(result: ModelResult, name: str, value: float) -> float:
    """Profile :math:`\\chi^2`: ``name`` fixed at ``value``, the other varying parameters refitted."""
    pars = result.params.copy()
    pars[name].set(value=value, vary=False)
    x = _x(result.model, result.userkws[result.model.independent_vars[0]])
    if _nvarys(pars) == 0:
        resid = result.model.eval(pars, **x) - result.data
        if result.weights is not None:
            resid = resid * result.weights
        return float(np.sum(resid**2))
    out = result.model.fit(
        result.data, pars, **x, weights=result.weights, scale_covar=result.scale_covar, method=result.method
    )
    return float(out.chisqr)


def _profile_interval(result: ModelResult, name: str, level: float) -> tuple[float, float, str]:
    """Profile-likelihood interval for one parameter (method: docs/api/fitting.md); returns ``(lower, upper, note)``."""
    par = result.params[name]
    best = float(par.value)
    chi_best = float(np.sum(np.asarray(result.residual, dtype=float) ** 2))
    if result.scale_covar:
        nfree = int(result.nfree)
        if chi_best <= 0.0:
            return best, best, "exact fit (chi-square 0): the scaled interval has zero width"
        threshold = float(stats.f.ppf(level, 1, nfree))

        def stat(v: float) -> float:
            return (_chisqr_at(result, name, v) - chi_best) * nfree / chi_best
    else:
        threshold = float(stats.chi2.ppf(level, 1))

        def stat(v: float) -> float:
            return _chisqr_at(result, name, v) - chi_best

    se = par.stderr
    step = float(se) if se is not None and np.isfinite(se) and se > 0 else max(0.1 * abs(best), 1e-3)
    ends, notes = [], []
    for direction, bound in ((-1.0, float(par.min)), (1.0, float(par.max))):
        prev, end = best, None
        for i in range(_MAX_DOUBLINGS):
            x = best + direction * step * 2.0**i
            at_bound = (x <= bound) if direction < 0 else (x >= bound)
            if at_bound:
                x = bound
            if stat(x) >= threshold:
                end = optimize.brentq(lambda v: stat(v) - threshold, *sorted((prev, x)), xtol=1e-4 * step)
                break
            if at_bound:
                end = bound
                notes.append(f"{'lower' if direction < 0 else 'upper'} end at the parameter bound {bound}")
                break
            prev = x
        if end is None:
            end = direction * np.inf
            notes.append(f"{'lower' if direction < 0 else 'upper'} end unbounded (profile never reaches the level)")
        ends.append(float(end))
    return ends[0], ends[1], "; ".join(notes)


def confidence_intervals(result: ModelResult, level: float = 0.95, *, method: str = "profile") -> ConfidenceIntervals:
    r"""Confidence intervals at ``level`` for every varying parameter of a fit (fixed and ``expr`` ones left out).

    Args:
        result: a :class:`lmfit.model.ModelResult` (from :func:`fit` and friends).
        level: confidence level, :math:`0<\text{level}<1`.
        method: ``"profile"`` (profile likelihood, respecting bounds; a refit that raises falls back to the normal
            interval with a note) or ``"normal"`` (:math:`\hat\theta\pm q\,\mathrm{se}`, never clipped); both are
            described in docs/api/fitting.md.

    Returns:
        :class:`ConfidenceIntervals`, a ``dict[str, tuple[float, float]]`` with ``level``, ``methods``, ``notes``.

    Raises:
        TypeError: ``result`` not a ModelResult.
        ValueError: ``level`` outside :math:`(0,1)`, unknown ``method``, or (normal method) a parameter without
            stderr.
    """
    if not isinstance(result, ModelResult):
        raise TypeError(f"result must be an lmfit ModelResult (from fit()), got {type(result).__name__}")
    lv = float(check_open("level", as_real("level", level), 0.0, 1.0))
    if method not in ("profile", "normal"):
        raise ValueError(f"method must be 'profile' or 'normal', got {method!r}")
    names = [n for n, p in result.params.items() if p.vary and not p.expr]
    intervals: dict[str, tuple[float, float]] = {}
    methods: dict[str, str] = {}
    notes: dict[str, str] = {}
    for name in names:
        if method == "profile":
            try:
                lo, hi, note = _profile_interval(result, name, lv)
            except (ValueError, FloatingPointError, ArithmeticError, lmfit.minimizer.MinimizerException) as exc:
                intervals[name] = _normal_interval(result, name, lv)
                methods[name] = "normal"
                notes[name] = f"profile failed ({exc}); normal approximation from stderr"
                continue
            intervals[name], methods[name] = (lo, hi), "profile"
            if note:
                notes[name] = note
        else:
            intervals[name], methods[name] = _normal_interval(result, name, lv), "normal"
    return ConfidenceIntervals(intervals, level=lv, methods=methods, notes=notes)


# -- Many queries ------------------------------------------------------------------------------------------------------
def average_curve(Y: object) -> tuple[np.ndarray, np.ndarray]:
    r"""Dataset-average curve and its standard error across queries (sample sd with ``ddof=1`` over :math:`\sqrt n`).

    Args:
        Y: curves, shape ``(n_queries, G)``, :math:`n\ge2`, finite.

    Returns:
        ``(mean, se)``, each of shape ``(G,)``.

    Raises:
        ValueError: not 2-D, fewer than two queries, NaN/inf.
    """
    Yv = as_real("Y", Y)
    if Yv.ndim != 2 or Yv.shape[0] < 2 or Yv.shape[1] == 0:
        raise ValueError(f"Y must have shape (n_queries, G) with n_queries >= 2 and G >= 1, got {Yv.shape}")
    return Yv.mean(axis=0), Yv.std(axis=0, ddof=1) / np.sqrt(Yv.shape[0])


def fit_per_query(
    model: lmfit.Model, lam: object, Y: object, *, y_err: object = None, **options: Any
) -> list[ModelResult]:
    r"""Fit ``model`` to each query's curve separately (the per-query reading, docs/specification.md §13.3).

    Args:
        model: an :class:`lmfit.Model` in ``lam``.
        lam: steering coefficients, 1-D of length :math:`G`.
        Y: curves, shape ``(n_queries, G)``.
        y_err: optional standard errors, broadcastable to ``Y``.
        **options: ``params`` (common starting Parameters; ``None`` guesses each query from its own curve),
            ``scale_covar``, ``method``: as in :func:`fit`.

    Returns:
        one :class:`~lmfit.model.ModelResult` per query, in row order.

    Raises:
        ValueError: bad shapes or values (a failing query is named by its row index).
        TypeError: as in :func:`fit`.
    """
    _check_model(model)
    lm = _check_lam(lam)
    Yv = _check_curves(Y, lm)
    errs = None if y_err is None else _check_err(y_err, Yv.shape)
    results = []
    for i, row in enumerate(Yv):
        try:
            results.append(fit(model, lm, row, y_err=None if errs is None else errs[i], **options))
        except ValueError as exc:
            raise ValueError(f"Y row {i}: {exc}") from exc
    return results


def fit_dataset_average(
    model: lmfit.Model,
    lam: object,
    Y: object,
    *,
    params: lmfit.Parameters | None = None,
    weighted: bool = True,
    scale_covar: bool | None = None,
) -> ModelResult:
    r"""Fit ``model`` to the dataset-average curve, weighted by the standard error across queries.

    Args:
        model: an :class:`lmfit.Model` in ``lam``.
        lam: steering coefficients, 1-D of length :math:`G`.
        Y: curves, shape ``(n_queries, G)``, :math:`n\ge2`.
        params: starting Parameters; ``None`` uses ``model.guess`` on the mean curve.
        weighted: weight by :math:`1/\mathrm{se}_g` (absolute errors; a ``redchi`` well above 1 says the form does
            not describe the average); ``False``: the unweighted mean, noise scale from residuals.
        scale_covar: as in :func:`fit`.

    Returns:
        the :class:`~lmfit.model.ModelResult` (``result.data`` is the mean, ``1/result.weights`` the SE).

    Raises:
        ValueError: bad shapes or values; a zero SE at some :math:`\lambda` with ``weighted=True`` (all queries equal
            there, e.g. saturated at ±1): the message names those λ; use ``weighted=False``.
    """
    _check_model(model)
    lm = _check_lam(lam)
    mean, se = average_curve(_check_curves(Y, lm))
    if weighted and np.any(se == 0):
        raise ValueError(
            f"Y has zero standard error across queries at lam = {lm[se == 0].tolist()[:5]} (all queries equal "
            "there), so 1/se weights are infinite; pass weighted=False to fit the unweighted mean"
        )
    return fit(model, lm, mean, y_err=se if weighted else None, params=params, scale_covar=scale_covar)


# -- Bootstrap over queries --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BootstrapResult:
    r"""Query bootstrap of a dataset-average fit.

    Attributes:
        full: the fit to the full data (:func:`fit_dataset_average`).
        samples: ``{name: array}``, the refitted value of each varying parameter on each successful resample.
        ci: ``{name: (lower, upper)}``, percentile intervals :math:`[q_{(1-\text{level})/2}, q_{(1+\text{level})/2}]`
            of ``samples``.
        level: confidence level.
        n_boot: number of resamples drawn.
        n_failed: resamples not in ``samples`` (a refit that raised or did not succeed, or, when weighted, a
            resample with a zero SE at some λ).
    """

    full: ModelResult
    samples: dict[str, np.ndarray]
    ci: dict[str, tuple[float, float]]
    level: float
    n_boot: int
    n_failed: int

    @property
    def std(self) -> dict[str, float]:
        """Bootstrap standard deviation (``ddof=1``) of each parameter: its standard error over queries."""
        return {k: float(np.std(v, ddof=1)) if v.size > 1 else float("nan") for k, v in self.samples.items()}


def bootstrap(
    model: lmfit.Model,
    lam: object,
    Y: object,
    *,
    n_boot: int,
    rng: object,
    level: float = 0.95,
    params: lmfit.Parameters | None = None,
    weighted: bool = True,
    full: ModelResult | None = None,
) -> BootstrapResult:
    r"""Nonparametric bootstrap over queries of the dataset-average fit, with percentile intervals.

    Args:
        model: an :class:`lmfit.Model` in ``lam``.
        lam: steering coefficients, 1-D of length :math:`G`.
        Y: curves, shape ``(n_queries, G)``, :math:`n\ge2`.
        n_boot: number of resamples, an integer :math:`\ge1` (1000 or more for 95 % intervals).
        rng: a :class:`numpy.random.Generator` or an integer seed (``None`` refused: reproducible).
        level: confidence level, :math:`0<\text{level}<1`.
        params: starting Parameters of the full-data fit (``None``: guess).
        weighted: as in :func:`fit_dataset_average`.
        full: ``fit_dataset_average(model, lam, Y, weighted=weighted)`` when the caller already has it; ``None``: fit
            it here (from ``params``).

    Returns:
        :class:`BootstrapResult`.

    Raises:
        TypeError: ``rng`` neither Generator nor seed, non-integer ``n_boot``.
        ValueError: bad shapes or values, ``level`` outside :math:`(0,1)`, or every resample failing.
    """
    n_b = check_integer("n_boot", n_boot, 1)
    gen = as_generator(rng)
    lv = float(check_open("level", as_real("level", level), 0.0, 1.0))
    if full is None:
        full = fit_dataset_average(model, lam, Y, params=params, weighted=weighted)
    elif full.model is not model or (full.weights is not None) != weighted:
        raise ValueError(
            "full must be fit_dataset_average(model, lam, Y, weighted=weighted) of this model and weighting, got a "
            f"fit of {full.model.name} ({'weighted' if full.weights is not None else 'unweighted'})"
        )
    lm = np.asarray(full.userkws[model.independent_vars[0]])
    Yv = as_real("Y", Y)
    n = Yv.shape[0]
    names = [k for k, p in full.params.items() if p.vary and not p.expr]
    draws: dict[str, list[float]] = {k: [] for k in names}
    failed = 0
    for _ in range(n_b):
        mean, se = average_curve(Yv[gen.integers(0, n, size=n)])
        if weighted and np.any(se == 0):
            failed += 1
            continue
        try:
            r = _run(model, lm, mean, full.params, se if weighted else None, full.scale_covar)
        except (ValueError, FloatingPointError, lmfit.minimizer.MinimizerException):
            failed += 1
            continue
        if not r.success:
            failed += 1
            continue
        for k in names:
            draws[k].append(float(r.params[k].value))
    if failed == n_b:
        raise ValueError(f"all {n_b} bootstrap resamples failed to fit; check the data and starting params")
    samples = {k: np.asarray(v) for k, v in draws.items()}
    qs = (0.5 - lv / 2.0, 0.5 + lv / 2.0)
    ci = {k: (float(np.quantile(v, qs[0])), float(np.quantile(v, qs[1]))) for k, v in samples.items()}
    return BootstrapResult(full=full, samples=samples, ci=ci, level=lv, n_boot=n_b, n_failed=failed)
