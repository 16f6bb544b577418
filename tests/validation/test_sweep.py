"""Tests of validation.sweep: every λ-batched sweep equals the straightforward loop (one prompt, one λ, one forward,
no padding) on a tiny random Llama built offline; input validation; progress reports; hook cleanup."""

from __future__ import annotations

import itertools
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs torch: pip install 'steering-bounds[validation]'")
transformers = pytest.importorskip(
    "transformers", reason="needs transformers: pip install 'steering-bounds[validation]'"
)

from tests._tiny import tiny_llama, tiny_tokenizer  # noqa: E402
from validation._batch import check_grid, encode  # noqa: E402
from validation.hooks import steer  # noqa: E402
from validation.sweep import PromptSweep, choice_sweep, generate_sweep, prompt_sweep  # noqa: E402

ATOL = 1e-4
D, VOCAB = 32, 128
# prompts of different lengths (left padding is exercised in every multi-prompt group)
PROMPTS = [[5, 9, 17, 33, 64, 70], [8, 12, 99], [40, 41, 42, 43, 44], [7], [3, 4, 5, 6, 7, 8, 9, 10, 11]]
LAM = [1.5, -4.0, 0.0, 6.0]  # unsorted; 0 is not first
IDS = [1, 5, 64, 127]
TOP_K = 5


def _vectors() -> dict[int, torch.Tensor]:
    g = torch.Generator().manual_seed(123)
    return {0: torch.randn(D, generator=g), 2: 3.0 * torch.randn(D, generator=g), -1: torch.randn(D, generator=g)}


VECS = _vectors()


class StubTokenizer:
    """Decodes ids to their decimal strings, so generated token ids are compared exactly."""

    pad_token_id = 0
    eos_token_id = None

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return " ".join(str(int(i)) for i in ids)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model(one_thread):
    m = tiny_llama(seed=0)
    m.generation_config.eos_token_id = None  # generation never stops early: every row has max_new_tokens tokens
    with torch.no_grad():  # install transformers' lazy output-capturing hooks once, before any hook snapshot
        m(torch.tensor([[5, 6]]), output_hidden_states=True)
    return m


def hook_snapshot(model) -> dict[str, tuple]:
    return {
        name: (tuple(m._forward_hooks), tuple(m._forward_pre_hooks), tuple(m._forward_hooks_with_kwargs))
        for name, m in model.named_modules()
    }


def _reference_one(model, prompt, lam):
    """Unpadded single-prompt forward under ``steer(model, VECS, lam)``: (post, pre, log-probs) at the last token."""
    pre: list[torch.Tensor] = []

    def grab(module, args, output):
        pre.append((output[0] if isinstance(output, tuple) else output)[0, -1].detach().clone())

    handle = model.model.layers[-1].register_forward_hook(grab)
    try:
        with torch.no_grad(), steer(model, VECS, float(lam)):
            out = model(torch.tensor([prompt]), output_hidden_states=True)
    finally:
        handle.remove()
    post = out.hidden_states[-1][0, -1]  # the final norm's output in transformers 5.x
    return post.numpy(), pre[0].numpy(), torch.log_softmax(out.logits[0, -1].float(), -1).numpy()


@pytest.fixture(scope="module")
def reference(model):
    """post, pre ``(n, G, d)`` and full-vocabulary log-probs ``(n, G, V)`` from the one-prompt-one-λ loop."""
    rows = [[_reference_one(model, p, lam) for lam in LAM] for p in PROMPTS]
    return tuple(np.array([[r[k] for r in row] for row in rows]) for k in range(3))


# ----------------------------------------------------------------------------------------------------------------------
# prompt_sweep
# ----------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 8, 12, 100])  # 1, 2, 3, all prompts per forward (G = 4)
def test_prompt_sweep_equals_per_prompt_loop(model, reference, batch_size):
    post, pre, lp = reference
    s = prompt_sweep(model, PROMPTS, VECS, LAM, ids=IDS, top_k=TOP_K, batch_size=batch_size, pad_id=0)
    n, G = len(PROMPTS), len(LAM)
    assert s.post.shape == s.pre.shape == (n, G, D) and s.post.dtype == np.float32
    assert s.logprobs.shape == (n, G, len(IDS)) and s.top_ids.shape == (n, TOP_K)
    assert s.top_logprobs.shape == (n, G, TOP_K)
    np.testing.assert_array_equal(s.lam, np.array(LAM))
    np.testing.assert_array_equal(s.ids, IDS)
    np.testing.assert_allclose(s.post, post, atol=ATOL, rtol=0)
    np.testing.assert_allclose(s.pre, pre, atol=ATOL, rtol=0)
    np.testing.assert_allclose(s.logprobs, lp[:, :, IDS], atol=ATOL, rtol=0)
    # the steering does something (else the comparison above would be vacuous)
    assert np.abs(post[:, 0] - post[:, 2]).max() > 0.1


def test_prompt_sweep_top_tokens_and_delta(model, reference):
    _, _, lp = reference
    s = prompt_sweep(model, PROMPTS, VECS, LAM, top_k=TOP_K, batch_size=8, pad_id=0)
    assert s.zero == 2
    expected_top = np.argsort(-lp[:, 2], axis=-1, kind="stable")[:, :TOP_K]
    np.testing.assert_array_equal(s.top_ids, expected_top)
    assert np.all(np.diff(lp[:, 2][np.arange(len(PROMPTS))[:, None], s.top_ids], axis=-1) <= 0)  # decreasing
    np.testing.assert_allclose(
        s.top_logprobs, np.take_along_axis(lp, s.top_ids[:, None, :].repeat(len(LAM), 1), 2), atol=ATOL, rtol=0
    )
    assert s.logprobs.shape == (len(PROMPTS), len(LAM), 0) and s.ids.shape == (0,)
    for which, h in (("post", s.post), ("pre", s.pre)):
        delta = s.delta(which)
        assert np.all(delta[:, s.zero] == 0.0)
        np.testing.assert_allclose(delta, h - h[:, 2:3], atol=0, rtol=0)
        assert np.abs(delta).max() > 0.1


def test_prompt_sweep_pad_id_sources_and_roundtrip(model, tmp_path):
    base = prompt_sweep(model, PROMPTS, VECS, LAM, ids=IDS, top_k=3, batch_size=100, pad_id=0)
    # the pad id only fills masked positions: any other value gives the same readings
    other = prompt_sweep(model, PROMPTS, VECS, LAM, ids=IDS, top_k=3, batch_size=100, pad_id=77)
    # from the wrapper's tokenizer: its pad token, else its eos token
    padded = SimpleNamespace(model=model, tokenizer=tiny_tokenizer(pad_token="<unk>"))
    no_pad = SimpleNamespace(model=model, tokenizer=tiny_tokenizer())
    for s in (other, prompt_sweep(padded, PROMPTS, VECS, LAM, ids=IDS, top_k=3, batch_size=100)):
        for key, value in base.arrays().items():
            np.testing.assert_allclose(getattr(s, key), value, atol=1e-5, rtol=0, err_msg=key)
    prompt_sweep(no_pad, PROMPTS[:2], VECS, LAM, batch_size=100)  # eos (id 1) pads
    with pytest.raises(ValueError, match="tokenizer"):
        prompt_sweep(model, PROMPTS, VECS, LAM)  # a bare model has no tokenizer, and no pad_id is given
    np.savez(tmp_path / "s.npz", **base.arrays())
    with np.load(tmp_path / "s.npz") as f:
        back = PromptSweep.from_arrays(f)
    for key, value in base.arrays().items():
        np.testing.assert_array_equal(getattr(back, key), value)


# ----------------------------------------------------------------------------------------------------------------------
# choice_sweep
# ----------------------------------------------------------------------------------------------------------------------

CONTEXTS = [[5, 9, 17], [8], [40, 41, 42, 43, 44, 45], [60, 61]]
CONTINUATIONS = [
    [[20], [21, 22, 23], [24, 25]],
    [[30, 31, 32, 33], [34], [35, 36]],
    [[50], [51], [52, 53, 54]],
    [[70, 71], [72, 73, 74, 75, 76], [77]],
]
CHOICE_LAM = [0.0, -3.0, 5.0]


def _reference_choice(model, context, continuation, lam) -> float:
    ids = list(context) + list(continuation)
    with torch.no_grad(), steer(model, VECS, float(lam)):
        logits = model(torch.tensor([ids])).logits[0]
    lp = torch.log_softmax(logits.float(), -1)
    return float(sum(lp[t - 1, ids[t]] for t in range(len(context), len(ids))))


@pytest.fixture(scope="module")
def choice_reference(model):
    return np.array(
        [
            [[_reference_choice(model, ctx, cont, lam) for cont in conts] for lam in CHOICE_LAM]
            for ctx, conts in zip(CONTEXTS, CONTINUATIONS, strict=True)
        ]
    )


@pytest.mark.parametrize("batch_size", [1, 20, 30, 100])  # 1, 2, 3, all items per forward (G * C = 9)
def test_choice_sweep_equals_loop(model, choice_reference, batch_size):
    sums, lengths = choice_sweep(model, CONTEXTS, CONTINUATIONS, VECS, CHOICE_LAM, batch_size=batch_size, pad_id=0)
    assert sums.shape == (len(CONTEXTS), len(CHOICE_LAM), 3)
    np.testing.assert_array_equal(lengths, [[len(c) for c in cs] for cs in CONTINUATIONS])
    np.testing.assert_allclose(sums, choice_reference, atol=ATOL, rtol=0)
    assert np.abs(choice_reference[:, 1:] - choice_reference[:, :1]).max() > 0.1


# ----------------------------------------------------------------------------------------------------------------------
# generate_sweep
# ----------------------------------------------------------------------------------------------------------------------

GEN_PROMPTS = [[5, 9, 17, 33], [8], [40, 41, 42, 43, 44, 45, 46]]
GEN_LAM = [-5.0, 0.0, 8.0]
NEW = 6


def _reference_generate(model, prompt, lam, vectors=VECS) -> list[int]:
    """One prompt at one λ through ``model.generate`` (the per-row pattern the sweeps must reproduce)."""
    ids = torch.tensor([prompt])
    with torch.no_grad(), steer(model, vectors, float(lam)):
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=NEW,
            do_sample=False,
            pad_token_id=0,
            use_cache=True,
        )
    return out[0, len(prompt) :].tolist()


@pytest.fixture(scope="module")
def generate_reference(model):
    return [[_reference_generate(model, p, lam) for lam in GEN_LAM] for p in GEN_PROMPTS]


@pytest.mark.parametrize("batch_size", [1, 7, 100])  # 1, 2, all prompts per generate call (G = 3)
def test_generate_sweep_equals_per_row_generate(model, generate_reference, batch_size):
    wrapped = SimpleNamespace(model=model, tokenizer=StubTokenizer())
    texts = generate_sweep(wrapped, GEN_PROMPTS, VECS, GEN_LAM, max_new_tokens=NEW, batch_size=batch_size)
    expected = [[" ".join(map(str, ids)) for ids in row] for row in generate_reference]
    assert texts == expected
    assert all(len(ids) == NEW for row in generate_reference for ids in row)
    assert any(len({tuple(ids) for ids in row}) > 1 for row in generate_reference), "steering changed nothing"


def test_generate_sweep_with_a_real_tokenizer(model, generate_reference):
    tok = tiny_tokenizer(pad_token="<unk>")
    texts = generate_sweep(
        SimpleNamespace(model=model, tokenizer=tok), GEN_PROMPTS, VECS, GEN_LAM, max_new_tokens=NEW, batch_size=100
    )
    assert texts == [[tok.decode(ids, skip_special_tokens=True) for ids in row] for row in generate_reference]


# ----------------------------------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------------------------------


def test_check_grid_accepts_and_returns_floats():
    grid = check_grid([3, 0, -1])
    assert grid.dtype == np.float64 and grid.tolist() == [3.0, 0.0, -1.0]


@pytest.mark.parametrize(
    "lam",
    [
        [1.0, 2.0],  # no 0
        [0.0, 1.0, 1.0],  # repeat
        [0.0, -0.0],  # repeat (-0 == 0)
        [0.0, float("nan")],
        [0.0, float("inf")],
        [[0.0, 1.0], [2.0, 3.0]],  # 2-D
        [0.0],  # a single value
        0.0,  # a scalar
        [],
    ],
)
def test_check_grid_errors(model, lam):
    with pytest.raises(ValueError, match=r"^lambdas"):
        check_grid(lam)
    with pytest.raises(ValueError, match=r"^lambdas"):
        prompt_sweep(model, PROMPTS, VECS, lam, pad_id=0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -3}, "batch_size"),
        ({"batch_size": 2.0}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"top_k": -1}, "top_k"),
        ({"top_k": 1.0}, "top_k"),
        ({"top_k": True}, "top_k"),
        ({"top_k": VOCAB + 1}, "top_k"),
        ({"ids": [-1]}, "ids"),
        ({"ids": [3, VOCAB]}, "ids"),
        ({"prompts": []}, "prompts"),
        ({"prompts": [[5, 6], []]}, "prompts"),
    ],
)
def test_prompt_sweep_errors_name_the_parameter(model, kwargs, name):
    args = {"prompts": PROMPTS, "pad_id": 0} | kwargs
    prompts = args.pop("prompts")
    with pytest.raises(ValueError, match=rf"^{name}"):
        prompt_sweep(model, prompts, VECS, LAM, **args)


def test_generate_and_choice_sweep_errors_name_the_parameter(model):
    wrapped = SimpleNamespace(model=model, tokenizer=StubTokenizer())
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match=r"^max_new_tokens"):
            generate_sweep(wrapped, GEN_PROMPTS, VECS, GEN_LAM, max_new_tokens=bad)
    with pytest.raises(ValueError, match=r"^batch_size"):
        generate_sweep(wrapped, GEN_PROMPTS, VECS, GEN_LAM, batch_size=0)
    with pytest.raises(ValueError, match=r"^prompts"):
        generate_sweep(wrapped, [[]], VECS, GEN_LAM)
    with pytest.raises(ValueError, match=r"^lambdas"):
        generate_sweep(wrapped, GEN_PROMPTS, VECS, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"^model"):
        generate_sweep(model, GEN_PROMPTS, VECS, GEN_LAM, pad_id=0)  # no tokenizer to decode with

    def choice(contexts=CONTEXTS, continuations=CONTINUATIONS, lam=CHOICE_LAM, **kw):
        return choice_sweep(model, contexts, continuations, VECS, lam, pad_id=0, **kw)

    cases = [
        ({"contexts": []}, "contexts"),
        ({"contexts": [[5], []]}, "contexts"),
        ({"continuations": CONTINUATIONS[:3]}, "continuations"),  # 3 items for 4 contexts
        ({"continuations": [*CONTINUATIONS[:3], [[1], [2]]]}, "continuations"),  # 2 choices where the others have 3
        ({"contexts": [[5]], "continuations": [[[1]]]}, "continuations"),  # a single choice
        ({"contexts": [[5]], "continuations": [[[1], []]]}, "continuations"),  # an empty choice
        ({"batch_size": 0}, "batch_size"),
        ({"lam": [[0.0, 1.0]]}, "lambdas"),
    ]
    for kwargs, name in cases:
        with pytest.raises(ValueError, match=rf"^{name}"):
            choice(**kwargs)


# ----------------------------------------------------------------------------------------------------------------------
# progress and hooks
# ----------------------------------------------------------------------------------------------------------------------


def _check_progress(calls, total, forwards):
    counts = [done for done, _ in calls]
    assert all(t == total for _, t in calls)
    assert len(counts) == forwards
    assert all(b > a for a, b in itertools.pairwise(counts)) and counts[0] > 0 and counts[-1] == total


def test_progress_counts_rows_up_to_the_total(model):
    calls: list[tuple[int, int]] = []
    prompt_sweep(model, PROMPTS, VECS, LAM, batch_size=8, pad_id=0, progress=lambda d, t: calls.append((d, t)))
    _check_progress(calls, len(PROMPTS) * len(LAM), forwards=3)  # groups of 2, 2, 1 prompts
    assert [d for d, _ in calls] == [8, 16, 20]
    calls.clear()
    choice_sweep(
        model, CONTEXTS, CONTINUATIONS, VECS, CHOICE_LAM, batch_size=30, pad_id=0, progress=lambda *a: calls.append(a)
    )
    _check_progress(calls, len(CONTEXTS) * len(CHOICE_LAM) * 3, forwards=2)  # groups of 3, 1 items
    calls.clear()
    wrapped = SimpleNamespace(model=model, tokenizer=StubTokenizer())
    generate_sweep(
        wrapped, GEN_PROMPTS, VECS, GEN_LAM, max_new_tokens=2, batch_size=3, progress=lambda *a: calls.append(a)
    )
    _check_progress(calls, len(GEN_PROMPTS) * len(GEN_LAM), forwards=3)  # one prompt per generate call


def _run_all(model, progress=None):
    wrapped = SimpleNamespace(model=model, tokenizer=StubTokenizer())
    return [
        lambda: prompt_sweep(model, PROMPTS, VECS, LAM, ids=IDS, top_k=2, batch_size=8, pad_id=0, progress=progress),
        lambda: choice_sweep(
            model, CONTEXTS, CONTINUATIONS, VECS, CHOICE_LAM, batch_size=20, pad_id=0, progress=progress
        ),
        lambda: generate_sweep(wrapped, GEN_PROMPTS, VECS, GEN_LAM, max_new_tokens=2, batch_size=7, progress=progress),
    ]


def test_hooks_removed_after_each_sweep(model):
    ids = torch.tensor([PROMPTS[0]])
    with torch.no_grad():
        pristine = model(ids).logits
    before = hook_snapshot(model)
    seen = []
    for run in _run_all(model, progress=lambda *a: seen.append(hook_snapshot(model) == before)):
        run()
        assert hook_snapshot(model) == before
    assert seen and all(seen)
    with torch.no_grad():
        assert torch.equal(model(ids).logits, pristine)


def test_hooks_removed_after_an_exception(model, monkeypatch):
    before = hook_snapshot(model)

    def boom(*args):
        raise RuntimeError("boom in progress")

    for run in _run_all(model, progress=boom):
        with pytest.raises(RuntimeError, match="boom in progress"):
            run()
        assert hook_snapshot(model) == before

    def broken_forward(*args, **kwargs):
        raise RuntimeError("boom in forward")

    with monkeypatch.context() as mp:  # an error inside the forward, while steer/record hooks are installed
        mp.setattr(model.model.layers[1], "forward", broken_forward)
        for run in _run_all(model):
            with pytest.raises(RuntimeError, match="boom in forward"):
                run()
            assert hook_snapshot(model) == before
    assert hook_snapshot(model) == before


# ----------------------------------------------------------------------------------------------------------------------
# encode
# ----------------------------------------------------------------------------------------------------------------------


def test_encode_plain_and_chat():
    tok = tiny_tokenizer(pad_token="<unk>")
    assert encode(tok, ["w5 w6", "w9"]) == [[5, 6], [9]]  # no chat template: plain text
    tok.chat_template = (
        "{% for m in messages %}<bos> {{ m['content'] }} <eos> {% endfor %}{% if add_generation_prompt %}w3{% endif %}"
    )
    assert encode(tok, ["w5 w6"]) == [[2, 5, 6, 1, 3]]
    assert encode(tok, ["w5 w6"], system="w9") == [[2, 9, 1, 2, 5, 6, 1, 3]]
    assert encode(tok, ["w5 w6"], chat=False) == [[5, 6]]
    with pytest.raises(ValueError, match=r"^texts"):
        encode(tok, ["w5", ""], chat=False)


# ----------------------------------------------------------------------------------------------------------------------
# prefix reuse: blocks below the first steered one run once per prompt (exact)
# ----------------------------------------------------------------------------------------------------------------------

UPPER = {2: VECS[2], -1: VECS[-1]}  # first steered block 2: blocks 0-1 are reused


@pytest.mark.parametrize("batch_size", [1, 8, 100])
def test_prompt_sweep_prefix_reuse_equals_full_model(model, batch_size):
    hooks_before = hook_snapshot(model)
    kw = {"ids": IDS, "top_k": TOP_K, "batch_size": batch_size, "pad_id": 0}
    fast = prompt_sweep(model, PROMPTS, UPPER, LAM, reuse_prefix=True, **kw)
    full = prompt_sweep(model, PROMPTS, UPPER, LAM, reuse_prefix=False, **kw)
    for name in ("post", "pre", "logprobs", "top_logprobs"):
        np.testing.assert_allclose(getattr(fast, name), getattr(full, name), atol=1e-4, rtol=0, err_msg=name)
    np.testing.assert_array_equal(fast.top_ids, full.top_ids)
    # the decoder blocks are the model's own again, and no hook is left behind
    from validation.layout import decoder_layers

    assert all(type(b).__name__ == "LlamaDecoderLayer" for b in decoder_layers(model))
    assert hook_snapshot(model) == hooks_before


@pytest.mark.parametrize("batch_size", [1, 30])
def test_choice_sweep_prefix_reuse_equals_full_model(model, batch_size):
    kw = {"batch_size": batch_size, "pad_id": 0}
    fast, _ = choice_sweep(model, CONTEXTS, CONTINUATIONS, UPPER, CHOICE_LAM, reuse_prefix=True, **kw)
    full, _ = choice_sweep(model, CONTEXTS, CONTINUATIONS, UPPER, CHOICE_LAM, reuse_prefix=False, **kw)
    np.testing.assert_allclose(fast, full, atol=1e-4, rtol=0)


def test_prefix_reuse_restores_blocks_after_an_error(model):
    from validation.layout import decoder_layers

    blocks = list(decoder_layers(model))

    def boom(module, args, output):  # block 3 runs only in the lambda pass (the prefix pass stops after block 1)
        raise RuntimeError("stop")

    handle = blocks[3].register_forward_hook(boom)
    try:
        with pytest.raises(RuntimeError, match="stop"):
            prompt_sweep(model, PROMPTS, UPPER, LAM, batch_size=4, pad_id=0)
    finally:
        handle.remove()
    assert list(decoder_layers(model)) == blocks


# generation: the prompt's KV cache below the first steered block is computed once per prompt


@pytest.fixture(scope="module")
def generate_reference_upper(model):
    return [[" ".join(map(str, _reference_generate(model, p, lam, UPPER))) for lam in GEN_LAM] for p in GEN_PROMPTS]


@pytest.mark.parametrize("batch_size", [1, 7, 100])
def test_generate_sweep_prefix_reuse_equals_per_row_generate(model, generate_reference_upper, batch_size):
    hooks_before = hook_snapshot(model)
    wrapped = SimpleNamespace(model=model, tokenizer=StubTokenizer())
    kw = {"max_new_tokens": NEW, "batch_size": batch_size}
    fast = generate_sweep(wrapped, GEN_PROMPTS, UPPER, GEN_LAM, reuse_prefix=True, **kw)
    full = generate_sweep(wrapped, GEN_PROMPTS, UPPER, GEN_LAM, reuse_prefix=False, **kw)
    assert fast == full == generate_reference_upper
    assert any(len(set(row)) > 1 for row in generate_reference_upper), "steering changed nothing"
    from validation.layout import decoder_layers

    assert all(type(b).__name__ == "LlamaDecoderLayer" for b in decoder_layers(model))
    assert hook_snapshot(model) == hooks_before


def _shapes_seen(model, blocks_idx, fn) -> dict[int, list[tuple[int, int]]]:
    """``(rows, positions)`` of every output of the given decoder blocks while ``fn()`` runs."""
    from validation.layout import decoder_layers

    blocks = decoder_layers(model)
    seen: dict[int, list[tuple[int, int]]] = {j: [] for j in blocks_idx}

    def hook(j, output):
        seen[j].append(tuple((output[0] if isinstance(output, tuple) else output).shape[:2]))

    handles = [blocks[j].register_forward_hook(lambda m, a, o, j=j: hook(j, o)) for j in blocks_idx]
    try:
        fn()
    finally:
        for h in handles:
            h.remove()
    return seen


def _batch_sizes_seen(model, blocks_idx, fn) -> dict[int, list[int]]:
    return {j: [rows for rows, _ in shapes] for j, shapes in _shapes_seen(model, blocks_idx, fn).items()}


def test_generate_prefix_reuse_runs_the_prompt_once_per_prompt_below_the_first_steered_block(model):
    """Block 0 reads each prompt once (not once per λ); block 2 (steered) reads it once per λ row."""
    wrapped = SimpleNamespace(model=model, tokenizer=StubTokenizer())
    kw = {"max_new_tokens": 3, "batch_size": 100}
    seen = _shapes_seen(model, [0, 2], lambda: generate_sweep(wrapped, GEN_PROMPTS[:2], UPPER, GEN_LAM, **kw))
    T = max(len(p) for p in GEN_PROMPTS[:2])
    G = len(GEN_LAM)
    # block 0: the prompt minus its last token for the 2 distinct prompts, then one token per step for 2 G rows
    assert seen[0] == [(2, T - 1), (2 * G, 1), (2 * G, 1), (2 * G, 1)]
    assert seen[2] == [(2 * G, T - 1), (2 * G, 1), (2 * G, 1), (2 * G, 1)]


def test_generate_prefix_reuse_cache_equals_the_full_models_cache(model):
    """The λ rows' KV cache built with prefix reuse equals that of a plain steered forward (every block, ≤ 1e-5)."""
    from validation._batch import pad
    from validation.kvcache import cache_kwargs, new_cache
    from validation.lastpos import generation_positions
    from validation.sweep import _lambda_cache, _prefilled_cache

    rows, G = GEN_PROMPTS, len(GEN_LAM)
    ids_u, mask_u = pad(rows, 0, "cpu")
    ids_t, mask = ids_u.repeat_interleave(G, 0), mask_u.repeat_interleave(G, 0)
    lam_rows = torch.as_tensor(np.tile(GEN_LAM, len(rows)), dtype=torch.float32)
    T = ids_t.shape[1]
    with torch.inference_mode():
        prefilled = _prefilled_cache(model, ids_u, mask_u, G, 2)
        with steer(model, UPPER, lam_rows, positions="all"):
            fast = _lambda_cache(model, prefilled, ids_t, mask, 2)
            full = new_cache(model)
            m = mask[:, : T - 1]
            model(
                input_ids=ids_t[:, : T - 1],
                attention_mask=m,
                position_ids=generation_positions(m),
                use_cache=True,
                **cache_kwargs(model, full),
            )
    real = mask[:, : T - 1].bool()[:, None, :, None]  # padded positions hold values no real token attends to
    for j, (a, b) in enumerate(zip(fast.layers, full.layers, strict=True)):
        assert a.keys.shape == b.keys.shape == (len(rows) * G, *b.keys.shape[1:]), j
        for x, y in ((a.keys, b.keys), (a.values, b.values)):
            torch.testing.assert_close(x * real, y * real, atol=1e-5, rtol=0)


def test_prompt_and_choice_prefix_reuse_run_blocks_below_the_first_steered_one_once_per_distinct_row(model):
    """Prefix reuse really skips the blocks below the first steered one in the λ pass (not merely equal results)."""
    G = len(LAM)
    seen = _batch_sizes_seen(
        model, [0, 1, 2], lambda: prompt_sweep(model, PROMPTS, UPPER, LAM, batch_size=100, pad_id=0)
    )
    assert seen == {0: [len(PROMPTS)], 1: [len(PROMPTS)], 2: [len(PROMPTS) * G]}
    seen = _batch_sizes_seen(
        model, [0, 2], lambda: prompt_sweep(model, PROMPTS, UPPER, LAM, batch_size=100, pad_id=0, reuse_prefix=False)
    )
    assert seen == {0: [len(PROMPTS) * G], 2: [len(PROMPTS) * G]}
    C, Gc = 3, len(CHOICE_LAM)
    seen = _batch_sizes_seen(
        model,
        [0, 2],
        lambda: choice_sweep(model, CONTEXTS, CONTINUATIONS, UPPER, CHOICE_LAM, batch_size=1000, pad_id=0),
    )
    assert seen == {0: [len(CONTEXTS) * C], 2: [len(CONTEXTS) * C * Gc]}
