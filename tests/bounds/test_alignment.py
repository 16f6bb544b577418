"""Theorem 1 and Corollary 1, settled against the exact steered distribution (docs/specification.md §4–§5)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, reject
from hypothesis import strategies as st

import bounds
from bounds import domains as S
from bounds.strategies import hard_margin_instances
from bounds.synthetic import BehaviorInstance
from tests._hyp import checked, counted, many, search

TOL = 1e-10
#: log-weights down to this keep every mass above ~1e-15 of the largest, so B0 = P+ - P- is not rounded to ±1
FLOAT_B0_LOG_WEIGHT = -34.0


def _bound(inst: BehaviorInstance, signed_norm: float) -> float:
    """Theorem 1's expression at signed ‖δ‖, with artanh B0 taken in log space (exact when B0 rounds to ±1)."""
    return float(np.tanh(0.5 * inst.delta * signed_norm + inst.artanh_B0))


def _t1_nondegenerate(inst: BehaviorInstance, bound: float, lower: bool) -> bool:
    """Theorem 1's non-degenerate instances (``theorem-1``'s ``nondegenerate``): ``Δ‖δ‖ >= 1e-6`` (the bound moves off
    ``B0``: (5) says more than ``B >= B0``) and the bound is not vacuous (above ``-1 + 1e-9`` as a lower bound, below
    ``1 - 1e-9`` as the upper bound of steering with ``-λ``)."""
    return inst.delta * inst.norm >= 1e-6 and (bound > -1 + 1e-9 if lower else bound < 1 - 1e-9)


# -- Theorem 1 -----------------------------------------------------------------------------------------------------
@counted("theorem-1")
@many(3000)
@given(hard_margin_instances())
def test_theorem_1_holds_on_hard_margin_instances(inst: BehaviorInstance) -> None:
    bound = _bound(inst, inst.norm)
    assert inst.behavior(inst.norm) >= bound - TOL
    checked(_t1_nondegenerate(inst, bound, lower=True))


@counted("theorem-1")
@many(1500)
@given(hard_margin_instances())
def test_theorem_1_upper_bound_for_negative_lambda(inst: BehaviorInstance) -> None:
    """Steering with -λ is steering towards A-: the same expression bounds B from above (docs/specification.md §0)."""
    bound = _bound(inst, -inst.norm)
    assert inst.behavior(-inst.norm) <= bound + TOL
    checked(_t1_nondegenerate(inst, bound, lower=False))


@many(500)
@given(
    st.floats(1e-6, 1 - 1e-6),
    st.floats(0.0, 10.0),
    st.floats(0.01, 10.0),
    st.floats(-20.0, 20.0),
)
def test_theorem_1_tight_on_two_token_model(P_plus: float, norm: float, delta: float, z_minus: float) -> None:
    """Two tokens whose projections differ by exactly Δ attain the bound (so the ½ cannot be dropped)."""
    inst = BehaviorInstance(
        p=np.array([P_plus, 1 - P_plus]),
        z=np.array([z_minus + delta, z_minus]),
        scores=np.array([1.0, -1.0]),
        delta=delta,
        norm=norm,
    )
    assert inst.behavior(norm) == pytest.approx(_bound(inst, norm), abs=1e-9)


def test_theorem_1_without_half_is_violated() -> None:
    """The form without ½, tanh(αΔλ + artanh B0), overstates the bound: search finds a violating instance."""

    def violated(inst: BehaviorInstance) -> bool:
        return inst.behavior(inst.norm) < np.tanh(inst.delta * inst.norm + inst.artanh_B0) - 1e-6

    ce = search(hard_margin_instances(), violated)
    assert violated(ce)


@many(1000)
@given(
    st.floats(0.0, 10.0),
    st.floats(-1 + 1e-15, 1 - 1e-15).filter(lambda b: abs(b) < 1),
    st.floats(-10, 10),
    st.floats(0.0, 10.0),
)
def test_alignment_lower_matches_sympy(alpha: float, B0: float, lam: float, delta: float) -> None:
    f = sp.lambdify((S.alpha, S.B0, S.lam, S.Delta), bounds.statement("theorem-1").expr, "mpmath")
    assert bounds.alignment_lower(alpha, B0, lam, delta) == pytest.approx(float(f(alpha, B0, lam, delta)), abs=1e-12)


def test_theorem_1_series_matches_hand_derivation() -> None:
    st1 = bounds.statement("theorem-1")
    c0, c1, c2 = st1.series_coefficients(2)
    assert sp.simplify(c0 - S.B0) == 0
    assert sp.simplify(c1 - S.alpha * S.Delta * (1 - S.B0**2) / 2) == 0  # the slope of docs/specification.md §4
    # second derivative of tanh(u): -2 tanh(u)(1 - tanh(u)^2), times (αΔ/2)^2, divided by 2!
    assert sp.simplify(c2 + S.B0 * (1 - S.B0**2) * (S.alpha * S.Delta) ** 2 / 4) == 0


def test_theorem_1_asymptotic_matches_hand_derivation() -> None:
    # tanh(y) = 1 - 2 e^{-2y} + O(e^{-4y}) with e^{-2 artanh B0} = (1 - B0)/(1 + B0)
    got = bounds.statement("theorem-1").asymptotic(2)
    want = 1 - 2 * (1 - S.B0) / (1 + S.B0) * sp.exp(-S.alpha * S.Delta * S.lam)
    assert sp.simplify(got - want) == 0


def test_alignment_lower_properties_claimed() -> None:
    lam = np.linspace(-50, 50, 2001)
    for b0 in (-0.999, -0.3, 0.0, 0.7):
        y = bounds.alignment_lower(0.8, b0, lam, 1.5)
        assert bounds.alignment_lower(0.8, b0, 0.0, 1.5) == pytest.approx(b0)
        assert np.all(np.diff(y) >= 0)  # monotone in λ when αΔ > 0
        assert np.all((y >= -1) & (y <= 1))
    assert bounds.alignment_lower(1.0, -0.5, 1e6, 1.0) == 1.0
    assert bounds.alignment_lower(1.0, 1 - 1e-15, -1e6, 1.0) == -1.0


def test_alignment_lower_scalars_and_broadcast() -> None:
    assert isinstance(bounds.alignment_lower(1.0, 0.2, 0.5, 1.0), float)
    out = bounds.alignment_lower(np.array([[1.0], [2.0]]), 0.2, np.array([0.0, 1.0, 2.0]), 1.0)
    assert out.shape == (2, 3)


@pytest.mark.parametrize(
    ("kwargs", "param", "fragment"),
    [
        ({"B0": 1.0}, "B0", "open interval (-1.0, 1.0)"),
        ({"B0": -1.0}, "B0", "open interval"),
        ({"alpha": -0.1}, "alpha", "[0.0, inf]"),
        ({"delta": -2.0}, "delta", "[0.0, inf]"),
        ({"lam": float("nan")}, "lam", "NaN"),
        ({"lam": np.inf}, "lam", "finite"),
        ({"alpha": np.ones(3), "lam": np.ones(4)}, "alpha (3,)", "broadcast"),
    ],
)
def test_alignment_lower_bad_input(kwargs: dict, param: str, fragment: str) -> None:
    args = {"alpha": 1.0, "B0": 0.0, "lam": 1.0, "delta": 1.0} | kwargs
    with pytest.raises(ValueError) as err:
        bounds.alignment_lower(**args)
    assert param in str(err.value) and fragment in str(err.value)


def test_alignment_lower_rejects_non_numeric() -> None:
    with pytest.raises(TypeError, match="B0"):
        bounds.alignment_lower(1.0, "0.5", 1.0, 1.0)


# -- Corollary 1 ---------------------------------------------------------------------------------------------------
@counted("corollary-1")
@many(2000)
@given(
    hard_margin_instances(max_norm=0.0, positive_margin=True, min_log_weight=FLOAT_B0_LOG_WEIGHT),
    st.floats(1e-6, 2 - 1e-6),
    st.floats(0.05, 5.0),
    st.floats(0.0, 5.0),
)
def test_corollary_1_holds_at_and_beyond_threshold(
    inst: BehaviorInstance, eps: float, alpha: float, beyond: float
) -> None:
    """At λ = λ* and beyond, the exact steered behavior of a hard-margin instance is >= 1 - ε.

    Corollary 1's hypotheses, generated: 0 < ε < 2, α > 0, Δ > 0 (``positive_margin``), Theorem 1's instance with
    -1 < B0 < 1 in float64 (masses within e^-34 of each other: ``alignment_guarantee`` takes B0, which a minority
    mass below ~1e-16 rounds to ±1). What float64 still cannot check is rejected (``assume``), not passed: B0 rounded
    all the same, λ* or ‖δ‖ z beyond float64.
    Non-degenerate (``corollary-1``'s ``nondegenerate``): λ* > 0, i.e. B0 < 1 - ε (steering is needed)."""
    assume(-1 < inst.B0 < 1)
    try:
        lam_star = bounds.alignment_guarantee(eps, inst.B0, alpha, inst.delta)
    except ValueError as exc:  # αΔ subnormal: λ* is not representable, and the function says so
        assert "float64 range" in str(exc)
        reject()
    # B0 = P+ - P- carries a rounding error of ~1e-16 absolute, i.e. ~1e-16/(1-|B0|) relative on 1 ± B0, which
    # enters λ* through log1p(±B0): the tolerance scales with that conditioning.
    tol = 1e-10 + 1e-15 / (1 - abs(inst.B0))
    for lam in (lam_star, lam_star + beyond):
        # A subnormal αΔ puts ‖δ‖ = αλ* (or ‖δ‖·|z|) beyond float64, where the exact behavior cannot be evaluated
        # (steered_distribution raises, as documented): such draws are not instances that can be checked.
        assume(np.isfinite(alpha * lam) and alpha * lam * np.ptp(inst.z) < 1e308)
        assert inst.behavior(alpha * lam) >= 1 - eps - tol
    checked(lam_star > 0)


@many(1000)
@given(st.floats(1e-9, 2 - 1e-9), st.floats(-1 + 1e-9, 1 - 1e-9), st.floats(0.01, 10.0), st.floats(0.01, 10.0))
def test_corollary_1_threshold_is_smallest(eps: float, B0: float, alpha: float, delta: float) -> None:
    lam_star = bounds.alignment_guarantee(eps, B0, alpha, delta)
    if B0 >= 1 - eps:  # at B0 = 1 - eps exactly, λ* = 0 up to the rounding of log1p terms, divided by αΔ
        assert lam_star == pytest.approx(0.0, abs=1e-15 / (alpha * delta))
    else:
        assert bounds.alignment_lower(alpha, B0, lam_star, delta) == pytest.approx(1 - eps, abs=1e-9)
        assert bounds.alignment_lower(alpha, B0, lam_star * (1 - 1e-6), delta) < 1 - eps + 1e-12


def test_corollary_1_paper_form_for_negative_B0() -> None:
    """For B0 < 0 both forms of docs/specification.md §5 agree (sympy) with the numeric function."""
    e, b = sp.Rational(1, 10), sp.Rational(-3, 10)
    paper = 2 / (S.alpha * S.Delta) * (sp.atanh(1 - e) + sp.atanh(sp.Abs(b)))
    log_form = sp.log((2 - e) * (1 + sp.Abs(b)) / (e * (1 - sp.Abs(b)))) / (S.alpha * S.Delta)
    assert sp.simplify((paper - log_form).rewrite(sp.log)) == 0
    val = float(paper.subs({S.alpha: 2, S.Delta: 0.5}))
    assert bounds.alignment_guarantee(0.1, -0.3, 2.0, 0.5) == pytest.approx(val, rel=1e-12)


def test_corollary_1_extremes_finite() -> None:
    assert np.isfinite(bounds.alignment_guarantee(1e-300, -(1 - 1e-15), 1e-3, 1e-3))
    assert bounds.alignment_guarantee(0.5, 1 - 1e-15, 1.0, 1.0) == 0.0
    with pytest.raises(ValueError, match="eps"):
        bounds.alignment_guarantee(2.0, 0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        bounds.alignment_guarantee(0.1, 0.0, 0.0, 1.0)
