"""The ``steering-bounds`` command line and the import-isolation promise of ``bounds``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bounds import registry
from bounds.theory_doc import render_markdown
from validation.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_theory_table_lists_every_statement(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["theory"]) == 0
    out = capsys.readouterr().out
    for s in registry.statements():
        assert s.id in out
        assert s.text() in out
    assert "expansion:" in out


def test_theory_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["theory", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in items] == list(registry.ORDER)
    for d in items:
        assert {"id", "name", "kind", "latex", "provenance"} <= set(d)
        if d["kind"] in ("theorem", "corollary", "proposition", "replacement"):
            assert d["status"] in ("holds", "fails")
        else:
            assert "status" not in d


def test_theory_bad_order_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["theory", "--order", "-1"])
    assert "--order must be an integer >= 0" in capsys.readouterr().err


def test_docs_theory_is_generated_from_registry() -> None:
    page = (ROOT / "docs" / "theory.md").read_text(encoding="utf-8")
    stale = "docs/theory.md is stale: run `steering-bounds theory --markdown > docs/theory.md`"
    assert page == render_markdown(), stale


def test_import_bounds_pulls_no_heavy_or_test_dependency() -> None:
    code = (
        "import sys, bounds, bounds.registry, validation, validation.cli; bounds.statements();"
        "bad = [m for m in ('torch', 'transformers', 'hypothesis', 'lmfit') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr


def test_console_script_runs() -> None:
    exe = Path(sys.executable).with_name("steering-bounds")
    if not exe.exists():
        pytest.skip("console script not installed in this environment")
    res = subprocess.run([str(exe), "theory", "--json"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)[0]["id"] == "definition-behavior"


def _write_curves(path: Path, *, a: float = 0.6, b0: float = -0.3, ha: float = 1.1, hb: float = 0.5) -> None:
    """Curves of 12 queries simulated from known laws plus small additive noise: B = tanh(a λ + b0), H = eq. (6)."""
    import numpy as np

    rng = np.random.default_rng(7)
    lam = np.round(np.arange(-3.0, 5.01, 0.5), 2)
    rows = ["query,lam,behavior,helpfulness"]
    for q in range(12):
        for x in lam:
            B = np.tanh(a * x + b0) + 0.002 * rng.normal()
            H = 1 / (1 + ha * (1 + (hb * x) ** 2 / 2)) + 0.01 * rng.normal()
            rows.append(f"q{q},{x},{B:.6f},{H:.6f}")
    path.write_text("\n".join(rows) + "\n")


def test_fit_command_recovers_laws_and_writes_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    curves = tmp_path / "curves.csv"
    _write_curves(curves)
    out = tmp_path / "out"
    assert main(["fit", str(curves), "--out", str(out), "--n-boot", "100", "--w", "0.5"]) == 0
    text = capsys.readouterr().out
    assert "behavior: law tanh" in text and "tradeoff: argmax B + 0.5 H" in text
    report = json.loads((out / "fit.json").read_text())
    for quantity, name, truth in (("behavior", "a", 0.6), ("behavior", "b0", -0.3), ("helpfulness", "b", 0.5)):
        par = report[quantity]["params"][name]
        assert abs(par["value"] - truth) < 4 * par["bootstrap_std"], (quantity, name, par)
    assert (out / "curves.png").stat().st_size > 10_000 and (out / "pareto.png").stat().st_size > 10_000


def test_fit_command_malformed_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("lam,behavior\n0.0,0.1\nzero,0.2\n")
    assert main(["fit", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3" in err and "lam" in err


def test_simulate_command_quick_study_writes_table_and_figures_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sim"
    assert main(["simulate", "--quick", "--out", str(out), "--seed", "3"]) == 0
    first = capsys.readouterr()
    assert "theorem-2-jensen: min frequency 1.0000" in first.out
    assert "[   1/" in first.err  # progress lines
    rows = json.loads((out / "coverage.json").read_text())
    for name in ("coverage.csv", "theorem2_coverage.png", "expected_helpfulness.png", "theorem1_tightness.png"):
        assert (out / name).stat().st_size > 0
    # a rerun with the same arguments recomputes nothing and gives the same table
    assert main(["simulate", "--quick", "--out", str(out), "--seed", "3"]) == 0
    second = capsys.readouterr()
    n = re.search(r"coverage study: (\d+) configurations \((\d+) resumed\)", second.out)
    assert n is not None and int(n.group(1)) == int(n.group(2)) > 0
    assert "(0 resumed)" in first.out
    assert json.loads((out / "coverage.json").read_text()) == rows


def test_figures_command_builds_the_requested_theory_figure(tmp_path, capsys):
    from validation.cli import main

    assert main(["figures", "--only", "fig2b", "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "fig2b_theorem1.png").stat().st_size > 10_000
    assert main(["figures", "--only", "fig99", "--out", str(tmp_path)]) == 2
    assert "only: unknown figure ids ['fig99']" in capsys.readouterr().err


def test_figures_command_draws_report_figures_from_a_given_report(tmp_path):
    from pathlib import Path

    from validation.cli import main

    report = Path(__file__).parent / "data" / "sample_check_report.json"
    assert main(["figures", "--only", "fig6-8", "--report", str(report), "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "fig6_8_delta_norm.png").exists()


def test_check_accepts_a_negative_first_lambda_without_equals_sign(tmp_path, capsys):
    from validation.cli import main

    # parsed (no "expected one argument" error); stopped by the grid check before any model is loaded
    assert main(["check", "--lambdas", "-4,-2,1", "--layers", "-3,-2", "--out", str(tmp_path)]) == 2
    assert "lambdas: the grid must contain 0" in capsys.readouterr().err


def test_figures_paper_sizes_reach_the_model_figures(tmp_path, monkeypatch):
    import sys
    import types

    import paper_figures
    from paper_figures import build

    seen = {}
    fake = types.ModuleType("fake_model_figure")
    fake.PAPER_SIZES = {"n_items": 100}

    def render(out_dir, *, loaded, report, **sizes):
        seen.update(sizes)
        return []

    fake.render = render
    monkeypatch.setitem(sys.modules, "fake_model_figure", fake)
    monkeypatch.setitem(paper_figures.FIGURES, "fake", ("fake_model_figure", "model"))
    monkeypatch.setattr(build, "FIGURES", paper_figures.FIGURES)
    import validation.models

    monkeypatch.setattr(validation.models, "load_model", lambda *a, **k: object())
    report = __import__("pathlib").Path(__file__).parent / "data" / "sample_check_report.json"
    build.build_all(tmp_path, report_path=report, only=["fake"], paper_sizes=True, progress=False)
    assert seen["n_items"] == 100
