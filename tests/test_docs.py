"""The documentation site (``mkdocs.yml``, ``docs/``): generated theory pages, executed tutorials, the figures gallery
and ``mkdocs build --strict``.

* The theory pages are the rendering of the statement registry (``python -m bounds.theory_doc --pages docs/theory
  --index docs/theory.md``), and each claim's ``settled_by`` (:class:`bounds.Statement`) names a test that exists and
  is of the right kind.
* Every tutorial (``docs/tutorials/*.md``) is executed: its ```` ```python ```` blocks run in order in one fresh
  namespace, in a temporary working directory, and its ```` ```bash ```` blocks (only ``steering-bounds`` commands)
  run in-process through :func:`steering_bounds.cli.main`. ```` ```shell ```` blocks are shown, not run. The check
  tutorial runs on the embedded SmolLM2 (session fixture ``smollm2``; marker ``integration``).
* The gallery lists every figure of :data:`paper_figures.FIGURES`, and every figure a page shows exists.
* ``mkdocs build --strict`` passes (warnings are errors); skipped when the docs requirements are not installed.
"""

from __future__ import annotations

import ast
import importlib.util
import linecache
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bounds import registry, theory_doc

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIALS = DOCS / "tutorials"
DOCS_INSTALL = "bash scripts/test.sh (it installs requirements/lock.txt, the docs extra included)"
FAST_TUTORIALS = ("bounds.md", "property-testing.md", "fitting.md", "paper-curves.md")
CHECK_TUTORIAL = "check.md"
SHOWN_LANGUAGES = {"shell", "text", "json", "console"}  # fenced blocks that are shown, never run


# ---------------------------------------------------------------------------------------------------------------------
# theory pages
# ---------------------------------------------------------------------------------------------------------------------
def test_theory_pages_are_generated_from_registry() -> None:
    stale = theory_doc.stale_files(DOCS / "theory", DOCS / "theory.md")
    assert stale == [], f"stale theory pages {stale}: run `{theory_doc.INDEX_COMMAND}`"


def _test_functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def _decorator_names(fn: ast.FunctionDef) -> set[str]:
    names = set()
    for d in fn.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def _calls(fn: ast.FunctionDef) -> set[str]:
    out = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Call):
            f = n.func
            out.add(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", ""))
    return out


def test_settled_by_names_a_test_of_each_claim_that_exists_and_fits_its_status() -> None:
    items = {s.id: s for s in registry.statements()}
    claims = {i for i, s in items.items() if s.is_claim}
    assert {i for i, s in items.items() if s.settled_by} == claims, "settled_by must name exactly the claims"
    assert {i for i, s in items.items() if s.proof} == claims, "every claim (and only claims) needs a proof sketch"
    for sid in claims:
        s = items[sid]
        assert s.settled_by in s.evidence, f"{sid}: {s.settled_by} is not in the statement's evidence"
        file, _, name = s.settled_by.partition("::")
        functions = _test_functions(ROOT / file)
        assert name in functions, f"{sid}: no test function {name} in {file}"
        fn = functions[name]
        assert sid.replace("-", "_") in name, f"{sid}: the settling test's name does not carry the statement id"
        if s.status == "holds":  # a property test settles a claim that holds
            assert "given" in _decorator_names(fn), f"{sid}: {name} is not a @given property test"
        else:  # a counterexample search settles a claim that fails
            assert s.status == "fails", s.status
            assert {"search", "find"} & _calls(fn), f"{sid}: {name} does not search (tests._hyp.search / find)"


def test_theory_pages_show_status_test_and_counterexample() -> None:
    for s in registry.statements():
        page = (DOCS / theory_doc.page_path(s.id)).read_text(encoding="utf-8")
        assert s.latex() in page
        for tag in s.provenance:
            assert f"`{tag}`" in page
        if s.is_claim:
            assert f"| status | **{s.status}** |" in page
            assert s.settled_by in page and "## Proof sketch" in page
        if s.status == "fails":
            assert "## Counterexample" in page and theory_doc.counterexample_figure(s.id) in page
        else:
            assert "## Counterexample" not in page


def test_theory_doc_command_writes_checks_and_removes_stale_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pages, index = tmp_path / "theory", tmp_path / "theory.md"
    args = ["--pages", str(pages), "--index", str(index)]
    assert theory_doc.main([*args, "--check"]) == 1
    assert theory_doc.main(args) == 0
    assert sorted(p.name for p in pages.iterdir()) == sorted(f"{s.id}.md" for s in registry.statements())
    assert index.read_text(encoding="utf-8") == theory_doc.render_markdown()
    assert theory_doc.main([*args, "--check"]) == 0
    (pages / "theorem-99.md").write_text("# gone\n", encoding="utf-8")
    assert theory_doc.main([*args, "--check"]) == 1
    assert "theorem-99.md" in capsys.readouterr().out
    assert theory_doc.main(args) == 0 and not (pages / "theorem-99.md").exists()
    with pytest.raises(SystemExit):
        theory_doc.main([])


def _nav() -> list:
    import yaml

    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]


def _section(nav: list, title: str) -> list:
    for item in nav:
        if isinstance(item, dict) and title in item:
            return item[title]
    raise AssertionError(f"no nav section {title!r}")


def _nav_files(entries: list) -> list[str]:
    out = []
    for e in entries:
        if isinstance(e, str):
            out.append(e)
        elif isinstance(e, dict):
            (v,) = e.values()
            out += _nav_files(v) if isinstance(v, list) else [v]
    return out


def test_nav_lists_every_statement_page_tutorial_and_api_page() -> None:
    nav = _nav()
    theory = _nav_files(_section(nav, "Theory"))
    assert theory == ["theory.md"] + [theory_doc.page_path(s.id) for s in registry.statements()]
    tutorials = _nav_files(_section(nav, "Tutorials"))
    assert sorted(tutorials) == sorted(str(p.relative_to(DOCS)) for p in TUTORIALS.glob("*.md"))
    api = _nav_files(_section(nav, "API reference"))
    assert sorted(api) == sorted(str(p.relative_to(DOCS)) for p in (DOCS / "api").glob("*.md"))
    files = _nav_files(nav)
    for page in ("index.md", "check.md", "benchmarks.md", "gallery.md"):
        assert page in files
    for f in files:
        assert (DOCS / f).is_file(), f


# ---------------------------------------------------------------------------------------------------------------------
# tutorials, executed
# ---------------------------------------------------------------------------------------------------------------------
FENCE = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<code>.*?)^```\s*$", re.M | re.S)


def tutorial_blocks(path: Path) -> list[tuple[str, str]]:
    """``(language, code)`` of every fenced block of a page, in order."""
    return [(m.group("lang"), m.group("code")) for m in FENCE.finditer(path.read_text(encoding="utf-8"))]


def steering_bounds_commands(code: str) -> list[list[str]]:
    """The ``steering-bounds`` command lines of a bash block (continuations joined, comments dropped) as argv
    lists without the program name; any other command is an error (bash blocks must be runnable here)."""
    out = []
    for line in code.replace("\\\n", " ").splitlines():
        argv = shlex.split(line, comments=True)
        if not argv:
            continue
        prog = argv[0].removeprefix(".venv/bin/")
        if prog != "steering-bounds":
            raise AssertionError(f"a bash block may only run steering-bounds (use ```shell to show): {line!r}")
        out.append(argv[1:])
    return out


def run_tutorial(path: Path, monkeypatch: pytest.MonkeyPatch, cwd: Path) -> dict:
    """Run a tutorial's blocks in order in ``cwd``; returns the namespace of its Python blocks."""
    from steering_bounds.cli import main

    monkeypatch.chdir(cwd)
    ns: dict = {"__name__": f"tutorial_{path.stem}"}
    blocks = tutorial_blocks(path)
    assert any(lang == "python" for lang, _ in blocks), f"{path.name} has no python block"
    for i, (lang, code) in enumerate(blocks):
        where = f"{path.relative_to(ROOT)} block {i + 1}"
        if lang == "python":
            linecache.cache[where] = (len(code), None, code.splitlines(keepends=True), where)  # tracebacks show it
            exec(compile(code, where, "exec"), ns)
        elif lang == "bash":
            for argv in steering_bounds_commands(code):
                monkeypatch.setattr(sys, "argv", ["steering-bounds", *argv])
                assert main(argv) == 0, f"{where}: steering-bounds {' '.join(argv)} failed"
        else:
            assert lang in SHOWN_LANGUAGES, f"{where}: unknown fence language {lang!r}"
    return ns


def test_every_tutorial_is_executed_by_a_test() -> None:
    pages = {p.name for p in TUTORIALS.glob("*.md")} - {"index.md"}
    assert pages == {*FAST_TUTORIALS, CHECK_TUTORIAL}
    for name in pages:
        for lang, code in tutorial_blocks(TUTORIALS / name):
            assert lang in {"python", "bash"} | SHOWN_LANGUAGES, (name, lang)
            if lang == "bash":
                assert steering_bounds_commands(code), f"{name}: empty bash block"


@pytest.mark.parametrize("name", FAST_TUTORIALS)
def test_tutorial_runs(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    t0 = time.perf_counter()
    run_tutorial(TUTORIALS / name, monkeypatch, tmp_path)
    print(f"{name}: {time.perf_counter() - t0:.1f} s")


@pytest.mark.integration
def test_check_tutorial_runs_on_smollm2(smollm2, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check tutorial's ``steering-bounds check`` runs in-process on the session's SmolLM2 (the loader is
    replaced by the already loaded model, which the command would load by the same name)."""
    from validation import models

    def loaded(name: str = "smollm2-135m-instruct", **_kwargs):
        assert name == smollm2.name, f"the tutorial runs {name!r}; the fixture is {smollm2.name!r}"
        return smollm2

    monkeypatch.setattr(models, "load_model", loaded)
    t0 = time.perf_counter()
    ns = run_tutorial(TUTORIALS / CHECK_TUTORIAL, monkeypatch, tmp_path)
    print(f"{CHECK_TUTORIAL}: {time.perf_counter() - t0:.1f} s")
    assert ns["report"]["model"]["sha256"] == smollm2.sha256


# ---------------------------------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------------------------------
IMAGE = re.compile(r"!\[[^\]]*\]\((?P<src>[^)\s]+)")


def _referenced_images() -> dict[str, list[str]]:
    """docs-relative image path -> pages that show it (images of every page, code blocks excluded)."""
    out: dict[str, list[str]] = {}
    for page in DOCS.rglob("*.md"):
        if "_hooks" in page.parts:
            continue
        text = FENCE.sub("", page.read_text(encoding="utf-8"))
        for m in IMAGE.finditer(text):
            src = m.group("src")
            if "://" in src:
                continue
            target = os.path.normpath(os.path.join(os.path.dirname(page.relative_to(DOCS)), src))
            out.setdefault(target.replace(os.sep, "/"), []).append(str(page.relative_to(DOCS)))
    return out


def expected_gallery_images() -> dict[str, list[str]]:
    """figure id of ``paper_figures.FIGURES`` -> the docs-relative PNGs it draws (``<module stem>.png``; the
    counterexample figure draws ``counterexample_<id>.png`` for every claim that fails)."""
    from paper_figures import FIGURES

    out = {}
    for fid, (module, _kind) in FIGURES.items():
        if fid == "counterexamples":
            failing = [s.id for s in registry.statements() if s.status == "fails"]
            out[fid] = [theory_doc.counterexample_figure(i) for i in failing]
        else:
            out[fid] = [f"figures/{module.rsplit('.', 1)[-1]}.png"]
    return out


def test_gallery_shows_every_paper_figure_and_the_check_figures() -> None:
    shown = {img for img, pages in _referenced_images().items() if "gallery.md" in pages}
    for fid, images in expected_gallery_images().items():
        missing = [i for i in images if i not in shown]
        assert not missing, f"docs/gallery.md does not show {missing} of figure {fid!r}"
    from validation.report import FIGURE_NAMES  # the check writes the report figures of paper_figures.FIGURES

    assert list(FIGURE_NAMES) == [
        "fig4_behavior.png",
        "fig5_helpfulness.png",
        "fig6_8_delta_norm.png",
        "fig9_10_noise.png",
        "fig11_12_separation.png",
        "steerability.png",
        "kl.png",
    ]
    for name in FIGURE_NAMES:
        assert f"figures/{name}" in shown


def test_referenced_figures_exist() -> None:
    """Every figure a page shows is committed under docs/figures (the site would show a warning box instead)."""
    missing = sorted(img for img in _referenced_images() if not (DOCS / img).is_file())
    assert not missing, (
        f"{len(missing)} figures shown by the docs are missing: {missing}; "
        "run `steering-bounds figures --out docs/figures` and commit them"
    )


# ---------------------------------------------------------------------------------------------------------------------
# the site
# ---------------------------------------------------------------------------------------------------------------------
def _docs_tools_installed() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("mkdocs", "material", "mkdocstrings_handlers"))


@pytest.mark.skipif(not _docs_tools_installed(), reason=f"needs the docs tools: {DOCS_INSTALL}")
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml")]
    res = subprocess.run(
        [*cmd, "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    print(f"mkdocs build --strict: {time.perf_counter() - t0:.1f} s")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-6000:]
    assert (site / "theory" / "theorem-1" / "index.html").is_file()
    api = (site / "api" / "bounds" / "index.html").read_text(encoding="utf-8")
    assert 'id="bounds.alignment_lower"' in api
    assert ":math:`" not in api and ".. math::" not in api  # reST of the docstrings is translated
    assert '<span class="arithmatex">' in api and '<div class="arithmatex">' in api


# ---------------------------------------------------------------------------------------------------------------------
# the repository stands alone: the specification is carried in docs/, and nothing points outside the repository
# ---------------------------------------------------------------------------------------------------------------------
SPECIFICATION = DOCS / "specification.md"
#: the files outside the repository the project once cited (their content now lives in docs/), and absolute paths to
#: the machine the project was written on; spelled in pieces so that this file does not match itself
OUTSIDE = re.compile(
    "|".join(
        [
            "THEORY" + r"\.md",
            "THEORY" + " §",
            r"\bTHEORY" + r" \d",
            "DATA" + r"\.md",
            "/work/" + "shared",
            r"\.\./" + "shared",
        ]
    )
)
TEXT_SUFFIXES = {".py", ".md", ".yml", ".yaml", ".toml", ".txt", ".in", ".sh", ".json", ".cfg", ".js", ".css"}
NOT_OURS = {".git", ".venv", "site", ".hypothesis", ".ruff_cache", ".pytest_cache", "__pycache__", "node_modules"}


def _repository_text_files() -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in NOT_OURS and not d.endswith(".egg-info")]
        out += [Path(dirpath) / f for f in filenames if Path(f).suffix in TEXT_SUFFIXES]
    return out


def test_no_file_of_the_repository_refers_to_a_file_outside_it() -> None:
    hits = []
    for path in _repository_text_files():
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert not hits, "references to files outside the repository (cite docs/specification.md §N):\n" + "\n".join(hits)


def _specification_anchors() -> set[str]:
    return set(re.findall(r"\{ #(s[\d-]+) \}", SPECIFICATION.read_text(encoding="utf-8")))


def test_specification_says_where_it_comes_from_and_keeps_its_section_numbers() -> None:
    text = SPECIFICATION.read_text(encoding="utf-8")
    assert "written for this project" in text and "2401.16332" in text
    anchors = _specification_anchors()
    assert {f"s{n}" for n in range(16)} <= anchors, sorted({f"s{n}" for n in range(16)} - anchors)
    assert {"s6-1", "s6-2", "s6-3", "s12-1", "s12-2", "s14-1", "s14-2"} <= anchors
    assert "specification.md" in _nav_files(_nav())


def test_every_section_the_code_cites_exists_in_the_specification() -> None:
    anchors = _specification_anchors()
    cited = re.compile(r"specification(?:\.md)? §(\d+)(?:\.(\d+))?")
    missing = []
    for path in _repository_text_files():
        for m in cited.finditer(path.read_text(encoding="utf-8", errors="replace")):
            major = f"s{m.group(1)}"
            if major not in anchors:
                missing.append(f"{path.relative_to(ROOT)}: §{m.group(1)}")
    assert not missing, missing


def test_every_statement_page_says_what_the_paper_says_what_was_reconstructed_and_what_was_decided() -> None:
    anchors = _specification_anchors()
    for s in registry.statements():
        page = (DOCS / theory_doc.page_path(s.id)).read_text(encoding="utf-8")
        for attr, heading in theory_doc.BACKGROUND:
            assert getattr(s, attr).strip(), f"{s.id} has no {attr!r} prose"
            assert f"## {heading}" in page, f"{s.id}: page lacks {heading!r}"
        assert theory_doc.spec_anchor(s.section) in anchors, s.section
        assert f"../specification.md#{theory_doc.spec_anchor(s.section)}" in page
        if s.kind == "replacement":
            assert "CORRECTED" in s.reconstruction and "no such statement" in s.paper, s.id
