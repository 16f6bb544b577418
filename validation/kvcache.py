"""The KV cache of a transformers causal LM, found by its type (``transformers.Cache``) and passed under the keyword
the model's ``forward`` annotates with it, never by a keyword name (renamed by transformers 5.25; why and how:
``docs/api/validation-kvcache.md``).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterable
from typing import Any

__all__ = ["cache_kwargs", "cache_parameter", "cached_positions", "is_cache", "new_cache"]


def _cache_type() -> type:
    from transformers import Cache

    return Cache


def is_cache(value: Any) -> bool:
    """Whether ``value`` is a transformers KV cache (an instance of ``transformers.Cache``)."""
    return isinstance(value, _cache_type())


def cached_positions(values: Iterable[Any]) -> int:
    """The number of positions already in the first KV cache among ``values`` (0 when there is none).

    Args:
        values: The arguments of a forward call (positional and keyword values alike).

    Returns:
        ``cache.get_seq_length()`` of the first ``transformers.Cache`` found, else 0 (no cache: nothing is cached).
    """
    cache_type = _cache_type()
    for value in values:
        if isinstance(value, cache_type):
            return int(value.get_seq_length())
    return 0


def _is_cache_annotation(annotation: Any, cache_type: type) -> bool:
    if isinstance(annotation, type):
        return issubclass(annotation, cache_type)
    return any(_is_cache_annotation(arg, cache_type) for arg in typing.get_args(annotation))


def cache_parameter(model: Any) -> str:
    """The name of the parameter of ``model.forward`` that takes the KV cache: the one annotated with
    ``transformers.Cache`` (``Cache | None``), whatever the installed release calls it.

    Args:
        model: A transformers causal LM (``*ForCausalLM``) or its decoder stack.

    Returns:
        The parameter name (``"past_key_values"`` up to transformers 5.24, ``"cache"`` from 5.25).

    Raises:
        TypeError: If no parameter or several parameters of ``forward`` are annotated with a cache type.
    """
    cache_type = _cache_type()
    forward = model.forward
    params = inspect.signature(forward).parameters
    annotations = {name: p.annotation for name, p in params.items()}
    if any(isinstance(a, str) for a in annotations.values()):  # postponed annotations: evaluate them
        try:
            annotations |= typing.get_type_hints(forward)
        except Exception:
            pass
    names = [name for name in params if _is_cache_annotation(annotations.get(name), cache_type)]
    if len(names) != 1:
        found = f"found {names}" if names else "found none"
        raise TypeError(
            f"model: cannot tell which parameter of {type(model).__name__}.forward takes the KV cache "
            f"(expected exactly one annotated with transformers.Cache; {found})"
        )
    return names[0]


def cache_kwargs(model: Any, cache: Any) -> dict[str, Any]:
    """``{name: cache}`` for a call of ``model`` or ``model.generate``, under the name the installed release expects
    (:func:`cache_parameter`)."""
    return {cache_parameter(model): cache}


def new_cache(model: Any) -> Any:
    """An empty ``transformers.DynamicCache`` for ``model`` (its config decides the layer kinds)."""
    from transformers import DynamicCache

    return DynamicCache(config=model.config)
