"""The KV cache of a transformers causal LM, found by its type, never by the name of a keyword.

transformers renames the keyword that carries the cache: ``past_key_values`` up to 5.24, ``cache`` from 5.25 on
(``past_key_values`` then works with a ``FutureWarning`` until its removal), and the output field with it. A project
that reads ``kwargs["past_key_values"]`` breaks silently on such a release: the steering hook counted 0 cached
positions under 5.25 and refused every generation. This module is the one place in ``validation`` that deals with the
cache, and it relies only on public, stable signals:

* the cache is an instance of the public class ``transformers.Cache`` (:func:`is_cache` and :func:`cached_positions`
  look for that type among the values, whatever they are called); a ``DynamicCache`` passed in is filled in place,
  so the caller keeps it (:func:`new_cache`) rather than reading it back from the output's renamed field;
* the forward parameter that takes it is the one **annotated** with ``Cache`` in the model's ``forward`` signature
  (:func:`cache_parameter`), so a call can pass it under the name the installed release expects
  (:func:`cache_kwargs`), and ``generate`` accepts the same name (it forwards its keyword arguments to ``forward``).
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
