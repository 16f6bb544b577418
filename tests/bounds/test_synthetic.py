"""Synthetic queries and behavior instances: each generator satisfies the hypotheses it promises."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import bounds
from bounds.alignment import soft_margin_lower
from bounds.synthetic import (
    WRONG_SHAPES,
    SyntheticQuery,
    as_noise_law,
    hard_margin_instance,
    law_label,
    soft_margin_instance,
    synthetic_query,
    two_token_extremal,
    wrong_answer_weights,
)
from tests._hyp import many

NORMS = np.concatenate([np.linspace(0.0, 4.0, 41), [6.0, 10.0, 30.0, 100.0]])


# =================================================================================================================
# Wrong-answer shapes
# =================================================================================================================
@pytest.mark.parametrize("shape", WRONG_SHAPES)
@pytest.mark.parametrize("m", [1, 2, 3, 9, 49])
def test_wrong_answer_weights_are_positive_and_sum_to_one(shape: str, m: int) -> None:
    w = wrong_answer_weights(shape, m, 0)
    assert w.shape == (m,)
    assert (w > 0).all()
    assert w.sum() == pytest.approx(1.0, abs=1e-14)


def test_wrong_answer_shapes_have_their_documented_form() -> None:
    np.testing.assert_allclose(wrong_answer_weights("uniform", 5, 0), np.full(5, 0.2))
    z = wrong_answer_weights("zipf", 6, 0, s=2.0)
    np.testing.assert_allclose(z[0] / z[1:], np.arange(2, 7) ** 2.0)  # w_j ∝ j^-s
    np.testing.assert_allclose(wrong_answer_weights("zipf", 4, 0, s=0.0), np.full(4, 0.25))  # s = 0: uniform
    two = wrong_answer_weights("two_dominant", 7, 0, share=0.9)
    np.testing.assert_allclose(two[:2], [0.45, 0.45])
    np.testing.assert_allclose(two[2:], np.full(5, 0.02))
    np.testing.assert_allclose(wrong_answer_weights("two_dominant", 2, 0), [0.5, 0.5])  # m = 2: both dominant


def test_dirichlet_shape_is_random_reproducible_and_has_mean_one_over_m() -> None:
    a = wrong_answer_weights("dirichlet", 5, np.random.default_rng(3), concentration=0.5)
    b = wrong_answer_weights("dirichlet", 5, np.random.default_rng(3), concentration=0.5)
    np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(0)
    draws = np.array([wrong_answer_weights("dirichlet", 4, rng, concentration=2.0) for _ in range(3000)])
    se = draws.std(axis=0, ddof=1) / math.sqrt(draws.shape[0])
    assert np.all(np.abs(draws.mean(axis=0) - 0.25) <= 4 * se)  # exchangeable: E w_j = 1/m
    # Var w_j = (1/m)(1 - 1/m)/(m c + 1) for Dirichlet(c 1_m)
    var = 0.25 * 0.75 / (4 * 2.0 + 1)
    assert draws[:, 0].var(ddof=1) == pytest.approx(var, rel=0.1)


@pytest.mark.parametrize(
    ("shape", "m", "params", "exc", "fragment"),
    [
        ("geometric", 3, {}, ValueError, "shape must be one of"),
        ("uniform", 0, {}, ValueError, "m must be an integer >= 1"),
        ("dirichlet", 3, {"concentration": 0.0}, ValueError, "concentration"),
        ("zipf", 3, {"s": -1.0}, ValueError, "s must lie"),
        ("two_dominant", 5, {"share": 1.0}, ValueError, "share must lie"),
        ("two_dominant", 10, {"share": 0.1}, ValueError, "share >= 0.2"),
        ("zipf", 3, {"concentration": 1.0}, TypeError, "valid: s"),
        ("uniform", 3, {"s": 1.0}, TypeError, "valid: none"),
    ],
)
def test_wrong_answer_weights_errors(shape: str, m: int, params: dict, exc: type, fragment: str) -> None:
    with pytest.raises(exc, match=fragment):
        wrong_answer_weights(shape, m, 0, **params)


def test_rng_none_is_refused() -> None:
    with pytest.raises(TypeError, match="Generator or an integer seed"):
        wrong_answer_weights("uniform", 3, None)


# =================================================================================================================
# Synthetic queries: Assumption 3's hypotheses
# =================================================================================================================
def _check_query(q: SyntheticQuery, k: int, eps: float) -> None:
    assert q.p.sum() == pytest.approx(1.0, abs=1e-12)
    assert (q.p > 0).all()
    assert q.k == k
    order = np.argsort(-q.p, kind="stable")
    assert set(order[:k]) == set(np.flatnonzero(q.top))  # T_k is the set of the k most probable tokens
    if q.V > k:
        assert q.p[q.top].min() > q.p[~q.top].max()  # strictly: no ambiguity in "the k most probable"
    assert q.top[q.answer]
    assert q.eps == pytest.approx(eps, abs=1e-12)
    assert q.top_mass == pytest.approx(1 - eps, abs=1e-12)
    assert q.answer_rank == q.answer == int(np.sum(q.p > q.p0))
    res = bounds.assumption_3(q.p, np.zeros(q.V), q.answer, eps=eps, k=k)
    assert res.holds, res.failures
    assert set(res.measured["top_k"]) == set(np.flatnonzero(q.top))


@many(150)
@given(
    k=st.integers(2, 60),
    shape=st.sampled_from(WRONG_SHAPES),
    p0_frac=st.floats(0.01, 0.99),
    eps=st.sampled_from([0.0, 0.01, 0.1, 0.3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_synthetic_query_satisfies_assumption_3(k: int, shape: str, p0_frac: float, eps: float, seed: int) -> None:
    p0 = p0_frac * (1 - eps)
    q = synthetic_query(k, p0, shape, seed, tail_mass=eps)
    _check_query(q, k, eps)
    assert q.p0 == pytest.approx(p0, rel=1e-12)
    assert q.params["tail_size"] == q.V - k
    n = q.V - k
    if eps > 0 and n > 1:  # the automatic tail is the smallest one that keeps T_k on top
        assert eps / (n - 1) >= q.p[q.top].min()
    np.testing.assert_array_equal(q.fixed_z[~q.top], 0.0)


@pytest.mark.parametrize("shape", WRONG_SHAPES)
@pytest.mark.parametrize("rank", [0, 1, 2])
def test_synthetic_query_by_rank(shape: str, rank: int) -> None:
    q = synthetic_query(6, None, shape, 4, tail_mass=0.05, tail_size=40, answer_rank=rank)
    _check_query(q, 6, 0.05)
    assert q.p0 == np.sort(q.p[q.top])[::-1][rank]  # a* takes the rank-th mass of T_k
    assert q.answer_rank <= rank  # equal to it unless that mass is tied with a more probable one
    if shape in ("zipf", "dirichlet"):
        assert q.answer_rank == rank
    assert q.params["p0"] is None


def test_synthetic_query_tail_and_answer_rank_options() -> None:
    q = synthetic_query(4, 0.5, "uniform", 0, tail_mass=0.1, tail_size=5, tail_z=[1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(q.p[q.top], [0.5, 0.4 / 3, 0.4 / 3, 0.4 / 3])
    np.testing.assert_allclose(q.p[~q.top], np.full(5, 0.02))
    np.testing.assert_array_equal(q.fixed_z, [0, 0, 0, 0, 1, 2, 3, 4, 5])
    q2 = synthetic_query(3, 0.2, "uniform", 0, answer_rank=2)  # a confidently wrong model: a* last
    assert q2.answer == 2 and q2.S2 == pytest.approx(0.32)
    d = q2.to_dict()
    assert d["answer"] == 2 and d["shape"] == "uniform" and len(d["p"]) == 3
    assert q.p.flags.writeable is False  # frozen data


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"k": 1}, "k must be an integer >= 2"),
        ({"p0": 0.95, "tail_mass": 0.1}, "p0 must lie in the open interval"),
        ({"p0": 0.0}, "p0 must lie in the open interval"),
        ({"tail_mass": 1.0}, "tail_mass must lie in"),
        ({"tail_mass": 0.0, "tail_size": 3}, "tail_size must be 0"),
        ({"tail_mass": 0.3, "tail_size": 1}, "tail_size = 1 is too small"),
        ({"tail_mass": 0.1, "tail_size": 5, "tail_z": [1.0, 2.0]}, "tail_z must be a scalar or have shape"),
        ({"p0": None}, "give p0"),
        ({"answer_rank": 7}, "answer_rank must be an integer in"),
        ({"p0": 0.5, "answer_rank": 1}, "puts a\\* at rank 0"),
    ],
)
def test_synthetic_query_errors(kwargs: dict, fragment: str) -> None:
    args = {"k": 4, "p0": 0.3, "shape": "uniform", "rng": 0} | kwargs
    with pytest.raises(ValueError, match=fragment):
        synthetic_query(args.pop("k"), args.pop("p0"), args.pop("shape"), args.pop("rng"), **args)


def test_synthetic_query_class_validates_real_data() -> None:
    p = np.array([0.5, 0.3, 0.2])
    SyntheticQuery(p=p, answer=0, top=np.array([True, True, False]), fixed_z=np.zeros(3))
    with pytest.raises(ValueError, match="a set of k = 2 most probable"):
        SyntheticQuery(p=p, answer=0, top=np.array([True, False, True]), fixed_z=np.zeros(3))
    with pytest.raises(ValueError, match="a\\* in T_k"):
        SyntheticQuery(p=p, answer=2, top=np.array([True, True, False]), fixed_z=np.zeros(3))
    with pytest.raises(ValueError, match="k >= 2"):
        SyntheticQuery(p=p, answer=0, top=np.array([True, False, False]), fixed_z=np.zeros(3))
    with pytest.raises(ValueError, match="fixed_z must have shape"):
        SyntheticQuery(p=p, answer=0, top=np.array([True, True, False]), fixed_z=np.zeros(2))
    with pytest.raises(ValueError, match="open interval"):
        SyntheticQuery(p=np.array([1.0, 0.0]), answer=0, top=np.array([True, True]), fixed_z=np.zeros(2))
    with pytest.raises(ValueError, match="probability distribution"):
        SyntheticQuery(p=np.array([0.5, 0.6]), answer=0, top=np.array([True, True]), fixed_z=np.zeros(2))


# =================================================================================================================
# Noise laws
# =================================================================================================================
def test_noise_laws_by_name_or_frozen() -> None:
    assert law_label(as_noise_law("normal")) == "norm"
    assert law_label(as_noise_law("t", df=5)) == "t(df=5)"
    frozen = stats.gamma(2.0, loc=1.0, scale=3.0)
    assert as_noise_law(frozen) is frozen
    assert law_label(frozen) == "gamma(a=2)"
    assert law_label(stats.t(df=7)) == "t(df=7)"
    with pytest.raises(ValueError, match="finite positive variance"):
        as_noise_law("t", df=2.0)
    with pytest.raises(ValueError, match="finite mean and a finite positive variance"):
        as_noise_law(stats.cauchy())
    with pytest.raises(TypeError, match="frozen law"):
        as_noise_law(stats.norm(), df=3)
    with pytest.raises(TypeError, match=r"frozen scipy\.stats continuous"):
        as_noise_law(stats.poisson(3.0))


# =================================================================================================================
# Behavior instances: Assumption 2 and Assumption 4
# =================================================================================================================
@many(200)
@given(
    n_plus=st.integers(1, 6),
    n_minus=st.integers(1, 6),
    delta=st.floats(0.0, 20.0),
    exact=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_hard_margin_instance_satisfies_assumption_2_and_theorem_1(
    n_plus: int, n_minus: int, delta: float, exact: bool, seed: int
) -> None:
    inst = hard_margin_instance(seed, n_plus, n_minus, delta=delta, exact=exact, spread=3.0)
    res = bounds.assumption_2(inst.z, inst.scores, delta)
    assert res.holds, res.failures
    if exact:
        assert res.measured["margin"] == pytest.approx(delta, abs=1e-12 * max(1.0, abs(float(inst.z.max()))))
    assert -1 < inst.B0 < 1 and inst.kind == "hard"
    # Theorem 1 holds on it (the generator is a faithful instance of the theorem's hypotheses)
    gap = np.asarray(inst.behavior(NORMS)) - inst.theorem_1_bound(NORMS)
    assert gap.min() >= -1e-12


def test_hard_margin_instance_options_and_errors() -> None:
    p = np.array([0.1, 0.2, 0.3, 0.4])
    inst = hard_margin_instance(1, 1, 3, p=p, delta=2.0)
    np.testing.assert_array_equal(inst.p, p)
    assert (inst.scores > 0).sum() == 1
    assert bounds.assumption_2(inst.z, inst.scores, 2.0).holds
    inst = hard_margin_instance(2, 3, 2, B0=-0.7)
    assert inst.B0 == pytest.approx(-0.7)
    assert inst.artanh_B0 == pytest.approx(math.atanh(-0.7))
    with pytest.raises(ValueError, match="n_plus \\+ n_minus = 3"):
        hard_margin_instance(0, 2, 1, p=p)
    with pytest.raises(ValueError, match="every entry > 0"):
        hard_margin_instance(0, 2, 2, p=[0.5, 0.5, 0.0, 0.0])
    with pytest.raises(ValueError, match="not both"):
        hard_margin_instance(0, 2, 2, p=p, B0=0.1)
    with pytest.raises(ValueError, match="delta"):
        hard_margin_instance(0, delta=-1.0)
    with pytest.raises(ValueError, match="n_minus must be an integer >= 1"):
        hard_margin_instance(0, 2, 0)


@pytest.mark.parametrize("B0", [-0.99, -0.5, 0.0, 0.3, 0.9])
@pytest.mark.parametrize("delta", [0.0, 0.5, 3.0])
def test_two_token_extremal_attains_theorem_1(B0: float, delta: float) -> None:
    inst = two_token_extremal(B0, delta)
    assert bounds.assumption_2(inst.z, inst.scores, delta).measured["margin"] == delta
    np.testing.assert_allclose(inst.behavior(NORMS), inst.theorem_1_bound(NORMS), rtol=0, atol=1e-13)
    np.testing.assert_allclose(inst.behavior(NORMS), bounds.alignment_lower_norm(B0, NORMS, delta), atol=1e-13)


@many(200)
@given(
    n_plus=st.integers(1, 4),
    n_minus=st.integers(0, 4),
    n_mis=st.integers(1, 3),
    delta=st.floats(0.1, 5.0),
    rho=st.floats(1e-4, 0.5),
    dm_frac=st.floats(-0.9, 3.0),
    exact_mass=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_soft_margin_instance_satisfies_assumption_4_and_theorem_3(
    n_plus: int, n_minus: int, n_mis: int, delta: float, rho: float, dm_frac: float, exact_mass: bool, seed: int
) -> None:
    dm = dm_frac * delta
    inst = soft_margin_instance(seed, n_plus, n_minus, n_mis, delta=delta, rho=rho, delta_M=dm, exact_mass=exact_mass)
    res = bounds.assumption_4(inst.p, inst.z, inst.scores, delta=delta, rho=rho, delta_M=dm)
    assert res.holds, res.failures
    assert sorted(res.measured["misclassified"]) == np.flatnonzero(inst.misclassified).tolist()
    assert inst.misclassified.sum() == n_mis  # M is non-empty: the hard margin fails
    assert not bounds.assumption_2(inst.z, inst.scores, delta).holds
    if exact_mass:
        assert res.measured["mass"] == pytest.approx(rho, rel=1e-9)
    # Theorem 3 (soft margin) holds on it
    lam = NORMS[NORMS <= 10.0]
    bound = soft_margin_lower(1.0, inst.B0, lam, delta, dm, rho)
    assert np.all(np.asarray(inst.behavior(lam)) >= bound - 1e-12)


def test_soft_margin_instance_errors() -> None:
    with pytest.raises(ValueError, match="delta_M must be > -delta"):
        soft_margin_instance(0, delta=1.0, delta_M=-1.0)
    with pytest.raises(ValueError, match="rho must lie"):
        soft_margin_instance(0, rho=0.0)
    with pytest.raises(ValueError, match="n_misclassified must be an integer >= 1"):
        soft_margin_instance(0, n_misclassified=0)
    d = soft_margin_instance(0).to_dict()
    assert d["kind"] == "soft" and sum(d["misclassified"]) == 1


def test_behavior_instance_signed_norm_and_soft_margin_statistics() -> None:
    """A negative norm steers towards A- (the z-flip); P(M) and the depth of M are read from the mask."""
    inst = soft_margin_instance(3, n_plus=2, n_minus=1, n_misclassified=2)
    for norm in (0.0, 0.7, 3.0):
        flipped = bounds.behavior_expectation(inst.p, -inst.z, norm, inst.scores)
        assert inst.behavior(-norm) == flipped if norm else inst.behavior(norm)
    assert np.array_equal(inst.behavior(np.array([1.0, -1.0])), [inst.behavior(1.0), inst.behavior(-1.0)])
    m = inst.misclassified
    assert inst.P_M == float(inst.p[m].sum()) and 0 < inst.P_M <= inst.rho
    assert inst.depth == float(inst.z[m].max() - inst.z[inst.scores > 0].min()) <= inst.delta_M
    assert inst.log_P_plus == pytest.approx(math.log(inst.P_plus), rel=1e-12)
    hard = hard_margin_instance(0)
    assert hard.P_M == 0.0 and hard.depth == -math.inf
