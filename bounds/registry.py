"""The ordered registry of every statement of the specification (ids of docs/specification.md §0).

It drives the ``steering-bounds theory`` table, the generated ``docs/theory.md`` and the parametrised tests.
"""

from __future__ import annotations

import importlib

from .statement import Statement

#: the modules of :mod:`bounds.spec` (each has a module-level ``STATEMENTS`` list)
FAMILIES = ("definitions", "alignment", "helpfulness", "multitoken", "preference", "kl")

#: docs/specification.md §0 order.
ORDER: tuple[str, ...] = (
    "definition-behavior",
    "definition-helpfulness",
    "assumption-1",
    "assumption-2",
    "assumption-3",
    "assumption-4",
    "theorem-1",
    "corollary-1",
    "theorem-2",
    "corollary-2",
    "theorem-3",
    "theorem-4",
    "theorem-5",
    "theorem-6",
    "corollary-3",
    "proposition-1",
    "theorem-2-jensen",
    "theorem-2-event",
    "theorem-2-expectation",
    "theorem-4-corrected",
    "theorem-6-corrected",
    "proposition-1-corrected",
    # docs/specification.md §16: the KL price of steering (derived for this project)
    "proposition-kl-second-order",
    "proposition-kl-second-order-accuracy",
    "proposition-kl-upper",
    "corollary-kl-budget-safe",
    "corollary-kl-budget-second-order",
)


def _collect() -> dict[str, Statement]:
    found: dict[str, Statement] = {}
    for name in FAMILIES:
        module = importlib.import_module(f"bounds.spec.{name}")  # on first use: ``import bounds`` stays cheap
        for st in module.STATEMENTS:
            if st.id in found:
                raise RuntimeError(f"statement id {st.id} defined twice")
            found[st.id] = st
    return found


def statements() -> list[Statement]:
    """All statements, in docs/specification.md §0 order (ids not yet encoded are skipped;
    ``tests/bounds/test_registry.py`` forbids that)."""
    found = _collect()
    extra = set(found) - set(ORDER)
    if extra:
        raise RuntimeError(f"statements not in the docs/specification.md §0 order: {sorted(extra)}")
    return [found[i] for i in ORDER if i in found]


def get(statement_id: str) -> Statement:
    """The statement with this id; ``KeyError`` lists the valid ids."""
    found = _collect()
    try:
        return found[statement_id]
    except KeyError:
        raise KeyError(f"unknown statement id {statement_id!r}; valid ids: {', '.join(ORDER)}") from None
