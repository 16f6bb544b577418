"""Render ``docs/theory.md`` from the statement registry: each statement with its status and evidence.

``steering-bounds theory --markdown > docs/theory.md`` regenerates the page; ``tests/test_cli.py`` fails when the
committed page differs from the rendering, so the page cannot drift from the registry and its tests.
"""

from __future__ import annotations

import json

import sympy as sp

from . import registry
from . import symbols as S
from .statement import Statement

HEADER = """# Theory: every statement of THEORY.md, settled by the test suite

Generated from the statement registry (`bounds.registry`) by `steering-bounds theory --markdown > docs/theory.md`;
`tests/test_cli.py::test_docs_theory_is_generated_from_registry` fails when this page is stale.

Statement ids, provenance tags and statuses follow THEORY.md §0. A claim's **status** is what the named tests find:
`holds` -- property tests over thousands of generated instances of exactly the statement's hypotheses (or Monte-Carlo
checks for probability, expectation and limit claims) pass; `fails` -- a test finds a counterexample by search
(hypothesis, derandomized in CI) and a regression test pins the simplest one found, shown below.
Run the evidence of one statement with `pytest "<test id>"`; a longer random search with `HYPOTHESIS_PROFILE=dev`.

"""


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _summary_table(items: list[Statement]) -> str:
    rows = ["| id | name | kind | status | replaces | provenance |", "|---|---|---|---|---|---|"]
    for s in items:
        rows.append(
            f"| [`{s.id}`](#{s.id}) | {_md_escape(s.name)} | {s.kind} | {s.status or '—'} | "
            f"{s.replaces or '—'} | {', '.join(s.provenance)} |"
        )
    return "\n".join(rows) + "\n"


def _section(s: Statement) -> str:
    out = [f'<a id="{s.id}"></a>', f"## `{s.id}` — {s.name}", ""]
    status = f"**status: {s.status}**" if s.status else "no status (not a claim)"
    meta = f"*{s.kind}*, THEORY {s.section}; provenance: {', '.join(s.provenance)}; {status}"
    if s.replaces:
        meta += f"; replaces [`{s.replaces}`](#{s.replaces})"
    out += [meta, "", s.statement, "", "$$", s.latex(), "$$", ""]
    if s.hypotheses:
        out += ["Hypotheses: " + "; ".join(s.hypotheses) + ".", ""]
    if s.parameters:
        out += ["| parameter | domain |", "|---|---|"]
        out += [f"| `{k}` | {_md_escape(v)} |" for k, v in s.parameters.items()]
        out.append("")
    if s.closed_form_in_lambda:
        ser = sp.latex(s.series(2), symbol_names=S.latex_names)
        out += ["Small-λ expansion (sympy, order 2):", "", "$$", ser + r" + O(\lambda^3)", "$$", ""]
        if s.gauge is not None:
            asy = sp.latex(s.asymptotic(2), symbol_names=S.latex_names)
            out += ["Large-λ expansion (sympy, λ → +∞):", "", "$$", asy, "$$", ""]
    else:
        out += [f"Expansions: none — {s.not_closed_form}.", ""]
    if s.numeric is not None:
        out += [f"Numeric function: `{s.numeric.__module__}.{s.numeric.__qualname__}`.", ""]
    if s.evidence:
        out += ["Evidence (tests):", ""] + [f"- `{e}`" for e in s.evidence] + [""]
    if s.counterexample is not None:
        assert s.violation is not None
        v = s.violation(dict(s.counterexample))
        out += [
            f"Counterexample found by search (pinned; violation {v:.6g} > 0):",
            "",
            "```json",
            _compact_json(dict(s.counterexample)),
            "```",
            "",
        ]
    for note in s.notes:
        out += [f"> {note}", ""]
    return "\n".join(out)


def _compact_json(value: object, indent: int = 0) -> str:
    """JSON with one line per dictionary key and every list on one line (valid JSON, readable in the page)."""
    if isinstance(value, dict) and value:
        pad = " " * (indent + 2)
        items = [f"{pad}{json.dumps(k)}: {_compact_json(v, indent + 2)}" for k, v in sorted(value.items())]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    return json.dumps(value, separators=(", ", ": "))


def render_markdown() -> str:
    """The full ``docs/theory.md`` page."""
    items = registry.statements()
    parts = [HEADER, _summary_table(items), ""]
    parts += [_section(s) for s in items]
    return "\n".join(parts).rstrip() + "\n"
