"""The statements of docs/specification.md as data: one module per theorem module, with their sympy builders and the
violation functions of the failing claims. :mod:`bounds.registry` collects them; the theorem modules keep the numeric
kernels. The pinned counterexamples live in ``counterexamples.json``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sympy as sp

#: statement id -> ``{"counterexample": {...}, "further_counterexamples": [...]}``, the counterexamples found by the
#: searches of the test suite and pinned in its regression tests
COUNTEREXAMPLES: dict[str, dict[str, Any]] = json.loads(
    Path(__file__).with_name("counterexamples.json").read_text(encoding="utf-8")
)


def of_q(name: str) -> Callable[[], sp.Expr]:
    """The builder of a left-hand side ``name(q)``: a quantity of the query ``q``."""
    return lambda: sp.Function(name)(sp.Symbol("q"))


def symbol(name: str) -> Callable[[], sp.Expr]:
    """The builder of a left-hand side that is the plain symbol ``name``."""
    return lambda: sp.Symbol(name)


def pinned(statement_id: str) -> dict[str, Any]:
    """The ``counterexample`` and ``further_counterexamples`` fields of a failing claim's :class:`~bounds.Statement`."""
    found = COUNTEREXAMPLES[statement_id]
    return {
        "counterexample": found["counterexample"],
        "further_counterexamples": tuple(found.get("further_counterexamples", ())),
    }
