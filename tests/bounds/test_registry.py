"""The registry is complete, consistent with docs/specification.md §0, and every status is backed by named tests."""

from __future__ import annotations

import importlib
import json

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import bounds
from bounds import domains as S
from bounds import registry
from bounds.spec import COUNTEREXAMPLES, PROSE
from bounds.statement import CLAIM_KINDS, NotClosedForm, Statement
from bounds.strategies import hard_margin_instances
from tests import _hyp
from tests._hyp import TooFewInstances, checked, counted

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


# -- evidence that convinces: non-degenerate instances and counterexamples --------------------------------------------
#: a counted property test must state at least this share of its examples as non-degenerate instances (and at least
#: :data:`MIN_COUNT` of them)
MIN_SHARE, MIN_COUNT = 0.1, 5


def _max_examples(test) -> int:
    return test.__wrapped__._hypothesis_internal_use_settings.max_examples


@pytest.mark.parametrize("s", [s for s in ALL if s.status == "holds"], ids=lambda s: s.id)
def test_holds_claims_check_a_stated_minimum_of_nondegenerate_instances(s: Statement) -> None:
    """Each claim that holds says what a non-degenerate instance is and how many its property tests check at least.

    Each stated test is counted for this statement (``tests/_hyp.py::counted``): it reads its minimum from the
    statement and fails (:class:`TooFewInstances`) when it checked fewer non-degenerate instances than that, so "N
    examples" cannot pass on N skipped or trivial draws; the minimum is at least a tenth of its examples."""
    assert s.nondegenerate, f"{s.id} holds but does not say what a non-degenerate instance is"
    assert s.min_instances, f"{s.id} holds but states no minimum of non-degenerate instances"
    for node, minimum in s.min_instances.items():
        test = _test_function(node)
        assert getattr(test, "counted_for", None) == s.id, f"{node} does not count instances of {s.id}"
        assert test.counted_node == node
        n = _max_examples(test)
        assert max(MIN_COUNT, MIN_SHARE * n) <= minimum <= n, f"{node}: minimum {minimum} of {n} examples"


def test_counting_fails_below_the_stated_minimum() -> None:
    """The counting mechanism, with deliberately too-small counts: a counted test that checks fewer non-degenerate
    instances than its minimum fails, one that checks enough passes, and the count is what ``checked`` reported."""

    def property_test(minimum: int):
        @counted("theorem-1", minimum=minimum)
        @settings(max_examples=40, derandomize=True, database=None)
        @given(st.integers(0, 10**6))
        def test_demo(i: int) -> None:
            checked(nondegenerate=i % 3 == 0)

        return test_demo

    property_test(1)()
    ran = _hyp.LAST_RUN["tests/bounds/test_registry.py::test_demo"]
    assert ran.checked == 40 and 1 <= ran.nondegenerate < 40
    with pytest.raises(TooFewInstances, match=rf"checked {ran.nondegenerate} non-degenerate instances of theorem-1"):
        property_test(ran.nondegenerate + 1)()
    property_test(ran.nondegenerate)()


def test_real_evidence_with_too_few_examples_fails_its_stated_minimum() -> None:
    """Theorem 1's settling property test, its body and strategy unchanged but run on 30 examples: it checks fewer
    non-degenerate instances than the 1500 that ``theorem-1`` states, and fails."""
    from tests.bounds import test_alignment

    inner = test_alignment.test_theorem_1_holds_on_hard_margin_instances.__wrapped__.hypothesis.inner_test
    thirty = settings(max_examples=30, derandomize=True, database=None)
    short = counted("theorem-1")(thirty(given(hard_margin_instances())(inner)))
    assert bounds.statement("theorem-1").min_instances[short.counted_node] == 1500
    with pytest.raises(TooFewInstances, match=r"fewer than the stated 1500"):
        short()


@pytest.mark.parametrize("s", [s for s in ALL if s.further_counterexamples], ids=lambda s: s.id)
def test_further_counterexamples_are_violated_and_pinned(s: Statement) -> None:
    """A failing claim's counterexamples beyond the simplest one are violated, say what they show in numbers, and
    are found by a search that excludes the degenerate cases and pinned by a regression test."""
    names = [e.partition("::")[2] for e in s.evidence]
    assert any("nondegenerate_counterexample_found_by_search" in n for n in names), s.id
    assert any("regression_nondegenerate" in n for n in names), s.id
    for ce in s.further_counterexamples:
        json.dumps(dict(ce))
        assert isinstance(ce.get("what"), str) and any(ch.isdigit() for ch in ce["what"])
        assert s.violation(dict(ce)) > 0


def test_pinned_counterexamples_file_holds_exactly_the_failing_claims() -> None:
    """``bounds/spec/counterexamples.json`` holds one entry per failing claim, carried as is by its statement."""
    failing = {s.id: s for s in ALL if s.status == "fails"}
    assert set(COUNTEREXAMPLES) == set(failing)
    for sid, found in COUNTEREXAMPLES.items():
        assert failing[sid].counterexample == found["counterexample"]
        assert list(failing[sid].further_counterexamples) == found.get("further_counterexamples", [])


def test_prose_files_hold_exactly_the_statements_prose() -> None:
    """``bounds/spec/*.md`` hold one section per statement, with exactly its prose fields, carried as they are."""
    by_id = {s.id: s for s in ALL}
    assert set(PROSE) == set(by_id)
    for sid, fields in PROSE.items():
        claim = ("settled_how", "proof") if by_id[sid].is_claim else ()
        assert tuple(fields) == ("paper", "reconstruction", "decision", *claim), sid
        assert all(getattr(by_id[sid], name) == value for name, value in fields.items()), sid


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
