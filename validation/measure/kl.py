r"""The KL price of steering on a real model: the measured :math:`\mathrm{KL}(P_\lambda\Vert P_0)` per λ against the
second-order law and the rigorous bound of :mod:`bounds.kl`, where the two part, and the λ that spends a KL budget
τ. Method: ``docs/api/validation-measure.md``, "KL divergence".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bounds._check import as_real
from bounds.errors import ParameterError
from bounds.kl import kl_second_order, kl_upper, lambda_for_kl

from ._common import AcrossQueries, Result, across_queries, check_level, first_crossing

__all__ = ["KLBudget", "KLPrediction", "interpolate_at", "kl_budget", "kl_prediction", "lambda_at_level"]

#: the measured mean KL has left the second-order law when it is more than this factor above or below it
DEFAULT_FACTOR = 2.0


@dataclass(frozen=True)
class KLPrediction(Result):
    r"""Measured and predicted KL per λ (:func:`kl_prediction`).

    Attributes:
        measured: the measured KL across queries per λ (mean, SE, t interval).
        predicted_norm: mean over queries of :math:`\tfrac12\|\delta_q(\lambda)\|^2\operatorname{Var}_q`
            (:func:`bounds.kl.kl_second_order` with the measured norm).
        predicted_alpha: the same with :math:`\alpha|\lambda|` (Assumption 1) for the norm.
        bound: mean over queries of :math:`\|\delta_q(\lambda)\|^2R_q^2/8` (:func:`bounds.kl.kl_upper`).
        above_bound_fraction: per λ, the share of queries whose measured KL exceeds their own bound.
        factor: the agreement factor of ``first_off_*``.
        first_off_positive, first_off_negative: on each side of 0, the first λ (outwards from 0) where the measured
            mean leaves ``[predicted / factor, predicted * factor]`` (``None``: it never does).
        first_above_bound_positive, first_above_bound_negative: on each side, the first λ where the measured mean
            exceeds the mean bound (``None``: never).
    """

    measured: AcrossQueries
    predicted_norm: np.ndarray
    predicted_alpha: np.ndarray | None
    bound: np.ndarray
    above_bound_fraction: np.ndarray
    factor: float
    first_off_positive: float | None
    first_off_negative: float | None
    first_above_bound_positive: float | None
    first_above_bound_negative: float | None


def _first_outwards(lam: np.ndarray, flag: np.ndarray, side: float) -> float | None:
    """The λ of smallest ``|λ|`` on ``side`` (+1/-1) of 0 where ``flag`` holds."""
    idx = np.flatnonzero((np.sign(lam) == side) & flag)
    return None if idx.size == 0 else float(lam[idx[np.argmin(np.abs(lam[idx]))]])


def kl_prediction(
    lam: object,
    kl: object,
    norms: object,
    var_z: object,
    z_range: object,
    alpha: float | None = None,
    *,
    factor: float = DEFAULT_FACTOR,
    level: float = 0.95,
) -> KLPrediction:
    r"""Compare the measured KL with the second-order law and the rigorous bound, query by query.

    Args:
        lam: the grid, ``(G,)``.
        kl: measured :math:`\mathrm{KL}(P_\lambda\Vert P_0)` per query and λ, ``(n, G)``.
        norms: measured :math:`\|\delta_q(\lambda)\|` (after the final norm), ``(n, G)``.
        var_z: :math:`\operatorname{Var}_{P_0}(z)` per query, ``(n,)`` (NaN: the query is left out of the
            predictions).
        z_range: :math:`z_{\max}-z_{\min}` per query, ``(n,)``.
        alpha: α of Assumption 1 (``None`` or NaN: no α prediction).
        factor: ``> 1``, the agreement band of the measured mean around the predicted mean.
        level: confidence level of the measured mean's interval.

    Returns:
        :class:`KLPrediction`.

    Raises:
        bounds.errors.ParameterError: shapes that disagree, ``factor <= 1``, a bad ``level``.
    """
    lm = as_real("lam", lam)
    k, nm = np.asarray(kl, dtype=float), np.asarray(norms, dtype=float)
    v, rg = np.asarray(var_z, dtype=float), np.asarray(z_range, dtype=float)
    if k.ndim != 2 or k.shape != nm.shape or k.shape[1] != lm.size or not v.shape == rg.shape == (k.shape[0],):
        raise ParameterError(
            f"kl and norms must be (n, G) with G = {lm.size}, var_z and z_range (n,); got {k.shape}, {nm.shape}, "
            f"{v.shape}, {rg.shape}"
        )
    if not factor > 1:
        raise ParameterError(f"factor: expected > 1, got {factor!r}")
    check_level("level", level)
    ok = np.isfinite(v) & np.isfinite(rg)
    pred = np.full(k.shape, np.nan)
    bnd = np.full(k.shape, np.nan)
    pred[ok] = kl_second_order(nm[ok], v[ok, None])
    bnd[ok] = kl_upper(nm[ok], rg[ok, None])
    pred_alpha = None
    if alpha is not None and np.isfinite(alpha) and alpha > 0 and ok.any():
        pred_alpha = np.asarray(kl_second_order(alpha * np.abs(lm)[None, :], v[ok, None])).mean(axis=0)
    measured = across_queries(k, level)
    p_mean, b_mean = pred[ok].mean(axis=0), bnd[ok].mean(axis=0)
    m = np.asarray(measured.mean, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        off = (lm != 0) & ((m > factor * p_mean) | (m < p_mean / factor))
        above = (lm != 0) & (m > b_mean)
        frac = np.mean(k[ok] > bnd[ok] * (1 + 1e-9), axis=0) if ok.any() else np.full(lm.size, np.nan)
    return KLPrediction(
        measured,
        p_mean,
        pred_alpha,
        b_mean,
        frac,
        float(factor),
        _first_outwards(lm, off, 1.0),
        _first_outwards(lm, off, -1.0),
        _first_outwards(lm, above, 1.0),
        _first_outwards(lm, above, -1.0),
    )


def lambda_at_level(lam: object, curve: object, tau: float) -> tuple[float | None, str | None]:
    """The smallest λ > 0 where ``curve`` (a mean KL per grid point, 0 at λ = 0) reaches ``tau``, by linear
    interpolation between the grid points from λ = 0 outwards; ``(None, reason)`` when it never does."""
    lm, c = as_real("lam", lam), np.asarray(curve, dtype=float)
    keep = (lm >= 0) & np.isfinite(c)
    order = np.argsort(lm[keep])
    x, y = lm[keep][order], c[keep][order]
    if x.size == 0 or x[0] != 0:
        return None, "the grid has no lambda = 0 with a finite value"
    at = first_crossing(x, y, tau)
    if at is None:
        return None, f"the measured mean KL stays below {tau:g} nats up to the largest lambda {x[-1]:.4g}"
    return at, None


def interpolate_at(lam: object, curve: object, at: float | None) -> float | None:
    """``curve`` (per grid point) linearly interpolated at ``at``; ``None`` when ``at`` is ``None``, outside the
    grid, or a neighbouring value is not finite."""
    if at is None or not np.isfinite(at):
        return None
    lm, c = as_real("lam", lam), np.asarray(curve, dtype=float)
    order = np.argsort(lm)
    x, y = lm[order], c[order]
    if not x[0] <= at <= x[-1]:
        return None
    j = int(np.searchsorted(x, at))
    lo, hi = max(j - 1, 0), min(j, x.size - 1)
    if x[hi] == at:
        lo = hi
    if not (np.isfinite(y[lo]) and np.isfinite(y[hi])):
        return None
    return float(np.interp(at, x[lo : hi + 1], y[lo : hi + 1]))


@dataclass(frozen=True)
class KLBudget(Result):
    r"""The λ > 0 that spends a KL budget τ (:func:`kl_budget`).

    Attributes:
        tau: the budget, nats.
        measured: where the measured mean KL reaches τ (linear interpolation), ``None`` with ``measured_reason``.
        second_order: :func:`bounds.kl.lambda_for_kl` with ``var_z = mean_q Var_q`` (where the predicted *mean* KL
            :math:`\tfrac12\alpha^2\lambda^2\,\overline{\operatorname{Var}}` equals τ).
        safe_mean: with ``z_range`` the root mean square of :math:`R_q` (the mean bound equals τ: under the exact
            tilted family the mean KL is at most τ there).
        safe_every_query: with ``z_range = max_q R_q`` (every query's bound is at most τ).
        var_z_mean, z_range_rms, z_range_max, alpha: the inputs.
        note: why these summaries, or why a λ is missing.
    """

    tau: float
    measured: float | None
    measured_reason: str | None
    second_order: float | None
    safe_mean: float | None
    safe_every_query: float | None
    var_z_mean: float | None
    z_range_rms: float | None
    z_range_max: float | None
    alpha: float | None
    note: str


def kl_budget(
    lam: object, measured_mean: object, var_z: object, z_range: object, alpha: float | None, tau: float
) -> KLBudget:
    """The measured and predicted λ of a KL budget ``tau`` (:class:`KLBudget`).

    Raises:
        bounds.errors.ParameterError: ``tau <= 0``.
    """
    if not (np.isfinite(tau) and tau > 0):
        raise ParameterError(f"tau: expected a finite KL budget > 0, got {tau!r}")
    lam_m, reason = lambda_at_level(lam, measured_mean, tau)
    v, r = np.asarray(var_z, dtype=float), np.asarray(z_range, dtype=float)
    ok = np.isfinite(v) & np.isfinite(r)
    note = (
        "Predicted with alpha of Assumption 1 (norm = alpha lambda) and the mean over the queries of Var_q, and the "
        "root mean square of R_q: then the predicted (bounded) mean KL over the queries is exactly the law "
        "(bound) with these summaries, the same mean the measured lambda is read on; safe_every_query uses the "
        "largest R_q."
    )
    good_alpha = alpha is not None and np.isfinite(alpha) and alpha > 0
    if not ok.any() or not good_alpha:
        why = "no query has a defined Var_q and R_q" if not ok.any() else "alpha undefined (Assumption 1)"
        return KLBudget(float(tau), lam_m, reason, None, None, None, None, None, None, None, note + " Not: " + why)
    vm, rr, rx = float(v[ok].mean()), float(np.sqrt(np.mean(r[ok] ** 2))), float(r[ok].max())

    def inv(**kw: float) -> float | None:
        out = float(lambda_for_kl(tau, alpha, **kw))
        return out if np.isfinite(out) else None

    return KLBudget(
        float(tau), lam_m, reason, inv(var_z=vm), inv(z_range=rr), inv(z_range=rx), vm, rr, rx, float(alpha), note
    )
