"""Batching toolbox of the model code: argument checks, prompt encoding, length groups and padded batches.

torch is imported inside the functions that build tensors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bounds.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "check_grid",
    "check_ids",
    "check_number",
    "encode",
    "groups",
    "input_device",
    "last_logits",
    "pad",
    "pad_id",
]


def check_number(name: str, value: object, minimum: float = 1, *, integer: bool = True) -> Any:
    """``value`` checked as an integer ``>= minimum`` (``integer``, the default) or a finite number ``> minimum``.

    Returns:
        ``int(value)`` or ``float(value)``.

    Raises:
        bounds.errors.ParameterError: (a ``ValueError``) naming ``name`` and the valid range.
    """
    if integer:
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
            raise ParameterError(f"{name}: expected an integer >= {minimum}, got {value!r}")
        return int(value)
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not math.isfinite(x) or x <= minimum:
        raise ParameterError(f"{name}: expected a finite number > {minimum}, got {value!r}")
    return x


def check_grid(lam: object) -> np.ndarray:
    """The λ grid as a float array: 1-D, finite, no repeats, and containing 0 (the unsteered reference).

    Raises:
        bounds.errors.ParameterError: (a ``ValueError``) naming ``lambdas`` and what is wrong.
    """
    try:
        grid = np.asarray(lam, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"lambdas: expected a 1-D grid of numbers, got {lam!r}") from None
    if grid.ndim != 1 or grid.size < 2:
        raise ParameterError(f"lambdas: expected at least 2 values in a 1-D grid, got shape {grid.shape}")
    if not np.all(np.isfinite(grid)):
        raise ParameterError(f"lambdas: every value must be finite, got {grid.tolist()}")
    if np.unique(grid).size != grid.size:
        raise ParameterError(f"lambdas: values must not repeat, got {grid.tolist()}")
    if not np.any(grid == 0.0):
        raise ParameterError(
            f"lambdas: the grid must contain 0 (B0, p0 and delta are measured against lambda = 0), got {grid.tolist()}"
        )
    return grid


def check_ids(name: str, rows: Sequence[Sequence[int]]) -> None:
    """At least one prompt, none empty (``ParameterError`` naming ``name`` otherwise)."""
    if len(rows) == 0:
        raise ParameterError(f"{name}: no prompt given")
    for i, r in enumerate(rows):
        if len(r) == 0:
            raise ParameterError(f"{name}: prompt {i} has no token")


def encode(tokenizer: Any, texts: Sequence[str], *, chat: bool = True, system: str | None = None) -> list[list[int]]:
    """Token ids of each text: as the user turn of the tokenizer's chat template (with the generation prompt) when
    ``chat`` is true and the tokenizer has a template, else as plain text with the tokenizer's special tokens.

    Args:
        tokenizer: A Hugging Face tokenizer.
        texts: The prompts.
        chat: Use the chat template when there is one.
        system: Optional system message (``None``: the template's default, if any).
    """
    use_chat = chat and bool(getattr(tokenizer, "chat_template", None))
    out = []
    for text in texts:
        if use_chat:
            messages = ([{"role": "system", "content": system}] if system is not None else []) + [
                {"role": "user", "content": text}
            ]
            s = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            ids = tokenizer(s, add_special_tokens=False)["input_ids"]
        else:
            ids = tokenizer(text, add_special_tokens=True)["input_ids"]
        if not ids:
            raise ParameterError(f"texts: a text encodes to no token: {text!r}")
        out.append(list(ids))
    return out


def groups(lengths: Sequence[int], per: int) -> list[np.ndarray]:
    """Groups of at most ``per`` item indices, items sorted by length (stable) so that a group pads little."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[s : s + per] for s in range(0, len(order), per)]


def pad_id(tokenizer: Any) -> int:
    """The tokenizer's pad token id, else its eos id (``ParameterError`` when it has neither)."""
    pad = getattr(tokenizer, "pad_token_id", None)
    if pad is None:
        pad = getattr(tokenizer, "eos_token_id", None)
    if pad is None:
        raise ParameterError("tokenizer: has neither a pad nor an eos token id to pad with")
    return int(pad)


def pad(
    rows: Sequence[Sequence[int]], pad_id: int, device: Any = "cpu", *, side: str = "left"
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(input_ids, attention_mask)`` of ``rows`` padded with ``pad_id`` on ``side`` (``"left"``/``"right"``), int64,
    on ``device``."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            cols = slice(width - len(r), None) if side == "left" else slice(0, len(r))
            ids[i, cols] = torch.as_tensor(list(r), dtype=torch.long)
            mask[i, cols] = 1
    return ids.to(device), mask.to(device)


def input_device(model: Any) -> torch.device:
    """Device of the input embeddings (correct under ``device_map="auto"``)."""
    get = getattr(model, "get_input_embeddings", None)
    emb = get() if callable(get) else None
    if emb is not None and getattr(emb, "weight", None) is not None:
        return emb.weight.device
    return next(model.parameters()).device


def last_logits(module: Any, keep: int = 1, **inputs: Any) -> torch.Tensor:
    """The model's forward on ``inputs``; the logits of the last ``keep`` positions, flattened row by row to
    ``(batch * keep, V)`` (``logits_to_keep=keep`` when the model accepts it)."""
    try:
        out = module(**inputs, logits_to_keep=keep)
    except TypeError:  # an architecture without logits_to_keep
        out = module(**inputs)
    return out.logits[:, -keep:].reshape(-1, out.logits.shape[-1])
