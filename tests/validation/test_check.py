"""Tests of the check pipeline: settings, resume store, the measurement chain on a planted tiny model, and an
end-to-end run on the embedded SmolLM2 (integration)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from bounds._io import ResumeMismatchError

torch = pytest.importorskip("torch")

from tests._tiny import tiny_llama  # noqa: E402
from validation import check, sweep  # noqa: E402
from validation.measure import assumption_1, assumption_2, assumption_3  # noqa: E402
from validation.report import analysis  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


# ----------------------------------------------------------------------------------------------------------------------
# settings
# ----------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("n_behavior", 1, "n_behavior: expected an integer >= 2"),
        ("n_mmlu", 1, "n_mmlu: expected 0"),
        ("n_piqa", -1, "n_piqa"),
        ("top_k", 1, "top_k"),
        ("batch_size", 0, "batch_size"),
        ("batch_size", "big", "batch_size"),
        ("method", "svd", "method"),
        ("level", 1.0, "level"),
        ("lambdas", [1.0, 2.0], "lambdas: the grid must contain 0"),
        ("lambdas", [0.0, 1.0, 1.0], "lambdas: values must not repeat"),
        ("layers", [], "layers"),
        ("max_new_tokens", True, "max_new_tokens"),
        ("kl_budget", 0.0, "kl_budget: expected a finite KL budget > 0"),
        ("kl_budget", float("inf"), "kl_budget"),
        ("kl_budget", "0.1", "kl_budget"),
        ("target_behavior", -1.0, r"target_behavior: expected a behavior expectation in \(-1, 1\]"),
        ("target_behavior", 1.01, "target_behavior"),
        ("target_behavior", float("nan"), "target_behavior"),
        ("target_behavior", True, "target_behavior"),
    ],
)
def test_config_rejects_bad_settings(field, value, match):
    cfg = check.CheckConfig(**{field: value})
    with pytest.raises(ValueError, match=match):
        cfg.validate()


def test_kl_budget_is_read_by_the_analysis_only():
    """Another KL budget reuses the sweeps: it is not in the resume fingerprint (the report records it)."""
    a, b = check.CheckConfig(), check.CheckConfig(kl_budget=0.5)
    assert a.fingerprint() == b.fingerprint() and "kl_budget" not in a.fingerprint()
    assert b.to_dict()["kl_budget"] == 0.5


def test_target_behavior_is_not_in_the_fingerprint():
    """Another target reuses the sweeps: it is not in the resume fingerprint (the report records it)."""
    a, b = check.CheckConfig(), check.CheckConfig(target_behavior=1.0).validate()
    assert a.fingerprint() == b.fingerprint() and "target_behavior" not in a.fingerprint()
    assert b.to_dict()["target_behavior"] == 1.0 and a.target_behavior == 0.5


def test_default_layers_is_the_middle_fifth():
    assert check.default_layers(30) == [12, 13, 14, 15, 16, 17]
    assert check.default_layers(40) == [16, 17, 18, 19, 20, 21, 22, 23]
    assert check.default_layers(2) == [1]


def test_store_refuses_to_mix_runs(tmp_path):
    logs = []
    store = check._Cache(tmp_path, {"config": {"a": 1}}, logs.append)
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(3.0)}

    first = store.stage("stage", compute)
    again = check._Cache(tmp_path, {"config": {"a": 1}}, logs.append).stage("stage", compute)
    assert len(calls) == 1 and np.array_equal(first["x"], again["x"])
    assert any("reusing" in m for m in logs)
    with pytest.raises(ResumeMismatchError, match=r"differs in: config\.a"):
        check._Cache(tmp_path, {"config": {"a": 2}}, logs.append)


def test_curve_summary_is_nan_aware():
    v = np.array([[0.0, 1.0, np.nan], [2.0, 3.0, np.nan], [4.0, np.nan, np.nan]])
    c = analysis.curve_summary(v, "x")
    assert c["mean"][0] == pytest.approx(2.0) and c["mean"][1] == pytest.approx(2.0)
    assert np.isnan(c["mean"][2]) and list(c["n_per_lambda"]) == [3, 2, 0]
    assert c["se"][0] == pytest.approx(2.0 / np.sqrt(3))


# ----------------------------------------------------------------------------------------------------------------------
# a planted linear model: alpha, Delta and sigma are known and must be recovered through the whole chain
# (sweep -> norms/projections -> validation.measure)
# ----------------------------------------------------------------------------------------------------------------------


def _planted(sigma=0.7, seed=0):
    """Tiny Llama with an identity final norm, steered at its last block along unit v: h(lam) = h(0) + lam v
    exactly (alpha = 1). The unembedding rows are u_s = c_s v + (part orthogonal to v), with c planted: aligned
    tokens 3-5 at 2.0/2.2/2.5, misaligned 6-8 at 0.0/-0.3/0.5 (hard margin Delta = 1.5), all others N(0, sigma)."""
    model = tiny_llama(seed)
    model.model.norm = torch.nn.Identity()
    gen = torch.Generator().manual_seed(seed)
    d, V = model.config.hidden_size, model.config.vocab_size
    v = torch.randn(d, generator=gen)
    v /= v.norm()
    W = model.lm_head.weight.data
    W -= torch.outer(W @ v, v)
    c = torch.randn(V, generator=gen) * sigma
    c[3:6] = torch.tensor([2.0, 2.2, 2.5])
    c[6:9] = torch.tensor([0.0, -0.3, 0.5])
    W += torch.outer(c, v)
    return model, v, c


def test_planted_model_alpha_delta_sigma_recovered():
    sigma = 0.7
    model, v, c = _planted(sigma)
    last = model.config.num_hidden_layers - 1
    gen = torch.Generator().manual_seed(1)
    prompts = [torch.randint(9, 128, (int(n),), generator=gen).tolist() for n in (5, 7, 3, 9, 6, 4, 8, 5)]
    grid = np.array([0.0, 0.25, 0.5, 1.0, 2.0])
    k = 30
    ps = sweep.prompt_sweep(model, prompts, {last: v}, grid, ids=list(range(3, 9)), top_k=k, pad_id=0, batch_size=16)
    W = model.lm_head.weight.detach()
    n_post, n_pre, n_logit = analysis.steering_norms(ps, W)
    np.testing.assert_allclose(n_post, np.abs(grid)[None, :].repeat(len(prompts), 0), atol=1e-4)
    np.testing.assert_allclose(n_pre, n_post, atol=1e-5)  # identity norm: pre == post
    a1 = assumption_1(grid, n_post)
    assert a1.alpha.mean == pytest.approx(1.0, abs=1e-4) and a1.verdict.passed
    # ||U delta|| = |lam| ||U v|| exactly
    expected = np.abs(grid) * float(torch.linalg.norm(W @ v))
    np.testing.assert_allclose(n_logit, np.broadcast_to(expected, n_logit.shape), rtol=1e-4)
    dirs = ps.delta("post")[:, 1:]
    z_a = analysis.token_projections(W, [3, 4, 5], dirs)
    z_m = analysis.token_projections(W, [6, 7, 8], dirs)
    np.testing.assert_allclose(z_a, np.broadcast_to([2.0, 2.2, 2.5], z_a.shape), atol=1e-4)
    a2 = assumption_2(z_a, z_m, lam=grid[1:])
    np.testing.assert_allclose(a2.delta_per_query, 1.5, atol=1e-4)
    assert a2.verdict.passed
    z_top = analysis.token_projections(W, ps.top_ids, ps.delta("post")[:, 1])
    np.testing.assert_allclose(z_top, c.numpy()[ps.top_ids], atol=1e-4)
    a3 = assumption_3(z_top, np.exp(ps.top_logprobs[:, 0]))
    # within-query spread of the planted N(0, sigma) projections (the few planted aligned/misaligned tokens that
    # enter a top-k widen it a little): 8 queries x 30 tokens, sampling error ~ 5 %
    assert a3.sigma == pytest.approx(sigma, rel=0.25)


# ----------------------------------------------------------------------------------------------------------------------
# end to end on the embedded SmolLM2
# ----------------------------------------------------------------------------------------------------------------------

SMALL = {
    "n_vector_pairs": 8,
    "n_behavior": 3,
    "n_mmlu": 3,
    "n_piqa": 3,
    "max_new_tokens": 4,
    "top_k": 8,
    "lambdas": [-4.0, 0.0, 2.0, 4.0, 8.0],
}


@pytest.mark.integration
def test_check_end_to_end_on_smollm2(smollm2, tmp_path, capsys):
    cfg = check.CheckConfig(**SMALL)
    report = check.run_check(cfg, tmp_path, loaded=smollm2, progress=True)
    saved = json.loads((tmp_path / "report.json").read_text())
    from validation.report.schema import SCHEMA, SCHEMA_VERSION

    assert saved["schema"] == SCHEMA and saved["schema_version"] == SCHEMA_VERSION
    assert saved["layers"] == [12, 13, 14, 15, 16, 17] and saved["lambda_grid"]["values"] == SMALL["lambdas"]
    assert saved["model"]["sha256"] == smollm2.sha256
    assert saved["config"]["batch_size"] == "auto" and saved["config"]["batch_size_resolved"] % 5 == 0
    G = len(SMALL["lambdas"])
    for key in ("delta_norm_post", "B_single", "B_single_binary", "B_generated", "H_mmlu_full", "H_piqa"):
        assert len(saved["curves"][key]["mean"]) == G, key
    norms = saved["curves"]["delta_norm_post"]["mean"]
    assert norms[1] == 0.0 and norms[3] > norms[2] > 0 and norms[4] > norms[3]
    for name in ("assumption_1", "assumption_2", "assumption_3", "assumption_4"):
        assert report.verdicts[name] in ("pass", "fail", "n/a")  # from assumptions.<name>.verdict
        assert {"threshold", "passed", "rule"} <= set(saved["assumptions"][name]["verdict"])
    assert set(saved["bounds"]) >= {"theorem_1", "theorem_1_norm", "theorem_2_as_stated", "helpfulness_expectation"}
    # each headline with its window: a minimum over fewer lambda can only be larger
    params = saved["parameters"]
    assert params["Delta"]["window"].startswith("whole grid") and params["Delta"]["window_lam"] == [-4.0, 2.0, 4.0, 8.0]
    assert params["Delta_positive"]["window_lam"] == [2.0, 4.0, 8.0]
    assert params["Delta_positive"]["estimate"] >= params["Delta"]["estimate"]
    assert params["Delta_linear_window"]["estimate"] >= params["Delta"]["estimate"]
    assert params["Delta_linear_window"]["window"] == params["alpha"]["window"]
    spread = saved["spreads"]["sigma"]
    assert spread["reference"] == params["sigma"]["estimate"] and spread["low"] <= spread["high"]
    assert spread["values"][spread["lam"].index(params["sigma"]["window_lam"][0])] == pytest.approx(spread["reference"])
    # per-query steerability of the 3 behavior prompts on alpha's window (lambda = 0 included)
    steer = saved["steerability"]
    assert 0.0 in steer["window_lam"] and set(steer["window_lam"]) <= set(SMALL["lambdas"])
    for name in ("B_single_binary", "logit_difference"):
        m = steer["measures"][name]
        assert len(m["slope"]) == len(steer["drive"]) == 3 and m["n_queries"] == 3
        assert m["n_wrong_way"] + m["n_right_way"] <= m["n_with_interval"] <= m["n_defined"] <= 3
    assert "steerability.png" in report.figures
    # the KL price of steering: measured in the sweeps, predicted from Var_q and R_q, the budget lambda
    kl = saved["kl"]
    mm = kl["measured"]["mmlu"]
    assert mm["n"] == 3 and mm["mean"][1] == 0.0 and all(m > 0 for i, m in enumerate(mm["mean"]) if i != 1)
    assert mm["mean"][4] > mm["mean"][3] > mm["mean"][2] > 0
    assert all(
        lo <= m <= hi for lo, m, hi in zip(mm["ci_low"], mm["mean"], mm["ci_high"], strict=True) if lo is not None
    )
    assert kl["measured"]["piqa_context"]["mean"][1] == 0.0 and kl["measured"]["piqa_continuation"]["mean"][4] > 0
    assert kl["lam_ref"] == 2.0 and len(kl["var_z"]) == len(kl["z_range"]) == 3
    assert all(0 < v <= r * r / 4 for v, r in zip(kl["var_z"], kl["z_range"], strict=True))  # Popoviciu
    for key in ("predicted_norm", "predicted_alpha", "bound"):
        assert len(kl[key]) == G and kl[key][1] == 0.0, key
    assert all(p <= b for p, b in zip(kl["predicted_norm"], kl["bound"], strict=True))  # Var <= R^2/4
    budget = kl["budget"]
    assert budget["tau"] == 0.1 and budget["safe_every_query"] <= budget["safe_mean"]
    assert budget["measured"] is None or 0 < budget["measured"] <= 8.0
    assert budget["measured"] is not None or "stays below" in budget["measured_reason"]
    assert set(budget["at"]) == {"measured", "second_order", "safe_mean", "safe_every_query"}
    # the benign matched prompts of the behavior data: a third measured KL curve with its own Var_q and prediction
    bn = kl["measured"]["benign"]
    assert bn["n"] == 3 and bn["mean"][1] == 0.0 and bn["mean"][4] > bn["mean"][3] > 0 and bn["mean"][0] > 0
    assert saved["data"]["benign_prompts"]["n"] == 3 and saved["data"]["benign_prompts"]["hash"]
    assert len(kl["benign_var_z"]) == 3 and all(
        0 < v <= r * r / 4 for v, r in zip(kl["benign_var_z"], kl["benign_z_range"], strict=True)
    )
    assert (
        len(kl["benign_predicted_norm"]) == G and kl["benign_predicted_norm"][4] > 0 and kl.get("benign_reason") is None
    )
    assert saved["runtime_seconds"]["benign sweep"] >= 0
    assert "kl.png" in report.figures
    for name in report.figures:
        assert (tmp_path / name).stat().st_size > 1000
    md = (tmp_path / "report.md").read_text()
    assert "Verdict" in md and "smollm2" in md.lower()
    assert "## Per-query steerability" in md and "| Δ on λ > 0 |" in md and "| σ read at each λ |" in md
    assert "## KL divergence" in md and "### λ at the KL budget τ = 0.1 nats" in md
    assert "| benign prompts (behavior data) [CI] |" in md and "Benign prompts: the benign matched prompts" in md
    err = capsys.readouterr().err
    assert "behavior prompts: 15/15 rows" in err

    # a rerun with the same settings reuses every finished stage and gives the same numbers
    again = check.run_check(cfg, tmp_path, loaded=smollm2, progress=True)
    err = capsys.readouterr().err
    stages = ("behavior_sweep", "generation", *(check.SWEEP_STAGES[k] for k in ("mmlu", "piqa", "benign")))
    for stage in stages:
        assert f"{stage}: reusing" in err
    again, first = again.to_json(), report.to_json()
    assert again["curves"] == first["curves"] and again["parameters"] == first["parameters"]
    assert again["kl"]["measured"]["benign"] == first["kl"]["measured"]["benign"]

    # changed settings never mix with the cached results
    with pytest.raises(ResumeMismatchError, match=r"differs in: config\.n_behavior, data\.behavior_prompts"):
        check.run_check(check.CheckConfig(**{**SMALL, "n_behavior": 4}), tmp_path, loaded=smollm2, progress=False)


def test_check_cli_reports_bad_grid_without_loading(tmp_path, capsys):
    from steering_bounds.cli import main

    assert main(["check", "--lambdas", "1,2", "--out", str(tmp_path)]) == 2
    assert "lambdas: the grid must contain 0" in capsys.readouterr().err


@pytest.mark.integration
def test_check_is_bitwise_reproducible_on_cpu(smollm2, tmp_path):
    """Two fresh runs with the same settings (and seed) write the same report.json, byte for byte apart from the
    creation time and the wall-clock timings, the same report.md apart from those rows, and the same figures."""
    cfg = check.CheckConfig(**SMALL)
    for name in "ab":  # the same output folder (the report records its paths), moved aside after each run
        check.run_check(cfg, tmp_path / "run", loaded=smollm2, progress=False)
        (tmp_path / "run").rename(tmp_path / name)
    a, b = (json.loads((tmp_path / d / "report.json").read_text()) for d in "ab")
    clock = ("runtime_seconds", "stage_seconds_when_computed", "created")  # wall-clock readings
    for r in (a, b):
        for key in clock:
            r.pop(key)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    md_a, md_b = ((tmp_path / d / "report.md").read_text().splitlines() for d in "ab")
    assert len(md_a) == len(md_b)
    differing = [(x, y) for x, y in zip(md_a, md_b, strict=True) if x != y]
    timing_or_created = re.compile(r"\| [\w ]+ \| [\d.]+ \||.*Created.*")
    assert all(timing_or_created.fullmatch(x) for x, _ in differing), differing
    pngs = sorted(p.name for p in (tmp_path / "a").glob("*.png"))
    assert pngs and pngs == sorted(p.name for p in (tmp_path / "b").glob("*.png"))
    for name in pngs:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_resume_fingerprint_names_the_weights_not_where_they_were_read():
    """An embedded model's first load reads the GGUF file, later ones the dequantized-weights cache: the same weights
    (same sha256), so a run interrupted after the first load must resume; a checkpoint without a sha256 is known by
    its path."""
    from types import SimpleNamespace

    first = SimpleNamespace(name="m", sha256="ab" * 32, dtype="float32", path="/cache/gguf/m.gguf")
    later = SimpleNamespace(**{**vars(first), "path": "/cache/models/m-abab-float32"})
    assert check._model_identity(first) == check._model_identity(later)
    hf = SimpleNamespace(name="m", sha256=None, dtype="float32", path="/ckpt/m")
    assert check._model_identity(hf)["path"] == "/ckpt/m"
    assert check._model_identity(hf) != check._model_identity(SimpleNamespace(**{**vars(hf), "path": "/ckpt/other"}))


def test_benign_prompts_are_the_matched_benign_questions_of_the_vector_pairs():
    """``harmless``/``harmful``: the benign question matched to each of n_behavior harmful questions drawn with the
    seed of the vector pairs (so among the vector pairs' questions); ``bias``: none, with the reason."""
    from bounds._io import fingerprint
    from validation import behaviors, data

    cfg = check.CheckConfig(n_behavior=5, n_vector_pairs=8, seed=3)
    spec = behaviors.get_behavior("harmless")
    benign, prov = spec.benign_prompts(cfg)
    pairs = {p.harmful: p.benign for p in data.refusal_pairs()}
    chosen, _ = spec.vector_pairs(cfg)
    assert len(benign) == prov["n"] == 5 and prov["hash"] == fingerprint(benign)
    harmful = [h for h, b in pairs.items() if b in benign]
    assert len(harmful) >= 5 and sum(any(h in p.positive for p in chosen) for h in harmful) >= 5
    assert benign != spec.benign_prompts(check.CheckConfig(n_behavior=5, seed=4))[0]
    assert behaviors.get_behavior("harmful").benign_prompts(cfg)[0] == benign
    none, why = behaviors.get_behavior("bias").benign_prompts(cfg)
    assert none is None and "no benign matched prompts" in why["reason"]
