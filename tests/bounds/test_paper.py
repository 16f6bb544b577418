"""The paper's published Llama-2-13B curves (``bounds.paper``): shipped data read by name, the standard-error rule,
the fits against an independent ``scipy.optimize.curve_fit``, and ``steering-bounds fit --paper`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import curve_fit

from bounds.errors import ParameterError
from bounds.fit_workflow import load_curves
from bounds.paper import (
    fit_curve,
    paper_curve,
    paper_measurements,
    paper_provenance,
    pseudo_count_se,
    standard_errors,
    to_curves,
    write_csv,
)
from bounds.paper.standard_errors import count_granularity

SUBJECTS = {"high_school_computer_science", "international_law", "medical_genetics"}


# -- the data ----------------------------------------------------------------------------------------------------------
def test_the_data_load_by_name_with_their_counts_keys_and_provenance() -> None:
    behavior = paper_measurements(quantity="behavior")
    helpfulness = paper_measurements(quantity="helpfulness")
    assert len(behavior) == 4 and len(helpfulness) == 24
    assert sum(c.lam.size for c in behavior) == 204 and sum(c.lam.size for c in helpfulness) == 984
    assert len({c.key for c in (*behavior, *helpfulness)}) == 28
    for c in behavior:
        assert c.lam.size == 51 and c.lam[0] == -5.0 and c.lam[-1] == 5.0 and np.all(np.diff(c.lam) > 0)
        assert c.subject is None and c.behavior in ("harmful", "bias")
        assert c.source.startswith("json_files_to_produce_all_figures/behavior_plots.zip:")
    for c in helpfulness:
        assert c.lam.size == 41 and c.lam[0] == -10.0 and c.lam[-1] == 10.0
        assert c.subject in SUBJECTS and c.measure in ("full_vocabulary", "restricted_A-D") and c.behavior is None
        assert c.subject in c.source and c.model + "_" + c.vector in c.source
    assert {c.model for c in behavior} == {"Llama-2-13b", "Llama-2-13b-chat"}
    with pytest.raises(ValueError):  # the arrays are read-only: the cached curves cannot be changed by a caller
        behavior[0].mean[0] = 0.0
    p = paper_provenance()
    assert p.commit == "decae4e02eaabfed36b6ee2b5a5f5ffc284bd90a" and p.commit in p.readme
    assert p.repository in p.readme and "2401.16332" in p.readme
    assert "../" + "shared" not in p.readme  # the repository stands alone


def test_the_published_behavior_std_is_the_population_std_of_plus_minus_one_scores() -> None:
    for c in paper_measurements(quantity="behavior"):
        np.testing.assert_allclose(c.std, np.sqrt(1.0 - c.mean**2), rtol=0, atol=1e-12)


def test_selection_by_keyword_and_one_curve_by_name() -> None:
    c = paper_curve(model="Llama-2-13b", vector="harmfulness", behavior="harmful")
    assert c.label == "Llama-2-13b / harmfulness / harmful" and c.at(0.0) == (
        -0.48,
        pytest.approx(np.sqrt(1 - 0.48**2)),
    )
    assert c.sign == 1 and paper_curve(model="Llama-2-13b-chat", behavior="harmful").sign == -1
    assert len(paper_measurements(subject="international_law")) == 8
    assert len(paper_measurements(model="Llama-2-13b-chat", measure="restricted_A-D")) == 6


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: paper_measurements(model="Llama-3"), "model must be one of ['Llama-2-13b', 'Llama-2-13b-chat']"),
        (lambda: paper_measurements(vector="honesty"), "vector must be one of ['fairness', 'harmfulness']"),
        (lambda: paper_measurements(subject="law"), "subject must be one of ['high_school_computer_science'"),
        (lambda: paper_measurements(measure="top1"), "measure must be one of ['full_vocabulary', 'restricted_A-D']"),
        (lambda: paper_measurements(behavior="bias", subject="international_law"), "no published curve matches"),
        (lambda: paper_curve(model="Llama-2-13b"), "matches 14 curves; narrow it with vector, behavior, subject"),
        (lambda: paper_curve(colour="red"), "unknown selection keyword(s) ['colour']"),
        (lambda: fit_curve(paper_curve(model="Llama-2-13b", behavior="bias"), "theorem-2"), "law must be one of"),
        (lambda: fit_curve(paper_curve(model="Llama-2-13b", behavior="bias"), n=1), "n: expected an integer >= 2"),
        (lambda: paper_curve(model="Llama-2-13b", behavior="bias").at(0.1), "lam must be on the grid"),
    ],
)
def test_bad_selections_raise_a_parameter_error_naming_the_parameter(call, named: str) -> None:
    with pytest.raises(ParameterError) as info:
        call()
    assert named in str(info.value)


# -- the standard errors -----------------------------------------------------------------------------------------------
def test_the_standard_error_rule_is_agresti_coull_for_plus_minus_one_scores_and_positive_where_std_is_zero() -> None:
    n = 100
    B = np.array([-1.0, -0.48, 0.0, 0.875, 1.0])
    se = pseudo_count_se(B, np.sqrt(1 - B**2), n, low=-1.0, high=1.0)
    p_tilde = (n * (1 + B) / 2 + 2) / (n + 4)
    np.testing.assert_allclose(se, 2 * np.sqrt(p_tilde * (1 - p_tilde) / (n + 4)), rtol=1e-12)
    naive = pseudo_count_se(B, np.sqrt(1 - B**2), n, low=-1.0, high=1.0, pseudo=0)
    np.testing.assert_allclose(naive, np.sqrt(1 - B**2) / np.sqrt(n), rtol=1e-12, atol=1e-15)
    ends = np.abs(B) == 1
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    assert np.all(naive[ends] == 0) and np.all(se[ends] > naive[ends])  # finite weight where the naive one is infinite
    assert se[ends][0] == pytest.approx(2 * np.sqrt(2 * (n + 2)) / (n + 4) ** 1.5)
    assert 1 / se[ends][0] ** 2 < 15 / se[2] ** 2  # a saturated point weighs about 13 interior points, not infinitely
    # helpfulness points with std 0 (every question scored 0) get a positive error, larger than the naive 0
    h = paper_curve(
        model="Llama-2-13b-chat", vector="harmfulness", subject="international_law", measure="full_vocabulary"
    )
    zero = h.std == 0
    assert zero.sum() >= 2
    se_h = standard_errors(h, n)
    assert np.all(se_h > 0) and np.all(se_h[zero] > standard_errors(h, n, pseudo=0)[zero])
    with pytest.raises(ParameterError, match="std: every value must lie in"):
        pseudo_count_se([0.5], [0.7], n, low=0.0, high=1.0)


def test_the_bias_means_allow_16_prompts_and_the_harmfulness_means_100() -> None:
    assert count_granularity(paper_curve(model="Llama-2-13b", behavior="bias")) == 16
    assert count_granularity(paper_curve(model="Llama-2-13b", behavior="harmful")) == 100
    assert count_granularity(paper_measurements(quantity="helpfulness")[0]) is None


# -- the fits, against an independent curve_fit ------------------------------------------------------------------------
def _window(c, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    inside = (c.lam >= lo - 1e-9) & (c.lam <= hi + 1e-9)
    return c.lam[inside], c.mean[inside], c.std[inside]


@pytest.mark.parametrize("model", ["Llama-2-13b", "Llama-2-13b-chat"])
def test_behavior_fits_match_an_independent_curve_fit(model: str) -> None:
    c = paper_curve(model=model, behavior="harmful")
    lam, mean, _ = _window(c, -3.0, 5.0)
    y = -mean if model.endswith("chat") else mean  # the chat model's misaligning run: the authors fit -B

    def law(x, a, b0):
        return np.tanh(a * x + b0)

    result = fit_curve(c)
    (a, b0), _ = curve_fit(law, lam, y, p0=(1.0, 0.0))
    assert result.unweighted.params["a"].value == pytest.approx(a, rel=1e-4)
    assert result.unweighted.params["b0"].value == pytest.approx(b0, rel=1e-4)
    n = 100
    p_tilde = (n * (1 + y) / 2 + 2) / (n + 4)
    se = 2 * np.sqrt(p_tilde * (1 - p_tilde) / (n + 4))
    (aw, b0w), _ = curve_fit(law, lam, y, p0=(1.0, 0.0), sigma=se, absolute_sigma=True)
    assert result.weighted.params["a"].value == pytest.approx(aw, rel=1e-4)
    assert result.weighted.params["b0"].value == pytest.approx(b0w, rel=1e-4)
    # the authors' values (docs/specification.md §14.1): base harmless 0.50, -0.56; chat harmful 1.31, -3.38
    assert (round(a, 2), round(b0, 2)) == {"Llama-2-13b": (0.50, -0.56), "Llama-2-13b-chat": (1.31, -3.38)}[model]
    assert result.unweighted.derived["alpha_delta"].value == pytest.approx(2 * a, rel=1e-4)


@pytest.mark.parametrize("law", ["theorem-2", "restricted"])
def test_helpfulness_fits_match_an_independent_curve_fit(law: str) -> None:
    c = paper_curve(model="Llama-2-13b", vector="fairness", subject="international_law", measure="restricted_A-D")
    lam, mean, _ = _window(c, -5.0, 5.0)

    def theorem_2(x, a, b):
        return 1.0 / (1.0 + a + a * b**2 * x**2 / 2.0)

    def restricted(x, a, b):
        return 0.5 * theorem_2(x, a, b) + 0.25

    result = fit_curve(c, law)
    (a, b), _ = curve_fit(theorem_2 if law == "theorem-2" else restricted, lam, mean, p0=(1.0, 0.5))
    assert result.unweighted.params["a"].value == pytest.approx(a, rel=1e-4)
    assert result.unweighted.params["b"].value == pytest.approx(abs(b), rel=1e-4)
    derived = result.unweighted.derived
    assert derived["b_over_2_5"].value == pytest.approx(abs(b) / 2.5, rel=1e-4)
    p0 = c.at(0.0)[0]
    assert derived["p0"].value == p0 and derived["gamma"].value == pytest.approx(a * p0 / (1 - p0), rel=1e-4)


@pytest.mark.parametrize("level", [0.8, 0.95])
def test_published_values_at_zero_take_the_fit_level(level: float) -> None:
    """B0 and p0 are published means with pseudo-count standard errors; their intervals are normal at the fit's level
    (they were ±1.96 se at every level)."""
    from scipy.stats import norm

    z = norm.ppf(0.5 + level / 2.0)
    behavior = fit_curve(paper_curve(model="Llama-2-13b", behavior="harmful"), level=level).unweighted
    helpfulness = fit_curve(
        paper_curve(model="Llama-2-13b", vector="fairness", subject="international_law", measure="full_vocabulary"),
        level=level,
    ).unweighted
    for est in (behavior.derived["B0_measured"], helpfulness.derived["p0"]):
        assert est.stderr > 0
        np.testing.assert_allclose(est.interval, (est.value - z * est.stderr, est.value + z * est.stderr), rtol=1e-12)
        assert est.note.endswith(f"interval ±{z:.3g} se")


def test_a_saturated_chat_curve_says_that_b0_cannot_be_fixed() -> None:
    chat = fit_curve(paper_curve(model="Llama-2-13b-chat", behavior="bias"))
    for f in chat.fits.values():
        assert f.derived["b0_fixed"] is None and f.derived["B0_measured"].value == -1.0
        assert any(n.startswith("saturated: the measured B0 = -1") for n in f.notes)
        assert f.params["b0"].value < -6 and np.isfinite(f.params["b0"].interval).all()
    base = fit_curve(paper_curve(model="Llama-2-13b", behavior="harmful"))
    assert base.unweighted.derived["b0_fixed"].value == pytest.approx(np.arctanh(-0.48))
    assert not any(n.startswith("saturated") for n in base.unweighted.notes)


def test_weighted_and_unweighted_disagreements_and_the_points_that_carry_the_weight() -> None:
    base = fit_curve(paper_curve(model="Llama-2-13b", behavior="harmful"))
    (first,) = base.disagreements
    assert first.startswith("a: weighted 0.573") and "larger interval half-width" in first
    assert "the 8 points with std 0 carry" in base.why
    assert base.weight_share.sum() == pytest.approx(1.0) and base.weight_share.size == base.lam.size
    agree = fit_curve(paper_curve(model="Llama-2-13b-chat", behavior="bias"))
    assert agree.disagreements == ()
    degenerate = fit_curve(
        paper_curve(model="Llama-2-13b-chat", vector="fairness", subject="international_law", measure="restricted_A-D"),
        "restricted",
    )
    assert any(n.startswith("degenerate: a's interval") for n in degenerate.weighted.notes)
    lam, values = degenerate.grid(11)
    assert lam[0] == -5.0 and lam[-1] == 5.0 and set(values) == {"unweighted", "weighted"}
    np.testing.assert_allclose(values["weighted"], degenerate.weighted(lam))


# -- conversion to the input of `steering-bounds fit` ------------------------------------------------------------------
def test_a_pair_of_curves_round_trips_through_the_fit_commands_csv(tmp_path: Path) -> None:
    b = paper_curve(model="Llama-2-13b-chat", behavior="harmful")
    h = paper_curve(
        model="Llama-2-13b-chat", vector="harmfulness", subject="medical_genetics", measure="full_vocabulary"
    )
    path = write_csv(tmp_path / "pair.csv", b, h, n=100, oriented=True)
    read = load_curves(path)
    direct = to_curves(b, h, n=100, oriented=True)
    for got, want in ((read.behavior, direct.behavior), (read.helpfulness, direct.helpfulness)):
        np.testing.assert_array_equal(got.lam, want.lam)
        np.testing.assert_array_equal(got.Y, want.Y)
        np.testing.assert_array_equal(got.se, want.se)
    np.testing.assert_array_equal(read.behavior.Y[0], -b.mean)
    assert to_curves(b).behavior.se is None and b.to_curves().behavior.Y[0, 0] == b.mean[0]
    with pytest.raises(ParameterError, match="behavior must be a behavior PaperCurve"):
        to_curves(h)


# -- the command -------------------------------------------------------------------------------------------------------
def test_fit_paper_command_writes_json_and_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from steering_bounds.cli import main

    out = tmp_path / "paper"
    assert main(["fit", "--paper", "--out", str(out), "--n", "50", "--n-sensitivity", "none"]) == 0
    text = capsys.readouterr().out
    assert "fitted 4 behavior, 24 helpfulness and 12 restricted curves" in text and "paper_fits.md" in text
    data = json.loads((out / "paper_fits.json").read_text(encoding="utf-8"))
    assert [len(data[k]) for k in ("behavior", "helpfulness", "restricted")] == [4, 24, 12]
    assert data["settings"]["n"] == 50 and data["provenance"]["commit"].startswith("decae4e")
    assert data["command"] == f"steering-bounds fit --paper --out {out} --n 50 --level 0.95 --n-sensitivity none"
    one = data["behavior"][0]
    assert set(one["fits"]) == {"unweighted", "weighted"} and one["fits"]["unweighted"]["se"] is None
    assert len(one["fits"]["weighted"]["se"]) == len(one["data"]["lam"]) == 41
    assert {"a", "b0"} == set(one["fits"]["weighted"]["params"])
    md = (out / "paper_fits.md").read_text(encoding="utf-8")
    assert md.count("| Llama-2-13b") == 2 * (4 + 24 + 12)
    assert "## Where weighted and unweighted disagree" in md and "| 50 | 40 |" in md


def test_fit_paper_and_a_curve_file_together_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from steering_bounds.cli import main

    assert main(["fit", "curves.csv", "--paper", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("steering-bounds fit: error: curves: give either a curve file or --paper, not both")
    assert main(["fit", "--out", str(tmp_path)]) == 2
    assert "curves: give a curve file" in capsys.readouterr().err
    assert main(["fit", "curves.csv", "--n", "5", "--out", str(tmp_path)]) == 2
    assert "n: applies to --paper only" in capsys.readouterr().err


def test_importing_bounds_paper_imports_no_lmfit_or_matplotlib() -> None:
    import subprocess
    import sys

    code = "import sys, bounds.paper; sys.exit(1 if {'lmfit', 'matplotlib'} & set(sys.modules) else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
