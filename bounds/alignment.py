r"""Alignment bounds: Theorem 1 (eq. 5) and Corollary 1 (docs/specification.md §4–§5), plus Theorems 3–5 (§8–§10).

Conventions (docs/specification.md §0, §3): :math:`\Delta` is the **full gap** between aligned and misaligned
projections on the steering direction (Assumption 2, eq. 8), :math:`\|\delta\| = \alpha|\lambda|` (Assumption 1), and
the bounds are stated for steering towards the aligned set (:math:`\lambda \ge 0`). For :math:`\lambda < 0` the same
expression of Theorem 1 is an **upper** bound on the behavior expectation.
"""

from __future__ import annotations

import numpy as np

from . import symbols as S
from ._check import _TINY, as_real, broadcast_shape, check_closed, check_open, divide_by_product, finish, product
from .statement import Statement, symbol_domains

__all__ = [
    "STATEMENTS",
    "alignment_guarantee",
    "alignment_lower",
    "alignment_lower_norm",
]


# ---------------------------------------------------------------------------------------------------------------
# Theorem 1
# ---------------------------------------------------------------------------------------------------------------
def _half_tilt(lm: np.ndarray, a: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``λ αΔ/2``, formed as ``λ (αΔ/2)`` so that a scalar ``(α, Δ)`` costs one multiply per λ.

    When ``αΔ/2`` itself leaves the normal float64 range (``α = Δ = 2e154``), ``λ (αΔ/2)`` would be ``inf`` for
    ``λ = 5e-324`` (true value 2e-15) and ``0 * inf = NaN`` for ``λ = 0``; :func:`bounds._check.product` then forms
    the three-factor product without spurious overflow.
    """
    with np.errstate(over="ignore", under="ignore"):
        coef = 0.5 * a * d
    if np.isfinite(coef).all() and ((coef >= _TINY) | (a == 0) | (d == 0)).all():
        with np.errstate(over="ignore"):  # ±inf only where the true λαΔ/2 exceeds float64: tanh gives ±1
            return np.multiply(lm, coef)
    return product(lm, 0.5 * a, d)


def alignment_lower(alpha: object, B0: object, lam: object, delta: object) -> float | np.ndarray:
    r"""Theorem 1 (eq. 5): :math:`\tanh\big(\tfrac{\alpha\lambda\Delta}{2}+\operatorname{artanh}B_0\big)`.

    For :math:`\lambda \ge 0` (steering towards the aligned set) it is a **lower** bound on the steered behavior
    expectation :math:`B_{P_\lambda}(q)`; for :math:`\lambda < 0` the same expression is an **upper** bound
    (docs/specification.md §0). It equals :math:`B_0` at :math:`\lambda=0`, has slope :math:`\alpha\Delta(1-B_0^2)/2`
    there and tends to :math:`\pm1` as :math:`\lambda\to\pm\infty`. Tight: a two-token model whose projections
    differ by exactly :math:`\Delta` attains it.

    Args:
        alpha: :math:`\alpha \ge 0`, the slope of Assumption 1 (:math:`\|\delta\| = \alpha|\lambda|`).
        B0: unsteered behavior expectation, :math:`-1 < B_0 < 1`.
        lam: steering coefficient :math:`\lambda`, any finite real.
        delta: the margin :math:`\Delta \ge 0`, the full gap between aligned and misaligned projections (eq. 8).

    Returns:
        a Python float when all inputs are scalars, else the broadcast array.

    Raises:
        ValueError: a parameter outside its domain, NaN, infinite, or shapes that do not broadcast.

    >>> round(alignment_lower(1.0, 0.0, 2.0, 1.0), 6)
    0.761594
    """
    a = check_closed("alpha", as_real("alpha", alpha), 0.0, np.inf)
    b0 = check_open("B0", as_real("B0", B0), -1.0, 1.0)
    d = check_closed("delta", as_real("delta", delta), 0.0, np.inf)
    lm = as_real("lam", lam)
    if a.ndim or b0.ndim or d.ndim:
        broadcast_shape({"alpha": a, "B0": b0, "lam": lm, "delta": d})
    # (α Δ / 2) is formed first so that the common scalar-parameter case costs one multiply-add and one tanh per λ,
    # all in one output buffer (no temporaries of the size of λ).
    out = _half_tilt(lm, a, d)
    if out.ndim and out.shape == np.broadcast_shapes(out.shape, b0.shape):
        out += np.arctanh(b0)
        return finish(np.tanh(out, out=out))
    return finish(np.tanh(out + np.arctanh(b0)))


def alignment_lower_norm(B0: object, norm: object, delta: object) -> float | np.ndarray:
    r"""Theorem 1 as a function of :math:`\|\delta\|` alone: :math:`\tanh(\Delta\|\delta\|/2+\operatorname{artanh}B_0)`.

    This is the form that holds without Assumption 1 (docs/specification.md §4): a lower bound on
    :math:`B_{P_\lambda}(q)` for every :math:`\|\delta\|\ge0` when :math:`\hat\delta` separates the answers with
    full-gap margin :math:`\Delta`.

    Args:
        B0: :math:`-1 < B_0 < 1`.
        norm: :math:`\|\delta\| \ge 0`.
        delta: :math:`\Delta \ge 0`.
    """
    b0 = check_open("B0", as_real("B0", B0), -1.0, 1.0)
    nm = check_closed("norm", as_real("norm", norm), 0.0, np.inf)
    d = check_closed("delta", as_real("delta", delta), 0.0, np.inf)
    broadcast_shape({"B0": b0, "norm": nm, "delta": d})
    with np.errstate(over="ignore"):  # Δ‖δ‖/2 beyond float64 is +inf: tanh gives 1, the limit
        return finish(np.tanh(0.5 * d * nm + np.arctanh(b0)))


def _theorem_1_violation(ce: dict) -> float:
    from .steered import behavior_expectation

    p, z, scores = np.asarray(ce["p"]), np.asarray(ce["z"]), np.asarray(ce["scores"])
    b0 = float(np.sum(p * scores))
    return alignment_lower_norm(b0, ce["norm"], ce["delta"]) - behavior_expectation(p, z, ce["norm"], scores)


# ---------------------------------------------------------------------------------------------------------------
# Corollary 1
# ---------------------------------------------------------------------------------------------------------------
def alignment_guarantee(eps: object, B0: object, alpha: object, delta: object) -> float | np.ndarray:
    r"""Corollary 1: the smallest :math:`\lambda \ge 0` at which Theorem 1's bound reaches :math:`1-\epsilon`.

    .. math::

        \lambda^* = \max\Big(0,\ \frac{2}{\alpha\Delta}\big(\operatorname{artanh}(1-\epsilon)
        - \operatorname{artanh}B_0\big)\Big)
        = \max\Big(0,\ \frac{1}{\alpha\Delta}\ln\frac{(2-\epsilon)(1-B_0)}{\epsilon\,(1+B_0)}\Big).

    For :math:`B_0<0` this is the paper's :math:`\frac{2}{\alpha\Delta}(\operatorname{artanh}(1-\epsilon)
    +\operatorname{artanh}|B_0|)`. It is 0 when the unsteered model already meets the target
    (:math:`B_0\ge1-\epsilon`): that is the answer, not a clipping. Evaluated in log space (``log1p``), so
    :math:`\epsilon` down to 1e-300 and :math:`B_0` up to :math:`1-10^{-15}` stay finite.

    Args:
        eps: :math:`0 < \epsilon < 2` (target behavior :math:`1-\epsilon \in (-1, 1)`).
        B0: :math:`-1 < B_0 < 1`.
        alpha: :math:`\alpha > 0`.
        delta: :math:`\Delta > 0`.

    Returns:
        :math:`\lambda^*` (per-layer injected norm): float for scalar inputs, else the broadcast array.

    Raises:
        ValueError: a parameter outside its domain, or :math:`\alpha\Delta` so small that :math:`\lambda^*`
            exceeds the float64 range.
    """
    e = check_open("eps", as_real("eps", eps), 0.0, 2.0)
    b0 = check_open("B0", as_real("B0", B0), -1.0, 1.0)
    a = check_open("alpha", as_real("alpha", alpha), 0.0, np.inf)
    d = check_open("delta", as_real("delta", delta), 0.0, np.inf)
    broadcast_shape({"eps": e, "B0": b0, "alpha": a, "delta": d})
    log_ratio = np.log(2.0 - e) - np.log(e) + np.log1p(-b0) - np.log1p(b0)
    out = np.maximum(0.0, divide_by_product(log_ratio, a, d))  # log space where α Δ under/overflows
    if not np.isfinite(out).all():
        raise ValueError(
            "alpha * delta is too small: lambda* = log(...)/(alpha*delta) exceeds the float64 range (1.8e308); "
            f"valid: alpha * delta large enough for a finite threshold, got alpha={_first(a)}, delta={_first(d)}"
        )
    return finish(out)


def _first(x: np.ndarray) -> float:
    return float(np.ravel(x)[0])


def _corollary_1_violation(ce: dict) -> float:  # pragma: no cover - Corollary 1 holds; kept for symmetry
    lam = alignment_guarantee(ce["eps"], ce["B0"], ce["alpha"], ce["delta"])
    return (1.0 - ce["eps"]) - alignment_lower(ce["alpha"], ce["B0"], lam, ce["delta"])


# ---------------------------------------------------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------------------------------------------------
def _B_steered() -> object:
    import sympy as sp

    return sp.Function("B_lambda")(sp.Symbol("q"))


def _theorem_1_expr() -> object:
    import sympy as sp

    return sp.tanh(S.alpha * S.Delta * S.lam / 2 + sp.atanh(S.B0))


def _corollary_1_expr() -> object:
    import sympy as sp

    return sp.Max(0, 2 / (S.alpha * S.Delta) * (sp.atanh(1 - S.eps) - sp.atanh(S.B0)))


def _lambda_star() -> object:
    import sympy as sp

    return sp.Symbol("lambda^*")


THEOREM_1 = Statement(
    id="theorem-1",
    name="Alignment lower bound",
    kind="theorem",
    section="§4 (eq. 5)",
    provenance=("VERBATIM-PROSE", "RECONSTRUCTED-H", "RECONSTRUCTED-M"),
    statement=(
        "If the change delta of the final hidden state linearly classifies aligned vs misaligned answer "
        "representations with full-gap margin Delta (Assumption 2) and ||delta|| = alpha*lambda (Assumption 1), then "
        "for lambda >= 0 the steered behavior expectation is at least tanh(alpha*Delta*lambda/2 + artanh B0); for "
        "lambda < 0 the same expression bounds it from above. The constant 1/2 goes with the full-gap Delta and is "
        "tight (RECONSTRUCTED-M)."
    ),
    paper=r"""
"Let [$P$] be a model prompted with query [$q$] and injected with representations of coefficient [$r_e$]. Let [$B$] be
a behavior scoring function. … Assume the representations of aligned and misaligned answers w.r.t. [$B$] are linearly
separable, and [$\delta r_e^{(L)}(q)$] linearly classifies them with margin [$\Delta$]. Then, the behavior expectation
of the model conditioned on the query satisfies:" eq. (5), "Where [$B_0$] is the behavior expectation without steering
and [$\alpha$] is a model dependent coefficient relating between [$r_e$] and the corresponding final hidden state
norm." The prose says the bound equals $B_0$ without steering, grows linearly near it and tends to 1.
""",
    reconstruction=r"""
Eq. (5) is reconstructed as $B_{P_{r_e}}(q)\ge\tanh(\alpha\Delta r_e/2+\operatorname{artanh}B_0)$ for $r_e\ge0$. The
form is high confidence (`RECONSTRUCTED-H`): it follows from the proof of App. B (eqs. 12–27), every step of which is
valid, and has every property the prose lists. The constant ½ is medium confidence (`RECONSTRUCTED-M`): the published
constant is not visible. With $\Delta$ the full gap (eq. 8) the ½ is necessary, since a two-token model attains the
bound with equality, and the authors' fit $\tanh(ar_e+b_0)$ then means $a=\alpha\Delta/2$. Without the ½,
random instances violate the bound about a third of the time.
""",
    decision=r"""
The project implements the ½ with the full-gap $\Delta$ (`alignment_lower`) and, as the form that needs no Assumption
1, $\tanh(\Delta\|\delta\|/2+\operatorname{artanh}B_0)$ (`alignment_lower_norm`). Both signs of $\lambda$ are
accepted: steering with $-\lambda$ is steering towards the misaligned set, so for $\lambda<0$ the same expression is
an **upper** bound on $B$ (specification §0). A test also pins that the form without the ½ fails.
""",
    hypotheses=("assumption-2 (hard margin, full gap Delta)", "binary scores B in {-1,+1}", "assumption-1"),
    lhs=_B_steered,
    relation=">=",
    build=_theorem_1_expr,
    parameters=symbol_domains("alpha", "Delta", "lambda", "B_0"),
    status="holds",
    numeric=alignment_lower,
    gauge=lambda: __import__("sympy").exp(-S.alpha * S.Delta * S.lam),
    evidence=(
        "tests/test_alignment.py::test_theorem_1_holds_on_hard_margin_instances",
        "tests/test_alignment.py::test_theorem_1_upper_bound_for_negative_lambda",
        "tests/test_alignment.py::test_theorem_1_tight_on_two_token_model",
    ),
    nondegenerate=(
        "Delta ||delta|| >= 1e-6 (the bound moves off B0, so it says more than B >= B0) and the bound is not vacuous "
        "(above -1 + 1e-9 as a lower bound; below 1 - 1e-9 as the upper bound of steering with -lambda)"
    ),
    min_instances={
        "tests/test_alignment.py::test_theorem_1_holds_on_hard_margin_instances": 1500,
        "tests/test_alignment.py::test_theorem_1_upper_bound_for_negative_lambda": 750,
    },
    notes=(
        "With Delta the full gap, the published-looking form tanh(alpha*Delta*lambda + artanh B0) (no 1/2) overstates "
        "the bound: the two-token model violates it for every lambda > 0 (tests/test_alignment.py::"
        "test_theorem_1_without_half_is_violated).",
    ),
)

COROLLARY_1 = Statement(
    id="corollary-1",
    name="Alignment guarantee",
    kind="corollary",
    section="§5 (App. D)",
    provenance=("VERBATIM-PROSE", "RECONSTRUCTED-H"),
    statement=(
        "Under the conditions of Theorem 1, steering with lambda >= lambda* = max(0, 2/(alpha*Delta) * "
        "(artanh(1-eps) - artanh B0)) gives behavior expectation >= 1 - eps (0 < eps < 2, -1 < B0 < 1)."
    ),
    paper=r"""
"Let [$\epsilon>0$], a language model and a prompt that induces negative behavior without steering [$B_0<0$]. Under
the conditions of theorem 1, using an injected vector norm of [$r_e\ge r_e^*$] leads to behavior expectation
[$\ge1-\epsilon$]."
""",
    reconstruction=r"""
Solving Theorem 1's bound gives
$r_e^*=\frac{2}{\alpha\Delta}(\operatorname{artanh}(1-\epsilon)+\operatorname{artanh}|B_0|)=\frac{1}{\alpha\Delta}\ln\frac{(2-\epsilon)(1+|B_0|)}{\epsilon(1-|B_0|)}$
for $B_0<0$; the two forms are identical (sympy). High confidence (`RECONSTRUCTED-H`).
""",
    decision=r"""
The project states it for every $-1<B_0<1$ and $0<\epsilon<2$:
$\lambda^*=\max(0,\frac{2}{\alpha\Delta}(\operatorname{artanh}(1-\epsilon)-\operatorname{artanh}B_0))$, which is 0
when the unsteered model already meets the target; that is the answer, not a clipping. `alignment_guarantee` evaluates
it in log space; with `alpha=1` it returns the threshold on $\|\delta\|$. $\lambda$ is the per-layer injected norm
(unit vectors times $\lambda$).
""",
    hypotheses=("the hypotheses of theorem-1",),
    lhs=_lambda_star,
    relation="=",
    build=_corollary_1_expr,
    parameters=symbol_domains("epsilon", "B_0", "alpha", "Delta"),
    status="holds",
    numeric=alignment_guarantee,
    not_closed_form="a threshold on lambda (max(0, ...)), not a function of lambda",
    evidence=(
        "tests/test_alignment.py::test_corollary_1_holds_at_and_beyond_threshold",
        "tests/test_alignment.py::test_corollary_1_threshold_is_smallest",
    ),
    nondegenerate="lambda* > 0, i.e. B0 < 1 - eps: the unsteered model misses the target, so the threshold does work",
    min_instances={"tests/test_alignment.py::test_corollary_1_holds_at_and_beyond_threshold": 1000},
)

STATEMENTS: list[Statement] = [THEOREM_1, COROLLARY_1]


# ---------------------------------------------------------------------------------------------------------------
# Theorems 3-5 (docs/specification.md §8-§10) and the corrected Theorem 4. All are stated for steering towards the
# aligned side (lambda >= 0) only; the specification states nothing for lambda < 0, and the soft-margin expression is
# then no bound on either side (tests/test_alignment_extensions.py::
# test_theorem_3_expression_is_no_bound_for_negative_lambda), so lambda < 0 is rejected rather than given a meaning the
# statements do not have.
# ---------------------------------------------------------------------------------------------------------------
__all__ += [  # appended by the Theorems 3-6 work package
    "graded_lower",
    "soft_margin_lower",
    "soft_margin_range",
    "trinary_lower",
    "trinary_lower_corrected",
]

#: absolute float64 slack allowed in mass identities (P^- = P^+ - B0 within [0, 1 - P^+], P_ge + P_lt = 1): the same
#: tolerance as :func:`bounds._check.check_probability_vector` uses for a distribution's sum
_MASS_ATOL = 1e-8


def _nonneg_lam(lam: object) -> np.ndarray:
    lm = as_real("lam", lam)
    bad = lm < 0
    if bad.any():
        raise ValueError(
            "lam must lie in the closed interval [0.0, inf] (the statement is made for steering towards the aligned "
            f"side only; the paper states no bound for lambda < 0), got {float(lm[bad].ravel()[0])!r}"
        )
    return lm


def soft_margin_lower(
    alpha: object, B0: object, lam: object, delta: object, delta_M: object, rho: object
) -> float | np.ndarray:
    r"""Theorem 3 (soft margin, docs/specification.md §8, eq. 51 as reconstructed): a lower bound on
    :math:`B_{P_\lambda}(q)`.

    .. math::

        B_{P_\lambda}(q) \ \ge\ \tanh\!\Big(\frac{\alpha\Delta\lambda}{2}+\operatorname{artanh}B_0\Big)
        - \frac{2\rho}{P^+}\,e^{\alpha\Delta_M\lambda},\qquad P^+=\frac{1+B_0}{2},\quad \lambda\ge0 .

    Hypotheses (Assumption 4, eqs. 46-50): the misaligned tokens closer than :math:`\Delta` to some aligned token
    on the steering axis form the misclassified set :math:`M`; every other aligned/misaligned pair is separated by
    at least :math:`\Delta`; :math:`P(M)\le\rho`; and the depth :math:`\max_M z-\min_{A^+}z\le\Delta_M`. Binary
    scores, :math:`B_0=P^+-P^-` over all tokens. The slack term is evaluated as
    ``exp(log(4ρ) - log1p(B0) + αΔ_Mλ)``; ``ρ = 0`` gives exactly Theorem 1. The value is the formula's, also where
    it is below :math:`-1` (vacuous, since :math:`B\ge-1`): nothing is clipped. Where the slack
    :math:`(2\rho/P^+)e^{\alpha\Delta_M\lambda}` exceeds the float64 range (e.g. ``λ = 1e6`` with
    :math:`\alpha\Delta_M = 1`) the bound is not representable and a ``ValueError`` says so (it was ``-inf``).

    Args:
        alpha: :math:`\alpha \ge 0` (Assumption 1).
        B0: :math:`-1 < B_0 < 1`, unsteered behavior expectation over all tokens.
        lam: :math:`\lambda \ge 0` (the theorem is stated for steering towards the aligned set only).
        delta: :math:`\Delta \ge 0`, full-gap margin of the correctly classified pairs (eq. 49).
        delta_M: :math:`\Delta_M`, any finite real at least the depth of :math:`M` (eq. 48; may be negative).
        rho: :math:`0 \le \rho \le 1`, at least the mass :math:`P(M\mid q)` (eq. 47).

    Returns:
        a Python float for scalar inputs, else the broadcast array (values in :math:`(-\infty, 1]`).

    Raises:
        ValueError: the slack beyond the float64 range (:math:`\alpha\Delta_M\lambda > \ln(1.8\cdot10^{308}
            P^+/(2\rho))`, names ``lam``); a parameter outside its domain (including :math:`\lambda<0`), NaN,
            infinite, or shapes that do
        not broadcast. TypeError: non-numeric input.
    """
    a = check_closed("alpha", as_real("alpha", alpha), 0.0, np.inf)
    b0 = check_open("B0", as_real("B0", B0), -1.0, 1.0)
    lm = _nonneg_lam(lam)
    d = check_closed("delta", as_real("delta", delta), 0.0, np.inf)
    dm = as_real("delta_M", delta_M)
    r = check_closed("rho", as_real("rho", rho), 0.0, 1.0)
    broadcast_shape({"alpha": a, "B0": b0, "lam": lm, "delta": d, "delta_M": dm, "rho": r})
    # The Theorem 1 term is formed exactly as in `alignment_lower` (λ (αΔ/2)), so ρ = 0 gives bitwise Theorem 1;
    # `product`: α Δ_M beyond float64 times λ = 0 is 0, not NaN (and no spurious overflow).
    theorem_1 = np.tanh(_half_tilt(lm, a, d) + np.arctanh(b0))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_slack = np.log(4.0 * r) - np.log1p(b0) + product(a, dm, lm)
        slack = np.where(r == 0, 0.0, np.exp(log_slack))
    if not np.isfinite(slack).all():
        raise ValueError(
            "lam: the slack (2 rho/P+) exp(alpha*delta_M*lam) exceeds the float64 range (1.8e308), so the (vacuous) "
            "bound is not representable; valid: alpha*delta_M*lam < log(1.8e308 * (1 + B0) / (4 rho)) (about 709.8 "
            "+ log((1 + B0) / (4 rho)))"
        )
    return finish(theorem_1 - slack)


def soft_margin_range(eps: object, B0: object, rho: object, alpha: object, delta_M: object) -> float | np.ndarray:
    r"""Theorem 3, threshold form: the largest :math:`\bar\lambda` with slack at most :math:`\epsilon`
    (docs/specification.md §8).

    .. math::

        \frac{2\rho}{P^+}e^{\alpha\Delta_M\lambda}\le\epsilon
        \iff \lambda\le\bar\lambda=\frac{1}{\alpha\Delta_M}\ln\frac{\epsilon P^+}{2\rho},\qquad P^+=\frac{1+B_0}{2},

    so for :math:`0\le\lambda\le\bar\lambda`,
    :math:`B_{P_\lambda}(q)\ge\tanh(\alpha\Delta\lambda/2+\operatorname{artanh}B_0)-\epsilon`. The value is returned
    as it is: a negative :math:`\bar\lambda` means that no :math:`\lambda\ge0` qualifies (the slack exceeds
    :math:`\epsilon` already at :math:`\lambda=0`); :math:`\rho=0` gives ``inf`` (no slack at all). Computed in log
    space (``log1p(B0)``), so :math:`B_0` down to :math:`-1+10^{-15}` and :math:`\rho` down to 1e-300 stay finite.
    For :math:`\Delta_M\le0` the slack does not grow with :math:`\lambda` and this form does not apply; use
    :func:`soft_margin_lower` directly.

    Args:
        eps: :math:`\epsilon > 0`, the tolerated slack.
        B0: :math:`-1 < B_0 < 1`.
        rho: :math:`0 \le \rho \le 1` (eq. 47).
        alpha: :math:`\alpha > 0`.
        delta_M: :math:`\Delta_M > 0` (eq. 48).

    Raises:
        ValueError: a parameter outside its domain, or :math:`\alpha\Delta_M` so small that :math:`\bar\lambda`
            leaves the float64 range.
    """
    e = check_open("eps", as_real("eps", eps), 0.0, np.inf)
    b0 = check_open("B0", as_real("B0", B0), -1.0, 1.0)
    r = check_closed("rho", as_real("rho", rho), 0.0, 1.0)
    a = check_open("alpha", as_real("alpha", alpha), 0.0, np.inf)
    dm = check_open("delta_M", as_real("delta_M", delta_M), 0.0, np.inf)
    broadcast_shape({"eps": e, "B0": b0, "rho": r, "alpha": a, "delta_M": dm})
    with np.errstate(divide="ignore"):
        log_ratio = np.log(e) + np.log1p(b0) - np.log(4.0 * r)
    out = divide_by_product(log_ratio, a, dm)  # log space where α Δ_M under/overflows
    if not np.isfinite(out[np.broadcast_to(r, out.shape) > 0]).all():
        raise ValueError(
            "alpha * delta_M is too small: lambda_bar = log(...)/(alpha*delta_M) exceeds the float64 range; valid: "
            f"alpha * delta_M large enough for a finite range, got alpha={_first(a)}, delta_M={_first(dm)}"
        )
    return finish(out)


def _trinary_masses(B0: object, P_plus: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``(B0, P+)`` of a trinary score: ``0 < P+ <= 1`` and ``P- = P+ - B0`` in ``[0, 1 - P+]``."""
    b0 = as_real("B0", B0)  # its range [-1, 1] follows from the mass constraint below
    pp = check_closed("P_plus", as_real("P_plus", P_plus), 0.0, 1.0 + _MASS_ATOL)
    if (pp == 0).any():
        raise ValueError("P_plus must lie in the half-open interval (0, 1] (some aligned mass), got 0.0")
    broadcast_shape({"B0": b0, "P_plus": pp})  # before P^- = P^+ - B0 (numpy's error would not name them)
    pm = pp - b0
    bad = (pm < -_MASS_ATOL) | (pm > 1.0 - pp + _MASS_ATOL)
    if bad.any():
        pb, bb = np.broadcast_arrays(pp, b0)
        i = np.flatnonzero(np.broadcast_to(bad, pb.shape))[0]
        raise ValueError(
            "B0 must satisfy 2*P_plus - 1 <= B0 <= P_plus (P^- = P^+ - B0 and P^0 = 1 - P^+ - P^- are masses, within "
            f"{_MASS_ATOL:g}), got B0={float(bb.ravel()[i])!r} with P_plus={float(pb.ravel()[i])!r}"
        )
    return b0, pp


def trinary_lower(alpha: object, B0: object, P_plus: object, lam: object, delta: object) -> float | np.ndarray:
    r"""Theorem 4 **as stated** (trinary scores, eq. 66, docs/specification.md §9) -- status ``fails``.

    .. math::

        B_{P_\lambda}(q)\ \ge\ \frac{P^+-(P^+-B_0)\,e^{-\alpha\Delta\lambda}}{P^++(1-P^+)\,e^{-\alpha\Delta\lambda}},
        \qquad \lambda\ge0,

    for scores in :math:`\{-1,0,+1\}` when :math:`\hat\delta` separates :math:`A^+` from :math:`A^-\cup A^0` with
    margin :math:`\Delta`. Equals :math:`B_0` at :math:`\lambda=0`, slope :math:`\alpha\Delta P^+(1-B_0)` there, tends
    to 1.

    .. warning::

        Not a lower bound in general: when :math:`P^+<P^-e^{-\alpha\Delta\lambda}` the proof enlarges the
        denominator of a negative number. Neutral mass lying far on the negative side moves onto the misaligned
        answers under steering and :math:`B` drops below (66); the test suite finds such instances by search. Use
        :func:`trinary_lower_corrected`.

    Args:
        alpha: :math:`\alpha \ge 0`.
        B0: unsteered :math:`B_0=P^+-P^-`, with :math:`2P^+-1\le B_0\le P^+` (within 1e-8).
        P_plus: :math:`0 < P^+ \le 1` (within 1e-8, for float sums of masses), unsteered aligned mass.
        lam: :math:`\lambda \ge 0`.
        delta: :math:`\Delta \ge 0`, margin between :math:`A^+` and :math:`A^-\cup A^0`.

    Raises:
        ValueError: a parameter outside its domain (including :math:`\lambda<0`), NaN, infinite, or shapes that do
        not broadcast. TypeError: non-numeric input.
    """
    a = check_closed("alpha", as_real("alpha", alpha), 0.0, np.inf)
    b0, pp = _trinary_masses(B0, P_plus)
    lm = _nonneg_lam(lam)
    d = check_closed("delta", as_real("delta", delta), 0.0, np.inf)
    broadcast_shape({"alpha": a, "B0": b0, "P_plus": pp, "lam": lm, "delta": d})
    x = np.exp(-product(lm, a, d))  # α Δ beyond float64 at λ = 0: exponent 0, not NaN
    return finish((pp - (pp - b0) * x) / (pp + (1.0 - pp) * x))


def trinary_lower_corrected(
    alpha: object, B0: object, P_plus: object, lam: object, delta: object
) -> float | np.ndarray:
    r"""Theorem 4, corrected (docs/specification.md §9 [CORRECTED]): a lower bound that holds for trinary scores.

    With :math:`P^-=P^+-B_0` and :math:`x=e^{-\alpha\Delta\lambda}`,

    .. math::

        B_{P_\lambda}(q)\ \ge\ \begin{cases}
        \dfrac{P^+-P^-x}{P^++(1-P^+)x} & P^+\ge P^-x \quad\text{(eq. 66)}\\[1ex]
        \dfrac{P^+-P^-x}{P^++P^-x} & P^+< P^-x ,
        \end{cases}\qquad\lambda\ge0 .

    Proof: :math:`B=(1-a)/(1+a+c)` with :math:`a=S^-/S^+\le(P^-/P^+)x`, :math:`c=S^0/S^+\le(P^0/P^+)x`; the
    expression decreases in :math:`a`, and in :math:`c` only while the numerator is :math:`\ge0`; for a negative
    numerator dropping :math:`c` lowers it. Continuous at the switch (both branches are 0 there).

    Args:
        alpha, B0, P_plus, lam, delta: as in :func:`trinary_lower`.

    Raises:
        ValueError / TypeError: as in :func:`trinary_lower`.
    """
    a = check_closed("alpha", as_real("alpha", alpha), 0.0, np.inf)
    b0, pp = _trinary_masses(B0, P_plus)
    lm = _nonneg_lam(lam)
    d = check_closed("delta", as_real("delta", delta), 0.0, np.inf)
    broadcast_shape({"alpha": a, "B0": b0, "P_plus": pp, "lam": lm, "delta": d})
    x = np.exp(-product(lm, a, d))
    pmx = (pp - b0) * x
    num = pp - pmx
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(num >= 0, num / (pp + (1.0 - pp) * x), num / (pp + pmx))
    return finish(out)


def graded_lower(
    alpha: object, b: object, P_ge: object, P_lt: object, lam: object, delta: object
) -> float | np.ndarray:
    r"""Theorem 5 (general scores in :math:`[-1,1]`, eq. 67, docs/specification.md §10): a lower bound tending to
    :math:`b`.

    .. math::

        B_{P_\lambda}(q)\ \ge\ \frac{b\,P_{\ge b}-P_{<b}\,x}{P_{\ge b}+P_{<b}\,x}
        \ \xrightarrow{\lambda\to\infty}\ b,\qquad x=e^{-\alpha\Delta\lambda},\quad\lambda\ge0,

    when :math:`\hat\delta` separates the answers with score :math:`\ge b` from those with score :math:`<b` with
    margin :math:`\Delta`. Valid because :math:`(b-r)/(1+r)` decreases in :math:`r` for :math:`b\ge-1`. Both masses
    are taken (rather than :math:`P_{<b}=1-P_{\ge b}`) so a tiny :math:`P_{<b}` keeps its precision.

    Args:
        alpha: :math:`\alpha \ge 0`.
        b: score threshold, :math:`-1 \le b \le 1`.
        P_ge: :math:`0 < P_{\ge b} \le 1`, unsteered mass of the answers with score :math:`\ge b`.
        P_lt: :math:`0 \le P_{<b} \le 1`, the rest; :math:`P_{\ge b}+P_{<b}=1` (each mass and the sum within 1e-8,
            for float sums of masses).
        lam: :math:`\lambda \ge 0`.
        delta: :math:`\Delta \ge 0`.

    Raises:
        ValueError: a parameter outside its domain (including :math:`\lambda<0`), masses not summing to 1, NaN,
        infinite, or shapes that do not broadcast. TypeError: non-numeric input.
    """
    a = check_closed("alpha", as_real("alpha", alpha), 0.0, np.inf)
    bb = check_closed("b", as_real("b", b), -1.0, 1.0)
    pg = check_closed("P_ge", as_real("P_ge", P_ge), 0.0, 1.0 + _MASS_ATOL)
    if (pg == 0).any():
        raise ValueError("P_ge must lie in the half-open interval (0, 1] (some mass with score >= b), got 0.0")
    pl = check_closed("P_lt", as_real("P_lt", P_lt), 0.0, 1.0 + _MASS_ATOL)
    lm = _nonneg_lam(lam)
    d = check_closed("delta", as_real("delta", delta), 0.0, np.inf)
    broadcast_shape({"alpha": a, "b": bb, "P_ge": pg, "P_lt": pl, "lam": lm, "delta": d})
    total = pg + pl
    off = np.abs(total - 1.0) > _MASS_ATOL
    if off.any():
        raise ValueError(f"P_ge + P_lt must equal 1 (within {_MASS_ATOL:g}), got {float(total[off].ravel()[0])!r}")
    y = pl * np.exp(-product(lm, a, d))
    return finish((bb * pg - y) / (pg + y))


def _behavior_of(ce: dict, scores_key: str = "scores") -> float:
    from .steered import behavior_expectation

    return float(behavior_expectation(ce["p"], ce["z"], ce["norm"], ce[scores_key]))


def _theorem_4_violation(ce: dict) -> float:
    """How far (66) exceeds the exact steered trinary behavior at ``‖δ‖ = ce['norm']`` (``alpha = 1``)."""
    p, s = np.asarray(ce["p"], dtype=float), np.asarray(ce["scores"], dtype=float)
    P_plus, B0 = float(p[s > 0].sum()), float(np.sum(p * s))
    return float(trinary_lower(1.0, B0, P_plus, ce["norm"], ce["delta"])) - _behavior_of(ce)


def _theorem_3_expr() -> object:
    import sympy as sp

    # 2 rho / P^+ with P^+ = (1 + B_0)/2, written 4 rho / (1 + B_0) so that it prints without nested fractions
    return sp.tanh(S.alpha * S.Delta * S.lam / 2 + sp.atanh(S.B0)) - 4 * S.rho / (1 + S.B0) * sp.exp(
        S.alpha * S.Delta_M * S.lam
    )


def _theorem_4_expr() -> object:
    import sympy as sp

    x = sp.exp(-S.alpha * S.Delta * S.lam)
    return (S.P_plus - (S.P_plus - S.B0) * x) / (S.P_plus + (1 - S.P_plus) * x)


def _theorem_4_corrected_expr() -> object:
    import sympy as sp

    x = sp.exp(-S.alpha * S.Delta * S.lam)
    P_minus = S.P_plus - S.B0
    return sp.Piecewise(
        ((S.P_plus - P_minus * x) / (S.P_plus + P_minus * x), S.P_plus < P_minus * x),
        (_theorem_4_expr(), True),
    )


def _theorem_5_expr() -> object:
    import sympy as sp

    x = sp.exp(-S.alpha * S.Delta * S.lam)
    return (S.b * S.P_ge - S.P_lt * x) / (S.P_ge + S.P_lt * x)


def _exp_gauge() -> object:
    import sympy as sp

    return sp.exp(-S.alpha * S.Delta * S.lam)


_LAM_NONNEG = "lambda >= 0 (stated for steering towards the aligned side only; no claim for lambda < 0)"
_T = "tests/test_alignment_extensions.py::"

THEOREM_3 = Statement(
    id="theorem-3",
    name="Soft-margin alignment bound",
    kind="theorem",
    section="§8 (App. H, eqs. 51-62)",
    provenance=("RECONSTRUCTED-L",),
    statement=(
        "Under Assumption 4 (soft margin: the misaligned tokens closer than Delta to some aligned token form the "
        "misclassified set M with P(M) <= rho and depth max_M z - min_{A+} z <= Delta_M; all other pairs separated "
        "by >= Delta), for lambda >= 0: B >= tanh(alpha*Delta*lambda/2 + artanh B0) - (2 rho/P+) exp(alpha*Delta_M*"
        "lambda) with P+ = (1+B0)/2; hence B >= tanh(...) - eps for 0 <= lambda <= ln(eps P+/(2 rho))/(alpha*"
        "Delta_M) (Delta_M > 0)."
    ),
    paper=r"""
"Let [$\epsilon>0$] and let [$P$] be a model prompted with query [$q$] and injected with representations of
coefficient [$r_e$]. Let [$B$] be a behavior scoring function. Under assumption 4, for [$r_e\le\bar r$] the behavior
expectation of the model conditioned on the query satisfies:" eq. (51). The proof follows Theorem 1's "up to equation
22" and then introduces "the misclassified tokens' contributions".
""",
    reconstruction=r"""
Low confidence (`RECONSTRUCTED-L`): the paper's exact slack term and range condition are not recoverable. What
survives is the structure: Theorem 1's bound, minus an exponentially growing contribution of the misclassified tokens,
valid up to a maximal $r_e$. The reconstruction, derived and checked numerically, is $B\ge\tanh(\frac{\alpha\Delta
r_e}{2}+\operatorname{artanh}B_0)-\frac{2\rho}{P^+}e^{\alpha\Delta_Mr_e}$ with $P^+=(1+B_0)/2$, hence a loss of at
most $\epsilon$ for $r_e\le\frac{1}{\alpha\Delta_M}\ln\frac{\epsilon P^+}{2\rho}$.
""",
    decision=r"""
The project implements this reconstruction (`soft_margin_lower`, and the range as `soft_margin_range`) for
$\lambda\ge0$ only: a search found that for $\lambda<0$ the expression bounds $B$ on neither side. Its status `holds`
is that of the reconstruction, not of the paper's lost inequality.
""",
    hypotheses=(
        "assumption-4: M defined from z by eq. (46); P(M) <= rho (47); depth <= Delta_M (48); margin Delta off M (49)",
        "binary scores B in {-1,+1}; B0 = P+ - P- over all tokens",
        "assumption-1",
    ),
    lhs=_B_steered,
    relation=">=",
    build=_theorem_3_expr,
    parameters={
        **symbol_domains("alpha", "Delta", "Delta_M", "B_0", "rho"),
        "lambda": _LAM_NONNEG,
    },
    status="holds",
    numeric=soft_margin_lower,
    evidence=(
        _T + "test_theorem_3_holds_on_soft_margin_instances",
        _T + "test_theorem_3_threshold_form_holds",
        _T + "test_theorem_3_reduces_to_theorem_1_without_misclassified_mass",
    ),
    nondegenerate=(
        "the bound (51): misclassified mass P(M) > 0 (else it is Theorem 1), ||delta|| > 0 and the bound above "
        "-1 + 1e-9 (not vacuous); the threshold form: rho > 0 and a finite, non-empty range, lambda-bar > 0"
    ),
    min_instances={
        _T + "test_theorem_3_holds_on_soft_margin_instances": 250,
        _T + "test_theorem_3_threshold_form_holds": 200,
    },
    notes=(
        "No large-lambda expansion: for Delta_M > 0 the slack grows like exp(alpha*Delta_M*lambda) and the bound is "
        "vacuous beyond the range of the threshold form.",
        "The threshold form is soft_margin_range (returned as is; negative means no lambda >= 0 qualifies).",
        "For lambda < 0 the expression bounds B on neither side (found by search), so lambda < 0 is rejected.",
    ),
)

THEOREM_4 = Statement(
    id="theorem-4",
    name="Trinary-score alignment bound (as stated)",
    kind="theorem",
    section="§9 (App. J, eq. 66)",
    provenance=("VERBATIM-PROSE", "RECONSTRUCTED-M"),
    statement=(
        "For scores in {-1, 0, +1}, if delta separates A+ from A- u A0 with margin Delta, then for lambda >= 0: "
        "B >= (P+ - (P+ - B0) e^{-alpha Delta lambda}) / (P+ + (1 - P+) e^{-alpha Delta lambda}). FAILS: when "
        "P+ < P- e^{-alpha Delta lambda} the proof enlarges the denominator of a negative number."
    ),
    paper=r"""
Scores are $B\in\{-1,0,+1\}$, with 0 meaning "irrelevant/neutral". "Assume that the representations of aligned and
misaligned/irrelevant answers … are linearly separable, and that [$\delta$] linearly classifies them with margin
[$\Delta$]. Then …" eq. (66), where "[$B_0$] and [$P^+$] are the behavior expectation and probability of aligned
answer without steering". The prose says that "for [$r_e=0$] it coincides with [$B_0$], around it is linear, and for
[$r_e\to\infty$] it approaches 1".
""",
    reconstruction=r"""
Medium confidence (`RECONSTRUCTED-M`): with $P^-=P^+-B_0$, $P^0=1-P^+-P^-$ and $x=e^{-\alpha\Delta r_e}$, eq. (66) is
$B\ge\frac{P^+-(P^+-B_0)x}{P^++(1-P^+)x}$. It has every property the prose lists and matches the proof's hints
(68–70): the numerator is $P^+-P^-x$, the denominator $P^++(P^-+P^0)x$, and the proof uses "$P^++P^-+P^0=1$,
$B_0=P^+-P^-$".
""",
    decision=r"""
The project ships (66) as stated (`trinary_lower`) with status `fails`: enlarging the denominator by the neutral mass
lowers $B$ only when the numerator is non-negative, and a search finds instances where neutral mass lying far on the
negative side moves onto the misaligned answers, so that steering first lowers $B$. The corrected piecewise form is
`theorem-4-corrected`.
""",
    hypotheses=(
        "scores in {-1, 0, +1}",
        "margin Delta between A+ and A- u A0 (A- and A0 placed freely)",
        "assumption-1",
    ),
    lhs=_B_steered,
    relation=">=",
    build=_theorem_4_expr,
    parameters={
        **symbol_domains("alpha", "Delta", "P^+"),
        "B_0": "2 P^+ - 1 <= B_0 <= P^+ (P^- = P^+ - B_0 and P^0 = 1 - P^+ - P^- are masses)",
        "lambda": _LAM_NONNEG,
    },
    status="fails",
    numeric=trinary_lower,
    gauge=_exp_gauge,
    evidence=(
        _T + "test_theorem_4_counterexample_found_by_search",
        _T + "test_theorem_4_regression_counterexample",
        _T + "test_theorem_4_nondegenerate_counterexample_found_by_search",
        _T + "test_theorem_4_regression_nondegenerate_counterexample",
        _T + "test_theorem_4_holds_when_no_neutral_mass",
    ),
    # the simplest counterexample found by tests/test_alignment_extensions.py::
    # test_theorem_4_counterexample_found_by_search (hypothesis' shrunk example, ci profile)
    counterexample={
        "what": (
            "A+ and two A- tokens at z = 0, a neutral token at z = -1 (Delta = 0), equal masses: at ||delta|| = 1 the "
            "neutral mass moves onto the misaligned answers and B = -0.2969 < (66) = -0.25 (corrected: -1/3)"
        ),
        "p": [0.25, 0.25, 0.25, 0.25],
        "z": [0.0, 0.0, -1.0, 0.0],
        "scores": [1.0, -1.0, 0.0, -1.0],
        "delta": 0.0,
        "norm": 1.0,
    },
    violation=_theorem_4_violation,
    # found by tests/test_alignment_extensions.py::test_theorem_4_nondegenerate_counterexample_found_by_search (ci
    # profile), whose predicate excludes the degenerate edge:
    # Delta >= 1 (so (66) is not B >= B0) and a violation of at least 0.1, over instances with one aligned and at
    # most three other answers
    further_counterexamples=(
        {
            "what": (
                "Beyond the degenerate edge (Delta > 0): an aligned answer at z = 2, a neutral one at z = -1 and a "
                "misaligned one at z = 1, masses proportional to (e^-2, 1, 1) = (0.063, 0.468, 0.468): margin "
                "Delta = 1 between A+ and A- u A0, ||delta|| = 1 (Delta ||delta|| = 1). Steering moves the neutral "
                "mass, which lies below, onto the misaligned answer: B = -0.4205, below even the unsteered "
                "B0 = -0.4049, while (66) claims B >= -0.2670, so (66) exceeds the true B by 0.1536 (37 % of |B|). "
                "The corrected bound is -0.4621 <= B"
            ),
            "p": [0.06337893833303762, 0.4683105308334812, 0.4683105308334812],
            "z": [2.0, -1.0, 1.0],
            "scores": [1.0, 0.0, -1.0],
            "delta": 1.0,
            "norm": 1.0,
        },
    ),
)

THEOREM_4_CORRECTED = Statement(
    id="theorem-4-corrected",
    name="Trinary-score alignment bound (corrected)",
    kind="replacement",
    section="§9 [CORRECTED]",
    provenance=("CORRECTED",),
    statement=(
        "Under the hypotheses of theorem-4, with P- = P+ - B0 and x = e^{-alpha Delta lambda}, for lambda >= 0: "
        "B >= (P+ - P- x)/(P+ + (1 - P+) x) (eq. 66) when P+ >= P- x, and B >= (P+ - P- x)/(P+ + P- x) otherwise."
    ),
    paper=r"""
The paper has no such statement: this is the project's replacement for Theorem 4 (eq. 66).
""",
    reconstruction=r"""
`CORRECTED`: derived for this project. With $x=e^{-\alpha\Delta\lambda}$: if $P^+\ge P^-x$, (66) is valid; otherwise
$B\ge\frac{P^+-P^-x}{P^++P^-x}$, valid because $\frac{1-a}{1+a+b}\ge\frac{1-a}{1+a}$ when $1-a<0$. 80,000 random
checks found no violation (smallest gap $+9.7\cdot10^{-5}$).
""",
    decision=r"""
The project keeps the paper's (66) wherever its proof step is valid and drops the neutral term where it is not, so the
replacement agrees with the paper whenever the paper is right (`trinary_lower_corrected`). Being piecewise in
$\lambda$, it has no expansion.
""",
    hypotheses=("the hypotheses of theorem-4",),
    lhs=_B_steered,
    relation=">=",
    build=_theorem_4_corrected_expr,
    parameters={
        **symbol_domains("alpha", "Delta", "P^+"),
        "B_0": "2 P^+ - 1 <= B_0 <= P^+ (P^- = P^+ - B_0 and P^0 = 1 - P^+ - P^- are masses)",
        "lambda": _LAM_NONNEG,
    },
    status="holds",
    replaces="theorem-4",
    numeric=trinary_lower_corrected,
    not_closed_form="piecewise in lambda: the branch switches where P+ = P- e^{-alpha Delta lambda}",
    evidence=(
        _T + "test_theorem_4_corrected_holds_on_trinary_instances",
        _T + "test_theorem_4_corrected_holds_on_the_pinned_counterexample",
        _T + "test_trinary_corrected_matches_sympy",
    ),
    nondegenerate=(
        "neutral mass P0 > 0 (else it is Theorem 1), Delta ||delta|| >= 1e-6 and the bound above -1 + 1e-9 "
        "(not vacuous)"
    ),
    min_instances={_T + "test_theorem_4_corrected_holds_on_trinary_instances": 750},
)

THEOREM_5 = Statement(
    id="theorem-5",
    name="General-score alignment bound",
    kind="theorem",
    section="§10 (App. J, eqs. 67, 71)",
    provenance=("VERBATIM-PROSE", "RECONSTRUCTED-M"),
    statement=(
        "For scores in [-1, 1] and a threshold b, if delta separates the answers with score >= b from those with "
        "score < b with margin Delta, then for lambda >= 0: B >= (b P_ge - P_lt e^{-alpha Delta lambda}) / "
        "(P_ge + P_lt e^{-alpha Delta lambda}), which tends to b as lambda -> infinity."
    ),
    paper=r"""
Scores in $[-1,1]$: "Assume that the representations of answers with behavior score [$\ge b$] and those with score
[$<b$] … are linearly separable, and that [$\delta$] linearly classifies them with margin [$\Delta$]." The proof
replaces "the scores in the numerator … with [$b$] and [$-1$] (for worst case)", and "the behavior expectation
converges to the maximal score [$b$], for which [$\delta$] can classify answers below and above the score … without
the tightness on behavior expectation at [$r_e=0$]".
""",
    reconstruction=r"""
Medium confidence (`RECONSTRUCTED-M`): eq. (67) is $B\ge\frac{bP_{\ge b}-P_{<b}e^{-\alpha\Delta r_e}}{P_{\ge
b}+P_{<b}e^{-\alpha\Delta r_e}}\to b$, with $P_{\ge b}$ and $P_{<b}$ the unsteered masses. It is valid because
$(b-x)/(1+x)$ decreases in $x$ for $b\ge-1$; about 100,000 random checks found no violation (smallest gap
$+1.3\cdot10^{-4}$).
""",
    decision=r"""
The project implements (67) as reconstructed (`graded_lower`). As the prose says, the bound is not tight without
steering: at $\lambda=0$ it is $bP_{\ge b}-P_{<b}$, never above $B_0$, and equal to it only when every answer scores
exactly $b$ or $-1$.
""",
    hypotheses=(
        "scores in [-1, 1], threshold -1 <= b <= 1",
        "margin Delta between {score >= b} and {score < b} (scores within each side placed freely)",
        "assumption-1",
    ),
    lhs=_B_steered,
    relation=">=",
    build=_theorem_5_expr,
    parameters={
        **symbol_domains("alpha", "Delta", "b"),
        "P_ge": "0 < P_ge <= 1 (unsteered mass of the answers with score >= b)",
        "P_lt": "0 <= P_lt <= 1, P_ge + P_lt = 1 (unsteered mass of the answers with score < b)",
        "lambda": _LAM_NONNEG,
    },
    status="holds",
    numeric=graded_lower,
    gauge=_exp_gauge,
    evidence=(
        _T + "test_theorem_5_holds_on_graded_instances",
        _T + "test_theorem_5_asymptotic_tends_to_b",
        _T + "test_graded_lower_matches_sympy",
    ),
    nondegenerate=(
        "answers below the threshold, P_lt > 0 (else B >= b is immediate), Delta ||delta|| >= 1e-6 and the bound "
        "above -1 + 1e-9 (not vacuous)"
    ),
    min_instances={_T + "test_theorem_5_holds_on_graded_instances": 1000},
)

STATEMENTS.extend([THEOREM_3, THEOREM_4, THEOREM_4_CORRECTED, THEOREM_5])
