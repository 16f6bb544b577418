"""The statements of docs/specification.md as data: one module per theorem module, with their sympy builders and the
violation functions of the failing claims. :mod:`bounds.registry` collects them; the theorem modules keep the numeric
kernels. The pinned counterexamples live in ``counterexamples.json``, the statements' Markdown prose in
``<module>.md``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sympy as sp

#: statement id -> ``{"counterexample": {...}, "further_counterexamples": [...]}``, the counterexamples found by the
#: searches of the test suite and pinned in its regression tests
COUNTEREXAMPLES: dict[str, dict[str, Any]] = json.loads(
    Path(__file__).with_name("counterexamples.json").read_text(encoding="utf-8")
)


def _read_prose() -> dict[str, dict[str, str]]:
    """statement id -> field -> value, from the ``## <id>`` / ``### <field>`` sections of the ``.md`` files here: a
    value is the text between its heading line and the next heading (or the end of the file), less the one newline
    before that heading."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(Path(__file__).parent.glob("*.md")):
        parts = re.split(r"^(##|###) (\S+)\n", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
        for level, name, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
            if level == "##":
                if name in found:
                    raise ValueError(f"{path.name}: statement {name} has prose twice")
                fields = found[name] = {}
            else:
                fields[name] = body.removesuffix("\n")
    return found


#: statement id -> its prose fields (``paper``, ``reconstruction``, ``decision`` and, for claims, ``settled_how`` and
#: ``proof``): Markdown with ``$…$`` math
PROSE: dict[str, dict[str, str]] = _read_prose()


def of_q(name: str) -> Callable[[], sp.Expr]:
    """The builder of a left-hand side ``name(q)``: a quantity of the query ``q``."""
    return lambda: sp.Function(name)(sp.Symbol("q"))


def symbol(name: str) -> Callable[[], sp.Expr]:
    """The builder of a left-hand side that is the plain symbol ``name``."""
    return lambda: sp.Symbol(name)


def prose(statement_id: str) -> dict[str, str]:
    """The prose fields of a :class:`~bounds.Statement`, to pass as ``**prose(id)``."""
    return PROSE[statement_id]


def pinned(statement_id: str) -> dict[str, Any]:
    """The ``counterexample`` and ``further_counterexamples`` fields of a failing claim's :class:`~bounds.Statement`."""
    found = COUNTEREXAMPLES[statement_id]
    return {
        "counterexample": found["counterexample"],
        "further_counterexamples": tuple(found.get("further_counterexamples", ())),
    }
