"""Tests of ``steering-bounds study``: the grid, the shared settings, and a resumable two-cell study on SmolLM2."""

from __future__ import annotations

import json

import pytest

from bounds.errors import ParameterError
from tests.validation.test_check import SMALL  # the end-to-end check's small settings, shared
from validation import check, study

pytestmark = pytest.mark.usefixtures("one_thread")


def test_grid_is_the_product_with_each_models_behavior():
    cells = study.grid(["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"], ["pca", "probe"], ["middle", "late"])
    assert len(cells) == 8
    assert {c.behavior for c in cells if c.model.startswith("qwen")} == {"harmful"}  # misaligning an aligned model
    assert {c.behavior for c in cells if c.model.startswith("smollm2")} == {"harmless"}
    assert cells[0] == study.Cell("smollm2-135m-instruct", "harmless", "pca", "middle")
    assert cells[0].name == "smollm2-135m-instruct__harmless__pca__middle"
    given = study.grid(["qwen2.5-coder-0.5b-instruct"], ["pca"], behaviors={"qwen2.5-coder-0.5b-instruct": "bias"})
    assert given[0].behavior == "bias"
    assert study.Cell("/x/my model.gguf", "harmless", "pca", "early").name == "my_model.gguf__harmless__pca__early"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"models": []}, "models: give at least one"),
        ({"methods": []}, "methods: give at least one"),
        ({"bands": ["middle", "top"]}, r"bands: expected names from \['early', 'late', 'middle'\], got \['top'\]"),
    ],
)
def test_grid_rejects_bad_axes(kwargs, match):
    args = {"models": ["smollm2-135m-instruct"], "methods": ["pca"], "bands": ["middle"], **kwargs}
    with pytest.raises(ParameterError, match=match):
        study.grid(**args)


def test_every_cell_is_validated_before_any_model_loads(tmp_path):
    def load(cfg):  # pragma: no cover - must not be called
        raise AssertionError("a model was loaded before the settings were checked")

    cells = study.grid(["smollm2-135m-instruct"], ["pca", "svd"])
    with pytest.raises(ParameterError, match="method"):
        study.run_study(cells, tmp_path, load=load)
    with pytest.raises(ParameterError, match="axes of the study"):
        study.run_study(cells[:1], tmp_path, shared={"method": "pca"}, load=load)
    with pytest.raises(ParameterError, match="layers and vectors are per model"):
        study.run_study(cells[:1], tmp_path, shared={"layers": [1]}, load=load)
    assert not (tmp_path / "study.json").exists()


def test_layer_bands():
    assert check.band_layers("middle", 30) == check.default_layers(30) == [12, 13, 14, 15, 16, 17]
    assert check.band_layers("early", 40) == list(range(8, 16))  # the paper's blocks 8-15 of Llama-2-13B
    assert check.band_layers("late", 30) == [18, 19, 20, 21, 22, 23]
    assert check.band_layers("late", 2) == [1]
    with pytest.raises(ParameterError, match="layer_band"):
        check.band_layers("top", 30)
    with pytest.raises(ParameterError, match="layers and layer_band are exclusive"):
        check.CheckConfig(layers=[3], layer_band="late").validate()
    assert "layer_band" not in check.CheckConfig().fingerprint()  # caches of earlier runs stay valid
    assert check.CheckConfig(layer_band="late").fingerprint()["layer_band"] == "late"


def test_study_cli_rejects_a_bad_behavior_item(tmp_path, capsys):
    from steering_bounds.cli import main

    assert main(["study", "--out", str(tmp_path), "--behavior", "qwen"]) == 2
    assert (
        capsys.readouterr().err.strip() == "steering-bounds study: error: behavior: expected MODEL=BEHAVIOR, got 'qwen'"
    )


@pytest.mark.integration
def test_study_runs_cells_resumes_and_compares(smollm2, tmp_path):
    loads = []

    def load(cfg):
        loads.append(cfg.model)
        return smollm2

    cells = study.grid([smollm2.name], ["pca", "mean_diff"])
    result = study.run_study(cells, tmp_path, shared=SMALL, progress=False, load=load)
    assert [c["status"] for c in result.cells] == ["ran", "ran"] and loads == [smollm2.name]  # one load per model
    for cell in cells:
        report = json.loads((tmp_path / "runs" / cell.name / "report.json").read_text())
        assert report["config"]["method"] == cell.method and report["vectors"]["method"] == cell.method
    saved = json.loads((tmp_path / "study.json").read_text())
    assert [c["cell"]["method"] for c in saved["cells"]] == ["pca", "mean_diff"]
    assert all(c["check_seconds"] > 0 and c["sweep_seconds"] > 0 for c in saved["cells"])
    assert (result.compare_dir / "compare.json").is_file() and (result.compare_dir / "compare.md").is_file()

    # a second study: its finished cell is not redone, its new one runs; study.json keeps the first study's cells
    # and the comparison covers every report in OUT/runs
    more = study.grid([smollm2.name], ["mean_diff", "actadd"])
    again = study.run_study(more, tmp_path, shared=SMALL, progress=False, load=load)
    assert [c["status"] for c in again.cells] == ["done before", "ran"]
    saved = json.loads((tmp_path / "study.json").read_text())
    assert [c["cell"]["method"] for c in saved["cells"]] == ["pca", "mean_diff", "actadd"]
    rows = json.loads((again.compare_dir / "compare.json").read_text())["rows"]
    assert sorted(r["method"] for r in rows) == ["actadd", "mean_diff", "pca"]


def test_study_folders_and_finished_reports_know_the_positions(tmp_path):
    cell = study.Cell("smollm2-135m-instruct", "harmless", "pca", "middle")
    cfg_all = check.CheckConfig(method="pca")
    cfg_last = check.CheckConfig(method="pca", positions="last")
    assert study._folder(cell, cfg_all) == cell.name  # folders of earlier studies keep their names
    assert study._folder(cell, cfg_last) == cell.name + "__last"
    report = tmp_path / "report.json"
    stored = {k: v for k, v in cfg_all.to_dict().items() if k != "positions"}  # written before the setting existed
    report.write_text(json.dumps({"config": stored}))
    assert study._finished(report, cfg_all)
    assert not study._finished(report, cfg_last)
    report.write_text(json.dumps({"config": cfg_last.to_dict()}))
    assert study._finished(report, cfg_last) and not study._finished(report, cfg_all)
