r"""λ sweeps on a real model: one batched forward runs every :math:`\lambda` of the grid for a group of prompts.

Prompts are token ids (:func:`validation._batch.encode`), **left-padded**, with :math:`\lambda` along the batch
dimension; results are numpy arrays; progress goes to an optional ``progress(done_rows, total_rows)``. What each
sweep reads: ``docs/api/validation-sweep.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from torch import nn

from bounds._io import ChunkStore
from bounds.errors import ParameterError

from . import _batch, lastpos
from .hooks import _StopForward, record, steer
from .kvcache import cache_kwargs, new_cache
from .layout import as_module, decoder_layers

if TYPE_CHECKING:
    import torch

__all__ = ["PromptSweep", "choice_sweep", "generate_sweep", "kl_reference", "prompt_sweep"]

Progress = Callable[[int, int], None]


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
        kl: :math:`\mathrm{KL}(P_\lambda\Vert P_0)` of the next-token distribution over the full vocabulary,
            ``(n, G)`` float64 (``None`` unless the sweep ran with ``kl=True``).
        var_z: :math:`\operatorname{Var}_{P_0}(z)`, ``z = U\hat\delta`` over the full vocabulary with
            :math:`\delta` read at :func:`kl_reference`'s λ, ``(n,)`` (``None`` as ``kl``; NaN where δ = 0 there).
        z_range: :math:`\max_s z_s-\min_s z_s` of the same ``z``, ``(n,)``.
    """

    lam: np.ndarray
    post: np.ndarray
    pre: np.ndarray
    ids: np.ndarray
    logprobs: np.ndarray
    top_ids: np.ndarray
    top_logprobs: np.ndarray
    kl: np.ndarray | None = None
    var_z: np.ndarray | None = None
    z_range: np.ndarray | None = None

    @property
    def zero(self) -> int:
        """Index of λ = 0 in the grid."""
        return int(np.flatnonzero(self.lam == 0.0)[0])

    def delta(self, which: str = "post") -> np.ndarray:
        r""":math:`\delta_\lambda(q) = h_\lambda(q) - h_0(q)` for ``which`` in ``"post"``/``"pre"``, ``(n, G, d)``."""
        h = {"post": self.post, "pre": self.pre}[which]
        return h - h[:, self.zero : self.zero + 1]

    def arrays(self) -> dict[str, np.ndarray]:
        """The fields as a dict of arrays (for ``np.savez``; the KL fields only when measured)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if getattr(self, k) is not None}

    @classmethod
    def from_arrays(cls, arrays: Any) -> PromptSweep:
        """Inverse of :meth:`arrays`."""
        return cls(**{k: np.asarray(arrays[k]) for k in cls.__dataclass_fields__ if k in arrays})


def kl_reference(grid: np.ndarray) -> int:
    """Index of the λ at which the projections ``z = U δ̂`` of the KL prediction are read: the smallest positive λ
    of the grid (else the first λ ≠ 0), the same λ_ref as Assumption 3's σ on the check's sorted grid."""
    pos = np.flatnonzero(grid > 0)
    return int(pos[np.argmin(grid[pos])]) if pos.size else int(np.flatnonzero(grid != 0.0)[0])


def _kl_rows(lp: torch.Tensor, zero: int) -> torch.Tensor:
    r""":math:`\mathrm{KL}(P_g\Vert P_{\mathrm{zero}})=\sum_sP_g(s)(\log P_g(s)-\log P_{\mathrm{zero}}(s))` for every
    index ``g`` of the first (λ) axis of float64 log-probabilities ``lp`` ``(G, ..., V)``, against index ``zero``;
    shape ``(G, ...)``."""
    import torch

    ref = lp.select(0, zero).unsqueeze(0)
    return torch.sum(torch.exp(lp) * (lp - ref), dim=-1)


def _projection_spread(module: Any, post: torch.Tensor, lp0: torch.Tensor, ref: int, zero: int) -> dict[str, Any]:
    """``var_z`` and ``z_range`` per prompt: ``z = U δ̂`` over the full vocabulary, δ the change of the final-norm
    output at λ index ``ref`` (``post``: ``(g, G, d)``), under ``P_0 = exp(lp0)`` (``lp0``: ``(g, V)`` float64),
    by :func:`bounds.kl.projection_spread`; NaN where δ = 0."""
    from bounds.kl import projection_spread

    W = module.get_output_embeddings().weight.detach()
    delta = (post[:, ref] - post[:, zero]).double()
    norm = delta.norm(dim=-1, keepdim=True)
    z = (delta / norm.clamp_min(1e-300)) @ W.double().T.to(delta.device)
    var, spread = projection_spread(np.exp(lp0.cpu().numpy()), z.cpu().numpy())
    bad = (norm[:, 0] == 0).cpu().numpy()
    return {"var_z": np.where(bad, np.nan, var), "z_range": np.where(bad, np.nan, spread)}


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


class _SkipModule(nn.Module):
    """Stand-in for a decoder block below the first steered one during a λ pass: returns its input unchanged
    (``inject is None``) or the cached output of that block (the last block below the first steered one)."""

    def __init__(self, inject: Any, tuple_output: bool, original: Any) -> None:
        super().__init__()
        self.inject, self.tuple_output = inject, tuple_output
        # attributes some stacks read from their blocks (e.g. the attention type of a layer)
        for name in ("attention_type", "layer_idx", "layer_type", "is_sliding"):
            if hasattr(original, name):
                setattr(self, name, getattr(original, name))

    def forward(self, hidden_states: Any, *args: Any, **kwargs: Any) -> Any:
        out = hidden_states if self.inject is None else self.inject
        return (out,) if self.tuple_output else out


def _lambda_rows(
    module: Any, unique: Sequence[Sequence[int]], G: int, pad_id: int, device: Any, first: int
) -> tuple[torch.Tensor, torch.Tensor, AbstractContextManager[Any]]:
    """Input ids and mask of the λ pass (each unique row repeated ``G`` times, consecutively) and the context that
    reuses the unsteered prefix (blocks below ``first``) when ``first > 0``."""
    import torch

    ids_u, mask_u = _batch.pad(unique, pad_id, device)
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
    return min(resolve_layers(list(keys), len(decoder_layers(module)), name="vectors"))


def _checked(lam: object, name: str, prompts: Sequence[Sequence[int]], batch_size: int) -> tuple[np.ndarray, int]:
    """The checked grid and batch size of a sweep over ``prompts`` (called ``name`` in errors)."""
    grid = _batch.check_grid(lam)
    _batch.check_ids(name, prompts)
    return grid, _batch.check_number("batch_size", batch_size)


def _parts(model: Any, vectors: Any, pad_id: int | None, reuse_prefix: bool) -> tuple[Any, int, Any, int]:
    """``(module, pad_id, input device, first steered block or 0)`` of a sweep; ``pad_id`` defaults to the
    tokenizer's (:func:`validation._batch.pad_id`)."""
    module = as_module(model)
    if pad_id is None:
        pad_id = _batch.pad_id(getattr(model, "tokenizer", None))
    first = _first_steered(module, vectors) if reuse_prefix else 0
    return module, pad_id, _batch.input_device(module), first


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
        self.blocks = decoder_layers(module)
        self.cached: Any = None
        self.tuple_output = False

    def run(self, ids: torch.Tensor, mask: torch.Tensor, **forward: Any) -> None:
        """The prefix pass over the distinct rows; ``forward`` overrides keyword arguments of the model's forward
        (e.g. a KV cache from :func:`validation.kvcache.cache_kwargs` and ``use_cache=True`` to keep the prefix
        blocks' keys and values)."""
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
            inject = self.inject if j == self.first - 1 else None
            self.blocks[j] = _SkipModule(inject, self.tuple_output, self.saved[j])

    def __exit__(self, *exc: object) -> None:
        for j, block in enumerate(self.saved):
            self.blocks[j] = block


def _run_groups(
    groups: Sequence[np.ndarray],
    compute: Callable[[np.ndarray], dict[str, np.ndarray]],
    store: ChunkStore | None,
    progress: Progress | None,
    rows: int,
) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Yield ``(group, arrays)`` per group of items: read from ``store`` when finished there, else ``compute(group)``
    (then saved); ``progress(done_rows, total_rows)`` after each group has been used (``rows`` rows per item)."""
    total, done = rows * sum(len(g) for g in groups), 0
    for gi, group in enumerate(groups):
        part = store.load(gi, group) if store is not None else None
        if part is None:
            part = compute(group)
            if store is not None:
                store.save(gi, group, part)
        yield group, part
        done += len(group) * rows
        if progress is not None:
            progress(done, total)


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
    kl: bool = False,
    positions: str = "all",
) -> dict[str, np.ndarray]:
    """One forward of ``len(rows) * G`` rows (``positions="last"``: one packed pass, per prompt its prefix and ``G``
    copies of its last token, :func:`validation.lastpos.packed_inputs`): the readings of :func:`prompt_sweep` for
    these prompts."""
    import torch

    g = len(rows)
    with torch.inference_mode():
        run, swap, lam, keep = _prompt_pass(module, rows, grid, pad_id, device, first, positions)
        with steer(module, vectors, lam), record(module, [last], keep=keep) as rec, swap:
            logits = run()
    lp = torch.log_softmax(logits.float(), dim=-1).view(g, G, -1)
    post = _lambda_readings(rec.final_norm[0], g, G)
    out = {
        "post": post.numpy(),
        "pre": _lambda_readings(rec.layer(last), g, G).numpy(),
        "logprobs": lp[:, :, id_t].cpu().numpy(),
    }
    if top_k:
        top = torch.topk(lp[:, zero], top_k, dim=-1).indices  # (g, k), decreasing
        out["top_ids"] = top.cpu().numpy()
        out["top_lp"] = torch.gather(lp, 2, top[:, None, :].expand(-1, G, -1)).cpu().numpy()
    if kl:  # in float64 from the logits: small KLs keep their digits, P_0 sums to 1 within 1e-15
        lp64 = torch.log_softmax(logits.double(), dim=-1).view(g, G, -1)
        out["kl"] = _kl_rows(lp64.transpose(0, 1), zero).transpose(0, 1).cpu().numpy()
        out |= _projection_spread(module, post, lp64[:, zero], kl_reference(grid), zero)
    return out


def _lambda_readings(recorded: torch.Tensor, g: int, G: int) -> torch.Tensor:
    """A recorded state of a prompt group's λ pass as ``(g, G, d)``: from ``(g * G, d)`` (the last real token of each
    λ row) or ``(g, S, d)`` (every position of a packed pass, the ``G`` copies last)."""
    return (recorded[:, -G:] if recorded.ndim == 3 else recorded).reshape(g, G, -1)


def _prompt_pass(
    module: Any, rows: list[Sequence[int]], grid: np.ndarray, pad_id: int, device: Any, first: int, positions: str
) -> tuple[Callable[[], torch.Tensor], AbstractContextManager[Any], torch.Tensor, str]:
    """The λ pass of :func:`_prompt_group` (a call returning the logits of every (prompt, λ) row at the last prompt
    token, ``(len(rows) * G, V)``), the context it runs in, its ``lam`` for :func:`validation.hooks.steer` and the
    ``keep`` of :func:`validation.hooks.record` that reads those rows: every prompt token per row (``"all"``, blocks
    below ``first`` reused; λ per row, the last real token), or the packed pass of the prompts minus their last token
    and ``G`` copies of it (``"last"``; λ per position, every position of the pass)."""
    import torch

    G = grid.size
    if positions == "last":
        inputs, lam = lastpos.packed_inputs(module, rows, grid, pad_id, device)
        return lambda: _batch.last_logits(module, G, **inputs), nullcontext(), lam, "all"
    ids_t, mask, swap = _lambda_rows(module, rows, G, pad_id, device, first)
    lam_rows = torch.as_tensor(np.tile(grid, len(rows)), dtype=torch.float32)
    run = partial(_batch.last_logits, module, input_ids=ids_t, attention_mask=mask, use_cache=False)
    return run, swap, lam_rows, "last_real"


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
    kl: bool = False,
    positions: str = "all",
) -> PromptSweep:
    r"""Run every λ of the grid on every prompt and read the last prompt token (``docs/api/validation-sweep.md``).

    Args:
        model: A causal LM or ``LoadedModel`` (its tokenizer supplies ``pad_id`` when not given).
        prompts: Token ids per prompt (:func:`validation._batch.encode`).
        vectors: ``{layer: vector}`` or ``SteeringVectors`` (unit-normalised by :func:`validation.hooks.steer`).
        lam: The grid (:func:`validation._batch.check_grid`: must contain 0).
        ids: Token ids whose log-probabilities to keep.
        top_k: How many of each prompt's most likely tokens at λ = 0 to follow, integer ``>= 0``.
        batch_size: Rows (prompt × λ pairs) per forward, ``>= 1``; a group of ``max(1, batch_size // G)`` prompts
            runs with all its λ values together.
        pad_id: Padding token id (default: the tokenizer's pad, else eos).
        progress: ``progress(done_rows, total_rows)`` after each forward.
        reuse_prefix: compute the blocks below the first steered one once per prompt and start every λ row from
            that state (exact; see :class:`_PrefixReuse`); ``False`` runs the whole model on every row.
        store: a :class:`ChunkStore`: finished groups are written there and reused by a rerun (resume after a kill).
        kl: also measure, inside each group (no full-vocabulary array is kept), the KL of every λ row's next-token
            distribution from the λ = 0 row, and ``var_z``/``z_range`` of ``z = U δ̂`` at :func:`kl_reference`
            (:class:`PromptSweep`'s ``kl``, ``var_z``, ``z_range``).
        positions: where the vector is added (:data:`validation.lastpos.SWEEP_POSITIONS`): ``"all"``, every prompt
            token (the paper's); ``"last"``, the last prompt token only, by the exact fast path of
            :mod:`validation.lastpos`: one pass per group, each prompt minus its last token once (unsteered) and
            then its last token ``G`` times along the sequence, copy ``j`` seeing the prefix and itself and steered
            with λ_j; ``reuse_prefix`` has no effect there.

    Returns:
        :class:`PromptSweep`.
    """
    import torch

    grid, batch_size = _checked(lam, "prompts", prompts, batch_size)
    top_k = _batch.check_number("top_k", top_k, 0)
    positions = lastpos.check_positions(positions)
    module, pad_id, device, first = _parts(model, vectors, pad_id, reuse_prefix)
    vocab = module.get_output_embeddings().weight.shape[0]
    id_arr = np.asarray(list(ids), dtype=np.int64)
    if id_arr.size and (id_arr.min() < 0 or id_arr.max() >= vocab):
        raise ParameterError(f"ids: token ids must lie in [0, {vocab - 1}], got {id_arr.tolist()}")
    if top_k > vocab:
        raise ParameterError(f"top_k: at most the vocabulary size {vocab}, got {top_k}")
    n, G = len(prompts), grid.size
    zero = int(np.flatnonzero(grid == 0.0)[0])
    post = pre = None
    logprobs = np.zeros((n, G, id_arr.size), dtype=np.float32)
    top_ids = np.zeros((n, top_k), dtype=np.int64)
    top_lp = np.zeros((n, G, top_k), dtype=np.float32)
    last = len(decoder_layers(module)) - 1
    id_t = torch.as_tensor(id_arr, device=device)
    kl_arrays = {"kl": np.zeros((n, G)), "var_z": np.zeros(n), "z_range": np.zeros(n)} if kl else {}

    def compute(group: np.ndarray) -> dict[str, np.ndarray]:
        rows = [prompts[i] for i in group]
        args = (grid, G, zero, pad_id, device, first, last, id_t, top_k, kl, positions)
        return _prompt_group(module, rows, vectors, *args)

    groups = _batch.groups([len(p) for p in prompts], max(1, batch_size // G))
    for group, part in _run_groups(groups, compute, store, progress, G):
        if post is None:
            d = part["post"].shape[-1]
            post, pre = np.zeros((n, G, d), np.float32), np.zeros((n, G, d), np.float32)
        post[group], pre[group] = part["post"], part["pre"]
        if id_arr.size:
            logprobs[group] = part["logprobs"]
        if top_k:
            top_ids[group], top_lp[group] = part["top_ids"], part["top_lp"]
        for key, arr in kl_arrays.items():
            arr[group] = part[key]
    assert post is not None and pre is not None
    return PromptSweep(grid, post, pre, id_arr, logprobs, top_ids, top_lp, **kl_arrays)


def _prefilled_cache(
    module: Any, ids_u: torch.Tensor, mask_u: torch.Tensor, G: int, first: int
) -> tuple[Any, AbstractContextManager[Any]] | None:
    """The KV cache of the λ rows for all prompt tokens but the last, blocks below ``first`` filled from one
    unsteered pass over the distinct rows, and the context in which the λ pass fills the blocks from ``first`` on.

    Returns ``None`` (the caller then runs plain ``generate``) for a prompt of one token or a cache without
    per-layer objects (a transformers version before ``Cache.layers``).
    """
    T = ids_u.shape[1]
    n_layers = len(decoder_layers(module))
    prefix_cache = new_cache(module)
    if T < 2 or len(getattr(prefix_cache, "layers", ())) != n_layers:
        return None
    m = mask_u[:, : T - 1]
    prefix = _PrefixReuse(module, first)
    prefix.run(
        ids_u[:, : T - 1],
        m,
        position_ids=lastpos.generation_positions(m),
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
            position_ids=lastpos.generation_positions(m),
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
    positions: str = "all",
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

    With ``positions="last"`` the prompt minus its last token is read once per distinct prompt through every block,
    unsteered (:func:`validation.lastpos.generation_cache`), and ``generate`` continues from that cache under
    steering: the vector is added at the last prompt token and at every generated one.
    """
    import torch

    G = grid.size
    lam_rows = torch.as_tensor(np.tile(grid, len(rows)), dtype=torch.float32)
    ids_u, mask_u = _batch.pad(rows, pad_id, device)
    ids_t, mask = ids_u.repeat_interleave(G, dim=0), mask_u.repeat_interleave(G, dim=0)
    T = ids_t.shape[1]
    with torch.inference_mode():
        last = positions == "last"
        prefilled = _prefilled_cache(module, ids_u, mask_u, G, first) if first > 0 and not last else None
        cache = lastpos.generation_cache(module, ids_u, mask_u, G) if last else None  # unsteered, before steer
        with steer(module, vectors, lam_rows, positions="all"):
            if prefilled is not None:
                cache = _lambda_cache(module, prefilled, ids_t, mask, first)
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
    positions: str = "all",
) -> list[list[str]]:
    """Greedy continuation of every prompt at every λ, steered at every position (prompt and generated tokens), or
    from the last prompt token on (``positions="last"``).

    Args:
        model: A ``LoadedModel`` (or a model, then its tokenizer must be reachable as ``model.tokenizer``).
        prompts, vectors, lam, batch_size, pad_id, progress: As in :func:`prompt_sweep`.
        max_new_tokens: Tokens to generate, integer ``>= 1``.
        reuse_prefix: share the unsteered prompt's KV cache below the first steered block (``False``: every row
            runs its prompt through the whole model).
        store: as in :func:`prompt_sweep`.
        positions: ``"all"`` (every prompt and generated token) or ``"last"`` (the last prompt token and every
            generated one; the prompt minus its last token is read once per prompt, unsteered, and its KV cache is
            shared by the λ rows; ``reuse_prefix`` has no effect there).

    Returns:
        ``texts[i][g]``: the decoded continuation of prompt ``i`` at ``lam[g]`` (special tokens removed).
    """
    grid, batch_size = _checked(lam, "prompts", prompts, batch_size)
    max_new_tokens = _batch.check_number("max_new_tokens", max_new_tokens)
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None:
        raise ParameterError("model: generate_sweep needs the tokenizer (pass a validation.models.LoadedModel)")
    positions = lastpos.check_positions(positions)
    module, pad_id, device, first = _parts(model, vectors, pad_id, reuse_prefix)
    n, G = len(prompts), grid.size
    texts: list[list[str]] = [["" for _ in range(G)] for _ in range(n)]

    def compute(group: np.ndarray) -> dict[str, np.ndarray]:
        rows = [prompts[i] for i in group]
        new = _generate_group(
            module, rows, vectors, grid, pad_id, device, first, positions, max_new_tokens=max_new_tokens
        )
        decoded = [tokenizer.decode(seq, skip_special_tokens=True) for seq in new]
        return {"texts": np.array(decoded, dtype=str).reshape(len(group), G)}

    groups = _batch.groups([len(p) for p in prompts], max(1, batch_size // G))
    for group, part in _run_groups(groups, compute, store, progress, G):
        for r, i in enumerate(group):
            texts[int(i)] = [str(t) for t in part["texts"][r]]
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
    kl: bool = False,
    positions: str = "all",
) -> dict[str, np.ndarray]:
    """One forward: ``sums``, the summed continuation log-probabilities, one value per ``keys`` row; with ``kl`` also
    ``kl_context`` ``(g, G)`` and ``kl_continuation`` ``(g, G, C)`` (:func:`choice_sweep`)."""
    import torch

    lam_rows = torch.as_tensor([grid[g] for _, _, g in keys], dtype=torch.float32)
    with torch.inference_mode():
        run, swap, ids_t, start = _choice_pass(
            module, contexts, continuations, group, C, G, pad_id, device, first, positions
        )
        with steer(module, vectors, lam_rows, positions="all"), record(module, [-1], keep="all") as rec, swap:
            run()
        # logits only where a continuation token is predicted: position t predicts token t + 1
        h = rec.final_norm[0]
        rows_idx = torch.cat([torch.full((int(lengths[i, c]),), r) for r, (i, c, _) in enumerate(keys)])
        pos_idx = torch.cat([start(int(lengths[i, c])) + torch.arange(int(lengths[i, c])) for i, c, _ in keys])
        logits = _unembed(module, h[rows_idx, pos_idx].to(device))
        lp = torch.log_softmax(logits.float(), dim=-1)
        tok_lp = lp.gather(1, ids_t[rows_idx, pos_idx + 1].to(lp.device)[:, None])[:, 0].cpu().numpy()
    starts = np.cumsum([0] + [int(lengths[i, c]) for i, c, _ in keys])
    out = {"sums": np.add.reduceat(tok_lp.astype(np.float64), starts[:-1])}
    if kl:
        out |= _continuation_kl(logits, keys, starts, len(group), C, G, int(np.flatnonzero(grid == 0.0)[0]))
    return out


def _choice_pass(
    module: Any,
    contexts: Sequence[Sequence[int]],
    continuations: Sequence[Sequence[Sequence[int]]],
    group: np.ndarray,
    C: int,
    G: int,
    pad_id: int,
    device: Any,
    first: int,
    positions: str,
) -> tuple[Callable[[], Any], AbstractContextManager[Any], torch.Tensor, Callable[[int], int]]:
    """The λ pass of :func:`_choice_group`: a call running it, the context it runs in, its input ids, and
    ``start(L)``, the position of a row's input ids that predicts the first of its ``L`` continuation tokens.
    ``"all"``: context and continuation, left-padded, per row (blocks below ``first`` reused); ``"last"``: the last
    context token and the continuation after the contexts' prefill (:func:`validation.lastpos.choice_inputs`)."""
    if positions == "last":
        ctx, conts = [contexts[i] for i in group], [continuations[i] for i in group]
        inputs = lastpos.choice_inputs(module, ctx, conts, G, pad_id, device)
        return lambda: _batch.last_logits(module, **inputs), nullcontext(), inputs["input_ids"], lambda L: 0
    unique = [list(contexts[i]) + list(continuations[i][c]) for i in group for c in range(C)]
    ids_t, mask, swap = _lambda_rows(module, unique, G, pad_id, device, first)
    T = ids_t.shape[1]
    run = partial(_batch.last_logits, module, input_ids=ids_t, attention_mask=mask, use_cache=False)
    return run, swap, ids_t, lambda L: T - 1 - L


def _continuation_kl(
    logits: torch.Tensor, keys: list[tuple[int, int, int]], starts: np.ndarray, g: int, C: int, G: int, zero: int
) -> dict[str, np.ndarray]:
    """Per (item, λ, choice): the mean over the continuation's tokens of the KL of the teacher-forced next-token
    distribution from the λ = 0 row (``kl_continuation``), and the KL at the last context token (``kl_context``,
    the distribution of the first continuation token, read on choice 0). ``logits``: the rows of ``keys`` (``(i, c,
    g)``, λ fastest) one after the other, ``starts`` their offsets."""
    import torch

    cont, ctx = np.zeros((g, G, C)), np.zeros((g, G))
    for b in range(g * C):  # one (item, choice): G rows of L tokens each
        s0, L = int(starts[b * G]), int(starts[b * G + 1] - starts[b * G])
        lp = torch.log_softmax(logits[s0 : s0 + G * L].double(), dim=-1).view(G, L, -1)
        per_token = _kl_rows(lp, zero).cpu().numpy()  # (G, L)
        cont[b // C, :, b % C] = per_token.mean(axis=1)
        if b % C == 0:
            ctx[b // C] = per_token[:, 0]
    return {"kl_context": ctx, "kl_continuation": cont}


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
    kl: bool = False,
    positions: str = "all",
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    r"""Summed log-probability :math:`\sum_t\log P_\lambda(c_t\mid x, c_{<t})` of each continuation at each λ.

    Args:
        model: A causal LM or ``LoadedModel``.
        contexts: Token ids of each item's context (question/goal), ``n`` items.
        continuations: ``continuations[i][c]``: token ids of choice ``c`` of item ``i`` (same number of choices for
            every item, each non-empty).
        vectors, lam, batch_size, pad_id, progress, reuse_prefix, store: As in :func:`prompt_sweep`.
        kl: also measure, inside each group (no full-vocabulary array is kept), the KL from the λ = 0 row of the
            next-token distribution at the last context token and, teacher-forced, at every continuation token.
        positions: ``"all"`` (every context and continuation token) or ``"last"`` (the last context token and every
            continuation token; each context minus its last token is read once per item, unsteered, and its KV cache
            is shared by the item's choices and λ rows; ``reuse_prefix`` has no effect there).

    Returns:
        ``(logprob_sums, lengths)``: shapes ``(n, G, C)`` and ``(n, C)`` (continuation lengths in tokens); with
        ``kl``, a third element ``{"kl_context": (n, G), "kl_continuation": (n, G, C)}``: the KL at the last context
        token, and the mean over each continuation's tokens of the per-token KL (both in nats, float64).
    """
    grid, batch_size = _checked(lam, "contexts", contexts, batch_size)
    if len(continuations) != len(contexts):
        raise ParameterError(f"continuations: {len(continuations)} items for {len(contexts)} contexts")
    C = len(continuations[0]) if continuations else 0
    for i, cs in enumerate(continuations):
        if len(cs) != C or C < 2:
            raise ParameterError(f"continuations: item {i} has {len(cs)} choices, expected the same number >= 2")
        for c, toks in enumerate(cs):
            if len(toks) == 0:
                raise ParameterError(f"continuations: choice {c} of item {i} has no token")
    positions = lastpos.check_positions(positions)
    module, pad_id, device, first = _parts(model, vectors, pad_id, reuse_prefix)
    n, G = len(contexts), grid.size
    sums = np.zeros((n, G, C), dtype=np.float64)
    lengths = np.array([[len(c) for c in cs] for cs in continuations], dtype=np.int64)
    totals = [len(contexts[i]) + max(len(c) for c in continuations[i]) for i in range(n)]

    def keys(group: np.ndarray) -> list[tuple[int, int, int]]:
        return [(i, c, g) for i in group for c in range(C) for g in range(G)]

    def compute(group: np.ndarray) -> dict[str, np.ndarray]:
        args = (keys(group), group, C, G, grid, lengths, vectors, pad_id, device, first, kl, positions)
        return _choice_group(module, contexts, continuations, *args)

    kl_arrays = {"kl_context": np.zeros((n, G)), "kl_continuation": np.zeros((n, G, C))} if kl else {}
    groups = _batch.groups(totals, max(1, batch_size // (G * C)))
    for group, part in _run_groups(groups, compute, store, progress, G * C):
        for r, (i, c, g) in enumerate(keys(group)):
            sums[i, g, c] = float(part["sums"][r])
        for key, arr in kl_arrays.items():
            arr[group] = part[key]
    return (sums, lengths, kl_arrays) if kl else (sums, lengths)
