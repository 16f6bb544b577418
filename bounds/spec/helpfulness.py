"""The statements of docs/specification.md §6-§7, §11 and §12.2: Theorem 2 as stated, its corrected replacements and
Corollaries 2-3 (numeric kernels: :mod:`bounds.helpfulness`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

from .. import domains as S
from .._check import check_integer
from .._montecarlo import noise_law
from ..helpfulness import (
    helpfulness_event,
    helpfulness_expectation,
    helpfulness_jensen,
    helpfulness_limit,
    helpfulness_quantities,
    helpfulness_upper,
    helpfulness_upper_product,
)
from ..simulate import corollary_3_frequency, theorem_2_frequency
from ..statement import Statement, symbol_domains
from ..steered import helpfulness
from . import of_q, pinned, prose, symbol

_H = of_q("H_lambda")


def corollary_3_expr(ell: int) -> sp.Expr:
    r"""Eq. (79) for :math:`\ell` steps as a sympy expression in :math:`\lambda` with per-step symbols
    ``p_0^(i)``, ``gamma_i``, ``beta_i``, ``sigma_i`` (:math:`i=1..\ell`)."""
    ell = check_integer("ell", ell, 1)
    factors = []
    for i in range(1, ell + 1):
        p, g, b, s = (
            sp.Symbol(name, positive=True) for name in (f"p_0^({i})", f"gamma_{i}", f"beta_{i}", f"sigma_{i}")
        )
        factors.append(p / (p + g * (1 - p) * (1 + (S.alpha * b * s * S.lam) ** 2 / 2)))
    return sp.Mul(*factors)


def _jensen_expr() -> sp.Expr:
    return S.p0 / (
        S.p0
        + S.P_plus * sp.exp(S.alpha * S.sigma * S.Y_plus * S.lam)
        + S.P_minus * sp.exp(-S.alpha * S.sigma * S.Y_minus * S.lam)
    )


# ---------------------------------------------------------------------------------------------------------------
# Violations of the failing claims (evaluated on the pinned counterexamples)
# ---------------------------------------------------------------------------------------------------------------
def mc_arguments(
    mc: Mapping[str, Any], lam: np.ndarray | None = None
) -> tuple[tuple[Any, np.ndarray, int], dict[str, Any]]:
    """The positional ``(law, lam, seed)`` and keyword ``alpha``, ``sigma``, ``n_draws`` arguments of a pinned
    Monte-Carlo configuration, as :func:`~bounds.simulate.theorem_2_frequency` and
    :func:`~bounds.simulate.corollary_3_frequency` take them (``lam``: another grid than the pinned one)."""
    law = noise_law(mc["law"], **dict(mc.get("law_params", {})))
    kwargs = {"alpha": float(mc["alpha"]), "sigma": float(mc["sigma"]), "n_draws": int(mc["n_draws"])}
    return (law, np.asarray(mc["lam"] if lam is None else lam), int(mc["seed"])), kwargs


def theorem_2_mc_violation(mc: Mapping[str, Any]) -> float:
    """``claimed - frequency - 4 SE`` of eq. (6) on a pinned Monte-Carlo configuration (``> 0``: refuted)."""
    args, kwargs = mc_arguments(mc)
    p, top = np.asarray(mc["p"]), np.asarray(mc["top"], dtype=bool)
    return theorem_2_frequency(p, int(mc["answer"]), top, *args, fixed_z=np.asarray(mc["fixed_z"]), **kwargs).deficit


def theorem_2_realisation_violation(r: Mapping[str, Any]) -> float:
    """On one realisation with both ``B±`` non-empty: ``max_λ (H - eq. 6)`` (``> 0``: the proof's step 5 fails).

    Returns ``-inf`` when the realisation is not on the event "both ``B±`` non-empty" (then it refutes nothing).
    """
    p, z, lam = np.asarray(r["p"]), np.asarray(r["z"]), np.asarray(r["lam_norm"], dtype=float)
    top = np.asarray(r["top"], dtype=bool)
    q = helpfulness_quantities(p, z, int(r["answer"]), top, lam_norm=lam, sigma=1.0)
    if not np.all(q.both_nonempty):
        return -np.inf
    zz = np.where(lam[:, None] < 0, -z[None, :], z[None, :])
    H = helpfulness(p, zz, np.abs(lam), int(r["answer"]))
    bound = helpfulness_upper(q.p0, q.gamma, 1.0, q.beta, 1.0, np.abs(lam))
    return float(np.max(H - bound))


def corollary_3_mc_violation(mc: Mapping[str, Any]) -> float:
    """``claimed - frequency - 4 SE`` of eq. (79) on a pinned multi-step configuration (``> 0``: refuted)."""
    steps = [
        {"p": np.asarray(st["p"]), "answer": int(st["answer"]), "top_k": np.asarray(st["top"], dtype=bool),
         "fixed_z": np.asarray(st["fixed_z"])}
        for st in mc["steps"]
    ]  # fmt: skip
    args, kwargs = mc_arguments(mc)
    return corollary_3_frequency(steps, *args, **kwargs).deficit


_T = "tests/bounds/test_helpfulness.py::"

THEOREM_2 = Statement(
    id="theorem-2",
    name="Helpfulness upper bound (as stated)",
    kind="theorem",
    section="§6 (eq. 6)",
    provenance=("VERBATIM-PROSE", "VERBATIM-CODE", "RECONSTRUCTED-M"),
    statement=(
        "If the projections z_s of the top-k tokens (mass >= 1 - eps, a* among them) on the steering direction are "
        "i.i.d. from a continuous law D of variance sigma^2 (Assumption 3), then with probability 1 - 2/k over the "
        "noise, H_lambda(q) <= p0 / (p0 + gamma (1 - p0)(1 + (alpha beta sigma lambda)^2 / 2)), with "
        "gamma = 2 min(P+, P-)/(1 - p0) and beta = min(Y+, Y-) functions of the same noise realisation. FAILS: on "
        "configurations found by search the frequency of the bound holding is below 1 - 2/k by more than 4 standard "
        "errors, and it fails on realisations where both B+ and B- are non-empty (the proof's step 5)."
    ),
    **prose("theorem-2"),
    hypotheses=(
        "assumption-3 (i.i.d. continuous noise of finite variance on the top-k tokens, a* in T_k)",
        "tail tokens outside T_k unconstrained",
        "assumption-1",
    ),
    lhs=_H,
    relation="<=",
    build=lambda: S.p0 / (S.p0 + S.gamma * (1 - S.p0) * (1 + (S.alpha * S.beta * S.sigma * S.lam) ** 2 / 2)),
    parameters=symbol_domains("p_0", "gamma", "alpha", "beta", "sigma", "lambda"),
    status="fails",
    numeric=helpfulness_upper,
    gauge=lambda: S.lam**-2,
    evidence=(
        _T + "test_theorem_2_counterexample_found_by_search",
        _T + "test_theorem_2_realisation_counterexample_found_by_search",
        _T + "test_theorem_2_regression_pinned_counterexample",
        _T + "test_theorem_2_series_has_no_linear_term_and_is_the_parabola",
        _T + "test_theorem_2_asymptotic_matches_hand_derivation",
        _T + "test_helpfulness_upper_matches_sympy",
    ),
    **pinned("theorem-2"),  # the simplest, found by the searches of tests/bounds/test_helpfulness.py (shrunk)
    # the probability claim's violation (Monte-Carlo deficit at 4 SE); the realisation is checked separately
    violation=lambda ce: theorem_2_mc_violation(ce["monte_carlo"]),
    notes=(
        "Step 4 of the proof substitutes X+- >= alpha*beta*sigma*lambda, which goes the wrong way for the "
        "P- exp(-X-) term (docs/specification.md §6.2); step 5's 'the bound holds surely when both B+- are "
        "non-empty' is false.",
        "Caution (docs/specification.md §6.1): beta = min(Y+, Y-) is about 0.47-0.58 for Gaussian noise, not the 0.8 "
        "of a single half-normal mean; sigma is the within-query spread of z.",
        "Replaced by theorem-2-jensen, theorem-2-event and theorem-2-expectation.",
    ),
    settled_by="tests/bounds/test_helpfulness.py::test_theorem_2_counterexample_found_by_search",
)

COROLLARY_2 = Statement(
    id="corollary-2",
    name="Helpfulness at large steering",
    kind="corollary",
    section="§7 (App. E)",
    provenance=("VERBATIM-PROSE", "RECONSTRUCTED-H"),
    statement=(
        "Under the conditions of Theorem 2 (i.i.d. continuous noise on the n possible answers), the expected "
        "helpfulness over queries satisfies limsup_{lambda -> oo} E_q[H_lambda(q)] <= 1/n. Exactly: "
        "H -> 1[a* = argmax z], whose expectation is 1/n by exchangeability (tail tokens can only lower it)."
    ),
    **prose("corollary-2"),
    hypotheses=("assumption-3 with k = n (all possible answers noised)", "tail tokens unconstrained"),
    lhs=symbol("limsup_{lambda->oo} E_q[H_lambda(q)]"),
    relation="<=",
    build=lambda: 1 / S.n,
    parameters=symbol_domains("n"),
    status="holds",
    numeric=helpfulness_limit,
    not_closed_form="a limit lambda -> infinity of an expectation, not a function of lambda",
    evidence=(
        _T + "test_corollary_2_holds_monte_carlo_at_large_steering",
        _T + "test_corollary_2_limit_is_argmax_indicator",
    ),
    nondegenerate=(
        "the Monte-Carlo estimate of the limiting mean is at least 1/(2n): the answer is not beaten almost surely by "
        "a fixed tail token, so the claim is near its bound. The check (mean <= 1/n + 4 binomial SE at 1/n over "
        "20,000 draws) detects an excess of 0.014 (n = 2), 0.012 (n = 4), 0.0085 (n = 10)"
    ),
    min_instances={_T + "test_corollary_2_holds_monte_carlo_at_large_steering": 20},
    settled_by="tests/bounds/test_helpfulness.py::test_corollary_2_holds_monte_carlo_at_large_steering",
)

COROLLARY_3 = Statement(
    id="corollary-3",
    name="Multi-token helpfulness (as stated, ell = 2 shown)",
    kind="corollary",
    section="§11 (eqs. 79-80)",
    provenance=("VERBATIM-PROSE", "RECONSTRUCTED-M"),
    statement=(
        "For an answer of at most ell tokens with per-step correct-token probabilities p0^(i) (p0 = prod_i p0^(i)), "
        "under Theorem 2's conditions at each decoding step, with probability >= 1 - 2 ell/k: H_lambda(q) <= "
        "prod_i p0^(i) / (p0^(i) + gamma_i (1 - p0^(i))(1 + (alpha beta_i sigma_i lambda)^2 / 2)) (eq. 79; the "
        "registry shows ell = 2, bounds.spec.helpfulness.corollary_3_expr(ell) builds any ell). FAILS: it inherits "
        "Theorem 2's error; on configurations found by search the Monte-Carlo frequency is below 1 - 2 ell/k by more "
        "than 4 standard errors."
    ),
    **prose("corollary-3"),
    hypotheses=(
        "theorem-2's hypotheses at every decoding step, with independent noise across steps",
        "chain rule H = prod_i H_i (exact)",
    ),
    lhs=_H,
    relation="<=",
    build=lambda: corollary_3_expr(2),
    parameters={
        **{f"p_0^({i})": S.domains["p_0"] for i in (1, 2)},
        **{f"gamma_{i}": S.domains["gamma"] for i in (1, 2)},
        **{f"beta_{i}": S.domains["beta"] for i in (1, 2)},
        **{f"sigma_{i}": S.domains["sigma"] for i in (1, 2)},
        "alpha": S.domains["alpha"],
        "lambda": S.domains["lambda"],
    },
    status="fails",
    numeric=helpfulness_upper_product,
    gauge=lambda: S.lam**-4,
    evidence=(
        _T + "test_corollary_3_counterexample_found_by_search",
        _T + "test_corollary_3_regression_pinned_counterexample",
        _T + "test_corollary_3_series_matches_eq_80",
        _T + "test_helpfulness_upper_product_matches_sympy",
    ),
    **pinned("corollary-3"),
    violation=lambda ce: corollary_3_mc_violation(ce["monte_carlo"]),
    notes=(
        "Each factor inherits Theorem 2's error (docs/specification.md §6.3); use the §12.2 replacements per step "
        "instead.",
    ),
    settled_by="tests/bounds/test_helpfulness.py::test_corollary_3_counterexample_found_by_search",
)

THEOREM_2_JENSEN = Statement(
    id="theorem-2-jensen",
    name="Helpfulness bound by Jensen (deterministic)",
    kind="replacement",
    section="§12.2(a)",
    provenance=("CORRECTED",),
    statement=(
        "For every realisation of the projections (no distributional assumption), with B+-, P+-, X+- >= 0 defined "
        "on T_k for the sign of lambda: H_lambda(q) <= p0 / (p0 + P+ exp(X+) + P- exp(-X-)), X+- = "
        "alpha sigma |lambda| Y+- (step ~32 of the paper's proof)."
    ),
    **prose("theorem-2-jensen"),
    notes=(
        "No large-lambda expansion: the decay rate depends on the realisation. When some wrong answer lies above a* "
        "(Y+ > 0) the bound decays like (p0/P+) exp(-alpha sigma Y+ lambda), a gauge that contains the random Y+; "
        "when none does (B+ empty, P+ = 0) it tends to 1.",
    ),
    hypotheses=("any projections z (every realisation)", "T_k contains a*"),
    lhs=_H,
    relation="<=",
    build=_jensen_expr,
    parameters={
        **symbol_domains("p_0", "P^+", "P^-", "alpha", "sigma", "Y^+", "Y^-"),
        # The formula is shown for lambda >= 0; the statement holds for either sign with |lambda| in its place.
        "lambda": "lambda >= 0 as displayed; for lambda < 0 the bound holds with |lambda| in place of lambda, "
        "with B+-, P+- and Y+- defined for the sign of lambda",
    },
    status="holds",
    replaces="theorem-2",
    numeric=helpfulness_jensen,
    evidence=(
        _T + "test_theorem_2_jensen_holds_on_every_realisation",
        _T + "test_helpfulness_jensen_matches_sympy",
    ),
    nondegenerate=(
        "X+ + X- >= 1e-6 (steering moves the bound) and the bound informative: neither H <= 1 (to 1e-9) nor "
        "underflowed (<= 1e-12)"
    ),
    min_instances={_T + "test_theorem_2_jensen_holds_on_every_realisation": 500},
    settled_by="tests/bounds/test_helpfulness.py::test_theorem_2_jensen_holds_on_every_realisation",
)

THEOREM_2_EVENT = Statement(
    id="theorem-2-event",
    name="Quadratic helpfulness decrease on a probability-1/2 event",
    kind="replacement",
    section="§12.2(b)",
    provenance=("CORRECTED",),
    statement=(
        "On E_q = {sum_{b in T_k \\ a*} P(b)(z_b - z_a*) >= 0} (the event flips with the sign of lambda), "
        "H_lambda(q) <= p0 / (1 - eps + P+ (alpha sigma Y+ lambda)^2 / 2) for any 1 - eps <= P(T_k). "
        "P(E_q) = 1/2 for a symmetric continuous noise law."
    ),
    **prose("theorem-2-event"),
    hypotheses=("the realisation lies in E_q (for the sign of lambda)", "1 - eps <= top-k mass", "T_k contains a*"),
    lhs=_H,
    relation="<=",
    build=lambda: S.p0 / (1 - S.eps + S.P_plus * (S.alpha * S.sigma * S.Y_plus * S.lam) ** 2 / 2),
    parameters=symbol_domains("p_0", "epsilon", "P^+", "alpha", "sigma", "Y^+", "lambda"),
    status="holds",
    replaces="theorem-2",
    numeric=helpfulness_event,
    gauge=lambda: S.lam**-2,
    evidence=(
        _T + "test_theorem_2_event_holds_on_the_event",
        _T + "test_theorem_2_event_holds_probability_half",
        _T + "test_helpfulness_event_matches_sympy",
        _T + "test_theorem_2_event_asymptotic_matches_hand_derivation",
    ),
    nondegenerate=(
        "P+ > 0 and X+ >= 1e-6 (the quadratic term is active) and the bound informative: neither H <= 1 (to 1e-9) "
        "nor underflowed (<= 1e-12)"
    ),
    min_instances={_T + "test_theorem_2_event_holds_on_the_event": 750},
    settled_by="tests/bounds/test_helpfulness.py::test_theorem_2_event_holds_on_the_event",
)

THEOREM_2_EXPECTATION = Statement(
    id="theorem-2-expectation",
    name="Expected helpfulness to second order",
    kind="replacement",
    section="§12.2(c)",
    provenance=("CORRECTED",),
    statement=(
        "If every token's projection is i.i.d. noise of variance sigma^2 (symmetric law, finite fourth moment), "
        "E_z[H_lambda(q)] = p0 - p0 alpha^2 sigma^2 lambda^2 [p0 (1 - p0) - S2] + O(lambda^4), "
        "S2 = sum_{b != a*} P(b)^2. The bracket p0 (1 - p0) - S2 is positive when a* is the top answer (E[H] falls) "
        "and negative for confidently wrong models (E[H] rises: the regression towards 1/n)."
    ),
    **prose("theorem-2-expectation"),
    hypotheses=(
        "all tokens receive i.i.d. noise of variance sigma^2 (not only the top-k)",
        "symmetric law (odd orders vanish) with finite fourth moment (the O(lambda^4) remainder)",
    ),
    lhs=of_q("E_z_H_lambda"),
    relation="=",
    build=lambda: S.p0 - S.p0 * S.alpha**2 * S.sigma**2 * S.lam**2 * (S.p0 * (1 - S.p0) - S.S2),
    parameters=symbol_domains("p_0", "alpha", "sigma", "lambda")
    | {"S_2": "0 <= S_2 <= (1 - p_0)**2 (sum over wrong answers b of P(b|q)**2)"},
    status="holds",
    replaces="theorem-2",
    numeric=helpfulness_expectation,
    evidence=(
        _T + "test_theorem_2_expectation_holds_sympy_derivation",
        _T + "test_theorem_2_expectation_holds_monte_carlo",
        _T + "test_theorem_2_expectation_curvature_flips_for_confidently_wrong_model",
    ),
    nondegenerate=(
        "the lambda^2 term exceeds the Monte-Carlo check's tolerance (4 SE plus the O(lambda^4) allowance), so the "
        "check tells the formula from the constant p0 (equal masses, for one, make the term vanish)"
    ),
    min_instances={_T + "test_theorem_2_expectation_holds_monte_carlo": 5},
    notes=(
        "Only the second-order formula is claimed; the polynomial is an approximation, not a bound.",
        "For a skewed law the lambda^3 term does not vanish (sympy: proportional to the third central moment); "
        "for Student-t with 2 < df <= 4 the fourth moment is infinite and the remainder is o(lambda^2) only.",
        "No large-lambda expansion: the formula is a Taylor polynomial truncated at second order, valid for small "
        "alpha*sigma*lambda only; at large lambda it leaves [0, 1] and says nothing about E[H], whose limit is the "
        "subject of corollary-2.",
    ),
    settled_by="tests/bounds/test_helpfulness.py::test_theorem_2_expectation_holds_monte_carlo",
)

STATEMENTS: list[Statement] = [
    THEOREM_2,
    COROLLARY_2,
    COROLLARY_3,
    THEOREM_2_JENSEN,
    THEOREM_2_EVENT,
    THEOREM_2_EXPECTATION,
]
