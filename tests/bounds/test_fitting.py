"""bounds.fitting: the laws as pure functions, their lmfit Models, fits, intervals, the query bootstrap, comparisons.

Ground truth comes from two places: the toolkit's own bounds (a fit of the exact Theorem 1 / eq. (6) / §12.2(c)
curve must return the parameters that generated it to high precision), and data simulated with known parameters
and Gaussian noise (fits must recover them, and the reported 95 % intervals must cover them at the stated rate
over many seeds, judged with the binomial standard error).
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import lmfit
import lmfit.lineshapes
import lmfit.models
import numpy as np
import pytest
from numpy.testing import assert_allclose

import bounds.fitting as F
from bounds import alignment_lower, helpfulness_expectation, helpfulness_upper
from bounds.fitting import lineshapes

ROOT = Path(__file__).resolve().parents[2]

# the two simulated designs of the coverage checks: (model factory, form, truth, lam grid, noise sd)
TANH = (F.AlignmentModel, F.tanh_law, {"a": 0.8, "b0": -0.4}, np.linspace(-3.0, 3.0, 31), 0.05)
THEOREM_2 = (F.Theorem2Model, F.theorem_2_form, {"a": 1.0, "b": 0.5}, np.linspace(-5.0, 5.0, 31), 0.01)
DESIGNS = {"tanh": TANH, "theorem-2": THEOREM_2}


def _simulate(form, truth, lam, sd, seed):
    rng = np.random.default_rng(seed)
    return form(lam, **truth) + rng.normal(0.0, sd, lam.shape)


def _band(p: float, n: int) -> float:
    """4 binomial standard errors of a frequency with success probability p over n trials."""
    return 4.0 * np.sqrt(p * (1.0 - p) / n)


# ---------------------------------------------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", lineshapes.functions)
def test_forms_scalar_in_float_out_and_array_shape(name: str) -> None:
    f = getattr(lineshapes, name)
    assert isinstance(f(0.3), float)
    lam = np.linspace(-2.0, 2.0, 7)
    assert f(lam).shape == lam.shape
    with pytest.raises(ValueError, match="lam"):
        f(np.array([0.0, np.nan]))


def _central(f, lam, h=1e-6, **pars):
    return (f(lam + h, **pars) - f(lam - h, **pars)) / (2 * h)


@pytest.mark.parametrize("name", lineshapes.functions)
def test_each_law_has_its_lambda_derivative(name: str) -> None:
    f, lam = getattr(lineshapes, name), np.linspace(-3.0, 3.0, 13)
    pars = {"tanh_law": {"a": 0.7, "b0": -0.2}, "expectation_form": {"p0": 0.6, "c": 0.3}}.get(
        name, {"a": 1.2, "b": 0.5}
    )
    assert lineshapes.derivative_of(f) is getattr(lineshapes, f"{name}_dlam")
    assert_allclose(lineshapes.derivative_of(f)(lam, **pars), _central(f, lam, **pars), atol=1e-8)


def test_lmfit_comparison_lineshapes_have_their_derivatives() -> None:
    lam = np.linspace(-3.0, 3.0, 13)
    for func, pars in ((lmfit.lineshapes.linear, {"slope": 0.3}), (lmfit.lineshapes.parabolic, {"a": 0.2, "b": -0.1})):
        assert_allclose(lineshapes.derivative_of(func)(lam, **pars), _central(func, lam, **pars), atol=1e-8)
    constant = lmfit.models.ConstantModel().func
    assert_allclose(lineshapes.derivative_of(constant)(lam, c=0.4), np.zeros_like(lam))
    poly, pars = lmfit.models.PolynomialModel(2).func, {"c0": 0.5, "c1": -0.1, "c2": 0.2}
    assert_allclose(lineshapes.derivative_of(poly)(lam, **pars), _central(poly, lam, **pars), atol=1e-8)
    assert lineshapes.derivative_of(np.sin) is None


def test_tanh_law_is_theorem_1_with_a_half_alpha_delta() -> None:
    lam = np.linspace(-3.0, 5.0, 17)
    for alpha, B0, delta in [(1.0, 0.0, 1.0), (2.5, -0.6, 0.8), (0.3, 0.9, 4.0)]:
        assert_allclose(
            F.tanh_law(lam, a=alpha * delta / 2, b0=np.arctanh(B0)), alignment_lower(alpha, B0, lam, delta), rtol=1e-14
        )


def test_theorem_2_form_is_eq_6_and_restricted_form_is_the_mixture() -> None:
    lam = np.linspace(-10.0, 10.0, 41)
    p0, gamma, alpha, beta, sigma = 0.3, 0.9, 1.3, 0.54, 0.7
    a, b = gamma * (1 - p0) / p0, alpha * beta * sigma
    eq6 = helpfulness_upper(p0, gamma, alpha, beta, sigma, lam)
    assert_allclose(F.theorem_2_form(lam, a=a, b=b), eq6, rtol=1e-13)
    # the authors' 0.5 T + 0.25 over A-D is k = 4 (docs/specification.md §7)
    assert_allclose(F.restricted_form(lam, a=a, b=b, k=4), 0.5 * eq6 + 0.25, rtol=1e-13)
    assert_allclose(F.restricted_form(lam, a=a, b=b, k=10), 0.8 * eq6 + 0.1, rtol=1e-13)
    assert_allclose(F.theorem_2_form(lam, a=a, b=-b), eq6, rtol=1e-13)  # only b² enters


def test_expectation_form_is_the_second_order_expected_helpfulness() -> None:
    lam = np.linspace(-0.5, 0.5, 11)
    for p0, s2, alpha, sigma in [(0.6, 0.05, 1.0, 0.4), (0.2, 0.49, 2.0, 0.3)]:  # second: confidently wrong, c < 0
        c = alpha**2 * sigma**2 * (p0 * (1 - p0) - s2)
        assert_allclose(F.expectation_form(lam, p0=p0, c=c), helpfulness_expectation(p0, s2, alpha, sigma, lam))
    assert F.expectation_form(0.5, p0=0.2, c=-0.1) > 0.2  # negative curvature: helpfulness rises


def test_theorem_2_form_limits_without_warnings() -> None:
    with np.errstate(all="raise"):
        assert F.theorem_2_form(1e300, a=1.0, b=1.0) == 0.0
        assert F.theorem_2_form(1e300, a=0.0, b=1.0) == 1.0
    assert F.theorem_2_form(0.0, a=3.0, b=7.0) == 0.25


@pytest.mark.parametrize(
    ("call", "exc", "name"),
    [
        (lambda: F.theorem_2_form(1.0, a=-0.1), ValueError, "a"),
        (lambda: F.restricted_form(1.0, k=1), ValueError, "k"),
        (lambda: F.restricted_form(1.0, k=4.0), TypeError, "k"),
        (lambda: F.expectation_form(1.0, p0=1.5), ValueError, "p0"),
        (lambda: F.expectation_form(1e200, c=1e200), ValueError, "lam"),
        (lambda: F.tanh_law(1.0, a=np.inf), ValueError, "a"),
        (lambda: F.tanh_law(np.ones(3), a=np.ones(2)), ValueError, "broadcast"),
    ],
)
def test_forms_reject_bad_parameters_by_name(call, exc, name) -> None:
    with pytest.raises(exc, match=name):
        call()


# ---------------------------------------------------------------------------------------------------------------
# Models: parameters, hints, guess
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "names", "bounds"),
    [
        (F.AlignmentModel(), ["a", "b0"], {"a": (0.0, np.inf), "b0": (-np.inf, np.inf)}),
        (F.Theorem2Model(), ["a", "b"], {"a": (0.0, np.inf), "b": (0.0, np.inf)}),
        (F.RestrictedModel(4), ["a", "b"], {"a": (0.0, np.inf), "b": (0.0, np.inf)}),
        (F.ExpectationModel(), ["p0", "c"], {"p0": (0.0, 1.0), "c": (-np.inf, np.inf)}),
        (lmfit.models.LinearModel(), ["slope", "intercept"], {}),
        (lmfit.models.QuadraticModel(), ["a", "b", "c"], {}),
        (lmfit.models.ConstantModel(), ["c"], {}),
    ],
)
def test_models_parameters_and_hints(model: lmfit.Model, names: list[str], bounds: dict) -> None:
    # the comparison candidates are lmfit's own models, in their variable x (= λ)
    assert model.independent_vars == (["lam"] if type(model).__module__ == "bounds.fitting.models" else ["x"])
    assert model.param_names == names
    pars = model.make_params()
    for name, (lo, hi) in bounds.items():
        assert (pars[name].min, pars[name].max) == (lo, hi)
    assert all(pars[n].vary for n in names)
    assert ".. math::" in type(model).__doc__ or model.func.__name__ == "constant"


def test_restricted_model_k_is_fixed_not_a_parameter() -> None:
    m = F.RestrictedModel(10)
    assert "k" not in m.make_params()
    lam = np.linspace(-3, 3, 7)
    assert_allclose(m.eval(m.make_params(a=2.0, b=0.5), lam=lam), F.restricted_form(lam, 2.0, 0.5, k=10))
    with pytest.raises(ValueError, match="k must be an integer >= 3"):
        F.RestrictedModel(2)
    with pytest.raises(ValueError, match="k"):
        F.RestrictedModel(1)
    with pytest.raises(TypeError, match="k"):
        F.RestrictedModel(4.0)


def test_prefix_applies_to_hints_and_guess() -> None:
    m = F.AlignmentModel(prefix="t_")
    lam = np.linspace(-2, 2, 9)
    pars = m.guess(F.tanh_law(lam, 0.5, 0.2), lam=lam)
    assert set(pars) == {"t_a", "t_b0"} and pars["t_a"].min == 0.0


GUESS_CASES = [
    (F.AlignmentModel(), F.tanh_law, {"a": 0.8, "b0": -0.4}, np.linspace(-3, 3, 31)),
    (F.AlignmentModel(), F.tanh_law, {"a": 3.0, "b0": -8.0}, np.linspace(-3, 5, 41)),  # chat-like: saturated at -1
    (F.Theorem2Model(), F.theorem_2_form, {"a": 1.5, "b": 0.6}, np.linspace(-5, 5, 41)),
    (F.RestrictedModel(4), lambda lam, **p: F.restricted_form(lam, **p, k=4), {"a": 2.0, "b": 0.8}, None),
    (F.ExpectationModel(), F.expectation_form, {"p0": 0.45, "c": 0.3}, np.linspace(-1, 1, 21)),
    (F.ExpectationModel(), F.expectation_form, {"p0": 0.2, "c": -0.4}, np.linspace(-1, 1, 21)),
    (lmfit.models.LinearModel(), lmfit.lineshapes.linear, {"intercept": 0.3, "slope": -0.2}, np.linspace(-1, 1, 11)),
    (
        lmfit.models.QuadraticModel(),
        lmfit.lineshapes.parabolic,
        {"c": 0.5, "b": 0.01, "a": -0.1},
        np.linspace(-1, 1, 11),
    ),
    (lmfit.models.ConstantModel(), lambda lam, c: c + 0.0 * lam, {"c": 0.25}, np.linspace(-1, 1, 11)),
]


@pytest.mark.parametrize(("model", "form", "truth", "lam"), GUESS_CASES)
def test_guess_alone_lands_near_truth(model, form, truth, lam) -> None:
    lam = np.linspace(-5, 5, 41) if lam is None else lam
    y = form(lam, **truth) + np.random.default_rng(7).normal(0.0, 0.003, lam.shape)
    pars = model.guess(y, **{model.independent_vars[0]: lam})
    if truth.get("b0") == -8.0:  # saturated data: artanh(y) is unusable, the guess only needs to converge
        result = F.fit(model, lam, y, params=pars)
        assert_allclose([result.params["a"].value, result.params["b0"].value], [3.0, -8.0], rtol=0.05)
        return
    for name, value in truth.items():
        assert pars[name].value == pytest.approx(value, rel=0.1, abs=0.02), name


def test_guess_keyword_overrides_and_requires_lam() -> None:
    lam = np.linspace(-2, 2, 9)
    pars = F.Theorem2Model().guess(F.theorem_2_form(lam, 1.0, 0.5), lam=lam, b=0.9)
    assert pars["b"].value == 0.9
    with pytest.raises(ValueError, match="lam is required"):
        F.Theorem2Model().guess(np.ones(3))
    with pytest.raises(ValueError, match="lam"):
        F.Theorem2Model().guess(np.ones(3), lam=np.ones(4))


# ---------------------------------------------------------------------------------------------------------------
# b0 fixed or free; B0 = ±1
# ---------------------------------------------------------------------------------------------------------------
def test_fixed_b0_is_not_varied_and_a_is_recovered() -> None:
    B0, a = -0.48, 0.5
    lam = np.linspace(-3, 5, 41)
    y = F.tanh_law(lam, a=a, b0=np.arctanh(B0)) + np.random.default_rng(3).normal(0.0, 0.02, lam.shape)
    for model in (F.AlignmentModel(b0=np.arctanh(B0)), F.AlignmentModel.from_B0(B0)):
        result = F.fit(model, lam, y, y_err=0.02)
        assert result.nvarys == 1
        assert not result.params["b0"].vary
        assert result.params["b0"].value == pytest.approx(np.arctanh(B0), rel=1e-15)
        ci = F.confidence_intervals(result)
        assert set(ci) == {"a"}
        assert ci["a"][0] <= a <= ci["a"][1]


@pytest.mark.parametrize("B0", [1.0, -1.0])
def test_saturated_B0_cannot_fix_b0(B0: float) -> None:
    with pytest.raises(ValueError, match=r"artanh.*infinite.*free"):
        F.AlignmentModel.from_B0(B0)
    with pytest.raises(ValueError, match=r"b0 must be finite.*B0 = ±1.*AlignmentModel\(\)"):
        F.AlignmentModel(b0=np.copysign(np.inf, B0))
    with pytest.raises(ValueError, match="B0"):
        F.b0_from_B0(B0)


def test_b0_must_be_a_real_number() -> None:
    with pytest.raises(ValueError, match="b0 must not be NaN"):
        F.AlignmentModel(b0=np.nan)
    with pytest.raises(TypeError, match="b0"):
        F.AlignmentModel(b0="0.3")


# ---------------------------------------------------------------------------------------------------------------
# Exact bound curves: the fit returns the generating parameters
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("alpha", "B0", "delta"), [(1.0, 0.0, 1.0), (2.0, -0.48, 0.5), (0.7, 0.6, 3.0)])
def test_fit_of_theorem_1_curve_recovers_half_alpha_delta_and_artanh_B0(alpha, B0, delta) -> None:
    lam = np.linspace(-3.0, 5.0, 41)
    result = F.fit(F.AlignmentModel(), lam, alignment_lower(alpha, B0, lam, delta))
    assert_allclose(result.params["a"].value, alpha * delta / 2, rtol=1e-7)
    assert_allclose(result.params["b0"].value, np.arctanh(B0), rtol=1e-7, atol=1e-9)
    assert_allclose(F.alpha_delta_from_tanh(result.params["a"].value), alpha * delta, rtol=1e-7)


@pytest.mark.parametrize(
    ("p0", "gamma", "alpha", "beta", "sigma"), [(0.3, 0.9, 1.0, 0.47, 1.0), (0.55, 1.0, 2.0, 0.58, 0.4)]
)
def test_fit_of_eq_6_curve_recovers_a_and_b(p0, gamma, alpha, beta, sigma) -> None:
    lam = np.linspace(-5.0, 5.0, 41)
    a, b = gamma * (1 - p0) / p0, alpha * beta * sigma
    result = F.fit(F.Theorem2Model(), lam, helpfulness_upper(p0, gamma, alpha, beta, sigma, lam))
    assert_allclose([result.params["a"].value, result.params["b"].value], [a, b], rtol=1e-7)
    # no rescaling anywhere: the fitted b maps back to σ with the β that generated it
    assert_allclose(F.sigma_from_theorem_2(result.params["b"].value, alpha, beta), sigma, rtol=1e-7)
    assert_allclose(F.gamma_from_theorem_2(result.params["a"].value, p0), gamma, rtol=1e-7)
    # and the restricted-choice mixture of the same curve
    mixed = 0.5 * helpfulness_upper(p0, gamma, alpha, beta, sigma, lam) + 0.25
    result4 = F.fit(F.RestrictedModel(4), lam, mixed)
    assert_allclose([result4.params["a"].value, result4.params["b"].value], [a, b], rtol=1e-6)


def test_fit_of_expectation_curve_recovers_p0_and_c() -> None:
    lam = np.linspace(-0.6, 0.6, 25)
    p0, s2, alpha, sigma = 0.2, 0.49, 1.5, 0.5  # confidently wrong: c < 0
    c = alpha**2 * sigma**2 * (p0 * (1 - p0) - s2)
    result = F.fit(F.ExpectationModel(), lam, helpfulness_expectation(p0, s2, alpha, sigma, lam))
    assert_allclose([result.params["p0"].value, result.params["c"].value], [p0, c], rtol=1e-8)
    assert c < 0


# ---------------------------------------------------------------------------------------------------------------
# Simulated data: recovery, intervals, coverage
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("design", DESIGNS)
def test_fit_recovers_truth_within_its_intervals(design: str) -> None:
    factory, form, truth, lam, sd = DESIGNS[design]
    y = _simulate(form, truth, lam, sd, seed=11)
    result = F.fit(factory(), lam, y, y_err=sd)
    assert result.success and result.errorbars
    profile = F.confidence_intervals(result, 0.99)  # one seed: a 99 % interval, so a miss is a 1 % event
    normal = F.confidence_intervals(result, 0.99, method="normal")
    assert profile.methods == dict.fromkeys(truth, "profile")
    assert normal.methods == dict.fromkeys(truth, "normal")
    for name, value in truth.items():
        assert profile[name][0] <= value <= profile[name][1], name
        assert normal[name][0] <= value <= normal[name][1], name
        width = normal[name][1] - normal[name][0]
        assert width == pytest.approx(2 * 2.575829 * result.params[name].stderr, rel=1e-5)
        assert profile[name][1] - profile[name][0] == pytest.approx(width, rel=0.1)  # nearly linear here


def _coverage(design: str, n_seeds: int, *, method: str, absolute: bool) -> dict[str, float]:
    factory, form, truth, lam, sd = DESIGNS[design]
    model = factory()
    hits = dict.fromkeys(truth, 0)
    for seed in range(n_seeds):
        y = _simulate(form, truth, lam, sd, seed=1000 + seed)
        result = F.fit(model, lam, y, y_err=sd if absolute else None)
        ci = F.confidence_intervals(result, 0.95, method=method)
        for name, value in truth.items():
            hits[name] += ci[name][0] <= value <= ci[name][1]
    return {k: v / n_seeds for k, v in hits.items()}


@pytest.mark.parametrize("absolute", [True, False], ids=["known-errors", "estimated-noise"])
@pytest.mark.parametrize("design", DESIGNS)
def test_normal_intervals_cover_at_95_percent(design: str, absolute: bool) -> None:
    n = 200
    for name, cov in _coverage(design, n, method="normal", absolute=absolute).items():
        assert abs(cov - 0.95) <= _band(0.95, n), (name, cov)


@pytest.mark.parametrize("design", DESIGNS)
def test_profile_intervals_cover_at_95_percent_fast(design: str) -> None:
    n = 30
    for name, cov in _coverage(design, n, method="profile", absolute=True).items():
        assert abs(cov - 0.95) <= _band(0.95, n), (name, cov)


@pytest.mark.slow
@pytest.mark.parametrize("absolute", [True, False], ids=["known-errors", "estimated-noise"])
@pytest.mark.parametrize("design", DESIGNS)
def test_profile_intervals_cover_at_95_percent(design: str, absolute: bool) -> None:
    n = 200
    for name, cov in _coverage(design, n, method="profile", absolute=absolute).items():
        assert abs(cov - 0.95) <= _band(0.95, n), (name, cov)


@pytest.mark.parametrize("scale_covar", [False, True])
def test_profile_equals_normal_for_a_model_linear_in_its_parameters(scale_covar: bool) -> None:
    # χ² is exactly quadratic in (intercept, slope): Δχ² (resp. F = t²) profile ends equal the normal (resp. t) ends
    lam = np.linspace(-2, 2, 15)
    y = 0.3 + 0.2 * lam + np.random.default_rng(5).normal(0.0, 0.05, lam.shape)
    result = F.fit(lmfit.models.LinearModel(), lam, y, y_err=0.05, scale_covar=scale_covar)
    profile = F.confidence_intervals(result, 0.9)
    normal = F.confidence_intervals(result, 0.9, method="normal")
    for name in ("intercept", "slope"):
        assert_allclose(profile[name], normal[name], rtol=1e-5, atol=1e-7)


def test_one_parameter_models_get_profile_intervals() -> None:
    lam = np.linspace(-1, 1, 11)
    y = 0.4 + np.random.default_rng(2).normal(0.0, 0.01, lam.shape)
    result = F.fit(lmfit.models.ConstantModel(), lam, y)
    ci = F.confidence_intervals(result)
    assert ci.methods == {"c": "profile"}
    assert_allclose(ci["c"], F.confidence_intervals(result, method="normal")["c"], rtol=1e-6)


def test_profile_interval_stops_at_a_bound() -> None:
    # flat helpfulness: the Theorem 2 curvature b is ~0 and its lower end sits on the hint b >= 0
    lam = np.linspace(-3, 3, 31)
    y = 0.5 + np.random.default_rng(4).normal(0.0, 0.01, lam.shape)
    result = F.fit(F.Theorem2Model(), lam, y, y_err=0.01)
    ci = F.confidence_intervals(result)
    assert ci["b"][0] == 0.0
    assert "bound" in ci.notes["b"]
    assert ci.level == 0.95


# ---------------------------------------------------------------------------------------------------------------
# Many queries: per query, dataset average, bootstrap
# ---------------------------------------------------------------------------------------------------------------
def _queries(seed: int, n_queries: int = 40, sd: float = 0.08):
    lam = np.linspace(-3.0, 3.0, 25)
    rng = np.random.default_rng(seed)
    Y = F.tanh_law(lam, a=0.8, b0=-0.4) + rng.normal(0.0, sd, (n_queries, lam.size))
    return lam, Y


def test_fit_per_query_recovers_the_common_law() -> None:
    lam, Y = _queries(seed=21)
    results = F.fit_per_query(F.AlignmentModel(), lam, Y, y_err=0.08)
    assert len(results) == Y.shape[0]
    assert_allclose(results[3].data, Y[3])
    for name, value in {"a": 0.8, "b0": -0.4}.items():
        est = np.array([r.params[name].value for r in results])
        assert abs(est.mean() - value) <= 4 * est.std(ddof=1) / np.sqrt(est.size), name
        # each query's reported stderr matches the spread of the per-query estimates
        stderr = np.mean([r.params[name].stderr for r in results])
        assert stderr == pytest.approx(est.std(ddof=1), rel=0.3), name


def test_dataset_average_uses_the_standard_error_across_queries() -> None:
    lam, Y = _queries(seed=22)
    result = F.fit_dataset_average(F.AlignmentModel(), lam, Y)
    mean, se = F.average_curve(Y)
    assert_allclose(result.data, Y.mean(axis=0))
    assert_allclose(mean, result.data)
    assert_allclose(1.0 / result.weights, Y.std(axis=0, ddof=1) / np.sqrt(Y.shape[0]), rtol=1e-14)
    assert_allclose(se, 1.0 / result.weights)
    assert not result.scale_covar
    ci = F.confidence_intervals(result)
    assert ci["a"][0] <= 0.8 <= ci["a"][1] and ci["b0"][0] <= -0.4 <= ci["b0"][1]


def test_dataset_average_stderr_matches_the_spread_over_datasets() -> None:
    n = 150
    est, se = [], []
    for seed in range(n):
        lam, Y = _queries(seed=500 + seed, n_queries=20)
        r = F.fit_dataset_average(F.AlignmentModel(), lam, Y)
        est.append(r.params["a"].value)
        se.append(r.params["a"].stderr)
    spread = np.std(est, ddof=1)
    # the SD of an SD estimate from n draws is about SD / sqrt(2(n-1)); allow 4 of those
    assert np.mean(se) == pytest.approx(spread, rel=4 / np.sqrt(2 * (n - 1)))
    assert abs(np.mean(est) - 0.8) <= 4 * spread / np.sqrt(n)


def test_bootstrap_over_queries() -> None:
    lam, Y = _queries(seed=23)
    boot = F.bootstrap(F.AlignmentModel(), lam, Y, n_boot=300, rng=np.random.default_rng(8))
    assert boot.n_failed == 0 and boot.n_boot == 300 and boot.level == 0.95
    assert {k: v.shape for k, v in boot.samples.items()} == {"a": (300,), "b0": (300,)}
    for name, value in {"a": 0.8, "b0": -0.4}.items():
        lo, hi = boot.ci[name]
        assert lo <= value <= hi, name
        assert (lo, hi) == tuple(np.quantile(boot.samples[name], [0.025, 0.975]))
        # iid noise: the bootstrap SD and the weighted fit's stderr estimate the same thing
        assert boot.std[name] == pytest.approx(boot.full.params[name].stderr, rel=0.3), name
    again = F.bootstrap(F.AlignmentModel(), lam, Y, n_boot=300, rng=8)
    assert_allclose(again.samples["a"], boot.samples["a"])


def test_bootstrap_reuses_a_given_full_fit() -> None:
    """Passing the caller's dataset-average fit gives the same bootstrap as fitting it inside, and a fit of another
    model or weighting is refused."""
    lam, Y = _queries(seed=23)
    model = F.AlignmentModel()
    full = F.fit_dataset_average(model, lam, Y)
    given = F.bootstrap(model, lam, Y, n_boot=50, rng=8, full=full)
    inside = F.bootstrap(model, lam, Y, n_boot=50, rng=8)
    assert given.full is full
    for name in ("a", "b0"):
        assert_allclose(given.samples[name], inside.samples[name])
    with pytest.raises(ValueError, match="full must be"):
        F.bootstrap(model, lam, Y, n_boot=5, rng=8, full=F.fit_dataset_average(model, lam, Y, weighted=False))
    with pytest.raises(ValueError, match="full must be"):
        F.bootstrap(F.AlignmentModel(), lam, Y, n_boot=5, rng=8, full=full)


def test_zero_standard_error_needs_an_unweighted_fit() -> None:
    lam = np.linspace(-1, 1, 9)
    Y = np.tile(F.tanh_law(lam, 1.0, 0.0), (5, 1))
    Y[:, :4] += np.random.default_rng(0).normal(0.0, 0.01, (5, 4))
    with pytest.raises(ValueError, match=r"zero standard error.*weighted=False"):
        F.fit_dataset_average(F.AlignmentModel(), lam, Y)
    result = F.fit_dataset_average(F.AlignmentModel(), lam, Y, weighted=False)
    assert result.weights is None and result.scale_covar


# ---------------------------------------------------------------------------------------------------------------
# Model comparison
# ---------------------------------------------------------------------------------------------------------------
def test_compare_alignment_picks_tanh_for_saturating_data() -> None:
    lam = np.linspace(-3, 3, 31)
    y = F.tanh_law(lam, 1.5, -0.3) + np.random.default_rng(9).normal(0.0, 0.03, lam.shape)
    cmp = F.compare_alignment(lam, y, y_err=0.03)
    assert cmp.best == {"aic": "tanh", "bic": "tanh"}
    assert cmp["tanh"].delta_aic == 0.0 and cmp["linear"].delta_bic > 10
    assert cmp["tanh"].aic == pytest.approx(cmp["tanh"].chisqr + 2 * 2)  # absolute errors: AIC = χ² + 2k
    assert cmp["tanh"].bic == pytest.approx(cmp["tanh"].chisqr + 2 * np.log(31))
    assert "tanh" in cmp.table() and set(cmp.results) == {"linear", "tanh"}


def test_compare_alignment_picks_linear_for_linear_data() -> None:
    lam = np.linspace(-2, 2, 31)
    y = 0.3 + 0.25 * lam + np.random.default_rng(10).normal(0.0, 0.02, lam.shape)
    cmp = F.compare_alignment(lam, y)
    assert cmp.best_bic == "linear" and cmp.best_aic == "linear"
    assert cmp["linear"].aic == pytest.approx(cmp["linear"].result.aic)  # estimated noise: lmfit's criteria


def test_compare_alignment_with_fixed_b0_counts_one_parameter() -> None:
    lam = np.linspace(-3, 3, 31)
    y = F.tanh_law(lam, 1.0, 0.2) + np.random.default_rng(12).normal(0.0, 0.02, lam.shape)
    cmp = F.compare_alignment(lam, y, y_err=0.02, b0=0.2)
    assert cmp["tanh"].nvarys == 1 and cmp["linear"].nvarys == 2
    assert cmp.best == {"aic": "tanh", "bic": "tanh"}


@pytest.mark.parametrize(
    ("truth", "expected"),
    [
        (lambda lam: 0.6 - 0.05 * lam**2, "quadratic"),
        (lambda lam: 0.6 - 0.03 * lam, "linear"),
        (lambda lam: 0.6 + 0.0 * lam, "flat"),
    ],
    ids=["parabola", "line", "flat"],
)
def test_compare_helpfulness_near_zero_by_bic(truth, expected: str) -> None:
    lam = np.linspace(-5, 5, 81)
    y = truth(lam) + np.random.default_rng(13).normal(0.0, 0.01, lam.shape)
    y[np.abs(lam) > 2] = 0.0  # outside the window: must be ignored
    cmp = F.compare_helpfulness_near_zero(lam, y, window=2.0, y_err=0.01)
    assert cmp["flat"].ndata == int(np.sum(np.abs(lam) <= 2.0))
    assert cmp.best_bic == expected
    if expected == "quadratic":
        quad = cmp["quadratic"].result.params
        assert abs(quad["c1"].value) <= 4 * quad["c1"].stderr  # symmetric: no linear term
        assert quad["c2"].value == pytest.approx(-0.05, abs=4 * quad["c2"].stderr)


def test_compare_helpfulness_on_theorem_2_curve_prefers_the_parabola() -> None:
    lam = np.linspace(-5, 5, 81)
    y = F.theorem_2_form(lam, 1.0, 0.5) + np.random.default_rng(14).normal(0.0, 0.005, lam.shape)
    cmp = F.compare_helpfulness_near_zero(lam, y, window=1.5, y_err=0.005)
    assert cmp.best == {"aic": "quadratic", "bic": "quadratic"}


def test_compare_models_errors() -> None:
    lam = np.linspace(-1, 1, 11)
    y = 0.5 + 0.1 * lam
    with pytest.raises(ValueError, match="models"):
        F.compare_models(lam, y, {})
    with pytest.raises(TypeError, match=r"models\['bad'\]"):
        F.compare_models(lam, y, {"bad": object()})
    with pytest.raises(ValueError, match="unknown models"):
        F.compare_models(
            lam, y, {"flat": lmfit.models.ConstantModel()}, params={"linear": lmfit.models.LinearModel().make_params()}
        )
    with pytest.raises(ValueError, match="window"):
        F.compare_helpfulness_near_zero(lam, y, window=0.1)
    with pytest.raises(ValueError, match="window"):
        F.compare_helpfulness_near_zero(lam, y, window=-1.0)


# ---------------------------------------------------------------------------------------------------------------
# Mapping helpers
# ---------------------------------------------------------------------------------------------------------------
def test_alpha_delta_from_tanh_values_and_errors() -> None:
    assert F.alpha_delta_from_tanh(1.5) == 3.0
    assert F.alpha_delta_from_tanh((1.5, 0.1)) == (3.0, 0.2)
    par = lmfit.Parameter("a", value=0.5)
    par.stderr = 0.05
    assert F.alpha_delta_from_tanh(par) == (1.0, 0.1)
    assert_allclose(F.alpha_delta_from_tanh(np.array([0.5, 3.11])), [1.0, 6.22])
    with pytest.raises(ValueError, match="a must lie"):
        F.alpha_delta_from_tanh(-0.1)


def test_gamma_from_theorem_2_with_propagation() -> None:
    # docs/specification.md §14.1: a in [0.63, 3.42] with p0 in the 0.22-0.57 range gives gamma near 1
    assert F.gamma_from_theorem_2(1.0, 0.5) == pytest.approx(1.0)
    value, se = F.gamma_from_theorem_2((2.0, 0.1), (0.3, 0.02))
    assert value == pytest.approx(2.0 * 0.3 / 0.7)
    assert se == pytest.approx(np.hypot(0.3 / 0.7 * 0.1, 2.0 / 0.7**2 * 0.02))
    with pytest.raises(ValueError, match="p0"):
        F.gamma_from_theorem_2(1.0, 1.0)


def test_sigma_from_theorem_2_requires_beta_and_propagates() -> None:
    assert inspect.signature(F.sigma_from_theorem_2).parameters["beta"].default is inspect.Parameter.empty
    doc = F.sigma_from_theorem_2.__doc__
    assert all(s in doc for s in ("0.47", "0.54", "0.58", "0.8"))
    assert F.sigma_from_theorem_2(0.47, 2.0, 0.47) == pytest.approx(0.5)
    value, se = F.sigma_from_theorem_2((0.5, 0.05), (2.0, 0.2), 0.5)
    assert value == pytest.approx(0.5)
    assert se == pytest.approx(0.5 * np.hypot(0.1, 0.1))
    assert F.sigma_from_theorem_2((0.0, 0.1), 1.0, 0.5) == (0.0, pytest.approx(0.2))  # derivative form at b = 0
    with pytest.raises(ValueError, match="beta"):
        F.sigma_from_theorem_2(0.5, 1.0, 0.0)
    with pytest.raises(ValueError, match="alpha"):
        F.sigma_from_theorem_2(0.5, -1.0, 0.5)
    with pytest.raises(ValueError, match="b stderr"):
        F.sigma_from_theorem_2((0.5, -0.1), 1.0, 0.5)


def test_b0_from_B0_propagates() -> None:
    value, se = F.b0_from_B0((0.5, 0.01))
    assert value == pytest.approx(np.arctanh(0.5)) and se == pytest.approx(0.01 / 0.75)


# ---------------------------------------------------------------------------------------------------------------
# Bad inputs name the parameter
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda lam, y: F.fit(F.AlignmentModel(), lam[None, :], y), ValueError, "lam must be a non-empty 1-D"),
        (lambda lam, y: F.fit(F.AlignmentModel(), lam, y[:-1]), ValueError, "y must have the shape of lam"),
        (lambda lam, y: F.fit(F.AlignmentModel(), lam, np.where(lam > 0, np.nan, y)), ValueError, "y must not"),
        (lambda lam, y: F.fit(F.AlignmentModel(), lam, y, y_err=0.0), ValueError, "y_err"),
        (lambda lam, y: F.fit(F.AlignmentModel(), lam, y, y_err=np.ones(3)), ValueError, "y_err"),
        (lambda lam, y: F.fit(F.AlignmentModel(), lam[:2], y[:2]), ValueError, "y must have more points"),
        (lambda lam, y: F.fit(object(), lam, y), TypeError, "model"),
        (lambda lam, y: F.fit(lmfit.Model(lambda x, t, a=1.0: a * x, ["x", "t"]), lam, y), ValueError, "single"),
        (lambda lam, y: F.fit(F.AlignmentModel(), lam, y, params={"a": 1}), TypeError, "params"),
        (lambda lam, y: F.fit_per_query(F.AlignmentModel(), lam, y), ValueError, r"Y must have shape"),
        (lambda lam, y: F.fit_dataset_average(F.AlignmentModel(), lam, y[None, :]), ValueError, "n_queries >= 2"),
        (
            lambda lam, y: F.bootstrap(lmfit.models.ConstantModel(), lam, np.vstack([y, y]), n_boot=5, rng=None),
            TypeError,
            "rng",
        ),
        (
            lambda lam, y: F.bootstrap(lmfit.models.ConstantModel(), lam, np.vstack([y, y]), n_boot=0, rng=1),
            ValueError,
            "n_boot",
        ),
    ],
)
def test_bad_inputs_raise_naming_the_parameter(call, exc, match) -> None:
    lam = np.linspace(-1, 1, 9)
    with pytest.raises(exc, match=match):
        call(lam, F.tanh_law(lam, 1.0, 0.0))


def test_confidence_interval_arguments_are_checked() -> None:
    lam = np.linspace(-1, 1, 9)
    result = F.fit(lmfit.models.LinearModel(), lam, 0.1 * lam + np.random.default_rng(0).normal(0, 0.01, 9))
    with pytest.raises(ValueError, match="level"):
        F.confidence_intervals(result, 1.5)
    with pytest.raises(ValueError, match="method"):
        F.confidence_intervals(result, method="bayes")
    with pytest.raises(TypeError, match="result"):
        F.confidence_intervals({"a": 1.0})


def test_importing_fitting_and_its_pure_functions_does_not_import_lmfit() -> None:
    code = (
        "import sys, bounds.fitting as F; F.tanh_law(0.5); F.alpha_delta_from_tanh(1.0); F.b0_from_B0(0.1);"
        "print('lmfit' in sys.modules); F.AlignmentModel; print('lmfit' in sys.modules)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert res.stdout.split() == ["False", "True"]
    assert set(F.__all__) <= set(dir(F))
    for module, names in F._EXPORTS.items():  # the package re-exports what each submodule declares public
        assert set(names.split()) <= set(getattr(F, module).__all__), module
