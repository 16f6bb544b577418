"""Tests of validation.hooks: the layer convention against output_hidden_states, the exact additive algebra of
steering, hook removal, padding, cached generation, per-row λ, dtype, and recording. Tiny random Llama, offline."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

torch = pytest.importorskip("torch", reason="needs torch: pip install 'steering-bounds[validation]'")
transformers = pytest.importorskip(
    "transformers", reason="needs transformers: pip install 'steering-bounds[validation]'"
)

from transformers import LlamaForCausalLM  # noqa: E402

from tests._tiny import tiny_llama  # noqa: E402
from validation.hooks import (  # noqa: E402
    LAYER_CONVENTION,
    last_real_token_index,
    num_decoder_layers,
    record,
    resolve_layers,
    steer,
)

L = 4
D = 32


@pytest.fixture(scope="module")
def model() -> LlamaForCausalLM:
    m = tiny_llama()
    with torch.no_grad():  # install transformers' lazy output-capturing hooks once, before any hook snapshot
        m(torch.tensor([[5, 6]]), output_hidden_states=True)
    return m


def unit(seed: int, d: int = D) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(d, generator=g)
    return v / v.norm()


def ids_batch(seed: int = 0, batch: int = 3, length: int = 7) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(3, 128, (batch, length), generator=g)


def hidden(model, ids, **kw):
    with torch.no_grad():
        return model(ids, output_hidden_states=True, **kw)


def hook_snapshot(model) -> dict[str, tuple]:
    return {
        name: (tuple(m._forward_hooks), tuple(m._forward_pre_hooks), tuple(m._forward_hooks_with_kwargs))
        for name, m in model.named_modules()
    }


def position_ids(mask: torch.Tensor) -> torch.Tensor:
    return (mask.cumsum(-1) - 1).clamp(min=0)


# ----------------------------------------------------------------------------------------------------------------------
# layer convention
# ----------------------------------------------------------------------------------------------------------------------


def test_layer_convention_matches_output_hidden_states_as_installed(model):
    """layers[i] output == hidden_states[i+1] for i < L-1; hidden_states[L] is the final norm's output (transformers
    5.x), not the last block's output."""
    assert LAYER_CONVENTION == "decoder_layer_output"
    assert num_decoder_layers(model) == L
    ids = ids_batch()
    with record(model) as rec:
        out = hidden(model, ids)
    hs = out.hidden_states
    assert len(hs) == L + 1
    assert torch.equal(hs[0], model.model.embed_tokens(ids))
    for i in range(L - 1):
        assert torch.equal(rec.layer(i), hs[i + 1]), i
    last_block = rec.layer(L - 1)
    assert torch.equal(rec.final_norm[-1], hs[L])
    with torch.no_grad():
        assert torch.allclose(model.model.norm(last_block), hs[L], atol=1e-6)
    assert not torch.allclose(last_block, hs[L], atol=1e-3), "hidden_states[L] is no longer post-norm"
    assert rec.layer(-1) is rec.layer(L - 1)


def test_resolve_layers_and_errors():
    assert resolve_layers([-1, 0, 2], 4) == [3, 0, 2]
    assert resolve_layers(-25, 40) == [15]
    assert resolve_layers(range(-25, -33, -1), 40) == list(range(15, 7, -1))  # the paper's blocks 15..8
    with pytest.raises(ValueError, match=r"out of range .* 4 decoder layers \(valid: -4..3\)"):
        resolve_layers([4], 4)
    with pytest.raises(ValueError, match="same decoder layer twice"):
        resolve_layers([3, -1], 4)
    with pytest.raises(TypeError, match="integers"):
        resolve_layers([1.0], 4)
    with pytest.raises(ValueError, match="at least one"):
        resolve_layers([], 4)


# ----------------------------------------------------------------------------------------------------------------------
# exact additive algebra
# ----------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", [0, 1, 2, -2])
def test_steering_adds_lambda_v_exactly_at_that_layer(model, layer):
    ids = ids_batch(1)
    lam = 2.5
    v = unit(3)
    base = hidden(model, ids).hidden_states
    with steer(model, {layer: 7.0 * v}, lam) as handle:  # non-unit input: only the direction counts
        out = hidden(model, ids).hidden_states
    i = layer % L
    assert handle.layers == (i,)
    for j in range(i + 1):
        assert torch.equal(out[j], base[j]), f"hidden_states[{j}] changed but layer {i} was steered"
    torch.testing.assert_close(out[i + 1] - base[i + 1], (lam * v).expand_as(base[i + 1]), atol=1e-5, rtol=0)
    assert not torch.allclose(out[L], base[L], atol=1e-4)


def test_last_layer_steering_is_pre_norm(model):
    ids = ids_batch(2)
    v = unit(4)
    with record(model, [-1]) as rec0:
        hidden(model, ids)
    with steer(model, {-1: v}, -3.0), record(model, [-1]) as rec1:
        out = hidden(model, ids)
    torch.testing.assert_close(rec1.layer(-1) - rec0.layer(-1), (-3.0 * v).expand_as(rec0.layer(-1)), atol=1e-5, rtol=0)
    with torch.no_grad():
        torch.testing.assert_close(out.hidden_states[L], model.model.norm(rec1.layer(-1)), atol=1e-6, rtol=0)


def test_negative_index_equals_positive(model):
    ids = ids_batch(3)
    v = unit(5)
    with steer(model, {-3: v}, 1.5):
        a = hidden(model, ids).logits
    with steer(model, {L - 3: v}, 1.5):
        b = hidden(model, ids).logits
    assert torch.equal(a, b)


def test_several_layers_and_steering_vectors_object(model):
    class Vectors:  # duck-typed like validation.vectors.SteeringVectors
        layer_convention = LAYER_CONVENTION

        def __init__(self):
            self.vectors = {0: unit(6), 2: unit(7)}

    ids = ids_batch(4)
    with steer(model, Vectors(), 1.0):
        a = hidden(model, ids).logits
    with steer(model, {0: unit(6)}, 1.0), steer(model, {2: unit(7)}, 1.0):
        b = hidden(model, ids).logits
    torch.testing.assert_close(a, b, atol=1e-6, rtol=0)

    class Wrong(Vectors):
        layer_convention = "hidden_states_index"

    with pytest.raises(ValueError, match="layer convention"), steer(model, Wrong(), 1.0):
        pass


# ----------------------------------------------------------------------------------------------------------------------
# hook lifetime
# ----------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_hooks_removed_after_exception(model, exc):
    ids = ids_batch(5)
    pristine = hidden(model, ids).logits
    before = hook_snapshot(model)
    with pytest.raises(exc), steer(model, {1: unit(8), -1: unit(9)}, 3.0), record(model, [0, 2]):
        steered = hidden(model, ids).logits
        assert not torch.allclose(steered, pristine)
        raise exc("boom")
    assert hook_snapshot(model) == before
    assert torch.equal(hidden(model, ids).logits, pristine)


def test_hooks_removed_after_error_inside_hook(model):
    ids = ids_batch(6, batch=3)
    pristine = hidden(model, ids).logits
    before = hook_snapshot(model)
    with (
        pytest.raises(ValueError, match=r"lam: 2 per-row values for a batch of 3"),
        steer(model, {1: unit(1)}, torch.tensor([1.0, 2.0])),
    ):
        hidden(model, ids)
    assert hook_snapshot(model) == before
    assert torch.equal(hidden(model, ids).logits, pristine)


def test_nested_and_repeated_contexts(model):
    ids = ids_batch(7)
    base = hidden(model, ids).hidden_states[2]
    v1, v2 = unit(10), unit(11)
    with steer(model, {1: v1}, 2.0):
        outer = hidden(model, ids).hidden_states[2]
        with steer(model, {1: v2}, -1.0):
            both = hidden(model, ids).hidden_states[2]
        after_inner = hidden(model, ids).hidden_states[2]
    torch.testing.assert_close(both - base, (2.0 * v1 - v2).expand_as(base), atol=1e-5, rtol=0)
    assert torch.equal(after_inner, outer)
    assert torch.equal(hidden(model, ids).hidden_states[2], base)
    results = []
    for _ in range(2):
        with steer(model, {1: v1}, 2.0):
            results.append(hidden(model, ids).logits)
    assert torch.equal(results[0], results[1])


def test_output_capturing_hooks_installed_inside_context_see_the_steer():
    """A fresh model whose transformers capture hooks get installed during the steer context: ours run first."""
    m = tiny_llama(seed=1)
    ids = ids_batch(8)
    v = unit(12)
    with steer(m, {0: v}, 1.0):
        steered = hidden(m, ids).hidden_states[1]
    base = hidden(m, ids).hidden_states[1]
    torch.testing.assert_close(steered - base, v.expand_as(base), atol=1e-5, rtol=0)


# ----------------------------------------------------------------------------------------------------------------------
# input validation
# ----------------------------------------------------------------------------------------------------------------------


def test_steer_validates_inputs(model):
    cases = [
        (({4: unit(0)}, 1.0), {}, ValueError, "out of range"),
        (({3: unit(0), -1: unit(1)}, 1.0), {}, ValueError, "same decoder layer"),
        (({1: torch.ones(D + 1)}, 1.0), {}, ValueError, "hidden size"),
        (({1: torch.zeros(D)}, 1.0), {}, ValueError, "zero vector"),
        (({1: torch.ones(D, 2)}, 1.0), {}, ValueError, "1-D"),
        (({}, 1.0), {}, ValueError, "non-empty"),
        (({1: unit(0)}, torch.ones(2, 2, 2)), {}, ValueError, r"lam: expected .* 2-D \(batch, T\)"),
        (({1: unit(0)}, torch.ones(2, 0)), {}, ValueError, "lam: empty tensor"),
        (({1: unit(0)}, float("nan")), {}, ValueError, "lam: must be finite"),
        (({1: unit(0)}, 1.0), {"positions": "prefix"}, ValueError, "positions"),
        (({1: unit(0)}, 1.0), {"positions": torch.ones(3, dtype=torch.bool)}, ValueError, "positions"),
        (({1: unit(0)}, 1.0), {"attention_mask": torch.ones(3)}, ValueError, "attention_mask"),
    ]
    before = hook_snapshot(model)
    for args, kwargs, exc, match in cases:
        with pytest.raises(exc, match=match), steer(model, *args, **kwargs):
            pass
    assert hook_snapshot(model) == before


# ----------------------------------------------------------------------------------------------------------------------
# dtype
# ----------------------------------------------------------------------------------------------------------------------


def test_bf16_path_casts_and_adds():
    m = tiny_llama(seed=2, dtype=torch.bfloat16)
    ids = ids_batch(9)
    v = unit(13).double()  # float64 vector into a bf16 model: cast inside the hook
    base = hidden(m, ids)
    with steer(m, {1: v}, 4.0):
        out = hidden(m, ids)
    assert out.hidden_states[2].dtype == torch.bfloat16
    assert out.logits.dtype == torch.bfloat16
    assert torch.equal(out.hidden_states[1], base.hidden_states[1])
    diff = (out.hidden_states[2] - base.hidden_states[2]).float()
    torch.testing.assert_close(diff, (4.0 * v.float()).expand_as(diff), atol=0.05, rtol=0)


# ----------------------------------------------------------------------------------------------------------------------
# padding
# ----------------------------------------------------------------------------------------------------------------------


def _pad(seqs, side):
    width = max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for r, s in enumerate(seqs):
        sl = slice(width - len(s), width) if side == "left" else slice(0, len(s))
        ids[r, sl] = torch.tensor(s)
        mask[r, sl] = 1
    return ids, mask


SEQS = [[5, 9, 17, 33, 64, 70], [8, 12, 99], [40, 41, 42, 43, 44]]


@pytest.mark.parametrize("side", ["left", "right"])
def test_padded_positions_untouched_and_real_tokens_match_unpadded(model, side):
    ids, mask = _pad(SEQS, side)
    v = unit(14)
    base = hidden(model, ids, attention_mask=mask, position_ids=position_ids(mask))
    with steer(model, {1: v}, 3.0):
        out = hidden(model, ids, attention_mask=mask, position_ids=position_ids(mask))
    pad = mask == 0
    assert pad.any()
    # padded positions are left untouched at the steered layer; real ones move by exactly λv
    assert torch.equal(out.hidden_states[2][pad], base.hidden_states[2][pad])
    torch.testing.assert_close(
        out.hidden_states[2][~pad] - base.hidden_states[2][~pad],
        (3.0 * v).expand(int((~pad).sum()), D),
        atol=1e-5,
        rtol=0,
    )
    # each real token's logits equal those of the sequence run alone
    for r, s in enumerate(SEQS):
        with steer(model, {1: v}, 3.0):
            alone = hidden(model, torch.tensor([s])).logits[0]
        torch.testing.assert_close(out.logits[r][mask[r] == 1], alone, atol=1e-5, rtol=1e-5)


def test_explicit_attention_mask_overrides(model):
    ids = ids_batch(10, batch=2, length=5)
    explicit = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    v = unit(15)
    base = hidden(model, ids).hidden_states[2]
    with steer(model, {1: v}, 2.0, attention_mask=explicit):
        out = hidden(model, ids).hidden_states[2]  # the forward itself gets no mask
    real = explicit == 1
    assert torch.equal(out[~real], base[~real])
    torch.testing.assert_close(out[real] - base[real], (2.0 * v).expand(int(real.sum()), D), atol=1e-5, rtol=0)


def test_position_mask_selects_absolute_positions(model):
    ids = ids_batch(11, batch=2, length=6)
    sel = torch.zeros(2, 6, dtype=torch.bool)
    sel[0, -1] = True
    sel[1, 2:4] = True
    v = unit(16)
    base = hidden(model, ids).hidden_states[3]
    with steer(model, {2: v}, 1.0, positions=sel):
        out = hidden(model, ids).hidden_states[3]
    assert torch.equal(out[~sel], base[~sel])
    torch.testing.assert_close(out[sel] - base[sel], v.expand(int(sel.sum()), D), atol=1e-5, rtol=0)


def test_last_real_token_index():
    left = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1], [0, 0, 0, 1]])
    right = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]])
    assert last_real_token_index(left).tolist() == [3, 3, 3]
    assert last_real_token_index(right).tolist() == [1, 3, 0]
    assert last_real_token_index(right.bool()).tolist() == [1, 3, 0]
    assert last_real_token_index(torch.tensor([[1, 0, 1, 0]])).tolist() == [2]
    with pytest.raises(ValueError, match="no real token"):
        last_real_token_index(torch.tensor([[1, 1], [0, 0]]))
    with pytest.raises(ValueError, match=r"\(batch, T\)"):
        last_real_token_index(torch.ones(3))
    with pytest.raises(ValueError, match="0 or 1"):
        last_real_token_index(torch.tensor([[2, 1]]))


@pytest.mark.parametrize("side", ["left", "right"])
def test_record_last_real_token(model, side):
    ids, mask = _pad(SEQS, side)
    with record(model, [0, -1], keep="last_real", final_norm=True) as rec:
        out = hidden(model, ids, attention_mask=mask, position_ids=position_ids(mask))
    idx = last_real_token_index(mask)
    rows = torch.arange(len(SEQS))
    torch.testing.assert_close(rec.layer(0), out.hidden_states[1][rows, idx], atol=0, rtol=0)
    torch.testing.assert_close(rec.final_norm[-1], out.hidden_states[L][rows, idx], atol=0, rtol=0)
    assert rec.layer(-1).shape == (len(SEQS), D)
    assert rec.layer(0).dtype == torch.float32 and not rec.layer(0).requires_grad
    with pytest.raises(ValueError, match="keep"), record(model, keep="first"):
        pass
    with pytest.raises(KeyError, match="not recorded"):
        rec.layer(1)


# ----------------------------------------------------------------------------------------------------------------------
# per-row lambda
# ----------------------------------------------------------------------------------------------------------------------


def test_lambda_per_batch_row_equals_separate_runs(model):
    ids = ids_batch(12, batch=3)
    lams = torch.tensor([0.5, -2.0, 3.0])
    v = {1: unit(17), 2: unit(18)}
    with steer(model, v, lams):
        batched = hidden(model, ids).logits
    for r in range(3):
        with steer(model, v, float(lams[r])):
            single = hidden(model, ids[r : r + 1]).logits
        torch.testing.assert_close(batched[r : r + 1], single, atol=1e-5, rtol=1e-5)


def test_lambda_per_position_is_sliced_by_absolute_position_in_cached_passes(model):
    """A 2-D ``lam`` ``(batch, T)`` adds ``lam[b, t] v`` at absolute position ``t`` (0 at or beyond ``T``): a prefix
    pass and a cached pass give the uncached forward with those coefficients, and a 1-D ``lam`` is unchanged."""
    from validation.kvcache import cache_kwargs, new_cache

    ids, layer, v = ids_batch(13, batch=2), 1, unit(21)
    lam = torch.randn(2, 6, generator=torch.Generator().manual_seed(3))  # position 6 (the last) lies beyond T = 6
    sel = torch.cat([lam, torch.zeros(2, 1)], dim=1)
    ref = _ReferenceSteer(model, layer, v, 1.0, sel)
    try:
        expected = hidden(model, ids).logits
    finally:
        ref.remove()
    cache = new_cache(model)
    with torch.no_grad(), steer(model, {layer: v}, lam) as handle:
        head = model(ids[:, :4], use_cache=True, **cache_kwargs(model, cache)).logits
        tail = model(ids[:, 4:], use_cache=True, **cache_kwargs(model, cache)).logits
    assert handle.calls == [(layer, 0, 4, True), (layer, 4, 3, True)]
    torch.testing.assert_close(torch.cat([head, tail], dim=1), expected, atol=1e-5, rtol=0)
    assert (expected - hidden(model, ids).logits).abs().max() > 0.1  # the coefficients do something
    with pytest.raises(ValueError, match=r"lam: 2 per-row values for a batch of 3"), steer(model, {layer: v}, lam):
        hidden(model, ids_batch(13, batch=3))


# ----------------------------------------------------------------------------------------------------------------------
# cached generation
# ----------------------------------------------------------------------------------------------------------------------


class _ReferenceSteer:
    """Independent reference: add lam * v at layer `layer` where `sel` (absolute positions of one full,
    uncached forward) is True."""

    def __init__(self, model, layer, v, lam, sel):
        self.handle = model.model.layers[layer].register_forward_hook(self.hook)
        self.v, self.lam, self.sel = v, lam, sel

    def hook(self, module, args, output):
        return output + self.lam * self.v * self.sel.unsqueeze(-1).to(output.dtype)

    def remove(self):
        self.handle.remove()


def _generate(model, ids, mask, **kw):
    with torch.no_grad():
        return model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=4,
            do_sample=False,
            use_cache=True,
            output_logits=True,
            return_dict_in_generate=True,
            pad_token_id=0,
            **kw,
        )


@pytest.mark.parametrize("positions", ["all", "prompt", "generated"])
def test_generate_positions_match_manual_full_forward(model, positions):
    """Cached generation under each `positions` mode equals one uncached forward over prompt + generated tokens in
    which the positions the documentation names are steered."""
    ids, mask = _pad([[5, 9, 17, 33, 64], [8, 12, 99]], "left")
    t0 = ids.shape[1]
    layer, lam, v = 1, 3.0, unit(19)
    base = _generate(model, ids, mask)
    with steer(model, {layer: v}, lam, positions=positions) as handle:
        gen = _generate(model, ids, mask)
    seq = gen.sequences
    steps = len(gen.logits)
    assert steps == 4 and seq.shape[1] == t0 + 4
    full_mask = torch.cat([mask, torch.ones(2, steps, dtype=mask.dtype)], dim=1)[:, : seq.shape[1]]
    t = torch.arange(seq.shape[1])
    region = {"all": torch.ones_like(t, dtype=torch.bool), "prompt": t < t0, "generated": t >= t0}[positions]
    sel = (full_mask == 1) & region
    ref = _ReferenceSteer(model, layer, v, lam, sel)
    try:
        with torch.no_grad():
            logits = model(seq, attention_mask=full_mask, position_ids=position_ids(full_mask), use_cache=False).logits
    finally:
        ref.remove()
    for k in range(steps):
        torch.testing.assert_close(gen.logits[k], logits[:, t0 - 1 + k], atol=1e-4, rtol=1e-4)
    # which passes were steered, from the handle's log: one prompt pass (past 0) then cached single-token passes
    passes = [(past, q, steered) for (lay, past, q, steered) in handle.calls if lay == layer]
    assert passes[0][:2] == (0, t0) and all(q == 1 and past >= t0 for past, q, _ in passes[1:])
    assert [s for _, _, s in passes] == {"all": [True] * 4, "prompt": [True, False, False, False],
                                         "generated": [False, True, True, True]}[positions]  # fmt: skip
    # and the semantics are visible: "generated" leaves the first token's logits unsteered, the others do not
    first_changed = not torch.allclose(gen.logits[0], base.logits[0], atol=1e-4)
    assert first_changed == (positions != "generated")


@pytest.mark.parametrize("keyword", ["past_key_values", "cache"])
@pytest.mark.parametrize("positions", ["generated", "prompt"])
def test_cached_pass_is_detected_whatever_keyword_carries_the_cache(model, keyword, positions):
    """The hook counts the cached positions from the cache object, not from one keyword's name: a cached step with
    the cache passed as ``past_key_values`` (every declared release; deprecated from transformers 5.25) or as
    ``cache`` (5.25 on) is a cached pass, steered exactly at its one new position under ``"generated"`` and not at
    all under ``"prompt"``. A release on which the keyword does not reach the model skips its case."""
    import warnings

    from validation.kvcache import new_cache

    prompt = torch.tensor([[5, 9, 17, 33, 64]])
    step = torch.tensor([[71]])
    layer, lam, v = 1, 3.0, unit(23)
    cache = new_cache(model)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # this test passes the deprecated name on purpose
        model(prompt, use_cache=True, **{keyword: cache})
        if cache.get_seq_length() == 0:
            pytest.skip(f"transformers {transformers.__version__} does not take the cache as {keyword!r}")
        with steer(model, {layer: v}, lam, positions=positions) as handle:
            out = model(step, attention_mask=torch.ones(1, 6, dtype=torch.long), use_cache=True, **{keyword: cache})
    assert handle.calls == [(layer, 5, 1, positions == "generated")]
    seq = torch.cat([prompt, step], dim=1)
    sel = torch.zeros(1, 6, dtype=torch.bool)
    sel[0, 5] = positions == "generated"
    ref = _ReferenceSteer(model, layer, v, lam, sel)
    try:
        with torch.no_grad():
            expected = model(seq, use_cache=False).logits[:, -1]
    finally:
        ref.remove()
    torch.testing.assert_close(out.logits[:, -1], expected, atol=1e-5, rtol=1e-5)


def test_cached_positions_and_cache_parameter_go_by_type_not_name(model):
    """validation.kvcache finds the cache among any values and the forward parameter by its Cache annotation."""
    import inspect

    from validation.kvcache import cache_parameter, cached_positions, new_cache

    cache = new_cache(model)
    with torch.no_grad():
        model(torch.tensor([[5, 9, 17]]), use_cache=True, **{cache_parameter(model): cache})
    assert cached_positions([None, 3, torch.ones(2), cache]) == 3
    assert cached_positions([None, (torch.ones(1),)]) == 0
    name = cache_parameter(model)
    assert name in inspect.signature(model.forward).parameters
    assert cache_parameter(model.model) == name  # the decoder stack takes it under the same name

    class NoCache(torch.nn.Module):
        def forward(self, x: torch.Tensor, past: object = None) -> torch.Tensor:
            return x

    with pytest.raises(TypeError, match="KV cache"):
        cache_parameter(NoCache())


def test_generate_without_cache_treats_every_pass_as_prompt(model):
    ids = torch.tensor([[5, 9, 17, 33]])
    v = unit(20)

    def run(positions, use_cache):
        with torch.no_grad(), steer(model, {1: v}, 3.0, positions=positions) as handle:
            out = model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=4, do_sample=False,
                use_cache=use_cache, pad_token_id=0, output_logits=True, return_dict_in_generate=True,
            )  # fmt: skip
        return out, handle

    cached, _ = run("all", True)
    uncached, handle = run("all", False)
    assert [past for _, past, _, _ in handle.calls] == [0] * len(handle.calls)  # every uncached pass is a prompt pass
    assert torch.equal(uncached.sequences, cached.sequences)
    for a, b in zip(uncached.logits, cached.logits, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    nothing, handle = run("generated", False)
    assert handle.calls and not any(steered for *_, steered in handle.calls)
    plain = _generate(model, ids, torch.ones_like(ids))
    assert torch.equal(nothing.sequences, plain.sequences)


def test_generate_lambda_per_row_equals_separate_generations(model):
    prompts = [[5, 9, 17, 33], [8, 12, 99, 7]]
    ids = torch.tensor(prompts)
    lams = torch.tensor([2.0, -3.0])
    v = {1: unit(21)}
    with steer(model, v, lams):
        batched = _generate(model, ids, torch.ones_like(ids))
    for r in range(2):
        with steer(model, v, float(lams[r])):
            single = _generate(model, ids[r : r + 1], torch.ones_like(ids[r : r + 1]))
        assert torch.equal(batched.sequences[r], single.sequences[0])
        for a, b in zip(batched.logits, single.logits, strict=True):
            torch.testing.assert_close(a[r : r + 1], b, atol=1e-4, rtol=1e-4)


def test_record_under_generation(model):
    ids = torch.tensor([[5, 9, 17, 33]])
    with record(model, [1], keep="all") as rec:
        gen = _generate(model, ids, torch.ones_like(ids))
    assert [x.shape[1] for x in rec.layers[1]] == [4, 1, 1, 1]
    full = rec.cat(1)
    assert full.shape == (1, 7, D)
    seq = gen.sequences[:, :-1]  # the last generated token is never fed back
    with torch.no_grad():
        hs = model(seq, output_hidden_states=True, use_cache=False).hidden_states[2]
    torch.testing.assert_close(full, hs, atol=1e-5, rtol=1e-5)
