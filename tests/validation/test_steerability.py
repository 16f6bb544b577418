"""Tests of :mod:`validation.measure.steerability` and :mod:`validation.measure.windows` on planted arrays (no
model), and the windows of the committed sample report (the numbers quoted by issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from bounds.errors import ParameterError
from validation.measure import (
    alpha_window,
    assumption_1,
    grid_window,
    minimum_over,
    query_slopes,
    spread_over,
    steerability,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_check_report.json"
LAM = np.array([-8.0, -4.0, -2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 4.0, 8.0])


def _planted(n: int = 40, seed: int = 1, noise: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Rows b_q λ + c_q + noise inside |λ| <= 2, a wild value outside (the window must ignore it); b_q known."""
    rng = np.random.default_rng(seed)
    b = rng.uniform(0.05, 0.4, n)
    b[7] = -0.3  # the planted wrong-way prompt
    c = rng.uniform(-0.9, -0.5, n)
    Y = b[:, None] * LAM + c[:, None] + noise * rng.standard_normal((n, LAM.size))
    Y[:, np.abs(LAM) > 2] = 50.0
    return Y, b


def test_slopes_recover_planted_values_and_ignore_points_outside_the_window():
    Y, b = _planted()
    res = steerability(LAM, {"B": Y}, drive=np.exp(b), window=(-2, 2))
    m = res.measures["B"]
    assert res.window_lam.tolist() == [-2.0, -1.0, 0.0, 0.5, 1.0, 2.0]
    np.testing.assert_allclose(m.slope, b, atol=0.02)
    assert (m.n_points == 6).all() and m.n_defined == m.n_with_interval == 40
    covered = (m.ci_low <= b) & (b <= m.ci_high)
    assert covered.mean() > 0.85  # 95 % intervals on the truth
    assert m.n_wrong_way == 1 and np.flatnonzero(m.ci_high < 0).tolist() == [7]
    assert m.n_right_way == 39
    assert m.wrong_way_share == pytest.approx(1 / 40)
    # Wilson interval, written out here: (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    z, n, p = stats.norm.ppf(0.975), 40, 1 / 40
    centre, half = (
        (p + z * z / (2 * n)) / (1 + z * z / n),
        z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / 4 / n**2),
    )
    assert (m.wrong_way_low, m.wrong_way_high) == pytest.approx((centre - half, centre + half))
    # drive = exp(b): a monotone function of the true slope, so the rank correlation is close to 1
    assert m.spearman_rho > 0.95 and m.spearman_p < 1e-10 and m.spearman_n == 40
    assert m.median == pytest.approx(np.median(m.slope)) and m.min == pytest.approx(-0.3, abs=0.02)
    json.dumps(res.to_dict(), allow_nan=False)


def test_slope_se_and_interval_match_an_independent_regression():
    rng = np.random.default_rng(3)
    x = LAM[np.abs(LAM) <= 4]
    Y = 0.2 * x + rng.normal(0, 0.05, (3, x.size))
    qs = query_slopes(x, Y, level=0.9)
    for q in range(3):
        ref = stats.linregress(x, Y[q])
        t = stats.t.ppf(0.95, x.size - 2)
        assert qs.slope[q] == pytest.approx(ref.slope)
        assert qs.se[q] == pytest.approx(ref.stderr)
        assert (qs.ci_low[q], qs.ci_high[q]) == pytest.approx((ref.slope - t * ref.stderr, ref.slope + t * ref.stderr))


def test_correlation_follows_the_drive_not_the_order():
    Y, b = _planted(noise=0.001)
    rng = np.random.default_rng(0)
    unrelated = rng.permutation(b)
    res = steerability(LAM, {"B": Y}, drive=unrelated, window=(-2, 2))
    planted = stats.spearmanr(b, unrelated).statistic
    assert res.measures["B"].spearman_rho == pytest.approx(planted, abs=0.02)
    res = steerability(LAM, {"B": Y}, drive=-b, window=(-2, 2))
    assert res.measures["B"].spearman_rho < -0.99


def test_constant_rows_have_slope_zero_and_are_neither_way():
    Y = np.full((3, LAM.size), 0.1)  # 0.1 is not exact in binary: the sums must not invent a slope
    Y[1] = -1.0
    Y[2] = 0.3 * LAM
    res = steerability(LAM, {"B": Y}, drive=np.array([1.0, 2.0, 3.0]), window=(-4, 4))
    m = res.measures["B"]
    assert m.slope[:2].tolist() == [0.0, 0.0] and m.se[:2].tolist() == [0.0, 0.0]
    assert m.ci_low[0] == m.ci_high[0] == 0.0
    assert m.n_wrong_way == 0 and m.n_right_way == 1  # the constant rows are undetermined, the third is steered
    assert m.slope[2] == pytest.approx(0.3) and m.se[2] == pytest.approx(0.0, abs=1e-12)


def test_two_points_give_a_secant_without_an_interval():
    lam = np.array([0.0, 1.0, 2.0])
    Y = np.array([[0.0, 0.5, 9.0], [1.0, 0.0, 9.0], [0.2, 0.4, 9.0]])
    res = steerability(lam, {"B": Y}, drive=np.array([1.0, -1.0, 0.0]), window=(0, 1))
    m = res.measures["B"]
    assert m.slope.tolist() == pytest.approx([0.5, -1.0, 0.2])
    assert np.isnan(m.se).all() and np.isnan(m.ci_high).all()
    assert m.n_with_interval == 0 and m.n_wrong_way == 0  # -1.0 has no interval: undetermined, not "wrong way"
    assert np.isnan(m.wrong_way_share) and np.isnan(m.wrong_way_low)
    assert m.spearman_rho == pytest.approx(1.0)  # the slopes are still ranked
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["measures"]["B"]["wrong_way_share"] is None


def test_nan_cells_are_left_out_and_nan_queries_have_no_slope():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    Y = np.array([[-0.4, -0.2, 0.0, 0.21, 0.4], [np.nan] * 5, [0.1, np.nan, 0.3, np.inf, 0.5], [0.0] * 5])
    qs = query_slopes(x, Y)
    assert qs.n_points.tolist() == [5, 0, 3, 5]
    assert np.isnan(qs.slope[1]) and np.isnan(qs.se[1])
    ref = stats.linregress([-2.0, 0.0, 2.0], [0.1, 0.3, 0.5])
    assert qs.slope[2] == pytest.approx(ref.slope) and qs.se[2] == pytest.approx(ref.stderr, abs=1e-12)
    res = steerability(x, {"B": Y}, drive=np.array([1.0, 2.0, np.nan, 3.0]), window=(-2, 2))
    m = res.measures["B"]
    assert m.n_defined == 3 and m.n_queries == 4
    assert m.spearman_n == 2 and np.isnan(m.spearman_rho) and "fewer than 3" in m.spearman_note
    res = steerability(x, {"B": Y}, drive=np.ones(4), window=(-2, 2))
    assert "constant" in res.measures["B"].spearman_note


def test_steerability_refuses_bad_input_naming_it():
    Y = np.zeros((2, LAM.size))
    with pytest.raises(ParameterError, match=r"window .* at least 2 points"):
        steerability(LAM, {"B": Y}, np.zeros(2), window=(0.1, 0.4))
    with pytest.raises(ParameterError, match=r"measures\['B'\] must have shape \(n_queries, len\(lam\) = 10\)"):
        steerability(LAM, {"B": Y[:, :3]}, np.zeros(2), window=(-1, 1))
    with pytest.raises(ParameterError, match=r"drive must have shape \(n_queries,\) = \(2,\)"):
        steerability(LAM, {"B": Y}, np.zeros(3), window=(-1, 1))
    with pytest.raises(ParameterError, match="measures must be a non-empty mapping"):
        steerability(LAM, {}, np.zeros(2), window=(-1, 1))
    with pytest.raises(ParameterError, match="share n_queries"):
        steerability(LAM, {"B": Y, "D": np.zeros((3, LAM.size))}, np.zeros(2), window=(-1, 1))
    with pytest.raises(ParameterError, match="low <= high"):
        steerability(LAM, {"B": Y}, np.zeros(2), window=(1, -1))
    with pytest.raises(ValueError, match="level"):
        steerability(LAM, {"B": Y}, np.zeros(2), window=(-1, 1), level=1.0)
    with pytest.raises(ParameterError, match="repeat"):
        query_slopes([0.0, 0.0, 1.0], np.zeros((1, 3)))


# ---------------------------------------------------------------------------------------------------------------
# windows
# ---------------------------------------------------------------------------------------------------------------
def test_minimum_over_each_window_on_constructed_margins():
    lam = LAM[LAM != 0]
    # query 0: worst at lambda = -8, best on lambda > 0 at 0.5; query 1: worst at lambda = 8
    margin = np.array(
        [[-0.9, -0.3, -0.2, -0.1, 0.4, 0.3, 0.2, 0.1, 0.0], [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.0, -0.5, -0.6]]
    )
    whole = grid_window(LAM, "whole_grid", -8, 8, "whole grid")
    pos = grid_window(LAM, "positive", 0.5, 8, "λ > 0")
    lin = grid_window(LAM, "linear", -2, 2, "|λ| ≤ 2")
    per_q, s = minimum_over(lam, margin, whole)
    assert per_q.tolist() == [-0.9, -0.6] and s.mean == pytest.approx(-0.75)
    per_q, s = minimum_over(lam, margin, pos)
    assert per_q.tolist() == [0.0, -0.6] and s.mean == pytest.approx(-0.3)
    per_q, s = minimum_over(lam, margin, lin)
    assert per_q.tolist() == [-0.2, 0.0] and s.mean == pytest.approx(-0.1) and s.n == 2
    assert lin.lam.tolist() == [-2.0, -1.0, 0.0, 0.5, 1.0, 2.0]  # the grid's own points, 0 included
    with pytest.raises(ParameterError, match="holds no point"):
        grid_window(LAM, "empty", 8.5, 9, "none")
    with pytest.raises(ParameterError, match=r"values must have shape \(n_queries, len\(lam\) = 9\)"):
        minimum_over(lam, margin[:, :4], whole)


def test_alpha_window_is_the_window_alpha_was_fitted_on():
    lam = LAM
    knee = 2.0
    norms = np.where(np.abs(lam) <= knee, np.abs(lam), knee + 0.2 * (np.abs(lam) - knee))
    a1 = assumption_1(lam, np.vstack([norms, 1.1 * norms]))
    w = alpha_window(lam, a1)
    assert a1.alpha_side == "symmetric" and (w.low, w.high) == (-2.0, 2.0)
    assert "|λ| ≤ 2" in w.text and "its linear range" in w.text
    one_sided = assumption_1(lam[lam >= 0], norms[None, lam >= 0])
    w = alpha_window(lam[lam >= 0], one_sided)
    assert one_sided.alpha_side == "positive" and (w.low, w.high) == (0.0, 2.0) and "0 < λ ≤ 2" in w.text
    assert alpha_window(np.array([0.0, 1.0]), assumption_1([0.0, 1.0], [[0.0, 1.0]])) is None  # no alpha


def test_spread_over_a_window():
    sp = spread_over([0.5, 1.0, 2.0, -1.0], [0.092, 0.1, 0.106, 0.09], 0.1, "|λ| ≤ 2")
    assert (sp.low, sp.high, sp.lam_low, sp.lam_high) == (0.09, 0.106, -1.0, 2.0)
    assert sp.rel_low == pytest.approx(-0.10) and sp.rel_high == pytest.approx(0.06)
    with pytest.raises(ParameterError, match="non-zero"):
        spread_over([1.0], [0.1], 0.0, "w")
    with pytest.raises(ParameterError, match="shape of lam"):
        spread_over([1.0, 2.0], [0.1], 0.1, "w")


@pytest.mark.skipif(not SAMPLE.is_file(), reason="no sample report")
def test_sample_report_margins_on_each_window_are_the_numbers_of_issue_17():
    """SmolLM2's hard margin: -0.214 over the whole grid (the Delta of the bounds), -0.114 over lambda > 0 and
    -0.127 over alpha's window |lambda| <= 4.19, from the per-query margins the sample report stores."""
    r = json.loads(SAMPLE.read_text(encoding="utf-8"))
    grid = np.array(r["lambda_grid"]["values"])
    d2 = r["assumptions"]["assumption_2"]["details"]
    lam, margin = np.array(d2["lam"]), np.array(d2["margin"], dtype=float)
    norms = np.array(r["curves"]["delta_norm_post"]["mean"], dtype=float)  # the detection runs on the query mean
    win = alpha_window(grid, assumption_1(grid, norms[None, :]))
    assert (win.low, win.high) == (-4.19, 4.19)
    whole = grid_window(grid, "whole_grid", lam.min(), lam.max(), "whole grid")
    pos = grid_window(grid, "positive", lam[lam > 0].min(), lam.max(), "λ > 0")
    values = {k: minimum_over(lam, margin, w)[1].mean for k, w in (("whole", whole), ("pos", pos), ("lin", win))}
    assert values["whole"] == pytest.approx(r["parameters"]["Delta"]["estimate"])  # the stored headline
    assert [round(values[k], 3) for k in ("whole", "pos", "lin")] == [-0.214, -0.114, -0.127]
