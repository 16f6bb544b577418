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
from steering_bounds.cli import main

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
    assert main(["theory", "--order", "-1"]) == 2
    assert capsys.readouterr().err == "steering-bounds theory: error: order: expected an integer >= 0, got -1\n"


def test_docs_theory_is_generated_from_registry() -> None:
    page = (ROOT / "docs" / "theory.md").read_text(encoding="utf-8")
    stale = "docs/theory.md is stale: run `steering-bounds theory --markdown > docs/theory.md`"
    assert page == render_markdown(), stale


def test_import_bounds_pulls_no_heavy_or_test_dependency() -> None:
    code = (
        "import sys, bounds, bounds.registry, validation, steering_bounds.cli; bounds.statements();"
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
    from steering_bounds.cli import main

    assert main(["figures", "--only", "fig2b", "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "fig2b_theorem1.png").stat().st_size > 10_000
    assert main(["figures", "--only", "fig99", "--out", str(tmp_path)]) == 2
    assert "only: unknown figure ids ['fig99']" in capsys.readouterr().err


def test_figures_command_draws_report_figures_from_a_given_report(tmp_path):
    from pathlib import Path

    from steering_bounds.cli import main

    report = Path(__file__).parent / "data" / "sample_check_report.json"
    assert main(["figures", "--only", "fig6-8", "--report", str(report), "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "fig6_8_delta_norm.png").exists()


def test_check_accepts_a_negative_first_lambda_without_equals_sign(tmp_path, capsys):
    from steering_bounds.cli import main

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


# ----------------------------------------------------------------------------------------------------------------------
# errors: one line on stderr and exit status 2 for the project's own errors, a traceback for anything else
# ----------------------------------------------------------------------------------------------------------------------


def _one_error_line(err: str, sub: str) -> str:
    """The single stderr line of an on-purpose error of subcommand ``sub`` (asserts the format)."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"steering-bounds {sub}: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["theory", "--order", "-1"], "order: expected an integer >= 0"),
        (["simulate", "--n-draws", "1"], "n_draws must be an integer >= 2"),
        (["fit", "no-such-curves.csv"], "curves: no such file"),
        (["fit", "curves.csv", "--paper"], "curves: give either a curve file or --paper, not both"),
        (["check", "--model", "/no/such/dir"], "model: no such file or directory '/no/such/dir'"),
        (["check", "--behavior", "nope"], "behavior must be one of ['bias', 'harmful', 'harmless']"),
        (["figures", "--only", "fig99"], "only: unknown figure ids ['fig99']"),
    ],
)
def test_command_line_errors_are_one_line_and_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    """Each subcommand, run as a program: an on-purpose error is one stderr line, exit status 2, no traceback."""
    env = {**__import__("os").environ, "HF_HUB_OFFLINE": "1"}
    res = subprocess.run(
        [sys.executable, "-m", "steering_bounds.cli", *args, *([] if args[0] == "theory" else ["--out", tmp_path])],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert res.returncode == 2, res.stderr
    assert expected in _one_error_line(res.stderr, args[0])
    assert res.stdout == ""


def _no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    import validation.models

    def load_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded although an argument was bad")

    monkeypatch.setattr(validation.models, "load_model", load_model)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--behavior", "nope"], "behavior must be one of"),
        (["--behavior", "missing.json"], "(no such file)"),
        (["--lambdas", "0,1,inf"], "lambdas: every value must be finite"),
        (["--lambdas", "1,2"], "lambdas: the grid must contain 0"),
        (["--layers", "3,4", "--n-behavior", "1"], "n_behavior: expected an integer >= 2"),
        (["--level", "1.5"], "level: expected a confidence level in the open interval (0, 1)"),
        (["--batch-size", "0"], "batch_size: expected 'auto' or an integer >= 1"),
        (["--vectors", "missing.safetensors"], "vectors: no such file"),
        (["--model", "/no/such/dir"], "model: no such file or directory"),
        (["--device-map", "auto", "--device", "cpu"], "device and device_map are exclusive"),
        (["--kl-budget", "0"], "kl_budget: expected a finite KL budget > 0 in nats, got 0.0"),
        (["--kl-budget", "-0.1"], "kl_budget: expected a finite KL budget > 0"),
        (["--target-behavior", "-1"], "target_behavior: expected a behavior expectation in (-1, 1], got -1.0"),
    ],
)
def test_check_rejects_bad_arguments_before_loading_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    _no_model_load(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert main(["check", *args, "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert expected in _one_error_line(capsys.readouterr().err, "check")
    assert not (tmp_path / "out").exists()  # nothing written either


def test_a_bad_behavior_file_is_reported_before_loading_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_model_load(monkeypatch)
    bad = tmp_path / "behavior.json"
    bad.write_text('{"name": "mine", "aligned": ["Sure"]}')
    assert main(["check", "--behavior", str(bad), "--out", str(tmp_path / "out")]) == 2
    line = _one_error_line(capsys.readouterr().err, "check")
    assert "defines the new behavior 'mine' and must give ['misaligned', 'templates']" in line


class _Sentinel(Exception):
    """Raised by a stand-in ``load_model``: the run got as far as loading the model."""


def _capture_load_model(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    import validation._packages
    import validation.models

    seen: dict[str, object] = {}

    def load_model(*args: object, **kwargs: object) -> None:
        seen.update(kwargs, args=args)
        raise _Sentinel

    monkeypatch.setattr(validation.models, "load_model", load_model)
    monkeypatch.setattr(validation._packages, "find_spec", lambda name: object())  # "accelerate is installed"
    return seen


def test_check_device_map_reaches_the_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from validation.behaviors import BehaviorSpec

    seen = _capture_load_model(monkeypatch)
    monkeypatch.setattr(BehaviorSpec, "vector_pairs", lambda spec, cfg: ([], {}))  # no data packages
    monkeypatch.setattr(BehaviorSpec, "eval_prompts", lambda spec, cfg: ([], {}))
    monkeypatch.setattr(BehaviorSpec, "benign_prompts", lambda spec, cfg: (None, {"reason": "not read in this test"}))
    with pytest.raises(_Sentinel):  # not a project error: it propagates, not turned into exit status 2
        main(["check", "--device-map", "auto", "--n-mmlu", "0", "--n-piqa", "0", "--out", str(tmp_path), "--quiet"])
    assert seen["device_map"] == "auto" and seen["device"] is None


def test_figures_device_map_reaches_the_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _capture_load_model(monkeypatch)
    with pytest.raises(_Sentinel):
        main(["figures", "--only", "fig6-8", "--device-map", "auto", "--out", str(tmp_path), "--quiet"])
    assert seen["device_map"] == "auto" and seen["args"] == ("smollm2-135m-instruct",)


def test_device_map_and_device_are_recorded_like_the_other_settings() -> None:
    from validation.check import CheckConfig

    assert CheckConfig(device_map="auto").validate().fingerprint()["device_map"] == "auto"
    # unset, it is left out of the resume fingerprint: caches written before the setting existed stay valid
    assert "device_map" not in CheckConfig().fingerprint() and "device" in CheckConfig().fingerprint()


@pytest.mark.parametrize("error", [KeyError("boom"), RuntimeError("boom"), ValueError("a library's own error")])
def test_unexpected_errors_keep_their_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """Only the project's own errors become one line: a bug, or a ValueError from inside a library, propagates."""
    import bounds.fit_workflow

    def run_fit(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(bounds.fit_workflow, "run_fit", run_fit)
    with pytest.raises(type(error), match=str(error.args[0])):
        main(["fit", str(tmp_path / "c.csv"), "--out", str(tmp_path)])


def test_the_error_line_is_one_line_whatever_the_message() -> None:
    from steering_bounds.cli import error_line

    assert error_line("check", ValueError("a\n  b\tc")) == "steering-bounds check: error: a b c"


def test_project_errors_keep_their_builtin_base() -> None:
    """Every on-purpose error is a SteeringBoundsError and still what existing ``except`` clauses catch."""
    from bounds._io import ResumeMismatchError
    from bounds.errors import MissingFileError, MissingPackageError, ParameterError, SteeringBoundsError
    from bounds.fit_workflow import CurvesFormatError
    from validation._packages import MissingPackageError as DataMissingPackageError
    from validation.batching import BatchTooLargeError
    from validation.data import DataFormatError
    from validation.layout import ArchitectureError
    from validation.models import ChecksumError, ModelNotFoundError

    assert DataMissingPackageError is MissingPackageError
    for cls, base in [
        (ParameterError, ValueError),
        (MissingFileError, FileNotFoundError),
        (MissingPackageError, ImportError),
        (CurvesFormatError, ValueError),
        (ResumeMismatchError, ValueError),
        (DataFormatError, ValueError),
        (ChecksumError, ValueError),
        (ModelNotFoundError, OSError),
        (ArchitectureError, TypeError),
        (ResumeMismatchError, RuntimeError),
        (BatchTooLargeError, RuntimeError),
    ]:
        assert issubclass(cls, SteeringBoundsError) and issubclass(cls, base), cls
