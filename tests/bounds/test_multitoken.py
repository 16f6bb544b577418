"""Theorem 6 (multi-token alignment) as stated and corrected, settled on exact response trees (docs/specification.md
§11)."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

import bounds
from bounds import domains as S
from bounds import multitoken as MT
from bounds.multitoken import ResponseTree, multitoken_threshold, multitoken_threshold_corrected
from bounds.spec.multitoken import STATEMENTS
from bounds.steered import steered_distribution
from bounds.strategies import ResponseTreeInstance, response_tree_instances
from tests._hyp import checked, counted, many, search

EPS = st.floats(1e-6, 1 - 1e-6)
ALPHA = st.floats(0.05, 5.0)
EXTRA = st.floats(0.0, 5.0)


def _stmt(statement_id: str) -> bounds.Statement:
    return next(s for s in STATEMENTS if s.id == statement_id)


def _tol(inst: ResponseTreeInstance, norm: float) -> float:
    """Float tolerance of the exact response-level B at ``‖δ‖ = norm``.

    Each step's log-probabilities ``log p + ‖δ‖ z - logsumexp`` carry a rounding error of a few ulps of their
    magnitude (``|log p| <= 690``, ``‖δ‖|z|``), which moves B by about that much relative: 1e-15 per unit magnitude,
    plus 1e-10 absolute.
    """
    zmax = max(float(np.abs(n.z).max()) for n in inst.tree.nodes())
    return 1e-10 + 1e-15 * (norm * zmax + 700.0) * inst.ell


def _representable(inst: ResponseTreeInstance, lam: float, alpha: float) -> float | None:
    """``lam`` if the exact model can be evaluated at ``‖δ‖ = α(λ + 5)`` (the largest norm the tests use) in float64.

    A subnormal margin Δ (e.g. 2.2e-309, from shrinking) gives a finite threshold near 1e308 whose ``‖δ‖ z`` overflows:
    the steered distribution is then not representable, which is float range, not the statement.
    """
    zmax = max(float(np.abs(n.z).max()) for n in inst.tree.nodes())
    with np.errstate(over="ignore"):
        return lam if alpha * (lam + 5.0) * max(zmax, 1.0) < 1e300 else None


def _stated_threshold(inst: ResponseTreeInstance, eps: float, alpha: float) -> float | None:
    """Theorem 6's threshold, or None outside its float domain (B0 rounded to ±1, Δ = 0, threshold beyond float64)."""
    b0 = inst.B0
    if not (-1 < b0 < 1) or inst.delta <= 0:
        return None
    try:
        return _representable(inst, multitoken_threshold(eps, b0, inst.ell, alpha, inst.delta), alpha)
    except ValueError as exc:
        assert "float64 range" in str(exc)
        return None


def _corrected_threshold(inst: ResponseTreeInstance, eps: float, alpha: float) -> float | None:
    if inst.delta <= 0:
        return None  # Δ = 0 (a float-rounded margin): the threshold is infinite, outside the statement's domain
    try:
        return _representable(inst, multitoken_threshold_corrected(eps, inst.tree, inst.ell, alpha, inst.delta), alpha)
    except ValueError as exc:
        assert "float64 range" in str(exc)
        return None


# =================================================================================================================
# The exact model
# =================================================================================================================
def _responses(tree: ResponseTree, norm: float, prob: float = 1.0, aligned_so_far: bool = True):
    """Enumerate every response (token path) with its steered probability and whether it is aligned."""
    q = steered_distribution(tree.p, tree.z, norm)
    for qi, al, child in zip(q, tree.aligned, tree.children, strict=True):
        if child is None:
            yield prob * qi, aligned_so_far and bool(al)
        else:
            yield from _responses(child, norm, prob * qi, aligned_so_far and bool(al))


@many(300)
@given(response_tree_instances(), st.floats(0.0, 10.0))
def test_response_behavior_matches_enumeration_of_responses(inst: ResponseTreeInstance, norm: float) -> None:
    """The recursion equals P(aligned) - P(misaligned) summed over every enumerated response; probabilities sum to 1."""
    paths = list(_responses(inst.tree, norm))
    total = sum(p for p, _ in paths)
    B = sum(p if al else -p for p, al in paths)
    assert total == pytest.approx(1.0, abs=1e-12)
    assert MT.response_behavior(inst.tree, norm) == pytest.approx(B, abs=1e-12)
    assert inst.tree.depth <= inst.ell


@many(300)
@given(response_tree_instances())
def test_response_tree_instances_satisfy_theorem_6_hypotheses(inst: ResponseTreeInstance) -> None:
    for node in inst.tree.nodes():
        assert node.aligned.any() and (~node.aligned).any()  # both kinds at every step
        assert node.margin >= inst.delta  # the margin at every step, in float64
        assert all(c is None for c, al in zip(node.children, node.aligned, strict=True) if not al)
    assert 1 <= inst.tree.depth <= inst.ell


# =================================================================================================================
# Theorem 6 as stated
# =================================================================================================================
def _t6_violated(case: tuple[ResponseTreeInstance, float, float, float]) -> bool:
    inst, eps, alpha, extra = case
    lam = _stated_threshold(inst, eps, alpha)
    if lam is None:
        return False
    # B0 = P+ - P- carries ~1e-16 absolute rounding, i.e. ~1e-16/(1-|B0|) relative on 1 ± B0, which enters the
    # threshold through log1p(±B0): a "violation" within that conditioning is float error, not a counterexample
    cond = 1e-15 / (1 - abs(inst.B0))
    return inst.behavior(alpha * (lam + extra)) < 1 - 2 * eps - 1e-6 - cond


def test_theorem_6_counterexample_found_by_search() -> None:
    """Search over Theorem 6's own hypotheses finds B < 1 - 2ε at some λ >= the claimed threshold."""
    ce = search(st.tuples(response_tree_instances(), EPS, ALPHA, EXTRA), _t6_violated)
    inst, eps, alpha, _extra = ce
    assert _t6_violated(ce)
    assert inst.ell >= 2  # for ℓ = 1 the statement is Corollary 1-like and holds
    # the corrected threshold does guarantee 1 - 2ε on the same instance
    lam = _corrected_threshold(inst, eps, alpha)
    assert lam is not None and inst.behavior(alpha * lam) >= 1 - 2 * eps - _tol(inst, alpha * lam)


def test_theorem_6_regression_counterexample() -> None:
    """The pinned (shrunk) example: a likely-misaligned step behind an aligned first token; B = -0.0066 < 0."""
    st6 = _stmt("theorem-6")
    ce = dict(st6.counterexample)
    json.dumps(ce)
    tree = ResponseTree.from_dict(ce["tree"])
    assert tree.depth == ce["ell"] == 2
    assert tree.min_margin() >= ce["delta"]
    B0 = tree.behavior(0.0)
    assert B0 == pytest.approx(-0.6622047660504768, abs=1e-12)
    lam = multitoken_threshold(ce["eps"], B0, ce["ell"], ce["alpha"], ce["delta"])
    assert lam == pytest.approx(2.692072565913078, rel=1e-12)
    assert tree.behavior(ce["alpha"] * (lam + ce["extra"])) == pytest.approx(-0.006620192057790408, abs=1e-12)
    assert st6.violation(ce) > 0
    # the step B0 <= B0^(i)(s_<i) of the proof fails here: the second child's per-step B0 is far below B0
    assert min(n.step_B0 for n in tree.nodes()) < B0


def _t6_range_deficit(case: tuple[ResponseTreeInstance, float], width: float = 2.0, n: int = 9) -> float:
    """The smallest miss ``(1 - 2ε) - B`` over ``λ = λ* + x``, ``x`` in ``[0, width/(αΔ)]`` (``n`` points, α = 1), on
    instances away from the degenerate edge (``-1.0`` elsewhere): Δ >= 1 and ``|B0| <= 1 - 1e-6`` (a B0 near ±1 makes
    λ* a float artefact: its rounding enters through ``log((1 - B0)/(1 + B0))``)."""
    inst, eps = case
    if inst.delta < 1.0 or not abs(inst.B0) <= 1 - 1e-6:
        return -1.0
    lam = multitoken_threshold(eps, inst.B0, inst.ell, 1.0, inst.delta)
    return min((1 - 2 * eps) - inst.behavior(lam + x) for x in np.linspace(0.0, width / inst.delta, n))


def test_theorem_6_nondegenerate_counterexample_found_by_search() -> None:
    """Search with the degenerate cases excluded from its own predicate: Δ >= 1, a well-conditioned B0, ε = 0.1
    (claimed B >= 0.8), and B below 0.8 by at least 0.1 over two units of αλ beyond the claimed threshold (the odds
    grown e² = 7.4-fold), not only at it. It finds the tree pinned in ``further_counterexamples``."""
    ce = search(st.tuples(response_tree_instances(), st.just(0.1)), lambda c: _t6_range_deficit(c) >= 0.1)
    inst, eps = ce
    print("theorem-6 non-degenerate counterexample:", json.dumps(inst.tree.to_dict()), inst.ell, inst.delta)
    assert _t6_range_deficit(ce) >= 0.1 and inst.tree.depth >= 2
    lam = _corrected_threshold(inst, eps, 1.0)
    assert lam is not None and inst.behavior(lam) >= 1 - 2 * eps - _tol(inst, lam)


def test_theorem_6_regression_nondegenerate_counterexample() -> None:
    """The pinned non-degenerate tree: ε = 0.1, Δ = 1; B stays between 0.173 and 0.631 (claimed: >= 0.8) for λ from
    the claimed threshold 4.548 to 6.548, rising monotonically; the corrected threshold (8.944) gives 0.950."""
    st6 = _stmt("theorem-6")
    (ce,) = (dict(c) for c in st6.further_counterexamples)
    json.dumps(ce)
    tree = ResponseTree.from_dict(ce["tree"])
    assert tree.depth == ce["ell"] == 2 and tree.min_margin() >= ce["delta"] == 1.0
    np.testing.assert_allclose(tree.children[1].p, [1 / (1 + np.exp(6.0)), 1 / (1 + np.exp(-6.0))], rtol=1e-15)
    B0 = tree.behavior(0.0)
    assert B0 == pytest.approx(-0.6650182512289102, abs=1e-12)
    lam = multitoken_threshold(ce["eps"], B0, ce["ell"], ce["alpha"], ce["delta"])
    assert lam == pytest.approx(4.547954294159372, rel=1e-12)
    B = np.array([tree.behavior(lam + x) for x in np.linspace(ce["extra"], ce["extra_max"], 65)])
    assert B[0] == pytest.approx(0.1729986844516923, abs=1e-12)
    assert B[-1] == pytest.approx(0.631061156645738, abs=1e-12)
    assert (np.diff(B) > 0).all()  # monotone: the largest B of the range is at its end, so the grid misses no peak
    assert st6.violation(ce) == pytest.approx(0.8 - 0.631061156645738, abs=1e-12)
    lam_c = multitoken_threshold_corrected(ce["eps"], tree, ce["ell"], ce["alpha"], ce["delta"])
    assert lam_c == pytest.approx(8.94443897916644, rel=1e-12)
    assert tree.behavior(lam_c) == pytest.approx(0.9497423740570491, abs=1e-12)


@counted("theorem-6", minimum=750)
@many(1500)
@given(response_tree_instances(max_len=1, positive_margin=True, min_log_weight=-34.0), EPS, ALPHA, EXTRA)
def test_theorem_6_holds_for_single_token_responses(
    inst: ResponseTreeInstance, eps: float, alpha: float, extra: float
) -> None:
    """ℓ = 1: the response is one step and the stated threshold is sound (the failure needs ℓ >= 2).

    The threshold's hypotheses, generated: Δ > 0 (``positive_margin``) and -1 < B0 < 1 in float64 (masses within e^-34
    of each other; the threshold takes B0). Rejected (``assume``), not passed: what float64 still cannot check
    (:func:`_stated_threshold`). Non-degenerate: λ* > 0."""
    lam = _stated_threshold(inst, eps, alpha)
    assume(lam is not None)
    # B0 = P+ - P- carries ~1e-16 absolute rounding, i.e. ~1e-16/(1-|B0|) relative on 1 ± B0, which enters the
    # threshold through log1p(±B0): the tolerance scales with that conditioning (as in Corollary 1's test).
    cond = 1e-15 / (1 - abs(inst.B0))
    for x in (0.0, extra):
        assert inst.behavior(alpha * (lam + x)) >= 1 - 2 * eps - _tol(inst, alpha * (lam + x)) - cond
    checked(lam > 0)


# =================================================================================================================
# Theorem 6 corrected
# =================================================================================================================
@counted("theorem-6-corrected")
@many(2000)
@given(response_tree_instances(positive_margin=True), EPS, ALPHA, EXTRA)
def test_theorem_6_corrected_holds_at_and_beyond_threshold(
    inst: ResponseTreeInstance, eps: float, alpha: float, extra: float
) -> None:
    """At λ = λ_corr and beyond, the exact steered response-level B is >= 1 - 2ε.

    The threshold's hypotheses, generated: Δ > 0 (``positive_margin``). Rejected (``assume``), not passed: a
    threshold beyond float64 (a subnormal αΔ). Non-degenerate (``theorem-6-corrected``'s ``nondegenerate``): a
    response of at least two tokens (tree depth >= 2) and λ_corr > 0."""
    lam = _corrected_threshold(inst, eps, alpha)
    assume(lam is not None)
    for x in (0.0, extra):
        norm = alpha * (lam + x)
        assert inst.behavior(norm) >= 1 - 2 * eps - _tol(inst, norm)
    checked(inst.tree.depth >= 2 and lam > 0)


@counted("theorem-6-corrected")
@many(500)
@given(response_tree_instances(positive_margin=True), EPS, ALPHA)
def test_theorem_6_corrected_per_step_guarantee_holds(inst: ResponseTreeInstance, eps: float, alpha: float) -> None:
    """The proof's per-step claim: at λ_corr every reachable step emits a misaligned token with probability <= ε/ℓ.

    Hypotheses and non-degenerate instances as in :func:`test_theorem_6_corrected_holds_at_and_beyond_threshold`."""
    lam = _corrected_threshold(inst, eps, alpha)
    assume(lam is not None)
    for node in inst.tree.nodes():
        q = steered_distribution(node.p, node.z, alpha * lam)
        assert q[~node.aligned].sum() <= eps / inst.ell * (1 + 1e-9) + _tol(inst, alpha * lam)
    checked(inst.tree.depth >= 2 and lam > 0)


def test_theorem_6_corrected_holds_on_the_pinned_counterexample() -> None:
    ce = dict(_stmt("theorem-6").counterexample)
    tree = ResponseTree.from_dict(ce["tree"])
    lam = multitoken_threshold_corrected(ce["eps"], tree, ce["ell"], ce["alpha"], ce["delta"])
    # worst step: B0^(i) = 0.00669 - 0.99331, odds e^5; threshold = ln(e^5 (2/0.5 - 1)) = 5 + ln 3
    assert lam == pytest.approx(5 + np.log(3.0), rel=1e-12)
    assert tree.behavior(ce["alpha"] * lam) >= 1 - 2 * ce["eps"]


@many(500)
@given(response_tree_instances(positive_margin=True), EPS, ALPHA)
def test_corrected_array_interface_matches_tree_interface(inst: ResponseTreeInstance, eps: float, alpha: float) -> None:
    """Per-prefix B0^(i) values (array) give the tree's threshold when no B0^(i) is ill-conditioned."""
    b = np.array([n.step_B0 for n in inst.tree.nodes()])
    lam = _corrected_threshold(inst, eps, alpha)
    assume(lam is not None and not (np.abs(b) > 1 - 1e-6).any())  # outside the float domain: rejected, not passed
    got = multitoken_threshold_corrected(eps, b, inst.ell, alpha, inst.delta)
    assert got == pytest.approx(lam, rel=1e-8, abs=1e-8 / (alpha * inst.delta))
    # a one-step tree: the only prefix is the empty one and its B0^(i) is the response-level B0 -- both forms agree
    if inst.tree.depth == 1 and abs(inst.B0) < 1 - 1e-6:
        # B0's rounding (~1e-16) enters λ through 1/(αΔ): the absolute tolerance scales with it, as above
        want = multitoken_threshold(eps, inst.B0, inst.ell, alpha, inst.delta)
        assert got == pytest.approx(want, rel=1e-8, abs=1e-8 / (alpha * inst.delta))


def test_corrected_threshold_values_and_shapes() -> None:
    # max over prefixes = value at the smallest B0^(i)
    got = multitoken_threshold_corrected(0.1, [0.5, -0.2, 0.9], 3, 2.0, 0.5)
    assert got == pytest.approx(np.log(1.2 / 0.8 * (3 / 0.1 - 1)), rel=1e-12)
    assert multitoken_threshold_corrected(0.1, [1.0, 1.0], 2, 1.0, 1.0) == 0.0  # no misaligned token anywhere
    out = multitoken_threshold_corrected(0.1, np.array([[0.5, -0.2], [0.9, 0.8]]), 2, 1.0, 1.0)
    assert out.shape == (2,)
    assert isinstance(multitoken_threshold_corrected(0.1, 0.3, 1, 1.0, 1.0), float)
    assert np.isfinite(multitoken_threshold_corrected(1e-300, [-1 + 1e-15], 100, 1e-3, 1e-3))


@pytest.mark.parametrize(
    ("args", "exc", "fragment"),
    [
        ((0.1, [-1.0, 0.5], 2, 1.0, 1.0), ValueError, r"step_B0 must lie in the half-open interval \(-1\.0, 1\.0\]"),
        ((0.1, [1.5], 2, 1.0, 1.0), ValueError, "step_B0"),
        ((0.1, np.zeros((2, 0)), 2, 1.0, 1.0), ValueError, "empty"),
        ((1.0, [0.5], 2, 1.0, 1.0), ValueError, "eps"),
        ((0.1, [0.5], 0, 1.0, 1.0), ValueError, "ell"),
        ((0.1, [0.5], 2.0, 1.0, 1.0), TypeError, "ell"),
        ((0.1, [0.5], 2, 0.0, 1.0), ValueError, "alpha"),
        ((0.1, [0.5], 2, 1.0, 0.0), ValueError, "delta"),
        ((0.1, [0.5], 2, 1e-300, 1e-300), ValueError, "float64 range"),
    ],
)
def test_corrected_threshold_bad_input(args: tuple, exc: type, fragment: str) -> None:
    with pytest.raises(exc, match=fragment):
        multitoken_threshold_corrected(*args)


def test_corrected_threshold_tree_checks() -> None:
    leaf = ResponseTree(p=np.array([0.5, 0.5]), z=np.array([1.0, 0.0]), aligned=np.array([True, False]))
    root = ResponseTree(
        p=np.array([0.5, 0.5]), z=np.array([1.0, 0.0]), aligned=np.array([True, False]), children=(leaf, None)
    )
    with pytest.raises(ValueError, match="depth"):
        multitoken_threshold_corrected(0.1, root, 1, 1.0, 1.0)
    dead = ResponseTree(p=np.array([1.0]), z=np.array([0.0]), aligned=np.array([False]))
    root2 = ResponseTree(
        p=np.array([0.5, 0.5]), z=np.array([1.0, 0.0]), aligned=np.array([True, False]), children=(dead, None)
    )
    with pytest.raises(ValueError, match="no aligned mass"):
        multitoken_threshold_corrected(0.1, root2, 2, 1.0, 1.0)


# =================================================================================================================
# Stated threshold, sympy twins, the tree type
# =================================================================================================================
@functools.cache
def _lambdified(statement_id: str, args: tuple[sp.Symbol, ...]):
    return sp.lambdify(args, _stmt(statement_id).expr, "mpmath")


@many(500)
@given(EPS, st.floats(-1 + 1e-9, 1 - 1e-9), st.integers(1, 50), st.floats(0.01, 10.0), st.floats(0.01, 10.0))
def test_thresholds_match_sympy(eps: float, B0: float, ell: int, alpha: float, delta: float) -> None:
    f6 = _lambdified("theorem-6", (S.eps, S.B0, S.ell, S.alpha, S.Delta))
    f6c = _lambdified("theorem-6-corrected", (S.eps, S.B0_min, S.ell, S.alpha, S.Delta))
    want = float(f6(eps, B0, ell, alpha, delta))
    assert multitoken_threshold(eps, B0, ell, alpha, delta) == pytest.approx(want, rel=1e-9, abs=1e-12)
    got_c = multitoken_threshold_corrected(eps, [B0, min(1.0, B0 + 0.5)], ell, alpha, delta)
    assert got_c == pytest.approx(float(f6c(eps, B0, ell, alpha, delta)), rel=1e-9, abs=1e-12)


def test_stated_threshold_inverts_the_sigmoid_form() -> None:
    """docs/specification.md §11: inverting (72) gives B >= 1 - 2ℓ/(1 + (1+B0)/(1-B0) e^{αΔλ}); at the threshold that is
    1 - 2ε."""
    for eps, B0, ell in ((0.1, -0.3, 3), (0.01, 0.2, 10), (0.4, -0.9, 2)):
        lam = multitoken_threshold(eps, B0, ell, 1.3, 0.7)
        sig = 1 - 2 * ell / (1 + (1 + B0) / (1 - B0) * np.exp(1.3 * 0.7 * lam))
        assert sig == pytest.approx(1 - 2 * eps, rel=1e-12)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [((1.0, 0.0, 2, 1.0, 1.0), "eps"), ((0.1, 1.0, 2, 1.0, 1.0), "B0"), ((0.1, 0.0, 2, 1.0, -1.0), "delta")],
)
def test_stated_threshold_bad_input(args: tuple, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        multitoken_threshold(*args)


def test_response_tree_validation_and_json() -> None:
    t = ResponseTree(p=[0.5, 0.5], z=[1.0, 0.0], aligned=np.array([True, False]))
    assert t.children == (None, None) and t.depth == 1
    assert ResponseTree.from_dict(json.loads(json.dumps(t.to_dict()))).to_dict() == t.to_dict()
    with pytest.raises(ValueError, match="z must have the shape"):
        ResponseTree(p=[0.5, 0.5], z=[1.0], aligned=np.array([True, False]))
    with pytest.raises(ValueError, match="aligned"):
        ResponseTree(p=[0.5, 0.5], z=[1.0, 0.0], aligned=[1, 0])
    with pytest.raises(ValueError, match="misaligned"):
        ResponseTree(p=[0.5, 0.5], z=[1.0, 0.0], aligned=np.array([True, False]), children=(None, t))
    with pytest.raises(TypeError, match="children"):
        ResponseTree(p=[0.5, 0.5], z=[1.0, 0.0], aligned=np.array([True, False]), children=({"p": 1}, None))
    with pytest.raises(ValueError, match="p must be a probability"):
        ResponseTree(p=[0.5, 0.6], z=[1.0, 0.0], aligned=np.array([True, False]))
    with pytest.raises(ValueError, match="norm"):
        MT.response_behavior(t, -1.0)
    with pytest.raises(TypeError, match="ResponseTree"):
        MT.response_behavior({"p": [1.0]}, 1.0)
    assert MT.response_behavior(t, np.array([0.0, 1e6])).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("sid", ["theorem-6", "theorem-6-corrected"])
def test_statements_registered_with_expected_status(sid: str) -> None:
    s = bounds.statement(sid)
    assert s.status == ("fails" if sid == "theorem-6" else "holds")
    assert not s.closed_form_in_lambda
    json.dumps(s.to_dict())
