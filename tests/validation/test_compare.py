"""Tests of :mod:`validation.compare` (``steering-bounds compare``) on variants of the sample check report with
hand-made curves and parameters (no model)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

from bounds.errors import MissingFileError, ParameterError
from steering_bounds.cli import main
from validation.compare import compare, compare_reports
from validation.compare import consequences as cq
from validation.compare.figures import FILENAMES

SAMPLE = json.loads((Path(__file__).resolve().parents[1] / "data" / "sample_check_report.json").read_text())
GRID = [-1.0, 0.0, 1.0, 2.0, 3.0, 4.0]
Z95 = 1.959963984540054


def _toy(grid=GRID, *, method="pca", at_chance=False, parameters=None, **curves) -> dict:
    """The sample report on ``grid`` with only the given curves (``name=mean`` or ``name=(mean, se)``), the method
    ``method``, MMLU at chance or not, and ``parameters`` replacing the estimates of those named."""
    d = copy.deepcopy(SAMPLE)
    d["lambda_grid"] = {"values": list(grid)}
    d["curves"] = {}
    for name, value in curves.items():
        mean, se = value if isinstance(value, tuple) else (value, [0.0] * len(grid))
        label = SAMPLE["curves"].get(name, {}).get("label", name)
        d["curves"][name] = {"mean": list(mean), "se": list(se), "n": 24, "label": label}
    d["assumptions"]["assumption_2"]["mean_gap_mean"] = [None if x == 0 else 0.2 for x in grid]
    d["config"]["method"] = d["vectors"]["method"] = method
    d["chance"]["mmlu"]["at_chance"] = at_chance
    for name, value in (parameters or {}).items():
        d["parameters"][name] = {"estimate": value}
    return d


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps(data))
    return folder


def _series(lam, mean, se=None) -> cq.Series:
    return cq.Series("Y", np.array(lam, float), np.array(mean, float), np.array(se or [0.0] * len(lam), float))


# -- consequences on hand-made curves ----------------------------------------------------------------------------------
B_HAND = [-0.9, -0.6, -0.2, 0.2, 0.6, 0.5]  # crosses 0 at λ = 1.5; plateau 0.6, 90 %: -0.6 + 0.9 * 1.2 = 0.48 at 2.7
H_HAND = ([0.5, 0.5, 0.45, 0.4, 0.3, 0.2], [0.01] * 6)


def test_crossing_and_plateau_equal_hand_computed_values(tmp_path: Path) -> None:
    _, result = compare([_write(tmp_path, "a", _toy(B_generated=B_HAND, H_mmlu_full=H_HAND))])
    c = result["rows"][0]["consequences"]["B_generated"]
    assert c["cross_zero"]["lam"]["value"] == pytest.approx(1.5)
    assert c["plateau_90"]["lam"]["value"] == pytest.approx(2.7)
    assert c["plateau_90"]["lam"]["plateau"] == pytest.approx(0.6)
    assert c["plateau_90"]["lam"]["target"] == pytest.approx(0.48)
    lost = c["cross_zero"]["helpfulness_change"]["mmlu_full"]  # H(1.5) = 0.425
    half = Z95 * math.hypot(0.01, 0.01)
    assert (lost["value"], lost["low"], lost["high"]) == pytest.approx((-0.075, -0.075 - half, -0.075 + half))
    assert lost["lam"] == pytest.approx(1.5)
    assert "not in the report" in c["cross_zero"]["helpfulness_change"]["piqa"]["reason"]
    assert result["rows"][0]["consequences"]["B_single"] == {"reason": "curve B_single not in the report"}


def test_no_crossing_and_no_rise_are_none_with_their_reason() -> None:
    above = cq.cross_zero(_series([0, 1, 2], [0.3, 0.5, 0.7]))
    assert above.value is None and "above 0 already" in above.reason
    below = cq.cross_zero(_series([0, 1, 2], [-0.8, -0.5, -0.6]))
    assert below.value is None and "stays below 0" in below.reason and "-0.5 at λ = 1" in below.reason
    flat = cq.plateau_90(_series([0, 1, 2], [0.2, 0.1, 0.2]))
    assert flat.value is None and "never rises" in flat.reason
    assert cq.cross_zero(_series([0, 1], [0.0, 0.5])).value == 0.0


def test_slope_ratio_on_a_linear_toy_is_the_ratio_of_the_slopes(tmp_path: Path) -> None:
    b = [0.2 * x for x in GRID]
    h = ([0.5 - 0.05 * x for x in GRID], [0.001] * 6)
    _, result = compare([_write(tmp_path, "a", _toy(B_generated=(b, [0.001] * 6), H_mmlu_full=h))])
    ratio = result["rows"][0]["consequences"]["B_generated"]["slope_ratio"]["mmlu_full"]
    assert ratio["value"] == pytest.approx(0.2 / 0.05)
    assert ratio["low"] < 4.0 < ratio["high"] and ratio["high"] - ratio["low"] < 1.0
    assert ratio["lam1"] == 1.0


def test_slope_ratio_is_undefined_when_h_does_not_fall_and_open_ended_when_flat_within_noise() -> None:
    b, h = _series(GRID[1:], [0, 0.2, 0.4, 0.6, 0.8]), _series(GRID[1:], [0.5, 0.49, 0.4, 0.3, 0.2], [0.02] * 5)
    flat = cq.slope_ratio(b, h, Z95)  # -dH/dλ = 0.01 > 0 but within z SE: H flat to first order, no upper end
    assert flat.value == pytest.approx(0.2 / 0.01) and flat.high is None and "no upper end" in flat.detail["note"]
    assert flat.low == pytest.approx(20 - Z95 * 0.2 * 0.02 * np.sqrt(2) / 0.01**2)  # B exact: only H's SE counts
    level = cq.slope_ratio(b, _series(GRID[1:], [0.5, 0.5, 0.4, 0.3, 0.2]), Z95)
    assert level.value is None and level.reason.startswith("H does not fall")
    rising = cq.slope_ratio(b, _series(GRID[1:], [0.5, 0.6, 0.7, 0.8, 0.9]), Z95)
    assert rising.value is None and "H does not fall" in rising.reason


# -- scores and ranking ------------------------------------------------------------------------------------------------
PARAMS = {"alpha": 1.0, "Delta": 0.3, "sigma": 0.1, "beta": 1.0, "gamma": 1.0, "p0_mmlu_full": 0.5, "B0_generated": 0.0}
LINE_H = [0.55, 0.5, 0.45, 0.4, 0.35, 0.3]  # falls by the budget 0.05 at λ = 1


def _ranked(tmp_path: Path, rows: dict[str, tuple[list[float], dict]]) -> dict:
    paths = [
        _write(tmp_path, name, _toy(method=name, B_generated=b, H_mmlu_full=LINE_H, parameters={**PARAMS, **p}))
        for name, (b, p) in rows.items()
    ]
    return compare(paths, task="mmlu_full")[1]


def test_measured_and_predicted_scores_equal_hand_computed_values(tmp_path: Path) -> None:
    grid = [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    h = [0.5, 0.48, 0.46, 0.44, 0.42, 0.40]  # falls by 0.05 at λ = 5
    b = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    data = _toy(grid, B_generated=b, H_mmlu_full=h, parameters=PARAMS)
    _, result = compare([_write(tmp_path, "a", data)], task="mmlu_full")
    measured = result["ranking"]["scores"]["measured"][0]
    assert (measured["value"], measured["lam_star"], measured["crossed"]) == (pytest.approx(0.25), 5.0, True)
    # eq. (6) with p0 = 0.5, γ = 1: H = 1 / (2 + (αβσλ)²/2) = 0.45 at αβσλ = 2/3, λ* = 20/3; Theorem 1: tanh(0.15 λ*)
    predicted = result["ranking"]["scores"]["predicted_Delta"][0]
    assert predicted["lam_star"] == pytest.approx(20 / 3)
    assert predicted["value"] == pytest.approx(math.tanh(1.0))
    gap = result["ranking"]["scores"]["predicted_mean_gap"][0]  # the mean gap is 0.2 on λ > 0
    assert gap["value"] == pytest.approx(math.tanh(0.1 * 20 / 3))


def test_a_clearly_better_row_ranks_first_and_the_rankings_agree(tmp_path: Path) -> None:
    result = _ranked(
        tmp_path,
        {
            "good": ([-0.9, -0.5, 0.3, 0.6, 0.7, 0.7], {"Delta": 0.9}),
            "mid": ([-0.9, -0.5, -0.2, 0.0, 0.1, 0.2], {"Delta": 0.5}),
            "bad": ([-0.9, -0.5, -0.45, -0.4, -0.35, -0.3], {"Delta": 0.1}),
        },
    )
    rk = result["ranking"]
    labels = [r["label"] for r in result["rows"]]
    assert [rk["ranks"]["measured"][x] for x in labels] == [1, 2, 3]
    assert [s["value"] for s in rk["scores"]["measured"]] == pytest.approx([0.8, 0.3, 0.05])
    assert [rk["ranks"]["predicted_Delta"][x] for x in labels] == [1, 2, 3]
    a = rk["agreement"]["Delta"]
    assert a["kendall_tau"] == pytest.approx(1.0) and a["top1_agree"] is True and a["n_used"] == 3


def test_kendall_tau_of_partly_disagreeing_rankings(tmp_path: Path) -> None:
    # measured: A > B > C; predicted (Δ): A > C > B -> 2 concordant pairs, 1 discordant: τ = 1/3; top-1 agrees
    result = _ranked(
        tmp_path,
        {
            "A": ([-0.9, -0.5, 0.3, 0.6, 0.7, 0.7], {"Delta": 0.9}),
            "B": ([-0.9, -0.5, -0.2, 0.0, 0.1, 0.2], {"Delta": 0.1}),
            "C": ([-0.9, -0.5, -0.45, -0.4, -0.35, -0.3], {"Delta": 0.5}),
        },
    )
    a = result["ranking"]["agreement"]["Delta"]
    assert a["kendall_tau"] == pytest.approx(1 / 3)
    assert a["top1_agree"] is True and a["top1_measured"].startswith("smollm2-135m-instruct · harmless · A")


def test_rows_at_chance_or_with_a_negative_margin_are_flagged_and_left_out(tmp_path: Path) -> None:
    b = [-0.9, -0.5, 0.3, 0.6, 0.7, 0.7]
    variants = {
        "ok1": {"method": "m1", "B_generated": b},
        "ok2": {"method": "m2", "B_generated": [*b[:-1], 0.9]},
        "neg": {"method": "m3", "B_generated": b, "parameters": {**PARAMS, "Delta": -0.2}},
        "chance": {"method": "m4", "B_generated": b, "at_chance": True},
    }
    paths = [
        _write(tmp_path, k, _toy(**{"parameters": PARAMS, "H_mmlu_full": LINE_H, **v})) for k, v in variants.items()
    ]
    _, result = compare(paths, task="mmlu_full")
    rows, scores = result["rows"], result["ranking"]["scores"]
    assert rows[3]["cannot_show_effect"] == ["at chance on MMLU: cannot show a helpfulness decrease"]
    assert rows[0]["cannot_show_effect"] == []
    # a row at chance keeps its scores (the full-vocabulary H still falls), flagged
    assert "at chance on MMLU" in scores["measured"][3]["at_chance"] and scores["measured"][3]["value"] is not None
    assert "at chance on MMLU" in scores["predicted_Delta"][3]["at_chance"]
    assert scores["predicted_Delta"][3]["value"] is not None and scores["measured"][0]["at_chance"] is None
    assert scores["predicted_Delta"][2]["value"] is None
    assert "hard margin Δ = -0.2 ≤ 0: Assumption 2 fails" in scores["predicted_Delta"][2]["reason"]
    assert scores["predicted_mean_gap"][2]["value"] is not None  # the mean gap (0.2) is positive
    a = result["ranking"]["agreement"]["Delta"]
    assert (a["n_used"], a["n_left_out"]) == (3, 1)
    assert result["ranking"]["agreement"]["mean_gap"]["n_used"] == 4
    without = result["ranking"]["agreement_not_at_chance"]
    assert without["Delta"]["n_used"] == 2 and without["mean_gap"]["n_used"] == 3


def test_auto_task_is_mmlu_even_at_chance_and_piqa_without_mmlu(tmp_path: Path) -> None:
    b = [-0.9, -0.5, 0.3, 0.6, 0.7, 0.7]
    at_chance = _toy(at_chance=True, B_generated=b, H_mmlu_full=LINE_H)
    _, result = compare([_write(tmp_path, "c", at_chance)])
    assert result["settings"]["task"] == "mmlu_full" and "1 of 1 rows at chance" in result["settings"]["task_rule"]
    data = _toy(B_generated=b, H_piqa=[0.8, 0.8, 0.79, 0.78, 0.77, 0.76])  # run with n_mmlu = 0: no MMLU curve
    _, result = compare([_write(tmp_path, "a", data)])
    assert result["settings"]["task"] == "piqa" and "have no MMLU curve" in result["settings"]["task_rule"]
    measured = result["ranking"]["scores"]["measured"][0]
    assert measured["crossed"] is False and measured["lam_star"] == 4.0 and "never fell by 0.05" in measured["note"]
    assert measured["value"] == pytest.approx(0.7 - -0.5)
    assert "no law of the theory for PIQA" in result["ranking"]["scores"]["predicted_Delta"][0]["reason"]
    assert result["ranking"]["reason"] == "needs ≥ 2 rows, got 1"


def test_a_generated_behavior_with_nothing_to_move_is_flagged(tmp_path: Path) -> None:
    top = _toy(B_generated=[1.0] * 6, positive_label_fraction_generated=[1.0] * 6, H_mmlu_full=LINE_H)
    stuck = _toy(method="x", B_generated=[0.0] * 6, positive_label_fraction_generated=[0.5] * 6, H_mmlu_full=LINE_H)
    moves = _toy(method="y", B_generated=B_HAND, positive_label_fraction_generated=[0, 0.2, 0.4, 0.6, 0.8, 0.75])
    _, result = compare([_write(tmp_path, n, d) for n, d in (("top", top), ("stuck", stuck), ("moves", moves))])
    first, second, third = (r["cannot_show_effect"] for r in result["rows"])
    head = "generated behavior: 24/24 responses classified refusal at lambda = 0"
    assert first == [head + ": nothing to gain -- the model cannot show an effect"]
    head = "generated behavior: 12/24 responses classified refusal at lambda = 0"
    assert second == [head + ", at most 12/24 at any lambda > 0: the behavior does not move on this grid"]
    assert third == []


def test_probe_heldout_accuracy_is_read_when_present(tmp_path: Path) -> None:
    with_acc = _toy(B_generated=B_HAND)
    with_acc["vectors"]["heldout_accuracy"] = {"12": 0.9, "13": 0.8}
    _, result = compare([_write(tmp_path, "a", with_acc), _write(tmp_path, "b", _toy(method="m", B_generated=B_HAND))])
    acc = result["rows"][0]["probe_heldout_accuracy"]
    assert acc["mean"] == pytest.approx(0.85) and acc["min"] == 0.8
    assert result["rows"][1]["probe_heldout_accuracy"] is None


def test_reports_with_different_grids_and_the_sample_compare(tmp_path: Path) -> None:
    sample = _write(tmp_path, "sample", SAMPLE)
    rows, result = compare([sample, _write(tmp_path, "toy", _toy(B_generated=B_HAND, H_mmlu_full=H_HAND))])
    assert [len(r["lambda_grid"]) for r in result["rows"]] == [12, 6]
    c = result["rows"][0]["consequences"]["B_generated"]  # sample: -0.5 at λ = 1.4, -0.167 at 2.8, 0.333 at 4.19
    assert c["cross_zero"]["lam"]["value"] == pytest.approx(2.8 + 0.1667 / 0.5 * 1.39, abs=2e-3)
    assert result["rows"][0]["parameters"]["mean_gap"]["estimate"] == pytest.approx(
        1.21029 / 8, abs=1e-5
    )  # mean of its 8 values at λ > 0
    twice, _ = compare([sample, sample / "report.json", _write(tmp_path, "again", SAMPLE)])
    assert [r.label.rsplit(" (", 1)[-1] for r in twice] == ["sample)", "sample) #2", "again)"]
    assert {k: result["rows"][0][k] for k in rows[0].key} == rows[0].key == {
        "model": "smollm2-135m-instruct", "behavior": "harmless", "method": "pca",
        "layers": [12, 13, 14, 15, 16, 17], "positions": "all",
    }  # fmt: skip


def test_bad_inputs_name_the_path(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(MissingFileError, match=r"'.*empty' holds no report\.json"):
        compare([empty])
    with pytest.raises(MissingFileError, match=r"no such file or directory '.*nope'"):
        compare([tmp_path / "nope"])
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema": "steering-bounds/fit"}))
    with pytest.raises(ParameterError, match=r"other\.json.*schema"):
        compare([other])
    broken = tmp_path / "broken" / "report.json"
    broken.parent.mkdir()
    broken.write_text("{not json")
    with pytest.raises(ParameterError, match=r"broken/report\.json"):
        compare([broken.parent])
    with pytest.raises(ParameterError, match="budget"):
        compare([other], budget=1.5)


# -- the command line --------------------------------------------------------------------------------------------------
def test_cli_compare_writes_the_three_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _write(tmp_path, "a", SAMPLE)
    b = _write(tmp_path, "b", _toy(method="mean_diff", B_generated=B_HAND, H_mmlu_full=H_HAND, H_piqa=H_HAND))
    out = tmp_path / "out"
    assert main(["compare", str(a), str(b / "report.json"), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    result = json.loads((out / "compare.json").read_text())
    assert result["schema"] == "steering-bounds/compare" and len(result["rows"]) == 2
    assert sorted(result["figures"]) == sorted(FILENAMES.values())
    for name in result["figures"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "compare.md").read_text()
    assert "| 2 | smollm2-135m-instruct | harmless | mean_diff |" in md and "![Curves against λ]" in md


def test_cli_compare_one_report_still_writes_the_table(tmp_path: Path) -> None:
    result = compare_reports([_write(tmp_path, "a", SAMPLE)], tmp_path / "out")
    assert result["ranking"]["reason"] == "needs ≥ 2 rows, got 1"
    assert "Ranking: needs ≥ 2 rows, got 1." in (tmp_path / "out" / "compare.md").read_text()


@pytest.mark.parametrize("bad", ["missing", "empty"])
def test_cli_compare_bad_dir_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["compare", str(_write(tmp_path, "a", SAMPLE)), str(tmp_path / bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("steering-bounds compare: error: reports: ")
    assert str(tmp_path / bad) in err and not (tmp_path / "o").exists()


def test_a_task_whose_helpfulness_is_below_the_budget_gives_no_score(tmp_path: Path) -> None:
    """A base model puts almost no probability on the answer letters (H(0) = 0.004 on MMLU full): it cannot lose 0.05
    there, so neither score exists, rather than a score read at the largest λ."""
    tiny = [0.004, 0.0039, 0.003, 0.002, 0.001, 0.0]
    data = _toy(parameters=PARAMS, B_generated=[-0.9, -0.5, 0.3, 0.6, 0.7, 0.7], H_mmlu_full=tiny)
    _, result = compare([_write(tmp_path, "a", data)], task="mmlu_full")
    scores = result["ranking"]["scores"]
    assert scores["measured"][0]["value"] is None and "is not above the budget 0.05" in scores["measured"][0]["reason"]
    _, smaller = compare([tmp_path / "a"], task="mmlu_full", budget=0.002)
    assert smaller["ranking"]["scores"]["measured"][0]["value"] is not None
