r"""Helpfulness bounds: Theorem 2 as stated (eq. 6), its corrected replacements (THEORY §12.2) and Corollaries 2–3.

Throughout, :math:`p_0=P(a^*\mid q)` is the unsteered probability of the correct answer, the noise model is
Assumption 3 (i.i.d. projections on the top-:math:`k` tokens, variance :math:`\sigma^2`), and
:math:`\|\delta\|=\alpha|\lambda|`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from ._check import as_real, broadcast_shape, check_closed, check_integer, finish

__all__ = [
    "helpfulness_limit",
    "helpfulness_upper",
]


def _log1p_half_square(x: np.ndarray) -> np.ndarray:
    """``log(1 + x²/2)`` without overflow for ``|x|`` up to 1e308."""
    ax = np.abs(x)
    with np.errstate(divide="ignore"):
        return np.logaddexp(0.0, 2.0 * np.log(ax) - np.log(2.0))


def helpfulness_upper(
    p0: object, gamma: object, alpha: object, beta: object, sigma: object, lam: object
) -> float | np.ndarray:
    r"""Theorem 2 **as stated** (eq. 6) -- status ``fails``; kept because researchers fit this form.

    .. math::

        H_{P_\lambda}(q) \le \frac{p_0}{p_0+\gamma(1-p_0)\big(1+\tfrac12(\alpha\beta\sigma\lambda)^2\big)}
        = \frac{1}{1+\gamma\frac{1-p_0}{p_0}\big(1+\tfrac12(\alpha\beta\sigma\lambda)^2\big)} .

    .. warning::

        This inequality does **not** hold "with probability :math:`1-2/k`" as the paper claims: the step that
        substitutes :math:`X^\pm \ge \alpha\beta\sigma\lambda` goes the wrong way for the :math:`P^-e^{-X^-}` term
        (THEORY §6.2–6.3), and the test suite finds counterexamples by search (see ``theorem-2`` in the registry).
        Use :func:`bounds.helpfulness_jensen`, the event bound or the expectation form (§12.2) for a bound that
        holds. It is still the right functional form to *fit*: the authors fit ``1/(1 + a + a b² λ²/2)``, i.e.
        ``a = γ(1-p0)/p0`` and ``b = αβσ``.

    Evaluated as ``expit(-(log γ + log1p(-p0) - log p0 + log(1 + x²/2)))`` with ``x = αβσλ``, so ``p0`` down to
    1e-300 and ``|λ|`` up to 1e6 (and far beyond) give neither overflow nor NaN.

    Args:
        p0: :math:`0 < p_0 \le 1`, unsteered probability of the correct answer.
        gamma: :math:`0 \le \gamma \le 1` (:math:`\gamma = 2\min(P^+,P^-)/(1-p_0)`, THEORY §6.1).
        alpha: :math:`\alpha \ge 0`.
        beta: :math:`\beta \ge 0` (:math:`\beta=\min(Y^+,Y^-)`; see THEORY §6.1's caution on its value).
        sigma: :math:`\sigma \ge 0`, standard deviation of the noise law :math:`D`.
        lam: :math:`\lambda`, any finite real (the bound is even in :math:`\lambda`).
    """
    p = check_closed("p0", as_real("p0", p0), 0.0, 1.0)
    if (p == 0).any():
        raise ValueError("p0 must lie in the half-open interval (0, 1], got 0.0")
    g = check_closed("gamma", as_real("gamma", gamma), 0.0, 1.0)
    a = check_closed("alpha", as_real("alpha", alpha), 0.0, np.inf)
    bt = check_closed("beta", as_real("beta", beta), 0.0, np.inf)
    s = check_closed("sigma", as_real("sigma", sigma), 0.0, np.inf)
    lm = as_real("lam", lam)
    broadcast_shape({"p0": p0, "gamma": g, "alpha": a, "beta": bt, "sigma": s, "lam": lm})
    with np.errstate(divide="ignore"):
        log_odds_wrong = np.log(g) + np.log1p(-p) - np.log(p)  # log(γ (1-p0)/p0); -inf when γ = 0 or p0 = 1
    x = a * bt * s * lm
    return finish(expit(-(log_odds_wrong + _log1p_half_square(x))))


def helpfulness_limit(n: object) -> float:
    r"""Corollary 2: :math:`\limsup_{\lambda\to\infty}\mathbb E_q[H_{P_\lambda}(q)] \le 1/n`.

    With i.i.d. continuous noise on the :math:`n` possible answers, :math:`\lim_{\lambda\to\infty}H =
    \mathbf 1[a^*=\arg\max_s z_s]`, so the limiting expectation is exactly :math:`1/n` (THEORY §7).

    Args:
        n: number of possible answers per query, an integer :math:`n \ge 1`.
    """
    return 1.0 / check_integer("n", n, 1)
