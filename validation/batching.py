"""How many rows (prompt × λ) one forward pass takes: chosen once at the start of a run, then fixed and recorded.

* **CPU**: a token budget per forward (:data:`CPU_TOKEN_BUDGET` = 9216: 48 rows for the default SmolLM2 check, whose
  longest prompt has 189 tokens, the configuration whose run time docs/check.md reports): ``budget //
  longest_prompt`` rows, rounded down to whole λ groups, at least one group.
* **CUDA**: the largest power of two (from ``start`` down) for which a probe forward of the longest prompt succeeds;
  on ``torch.cuda.OutOfMemoryError`` the cache is emptied and the size halved (back-off), down to one row.

The result is a plain integer: a run records it (``report.json``: ``config.batch_size_resolved``) and a rerun with
the recorded value reproduces the chunking exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bounds.errors import SteeringBoundsError

__all__ = ["CPU_TOKEN_BUDGET", "BatchTooLargeError", "choose_batch_size"]

CPU_TOKEN_BUDGET = 9216


class BatchTooLargeError(SteeringBoundsError, RuntimeError):
    """Even one row (one prompt at one λ) of the run's longest prompt runs out of GPU memory."""


def _probe(module: Any, prompt: Sequence[int], rows: int, device: str) -> None:
    import torch

    x = torch.as_tensor([list(prompt)] * rows, device=device)
    with torch.inference_mode():
        module(input_ids=x, use_cache=False, logits_to_keep=1)


def choose_batch_size(
    module: Any,
    longest: Sequence[int],
    group: int,
    *,
    device: str = "cpu",
    start: int = 1024,
    probe: Callable[[Any, Sequence[int], int, str], None] | None = None,
) -> int:
    """Rows per forward for prompts up to ``len(longest)`` tokens swept over ``group`` λ values (module docstring).

    Args:
        module: the causal LM.
        longest: the longest prompt of the run (token ids).
        group: rows that belong together (the λ grid size); the CPU size is a multiple of it.
        device: ``"cpu"`` or a CUDA device.
        start: the first size tried on CUDA (a power of two).
        probe: ``probe(module, prompt, rows, device)`` runs one forward (default: the real one; tests inject a fake).

    Raises:
        ValueError: empty ``longest``, ``group < 1``, ``start < 1``.
        BatchTooLargeError: (a ``RuntimeError``) on CUDA, even one row runs out of memory.
    """
    if len(longest) == 0:
        raise ValueError("longest: the longest prompt has no token")
    if group < 1 or start < 1:
        raise ValueError(f"group and start: expected integers >= 1, got {group} and {start}")
    if not str(device).startswith("cuda"):
        rows = max(1, CPU_TOKEN_BUDGET // len(longest))
        return max(group, rows - rows % group)
    import torch

    probe = probe or _probe
    rows = 1 << (int(start).bit_length() - 1)
    while rows >= 1:
        try:
            probe(module, longest, rows, device)
            return rows
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            rows //= 2
    raise BatchTooLargeError(f"batch_size: even one row of {len(longest)} tokens runs out of memory on {device}")
