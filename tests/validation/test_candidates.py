"""The candidate strengths a user can defend (validation.measure.candidates, the report's ``candidates``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bounds.fitting.lineshapes import tanh_law_dlam, theorem_2_form_dlam
from validation.measure import corollary_1_lambda, efficient_regime_end, target_crossing
from validation.report.analysis import _candidates
from validation.report.markdown import render_markdown
from validation.report.schema import (
    CandidateLambdas,
    CheckReport,
    Curve,
    Fit,
    KLBudget,
    KLDivergence,
    Parameter,
)

GRID = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 8.0])


# ----------------------------------------------------------------------------------------------------------------------
# the pure functions
# ----------------------------------------------------------------------------------------------------------------------


def test_target_crossing_is_the_smallest_grid_lambda_above_zero():
    # λ < 0 reaches the target too, and λ = 4 dips below it after λ = 2: neither changes the answer
    curve = [0.9, 0.0, -0.5, 0.2, 0.6, 0.4, 0.9]
    assert target_crossing(GRID, curve, 0.5).lam == 2.0
    assert target_crossing(GRID, curve, 0.6).lam == 2.0
    assert target_crossing(GRID, curve, 0.61).lam == 8.0
    unsorted = np.array([8.0, 0.0, 2.0, 1.0])
    assert target_crossing(unsorted, [0.9, -0.5, 0.6, 0.2], 0.5).lam == 2.0


def test_target_never_reached_is_absent_with_the_reason():
    c = target_crossing(GRID, [0.9, 0.0, -0.5, 0.2, 0.3, 0.4, np.nan], 0.5)
    assert c.lam is None
    assert "stays below the target 0.5 up to the largest lambda 8" in c.reason and "0.4" in c.reason


@pytest.mark.parametrize("target", [-1.0, 1.5, float("nan"), True])
def test_target_outside_its_range_is_rejected(target):
    with pytest.raises(ValueError, match=r"target: expected a behavior expectation in \(-1, 1\]"):
        target_crossing(GRID, np.zeros(GRID.size), target)


def test_corollary_1_is_the_closed_form_where_the_margin_holds():
    alpha, delta, b0, target = 2.0, 0.3, -0.6, 0.5
    expected = 2.0 / (alpha * delta) * (math.atanh(target) - math.atanh(b0))
    c = corollary_1_lambda(target, b0, alpha, delta)
    assert c.reason is None and c.lam == pytest.approx(expected, rel=1e-12)
    assert corollary_1_lambda(-0.7, b0, alpha, delta).lam == 0.0  # B0 already meets the target


@pytest.mark.parametrize("delta", [0.0, -0.11, None, float("nan")])
def test_corollary_1_is_absent_without_the_hard_margin(delta):
    c = corollary_1_lambda(0.5, -0.6, 2.0, delta)
    assert c.lam is None and "hard margin does not hold" in c.reason and "Assumption 2" in c.reason


def test_corollary_1_other_absences():
    assert "alpha" in corollary_1_lambda(0.5, -0.6, 0.0, 0.3).reason
    assert "B0" in corollary_1_lambda(0.5, 1.0, 2.0, 0.3).reason
    assert "infinity" in corollary_1_lambda(1.0, -0.6, 2.0, 0.3).reason


def test_efficient_regime_ends_where_the_fitted_slopes_cross():
    b = {"a": 0.5, "b0": 0.0}
    h = {"a": 1.0, "b": 1.0}
    c = efficient_regime_end(b, h, 20.0)
    assert c.reason is None and 0.0 < c.lam < 20.0
    gain = lambda x: tanh_law_dlam(x, 0.5, 0.0) + theorem_2_form_dlam(x, 1.0, 1.0)  # noqa: E731
    assert gain(c.lam) == pytest.approx(0.0, abs=1e-9)
    assert gain(0.9 * c.lam) > 0 > gain(1.1 * c.lam)


def test_efficient_regime_to_the_grid_end_and_absent():
    flat_h = {"a": 1.0, "b": 0.0}  # H constant: every λ is efficient while B rises
    c = efficient_regime_end({"a": 0.5, "b0": 0.0}, flat_h, 3.0)
    assert c.lam == 3.0 and "grid's largest lambda" in c.reason
    falling = efficient_regime_end({"a": -0.5, "b0": 0.0}, flat_h, 3.0)
    assert falling.lam is None and "no efficient regime" in falling.reason
    missing = efficient_regime_end(None, {"a": 1.0, "b": float("nan")}, 3.0)
    assert missing.lam is None and "behavior and helpfulness" in missing.reason


# ----------------------------------------------------------------------------------------------------------------------
# in the report
# ----------------------------------------------------------------------------------------------------------------------


def _curve(mean) -> Curve:
    mean = [float(x) for x in mean]
    return Curve(mean=mean, se=[0.0] * len(mean), n=4, label="test")


def _report(delta_positive: float, b_generated) -> CheckReport:
    kl = 0.05 * GRID**2  # 0.05 at λ = 1, 0.2 at λ = 2
    return CheckReport(
        lambda_grid={"values": GRID.tolist()},
        curves={
            "B_generated": _curve(b_generated),
            "B_single_binary": _curve(np.tanh(0.2 * GRID - 0.5)),
            "H_mmlu_full": _curve(0.4 - 0.01 * GRID**2),
            "H_mmlu_restricted": _curve(0.3 - 0.01 * np.abs(GRID)),
            "H_piqa": _curve(0.7 - 0.02 * np.abs(GRID)),
        },
        parameters={
            "Delta": Parameter(estimate=-0.5),
            "Delta_positive": Parameter(estimate=delta_positive),
            "B0_single_binary": Parameter(estimate=float(np.tanh(-0.5))),
        },
        fits={
            "behavior": Fit(params={"a": {"value": 0.5}, "b0": {"value": 0.0}}),
            "helpfulness": Fit(params={"a": {"value": 1.0}, "b": {"value": 1.0}}),
        },
        kl=KLDivergence(
            measured={"mmlu": {"mean": kl.tolist()}},
            budget=KLBudget(tau=0.1, measured=1.5, second_order=1.2, safe_mean=0.6, safe_every_query=0.5, note="n"),
        ),
    )


def test_candidates_on_a_constructed_report():
    r = _report(0.4, [0.9, 0.0, -0.5, 0.2, 0.6, 0.7, 0.9])
    c = _candidates(r, GRID, 2.0, 0.5)
    rows = {row.key: row for row in c.rows}
    assert list(rows) == [
        "corollary_1",
        "efficient_end",
        "kl_budget",
        "kl_budget_second_order",
        "kl_budget_safe",
        "target",
    ]
    # Corollary 1 with Δ on λ > 0 (0.4, not the whole grid's -0.5) and the binary B0
    assert rows["corollary_1"].lam == pytest.approx(2.0 / (2.0 * 0.4) * (math.atanh(0.5) + 0.5), rel=1e-12)
    assert rows["kl_budget"].lam == 1.5 and rows["kl_budget_safe"].lam == 0.5
    assert rows["kl_budget_second_order"].lam == 1.2
    # the measured KL there, interpolated on the grid between 0.05 (λ = 1) and 0.2 (λ = 2)
    assert rows["kl_budget"].at["kl_mmlu"] == pytest.approx(0.125)
    assert rows["kl_budget"].at["H_piqa"] == pytest.approx(0.67)
    assert rows["target"].lam == 2.0 and rows["target"].at["B_generated"] == pytest.approx(0.6)
    assert rows["target"].at["kl_mmlu"] == pytest.approx(0.2)
    assert 0 < rows["efficient_end"].lam < 8.0
    for row in c.rows:
        assert row.purpose and row.assumptions


def test_candidates_absent_rows_say_why():
    r = _report(-0.11, [0.9, 0.0, -0.5, 0.2, 0.3, 0.4, 0.45])
    rows = {row.key: row for row in _candidates(r, GRID, 2.0, 0.5).rows}
    assert rows["corollary_1"].lam is None and "Delta = -0.11" in rows["corollary_1"].reason
    assert rows["target"].lam is None and "stays below the target 0.5" in rows["target"].reason
    assert all(v is None for v in rows["target"].at.values())


def test_candidates_round_trip_and_render_at_the_end():
    r = _report(-0.11, [0.9, 0.0, -0.5, 0.2, 0.6, 0.7, 0.9])
    r.candidates = _candidates(r, GRID, 2.0, 0.5)
    data = r.to_json()
    back = CheckReport.from_json(data)
    assert isinstance(back.candidates, CandidateLambdas) and back.to_json() == data
    assert back.candidates.rows[5].lam == 2.0 and back.candidates.target_behavior == 0.5
    old = dict(data)
    del old["candidates"]
    assert CheckReport.from_json(old).candidates is None  # reports written before the field load
    bad = {**data, "candidates": {**data["candidates"], "rows": [{"lam": 1.0, "colour": "red"}]}}
    with pytest.raises(ValueError, match=r"candidates.rows\[0\] has unknown keys \['colour'\]"):
        CheckReport.from_json(bad)
    md = render_markdown(back)
    section = md.split("## A λ you can defend", 1)[1]
    assert "## " not in section.replace("## A λ", "")  # the last section
    assert "| Candidate | λ | B generated | B binary | H MMLU full | H MMLU A–D | H PIQA | KL MMLU |" in section
    assert "| target behavior reached | 2 | 0.6 |" in section
    assert "| Corollary 1's λ* | – |" in section
    assert "Absent: the hard margin does not hold (Delta = -0.11" in section
    assert "- **KL budget (measured)**: for " in section
