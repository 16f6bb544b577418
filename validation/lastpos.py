r"""The exact last-token fast path of the sweeps (``positions="last"``): the vector is added from the last prompt token
on, so everything before it is the unsteered model and is read once per prompt.

The prompt minus its last token runs once per distinct prompt through every block, unsteered, with a KV cache
(:func:`prefill`); the cache is repeated along the batch for the λ rows (``Cache.batch_repeat_interleave``), and each
λ row then runs only the tokens from the last prompt token on, under ``steer(..., positions="all")``: exactly the
per-row forward with the vector added from the last prompt position on, up to floating-point summation order. Rows of
a λ pass are ``[row0 λ0, row0 λ1, ..., row1 λ0, ...]``. Position ids are those ``generate`` uses for left padding,
``cumsum(mask) - 1``, and the attention mask of a λ pass spans the cached and the new positions
(``docs/api/validation-sweep.md``). torch is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bounds.errors import ParameterError

from . import _batch
from .kvcache import cache_kwargs, new_cache

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "SWEEP_POSITIONS",
    "check_positions",
    "choice_inputs",
    "forward",
    "generation_cache",
    "generation_positions",
    "prefill",
    "prompt_inputs",
]

SWEEP_POSITIONS = ("all", "last")
"""Where a sweep adds the vector: ``"all"``, every position (the paper's); ``"last"``, from the last prompt token on
(the last prompt token, then every generated or scored continuation token)."""


def check_positions(positions: object) -> str:
    """``positions`` checked against :data:`SWEEP_POSITIONS` (``ParameterError`` naming it otherwise)."""
    if not isinstance(positions, str) or positions not in SWEEP_POSITIONS:
        raise ParameterError(f"positions: expected one of {list(SWEEP_POSITIONS)}, got {positions!r}")
    return positions


def generation_positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids of left-padded rows as ``generate`` forms them: ``cumsum(mask) - 1`` (0 on padding, which no
    real token attends to)."""
    return (mask.long().cumsum(-1) - 1).clamp_min(0)


def forward(module: Any, **inputs: Any) -> torch.Tensor:
    """The model's forward on ``inputs``; the logits of the last position, ``(batch, V)`` (``logits_to_keep=1`` when
    the model accepts it)."""
    try:
        out = module(**inputs, logits_to_keep=1)
    except TypeError:  # an architecture without logits_to_keep
        out = module(**inputs)
    return out.logits[:, -1]


def prefill(module: Any, ids: torch.Tensor, mask: torch.Tensor, repeat: int) -> Any:
    """The unsteered KV cache of ``ids`` (all blocks; left-padded rows, ``mask`` their attention mask), each row
    repeated ``repeat`` times consecutively; ``None`` when ``ids`` has no column (nothing to cache)."""
    if ids.shape[1] == 0:
        return None
    cache = new_cache(module)
    inputs = {"input_ids": ids, "attention_mask": mask, "position_ids": generation_positions(mask)}
    forward(module, **inputs, use_cache=True, **cache_kwargs(module, cache))
    cache.batch_repeat_interleave(repeat)
    return cache


def _with_cache(module: Any, cache: Any) -> dict[str, Any]:
    """The forward keywords of a λ pass that continues ``cache`` (none when there is no cache)."""
    return {"use_cache": False} if cache is None else {"use_cache": True, **cache_kwargs(module, cache)}


def prompt_inputs(module: Any, rows: Sequence[Sequence[int]], G: int, pad_id: int, device: Any) -> dict[str, Any]:
    """The inputs of the λ pass of a last-token sweep: one token per row (each prompt's last, repeated ``G`` times),
    after the prompts minus their last token have been prefilled (:func:`prefill`).

    Returns:
        Keyword arguments of the model's forward: ``input_ids`` ``(len(rows) * G, 1)``, ``attention_mask`` over the
        cached and the new position, ``position_ids``, and the cache.
    """
    ids_u, mask_u = _batch.pad(rows, pad_id, device)
    T = ids_u.shape[1]
    cache = prefill(module, ids_u[:, : T - 1], mask_u[:, : T - 1], G)
    mask = mask_u.repeat_interleave(G, dim=0)
    return {
        "input_ids": ids_u[:, T - 1 :].repeat_interleave(G, dim=0),
        "attention_mask": mask,
        "position_ids": generation_positions(mask)[:, T - 1 :],
        **_with_cache(module, cache),
    }


def choice_inputs(
    module: Any,
    contexts: Sequence[Sequence[int]],
    continuations: Sequence[Sequence[Sequence[int]]],
    G: int,
    pad_id: int,
    device: Any,
) -> dict[str, Any]:
    """The inputs of the λ pass of a last-token choice sweep: per (item, choice, λ) row, the last context token and
    the continuation, **right-padded** after the cached contexts minus their last token (left-padded, prefilled once
    per item and shared by its ``C * G`` rows).

    Args:
        contexts: The group's contexts, ``g`` items (each at least one token).
        continuations: ``continuations[i][c]``: choice ``c`` of item ``i`` (``C`` per item).
        G: λ values per (item, choice).

    Returns:
        Keyword arguments of the model's forward; ``input_ids`` ``(g * C * G, S)``: position ``t`` of a row predicts
        its token ``t + 1``, so continuation token ``t + 1`` is scored at position ``t``.
    """
    import torch

    C = len(continuations[0])
    head, head_mask = _batch.pad([list(c[:-1]) for c in contexts], pad_id, device)
    cache = prefill(module, head, head_mask, C * G)
    tails = [[c[-1], *cont] for c, conts in zip(contexts, continuations, strict=True) for cont in conts]
    ids_n, mask_n = _batch.pad(tails, pad_id, device, side="right")
    start = torch.as_tensor([len(c) - 1 for c in contexts for _ in range(C)], device=device)
    positions = start[:, None] + torch.arange(ids_n.shape[1], device=device)[None, :]
    return {
        "input_ids": ids_n.repeat_interleave(G, dim=0),
        "attention_mask": torch.cat([head_mask.repeat_interleave(C * G, dim=0), mask_n.repeat_interleave(G, dim=0)], 1),
        "position_ids": positions.repeat_interleave(G, dim=0),
        **_with_cache(module, cache),
    }


def generation_cache(module: Any, ids_u: torch.Tensor, mask_u: torch.Tensor, G: int) -> Any:
    """The λ rows' KV cache for every prompt token but the last (unsteered, one pass per distinct prompt, repeated
    ``G`` times); ``None`` for prompts of one token. ``generate`` then continues from it at the last prompt token."""
    T = ids_u.shape[1]
    return prefill(module, ids_u[:, : T - 1], mask_u[:, : T - 1], G)
