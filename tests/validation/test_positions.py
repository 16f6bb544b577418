"""Tests of the sweeps' ``positions="last"``: the vector added from the last prompt token on, by the exact fast path of
validation.lastpos (the prompt minus its last token read once: in the prompt sweep in one packed pass with the last
token G times along the sequence under a 4-D mask, elsewhere into a KV cache repeated for the λ rows).

The fast path equals the straightforward per-row forward without a cache, ``steer(..., positions=<mask from the last
prompt position on>)``, in batches padded on the left and on the right, on three tiny random Llamas (with and without
grouped-query attention, sdpa and eager attention) and on the embedded SmolLM2; the prompt sweep runs one pass of
P + G tokens per prompt, the other sweeps one token per λ row (or the last context token and its continuation) after
the prefill; and ``"last"`` is not ``"all"``.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs torch: pip install 'steering-bounds[validation]'")
pytest.importorskip("transformers", reason="needs transformers: pip install 'steering-bounds[validation]'")

from bounds.kl import projection_spread  # noqa: E402
from tests._tiny import tiny_llama  # noqa: E402
from tests.validation.test_sweep import StubTokenizer  # noqa: E402  (the same stub as the sweep tests)
from validation._batch import pad  # noqa: E402
from validation._batch import pad_id as pad_id_of  # noqa: E402
from validation.hooks import last_real_token_index, record, steer  # noqa: E402
from validation.lastpos import generation_positions, packed_inputs, packed_mask  # noqa: E402
from validation.layout import decoder_layers  # noqa: E402
from validation.sweep import choice_sweep, generate_sweep, kl_reference, prompt_sweep  # noqa: E402

TOL = 1e-5
D, VOCAB = 32, 128
# prompts of different lengths (one of a single token: its prefix is all padding)
PROMPTS = [[5, 9, 17, 33, 64, 70], [8, 12, 99], [7], [40, 41, 42, 43, 44]]
LAM = [2.5, 0.0, -6.0, 9.0]  # unsorted; 0 is not first
CONTEXTS = [[5, 9, 17, 33], [8], [40, 41, 42, 43, 44, 45]]
CONTINUATIONS = [[[60, 61], [62], [63, 64, 65]], [[70, 71, 72], [73], [74, 75]], [[80], [81, 82], [83, 84, 85, 86]]]
CHOICE_LAM = [0.0, 4.0, -7.0]
GEN_PROMPTS = [[5, 9, 17, 33], [8], [40, 41, 42, 43, 44, 45, 46]]
GEN_LAM = [-2.0, 0.0, 2.0]  # moderate: the continuations depend on where the vector is added
NEW = 5
GQA = {"num_attention_heads": 4, "num_key_value_heads": 2}
# the packed pass's 4-D mask under both attention implementations (eager adds the mask, sdpa takes it as a float mask)
CONFIGS = {
    "mha": {"attn_implementation": "sdpa"},
    "gqa": GQA | {"attn_implementation": "sdpa"},
    "gqa-eager": GQA | {"attn_implementation": "eager"},
}

pytestmark = pytest.mark.usefixtures("one_thread")


def _vectors(first: int = 1) -> dict[int, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    return {first: torch.randn(D, generator=g), 3: 2.0 * torch.randn(D, generator=g)}


VECS = _vectors()


@pytest.fixture(scope="module", params=list(CONFIGS))
def model(request, one_thread):
    m = tiny_llama(seed=3, **CONFIGS[request.param])
    m.generation_config.eos_token_id = None  # every row generates max_new_tokens tokens
    return m


# ----------------------------------------------------------------------------------------------------------------------
# references: one forward per padded batch, no cache, the vector added from each row's last prompt position on
# ----------------------------------------------------------------------------------------------------------------------


def _from(mask: torch.Tensor, starts: list[int], side: str) -> torch.Tensor:
    """Boolean ``(batch, T)`` mask of the real positions at or after each row's unpadded position ``starts[r]``."""
    T = mask.shape[1]
    offset = (T - mask.sum(1)) if side == "left" else torch.zeros(mask.shape[0], dtype=torch.long)
    cols = torch.arange(T)[None, :]
    return (cols >= (offset + torch.as_tensor(starts))[:, None]) & mask.bool()


def _forward(model, rows, lam_rows, starts, side, vectors=VECS):
    """Logits, final-norm and last-block outputs ``(batch, T, ·)`` of ``rows`` padded on ``side``, steered from each
    row's position ``starts[r]`` on, and the padding offset of each row."""
    ids, mask = pad(rows, 0, side=side)
    with torch.no_grad(), steer(model, vectors, lam_rows, positions=_from(mask, starts, side)):
        with record(model, [-1], keep="all") as rec:
            out = model(input_ids=ids, attention_mask=mask, position_ids=generation_positions(mask), use_cache=False)
    offset = (ids.shape[1] - mask.sum(1)) if side == "left" else torch.zeros(len(rows), dtype=torch.long)
    return out.logits, rec.final_norm[0], rec.layer(-1), offset


def _prompt_reference(model, prompts, lam, side, vectors=VECS, lp_dtype=torch.float64):
    """``(log-probs (n, G, V), post (n, G, d), pre (n, G, d))`` at the last prompt token, steered there only; the
    log-probabilities computed in ``lp_dtype`` from the logits (the sweeps compute them in float32)."""
    G = len(lam)
    rows = [p for p in prompts for _ in lam]
    lam_rows = torch.as_tensor(np.tile(lam, len(prompts)), dtype=torch.float32)
    logits, post, pre, _ = _forward(model, rows, lam_rows, [len(p) - 1 for p in rows], side, vectors)
    last = last_real_token_index(pad(rows, 0, side=side)[1])
    r = torch.arange(len(rows))
    lp = torch.log_softmax(logits[r, last].to(lp_dtype), -1)
    return (x.view(len(prompts), G, -1).numpy() for x in (lp, post[r, last], pre[r, last]))


def _choice_reference(model, side):
    """Summed continuation log-probs ``(n, G, C)`` and the per-token KL from λ = 0 ``[i][c]: (G, L)``, steered from
    the last context token on."""
    keys = [(i, c, g) for i in range(len(CONTEXTS)) for c in range(3) for g in range(len(CHOICE_LAM))]
    rows = [CONTEXTS[i] + CONTINUATIONS[i][c] for i, c, _ in keys]
    lam_rows = torch.as_tensor([CHOICE_LAM[g] for *_, g in keys], dtype=torch.float32)
    logits, _, _, offset = _forward(model, rows, lam_rows, [len(CONTEXTS[i]) - 1 for i, _, _ in keys], side)
    sums = np.zeros((len(CONTEXTS), len(CHOICE_LAM), 3))
    per_token: dict[tuple[int, int], list[np.ndarray]] = {}
    for r, (i, c, g) in enumerate(keys):
        n0, L = len(CONTEXTS[i]), len(CONTINUATIONS[i][c])
        pos = int(offset[r]) + torch.arange(n0 - 1, n0 - 1 + L)
        lp = torch.log_softmax(logits[r, pos].double(), -1)
        sums[i, g, c] = float(lp[torch.arange(L), torch.as_tensor(CONTINUATIONS[i][c])].sum())
        per_token.setdefault((i, c), []).append(lp)
    zero = CHOICE_LAM.index(0.0)
    kl = {k: torch.stack([(v.exp() * (v - lps[zero])).sum(-1) for v in lps]).numpy() for k, lps in per_token.items()}
    return sums, kl


def _generate_reference(model, side) -> list[list[list[int]]]:
    """Greedy tokens ``[i][g]`` by a loop of full forwards without a cache (padded on ``side``), steered from the last
    prompt token on (the generated tokens included)."""
    G = len(GEN_LAM)
    rows = [list(p) for p in GEN_PROMPTS for _ in GEN_LAM]
    starts = [len(r) - 1 for r in rows]
    lam_rows = torch.as_tensor(np.tile(GEN_LAM, len(GEN_PROMPTS)), dtype=torch.float32)
    for _ in range(NEW):
        logits, _, _, _ = _forward(model, rows, lam_rows, starts, side)
        last = last_real_token_index(pad(rows, 0, side=side)[1])
        nxt = logits[torch.arange(len(rows)), last].argmax(-1).tolist()
        rows = [[*r, t] for r, t in zip(rows, nxt, strict=True)]
    new = [r[s + 1 :] for r, s in zip(rows, starts, strict=True)]
    return [new[i * G : (i + 1) * G] for i in range(len(GEN_PROMPTS))]


# ----------------------------------------------------------------------------------------------------------------------
# equality with the references
# ----------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("batch_size", [4, 100])  # one prompt per forward, all prompts in one forward (G = 4)
def test_prompt_sweep_last_equals_the_per_row_forward(model, side, batch_size):
    lp, post, pre = _prompt_reference(model, PROMPTS, LAM, side)
    s = prompt_sweep(
        model, PROMPTS, VECS, LAM, ids=range(VOCAB), top_k=5, batch_size=batch_size, pad_id=0, kl=True, positions="last"
    )
    np.testing.assert_allclose(s.logprobs, lp, atol=TOL, rtol=0)
    for fast, ref in ((s.post, post), (s.pre, pre)):
        np.testing.assert_allclose(np.linalg.norm(fast, axis=-1), np.linalg.norm(ref, axis=-1), rtol=TOL, atol=0)
        np.testing.assert_allclose(fast, ref, atol=10 * TOL, rtol=0)
    zero = LAM.index(0.0)
    np.testing.assert_array_equal(s.top_ids, np.argsort(-lp[:, zero], axis=-1)[:, :5])
    np.testing.assert_allclose(s.top_logprobs, np.take_along_axis(lp, s.top_ids[:, None, :], -1), atol=TOL, rtol=0)
    kl = np.sum(np.exp(lp) * (lp - lp[:, zero : zero + 1]), axis=-1)
    np.testing.assert_allclose(s.kl, kl, atol=TOL, rtol=0)
    delta = post[:, kl_reference(np.array(LAM))] - post[:, zero]
    u = delta / np.linalg.norm(delta, axis=-1, keepdims=True)
    var, spread = projection_spread(np.exp(lp[:, zero]), u @ model.lm_head.weight.detach().double().numpy().T)
    np.testing.assert_allclose(s.var_z, var, rtol=1e-4)
    np.testing.assert_allclose(s.z_range, spread, rtol=1e-4)
    assert np.abs(s.logprobs[:, 3] - s.logprobs[:, zero]).max() > 0.1  # the steering does something


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("batch_size", [9, 1000])  # one item per forward (C G = 9), all items in one forward
def test_choice_sweep_last_equals_the_per_row_forward(model, side, batch_size):
    sums_ref, kl_ref = _choice_reference(model, side)
    sums, lengths, kl = choice_sweep(
        model, CONTEXTS, CONTINUATIONS, VECS, CHOICE_LAM, batch_size=batch_size, pad_id=0, kl=True, positions="last"
    )
    np.testing.assert_array_equal(lengths, [[len(c) for c in cs] for cs in CONTINUATIONS])
    np.testing.assert_allclose(sums, sums_ref, atol=TOL, rtol=0)
    for (i, c), per_token in kl_ref.items():
        np.testing.assert_allclose(kl["kl_continuation"][i, :, c], per_token.mean(axis=1), atol=TOL, rtol=0)
        if c == 0:
            np.testing.assert_allclose(kl["kl_context"][i], per_token[:, 0], atol=TOL, rtol=0)
    assert np.abs(sums[:, 2] - sums[:, 0]).max() > 0.1


@pytest.mark.parametrize("side", ["left", "right"])
def test_generate_sweep_last_gives_the_reference_greedy_tokens(model, side):
    reference = _generate_reference(model, side)
    wrapped = SimpleNamespace(model=model, tokenizer=StubTokenizer())
    for batch_size in (3, 100):
        texts = generate_sweep(
            wrapped, GEN_PROMPTS, VECS, GEN_LAM, max_new_tokens=NEW, batch_size=batch_size, positions="last"
        )
        assert texts == [[" ".join(map(str, ids)) for ids in row] for row in reference]
    assert any(len({tuple(ids) for ids in row}) > 1 for row in reference), "steering changed nothing"


def test_last_is_not_all(model):
    """On a steered λ the two settings differ (the option is not ignored); at λ = 0 they agree."""
    kw = {"ids": range(VOCAB), "batch_size": 100, "pad_id": 0}
    last = prompt_sweep(model, PROMPTS, VECS, LAM, positions="last", **kw)
    every = prompt_sweep(model, PROMPTS, VECS, LAM, **kw)
    zero = LAM.index(0.0)
    np.testing.assert_allclose(last.logprobs[:, zero], every.logprobs[:, zero], atol=TOL, rtol=0)
    multi = [p for p in range(len(PROMPTS)) if len(PROMPTS[p]) > 1]  # a one-token prompt is steered alike
    assert np.abs(last.logprobs[multi, 3] - every.logprobs[multi, 3]).max(axis=-1).min() > 1e-3  # every prompt
    c_last, _ = choice_sweep(model, CONTEXTS, CONTINUATIONS, VECS, CHOICE_LAM, pad_id=0, positions="last")
    c_all, _ = choice_sweep(model, CONTEXTS, CONTINUATIONS, VECS, CHOICE_LAM, pad_id=0)
    assert np.abs(c_last[:, 2] - c_all[:, 2]).max() > 1e-3
    wrapped = SimpleNamespace(model=model, tokenizer=StubTokenizer())
    g_last, g_all = (
        generate_sweep(wrapped, GEN_PROMPTS, VECS, GEN_LAM, max_new_tokens=NEW, positions=p) for p in ("last", "all")
    )
    assert g_last != g_all


# ----------------------------------------------------------------------------------------------------------------------
# the fast path really is one: the tokens each pass feeds block 0
# ----------------------------------------------------------------------------------------------------------------------


def _block0_shapes(model, fn) -> list[tuple[int, int]]:
    """``(rows, positions)`` of every input of decoder block 0 while ``fn()`` runs."""
    seen: list[tuple[int, int]] = []
    handle = decoder_layers(model)[0].register_forward_pre_hook(
        lambda m, args, kwargs: seen.append(tuple((args[0] if args else kwargs["hidden_states"]).shape[:2])),
        with_kwargs=True,
    )
    try:
        fn()
    finally:
        handle.remove()
    return seen


def test_each_lambda_row_runs_only_the_tokens_from_the_last_prompt_token_on(model):
    n, G, T = len(PROMPTS), len(LAM), max(map(len, PROMPTS))
    seen = _block0_shapes(
        model, lambda: prompt_sweep(model, PROMPTS, VECS, LAM, batch_size=100, pad_id=0, positions="last")
    )
    assert seen == [(n, T - 1 + G)]  # one pass, one row per prompt: its prefix once, then G copies of its last token
    seen = _block0_shapes(
        model, lambda: prompt_sweep(model, PROMPTS, VECS, LAM, batch_size=2 * G, pad_id=0, positions="last")
    )
    lengths = sorted(len(p) for p in PROMPTS)  # groups of two prompts of similar length (validation._batch.groups)
    assert seen == [(2, lengths[1] - 1 + G), (2, lengths[3] - 1 + G)]
    g, C, Gc = len(CONTEXTS), 3, len(CHOICE_LAM)
    width = 1 + max(len(c) for cs in CONTINUATIONS for c in cs)
    seen = _block0_shapes(
        model,
        lambda: choice_sweep(
            model, CONTEXTS, CONTINUATIONS, VECS, CHOICE_LAM, batch_size=1000, pad_id=0, positions="last"
        ),
    )
    assert seen == [(g, max(map(len, CONTEXTS)) - 1), (g * C * Gc, width)]
    wrapped = SimpleNamespace(model=model, tokenizer=StubTokenizer())
    n, G = len(GEN_PROMPTS), len(GEN_LAM)
    seen = _block0_shapes(
        model, lambda: generate_sweep(wrapped, GEN_PROMPTS, VECS, GEN_LAM, max_new_tokens=NEW, positions="last")
    )
    assert seen == [(n, max(map(len, GEN_PROMPTS)) - 1)] + [(n * G, 1)] * NEW


def test_packed_mask_lets_each_copy_see_the_real_prefix_and_itself():
    """Rows: prefix positions (causal over the real prefix, and themselves), then the copies (the real prefix and
    themselves); additive, in the given dtype."""
    low = torch.finfo(torch.bfloat16).min
    mask = packed_mask(torch.tensor([[0, 1, 1], [1, 1, 1]]), 2, torch.bfloat16)
    assert mask.shape == (2, 1, 5, 5) and mask.dtype == torch.bfloat16
    assert set(mask.unique().tolist()) == {0.0, low}
    seen = (mask[:, 0] == 0).int().tolist()
    assert seen[0] == [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 1, 1, 0, 1]]
    assert seen[1] == [[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 0], [1, 1, 1, 0, 1]]
    alone = packed_mask(torch.ones(1, 0, dtype=torch.long), 3, torch.float32)[0, 0]  # one-token prompts: no prefix
    assert torch.equal(alone == 0, torch.eye(3, dtype=torch.bool)) and alone[0, 1] == torch.finfo(torch.float32).min


@pytest.mark.parametrize("implementation", ["eager", "sdpa"])
def test_the_packed_pass_reads_its_additive_mask_under_either_attention(implementation):
    """The packed pass (prefix, then the last token once per λ) equals every λ row run alone, under eager and sdpa
    attention; a boolean version of the mask would give the same result under sdpa but not under eager (which adds
    the mask): the two implementations really are the ones run."""
    m = tiny_llama(seed=5, attn_implementation=implementation)
    rows, grid = [[5, 9, 17, 33], [8, 12]], [0.0, 4.0, -4.0]
    inputs, lam = packed_inputs(m, rows, grid, 0, "cpu")
    with torch.no_grad(), steer(m, VECS, lam):
        packed = m(**inputs).logits[:, -len(grid) :]  # the copies, (g, G, V)
    assert packed.shape[:2] == (2, 3) and (packed[:, 1] - packed[:, 0]).abs().max() > 0.1
    ids, mask = pad(rows, 0)
    for j, lam_j in enumerate(grid):
        with torch.no_grad(), steer(m, VECS, lam_j, positions=_from(mask, [len(r) - 1 for r in rows], "left")):
            alone = m(input_ids=ids, attention_mask=mask, position_ids=generation_positions(mask)).logits[:, -1]
        torch.testing.assert_close(packed[:, j], alone, atol=TOL, rtol=0)
    boolean, _ = packed_inputs(m, rows, grid, 0, "cpu")
    boolean["attention_mask"] = boolean["attention_mask"] == 0
    with torch.no_grad(), steer(m, VECS, lam):
        wrong = m(**boolean).logits[:, -len(grid) :]
    assert torch.allclose(wrong, packed, atol=TOL) == (implementation == "sdpa")


def test_one_token_prompts_need_no_prefill(model):
    s = prompt_sweep(model, [[7], [9]], VECS, LAM, ids=range(VOCAB), batch_size=100, pad_id=0, positions="last")
    every = prompt_sweep(model, [[7], [9]], VECS, LAM, ids=range(VOCAB), batch_size=100, pad_id=0)
    np.testing.assert_allclose(s.logprobs, every.logprobs, atol=TOL, rtol=0)  # one token: "last" is "all"


@pytest.mark.parametrize("positions", ["first", "", None, ["last"]])
def test_bad_positions_are_named(model, positions):
    wrapped = SimpleNamespace(model=model, tokenizer=StubTokenizer())
    calls = [
        lambda: prompt_sweep(model, PROMPTS, VECS, LAM, positions=positions),
        lambda: choice_sweep(model, CONTEXTS, CONTINUATIONS, VECS, CHOICE_LAM, positions=positions),
        lambda: generate_sweep(wrapped, GEN_PROMPTS, VECS, GEN_LAM, positions=positions),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=r"positions: expected one of \['all', 'last'\]"):
            call()


# ----------------------------------------------------------------------------------------------------------------------
# the embedded SmolLM2
# ----------------------------------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_prompt_sweep_last_on_smollm2(smollm2):
    """float64 (a copy of the model): equal to the reference within float32 rounding of the returned arrays. float32:
    the full-vocabulary log-probabilities of a 30-block model differ by rounding alone by about 5e-5 (the sweeps'
    ``"all"`` path differs from the same reference as much at λ = 0), so they are held to 1e-4, and to no more than
    twice that path's deviation; the hidden-state norms to 1e-5."""
    import copy

    tok = smollm2.tokenizer
    prompts = [tok(t)["input_ids"] for t in ("The capital of France is", "Water boils at", "Once upon a time, in a")]
    assert len({len(p) for p in prompts}) == 3
    hidden, n_layers = smollm2.model.config.hidden_size, len(decoder_layers(smollm2.model))
    g = torch.Generator().manual_seed(0)
    vectors = {n_layers // 2: torch.randn(hidden, generator=g), n_layers // 2 + 1: torch.randn(hidden, generator=g)}
    lam, pad_id, vocab = [0.0, 6.0, -6.0], pad_id_of(tok), range(smollm2.model.config.vocab_size)
    double = copy.deepcopy(smollm2.model).double()
    s = prompt_sweep(double, prompts, vectors, lam, ids=vocab, pad_id=pad_id, positions="last")
    for side in ("left", "right"):
        lp, post, pre = _prompt_reference(double, prompts, lam, side, vectors, lp_dtype=torch.float32)
        np.testing.assert_allclose(s.logprobs, lp, atol=TOL, rtol=0)
        for fast, ref in ((s.post, post), (s.pre, pre)):
            np.testing.assert_allclose(fast, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())
    del double
    s = prompt_sweep(smollm2, prompts, vectors, lam, ids=vocab, positions="last")
    every = prompt_sweep(smollm2, prompts, vectors, lam, ids=vocab)
    for side in ("left", "right"):
        lp, post, pre = _prompt_reference(smollm2.model, prompts, lam, side, vectors, lp_dtype=torch.float32)
        error, floor = np.abs(s.logprobs - lp).max(), np.abs(every.logprobs[:, 0] - lp[:, 0]).max()
        assert error <= 1e-4 and error <= 2 * floor, (error, floor)
        for fast, ref in ((s.post, post), (s.pre, pre)):
            np.testing.assert_allclose(np.linalg.norm(fast, axis=-1), np.linalg.norm(ref, axis=-1), rtol=TOL, atol=0)
    assert np.abs(s.logprobs[:, 1] - s.logprobs[:, 0]).max() > 0.1


# ----------------------------------------------------------------------------------------------------------------------
# the check: setting, resume fingerprint, command line, report
# ----------------------------------------------------------------------------------------------------------------------


def test_check_config_positions_is_validated_and_fingerprinted_off_its_default():
    from validation.check import CheckConfig

    assert CheckConfig().positions == "all" and CheckConfig(positions="last").validate().positions == "last"
    with pytest.raises(ValueError, match=r"positions: expected one of \['all', 'last'\], got 'prompt'"):
        CheckConfig(positions="prompt").validate()
    assert "positions" not in CheckConfig().fingerprint()  # caches written before the setting stay valid
    assert CheckConfig(positions="last").fingerprint()["positions"] == "last"
    assert CheckConfig(positions="last").to_dict()["positions"] == "last"  # what report.json's config records


def test_cli_check_and_study_take_positions():
    from steering_bounds.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["check"]).positions == "all"
    assert parser.parse_args(["check", "--positions", "last"]).positions == "last"
    assert parser.parse_args(["study", "--positions", "last"]).positions == "last"
    with pytest.raises(SystemExit):
        parser.parse_args(["check", "--positions", "prompt"])


def test_report_states_the_positions_and_compare_keys_on_them():
    from validation.compare.rows import _key
    from validation.report.markdown import render_markdown
    from validation.report.schema import CheckReport

    def head(config):
        return render_markdown(CheckReport(config=config)).split("\n## ")[0]

    assert "- **Steering positions**: `last`: the vector is added from the last prompt token on" in head(
        {"positions": "last"}
    )
    paper = "- **Steering positions**: `all`: the vector is added at every position (the paper's)"
    assert paper in head({"positions": "all"}) and paper in head({"model": "m"})  # a report from before the setting
    assert _key(CheckReport(config={"positions": "last"}))["positions"] == "last"
    assert _key(CheckReport(config={"positions": "all"}))["positions"] == "all"


@pytest.mark.integration
def test_check_end_to_end_with_positions_last(smollm2, tmp_path):
    import json

    from tests.validation.test_check import SMALL
    from validation import check

    cfg = check.CheckConfig(**{**SMALL, "n_mmlu": 2, "n_piqa": 2, "positions": "last"})
    report = check.run_check(cfg, tmp_path, loaded=smollm2, progress=False)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["config"]["positions"] == report.config["positions"] == "last"
    G = len(SMALL["lambdas"])
    for key in ("delta_norm_post", "B_single", "B_generated", "H_mmlu_full", "H_piqa"):
        assert len(saved["curves"][key]["mean"]) == G, key
    norms = saved["curves"]["delta_norm_post"]["mean"]
    assert norms[1] == 0.0 and norms[4] > norms[3] > norms[2] > 0  # steered at the last prompt token
    md = (tmp_path / "report.md").read_text()
    assert "- **Steering positions**: `last`: the vector is added from the last prompt token on" in md
