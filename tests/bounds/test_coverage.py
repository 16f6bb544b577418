"""The coverage study: documented rows, Theorem 2's failure reproduced, corrected bounds hold, resume, fingerprints."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from bounds._io import ResumeMismatchError
from bounds._progress import progress_bar, stderr_progress
from bounds.coverage import (
    CSV_FIELDS,
    DEFAULT_GRID,
    DEFAULT_N_DRAWS,
    QUICK_N_DRAWS,
    ROW_FIELDS,
    CoverageConfig,
    StudyProgress,
    default_configs,
    evaluate_config,
    run_study,
)

N = 600  # draws per simulation in these tests (the quick study's grid and configurations)


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory):
    """The quick study, run once with figures."""
    return run_study(tmp_path_factory.mktemp("quick"), quick=True, n_draws=N)


def _within(value: float, truth: float, se: float, n: int) -> bool:
    return abs(value - truth) <= 4 * max(se, math.sqrt(truth * (1 - truth) / n))


# =================================================================================================================
# Rows and outputs
# =================================================================================================================
def test_rows_have_the_documented_fields_and_outputs(quick) -> None:
    assert len(quick.rows) == len(default_configs(quick=True))
    for i, row in enumerate(quick.rows):
        assert set(row) == set(ROW_FIELDS)
        assert row["index"] == i and row["n_draws"] == N and row["backend"] == "numpy"
        assert row["claimed"] == pytest.approx(1 - 2 / row["k"])
        assert len(row["mean_H"]) == len(row["grid"]) == row["n_grid"]
    with quick.csv_path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == CSV_FIELDS
        csv_rows = list(reader)
    assert len(csv_rows) == len(quick.rows)
    assert float(csv_rows[0]["thm2_freq"]) == quick.rows[0]["thm2_freq"]
    doc = json.loads(quick.json_path.read_text(encoding="utf-8"))
    assert doc["rows"] == quick.rows and doc["fields"] == ROW_FIELDS
    assert doc["settings"]["fingerprint"] == quick.fingerprint
    assert len(quick.figures) == 3
    for f in quick.figures:
        data = f.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_study_reproduces_theorem_2_failure_while_corrected_bounds_hold(quick) -> None:
    fails = quick.failures()
    assert fails, "the quick study must contain a configuration where Theorem 2 fails"
    for row in fails:
        assert row["thm2_freq"] < row["claimed"] - 4 * row["thm2_se"]
    for row in quick.rows:
        assert row["jensen_freq"] == 1.0  # §12.2(a) holds on every draw
        assert row["event_bound_freq"] == 1.0  # §12.2(b) holds on E_q
        assert _within(row["event_freq"], 0.5, row["event_se"], N)  # P[E_q] = 1/2 (symmetric laws)
        assert _within(row["b_plus_empty"], 1 / row["k"], row["b_plus_empty_se"], N)
        assert _within(row["both_nonempty"], 1 - 2 / row["k"], row["both_nonempty_se"], N)
        n = row["cor2_n"]
        assert _within(row["cor2_limit"], 1 / n, row["cor2_limit_se"], N)  # Corollary 2
        assert row["thm1_min_gap"] >= -1e-12  # Theorem 1 holds on the hard-margin instances
        assert row["thm1_extremal_gap"] <= 1e-12  # and is attained by the two-token instance
        assert row["second_order_max_z"] <= 4.5  # the §12.2c expansion at small lambda
        assert row["second_order_max_abs"] <= 1e-2


def test_a_default_configuration_refutes_theorem_2() -> None:
    """On the default grid with the default number of draws (not only the quick study)."""
    cfgs = default_configs()
    i = next(
        j for j, c in enumerate(cfgs) if (c.k, c.shape, c.law, c.p0, c.eps) == (50, "two_dominant", "normal", 0.5, 0.0)
    )
    row = evaluate_config(cfgs[i], i, n_draws=DEFAULT_N_DRAWS)
    assert row["thm2_fails"] and row["thm2_deficit"] > 0.03
    assert row["jensen_freq"] == 1.0 and row["event_bound_freq"] == 1.0
    assert row["n_grid"] == DEFAULT_GRID.size


def test_default_configs_are_documented_sizes() -> None:
    cfgs = default_configs()
    assert len(cfgs) == 144 and len(set(cfgs)) == 144
    assert {c.k for c in cfgs} == {3, 4, 10, 50}
    assert {c.law_label for c in cfgs} == {"normal", "laplace", "uniform", "t(df=5)"}
    assert sum(c.eps > 0 for c in cfgs) == 16
    assert len(default_configs(quick=True)) == 6
    assert QUICK_N_DRAWS < DEFAULT_N_DRAWS


def test_rows_are_keyed_by_index_and_seed(quick) -> None:
    cfg = default_configs(quick=True)[1]
    from bounds.coverage import QUICK_GRID

    row = evaluate_config(cfg, 1, seed=0, n_draws=N, grid=QUICK_GRID)
    assert row == quick.rows[1]
    other = evaluate_config(cfg, 1, seed=1, n_draws=N, grid=QUICK_GRID)
    assert other["key"] != row["key"] and other["mean_H"] != row["mean_H"]


# =================================================================================================================
# Progress, resume and fingerprints
# =================================================================================================================
class _Stop(RuntimeError):
    pass


def test_interrupted_study_resumes_to_the_uninterrupted_result(tmp_path: Path, quick) -> None:
    seen: list[StudyProgress] = []

    def interrupt(event: StudyProgress) -> None:
        seen.append(event)
        if event.done == 3:
            raise _Stop("interrupted")

    out = tmp_path / "study"
    with pytest.raises(_Stop):
        run_study(out, quick=True, n_draws=N, progress=interrupt, figures=False)
    assert [e.done for e in seen] == [1, 2, 3]
    assert all(e.total == 6 and e.seconds > 0 and not e.resumed for e in seen)
    assert [e.row for e in seen] == quick.rows[:3]
    assert len((out / "rows.jsonl").read_text(encoding="utf-8").splitlines()) == 3
    events: list[StudyProgress] = []
    resumed = run_study(out, quick=True, n_draws=N, figures=False, progress=events.append)
    assert resumed.n_resumed == 3 and [e.resumed for e in events] == [True] * 3 + [False] * 3
    assert resumed.rows == quick.rows  # equal to the uninterrupted run
    assert resumed.fingerprint == quick.fingerprint
    # a torn last line (a write cut short) and deleted rows: dropped / recomputed, same result
    jsonl = out / "rows.jsonl"
    lines = jsonl.read_text(encoding="utf-8").splitlines(keepends=True)
    jsonl.write_text("".join(lines[:1] + lines[4:]) + lines[1][: len(lines[1]) // 2], encoding="utf-8")
    again = run_study(out, quick=True, n_draws=N, figures=False)
    assert again.n_resumed == 3 and again.rows == quick.rows
    assert len(jsonl.read_text(encoding="utf-8").splitlines()) == 6
    done = run_study(out, quick=True, n_draws=N, figures=False)
    assert done.n_resumed == 6


def test_changed_fingerprint_is_a_clear_error(tmp_path: Path) -> None:
    cfgs = default_configs(quick=True)[1:3]
    run_study(tmp_path, configs=cfgs, n_draws=200, figures=False)
    with pytest.raises(ResumeMismatchError, match="differs in: seed"):
        run_study(tmp_path, configs=cfgs, n_draws=200, seed=1, figures=False)
    with pytest.raises(ResumeMismatchError, match="n_draws"):
        run_study(tmp_path, configs=cfgs, n_draws=300, figures=False)
    with pytest.raises(ResumeMismatchError, match="grid"):
        run_study(tmp_path, configs=cfgs, n_draws=200, grid=[0.0, 1.0], figures=False)
    with pytest.raises(ResumeMismatchError, match="n_configs"):
        run_study(tmp_path, configs=cfgs[:1], n_draws=200, figures=False)
    with pytest.raises(ResumeMismatchError, match="differs in: the configurations"):
        run_study(tmp_path, configs=cfgs[::-1], n_draws=200, figures=False)
    # rows of another study in the JSONL (e.g. the manifest was deleted) are refused too
    (tmp_path / "manifest.json").unlink()
    with pytest.raises(ResumeMismatchError, match="holds rows of a study"):
        run_study(tmp_path, configs=cfgs, n_draws=200, seed=2, figures=False)


def test_corrupt_middle_line_is_an_error(tmp_path: Path) -> None:
    cfgs = default_configs(quick=True)[1:3]
    run_study(tmp_path, configs=cfgs, n_draws=200, figures=False)
    jsonl = tmp_path / "rows.jsonl"
    lines = jsonl.read_text(encoding="utf-8").splitlines()
    jsonl.write_text("{not json\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ResumeMismatchError, match="line 1 is not valid JSON"):
        run_study(tmp_path, configs=cfgs, n_draws=200, figures=False)


def test_stderr_progress_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfgs = default_configs(quick=True)[:2]
    res = run_study(tmp_path, configs=cfgs, n_draws=200, progress=stderr_progress, figures=False)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("[   1/2] k=50")
    assert all(("FAILS" in line) != (" ok " in line) for line in err)
    run_study(tmp_path, configs=cfgs, n_draws=200, progress=stderr_progress, figures=False)
    assert "resumed" in capsys.readouterr().err
    text = res.summary()
    assert "2 configurations (0 resumed), 200 draws each" in text
    assert f"in {len(res.failures())} of 2 configurations" in text
    assert "theorem-2-jensen: min frequency 1.0000" in text and str(res.csv_path) in text


def test_progress_bar_counts_rows_and_is_silent_when_disabled(capsys: pytest.CaptureFixture[str]) -> None:
    for enabled in (True, False):
        report = progress_bar("stage", enabled)
        for done in (1, 3, 3):
            report(done, 3)
        err = capsys.readouterr().err
        assert ("stage: 3/3 rows" in err) == enabled and (err == "") != enabled


def test_run_study_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        run_study(tmp_path, backend="jax")
    with pytest.raises(ValueError, match="alpha sigma lambda >= 0"):
        run_study(tmp_path, quick=True, grid=[-1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="at least one configuration"):
        run_study(tmp_path, configs=[])
    with pytest.raises(TypeError, match="CoverageConfig"):
        run_study(tmp_path, configs=[{"k": 3}])
    with pytest.raises(ValueError, match="shape must be one of"):
        CoverageConfig(k=3, shape="geometric", law="normal", p0=0.3)
    with pytest.raises(ValueError, match="k must be an integer >= 2"):
        CoverageConfig(k=1, shape="uniform", law="normal", p0=0.3)


def test_torch_backend_rows_agree_with_numpy(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    cfg = default_configs(quick=True)[2]
    a = evaluate_config(cfg, 0, n_draws=2000, grid=[0.0, 0.1, 0.5, 2.0])
    b = evaluate_config(cfg, 0, n_draws=2000, grid=[0.0, 0.1, 0.5, 2.0], backend="torch", device="cpu")
    assert a["key"] != b["key"] and b["device"] == "cpu"
    pairs = {"thm2_freq": "thm2_se", "event_freq": "event_se", "b_plus_empty": "b_plus_empty_se",
             "cor2_limit": "cor2_limit_se"}  # fmt: skip
    for name, se_name in pairs.items():
        assert abs(a[name] - b[name]) <= 4 * math.hypot(a[se_name], b[se_name]) + 1e-12, name
    np.testing.assert_allclose(a["mean_H"], b["mean_H"], atol=4 * np.hypot(a["mean_H_se"], b["mean_H_se"]).max())
