r"""Per-query steerability: how fast each prompt's behavior moves with λ near 0, with an interval per prompt, the
share of prompts that move against the vector, and whether the slope follows the :math:`\alpha\Delta_q` that
Theorem 1 says drives it. Method: ``docs/api/validation-measure.md``, "Per-query steerability".

A mean curve hides prompts that steer the wrong way; these functions look at each prompt's own slope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from bounds._check import as_real
from bounds.errors import ParameterError

from ._common import Result, across_queries, check_level
from .curves import _wilson

__all__ = ["QuerySlopes", "SlopeSummary", "SteerabilityResult", "query_slopes", "steerability"]


@dataclass(frozen=True)
class QuerySlopes(Result):
    r"""Least-squares slopes of each row of a ``(n_queries, m)`` array against ``lam`` (with an intercept).

    Attributes:
        slope: per query, :math:`\hat b=\sum_i(\lambda_i-\bar\lambda)(y_i-\bar y)/\sum_i(\lambda_i-\bar\lambda)^2` over
            the query's finite points (``nan`` with fewer than 2 distinct λ).
        se: its standard error :math:`\sqrt{\mathrm{RSS}/(m_q-2)/S_{\lambda\lambda}}` (``nan`` with 2 points: a line
            through 2 points leaves no residual to estimate the noise from; 0 for a constant row).
        ci_low, ci_high: the Student-t interval :math:`\hat b\pm t_{m_q-2,(1+\ell)/2}\,\mathrm{SE}` (``nan`` where
            the SE is).
        n_points: the finite points per query :math:`m_q`.
        level: the confidence level :math:`\ell`.
    """

    slope: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_points: np.ndarray
    level: float


def query_slopes(lam: object, values: object, *, level: float = 0.95) -> QuerySlopes:
    r"""Ordinary least squares of each query's values on λ, with a per-query t interval from its residuals.

    Args:
        lam: the λ of the columns, 1-D, finite, no repeats.
        values: shape ``(n_queries, len(lam))``; NaN or infinite cells (an undefined measurement) are left out of
            that query's fit.
        level: confidence level of the per-query intervals, in ``(0, 1)``.

    Returns:
        :class:`QuerySlopes`. A query whose finite values are all equal has slope 0 and SE 0 (its interval is
        ``[0, 0]``), whatever the rounding of the sums.

    Raises:
        bounds.errors.ParameterError: (a ``ValueError``) a bad grid or shape, a level outside ``(0, 1)``.
        TypeError: non-numeric values.
    """
    from scipy import stats

    lm = _grid(lam)
    Y = _with_gaps("values", values, lm.size)
    lv = check_level("level", level)
    ok = np.isfinite(Y)
    w = ok.astype(float)
    m = w.sum(axis=1)
    y0 = np.where(ok, Y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        xbar = (w * lm).sum(axis=1) / m
        ybar = y0.sum(axis=1) / m
        dx = np.where(ok, lm[None, :] - xbar[:, None], 0.0)
        sxx = (dx**2).sum(axis=1)
        slope = (dx * (y0 - ybar[:, None])).sum(axis=1) / sxx
        resid = np.where(ok, y0 - ybar[:, None] - slope[:, None] * dx, 0.0)
        df = m - 2
        se = np.sqrt((resid**2).sum(axis=1) / df / sxx)
    defined = (m >= 2) & (sxx > 0)
    slope = np.where(defined, slope, np.nan)
    se = np.where(defined & (df > 0), se, np.nan)
    span = np.where(ok, Y, -np.inf).max(axis=1) - np.where(ok, Y, np.inf).min(axis=1)
    flat = defined & (span == 0)
    slope, se = np.where(flat, 0.0, slope), np.where(flat, 0.0, se)
    t = np.where(df > 0, stats.t.ppf(0.5 + lv / 2.0, np.maximum(df, 1)), np.nan)
    return QuerySlopes(slope, se, slope - t * se, slope + t * se, m.astype(int), lv)


@dataclass(frozen=True)
class SlopeSummary(Result):
    r"""One measured quantity's per-query slopes near λ = 0 and what they say across prompts.

    Attributes:
        label: what the quantity is.
        slope, se, ci_low, ci_high, n_points: per query (:class:`QuerySlopes`).
        n_queries: the prompts; n_defined: those with a slope; n_with_interval: those with an interval (at least
            3 finite points).
        mean, mean_se, mean_ci_low, mean_ci_high: the slopes' mean across prompts with its SE and t interval.
        median, q25, q75, min, max: their distribution.
        n_wrong_way: prompts whose interval lies entirely below 0 (they move against the vector);
            n_right_way: entirely above 0.
        wrong_way_share, wrong_way_low, wrong_way_high: ``n_wrong_way / n_with_interval`` with its Wilson interval
            at ``level`` (``nan`` when no prompt has an interval).
        spearman_rho, spearman_p, spearman_n: Spearman's rank correlation of the slope with ``drive`` over the
            prompts where both are finite, its two-sided p-value and that count (``nan`` with fewer than 3 such
            prompts or a constant side; ``spearman_note`` says why).
        level: the confidence level of every interval.
    """

    label: str
    slope: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_points: np.ndarray
    n_queries: int
    n_defined: int
    n_with_interval: int
    mean: float
    mean_se: float
    mean_ci_low: float
    mean_ci_high: float
    median: float
    q25: float
    q75: float
    min: float
    max: float
    n_wrong_way: int
    n_right_way: int
    wrong_way_share: float
    wrong_way_low: float
    wrong_way_high: float
    spearman_rho: float
    spearman_p: float
    spearman_n: int
    spearman_note: str | None
    level: float


@dataclass(frozen=True)
class SteerabilityResult(Result):
    r"""Result of :func:`steerability`.

    Attributes:
        lam: the grid; window: ``(low, high)``, the closed λ interval the slopes are fitted on; window_lam: the grid
            points inside it.
        drive: per query, what the slopes are correlated with (:math:`\alpha\Delta_q` in the check).
        measures: ``{name: SlopeSummary}``, one per quantity given.
        level: the confidence level.
    """

    lam: np.ndarray
    window: tuple[float, float]
    window_lam: np.ndarray
    drive: np.ndarray
    measures: dict[str, SlopeSummary]
    level: float


def steerability(
    lam: object,
    measures: Mapping[str, object],
    drive: object,
    *,
    window: tuple[float, float],
    labels: Mapping[str, str] | None = None,
    level: float = 0.95,
) -> SteerabilityResult:
    r"""Each prompt's slope against λ on ``window``, the share moving the wrong way, and the slope's rank
    correlation with ``drive``.

    Args:
        lam: the grid of the columns of each measure, 1-D, finite, no repeats.
        measures: ``{name: values}``, each of shape ``(n_queries, len(lam))`` (NaN: undefined cell, left out), e.g.
            the binary behavior :math:`(P^+-P^-)/(P^++P^-)` and the logit difference
            :math:`\log P^+-\log P^-`; at least one.
        drive: per query, shape ``(n_queries,)`` (NaN: undefined; those prompts are left out of the correlation).
        window: ``(low, high)``, the closed λ interval to fit on; it must hold at least 2 grid points.
        labels: optional ``{name: description}`` for the report.
        level: confidence level of the per-query and across-query intervals, in ``(0, 1)``.

    Returns:
        :class:`SteerabilityResult`.

    Raises:
        bounds.errors.ParameterError: (a ``ValueError``) no measure, shapes that do not match (named), a window
            holding fewer than 2 grid points, a level outside ``(0, 1)``.
    """
    lm = _grid(lam)
    lv = check_level("level", level)
    if not isinstance(measures, Mapping) or not measures:
        raise ParameterError("measures must be a non-empty mapping {name: (n_queries, len(lam)) array}")
    low, high = _window(window)
    inside = (lm >= low) & (lm <= high)
    if inside.sum() < 2:
        raise ParameterError(
            f"window = ({low:g}, {high:g}) must hold at least 2 points of lam (a slope needs 2), "
            f"got {int(inside.sum())}"
        )
    arrays = {str(k): _with_gaps(f"measures[{k!r}]", v, lm.size) for k, v in measures.items()}
    n = {a.shape[0] for a in arrays.values()}
    if len(n) != 1:
        raise ParameterError(f"measures must share n_queries, got {sorted(n)}")
    nq = n.pop()
    d = np.asarray(drive, dtype=float)
    if d.shape != (nq,):
        raise ParameterError(f"drive must have shape (n_queries,) = ({nq},), got {d.shape}")
    out = {
        name: _summary(name, (labels or {}).get(name, name), query_slopes(lm[inside], Y[:, inside], level=lv), d)
        for name, Y in arrays.items()
    }
    return SteerabilityResult(lm, (low, high), lm[inside], d, out, lv)


def _summary(name: str, label: str, qs: QuerySlopes, drive: np.ndarray) -> SlopeSummary:
    from scipy import stats

    s = qs.slope
    defined = np.isfinite(s)
    has_ci = np.isfinite(qs.ci_low) & np.isfinite(qs.ci_high)
    wrong, right = int(np.sum(has_ci & (qs.ci_high < 0))), int(np.sum(has_ci & (qs.ci_low > 0)))
    n_ci = int(has_ci.sum())
    share, lo, hi = (wrong / n_ci, *_wilson(wrong, n_ci, qs.level)) if n_ci else (np.nan, np.nan, np.nan)
    vals = s[defined]
    agg = across_queries(vals, qs.level) if vals.size else None
    q = np.quantile(vals, [0.0, 0.25, 0.5, 0.75, 1.0]) if vals.size else np.full(5, np.nan)
    both = defined & np.isfinite(drive)
    rho = p = np.nan
    note = None
    if both.sum() < 3:
        note = f"fewer than 3 prompts with both a slope and a drive ({int(both.sum())})"
    elif np.ptp(s[both]) == 0 or np.ptp(drive[both]) == 0:
        note = "the slopes or the drive are constant over the prompts: no ranking to correlate"
    else:
        res = stats.spearmanr(s[both], drive[both])
        rho, p = float(res.statistic), float(res.pvalue)
    return SlopeSummary(
        label=label,
        slope=s,
        se=qs.se,
        ci_low=qs.ci_low,
        ci_high=qs.ci_high,
        n_points=qs.n_points,
        n_queries=int(s.size),
        n_defined=int(defined.sum()),
        n_with_interval=n_ci,
        mean=np.nan if agg is None else float(agg.mean),
        mean_se=np.nan if agg is None else float(agg.se),
        mean_ci_low=np.nan if agg is None else float(agg.ci_low),
        mean_ci_high=np.nan if agg is None else float(agg.ci_high),
        min=float(q[0]),
        q25=float(q[1]),
        median=float(q[2]),
        q75=float(q[3]),
        max=float(q[4]),
        n_wrong_way=wrong,
        n_right_way=right,
        wrong_way_share=float(share),
        wrong_way_low=float(lo),
        wrong_way_high=float(hi),
        spearman_rho=rho,
        spearman_p=p,
        spearman_n=int(both.sum()),
        spearman_note=note,
        level=qs.level,
    )


def _grid(lam: object) -> np.ndarray:
    lm = as_real("lam", lam)
    if lm.ndim != 1 or lm.size < 2:
        raise ParameterError(f"lam must be a 1-D grid of at least 2 steering coefficients, got shape {lm.shape}")
    if np.unique(lm).size != lm.size:
        raise ParameterError("lam must not repeat a coefficient")
    return lm


def _window(window: object) -> tuple[float, float]:
    w = as_real("window", window)
    if w.shape != (2,) or not w[0] <= w[1]:
        raise ParameterError(f"window must be (low, high) with low <= high, got {window!r}")
    return float(w[0]), float(w[1])


def _with_gaps(name: str, x: object, G: int) -> np.ndarray:
    """A float ``(n_queries, G)`` array whose non-finite cells mean "undefined" (read as NaN)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real array of shape (n_queries, {G}), got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != G or arr.shape[0] == 0:
        raise ParameterError(f"{name} must have shape (n_queries, len(lam) = {G}), got {arr.shape}")
    arr = arr.astype(float)
    return np.where(np.isfinite(arr), arr, np.nan)
