"""The statements of docs/specification.md §2-§3: Definition 1, helpfulness and Assumptions 1-4 (numeric predicates:
:mod:`bounds.definitions`)."""

from __future__ import annotations

import sympy as sp

from .. import domains as S
from ..definitions import assumption_1, assumption_2, assumption_3, assumption_4
from ..statement import Statement
from ..steered import behavior_expectation, helpfulness
from . import of_q, prose


def _a3_expr() -> sp.Expr:
    return sp.And(
        sp.Ge(sp.Symbol("P(T_k|q)", nonnegative=True), 1 - S.eps),
        sp.Eq(sp.Symbol("Var_D(z_s)", nonnegative=True), S.sigma**2),
    )


def _a4_expr() -> sp.Expr:
    zmin = sp.Symbol("z_min^+", real=True)
    return sp.And(
        sp.Ge(zmin - sp.Symbol("z_max^-\\M", real=True), S.Delta),
        sp.Le(sp.Symbol("P(M|q)", nonnegative=True), S.rho),
        sp.Le(sp.Symbol("z_max^M", real=True) - zmin, S.Delta_M),
    )


_DEF_NOT_CLOSED = (
    "a definition: a functional of the next-token distribution, not a function of lambda; under steering it is "
    "evaluated on P_lambda(.|q), which depends on lambda only through the whole vector (P(s|q), z_s) "
    "(docs/specification.md §1)"
)
_PRED_NOT_CLOSED = "a predicate on one instance (P(.|q), z, ||delta||), not a function of lambda"

DEFINITION_BEHAVIOR = Statement(
    id="definition-behavior",
    name="Behavior expectation (Definition 1)",
    kind="definition",
    section="§2 (eq. 3)",
    provenance=("VERBATIM-PROSE", "RECONSTRUCTED-H"),
    statement=(
        "For a binary behavior scoring function B with values in {-1,+1}, the behavior of a prompted model is "
        "B_P(q) = E_{s~P(.|q)}[B(s)] in [-1, 1]; for single-token answers B_0 = P^+ - P^- with P^+ + P^- = 1."
    ),
    **prose("definition-behavior"),
    hypotheses=("B(s) in {-1, +1}",),
    lhs=of_q("B_P"),
    relation="=",
    build=lambda: S.P_plus - S.P_minus,
    parameters={
        "P^+": "0 <= P^+ <= 1, mass of the aligned answers A+ = {s: B(s) = +1}",
        "P^-": "0 <= P^- <= 1, mass of the misaligned answers A- = {s: B(s) = -1}; P^+ + P^- = 1",
    },
    numeric=behavior_expectation,
    not_closed_form=_DEF_NOT_CLOSED,
    evidence=(
        "tests/bounds/test_definitions.py::test_behavior_definitions_agree_with_direct_sums",
        "tests/bounds/test_definitions.py::test_behavior_in_range_and_binary_form",
        "tests/bounds/test_definitions.py::test_definition_sympy_forms_match_numeric",
    ),
)

DEFINITION_HELPFULNESS = Statement(
    id="definition-helpfulness",
    name="Helpfulness (eq. 4)",
    kind="definition",
    section="§2 (eq. 4)",
    provenance=("VERBATIM-PROSE", "RECONSTRUCTED-H"),
    statement=(
        "The helpfulness of a model on query q is the likelihood of outputting the correct answer a*(q): "
        "H_P(q) = P(a*(q)|q) in [0, 1]; p_0 denotes its unsteered value."
    ),
    **prose("definition-helpfulness"),
    hypotheses=("a single correct answer token a*",),
    lhs=of_q("H_P"),
    relation="=",
    build=lambda: sp.Function("P")(sp.Symbol("a^*"), sp.Symbol("q")),
    parameters={"a^*": "index of the correct answer token, in [0, V-1]", "q": "the query"},
    numeric=helpfulness,
    not_closed_form=_DEF_NOT_CLOSED,
    evidence=(
        "tests/bounds/test_definitions.py::test_helpfulness_definitions_agree_with_direct_sums",
        "tests/bounds/test_definitions.py::test_definition_sympy_forms_match_numeric",
    ),
)

ASSUMPTION_1 = Statement(
    id="assumption-1",
    name="Linear change of the last layer",
    kind="assumption",
    section="§3 (eq. 7)",
    provenance=("RECONSTRUCTED-H",),
    statement=(
        "||delta_lambda(q)|| = alpha |lambda| for small |lambda|, with a query-dependent alpha > 0 (eq. 7); A.2: it "
        "suffices that ||delta_lambda|| grows monotonically with |lambda| (assumption_1(..., weak=True))."
    ),
    **prose("assumption-1"),
    lhs=of_q("A_1"),
    relation="pred",
    build=lambda: sp.Eq(S.norm, S.alpha * sp.Abs(S.lam)),
    parameters={
        "norm": S.domains["norm"],
        "alpha": "alpha > 0",
        "lambda": "real, small |lambda| (the predicate finds the largest linear range)",
    },
    numeric=assumption_1,
    not_closed_form=_PRED_NOT_CLOSED + " (a condition on measured norms over a range of lambda)",
    evidence=(
        "tests/bounds/test_definitions.py::test_assumption_1_accepts_linear_curves",
        "tests/bounds/test_definitions.py::test_assumption_1_rejects_nonlinear_curves",
        "tests/bounds/test_definitions.py::test_assumption_1_weak_form",
        "tests/bounds/test_definitions.py::test_assumption_1_edge_cases",
    ),
)

ASSUMPTION_2 = Statement(
    id="assumption-2",
    name="Linear classification with margin (hard margin)",
    kind="assumption",
    section="§3 (eq. 8)",
    provenance=("VERBATIM-PROSE", "RECONSTRUCTED-H"),
    statement=(
        "For all s+ in A+ and s- in A-: <U^T(e_{s+} - e_{s-}), delta/||delta||> >= Delta, i.e. "
        "min_{A+} z - max_{A-} z >= Delta with Delta the full gap (eq. 8); the paper's check uses class means "
        "instead of the minimum (docs/specification.md §13.2), which is not the margin."
    ),
    **prose("assumption-2"),
    lhs=of_q("A_2"),
    relation="pred",
    build=lambda: sp.Ge(sp.Symbol("z_min^+", real=True) - sp.Symbol("z_max^-", real=True), S.Delta),
    parameters={
        "z_min^+": "real, min over aligned tokens of z_s",
        "z_max^-": "real, max over misaligned tokens of z_s",
        "Delta": "Delta >= 0, the full gap",
    },
    numeric=assumption_2,
    not_closed_form=_PRED_NOT_CLOSED + " (independent of lambda: only the direction of delta enters)",
    evidence=(
        "tests/bounds/test_definitions.py::test_assumption_2_accepts_margin_instances",
        "tests/bounds/test_definitions.py::test_assumption_2_rejects_violating_instances",
        "tests/bounds/test_definitions.py::test_assumption_2_edge_cases",
        "tests/bounds/test_definitions.py::test_assumption_predicates_match_sympy",
    ),
)

ASSUMPTION_3 = Statement(
    id="assumption-3",
    name="Random logit noise on the top-k tokens",
    kind="assumption",
    section="§3 (eq. 9)",
    provenance=("VERBATIM-PROSE", "RECONSTRUCTED-H", "RECONSTRUCTED-M"),
    statement=(
        "On the k most probable tokens T_k(q), which carry mass >= 1 - eps and contain a*, the projections "
        "z_s = <U^T e_s, delta/||delta||> are i.i.d. from a continuous law D with variance sigma^2 (eq. 9). One query "
        "shows only the structural part (assumption_3); the i.i.d. law is testable over many queries "
        "(assumption_3_sample)."
    ),
    **prose("assumption-3"),
    lhs=of_q("A_3"),
    relation="pred",
    build=_a3_expr,
    parameters={
        "P(T_k|q)": "0 <= P(T_k|q) <= 1, mass of the top-k tokens",
        "epsilon": "0 <= epsilon < 1",
        "Var_D(z_s)": "variance of the law D of each z_s on T_k",
        "sigma": S.domains["sigma"],
    },
    numeric=assumption_3,
    not_closed_form=_PRED_NOT_CLOSED + " (a distributional hypothesis on z, independent of lambda)",
    evidence=(
        "tests/bounds/test_definitions.py::test_assumption_3_structural_accepts_and_rejects",
        "tests/bounds/test_definitions.py::test_assumption_3_sample_accepts_iid_normal",
        "tests/bounds/test_definitions.py::test_assumption_3_sample_rejects_violations",
        "tests/bounds/test_definitions.py::test_assumption_3_sample_level_is_calibrated",
        "tests/bounds/test_definitions.py::test_assumption_3_edge_cases",
    ),
)

ASSUMPTION_4 = Statement(
    id="assumption-4",
    name="Soft margin",
    kind="assumption",
    section="§3 (eqs. 46-50)",
    provenance=("RECONSTRUCTED-L",),
    statement=(
        "The misclassified set M = {s- in A-: exists s+ in A+ with z_{s+} - z_{s-} < Delta} (46) has mass "
        "P(M|q) <= rho (47) and depth max_M z - min_{A+} z <= Delta_M (48), and every other pair has margin >= Delta "
        "(49). The names rho and Delta_M are this project's (the paper's symbols are lost)."
    ),
    **prose("assumption-4"),
    lhs=of_q("A_4"),
    relation="pred",
    build=_a4_expr,
    parameters={
        "z_min^+": "real, min over aligned tokens of z_s",
        "z_max^-\\M": "real, max over correctly classified misaligned tokens of z_s",
        "z_max^M": "real, max over the misclassified set M of z_s",
        "P(M|q)": "0 <= P(M|q) <= 1",
        "Delta": "Delta >= 0, the full gap",
        "rho": S.domains["rho"],
        "Delta_M": S.domains["Delta_M"],
    },
    numeric=assumption_4,
    not_closed_form=_PRED_NOT_CLOSED + " (independent of lambda: only the direction of delta enters)",
    evidence=(
        "tests/bounds/test_definitions.py::test_assumption_4_accepts_soft_margin_instances",
        "tests/bounds/test_definitions.py::test_assumption_4_rejects_violating_instances",
        "tests/bounds/test_definitions.py::test_assumption_4_edge_cases",
        "tests/bounds/test_definitions.py::test_assumption_predicates_match_sympy",
    ),
)

STATEMENTS: list[Statement] = [
    DEFINITION_BEHAVIOR,
    DEFINITION_HELPFULNESS,
    ASSUMPTION_1,
    ASSUMPTION_2,
    ASSUMPTION_3,
    ASSUMPTION_4,
]
