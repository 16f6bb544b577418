"""The statements of docs/specification.md as data: one module per theorem module, with their sympy builders and the
violation functions of the failing claims. :mod:`bounds.registry` collects them; the theorem modules keep the numeric
kernels. The pinned counterexamples live in ``counterexamples.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: statement id -> ``{"counterexample": {...}, "further_counterexamples": [...]}``, the counterexamples found by the
#: searches of the test suite and pinned in its regression tests
COUNTEREXAMPLES: dict[str, dict[str, Any]] = json.loads(
    Path(__file__).with_name("counterexamples.json").read_text(encoding="utf-8")
)


def pinned(statement_id: str) -> dict[str, Any]:
    """The ``counterexample`` and ``further_counterexamples`` fields of a failing claim's :class:`~bounds.Statement`."""
    found = COUNTEREXAMPLES[statement_id]
    return {
        "counterexample": found["counterexample"],
        "further_counterexamples": tuple(found.get("further_counterexamples", ())),
    }
