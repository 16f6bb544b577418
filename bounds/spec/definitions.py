"""The statements of docs/specification.md §2-§3: Definition 1, helpfulness and Assumptions 1-4 (numeric predicates:
:mod:`bounds.definitions`)."""

from __future__ import annotations

import sympy as sp

from .. import domains as S
from ..definitions import assumption_1, assumption_2, assumption_3, assumption_4
from ..statement import Statement
from ..steered import behavior_expectation, helpfulness
from . import of_q


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
    paper=r"""
Definition 1: "Let [$B:\Sigma^*\to\{-1,+1\}$] be a binary behavior scoring function, the behavior of a prompted model
is defined as:" eq. (3), the expectation of $B$ over the model's answers to the query.
""",
    reconstruction=r"""
Eq. (3) is reconstructed as $B_P(q)=\mathbb E_{s\sim P(\cdot\mid q)}[B(s)]\in[-1,1]$, the definition of Wolf et al.
2023 (arXiv 2304.11082) that the paper builds on. High confidence (`RECONSTRUCTED-H`); the words around it are the
paper's (`VERBATIM-PROSE`).
""",
    decision=r"""
For a single-token answer the project writes $B_0=P^+-P^-$, with $P^\pm=P(A^\pm\mid q)$ the unsteered masses of the
aligned and misaligned answers, and states every alignment bound in terms of this $B_0$. The definition is evaluated
on the exact steered distribution of specification §1, the ground truth every bound is checked against. Scores are
$\pm1$ here; Theorems 4 and 5 widen them to $\{-1,0,+1\}$ and $[-1,1]$.
""",
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
        "tests/test_definitions.py::test_behavior_definitions_agree_with_direct_sums",
        "tests/test_definitions.py::test_behavior_in_range_and_binary_form",
        "tests/test_definitions.py::test_definition_sympy_forms_match_numeric",
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
    paper=r"""
Helpfulness is "the likelihood of outputting a correct answer to a query" (eq. 4); $p_0$ is "the probability of
answering correctly without steering".
""",
    reconstruction=r"""
Eq. (4) is reconstructed as $H_P(q)=P(a^*(q)\mid q)\in[0,1]$, with $a^*(q)$ the correct answer: a direct reading of
the paper's words (high confidence, `RECONSTRUCTED-H`).
""",
    decision=r"""
The project evaluates it on the exact steered distribution with one correct answer token $a^*$; an answer of several
tokens is the chain-rule product of Corollary 3. The paper's experiments measure it as the probability of the correct
letter of an MMLU question, over the full vocabulary and renormalised over A–D (specification §14.2).
""",
    hypotheses=("a single correct answer token a*",),
    lhs=of_q("H_P"),
    relation="=",
    build=lambda: sp.Function("P")(sp.Symbol("a^*"), sp.Symbol("q")),
    parameters={"a^*": "index of the correct answer token, in [0, V-1]", "q": "the query"},
    numeric=helpfulness,
    not_closed_form=_DEF_NOT_CLOSED,
    evidence=(
        "tests/test_definitions.py::test_helpfulness_definitions_agree_with_direct_sums",
        "tests/test_definitions.py::test_definition_sympy_forms_match_numeric",
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
    paper=r"""
"The change to the last hidden layer representation due to steering with coefficient [$r_e$], denoted by
[$\delta_{r_e}(q)$] satisfies:" eq. (7) "For a constant [$\alpha=\alpha(q)>0$] that is query dependent." Appendix A.2
adds that "it suffices to assume [$\|\delta_{r_e}\|$] grows monotonically with [$r_e$]". The paper checks the
assumption (A.3) on the norm of the logit change $\|U\delta\|$.
""",
    reconstruction=r"""
Eq. (7) is reconstructed as $\|\delta_{r_e}(q)\|=\alpha|r_e|$ for small $|r_e|$ (high confidence, `RECONSTRUCTED-H`):
$\alpha$ is "a model dependent coefficient relating between [$r_e$] and the corresponding final hidden state norm",
and the authors' code multiplies unit vectors by the coefficient. The paper's check does not establish it:
$\|U\delta\|$ is linear in $\|\delta\|$ only if the direction of $\delta$ is fixed, and in Llama the final RMSNorm
sits between the residual stream and $U$ (specification §13.1).
""",
    decision=r"""
Every theorem is really a statement about $\|\delta\|$, so the project treats Assumption 1 only as the map
$\|\delta\|=\alpha|\lambda|$: each bound depends on $(\alpha,\lambda)$ through $\|\delta\|$ alone, and `alpha=1,
lam=‖δ‖` evaluates it at a given norm. The predicate `assumption_1` finds the largest range on which measured norms
are linear within a tolerance; `weak=True` checks the monotone form of A.2. `steering-bounds check` measures
$\|\delta\|$ after the final norm (the vector the unembedding multiplies) and reports the pre-norm change and
$\|U\delta\|$ beside it.
""",
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
        "tests/test_definitions.py::test_assumption_1_accepts_linear_curves",
        "tests/test_definitions.py::test_assumption_1_rejects_nonlinear_curves",
        "tests/test_definitions.py::test_assumption_1_weak_form",
        "tests/test_definitions.py::test_assumption_1_edge_cases",
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
    paper=r"""
"the change to the last hidden layer … [$\delta_{r_e}(q)$], linearly classifies the representations of positive and
negative answers to a query with margin [$\Delta$] … on the axis defined by [$\delta_{r_e}(q)$], positive and negative
representations can be separated, and the minimal distance between representations of positive and negative answers on
it is [$\Delta$]." The paper's check (A.3, eqs. 10–11) uses class means, "with mean instead of min".
""",
    reconstruction=r"""
Eq. (8) is reconstructed as $\langle U^T(e_{s^+}-e_{s^-}),\hat\delta\rangle\ge\Delta$ for every aligned $s^+$ and
misaligned $s^-$ (high confidence, `RECONSTRUCTED-H`). "The minimal distance … is [$\Delta$]" makes $\Delta$ the
**full gap** between the two classes, not half of it, and the authors' code plots the class-mean gap against the line
$\|\delta\|\cdot\Delta$.
""",
    decision=r"""
The project fixes $\Delta$ as the full gap, which makes the ½ of Theorem 1 necessary. The predicate `assumption_2`
checks the minimum over pairs, the margin the theorems need; the class-mean gap the paper plotted is reported beside
it as what it is, an average gap that is not the margin and can be positive when no margin exists (specification
§13.2). For $\lambda<0$ the roles of $A^+$ and $A^-$ swap.
""",
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
        "tests/test_definitions.py::test_assumption_2_accepts_margin_instances",
        "tests/test_definitions.py::test_assumption_2_rejects_violating_instances",
        "tests/test_definitions.py::test_assumption_2_edge_cases",
        "tests/test_definitions.py::test_assumption_predicates_match_sympy",
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
    paper=r"""
"When sampling an answer to a query that is unrelated to the behavior of steering, the vector [$\delta_{r_e}(q)$] … is
random with the following coordinate-wise distribution on the [$k$] highest probability tokens making [$1-\epsilon$]
of the probability mass: … Where [$D$] is some continuous distribution with variance [$\sigma^2$]."
""",
    reconstruction=r"""
Eq. (9) is reconstructed as: on the top-$k$ tokens $T_k(q)$ (mass $\ge1-\epsilon$, $a^*\in T_k$) the projections
$z_s=\langle U^Te_s,\hat\delta\rangle$ are i.i.d. from $D$ with variance $\sigma^2$, and tokens outside $T_k$ are
unconstrained. The structure is high confidence (`RECONSTRUCTED-H`), the exact form of the distribution medium
(`RECONSTRUCTED-M`). Appendix A.3 uses the unnormalised form, with standard deviation $\alpha\sigma r_e$; the mean of
$D$ is irrelevant, because only the differences $z_b-z_{a^*}$ enter.
""",
    decision=r"""
The project defines $\sigma$ as the **within-query** spread of $z$ (pooled over queries after removing each query's
mean); pooled across queries the differences spread by $\sqrt2\,\sigma$, and every measurement says which it reports
(specification §6.1). One query shows only the structural part (`assumption_3`); the i.i.d. law is tested over many
queries (`assumption_3_sample`). The simulators (`bounds.synthetic`, `bounds.simulate`) generate exactly this
parametrisation, with any continuous noise law of finite variance.
""",
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
        "tests/test_definitions.py::test_assumption_3_structural_accepts_and_rejects",
        "tests/test_definitions.py::test_assumption_3_sample_accepts_iid_normal",
        "tests/test_definitions.py::test_assumption_3_sample_rejects_violations",
        "tests/test_definitions.py::test_assumption_3_sample_level_is_calibrated",
        "tests/test_definitions.py::test_assumption_3_edge_cases",
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
    paper=r"""
Appendix H relaxes Assumption 2 to a soft margin (eqs. 46–50): the margin may fail for some pairs of answers, provided
the misclassified answers carry little probability mass and do not reach far into the aligned cluster. The prose also
allows aligned answers to be misclassified the other way.
""",
    reconstruction=r"""
Low confidence (`RECONSTRUCTED-L`): the misclassified set $M=\{s^-\in A^-:\exists s^+\in A^+,\
z_{s^+}-z_{s^-}<\Delta\}$ (46), its mass $P(M\mid q)\le\rho$ (47), its depth $\max_{s\in M}z_s-\min_{s^+\in
A^+}z_{s^+}\le\Delta_M$ (48), and the margin $\Delta$ for every other pair (49). The names $\rho$ and $\Delta_M$ were
chosen by this project; the paper's symbols are lost.
""",
    decision=r"""
The project encodes (46)–(49) as the predicate `assumption_4`, states Theorem 3 under it, and generates soft-margin
instances that satisfy it for Theorem 3's property test. Whether the paper's own soft margin had this form cannot be
checked: its equations are lost.
""",
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
        "tests/test_definitions.py::test_assumption_4_accepts_soft_margin_instances",
        "tests/test_definitions.py::test_assumption_4_rejects_violating_instances",
        "tests/test_definitions.py::test_assumption_4_edge_cases",
        "tests/test_definitions.py::test_assumption_predicates_match_sympy",
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
