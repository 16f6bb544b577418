"""The registry is complete, consistent with THEORY §0, and every status is backed by named tests."""

from __future__ import annotations

import importlib
import json

import pytest
import sympy as sp

import bounds
from bounds import registry
from bounds import symbols as S
from bounds.statement import CLAIM_KINDS, NotClosedForm, Statement

ALL = registry.statements()
IDS = [s.id for s in ALL]


def test_every_statement_of_theory_is_encoded_in_order() -> None:
    assert tuple(IDS) == registry.ORDER


@pytest.mark.parametrize("s", ALL, ids=IDS)
def test_kind_matches_id(s: Statement) -> None:
    prefix = s.id.split("-")[0]
    if s.kind == "replacement":
        assert s.id.endswith(("-corrected", "-jensen", "-event", "-expectation"))
    else:
        assert prefix == s.kind


@pytest.mark.parametrize("s", [s for s in ALL if s.kind == "replacement"], ids=lambda s: s.id)
def test_replacements_replace_failing_statements(s: Statement) -> None:
    replaced = registry.get(s.replaces)
    assert replaced.status == "fails"
    assert s.status == "holds"


def _test_function(evidence: str):
    path, _, name = evidence.partition("::")
    assert path.startswith("tests/") and path.endswith(".py"), evidence
    module = importlib.import_module(path[:-3].replace("/", "."))
    return getattr(module, name.split("[")[0], None)


@pytest.mark.parametrize("s", ALL, ids=IDS)
def test_evidence_names_existing_tests(s: Statement) -> None:
    if s.is_claim:
        assert s.evidence, f"{s.id} has no evidence"
    for e in s.evidence:
        assert callable(_test_function(e)), f"{s.id}: evidence {e} is not a test function"


@pytest.mark.parametrize("s", [s for s in ALL if s.is_claim], ids=lambda s: s.id)
def test_status_is_backed_by_the_right_kind_of_test(s: Statement) -> None:
    names = [e.partition("::")[2] for e in s.evidence]
    if s.status == "holds":
        assert any("holds" in n for n in names), f"{s.id} holds but no evidence test checks that it holds"
        assert s.counterexample is None
    else:
        assert any("counterexample" in n for n in names), f"{s.id} fails but no test searches for a counterexample"
        assert any("regression" in n for n in names), f"{s.id} fails but no regression test pins the example"
        assert s.violation(dict(s.counterexample)) > 0


@pytest.mark.parametrize("s", ALL, ids=IDS)
def test_renderings_and_json(s: Statement) -> None:
    d = s.to_dict()
    json.dumps(d)
    assert {"id", "name", "kind", "latex", "provenance"} <= set(d)
    assert ("status" in d) == (s.kind in CLAIM_KINDS)
    assert s.latex() and s.text()
    assert all(isinstance(v, str) and v for v in s.parameters.values())


@pytest.mark.parametrize("s", ALL, ids=IDS)
def test_expansions_exist_exactly_for_closed_forms(s: Statement) -> None:
    if s.closed_form_in_lambda:
        assert s.expr.has(S.lam), f"{s.id} claims a closed form in lambda but its expression has no lambda"
        c0 = s.series_coefficients(0)[0]
        assert sp.simplify(c0 - s.expr.subs(S.lam, 0)) == 0
    else:
        with pytest.raises(NotClosedForm):
            s.series(2)
        with pytest.raises(NotClosedForm):
            s.asymptotic(2)


def test_get_unknown_id_lists_valid_ids() -> None:
    with pytest.raises(KeyError, match="theorem-1"):
        bounds.statement("theorem-99")
