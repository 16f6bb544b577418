"""Where the parts of a decoder-only causal LM are: the model behind a wrapper, its decoder blocks, final norm and
unembedding (the Llama / Qwen2 / Gemma3 layout ``model.model.layers``, ``model.model.norm``, ``model.lm_head``).

Duck-typed: any object with an ``nn.Module`` as ``.model`` (such as :class:`validation.models.LoadedModel`) stands
for that module. torch is imported inside the functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bounds.errors import SteeringBoundsError

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

__all__ = ["ArchitectureError", "as_module", "decoder_layers", "final_norm", "unembedding"]


class ArchitectureError(SteeringBoundsError, TypeError):
    """The model does not have the expected decoder layout (``model.model.layers`` / ``.norm``, ``lm_head``)."""


def as_module(model: Any) -> nn.Module:
    """The ``torch.nn.Module`` behind ``model``: itself, or the ``.model`` of a wrapper such as
    ``validation.models.LoadedModel``.

    Raises:
        ArchitectureError: (a ``TypeError``) neither is a module.
    """
    from torch import nn

    if isinstance(model, nn.Module):
        return model
    inner = getattr(model, "model", None)
    if isinstance(inner, nn.Module):
        return inner
    raise ArchitectureError(
        f"model: expected a torch.nn.Module (or an object with one as .model), got {type(model).__name__}"
    )


def _describe(module: Any) -> str:
    def children(m: Any) -> str:
        named = getattr(m, "named_children", None)
        items = [f"{n} ({type(c).__name__})" for n, c in named()] if callable(named) else []
        return ", ".join(items) or "none"

    text = f"{type(module).__name__} with children: {children(module)}"
    inner = getattr(module, "model", None)
    if inner is not None and inner is not module:
        text += f"; .model is {type(inner).__name__} with children: {children(inner)}"
    return text


def decoder_layers(model: Any) -> torch.nn.ModuleList:
    """The non-empty ``ModuleList`` of decoder blocks ``model.model.layers`` (Llama, Qwen2, Gemma3 and most HF
    decoder-only layouts); block ``i``'s output is ``output_hidden_states[i + 1]`` (:mod:`validation.hooks`).

    Raises:
        ArchitectureError: it is missing or empty (the message names the children that were found).
    """
    import torch

    m = as_module(model)
    layers = getattr(getattr(m, "model", None), "layers", None)
    if isinstance(layers, torch.nn.ModuleList) and len(layers) > 0:
        return layers
    raise ArchitectureError(
        f"no decoder layers at model.model.layers (the Llama/Qwen2/Gemma3 layout); found {_describe(m)}"
    )


def final_norm(model: Any) -> torch.nn.Module:
    """The final norm ``model.model.norm``, applied to the last block's output before the unembedding (in
    transformers 5.x the last entry of ``output_hidden_states`` is its output, not the last block's).

    Raises:
        ArchitectureError: it is missing.
    """
    import torch

    m = as_module(model)
    norm = getattr(getattr(m, "model", None), "norm", None)
    if isinstance(norm, torch.nn.Module):
        return norm
    raise ArchitectureError(f"no final norm at model.model.norm (the Llama/Qwen2/Gemma3 layout); found {_describe(m)}")


def unembedding(model: Any) -> torch.nn.Module:
    """The unembedding ``model.lm_head``: logits = ``lm_head(final_norm(h))``; ``.weight`` is U, shape (|V|, d).

    Falls back to ``get_output_embeddings()`` when there is no ``lm_head`` attribute. (For tied models such as
    SmolLM2 the weight is the input embedding matrix. Gemma-2-style final-logit soft-capping, if a config sets
    ``final_logit_softcapping``, is applied after this module.) Normally a ``torch.nn.Linear`` without bias.

    Raises:
        ArchitectureError: If the model has no output projection with a 2-D ``weight``.
    """
    import torch

    m = as_module(model)
    head = getattr(m, "lm_head", None)
    if head is None and callable(getattr(m, "get_output_embeddings", None)):
        head = m.get_output_embeddings()
    weight = getattr(head, "weight", None)
    if isinstance(head, torch.nn.Module) and isinstance(weight, torch.Tensor) and weight.dim() == 2:
        return head
    raise ArchitectureError(f"no unembedding at model.lm_head (or get_output_embeddings()); found {_describe(m)}")
