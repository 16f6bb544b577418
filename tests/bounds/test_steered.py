"""The exact steered distribution of docs/specification.md §1 (the ground truth of every property test)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import bounds
from bounds.steered import log_steered_distribution, signed_tilt
from bounds.strategies import probability_vectors
from tests._hyp import many

Z = st.floats(-30, 30, allow_nan=False)


@st.composite
def instances(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, float]:
    n = draw(st.integers(1, 8))
    p = draw(probability_vectors(n))
    z = np.asarray(draw(st.lists(Z, min_size=n, max_size=n)))
    return p, z, draw(st.floats(0, 1e3))


@many(1000)
@given(instances())
def test_is_a_distribution_and_matches_the_definition(inst: tuple[np.ndarray, np.ndarray, float]) -> None:
    p, z, norm = inst
    q = bounds.steered_distribution(p, z, norm)
    assert np.all(q >= 0) and q.sum() == pytest.approx(1.0, abs=1e-12)
    # the definition P(s) e^{‖δ‖ z_s} / Σ_t P(t) e^{‖δ‖ z_t}, evaluated with exact rationals of the log-weights
    a = np.log(p) + norm * z
    want = np.exp(a - np.logaddexp.reduce(a))
    np.testing.assert_allclose(q, want, rtol=1e-9, atol=1e-300)


@many(500)
@given(instances(), st.floats(-100, 100))
def test_only_differences_of_projections_matter(inst: tuple[np.ndarray, np.ndarray, float], shift: float) -> None:
    p, z, norm = inst
    np.testing.assert_allclose(
        bounds.steered_distribution(p, z + shift, norm), bounds.steered_distribution(p, z, norm), rtol=1e-7, atol=1e-15
    )


def test_zero_norm_is_the_unsteered_distribution() -> None:
    p = np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(bounds.steered_distribution(p, [5.0, -1.0, 2.0], 0.0), p, rtol=1e-15)


def test_extreme_values_stay_finite() -> None:
    p = np.array([1e-300, 1 - 1e-300])
    q = bounds.steered_distribution(p, [1.0, 0.0], 1e6)
    assert np.all(np.isfinite(q)) and q[0] == pytest.approx(1.0)
    q = bounds.steered_distribution(p, [0.0, 1.0], 1e6)
    assert q[0] == 0.0 and q[1] == 1.0
    assert np.isfinite(log_steered_distribution([0.0, 1.0], [1.0, 0.0], 10.0)[1])


def test_broadcasting_over_a_batch_of_norms() -> None:
    p = np.array([0.25, 0.75])
    q = bounds.steered_distribution(p, [1.0, 0.0], np.array([0.0, 1.0, 2.0]))
    assert q.shape == (3, 2)
    assert bounds.behavior_expectation(p, [1.0, 0.0], np.array([0.0, 1.0]), [1.0, -1.0]).shape == (2,)
    assert bounds.steered_helpfulness(p, [1.0, 0.0], 0.0, 1) == pytest.approx(0.75)


def test_signed_tilt_flips_direction_for_negative_lambda() -> None:
    z, nrm = signed_tilt(np.array([1.0, -2.0]), -3.0)
    np.testing.assert_array_equal(z, [-1.0, 2.0])
    assert nrm == 3.0


@pytest.mark.parametrize(
    ("p", "z", "norm", "fragment"),
    [
        ([0.5, 0.6], [0, 0], 1.0, "summing to 1"),
        ([-0.5, 1.5], [0, 0], 1.0, "entries in [0, 1]"),
        ([0.5, np.nan], [0, 0], 1.0, "p must not be NaN"),
        ([0.5, 0.5], [0, np.inf], 1.0, "z must be finite"),
        ([0.5, 0.5], [0, 0], -1.0, "norm must lie in the closed interval [0.0, inf]"),
        ([0.5, 0.5], [0, 0, 0], 1.0, "do not broadcast"),
        (0.5, [0.0], 1.0, "last axis"),
        ([0.5, 0.5], [0.0, 1e300], 1e10, "overflows"),
    ],
)
def test_bad_input_names_the_parameter(p: object, z: object, norm: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=None) as err:
        bounds.steered_distribution(p, z, norm)
    assert fragment in str(err.value)


def test_bad_scores_and_answers() -> None:
    with pytest.raises(ValueError, match="scores must lie in the closed interval"):
        bounds.behavior_expectation([0.5, 0.5], [0, 0], 1.0, [2.0, -1.0])
    with pytest.raises(ValueError, match=r"answer must be a token index in \[0, 1\]"):
        bounds.steered_helpfulness([0.5, 0.5], [0, 0], 1.0, 2)
    with pytest.raises(TypeError, match="answer must be an integer"):
        bounds.steered_helpfulness([0.5, 0.5], [0, 0], 1.0, 0.5)
