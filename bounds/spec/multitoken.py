"""The statements of docs/specification.md §11: Theorem 6 as stated and corrected (numeric kernels:
:mod:`bounds.multitoken`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

from .. import domains as S
from ..multitoken import ResponseTree, multitoken_threshold, multitoken_threshold_corrected
from ..statement import Statement, symbol_domains
from . import pinned, symbol


def _theorem_6_violation(ce: Mapping[str, Any]) -> float:
    """``(1 - 2ε) - B`` at ``λ = λ^{(ℓ)} + extra``: how far the claimed guarantee misses on the exact model.

    With ``extra_max`` in ``ce``: the smallest miss over ``λ = λ^{(ℓ)} + x`` for 65 evenly spaced ``x`` in
    ``[extra, extra_max]`` (``> 0``: the guarantee fails at every one of them, not only at the threshold).
    """
    tree = ResponseTree.from_dict(ce["tree"])
    lam = float(multitoken_threshold(ce["eps"], tree.behavior(0.0), ce["ell"], ce["alpha"], ce["delta"]))
    extras = np.linspace(ce["extra"], ce["extra_max"], 65) if "extra_max" in ce else [ce["extra"]]
    return min((1.0 - 2.0 * ce["eps"]) - tree.behavior(ce["alpha"] * (lam + float(x))) for x in extras)


def _threshold(b: sp.Expr) -> sp.Expr:
    """The threshold of Theorem 6 at the unsteered behavior ``b``."""
    return sp.Max(0, sp.log((1 - b) / (1 + b) * (S.ell / S.eps - 1)) / (S.alpha * S.Delta))


_T = "tests/test_multitoken.py::"

THEOREM_6 = Statement(
    id="theorem-6",
    name="Multi-token alignment guarantee (as stated)",
    kind="theorem",
    section="§11 (App. K, eqs. 72-78)",
    provenance=("VERBATIM-PROSE", "RECONSTRUCTED-M"),
    statement=(
        "For a reply of at most ell tokens, with Theorem 1's hard margin Delta holding at every decoding step, "
        "lambda >= (1/(alpha Delta)) ln((1 - B0)/(1 + B0) (ell/eps - 1)) implies B >= 1 - 2 eps, where B0 is the "
        "response-level unsteered behavior expectation. FAILS for ell >= 2: the step B0 <= B0^(i)(s_<i) is false "
        "for individual prefixes."
    ),
    paper=r"""
"Let [$\epsilon>0$], a language model, [$B$] behavior scoring function and [$q$] a query, and suppose the model's
reply contains at most [$\ell$] tokens. Under the assumption of theorem 1 holding in every decoding step, for [$r_e\ge
r_e^{(\ell)}$], then:" eq. (72), behavior at least $1-2\epsilon$. The proof takes a union bound over the $\ell$ steps
and uses the claim that "the behavior expectation of the entire response is no larger than the behavior expectation of
each decoding step, [$B_0\le B_0^{(i)}$]".
""",
    reconstruction=r"""
Medium confidence (`RECONSTRUCTED-M`): the threshold is
$r_e^{(\ell)}=\frac{1}{\alpha\Delta}\ln(\frac{1-B_0}{1+B_0}(\frac{\ell}{\epsilon}-1))$ with $B_0$ the response-level
unsteered behavior, from the proof's steps (73–78); inverting it gives the "sigmoid-like" form
$B\ge1-\frac{2\ell}{1+\frac{1+B_0}{1-B_0}e^{\alpha\Delta r_e}}$.
""",
    decision=r"""
The project ships the threshold as stated (`multitoken_threshold`) with status `fails`: $B_0\le B_0^{(i)}(s_{<i})$ is
false for individual prefixes (only an average over prefixes relates to $B_0$), and a search finds a response tree in
which an aligned first token leads to a likely misaligned continuation. The replacement `theorem-6-corrected` takes
the maximum over the reachable aligned prefixes.
""",
    hypotheses=(
        "a response tree of depth <= ell; a response is aligned iff all its tokens are aligned",
        "assumption-2 with margin Delta at every step (own projections per step); both kinds of token at every step",
        "the same ||delta|| = alpha*lambda at every step (assumption-1)",
    ),
    lhs=symbol("lambda^(ell)"),
    relation="=",
    build=lambda: _threshold(S.B0),
    parameters={**symbol_domains("epsilon", "B_0", "ell", "alpha", "Delta")},
    status="fails",
    numeric=multitoken_threshold,
    not_closed_form="a threshold on lambda (max(0, ...)), not a function of lambda",
    evidence=(
        _T + "test_theorem_6_counterexample_found_by_search",
        _T + "test_theorem_6_regression_counterexample",
        _T + "test_theorem_6_nondegenerate_counterexample_found_by_search",
        _T + "test_theorem_6_regression_nondegenerate_counterexample",
        _T + "test_theorem_6_holds_for_single_token_responses",
    ),
    # the simplest: hypothesis' shrunk example of test_theorem_6_counterexample_found_by_search (ci profile); further:
    # found by test_theorem_6_nondegenerate_counterexample_found_by_search, whose predicate excludes the degenerate
    # cases (Delta >= 1, |B0| <= 1 - 1e-6, eps = 0.1, B below 1 - 2 eps by >= 0.1 over two units of lambda beyond the
    # threshold, not only at it)
    **pinned("theorem-6"),
    violation=_theorem_6_violation,
    settled_by="tests/test_multitoken.py::test_theorem_6_counterexample_found_by_search",
    settled_how=(
        "searches response trees (margin Δ at every step) for one where the response-level behavior is below "
        "1 − 2ε at or beyond the claimed threshold"
    ),
    proof=r"""
At every step $i$ the aligned-token probability is at least $1/(1+\frac{P_i^-}{P_i^+}e^{-\alpha\Delta\lambda})$;
asking each step for $1-\epsilon/\ell$ and taking a union bound over the $\ell$ steps gives $B\ge1-2\epsilon$ beyond
the largest per-step threshold. The proof then replaces every per-step $B_0^{(i)}(s_{<i})$ by the response-level
$B_0$, claiming $B_0\le B_0^{(i)}$. **That step fails**: it holds only on average over prefixes, not for each prefix —
an aligned first token can lead to a likely misaligned continuation. `theorem-6-corrected` keeps the maximum over
reachable prefixes.
""",
)

THEOREM_6_CORRECTED = Statement(
    id="theorem-6-corrected",
    name="Multi-token alignment guarantee (corrected)",
    kind="replacement",
    section="§11 [CORRECTED]",
    provenance=("CORRECTED",),
    statement=(
        "Under the hypotheses of theorem-6, lambda >= (1/(alpha Delta)) max_{i, s_<i} ln((1 - B0^(i)(s_<i))/(1 + "
        "B0^(i)(s_<i)) (ell/eps - 1)), the maximum over steps i <= ell and reachable aligned prefixes s_<i, implies "
        "B >= 1 - 2 eps. The maximum is attained at the smallest per-prefix B0^(i) (B_0^min)."
    ),
    paper=r"""
The paper has no such statement: this is the project's replacement for Theorem 6 (eq. 72).
""",
    reconstruction=r"""
`CORRECTED`: derived for this project from the valid part of the paper's proof, the per-step bound (73–75) and the
union bound (76). The response-level score is binary, and a response is aligned iff each of its at most $\ell$ tokens
is aligned at its step.
""",
    decision=r"""
The threshold takes the maximum, over the steps $i\le\ell$ and the aligned prefixes $s_{<i}$ the steered model can
reach (the union bound needs only those), of the per-step threshold with the unsteered per-step behavior
$B_0^{(i)}(s_{<i})$; the maximum is attained at the smallest $B_0^{(i)}$. `multitoken_threshold_corrected` takes a
`ResponseTree` or the per-prefix values. As a threshold with a maximum over prefixes it has no expansion in $\lambda$.
""",
    hypotheses=("the hypotheses of theorem-6",),
    lhs=symbol("lambda^(ell)_corr"),
    relation="=",
    build=lambda: _threshold(S.B0_min),
    parameters={**symbol_domains("epsilon", "B_0^min", "ell", "alpha", "Delta")},
    status="holds",
    replaces="theorem-6",
    numeric=multitoken_threshold_corrected,
    not_closed_form="a threshold on lambda with a maximum over steps and prefixes, not a function of lambda",
    evidence=(
        _T + "test_theorem_6_corrected_holds_at_and_beyond_threshold",
        _T + "test_theorem_6_corrected_holds_on_the_pinned_counterexample",
        _T + "test_theorem_6_corrected_per_step_guarantee_holds",
    ),
    nondegenerate="a response of at least two tokens (tree depth >= 2) and a positive threshold, lambda_corr > 0",
    min_instances={
        _T + "test_theorem_6_corrected_holds_at_and_beyond_threshold": 600,
        _T + "test_theorem_6_corrected_per_step_guarantee_holds": 150,
    },
    settled_by="tests/test_multitoken.py::test_theorem_6_corrected_holds_at_and_beyond_threshold",
    settled_how=(
        "on generated response trees, the exact response-level behavior at the corrected threshold and beyond is "
        "at least 1 − 2ε"
    ),
    proof=r"""
The per-step argument of Theorem 6 with the threshold taken over the worst reachable aligned prefix:
$\lambda\ge\frac{1}{\alpha\Delta}\max_{i,s_{<i}}\ln\big(\frac{1-B_0^{(i)}(s_{<i})}{1+B_0^{(i)}(s_{<i})}(\frac{\ell}{\epsilon}-1)\big)$
makes every step aligned with probability $\ge1-\epsilon/\ell$ whatever the prefix, and the union bound over the
$\ell$ steps gives $B\ge1-2\epsilon$.
""",
)

STATEMENTS: list[Statement] = [THEOREM_6, THEOREM_6_CORRECTED]
