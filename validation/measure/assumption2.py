r"""Assumption 2 (hard margin, eq. 8) and Assumption 4 (soft margin, eqs. 46--50) on the projections
:math:`z_s=\langle u_s,\hat\delta\rangle` of the answer tokens (:func:`projections`). For :math:`\lambda<0` the set
steered towards is :math:`A^-`, so every margin is oriented by the sign of λ. Definitions and the verdicts'
thresholds: ``docs/api/validation-measure.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bounds._check import as_real

from ._common import AcrossQueries, Result, Verdict, across_queries, check_level, check_scalar, check_unit_interval

__all__ = ["Assumption2Result", "assumption_2", "projections"]


def projections(U_rows: object, delta: object, *, normalize: bool = True) -> np.ndarray:
    r"""Projections :math:`z_s=\langle u_s,\hat\delta\rangle` of unembedding rows on the steering direction.

    Args:
        U_rows: the rows :math:`u_s` of the unembedding matrix for the tokens of interest, shape
            ``(n_tokens, d)`` (a bias of the output layer, if any, is not part of :math:`u_s`).
        delta: the change :math:`\delta` of the final hidden state, shape ``(..., d)`` (e.g. ``(n_queries, G, d)``).
        normalize: divide by :math:`\|\delta\|` (the specification's :math:`z_s`); ``False`` gives
            :math:`\langle u_s,\delta\rangle`, the logit change of token :math:`s`.

    Returns:
        Array of shape ``(..., n_tokens)``.

    Raises:
        ValueError: shapes do not match, non-finite values, or (with ``normalize``) a :math:`\delta` of norm 0,
            where :math:`\hat\delta` is undefined (leave :math:`\lambda=0` out).
    """
    U = as_real("U_rows", U_rows)
    d = as_real("delta", delta)
    if U.ndim != 2 or 0 in U.shape:
        raise ValueError(f"U_rows must be a non-empty 2-D array of shape (n_tokens, d), got shape {U.shape}")
    if d.ndim == 0 or d.shape[-1] != U.shape[1]:
        raise ValueError(f"delta must have a last axis of length d = {U.shape[1]} like U_rows, got shape {d.shape}")
    z = d @ U.T
    if not normalize:
        return z
    norm = np.linalg.norm(d, axis=-1)
    if (norm == 0).any():
        where = np.argwhere(np.atleast_1d(norm == 0))[0].tolist()
        raise ValueError(
            f"delta has norm 0 at index {where}: the direction delta/||delta|| is undefined (drop lambda = 0)"
        )
    return z / norm[..., None]


@dataclass(frozen=True)
class Assumption2Result(Result):
    r"""Result of :func:`assumption_2`. Per-cell arrays have shape ``(n_queries, G)``; summaries shape ``(G,)``.

    Attributes:
        lam: the grid (``None`` if not given: all cells treated as :math:`\lambda>0`).
        margin: hard margin :math:`\Delta` per cell (oriented by the sign of λ).
        mean_gap: mean gap per cell (authors' statistic, not a margin).
        n_misclassified: :math:`|M|` per cell.
        rho: :math:`P(M\mid q)` per cell (``None`` without probabilities).
        depth: :math:`\Delta_M` per cell (``nan`` where :math:`M=\varnothing`).
        soft_margin: :math:`\Delta_\rho` at ``rho_max`` per cell (``None`` without probabilities; ``inf`` when the
            whole of :math:`F` fits in the budget).
        P_plus, P_minus: :math:`P(A^\pm\mid q)` per cell (``None`` without the respective probabilities).
        margin_summary, mean_gap_summary, rho_summary, soft_margin_summary: across-query means per λ.
        margin_min: the smallest margin over queries per λ.
        fraction_positive_margin: fraction of queries with :math:`\Delta>0` per λ.
        fraction_mean_gap_only: fraction of queries whose mean gap is :math:`>0` while :math:`\Delta\le0` (the
            cells on which the authors' check passes and the assumption fails), per λ.
        delta_per_query: :math:`\Delta_q=\min_\lambda\Delta(q,\lambda)`, the margin valid over the whole grid.
        delta: ``delta_per_query`` across queries.
        delta_target, rho_max, min_fraction, level: the settings.
        verdict: Assumption 2 (hard margin).
        verdict_soft: Assumption 4 (soft margin).
    """

    ASSUMPTION = "assumption-2"

    lam: np.ndarray | None
    margin: np.ndarray
    mean_gap: np.ndarray
    n_misclassified: np.ndarray
    rho: np.ndarray | None
    depth: np.ndarray
    soft_margin: np.ndarray | None
    P_plus: np.ndarray | None
    P_minus: np.ndarray | None
    margin_summary: AcrossQueries
    mean_gap_summary: AcrossQueries
    rho_summary: AcrossQueries | None
    soft_margin_summary: AcrossQueries | None
    margin_min: np.ndarray
    fraction_positive_margin: np.ndarray
    fraction_mean_gap_only: np.ndarray
    delta_per_query: np.ndarray
    delta: AcrossQueries
    delta_target: float
    rho_max: float
    min_fraction: float
    level: float
    verdict: Verdict
    verdict_soft: Verdict


def _tokens(name: str, x: object) -> np.ndarray:
    arr = as_real(name, x)
    if arr.ndim == 2:
        arr = arr[:, None, :]
    if arr.ndim != 3 or 0 in arr.shape:
        raise ValueError(
            f"{name} must have shape (n_queries, G, n_tokens) or (n_queries, n_tokens) with no empty axis, "
            f"got shape {np.shape(x)}"
        )
    return arr


def _probs(name: str, x: object, shape: tuple[int, int, int]) -> np.ndarray:
    arr = as_real(name, x)
    if arr.ndim == 2:
        arr = arr[:, None, :]
    if arr.ndim != 3 or arr.shape[0] != shape[0] or arr.shape[2] != shape[2] or arr.shape[1] not in (1, shape[1]):
        raise ValueError(
            f"{name} must have shape (n_queries, n_tokens) = {(shape[0], shape[2])} (unsteered) or "
            f"(n_queries, G, n_tokens) = {shape}, got shape {np.shape(x)}"
        )
    arr = check_unit_interval(name, arr)
    total = arr.sum(axis=-1)
    if (total > 1.0 + 1e-6).any():
        raise ValueError(f"{name} must be probabilities of distinct tokens (sum <= 1), got a sum {float(total.max())}")
    return np.broadcast_to(arr, shape)


def _soft_margin(z_t_min: np.ndarray, zF: np.ndarray, pF: np.ndarray, rho_max: float) -> np.ndarray:
    """``min_T z - max`` of the tokens of ``F`` left after dropping the top ones within the mass budget."""
    order = np.argsort(-zF, axis=-1, kind="stable")
    z_sorted = np.take_along_axis(zF, order, axis=-1)
    cum = np.cumsum(np.take_along_axis(pF, order, axis=-1), axis=-1)
    dropped = cum <= rho_max + 1e-12  # a prefix: cum is non-decreasing
    n_drop = dropped.sum(axis=-1)
    all_gone = n_drop == zF.shape[-1]
    idx = np.minimum(n_drop, zF.shape[-1] - 1)[..., None]
    top_left = np.take_along_axis(z_sorted, idx, axis=-1)[..., 0]
    return np.where(all_gone, np.inf, z_t_min - top_left)


def assumption_2(
    z_aligned: object,
    z_misaligned: object,
    p_aligned: object = None,
    p_misaligned: object = None,
    *,
    lam: object = None,
    delta_target: float = 0.0,
    rho_max: float = 0.05,
    min_fraction: float = 0.9,
    level: float = 0.95,
) -> Assumption2Result:
    r"""Measure the hard margin (Assumption 2) and the soft margin (Assumption 4) per query and λ.

    Args:
        z_aligned: projections of the aligned tokens :math:`A^+`, shape ``(n_queries, G, n_pos)`` (or
            ``(n_queries, n_pos)`` for one direction per query).
        z_misaligned: projections of :math:`A^-`, shape ``(n_queries, G, n_neg)`` with the same ``n_queries, G``.
        p_aligned: optional unsteered probabilities of the :math:`A^+` tokens, shape ``(n_queries, n_pos)`` or
            ``(n_queries, G, n_pos)``, entries in ``[0, 1]``, row sums ``<= 1``.
        p_misaligned: the same for :math:`A^-` (needed for :math:`\rho` and the soft margin at a budget).
        lam: optional grid of length ``G`` without 0; its signs orient the margins.
        delta_target: :math:`\Delta_t` defining :math:`M`, finite, ``>= 0``.
        rho_max: mass budget of the soft-margin verdict and of :math:`\Delta_\rho`, in ``[0, 1]``.
        min_fraction: fraction of queries that must satisfy an assumption for it to pass, in ``(0, 1]``.
        level: confidence level of the across-query intervals, in ``(0, 1)``.

    Returns:
        :class:`Assumption2Result`.

    Raises:
        ValueError: shape mismatch (naming the parameter), ``lam`` containing 0, probabilities out of range,
            settings out of range.
    """
    zp, zm = _tokens("z_aligned", z_aligned), _tokens("z_misaligned", z_misaligned)
    if zp.shape[:2] != zm.shape[:2]:
        raise ValueError(f"z_misaligned must share (n_queries, G) = {zp.shape[:2]} with z_aligned, got {zm.shape[:2]}")
    nq, G = zp.shape[:2]
    if lam is None:
        lm = None
        sign = np.ones(G)
    else:
        lm = as_real("lam", lam)
        if lm.ndim != 1 or lm.size != G:
            raise ValueError(f"lam must be a 1-D grid of length G = {G}, got shape {lm.shape}")
        if (lm == 0).any():
            raise ValueError("lam must not contain 0: the direction of delta is undefined without steering")
        sign = np.sign(lm)
    pp = None if p_aligned is None else _probs("p_aligned", p_aligned, zp.shape)
    pm = None if p_misaligned is None else _probs("p_misaligned", p_misaligned, zm.shape)
    dt = check_scalar("delta_target", delta_target, 0.0, np.inf)
    rm = check_scalar("rho_max", rho_max, 0.0, 1.0)
    mf = check_scalar("min_fraction", min_fraction, 0.0, 1.0, lo_open=True)
    lv = check_level("level", level)

    pos = sign > 0  # (G,): T = A+ where True, T = A- where False
    t_min = np.where(pos, zp.min(-1), zm.min(-1))
    f_max = np.where(pos, zm.max(-1), zp.max(-1))
    margin = t_min - f_max
    mean_gap = np.where(pos, zp.mean(-1) - zm.mean(-1), zm.mean(-1) - zp.mean(-1))
    # misclassified set M inside F, computed for both orientations and selected per λ
    in_M_neg = (zp.min(-1)[..., None] - zm) < dt  # F = A- (λ > 0)
    in_M_pos = (zm.min(-1)[..., None] - zp) < dt  # F = A+ (λ < 0)
    n_mis = np.where(pos, in_M_neg.sum(-1), in_M_pos.sum(-1))
    with np.errstate(invalid="ignore"):
        depth_neg = np.where(in_M_neg.any(-1), np.where(in_M_neg, zm, -np.inf).max(-1) - zp.min(-1), np.nan)
        depth_pos = np.where(in_M_pos.any(-1), np.where(in_M_pos, zp, -np.inf).max(-1) - zm.min(-1), np.nan)
    depth = np.where(pos, depth_neg, depth_pos)

    rho = soft = None
    if pm is not None and (pp is not None or pos.all()):
        rho_neg = np.sum(np.where(in_M_neg, pm, 0.0), -1)
        soft_neg = _soft_margin(zp.min(-1), zm, pm, rm)
        if pos.all():
            rho, soft = rho_neg, soft_neg
        else:
            assert pp is not None
            rho = np.where(pos, rho_neg, np.sum(np.where(in_M_pos, pp, 0.0), -1))
            soft = np.where(pos, soft_neg, _soft_margin(zm.min(-1), zp, pp, rm))
    P_plus = None if pp is None else pp.sum(-1)
    P_minus = None if pm is None else pm.sum(-1)

    frac_pos = np.mean(margin > 0, axis=0)
    frac_mean_only = np.mean((mean_gap > 0) & (margin <= 0), axis=0)
    delta_q = margin.min(axis=1)
    sep_q = (margin > 0).all(axis=1)
    frac_sep = float(sep_q.mean())
    delta_sum = across_queries(delta_q, lv)

    rule = (
        f"per query: hard margin Delta = min_T z - max_F z > 0 at every lambda of the grid; pass iff at least "
        f"min_fraction = {mf:g} of the queries satisfy it (the token sets are a template-level proxy for A+-, so a "
        f"few queries should not decide; the exact fraction is reported)"
    )
    evidence = (
        f"{int(sep_q.sum())}/{nq} queries separated at every lambda ({frac_sep:.3f}); Delta_q = min over lambda: "
        f"mean {delta_sum.mean:.4g} ± {delta_sum.se:.2g}, min {float(delta_q.min()):.4g}; mean gap (authors' "
        f"statistic) {float(mean_gap.mean()):.4g}; cells with mean gap > 0 but margin <= 0: "
        f"{float(np.mean((mean_gap > 0) & (margin <= 0))):.3f}"
    )
    verdict = Verdict("assumption-2", "fraction_separated", frac_sep, mf, frac_sep >= mf, rule, evidence)

    rule_soft = (
        f"per query: misclassified mass rho = P(M|q) <= rho_max = {rm:g} at every lambda, with M = tokens of the "
        f"other set within delta_target = {dt:g} of min_T z; pass iff at least min_fraction = {mf:g} of the queries "
        f"satisfy it (rho_max: Theorem 3's correction 2 rho / P+ is then <= 0.1 / P+ at lambda = 0)"
    )
    if rho is None:
        verdict_soft = Verdict(
            "assumption-4", "fraction_rho_ok", float("nan"), rm, None, rule_soft,
            "no probabilities for the misclassified side (p_misaligned, and p_aligned when lambda < 0 is present): "
            "rho cannot be measured",
        )  # fmt: skip
    else:
        ok_q = (rho <= rm + 1e-12).all(axis=1)
        frac_ok = float(ok_q.mean())
        dep = depth[np.isfinite(depth)]
        ev = (
            f"{int(ok_q.sum())}/{nq} queries with rho <= {rm:g} at every lambda; rho mean {float(rho.mean()):.4g}, "
            f"max {float(rho.max()):.4g}; |M| mean {float(n_mis.mean()):.3g}; depth Delta_M "
            + (f"mean {float(dep.mean()):.4g}, max {float(dep.max()):.4g}" if dep.size else "n/a (M empty)")
        )
        verdict_soft = Verdict("assumption-4", "fraction_rho_ok", frac_ok, rm, frac_ok >= mf, rule_soft, ev)

    return Assumption2Result(
        lam=lm,
        margin=margin,
        mean_gap=mean_gap,
        n_misclassified=n_mis,
        rho=rho,
        depth=depth,
        soft_margin=soft,
        P_plus=P_plus,
        P_minus=P_minus,
        margin_summary=across_queries(margin, lv),
        mean_gap_summary=across_queries(mean_gap, lv),
        rho_summary=None if rho is None else across_queries(rho, lv),
        soft_margin_summary=None if soft is None else across_queries(np.where(np.isfinite(soft), soft, np.nan), lv),
        margin_min=margin.min(axis=0),
        fraction_positive_margin=frac_pos,
        fraction_mean_gap_only=frac_mean_only,
        delta_per_query=delta_q,
        delta=delta_sum,
        delta_target=dt,
        rho_max=rm,
        min_fraction=mf,
        level=lv,
        verdict=verdict,
        verdict_soft=verdict_soft,
    )
