"""Definition 1, helpfulness (eq. 4) and Assumptions 1-4 as predicates (docs/specification.md §2-§3)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import bounds
from bounds import definitions as D
from bounds import domains as S
from bounds.statement import NotClosedForm
from bounds.strategies import (
    MarginInstance,
    NoiseSample,
    NormCurve,
    SoftMarginInstance,
    TopKInstance,
    margin_instances,
    monotone_norm_curves,
    noise_samples,
    norm_curves,
    probability_vectors,
    soft_margin_instances,
    top_k_instances,
)
from tests._hyp import many

Z = st.floats(-5.0, 5.0, allow_nan=False)


@st.composite
def scored_queries(draw: st.DrawFn, binary: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A distribution over 1-8 tokens, projections, scores (binary or graded in [-1, 1]) and a norm."""
    n = draw(st.integers(1, 8))
    p = draw(probability_vectors(n))
    z = np.asarray(draw(st.lists(Z, min_size=n, max_size=n)))
    if binary:
        scores = np.asarray(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
    else:
        scores = np.asarray(draw(st.lists(st.floats(-1.0, 1.0), min_size=n, max_size=n)))
    return p, z, scores, draw(st.floats(0.0, 10.0))


def _direct_steered(p: np.ndarray, z: np.ndarray, norm: float) -> np.ndarray:
    """P_λ by the direct formula of docs/specification.md §1 (no log space; fine for |norm z| <= 50)."""
    w = p * np.exp(norm * z)
    return w / w.sum()


# -- Definition 1 --------------------------------------------------------------------------------------------------
@many(1000)
@given(scored_queries(binary=True))
def test_behavior_definitions_agree_with_direct_sums(inst: tuple) -> None:
    p, z, scores, norm = inst
    b0 = D.behavior_unsteered(p, scores)
    direct = math.fsum(p * scores)
    assert b0 == pytest.approx(direct, abs=1e-12)
    assert bounds.behavior_expectation(p, z, 0.0, scores) == pytest.approx(direct, abs=1e-12)
    P_plus, P_minus = D.binary_masses(p, scores)
    assert P_plus + P_minus == pytest.approx(1.0, abs=1e-12)
    assert P_plus - P_minus == pytest.approx(b0, abs=1e-12)
    q = _direct_steered(p, z, norm)
    assert bounds.behavior_expectation(p, z, norm, scores) == pytest.approx(math.fsum(q * scores), abs=1e-12)
    at = D.artanh_behavior(p, scores)
    if P_plus > 0 and P_minus > 0 and abs(b0) < 1 - 1e-6:
        assert at == pytest.approx(math.atanh(b0), abs=1e-6)
    if P_minus == 0:
        assert at == math.inf
    if P_plus == 0:
        assert at == -math.inf


@many(600)
@given(scored_queries(binary=False), st.floats(0.0, 1e3), st.floats(-50.0, 50.0))
def test_behavior_in_range_and_binary_form(inst: tuple, big_norm: float, shift: float) -> None:
    """B in [-1, 1] for graded scores and any steering; binary scores give B = P+ - P- (Definition 1)."""
    p, z, scores, _ = inst
    for norm in (0.0, big_norm):
        b = bounds.behavior_expectation(p, z + shift, norm, scores)
        assert -1.0 - 1e-12 <= b <= 1.0 + 1e-12
    assert -1.0 - 1e-12 <= D.behavior_unsteered(p, scores) <= 1.0 + 1e-12
    binary = np.where(scores >= 0, 1.0, -1.0)
    P_plus, P_minus = D.binary_masses(p, binary)
    assert D.behavior_unsteered(p, binary) == pytest.approx(P_plus - P_minus, abs=1e-12)


def test_definitions_batch_and_extremes() -> None:
    p = np.array([[0.25, 0.75], [1.0, 0.0]])
    scores = np.array([1.0, -1.0])
    np.testing.assert_allclose(D.behavior_unsteered(p, scores), [-0.5, 1.0])
    P_plus, P_minus = D.binary_masses(p, scores)
    np.testing.assert_allclose(P_plus, [0.25, 1.0])
    np.testing.assert_allclose(P_minus, [0.75, 0.0])
    at = D.artanh_behavior(p, scores)
    assert at[0] == pytest.approx(math.atanh(-0.5)) and at[1] == math.inf
    # B0 rounds to -1 in float64, artanh stays exact in log space: 1/2 log(1e-300 / 1)
    tiny = np.array([1e-300, 1.0 - 1e-300])
    assert D.behavior_unsteered(tiny, scores) == -1.0
    assert D.artanh_behavior(tiny, scores) == pytest.approx(0.5 * math.log(1e-300), rel=1e-12)
    assert isinstance(D.behavior_unsteered([0.5, 0.5], scores), float)
    np.testing.assert_allclose(D.helpfulness_unsteered(p, np.array([1, 0])), [0.75, 1.0])


@pytest.mark.parametrize(
    ("call", "exc", "fragment"),
    [
        (lambda: D.behavior_unsteered([0.5, 0.6], [1, -1]), ValueError, "p must be a probability distribution"),
        (lambda: D.behavior_unsteered([0.5, 0.5], [1.5, -1]), ValueError, "scores must lie in the closed interval"),
        (lambda: D.binary_masses([0.5, 0.5], [0.5, -1]), ValueError, "scores must be binary"),
        (lambda: D.artanh_behavior([0.5, 0.5], [0, 1]), ValueError, "scores must be binary"),
        (lambda: D.behavior_unsteered([0.5, 0.5], [1, -1, 1]), ValueError, "broadcast"),
        (lambda: D.behavior_unsteered([0.5, 0.5], 1.0), ValueError, "scores must have a last axis"),
        (lambda: D.helpfulness_unsteered([0.5, 0.5], 2), ValueError, "answer must be a token index in [0, 1]"),
        (lambda: D.helpfulness_unsteered([0.5, 0.5], 0.0), TypeError, "answer must be an integer"),
        (lambda: D.behavior_unsteered([0.5, float("nan")], [1, -1]), ValueError, "p must not be NaN"),
    ],
)
def test_definitions_bad_input(call, exc: type, fragment: str) -> None:
    with pytest.raises(exc) as err:
        call()
    assert fragment in str(err.value)


# -- helpfulness (eq. 4) -------------------------------------------------------------------------------------------
@many(800)
@given(scored_queries(), st.data())
def test_helpfulness_definitions_agree_with_direct_sums(inst: tuple, data: st.DataObject) -> None:
    p, z, _, norm = inst
    a = data.draw(st.integers(0, p.size - 1))
    p0 = D.helpfulness_unsteered(p, a)
    assert p0 == p[a]
    assert bounds.steered_helpfulness(p, z, 0.0, a) == pytest.approx(p[a], rel=1e-12, abs=1e-300)
    h = bounds.steered_helpfulness(p, z, norm, a)
    assert h == pytest.approx(_direct_steered(p, z, norm)[a], rel=1e-9, abs=1e-300)
    assert 0.0 <= h <= 1.0 + 1e-15


@many(300)
@given(scored_queries())
def test_definition_sympy_forms_match_numeric(inst: tuple) -> None:
    """The sympy forms (B = P+ - P-, H = P(a*|q)) agree with the numeric twins; neither is a closed form in λ."""
    p, _, scores, _ = inst
    beh, hel = bounds.statement("definition-behavior"), bounds.statement("definition-helpfulness")
    f = sp.lambdify((S.P_plus, S.P_minus), beh.expr, "mpmath")
    P_plus, P_minus = D.binary_masses(p, scores)
    assert float(f(P_plus, P_minus)) == pytest.approx(D.behavior_unsteered(p, scores), abs=1e-12)
    H = hel.expr
    assert H.func == sp.Function("P") and H.args[0] == sp.Symbol("a^*")
    P = sp.Function("P")
    a = int(np.argmax(p))
    assert float(H.subs(P(sp.Symbol("a^*"), sp.Symbol("q")), p[a])) == D.helpfulness_unsteered(p, a)
    for s in (beh, hel):
        assert s.kind == "definition" and s.status is None and not s.closed_form_in_lambda
        with pytest.raises(NotClosedForm):
            s.series(2)


# -- Assumption 1 --------------------------------------------------------------------------------------------------
@many(1000)
@given(norm_curves(linear=True))
def test_assumption_1_accepts_linear_curves(c: NormCurve) -> None:
    r = D.assumption_1(c.lam, c.norms, rtol=c.rtol)
    assert r, r.failures
    assert r.measured["alpha"] > 0 and r.measured["n_linear"] >= 2
    assert r.measured["relative_residual"] <= c.rtol
    small = np.abs(c.lam) <= r.measured["linear_up_to"]
    dev = np.abs(c.norms[small] - r.measured["alpha"] * np.abs(c.lam[small]))
    assert np.all(dev <= c.rtol * r.measured["alpha"] * np.abs(c.lam[small]) * (1 + 1e-12))


@many(1000)
@given(norm_curves(linear=False))
def test_assumption_1_rejects_nonlinear_curves(c: NormCurve) -> None:
    r = D.assumption_1(c.lam, c.norms, rtol=c.rtol)
    assert not r and r.failures, c.kind
    assert r.measured["n_linear"] == 0 and math.isnan(r.measured["alpha"])


@many(800)
@given(st.booleans().flatmap(lambda m: monotone_norm_curves(monotone=m).map(lambda c: (m, c))))
def test_assumption_1_weak_form(case: tuple[bool, NormCurve]) -> None:
    """A.2's weaker form: monotone growth accepted (even when not linear), a drop rejected."""
    monotone, c = case
    r = D.assumption_1(c.lam, c.norms, weak=True)
    assert bool(r) == monotone, r.failures
    assert r.measured["monotone"] == monotone


def test_assumption_1_edge_cases() -> None:
    # exactly linear, both signs, with lambda = 0
    lam = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    r = D.assumption_1(lam, 3.0 * np.abs(lam))
    assert r and r.measured["alpha"] == pytest.approx(3.0) and r.measured["linear_up_to"] == 2.0
    assert r.measured["relative_residual"] == pytest.approx(0.0, abs=1e-15)
    # ±λ is a single |λ|: one value cannot show linearity
    r = D.assumption_1([-1.0, 1.0], [2.0, 2.0])
    assert not r and "distinct" in r.failures[0]
    # a single point
    assert not D.assumption_1([1.0], [1.0])
    # asymmetric slopes (45 vs 36 per unit, docs/specification.md §14.1) break the symmetric form but not A.2's monotone
    # form
    lam = np.array([-2.0, -1.0, 1.0, 2.0])
    norms = np.where(lam > 0, 45.0, 36.0) * np.abs(lam)
    assert not D.assumption_1(lam, norms, rtol=0.05)
    assert D.assumption_1(lam, norms, rtol=0.15)
    assert D.assumption_1(lam, norms, weak=True)
    # zero slope
    r = D.assumption_1([1.0, 2.0], [0.0, 0.0])
    assert not r and "alpha = 0" in r.failures[0]
    # linear then saturating (docs/specification.md §13.1: 228 at 5, 379 at 10): linear range found, and stops before
    # saturation
    lam = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 10.0])
    norms = np.array([45.6, 91.2, 136.8, 182.4, 228.0, 379.0])
    r = D.assumption_1(lam, norms)
    assert r and r.measured["linear_up_to"] == 5.0 and r.measured["alpha"] == pytest.approx(45.6)
    assert r.measured["relative_residual_all"] > r.measured["relative_residual"]
    # offset at lambda = 0 is tolerated only within atol
    assert not D.assumption_1([0.0, 1.0, 2.0], [0.1, 1.1, 2.1])
    assert D.assumption_1([0.0, 1.0, 2.0], [0.1, 1.1, 2.1], atol=0.2)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"lam": [1.0, 2.0], "norms": [1.0]}, "same length"),
        ({"lam": [1.0, 2.0], "norms": [1.0, -2.0]}, "norms must lie in the closed interval [0.0, inf]"),
        ({"lam": [1.0, float("inf")], "norms": [1.0, 2.0]}, "lam must be finite"),
        ({"lam": [], "norms": []}, "lam must be a non-empty 1-D array"),
        ({"lam": [1.0, 2.0], "norms": [1.0, 2.0], "rtol": 1.0}, "rtol must lie in the half-open interval [0.0, 1.0)"),
        ({"lam": [1.0, 2.0], "norms": [1.0, 2.0], "atol": -1.0}, "atol must lie in the closed interval"),
        ({"lam": [1.0, 2.0], "norms": [1.0, 2.0], "min_points": 1}, "min_points must be an integer >= 2"),
    ],
)
def test_assumption_1_bad_input(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ValueError) as err:
        D.assumption_1(**kwargs)
    assert fragment in str(err.value)


# -- Assumption 2 --------------------------------------------------------------------------------------------------
@many(800)
@given(margin_instances(satisfy=True))
def test_assumption_2_accepts_margin_instances(inst: MarginInstance) -> None:
    r = D.assumption_2(inst.z, inst.scores, inst.delta)
    assert r, r.failures
    assert r.measured["margin"] >= inst.delta and r.measured["violating_pairs"] == 0
    assert D.assumption_2(inst.z, inst.scores, inst.delta, p=inst.p)
    # the class means are at least as far apart as the closest pair: the mean gap over-reports the margin
    assert r.measured["mean_gap_not_margin"] >= r.measured["margin"] - 1e-9 * (1 + np.abs(inst.z).max())


@many(800)
@given(margin_instances(satisfy=False))
def test_assumption_2_rejects_violating_instances(inst: MarginInstance) -> None:
    r = D.assumption_2(inst.z, inst.scores, inst.delta)
    assert not r and r.failures, inst.kind
    assert r.measured["margin"] < inst.delta and r.measured["violating_pairs"] >= 1
    s_plus, s_minus = r.measured["closest_pair"]
    assert inst.scores[s_plus] == 1 and inst.scores[s_minus] == -1


def test_assumption_2_edge_cases() -> None:
    scores = np.array([1.0, -1.0])
    # a tie at exactly the margin holds (>=), a strict-separability check (delta=None) does not
    assert D.assumption_2([1.0, 0.0], scores, 1.0)
    assert D.assumption_2([1.0, 1.0], scores, 0.0)
    assert not D.assumption_2([1.0, 1.0], scores)
    assert D.assumption_2([1.0, 0.5], scores)
    # single token / one class empty: vacuous, margin +inf, mean gap undefined
    r = D.assumption_2([3.0], [1.0], 5.0)
    assert r and r.measured["margin"] == math.inf and math.isnan(r.measured["mean_gap_not_margin"])
    # zero mass: a violating token outside the support is ignored only when p is given
    z, sc = np.array([1.0, 0.0, 2.0]), np.array([1.0, -1.0, -1.0])
    assert not D.assumption_2(z, sc, 0.5)
    assert D.assumption_2(z, sc, 0.5, p=[0.5, 0.5, 0.0])
    # the mean gap is positive while the margin is negative (docs/specification.md §13.2): not the margin
    z, sc = np.array([10.0, 0.0, -10.0, 1.0]), np.array([1.0, 1.0, -1.0, -1.0])
    r = D.assumption_2(z, sc, 0.0)
    assert not r and r.measured["margin"] == -1.0 and r.measured["mean_gap_not_margin"] == 9.5
    with pytest.raises(ValueError, match="delta must lie in the closed interval"):
        D.assumption_2([1.0, 0.0], scores, -1.0)
    with pytest.raises(ValueError, match="scores must be binary"):
        D.assumption_2([1.0, 0.0], [1.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="same length"):
        D.assumption_2([1.0, 0.0, 3.0], scores, 1.0)


# -- Assumption 3 --------------------------------------------------------------------------------------------------
@many(1000)
@given(st.booleans().flatmap(lambda s: top_k_instances(satisfy=s).map(lambda i: (s, i))))
def test_assumption_3_structural_accepts_and_rejects(case: tuple[bool, TopKInstance]) -> None:
    satisfy, inst = case
    r = D.assumption_3(inst.p, inst.z, inst.answer, eps=inst.eps, k=inst.k)
    assert bool(r) == satisfy, (inst.kind, r.failures)
    m = r.measured
    assert len(m["top_k"]) == m["k"] and m["top_k_mass"] == pytest.approx(inst.p[m["top_k"]].sum(), abs=1e-12)
    if m["answer_in_top_k"]:
        assert len(m["differences"]) == m["k"] - 1
        others = [b for b in m["top_k"] if b != inst.answer]
        np.testing.assert_array_equal(m["differences"], inst.z[others] - inst.z[inst.answer])
        if m["k"] >= 2:  # the spread of the differences z_b - z_a* (with 0 for a*) is the spread of z on T_k
            spread = np.std(np.append(m["differences"], 0.0), ddof=1)
            assert m["sigma_within"] == pytest.approx(spread, rel=1e-9, abs=1e-12)
    if inst.k is None and satisfy:  # the smallest k with enough mass and a* inside
        assert m["k"] == 1 or inst.p[m["top_k"][:-1]].sum() < 1 - inst.eps or m["top_k"][-1] == inst.answer


@many(60)
@given(noise_samples(violation=None))
def test_assumption_3_sample_accepts_iid_normal(sample: NoiseSample) -> None:
    r = D.assumption_3_sample(sample.z_top, sigma=sample.claimed_sigma, level=1e-6)
    assert r, r.failures
    # the pooled within-query spread estimates σ (n >= 400 contrasts: relative SE <= 1/sqrt(800))
    assert r.measured["sigma_pooled"] == pytest.approx(sample.sigma, rel=0.2)
    assert D.assumption_3_sample(sample.z_top, law=None, level=1e-6)


@many(100)
@given(noise_samples(violation="any"))
def test_assumption_3_sample_rejects_violations(sample: NoiseSample) -> None:
    r = D.assumption_3_sample(sample.z_top, sigma=sample.claimed_sigma, level=1e-6)
    assert not r and r.failures, sample.kind
    if sample.kind == "heteroscedastic":
        assert r.measured["p_equal_variance"] < 1e-6
        assert not D.assumption_3_sample(sample.z_top, law=None, level=1e-6)  # Levene too
    if sample.kind in ("exponential", "cauchy"):
        assert r.measured["p_normality"] < 1e-6
    if sample.kind == "sigma":
        assert r.measured["p_sigma"] < 1e-6
    if sample.kind == "ties":
        assert r.measured["ties"] == 1


def test_assumption_3_sample_level_is_calibrated() -> None:
    """Under the null (i.i.d. normal, true σ), each test rejects at level 0.05 with frequency 0.05 ± 4 SE."""
    rng = np.random.default_rng(20240116)
    n_rep, level = 400, 0.05
    rej = np.zeros(3)
    for _ in range(n_rep):
        groups = [rng.normal(rng.normal(0, 5), 2.0, rng.integers(3, 8)) for _ in range(30)]
        m = D.assumption_3_sample(groups, sigma=2.0, level=level).measured
        rej += np.array([m["p_equal_variance"], m["p_normality"], m["p_sigma"]]) < level
    se = math.sqrt(level * (1 - level) / n_rep)
    assert np.all(np.abs(rej / n_rep - level) <= 4 * se), rej / n_rep


def test_assumption_3_edge_cases() -> None:
    # single token: k = 1, T_1 = {a*}, no differences, sigma undefined
    r = D.assumption_3([1.0], [0.3], 0, eps=0.0)
    assert r and r.measured["k"] == 1 and r.measured["differences"].size == 0
    assert math.isnan(r.measured["sigma_within"])
    # a tie at the top-k boundary is broken in favour of a*
    r = D.assumption_3([0.4, 0.3, 0.3], [0.0, 1.0, 2.0], 2, eps=0.3, k=2)
    assert r and r.measured["top_k"] == [0, 2]
    # zero-mass answer: outside the top-2 that carries the mass; with k free, T_k grows to include it
    r = D.assumption_3([0.5, 0.5, 0.0], [0.0, 1.0, 2.0], 2, eps=0.1, k=2)
    assert not r and "not in the top-2" in r.failures[0]
    r = D.assumption_3([0.5, 0.5, 0.0], [0.0, 1.0, 2.0], 2, eps=0.1)
    assert r and r.measured["k"] == 3
    # mass compared within float rounding: eps = 0 and k = V always holds
    p = np.full(10, 0.1)
    assert D.assumption_3(p, np.arange(10.0), 3, eps=0.0, k=10)
    # tied projections are reported, not failed (a single query cannot refute a continuous law)
    r = D.assumption_3([0.5, 0.5], [1.0, 1.0], 0, eps=0.0)
    assert r and r.measured["ties"] == 1
    with pytest.raises(ValueError, match=r"eps must lie in the half-open interval \[0\.0, 1\.0\)"):
        D.assumption_3([0.5, 0.5], [0.0, 1.0], 0, eps=1.0)
    with pytest.raises(ValueError, match="k must be an integer in"):
        D.assumption_3([0.5, 0.5], [0.0, 1.0], 0, eps=0.1, k=3)
    with pytest.raises(ValueError, match="answer must be a token index"):
        D.assumption_3([0.5, 0.5], [0.0, 1.0], 2, eps=0.1)
    with pytest.raises(ValueError, match="at least 2 queries"):
        D.assumption_3_sample([[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"z_top\[1\] must be a 1-D array of at least 2"):
        D.assumption_3_sample([[1.0, 2.0], [1.0]])
    with pytest.raises(ValueError, match="sigma can only be tested with law='normal'"):
        D.assumption_3_sample([[1.0, 2.0], [1.0, 3.0]], law=None, sigma=1.0)
    with pytest.raises(ValueError, match="law must be 'normal' or None"):
        D.assumption_3_sample([[1.0, 2.0], [1.0, 3.0]], law="t")
    with pytest.raises(ValueError, match=r"level must lie in the open interval \(0\.0, 1\.0\)"):
        D.assumption_3_sample([[1.0, 2.0], [1.0, 3.0]], level=0.0)
    r = D.assumption_3_sample([[1.0, 1.0], [2.0, 2.0]])
    assert not r and r.measured["ties"] == 2


# -- Assumption 4 --------------------------------------------------------------------------------------------------
@many(600)
@given(soft_margin_instances(satisfy=True))
def test_assumption_4_accepts_soft_margin_instances(inst: SoftMarginInstance) -> None:
    r = D.assumption_4(inst.p, inst.z, inst.scores, delta=inst.delta, rho=inst.rho, delta_M=inst.delta_M)
    assert r, r.failures
    assert tuple(r.measured["misclassified"]) == inst.M
    assert r.measured["rest_margin"] >= inst.delta  # (49) outside M


@many(600)
@given(soft_margin_instances(satisfy=False))
def test_assumption_4_rejects_violating_instances(inst: SoftMarginInstance) -> None:
    r = D.assumption_4(inst.p, inst.z, inst.scores, delta=inst.delta, rho=inst.rho, delta_M=inst.delta_M)
    assert not r, inst.kind
    assert tuple(r.measured["misclassified"]) == inst.M
    tag = {"mass": "(47)", "depth": "(48)"}[inst.kind]
    assert any(f.startswith(tag) for f in r.failures)


def test_assumption_4_edge_cases() -> None:
    p, sc = np.array([0.5, 0.3, 0.2]), np.array([1.0, -1.0, -1.0])
    # no misclassified token: Assumption 4 reduces to Assumption 2 (depth -inf, mass 0)
    r = D.assumption_4(p, [2.0, 0.0, -1.0], sc, delta=2.0, rho=0.0, delta_M=-100.0)
    assert r and r.measured["misclassified"] == [] and r.measured["depth"] == -math.inf
    # a tie exactly on the margin is correctly classified (46 needs < Delta)
    assert D.assumption_4(p, [2.0, 1.0, -1.0], sc, delta=1.0, rho=0.0, delta_M=0.0)
    # token 1 inside the margin: mass 0.3, depth -0.5
    r = D.assumption_4(p, [2.0, 1.5, -1.0], sc, delta=1.0, rho=0.3, delta_M=-0.5)
    assert r and r.measured["misclassified"] == [1] and r.measured["depth"] == -0.5
    assert not D.assumption_4(p, [2.0, 1.5, -1.0], sc, delta=1.0, rho=0.29, delta_M=-0.5)
    assert not D.assumption_4(p, [2.0, 1.5, -1.0], sc, delta=1.0, rho=0.3, delta_M=-0.6)
    # a zero-mass misclassified token adds no mass but counts in the depth
    r = D.assumption_4([0.5, 0.5, 0.0], [2.0, 0.0, 5.0], sc, delta=1.0, rho=0.0, delta_M=3.0)
    assert r and r.measured["mass"] == 0.0 and r.measured["depth"] == 3.0
    # single token
    assert D.assumption_4([1.0], [0.0], [1.0], delta=1.0, rho=0.0, delta_M=0.0)
    with pytest.raises(ValueError, match="rho must lie in the closed interval"):
        D.assumption_4(p, [2.0, 0.0, -1.0], sc, delta=1.0, rho=1.5, delta_M=0.0)
    with pytest.raises(ValueError, match="delta_M must be finite"):
        D.assumption_4(p, [2.0, 0.0, -1.0], sc, delta=1.0, rho=0.5, delta_M=math.inf)


# -- sympy forms of the predicates ---------------------------------------------------------------------------------
@many(200)
@given(st.booleans().flatmap(lambda s: soft_margin_instances(satisfy=s)), st.booleans())
def test_assumption_predicates_match_sympy(inst: SoftMarginInstance, as_hard: bool) -> None:
    """The sympy predicates, evaluated on the measured extremes, agree with the numeric predicates."""
    a2, a4 = bounds.statement("assumption-2"), bounds.statement("assumption-4")
    zmin = sp.Symbol("z_min^+", real=True)
    plus, minus = inst.scores > 0, inst.scores < 0
    if as_hard and minus.any():
        r = D.assumption_2(inst.z, inst.scores, inst.delta)
        subs = {zmin: inst.z[plus].min(), sp.Symbol("z_max^-", real=True): inst.z[minus].max(), S.Delta: inst.delta}
        # xreplace substitutes all at once (Delta = 0 is in the domain but not in the symbol's sympy assumptions)
        assert bool(a2.expr.xreplace({k: sp.Float(float(v)) for k, v in subs.items()})) == bool(r)
        return
    r = D.assumption_4(inst.p, inst.z, inst.scores, delta=inst.delta, rho=inst.rho, delta_M=inst.delta_M)
    rest = [i for i in np.flatnonzero(minus) if i not in inst.M]
    subs = {
        zmin: inst.z[plus].min(),
        sp.Symbol("z_max^-\\M", real=True): inst.z[rest].max() if rest else -1e300,
        sp.Symbol("z_max^M", real=True): inst.z[list(inst.M)].max() if inst.M else -1e300,
        sp.Symbol("P(M|q)", nonnegative=True): inst.p[list(inst.M)].sum(),
        S.Delta: inst.delta,
        S.rho: inst.rho,
        S.Delta_M: inst.delta_M,
    }
    assert bool(a4.expr.xreplace({k: sp.Float(float(v)) for k, v in subs.items()})) == bool(r)


def test_assumption_statements_are_predicates() -> None:
    for i in range(1, 5):
        s = bounds.statement(f"assumption-{i}")
        assert s.kind == "assumption" and s.relation == "pred" and s.status is None
        assert not s.closed_form_in_lambda and s.numeric is not None
        assert ":<=>" in s.text()
    a1 = bounds.statement("assumption-1").expr
    assert a1 == sp.Eq(S.norm, S.alpha * sp.Abs(S.lam))
