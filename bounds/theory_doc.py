r"""Render the theory part of the documentation from the statement registry.

* :func:`render_markdown` -- ``docs/theory.md``, the index: one row per statement (status, the test that settles it,
  provenance) linking to its page (``steering-bounds theory --markdown`` prints it too).
* :func:`render_page` / :func:`render_pages` -- ``docs/theory/<id>.md``, one page per statement, with the pinned
  counterexample of a failing claim and its figure ``docs/figures/counterexample_<id>.png``.

Regenerate everything with ``python -m bounds.theory_doc --pages docs/theory --index docs/theory.md`` (``--check``
compares instead and exits 1 when a file is stale; ``tests/test_docs.py`` fails then, and checks each claim's
:attr:`~bounds.Statement.settled_by` against the test suite).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import sympy as sp

from . import domains as S
from . import registry
from .statement import Statement, collected_latex, short_latex

INDEX_COMMAND = "python -m bounds.theory_doc --pages docs/theory --index docs/theory.md"
FIGURES_COMMAND = "steering-bounds figures --out docs/figures"

PROVENANCE_MEANING: dict[str, str] = {
    "VERBATIM-PROSE": "words of the paper; the math inside them is reconstructed",
    "VERBATIM-CODE": "functional form taken from the authors' public fitting code",
    "RECONSTRUCTED-H": "reconstructed by derivation, high confidence",
    "RECONSTRUCTED-M": "reconstructed by derivation, medium confidence",
    "RECONSTRUCTED-L": "reconstructed by derivation, low confidence",
    "CORRECTED": "a rigorous replacement for a statement that does not hold as reconstructed",
    "DERIVED": "derived for this project from the setup of the specification (§1); not a statement of the paper",
}


# ---------------------------------------------------------------------------------------------------------------------
# Markdown helpers
# ---------------------------------------------------------------------------------------------------------------------
_CODE_SPAN = re.compile(r"(`[^`]*`)")


def _prose(text: str, *, table: bool = False) -> str:
    """Registry prose as Markdown text: ``*`` and ``<`` escaped (``a*`` and ``s_{<i}`` are not markup), code spans
    kept as they are; in a table cell ``|`` is escaped too."""
    parts = _CODE_SPAN.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            part = part.replace("\\", "\\\\").replace("*", "\\*").replace("<", "&lt;").replace("$", "\\$")
            part = part.replace("_", "\\_").replace("[", "\\[")
        if table:
            part = part.replace("|", "\\|")
        out.append(part)
    return "".join(out)


def _math_cell(latex: str) -> str:
    """Inline math usable inside a Markdown table cell (no bare ``|``)."""
    return "$" + latex.replace(r"\|", r"\Vert ").replace("|", r"\vert ") + "$"


def _symbol_latex(s: Statement) -> dict[str, str]:
    """Plain name -> LaTeX of every symbol of the statement, ``symbol = definition`` for an abbreviation."""
    syms = {str(x): x for x in (s.expr.free_symbols | s.lhs().free_symbols)}
    out = {name: S.latex(sym) for name, sym in syms.items()}
    for name, definition in S.latex_definitions.items():
        if name in out:
            out[name] += f" = {definition}"
    return out


def _compact_json(value: object, indent: int = 0) -> str:
    """JSON with one line per dictionary key and every list on one line (valid JSON, readable in the page)."""
    if isinstance(value, dict) and value:
        pad = " " * (indent + 2)
        items = [f"{pad}{json.dumps(k)}: {_compact_json(v, indent + 2)}" for k, v in sorted(value.items())]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    return json.dumps(value, separators=(", ", ": "))


def _replaced_by(items: Sequence[Statement]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in items:
        if s.replaces:
            out.setdefault(s.replaces, []).append(s.id)
    return out


def page_path(statement_id: str) -> str:
    """The page of a statement, relative to ``docs/``."""
    return f"theory/{statement_id}.md"


def counterexample_figure(statement_id: str) -> str:
    """The counterexample figure of a failing claim, relative to ``docs/``."""
    return f"figures/counterexample_{statement_id}.png"


# ---------------------------------------------------------------------------------------------------------------------
# the index: docs/theory.md
# ---------------------------------------------------------------------------------------------------------------------
HEADER = f"""# Theory: every statement of the specification, settled by the test suite

The [specification](specification.md) is the paper's theory as this project reconstructs it (the paper's displayed
equations are lost; the specification was written for this project from the paper's prose, public reviews and the
authors' public fitting code). Its notation, conventions and protocol are there; each of its statements is also on a
page of its own, listed below.

Generated from the statement registry (`bounds.registry`) by `{INDEX_COMMAND}` (this index alone:
`steering-bounds theory --markdown > docs/theory.md`); `tests/test_cli.py::test_docs_theory_is_generated_from_registry`
and `tests/test_docs.py::test_theory_pages_are_generated_from_registry` fail when a page is stale.

Each statement has its own page: the statement and its formula, the symbols, provenance and status, what the paper
says, what was reconstructed and how confidently, what the project decided and why, a proof sketch, notes, the test
that settles it and, for a claim that fails, the counterexample found by search and its figure. Statement ids,
provenance tags and statuses follow [specification §0](specification.md#s0). In "What the paper says", quotes are the
paper's words and math in square brackets inside them was reconstructed by this project; the paper's $r_e$ is the
code's λ. A claim's **status** is what its tests find: `holds` -- a property test over generated instances of exactly
the statement's hypotheses (or a Monte-Carlo check for probability, expectation and limit claims) passes; `fails` --
a test finds a counterexample by search (hypothesis, derandomized in CI) and a regression test pins the simplest one
found.
Run the evidence of one statement with `pytest "<test id>"`; a longer random search with `HYPOTHESIS_PROFILE=dev`.

"""


def _summary_table(items: Sequence[Statement]) -> str:
    rows = [
        "| id | name | kind | status | settled by | replaces | provenance |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in items:
        status = f"**{s.status}**" if s.status else "—"
        settled = f"`{s.settled_by.removeprefix('tests/')}`" if s.settled_by else "—"
        replaces = f"[`{s.replaces}`]({page_path(s.replaces)})" if s.replaces else "—"
        rows.append(
            f"| [`{s.id}`]({page_path(s.id)}) | {_prose(s.name, table=True)} | {s.kind} | {status} | {settled} | "
            f"{replaces} | {', '.join(s.provenance)} |"
        )
    return "\n".join(rows) + "\n"


def render_markdown() -> str:
    """The index page ``docs/theory.md``."""
    items = registry.statements()
    tags = ["| tag | meaning |", "|---|---|"] + [f"| `{t}` | {meaning} |" for t, meaning in PROVENANCE_MEANING.items()]
    parts = [HEADER, _summary_table(items), "", "## Provenance tags", "", "\n".join(tags) + "\n"]
    return "\n".join(parts).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------------------------------
# one page per statement: docs/theory/<id>.md
# ---------------------------------------------------------------------------------------------------------------------
def spec_anchor(section: str) -> str:
    """The anchor of a statement's section in ``docs/specification.md``: ``"§12.2(a)"`` -> ``"s12-2"``."""
    m = re.match(r"§(\d+(?:\.\d+)?)", section)
    if m is None:
        raise ValueError(f"a section starts with §<number>, got {section!r}")
    return "s" + m.group(1).replace(".", "-")


def _facts(s: Statement, replaced_by: Mapping[str, list[str]]) -> list[str]:
    where = f"[{_prose(s.section, table=True)}](../specification.md#{spec_anchor(s.section)})"
    rows = ["| | |", "|---|---|", f"| kind | {s.kind} |", f"| specification | {where} |"]
    tags = "; ".join(f"`{t}` ({PROVENANCE_MEANING[t]})" for t in s.provenance)
    rows.append(f"| provenance | {tags} |")
    rows.append(f"| status | **{s.status}** |" if s.status else "| status | none (not a claim) |")
    if s.replaces:
        rows.append(f"| replaces | [`{s.replaces}`]({s.replaces}.md) |")
    if s.id in replaced_by:
        rows.append("| replaced by | " + ", ".join(f"[`{r}`]({r}.md)" for r in replaced_by[s.id]) + " |")
    if s.settled_by:
        rows.append(f"| settled by | `{s.settled_by}` |")
    if s.numeric is not None:
        rows.append(f"| numeric function | `{s.numeric.__module__}.{s.numeric.__qualname__}` |")
    return [*rows, ""]


def _symbols(s: Statement) -> list[str]:
    if not s.parameters:
        return []
    latex = _symbol_latex(s)
    out = ["## Symbols", "", "| symbol | name in `bounds` | domain and meaning |", "|---|---|---|"]
    for name, domain in s.parameters.items():
        sym = _math_cell(latex[name]) if name in latex else "—"
        out.append(f"| {sym} | `{name}` | {_prose(domain, table=True)} |")
    return [*out, ""]


def _expansions(s: Statement) -> list[str]:
    out = ["## Expansions", ""]
    if not s.closed_form_in_lambda:
        return [*out, f"None: {_prose(str(s.not_closed_form))}.", ""]
    order = 2
    coefficients = s.series_coefficients(order)
    terms = [(f"c_{{{j}}}", j) for j, c in enumerate(coefficients) if c != 0]
    series = collected_latex(terms, r"\lambda") + rf" + O(\lambda^{{{order + 1}}})"
    out += [
        f"Small-λ expansion of the right-hand side (sympy, order {order}), collected by powers of λ:",
        "",
        *_display(series, [(f"c_{{{j}}}", c) for j, c in enumerate(coefficients)]),
    ]
    if s.gauge is not None:
        terms_at_infinity = 2
        g = s.gauge()
        coefficients = s.asymptotic_coefficients(terms_at_infinity)
        named = [S.latex(sp.Symbol(f"a_{j}") * g**j) for j, c in enumerate(coefficients) if c != 0]
        asy = " + ".join(named) + rf" + O\left({S.latex(g**terms_at_infinity)}\right)"
        out += [
            f"Large-λ expansion of the right-hand side (sympy, λ → +∞), in powers of ${S.latex(g)}$:",
            "",
            *_display(asy, [(f"a_{{{j}}}", c) for j, c in enumerate(coefficients)]),
        ]
    return out


def _display(expansion: str, coefficients: Sequence[tuple[str, sp.Expr]]) -> list[str]:
    """Display math of an expansion in named coefficients, then the coefficients (aligned, one per line)."""
    rows = " \\\\\n".join(f"{name} &= {short_latex(c)}" for name, c in coefficients)
    return ["$$", expansion, "$$", "", "with", "", "$$", "\\begin{aligned}", rows, "\\end{aligned}", "$$", ""]


def _settlement(s: Statement) -> list[str]:
    out = ["## How the test suite settles it", ""]
    if s.settled_by:
        what = "Property test" if s.status == "holds" else "Counterexample search"
        out += [f"{what} `{s.settled_by}`: {s.settled_how}.", ""]
        out += ["```bash", f'.venv/bin/python -m pytest "{s.settled_by}"', "```", ""]
    if s.evidence:
        out += ["All evidence (tests):" if s.is_claim else "Tests exercising it:", ""]
        out += [f"- `{e}`" for e in s.evidence] + [""]
    if s.min_instances:
        out += [
            f"Non-degenerate instances: {_prose(s.nondegenerate)}. Each of these property tests counts the "
            "instances it checks and fails unless at least the stated number of them are non-degenerate (draws "
            "outside the hypotheses are rejected, not counted as passes):",
            "",
        ]
        out += [f"- `{t}`: at least {n}" for t, n in s.min_instances.items()] + [""]
    return out


def _pinned(s: Statement, ce: dict, lead: str) -> list[str]:
    """What a pinned counterexample shows, its violation and its values (folded when long)."""
    assert s.violation is not None
    what = ce.get("what", ce.get("shows"))
    out = [_prose(what), ""] if isinstance(what, str) else []
    out += [f"{lead} violation function gives **{s.violation(ce):.6g}** (> 0 means violated).", ""]
    text = _compact_json({k: val for k, val in ce.items() if k not in ("what", "shows")})
    if len(text) > 1500:
        out += ['??? example "The counterexample\'s values (JSON)"', ""]
        return [*out, "    ```json", *("    " + line for line in text.splitlines()), "    ```", ""]
    return [*out, "```json", text, "```", ""]


def _counterexample(s: Statement) -> list[str]:
    if s.counterexample is None:
        return []
    out = ["## Counterexample", ""]
    out += _pinned(s, dict(s.counterexample), "Pinned in the regression tests; the statement's")
    out += [
        f"![Counterexample to {s.id}](../{counterexample_figure(s.id)})",
        "",
        f"*Figure: the counterexample, drawn by `paper_figures/fig_counterexamples.py` (`{FIGURES_COMMAND}`).*",
        "",
    ]
    found = [e for e in s.evidence if "nondegenerate_counterexample_found_by_search" in e]
    origin = (
        f"Found by a search whose own predicate excludes the degenerate cases (`{found[0]}`); pinned"
        if found
        else "Pinned"
    )
    for further in s.further_counterexamples:
        out += ["## Counterexample away from the degenerate cases", ""]
        out += _pinned(s, dict(further), f"{origin} in the regression tests. The statement's")
    return out


#: shown under "What the paper says" when it quotes the paper with reconstructed math
QUOTE_NOTE = (
    "*Quotes are the paper's words; math in square brackets inside them was reconstructed by this project (the "
    "paper's displayed equations are lost), and the paper's $r_e$ is the code's $\\lambda$.*"
)

#: the prose sections of a page: (Statement attribute, heading)
BACKGROUND: tuple[tuple[str, str], ...] = (
    ("paper", "What the paper says"),
    ("reconstruction", "What was reconstructed, and how confidently"),
    ("decision", "What the project decided, and why"),
)


def _background(s: Statement) -> list[str]:
    """The page's prose sections (Markdown with $…$ math, as written in the registry), then where the specification
    states it."""
    out: list[str] = []
    for attr, heading in BACKGROUND:
        text = getattr(s, attr)
        if text:
            out += [f"## {heading}", "", text.strip(), ""]
            if attr == "paper" and "[$" in text:
                out += [QUOTE_NOTE, ""]
    if out:
        link = f"[{_prose(s.section)}](../specification.md#{spec_anchor(s.section)})"
        out += [f"The specification states it in {link}.", ""]
    return out


def render_page(s: Statement, items: Sequence[Statement] | None = None) -> str:
    """The page ``docs/theory/<id>.md`` of one statement (``items``: all statements, for the "replaced by" links)."""
    items = registry.statements() if items is None else items
    out = [f"# `{s.id}` — {_prose(s.name)}", ""]
    out += _facts(s, _replaced_by(items))
    out += ["## Statement", "", _prose(s.statement), "", "$$", s.latex(), "$$", ""]
    if s.hypotheses:
        out += ["Hypotheses:", ""] + [f"- {_prose(h)}" for h in s.hypotheses] + [""]
    out += _background(s)
    out += _symbols(s)
    out += _expansions(s)
    if s.proof:
        out += ["## Proof sketch", "", s.proof.strip(), ""]
    if s.notes:
        out += ["## Notes", ""] + [f"- {_prose(n)}" for n in s.notes] + [""]
    out += _settlement(s)
    out += _counterexample(s)
    out += ["[All statements](../theory.md)", ""]
    return "\n".join(out).rstrip() + "\n"


def render_pages() -> dict[str, str]:
    """``{file name: page}`` for every statement (file names ``<id>.md``, relative to ``docs/theory/``)."""
    return dict(_rendered_pages())


@functools.cache
def _rendered_pages() -> tuple[tuple[str, str], ...]:
    # the registry is fixed for the life of the process, and the sympy expansions take seconds: render once
    items = registry.statements()
    return tuple((f"{s.id}.md", render_page(s, items)) for s in items)


# ---------------------------------------------------------------------------------------------------------------------
# command line: python -m bounds.theory_doc --pages docs/theory --index docs/theory.md [--check]
# ---------------------------------------------------------------------------------------------------------------------
def _differing(pages_dir: str | Path | None, index: str | Path | None) -> list[tuple[Path, str | None]]:
    """``(file, rendering)`` of each file that differs from the rendering: pages of statements no longer in the
    registry (rendering ``None``), changed or missing pages, the index."""
    wanted: list[tuple[Path, str | None]] = []
    if pages_dir is not None:
        d = Path(pages_dir)
        pages = render_pages()
        wanted += [(p, None) for p in sorted(d.glob("*.md")) if p.name not in pages]
        wanted += [(d / name, text) for name, text in pages.items()]
    if index is not None:
        wanted.append((Path(index), render_markdown()))
    return [(p, t) for p, t in wanted if t is None or not p.is_file() or p.read_text(encoding="utf-8") != t]


def stale_files(pages_dir: str | Path | None = None, index: str | Path | None = None) -> list[str]:
    """Files that differ from the rendering: changed or missing pages, pages of unknown statements, the index."""
    return [str(p) for p, _ in _differing(pages_dir, index)]


def write(pages_dir: str | Path | None = None, index: str | Path | None = None) -> list[Path]:
    """Write the pages (removing pages of statements no longer in the registry) and/or the index; returns the
    files written or removed."""
    if pages_dir is not None:
        Path(pages_dir).mkdir(parents=True, exist_ok=True)
    done = _differing(pages_dir, index)
    for p, text in done:
        if text is None:
            p.unlink()
        else:
            p.write_text(text, encoding="utf-8")
    return [p for p, _ in done]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bounds.theory_doc", description="Render the theory pages of the docs from the registry."
    )
    parser.add_argument("--pages", metavar="DIR", help="write one page per statement into DIR (e.g. docs/theory)")
    parser.add_argument("--index", metavar="FILE", help="write the index page (e.g. docs/theory.md)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file is stale")
    args = parser.parse_args(argv)
    if args.pages is None and args.index is None:
        parser.error("give --pages DIR and/or --index FILE")
    if args.check:
        stale = stale_files(args.pages, args.index)
        for f in stale:
            print(f"stale: {f}")
        if stale:
            print(f"regenerate with: {INDEX_COMMAND}", file=sys.stderr)
        return 1 if stale else 0
    for p in write(args.pages, args.index):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
