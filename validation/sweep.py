r"""λ sweeps on a real model: one batched forward runs every :math:`\lambda` of the grid for a group of prompts.

Each function below replicates a prompt once per grid value and puts :math:`\lambda` along the batch dimension
(``steer(model, vectors, lam_rows)`` with one coefficient per row), so a sweep over :math:`G` values of
:math:`\lambda` for :math:`n` prompts costs :math:`\lceil nG/\text{batch}\rceil` forwards instead of :math:`nG`
single-prompt forwards with the hooks re-applied each time (the paper's pattern). Prompts are **left-padded**, so
the last position of every row is its last real token; the steering hook leaves padding untouched.

What is read (the layer convention of :mod:`validation.hooks`):

* :func:`prompt_sweep` -- at the last prompt token, for every (prompt, λ): the output of the final norm (the
  vector :math:`h` the unembedding multiplies; the specification's :math:`\delta_\lambda = h_\lambda - h_0`), the output
  of the last decoder block (pre-norm residual stream), the log-probabilities of chosen token ids over the **full
  vocabulary**, and of each prompt's top-:math:`k` tokens at :math:`\lambda = 0`. Only the last position's logits
  are computed (``logits_to_keep=1``).
* :func:`generate_sweep` -- greedy continuations under steering at every position (``positions="all"``, with the
  KV cache: the prompt and each fed-back generated token are steered); the prompt's keys and values below the
  first steered block are computed once per prompt and shared by its λ rows.
* :func:`choice_sweep` -- the summed log-probability of each answer continuation given its context (the
  choice-likelihood measure; steering at every position, as when the steered model writes the answer).

Every function takes token ids (use :func:`encode`), returns numpy arrays, and reports progress through an
optional callback ``progress(done_rows, total_rows)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from torch import nn

from bounds.errors import ParameterError

from .hooks import _as_module, record, steer
from .kvcache import cache_kwargs, new_cache

if TYPE_CHECKING:
    import torch

__all__ = ["ChunkStore", "PromptSweep", "check_grid", "choice_sweep", "encode", "generate_sweep", "prompt_sweep"]

Progress = Callable[[int, int], None]


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


class ChunkStore:
    """Finished groups of a sweep on disk, one file per group, so that a killed run resumes without recomputing them.

    Each group is written atomically (a temporary file, then :func:`os.replace`): a file is either complete or
    absent, whatever moment the process dies (``kill -9`` included). A group's file records the item indices it
    holds; a rerun with different grouping (another batch size or other prompts) is refused, never mixed.

    Args:
        directory: folder of the group files (created).
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def _path(self, index: int) -> Path:
        return self.dir / f"group-{index:06d}.npz"

    def load(self, index: int, items: np.ndarray) -> dict[str, np.ndarray] | None:
        """The arrays of group ``index`` if it was finished, else ``None``.

        Raises:
            ValueError: the stored group holds other items than ``items`` (a different run in the same folder).
        """
        path = self._path(index)
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        if not np.array_equal(arrays.pop("_items"), items):
            raise ParameterError(
                f"store: {path} holds a group of other items (a run with other prompts or batch size); use a new "
                "folder or delete it"
            )
        return arrays

    def save(self, index: int, items: np.ndarray, arrays: dict[str, np.ndarray]) -> None:
        """Write group ``index`` atomically."""
        path = self._path(index)
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, _items=np.asarray(items), **arrays)
        os.replace(tmp, path)

    def count(self) -> int:
        """Number of finished groups on disk."""
        return len(list(self.dir.glob("group-*.npz"))) - len(list(self.dir.glob("group-*.tmp.npz")))


@dataclass
class PromptSweep:
    r"""Readings at the last prompt token for every (prompt, λ) (:func:`prompt_sweep`).

    Attributes:
        lam: the grid, shape ``(G,)``.
        post: final-norm output :math:`h_\lambda(q)`, ``(n, G, d)``, float32.
        pre: last decoder block's output (pre-norm residual), ``(n, G, d)``.
        ids: the requested token ids, ``(m,)``.
        logprobs: :math:`\log P_\lambda(t\mid q)` over the full vocabulary for ``ids``, ``(n, G, m)``.
        top_ids: each prompt's top-:math:`k` tokens at :math:`\lambda=0`, in decreasing probability, ``(n, k)``.
        top_logprobs: their log-probabilities at every λ, ``(n, G, k)``.
    """

    lam: np.ndarray
    post: np.ndarray
    pre: np.ndarray
    ids: np.ndarray
    logprobs: np.ndarray
    top_ids: np.ndarray
    top_logprobs: np.ndarray

    @property
    def zero(self) -> int:
        """Index of λ = 0 in the grid."""
        return int(np.flatnonzero(self.lam == 0.0)[0])

    def delta(self, which: str = "post") -> np.ndarray:
        r""":math:`\delta_\lambda(q) = h_\lambda(q) - h_0(q)` for ``which`` in ``"post"``/``"pre"``, ``(n, G, d)``."""
        h = {"post": self.post, "pre": self.pre}[which]
        return h - h[:, self.zero : self.zero + 1]

    def arrays(self) -> dict[str, np.ndarray]:
        """The fields as a dict of arrays (for ``np.savez``)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_arrays(cls, arrays: Any) -> PromptSweep:
        """Inverse of :meth:`arrays`."""
        return cls(**{k: np.asarray(arrays[k]) for k in cls.__dataclass_fields__})


def _device(model: Any) -> torch.device:
    return model.get_input_embeddings().weight.device


def _pad_id(tokenizer: Any) -> int:
    pad = getattr(tokenizer, "pad_token_id", None)
    if pad is None:
        pad = getattr(tokenizer, "eos_token_id", None)
    if pad is None:
        raise ParameterError("tokenizer: has neither a pad nor an eos token id to pad with")
    return int(pad)


def _left_pad(rows: Sequence[Sequence[int]], pad_id: int, device: Any) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            ids[i, width - len(r) :] = torch.as_tensor(list(r), dtype=torch.long)
            mask[i, width - len(r) :] = 1
    return ids.to(device), mask.to(device)


def _check_ids(name: str, rows: Sequence[Sequence[int]]) -> None:
    if len(rows) == 0:
        raise ParameterError(f"{name}: no prompt given")
    for i, r in enumerate(rows):
        if len(r) == 0:
            raise ParameterError(f"{name}: prompt {i} has no token")


def _check_batch(batch_size: object) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ParameterError(f"batch_size: expected an integer >= 1, got {batch_size!r}")
    return batch_size


def _groups(lengths: Sequence[int], per: int) -> list[np.ndarray]:
    """Groups of at most ``per`` item indices, items sorted by length (stable) so that a group pads little."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[s : s + per] for s in range(0, len(order), per)]


def _unembed(module: Any, hidden: torch.Tensor) -> torch.Tensor:
    """Logits from final-norm outputs: the output embedding (with its bias, if any), then the final logit
    soft-capping of models that have one (Gemma 2/3: ``cap * tanh(logits / cap)``)."""
    import torch

    head = module.get_output_embeddings()
    logits = head(hidden.to(head.weight.dtype))
    config = getattr(module, "config", None)
    get_text = getattr(config, "get_text_config", None)
    if callable(get_text):
        config = get_text()
    cap = getattr(config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def _last_logits(model: Any, ids: torch.Tensor, mask: torch.Tensor, keep: int) -> torch.Tensor:
    """Logits of the last ``keep`` positions (``logits_to_keep`` when the model accepts it)."""
    try:
        out = model(input_ids=ids, attention_mask=mask, use_cache=False, logits_to_keep=keep)
    except TypeError:  # an architecture without logits_to_keep
        out = model(input_ids=ids, attention_mask=mask, use_cache=False)
    return out.logits[:, -keep:]


class _Skip:
    """Stand-in for a decoder block below the first steered one during a λ pass: returns its input unchanged
    (``inject is None``) or the cached output of that block (the last block below the first steered one)."""

    def __init__(self, inject: Any, tuple_output: bool) -> None:
        self.inject, self.tuple_output = inject, tuple_output

    def __call__(self, hidden_states: Any, *args: Any, **kwargs: Any) -> Any:
        out = hidden_states if self.inject is None else self.inject
        return (out,) if self.tuple_output else out


class _SkipModule(nn.Module):
    def __init__(self, skip: _Skip, original: Any) -> None:
        super().__init__()
        self.skip = skip
        # attributes some stacks read from their blocks (e.g. the attention type of a layer)
        for name in ("attention_type", "layer_idx", "layer_type", "is_sliding"):
            if hasattr(original, name):
                setattr(self, name, getattr(original, name))

    def forward(self, hidden_states: Any, *args: Any, **kwargs: Any) -> Any:
        return self.skip(hidden_states, *args, **kwargs)


def _lambda_rows(
    module: Any, unique: Sequence[Sequence[int]], G: int, pad_id: int, device: Any, first: int
) -> tuple[torch.Tensor, torch.Tensor, AbstractContextManager[Any]]:
    """Input ids and mask of the λ pass (each unique row repeated ``G`` times, consecutively) and the context that
    reuses the unsteered prefix (blocks below ``first``) when ``first > 0``."""
    import torch

    ids_u, mask_u = _left_pad(unique, pad_id, device)
    ids_t, mask = ids_u.repeat_interleave(G, dim=0), mask_u.repeat_interleave(G, dim=0)
    if first <= 0:
        return ids_t, mask, nullcontext()
    prefix = _PrefixReuse(module, first)
    with torch.inference_mode():
        prefix.run(ids_u, mask_u)
    return ids_t, mask, prefix.active(G)


def _first_steered(module: Any, vectors: Any) -> int:
    """Lowest decoder block that ``vectors`` steers (resolved index)."""
    from .hooks import resolve_layers

    keys = vectors.layers if hasattr(vectors, "layers") and not isinstance(vectors, dict) else list(vectors.keys())
    return min(resolve_layers(list(keys), len(_as_layers(module)), name="vectors"))


class _PrefixReuse:
    r"""Compute decoder blocks :math:`0..f-1` (below the first steered block :math:`f`) once per distinct row, and
    let the λ pass start at block :math:`f` from that cached state.

    Exact: those blocks see no steering, so their output does not depend on λ. ``run(unique_ids, unique_mask)``
    runs the prefix pass (stopping after block :math:`f-1`); inside ``active(repeat)`` blocks :math:`0..f-2` are
    replaced by identities and block :math:`f-1` by the cached output repeated ``repeat`` times per row (rows of the
    λ pass are ``[row0 λ0, row0 λ1, ..., row1 λ0, ...]``). The embedding and the rotary tables are still computed
    for the λ pass (cheap); padding and positions are those of the λ pass, which must use the same padding as the
    prefix pass.
    """

    def __init__(self, module: Any, first: int) -> None:
        self.module, self.first = module, first
        self.blocks = _as_layers(module)
        self.cached: Any = None
        self.tuple_output = False

    def run(self, ids: torch.Tensor, mask: torch.Tensor, **forward: Any) -> None:
        """The prefix pass over the distinct rows; ``forward`` overrides keyword arguments of the model's forward
        (e.g. a KV cache from :func:`validation.kvcache.cache_kwargs` and ``use_cache=True`` to keep the prefix
        blocks' keys and values)."""
        from .vectors import _StopForward

        captured: dict[str, Any] = {}

        def stop(mod: Any, args: Any, output: Any) -> None:
            captured["out"] = output
            raise _StopForward

        handle = self.blocks[self.first - 1].register_forward_hook(stop)
        try:
            self.module(input_ids=ids, attention_mask=mask, **({"use_cache": False, "logits_to_keep": 1} | forward))
        except _StopForward:
            pass
        finally:
            handle.remove()
        out = captured["out"]
        self.tuple_output = isinstance(out, tuple)
        self.cached = out[0] if self.tuple_output else out

    def active(self, repeat: int) -> _Swap:
        inject = self.cached.repeat_interleave(repeat, dim=0)
        return _Swap(self.blocks, self.first, inject, self.tuple_output)


class _Swap:
    """Context manager that swaps blocks ``0..first-1`` for :class:`_SkipModule` stand-ins and restores them."""

    def __init__(self, blocks: Any, first: int, inject: Any, tuple_output: bool) -> None:
        self.blocks, self.first, self.inject, self.tuple_output = blocks, first, inject, tuple_output
        self.saved: list[Any] = []

    def __enter__(self) -> None:
        self.saved = [self.blocks[j] for j in range(self.first)]
        for j in range(self.first):
            skip = _Skip(self.inject if j == self.first - 1 else None, self.tuple_output)
            self.blocks[j] = _SkipModule(skip, self.saved[j])

    def __exit__(self, *exc: object) -> None:
        for j, block in enumerate(self.saved):
            self.blocks[j] = block


def _prompt_group(
    module: Any,
    rows: list[Sequence[int]],
    vectors: Any,
    grid: np.ndarray,
    G: int,
    zero: int,
    pad_id: int,
    device: Any,
    first: int,
    last: int,
    id_t: torch.Tensor,
    top_k: int,
) -> dict[str, np.ndarray]:
    """One forward of ``len(rows) * G`` rows: the readings of :func:`prompt_sweep` for these prompts."""
    import torch

    g = len(rows)
    lam_rows = torch.as_tensor(np.tile(grid, g), dtype=torch.float32)
    ids_t, mask, swap = _lambda_rows(module, rows, G, pad_id, device, first)
    with (
        torch.inference_mode(),
        steer(module, vectors, lam_rows),
        record(module, [last], keep="last_real") as rec,
        swap,
    ):
        logits = _last_logits(module, ids_t, mask, 1)[:, -1]
    lp = torch.log_softmax(logits.float(), dim=-1).view(g, G, -1)
    out = {
        "post": rec.final_norm[0].view(g, G, -1).numpy(),
        "pre": rec.layer(last).view(g, G, -1).numpy(),
        "logprobs": lp[:, :, id_t].cpu().numpy(),
    }
    if top_k:
        top = torch.topk(lp[:, zero], top_k, dim=-1).indices  # (g, k), decreasing
        out["top_ids"] = top.cpu().numpy()
        out["top_lp"] = torch.gather(lp, 2, top[:, None, :].expand(-1, G, -1)).cpu().numpy()
    return out


def prompt_sweep(
    model: Any,
    prompts: Sequence[Sequence[int]],
    vectors: Any,
    lam: object,
    *,
    ids: Sequence[int] = (),
    top_k: int = 0,
    batch_size: int = 32,
    pad_id: int | None = None,
    progress: Progress | None = None,
    reuse_prefix: bool = True,
    store: ChunkStore | None = None,
) -> PromptSweep:
    r"""Run every λ of the grid on every prompt and read the last prompt token (module docstring).

    Args:
        model: A causal LM or ``LoadedModel`` (its tokenizer supplies ``pad_id`` when not given).
        prompts: Token ids per prompt (:func:`encode`).
        vectors: ``{layer: vector}`` or ``SteeringVectors`` (unit-normalised by :func:`validation.hooks.steer`).
        lam: The grid (:func:`check_grid`: must contain 0).
        ids: Token ids whose log-probabilities to keep.
        top_k: How many of each prompt's most likely tokens at λ = 0 to follow, integer ``>= 0``.
        batch_size: Rows (prompt × λ pairs) per forward, ``>= 1``; a group of ``max(1, batch_size // G)`` prompts
            runs with all its λ values together.
        pad_id: Padding token id (default: the tokenizer's pad, else eos).
        progress: ``progress(done_rows, total_rows)`` after each forward.
        reuse_prefix: compute the blocks below the first steered one once per prompt and start every λ row from
            that state (exact; see :class:`_PrefixReuse`); ``False`` runs the whole model on every row.
        store: a :class:`ChunkStore`: finished groups are written there and reused by a rerun (resume after a kill).

    Returns:
        :class:`PromptSweep`.
    """
    import torch

    grid = check_grid(lam)
    _check_ids("prompts", prompts)
    batch_size = _check_batch(batch_size)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise ParameterError(f"top_k: expected an integer >= 0, got {top_k!r}")
    tokenizer = getattr(model, "tokenizer", None)
    module = _as_module(model)
    if pad_id is None:
        pad_id = _pad_id(tokenizer)
    vocab = module.get_output_embeddings().weight.shape[0]
    id_arr = np.asarray(list(ids), dtype=np.int64)
    if id_arr.size and (id_arr.min() < 0 or id_arr.max() >= vocab):
        raise ParameterError(f"ids: token ids must lie in [0, {vocab - 1}], got {id_arr.tolist()}")
    if top_k > vocab:
        raise ParameterError(f"top_k: at most the vocabulary size {vocab}, got {top_k}")
    n, G = len(prompts), grid.size
    zero = int(np.flatnonzero(grid == 0.0)[0])
    device = _device(module)
    post = pre = None
    logprobs = np.zeros((n, G, id_arr.size), dtype=np.float32)
    top_ids = np.zeros((n, top_k), dtype=np.int64)
    top_lp = np.zeros((n, G, top_k), dtype=np.float32)
    last = len(_as_layers(module)) - 1
    done = 0
    id_t = torch.as_tensor(id_arr, device=device)
    first = _first_steered(module, vectors) if reuse_prefix else 0
    for gi, group in enumerate(_groups([len(p) for p in prompts], max(1, batch_size // G))):
        part = store.load(gi, group) if store is not None else None
        if part is None:
            part = _prompt_group(
                module, [prompts[i] for i in group], vectors, grid, G, zero, pad_id, device, first, last, id_t, top_k
            )
            if store is not None:
                store.save(gi, group, part)
        if post is None:
            d = part["post"].shape[-1]
            post, pre = np.zeros((n, G, d), np.float32), np.zeros((n, G, d), np.float32)
        post[group], pre[group] = part["post"], part["pre"]
        if id_arr.size:
            logprobs[group] = part["logprobs"]
        if top_k:
            top_ids[group], top_lp[group] = part["top_ids"], part["top_lp"]
        done += len(group) * G
        if progress is not None:
            progress(done, n * G)
    assert post is not None and pre is not None
    return PromptSweep(grid, post, pre, id_arr, logprobs, top_ids, top_lp)


def _as_layers(module: Any) -> Any:
    """The model's own ``ModuleList`` of decoder blocks (not a copy: :class:`_Swap` replaces entries in it)."""
    from .models import decoder_layers

    return decoder_layers(module)


def _generation_positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids of left-padded rows as ``generate`` forms them: ``cumsum(mask) - 1`` (0 on padding, which no
    real token attends to)."""
    return (mask.long().cumsum(-1) - 1).clamp_min(0)


def _prefilled_cache(
    module: Any, ids_u: torch.Tensor, mask_u: torch.Tensor, G: int, first: int
) -> tuple[Any, AbstractContextManager[Any]] | None:
    """The KV cache of the λ rows for all prompt tokens but the last, blocks below ``first`` filled from one
    unsteered pass over the distinct rows, and the context in which the λ pass fills the blocks from ``first`` on.

    Returns ``None`` (the caller then runs plain ``generate``) for a prompt of one token or a cache without
    per-layer objects (a transformers version before ``Cache.layers``).
    """
    T = ids_u.shape[1]
    n_layers = len(_as_layers(module))
    prefix_cache = new_cache(module)
    if T < 2 or len(getattr(prefix_cache, "layers", ())) != n_layers:
        return None
    m = mask_u[:, : T - 1]
    prefix = _PrefixReuse(module, first)
    prefix.run(
        ids_u[:, : T - 1],
        m,
        position_ids=_generation_positions(m),
        use_cache=True,
        **cache_kwargs(module, prefix_cache),
    )
    for j in range(first):
        prefix_cache.layers[j].batch_repeat_interleave(G)  # row r of the λ pass is distinct row r // G
    return prefix_cache, prefix.active(G)


def _lambda_cache(
    module: Any, prefilled: tuple[Any, AbstractContextManager[Any]], ids_t: torch.Tensor, mask: torch.Tensor, first: int
) -> Any:
    """Run the λ rows' prompt minus its last token through blocks ``first..L-1`` (under the caller's steering) and
    return their KV cache with the blocks below ``first`` taken from the prefix pass of :func:`_prefilled_cache`."""
    prefix_cache, swap = prefilled
    cache = new_cache(module)
    T = ids_t.shape[1]
    m = mask[:, : T - 1]
    with swap:  # blocks below `first` are stand-ins: they leave their cache layers empty
        module(
            input_ids=ids_t[:, : T - 1],
            attention_mask=m,
            position_ids=_generation_positions(m),
            use_cache=True,
            logits_to_keep=1,
            **cache_kwargs(module, cache),
        )
    for j in range(first):
        cache.layers[j] = prefix_cache.layers[j]
    return cache


def _generate_group(
    module: Any,
    rows: Sequence[Sequence[int]],
    vectors: Any,
    grid: np.ndarray,
    pad_id: int,
    device: Any,
    first: int,
    **generate: Any,
) -> torch.Tensor:
    r"""Greedy steered continuations of ``rows`` at every λ of ``grid`` (rows ``[row0 λ0, row0 λ1, ...]``): the new
    token ids, shape ``(len(rows) * G, new)``, on the CPU.

    With ``first > 0`` (the lowest steered block) the prompt minus its last token is read in two passes before
    ``generate`` continues from the cache: blocks :math:`0..f-1` once per distinct prompt (their keys, values and
    output do not depend on λ), then blocks :math:`f..L-1` once per λ row from that output; the cached keys and values
    of blocks below :math:`f` are repeated for the λ rows. ``generate`` then reads the last prompt token and
    generates as usual (transformers continues a generation from a given cache when ``input_ids`` hold the whole
    sequence). Position ids are those ``generate`` uses for left padding, so the cache equals the one a plain
    ``generate`` builds up to floating-point summation order.
    """
    import torch

    G = grid.size
    lam_rows = torch.as_tensor(np.tile(grid, len(rows)), dtype=torch.float32)
    ids_u, mask_u = _left_pad(rows, pad_id, device)
    ids_t, mask = ids_u.repeat_interleave(G, dim=0), mask_u.repeat_interleave(G, dim=0)
    T = ids_t.shape[1]
    with torch.inference_mode():
        prefilled = _prefilled_cache(module, ids_u, mask_u, G, first) if first > 0 else None
        with steer(module, vectors, lam_rows, positions="all"):
            cache = _lambda_cache(module, prefilled, ids_t, mask, first) if prefilled is not None else None
            out = module.generate(
                input_ids=ids_t,
                attention_mask=mask,
                do_sample=False,
                pad_token_id=pad_id,
                use_cache=True,
                **({} if cache is None else cache_kwargs(module, cache)),
                **generate,
            )
    return out[:, T:].cpu()


def generate_sweep(
    model: Any,
    prompts: Sequence[Sequence[int]],
    vectors: Any,
    lam: object,
    *,
    max_new_tokens: int = 32,
    batch_size: int = 32,
    pad_id: int | None = None,
    progress: Progress | None = None,
    reuse_prefix: bool = True,
    store: ChunkStore | None = None,
) -> list[list[str]]:
    """Greedy continuation of every prompt at every λ, steered at every position (prompt and generated tokens).

    With ``reuse_prefix`` the prompt's keys and values in the blocks below the first steered one are computed once
    per prompt and shared by its λ rows (exact: those blocks see no steering while the prompt is read); see
    :func:`_generate_group`. The generated tokens themselves differ between λ rows and run through every block.

    Args:
        model: A ``LoadedModel`` (or a model, then its tokenizer must be reachable as ``model.tokenizer``).
        prompts, vectors, lam, batch_size, pad_id, progress: As in :func:`prompt_sweep`.
        max_new_tokens: Tokens to generate, integer ``>= 1``.
        reuse_prefix: share the unsteered prompt's KV cache below the first steered block (``False``: every row
            runs its prompt through the whole model).
        store: as in :func:`prompt_sweep`.

    Returns:
        ``texts[i][g]``: the decoded continuation of prompt ``i`` at ``lam[g]`` (special tokens removed).
    """

    grid = check_grid(lam)
    _check_ids("prompts", prompts)
    batch_size = _check_batch(batch_size)
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ParameterError(f"max_new_tokens: expected an integer >= 1, got {max_new_tokens!r}")
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None:
        raise ParameterError("model: generate_sweep needs the tokenizer (pass a validation.models.LoadedModel)")
    module = _as_module(model)
    if pad_id is None:
        pad_id = _pad_id(tokenizer)
    n, G = len(prompts), grid.size
    device = _device(module)
    texts: list[list[str]] = [["" for _ in range(G)] for _ in range(n)]
    done = 0
    first = _first_steered(module, vectors) if reuse_prefix else 0
    for gi, group in enumerate(_groups([len(p) for p in prompts], max(1, batch_size // G))):
        part = store.load(gi, group) if store is not None else None
        if part is None:
            rows = [prompts[i] for i in group]
            new = _generate_group(module, rows, vectors, grid, pad_id, device, first, max_new_tokens=max_new_tokens)
            decoded = [tokenizer.decode(seq, skip_special_tokens=True) for seq in new]
            part = {"texts": np.array(decoded, dtype=str).reshape(len(group), G)}
            if store is not None:
                store.save(gi, group, part)
        for r, i in enumerate(group):
            texts[int(i)] = [str(t) for t in part["texts"][r]]
        done += len(group) * G
        if progress is not None:
            progress(done, n * G)
    return texts


def _choice_group(
    module: Any,
    contexts: Sequence[Sequence[int]],
    continuations: Sequence[Sequence[Sequence[int]]],
    keys: list[tuple[int, int, int]],
    group: np.ndarray,
    C: int,
    G: int,
    grid: np.ndarray,
    lengths: np.ndarray,
    vectors: Any,
    pad_id: int,
    device: Any,
    first: int,
) -> np.ndarray:
    """Summed continuation log-probabilities of one forward, one value per ``keys`` row."""
    import torch

    unique = [list(contexts[i]) + list(continuations[i][c]) for i in group for c in range(C)]
    lam_rows = torch.as_tensor([grid[g] for _, _, g in keys], dtype=torch.float32)
    ids_t, mask, swap = _lambda_rows(module, unique, G, pad_id, device, first)
    T = ids_t.shape[1]
    with (
        torch.inference_mode(),
        steer(module, vectors, lam_rows, positions="all"),
        record(module, [-1], keep="all") as rec,
        swap,
    ):
        _last_logits(module, ids_t, mask, 1)
        # logits only where a continuation token is predicted: position t predicts token t + 1
        h = rec.final_norm[0]
        rows_idx = torch.cat([torch.full((int(lengths[i, c]),), r) for r, (i, c, _) in enumerate(keys)])
        pos_idx = torch.cat([torch.arange(T - 1 - int(lengths[i, c]), T - 1) for i, c, _ in keys])
        logits = _unembed(module, h[rows_idx, pos_idx].to(device))
        lp = torch.log_softmax(logits.float(), dim=-1)
        tok_lp = lp.gather(1, ids_t[rows_idx, pos_idx + 1].to(lp.device)[:, None])[:, 0].cpu().numpy()
    starts = np.cumsum([0] + [int(lengths[i, c]) for i, c, _ in keys])
    return np.add.reduceat(tok_lp.astype(np.float64), starts[:-1])


def choice_sweep(
    model: Any,
    contexts: Sequence[Sequence[int]],
    continuations: Sequence[Sequence[Sequence[int]]],
    vectors: Any,
    lam: object,
    *,
    batch_size: int = 32,
    pad_id: int | None = None,
    progress: Progress | None = None,
    reuse_prefix: bool = True,
    store: ChunkStore | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Summed log-probability :math:`\sum_t\log P_\lambda(c_t\mid x, c_{<t})` of each continuation at each λ.

    Args:
        model: A causal LM or ``LoadedModel``.
        contexts: Token ids of each item's context (question/goal), ``n`` items.
        continuations: ``continuations[i][c]``: token ids of choice ``c`` of item ``i`` (same number of choices for
            every item, each non-empty).
        vectors, lam, batch_size, pad_id, progress, reuse_prefix, store: As in :func:`prompt_sweep`.

    Returns:
        ``(logprob_sums, lengths)``: shapes ``(n, G, C)`` and ``(n, C)`` (continuation lengths in tokens).
    """

    grid = check_grid(lam)
    _check_ids("contexts", contexts)
    batch_size = _check_batch(batch_size)
    if len(continuations) != len(contexts):
        raise ParameterError(f"continuations: {len(continuations)} items for {len(contexts)} contexts")
    C = len(continuations[0]) if continuations else 0
    for i, cs in enumerate(continuations):
        if len(cs) != C or C < 2:
            raise ParameterError(f"continuations: item {i} has {len(cs)} choices, expected the same number >= 2")
        for c, toks in enumerate(cs):
            if len(toks) == 0:
                raise ParameterError(f"continuations: choice {c} of item {i} has no token")
    tokenizer = getattr(model, "tokenizer", None)
    module = _as_module(model)
    if pad_id is None:
        pad_id = _pad_id(tokenizer)
    n, G = len(contexts), grid.size
    device = _device(module)
    sums = np.zeros((n, G, C), dtype=np.float64)
    lengths = np.array([[len(c) for c in cs] for cs in continuations], dtype=np.int64)
    done = 0
    totals = [len(contexts[i]) + max(len(c) for c in continuations[i]) for i in range(n)]
    first = _first_steered(module, vectors) if reuse_prefix else 0
    for gi, group in enumerate(_groups(totals, max(1, batch_size // (G * C)))):
        keys = [(i, c, g) for i in group for c in range(C) for g in range(G)]
        part = store.load(gi, group) if store is not None else None
        if part is None:
            part = {
                "sums": _choice_group(
                    module, contexts, continuations, keys, group, C, G, grid, lengths, vectors, pad_id, device, first
                )
            }
            if store is not None:
                store.save(gi, group, part)
        for r, (i, c, g) in enumerate(keys):
            sums[i, g, c] = float(part["sums"][r])
        done += len(keys)
        if progress is not None:
            progress(done, n * G * C)
    return sums, lengths
