"""The KL price of steering (docs/specification.md §16, issue 17): the exact KL of the steered distribution, its
second-order law, its rigorous bound and the strengths at a KL budget, settled on generated distributions."""

from __future__ import annotations

import dataclasses
import functools
import json
import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, reject
from hypothesis import strategies as st

import bounds
from bounds import domains as S
from bounds.kl import kl_divergence, kl_second_order, kl_upper, lambda_for_kl, projection_spread
from bounds.spec.kl import REMAINDER_CONSTANT, STATEMENTS
from bounds.steered import steered_distribution
from bounds.strategies import TiltInstance, kl_budget_instances, tilt_instances
from tests._hyp import checked, counted, many, search


def _stmt(statement_id: str) -> bounds.Statement:
    return next(s for s in STATEMENTS if s.id == statement_id)


def _tol(norm: float, z_range: float, *values: float) -> float:
    """Float tolerance of a comparison of the exact KL at ``‖δ‖ = norm`` with ``values`` of its own size (the KL, a
    law): a few ulps times ``16 + ‖δ‖ R_z`` relative, the conditioning of ``e^{‖δ‖ z}`` in float64 (measured: at most
    3.7e-14 relative at ``‖δ‖ R_z`` up to 1500, ``test_kl_divergence_matches_mpmath``)."""
    return 1e-15 * (16.0 + norm * z_range) * max(values) + 1e-300


def _reference(p: np.ndarray, z: np.ndarray, norm: float, dps: int = 360) -> float:
    """KL(P_λ || P) in 360-digit arithmetic (masses down to 1e-300 resolved), against ``p / sum(p)``
    (:func:`kl_divergence`'s convention)."""
    with mpmath.workdps(dps):
        pm = [mpmath.mpf(float(x)) for x in p]
        total = mpmath.fsum(pm)
        pm = [x / total for x in pm]
        zm = [mpmath.mpf(float(x)) for x in z]
        top = max(zi for zi, pi in zip(zm, pm, strict=True) if pi > 0)
        w = [pi * mpmath.exp(mpmath.mpf(float(norm)) * (zi - top)) for pi, zi in zip(pm, zm, strict=True)]
        q = [wi / mpmath.fsum(w) for wi in w]
        return float(mpmath.fsum(qi * mpmath.log(qi / pi) for qi, pi in zip(q, pm, strict=True) if qi > 0))


# =================================================================================================================
# The kernels
# =================================================================================================================
SMALL_CASES = [
    ([0.5, 0.5], [1.0, -1.0], 1.0),
    ([0.7, 0.2, 0.1], [0.0, 1.0, -1.0], 2.0),
    ([0.25, 0.25, 0.25, 0.25], [0.3, -2.0, 1.5, 0.0], 0.7),
    ([0.9, 0.1], [0.0, 1.0], 3.0),
    ([0.6, 0.0, 0.4], [1.0, 50.0, -1.0], 0.5),  # a massless token far above: it carries nothing
]


@pytest.mark.parametrize(("p", "z", "norm"), SMALL_CASES)
def test_kl_divergence_matches_direct_float64_computation(p: list, z: list, norm: float) -> None:
    """Against sum_s q_s log(q_s / p_s) with q = steered_distribution(p, z, norm), term by term in float64."""
    q, pa = steered_distribution(p, z, norm), np.asarray(p)
    direct = float(np.sum(np.where(pa > 0, q * np.log(np.where(pa > 0, q / np.where(pa > 0, pa, 1.0), 1.0)), 0.0)))
    assert kl_divergence(p, z, norm) == pytest.approx(direct, rel=1e-13)


def test_kl_divergence_of_two_symmetric_tokens_is_t_tanh_t_minus_log_cosh_t() -> None:
    """p = (1/2, 1/2), z = (1, -1): A(t) = log cosh t, so KL = t tanh t - log cosh t (the doctest's value)."""
    for t in (1e-8, 1e-3, 0.5, 1.0, 7.0, 300.0):
        want = t * math.tanh(t) - math.log(math.cosh(t)) if t < 20 else math.log(2.0) - 2 * t * math.exp(-2 * t)
        assert kl_divergence([0.5, 0.5], [1.0, -1.0], t) == pytest.approx(want, rel=1e-12)


@many(150)
@given(tilt_instances(max_tokens=5))
def test_kl_divergence_matches_mpmath(inst: TiltInstance) -> None:
    """Against 360-digit arithmetic on generated instances (norms from 1e-4 up, where 360 digits resolve the KL of
    masses down to 1e-300): the relative error is a few ulps times ``16 + ‖δ‖ R_z`` however small or skewed ``P``."""
    if inst.var_z == 0 or inst.norm < 1e-4:
        reject()  # no KL to compare (Var = 0), or one 360 digits cannot resolve
    want = _reference(inst.p, inst.z, inst.norm)
    assert abs(inst.kl(inst.norm) - want) <= _tol(inst.norm, inst.z_range, want)


def test_kl_divergence_keeps_its_digits_at_tiny_norms() -> None:
    """At ‖δ‖ = 1e-150 the KL is ½‖δ‖² Var_P(z) to 16 digits (the second-order law is exact there), not 0 or noise:
    no two first-order quantities cancel."""
    p, z = np.array([0.2, 0.5, 0.3]), np.array([1.0, -0.5, 2.0])
    var, _ = projection_spread(p, z)
    for t in (1e-150, 1e-20, 1e-8):
        assert kl_divergence(p, z, t) == pytest.approx(0.5 * t * t * var, rel=1e-12)


@many(300)
@given(tilt_instances())
def test_kl_divergence_is_zero_at_zero_norm_and_never_negative(inst: TiltInstance) -> None:
    assert kl_divergence(inst.p, inst.z, 0.0) == 0.0
    assert inst.kl(inst.norm) >= 0.0


@many(300)
@given(tilt_instances(), st.lists(st.floats(0.0, 100.0), min_size=2, max_size=6))
def test_kl_divergence_grows_with_the_norm(inst: TiltInstance, norms: list[float]) -> None:
    """d KL / dt = t Var_{P_t}(z) >= 0: the KL is non-decreasing in ‖δ‖ (within float tolerance)."""
    t = np.sort(np.asarray(norms))
    kl = kl_divergence(inst.p, inst.z, t)
    assert np.all(np.diff(kl) >= -np.array([_tol(x, inst.z_range, k) for x, k in zip(t[1:], kl[1:], strict=True)]))


@many(200)
@given(tilt_instances())
def test_kl_divergence_tends_to_minus_log_mass_of_the_top(inst: TiltInstance) -> None:
    """As ‖δ‖ -> oo the steered distribution is P conditioned on argmax z: KL -> -log P(argmax z), never above it."""
    assert inst.kl(inst.norm) <= inst.kl_limit + _tol(inst.norm, inst.z_range, inst.kl_limit)
    support_z = np.sort(np.unique(inst.z[inst.p > 0]))
    gap = support_z[-1] - support_z[-2] if support_z.size >= 2 else 0.0
    # ‖δ‖ = 800 / gap (the rest e^-800 below the top) is within reach: finite (hypothesis 6.100 draws subnormal gaps,
    # where 800 / gap overflows) and not so large that ‖δ‖ z_range leaves float64
    with np.errstate(over="ignore", divide="ignore"):
        reachable = bool(np.isfinite(np.float64(800.0) / gap)) and gap * 1e300 > 800.0 * inst.z_range
    if reachable:
        assert inst.kl(800.0 / gap) == pytest.approx(inst.kl_limit, rel=1e-12, abs=1e-300)


def test_kl_divergence_of_negative_lambda_is_that_of_minus_z() -> None:
    p, z = np.array([0.2, 0.5, 0.3]), np.array([1.0, -0.5, 2.0])
    assert kl_divergence(p, -z, 1.3) != pytest.approx(kl_divergence(p, z, 1.3))  # skewed: the two sides differ
    assert kl_divergence(p, -z, 1.3) == pytest.approx(_reference(p, -z, 1.3), rel=1e-14)


def test_kl_divergence_broadcasts_like_the_steered_distribution() -> None:
    p = np.array([[0.5, 0.5], [0.2, 0.8]])
    out = kl_divergence(p, [1.0, 0.0], np.array([[0.0], [1.0], [2.0]]))
    assert out.shape == (3, 2)
    for i, t in enumerate((0.0, 1.0, 2.0)):
        for j in range(2):
            assert out[i, j] == kl_divergence(p[j], [1.0, 0.0], t)
    assert type(kl_divergence([0.5, 0.5], [1.0, 0.0], 1.0)) is float
    assert kl_divergence([0.5, 0.5], [[1.0, 0.0], [0.0, 2.0]], 1.0).shape == (2,)


def test_kl_divergence_no_nan_for_extreme_valid_input() -> None:
    cases = [
        ([1e-300, 1 - 1e-300], [1.0, 0.0], 1e6),  # a tiny mass pulled to the top: KL -> log(1e300)
        ([0.5, 0.5], [1e150, -1e150], 1e-300),
        ([0.5, 0.5], [1e150, -1e150], 1e150),
        ([0.5, 0.5, 0.0], [0.0, 1.0, 1e308], 1e3),  # a massless token far above
        ([0.5, 0.5], [1e308, -1e308], 0.0),
        ([1.0], [3.0], 1e300),
        ([0.5 + 4e-9, 0.5], [0.0, 1.0], 1.0),  # sums within 1e-8 of 1
        ([5e-324, 1.0], [1.0, 0.0], 1e3),
    ]
    for p, z, norm in cases:
        got = kl_divergence(p, z, norm)
        assert math.isfinite(got) and got >= 0.0, (p, z, norm, got)
    assert kl_divergence([1e-300, 1 - 1e-300], [1.0, 0.0], 1e6) == pytest.approx(300 * math.log(10), rel=1e-12)
    assert kl_divergence([0.5, 0.5], [1e150, -1e150], 1e150) == pytest.approx(math.log(2), rel=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"p": [0.5, 0.6], "z": [0.0, 1.0], "norm": 1.0}, "p"),
        ({"p": [0.5, 0.5], "z": [0.0, np.nan], "norm": 1.0}, "z"),
        ({"p": [0.5, 0.5], "z": [0.0, 1.0, 2.0], "norm": 1.0}, "z"),
        ({"p": [0.5, 0.5], "z": [0.0, 1.0], "norm": -1.0}, "norm"),
        ({"p": [0.5, 0.5], "z": [0.0, 1e308], "norm": 10.0}, "norm"),
        ({"p": [0.5, 0.5], "z": 1.0, "norm": 1.0}, "z"),
    ],
)
def test_kl_divergence_validation_names_the_parameter(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        kl_divergence(**kwargs)


def test_projection_spread_is_the_variance_and_the_range_over_the_support() -> None:
    p, z = np.array([0.2, 0.5, 0.0, 0.3]), np.array([1.0, -0.5, 40.0, 2.0])
    var, spread = projection_spread(p, z)
    mean = 0.2 * 1.0 + 0.5 * -0.5 + 0.3 * 2.0
    assert var == pytest.approx(0.2 * (1 - mean) ** 2 + 0.5 * (-0.5 - mean) ** 2 + 0.3 * (2 - mean) ** 2, rel=1e-14)
    assert spread == 2.5  # the massless token at 40 does not count
    v, r = projection_spread([0.5, 0.5], [1e150, -1e150])  # scaled: (z - mean)**2 = 1e300 without overflow
    assert r == 2e150 and v == pytest.approx(1e300, rel=1e-14)
    for z in ([1e300, -1e300], [1e308, -1e308]):  # a variance (and a range) beyond float64
        with pytest.raises(ValueError, match="z"):
            projection_spread([0.5, 0.5], z)
    vb, rb = projection_spread(np.array([[0.5, 0.5], [1.0, 0.0]]), [1.0, -1.0])
    assert vb.shape == rb.shape == (2,) and vb[1] == 0.0 and rb[1] == 0.0


def test_kl_second_order_and_upper_values_and_errors() -> None:
    assert kl_second_order(2.0, 0.25) == 0.5
    assert kl_upper(1.0, 2.0) == 0.5
    np.testing.assert_array_equal(kl_second_order(np.array([0.0, 1.0, 2.0]), 2.0), [0.0, 1.0, 4.0])
    assert kl_upper(np.array([[1.0], [2.0]]), np.array([1.0, 2.0])).shape == (2, 2)
    assert kl_second_order(1e200, 1e-300) == pytest.approx(0.5e100, rel=1e-14)  # no spurious overflow of norm**2
    assert kl_second_order(1e300, 0.0) == 0.0
    assert kl_upper(1e-300, 1e-300) == 0.0  # 1e-1200 / 8 underflows to 0, not NaN
    for fn, bad in ((kl_second_order, "var_z"), (kl_upper, "z_range")):
        with pytest.raises(ValueError, match="norm"):
            fn(-1.0, 1.0)
        with pytest.raises(ValueError, match=bad):
            fn(1.0, -1.0)
        with pytest.raises(ValueError, match="norm"):
            fn(1e200, 1e200)  # the result beyond float64
        with pytest.raises(ValueError, match="broadcast"):
            fn(np.ones(2), np.ones(3))


def test_lambda_for_kl_inverts_the_laws() -> None:
    """λ_τ = sqrt(8τ)/(α R_z) and λ_τ^(2) = sqrt(2τ/Var)/α are where the laws equal τ; a zero spread gives inf."""
    tau, alpha = np.array([1e-3, 0.1, 2.0]), 0.7
    lam = lambda_for_kl(tau, alpha, z_range=3.0)
    np.testing.assert_allclose(kl_upper(alpha * lam, 3.0), tau, rtol=1e-14)
    lam2 = lambda_for_kl(tau, alpha, var_z=0.4)
    np.testing.assert_allclose(kl_second_order(alpha * lam2, 0.4), tau, rtol=1e-14)
    assert lambda_for_kl(0.1, 1.0, var_z=0.0) == math.inf and lambda_for_kl(0.1, 1.0, z_range=0.0) == math.inf
    np.testing.assert_array_equal(lambda_for_kl(0.125, 1.0, z_range=[0.0, 2.0]), [math.inf, 0.5])
    assert lambda_for_kl(1e300, 1.0, var_z=1e-300) == pytest.approx(math.sqrt(2) * 1e300, rel=1e-14)  # 2τ/Var = 2e600


def test_lambda_for_kl_errors_name_the_parameter() -> None:
    for kwargs in ({}, {"var_z": 1.0, "z_range": 1.0}):
        with pytest.raises(ValueError, match="var_z"):
            lambda_for_kl(0.1, 1.0, **kwargs)
    with pytest.raises(ValueError, match="tau"):
        lambda_for_kl(0.0, 1.0, var_z=1.0)
    with pytest.raises(ValueError, match="alpha"):
        lambda_for_kl(0.1, 0.0, var_z=1.0)
    with pytest.raises(ValueError, match="z_range"):
        lambda_for_kl(0.1, 1.0, z_range=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        lambda_for_kl(1.0, 1e-300, z_range=1e-300)  # λ beyond float64
    with pytest.raises(TypeError, match="positional"):
        lambda_for_kl(0.1, 1.0, 1.0)  # the spread is keyword-only: which law is meant must be said


# -- closed forms vs sympy -----------------------------------------------------------------------------------------
@functools.cache
def _lambdified(statement_id: str, args: tuple[sp.Symbol, ...]):
    return sp.lambdify(args, _stmt(statement_id).expr, "mpmath")


@many(200)
@given(st.floats(0.01, 10.0), st.floats(0.0, 50.0), st.floats(0.0, 100.0))
def test_kl_second_order_matches_sympy(alpha: float, lam: float, var: float) -> None:
    f = _lambdified("proposition-kl-second-order", (S.alpha, S.lam, S.var_z))
    assert kl_second_order(alpha * lam, var) == pytest.approx(float(f(alpha, lam, var)), rel=1e-14, abs=1e-300)


@many(200)
@given(st.floats(0.01, 10.0), st.floats(0.0, 50.0), st.floats(0.0, 100.0))
def test_kl_upper_matches_sympy(alpha: float, lam: float, spread: float) -> None:
    f = _lambdified("proposition-kl-upper", (S.alpha, S.lam, S.z_range))
    assert kl_upper(alpha * lam, spread) == pytest.approx(float(f(alpha, lam, spread)), rel=1e-14, abs=1e-300)


@many(200)
@given(st.floats(1e-6, 10.0), st.floats(0.01, 10.0), st.floats(1e-6, 100.0))
def test_lambda_for_kl_matches_sympy(tau: float, alpha: float, spread: float) -> None:
    safe = _lambdified("corollary-kl-budget-safe", (S.tau, S.alpha, S.z_range))
    law = _lambdified("corollary-kl-budget-second-order", (S.tau, S.alpha, S.var_z))
    assert lambda_for_kl(tau, alpha, z_range=spread) == pytest.approx(float(safe(tau, alpha, spread)), rel=1e-14)
    assert lambda_for_kl(tau, alpha, var_z=spread) == pytest.approx(float(law(tau, alpha, spread)), rel=1e-14)


def test_kl_series_from_the_cumulant_generating_function() -> None:
    """sympy: with A(t) = sum_n kappa_n t^n / n!, KL = t A'(t) - A(t) has coefficients (n - 1) kappa_n / n!, i.e.
    kappa_2 t^2/2 + kappa_3 t^3/3 + kappa_4 t^4/8 + ... (the statement's note); and numerically the exact KL of a
    skewed distribution follows it to fourth order."""
    t = sp.Symbol("t", positive=True)
    kappa = sp.symbols("kappa_1:9")
    A = sum(kappa[n - 1] * t**n / sp.factorial(n) for n in range(1, 9))
    kl = sp.expand(t * sp.diff(A, t) - A)
    for n in range(1, 9):
        assert sp.simplify(kl.coeff(t, n) - (n - 1) * kappa[n - 1] / sp.factorial(n)) == 0
    assert sp.sstr(sp.series(kl, t, 0, 5).removeO()) == "kappa_2*t**2/2 + kappa_3*t**3/3 + kappa_4*t**4/8"
    assert "kappa_2 t^2/2 + kappa_3 t^3/3 + kappa_4 t^4/8" in _stmt("proposition-kl-second-order").notes[0]
    # the exact KL of the cumulant generating function of a concrete P, expanded by sympy, against kl_divergence
    p, z = [sp.Rational(1, 5), sp.Rational(1, 2), sp.Rational(3, 10)], [1, sp.Rational(-1, 2), 2]
    A_exact = sp.log(sum(pi * sp.exp(t * zi) for pi, zi in zip(p, z, strict=True)))
    series = sp.series(t * sp.diff(A_exact, t) - A_exact, t, 0, 5).removeO()
    for x in (1e-3, 1e-2):
        got = kl_divergence([float(v) for v in p], [float(v) for v in z], x)
        assert got == pytest.approx(float(series.subs(t, x)), rel=1e-9 if x == 1e-3 else 1e-6)


# =================================================================================================================
# proposition-kl-second-order: the law with its remainder
# =================================================================================================================
def _remainder_nondegenerate(inst: TiltInstance) -> bool:
    t, var, spread = inst.norm, inst.var_z, inst.z_range
    return t > 0 and var > 0 and t * spread**3 / (9 * math.sqrt(3)) < var


@counted("proposition-kl-second-order")
@many(1500)
@given(tilt_instances())
def test_proposition_kl_second_order_holds_on_every_distribution(inst: TiltInstance) -> None:
    """|KL - ½‖δ‖² Var_P(z)| <= (‖δ‖ R_z)³/(18√3) on every generated distribution, projection and strength.

    The hypotheses, generated (``tilt_instances``): any distribution (masses to 1e-300, massless tokens), any
    projections, any ‖δ‖ >= 0. Non-degenerate (``proposition-kl-second-order``'s ``nondegenerate``): ‖δ‖ > 0,
    Var_P(z) > 0 and the remainder bound below the law, so the claim pins the KL within a factor 2 of the law."""
    t, var, spread = inst.norm, inst.var_z, inst.z_range
    kl, law = inst.kl(t), float(kl_second_order(t, var))
    assert abs(kl - law) <= REMAINDER_CONSTANT * (t * spread) ** 3 + _tol(t, spread, kl, law)
    checked(_remainder_nondegenerate(inst))


def test_proposition_kl_second_order_smaller_remainder_constant_is_caught() -> None:
    """The property test has the power to refute: with half the constant, 1/(36√3), the same strategy's search finds
    a violation (the constant is the sharp one). The one found is skewed and small-norm: the leading remainder
    ⅓‖δ‖³κ_3 nearly reaches the bound."""
    ce = search(
        tilt_instances(),
        lambda i: (
            abs(i.kl(i.norm) - float(kl_second_order(i.norm, i.var_z)))
            > REMAINDER_CONSTANT / 2 * (i.norm * i.z_range) ** 3 + _tol(i.norm, i.z_range, i.kl(i.norm))
        ),
    )
    assert ce.var_z > 0 and ce.norm > 0


def test_proposition_kl_second_order_constant_is_reached_as_the_norm_vanishes() -> None:
    """Two atoms at the ends of the range with the upper mass q = (3 - √3)/6 maximise κ_3 = R³/(6√3): the remainder
    divided by the bound tends to 1 as ‖δ‖ -> 0 (so no smaller constant holds)."""
    q = (3 - math.sqrt(3)) / 6
    p, z = np.array([1 - q, q]), np.array([0.0, 1.0])
    var, spread = projection_spread(p, z)
    ratios = [
        (kl_divergence(p, z, t) - kl_second_order(t, var)) / (REMAINDER_CONSTANT * (t * spread) ** 3)
        for t in (1e-1, 1e-2, 1e-3)
    ]
    assert all(r < 1 for r in ratios) and ratios[-1] == pytest.approx(1.0, abs=2e-3)
    assert ratios == sorted(ratios)


# =================================================================================================================
# proposition-kl-second-order-accuracy: "within 10 % up to 0.1 nats" (fails)
# =================================================================================================================
def _accuracy_violated(inst: TiltInstance) -> bool:
    if inst.norm == 0 or inst.var_z == 0:
        return False
    kl = inst.kl(inst.norm)
    if not 0 < kl <= 0.1:
        return False
    law = float(kl_second_order(inst.norm, inst.var_z))
    return abs(law - kl) > 0.1 * kl + _tol(inst.norm, inst.z_range, kl, law)


def test_proposition_kl_second_order_accuracy_counterexample_found_by_search() -> None:
    """Search over the statement's own hypotheses (any distribution, projections and strength with KL <= 0.1 nats)
    finds one where the law misses the KL by more than 10 %; the remainder bound of the law still holds there."""
    ce = search(tilt_instances(), _accuracy_violated)
    print("proposition-kl-second-order-accuracy counterexample:", ce.as_dict())
    assert _accuracy_violated(ce)
    assert _stmt("proposition-kl-second-order-accuracy").violation(ce.as_dict()) > 0
    law, kl = float(kl_second_order(ce.norm, ce.var_z)), ce.kl(ce.norm)
    assert abs(kl - law) <= REMAINDER_CONSTANT * (ce.norm * ce.z_range) ** 3


def test_proposition_kl_second_order_accuracy_regression_counterexample() -> None:
    """The pinned (shrunk) example: masses (1, e) / (1 + e) on z = (0, 1), ‖δ‖ = 1. The KL is 0.0671 nats (within
    the claim's range) and the law says 0.0983: 46 % too high (z is skewed towards the likely top, κ_3 < 0)."""
    st_ = _stmt("proposition-kl-second-order-accuracy")
    ce = dict(st_.counterexample)
    json.dumps(ce)
    p, z = np.array(ce["p"]), np.array(ce["z"])
    np.testing.assert_allclose(p, np.array([1.0, math.e]) / (1 + math.e), rtol=1e-15)
    kl = kl_divergence(p, z, ce["norm"])
    assert kl == pytest.approx(0.06713075445313273, rel=1e-13) and kl <= 0.1
    assert kl_second_order(ce["norm"], projection_spread(p, z)[0]) == pytest.approx(0.09830596662074093, rel=1e-13)
    assert st_.violation(ce) == pytest.approx(0.09830596662074093 / 0.06713075445313273 - 1 - 0.1, rel=1e-12)
    assert st_.violation(ce) > 0


# =================================================================================================================
# proposition-kl-upper: KL <= ‖δ‖² R_z² / 8
# =================================================================================================================
@counted("proposition-kl-upper")
@many(1000)
@given(tilt_instances())
def test_proposition_kl_upper_holds_on_every_distribution(inst: TiltInstance) -> None:
    """KL <= (‖δ‖ R_z)²/8 on every generated distribution, projection and strength (``tilt_instances``).

    Non-degenerate (``proposition-kl-upper``'s ``nondegenerate``): Var_P(z) > 0 and the bound below
    -log P(argmax z), the most KL any strength spends (else the bound says nothing the limit does not)."""
    t, spread = inst.norm, inst.z_range
    bound = float(kl_upper(t, spread))
    assert inst.kl(t) <= bound + _tol(t, spread, bound)
    checked(inst.var_z > 0 and bound < inst.kl_limit)


def test_proposition_kl_upper_wrong_constant_is_caught() -> None:
    """The property test has the power to refute: with 1/16 in place of 1/8 the same strategy's search finds a
    violation (near-symmetric two-token distributions at small norms, where KL ≈ ‖δ‖² R_z²/8)."""
    ce = search(
        tilt_instances(),
        lambda i: i.kl(i.norm) > (i.norm * i.z_range) ** 2 / 16 + _tol(i.norm, i.z_range, i.kl(i.norm)),
    )
    assert ce.kl(ce.norm) > (ce.norm * ce.z_range) ** 2 / 16
    assert ce.kl(ce.norm) <= kl_upper(ce.norm, ce.z_range)


def test_proposition_kl_upper_is_sharp_for_two_symmetric_tokens() -> None:
    """p = (½, ½) at the ends of the range: KL / (‖δ‖² R_z²/8) -> 1 as ‖δ‖ -> 0, from below."""
    ratios = [kl_divergence([0.5, 0.5], [0.0, 2.0], t) / kl_upper(t, 2.0) for t in (1.0, 1e-1, 1e-2, 1e-4)]
    assert ratios == sorted(ratios) and ratios[-1] == pytest.approx(1.0, abs=1e-7) and max(ratios) < 1


# =================================================================================================================
# corollary-kl-budget-safe: λ_τ = sqrt(8τ)/(α R_z) spends at most τ
# =================================================================================================================
def _norm_at(inst: TiltInstance, lam: float, fraction: float = 1.0) -> float:
    """``‖δ‖ = α λ fraction``, or a rejection where it (or ``‖δ‖ R_z``) leaves the float64 range: a strength that cannot
    be represented is no instance that can be checked."""
    with np.errstate(over="ignore"):
        norm = inst.alpha * lam * fraction
    if not (math.isfinite(norm) and norm * inst.z_range < 1e300):
        reject()
    return norm


@counted("corollary-kl-budget-safe")
@many(1000)
@given(kl_budget_instances(), st.one_of(st.just(1.0), st.floats(0.0, 1.0)))
def test_corollary_kl_budget_safe_holds_on_every_distribution(inst: TiltInstance, fraction: float) -> None:
    """At λ_τ and at every fraction of it, the exact KL is at most τ (``kl_budget_instances``: any distribution and
    projections, τ > 0, α > 0).

    Rejected, not passed: λ_τ beyond float64 (α R_z subnormal; the function says so) and strengths α λ_τ beyond it.
    Non-degenerate (``corollary-kl-budget-safe``'s ``nondegenerate``): Var_P(z) > 0 and τ < -log P(argmax z), i.e.
    the budget binds."""
    try:
        lam = float(lambda_for_kl(inst.tau, inst.alpha, z_range=inst.z_range))
    except ValueError as exc:
        assert "float64 range" in str(exc)
        reject()
    if math.isinf(lam):  # R_z = 0: one projection on the support, steering moves nothing
        assert inst.var_z == 0 and inst.kl(1e300) == 0.0
        checked(False)
        return
    norm = _norm_at(inst, lam, fraction)
    assert inst.kl(norm) <= inst.tau + _tol(norm, inst.z_range, inst.tau)
    checked(inst.var_z > 0 and inst.tau < inst.kl_limit)


def test_corollary_kl_budget_safe_unspent_share_matches_sympy() -> None:
    """The statement's note: as τ -> 0 the KL at λ_τ is 4τ Var_P(z)/R_z² + O(τ^{3/2}) (sympy), so the rigorous strength
    leaves 1 - 4 Var/R_z² of a small budget unspent; numerically on a skewed three-token model."""
    tau, k2, k3, spread = sp.symbols("tau kappa_2 kappa_3 R_z", positive=True)
    t = sp.sqrt(8 * tau) / spread
    leading = sp.simplify(k2 * t**2 / 2)
    assert sp.simplify(leading - 4 * tau * k2 / spread**2) == 0
    assert sp.simplify((k3 * t**3 / 3) / tau ** sp.Rational(3, 2)).has(tau) is False  # the next order is τ^{3/2}
    p, z = np.array([0.2, 0.5, 0.3]), np.array([1.0, -0.5, 2.0])
    var, r = projection_spread(p, z)
    for budget in (1e-6, 1e-4):
        spent = kl_divergence(p, z, lambda_for_kl(budget, 1.0, z_range=r))
        assert spent / budget == pytest.approx(4 * var / r**2, abs=10 * math.sqrt(budget))
        assert spent <= budget


# =================================================================================================================
# corollary-kl-budget-second-order: λ_τ^(2) = sqrt(2τ/Var)/α (fails)
# =================================================================================================================
def _kl_at_second_order_strength(inst: TiltInstance) -> float | None:
    """The exact KL at ``α λ_τ^(2)``, or None where it cannot be evaluated (Var = 0: λ = inf, no KL is spent; λ or
    ``‖δ‖ R_z`` beyond float64)."""
    if inst.var_z == 0:
        return None
    try:
        lam = float(lambda_for_kl(inst.tau, inst.alpha, var_z=inst.var_z))
    except ValueError:
        return None
    norm = inst.alpha * lam
    if not (math.isfinite(norm) and norm * inst.z_range < 1e300):
        return None
    return inst.kl(norm)


def _budget_overspent(inst: TiltInstance) -> bool:
    kl = _kl_at_second_order_strength(inst)
    if kl is None:
        return False
    norm = inst.alpha * float(lambda_for_kl(inst.tau, inst.alpha, var_z=inst.var_z))
    return kl > inst.tau + _tol(norm, inst.z_range, inst.tau)


def test_corollary_kl_budget_second_order_counterexample_found_by_search() -> None:
    """Search over the statement's own hypotheses finds a distribution where the law's strength overspends τ; the
    rigorous strength stays within τ on the same instance."""
    ce = search(kl_budget_instances(), _budget_overspent)
    print("corollary-kl-budget-second-order counterexample:", ce.as_dict())
    assert _budget_overspent(ce)
    assert _stmt("corollary-kl-budget-second-order").violation(ce.as_dict()) > 0
    lam = float(lambda_for_kl(ce.tau, ce.alpha, z_range=ce.z_range))
    assert ce.kl(ce.alpha * lam) <= ce.tau


def test_corollary_kl_budget_second_order_regression_counterexample() -> None:
    """The pinned (shrunk) example: three equally likely tokens, one of them at z = 1 and two at 0, τ = 0.1 nats,
    α = 1. Var_P(z) = 2/9 gives λ^(2) = sqrt(0.9) = 0.949, where the KL is 0.1110 nats: 11 % over the budget."""
    st_ = _stmt("corollary-kl-budget-second-order")
    ce = dict(st_.counterexample)
    json.dumps(ce)
    p, z = np.array(ce["p"]), np.array(ce["z"])
    var, spread = projection_spread(p, z)
    assert var == pytest.approx(2 / 9, rel=1e-14) and spread == 1.0
    lam = lambda_for_kl(ce["tau"], ce["alpha"], var_z=var)
    assert lam == pytest.approx(math.sqrt(0.9), rel=1e-14)
    assert kl_divergence(p, z, ce["alpha"] * lam) == pytest.approx(0.11102935260601215, rel=1e-12)
    assert st_.violation(ce) == pytest.approx(0.11102935260601215 - 0.1, rel=1e-11) and st_.violation(ce) > 0
    safe = lambda_for_kl(ce["tau"], ce["alpha"], z_range=spread)
    assert kl_divergence(p, z, ce["alpha"] * safe) <= ce["tau"]


def _far_over_budget(inst: TiltInstance) -> bool:
    """The degenerate cases excluded: every mass at least 1e-3, at most three tokens, τ = 0.1 nats (set by the
    search), and the KL at least 1.5 τ (not a rounding-size excess)."""
    if inst.p.size > 3 or inst.p.min() < 1e-3:
        return False
    kl = _kl_at_second_order_strength(inst)
    return kl is not None and kl >= 1.5 * inst.tau


def test_corollary_kl_budget_second_order_nondegenerate_counterexample_found_by_search() -> None:
    """Search at the budget practitioners use, τ = 0.1 nats, with the degenerate cases excluded from its predicate
    (:func:`_far_over_budget`). It finds the counterexample pinned in ``further_counterexamples``."""
    ce = search(
        kl_budget_instances(max_tokens=3).map(lambda i: dataclasses.replace(i, tau=0.1)),
        _far_over_budget,
        max_examples=5000,
    )
    print("corollary-kl-budget-second-order non-degenerate counterexample:", ce.as_dict())
    assert _far_over_budget(ce) and ce.tau == 0.1


def test_corollary_kl_budget_second_order_regression_nondegenerate_counterexample() -> None:
    """The pinned non-degenerate example: masses ∝ (1, e^-2) on z = (-1, 0), τ = 0.1 nats, α = 1. Var_P(z) = 0.1050,
    λ^(2) = 1.380, and the KL there is 0.1792 nats: 79 % over the budget. The rigorous λ_τ = 0.894 spends 0.0634."""
    st_ = _stmt("corollary-kl-budget-second-order")
    (ce,) = (dict(c) for c in st_.further_counterexamples)
    p, z = np.array(ce["p"]), np.array(ce["z"])
    np.testing.assert_allclose(p, np.array([1.0, math.exp(-2.0)]) / (1 + math.exp(-2.0)), rtol=1e-15)
    assert ce["tau"] == 0.1 and p.min() >= 1e-3
    var, spread = projection_spread(p, z)
    assert var == pytest.approx(0.10499358540350652, rel=1e-13)
    lam = lambda_for_kl(ce["tau"], ce["alpha"], var_z=var)
    assert lam == pytest.approx(1.3801732776841655, rel=1e-13)
    assert kl_divergence(p, z, ce["alpha"] * lam) == pytest.approx(0.17923405965111405, rel=1e-12)
    assert st_.violation(ce) == pytest.approx(0.07923405965111405, rel=1e-11)
    safe = lambda_for_kl(ce["tau"], ce["alpha"], z_range=spread)
    assert safe == pytest.approx(math.sqrt(0.8), rel=1e-14)
    assert kl_divergence(p, z, safe) == pytest.approx(0.06342304731750266, rel=1e-12)


def test_corollary_kl_budget_second_order_overshoot_expansion_matches_sympy() -> None:
    """sympy: at t = sqrt(2τ/κ_2), KL = τ + (2√2/3) γ_1 τ^{3/2} + O(τ²), γ_1 = κ_3/κ_2^{3/2}: positive skewness
    overspends a small budget, and the exact KL of a skewed two-token model follows the expansion."""
    tau, k2, k3, k4 = sp.symbols("tau kappa_2 kappa_3 kappa_4", positive=True)
    t = sp.sqrt(2 * tau / k2)
    kl = k2 * t**2 / 2 + k3 * t**3 / 3 + k4 * t**4 / 8
    overshoot = sp.simplify(sp.expand(kl) - tau - k4 * t**4 / 8)
    assert sp.simplify(overshoot - 2 * sp.sqrt(2) / 3 * k3 / k2 ** sp.Rational(3, 2) * tau ** sp.Rational(3, 2)) == 0
    # two tokens, mass q = 0.1 at z = 1: skewness (1 - 2q)/sqrt(q(1 - q)) = 8/3
    q = 0.1
    p, z = np.array([1 - q, q]), np.array([0.0, 1.0])
    gamma_1 = (1 - 2 * q) / math.sqrt(q * (1 - q))
    for budget in (1e-4, 1e-3):
        kl_at = kl_divergence(p, z, lambda_for_kl(budget, 1.0, var_z=q * (1 - q)))
        predicted = budget + 2 * math.sqrt(2) / 3 * gamma_1 * budget**1.5
        assert abs(kl_at - predicted) < 10 * budget**2 / (q * (1 - q))  # the O(τ²) term: κ_4 t⁴/8 = κ_4 τ²/(2κ_2²)
        assert kl_at > budget


def test_corollary_kl_budget_second_order_is_the_claim_kl_below_the_law() -> None:
    """The claim "KL at λ_τ^(2) <= τ for every τ" is "KL <= ½‖δ‖² Var for every ‖δ‖": on the pinned counterexample
    the KL is above the law at that strength, by exactly the violation."""
    ce = dict(_stmt("corollary-kl-budget-second-order").counterexample)
    var = projection_spread(ce["p"], ce["z"])[0]
    norm = ce["alpha"] * lambda_for_kl(ce["tau"], ce["alpha"], var_z=var)
    excess = kl_divergence(ce["p"], ce["z"], norm) - kl_second_order(norm, var)
    assert excess == pytest.approx(_stmt("corollary-kl-budget-second-order").violation(ce), rel=1e-12)
