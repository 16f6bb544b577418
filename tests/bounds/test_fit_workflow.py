"""The ``steering-bounds fit`` workhorse (bounds.fit_workflow): reading curve files and the end-to-end fit.

Curve files are generated here from known parameters with noise (no data files are committed): per-query curves are
the true law plus noise whose scale shrinks at the ends of the range (B in [-1, 1], H in [0, 1]), so the dataset
average follows the law and the fits must recover the parameters within their standard errors.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from bounds import tradeoff
from bounds.fit_workflow import CurvesFormatError, load_curves, run_fit
from bounds.fitting import expectation_form, restricted_form, tanh_law, theorem_2_form

LAM = np.round(np.arange(-4.0, 4.0001, 0.5), 10)
TRUTH = {"a": 0.6, "b0": -0.3, "ha": 1.1, "hb": 0.5}


def simulate_rows(
    seed: int,
    *,
    n_query: int = 20,
    lam: np.ndarray = LAM,
    helpfulness: str = "theorem-2",
    noise: float = 0.15,
    with_query: bool = True,
) -> list[dict[str, object]]:
    """Per-query curves from the true laws, noise sd ``noise * f(1-f)``-like so values stay in range."""
    rng = np.random.default_rng(seed)
    fb = np.asarray(tanh_law(lam, TRUTH["a"], TRUTH["b0"]))
    if helpfulness == "restricted":
        fh = np.asarray(restricted_form(lam, TRUTH["ha"], TRUTH["hb"], 4))
    elif helpfulness == "expectation":
        fh = np.asarray(expectation_form(lam, 0.5, 0.02))
    else:
        fh = np.asarray(theorem_2_form(lam, TRUTH["ha"], TRUTH["hb"]))
    rows = []
    for q in range(n_query):
        b = fb + rng.normal(0, noise, lam.size) * (1 - fb**2)
        h = fh + rng.normal(0, noise, lam.size) * fh * (1 - fh)
        for x, bv, hv in zip(lam, b, h, strict=True):
            row: dict[str, object] = {"lam": float(x), "behavior": float(bv), "helpfulness": float(hv)}
            if with_query:
                row["query"] = f"q{q}"
            rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict[str, object]], columns: list[str] | None = None) -> Path:
    columns = columns or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in columns})
    return path


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_json(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------------------
# load_curves
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("writer", [write_csv, write_jsonl, write_json], ids=["csv", "jsonl", "json"])
def test_load_curves_formats_agree(tmp_path: Path, writer) -> None:
    rows = simulate_rows(1, n_query=3)
    suffix = {"write_csv": ".csv", "write_jsonl": ".jsonl", "write_json": ".json"}[writer.__name__]
    curves = load_curves(writer(tmp_path / f"c{suffix}", rows))
    assert curves.behavior is not None and curves.helpfulness is not None
    assert curves.behavior.queries == ("q0", "q1", "q2")
    assert np.array_equal(curves.behavior.lam, LAM)
    expected = np.array([[r["behavior"] for r in rows if r["query"] == q] for q in ("q0", "q1", "q2")])
    np.testing.assert_allclose(curves.behavior.Y, expected, rtol=1e-15)
    assert curves.behavior.se is None and curves.notes == ()


def test_load_curves_single_query_se_ignored_columns_and_missing_cells(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "lam,behavior,behavior_se,helpfulness,model\n"
        "0,0.1,0.01,,llama\n"
        "1,0.5,0.02,0.4,llama\n"
        "2,0.8,0.01,0.3,llama\n"
        "3,0.9,0.01,0.2,llama\n"
        "-1,-0.2,0.03,0.45,llama\n",
        encoding="utf-8",
    )
    c = load_curves(path)
    assert c.ignored_columns == ("model",)
    assert c.behavior is not None and c.behavior.queries == ("all",)
    assert np.array_equal(c.behavior.lam, [-1, 0, 1, 2, 3])
    np.testing.assert_array_equal(c.behavior.se, [[0.03, 0.01, 0.02, 0.01, 0.01]])
    assert c.helpfulness is not None and np.array_equal(c.helpfulness.lam, [-1, 1, 2, 3])  # empty cell = not measured


def test_load_curves_common_grid_drops_points_with_a_note(tmp_path: Path) -> None:
    rows = simulate_rows(2, n_query=2)
    rows.append({"query": "q0", "lam": 7.0, "behavior": 0.99, "helpfulness": 0.1})
    c = load_curves(write_jsonl(tmp_path / "c.jsonl", rows))
    assert c.behavior is not None and c.behavior.dropped == 1 and 7.0 not in c.behavior.lam
    assert any("left out" in n for n in c.notes)


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("c.csv", "behavior,helpfulness\n0.1,0.2\n", r"c\.csv:1: missing required column 'lam'"),
        ("c.csv", "lam,query\n0,a\n", r"c\.csv:1: needs a 'behavior' and/or a 'helpfulness' column"),
        ("c.csv", "lam,behavior\n0,0.1\n1,abc\n2,0.3\n", r"c\.csv:3: column 'behavior': not a number: 'abc'"),
        ("c.csv", "lam,behavior\n0,0.1\n1,1.5\n", r"c\.csv:3: column 'behavior': must lie in \[-1, 1\]"),
        ("c.csv", "lam,helpfulness\n0,0.1\nnan,0.2\n", r"c\.csv:3: column 'lam': must be finite"),
        ("c.csv", "lam,behavior\n0,0.1\n1,0.2,7\n", r"c\.csv:3: expected 2 fields"),
        ("c.csv", "lam,behavior\n0,0.1\n,0.2\n", r"c\.csv:3: missing value for the required column 'lam'"),
        ("c.csv", "lam,behavior,behavior_se\n0,0.1,0\n", r"c\.csv:2: column 'behavior_se': .* must be > 0"),
        ("c.csv", "lam,behavior,helpfulness\n0,,\n", r"c\.csv:2: neither 'behavior' nor 'helpfulness'"),
        ("c.csv", "lam,query,behavior\n0,,0.1\n", r"c\.csv:2: missing value for the column 'query'"),
        (
            "c.csv",
            "lam,query,behavior\n0,a,0.1\n1,a,0.2\n0,a,0.3\n",
            r"c\.csv:4: duplicate behavior for query 'a' at lam = 0\.0 \(first given at line 2\)",
        ),
        ("c.csv", "lam,behavior\n0,0.1\n1,0.2\n", r"c\.csv: behavior: only 2 lam value\(s\)"),
        ("c.jsonl", '{"lam": 0, "behavior": 0.1}\n{"lam": 1, "behavior": 0.2\n', r"c\.jsonl:2: invalid JSON line"),
        ("c.jsonl", '{"lam": 0, "behavior": 0.1}\n{"behavior": 0.2}\n', r"c\.jsonl:2: missing required key 'lam'"),
        ("c.jsonl", '{"lam": 0, "behavior": "x"}\n', r"c\.jsonl:1: column 'behavior': not a number: 'x'"),
        ("c.jsonl", '{"lam": true, "behavior": 0.1}\n', r"c\.jsonl:1: column 'lam': not a number: True"),
        ("c.jsonl", '[1, 2]\n{"lam": 0, "helpfulness": 0.1}\n', r"c\.jsonl:1: each record must be a JSON object"),
        ("c.json", '{"lam": 0, "behavior": 0.1}\n{"lam": 1, "behavior": 0.2,}\n', r"c\.json:2: invalid JSON line"),
        ("c.jsonl", '{"lam": 0}\n', r"c\.jsonl: no record has a 'behavior' or 'helpfulness' key"),
        ("c.json", '[\n {"lam": 0, "behavior": 0.1},\n 5\n]\n', r"c\.json:3: each record must be a JSON object"),
        ("c.json", '[\n {"lam": 0, "behavior": 0.1},\n {"lam": 1, "behavior": }\n]', r"c\.json:3: invalid JSON"),
        ("c.json", '[\n {"lam": 0, "behavior": 0.1}\n {"lam": 1}\n]', r"c\.json:3: invalid JSON: expected ','"),
        ("c.json", "[]", r"c\.json: no records"),
        ("c.txt", "lam,behavior\n", r"c\.txt: unknown format '\.txt'"),
        ("c.csv", "", r"c\.csv: empty file"),
    ],
)
def test_load_curves_errors_name_file_and_line(tmp_path: Path, name: str, text: str, match: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CurvesFormatError, match=match):
        load_curves(path)


def test_load_curves_se_must_be_complete(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("lam,behavior,behavior_se\n0,0.1,0.01\n1,0.2,\n2,0.3,0.01\n", encoding="utf-8")
    with pytest.raises(CurvesFormatError, match=r"c\.csv:3: 'behavior_se' is given for some behavior rows"):
        load_curves(path)


# ---------------------------------------------------------------------------------------------------------------
# run_fit end to end
# ---------------------------------------------------------------------------------------------------------------
def test_run_fit_recovers_parameters_and_writes_the_files(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "curves.csv", simulate_rows(20240601, n_query=24))
    out = tmp_path / "out"
    s = run_fit(src, out_dir=out, n_boot=60, seed=3)
    # files
    assert (out / "fit.json").is_file() and (out / "curves.png").is_file() and (out / "pareto.png").is_file()
    assert json.loads((out / "fit.json").read_text(encoding="utf-8")) == s
    # parameters within 4 bootstrap SE of the truth, and the profile CI contains the estimate
    for quantity, names in (("behavior", {"a": "a", "b0": "b0"}), ("helpfulness", {"a": "ha", "b": "hb"})):
        rep = s[quantity]
        assert rep["n_queries"] == 24 and rep["success"]
        assert rep["bootstrap"]["n_boot"] == 60 and rep["bootstrap"]["resampled"] == "queries"
        for name, key in names.items():
            p = rep["params"][name]
            assert abs(p["value"] - TRUTH[key]) < 4 * p["bootstrap_std"], (quantity, name, p)
            assert abs(p["value"] - TRUTH[key]) < 4 * p["stderr"], (quantity, name, p)
            assert p["ci"][0] < p["value"] < p["ci"][1]
    # model comparison and mapping
    assert s["behavior"]["comparison"]["best_bic"] == "tanh"
    assert s["helpfulness"]["comparison_near_zero"]["best_bic"] == "quadratic"
    mapped = s["behavior"]["mapped"]["alpha_delta"]
    assert mapped["value"] == pytest.approx(2 * s["behavior"]["params"]["a"]["value"])
    hm = s["helpfulness"]["mapped"]
    assert "β" in hm["beta_caution"] and "fails" in hm["theorem_2_status"]
    b = s["helpfulness"]["params"]["b"]["value"]
    assert hm["alpha_sigma_for_beta"]["k=4: simulated min(Y+,Y-) ~ 0.47"]["value"] == pytest.approx(b / 0.47)
    # p0 = 1/(1+a) for the true law at λ = 0, so γ = a p0/(1-p0) ≈ 1
    assert hm["gamma"]["value"] == pytest.approx(1.0, abs=4 * hm["gamma"]["stderr"] + 0.02)
    # the tradeoff on the fitted laws is close to the tradeoff on the true laws
    t = s["tradeoff"]
    assert t["lam_range"] == [-4.0, 4.0]
    true_B = tradeoff.law_from_callable("B", "behavior", lambda x: np.asarray(tanh_law(x, TRUTH["a"], TRUTH["b0"])))
    true_H = tradeoff.law_from_callable(
        "H", "helpfulness", lambda x: np.asarray(theorem_2_form(x, TRUTH["ha"], TRUTH["hb"]))
    )
    ref = tradeoff.analyse(true_B, true_H, w=1.0, tau=0.1, lam_range=(-4.0, 4.0))
    assert t["best"]["lam"] == pytest.approx(ref.best.lam, abs=0.1)
    assert t["helpfulness_limit"]["lam"] == pytest.approx(ref.helpfulness_limit.lam, abs=0.1)
    assert t["efficient_regime"][-1][1] == pytest.approx(ref.efficient_regime[-1][1], abs=0.1)


def test_run_fit_single_query_with_standard_errors(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    lam = np.linspace(-3, 3, 25)
    se = 0.01
    fb = np.asarray(tanh_law(lam, 0.8, 0.2))
    fh = np.asarray(theorem_2_form(lam, 1.5, 0.6))
    rows = [
        {"lam": x, "behavior": b, "behavior_se": se, "helpfulness": h, "helpfulness_se": se}
        for x, b, h in zip(lam, fb + rng.normal(0, se, 25), fh + rng.normal(0, se, 25), strict=True)
    ]
    s = run_fit(write_jsonl(tmp_path / "one.jsonl", rows), out_dir=tmp_path / "o", n_boot=0)
    rep = s["behavior"]
    assert rep["n_queries"] == 1 and rep["bootstrap"] is None and "weighted by its standard errors" in rep["method"]
    a = rep["params"]["a"]
    assert abs(a["value"] - 0.8) < 4 * a["stderr"]
    assert s["behavior"]["comparison"]["absolute_errors"] is True
    assert s["tradeoff"]["lam_range"] == [-3.0, 3.0]


def test_run_fit_only_behavior_skips_the_tradeoff(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "helpfulness"} for r in simulate_rows(3, n_query=4)]
    out = tmp_path / "o"
    s = run_fit(write_csv(tmp_path / "b.csv", rows), out_dir=out, n_boot=5)
    assert s["tradeoff"] is None and "no helpfulness curves" in s["tradeoff_skipped"]
    assert s["helpfulness"] is None and s["files"]["pareto_png"] is None
    assert (out / "curves.png").is_file() and not (out / "pareto.png").exists()


def test_run_fit_fixed_b0_restricted_and_options(tmp_path: Path) -> None:
    rows = simulate_rows(4, n_query=12, helpfulness="restricted")
    src = write_csv(tmp_path / "r.csv", rows)
    s = run_fit(
        src,
        out_dir=tmp_path / "o",
        alignment_law="tanh-fixed-b0",
        helpfulness_law="restricted",
        k=4,
        w=0.5,
        tau=0.2,
        lam_range=(0.0, 3.0),
        alpha=2.0,
        beta=0.5,
        n_boot=5,
    )
    b_measured = np.mean([r["behavior"] for r in rows if r["lam"] == 0.0])
    fixed = s["behavior"]["b0_fixed"]
    assert fixed["value"] == pytest.approx(math.atanh(b_measured)) and "measured" in fixed["source"]
    assert s["behavior"]["params"]["b0"]["vary"] is False and "ci" not in s["behavior"]["params"]["b0"]
    assert s["helpfulness"]["function"] == "restricted_form"
    assert s["helpfulness"]["mapped"]["sigma_for_beta"]["given"]["value"] == pytest.approx(
        s["helpfulness"]["params"]["b"]["value"] / (2.0 * 0.5)
    )
    assert s["behavior"]["mapped"]["delta"]["value"] == pytest.approx(s["behavior"]["params"]["a"]["value"])
    t = s["tradeoff"]
    assert t["lam_range"] == [0.0, 3.0] and t["w"] == 0.5 and t["tau"] == 0.2
    assert t["helpfulness_limit_negative"] is None
    assert "restricted form" in t["H"]["name"]
    # the given B0 wins over the measured one
    s2 = run_fit(src, out_dir=tmp_path / "o2", alignment_law="tanh-fixed-b0", B0=0.1, n_boot=0)
    assert s2["behavior"]["b0_fixed"] == {"value": pytest.approx(math.atanh(0.1)), "source": "given"}


def test_run_fit_expectation_law_uses_the_window(tmp_path: Path) -> None:
    rows = simulate_rows(5, n_query=10, helpfulness="expectation")
    s = run_fit(write_csv(tmp_path / "e.csv", rows), out_dir=tmp_path / "o", helpfulness_law="expectation", n_boot=5)
    rep = s["helpfulness"]
    assert rep["window"] == 2.0 and rep["lam_fitted"] == [-2.0, 2.0]
    assert abs(rep["params"]["c"]["value"] - 0.02) < 4 * rep["params"]["c"]["stderr"]
    assert s["tradeoff"]["lam_range"] == [-2.0, 2.0]
    assert "second order" in s["tradeoff"]["H"]["provenance"]


def test_run_fit_warns_when_lam_range_extrapolates(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", simulate_rows(6, n_query=4))
    s = run_fit(src, out_dir=tmp_path / "o", lam_range=(-1.0, 6.0), n_boot=0)
    assert any("extrapolated" in w for w in s["warnings"])


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"alignment_law": "sigmoid"}, ValueError, "alignment_law must be one of"),
        ({"helpfulness_law": "eq6"}, ValueError, "helpfulness_law must be one of"),
        ({"helpfulness_law": "restricted", "k": 2}, ValueError, "k must be an integer >= 3"),
        ({"w": -1.0}, ValueError, "w must lie in"),
        ({"tau": 2.0}, ValueError, "tau must lie in"),
        ({"n_boot": -1}, ValueError, "n_boot"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"level": 1.0}, ValueError, "level must lie in the open interval"),
        ({"B0": 1.0, "alignment_law": "tanh-fixed-b0"}, ValueError, "B0 must lie in the open interval"),
        ({"lam_range": (1.0, 0.0)}, ValueError, "lam_range must satisfy lo < hi"),
        ({"alpha": 0.0}, ValueError, "alpha must be > 0"),
    ],
)
def test_run_fit_validates_options(tmp_path: Path, kwargs: dict, exc: type, match: str) -> None:
    src = write_csv(tmp_path / "c.csv", simulate_rows(8, n_query=2))
    with pytest.raises(exc, match=match):
        run_fit(src, out_dir=tmp_path / "o", **({"n_boot": 0} | kwargs))


def test_run_fit_fixed_b0_needs_B0_or_lambda_zero(tmp_path: Path) -> None:
    rows = [r for r in simulate_rows(9, n_query=2) if r["lam"] != 0.0]
    with pytest.raises(ValueError, match="needs B0"):
        run_fit(write_csv(tmp_path / "c.csv", rows), out_dir=tmp_path / "o", alignment_law="tanh-fixed-b0", n_boot=0)


def test_importing_fit_workflow_and_tradeoff_pulls_no_lmfit_or_matplotlib() -> None:
    import subprocess
    import sys

    code = (
        "import sys, bounds.fit_workflow, bounds.tradeoff;"
        "bad = [m for m in ('lmfit', 'matplotlib', 'torch') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
