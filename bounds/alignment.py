r"""Alignment bounds: Theorem 1 (eq. 5), Corollary 1 and Theorems 3–5 (docs/specification.md §4–§5, §8–§10).

:math:`\Delta` is the **full gap** between aligned and misaligned projections (Assumption 2) and
:math:`\|\delta\|=\alpha|\lambda|` (Assumption 1); the signs of :math:`\lambda` are those of §0.
"""

from __future__ import annotations

import numpy as np

from ._check import _TINY, args, divide_by_product, finish, first, product
from .domains import MASS_ATOL


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
    expectation :math:`B_{P_\lambda}(q)`; for :math:`\lambda < 0` the same expression is an **upper** bound (§0).

    Args:
        alpha: :math:`\alpha \ge 0`, the slope of Assumption 1 (:math:`\|\delta\| = \alpha|\lambda|`).
        B0: unsteered behavior expectation, :math:`-1 < B_0 < 1`.
        lam: steering coefficient :math:`\lambda`, any finite real.
        delta: the margin :math:`\Delta \ge 0`, the full gap between aligned and misaligned projections (eq. 8).

    Raises:
        ValueError: a parameter outside its domain, NaN, infinite, or shapes that do not broadcast.

    >>> round(alignment_lower(1.0, 0.0, 2.0, 1.0), 6)
    0.761594
    """
    a, b0, lm, d = args("alignment_lower", alpha=alpha, B0=B0, lam=lam, delta=delta)
    # (α Δ / 2) is formed first so that the common scalar-parameter case costs one multiply-add and one tanh per λ,
    # all in one output buffer (no temporaries of the size of λ).
    out = _half_tilt(lm, a, d)
    if out.ndim and out.shape == np.broadcast_shapes(out.shape, b0.shape):
        out += np.arctanh(b0)
        return finish(np.tanh(out, out=out))
    return finish(np.tanh(out + np.arctanh(b0)))


def alignment_lower_norm(B0: object, norm: object, delta: object) -> float | np.ndarray:
    r"""Theorem 1 as a function of :math:`\|\delta\|` alone: :math:`\tanh(\Delta\|\delta\|/2+\operatorname{artanh}B_0)`.

    The form that holds without Assumption 1 (docs/specification.md §4).

    Args:
        B0: :math:`-1 < B_0 < 1`.
        norm: :math:`\|\delta\| \ge 0`.
        delta: :math:`\Delta \ge 0`.
    """
    b0, nm, d = args("alignment_lower_norm", B0=B0, norm=norm, delta=delta)
    with np.errstate(over="ignore"):  # Δ‖δ‖/2 beyond float64 is +inf: tanh gives 1, the limit
        return finish(np.tanh(0.5 * d * nm + np.arctanh(b0)))


# ---------------------------------------------------------------------------------------------------------------
# Corollary 1
# ---------------------------------------------------------------------------------------------------------------
def alignment_guarantee(eps: object, B0: object, alpha: object, delta: object) -> float | np.ndarray:
    r"""Corollary 1: the smallest :math:`\lambda \ge 0` at which Theorem 1's bound reaches :math:`1-\epsilon`.

    .. math::

        \lambda^* = \max\Big(0,\ \frac{2}{\alpha\Delta}\big(\operatorname{artanh}(1-\epsilon)
        - \operatorname{artanh}B_0\big)\Big)
        = \max\Big(0,\ \frac{1}{\alpha\Delta}\ln\frac{(2-\epsilon)(1-B_0)}{\epsilon\,(1+B_0)}\Big).

    It is 0 when the unsteered model already meets the target (:math:`B_0\ge1-\epsilon`), not a clipping. Evaluated
    in log space, so :math:`\epsilon` down to 1e-300 and :math:`B_0` up to :math:`1-10^{-15}` stay finite.

    Args:
        eps: :math:`0 < \epsilon < 2` (target behavior :math:`1-\epsilon \in (-1, 1)`).
        B0: :math:`-1 < B_0 < 1`.
        alpha: :math:`\alpha > 0`.
        delta: :math:`\Delta > 0`.

    Returns:
        :math:`\lambda^*` (per-layer injected norm).

    Raises:
        ValueError: a parameter outside its domain, or :math:`\alpha\Delta` so small that :math:`\lambda^*`
            exceeds the float64 range.
    """
    e, b0, a, d = args("alignment_guarantee", eps=eps, B0=B0, alpha=alpha, delta=delta)
    log_ratio = np.log(2.0 - e) - np.log(e) + np.log1p(-b0) - np.log1p(b0)
    out = np.maximum(0.0, divide_by_product(log_ratio, a, d))  # log space where α Δ under/overflows
    if not np.isfinite(out).all():
        raise ValueError(
            "alpha * delta is too small: lambda* = log(...)/(alpha*delta) exceeds the float64 range (1.8e308); "
            f"valid: alpha * delta large enough for a finite threshold, got alpha={first(a)}, delta={first(d)}"
        )
    return finish(out)


# ---------------------------------------------------------------------------------------------------------------
# Theorems 3-5 (docs/specification.md §8-§10) and the corrected Theorem 4. All are stated for steering towards the
# aligned side (lambda >= 0) only; the specification states nothing for lambda < 0, and the soft-margin expression is
# then no bound on either side (tests/bounds/test_alignment_extensions.py::
# test_theorem_3_expression_is_no_bound_for_negative_lambda), so lambda < 0 is rejected rather than given a meaning the
# statements do not have.
# ---------------------------------------------------------------------------------------------------------------
def soft_margin_lower(
    alpha: object, B0: object, lam: object, delta: object, delta_M: object, rho: object
) -> float | np.ndarray:
    r"""Theorem 3 (soft margin, docs/specification.md §8, eq. 51 as reconstructed): a lower bound on
    :math:`B_{P_\lambda}(q)`.

    .. math::

        B_{P_\lambda}(q) \ \ge\ \tanh\!\Big(\frac{\alpha\Delta\lambda}{2}+\operatorname{artanh}B_0\Big)
        - \frac{2\rho}{P^+}\,e^{\alpha\Delta_M\lambda},\qquad P^+=\frac{1+B_0}{2},\quad \lambda\ge0 .

    Hypotheses: Assumption 4 (eqs. 46-50) with binary scores. ``ρ = 0`` gives exactly Theorem 1. The value is the
    formula's, also below :math:`-1` (vacuous): nothing is clipped.

    Args:
        alpha: :math:`\alpha \ge 0` (Assumption 1).
        B0: :math:`-1 < B_0 < 1`, unsteered behavior expectation over all tokens.
        lam: :math:`\lambda \ge 0` (the theorem is stated for steering towards the aligned set only).
        delta: :math:`\Delta \ge 0`, full-gap margin of the correctly classified pairs (eq. 49).
        delta_M: :math:`\Delta_M`, any finite real at least the depth of :math:`M` (eq. 48; may be negative).
        rho: :math:`0 \le \rho \le 1`, at least the mass :math:`P(M\mid q)` (eq. 47).

    Returns:
        values in :math:`(-\infty, 1]`.

    Raises:
        ValueError: the slack beyond the float64 range (:math:`\alpha\Delta_M\lambda > \ln(1.8\cdot10^{308}
            P^+/(2\rho))`, names ``lam``); a parameter outside its domain (including :math:`\lambda<0`), NaN,
            infinite, or shapes that do not broadcast.
        TypeError: non-numeric input.
    """
    a, b0, lm, d, dm, r = args("soft_margin_lower", alpha=alpha, B0=B0, lam=lam, delta=delta, delta_M=delta_M, rho=rho)
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

    A negative :math:`\bar\lambda` means that no :math:`\lambda\ge0` qualifies; :math:`\rho=0` gives ``inf``. Computed
    in log space, so :math:`B_0` down to :math:`-1+10^{-15}` and :math:`\rho` down to 1e-300 stay finite. For
    :math:`\Delta_M\le0` this form does not apply; use :func:`soft_margin_lower`.

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
    e, b0, r, a, dm = args("soft_margin_range", eps=eps, B0=B0, rho=rho, alpha=alpha, delta_M=delta_M)
    with np.errstate(divide="ignore"):
        log_ratio = np.log(e) + np.log1p(b0) - np.log(4.0 * r)
    out = divide_by_product(log_ratio, a, dm)  # log space where α Δ_M under/overflows
    if not np.isfinite(out[np.broadcast_to(r, out.shape) > 0]).all():
        raise ValueError(
            "alpha * delta_M is too small: lambda_bar = log(...)/(alpha*delta_M) exceeds the float64 range; valid: "
            f"alpha * delta_M large enough for a finite range, got alpha={first(a)}, delta_M={first(dm)}"
        )
    return finish(out)


def _trinary_args(alpha: object, B0: object, P_plus: object, lam: object, delta: object) -> tuple[np.ndarray, ...]:
    """Validate Theorem 4's arguments; ``P- = P+ - B0`` must lie in ``[0, 1 - P+]`` (within ``MASS_ATOL``)."""
    a, b0, pp, lm, d = args("trinary_lower", alpha=alpha, B0=B0, P_plus=P_plus, lam=lam, delta=delta)
    pm = pp - b0
    bad = (pm < -MASS_ATOL) | (pm > 1.0 - pp + MASS_ATOL)
    if bad.any():
        pb, bb = np.broadcast_arrays(pp, b0)
        i = np.flatnonzero(np.broadcast_to(bad, pb.shape))[0]
        raise ValueError(
            "B0 must satisfy 2*P_plus - 1 <= B0 <= P_plus (P^- = P^+ - B0 and P^0 = 1 - P^+ - P^- are masses, within "
            f"{MASS_ATOL:g}), got B0={float(bb.ravel()[i])!r} with P_plus={float(pb.ravel()[i])!r}"
        )
    return a, b0, pp, lm, d


def trinary_lower(alpha: object, B0: object, P_plus: object, lam: object, delta: object) -> float | np.ndarray:
    r"""Theorem 4 **as stated** (trinary scores, eq. 66, docs/specification.md §9) -- status ``fails``.

    .. math::

        B_{P_\lambda}(q)\ \ge\ \frac{P^+-(P^+-B_0)\,e^{-\alpha\Delta\lambda}}{P^++(1-P^+)\,e^{-\alpha\Delta\lambda}},
        \qquad \lambda\ge0,

    for scores in :math:`\{-1,0,+1\}` when :math:`\hat\delta` separates :math:`A^+` from :math:`A^-\cup A^0` with
    margin :math:`\Delta`.

    .. warning::

        Not a lower bound when :math:`P^+<P^-e^{-\alpha\Delta\lambda}` (§9); use :func:`trinary_lower_corrected`.

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
    a, b0, pp, lm, d = _trinary_args(alpha, B0, P_plus, lam, delta)
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

    Continuous at the switch (both branches are 0 there).

    Args:
        alpha, B0, P_plus, lam, delta: as in :func:`trinary_lower`.

    Raises:
        ValueError / TypeError: as in :func:`trinary_lower`.
    """
    a, b0, pp, lm, d = _trinary_args(alpha, B0, P_plus, lam, delta)
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
    margin :math:`\Delta`. Both masses are taken (rather than :math:`P_{<b}=1-P_{\ge b}`) so a tiny :math:`P_{<b}`
    keeps its precision.

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
    a, bb, pg, pl, lm, d = args("graded_lower", alpha=alpha, b=b, P_ge=P_ge, P_lt=P_lt, lam=lam, delta=delta)
    total = pg + pl
    off = np.abs(total - 1.0) > MASS_ATOL
    if off.any():
        raise ValueError(f"P_ge + P_lt must equal 1 (within {MASS_ATOL:g}), got {float(total[off].ravel()[0])!r}")
    y = pl * np.exp(-product(lm, a, d))
    return finish((bb * pg - y) / (pg + y))
