"""mkdocs hooks of the documentation site (``hooks:`` in ``mkdocs.yml``; excluded from the site itself).

Three jobs:

* **reST in docstrings.** The modules' docstrings are Google style with reST markup, which mkdocstrings would show
  verbatim. A Markdown extension (added to every Markdown instance, so also to the one mkdocstrings renders
  docstrings with) translates it: an inline pattern turns ``:math:`x``` into the inline math of
  ``pymdownx.arithmatex`` (typeset by KaTeX) and the Python roles (:func:`...`, :class:`...`, :mod:`...`, ...)
  into code spans showing the target's name (``~a.b.c`` shows ``c``, as in Sphinx) -- inline patterns never touch
  code blocks, so examples stay verbatim; a preprocessor turns ``.. math::`` blocks into display math,
  ``.. warning::``/``.. note::`` into admonitions and reST simple tables (``====  ====`` borders) into Markdown
  tables.
* **Figures not generated yet.** Pages show figures from ``docs/figures/`` written by ``steering-bounds figures
  --out docs/figures`` (``paper_figures``). A missing one would fail ``mkdocs build --strict`` with a bare
  "target not found"; instead the image is replaced by a visible warning naming the file and the command, and the
  build logs it (INFO). ``tests/test_docs.py::test_referenced_figures_exist`` fails while any is missing, so a missing
  figure is caught by the test suite with the command to fix it, not hidden. Set ``STEERING_BOUNDS_DOCS_FIGURES=
  require`` to make a missing figure a build warning (an error under ``--strict``).
* **Docstring style tolerated, everything else strict.** griffe (mkdocstrings' parser) warns about two things that
  are not errors in this code base, and they are demoted to INFO here; every other docstring warning still fails the
  strict build:

  - parameters documented together (``p, z, norm: ...``, a style the modules use on purpose): griffe looks for a
    parameter named ``"p, z, norm"``;
  - the few ``Raises:`` entries listed in :data:`KNOWN_DOCSTRING_ISSUES`, whose continuation line is not indented
    (griffe drops it from the page); fix the docstring (indent the line) and remove the entry.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import xml.etree.ElementTree as etree
from typing import Any

from markdown import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.preprocessors import Preprocessor
from markdown.util import AtomicString
from mkdocs.plugins import event_priority

log = logging.getLogger("mkdocs.hooks.steering_bounds_docs")

#: (module file, text of the line griffe could not split) of known ``Raises:`` continuation lines (see above).
KNOWN_DOCSTRING_ISSUES: tuple[tuple[str, str], ...] = ()  # none left: a new one fails the strict build
_GROUPED_PARAMETERS = re.compile(r"(No type or annotation for parameter|Parameter) '[^']*, [^']*'")


class _TolerateDocstringStyle(logging.Filter):
    """Demote the griffe warnings described in the module docstring to INFO (a logger filter, so the demoted record
    never reaches mkdocs' warning counter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING:
            msg = record.getMessage()
            known = any(f in msg and f"pair from '{text}'" in msg for f, text in KNOWN_DOCSTRING_ISSUES)
            if known or _GROUPED_PARAMETERS.search(msg):
                record.levelno, record.levelname = logging.INFO, "INFO"
        return True


_FILTER = _TolerateDocstringStyle()

ROLE_PATTERN = r":(?P<role>math|func|class|mod|meth|attr|data|exc|obj|const|term|ref|py:\w+):`(?P<body>[^`]+)`"
FIGURE_DIR = "figures/"
FIGURES_COMMAND = "steering-bounds figures --out docs/figures"
IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)(?:\s+\"[^\"]*\")?\)(?P<attrs>\{[^}]*\})?")


class _RoleProcessor(InlineProcessor):
    def handleMatch(self, m: re.Match[str], data: str) -> tuple[etree.Element, int, int]:
        role, body = m.group("role"), m.group("body")
        if role == "math":
            el = etree.Element("span", {"class": "arithmatex"})
            el.text = AtomicString(f"\\({body}\\)")
        else:
            target = body.split("<")[-1].rstrip(">").strip() if "<" in body else body.strip()
            shown = target[1:].rsplit(".", 1)[-1] if target.startswith("~") else target
            el = etree.Element("code")
            el.text = AtomicString(shown)
        return el, m.start(0), m.end(0)


_DIRECTIVE = re.compile(
    r"^(?P<indent>\s*)\.\. (?P<name>math|warning|note|caution|important|tip|danger|attention|hint)::\s*(?P<arg>.*)$"
)
_BORDER = re.compile(r"^(?P<indent>\s*)=+( +=+)+\s*$")


def _block(lines: list[str], start: int, indent: int) -> int:
    """Index after the block that follows a directive line at ``start - 1`` (lines blank or indented deeper)."""
    i = start
    while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
        i += 1
    while i > start and not lines[i - 1].strip():
        i -= 1
    return i


def _simple_table(lines: list[str], start: int) -> tuple[list[str], int] | None:
    """A reST simple table whose top border is ``lines[start]``: (Markdown table lines, index after it)."""
    top = lines[start]
    spans = [(m.start(), m.end()) for m in re.finditer(r"=+", top)]
    borders = [start]
    i = start + 1
    while i < len(lines) and len(borders) < 3:
        if lines[i].strip() == top.strip():
            borders.append(i)
        elif not lines[i].strip():
            return None
        i += 1
    if len(borders) != 3:
        return None
    pad = " " * spans[0][0]

    def cells(line: str) -> list[str]:
        out = []
        for j, (a, _) in enumerate(spans):
            b = spans[j + 1][0] if j + 1 < len(spans) else None
            out.append(line[a:b].strip() if b is not None else line[a:].strip())
        return out

    header = [" ".join(c) for c in zip(*(cells(line) for line in lines[borders[0] + 1 : borders[1]]), strict=True)]
    rows: list[list[str]] = []
    for line in lines[borders[1] + 1 : borders[2]]:
        c = cells(line)
        if rows and not c[0]:  # continuation line: first column empty
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], c, strict=True)]
        else:
            rows.append(c)

    def md(row: list[str]) -> str:
        return pad + "| " + " | ".join(x.replace("|", "\\|") for x in row) + " |"

    table = ["", md(header), pad + "|" + "---|" * len(spans), *(md(r) for r in rows), ""]
    return table, borders[2] + 1


class _RestBlocks(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            m = _DIRECTIVE.match(line)
            if m:
                indent = len(m.group("indent"))
                end = _block(lines, i + 1, indent)
                body = lines[i + 1 : end]
                pad = m.group("indent")
                if m.group("name") == "math":
                    body = [b for b in body if b.strip()]  # a blank line would end the Markdown block
                    deeper = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=indent)
                    out += ["", pad + "$$", *(pad + b[deeper:] if b.strip() else "" for b in body), pad + "$$", ""]
                else:
                    title = f' "{m.group("arg")}"' if m.group("arg") else ""
                    out += ["", f"{pad}!!! {m.group('name')}{title}", *body, ""]
                i = end
                continue
            if _BORDER.match(line):
                table = _simple_table(lines, i)
                if table is not None:
                    out += table[0]
                    i = table[1]
                    continue
            out.append(line)
            i += 1
        return out


class RestRolesExtension(Extension):
    """Render reST inline roles, ``.. math::``/admonition directives and simple tables in Markdown text."""

    def extendMarkdown(self, md: Any) -> None:
        # above the backtick pattern (190), so the role's backticks are not read as a bare code span
        md.inlinePatterns.register(_RoleProcessor(ROLE_PATTERN, md), "rest_roles", 191)
        # after normalize_whitespace (30), before html_block (20)
        md.preprocessors.register(_RestBlocks(md), "rest_blocks", 29)


@event_priority(100)  # before mkdocstrings reads the extension list
def on_config(config: Any) -> Any:
    for name in ("mkdocs.plugins.griffe", "griffe"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    if not any(isinstance(e, RestRolesExtension) for e in config.markdown_extensions):
        config.markdown_extensions.append(RestRolesExtension())
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    require = os.environ.get("STEERING_BOUNDS_DOCS_FIGURES", "") == "require"
    base = posixpath.dirname(page.file.src_uri)

    def replace(m: re.Match[str]) -> str:
        src = m.group("src")
        if "://" in src:
            return m.group(0)
        target = posixpath.normpath(posixpath.join(base, src))
        if not target.startswith(FIGURE_DIR) or files.get_file_from_path(target) is not None:
            return m.group(0)
        msg = f"{page.file.src_uri}: figure docs/{target} has not been generated: run `{FIGURES_COMMAND}`"
        if require:
            log.warning(msg)
        else:
            log.info(msg)
        return (
            f'!!! warning "Figure not generated yet: `docs/{target}`"\n'
            f"    Run `{FIGURES_COMMAND}` to draw it ({m.group('alt') or 'no description'}).\n"
        )

    return IMAGE.sub(replace, markdown)
