"""Tests of :mod:`validation.measure`: every measurement on synthetic arrays with a planted truth (no model)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from validation.measure import (
    Interval,
    anderson_darling_normal,
    assumption_1,
    assumption_2,
    assumption_3,
    at_chance,
    behavior_generated,
    behavior_single_token,
    choice_likelihood,
    compare_with_bound,
    degenerate_b0_reason,
    detect_linear_range,
    helmert_contrasts,
    helpfulness_curves,
    p0_interval,
    projections,
    sigma_within,
)


def strict_json(result) -> dict:
    """``to_dict()`` must be strict JSON (no NaN/Infinity)."""
    d = result.to_dict()
    json.dumps(d, allow_nan=False)
    return d


def test_import_is_light():
    """The measurements and behaviors never import torch or transformers (checked in a fresh interpreter)."""
    code = (
        "import sys, validation.measure, validation.behaviors; "
        "bad = [m for m in ('torch', 'transformers') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


# ---------------------------------------------------------------------------------------------------------------
# Assumption 1
# ---------------------------------------------------------------------------------------------------------------
LAM = np.round(np.arange(-5.0, 5.0001, 0.25), 10)


def saturating(lam: np.ndarray, knee: float, slope_after: float = 0.3) -> np.ndarray:
    """|λ| up to ``knee``, then growing with ``slope_after`` times the slope."""
    a = np.abs(lam)
    return np.where(a <= knee, a, knee + slope_after * (a - knee))


def planted_norms(rng, n_q=40, knee=2.0, noise=0.01, lam=LAM):
    alpha = rng.uniform(1.5, 2.5, n_q)
    N = alpha[:, None] * saturating(lam, knee)[None, :] * (1 + noise * rng.standard_normal((n_q, lam.size)))
    N[:, lam == 0] = 0.0
    return alpha, N


def test_assumption_1_recovers_alpha_and_brackets_the_linear_range():
    rng = np.random.default_rng(0)
    knee, tol = 2.0, 0.10
    alpha, N = planted_norms(rng, knee=knee)
    r = assumption_1(LAM, N, tolerance=tol)
    fit = r.quantities["delta_final"]
    # a kink to slope 0.3 at L0 stays within tol while 0.7 d / (L0 + d) <~ 2 tol (the fitted line sits between)
    upper = knee + 2 * tol * knee / (0.7 - 2 * tol) + 0.25
    for side in ("positive", "negative", "symmetric"):
        s = fit.sides[side]
        assert s.linear and s.saturates
        assert knee <= s.linear_up_to <= upper, (side, s.linear_up_to)
        assert s.grid_max == 5.0
        assert s.curvature_full.mean < -0.2 and s.curvature_full.ci_high < 0  # saturation is seen as curvature
        np.testing.assert_allclose(s.alpha_per_query, alpha, rtol=0.03)
    assert r.alpha_side == "symmetric"
    assert abs(r.alpha.mean - alpha.mean()) < 0.03 * alpha.mean()
    assert r.alpha.ci_low < r.alpha.mean < r.alpha.ci_high
    assert r.verdict.passed is True
    assert r.verdict.value == pytest.approx(min(fit.sides["positive"].linear_up_to, fit.sides["negative"].linear_up_to))
    assert fit.norm_at_zero == 0.0
    d = strict_json(r)
    assert d["verdict"]["passed"] is True and d["quantities"]["delta_final"]["sides"]["positive"]["linear"] is True


@pytest.mark.parametrize("knee", [1.0, 3.0])
def test_linear_range_moves_with_the_knee(knee):
    curve = 1.7 * saturating(LAM, knee)
    L = detect_linear_range(LAM, curve, side="positive")
    assert knee <= L <= knee + 2 * 0.1 * knee / 0.5 + 0.25


def test_exactly_linear_curve_is_linear_over_the_whole_grid():
    N = np.outer([1.0, 2.0, 3.0], np.abs(LAM))
    r = assumption_1(LAM, N, logit_norms=40 * N, residual_norms=0.5 * N)
    for label, scale in (("delta_final", 1.0), ("U_delta", 40.0), ("delta_residual", 0.5)):
        s = r.quantities[label].sides["symmetric"]
        assert s.linear and not s.saturates and s.linear_up_to == 5.0
        assert s.r2 == pytest.approx(1.0)
        assert s.alpha_curve == pytest.approx(2.0 * scale)
        assert s.max_rel_dev == pytest.approx(0.0, abs=1e-12)
        assert abs(s.curvature.mean) < 1e-9
    assert r.alpha.mean == pytest.approx(2.0) and r.alpha.se == pytest.approx(1.0 / math.sqrt(3))
    assert set(r.to_dict()["quantities"]) == {"delta_final", "U_delta", "delta_residual"}


def test_quadratic_growth_has_no_linear_range_and_fails():
    N = np.outer([1.0, 1.1], LAM**2)
    r = assumption_1(LAM, N)
    assert r.verdict.passed is False
    assert not r.quantities["delta_final"].sides["positive"].linear
    assert r.quantities["delta_final"].sides["positive"].linear_up_to == 0.0
    assert "no linear range" in r.verdict.evidence


def test_asymmetric_slopes_are_linear_per_side_but_not_combined():
    N = np.outer([1.0, 1.2, 0.9], np.where(LAM > 0, 2.0, 1.0) * np.abs(LAM))
    r = assumption_1(LAM, N)
    sides = r.quantities["delta_final"].sides
    assert sides["positive"].linear and sides["negative"].linear and not sides["symmetric"].linear
    assert sides["positive"].alpha_curve == pytest.approx(2.0 * np.mean([1.0, 1.2, 0.9]))
    assert r.alpha_side == "positive"  # the side the theorems are stated for
    assert "asymmetry alpha+/alpha- = 2.000" in r.verdict.evidence
    assert r.verdict.passed is True


def test_nonzero_norm_at_lambda_zero_fails_the_verdict():
    N = np.outer([1.0, 2.0], np.abs(LAM))
    N[:, LAM == 0] = 0.3
    r = assumption_1(LAM, N)
    assert r.verdict.passed is False and "must vanish" in r.verdict.evidence


def test_one_sided_grid_and_too_few_points():
    lam = np.array([0.0, 0.5, 1.0, 2.0])
    r = assumption_1(lam, np.outer([1.0, 1.1], lam))
    assert r.alpha_side == "positive" and not r.quantities["delta_final"].sides["symmetric"].available
    assert r.verdict.passed is True
    r1 = assumption_1(np.array([0.0, 1.0]), np.array([[0.0, 1.0], [0.0, 2.0]]))
    assert r1.verdict.passed is None and r1.alpha is None
    strict_json(r1)


def test_monotone_fraction_and_single_query():
    N = np.outer([1.0, 1.0], np.abs(LAM))
    N[1, LAM == 4.0] = 0.5  # one drop on the positive side of query 1
    r = assumption_1(LAM, N)
    assert r.quantities["delta_final"].monotone_fraction == {"positive": 0.5, "negative": 1.0}
    one = assumption_1(LAM, np.abs(LAM)[None, :] * 3.0)
    assert one.alpha.n == 1 and math.isnan(one.alpha.se) and one.verdict.passed is True


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lam": LAM, "delta_norms": np.abs(LAM)}, "delta_norms must be a 2-D array"),
        ({"lam": LAM, "delta_norms": np.ones((2, 3))}, r"delta_norms must have shape \(n_queries, len\(lam\)"),
        ({"lam": LAM, "delta_norms": -np.ones((2, LAM.size))}, "delta_norms must hold norms >= 0"),
        ({"lam": LAM, "delta_norms": np.ones((2, LAM.size)), "logit_norms": np.ones((2, 3))}, "logit_norms"),
        ({"lam": [0.0, 1.0, 1.0], "delta_norms": np.ones((1, 3))}, "lam must not repeat"),
        ({"lam": LAM, "delta_norms": np.ones((1, LAM.size)), "tolerance": 1.5}, "tolerance"),
        ({"lam": LAM, "delta_norms": np.ones((1, LAM.size)), "min_points": 1}, "min_points"),
        ({"lam": LAM, "delta_norms": np.full((1, LAM.size), np.nan)}, "delta_norms must not be NaN"),
    ],
)
def test_assumption_1_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        assumption_1(**kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Assumption 2
# ---------------------------------------------------------------------------------------------------------------
def test_projections_match_the_definition():
    rng = np.random.default_rng(1)
    U = rng.standard_normal((5, 8))
    delta = rng.standard_normal((3, 2, 8))
    z = projections(U, delta)
    assert z.shape == (3, 2, 5)
    np.testing.assert_allclose(z[1, 0], U @ (delta[1, 0] / np.linalg.norm(delta[1, 0])))
    np.testing.assert_allclose(projections(U, delta, normalize=False), delta @ U.T)
    with pytest.raises(ValueError, match="delta has norm 0"):
        projections(U, np.zeros((2, 8)))
    with pytest.raises(ValueError, match="delta must have a last axis of length d = 8"):
        projections(U, np.ones(7))


def test_margins_on_a_hand_computed_set():
    zp = np.array([[3.0, 2.0, 1.5]])
    zm = np.array([[1.0, 1.8, -1.0]])
    pp = np.array([[0.2, 0.1, 0.05]])
    pm = np.array([[0.1, 0.02, 0.3]])
    r = assumption_2(zp, zm, pp, pm, rho_max=0.05)
    assert r.margin[0, 0] == pytest.approx(1.5 - 1.8)
    assert r.mean_gap[0, 0] == pytest.approx(6.5 / 3 - 1.8 / 3)
    assert r.n_misclassified[0, 0] == 1  # only the token at 1.8 lies above min z+ = 1.5
    assert r.rho[0, 0] == pytest.approx(0.02)
    assert r.depth[0, 0] == pytest.approx(0.3)
    assert r.soft_margin[0, 0] == pytest.approx(1.5 - 1.0)  # dropping the 0.02 token fits the 0.05 budget
    assert r.P_plus[0, 0] == pytest.approx(0.35) and r.P_minus[0, 0] == pytest.approx(0.42)
    assert r.fraction_mean_gap_only[0] == 1.0  # authors' check passes, assumption fails
    assert r.verdict.passed is False and r.verdict.value == 0.0
    assert r.verdict_soft.passed is True  # rho = 0.02 <= 0.05
    # a target margin of 0.6 also takes in the token at 1.0 (1.5 - 1.0 = 0.5 < 0.6)
    r6 = assumption_2(zp, zm, pp, pm, delta_target=0.6)
    assert r6.n_misclassified[0, 0] == 2 and r6.rho[0, 0] == pytest.approx(0.12)
    assert r6.depth[0, 0] == pytest.approx(0.3)
    strict_json(r)


def test_separated_sets_and_orientation_for_negative_lambda():
    # two queries, grid (-1, +1): for λ>0 A+ is above A-; for λ<0 the direction flips and A- is above A+
    zp = np.array([[[-2.0, -3.0], [2.0, 3.0]], [[-1.0, -4.0], [1.0, 4.0]]])
    zm = -zp[..., ::-1] * 0.1
    r = assumption_2(zp, zm, lam=[-1.0, 1.0])
    np.testing.assert_allclose(r.margin[:, 1], [2.0 - (-0.2), 1.0 - (-0.1)])  # min z+ - max z-
    np.testing.assert_allclose(r.margin[:, 0], [0.2 - (-2.0), 0.1 - (-1.0)])  # min z- - max z+
    assert (r.margin > 0).all() and r.verdict.passed is True and r.verdict.value == 1.0
    np.testing.assert_allclose(r.delta_per_query, [2.2, 1.1])
    assert np.isnan(r.depth).all() and (r.n_misclassified == 0).all()
    assert r.rho is None and r.verdict_soft.passed is None
    # without lam every cell is read as λ > 0: the λ<0 column is then mis-separated
    assert assumption_2(zp, zm).verdict.passed is False


def test_fraction_rule_of_the_verdict():
    rng = np.random.default_rng(2)
    zp = rng.normal(3.0, 0.2, (20, 3, 4))
    zm = rng.normal(0.0, 0.2, (20, 3, 5))
    zm[0, 1, 0] = 10.0  # one query fails at one λ
    r = assumption_2(zp, zm)
    assert r.verdict.value == pytest.approx(19 / 20) and r.verdict.passed is True
    assert assumption_2(zp, zm, min_fraction=1.0).verdict.passed is False
    assert r.fraction_positive_margin.tolist() == [1.0, 0.95, 1.0]
    assert r.margin_min[1] < 0


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.ones((2, 3)), np.ones((3, 3))), {}, "z_misaligned must share"),
        ((np.ones((2, 3)), np.ones((2, 3))), {"lam": [0.0]}, "lam must not contain 0"),
        ((np.ones((2, 3)), np.ones((2, 3))), {"lam": [1.0, 2.0]}, "lam must be a 1-D grid of length G = 1"),
        ((np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 2))), {}, "p_aligned must have shape"),
        ((np.ones((2, 3)), np.ones((2, 3)), None, np.full((2, 3), 0.5)), {}, "p_misaligned must be probabilities"),
        ((np.ones((2, 3)), np.ones((2, 3)), None, np.full((2, 3), 1.5)), {}, r"p_misaligned must hold probabilities"),
        ((np.ones(3), np.ones(3)), {}, "z_aligned must have shape"),
        ((np.ones((2, 3)), np.ones((2, 3))), {"rho_max": 2.0}, "rho_max"),
        ((np.ones((2, 3)), np.ones((2, 3))), {"delta_target": -1.0}, "delta_target"),
        ((np.ones((2, 3)), np.ones((2, 3))), {"min_fraction": 0.0}, "min_fraction"),
    ],
)
def test_assumption_2_bad_inputs(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        assumption_2(*args, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Assumption 3
# ---------------------------------------------------------------------------------------------------------------
def iid_queries(rng, n_q=400, k=10, sigma=0.5, law="normal"):
    draw = {
        "normal": lambda s: rng.standard_normal(s),
        "t3": lambda s: rng.standard_t(3, s),
        "skewed": lambda s: rng.exponential(1.0, s),
    }[law]
    z = sigma * draw((n_q, k)) + rng.normal(0.0, 5.0, (n_q, 1))  # per-query offsets: irrelevant to σ
    p = -np.sort(-rng.dirichlet(np.ones(k + 1), n_q)[:, :k], axis=1)
    answers = rng.integers(0, k, n_q)
    return z, p, answers


def test_sigma_within_and_the_sqrt2_relation():
    rng = np.random.default_rng(3)
    sigma = 0.5
    z, p, ans = iid_queries(rng, sigma=sigma)
    r = assumption_3(z, p, ans)
    assert r.sigma == pytest.approx(sigma, rel=0.03)
    assert r.ratio_pooled_to_within == pytest.approx(math.sqrt(2), abs=0.06)
    assert r.sigma_pooled_differences == pytest.approx(math.sqrt(2) * sigma, rel=0.05)
    assert z.std() > 5 * sigma  # the raw pooled spread is dominated by the offsets
    assert r.differences.shape == (400, 9)
    np.testing.assert_allclose(r.top_k_mass, p.sum(axis=1))
    assert r.epsilon == pytest.approx(1 - p.sum(axis=1).mean())
    assert r.verdict.passed is True and r.normal is True
    for name in ("shapiro", "dagostino", "anderson"):
        assert r.tests[name]["pvalue"] > 0.01, name
    assert r.tests["shapiro"]["n"] == 3600
    assert r.qq_theoretical.shape == r.qq_sample.shape == (200,)
    np.testing.assert_allclose(r.qq_sample[10:-10], r.qq_theoretical[10:-10], atol=0.1)  # on the diagonal
    np.testing.assert_allclose(r.qq_sample, r.qq_theoretical, atol=0.4)
    # exchangeability: a* on top / bottom about 1/k of the time, both B± non-empty about 1 - 2/k
    assert abs(r.answer_top_fraction - 0.1) < 0.05 and abs(r.answer_bottom_fraction - 0.1) < 0.05
    assert abs(r.both_nonempty_fraction - 0.8) < 0.07 and abs(r.on_event_fraction - 0.5) < 0.08
    assert np.all((r.gamma >= 0) & (r.gamma <= 1)) and np.all(r.beta >= 0)
    strict_json(r)


def test_sigma_within_per_lambda():
    rng = np.random.default_rng(4)
    z = rng.standard_normal((300, 3, 8)) * np.array([0.5, 1.0, 2.0])[None, :, None] + rng.normal(0, 3, (300, 3, 1))
    np.testing.assert_allclose(sigma_within(z), [0.5, 1.0, 2.0], rtol=0.05)
    c = helmert_contrasts(z[0, 0])
    np.testing.assert_allclose(np.sum(c**2), np.sum((z[0, 0] - z[0, 0].mean()) ** 2))


@pytest.mark.parametrize("law", ["t3", "skewed"])
def test_normality_tests_reject_heavy_tails_and_skew(law):
    rng = np.random.default_rng(5)
    z, p, ans = iid_queries(rng, n_q=600, law=law)
    r = assumption_3(z, p, ans)
    assert r.normal is False
    for name in ("shapiro", "dagostino", "anderson"):
        assert r.tests[name]["pvalue"] < 1e-4, (name, r.tests[name])
    assert r.verdict.passed is True  # Assumption 3 does not require normality: still i.i.d.
    if law == "t3":
        assert r.excess_kurtosis > 1.0
    else:
        assert abs(r.skewness) > 0.5  # Helmert contrasts weight the last value by -j: the sign flips


def test_iid_diagnostics_detect_rank_dependence_and_a_favoured_answer():
    rng = np.random.default_rng(6)
    z, p, ans = iid_queries(rng, n_q=300)
    trend = z - 0.1 * np.arange(10)[None, :]  # projections fall with the probability rank
    r = assumption_3(trend, p, ans)
    assert r.tests["rank_correlation"]["pvalue"] < 1e-6 and r.verdict.passed is False
    assert "rank_correlation" in r.verdict.evidence
    fav = z.copy()
    fav[np.arange(300), ans] = fav.max(axis=1) + 1.0  # the correct answer always projects highest
    r2 = assumption_3(fav, p, ans)
    assert r2.answer_top_fraction == 1.0
    assert r2.tests["answer_rank_uniform"]["pvalue"] < 1e-6 and r2.verdict.passed is False


def test_beta_gamma_on_a_hand_example():
    z = np.array([[0.0, 1.0, -1.0], [0.0, 1.0, -1.0]])
    p = np.array([[0.5, 0.3, 0.2], [0.5, 0.3, 0.2]])
    r = assumption_3(z, p, np.array([0, 0]))
    assert r.sigma == pytest.approx(1.0)
    # P+ = 0.3, P- = 0.2, gamma = 2 min / (1 - p0) = 0.8; Y+ = Y- = 1 / sigma, beta = 1
    np.testing.assert_allclose(r.gamma, [0.8, 0.8])
    np.testing.assert_allclose(r.beta, [1.0, 1.0])
    np.testing.assert_allclose(r.p0, [0.5, 0.5])
    np.testing.assert_allclose(r.differences, [[1.0, -1.0], [1.0, -1.0]])
    # a query whose a* is not among the top k is left out of the a*-based quantities
    r2 = assumption_3(z, p, np.array([0, -1]))
    assert np.isnan(r2.gamma[1]) and r2.differences.shape == (1, 2) and r2.answer_in_top_k_fraction == 0.5


def test_anderson_darling_p_value():
    rng = np.random.default_rng(7)
    compared = 0
    has_pvalue = True
    for _ in range(40):
        x = rng.standard_normal(500) + 0.3 * rng.standard_t(3, 500)  # mildly heavy tails: p-values spread out
        a2, p = anderson_darling_normal(x)
        assert 0.0 <= p <= 1.0
        try:
            ref = stats.anderson(x, method="interpolate")
        except TypeError:  # scipy < 1.17 has no p-value: compare the statistic only
            ref, has_pvalue = None, False
        if ref is None:
            assert a2 == pytest.approx(stats.anderson(x).statistic, rel=1e-9)
            continue
        assert a2 == pytest.approx(ref.statistic, rel=1e-9)
        if 0.015 < ref.pvalue < 0.145:  # scipy interpolates its critical-value table on [0.01, 0.15]
            assert p == pytest.approx(ref.pvalue, abs=0.02)
            compared += 1
    assert compared >= 3 or not has_pvalue
    _, p_bad = anderson_darling_normal(rng.exponential(size=500))
    assert p_bad < 1e-6
    with pytest.raises(ValueError, match="at least 8 values"):
        anderson_darling_normal(np.ones(5))


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.ones((1, 4)),), {}, "at least 2 queries"),
        ((np.ones(4),), {}, "z_top must be a 2-D array"),
        ((np.arange(8.0).reshape(2, 4), np.ones((2, 3))), {}, "probs_top must have the shape"),
        ((np.arange(8.0).reshape(2, 4), np.full((2, 4), 0.5)), {}, "probs_top rows must sum"),
        ((np.arange(8.0).reshape(2, 4), None, np.array([0, 4])), {}, r"answer_index must lie in \[-1, 3\]"),
        ((np.arange(8.0).reshape(2, 4), None, np.array([0])), {}, "answer_index must have shape"),
        ((np.arange(8.0).reshape(2, 4),), {"level": 1.0}, "level"),
        ((np.arange(8.0).reshape(2, 4),), {"max_shapiro": 6000}, "max_shapiro"),
        ((np.ones((3, 4)),), {}, "zero within-query spread"),
    ],
)
def test_assumption_3_bad_inputs(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        assumption_3(*args, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Curves
# ---------------------------------------------------------------------------------------------------------------
def test_behavior_single_token_mean_se_and_b0():
    lam = np.array([-1.0, 0.0, 1.0])
    pp = np.array([[0.1, 0.3, 0.6], [0.2, 0.4, 0.7], [0.0, 0.2, 0.5]])
    pm = np.array([[0.6, 0.4, 0.1], [0.5, 0.3, 0.1], [0.7, 0.5, 0.2]])
    c = behavior_single_token(pp, pm, lam=lam)
    B = pp - pm
    np.testing.assert_allclose(c.B, B)
    np.testing.assert_allclose(c.summary.mean, B.mean(0))
    np.testing.assert_allclose(c.summary.se, B.std(0, ddof=1) / math.sqrt(3))
    np.testing.assert_allclose(c.B0, B[:, 1])
    np.testing.assert_allclose(c.artanh_B0, np.arctanh(B[:, 1]))
    np.testing.assert_allclose(c.B_binary, (pp - pm) / (pp + pm))
    np.testing.assert_allclose(c.coverage, pp + pm)
    assert not c.degenerate.any() and c.degenerate_reasons == {} and not c.all_degenerate
    strict_json(c)


def test_b0_of_plus_minus_one_is_flagged_not_a_crash():
    lam = np.array([0.0, 1.0])
    pp = np.array([[1.0, 1.0], [0.0, 0.3], [0.5, 0.6]])
    pm = np.array([[0.0, 0.0], [1.0, 0.7], [0.3, 0.2]])
    c = behavior_single_token(pp, pm, lam=lam)
    assert c.degenerate.tolist() == [True, True, False]
    assert c.artanh_B0[0] == np.inf and c.artanh_B0[1] == -np.inf
    assert "artanh(B0) = +inf" in c.degenerate_reasons[0] and "artanh(B0) = -inf" in c.degenerate_reasons[1]
    d = strict_json(c)
    assert d["artanh_B0"][:2] == [None, None] and d["degenerate"] == [True, True, False]
    assert degenerate_b0_reason(0.5) is None
    near = behavior_single_token(np.array([[0.999999, 1.0]]), np.array([[0.0, 0.0]]), lam=lam, degenerate_atol=1e-5)
    assert near.degenerate.tolist() == [True] and near.all_degenerate
    # a degenerate B0 makes the bound NaN at that query: compare_with_bound skips it instead of failing
    cmp = compare_with_bound(lam, [1.0, 0.9], [0.0, 0.01], [np.nan, np.nan])
    assert cmp.violating_lam.size == 0 and cmp.not_compared_lam.tolist() == [0.0, 1.0]


def test_behavior_generated_from_scores():
    scores = np.array([[[1, 1, -1, 0], [1, 1, 1, 1]], [[-1, -1, -1, 0], [1, -1, 0, 0]]])
    c = behavior_generated(scores, lam=[0.0, 2.0])
    np.testing.assert_allclose(c.B, [[0.25, 1.0], [-0.75, 0.0]])
    np.testing.assert_allclose(c.coverage, [[0.75, 1.0], [0.75, 0.5]])
    np.testing.assert_allclose(c.B_binary, [[1 / 3, 1.0], [-1.0, 0.0]])
    with pytest.raises(ValueError, match="scores must be -1, 0 or \\+1"):
        behavior_generated(np.array([[0.5]]))


def test_helpfulness_curves():
    full = np.array([[0.2, 0.3, 0.1], [0.4, 0.5, 0.2]])
    restr = np.array([[0.3, 0.5, 0.25], [0.5, 0.6, 0.1]])  # last cell inconsistent (0.1 < 0.2)
    h = helpfulness_curves(full, restr, lam=[-1.0, 0.0, 1.0])
    np.testing.assert_allclose(h.full_summary.mean, [0.3, 0.4, 0.15])
    np.testing.assert_allclose(h.full_summary.se, full.std(0, ddof=1) / math.sqrt(2))
    np.testing.assert_allclose(h.p0_full, [0.3, 0.5])
    np.testing.assert_allclose(h.p0_restricted, [0.5, 0.6])
    assert h.inconsistent_cells == 1
    strict_json(h)
    with pytest.raises(ValueError, match="p_correct_restricted must have the shape"):
        helpfulness_curves(full, restr[:, :2])


def test_choice_likelihood():
    ll = np.array([[-1.0, -2.0], [-3.0, -1.0], [-1.5, -1.5]])
    r = choice_likelihood(ll, np.array([0, 0, 1]))
    np.testing.assert_allclose(r.p_correct, [1 / (1 + math.e**-1), 1 / (1 + math.e**2), 0.5])
    np.testing.assert_allclose(r.credit, [1.0, 0.0, 0.5])
    np.testing.assert_allclose(r.probs.sum(-1), 1.0)
    # length normalisation: -4 over 4 tokens beats -2 over 1 token
    rn = choice_likelihood(np.array([[-4.0, -2.0]]), np.array([0]), lengths=np.array([[4.0, 1.0]]))
    assert rn.normalized and rn.p_correct[0] == pytest.approx(1 / (1 + math.e**-1)) and rn.credit[0] == 1.0
    # ragged choices: -inf marks an absent choice; a λ axis is carried through
    rr = choice_likelihood(np.array([[[-1.0, -1.0, -np.inf], [-2.0, -1.0, -1.0]]]), np.array([0]))
    np.testing.assert_allclose(rr.p_correct, [[0.5, 1 / (1 + 2 * math.e)]])
    with pytest.raises(ValueError, match="correct choice must be present"):
        choice_likelihood(np.array([[-np.inf, -1.0]]), np.array([0]))
    with pytest.raises(ValueError, match="log-probabilities <= 0"):
        choice_likelihood(np.array([[1.0, -1.0]]), np.array([0]))
    with pytest.raises(TypeError, match="correct must be an integer array"):
        choice_likelihood(ll, np.array([0.0, 0.0, 1.0]))


def test_wilson_interval_matches_a_hand_computation():
    flags = np.array([1] * 8 + [0] * 2)
    iv = p0_interval(flags, 0.95)
    z = 1.959963984540054
    n, ph = 10, 0.8
    centre = (ph + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n))
    assert (iv.kind, iv.method, iv.n) == ("accuracy", "wilson", 10)
    assert iv.estimate == 0.8
    assert iv.low == pytest.approx(centre - half) and iv.high == pytest.approx(centre + half)
    assert iv.low == pytest.approx(0.4902, abs=1e-4) and iv.high == pytest.approx(0.9433, abs=1e-4)
    zero = p0_interval(np.zeros(20, dtype=bool))
    assert zero.low == 0.0 and 0.0 < zero.high < 0.2  # Wilson stays informative at 0, unlike Wald


def test_probability_intervals():
    rng = np.random.default_rng(8)
    x = rng.beta(2, 3, 200)
    t = p0_interval(x)
    assert (t.kind, t.method) == ("probability", "t")
    se = x.std(ddof=1) / math.sqrt(200)
    assert t.high - t.low == pytest.approx(2 * stats.t.ppf(0.975, 199) * se)
    b = p0_interval(x, method="bootstrap", seed=1)
    assert b.low == pytest.approx(t.low, abs=0.01) and b.high == pytest.approx(t.high, abs=0.01)
    assert p0_interval(x, method="bootstrap", seed=1) == b  # seeded
    with pytest.raises(ValueError, match="0/1 flags"):
        p0_interval(x, kind="accuracy")
    with pytest.raises(ValueError, match="method must be"):
        p0_interval(x, method="wald")
    with pytest.raises(ValueError, match="values must hold probabilities"):
        p0_interval(np.array([0.5, 1.5]))


def test_at_chance():
    mmlu = p0_interval(np.array([1] * 26 + [0] * 74))  # 26 % on 100 MMLU questions
    c = at_chance(mmlu, 4)
    assert c.at_chance and not c.above_chance and c.chance == 0.25 and "AT CHANCE" in c.message
    piqa = p0_interval(np.array([1] * 97 + [0] * 53))  # 64.7 % on 150 PIQA items
    assert at_chance(piqa, 2).above_chance and not at_chance(piqa, 2).at_chance
    low = at_chance(Interval(0.05, 0.01, 0.1, 0.95, 100, "accuracy", "wilson"), 4)
    assert low.below_chance and "below chance" in low.message
    strict_json(c)
    with pytest.raises(ValueError, match="n_choices"):
        at_chance(mmlu, 1)


def test_compare_with_bound_finds_a_planted_violation():
    lam = np.linspace(0, 2, 5)
    bound = np.tanh(0.5 * lam)
    B = bound + 0.05
    se = np.full(5, 0.02)
    B[3] = bound[3] - 0.1  # 5 SE below the lower bound
    B[1] = bound[1] - 0.03  # 1.5 SE below: within the uncertainty
    r = compare_with_bound(lam, B, se, bound)
    assert r.violating_lam.tolist() == [lam[3]]
    assert r.z[3] == pytest.approx(5.0) and r.z[1] == pytest.approx(1.5)
    # upper bounds, per-λ kinds (Theorem 1 for λ < 0) and zero SE
    lam2 = np.array([-1.0, 0.0, 1.0])
    kinds = np.where(lam2 >= 0, "lower", "upper")
    r2 = compare_with_bound(lam2, [0.5, 0.0, 0.2], 0.0, [0.4, 0.0, 0.1], kind=kinds)
    assert r2.violating_lam.tolist() == [-1.0] and r2.z[1] == 0.0 and r2.z[0] == np.inf
    strict_json(r2)
    with pytest.raises(ValueError, match="B_se must be >= 0"):
        compare_with_bound(lam, B, -se, bound)
    with pytest.raises(ValueError, match="kind must be"):
        compare_with_bound(lam, B, se, bound, kind="both")
    with pytest.raises(ValueError, match="bound_values must have the length of lam"):
        compare_with_bound(lam, B, se, bound[:3])


def test_behavior_room_says_when_the_model_cannot_show_an_effect():
    from validation.measure import behavior_room

    lam = np.array([-1.0, 0.0, 1.0, 2.0])
    moves = behavior_room([[0, 0, 1, 1], [0, 0, 0, 1], [1, 1, 1, 1]], lam, "refusal")
    assert moves.can_show_effect and (moves.at_zero, moves.best, moves.lam_best) == (1, 3, 2.0)
    full = behavior_room([[1, 1, 1, 1], [0, 1, 1, 1]], lam, "compliance")
    assert not full.can_show_effect and "nothing to gain" in full.message and full.at_zero == 2
    flat = behavior_room([[1, 0, 0, 0], [0, 1, 1, 0]], lam, "refusal")  # only lambda < 0 adds one
    assert not flat.can_show_effect and "does not move" in flat.message and flat.best == 1
    with pytest.raises(ValueError, match="positive: expected shape"):
        behavior_room([[0, 1]], lam, "refusal")
    with pytest.raises(ValueError, match="must contain 0"):
        behavior_room([[0, 1, 1, 1]], lam + 5, "refusal")
