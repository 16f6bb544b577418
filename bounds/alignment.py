r"""Alignment bounds: Theorem 1 (eq. 5) and Corollary 1 (THEORY §4–§5), plus Theorems 3–5 (§8–§10).

Conventions (THEORY §0, §3): :math:`\Delta` is the **full gap** between aligned and misaligned projections on the
steering direction (Assumption 2, eq. 8), :math:`\|\delta\| = \alpha|\lambda|` (Assumption 1), and the bounds are
stated for steering towards the aligned set (:math:`\lambda \ge 0`). For :math:`\lambda < 0` the same expression of
Theorem 1 is an **upper** bound on the behavior expectation.
"""

from __future__ import annotations

import numpy as np

from . import symbols as S
from ._check import as_real, broadcast_shape, check_closed, check_open, finish
from .statement import Statement, symbol_domains

__all__ = [
    "STATEMENTS",
    "alignment_guarantee_norm",
    "alignment_lower",
    "alignment_lower_norm",
]


# ---------------------------------------------------------------------------------------------------------------
# Theorem 1
# ---------------------------------------------------------------------------------------------------------------
def alignment_lower(alpha: object, B0: object, lam: object, delta: object) -> float | np.ndarray:
    r"""Theorem 1 (eq. 5): :math:`\tanh\big(\tfrac{\alpha\lambda\Delta}{2}+\operatorname{artanh}B_0\big)`.

    For :math:`\lambda \ge 0` (steering towards the aligned set) it is a **lower** bound on the steered behavior
    expectation :math:`B_{P_\lambda}(q)`; for :math:`\lambda < 0` the same expression is an **upper** bound (THEORY §0).
    It equals :math:`B_0` at :math:`\lambda=0`, has slope :math:`\alpha\Delta(1-B_0^2)/2` there and tends to
    :math:`\pm1` as :math:`\lambda\to\pm\infty`. Tight: a two-token model whose projections differ by exactly
    :math:`\Delta` attains it.

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
    # (α Δ / 2) is formed first so that the common scalar-parameter case costs one multiply-add and one tanh per λ.
    out = np.tanh(lm * (0.5 * a * d) + np.arctanh(b0))
    return finish(out)


def alignment_lower_norm(B0: object, norm: object, delta: object) -> float | np.ndarray:
    r"""Theorem 1 as a function of :math:`\|\delta\|` alone: :math:`\tanh(\Delta\|\delta\|/2+\operatorname{artanh}B_0)`.

    This is the form that holds without Assumption 1 (THEORY §4): a lower bound on :math:`B_{P_\lambda}(q)` for every
    :math:`\|\delta\|\ge0` when :math:`\hat\delta` separates the answers with full-gap margin :math:`\Delta`.

    Args:
        B0: :math:`-1 < B_0 < 1`.
        norm: :math:`\|\delta\| \ge 0`.
        delta: :math:`\Delta \ge 0`.
    """
    b0 = check_open("B0", as_real("B0", B0), -1.0, 1.0)
    nm = check_closed("norm", as_real("norm", norm), 0.0, np.inf)
    d = check_closed("delta", as_real("delta", delta), 0.0, np.inf)
    broadcast_shape({"B0": b0, "norm": nm, "delta": d})
    return finish(np.tanh(0.5 * d * nm + np.arctanh(b0)))


def _theorem_1_violation(ce: dict) -> float:
    from .steered import behavior_expectation

    p, z, scores = np.asarray(ce["p"]), np.asarray(ce["z"]), np.asarray(ce["scores"])
    b0 = float(np.sum(p * scores))
    return alignment_lower_norm(b0, ce["norm"], ce["delta"]) - behavior_expectation(p, z, ce["norm"], scores)


# ---------------------------------------------------------------------------------------------------------------
# Corollary 1
# ---------------------------------------------------------------------------------------------------------------
def alignment_guarantee_norm(eps: object, B0: object, alpha: object, delta: object) -> float | np.ndarray:
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
    with np.errstate(over="ignore"):
        out = np.maximum(0.0, log_ratio / a / d)
    if not np.isfinite(out).all():
        raise ValueError(
            "alpha * delta is too small: lambda* = log(...)/(alpha*delta) exceeds the float64 range (1.8e308); "
            f"valid: alpha * delta large enough for a finite threshold, got alpha={_first(a)}, delta={_first(d)}"
        )
    return finish(out)


def _first(x: np.ndarray) -> float:
    return float(np.ravel(x)[0])


def _corollary_1_violation(ce: dict) -> float:  # pragma: no cover - Corollary 1 holds; kept for symmetry
    lam = alignment_guarantee_norm(ce["eps"], ce["B0"], ce["alpha"], ce["delta"])
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
    hypotheses=("the hypotheses of theorem-1",),
    lhs=_lambda_star,
    relation="=",
    build=_corollary_1_expr,
    parameters=symbol_domains("epsilon", "B_0", "alpha", "Delta"),
    status="holds",
    numeric=alignment_guarantee_norm,
    not_closed_form="a threshold on lambda (max(0, ...)), not a function of lambda",
    evidence=(
        "tests/test_alignment.py::test_corollary_1_holds_at_and_beyond_threshold",
        "tests/test_alignment.py::test_corollary_1_threshold_is_smallest",
    ),
)

STATEMENTS: list[Statement] = [THEOREM_1, COROLLARY_1]
