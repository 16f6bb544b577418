"""Tradeoff analysis (bounds.tradeoff): laws, efficient regime, best λ, helpfulness limit, Pareto frontier, plot.

Ground truth is closed form where one exists (sqrt(τ/c), k/(2 p0 c), arccos(-1/3), ...) and otherwise an mpmath root
at 30 digits of the defining equation (B' = -w H').
"""

from __future__ import annotations

import json
import math
import warnings

import mpmath
import numpy as np
import pytest
from numpy.testing import assert_allclose

import bounds
from bounds import tradeoff as T


# ---------------------------------------------------------------------------------------------------------------
# helpers: laws with known closed forms
# ---------------------------------------------------------------------------------------------------------------
def tanh_law(a: float, b0: float) -> T.Law:
    return T.law_from_callable(
        "tanh",
        "behavior",
        lambda x: np.tanh(a * x + b0),
        derivative=lambda x: a / np.cosh(a * x + b0) ** 2,
    )


def quad_law(p0: float, c: float) -> T.Law:
    return T.law_from_callable(
        "quadratic", "helpfulness", lambda x: p0 * (1 - c * x**2), derivative=lambda x: -2 * p0 * c * x
    )


def linear_behavior(k: float, b: float = 0.0) -> T.Law:
    return T.law_from_callable("linear", "behavior", lambda x: b + k * x, derivative=lambda x: np.full_like(x, k))


# ---------------------------------------------------------------------------------------------------------------
# laws
# ---------------------------------------------------------------------------------------------------------------
def test_theorem_1_law_matches_alignment_lower_and_slope_at_zero() -> None:
    law = T.alignment_theorem_1_law(alpha=1.5, delta=0.8, B0=-0.4)
    lam = np.linspace(-4, 6, 21)
    assert_allclose(law(lam), bounds.alignment_lower(1.5, -0.4, lam, 0.8), rtol=0, atol=0)
    assert law.d(0.0) == pytest.approx(1.5 * 0.8 * (1 - 0.4**2) / 2, rel=1e-14)
    assert law.provenance == "theorem-1" and law.kind == "behavior" and law.scale == (-1.0, 1.0)
    assert "upper bound for λ < 0" in law.note


@pytest.mark.parametrize(
    "law",
    [
        T.alignment_theorem_1_law(1.2, 1.1, 0.3),
        T.helpfulness_expectation_law(0.6, 0.05, 1.3, 0.4),
        tanh_law(0.7, -0.5),
    ],
    ids=["theorem-1", "expectation", "tanh"],
)
def test_analytic_derivatives_agree_with_central_differences(law: T.Law) -> None:
    lam = np.linspace(-3, 4, 29)
    fd = T._central_difference(law.value)(lam)
    assert law.derivative_method == "analytic"
    assert_allclose(law.d(lam), fd, rtol=1e-8, atol=1e-9)


def test_central_difference_law_is_accurate_and_documented() -> None:
    law = T.law_from_callable("sin", "helpfulness", lambda x: 0.5 + 0.3 * np.sin(x))
    lam = np.linspace(-5, 5, 41)
    assert_allclose(law.d(lam), 0.3 * np.cos(lam), rtol=0, atol=1e-9)
    assert "central difference" in law.derivative_method
    assert T.FD_STEP == pytest.approx(np.finfo(float).eps ** (1 / 3))


def test_expectation_law_matches_package_function() -> None:
    law = T.helpfulness_expectation_law(p0=0.7, S2=0.04, alpha=2.0, sigma=0.2)
    lam = np.linspace(-1, 1, 11)
    assert_allclose(law(lam), bounds.helpfulness_expectation(0.7, 0.04, 2.0, 0.2, lam), rtol=0, atol=0)
    assert law.d(0.0) == 0.0
    assert "second order, valid for small ασλ" in law.provenance
    assert law.warning is None


def test_theorem_2_law_warns_and_carries_the_failure_note() -> None:
    with pytest.warns(T.Theorem2Warning, match="fails"):
        law = T.helpfulness_theorem_2_law(p0=0.4, gamma=0.9, alpha=1.0, beta=0.5, sigma=0.8)
    assert law.warning is not None and "not a valid bound" in law.warning
    assert bounds.statement("theorem-2").status in law.warning
    assert "status fails" in law.provenance
    lam = np.linspace(-3, 3, 13)
    assert_allclose(law(lam), bounds.helpfulness_upper(0.4, 0.9, 1.0, 0.5, 0.8, lam), rtol=0, atol=0)
    assert_allclose(law.d(lam), T._central_difference(law.value)(lam), rtol=1e-8, atol=1e-10)
    assert "β" in (law.note or "")  # docs/specification.md §6.1 caution travels with the law


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: T.alignment_theorem_1_law(-1.0, 1.0, 0.0), "alpha"),
        (lambda: T.alignment_theorem_1_law(1.0, 1.0, 1.0), "B0"),
        (lambda: T.alignment_theorem_1_law(1.0, [1.0, 2.0], 0.0), "delta must be a scalar"),
        (lambda: T.helpfulness_expectation_law(0.5, 0.3, 1.0, 1.0), "S2"),
        (lambda: T.helpfulness_expectation_law(0.0, 0.0, 1.0, 1.0), "p0"),
        (lambda: T.helpfulness_theorem_2_law(0.5, 1.5, 1.0, 1.0, 1.0), "gamma"),
    ],
)
def test_law_constructors_validate(call: object, match: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", T.Theorem2Warning)
        with pytest.raises(ValueError, match=match):
            call()  # type: ignore[operator]


def test_law_rejects_non_finite_values_naming_the_law() -> None:
    law = T.law_from_callable("bad", "helpfulness", lambda x: np.where(x < 0, np.nan, x))
    with pytest.raises(ValueError, match=r"law 'bad': value is not finite at lam = -1\.0"):
        law(np.array([1.0, -1.0]))


# ---------------------------------------------------------------------------------------------------------------
# efficient regime
# ---------------------------------------------------------------------------------------------------------------
def test_efficient_regime_linear_behavior_quadratic_helpfulness_closed_form() -> None:
    # B' = k, H' = -2 p0 c λ: efficient iff λ < k / (2 p0 c)
    k, p0, c = 0.1, 0.6, 0.05
    regime = T.efficient_regime(linear_behavior(k), quad_law(p0, c), (-3.0, 5.0))
    assert len(regime) == 1
    assert regime[0][0] == -3.0
    assert regime[0][1] == pytest.approx(k / (2 * p0 * c), rel=1e-11)


def test_efficient_regime_tanh_quadratic_matches_mpmath_root() -> None:
    a, b0, p0, c = 0.8, -0.4, 0.55, 0.07
    regime = T.efficient_regime(tanh_law(a, b0), quad_law(p0, c), (0.0, 8.0))
    with mpmath.workdps(30):
        root = mpmath.findroot(lambda x: a * mpmath.sech(a * x + b0) ** 2 - 2 * p0 * c * x, 2.0)
    assert len(regime) == 1 and regime[0][0] == 0.0
    assert regime[0][1] == pytest.approx(float(root), rel=1e-11)


def test_efficient_regime_several_intervals_closed_form() -> None:
    # B' = 0.1, H' = 0.3 cos λ: efficient iff cos λ > -1/3, i.e. |λ - 2πn| < arccos(-1/3)
    B = linear_behavior(0.1, 0.0)
    H = T.law_from_callable("sin", "helpfulness", lambda x: 0.5 + 0.3 * np.sin(x))  # central differences
    regime = T.efficient_regime(B, H, (0.0, 4 * np.pi))
    x0 = math.acos(-1 / 3)
    expected = [(0.0, x0), (2 * np.pi - x0, 2 * np.pi + x0), (4 * np.pi - x0, 4 * np.pi)]
    assert len(regime) == 3
    assert_allclose(np.array(regime), np.array(expected), rtol=0, atol=1e-9)


def test_small_lambda_is_efficient_under_theorem_1_and_expectation() -> None:
    B = T.alignment_theorem_1_law(1.0, 1.5, 0.2)
    H = T.helpfulness_expectation_law(0.8, 0.01, 1.0, 0.5)
    regime = T.efficient_regime(B, H, (-1.0, 10.0))
    assert regime and regime[0][0] == -1.0 and regime[0][1] > 0.1  # contains a neighbourhood of 0
    assert H.d(0.0) == 0.0 and B.d(0.0) > 0


def test_plain_callables_are_accepted_with_central_differences() -> None:
    a, b0, p0, c = 0.8, -0.4, 0.55, 0.07
    exact = T.efficient_regime(tanh_law(a, b0), quad_law(p0, c), (0.0, 8.0))
    plain = T.efficient_regime(lambda x: np.tanh(a * x + b0), lambda x: p0 * (1 - c * x**2), (0.0, 8.0))
    assert_allclose(np.array(plain), np.array(exact), rtol=1e-8)
    with pytest.raises(TypeError, match="H must be a Law or a callable"):
        T.efficient_regime(tanh_law(a, b0), 0.5, (0.0, 1.0))


def test_efficient_regime_empty_when_helpfulness_always_falls_faster() -> None:
    B = linear_behavior(0.01)
    H = T.law_from_callable("lin", "helpfulness", lambda x: 0.9 - 0.1 * x, derivative=lambda x: np.full_like(x, -0.1))
    assert T.efficient_regime(B, H, (0.0, 1.0)) == []


# ---------------------------------------------------------------------------------------------------------------
# best λ
# ---------------------------------------------------------------------------------------------------------------
def test_best_lambda_w_zero_is_upper_end_for_increasing_behavior() -> None:
    res = T.best_lambda(tanh_law(0.9, -1.0), quad_law(0.5, 0.02), 0.0, (-2.0, 4.0))
    assert res.lam == 4.0 and res.boundary == "upper" and res.at_boundary
    assert res.objective == pytest.approx(math.tanh(0.9 * 4 - 1.0), rel=1e-15)


def test_best_lambda_interior_matches_mpmath_root() -> None:
    a, b0, p0, c, w = 0.8, -0.4, 0.55, 0.07, 2.5
    res = T.best_lambda(tanh_law(a, b0), quad_law(p0, c), w, (-3.0, 8.0))
    with mpmath.workdps(30):
        root = float(mpmath.findroot(lambda x: a * mpmath.sech(a * x + b0) ** 2 - w * 2 * p0 * c * x, 1.0))
    assert res.boundary is None
    assert res.lam == pytest.approx(root, rel=1e-10)
    assert res.objective == pytest.approx(math.tanh(a * root + b0) + w * p0 * (1 - c * root**2), rel=1e-14)
    # with w = 1 the optimum is where the efficient regime ends
    reg = T.efficient_regime(tanh_law(a, b0), quad_law(p0, c), (-3.0, 8.0))
    best1 = T.best_lambda(tanh_law(a, b0), quad_law(p0, c), 1.0, (-3.0, 8.0))
    assert best1.lam == pytest.approx(reg[-1][1], rel=1e-10)


def test_best_lambda_huge_weight_approaches_helpfulness_maximum() -> None:
    # H peaks at λ = 1.5; B' = k constant: optimum at 1.5 + k / (2 w p0 c)
    p0, c, k = 0.6, 0.2, 0.05
    H = T.law_from_callable(
        "shifted", "helpfulness", lambda x: p0 * (1 - c * (x - 1.5) ** 2), derivative=lambda x: -2 * p0 * c * (x - 1.5)
    )
    for w in (1e2, 1e6):
        res = T.best_lambda(linear_behavior(k), H, w, (-4.0, 4.0))
        assert res.lam == pytest.approx(1.5 + k / (2 * w * p0 * c), abs=1e-10)
    assert T.best_lambda(linear_behavior(k), H, 1e6, (-4.0, 4.0)).lam == pytest.approx(1.5, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"w": -1.0}, ValueError, "w must lie in the closed interval"),
        ({"w": math.inf}, ValueError, "w must be finite"),
        ({"lam_range": (2.0, 1.0)}, ValueError, "lam_range must satisfy lo < hi"),
        ({"lam_range": (0.0, math.inf)}, ValueError, "lam_range must be finite"),
        ({"lam_range": (0.0, 1.0, 2.0)}, ValueError, "lam_range must be a pair"),
        ({"lam_range": "ab"}, TypeError, "lam_range"),
        ({"n_grid": 2}, ValueError, "n_grid"),
    ],
)
def test_best_lambda_validates(kwargs: dict, exc: type, match: str) -> None:
    args = {"w": 1.0, "lam_range": (0.0, 1.0)} | kwargs
    n_grid = args.pop("n_grid", T.N_GRID)
    with pytest.raises(exc, match=match):
        T.best_lambda(tanh_law(1, 0), quad_law(0.5, 0.1), args["w"], args["lam_range"], n_grid=n_grid)


def test_swapped_laws_are_an_error() -> None:
    with pytest.raises(ValueError, match="B must be a behavior law"):
        T.best_lambda(quad_law(0.5, 0.1), tanh_law(1, 0), 1.0, (0.0, 1.0))


# ---------------------------------------------------------------------------------------------------------------
# largest λ keeping H >= (1-τ) p0
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("tau", "c"), [(0.1, 0.05), (0.3, 0.5), (0.01, 0.002)])
def test_max_lambda_quadratic_is_sqrt_tau_over_c(tau: float, c: float) -> None:
    res = T.max_lambda_keeping_helpfulness(quad_law(0.6, c), tau, (-50.0, 50.0))
    assert res.crossed and res.lam == pytest.approx(math.sqrt(tau / c), rel=1e-11)
    assert res.threshold == pytest.approx((1 - tau) * 0.6)
    neg = T.max_lambda_keeping_helpfulness(quad_law(0.6, c), tau, (-50.0, 50.0), side="negative")
    assert neg.lam == pytest.approx(-math.sqrt(tau / c), rel=1e-11)


def test_max_lambda_theorem_2_form_closed_form() -> None:
    # 1/(1+a(1+b²λ²/2)) = (1-τ)/(1+a)  <=>  λ = (√2/b) sqrt(τ(1+a) / (a(1-τ)))
    a, b, tau = 1.3, 0.6, 0.2
    H = T.law_from_callable("T", "helpfulness", lambda x: 1 / (1 + a * (1 + 0.5 * (b * x) ** 2)))
    res = T.max_lambda_keeping_helpfulness(H, tau, (0.0, 20.0))
    assert res.lam == pytest.approx(math.sqrt(2) / b * math.sqrt(tau * (1 + a) / (a * (1 - tau))), rel=1e-11)


def test_max_lambda_is_the_first_crossing_not_the_last() -> None:
    # dips below 0.9 p0 around λ = 1 and recovers: H = p0 (1 - 0.5 sin²(λ))
    p0 = 0.5
    H = T.law_from_callable("dip", "helpfulness", lambda x: p0 * (1 - 0.5 * np.sin(x) ** 2))
    res = T.max_lambda_keeping_helpfulness(H, 0.1, (0.0, 10.0))
    assert res.lam == pytest.approx(math.asin(math.sqrt(0.2)), rel=1e-11)  # first solution of sin² = 0.2
    assert "first crossing" in res.reason


def test_max_lambda_not_crossed_returns_range_end() -> None:
    res = T.max_lambda_keeping_helpfulness(quad_law(0.6, 0.001), 0.1, (-1.0, 2.0))
    assert res.lam == 2.0 and not res.crossed and "beyond" in res.reason


def test_max_lambda_none_when_violated_at_zero() -> None:
    res = T.max_lambda_keeping_helpfulness(quad_law(0.5, 0.1), 0.1, (0.0, 2.0), p0=0.9)
    assert res.lam is None and "already below" in res.reason


def test_max_lambda_tau_zero_stops_at_zero_for_decreasing_law() -> None:
    assert T.max_lambda_keeping_helpfulness(quad_law(0.5, 0.1), 0.0, (0.0, 2.0)).lam == 0.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tau": 1.5}, "tau"),
        ({"tau": -0.1}, "tau"),
        ({"lam_range": (1.0, 2.0)}, "lam_range must contain 0"),
        ({"lam_range": (-1.0, 0.0)}, "no positive λ"),
        ({"p0": 1.2}, "p0"),
        ({"side": "up"}, "side"),
    ],
)
def test_max_lambda_validates(kwargs: dict, match: str) -> None:
    args = {"tau": 0.1, "lam_range": (-1.0, 1.0)} | kwargs
    tau, lam_range = args.pop("tau"), args.pop("lam_range")
    with pytest.raises(ValueError, match=match):
        T.max_lambda_keeping_helpfulness(quad_law(0.5, 0.1), tau, lam_range, **args)


# ---------------------------------------------------------------------------------------------------------------
# Pareto frontier
# ---------------------------------------------------------------------------------------------------------------
def brute_force_mask(b: np.ndarray, h: np.ndarray) -> np.ndarray:
    ge = (b[None, :] >= b[:, None]) & (h[None, :] >= h[:, None])
    gt = (b[None, :] > b[:, None]) | (h[None, :] > h[:, None])
    return ~(ge & gt).any(axis=1)


def test_pareto_mask_constructed_case() -> None:
    # B non-monotone (rises, falls, rises), H falls then rises: the frontier by hand
    lam = np.arange(6.0)
    b_vals = np.array([0.0, 0.5, 0.3, 0.5, 0.9, 0.9])
    h_vals = np.array([0.9, 0.8, 0.95, 0.7, 0.2, 0.2])
    B = T.law_from_callable("B", "behavior", lambda x: np.interp(x, lam, b_vals))
    H = T.law_from_callable("H", "helpfulness", lambda x: np.interp(x, lam, h_vals))
    pf = T.pareto_frontier(B, H, lam)
    # 0 dominated by 2 (0.3 >= 0, 0.95 > 0.9); 3 dominated by 1; 4 and 5 equal: both kept
    assert pf.mask.tolist() == [False, True, True, False, True, True]
    assert pf.lam_intervals() == [(1.0, 2.0), (4.0, 5.0)]


def test_pareto_mask_matches_brute_force_on_non_monotone_laws() -> None:
    rng = np.random.default_rng(20240131)
    lam = rng.uniform(-6, 6, 400)
    B = T.law_from_callable("B", "behavior", lambda x: np.tanh(0.6 * x) * np.cos(0.7 * x))
    H = T.law_from_callable("H", "helpfulness", lambda x: 0.5 + 0.4 * np.sin(x) * np.exp(-0.1 * x**2))
    pf = T.pareto_frontier(B, H, np.round(lam, 1))  # rounding creates ties
    assert np.array_equal(pf.mask, brute_force_mask(pf.B, pf.H))
    assert 0 < pf.mask.sum() < lam.size


def test_pareto_validates_lam() -> None:
    with pytest.raises(ValueError, match="lam must be a non-empty 1-D array"):
        T.pareto_frontier(tanh_law(1, 0), quad_law(0.5, 0.1), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="lam must not be NaN"):
        T.pareto_frontier(tanh_law(1, 0), quad_law(0.5, 0.1), [0.0, np.nan])


# ---------------------------------------------------------------------------------------------------------------
# plot and summary
# ---------------------------------------------------------------------------------------------------------------
def test_plot_pareto_returns_labelled_figure_with_colorbar_and_warning() -> None:
    from matplotlib.figure import Figure

    with pytest.warns(T.Theorem2Warning):
        H = T.helpfulness_theorem_2_law(0.5, 0.9, 1.0, 0.5, 1.0)
    B = T.alignment_theorem_1_law(1.0, 2.0, -0.3)
    fig = T.plot_pareto(B, H, (-3.0, 5.0), mark={"chosen": 1.0})
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "behavior expectation B(λ)"
    assert ax.get_ylabel() == "helpfulness H(λ)"
    assert len(fig.axes) == 2  # the colorbar
    assert fig.axes[1].get_ylabel() == "steering coefficient λ"
    title = ax.get_title(loc="left")
    assert B.name in title and H.name in title and "fails" in title
    labels = ax.get_legend_handles_labels()[1]
    assert "chosen" in labels and "Pareto frontier (non-dominated)" in labels


def test_analyse_bundles_everything_and_is_json_serialisable() -> None:
    B = T.alignment_theorem_1_law(1.0, 2.0, -0.3)
    H = T.helpfulness_expectation_law(0.6, 0.05, 1.0, 0.3)
    s = T.analyse(B, H, w=1.0, tau=0.1, lam_range=(-3.0, 5.0))
    d = json.loads(json.dumps(s.to_dict()))
    assert d["best"]["lam"] == pytest.approx(d["efficient_regime"][-1][1], rel=1e-10)
    # §12.2c: H = p0 (1 - κ λ²) with κ = α²σ²[p0(1-p0) - S2]  =>  max λ = sqrt(τ/κ)
    kappa = 0.3**2 * (0.6 * 0.4 - 0.05)
    assert d["helpfulness_limit"]["lam"] == pytest.approx(math.sqrt(0.1 / kappa), rel=1e-11)
    assert d["helpfulness_limit_negative"]["lam"] == pytest.approx(-math.sqrt(0.1 / kappa), rel=1e-11)
    assert d["slopes_at_zero"]["dB/dλ"] == pytest.approx(1.0 * 2.0 * (1 - 0.09) / 2)
    assert d["H"]["provenance"].startswith("theorem-2-expectation")
    assert d["pareto_frontier_lam_intervals"][0][0] == pytest.approx(0.0, abs=1e-12)
    assert d["warnings"] == []
    assert len(s.plot().axes) == 2


def test_analyse_reports_law_leaving_its_scale_and_theorem_2_warning() -> None:
    B = T.alignment_theorem_1_law(1.0, 2.0, 0.0)
    H = T.helpfulness_expectation_law(0.6, 0.05, 1.0, 0.5)  # p0(1 - 0.0475 λ²) < 0 for |λ| > 4.59
    s = T.analyse(B, H, lam_range=(0.0, 6.0))
    assert any("leaves its scale [0, 1]" in w for w in s.warnings)
    with pytest.warns(T.Theorem2Warning):
        H2 = T.helpfulness_theorem_2_law(0.5, 0.9, 1.0, 0.5, 1.0)
    s2 = T.analyse(B, H2, lam_range=(1.0, 6.0))
    assert any("status 'fails'" in w for w in s2.warnings)
    assert s2.helpfulness_limit is None and any("does not contain 0" in w for w in s2.warnings)


@pytest.mark.parametrize(
    ("model", "form", "truth", "kind", "label"),
    [
        ("AlignmentModel", "tanh_law", {"a": 0.8, "b0": -0.3}, "behavior", "fitted tanh ("),
        ("Theorem2Model", "theorem_2_form", {"a": 1.1, "b": 0.5}, "helpfulness", "fitted eq. (6) form ("),
        ("RestrictedModel", "restricted_form", {"a": 1.1, "b": 0.5}, "helpfulness", "fitted restricted form ("),
        ("ExpectationModel", "expectation_form", {"p0": 0.6, "c": 0.05}, "helpfulness", "fitted §12.2c expectation"),
        ("LinearModel", "linear", {"slope": 0.1, "intercept": 0.4}, "helpfulness", "fitted linear ("),
        ("QuadraticModel", "parabolic", {"a": -0.02, "b": 0.01, "c": 0.5}, "helpfulness", "fitted parabolic ("),
        ("ConstantModel", None, {"c": 0.4}, "helpfulness", "fitted constant ("),
    ],
)
def test_law_from_result_takes_the_derivative_of_the_lineshape(model, form, truth, kind, label) -> None:
    import lmfit.lineshapes
    import lmfit.models

    from bounds import fitting

    lam = np.linspace(-3.0, 3.0, 25)
    m = getattr(fitting, model, None) or getattr(lmfit.models, model)
    m = m(4) if model == "RestrictedModel" else m()
    f = (getattr(fitting, form, None) or getattr(lmfit.lineshapes, form)) if form else None
    extra = {"k": 4} if model == "RestrictedModel" else {}
    y = (f(lam, **truth, **extra) if f else truth["c"] + 0 * lam) + np.random.default_rng(1).normal(0, 1e-3, lam.size)
    law = T.Law.from_result(fitting.fit(m, lam, y))
    assert law.kind == kind and law.derivative_method == "analytic" and law.name.startswith(label)
    grid = np.linspace(-2.5, 2.5, 11)
    assert_allclose(law.d(grid), T._central_difference(law.value)(grid), rtol=1e-7, atol=1e-9)
    assert (law.note == T.BETA_CAUTION) == (model in ("Theorem2Model", "RestrictedModel"))
    assert T.Law.from_result(fitting.fit(m, lam, y), "behavior").kind == "behavior"
    with pytest.raises(TypeError, match="ModelResult"):
        T.Law.from_result(object())


def test_law_from_result_of_a_fixed_b0_and_of_an_unknown_model() -> None:
    import lmfit

    from bounds import fitting

    lam = np.linspace(-3.0, 3.0, 25)
    y = np.tanh(0.8 * lam - 0.3)
    law = T.Law.from_result(fitting.fit(fitting.AlignmentModel(b0=-0.3), lam, y))
    assert law.name.endswith(", fixed)") and law.provenance == "fitted tanh (b0 fixed)"
    unknown = lmfit.Model(lambda lam, s=1.0: 0.5 + 0.1 * np.sin(s * lam), independent_vars=["lam"])
    law = T.Law.from_result(fitting.fit(unknown, lam, 0.5 + 0.1 * np.sin(0.7 * lam), params=unknown.make_params(s=0.6)))
    assert law.kind == "helpfulness" and "central difference" in law.derivative_method
    assert law.provenance == f"fitted {unknown.name}"
