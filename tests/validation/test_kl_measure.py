"""validation.measure.kl on constructed curves: the budget λ by interpolation, the predictions against bounds.kl, where
measured and predicted part; the report's KL fields round-trip; the KL figure draws what the report holds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bounds.errors import ParameterError
from bounds.kl import kl_divergence, kl_second_order, kl_upper, lambda_for_kl, projection_spread
from validation.measure import interpolate_at, kl_budget, kl_prediction, lambda_at_level

LAM = np.array([-2.0, 0.0, 1.0, 2.0, 4.0])


def test_lambda_at_level_interpolates_the_first_crossing():
    curve = np.array([0.5, 0.0, 0.05, 0.15, 0.9])  # crosses 0.1 halfway between 1 and 2
    lam, reason = lambda_at_level(LAM, curve, 0.1)
    assert lam == pytest.approx(1.5) and reason is None
    assert lambda_at_level(LAM, curve, 0.15) == (2.0, None)  # on a grid point
    assert lambda_at_level(LAM, curve, 0.9)[0] == pytest.approx(4.0)
    # lambda < 0 is never read, even when it is above the budget
    assert lambda_at_level(LAM, np.array([9.0, 0.0, 0.01, 0.02, 0.03]), 0.1)[0] is None
    lam, reason = lambda_at_level(LAM, np.array([9.0, 0.0, 0.01, 0.02, 0.03]), 0.1)
    assert lam is None and "stays below 0.1" in reason and "4" in reason
    # a non-monotone curve: the first crossing counts
    assert lambda_at_level(LAM, np.array([0.0, 0.0, 0.2, 0.05, 0.3]), 0.1)[0] == pytest.approx(0.5)
    # unsorted grid
    order = [3, 0, 4, 2, 1]
    assert lambda_at_level(LAM[order], curve[order], 0.1)[0] == pytest.approx(1.5)


def test_interpolate_at():
    y = np.array([10.0, 0.0, 1.0, 3.0, 7.0])
    assert interpolate_at(LAM, y, 1.5) == pytest.approx(2.0)
    assert interpolate_at(LAM, y, 2.0) == pytest.approx(3.0)
    assert interpolate_at(LAM, y, -1.0) == pytest.approx(5.0)
    assert interpolate_at(LAM, y, 5.0) is None and interpolate_at(LAM, y, None) is None
    assert interpolate_at(LAM, np.array([10.0, 0.0, np.nan, 3.0, 7.0]), 1.5) is None


def _tilted(n: int, seed: int = 0):
    """n random next-token distributions with projections z, and their exact steered KL at norms alpha |lambda|."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 50))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    z = rng.normal(size=(n, 50))
    return p, z


def test_kl_prediction_agrees_with_the_exact_tilted_family_at_small_lambda():
    p, z = _tilted(6)
    alpha = 0.05
    norms = alpha * np.abs(LAM)[None, :] * np.ones((6, 1))
    signed = [np.sign(x) * z if x else z for x in LAM]  # lambda < 0 tilts along -z
    kl = np.array([[kl_divergence(p[q], signed[g][q], norms[q, g]) for g in range(LAM.size)] for q in range(6)])
    var, rng = projection_spread(p, z)
    pred = kl_prediction(LAM, kl, norms, var, rng, alpha)
    np.testing.assert_allclose(pred.predicted_norm, np.mean(kl_second_order(norms, var[:, None]), axis=0))
    np.testing.assert_allclose(pred.predicted_alpha, pred.predicted_norm)
    np.testing.assert_allclose(pred.bound, np.mean(kl_upper(norms, rng[:, None]), axis=0))
    np.testing.assert_allclose(pred.measured.mean, kl.mean(axis=0))
    assert np.all(pred.above_bound_fraction == 0.0)  # the exact family obeys the rigorous bound
    assert pred.first_off_positive is None and pred.first_above_bound_positive is None
    assert pred.measured.mean[3] == pytest.approx(pred.predicted_norm[3], rel=0.1)


def test_kl_prediction_says_where_measured_and_predicted_part():
    n = np.abs(LAM)[None, :] * np.ones((3, 1))
    var, rng = np.full(3, 0.02), np.full(3, 1.0)  # predicted: 0.01 lambda^2, bound lambda^2 / 8
    measured = kl_second_order(n, 0.02) * np.array([1.1, 1.0, 1.5, 3.0, 30.0])  # off by > 2 from lambda = 2
    pred = kl_prediction(LAM, measured, n, var, rng)
    assert pred.first_off_positive == 2.0 and pred.first_off_negative is None
    assert pred.first_above_bound_positive == 4.0  # 0.16 * 30 = 4.8 > 16 / 8 = 2
    assert pred.above_bound_fraction[4] == 1.0 and pred.above_bound_fraction[3] == 0.0
    assert pred.predicted_alpha is None  # no alpha given
    with pytest.raises(ParameterError, match="factor"):
        kl_prediction(LAM, measured, n, var, rng, factor=1.0)
    with pytest.raises(ParameterError, match="kl and norms"):
        kl_prediction(LAM, measured[:, :3], n, var, rng)


def test_kl_budget_uses_bounds_lambda_for_kl():
    lam = np.array([0.0, 1.0, 2.0, 4.0])
    var, rng = np.array([0.01, 0.03, np.nan]), np.array([1.0, 3.0, np.nan])  # the NaN query is left out
    b = kl_budget(lam, [0.0, 0.02, 0.06, 0.2], var, rng, 0.5, 0.1)
    assert b.measured == pytest.approx(2.0 + 2.0 * 0.04 / 0.14)
    assert b.var_z_mean == pytest.approx(0.02) and b.z_range_rms == pytest.approx(math.sqrt(5.0))
    assert b.second_order == pytest.approx(lambda_for_kl(0.1, 0.5, var_z=0.02))
    assert b.second_order == pytest.approx(math.sqrt(2 * 0.1 / 0.02) / 0.5)
    assert b.safe_mean == pytest.approx(math.sqrt(0.8) / (0.5 * math.sqrt(5.0)))
    assert b.safe_every_query == pytest.approx(math.sqrt(0.8) / (0.5 * 3.0)) and b.safe_every_query < b.safe_mean
    none = kl_budget(lam, [0.0, 0.01, 0.02, 0.03], var, rng, float("nan"), 0.1)
    assert none.measured is None and "stays below" in none.measured_reason
    assert none.second_order is None and "alpha undefined" in none.note
    with pytest.raises(ParameterError, match="tau"):
        kl_budget(lam, [0.0, 0.01, 0.02, 0.03], var, rng, 0.5, 0.0)


def test_report_kl_round_trips_and_old_reports_load(tmp_path):
    from validation.report.schema import CheckReport, KLBudget, KLDivergence

    sample = json.loads((Path(__file__).parents[1] / "data" / "sample_check_report.json").read_text(encoding="utf-8"))
    old = CheckReport.from_json({k: v for k, v in sample.items() if k != "kl"})
    assert old.kl is None
    kl = KLDivergence(
        lam_ref=1.0,
        level=0.95,
        var_z=[0.1, None],
        measured={"mmlu": {"mean": [0.0, 0.1], "se": [0.0, 0.01], "ci_low": [0.0, 0.08], "ci_high": [0.0, 0.12]}},
        predicted_norm=[0.0, 0.09],
        first_off_positive=None,
        budget=KLBudget(tau=0.1, measured=1.0, at={"measured": {"lam": 1.0, "H_piqa": 0.6}}),
    )
    old.kl = kl
    data = json.loads(json.dumps(old.to_json()))
    assert data["kl"]["budget"]["at"]["measured"]["H_piqa"] == 0.6 and "first_off_positive" not in data["kl"]
    back = CheckReport.from_json(data)
    assert isinstance(back.kl, KLDivergence) and isinstance(back.kl.budget, KLBudget)
    assert back.kl.budget.measured == 1.0 and back.kl.var_z == [0.1, None]
    assert back.to_json()["kl"] == data["kl"]
    # the benign matched prompts: a third measured curve with its own Var_q and prediction, or the reason for none
    old.kl.measured["benign"] = {"mean": [0.0, 0.2], "ci_low": [0.0, 0.15], "ci_high": [0.0, 0.25], "n": 24}
    old.kl.benign_var_z, old.kl.benign_predicted_norm, old.kl.benign_reason = [0.3, None], [0.0, 0.18], None
    data = json.loads(json.dumps(old.to_json()))
    back = CheckReport.from_json(data)
    assert back.kl.measured["benign"]["n"] == 24 and back.kl.benign_var_z == [0.3, None]
    assert back.kl.benign_predicted_norm == [0.0, 0.18] and "benign_reason" not in data["kl"]
    assert back.to_json()["kl"] == data["kl"]
    assert CheckReport.from_json({**sample, "kl": {"benign_reason": "no benign"}}).kl.benign_reason == "no benign"
    data["kl"]["budget"]["lam_typo"] = 1.0
    with pytest.raises(ParameterError, match=r"kl\.budget has unknown keys \['lam_typo'\]"):
        CheckReport.from_json(data)


def test_kl_figure_draws_the_report_curves():
    pytest.importorskip("matplotlib")
    from validation.report.figures import kl as kl_figure
    from validation.report.figures._common import NothingToDraw
    from validation.report.schema import CheckReport, KLBudget, KLDivergence

    sample = json.loads((Path(__file__).parents[1] / "data" / "sample_check_report.json").read_text(encoding="utf-8"))
    report = CheckReport.from_json({k: v for k, v in sample.items() if k != "kl"})
    with pytest.raises(NothingToDraw, match="no measured KL"):
        kl_figure.make_figure(report)
    lam = np.asarray(report.lambda_grid["values"], dtype=float)
    pred = 0.01 * lam**2
    report.kl = KLDivergence(
        lam_ref=float(lam[lam > 0].min()),
        level=0.95,
        measured={"mmlu": {"mean": 1.5 * pred, "ci_low": 1.2 * pred, "ci_high": 1.8 * pred}},
        predicted_norm=pred,
        predicted_alpha=1.1 * pred,
        bound=50 * pred,
        regime="constructed",
        budget=KLBudget(tau=0.1, measured=float(lam.max()) / 2, second_order=None, safe_mean=0.01),
    )
    fig = kl_figure.make_figure(report)
    pos = fig.axes[0]
    x = np.sort(lam[lam > 0])
    ys = {line.get_label(): line.get_ydata() for line in pos.get_lines()}
    np.testing.assert_allclose(ys["predicted ½‖δ_q‖²Var_q (measured ‖δ‖)"], 0.01 * x**2)
    np.testing.assert_allclose(ys["rigorous bound ‖δ_q‖²R_q²/8"], 0.5 * x**2)
    assert pos.get_yscale() == "log" and pos.get_xscale() == "log"
    assert len(fig.axes) >= 2  # lambda > 0 and lambda < 0
