"""Tiny random models and tokenizers built offline, shared by the tests that need a real (if random) causal LM.

* :func:`tiny_llama`: a 4-layer Llama (hidden 32, 2 heads, vocab 128, untied embeddings), seeded, in eval mode.
* :func:`tiny_tokenizer`: a word-level tokenizer over the same 128 ids (``<unk>`` 0, ``<eos>`` 1, ``<bos>`` 2, then
  ``w3`` ... ``w127``), with no pad token unless one is asked for.

Import with ``from tests._tiny import tiny_llama, tiny_tokenizer`` after ``pytest.importorskip("torch")`` /
``("transformers")``: this module imports both at the top.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from typing import Any

import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

__all__ = ["TINY_CONFIG", "tiny_llama", "tiny_tokenizer"]

TINY_CONFIG: dict[str, Any] = {
    "vocab_size": 128,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 4,
    "num_attention_heads": 2,
    "num_key_value_heads": 2,
    "max_position_embeddings": 128,
    "initializer_range": 0.1,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "tie_word_embeddings": False,
}
"""The default :class:`transformers.LlamaConfig` arguments of :func:`tiny_llama`."""


def tiny_llama(seed: int = 0, dtype: torch.dtype = torch.float32, **config_overrides: Any) -> LlamaForCausalLM:
    """A random tiny Llama: ``torch.manual_seed(seed)``, then ``LlamaForCausalLM(LlamaConfig(**TINY_CONFIG |
    config_overrides))`` cast to ``dtype``, in eval mode. Same seed and overrides give the same weights.

    Args:
        seed: Seed of the global torch generator used by the weight initialisation.
        dtype: Parameter dtype (the weights are initialised in float32, then cast).
        **config_overrides: Replace or add :class:`transformers.LlamaConfig` arguments (see :data:`TINY_CONFIG`).

    Returns:
        The model, in eval mode.
    """
    torch.manual_seed(seed)
    cfg = LlamaConfig(**(TINY_CONFIG | config_overrides))
    return LlamaForCausalLM(cfg).to(dtype).eval()


def tiny_tokenizer(*, pad_token: str | None = None, vocab_size: int = 128) -> PreTrainedTokenizerFast:
    """A whitespace-split word-level tokenizer over ``vocab_size`` ids, built offline.

    Vocabulary: ``<unk>`` 0, ``<eos>`` 1, ``<bos>`` 2, and ``w{i}`` for ``3 <= i < vocab_size`` (so the text
    ``"w5 w7"`` encodes to ``[5, 7]``); it adds no special token when encoding.

    Args:
        pad_token: A token of that vocabulary to set as the pad token (e.g. ``"<unk>"``, id 0); ``None`` (default):
            no pad token, as in many released causal-LM tokenizers.
        vocab_size: Number of ids, at least 4.

    Returns:
        A :class:`transformers.PreTrainedTokenizerFast`.
    """
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers import models as tmodels

    if vocab_size < 4:
        raise ValueError(f"vocab_size: expected at least 4, got {vocab_size}")
    vocab = {"<unk>": 0, "<eos>": 1, "<bos>": 2, **{f"w{i}": i for i in range(3, vocab_size)}}
    if pad_token is not None and pad_token not in vocab:
        raise ValueError(f"pad_token: {pad_token!r} is not in the vocabulary")
    tok = Tokenizer(tmodels.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    extra = {} if pad_token is None else {"pad_token": pad_token}
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>", bos_token="<bos>", **extra
    )
