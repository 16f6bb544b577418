r"""Assumption 3 (eq. 9) on the projections of the top-:math:`k` tokens of queries unrelated to the behavior: σ
(the within-query spread, docs/specification.md §6.1), normality tests on Helmert contrasts, the i.i.d. diagnostics
that decide the verdict (i.i.d. with finite variance, not normality), β and γ. Method:
``docs/api/validation-measure.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bounds._check import as_real, check_integer

from ._common import (
    AcrossQueries,
    Result,
    Verdict,
    across_queries,
    check_indices,
    check_level,
    check_matrix,
    check_unit_interval,
)

__all__ = ["Assumption3Result", "anderson_darling_normal", "assumption_3", "helmert_contrasts", "sigma_within"]


def helmert_contrasts(z: object) -> np.ndarray:
    r"""The :math:`k-1` Helmert contrasts of each row of ``z`` (shape ``(..., k)`` → ``(..., k-1)``).

    :math:`c_j=(\sum_{i\le j}z_i-jz_{j+1})/\sqrt{j(j+1)}`, :math:`j=1..k-1`: an orthonormal basis of the
    complement of the constant vector, so :math:`\sum_jc_j^2=\sum_i(z_i-\bar z)^2` and i.i.d.
    :math:`N(\mu,\sigma^2)` rows give i.i.d. :math:`N(0,\sigma^2)` contrasts.

    Raises:
        ValueError: fewer than 2 values per row, non-finite values.
    """
    za = as_real("z", z)
    if za.ndim == 0 or za.shape[-1] < 2:
        raise ValueError(f"z must have a last axis of at least 2 values, got shape {za.shape}")
    j = np.arange(1, za.shape[-1], dtype=float)
    return (np.cumsum(za, axis=-1)[..., :-1] - j * za[..., 1:]) / np.sqrt(j * (j + 1.0))


def sigma_within(z_top: object) -> float | np.ndarray:
    r"""docs/specification.md §6.1's :math:`\sigma`: the within-query spread pooled over queries.

    :math:`\hat\sigma^2=\sum_q\sum_s(z_{qs}-\bar z_q)^2/(n_q(k-1))`.

    Args:
        z_top: shape ``(n_queries, k)``, or ``(n_queries, G, k)`` for one value per λ; ``k >= 2``.

    Returns:
        A float, or an array of shape ``(G,)``.

    Raises:
        ValueError: wrong shape, ``k < 2``, non-finite values.
    """
    za = as_real("z_top", z_top)
    if za.ndim not in (2, 3) or 0 in za.shape or za.shape[-1] < 2:
        raise ValueError(f"z_top must have shape (n_queries, k) or (n_queries, G, k) with k >= 2, got {za.shape}")
    ss = np.sum((za - za.mean(axis=-1, keepdims=True)) ** 2, axis=-1).sum(axis=0)
    out = np.sqrt(ss / (za.shape[0] * (za.shape[-1] - 1)))
    return float(out) if np.ndim(out) == 0 else out


def anderson_darling_normal(x: object) -> tuple[float, float]:
    r"""Anderson--Darling test of normality with estimated mean and standard deviation (``ddof=1``).

    :math:`A^2=-n-\frac1n\sum_{i=1}^n(2i-1)\big[\ln\Phi(y_{(i)})+\ln(1-\Phi(y_{(n+1-i)}))\big]`, p-value from
    D'Agostino & Stephens (1986, Table 4.9) on :math:`A^{*2}=A^2(1+0.75/n+2.25/n^2)`.

    Returns:
        ``(A2, pvalue)``.

    Raises:
        ValueError: fewer than 8 values, a constant sample, non-finite values.
    """
    from scipy import stats

    xa = as_real("x", x).ravel()
    n = xa.size
    if n < 8:
        raise ValueError(f"x must hold at least 8 values for the Anderson-Darling test, got {n}")
    sd = xa.std(ddof=1)
    if sd == 0:
        raise ValueError("x must not be constant (zero spread)")
    y = np.sort((xa - xa.mean()) / sd)
    i = np.arange(1, n + 1)
    a2 = float(-n - np.sum((2 * i - 1) * (stats.norm.logcdf(y) + stats.norm.logsf(y[::-1]))) / n)
    a = a2 * (1.0 + 0.75 / n + 2.25 / n**2)
    if a >= 0.6:
        p = np.exp(1.2937 - 5.709 * a + 0.0186 * a**2)
    elif a >= 0.34:
        p = np.exp(0.9177 - 4.279 * a - 1.38 * a**2)
    elif a >= 0.2:
        p = 1.0 - np.exp(-8.318 + 42.796 * a - 59.938 * a**2)
    else:
        p = 1.0 - np.exp(-13.436 + 101.14 * a - 223.73 * a**2)
    return a2, float(min(max(p, 0.0), 1.0))


@dataclass(frozen=True)
class Assumption3Result(Result):
    r"""Result of :func:`assumption_3`.

    Attributes:
        n_queries, k: sample sizes.
        sigma: :math:`\hat\sigma`, the within-query spread (docs/specification.md §6.1's σ).
        sigma_pooled_differences: spread (``ddof=1``) of :math:`z_b-z_{a^*}` pooled across queries,
            :math:`\approx\sqrt2\sigma` under the assumption (``nan`` without answer positions).
        ratio_pooled_to_within: ``sigma_pooled_differences / sigma`` (:math:`\sqrt2\approx1.414` expected).
        sigma_per_query: per-query spreads (``ddof=1``), shape ``(n_queries,)``.
        sigma_cv: their coefficient of variation.
        differences: :math:`z_b-z_{a^*}` per included query, shape ``(n_with_answer, k-1)`` (row order kept).
        top_k_mass: per-query :math:`P(T_k\mid q)` (``None`` without probabilities); ``epsilon`` = 1 - its mean.
        tests: ``{name: {"statistic": s, "pvalue": p, "n": n}}`` for ``shapiro``, ``dagostino``,
            ``anderson``, ``rank_correlation``, ``answer_rank_uniform``, ``equal_variance`` (``nan`` when not
            computable).
        skewness, excess_kurtosis: of the standardised contrasts.
        normal: no normality test rejected at ``level`` / 3.
        qq_theoretical, qq_sample: QQ-plot data (standard normal quantiles vs quantiles of the contrasts / σ̂).
        answer_top_fraction, answer_bottom_fraction: fraction of queries with :math:`a^*` highest / lowest in
            :math:`z` (:math:`B^+=\varnothing` / :math:`B^-=\varnothing` for λ > 0); compare with ``1/k``.
        answer_in_top_k_fraction: fraction of queries whose answer position is given (not ``-1``).
        p0, beta, gamma: per-query :math:`p_0,\beta,\gamma` (``nan`` where undefined), ``None`` without
            probabilities and answers; ``beta_summary``, ``gamma_summary`` across queries.
        both_nonempty_fraction: fraction with both :math:`B^\pm` non-empty (claimed :math:`1-2/k`).
        on_event_fraction: fraction on the event :math:`E_q` of docs/specification.md §12.2(b) (½ for symmetric noise).
        level: significance level; verdict: :class:`Verdict`.
    """

    ASSUMPTION = "assumption-3"

    n_queries: int
    k: int
    sigma: float
    sigma_pooled_differences: float
    ratio_pooled_to_within: float
    sigma_per_query: np.ndarray
    sigma_cv: float
    differences: np.ndarray
    top_k_mass: np.ndarray | None
    epsilon: float
    tests: dict[str, dict[str, float]]
    skewness: float
    excess_kurtosis: float
    normal: bool
    qq_theoretical: np.ndarray
    qq_sample: np.ndarray
    answer_top_fraction: float
    answer_bottom_fraction: float
    answer_in_top_k_fraction: float
    p0: np.ndarray | None
    beta: np.ndarray | None
    gamma: np.ndarray | None
    beta_summary: AcrossQueries | None
    gamma_summary: AcrossQueries | None
    both_nonempty_fraction: float
    on_event_fraction: float
    level: float
    verdict: Verdict


def _test(stat: float, p: float, n: int) -> dict[str, float]:
    return {"statistic": float(stat), "pvalue": float(p), "n": int(n)}


_NAN_TEST = {"statistic": float("nan"), "pvalue": float("nan"), "n": 0}


def _rank_trend(z: np.ndarray, rank: np.ndarray) -> tuple[float, float]:
    r"""Mean within-query Spearman correlation between :math:`z` and the probability rank, and its two-sided p.

    Under exchangeability the within-query ranks of :math:`z` are a uniform random permutation, so each query's
    Spearman :math:`\rho_q` has mean 0 and variance :math:`1/(k-1)` whatever the law of :math:`z`; the queries are
    independent, so :math:`\bar\rho\sqrt{n_q(k-1)}` is standard normal for many queries (a two-sided version of
    Page's trend test). Pooling residuals of all queries into one Spearman test instead is anti-conservative:
    residuals of one query are negatively correlated.
    """
    from scipy import stats

    nq, k = z.shape
    rz = stats.rankdata(z, axis=1)
    rz = rz - rz.mean(axis=1, keepdims=True)
    rr = rank - rank.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.sum(rz * rr, axis=1) / np.sqrt(np.sum(rz**2, axis=1) * np.sum(rr**2, axis=1))
    rho = np.where(np.isfinite(rho), rho, 0.0)  # a query with all z tied carries no rank information
    stat = float(rho.mean())
    zval = stat * np.sqrt(nq * (k - 1))
    return stat, float(2.0 * stats.norm.sf(abs(zval)))


def _beta_gamma(z: np.ndarray, p: np.ndarray, ans: np.ndarray, sigma: float) -> tuple[np.ndarray, ...]:
    from bounds.helpfulness import helpfulness_quantities

    nq, k = z.shape
    p0 = np.full(nq, np.nan)
    beta, gamma = np.full(nq, np.nan), np.full(nq, np.nan)
    both = np.zeros(nq, dtype=bool)
    event = np.zeros(nq, dtype=bool)
    ok = ans >= 0
    if ok.any():
        p0[ok] = p[ok, ans[ok]]
    rest = np.clip(1.0 - p.sum(axis=1), 0.0, None)
    use = ok & (p0 < 1.0)  # gamma is undefined at p0 = 1 (nan compares False)
    if use.any():
        pe = np.concatenate([p[use], rest[use, None]], axis=1)
        pe /= pe.sum(axis=1, keepdims=True)  # absorbs rounding only (entries were checked to sum <= 1)
        ze = np.concatenate([z[use], np.zeros((int(use.sum()), 1))], axis=1)
        mask = np.concatenate([np.ones((int(use.sum()), k), bool), np.zeros((int(use.sum()), 1), bool)], axis=1)
        hq = helpfulness_quantities(pe, ze, ans[use], mask, lam_norm=1.0, sigma=sigma)
        beta[use], gamma[use] = hq.beta, hq.gamma
        both[use], event[use] = hq.both_nonempty, hq.on_event
    return p0, beta, gamma, both, event, use


def assumption_3(
    z_top: object,
    probs_top: object = None,
    answer_index: object = None,
    *,
    level: float = 0.01,
    max_shapiro: int = 5000,
    n_qq: int = 200,
    seed: int = 0,
) -> Assumption3Result:
    r"""Measure Assumption 3 on the top-:math:`k` projections of unrelated queries (method: see the API page).

    Args:
        z_top: projections of each query's top-:math:`k` tokens, shape ``(n_queries, k)``, ``n_queries >= 2``,
            ``k >= 2``, columns in decreasing order of unsteered probability (used for the rank diagnostic when
            ``probs_top`` is not given).
        probs_top: optional unsteered probabilities of those tokens, same shape, entries in ``[0, 1]``, row sums
            ``<= 1``.
        answer_index: optional integer array ``(n_queries,)``: position of :math:`a^*` in the row, ``-1`` when the
            correct answer is not among the top :math:`k` (such queries are left out of the :math:`a^*`-based
            quantities).
        level: significance level of the tests, in ``(0, 1)``.
        max_shapiro: largest sample for Shapiro--Wilk (a seeded subsample above it), integer in ``[3, 5000]``.
        n_qq: number of QQ points, integer ``>= 2``.
        seed: seed of the subsample, integer ``>= 0``.

    Returns:
        :class:`Assumption3Result`.

    Raises:
        ValueError: shapes or values out of range (the message names the parameter).
        TypeError: non-integer ``answer_index``.
    """
    from scipy import stats

    z = check_matrix("z_top", z_top, what="(n_queries, k)")
    nq, k = z.shape
    if nq < 2 or k < 2:
        raise ValueError(f"z_top must hold at least 2 queries and k >= 2 tokens each, got shape {z.shape}")
    p = None
    if probs_top is not None:
        p = check_matrix("probs_top", probs_top, what="(n_queries, k)")
        if p.shape != z.shape:
            raise ValueError(f"probs_top must have the shape of z_top {z.shape}, got {p.shape}")
        p = check_unit_interval("probs_top", p)
        if (p.sum(axis=1) > 1.0 + 1e-6).any():
            raise ValueError(f"probs_top rows must sum to <= 1 (distinct tokens), got {float(p.sum(1).max())!r}")
    ans = (
        None
        if answer_index is None
        else check_indices("answer_index", answer_index, nq, -1, k - 1, "the position of a* in the top k, -1 if absent")
    )
    lv = check_level("level", level)
    ms = check_integer("max_shapiro", max_shapiro, 3)
    if ms > 5000:
        raise ValueError(f"max_shapiro must be an integer in [3, 5000], got {ms}")
    nqq = check_integer("n_qq", n_qq, 2)
    rng = np.random.default_rng(check_integer("seed", seed, 0))

    sigma = sigma_within(z)
    if sigma == 0:
        raise ValueError("z_top has zero within-query spread in every query: sigma = 0, not a continuous law")
    sd_q = z.std(axis=1, ddof=1)
    sigma_cv = float(sd_q.std(ddof=1) / sd_q.mean()) if sd_q.mean() > 0 else float("nan")

    # differences z_b - z_a*
    if ans is not None and (ans >= 0).any():
        inc = np.flatnonzero(ans >= 0)
        keep = np.ones((inc.size, k), dtype=bool)
        keep[np.arange(inc.size), ans[inc]] = False
        diffs = (z[inc] - z[inc, ans[inc]][:, None])[keep].reshape(inc.size, k - 1)
        s_pool = float(diffs.std(ddof=1)) if diffs.size > 1 else float("nan")
    else:
        inc = np.empty(0, dtype=np.intp)
        diffs = np.empty((0, k - 1))
        s_pool = float("nan")

    # normality of the Helmert contrasts
    c = helmert_contrasts(z).ravel() / sigma
    n_c = c.size
    tests: dict[str, dict[str, float]] = {}
    sub = c if n_c <= ms else rng.choice(c, size=ms, replace=False)
    tests["shapiro"] = _test(*stats.shapiro(sub), sub.size) if sub.size >= 3 else dict(_NAN_TEST)
    tests["dagostino"] = _test(*stats.normaltest(c), n_c) if n_c >= 20 else dict(_NAN_TEST)
    tests["anderson"] = _test(*anderson_darling_normal(c), n_c) if n_c >= 8 else dict(_NAN_TEST)
    skew = float(stats.skew(c))
    kurt = float(stats.kurtosis(c))
    p_norm = [tests[t]["pvalue"] for t in ("shapiro", "dagostino", "anderson") if np.isfinite(tests[t]["pvalue"])]
    normal = bool(p_norm) and min(p_norm) >= lv / 3
    m = min(nqq, n_c)
    levels = (np.arange(1, m + 1) - 0.5) / m
    qq_t = stats.norm.ppf(levels)
    qq_s = np.quantile(c, levels)

    # i.i.d. diagnostics
    if p is not None:
        rank = np.argsort(np.argsort(-p, axis=1, kind="stable"), axis=1, kind="stable")
    else:
        rank = np.broadcast_to(np.arange(k), z.shape)
    rho_mean, p_rank = _rank_trend(z, rank)
    tests["rank_correlation"] = _test(rho_mean, p_rank, nq)
    n_inc = inc.size
    if n_inc:
        za = z[inc, ans[inc]]
        pos = (z[inc] > za[:, None]).sum(axis=1)  # 0 = a* on top
        top_frac = float(np.mean(pos == 0))
        bottom_frac = float(np.mean((z[inc] < za[:, None]).sum(axis=1) == 0))
        if n_inc / k >= 5:
            counts = np.bincount(pos, minlength=k)
            tests["answer_rank_uniform"] = _test(*stats.chisquare(counts), n_inc)
        else:
            tests["answer_rank_uniform"] = dict(_NAN_TEST)
    else:
        top_frac = bottom_frac = float("nan")
        tests["answer_rank_uniform"] = dict(_NAN_TEST)
    with np.errstate(all="ignore"):
        lev = stats.levene(*z, center="median")
    tests["equal_variance"] = _test(lev.statistic, lev.pvalue, nq)

    # beta, gamma
    p0 = beta = gamma = None
    beta_s = gamma_s = None
    both_frac = event_frac = float("nan")
    if p is not None and ans is not None:
        p0, beta, gamma, both, event, use = _beta_gamma(z, p, ans, sigma)
        if use.any():
            beta_s, gamma_s = across_queries(beta), across_queries(gamma)
            both_frac, event_frac = float(both[use].mean()), float(event[use].mean())

    # verdict
    iid = {"rank_correlation": tests["rank_correlation"]["pvalue"]}
    if np.isfinite(tests["answer_rank_uniform"]["pvalue"]):
        iid["answer_rank_uniform"] = tests["answer_rank_uniform"]["pvalue"]
    each = lv / len(iid)
    rejected = [f"{name} (p = {pv:.3g} < {each:.3g})" for name, pv in iid.items() if not pv >= each]
    min_p = float(min(iid.values()))
    rule = (
        f"Assumption 3 needs i.i.d. projections with finite variance, not normality: pass iff no i.i.d. diagnostic "
        f"(mean within-query Spearman correlation of z with the probability rank; uniformity of the rank of "
        f"z_a* among the k values, when answer positions are given and every expected count >= 5) is rejected at "
        f"level {lv:g} with Bonferroni correction ({each:.3g} per test); normality and equal variance across "
        f"queries are reported but do not decide"
    )
    ev = [
        f"sigma (within-query) = {sigma:.4g} over {nq} queries x k = {k}",
        f"pooled differences spread = {s_pool:.4g} (ratio {s_pool / sigma:.3f}, sqrt 2 = 1.414 expected)",
        f"mean within-query rank correlation rho_s = {tests['rank_correlation']['statistic']:.3f} "
        f"(p = {tests['rank_correlation']['pvalue']:.3g})",
    ]
    if n_inc:
        ev.append(
            f"a* highest in {top_frac:.3f}, lowest in {bottom_frac:.3f} of {n_inc} queries (1/k = {1 / k:.3f}; "
            f"uniformity p = {tests['answer_rank_uniform']['pvalue']:.3g})"
        )
    ev.append(
        f"normality: Shapiro p = {tests['shapiro']['pvalue']:.3g}, K2 p = {tests['dagostino']['pvalue']:.3g}, "
        f"AD p = {tests['anderson']['pvalue']:.3g} -> {'normal' if normal else 'not normal'} (excess kurtosis "
        f"{kurt:.3g}, skewness {skew:.3g})"
    )
    if rejected:
        ev.append("rejected: " + ", ".join(rejected))
    verdict = Verdict("assumption-3", "min_p_iid", min_p, each, not rejected, rule, "; ".join(ev))

    mass = None if p is None else p.sum(axis=1)
    return Assumption3Result(
        n_queries=nq,
        k=k,
        sigma=sigma,
        sigma_pooled_differences=s_pool,
        ratio_pooled_to_within=s_pool / sigma,
        sigma_per_query=sd_q,
        sigma_cv=sigma_cv,
        differences=diffs,
        top_k_mass=mass,
        epsilon=float("nan") if mass is None else float(1.0 - mass.mean()),
        tests=tests,
        skewness=skew,
        excess_kurtosis=kurt,
        normal=normal,
        qq_theoretical=qq_t,
        qq_sample=qq_s,
        answer_top_fraction=top_frac,
        answer_bottom_fraction=bottom_frac,
        answer_in_top_k_fraction=float("nan") if ans is None else float(np.mean(ans >= 0)),
        p0=p0,
        beta=beta,
        gamma=gamma,
        beta_summary=beta_s,
        gamma_summary=gamma_s,
        both_nonempty_fraction=both_frac,
        on_event_fraction=event_frac,
        level=lv,
        verdict=verdict,
    )
