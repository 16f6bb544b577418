"""Steering vectors from contrast pairs: reading hidden states, the direction estimators (:data:`METHODS`: RepE's PCA,
CAA's mean difference, an ITI-style logistic probe, ActAdd's single pair), save/load.

The pair builders (:func:`harmfulness_pairs`, :func:`bias_pairs`, :func:`response_pairs`) take their templates as
arguments; the paper's templates live in :mod:`validation.behaviors`. Estimators, token position and file format:
``docs/api/validation-vectors.md``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bounds.errors import MissingFileError, ParameterError

from . import _batch
from .directions import (
    METHODS,
    PROBE_FOLDS,
    PROBE_L2,
    DirectionFit,
    actadd_direction,
    check_method,
    mean_difference_direction,
    pca_direction,
    probe_direction,
)
from .hooks import LAYER_CONVENTION, _StopForward, record, resolve_layers
from .layout import as_module, decoder_layers

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

__all__ = [
    "FORMAT",
    "METHODS",
    "PROBE_FOLDS",
    "PROBE_L2",
    "TOKEN_POSITION",
    "ContrastPair",
    "DirectionFit",
    "SteeringVectors",
    "actadd_direction",
    "as_pairs",
    "bias_pairs",
    "check_method",
    "compute_vectors",
    "dataset_hash",
    "harmfulness_pairs",
    "mean_difference_direction",
    "pca_direction",
    "probe_direction",
    "read_hidden",
    "response_pairs",
]

TOKEN_POSITION = "last_real_token"
"""Where vectors are read: the last token whose attention-mask entry is 1 (RepE's ``rep_token=-1``, padding-aware)."""

FORMAT = "steering-bounds/steering-vectors"
_FORMAT_VERSION = 1

Tokens = str | tuple[int, ...]


@dataclass(frozen=True)
class ContrastPair:
    """Two inputs that differ in one behaviour or property; the vector points from ``negative`` to ``positive``.

    Attributes:
        positive: Text (or token ids) showing the behaviour the vector points towards.
        negative: Text (or token ids) showing the opposite behaviour.
        source: Dataset name or user file path.
        category: A grouping label (bias type, domain), or ``None``.
        context: Optional shared prefix (e.g. a question both members answer), or ``None``.
        id: Stable identifier inside the source, or ``None``.
    """

    positive: Tokens
    negative: Tokens
    source: str = ""
    category: str | None = None
    context: str | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        for name in ("positive", "negative"):
            value = getattr(self, name)
            if isinstance(value, str):
                if not value:
                    raise ValueError(f"{name}: empty text")
                continue
            if isinstance(value, Sequence) or hasattr(value, "tolist"):
                ids = tuple(int(t) for t in (value.tolist() if hasattr(value, "tolist") else value))
                if not ids:
                    raise ValueError(f"{name}: empty token-id sequence")
                object.__setattr__(self, name, ids)
                continue
            raise TypeError(f"{name}: expected a string or a sequence of token ids, got {type(value).__name__}")

    def swapped(self) -> ContrastPair:
        """The same pair with ``positive`` and ``negative`` exchanged (the opposite vector)."""
        return replace(self, positive=self.negative, negative=self.positive)


def as_pairs(items: Iterable[Any]) -> list[ContrastPair]:
    """Normalise user-supplied pairs.

    Args:
        items: :class:`ContrastPair` objects, ``(positive, negative)`` 2-sequences, or mappings with the keys
            ``"positive"`` and ``"negative"``; each side a string or a sequence of token ids.

    Returns:
        The list of :class:`ContrastPair`.

    Raises:
        ValueError: If there is no pair or an item has the wrong shape.
        TypeError: If an item is of an unsupported type.
    """
    out: list[ContrastPair] = []
    for k, item in enumerate(items):
        if isinstance(item, ContrastPair):
            out.append(item)
        elif isinstance(item, Mapping):
            if "positive" not in item or "negative" not in item:
                raise ValueError(f"items[{k}]: a mapping pair needs the keys 'positive' and 'negative'")
            out.append(ContrastPair(item["positive"], item["negative"]))
        elif isinstance(item, Sequence) and not isinstance(item, str):
            if len(item) != 2:
                raise ValueError(
                    f"items[{k}]: a pair must have exactly 2 elements (positive, negative), got {len(item)}"
                )
            out.append(ContrastPair(item[0], item[1]))
        else:
            raise TypeError(f"items[{k}]: unsupported pair type {type(item).__name__}")
    if not out:
        raise ValueError("items: no contrast pair given")
    return out


def _instruction(text: str) -> str:
    """Fit an instruction into "Can you {instruction}?": strip it, drop one trailing '.', '?' or '!', and lower-case
    a capitalised first word (not an acronym such as "DDoS")."""
    text = text.strip()
    if text and text[-1] in ".?!":
        text = text[:-1].rstrip()
    if len(text) >= 2 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


def harmfulness_pairs(harmful: Sequence[str], harmless: Sequence[str], *, template: str) -> list[ContrastPair]:
    """The paper's harmfulness pairs: ``positive`` = a harmful request, ``negative`` = a harmless one, same template.

    Args:
        harmful: Harmful instructions (e.g. AdvBench goals).
        harmless: Harmless instructions, paired by position with ``harmful``.
        template: A format string with an ``{instruction}`` field
            (:data:`validation.behaviors.HARMFULNESS_TEMPLATE`).

    Raises:
        ValueError: If the lists are empty or of different lengths, or an instruction is empty.
    """
    if len(harmful) != len(harmless):
        raise ValueError(f"harmless: {len(harmless)} instructions for {len(harmful)} harmful ones; pair them 1:1")
    if not harmful:
        raise ValueError("harmful: no instruction given")
    out = []
    for k, (bad, good) in enumerate(zip(harmful, harmless, strict=True)):
        bad_i, good_i = _instruction(bad), _instruction(good)
        if not bad_i or not good_i:
            raise ValueError(f"harmful/harmless: empty instruction at index {k}")
        out.append(ContrastPair(template.format(instruction=bad_i), template.format(instruction=good_i)))
    return out


def bias_pairs(
    statements: Sequence[str], *, template: str, aligned_answer: str, misaligned_answer: str, toward: str = "aligned"
) -> list[ContrastPair]:
    """The paper's bias pairs: a (stereotyped) statement followed by an aligned vs a misaligned answer.

    Args:
        statements: Statements (e.g. StereoSet race stereotypes).
        template: A format string with ``{statement}`` and ``{answer}`` fields
            (:data:`validation.behaviors.BIAS_TEMPLATE`).
        aligned_answer: The aligned answer text.
        misaligned_answer: The misaligned answer text.
        toward: ``"aligned"`` (the aligned text is ``positive``: the paper's "not racist" vectors) or
            ``"misaligned"`` (reversed: its "racist" vectors).

    Raises:
        ValueError: If ``statements`` is empty, a statement is empty, or ``toward`` is unknown.
    """
    if toward not in ("aligned", "misaligned"):
        raise ValueError(f"toward: expected 'aligned' or 'misaligned', got {toward!r}")
    if not statements:
        raise ValueError("statements: no statement given")
    out = []
    for k, s in enumerate(statements):
        s = s.strip()
        if not s:
            raise ValueError(f"statements: empty statement at index {k}")
        pair = ContrastPair(
            template.format(statement=s, answer=aligned_answer), template.format(statement=s, answer=misaligned_answer)
        )
        out.append(pair if toward == "aligned" else pair.swapped())
    return out


def response_pairs(
    questions: Sequence[str],
    refusing: str | Sequence[str],
    complying: str | Sequence[str],
    *,
    template: str,
    toward: str = "refusal",
    max_words: int | None = None,
) -> list[ContrastPair]:
    """Response contrasts for the "harmless" behaviour: a question followed by a refusing vs a complying response.

    Args:
        questions: The (harmful) questions.
        refusing: One refusal for all questions, or one per question
            (:data:`validation.behaviors.DEFAULT_REFUSAL`).
        complying: One complying response for all questions, or one per question
            (:data:`validation.behaviors.DEFAULT_COMPLIANCE`).
        template: A format string with ``{question}`` and ``{response}`` fields
            (:data:`validation.behaviors.RESPONSE_TEMPLATE`).
        toward: ``"refusal"`` (the refusing text is ``positive``: λ > 0 steers towards refusal) or ``"compliance"``.
        max_words: Keep only the first ``max_words`` whitespace-separated words of each response (``None``: all).

    Raises:
        ValueError: For an empty list, mismatched lengths, an empty response, a bad ``max_words`` or ``toward``.
    """
    if toward not in ("refusal", "compliance"):
        raise ValueError(f"toward: expected 'refusal' or 'compliance', got {toward!r}")
    if not questions:
        raise ValueError("questions: no question given")
    if max_words is not None and (isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1):
        raise ValueError(f"max_words: expected a positive integer or None, got {max_words!r}")
    n = len(questions)

    def per_question(value: str | Sequence[str], name: str) -> list[str]:
        items = [value] * n if isinstance(value, str) else list(value)
        if len(items) != n:
            raise ValueError(f"{name}: {len(items)} responses for {n} questions (give one, or one per question)")
        items = [r.strip() if max_words is None else " ".join(r.split()[:max_words]) for r in items]
        if any(not r for r in items):
            raise ValueError(f"{name}: empty response")
        return items

    ref, comp = per_question(refusing, "refusing"), per_question(complying, "complying")
    out = []
    for k, q in enumerate(questions):
        q = q.strip()
        if not q:
            raise ValueError(f"questions: empty question at index {k}")
        pair = ContrastPair(template.format(question=q, response=ref[k]), template.format(question=q, response=comp[k]))
        out.append(pair if toward == "refusal" else pair.swapped())
    return out


def dataset_hash(pairs: Iterable[ContrastPair]) -> str:
    """SHA-256 of the pairs as rendered, in order: ``"sha256:" + hex`` of the canonical JSON
    ``[[positive, negative], ...]`` (strings, or lists of token ids), UTF-8, no whitespace."""
    payload = [[p.positive if isinstance(p.positive, str) else list(p.positive),
                p.negative if isinstance(p.negative, str) else list(p.negative)] for p in pairs]  # fmt: skip
    blob = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in ("torch", "transformers", "safetensors", "steering-bounds"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


@dataclass(eq=False)
class SteeringVectors(Mapping[int, Any]):
    """Per-layer unit steering vectors with their metadata; a read-only mapping ``{layer: vector}`` for ``steer``.

    Attributes:
        vectors: ``{decoder-layer index (non-negative): (d,) unit tensor}``; float32 CPU as computed/loaded.
        model_id: Model the vectors were read from (path, hub id or embedded name).
        method: A key of :data:`METHODS` (or another label for externally made vectors).
        layer_convention: Always :data:`validation.hooks.LAYER_CONVENTION` (checked by ``steer``).
        token_position: Where the hidden states were read (:data:`TOKEN_POSITION`).
        explained_variance: Per layer, see :class:`DirectionFit`.
        accuracy: Per layer, the reading accuracy (see :class:`DirectionFit`).
        n_pairs: Number of contrast pairs.
        dataset_hash: :func:`dataset_hash` of the pairs.
        seed: Seed of the PCA orientation, of the probe's folds or of the ActAdd pair (``None`` when unused).
        num_layers: Number of decoder blocks of the model (``None`` if unknown).
        versions: Package versions at extraction time.
        extra: Any further JSON-serialisable metadata (e.g. the behaviour, the template, the PCA orientation, the
            probe's ``l2`` and ``folds``, the ActAdd ``pair`` index).
        heldout_accuracy: Per layer, the probe's held-out accuracy (see :class:`DirectionFit`); empty for the other
            methods and in files written before it existed.
    """

    vectors: dict[int, torch.Tensor]
    model_id: str
    method: str
    layer_convention: str = LAYER_CONVENTION
    token_position: str = TOKEN_POSITION
    explained_variance: dict[int, float] = field(default_factory=dict)
    accuracy: dict[int, float] = field(default_factory=dict)
    n_pairs: int = 0
    dataset_hash: str = ""
    seed: int | None = None
    num_layers: int | None = None
    versions: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    heldout_accuracy: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import torch

        if not isinstance(self.vectors, Mapping) or not self.vectors:
            raise ValueError("vectors: expected a non-empty mapping {layer: vector}")
        if self.layer_convention != LAYER_CONVENTION:
            raise ValueError(f"layer_convention: only {LAYER_CONVENTION!r} is supported, got {self.layer_convention!r}")
        vecs: dict[int, torch.Tensor] = {}
        size = None
        for key in sorted(self.vectors):
            if isinstance(key, bool) or not isinstance(key, int) or key < 0:
                raise ValueError(f"vectors: layer keys must be non-negative ints (resolved indices), got {key!r}")
            if self.num_layers is not None and key >= self.num_layers:
                raise ValueError(f"vectors: layer {key} is out of range for num_layers={self.num_layers}")
            v = self.vectors[key]
            if not isinstance(v, torch.Tensor) or v.ndim != 1:
                raise ValueError(f"vectors[{key}]: expected a 1-D tensor")
            size = v.shape[0] if size is None else size
            if v.shape[0] != size:
                raise ValueError(f"vectors[{key}]: length {v.shape[0]} differs from the others' {size}")
            norm = float(torch.linalg.vector_norm(v.detach().double()))
            tol = 1e-4 if v.dtype in (torch.float32, torch.float64) else 2e-2
            if not math.isclose(norm, 1.0, abs_tol=tol):
                raise ValueError(f"vectors[{key}]: expected unit norm, got {norm:.6g}")
            vecs[key] = v.detach()
        self.vectors = vecs

    __eq__ = object.__eq__  # identity, as before Mapping (comparing tensors elementwise has no truth value)
    __hash__ = object.__hash__

    def __getitem__(self, layer: int) -> torch.Tensor:
        return self.vectors[layer]

    def __iter__(self) -> Iterator[int]:
        return iter(self.vectors)

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def layers(self) -> list[int]:
        """The layers (non-negative decoder indices), ascending."""
        return list(self.vectors)

    @property
    def hidden_size(self) -> int:
        """The vectors' length :math:`d`."""
        return int(next(iter(self.vectors.values())).shape[0])

    def to(self, device: Any = None, dtype: Any = None) -> SteeringVectors:
        """A copy with every vector moved to ``device`` and/or cast to ``dtype`` (metadata unchanged)."""
        return replace(self, vectors={k: v.to(device=device, dtype=dtype) for k, v in self.vectors.items()})

    def metadata(self) -> dict[str, Any]:
        """Everything but the tensors, JSON-serialisable (integer layer keys become strings); ``heldout_accuracy``
        only when there is one (so the metadata of the other methods is as before it existed)."""
        held = {"heldout_accuracy": {str(k): float(v) for k, v in self.heldout_accuracy.items()}}
        return {
            "format": FORMAT,
            "format_version": _FORMAT_VERSION,
            "model_id": self.model_id,
            "method": self.method,
            "layer_convention": self.layer_convention,
            "token_position": self.token_position,
            "layers": self.layers,
            "hidden_size": self.hidden_size,
            "explained_variance": {str(k): float(v) for k, v in self.explained_variance.items()},
            "accuracy": {str(k): float(v) for k, v in self.accuracy.items()},
            "n_pairs": int(self.n_pairs),
            "dataset_hash": self.dataset_hash,
            "seed": self.seed,
            "num_layers": self.num_layers,
            "versions": dict(self.versions),
            "extra": self.extra,
        } | (held if self.heldout_accuracy else {})

    def save(self, path: str | Path) -> Path:
        """Write a safetensors file: tensors ``layer.<i>`` (CPU, contiguous, dtype as held) and the metadata as one
        JSON string under the safetensors-metadata key ``"steering_bounds"`` (plus ``"format"``).

        Args:
            path: Output file (parent folders are created).

        Returns:
            The path written.
        """
        from safetensors.torch import save_file

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {f"layer.{k}": v.detach().to("cpu").contiguous() for k, v in self.vectors.items()}
        meta = json.dumps(self.metadata(), ensure_ascii=False, sort_keys=True)
        save_file(tensors, str(path), metadata={"format": FORMAT, "steering_bounds": meta})
        return path

    @classmethod
    def load(cls, path: str | Path) -> SteeringVectors:
        """Read a file written by :meth:`save`.

        Args:
            path: The safetensors file.

        Returns:
            The vectors (CPU tensors) with their metadata.

        Raises:
            MissingFileError: (a ``FileNotFoundError``) If there is no such file.
            ParameterError: (a ``ValueError``) If the file is not a safetensors file, not a steering-bounds vectors
                file, has a newer format version, or its tensors do not match the metadata's layers.
        """
        from safetensors import SafetensorError, safe_open

        path = Path(path)
        if not path.is_file():
            raise MissingFileError(f"path: no such vectors file {str(path)!r}")
        try:
            opened = safe_open(str(path), framework="pt", device="cpu")
        except SafetensorError as exc:
            raise ParameterError(f"path: {path} is not a safetensors file ({exc})") from exc
        with opened as f:
            header = f.metadata() or {}
            if header.get("format") != FORMAT or "steering_bounds" not in header:
                raise ParameterError(f"path: {path} is not a steering-bounds vectors file (no {FORMAT!r} metadata)")
            meta = json.loads(header["steering_bounds"])
            if int(meta.get("format_version", 0)) > _FORMAT_VERSION:
                raise ParameterError(f"path: format version {meta['format_version']} is newer than {_FORMAT_VERSION}")
            names = set(f.keys())
            expected = {f"layer.{k}" for k in meta["layers"]}
            if names != expected:
                raise ParameterError(
                    f"path: tensors {sorted(names)} do not match the metadata's layers {meta['layers']}"
                )
            vectors = {int(k): f.get_tensor(f"layer.{k}") for k in meta["layers"]}
        return cls.from_metadata(vectors, meta)

    @classmethod
    def from_metadata(cls, vectors: Mapping[int, Any], meta: Mapping[str, Any]) -> SteeringVectors:
        """The vectors with a :meth:`metadata` dict read back: per-layer scores get integer layer keys, keys that are
        not fields (``format``, ``layers``, ...) are dropped, and a per-layer score absent from the dict (a file
        written before it existed, e.g. without ``heldout_accuracy``) is empty.

        Raises:
            ValueError: If the vectors do not fit (see the class).
        """
        per_layer = ("explained_variance", "accuracy", "heldout_accuracy")
        known = {f.name for f in fields(cls)} - {"vectors", *per_layer}
        scores = {k: {int(layer): float(v) for layer, v in (meta.get(k) or {}).items()} for k in per_layer}
        return cls(vectors=dict(vectors), **{k: v for k, v in meta.items() if k in known}, **scores)


def _tokenize(texts: Sequence[Tokens], tokenizer: Any, add_special_tokens: bool) -> list[list[int]]:
    out = []
    for k, t in enumerate(texts):
        if isinstance(t, str):
            if tokenizer is None:
                raise ValueError(f"tokenizer: required to read text inputs (item {k} is a string)")
            ids = list(tokenizer(t, add_special_tokens=add_special_tokens)["input_ids"])
        else:
            ids = [int(i) for i in t]
        if not ids:
            raise ValueError(f"inputs: item {k} has no token")
        out.append(ids)
    return out


def read_hidden(
    model: nn.Module,
    inputs: Sequence[Tokens] | Mapping[str, Any],
    layers: int | Iterable[int],
    *,
    tokenizer: Any = None,
    batch_size: int = 16,
    padding_side: str | None = None,
    add_special_tokens: bool = True,
) -> dict[int, torch.Tensor]:
    """Decoder-layer outputs at the last real token of each input (padding-aware, batched, in input order).

    Args:
        model: A Hugging Face causal LM, or a ``validation.models.LoadedModel`` (whose tokenizer is then the default).
        inputs: Texts (need ``tokenizer``), token-id sequences, or a mapping with ``input_ids`` and
            ``attention_mask`` tensors (used as given, in chunks of ``batch_size``).
        layers: Decoder-layer indices (negative allowed).
        tokenizer: Tokenizer for text inputs.
        batch_size: Rows per forward, integer ``>= 1``.
        padding_side: ``"left"`` or ``"right"``; default: the tokenizer's ``padding_side``, else ``"right"``.
        add_special_tokens: Passed to the tokenizer (e.g. a BOS token).

    Returns:
        ``{resolved layer: (n, d) float32 CPU tensor}``.

    Raises:
        ValueError: For bad layers, ``batch_size``, ``padding_side``, empty inputs, text without a tokenizer, or a
            mask row with no real token.
    """
    import torch

    batch_size = _batch.check_number("batch_size", batch_size)
    if tokenizer is None:
        tokenizer = getattr(model, "tokenizer", None)  # a validation.models.LoadedModel carries its tokenizer
    model = as_module(model)
    blocks = decoder_layers(model)
    resolved = resolve_layers(layers, len(blocks))
    try:
        accepts_positions = "position_ids" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):  # pragma: no cover
        accepts_positions = False
    if isinstance(inputs, Mapping):
        if "input_ids" not in inputs or "attention_mask" not in inputs:
            raise ValueError("inputs: a mapping needs 'input_ids' and 'attention_mask'")
        ids, mask = torch.as_tensor(inputs["input_ids"]), torch.as_tensor(inputs["attention_mask"])
        if ids.ndim != 2 or ids.shape != mask.shape:
            raise ValueError(
                f"inputs: input_ids {tuple(ids.shape)} and attention_mask {tuple(mask.shape)} must be equal 2-D"
            )
        chunks = [range(s, min(s + batch_size, len(ids))) for s in range(0, len(ids), batch_size)]
        batches = [(c, ids[c.start : c.stop], mask[c.start : c.stop]) for c in chunks]
    else:
        padding_side = padding_side or getattr(tokenizer, "padding_side", None) or "right"
        if padding_side not in ("left", "right"):
            raise ValueError(f"padding_side: expected 'left' or 'right', got {padding_side!r}")
        seqs = _tokenize(list(inputs), tokenizer, add_special_tokens)
        if not seqs:
            raise ValueError("inputs: nothing to read")
        pad = getattr(tokenizer, "pad_token_id", None)
        if pad is None:
            pad = getattr(getattr(model, "config", None), "pad_token_id", None)
        pad = int(pad) if isinstance(pad, int) else 0  # padding is masked: its id changes no reading
        batches = [
            (idx, *_batch.pad([seqs[k] for k in idx], pad, side=padding_side))
            for idx in _batch.groups([len(s) for s in seqs], batch_size)
        ]

    def stop(module: nn.Module, args: tuple, output: Any) -> None:
        raise _StopForward

    device, order = _batch.input_device(model), []
    with torch.inference_mode(), record(model, resolved, keep="last_real", final_norm=False) as rec:
        handle = blocks[max(resolved)].register_forward_hook(stop)  # after record's hook on that block
        try:
            for idx, ids, mask in batches:
                kwargs = {"input_ids": ids.to(device), "attention_mask": mask.to(device), "use_cache": False}
                if accepts_positions:
                    kwargs["position_ids"] = (mask.long().cumsum(-1) - 1).clamp(min=0).to(device)
                try:
                    model(**kwargs)
                except _StopForward:
                    order.extend(int(k) for k in idx)
        finally:
            handle.remove()
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.as_tensor(order, dtype=torch.long)] = torch.arange(len(order))
    return {layer: torch.cat(rec.layers[layer], dim=0)[inverse] for layer in resolved}


def _method_options(
    method: str, n: int, *, seed: int, orientation: str, l2: float, folds: int
) -> tuple[dict[str, Any], dict[str, Any], int | None]:
    """The estimator's keyword arguments, what :func:`compute_vectors` records of them in ``extra``, and the seed it
    records (``None`` when the method uses none); the options and the number of pairs ``n`` are checked here, before
    any hidden state is read."""
    if method in ("probe", "actadd"):
        seed = _batch.check_number("seed", seed, 0)
    if method == "probe":
        l2 = _batch.check_number("l2", l2, 0, integer=False)
        folds = _batch.check_number("folds", folds, 2)
    check_method(method, n, folds=folds)
    if method == "pca":
        return (
            {"seed": seed, "orientation": orientation},
            {"orientation": orientation},
            (seed if orientation == "random" else None),
        )
    if method == "probe":
        return {"l2": l2, "folds": folds, "seed": seed}, {"l2": l2, "folds": folds}, seed
    if method == "actadd":
        pair = int(np.random.default_rng(seed).integers(n))
        return {"pair": pair}, {"pair": pair}, seed
    return {}, {}, None


def compute_vectors(
    model: nn.Module,
    tokenizer: Any,
    pairs: Iterable[Any],
    layers: int | Iterable[int],
    *,
    method: str = "pca",
    batch_size: int = 16,
    seed: int = 0,
    model_id: str | None = None,
    orientation: str = "random",
    l2: float = PROBE_L2,
    folds: int = PROBE_FOLDS,
    padding_side: str | None = None,
    add_special_tokens: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> SteeringVectors:
    """Per-layer unit steering vectors from contrast pairs (:func:`read_hidden`, then :data:`METHODS` per layer).

    Args:
        model: A Hugging Face causal LM (``eval()`` mode), or a ``validation.models.LoadedModel``.
        tokenizer: Its tokenizer (``None``: the ``LoadedModel``'s, or none if every pair is given as token ids).
        pairs: Contrast pairs in any form :func:`as_pairs` accepts (template output or user-supplied).
        layers: Decoder-layer indices (negative allowed); stored resolved.
        method: A key of :data:`METHODS`: ``"pca"`` (:func:`pca_direction`), ``"mean_diff"``
            (:func:`mean_difference_direction`), ``"probe"`` (:func:`probe_direction`) or ``"actadd"``
            (:func:`actadd_direction`).
        batch_size: Rows per forward.
        seed: Recorded in the metadata; for ``pca`` (random orientation), the seed of the pairs' orientation; for
            ``probe``, of the cross-validation folds; for ``actadd``, it chooses the pair:
            ``numpy.random.default_rng(seed).integers(n_pairs)`` (the same pair at every layer; its index in the
            pairs as given is recorded as ``extra["pair"]``). Unused by ``mean_diff``.
        model_id: Identifier stored in the metadata (default: the ``LoadedModel``'s name, else
            ``model.config.name_or_path``).
        orientation: PCA orientation (``"random"`` or ``"symmetric"``), see :func:`pca_direction`; recorded in
            ``extra`` for ``pca``.
        l2: The probe's L2 penalty, see :func:`probe_direction`; recorded in ``extra`` for ``probe``.
        folds: The probe's cross-validation folds (at most the number of pairs); recorded in ``extra`` for ``probe``,
            with the held-out accuracy per layer in :attr:`SteeringVectors.heldout_accuracy`.
        padding_side: See :func:`read_hidden`.
        add_special_tokens: See :func:`read_hidden`.
        extra: Further JSON-serialisable metadata (e.g. ``{"behavior": "harmless"}``).

    Raises:
        ParameterError: (a ``ValueError``) For an unknown ``method``, too few pairs for it (:func:`check_method`), a
            bad ``l2``, ``folds`` or ``seed`` for ``probe``, or a bad ``seed`` for ``actadd``, before any hidden state
            is read.
        ValueError: For any error of the functions above.
    """
    check_method(method)
    if tokenizer is None:
        tokenizer = getattr(model, "tokenizer", None)
    if model_id is None and isinstance(getattr(model, "name", None), str):
        model_id = model.name  # a validation.models.LoadedModel's name
    model = as_module(model)
    pair_list = as_pairs(pairs)
    n = len(pair_list)
    options, recorded, used_seed = _method_options(method, n, seed=seed, orientation=orientation, l2=l2, folds=folds)
    num_layers = len(decoder_layers(model))
    texts = [p.positive for p in pair_list] + [p.negative for p in pair_list]
    hidden = read_hidden(
        model,
        texts,
        resolve_layers(layers, num_layers),
        tokenizer=tokenizer,
        batch_size=batch_size,
        padding_side=padding_side,
        add_special_tokens=add_special_tokens,
    )
    fit = {layer: METHODS[method](h[:n], h[n:], **options) for layer, h in hidden.items()}
    if model_id is None:
        model_id = str(getattr(getattr(model, "config", None), "name_or_path", "") or type(model).__name__)
    return SteeringVectors(
        {layer: f.direction for layer, f in fit.items()},
        model_id,
        method,
        explained_variance={layer: f.explained_variance for layer, f in fit.items()},
        accuracy={layer: f.accuracy for layer, f in fit.items()},
        n_pairs=n,
        dataset_hash=dataset_hash(pair_list),
        seed=used_seed,
        num_layers=num_layers,
        versions=_versions(),
        extra=recorded | dict(extra or {}),
        heldout_accuracy={k: f.heldout_accuracy for k, f in fit.items() if f.heldout_accuracy is not None},
    )
