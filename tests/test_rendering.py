"""The math rendering: every statement's LaTeX reads like the paper and parses, and the docs site shows it typeset
offline.

* Every formula a statement page shows -- the statement (:meth:`bounds.Statement.latex`), its symbols and its
  expansions (:mod:`bounds.theory_doc`) -- has no Greek letter or operator name written as a bare word (``lambda``,
  ``nabla``, ``ell``, ``limsup``, ``Var``: a run of two or more letters outside a macro is read as a product of
  variables), and renders with the KaTeX the site ships (``docs/javascripts/katex/``, see its README.md), run under
  Node.js with ``throwOnError: true`` and ``strict: "error"``. KaTeX knows ``\\iff`` and ``cases``; matplotlib's
  mathtext knows neither, so it is no test of this LaTeX.
* The site, built by mkdocs into a temporary folder, loads nothing from outside itself (no CDN; the vendored KaTeX
  CSS names only fonts that are shipped), every formula of every page (docstrings and prose included) renders with
  KaTeX, and statement pages opened in headless Chromium, with every request outside the machine refused (a proxy
  that does not exist), show typeset math (``.katex`` elements, no ``.katex-error``) and no raw ``\\(``/``\\[`` in
  their visible text.

Node.js (``node``) and Chromium (``chromium``; Debian: ``apt-get install -y chromium``) are found on ``PATH``; a test
that needs a missing one is skipped, saying which, unless ``STEERING_BOUNDS_RENDER_TESTS=require`` (set by CI), which
makes a missing tool a failure.
"""

from __future__ import annotations

import functools
import html
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bounds import registry, theory_doc

ROOT = Path(__file__).resolve().parents[1]
KATEX = ROOT / "docs" / "javascripts" / "katex"
REQUIRE = os.environ.get("STEERING_BOUNDS_RENDER_TESTS") == "require"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: statement pages opened in Chromium: a series with named coefficients, a predicate (``\iff``), ``cases``
BROWSER_PAGES = ("theorem-1", "assumption-4", "theorem-4-corrected")


def _tool(names: tuple[str, ...], install: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    message = f"needs {names[0]} on PATH ({install})"
    if REQUIRE:
        pytest.fail(f"{message}; STEERING_BOUNDS_RENDER_TESTS=require")
    pytest.skip(message)


def _node() -> str:
    return _tool(("node", "nodejs"), "Debian: apt-get install -y nodejs")


def _chromium() -> str:
    return _tool(CHROMIUM_NAMES, "Debian: apt-get install -y chromium")


# ---------------------------------------------------------------------------------------------------------------------
# the formulas of the statement pages
# ---------------------------------------------------------------------------------------------------------------------
_DISPLAY = re.compile(r"^\$\$\n(?P<tex>.*?)\n\$\$$", re.M | re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)(?P<tex>[^$]+)\$")


def _math_of_markdown(text: str) -> list[tuple[str, bool]]:
    """``(tex, display)`` of the ``$$…$$`` blocks and ``$…$`` spans of generated Markdown."""
    out = [(m.group("tex"), True) for m in _DISPLAY.finditer(text)]
    return out + [(m.group("tex"), False) for m in _INLINE.finditer(_DISPLAY.sub("", text))]


@functools.cache
def _expansions(statement_id: str) -> tuple[str, ...]:
    """The lines of a statement page's expansions section (sympy takes seconds: computed once)."""
    return tuple(theory_doc._expansions(registry.get(statement_id)))


@functools.cache
def _statement_formulas() -> tuple[tuple[str, str, bool], ...]:
    """``(where, tex, display)`` of every formula a statement page shows: the statement, each symbol, the
    expansions."""
    out: list[tuple[str, str, bool]] = []
    for s in registry.statements():
        out.append((f"{s.id}: statement", s.latex(), True))
        for name, tex in theory_doc._symbol_latex(s).items():
            out.append((f"{s.id}: symbol {name}", tex, False))
        for tex, display in _math_of_markdown("\n".join(theory_doc._symbols(s))):
            out.append((f"{s.id}: symbols table", tex, display))
        for tex, display in _math_of_markdown("\n".join(_expansions(s.id))):
            out.append((f"{s.id}: expansions", tex, display))
    return tuple(out)


#: macros whose argument is text, not math (its words are words)
_TEXT_ARGUMENT = re.compile(r"\\(?:operatorname\*?|mathrm|text|textrm|begin|end)\s*\{[^{}]*\}")
_MACRO = re.compile(r"\\(?:[A-Za-z]+|.)")
_WORD = re.compile(r"[A-Za-z]{2,}")


def bare_words(tex: str) -> list[str]:
    """Runs of two or more letters outside macros and text arguments: ``\\lambda`` is a macro, ``lambda`` is the
    product l·a·m·b·d·a."""
    return _WORD.findall(_MACRO.sub(" ", _TEXT_ARGUMENT.sub(" ", tex)))


def test_bare_words_finds_the_garbled_names_of_issue_14() -> None:
    garbled = {
        r"\lambda^{(ell)}": ["ell"],
        r"- \eta nabla^{(l)L}_{h}": ["nabla"],
        r"limsup_{lambda->oo} E_q[H_lambda(q)]": ["limsup", "lambda", "oo", "lambda"],
        r"Var_{D(z s)} = \sigma^{2}": ["Var"],
        r"P_{ge}": ["ge"],
    }
    for tex, words in garbled.items():
        assert bare_words(tex) == words, tex
    for tex in (
        r"\operatorname{Var}_{D}(z_{s})",
        r"\lambda^{(\ell)}_{\mathrm{corr}}",
        r"\text{for}\: x",
        r"\max_{M} z",
    ):
        assert bare_words(tex) == [], tex


def test_no_statement_formula_writes_a_name_as_a_bare_word() -> None:
    bad = [(where, words, tex) for where, tex, _ in _statement_formulas() if (words := bare_words(tex))]
    assert not bad, "bare words (write a macro, or add the name to bounds.domains.latex_names):\n" + "\n".join(
        f"{where}: {words} in {tex}" for where, words, tex in bad
    )


def test_statement_latex_reads_like_the_paper() -> None:
    expected = {
        "definition-helpfulness": r"H_{P}(q) = P(a^{*} \mid q)",
        "assumption-2": r"A_{2}(q) :\iff \min_{A^{+}} z - \max_{A^{-}} z \geq \Delta",
        "corollary-2": r"\limsup_{\lambda\to\infty} \mathbb{E}_{q}\left[H_{\lambda}(q)\right] \leq \frac{1}{n}",
        "proposition-1": r"\delta h^{(l)} = - \eta \nabla_{h^{(l)}} \mathcal{L}",
    }
    for sid, tex in expected.items():
        assert registry.get(sid).latex() == tex
    assert registry.get("assumption-3").latex().startswith(r"A_{3}(q) :\iff \operatorname{Var}_{D}(z_{s})")
    assert r"\max_{A^{-}\setminus M} z" in registry.get("assumption-4").latex()
    assert registry.get("theorem-6").latex().startswith(r"\lambda^{(\ell)} = \max\left(0, \frac{\ln")
    assert registry.get("theorem-2-expectation").latex().startswith(r"\mathbb{E}_{z}\left[H_{\lambda}(q)\right] = ")
    assert registry.get("theorem-2-expectation").latex().endswith(r"S_{2} = \sum_{b\neq a^{*}} P(b \mid q)^{2}")


def test_series_are_collected_by_powers_of_lambda_with_named_coefficients() -> None:
    s = registry.get("theorem-1")
    assert s.series_latex(2) == (
        r"B_{0} + \frac{\Delta \alpha \left(1 - B_{0}^{2}\right)}{2} \lambda"
        r" + \frac{B_{0} \Delta^{2} \alpha^{2} \left(B_{0}^{2} - 1\right)}{4} \lambda^{2} + O(\lambda^{3})"
    )
    page = "\n".join(_expansions(s.id))
    assert "c_{0} + c_{1} \\lambda + c_{2} \\lambda^{2} + O(\\lambda^{3})" in page
    assert "c_{0} &= B_{0}" in page
    assert "a_{0} + a_{1} e^{- \\Delta \\alpha \\lambda}" in page
    # no coefficient is shown as sympy's expanded sum over a common denominator
    for st in registry.statements():
        if st.closed_form_in_lambda:
            for line in _expansions(st.id):
                assert len(line) < 700, f"{st.id}: an expansion line of {len(line)} characters"


# ---------------------------------------------------------------------------------------------------------------------
# KaTeX under Node.js
# ---------------------------------------------------------------------------------------------------------------------
_RENDER_JS = """
const katex = require(process.argv[process.argv.length - 1]);
const items = JSON.parse(require("fs").readFileSync(0, "utf8"));
const errors = [];
for (const item of items) {
  try {
    katex.renderToString(item.tex, { displayMode: item.display, throwOnError: true, strict: "error" });
  } catch (e) {
    errors.push({ ...item, error: String(e.message) });
  }
}
process.stdout.write(JSON.stringify(errors));
"""


def katex_errors(items: list[dict]) -> list[dict]:
    """Render ``{"where", "tex", "display"}`` items with the vendored KaTeX under Node.js; the items that fail, each
    with its ``error``."""
    node = _node()
    out = subprocess.run(
        [node, "-e", _RENDER_JS, str(KATEX / "katex.min.js")],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _report(errors: list[dict]) -> str:
    return "\n".join(f"{e['where']}: {e['error']}\n    {e['tex']}" for e in errors)


def test_katex_is_a_real_renderer_that_knows_iff_and_cases() -> None:
    items = [
        {"where": "iff", "tex": r"A :\iff B", "display": True},
        {
            "where": "cases",
            "tex": r"\begin{cases} 1 & \text{for}\: x < 0 \\ 0 & \text{otherwise} \end{cases}",
            "display": True,
        },
        {"where": "undefined macro", "tex": r"z^{-\M}_{max}", "display": False},
        {"where": "bad subscript", "tex": r"\rho_\max", "display": False},
    ]
    assert [e["where"] for e in katex_errors(items)] == ["undefined macro", "bad subscript"]


def test_every_statement_formula_renders_with_katex() -> None:
    items = [{"where": where, "tex": tex, "display": display} for where, tex, display in _statement_formulas()]
    assert len(items) > 100
    errors = katex_errors(items)
    assert not errors, f"{len(errors)} formulas KaTeX cannot render:\n{_report(errors)}"


# ---------------------------------------------------------------------------------------------------------------------
# the docs site
# ---------------------------------------------------------------------------------------------------------------------
def _docs_tools_installed() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("mkdocs", "material", "mkdocstrings_handlers"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The docs site built by mkdocs (not strict: ``tests/test_docs.py::test_mkdocs_build_strict`` checks that)."""
    if not _docs_tools_installed():
        pytest.skip("needs the docs tools: bash scripts/test.sh (it installs requirements/lock.txt)")
    out = tmp_path_factory.mktemp("site")
    cmd = [sys.executable, "-m", "mkdocs", "build", "--no-strict", "--config-file", str(ROOT / "mkdocs.yml")]
    res = subprocess.run([*cmd, "--site-dir", str(out)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr[-5000:]
    return out


def test_mkdocs_config_loads_math_from_the_repository() -> None:
    yaml = pytest.importorskip("yaml", reason="needs PyYAML (installed with the docs tools)")
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert not re.search(r"jsdelivr|unpkg|cdnjs|googleapis|mathjax", text, re.I)
    config = yaml.safe_load(text.replace("!!python/name:", ""))
    assert config["theme"].get("font") is False, "theme.font: false (no Google Fonts)"
    for path in [*config["extra_javascript"], *config["extra_css"]]:
        assert "://" not in path and (ROOT / "docs" / path).is_file(), path
    css = (KATEX / "katex.min.css").read_text(encoding="utf-8")
    urls = re.findall(r"url\(([^)]+)\)", css)
    assert urls and all((KATEX / u).is_file() for u in urls), "katex.min.css names a file that is not shipped"
    version = re.search(r'version:"([0-9.]+)"', (KATEX / "katex.min.js").read_text(encoding="utf-8"))
    assert version and f"version **{version.group(1)}**" in (KATEX / "README.md").read_text(encoding="utf-8")
    assert "MIT License" in (KATEX / "LICENSE").read_text(encoding="utf-8")


_ASSET = re.compile(r"<(?:script|img)\b[^>]*\bsrc=\"([^\"]+)\"|<link\b[^>]*\bhref=\"([^\"]+)\"[^>]*>")


def test_site_loads_nothing_from_outside(site: Path) -> None:
    outside = []
    for page in site.rglob("*.html"):
        for m in _ASSET.finditer(page.read_text(encoding="utf-8")):
            url = m.group(1) or m.group(2)
            if "<link" in m.group(0) and not re.search(r'rel="(stylesheet|preload|preconnect|icon)"', m.group(0)):
                continue
            if re.match(r"(https?:)?//", url):
                outside.append(f"{page.relative_to(site)}: {url}")
    assert not outside, "\n".join(outside[:20])


_ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)


def _site_formulas(site: Path) -> list[dict]:
    out = []
    for page in sorted(site.rglob("*.html")):
        for m in _ARITHMATEX.finditer(page.read_text(encoding="utf-8")):
            tex = html.unescape(m.group(2)).strip()
            assert tex[:2] in ("\\(", "\\[") and tex[-2:] in ("\\)", "\\]"), tex
            out.append({"where": str(page.relative_to(site)), "tex": tex[2:-2], "display": tex.startswith("\\[")})
    return out


def test_every_formula_of_the_site_renders_with_katex(site: Path) -> None:
    items = _site_formulas(site)
    assert len(items) > 500
    errors = katex_errors(items)
    assert not errors, f"{len(errors)} formulas of the site KaTeX cannot render:\n{_report(errors)}"


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[tuple[str, int]]

    def log_request(self, code: object = "-", size: object = "-") -> None:
        self.requests.append((self.path, int(code) if isinstance(code, int) else 0))


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """The site on an HTTP server of this machine: ``(base URL, [(path, status)] of the requests served)``."""
    requests: list[tuple[str, int]] = []
    handler = functools.partial(type("Handler", (_Handler,), {"requests": requests}), directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


class _VisibleText(HTMLParser):
    """The text a reader sees, and the classes of the elements: scripts, styles and KaTeX's MathML copy (hidden,
    for screen readers; it holds the TeX source) left out."""

    HIDDEN = ("script", "style", "noscript", "template")
    VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    )

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.text: list[str] = []
        self.classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        self.classes += classes
        if tag in self.VOID:
            return
        hidden = tag in self.HIDDEN or "katex-mathml" in classes or (bool(self.stack) and self.stack[-1])
        self.stack.append(hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.text.append(data)


@pytest.mark.parametrize("statement_id", BROWSER_PAGES)
def test_statement_page_shows_typeset_math_offline_in_headless_chromium(
    statement_id: str, served: tuple[str, list[tuple[str, int]]], site: Path, tmp_path: Path
) -> None:
    chromium = _chromium()
    base, requests = served
    path = f"/theory/{statement_id}/"
    static = (site / path.strip("/") / "index.html").read_text(encoding="utf-8")
    n_math = len(_ARITHMATEX.findall(static))
    assert n_math > 0
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        # offline: every request outside this machine goes to a proxy that does not exist (loopback bypasses it)
        "--proxy-server=http://127.0.0.1:9",
        "--virtual-time-budget=15000",
        "--dump-dom",
        base + path,
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert res.returncode == 0 and "</html>" in res.stdout, res.stderr[-3000:]
    page = _VisibleText()
    page.feed(res.stdout)
    visible = " ".join(page.text)
    for raw in ("\\(", "\\[", "\\)", "\\]", "\\frac", "\\lambda"):
        assert raw not in visible, f"raw TeX {raw!r} in the visible text of {path}"
    assert page.classes.count("arithmatex") == n_math
    assert page.classes.count("katex") >= n_math, f"{page.classes.count('katex')} typeset of {n_math} formulas"
    assert page.classes.count("katex-display") > 0
    assert "katex-error" not in page.classes, "KaTeX could not parse a formula of the page"
    served_ok = {p for p, code in requests if code == 200}
    assert any(p.endswith(".woff2") and "/javascripts/katex/fonts/" in p for p in served_ok), "no KaTeX font loaded"
    assert not [p for p, code in requests if code >= 400], "the page asked for files the site does not have"


def test_collected_latex_brackets_sums_and_shows_unit_coefficients_as_signs() -> None:
    from bounds.statement import collected_latex

    terms = [("B_{0}", 0), ("- 1", 1), (r"a - b", 2), (r"- \frac{x}{2}", 3)]
    assert collected_latex(terms, r"\lambda") == (
        r"B_{0} - \lambda + \left(a - b\right) \lambda^{2} - \frac{x}{2} \lambda^{3}"
    )
    assert collected_latex([], r"\lambda") == "0"
