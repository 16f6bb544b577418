"""Reliability of the real-model half (issue 7): nothing leaks, bad architectures are named, same seed => same bits.

* Hooks of :func:`validation.hooks.steer` and :func:`validation.hooks.record` are removed, and the model's outputs
  and weights are bitwise unchanged, after any exception: ``KeyboardInterrupt``, ``SystemExit`` and ordinary errors,
  raised in the ``with`` block, from inside a forward hook (also in the middle of ``generate``), or while the hooks
  are being registered.
* Nested ``steer`` contexts add both vectors and unwind in order (also when exited out of order); repeated contexts
  do not accumulate hooks or recordings.
* A model without decoder layers where they are expected gives an :class:`validation.layout.ArchitectureError`
  naming what was found, before any hook is registered.
* Same seed => bitwise-identical steering vectors (:func:`validation.vectors.compute_vectors`) and prompt sweeps
  (:func:`validation.sweep.prompt_sweep`) on CPU, also from a freshly built model; a saved and loaded
  :class:`validation.vectors.SteeringVectors` round-trips bitwise (and re-saves to the same bytes).

Tiny random Llama (``tests/_tiny.py``), offline, CPU, one intra-op thread.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from contextlib import ExitStack

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs torch: pip install 'steering-bounds[validation]'")
transformers = pytest.importorskip(
    "transformers", reason="needs transformers: pip install 'steering-bounds[validation]'"
)

from torch.nn.modules import module as torch_module  # noqa: E402

from tests._tiny import tiny_llama  # noqa: E402
from validation.hooks import num_decoder_layers, record, steer  # noqa: E402
from validation.layout import ArchitectureError, decoder_layers  # noqa: E402
from validation.sweep import prompt_sweep  # noqa: E402
from validation.vectors import SteeringVectors, compute_vectors  # noqa: E402

L, D = 4, 32
PAIRS = [
    ([5, 9, 17], [5, 9, 18]),
    ([8, 12], [8, 13]),
    ([40, 41, 42, 43], [40, 41, 42, 44]),
    ([60, 61, 62], [60, 70, 62]),
    ([3, 4], [3, 5]),
]
PROMPTS = [[5, 9, 17, 33, 64, 70], [8, 12, 99], [40, 41, 42, 43, 44], [7]]
LAM = [2.0, -3.0, 0.0, 5.0]


class Boom(Exception):
    """A user error (not a subclass of anything the code under test might catch)."""


INTERRUPTS = [KeyboardInterrupt, SystemExit, RuntimeError, ValueError, MemoryError, Boom]


pytestmark = pytest.mark.usefixtures("one_thread")


def _fresh_model(seed: int = 0):
    m = tiny_llama(seed=seed)
    m.generation_config.eos_token_id = None
    with torch.no_grad():  # install transformers' lazy output-capturing hooks before any hook snapshot
        m(torch.tensor([[5, 6]]), output_hidden_states=True)
    return m


@pytest.fixture(scope="module")
def model():
    return _fresh_model()


def unit(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(D, generator=g)
    return v / v.norm()


def ids_batch(seed: int = 0, batch: int = 3, length: int = 7) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(3, 128, (batch, length), generator=g)


def run(model, ids: torch.Tensor):
    with torch.no_grad():
        return model(ids, output_hidden_states=True)


def hooks_of(model) -> dict:
    """Every hook dictionary of every module, and torch's global module hooks."""
    names = (
        "_forward_hooks",
        "_forward_hooks_with_kwargs",
        "_forward_hooks_always_called",
        "_forward_pre_hooks",
        "_forward_pre_hooks_with_kwargs",
        "_backward_hooks",
        "_backward_pre_hooks",
    )
    snap = {name: tuple(tuple(getattr(m, attr, {}).keys()) for attr in names) for name, m in model.named_modules()}
    snap["<global>"] = (
        tuple(torch_module._global_forward_hooks),
        tuple(torch_module._global_forward_pre_hooks),
        tuple(torch_module._global_backward_hooks),
    )
    return snap


def weights(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_pristine(model, ids, hooks_before, logits_before, weights_before) -> None:
    """No hook left anywhere, identical weights, identical outputs (bitwise)."""
    assert hooks_of(model) == hooks_before
    after = weights(model)
    assert after.keys() == weights_before.keys()
    assert all(torch.equal(after[k], weights_before[k]) for k in after)
    assert torch.equal(run(model, ids).logits, logits_before)


def _contexts(model, which: str, stack: ExitStack):
    if which in ("steer", "steer+record", "nested"):
        stack.enter_context(steer(model, {1: unit(1), -1: unit(2)}, 3.0))
    if which in ("record", "steer+record"):
        stack.enter_context(record(model, [0, 2], keep="last_real"))
    if which == "nested":
        stack.enter_context(steer(model, {1: unit(3), 2: unit(4)}, -2.0, positions="prompt"))
        stack.enter_context(record(model))


# ---------------------------------------------------------------------------------------------------------------------
# Nothing leaks
# ---------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["steer", "record", "steer+record", "nested"])
@pytest.mark.parametrize("exc", INTERRUPTS)
def test_exception_in_the_with_block_leaves_the_model_pristine(model, exc, which):
    ids = ids_batch(5)
    hooks, pristine, w = hooks_of(model), run(model, ids).logits, weights(model)
    with pytest.raises(exc), ExitStack() as stack:
        _contexts(model, which, stack)
        inside = run(model, ids).logits
        assert which == "record" or not torch.equal(inside, pristine)
        raise exc("interrupted")
    assert_pristine(model, ids, hooks, pristine, w)


@pytest.mark.parametrize("where", [0, 2, 3])
@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError, Boom])
def test_exception_from_inside_a_forward_hook_leaves_the_model_pristine(model, exc, where):
    """A (user) hook raising in the middle of the forward, below, at and above the steered layers."""
    ids = ids_batch(6)
    hooks, pristine, w = hooks_of(model), run(model, ids).logits, weights(model)
    armed = {"on": False}

    def interrupt(module, args, output):
        if armed["on"]:
            raise exc("interrupted inside the forward")

    user = decoder_layers(model)[where].register_forward_hook(interrupt)
    try:
        with pytest.raises(exc), steer(model, {1: unit(7), 2: unit(8)}, 4.0), record(model, keep="all") as rec:
            armed["on"] = True
            run(model, ids)
        assert sum(len(v) for v in rec.layers.values()) <= L  # at most the blocks reached before the interrupt
    finally:
        user.remove()
    assert_pristine(model, ids, hooks, pristine, w)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, Boom])
def test_exception_in_the_middle_of_generate_leaves_the_model_pristine(model, exc):
    """Interrupt a cached generation at its third decoding step, inside steer(positions="generated") and record."""
    ids = ids_batch(7, batch=2, length=5)
    hooks, pristine, w = hooks_of(model), run(model, ids).logits, weights(model)
    with torch.no_grad():
        reference = model.generate(ids, max_new_tokens=6, do_sample=False)
    calls = {"n": 0}

    def interrupt(module, args, output):
        calls["n"] += 1
        if calls["n"] == 3:
            raise exc("interrupted during generate")

    user = decoder_layers(model)[-1].register_forward_hook(interrupt)
    try:
        with (
            pytest.raises(exc),
            steer(model, {0: unit(9), 3: unit(10)}, 6.0, positions="generated"),
            record(model, [3], keep="last_real"),
            torch.no_grad(),
        ):
            model.generate(ids, max_new_tokens=6, do_sample=False)
    finally:
        user.remove()
    assert calls["n"] == 3
    assert_pristine(model, ids, hooks, pristine, w)
    with torch.no_grad():
        assert torch.equal(model.generate(ids, max_new_tokens=6, do_sample=False), reference)


@pytest.mark.parametrize("ctx", ["steer", "record"])
@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_exception_while_registering_hooks_removes_the_ones_already_registered(model, monkeypatch, ctx, exc):
    """Entering the context fails at the third block (after the pass tracker and earlier blocks got their hooks)."""
    ids = ids_batch(8)
    hooks, pristine, w = hooks_of(model), run(model, ids).logits, weights(model)
    block = decoder_layers(model)[2]

    def refuse(*args, **kwargs):
        raise exc("interrupted while registering")

    monkeypatch.setattr(block, "register_forward_hook", refuse)
    with pytest.raises(exc):
        cm = steer(model, {0: unit(1), 1: unit(2), 2: unit(3)}, 1.0) if ctx == "steer" else record(model)
        with cm:
            pytest.fail("the context must not be entered")  # pragma: no cover
    monkeypatch.undo()
    assert_pristine(model, ids, hooks, pristine, w)


def test_exception_inside_nested_contexts_unwinds_all(model):
    ids = ids_batch(9)
    hooks, pristine, w = hooks_of(model), run(model, ids).logits, weights(model)
    with pytest.raises(KeyboardInterrupt), steer(model, {0: unit(1)}, 1.0), record(model, [0]):
        with steer(model, {0: unit(2)}, 2.0), record(model, [1]), steer(model, {3: unit(3)}, -1.0):
            run(model, ids)
            raise KeyboardInterrupt
    assert_pristine(model, ids, hooks, pristine, w)


def test_nested_steer_adds_both_vectors_and_unwinds_in_order(model):
    ids = ids_batch(10)
    v1, v2, v3 = unit(11), unit(12), unit(13)
    base = run(model, ids).hidden_states
    with steer(model, {1: v1}, 2.0):
        outer = run(model, ids).hidden_states
        with steer(model, {1: v2}, -1.5):
            inner = run(model, ids).hidden_states
            with steer(model, {0: v3}, 0.5):
                innermost = run(model, ids).hidden_states
            after_innermost = run(model, ids).hidden_states
        after_inner = run(model, ids).hidden_states
    after = run(model, ids).hidden_states
    # output of block 1 is hidden_states[2]; block 0's steering propagates, so compare block 1 only without it
    torch.testing.assert_close(outer[2] - base[2], (2.0 * v1).expand_as(base[2]), atol=1e-5, rtol=0)
    torch.testing.assert_close(inner[2] - base[2], (2.0 * v1 - 1.5 * v2).expand_as(base[2]), atol=1e-5, rtol=0)
    torch.testing.assert_close(innermost[1] - base[1], (0.5 * v3).expand_as(base[1]), atol=1e-5, rtol=0)
    assert all(torch.equal(a, b) for a, b in zip(after_innermost, inner, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(after_inner, outer, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(after, base, strict=True))


def test_contexts_exited_out_of_order_are_independent(model):
    """Exit the outer steer before the inner one: what remains is exactly the inner steer alone."""
    ids = ids_batch(11)
    hooks, pristine, w = hooks_of(model), run(model, ids).logits, weights(model)
    with steer(model, {2: unit(15)}, -3.0):
        inner_alone = run(model, ids).logits
    outer = steer(model, {1: unit(14)}, 2.0)
    inner = steer(model, {2: unit(15)}, -3.0)
    outer.__enter__()
    inner.__enter__()
    both = run(model, ids).logits
    outer.__exit__(None, None, None)
    assert torch.equal(run(model, ids).logits, inner_alone)
    inner.__exit__(None, None, None)
    assert not torch.equal(both, inner_alone)
    assert_pristine(model, ids, hooks, pristine, w)


def test_repeated_contexts_do_not_accumulate_hooks_or_recordings(model):
    ids = ids_batch(12)
    hooks, pristine, w = hooks_of(model), run(model, ids).logits, weights(model)
    outputs, inside_hooks, recorded = [], set(), []
    for _ in range(20):
        with steer(model, {1: unit(16), 3: unit(17)}, 2.5), record(model, [1, 3], keep="last_real") as rec:
            outputs.append(run(model, ids).logits)
            inside_hooks.add(sum(len(keys) for per_module in hooks_of(model).values() for keys in per_module))
            recorded.append(rec)
        assert hooks_of(model) == hooks
    assert len(inside_hooks) == 1  # the same number of hooks inside every repetition
    assert all(torch.equal(o, outputs[0]) for o in outputs)
    assert all(len(r.layers[1]) == 1 and len(r.layers[3]) == 1 and len(r.final_norm) == 1 for r in recorded)
    assert all(torch.equal(r.layer(3), recorded[0].layer(3)) for r in recorded)
    assert_pristine(model, ids, hooks, pristine, w)


# ---------------------------------------------------------------------------------------------------------------------
# A model without decoder layers where they are expected
# ---------------------------------------------------------------------------------------------------------------------
class _GPT2Like(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = torch.nn.Module()
        self.transformer.h = torch.nn.ModuleList([torch.nn.Linear(4, 4)])
        self.head = torch.nn.Linear(4, 3)


class _EmptyLayers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.model = torch.nn.Module()
        self.model.layers = torch.nn.ModuleList()
        self.model.norm = torch.nn.LayerNorm(4)


class _ListLayers(torch.nn.Module):
    """``model.layers`` is a plain list: its blocks are not registered submodules, so not decoder layers."""

    def __init__(self):
        super().__init__()
        self.model = torch.nn.Module()
        self.model.embed = torch.nn.Embedding(8, 4)
        object.__setattr__(self.model, "layers", [torch.nn.Linear(4, 4)])


def _llama_without_layers():
    m = tiny_llama(seed=2)
    del m.model.layers
    return m


ARCHITECTURES = {
    "gpt2-like": (_GPT2Like, ["transformer (Module)", "head (Linear)"]),
    "empty ModuleList": (_EmptyLayers, ["layers (ModuleList)", "norm (LayerNorm)"]),
    "plain list": (_ListLayers, ["embed (Embedding)"]),
    "llama without layers": (_llama_without_layers, ["LlamaForCausalLM", "embed_tokens (Embedding)", "lm_head"]),
}


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_missing_decoder_layers_is_a_clear_error_naming_what_was_found(arch):
    make, found = ARCHITECTURES[arch]
    m = make()
    hooks = hooks_of(m)
    attempts = {
        "decoder_layers": lambda: decoder_layers(m),
        "num_decoder_layers": lambda: num_decoder_layers(m),
        "steer": lambda: steer(m, {0: torch.ones(4)}, 1.0).__enter__(),
        "record": lambda: record(m).__enter__(),
        "compute_vectors": lambda: compute_vectors(m, None, PAIRS, 0),
    }
    for name, attempt in attempts.items():
        with pytest.raises(ArchitectureError) as info:
            attempt()
        msg = str(info.value)
        assert "model.model.layers" in msg, (name, msg)  # where they were expected
        for part in found:  # and what was found instead
            assert part in msg, (name, part, msg)
        assert isinstance(info.value, TypeError)  # an ArchitectureError is a TypeError: a wrong kind of model
    assert hooks_of(m) == hooks  # nothing was registered on the way to the error


# ---------------------------------------------------------------------------------------------------------------------
# Same seed => same bits (CPU)
# ---------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["pca", "mean_diff"])
def test_same_seed_gives_bitwise_identical_steering_vectors(model, method):
    a = compute_vectors(model, None, PAIRS, [0, 2, -1], method=method, seed=3, batch_size=3)
    b = compute_vectors(model, None, PAIRS, [0, 2, -1], method=method, seed=3, batch_size=3)
    c = compute_vectors(_fresh_model(), None, PAIRS, [0, 2, -1], method=method, seed=3, batch_size=3)
    for other in (b, c):
        assert other.layers == a.layers == [0, 2, 3]
        assert all(torch.equal(a[k], other[k]) for k in a.layers)
        assert other.metadata() == a.metadata()


def test_pca_seed_is_the_only_source_of_randomness(model):
    """The global torch/numpy generators do not change the vectors: only ``seed`` does (and is recorded)."""
    torch.manual_seed(123)
    np.random.seed(123)  # noqa: NPY002 - the legacy global generator is what careless code would use
    a = compute_vectors(model, None, PAIRS, [1, 2], method="pca", seed=5)
    torch.manual_seed(999)
    np.random.seed(999)  # noqa: NPY002
    b = compute_vectors(model, None, PAIRS, [1, 2], method="pca", seed=5)
    assert all(torch.equal(a[k], b[k]) for k in a.layers) and a.seed == b.seed == 5


@pytest.mark.parametrize("reuse_prefix", [True, False])
def test_same_inputs_give_bitwise_identical_prompt_sweeps(model, reuse_prefix):
    vectors = compute_vectors(model, None, PAIRS, [1, 2], method="pca", seed=1)
    kw = {"ids": [1, 5, 64, 127], "top_k": 4, "batch_size": 8, "pad_id": 0, "reuse_prefix": reuse_prefix}
    a = prompt_sweep(model, PROMPTS, vectors, LAM, **kw).arrays()
    b = prompt_sweep(model, PROMPTS, vectors, LAM, **kw).arrays()
    c = prompt_sweep(_fresh_model(), PROMPTS, vectors, LAM, **kw).arrays()
    for other in (b, c):
        assert a.keys() == other.keys()
        for key in a:
            assert a[key].dtype == other[key].dtype and np.array_equal(a[key], other[key]), key


def _contents(path) -> tuple[dict, dict]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt", device="cpu") as f:
        meta = f.metadata()
        tensors = {k: (str(f.get_tensor(k).dtype), f.get_tensor(k).view(torch.uint8).tolist()) for k in f.keys()}
    return {k: (json.loads(v) if k == "steering_bounds" else v) for k, v in meta.items()}, tensors


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_saved_and_loaded_vectors_round_trip_bitwise(model, tmp_path, dtype):
    sv = compute_vectors(model, None, PAIRS, [0, 3], method="pca", seed=2, extra={"behavior": "test"}).to(dtype=dtype)
    path = sv.save(tmp_path / "v.safetensors")
    back = SteeringVectors.load(path)
    assert back.layers == sv.layers
    for k in sv.layers:
        assert back[k].dtype == dtype and torch.equal(back[k], sv[k])
    assert back.metadata() == sv.metadata()
    # a re-save holds the same header and tensors (not the same bytes: safetensors writes its metadata map in a
    # random order, measured: 2 distinct files in 10 saves of one object)
    assert _contents(back.save(tmp_path / "again.safetensors")) == _contents(path)
    ids = ids_batch(13)
    with steer(model, sv, 3.0):
        with_original = run(model, ids).logits
    with steer(model, back, 3.0):
        with_loaded = run(model, ids).logits
    assert torch.equal(with_original, with_loaded)
