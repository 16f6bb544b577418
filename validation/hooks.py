"""Steering injection (:func:`steer`) and activation recording (:func:`record`) on a causal LM's decoder layers,
through forward hooks that are removed when the ``with`` block exits, however it exits.

Layer ``i`` is the **output of decoder block** ``i`` (0-based, negative from the end: :data:`LAYER_CONVENTION`).
Padding, the ``positions`` selections under ``generate(use_cache=True)`` and the mapping onto
``output_hidden_states``: ``docs/api/validation-hooks.md``.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bounds.errors import ParameterError

from . import layout
from .kvcache import cached_positions
from .layout import as_module, decoder_layers

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

__all__ = [
    "LAYER_CONVENTION",
    "POSITIONS",
    "Recording",
    "SteeringHandle",
    "last_real_token_index",
    "num_decoder_layers",
    "record",
    "resolve_layers",
    "steer",
]

LAYER_CONVENTION = "decoder_layer_output"
"""The one layer convention: 0-based decoder-block index, representation = that block's output."""

POSITIONS = ("all", "prompt", "generated")
"""The named position selections of :func:`steer` (a 2-D boolean tensor is also accepted)."""


class _StopForward(Exception):
    """Raised by a hook to skip the rest of a forward pass (the blocks above it and the unembedding)."""


def num_decoder_layers(model: nn.Module) -> int:
    """Number of decoder blocks :math:`L` of ``model``."""
    return len(decoder_layers(model))


def _stack_owner(model: nn.Module, layers: Sequence[nn.Module]) -> nn.Module:
    """The module whose child ``ModuleList`` holds the decoder blocks (``LlamaModel`` for a ``LlamaForCausalLM``): its
    forward receives the attention mask and the cache of each pass. Falls back to ``model``."""
    from torch import nn

    first = layers[0]
    for module in model.modules():
        for child in module.children():
            if isinstance(child, nn.ModuleList) and len(child) > 0 and child[0] is first:
                return module
    return model


def resolve_layers(layers: int | Iterable[int], num_layers: int, *, name: str = "layers") -> list[int]:
    """Resolve (possibly negative) decoder-layer indices to non-negative ones, in the given order.

    Args:
        layers: One index or an iterable of indices; ``-1`` is the last block.
        num_layers: Number of decoder blocks :math:`L`.
        name: Parameter name used in error messages.

    Returns:
        The indices mapped into ``[0, L)``.

    Raises:
        TypeError: If an index is not an integer.
        ValueError: If an index is outside ``[-L, L)``, if two indices name the same block, or if none is given.
    """
    items = [layers] if isinstance(layers, int) else list(layers)
    if not items:
        raise ParameterError(f"{name}: at least one decoder-layer index is required")
    out: list[int] = []
    for i in items:
        if isinstance(i, bool):
            raise TypeError(f"{name}: decoder-layer indices must be integers, got {i!r}")
        try:
            j = operator.index(i)
        except TypeError:
            raise TypeError(f"{name}: decoder-layer indices must be integers, got {i!r}") from None
        if not -num_layers <= j < num_layers:
            raise ParameterError(
                f"{name}: decoder-layer index {j} is out of range for a model with {num_layers} decoder layers "
                f"(valid: {-num_layers}..{num_layers - 1})"
            )
        out.append(j % num_layers)
    if len(set(out)) != len(out):
        raise ParameterError(f"{name}: indices {items} name the same decoder layer twice (resolved: {out})")
    return out


def last_real_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of the last real (mask = 1) token of each row, for left or right padding alike.

    .. math::  \\mathrm{idx}_b = \\max\\{t : m_{b,t} = 1\\}.

    Args:
        attention_mask: ``(batch, T)`` tensor of 0/1 (or bool) values.

    Returns:
        ``(batch,)`` int64 tensor on the mask's device.

    Raises:
        ValueError: If the mask is not 2-D, holds values other than 0/1, or a row has no real token.
    """
    import torch

    if not isinstance(attention_mask, torch.Tensor):
        attention_mask = torch.as_tensor(attention_mask)
    if attention_mask.ndim != 2 or attention_mask.shape[1] == 0:
        raise ParameterError(
            f"attention_mask: expected a (batch, T) tensor with T >= 1, got shape {tuple(attention_mask.shape)}"
        )
    m = attention_mask
    if m.dtype != torch.bool:
        if not bool(((m == 0) | (m == 1)).all()):
            raise ParameterError("attention_mask: values must be 0 or 1")
        m = m != 0
    if not bool(m.any(dim=1).all()):
        rows = torch.nonzero(~m.any(dim=1)).flatten().tolist()
        raise ParameterError(f"attention_mask: rows {rows} have no real token (all padding)")
    t = m.shape[1]
    return (t - 1 - torch.flip(m, dims=[1]).to(torch.int8).argmax(dim=1)).to(torch.int64)


@dataclass
class _PassState:
    past: int = 0
    mask: torch.Tensor | None = None  # 2-D (batch, past + q) mask of this pass, if the forward received one


class _PassTracker:
    """Forward pre-hook on the decoder stack recording, for each pass, the number of cached tokens and the 2-D mask.

    The number of cached tokens is that of the ``transformers.Cache`` among the stack's arguments, whatever keyword
    carries it (:func:`validation.kvcache.cached_positions`); 0 when there is none."""

    def __init__(self, owner: nn.Module):
        self.owner = owner
        self.state = _PassState()
        try:
            self._signature: inspect.Signature | None = inspect.signature(owner.forward)
        except (TypeError, ValueError):  # pragma: no cover - builtins without signature
            self._signature = None
        self.handle = owner.register_forward_pre_hook(self._pre_hook, with_kwargs=True, prepend=True)

    def _pre_hook(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        import torch

        values = dict(kwargs)
        if args and self._signature is not None:
            try:
                values = dict(self._signature.bind_partial(*args, **kwargs).arguments)
            except TypeError:
                values = dict(kwargs)
        mask = values.get("attention_mask")
        if not (isinstance(mask, torch.Tensor) and mask.ndim == 2):
            mask = None  # 4-D custom masks carry no simple padding information
        # The cache is found by its type, not by the keyword that carries it (renamed by transformers 5.25).
        self.state = _PassState(past=cached_positions(values.values()), mask=mask)

    def remove(self) -> None:
        self.handle.remove()


def _current_real(
    state: _PassState, explicit: torch.Tensor | None, batch: int, q: int, device: Any
) -> torch.Tensor | None:
    """Boolean ``(batch, q)`` tensor of real positions of the current pass, or ``None`` when all are real."""
    import torch

    past = state.past
    if explicit is not None:
        mask = explicit
        if mask.shape[0] != batch:
            raise ParameterError(f"attention_mask: batch size {mask.shape[0]} does not match the activations' {batch}")
        cols = mask[:, past : past + q]
        if cols.shape[1] < q:  # positions at or beyond the explicit mask's width are real (generated tokens)
            pad = torch.ones((batch, q - cols.shape[1]), dtype=cols.dtype, device=cols.device)
            cols = torch.cat([cols, pad], dim=1)
        return cols.to(device=device) != 0
    mask = state.mask
    if mask is None:
        return None
    if mask.shape[0] != batch:
        raise RuntimeError(f"steer: the forward's attention mask has {mask.shape[0]} rows but the activations {batch}")
    if mask.shape[1] == past + q:
        cols = mask[:, past:]
    elif mask.shape[1] == q:
        cols = mask
    else:
        raise RuntimeError(
            f"steer: cannot align the attention mask (width {mask.shape[1]}) with {past} cached + {q} new positions"
        )
    return cols.to(device=device) != 0


@dataclass
class SteeringHandle:
    """What :func:`steer` yields: the resolved layers and a log of the passes it steered.

    Attributes:
        layers: Resolved (non-negative) decoder-layer indices being steered.
        calls: One ``(layer, past, q, steered)`` tuple per hook call: the layer, the number of cached tokens on entry
            to the pass, the number of positions in the pass, and whether the pass was steered at all (``False`` when
            ``positions`` excludes it). Padding is applied inside a steered pass and not counted here (counting would
            force a device synchronisation in every hook call).
    """

    layers: tuple[int, ...]
    calls: list[tuple[int, int, int, bool]] = field(default_factory=list)


def _unit_vectors(vectors: Any, num_layers: int, hidden: int | None) -> dict[int, torch.Tensor]:
    import torch

    convention = getattr(vectors, "layer_convention", LAYER_CONVENTION)
    if convention != LAYER_CONVENTION:
        raise ParameterError(
            f"vectors: layer convention {convention!r} is not this module's {LAYER_CONVENTION!r}; convert the indices"
        )
    if hasattr(vectors, "vectors") and not isinstance(vectors, Mapping):
        vectors = vectors.vectors
    if not isinstance(vectors, Mapping) or len(vectors) == 0:
        raise ParameterError("vectors: expected a non-empty mapping {decoder-layer index: vector}")
    keys = list(vectors.keys())
    resolved = resolve_layers(keys, num_layers, name="vectors")
    out: dict[int, torch.Tensor] = {}
    for key, layer in zip(keys, resolved, strict=True):
        v = torch.as_tensor(vectors[key]).detach()
        if v.ndim != 1:
            raise ParameterError(f"vectors[{key}]: expected a 1-D vector, got shape {tuple(v.shape)}")
        if hidden is not None and v.shape[0] != hidden:
            raise ParameterError(f"vectors[{key}]: length {v.shape[0]} does not match the model's hidden size {hidden}")
        v64 = v.to(device="cpu", dtype=torch.float64)
        if not bool(torch.isfinite(v64).all()):
            raise ParameterError(f"vectors[{key}]: contains non-finite values")
        norm = float(torch.linalg.vector_norm(v64))
        if norm == 0.0:
            raise ParameterError(f"vectors[{key}]: the zero vector has no direction")
        out[layer] = (v64 / norm).to(torch.float32)
    return out


def _lambda(lam: Any) -> torch.Tensor:
    import torch

    t = torch.as_tensor(lam, dtype=torch.float32).detach().cpu()
    if t.ndim > 2:
        raise ParameterError(
            "lam: expected a scalar, a 1-D tensor with one value per batch row or a 2-D (batch, T) tensor over "
            f"absolute positions, got shape {tuple(t.shape)}"
        )
    if t.ndim >= 1 and t.numel() == 0:
        raise ParameterError(f"lam: empty tensor (shape {tuple(t.shape)})")
    if not bool(torch.isfinite(t).all()):
        raise ParameterError("lam: must be finite")
    return t


def _hidden_size(model: nn.Module) -> int | None:
    config = getattr(model, "config", None)
    get_text = getattr(config, "get_text_config", None)
    if callable(get_text):
        config = get_text()
    size = getattr(config, "hidden_size", None)
    return int(size) if isinstance(size, int) else None


def _split_output(output: Any) -> tuple[torch.Tensor, Callable[[torch.Tensor], Any]]:
    import torch

    if isinstance(output, torch.Tensor):
        return output, lambda h: h
    if isinstance(output, tuple | list) and output and isinstance(output[0], torch.Tensor):
        rest = tuple(output[1:])
        kind = type(output)
        return output[0], lambda h: kind((h, *rest))
    raise TypeError(f"steer: unsupported decoder-layer output of type {type(output).__name__}")


def _position_delta(
    lam_t: torch.Tensor, unit: torch.Tensor, past: int, q: int, hidden: torch.Tensor, cache: dict, layer: int
) -> torch.Tensor:
    """:math:`\\lambda_{b,t}\\hat v` for the ``q`` positions ``past .. past + q - 1`` of a pass, ``(batch, q, d)`` in
    ``hidden``'s dtype (computed in float32), from a 2-D ``lam_t`` ``(batch, T)`` over absolute positions; columns at
    or beyond ``T`` are 0 (not steered). ``lam_t`` and ``unit`` are moved to the device once (``cache``)."""
    import torch

    key = ("position", layer, hidden.device)
    if key not in cache:
        cache[key] = (lam_t.to(hidden.device), unit.to(hidden.device))
    lam_d, unit_d = cache[key]
    cols = lam_d[:, past : past + q]
    if cols.shape[1] < q:
        cols = torch.cat([cols, cols.new_zeros((cols.shape[0], q - cols.shape[1]))], dim=1)
    return (cols.unsqueeze(-1) * unit_d).to(hidden.dtype)


@contextmanager
def steer(
    model: nn.Module,
    vectors: Mapping[int, Any] | Any,
    lam: float | torch.Tensor = 1.0,
    *,
    positions: str | torch.Tensor = "all",
    attention_mask: torch.Tensor | None = None,
) -> Iterator[SteeringHandle]:
    """Add :math:`\\lambda\\,\\hat v_l` to the output of decoder layers :math:`l` while the ``with`` block runs.

    See ``docs/api/validation-hooks.md`` for the padding rule and the exact meaning of ``positions`` under
    ``generate(use_cache=True)``.

    Args:
        model: A Hugging Face causal LM (or a ``LoadedModel``) whose decoder blocks can be located.
        vectors: ``{layer: vector}`` (negative layers allowed) or a ``SteeringVectors``; each vector is normalised to
            unit norm here, so only its direction matters.
        lam: The coefficient :math:`\\lambda`: a scalar, a 1-D tensor with one value per batch row (row ``b`` of
            every pass gets :math:`\\lambda_b`), which lets one batched forward sweep several :math:`\\lambda`, or a
            2-D ``(batch, T)`` tensor over absolute positions (position ``t`` of row ``b`` gets
            :math:`\\lambda_{b,t}`; positions at or beyond ``T`` get 0, i.e. are not steered), which lets one
            sequence carry several :math:`\\lambda`. ``positions`` and padding still select where it is added.
        positions: ``"all"``, ``"prompt"``, ``"generated"`` or a ``(batch, T)`` boolean tensor over absolute positions.
        attention_mask: Optional ``(batch, T0)`` mask over absolute positions that replaces the mask the forward
            receives when deciding which positions are padding; positions at or beyond ``T0`` count as real.

    Yields:
        A :class:`SteeringHandle` (resolved layers and a per-call log).

    Raises:
        ValueError: For a bad layer index, vector, ``lam``, ``positions`` or mask (at entry), or when a per-row
            ``lam`` or a mask does not match the batch size of a pass (during the forward).

    Example:
        >>> with steer(model, {8: v8, 9: v9}, 4.0, positions="all"):  # doctest: +SKIP
        ...     out = model.generate(**batch, max_new_tokens=32, do_sample=False)
    """
    import torch

    model = as_module(model)
    layers = decoder_layers(model)
    num_layers = len(layers)
    units = _unit_vectors(vectors, num_layers, _hidden_size(model))
    lam_t = _lambda(lam)
    if isinstance(positions, str):
        if positions not in POSITIONS:
            raise ParameterError(
                f"positions: expected one of {POSITIONS} or a (batch, T) boolean tensor, got {positions!r}"
            )
        pos_mask = None
        mode = positions
    else:
        mode = "mask"
        pos_mask = torch.as_tensor(positions)
        if pos_mask.ndim != 2:
            raise ParameterError(f"positions: a position mask must be (batch, T), got shape {tuple(pos_mask.shape)}")
        pos_mask = pos_mask != 0
    if attention_mask is not None:
        attention_mask = torch.as_tensor(attention_mask)
        if attention_mask.ndim != 2:
            raise ParameterError(
                f"attention_mask: expected a (batch, T) tensor, got shape {tuple(attention_mask.shape)}"
            )
    handle = SteeringHandle(layers=tuple(units))
    cache: dict[tuple[int, Any, Any], torch.Tensor] = {}

    def make_hook(layer: int) -> Callable[..., Any]:
        unit = units[layer]

        def hook(module: nn.Module, args: tuple, output: Any) -> Any:
            hidden, rebuild = _split_output(output)
            if hidden.ndim != 3:
                raise ParameterError(
                    f"steer: expected (batch, T, d) activations at layer {layer}, got {tuple(hidden.shape)}"
                )
            batch, q, _ = hidden.shape
            state = tracker.state
            if (mode == "prompt" and state.past > 0) or (mode == "generated" and state.past == 0):
                handle.calls.append((layer, state.past, q, False))
                return None
            key = (layer, hidden.dtype, hidden.device)
            if lam_t.ndim == 2:
                delta = _position_delta(lam_t, unit, state.past, q, hidden, cache, layer)
            else:
                if key not in cache:
                    if lam_t.ndim == 0:
                        delta = (lam_t * unit).view(1, 1, -1)
                    else:
                        delta = (lam_t.view(-1, 1) * unit.view(1, -1)).unsqueeze(1)
                    cache[key] = delta.to(device=hidden.device, dtype=hidden.dtype)
                delta = cache[key]
            if delta.shape[0] != 1 and delta.shape[0] != batch:
                raise ParameterError(
                    f"lam: {delta.shape[0]} per-row values for a batch of {batch} rows at layer {layer}"
                )
            select = _current_real(state, attention_mask, batch, q, hidden.device)
            if pos_mask is not None:
                if pos_mask.shape[0] != batch:
                    raise ParameterError(
                        f"positions: batch size {pos_mask.shape[0]} does not match the activations' {batch}"
                    )
                cols = pos_mask[:, state.past : state.past + q].to(hidden.device)
                if cols.shape[1] < q:
                    cols = torch.cat(
                        [cols, torch.zeros((batch, q - cols.shape[1]), dtype=torch.bool, device=hidden.device)], 1
                    )
                select = cols if select is None else select & cols
            if select is None:
                steered = hidden + delta
            else:
                steered = torch.where(select.unsqueeze(-1), hidden + delta, hidden)
            handle.calls.append((layer, state.past, q, True))
            return rebuild(steered)

        return hook

    hooks = []
    tracker = _PassTracker(_stack_owner(model, layers))
    try:
        for layer in units:
            hooks.append(layers[layer].register_forward_hook(make_hook(layer), prepend=True))
        yield handle
    finally:
        for h in hooks:
            h.remove()
        tracker.remove()
        cache.clear()


@dataclass
class Recording:
    """Activations captured by :func:`record`: detached, float32, on the CPU, one tensor per forward pass.

    Attributes:
        layers: ``{layer: [tensor per pass]}`` with resolved (non-negative) indices; each tensor is ``(batch, T, d)``
            (``keep="all"``) or ``(batch, d)`` (``keep="last_real"``).
        final_norm: The final norm's outputs (post-norm, what the unembedding multiplies), one per pass; empty when
            ``final_norm=False``.
        keep: ``"all"`` or ``"last_real"``.
        num_layers: Number of decoder blocks :math:`L` of the model (to resolve negative indices).
    """

    layers: dict[int, list[torch.Tensor]]
    final_norm: list[torch.Tensor]
    keep: str
    num_layers: int

    def _outputs(self, index: int) -> list[torch.Tensor]:
        resolved = resolve_layers(index, self.num_layers, name="index")[0]
        if resolved not in self.layers:
            raise KeyError(f"index: layer {index} was not recorded (recorded: {sorted(self.layers)})")
        outputs = self.layers[resolved]
        if not outputs:
            raise IndexError(f"index: layer {index} has no recorded pass yet")
        return outputs

    def layer(self, index: int, call: int = -1) -> torch.Tensor:
        """Output of decoder layer ``index`` (negative allowed) in pass ``call`` (default: the last pass)."""
        return self._outputs(index)[call]

    def cat(self, index: int) -> torch.Tensor:
        """Layer ``index`` over all passes, concatenated along the sequence (``keep="all"``: ``(batch, T, d)``) or
        stacked along a new step axis (``keep="last_real"``: ``(batch, n_passes, d)``)."""
        import torch

        parts = self._outputs(index)
        return torch.cat(parts, dim=1) if self.keep == "all" else torch.stack(parts, dim=1)


@contextmanager
def record(
    model: nn.Module,
    layers: int | Iterable[int] | None = None,
    *,
    final_norm: bool = True,
    keep: str = "all",
) -> Iterator[Recording]:
    """Capture decoder-layer outputs (and the final norm's output) while the ``with`` block runs.

    The hooks are appended after any steering hook (those are prepended), so inside :func:`steer` the recorded
    values are the steered ones. Tensors are detached, upcast to float32 and moved to the CPU at once.

    Args:
        model: A Hugging Face causal LM.
        layers: Decoder-layer indices (negative allowed); ``None`` records every layer.
        final_norm: Also record the final norm's output (``hidden_states[L]`` in transformers 5.x).
        keep: ``"all"`` keeps every position; ``"last_real"`` keeps only the last real token of each row of each
            pass (padding-aware: the forward's attention mask decides), which is what the measurements read.

    Yields:
        A :class:`Recording` that fills as forward passes run.

    Raises:
        ValueError: For a bad layer index or ``keep``.
    """
    import torch

    if keep not in ("all", "last_real"):
        raise ParameterError(f"keep: expected 'all' or 'last_real', got {keep!r}")
    model = as_module(model)
    blocks = decoder_layers(model)
    resolved = list(range(len(blocks))) if layers is None else resolve_layers(layers, len(blocks))
    rec = Recording(layers={i: [] for i in resolved}, final_norm=[], keep=keep, num_layers=len(blocks))

    def take(hidden: torch.Tensor) -> torch.Tensor:
        hidden = hidden.detach()
        if keep == "last_real":
            batch, q = hidden.shape[0], hidden.shape[1]
            real = _current_real(tracker.state, None, batch, q, hidden.device)
            idx = (
                torch.full((batch,), q - 1, dtype=torch.int64, device=hidden.device)
                if real is None
                else last_real_token_index(real)
            )
            hidden = hidden[torch.arange(batch, device=hidden.device), idx]
        return hidden.to(device="cpu", dtype=torch.float32)

    def layer_hook(index: int) -> Callable[..., None]:
        def hook(module: nn.Module, args: tuple, output: Any) -> None:
            rec.layers[index].append(take(_split_output(output)[0]))

        return hook

    def norm_hook(module: nn.Module, args: tuple, output: Any) -> None:
        rec.final_norm.append(take(_split_output(output)[0]))

    handles = []
    tracker = _PassTracker(_stack_owner(model, blocks))
    try:
        for i in resolved:
            handles.append(blocks[i].register_forward_hook(layer_hook(i)))
        if final_norm:
            handles.append(layout.final_norm(model).register_forward_hook(norm_hook))
        yield rec
    finally:
        for h in handles:
            h.remove()
        tracker.remove()
