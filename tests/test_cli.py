"""The ``steering-bounds`` command line and the import-isolation promise of ``bounds``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bounds import registry
from bounds.theory_doc import render_markdown
from validation.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_theory_table_lists_every_statement(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["theory"]) == 0
    out = capsys.readouterr().out
    for s in registry.statements():
        assert s.id in out
        assert s.text() in out
    assert "expansion:" in out


def test_theory_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["theory", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in items] == list(registry.ORDER)
    for d in items:
        assert {"id", "name", "kind", "latex", "provenance"} <= set(d)
        if d["kind"] in ("theorem", "corollary", "proposition", "replacement"):
            assert d["status"] in ("holds", "fails")
        else:
            assert "status" not in d


def test_theory_bad_order_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["theory", "--order", "-1"])
    assert "--order must be an integer >= 0" in capsys.readouterr().err


def test_docs_theory_is_generated_from_registry() -> None:
    page = (ROOT / "docs" / "theory.md").read_text(encoding="utf-8")
    stale = "docs/theory.md is stale: run `steering-bounds theory --markdown > docs/theory.md`"
    assert page == render_markdown(), stale


def test_import_bounds_pulls_no_heavy_or_test_dependency() -> None:
    code = (
        "import sys, bounds, bounds.registry, validation, validation.cli; bounds.statements();"
        "bad = [m for m in ('torch', 'transformers', 'hypothesis', 'lmfit') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr


def test_console_script_runs() -> None:
    exe = Path(sys.executable).with_name("steering-bounds")
    if not exe.exists():
        pytest.skip("console script not installed in this environment")
    res = subprocess.run([str(exe), "theory", "--json"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)[0]["id"] == "definition-behavior"
