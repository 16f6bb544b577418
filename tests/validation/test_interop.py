"""Tests of validation.interop: this project's vectors to a llama.cpp control vector and back (exact vectors, kept
metadata, llama.cpp's file layout), control vectors written the way repeng and llama.cpp's cvector-generator write
them, steering-vectors ``.pt`` files, the errors for malformed files, and ``steering-bounds vectors``. The foreign
files steer a tiny random Llama exactly as their own tool would (a forward hook adding strength x vector to block k's
output). Offline."""

from __future__ import annotations

import dataclasses
import os
from contextlib import ExitStack
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs torch: pip install 'steering-bounds[validation]'")
pytest.importorskip("transformers", reason="needs transformers: pip install 'steering-bounds[validation]'")
gguf = pytest.importorskip("gguf", reason="needs gguf: pip install 'steering-bounds[validation]'")

from bounds.errors import MissingFileError, ParameterError  # noqa: E402
from steering_bounds.cli import main  # noqa: E402
from tests._tiny import tiny_llama  # noqa: E402
from validation.check import CheckConfig  # noqa: E402
from validation.hooks import steer  # noqa: E402
from validation.interop import (  # noqa: E402
    ARCH,
    COEFFICIENT_KEY,
    FORMATS,
    METADATA_KEY,
    describe,
    export_control_vector_gguf,
    load_any_vectors,
    load_control_vector_gguf,
    load_steering_vectors_pt,
    vector_format,
)
from validation.vectors import SteeringVectors  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

L, D = 4, 32


def unit(seed: int, d: int = D) -> torch.Tensor:
    v = torch.randn(d, generator=torch.Generator().manual_seed(seed))
    return v / v.norm()


@pytest.fixture(scope="module")
def model():
    m = tiny_llama()
    with torch.no_grad():  # install transformers' lazy output-capturing hooks once
        m(torch.tensor([[5, 6]]), output_hidden_states=True)
    return m


@pytest.fixture
def ours() -> SteeringVectors:
    return SteeringVectors(
        {k: unit(k) for k in (1, 2, 3)},
        "tiny-llama",
        "pca",
        explained_variance={1: 0.5, 2: 0.25, 3: 0.125},
        accuracy={1: 1.0, 2: 0.75, 3: 0.5},
        n_pairs=8,
        dataset_hash="sha256:" + "ab" * 32,
        seed=0,
        num_layers=L,
        versions={"torch": torch.__version__},
        extra={"behavior": "harmless", "orientation": "random"},
    )


# ---------------------------------------------------------------------------------------------------------------------
# writers of foreign files, the way each tool writes them
# ---------------------------------------------------------------------------------------------------------------------


def write_gguf(
    path: Path,
    tensors: dict[str, np.ndarray],
    *,
    arch: str = ARCH,
    hint: str | None = "llama",
    layer_count: str = "uint32",
) -> Path:
    """A control-vector GGUF as repeng's ``ControlVector.export_gguf`` writes it (``GGUFWriter(path, arch)``, the
    model hint, a uint32 layer count, one tensor per name); ``layer_count="int32"`` as llama.cpp's
    ``cvector-generator`` writes it."""
    writer = gguf.GGUFWriter(str(path), arch)
    if hint is not None:
        writer.add_string(f"{arch}.model_hint", hint)
    getattr(writer, f"add_{layer_count}")(f"{arch}.layer_count", len(tensors))
    for name, array in tensors.items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


RAW = {1: 3.0 * unit(11), 2: 0.5 * unit(12)}  # non-unit, different norms, as a tool's raw directions are


def repeng_file(tmp_path: Path) -> Path:
    return write_gguf(tmp_path / "repeng.gguf", {f"direction.{k}": v.numpy() for k, v in RAW.items()})


# ---------------------------------------------------------------------------------------------------------------------
# steering as the other tools do it, and as this project does it
# ---------------------------------------------------------------------------------------------------------------------

IDS = torch.randint(3, 128, (2, 7), generator=torch.Generator().manual_seed(5))


def logits_with_hooks(model, added: dict[int, torch.Tensor]) -> torch.Tensor:
    """Logits with ``added[k]`` added to the output of decoder block ``k`` at every position: repeng's
    ``ControlModule``, steering-vectors' additive hook and llama.cpp's ``l_out`` addition, written independently."""

    def hook(vec: torch.Tensor):
        def add(module, args, output):
            if isinstance(output, tuple):
                return (output[0] + vec, *output[1:])
            return output + vec

        return add

    handles = [model.model.layers[k].register_forward_hook(hook(v)) for k, v in added.items()]
    try:
        with torch.no_grad():
            return model(IDS).logits
    finally:
        for h in handles:
            h.remove()


def logits_with_steer(model, vectors, lams: dict[int, float]) -> torch.Tensor:
    """Logits with this project's ``steer``, one context per layer so that each gets its own λ."""
    with ExitStack() as stack, torch.no_grad():
        for k, lam in lams.items():
            stack.enter_context(steer(model, {k: vectors[k]}, lam))
        return model(IDS).logits


def assert_steers_like_the_tool(model, loaded: SteeringVectors, strength: float) -> None:
    """``loaded`` with λ_k = strength × norm_k steers like the tool adding strength × raw vector, and like ``steer``
    given the raw vectors directly; the steering is large and a one-block shift would be caught."""
    norms = loaded.extra["norms"]
    assert set(norms) == {str(k) for k in RAW}
    lams = {k: strength * norms[str(k)] for k in RAW}
    tool = logits_with_hooks(model, {k: strength * v for k, v in RAW.items()})
    ours = logits_with_steer(model, loaded, lams)
    direct = logits_with_steer(model, RAW, {k: strength * float(v.norm()) for k, v in RAW.items()})
    torch.testing.assert_close(ours, tool, rtol=0, atol=1e-6)
    torch.testing.assert_close(direct, tool, rtol=0, atol=1e-6)
    with torch.no_grad():
        plain = model(IDS).logits
    assert float((tool - plain).abs().max()) > 1e-2  # the steering does something
    shifted = logits_with_hooks(model, {k - 1: strength * v for k, v in RAW.items()})
    assert float((shifted - tool).abs().max()) > 1e-3  # reading direction.k as block k-1 would be caught


# ---------------------------------------------------------------------------------------------------------------------
# export and round trip
# ---------------------------------------------------------------------------------------------------------------------


def test_round_trip_gives_back_the_same_vectors_and_metadata(ours, tmp_path):
    path = export_control_vector_gguf(ours, tmp_path / "sub" / "cv.gguf")
    back = load_control_vector_gguf(path)
    assert back.layers == ours.layers
    for k in ours.layers:
        assert back[k].dtype == torch.float32
        assert torch.equal(back[k], ours[k]), k
    meta, original = back.metadata(), ours.metadata()
    assert {k: v for k, v in meta.items() if k != "extra"} == {k: v for k, v in original.items() if k != "extra"}
    assert meta["extra"] == original["extra"] | {"source": meta["extra"]["source"], "norms": meta["extra"]["norms"]}
    assert meta["extra"]["source"] == {
        "format": "llama.cpp control vector GGUF",
        "path": str(path),
        "model_hint": "tiny-llama",
        "coefficient": 1.0,
    }
    assert back.method == "pca" and back.n_pairs == 8 and back.accuracy == {1: 1.0, 2: 0.75, 3: 0.5}


def test_round_trip_with_a_negative_coefficient_keeps_the_orientation(ours, tmp_path):
    back = load_any_vectors(export_control_vector_gguf(ours, tmp_path / "cv.gguf", coefficient=-2.5))
    for k in ours.layers:
        torch.testing.assert_close(back[k], ours[k], rtol=0, atol=2.0**-24)  # fp32 rounding of (c u) / c
        assert back.extra["norms"][str(k)] == pytest.approx(2.5, rel=1e-6)
    assert back.extra["source"]["coefficient"] == -2.5


def test_the_file_has_llama_cpp_layout(ours, tmp_path):
    path = export_control_vector_gguf(ours, tmp_path / "cv.gguf", coefficient=4.0, model_hint="llama")
    reader = gguf.GGUFReader(path)
    arch = reader.get_field("general.architecture")
    assert bytes(arch.parts[-1]).decode() == "controlvector"
    hint = reader.get_field("controlvector.model_hint")
    assert bytes(hint.parts[-1]).decode() == "llama"
    count = reader.get_field("controlvector.layer_count")
    assert count.types == [gguf.GGUFValueType.UINT32] and int(count.parts[-1][0]) == 3
    assert sorted(t.name for t in reader.tensors) == ["direction.1", "direction.2", "direction.3"]
    for t in reader.tensors:
        k = int(t.name.split(".")[1])
        assert t.tensor_type == gguf.GGMLQuantizationType.F32
        assert [int(n) for n in t.shape] == [D]  # 1-D, n_embd values
        np.testing.assert_array_equal(t.data, (4.0 * ours[k]).numpy())
    assert reader.get_field(METADATA_KEY) is not None and reader.get_field(COEFFICIENT_KEY) is not None
    default_hint = gguf.GGUFReader(export_control_vector_gguf(ours, tmp_path / "d.gguf"))
    assert bytes(default_hint.get_field("controlvector.model_hint").parts[-1]).decode() == "tiny-llama"


def test_layer_0_cannot_be_exported(tmp_path):
    vectors = SteeringVectors({0: unit(0), 2: unit(2)}, "tiny-llama", "pca")
    with pytest.raises(ParameterError, match=r"layer 0 cannot be exported.*direction\.0"):
        export_control_vector_gguf(vectors, tmp_path / "cv.gguf")
    assert not (tmp_path / "cv.gguf").exists()


@pytest.mark.parametrize("coefficient", [0.0, float("nan"), float("inf"), True, "1"])
def test_bad_coefficients_are_refused(ours, tmp_path, coefficient):
    with pytest.raises(ParameterError, match="coefficient: expected a finite non-zero number"):
        export_control_vector_gguf(ours, tmp_path / "cv.gguf", coefficient=coefficient)


def test_our_exported_vectors_steer_like_llama_cpp_would(model, ours, tmp_path):
    """llama.cpp with strength s adds s × direction.k to block k's output: the exported file does what steer does."""
    strength = 1.5
    path = export_control_vector_gguf(ours, tmp_path / "cv.gguf", coefficient=2.0)
    added = {
        int(t.name.split(".")[1]): strength * torch.from_numpy(t.data.copy()) for t in gguf.GGUFReader(path).tensors
    }
    tool = logits_with_hooks(model, added)
    with steer(model, ours, strength * 2.0), torch.no_grad():
        torch.testing.assert_close(model(IDS).logits, tool, rtol=0, atol=1e-6)


# ---------------------------------------------------------------------------------------------------------------------
# foreign control vectors
# ---------------------------------------------------------------------------------------------------------------------


def test_a_repeng_file_loads_and_steers_identically(model, tmp_path):
    loaded = load_any_vectors(repeng_file(tmp_path))
    assert loaded.method == "external" and loaded.model_id == "llama" and loaded.layers == [1, 2]
    assert loaded.extra["norms"] == {"1": pytest.approx(3.0, rel=1e-6), "2": pytest.approx(0.5, rel=1e-6)}
    for k in RAW:
        assert float(loaded[k].norm()) == pytest.approx(1.0, abs=1e-6)
    assert_steers_like_the_tool(model, loaded, strength=1.7)
    assert load_control_vector_gguf(repeng_file(tmp_path), model_id="my-llama").model_id == "my-llama"


def test_a_cvector_generator_file_with_a_repeated_layer_sums_it(tmp_path):
    """llama.cpp's generator writes an int32 layer count; llama.cpp sums tensors that name the same layer."""
    a, b = unit(21).numpy(), 2.0 * unit(22).numpy()
    path = write_gguf(tmp_path / "cv.gguf", {"direction.1": a, "direction.01": b}, layer_count="int32")
    loaded = load_control_vector_gguf(path)
    total = torch.from_numpy(a.astype(np.float64) + b)
    assert loaded.layers == [1]
    torch.testing.assert_close(loaded[1], (total / total.norm()).float(), rtol=0, atol=1e-7)
    assert loaded.extra["norms"]["1"] == pytest.approx(float(total.norm()), rel=1e-12)


def test_a_file_without_model_hint_loads_as_unknown_model(tmp_path):
    loaded = load_any_vectors(write_gguf(tmp_path / "cv.gguf", {"direction.3": np.ones(D, np.float32)}, hint=None))
    assert loaded.model_id == "unknown" and loaded.layers == [3]


@pytest.mark.parametrize(
    ("tensors", "arch", "expected"),
    [
        ({"direction.1": np.ones(D, np.float32)}, "llama", "general.architecture is 'llama', expected 'controlvector'"),
        ({"direction.0": np.ones(D, np.float32)}, ARCH, "tensor 'direction.0' .*: layer index 0 is invalid"),
        (
            {"direction.1": np.ones(D, np.float32), "direction.2": np.ones(D + 1, np.float32)},
            ARCH,
            "tensor 'direction.2' .* has length 33, but 'direction.1' has 32",
        ),
        ({"steer.1": np.ones(D, np.float32)}, ARCH, r"tensor 'steer.1' .* is not named direction.<layer>"),
        ({"direction.1abc": np.ones(D, np.float32)}, ARCH, r"tensor 'direction.1abc' .* is not named"),
        ({"direction.1": np.ones(D, np.float16)}, ARCH, "tensor 'direction.1' .* has type F16; .* F32"),
        ({"direction.1": np.ones((2, D), np.float32)}, ARCH, r"tensor 'direction.1' .* has shape \(2, 32\); .* 1-D"),
        ({"direction.2": np.zeros(D, np.float32)}, ARCH, "direction.2 of .* is the zero vector: layer 2"),
        ({"direction.1": np.full(D, np.nan, np.float32)}, ARCH, "direction.1 of .* contains non-finite values"),
    ],
)
def test_malformed_control_vectors_are_refused_naming_the_problem(tmp_path, tensors, arch, expected):
    path = write_gguf(tmp_path / "cv.gguf", tensors, arch=arch)
    with pytest.raises(ParameterError, match=expected):
        load_any_vectors(path)


def test_a_direction_of_shape_1_by_d_is_1d_as_for_ggml(tmp_path):
    loaded = load_any_vectors(write_gguf(tmp_path / "cv.gguf", {"direction.1": np.ones((1, D), np.float32)}))
    assert loaded.hidden_size == D


def test_files_that_are_not_control_vectors_are_refused(tmp_path):
    (tmp_path / "text.gguf").write_text("not a gguf file")
    with pytest.raises(ParameterError, match="is not a readable GGUF file"):
        load_any_vectors(tmp_path / "text.gguf")
    with pytest.raises(ParameterError, match="holds no direction"):
        load_any_vectors(write_gguf(tmp_path / "empty.gguf", {}))
    with pytest.raises(MissingFileError, match="no such vectors file"):
        load_any_vectors(tmp_path / "missing.gguf")


def test_stored_metadata_that_does_not_fit_the_tensors_is_refused(ours, tmp_path):
    path = export_control_vector_gguf(ours, tmp_path / "cv.gguf")
    reader = gguf.GGUFReader(path)
    arrays = {t.name: np.array(t.data) for t in reader.tensors if t.name != "direction.3"}
    meta = bytes(reader.get_field(METADATA_KEY).parts[-1]).decode()
    writer = gguf.GGUFWriter(str(tmp_path / "edited.gguf"), ARCH)
    writer.add_string(METADATA_KEY, meta)
    writer.add_float64(COEFFICIENT_KEY, 1.0)
    for name, array in arrays.items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ParameterError, match=r"are for layers \[1, 2\], its stored metadata for \[1, 2, 3\]"):
        load_any_vectors(tmp_path / "edited.gguf")


# ---------------------------------------------------------------------------------------------------------------------
# steering-vectors .pt
# ---------------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class SteeringVector:
    """steering-vectors' dataclass, as its fields are (``layer_activations``, ``layer_type``)."""

    layer_activations: dict[int, torch.Tensor]
    layer_type: str = "decoder_block"


@pytest.mark.parametrize("shape", ["asdict", "plain"])
def test_a_steering_vectors_file_loads_and_steers_identically(model, tmp_path, shape):
    sv = SteeringVector({k: v.clone() for k, v in RAW.items()})
    obj = dataclasses.asdict(sv) if shape == "asdict" else sv.layer_activations
    torch.save(obj, tmp_path / "sv.pt")
    loaded = load_any_vectors(tmp_path / "sv.pt")
    assert loaded.method == "external" and loaded.model_id == "unknown" and loaded.layers == [1, 2]
    assert loaded.extra["source"]["layer_type"] == "decoder_block"
    assert_steers_like_the_tool(model, loaded, strength=-0.8)
    assert load_steering_vectors_pt(tmp_path / "sv.pt", model_id="gpt2").model_id == "gpt2"


def test_a_pickled_object_is_never_unpickled(tmp_path):
    torch.save(SteeringVector({1: unit(1)}), tmp_path / "sv.pth")
    with pytest.raises(ParameterError, match=r"never unpickled.*dataclasses.asdict"):
        load_any_vectors(tmp_path / "sv.pth")


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (
            {"layer_activations": {1: torch.ones(D)}, "layer_type": "mlp"},
            r"layer_type 'mlp'; supported: \['decoder_block'\]",
        ),
        ({-1: torch.ones(D)}, "layer key -1 .* is not a non-negative int"),
        ({"1": torch.ones(D)}, "layer key '1' .* is not a non-negative int"),
        ({1: torch.ones(2, D)}, r"layer_activations\[1\] .* has shape \(2, 32\)"),
        ({1: torch.ones(D, dtype=torch.int64)}, r"layer_activations\[1\] .* is not a floating-point tensor"),
        ({1: torch.ones(D), 2: torch.ones(D + 1)}, r"layer_activations\[2\] .* has length 33, but layer 1's has 32"),
        ({1: torch.zeros(D)}, r"layer_activations\[1\] .* is the zero vector"),
        ({}, "has no layer activations"),
        ([torch.ones(D)], "holds a list; expected a dict"),
    ],
)
def test_malformed_steering_vectors_files_are_refused(tmp_path, obj, expected):
    torch.save(obj, tmp_path / "sv.pt")
    with pytest.raises(ParameterError, match=expected):
        load_any_vectors(tmp_path / "sv.pt")


def test_a_file_that_torch_cannot_read_is_refused(tmp_path):
    (tmp_path / "sv.pt").write_bytes(b"hello")
    with pytest.raises(ParameterError, match=r"is not a torch\.save file"):
        load_any_vectors(tmp_path / "sv.pt")


# ---------------------------------------------------------------------------------------------------------------------
# dispatch, check settings, command line
# ---------------------------------------------------------------------------------------------------------------------


def test_dispatch_by_suffix(ours, tmp_path):
    ours.save(tmp_path / "v.safetensors")
    back = load_any_vectors(tmp_path / "v.safetensors")
    assert all(torch.equal(back[k], ours[k]) for k in ours.layers) and back.metadata() == ours.metadata()
    assert vector_format("a.GGUF") == "llama.cpp control vector GGUF"
    assert set(FORMATS) == {".safetensors", ".gguf", ".pt", ".pth"}
    with pytest.raises(ParameterError, match=r"suffix '.npy'; accepted: .safetensors .*, .gguf .*, .pt .*, .pth"):
        load_any_vectors(tmp_path / "v.npy")


def test_check_settings_accept_every_format_and_refuse_others(tmp_path, ours):
    path = export_control_vector_gguf(ours, tmp_path / "v.gguf")
    assert CheckConfig(vectors=str(path)).validate().vectors == str(path)
    (tmp_path / "v.npy").write_bytes(b"")
    with pytest.raises(ParameterError, match=r"suffix '\.npy'; accepted"):
        CheckConfig(vectors=str(tmp_path / "v.npy")).validate()
    with pytest.raises(MissingFileError, match=r"no such file .* \(a .safetensors, .gguf, .pt, .pth file\)"):
        CheckConfig(vectors=str(tmp_path / "missing.gguf")).validate()


def test_describe_names_format_layers_and_norms(tmp_path):
    text = describe(load_any_vectors(repeng_file(tmp_path)), tmp_path / "repeng.gguf")
    assert "format:      llama.cpp control vector GGUF" in text
    assert "model:       llama" in text and "method:      external" in text
    assert "layers:      1, 2 " in text and "hidden size: 32" in text and "norms:       1: 3, 2: 0.5" in text


def test_cli_vectors_export_and_show(ours, tmp_path, capsys):
    ours.save(tmp_path / "v.safetensors")
    out = tmp_path / "v.gguf"
    assert main(["vectors", "export", str(tmp_path / "v.safetensors"), str(out), "--coefficient", "-3"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    back = load_any_vectors(out)
    assert back.extra["norms"] == {str(k): pytest.approx(3.0, rel=1e-6) for k in ours.layers}
    assert all(torch.allclose(back[k], ours[k], rtol=0, atol=2.0**-24) for k in ours.layers)
    for path, fmt, norms in [
        (out, "llama.cpp control vector GGUF", "1: 3, 2: 3, 3: 3"),
        (tmp_path / "v.safetensors", "steering-bounds safetensors", "1: 1, 2: 1, 3: 1"),
    ]:
        assert main(["vectors", "show", str(path)]) == 0
        text = capsys.readouterr().out
        assert f"format:      {fmt}" in text and "method:      pca" in text and f"norms:       {norms}" in text
    torch.save({2: torch.ones(D)}, tmp_path / "sv.pt")
    assert main(["vectors", "show", str(tmp_path / "sv.pt")]) == 0
    assert "format:      steering-vectors torch.save file" in capsys.readouterr().out


def _one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("steering-bounds vectors: error: "), err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["show", "{tmp}/bad.gguf"], "is not a readable GGUF file"),
        (["show", "{tmp}/v.npy"], "suffix '.npy'; accepted"),
        (["show", "{tmp}/missing.gguf"], "no such vectors file"),
        (["export", "{tmp}/zero.safetensors", "{tmp}/o.gguf"], "layer 0 cannot be exported"),
        (["export", "{tmp}/v.safetensors", "{tmp}/o.gguf", "--coefficient", "0"], "coefficient: expected a finite"),
    ],
)
def test_cli_vectors_errors_are_one_line_and_exit_2(ours, tmp_path, capsys, argv, expected):
    (tmp_path / "bad.gguf").write_text("not a gguf file")
    (tmp_path / "v.npy").write_bytes(b"")
    ours.save(tmp_path / "v.safetensors")
    SteeringVectors({0: unit(0)}, "tiny-llama", "pca").save(tmp_path / "zero.safetensors")
    assert main(["vectors", *[a.format(tmp=tmp_path) for a in argv]]) == 2
    captured = capsys.readouterr()
    assert expected in _one_error_line(captured.err) and captured.out == ""
