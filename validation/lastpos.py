r"""The exact last-token fast path of the sweeps (``positions="last"``): the vector is added from the last prompt token
on, so everything before it is the unsteered model and is read once per prompt.

``prompt_sweep`` runs one **packed pass** per group (:func:`packed_inputs`): per prompt row, the prompt minus its last
token, then its last token ``G`` times along the sequence, every copy at the last token's position id, under a 4-D
additive mask (:func:`packed_mask`) in which copy ``j`` sees the real prefix and itself only, steered with λ_j by a
per-position ``lam`` of :func:`validation.hooks.steer`: no KV cache, nothing replicated. ``choice_sweep`` and
``generate_sweep`` run the prompt minus its last token once, unsteered, with a KV cache (:func:`prefill`) repeated
along the batch for the λ rows (``Cache.batch_repeat_interleave``); each λ row then runs the tokens from the last
prompt token on under ``steer(..., positions="all")``; rows are ``[row0 λ0, row0 λ1, ..., row1 λ0, ...]``. Either is
exactly the per-row forward with the vector added from the last prompt position on, up to floating-point summation
order. Position ids are those ``generate`` uses for left padding, ``cumsum(mask) - 1``
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
    "generation_cache",
    "generation_positions",
    "packed_inputs",
    "packed_mask",
    "prefill",
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


def prefill(module: Any, ids: torch.Tensor, mask: torch.Tensor, repeat: int) -> Any:
    """The unsteered KV cache of ``ids`` (all blocks; left-padded rows, ``mask`` their attention mask), each row
    repeated ``repeat`` times consecutively; ``None`` when ``ids`` has no column (nothing to cache)."""
    if ids.shape[1] == 0:
        return None
    cache = new_cache(module)
    inputs = {"input_ids": ids, "attention_mask": mask, "position_ids": generation_positions(mask)}
    _batch.last_logits(module, **inputs, use_cache=True, **cache_kwargs(module, cache))
    cache.batch_repeat_interleave(repeat)
    return cache


def _with_cache(module: Any, cache: Any) -> dict[str, Any]:
    """The forward keywords of a λ pass that continues ``cache`` (none when there is no cache)."""
    return {"use_cache": False} if cache is None else {"use_cache": True, **cache_kwargs(module, cache)}


def packed_mask(prefix_mask: torch.Tensor, G: int, dtype: torch.dtype) -> torch.Tensor:
    """The additive 4-D attention mask ``(g, 1, P + G, P + G)`` of a packed pass over ``P`` prefix positions (left-
    padded, ``prefix_mask`` ``(g, P)``, 1 where real) followed by ``G`` copies of the last token: a prefix position
    attends causally to the real prefix tokens (and to itself, so that no row is empty); copy ``j`` attends to the
    real prefix tokens and to itself, not to the other copies. 0 where attended, ``torch.finfo(dtype).min``
    elsewhere: what eager attention adds to its scores and what sdpa takes as a float mask (a boolean mask would be
    added as 0/1 by eager attention)."""
    import torch

    g, P = prefix_mask.shape
    device = prefix_mask.device
    real = (prefix_mask != 0)[:, None, :]
    own_p, own_g = torch.eye(P, dtype=torch.bool, device=device), torch.eye(G, dtype=torch.bool, device=device)
    prefix_rows = (torch.ones_like(own_p).tril() & real) | own_p
    seen = torch.cat(
        [
            torch.cat([prefix_rows, prefix_rows.new_zeros((g, P, G))], dim=-1),
            torch.cat([real.expand(g, G, P), own_g.expand(g, G, G)], dim=-1),
        ],
        dim=1,
    )[:, None]
    return torch.zeros(seen.shape, dtype=dtype, device=device).masked_fill(~seen, torch.finfo(dtype).min)


def packed_inputs(
    module: Any, rows: Sequence[Sequence[int]], grid: Sequence[float], pad_id: int, device: Any
) -> tuple[dict[str, Any], torch.Tensor]:
    """The packed pass of a last-token prompt sweep: per prompt row (``g`` rows, left-padded, no repetition), the
    prompt minus its last token (``P`` positions), then its last token ``G = len(grid)`` times along the sequence,
    every copy at the last token's position id, under :func:`packed_mask`; copy ``j`` is steered with ``grid[j]``, the
    prefix not at all. No KV cache: the prefix is computed once, in the same pass.

    Returns:
        Keyword arguments of the model's forward (``input_ids`` ``(g, P + G)``, the 4-D ``attention_mask``,
        ``position_ids``, ``use_cache=False``) and the coefficients of :func:`validation.hooks.steer`, ``(g, P + G)``
        over absolute positions: 0 on the prefix, ``grid`` on the copies.
    """
    import torch

    ids_u, mask_u = _batch.pad(rows, pad_id, device)
    (g, T), G = ids_u.shape, len(grid)
    P = T - 1
    lam = torch.zeros((g, P + G), dtype=torch.float32)
    lam[:, P:] = torch.as_tensor(grid, dtype=torch.float32)
    positions = generation_positions(mask_u)
    inputs = {
        "input_ids": torch.cat([ids_u[:, :P], ids_u[:, P:].repeat(1, G)], dim=1),
        "attention_mask": packed_mask(mask_u[:, :P], G, module.get_input_embeddings().weight.dtype),
        "position_ids": torch.cat([positions[:, :P], positions[:, P:].repeat(1, G)], dim=1),
        "use_cache": False,
    }
    return inputs, lam


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
