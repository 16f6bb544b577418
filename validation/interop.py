"""Steering vectors in and out of other tools: llama.cpp control vectors (GGUF, also written by repeng), the
steering-vectors library's ``.pt`` files, and this project's safetensors files, all read by :func:`load_any_vectors`.

Layer indices. Every format here names the same place: a vector with index ``k`` is **added to the output of the
0-based decoder block** ``k`` (the residual stream after block ``k``), i.e. :data:`validation.hooks.LAYER_CONVENTION`.

* this project: ``SteeringVectors`` layer ``k``;
* steering-vectors: ``SteeringVector.layer_activations[k]`` with ``layer_type="decoder_block"`` (a forward hook on
  the ``k``-th decoder block adds it to the block's output);
* llama.cpp and repeng: the GGUF tensor ``direction.k``; llama.cpp adds it (times the user's strength) to ``l_out``
  of block ``k``, right after the block's last residual add, at every position, prompt included; repeng's
  ``ControlModule`` wraps ``layers[k]`` and adds it to that block's output. llama.cpp rejects ``k = 0``, so this
  project's layer 0 cannot be exported.

Where a tool *reads* its direction is another matter, and that is where the off-by-one between tools lives: Hugging
Face's ``output_hidden_states[i]`` is the output of block ``i - 1`` (``hidden_states[0]`` is the embeddings; in
transformers 5.x the last entry is the final norm's output). repeng reads layer ``k`` from ``hidden_states[k + 1]``
(the output of block ``k``, the block it steers); llama.cpp's ``cvector-generator`` reads ``l_out`` of block
``k - 1`` and writes it as ``direction.k``, so its direction is read one block below where it is added. Loading a
file keeps ``direction.k`` at layer ``k``: the place where a vector is added is what steering means, whatever block
it was read at. Details and sources: ``docs/interop.md``.

Only additive steering, :math:`h \\leftarrow h + \\lambda v`, is in scope (the theory's intervention); other
interventions (directional ablation, angular steering, steering-vectors' custom ``operator``) are not supported.
"""

from __future__ import annotations

import json
import math
import pickle
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bounds._io import atomic_write
from bounds.errors import MissingFileError, ParameterError

from .vectors import FORMAT, SteeringVectors

if TYPE_CHECKING:  # pragma: no cover
    import gguf

__all__ = [
    "ARCH",
    "COEFFICIENT_KEY",
    "FORMATS",
    "LAYER_TYPES",
    "METADATA_KEY",
    "describe",
    "export_control_vector_gguf",
    "load_any_vectors",
    "load_control_vector_gguf",
    "load_steering_vectors_pt",
    "vector_format",
]

ARCH = "controlvector"
"""``general.architecture`` of a llama.cpp control-vector GGUF file."""

METADATA_KEY = "steering_bounds.metadata"
"""GGUF key holding :meth:`SteeringVectors.metadata` as JSON (written by :func:`export_control_vector_gguf`; llama.cpp
ignores it)."""

COEFFICIENT_KEY = "steering_bounds.coefficient"
"""GGUF key holding the coefficient the unit vectors were multiplied by on export."""

GGUF_FORMAT = "llama.cpp control vector GGUF"
PT_FORMAT = "steering-vectors torch.save file"
SAFETENSORS_FORMAT = "steering-bounds safetensors"

FORMATS: dict[str, str] = {
    ".safetensors": SAFETENSORS_FORMAT,
    ".gguf": GGUF_FORMAT,
    ".pt": PT_FORMAT,
    ".pth": PT_FORMAT,
}
"""The vectors files :func:`load_any_vectors` reads, by file suffix."""

LAYER_TYPES = ("decoder_block",)
"""The steering-vectors ``layer_type`` values read: only a decoder block's output is this project's convention."""

_DIRECTION = re.compile(r"direction\.(\d+)")
_UNIT_TOL = 1e-4  # as SteeringVectors' unit-norm check for float32


def vector_format(path: str | Path) -> str:
    """The format of a vectors file, from its suffix (:data:`FORMATS`).

    Raises:
        ParameterError: (a ``ValueError``) For a suffix not in :data:`FORMATS`.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        accepted = ", ".join(f"{s} ({f})" for s, f in FORMATS.items())
        raise ParameterError(f"vectors: {str(path)!r} has suffix {suffix!r}; accepted: {accepted}")
    return FORMATS[suffix]


def load_any_vectors(path: str | Path) -> SteeringVectors:
    """Read steering vectors from any file of :data:`FORMATS`, chosen by its suffix.

    ``.safetensors``: :meth:`SteeringVectors.load`; ``.gguf``: :func:`load_control_vector_gguf`; ``.pt``/``.pth``:
    :func:`load_steering_vectors_pt`.

    Raises:
        ParameterError: (a ``ValueError``) For an unknown suffix or a malformed file.
        MissingFileError: (a ``FileNotFoundError``) If there is no such file.
    """
    fmt = vector_format(path)
    if fmt == GGUF_FORMAT:
        return load_control_vector_gguf(path)
    if fmt == PT_FORMAT:
        return load_steering_vectors_pt(path)
    return SteeringVectors.load(path)


# ---------------------------------------------------------------------------------------------------------------------
# llama.cpp control vectors (GGUF)
# ---------------------------------------------------------------------------------------------------------------------


def export_control_vector_gguf(
    vectors: SteeringVectors, path: str | Path, *, coefficient: float = 1.0, model_hint: str | None = None
) -> Path:
    """Write a llama.cpp control vector: one F32 tensor ``direction.k`` = ``coefficient`` × the unit vector of layer
    ``k``, for every layer (llama.cpp adds it to the output of block ``k``, as ``validation.hooks.steer`` does).

    Keys: ``general.architecture = "controlvector"``, ``controlvector.model_hint``, ``controlvector.layer_count``
    (uint32, the number of tensors), and :data:`METADATA_KEY` / :data:`COEFFICIENT_KEY` so that
    :func:`load_control_vector_gguf` gives back the same vectors and metadata (llama.cpp reads none of the keys).
    With ``llama-cli --control-vector-scaled FILE s`` the vector added to block ``k`` is ``s × coefficient`` × unit
    vector, i.e. ``steer`` with λ = ``s × coefficient``.

    Args:
        vectors: The vectors; layer 0 is not allowed (llama.cpp rejects ``direction.0``).
        path: Output file, conventionally ``*.gguf`` (parent folders are created; written atomically).
        coefficient: Finite, non-zero factor of every unit vector (negative: the opposite direction).
        model_hint: ``controlvector.model_hint``; default: ``vectors.model_id``.

    Returns:
        The path written.

    Raises:
        ParameterError: (a ``ValueError``) For layer 0, a bad ``coefficient`` or ``model_hint``, or ``vectors`` that
            is not a ``SteeringVectors``.
    """
    import gguf
    import torch

    if not isinstance(vectors, SteeringVectors):
        raise ParameterError(f"vectors: expected a validation.vectors.SteeringVectors, got {type(vectors).__name__}")
    if 0 in vectors.layers:
        raise ParameterError(
            "vectors: layer 0 cannot be exported to a llama.cpp control vector: llama.cpp rejects a direction.0 "
            "tensor ('invalid (zero) direction tensor layer index'); it steers blocks 1 and above only. Drop layer 0 "
            f"(layers: {vectors.layers})"
        )
    if isinstance(coefficient, bool) or not isinstance(coefficient, int | float) or not math.isfinite(coefficient):
        raise ParameterError(f"coefficient: expected a finite non-zero number, got {coefficient!r}")
    if coefficient == 0:
        raise ParameterError("coefficient: expected a finite non-zero number, got 0 (a zero vector has no direction)")
    hint = vectors.model_id if model_hint is None else model_hint
    if not isinstance(hint, str) or not hint:
        raise ParameterError(f"model_hint: expected a non-empty string, got {hint!r}")
    c = float(coefficient)
    arrays = {k: (v.detach().to("cpu", torch.float64) * c).to(torch.float32).numpy() for k, v in vectors.items()}
    meta = json.dumps(vectors.metadata(), ensure_ascii=False, sort_keys=True)

    def write(fh: Any) -> None:  # gguf's writer needs a file name: write a scratch file, copy it into the atomic one
        with tempfile.TemporaryDirectory() as tmp:
            scratch = Path(tmp) / "control_vector.gguf"
            writer = gguf.GGUFWriter(str(scratch), ARCH)
            writer.add_string(f"{ARCH}.model_hint", hint)
            writer.add_uint32(f"{ARCH}.layer_count", len(arrays))
            writer.add_string(METADATA_KEY, meta)
            writer.add_float64(COEFFICIENT_KEY, c)
            for k, array in arrays.items():
                writer.add_tensor(f"direction.{k}", array)
            writer.write_header_to_file()
            writer.write_kv_data_to_file()
            writer.write_tensors_to_file()
            writer.close()
            fh.write(scratch.read_bytes())

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, write)


def load_control_vector_gguf(path: str | Path, *, model_id: str | None = None) -> SteeringVectors:
    """Read a llama.cpp control-vector GGUF file (this project's, repeng's ``export_gguf``, llama.cpp's
    ``cvector-generator``) as unit vectors: ``direction.k`` becomes layer ``k`` (same block output).

    The file is checked as llama.cpp's loader checks it: every tensor is ``direction.<k>`` with ``k >= 1``, F32,
    1-D (trailing dimensions of size 1 allowed, as ``ggml_n_dims``), all of one length; tensors naming the same
    layer (``direction.1``, ``direction.01``) are summed, as llama.cpp does.

    ``extra["norms"]`` holds each layer's norm in the file (``{"k": norm}``): llama.cpp with strength ``s`` adds
    ``s × norm_k`` × unit vector to block ``k``, i.e. ``steer`` with λ = ``s × norm_k`` on that layer.
    ``extra["source"]`` says where the vectors came from. A file written by :func:`export_control_vector_gguf` gives
    back its vectors and metadata (method, model id, layers, pairs, dataset hash, ...); any other has method
    ``"external"``.

    Args:
        path: The ``.gguf`` file.
        model_id: Recorded as the vectors' model; default: the stored model id, else ``controlvector.model_hint``,
            else ``"unknown"``.

    Returns:
        The vectors (float32 CPU unit vectors) with their metadata.

    Raises:
        MissingFileError: (a ``FileNotFoundError``) If there is no such file.
        ParameterError: (a ``ValueError``) If it is not a GGUF file, not a control vector, or a tensor is malformed
            (the message names the tensor), or a direction is zero.
    """
    path = _existing(path)
    reader = _gguf_reader(path)
    arch = _field(reader, "general.architecture")
    if arch != ARCH:
        found = "has no general.architecture" if arch is None else f"general.architecture is {arch!r}"
        raise ParameterError(f"path: {path} is not a control vector: {found}, expected {ARCH!r}")
    raw = _directions(reader, path)
    norms = _norms(raw, lambda k: f"path: direction.{k} of {path}")
    hint = _field(reader, f"{ARCH}.model_hint")
    stored, coefficient = _stored_metadata(reader, path), _field(reader, COEFFICIENT_KEY)
    ours = stored is not None and isinstance(coefficient, float) and math.isfinite(coefficient) and coefficient != 0
    scales = {k: _scale(n, coefficient) if ours else n for k, n in norms.items()}
    units = _units(raw, scales)
    source: dict[str, Any] = {"format": GGUF_FORMAT, "path": str(path), "model_hint": hint}
    if ours:
        if sorted(stored.get("layers", [])) != sorted(units):
            raise ParameterError(
                f"path: the tensors of {path} are for layers {sorted(units)}, its stored metadata for "
                f"{stored.get('layers')}"
            )
        out = _from_metadata(units, stored, path)
        out.extra = {**out.extra, "source": source | {"coefficient": coefficient}, "norms": _str_keys(norms)}
        if model_id is not None:
            out.model_id = model_id
        return out
    label = model_id if model_id is not None else (hint if isinstance(hint, str) and hint else "unknown")
    return SteeringVectors(units, label, "external", extra={"source": source, "norms": _str_keys(norms)})


def _gguf_reader(path: Path) -> gguf.GGUFReader:
    import gguf

    try:
        return gguf.GGUFReader(path)
    except Exception as exc:  # the reader raises ValueError, IndexError, ... on a malformed file: one message
        raise ParameterError(f"path: {path} is not a readable GGUF file ({type(exc).__name__}: {exc})") from exc


def _field(reader: gguf.GGUFReader, key: str) -> Any:
    """A scalar or string GGUF value (``None`` when absent or an array), read the way every gguf version allows."""
    from gguf import GGUFValueType

    field = reader.get_field(key)
    if field is None or not field.types or field.types[0] == GGUFValueType.ARRAY:
        return None
    if field.types[0] == GGUFValueType.STRING:
        return bytes(field.parts[-1]).decode("utf-8", errors="replace")
    return field.parts[-1][0].item()


def _directions(reader: gguf.GGUFReader, path: Path) -> dict[int, np.ndarray]:
    """``{k: float64 vector}`` from the ``direction.k`` tensors, checked like llama.cpp's loader, duplicates summed."""
    from gguf import GGMLQuantizationType

    out: dict[int, np.ndarray] = {}
    first: tuple[str, int] | None = None
    for t in reader.tensors:
        where = f"path: tensor {t.name!r} of {path}"
        match = _DIRECTION.fullmatch(t.name)
        if match is None:
            raise ParameterError(f"{where} is not named direction.<layer>; a control vector holds only those")
        k = int(match.group(1))
        if k == 0:
            raise ParameterError(
                f"{where}: layer index 0 is invalid (llama.cpp rejects it; direction.k is added to the output of "
                "block k >= 1)"
            )
        if t.tensor_type != GGMLQuantizationType.F32:
            raise ParameterError(f"{where} has type {t.tensor_type.name}; control-vector tensors are F32")
        dims = [int(n) for n in t.shape]  # ggml order: dims[0] is the length
        if any(n != 1 for n in dims[1:]):
            raise ParameterError(f"{where} has shape {tuple(reversed(dims))}; a direction is 1-D (n_embd,)")
        data = np.asarray(t.data, dtype=np.float64).reshape(-1)
        if data.size != dims[0]:
            raise ParameterError(f"{where} has {data.size} of its {dims[0]} values: the file is truncated")
        if first is None:
            first = (t.name, dims[0])
        elif dims[0] != first[1]:
            raise ParameterError(f"{where} has length {dims[0]}, but {first[0]!r} has {first[1]}; one hidden size")
        out[k] = out[k] + data if k in out else data
    if not out:
        raise ParameterError(f"path: {path} holds no direction.<layer> tensor")
    return dict(sorted(out.items()))


def _stored_metadata(reader: gguf.GGUFReader, path: Path) -> dict[str, Any] | None:
    text = _field(reader, METADATA_KEY)
    if text is None:
        return None
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"path: {METADATA_KEY} of {path} is not JSON ({exc})") from exc
    return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None


def _scale(norm: float, coefficient: float) -> float:
    """Divide by the export coefficient (the exact inverse of the export) unless the file was rescaled since."""
    return coefficient if abs(norm / abs(coefficient) - 1.0) <= _UNIT_TOL else math.copysign(norm, coefficient)


def _from_metadata(units: dict[int, Any], meta: Mapping[str, Any], path: Path) -> SteeringVectors:
    """``SteeringVectors`` from vectors and a :meth:`SteeringVectors.metadata` dict (as ``SteeringVectors.load``)."""
    try:
        return SteeringVectors.from_metadata(units, meta)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ParameterError(f"path: the {METADATA_KEY} of {path} does not fit its tensors ({exc})") from exc


# ---------------------------------------------------------------------------------------------------------------------
# steering-vectors (github.com/steering-vectors/steering-vectors) saved with torch.save
# ---------------------------------------------------------------------------------------------------------------------


def load_steering_vectors_pt(path: str | Path, *, model_id: str | None = None) -> SteeringVectors:
    """Read a steering-vectors ``SteeringVector`` saved with ``torch.save`` as plain data, as unit vectors.

    Accepted contents: ``{layer: tensor}`` (a ``layer_activations`` dict) or ``{"layer_activations": {layer:
    tensor}, "layer_type": "decoder_block"}`` (what ``dataclasses.asdict(steering_vector)`` gives). The file is read
    with ``torch.load(weights_only=True)``: no arbitrary object is unpickled, so a pickled ``SteeringVector`` object
    itself is refused; save ``dataclasses.asdict(steering_vector)`` instead. ``layer_activations[k]`` with
    ``layer_type="decoder_block"`` is added to the output of decoder block ``k``: layer ``k`` here.

    ``extra["norms"]`` holds each layer's norm (``{"k": norm}``): steering-vectors with ``multiplier=m`` adds
    ``m × norm_k`` × unit vector, i.e. ``steer`` with λ = ``m × norm_k`` on that layer.

    Args:
        path: The ``.pt``/``.pth`` file.
        model_id: Recorded as the vectors' model (the file names none); default ``"unknown"``.

    Raises:
        MissingFileError: (a ``FileNotFoundError``) If there is no such file.
        ParameterError: (a ``ValueError``) If the file is not plain torch data of that shape, its ``layer_type`` is
            not in :data:`LAYER_TYPES`, a layer key is not a non-negative int, or a vector is not a finite, non-zero
            1-D float tensor of the common length.
    """
    import torch

    path = _existing(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ParameterError(
            f"path: {path} holds objects other than tensors, dicts and numbers, which are never unpickled "
            "(torch.load(weights_only=True)); save the plain data: torch.save(dataclasses.asdict(steering_vector), "
            "path)"
        ) from exc
    except Exception as exc:  # torch raises KeyError, EOFError, RuntimeError, ... on a file it cannot parse
        raise ParameterError(f"path: {path} is not a torch.save file ({type(exc).__name__}: {exc})") from exc
    layer_type, acts = _layer_activations(obj, path)
    keys = sorted(_layer_key(key, path) for key in acts)
    raw = {k: _activation(acts[k], k, path) for k in keys}
    lengths = {k: v.shape[0] for k, v in raw.items()}
    k0 = next(iter(lengths))
    for k, n in lengths.items():
        if n != lengths[k0]:
            raise ParameterError(
                f"path: layer_activations[{k}] of {path} has length {n}, but layer {k0}'s has {lengths[k0]}"
            )
    norms = _norms(raw, lambda k: f"path: layer_activations[{k}] of {path}")
    source = {"format": PT_FORMAT, "path": str(path), "layer_type": layer_type}
    units = _units(raw, norms)
    return SteeringVectors(
        units, model_id or "unknown", "external", extra={"source": source, "norms": _str_keys(norms)}
    )


def _layer_activations(obj: Any, path: Path) -> tuple[str, Mapping[Any, Any]]:
    shape = "{layer: tensor} or {'layer_activations': {layer: tensor}, 'layer_type': 'decoder_block'}"
    if not isinstance(obj, Mapping):
        raise ParameterError(f"path: {path} holds a {type(obj).__name__}; expected a dict {shape}")
    if "layer_activations" not in obj:
        acts, layer_type = obj, "decoder_block"
    else:
        acts, layer_type = obj["layer_activations"], obj.get("layer_type", "decoder_block")
        if layer_type not in LAYER_TYPES:
            raise ParameterError(
                f"path: {path} has layer_type {layer_type!r}; supported: {list(LAYER_TYPES)} (the output of a decoder "
                "block, where this project adds its vectors; the other types act inside a block)"
            )
    if not isinstance(acts, Mapping) or not acts:
        raise ParameterError(f"path: {path} has no layer activations; expected a non-empty dict {shape}")
    return str(layer_type), acts


def _layer_key(key: Any, path: Path) -> int:
    if isinstance(key, bool) or not isinstance(key, int) or key < 0:
        raise ParameterError(
            f"path: layer key {key!r} of {path} is not a non-negative int (a 0-based decoder-block index)"
        )
    return key


def _activation(value: Any, key: Any, path: Path) -> np.ndarray:
    import torch

    where = f"path: layer_activations[{key}] of {path}"
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        raise ParameterError(f"{where} is not a floating-point tensor ({type(value).__name__})")
    if value.ndim != 1:
        raise ParameterError(f"{where} has shape {tuple(value.shape)}; a steering vector is 1-D (hidden size,)")
    return value.detach().to("cpu", torch.float64).numpy()


# ---------------------------------------------------------------------------------------------------------------------
# shared
# ---------------------------------------------------------------------------------------------------------------------


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"path: no such vectors file {str(path)!r}")
    return path


def _norms(raw: Mapping[int, np.ndarray], where: Callable[[int], str]) -> dict[int, float]:
    out = {}
    for k, v in raw.items():
        if not np.isfinite(v).all():
            raise ParameterError(f"{where(k)} contains non-finite values")
        out[k] = float(np.linalg.norm(v))
        if out[k] == 0.0:
            raise ParameterError(f"{where(k)} is the zero vector: layer {k} has no direction")
    return out


def _units(raw: Mapping[int, np.ndarray], scales: Mapping[int, float]) -> dict[int, Any]:
    import torch

    return {k: torch.from_numpy(v / scales[k]).to(torch.float32) for k, v in raw.items()}


def _str_keys(values: Mapping[int, float]) -> dict[str, float]:
    return {str(k): v for k, v in values.items()}


def describe(vectors: SteeringVectors, path: str | Path | None = None) -> str:
    """A few lines about vectors: file and format, model, method, layers, hidden size and each layer's norm in the
    file (``extra["norms"]``; otherwise the vectors' own norms, 1 for unit vectors)."""
    import torch

    norms = vectors.extra.get("norms") if isinstance(vectors.extra.get("norms"), Mapping) else None
    if norms is None:
        norms = {str(k): float(torch.linalg.vector_norm(v.double())) for k, v in vectors.items()}
    lines = []
    if path is not None:
        lines += [f"file:        {path}", f"format:      {vector_format(path)}"]
    lines += [
        f"model:       {vectors.model_id}",
        f"method:      {vectors.method}",
        f"layers:      {', '.join(map(str, vectors.layers))} (added to the output of 0-based decoder block k)",
        f"hidden size: {vectors.hidden_size}",
        "norms:       " + ", ".join(f"{k}: {float(n):.6g}" for k, n in norms.items()),
    ]
    return "\n".join(lines)
