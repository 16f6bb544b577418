r"""Helpfulness bounds: Theorem 2 as stated (eq. 6), its corrected replacements (docs/specification.md §12.2) and
Corollaries 2–3.

:math:`\gamma` and :math:`\beta` are **random**, functions of the noise realisation over which Theorem 2's probability
is taken (§6.1, §13.4): :class:`HelpfulnessQuantities` defines them, :func:`helpfulness_quantities` computes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit

from ._check import (
    answer_index,
    args,
    as_real,
    broadcast_shape,
    check_index,
    check_probability_vector,
    check_vocabulary_axis,
    finish,
    first,
    product,
)
from .domains import MASS_ATOL

_ONE = 1.0 + MASS_ATOL  # masses of token sets are sums of a distribution (``check_probability_vector``)
#: tolerance on ``log H - log bound`` in the "bound holds" comparisons (the two are computed differently)
RTOL = 1e-9


# ---------------------------------------------------------------------------------------------------------------
# Theorem 2 as stated (eq. 6) and Corollary 3's product (eq. 79)
# ---------------------------------------------------------------------------------------------------------------
# The kernels below (``_log_odds_6``, ``_sides``, ``_log_jensen``, ``_log_event``, ``_limit``) take an array namespace
# ``xp`` (numpy, or bounds.simulate's torch ops) and do no checking: the public functions of this module call them on
# checked numpy input, the Monte-Carlo engine (bounds.simulate) on its batches, so each formula is written once.
_LOG2 = float(np.log(2.0))


def _log1p_half_square(x: Any, xp: Any = np) -> Any:
    """``log(1 + x²/2)`` without overflow for ``|x|`` up to 1e308."""
    with np.errstate(divide="ignore"):
        return xp.logaddexp(0.0, 2.0 * xp.log(xp.abs(x)) - _LOG2)


def _log_rest_6(p: np.ndarray, g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``log(γ(1-p0)/p0 (1 + x²/2))``, the log-odds against a* in eq. (6); ``-inf`` when ``γ = 0`` or ``p0 = 1``.

    That ``-inf`` holds even where ``x = αβσλ`` overflowed to ``inf`` (``0 * inf``: the true ``x`` is finite, the term
    is 0), so the bound is then exactly 1 instead of NaN.
    """
    with np.errstate(divide="ignore"):
        log_odds_wrong = np.log(g) + np.log1p(-p) - np.log(p)  # log(γ (1-p0)/p0); -inf when γ = 0 or p0 = 1
    return _log_odds_6(log_odds_wrong, x)


def _log_odds_6(log_odds_wrong: Any, x: Any, xp: Any = np) -> Any:
    """:func:`_log_rest_6` from ``log(γ(1-p0)/p0)``."""
    with np.errstate(invalid="ignore"):
        out = log_odds_wrong + _log1p_half_square(x, xp)
    return xp.where(log_odds_wrong == -np.inf, -np.inf, out)


def _log_factor_6(p: np.ndarray, g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``log`` of eq. (6)'s right side: ``-log(1 + γ(1-p0)/p0 (1 + x²/2))``, stable in log space."""
    return -np.logaddexp(0.0, _log_rest_6(p, g, x))


def helpfulness_upper(
    p0: object, gamma: object, alpha: object, beta: object, sigma: object, lam: object
) -> float | np.ndarray:
    r"""Theorem 2 **as stated** (eq. 6) -- status ``fails``; kept because researchers fit this form.

    .. math::

        H_{P_\lambda}(q) \le \frac{p_0}{p_0+\gamma(1-p_0)\big(1+\tfrac12(\alpha\beta\sigma\lambda)^2\big)}
        = \frac{1}{1+\gamma\frac{1-p_0}{p_0}\big(1+\tfrac12(\alpha\beta\sigma\lambda)^2\big)} .

    .. warning::

        This inequality does **not** hold "with probability :math:`1-2/k`" as the paper claims (docs/specification.md
        §6.2–6.3; the registry's ``theorem-2`` holds counterexamples). Use :func:`helpfulness_jensen`,
        :func:`helpfulness_event` or :func:`helpfulness_expectation` for statements that hold. It is still the
        functional form the authors *fit*: ``1/(1 + a + a b² λ²/2)`` with ``a = γ(1-p0)/p0`` and ``b = αβσ``.

    :math:`\gamma` and :math:`\beta` are functions of the noise realisation (:func:`helpfulness_quantities`; β is
    ≈0.47–0.58, not 0.8, §6.1). Evaluated in log space (``expit``), so ``p0`` down to 1e-300 and ``|λ|`` up to 1e6 and
    beyond give neither overflow nor NaN.

    Args:
        p0: :math:`0 < p_0 \le 1`, unsteered probability of the correct answer.
        gamma: :math:`0 \le \gamma \le 1` (:math:`\gamma = 2\min(P^+,P^-)/(1-p_0)`, docs/specification.md §6.1).
        alpha: :math:`\alpha \ge 0`.
        beta: :math:`\beta \ge 0` (:math:`\beta=\min(Y^+,Y^-)`).
        sigma: :math:`\sigma \ge 0`, standard deviation of the noise law :math:`D`.
        lam: :math:`\lambda`, any finite real (the bound is even in :math:`\lambda`).

    Raises:
        ValueError: a parameter outside its domain, NaN/inf, or shapes that do not broadcast.
    """
    p, g, a, bt, s, lm = args("helpfulness_upper", p0=p0, gamma=gamma, alpha=alpha, beta=beta, sigma=sigma, lam=lam)
    # x overflows to inf only where the true αβσλ exceeds float64: log(1 + inf²/2) = inf, bound 0 (the limit); a zero
    # factor gives 0, never inf * 0 = NaN (bounds._check.product)
    x = product(a, bt, s, lm)
    return finish(expit(-_log_rest_6(p, g, x)))


def helpfulness_upper_product(
    p0: object, gamma: object, alpha: object, beta: object, sigma: object, lam: object
) -> float | np.ndarray:
    r"""Corollary 3 (eq. 79) **as stated** -- status ``fails``: the product of eq. (6) over :math:`\ell` steps.

    .. math::

        H_{P_\lambda}(q)\le\prod_{i=1}^{\ell}\frac{p_0^{(i)}}{p_0^{(i)}+\gamma_i(1-p_0^{(i)})
        \big(1+\tfrac12(\alpha\beta_i\sigma_i\lambda)^2\big)} .

    Each factor inherits Theorem 2's error, so the claimed probability :math:`1-2\ell/k` fails (see ``corollary-3``).

    Args:
        p0: per-step :math:`0<p_0^{(i)}\le1`, last axis = the :math:`\ell \ge 1` steps.
        gamma: per-step :math:`0\le\gamma_i\le1`, broadcastable to ``p0``.
        alpha: :math:`\alpha\ge0`, broadcastable to the batch shape ``p0.shape[:-1]``.
        beta: per-step :math:`\beta_i\ge0`, broadcastable to ``p0``.
        sigma: per-step :math:`\sigma_i\ge0`, broadcastable to ``p0``.
        lam: :math:`\lambda`, finite, broadcastable to the batch shape.

    Returns:
        the bound, of the broadcast batch shape (float for a single query).

    Raises:
        ValueError: a parameter outside its domain, ``p0`` without a step axis, shapes that do not broadcast.
    """
    p, g, a, bt, s, lm = args(
        "helpfulness_upper_product", p0=p0, gamma=gamma, alpha=alpha, beta=beta, sigma=sigma, lam=lam, broadcast=False
    )
    if p.ndim == 0:
        raise ValueError("p0 must have a last axis over the ell >= 1 steps, got a scalar")
    broadcast_shape(
        {"p0": p, "gamma": g, "beta": bt, "sigma": s, "alpha[..., None]": a[..., None], "lam[..., None]": lm[..., None]}
    )
    x = product(a[..., None], bt, s, lm[..., None])  # overflow -> inf (true value); a zero factor -> 0, not NaN
    return finish(np.exp(np.sum(_log_factor_6(p, g, x), axis=-1)))


# ---------------------------------------------------------------------------------------------------------------
# Per-realisation quantities
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HelpfulnessQuantities:
    r"""The random quantities of Theorem 2's proof for one (or a batch of) noise realisation(s) (docs/specification.md
    §6.1).

    All fields have the batch shape. ``B^±`` are taken for the sign of :math:`\lambda` (``λ = 0`` counts as
    positive); ties :math:`z_b=z_{a^*}` belong to neither set. Empty sets get ``P = X = Y = 0``.

    Attributes:
        p0: :math:`P(a^*\mid q)`.
        top_mass: :math:`P(T_k\mid q)` (any :math:`1-\epsilon` of eq. (9) is at most this).
        P_plus, P_minus: :math:`P^\pm=P(B^\pm\mid q)`.
        X_plus, X_minus: :math:`X^\pm \ge 0` at :math:`\|\delta\|=\alpha|\lambda|`.
        Y_plus, Y_minus: :math:`Y^\pm=X^\pm/(\alpha\sigma|\lambda|)`, normalised to :math:`\sigma=1` (defined from
            the projections, so also at :math:`\lambda=0`).
        gamma: :math:`\gamma=2\min(P^+,P^-)/(1-p_0)\in[0,1]`.
        beta: :math:`\beta=\min(Y^+,Y^-)`.
        L: the statistic of the event :math:`E_q`: :math:`\sum_{b\in T_k\setminus a^*}P(b)(z_b-z_{a^*})`, in
            projection units, sign-flipped for :math:`\lambda<0`.
        both_nonempty: both :math:`B^+` and :math:`B^-` non-empty (the event of probability :math:`1-2/k`).
        on_event: :math:`L\ge0`, i.e. the realisation lies in :math:`E_q` (docs/specification.md §12.2b).
    """

    p0: Any
    top_mass: Any
    P_plus: Any
    P_minus: Any
    X_plus: Any
    X_minus: Any
    Y_plus: Any
    Y_minus: Any
    gamma: Any
    beta: Any
    L: Any
    both_nonempty: Any
    on_event: Any


def _top_mask(top_k: object, p: np.ndarray) -> np.ndarray:
    """``top_k`` as a boolean mask: an int ``k`` means the ``k`` most probable tokens (ties: lower index first)."""
    V = p.shape[-1]
    if isinstance(top_k, (int, np.integer)) and not isinstance(top_k, bool):
        k = int(top_k)
        if not 1 <= k <= V:
            raise ValueError(f"top_k must be an integer in [1, {V}] (the vocabulary size), got {k}")
        order = np.argsort(-p, axis=-1, kind="stable")
        mask = np.zeros(p.shape, dtype=bool)
        np.put_along_axis(mask, order[..., :k], True, axis=-1)
        return mask
    mask = np.asarray(top_k)
    if mask.dtype != bool:
        raise TypeError(f"top_k must be an integer k or a boolean mask over the vocabulary, got {top_k!r}")
    if mask.ndim == 0 or mask.shape[-1] != V:
        raise ValueError(f"top_k mask must have a last axis of length {V} like p, got shape {mask.shape}")
    return mask


def _sides(p: Any, d: Any, wrong: Any, others: Any, xp: Any = np) -> tuple[Any, ...]:
    """``B±`` from the signed gaps ``d = z_b - z_a*`` over the ``wrong`` tokens: the two masks, ``P±``,
    ``S± = Σ_{B±} P(b)|d_b|``, ``D± = S±/P±`` (0 on an empty set) and ``γ = 2 min(P+, P-)/others``."""
    pos, neg = wrong & (d > 0), wrong & (d < 0)
    P_plus = xp.sum(xp.where(pos, p, 0.0), -1)
    P_minus = xp.sum(xp.where(neg, p, 0.0), -1)
    S_plus = xp.sum(xp.where(pos, p * d, 0.0), -1)
    S_minus = -xp.sum(xp.where(neg, p * d, 0.0), -1)
    D_plus = xp.where(P_plus > 0, S_plus / xp.where(P_plus > 0, P_plus, 1.0), 0.0)
    D_minus = xp.where(P_minus > 0, S_minus / xp.where(P_minus > 0, P_minus, 1.0), 0.0)
    # γ <= (P+ + P-)/(1 - p0) <= 1 exactly; float sums taken in different orders can exceed 1 by an ulp
    gamma = xp.minimum(2.0 * xp.minimum(P_plus, P_minus) / others, 1.0)
    return pos, neg, P_plus, P_minus, S_plus, S_minus, D_plus, D_minus, gamma


def helpfulness_quantities(
    p: object, z: object, answer: object, top_k: object, lam_norm: object = 1.0, sigma: object = 1.0
) -> HelpfulnessQuantities:
    r""":math:`p_0, P^\pm, X^\pm, Y^\pm, \gamma, \beta`, the event statistic and both events, from realisations.

    Args:
        p: unsteered distribution, shape ``(..., V)``; :math:`0 \le p_0 < 1` (γ is undefined at :math:`p_0=1`).
        z: projections :math:`z_s`, broadcastable to ``p``, finite.
        answer: index of :math:`a^*` (int or int array over the batch); must lie in :math:`T_k`.
        top_k: :math:`T_k`: an integer :math:`k` (the :math:`k` most probable tokens, ties broken by lower index)
            or a boolean mask broadcastable to ``p``.
        lam_norm: the signed :math:`\alpha\lambda` (its sign picks :math:`B^\pm` and the event, its magnitude is
            :math:`\|\delta\|`), finite, broadcastable to the batch shape.
        sigma: :math:`\sigma>0` used to normalise :math:`Y^\pm`.

    Returns:
        :class:`HelpfulnessQuantities` (float fields for a single realisation, arrays for a batch).

    Raises:
        ValueError: bad distribution, :math:`p_0=1`, :math:`a^*\notin T_k`, bad shapes or values, or
            :math:`X^\pm` or :math:`Y^\pm` beyond the float64 range (``|lam_norm| * |z_b - z_a*|`` or
            ``|z_b - z_a*| / sigma`` above 1.8e308: they are never returned as ``inf``).
        TypeError: non-integer ``answer``, ``top_k`` neither int nor boolean mask.
    """
    pa = check_probability_vector("p", p)
    za = as_real("z", z)
    if za.ndim == 0 or za.shape[-1] != pa.shape[-1]:
        raise ValueError(f"z must have a last axis of length {pa.shape[-1]} like p, got shape {za.shape}")
    t, s = args("helpfulness_quantities", lam_norm=lam_norm, sigma=sigma, broadcast=False)
    V = pa.shape[-1]
    idx = check_index("answer", answer, V)
    mask = _top_mask(top_k, pa)
    shape = broadcast_shape(
        {"p": pa, "z": za, "top_k": mask, "answer[..., None]": idx[..., None], "lam_norm[..., None]": t[..., None]}
    )
    batch = shape[:-1]
    pa, za, mask = (np.broadcast_to(x, shape) for x in (pa, za, mask))
    idx, t = np.broadcast_to(idx, batch), np.broadcast_to(t, batch)
    if s.ndim:
        try:
            s = np.broadcast_to(s, batch)
        except ValueError as exc:
            raise ValueError(
                f"sigma must be a scalar or broadcast to the batch shape {batch}, got shape {s.shape}"
            ) from exc
    is_a = np.arange(V) == idx[..., None]
    if not (mask & is_a).any(axis=-1).all():
        raise ValueError("answer must belong to the top-k set T_k (Assumption 3: a* in T_k)")
    p0 = np.take_along_axis(pa, idx[..., None], axis=-1)[..., 0]
    others = np.sum(np.where(is_a, 0.0, pa), axis=-1)  # 1 - p0 without cancellation
    if (others <= 0).any():
        raise ValueError("p0 must be < 1: gamma = 2 min(P+, P-)/(1 - p0) is undefined when a* has all the mass")
    sign = np.where(t < 0, -1.0, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        d = sign[..., None] * (za - np.take_along_axis(za, idx[..., None], axis=-1))
    if not np.isfinite(d).all():
        raise ValueError("z differences z_b - z_a* overflow float64; valid: |z_b - z_a*| < 1.7e308")
    wrong = mask & ~is_a
    pos, neg, P_plus, P_minus, _, _, D_plus, D_minus, gamma = _sides(pa, d, wrong, others)
    norm = np.abs(t)
    with np.errstate(over="ignore"):
        Y_plus, Y_minus = D_plus / s, D_minus / s
        X_plus, X_minus = norm * D_plus, norm * D_minus
    if not (np.isfinite(X_plus) & np.isfinite(X_minus)).all():
        raise ValueError(
            "lam_norm * (z_b - z_a*) overflows float64: X+- would be infinite; valid: |lam_norm| * |z_b - z_a*| "
            "< 1.8e308 (reduce lam_norm)"
        )
    if not (np.isfinite(Y_plus) & np.isfinite(Y_minus)).all():
        raise ValueError(
            "sigma is too small: Y+- = (mean of z_b - z_a*) / sigma overflows float64; valid: sigma > "
            "|z_b - z_a*| / 1.8e308"
        )
    L = np.sum(np.where(wrong, pa * d, 0.0), axis=-1)
    out = HelpfulnessQuantities(
        p0=p0,
        top_mass=np.sum(np.where(mask, pa, 0.0), axis=-1),
        P_plus=P_plus,
        P_minus=P_minus,
        X_plus=X_plus,
        X_minus=X_minus,
        Y_plus=Y_plus,
        Y_minus=Y_minus,
        gamma=gamma,
        beta=np.minimum(Y_plus, Y_minus),
        L=L,
        both_nonempty=pos.any(axis=-1) & neg.any(axis=-1),
        on_event=L >= 0,
    )
    if not batch:
        return HelpfulnessQuantities(
            **{k: (bool(v) if np.asarray(v).dtype == bool else float(v)) for k, v in out.__dict__.items()}
        )
    return out


# ---------------------------------------------------------------------------------------------------------------
# §12.2 (a) Jensen, (b) event, (c) expectation
# ---------------------------------------------------------------------------------------------------------------
def helpfulness_jensen(
    p0: object, P_plus: object, P_minus: object, X_plus: object, X_minus: object
) -> float | np.ndarray:
    r"""docs/specification.md §12.2(a), step (≈32) of the paper's proof: deterministic, for **every** realisation.

    .. math::

        H_{P_\lambda}(q)\ \le\ \frac{p_0}{p_0+P^+e^{X^+}+P^-e^{-X^-}},\qquad X^\pm=\alpha\sigma|\lambda|Y^\pm .

    Evaluated in log space, so :math:`X^\pm` up to 1e300 and masses down to 1e-300 neither overflow nor give NaN.

    Args:
        p0: :math:`0<p_0\le1`.
        P_plus, P_minus: :math:`P^\pm\in[0,1]` with :math:`p_0+P^++P^-\le1` (disjoint sets; a ``1e-8`` slack
            for the rounding of sums, the tolerance of a probability vector's sum).
        X_plus, X_minus: :math:`X^\pm\ge0` (from :func:`helpfulness_quantities` at the chosen :math:`\alpha\lambda`).

    Raises:
        ValueError: a parameter outside its domain, masses summing above 1, shapes that do not broadcast.
    """
    p, pp, pm, xp, xm = args(
        "helpfulness_jensen", p0=p0, P_plus=P_plus, P_minus=P_minus, X_plus=X_plus, X_minus=X_minus
    )
    total = p + pp + pm
    if (total > _ONE).any():
        raise ValueError(
            f"p0 + P_plus + P_minus must be <= 1 (masses of disjoint token sets), got {float(np.max(total))!r}"
        )
    with np.errstate(divide="ignore"):
        lp, lpp, lpm = np.log(p), np.log(pp), np.log(pm)
    with np.errstate(over="ignore"):  # +inf where X+ is huge: the bound is 0, the limit
        return finish(np.exp(_log_jensen(lp, lpp, lpm, xp, xm)))


def _log_jensen(log_p0: Any, log_P_plus: Any, log_P_minus: Any, X_plus: Any, X_minus: Any, xp: Any = np) -> Any:
    """``log`` of the §12.2(a) bound: ``-log(1 + (P+ e^X+ + P- e^-X-)/p0)``."""
    return -xp.logaddexp(0.0, xp.logaddexp(log_P_plus + X_plus, log_P_minus - X_minus) - log_p0)


def helpfulness_event(p0: object, one_minus_eps: object, P_plus: object, X_plus: object) -> float | np.ndarray:
    r"""docs/specification.md §12.2(b): the quadratic decrease on the event :math:`E_q` (probability ½ for symmetric
    :math:`D`).

    .. math::

        E_q=\Big\{\sum_{b\in T_k\setminus a^*}P(b\mid q)(z_b-z_{a^*})\ge0\Big\}:\qquad
        H_{P_\lambda}(q)\ \le\ \frac{p_0}{1-\epsilon+\tfrac12P^+X_+^2},\quad X^+=\alpha\sigma Y^+|\lambda| .

    Stated for :math:`\lambda\ge0`; for :math:`\lambda<0` the event and :math:`B^\pm` flip (use the quantities of
    :func:`helpfulness_quantities` at the signed :math:`\alpha\lambda`). Evaluated in log space.

    Args:
        p0: :math:`0<p_0\le1`.
        one_minus_eps: :math:`0<1-\epsilon\le1`, a lower bound on the top-:math:`k` mass :math:`P(T_k\mid q)`.
        P_plus: :math:`P^+\in[0,1]`, :math:`p_0+P^+\le1` (``1e-8`` slack for rounding).
        X_plus: :math:`X^+\ge0`.

    Raises:
        ValueError: a parameter outside its domain, shapes that do not broadcast, or ``one_minus_eps`` so small
            (below :math:`p_0/1.8\cdot10^{308}`, with :math:`P^+X_+^2` as small) that the bound exceeds the
            float64 range.
    """
    p, m, pp, xp = args("helpfulness_event", p0=p0, one_minus_eps=one_minus_eps, P_plus=P_plus, X_plus=X_plus)
    if (p + pp > _ONE).any():
        raise ValueError(f"p0 + P_plus must be <= 1 (disjoint token sets), got {float(np.max(p + pp))!r}")
    with np.errstate(divide="ignore", over="ignore"):  # log(½ P+ X+²) = -inf when P+ = 0 or X+ = 0
        out = np.exp(_log_event(np.log(p), np.log(m), np.log(pp), xp))
    if not np.isfinite(out).all():
        raise ValueError(
            "one_minus_eps is too small: p0 / (one_minus_eps + P_plus * X_plus**2 / 2) exceeds the float64 range "
            f"(1.8e308); valid: one_minus_eps > p0 / 1.8e308, got one_minus_eps={first(m)}, p0={first(p)}"
        )
    return finish(out)


def _log_event(log_p0: Any, log_one_minus_eps: Any, log_P_plus: Any, X_plus: Any, xp: Any = np) -> Any:
    """``log`` of the §12.2(b) bound: ``log p0 - log(1 - ε + ½ P+ X+²)``."""
    return log_p0 - xp.logaddexp(log_one_minus_eps, log_P_plus + 2.0 * xp.log(X_plus) - _LOG2)


def helpfulness_expectation(p0: object, S2: object, alpha: object, sigma: object, lam: object) -> float | np.ndarray:
    r"""docs/specification.md §12.2(c): the second-order expansion of :math:`\mathbb E_z[H_{P_\lambda}(q)]`.

    With **all** tokens receiving i.i.d. noise of variance :math:`\sigma^2` (symmetric law, finite fourth moment for
    the :math:`O(\lambda^4)` remainder),

    .. math::

        \mathbb E_z\big[H_{P_\lambda}(q)\big]=p_0-p_0\,\alpha^2\sigma^2\lambda^2\Big[p_0(1-p_0)-S_2\Big]+O(\lambda^4),
        \qquad S_2=\sum_{b\ne a^*}P(b\mid q)^2 .

    This returns the polynomial without the remainder: an approximation for small :math:`\alpha\sigma\lambda`, not a
    bound (it leaves :math:`[0,1]` for large :math:`\lambda`); the curvature :math:`p_0(1-p_0)-S_2` is negative for
    confidently wrong models (§12.2c).

    Args:
        p0: :math:`0<p_0\le1`.
        S2: :math:`0\le S_2\le(1-p_0)^2` (``1e-12`` slack for rounding).
        alpha: :math:`\alpha\ge0`.
        sigma: :math:`\sigma\ge0`.
        lam: :math:`\lambda`, finite.

    Raises:
        ValueError: a parameter outside its domain, shapes that do not broadcast, or :math:`(\alpha\sigma\lambda)^2`
            beyond the float64 range.
    """
    p, s2, a, s, lm = args("helpfulness_expectation", p0=p0, S2=S2, alpha=alpha, sigma=sigma, lam=lam)
    if (s2 > (1.0 - p) ** 2 + 1e-12).any():
        raise ValueError(f"S2 must be <= (1 - p0)**2 (a sum of squares of the wrong masses), got {first(s2)}")
    curvature = p * (1.0 - p) - s2
    with np.errstate(over="ignore", invalid="ignore"):
        t2 = product(a, s, lm) ** 2  # λ = 0 (or α, σ = 0) gives 0 even when the other factors overflow
        out = np.where(curvature == 0, p, p - p * t2 * curvature)
    if not np.isfinite(out).all():
        raise ValueError("(alpha*sigma*lam)**2 exceeds the float64 range; valid: |alpha*sigma*lam| < 1e154")
    return finish(out)


def helpfulness_expectation_p(
    p: object, answer: object, alpha: object, sigma: object, lam: object
) -> float | np.ndarray:
    r""":func:`helpfulness_expectation` from the distribution: :math:`p_0=p_{a^*}`, :math:`S_2=\sum_{b\ne a^*}p_b^2`.

    Args:
        p: unsteered distribution, shape ``(..., V)``, :math:`p_{a^*}>0`.
        answer: index of :math:`a^*` (int or int array over the batch).
        alpha, sigma, lam: as in :func:`helpfulness_expectation` (broadcast with the batch shape).
    """
    pa = check_probability_vector("p", p)
    idx = answer_index(answer, pa.shape)
    p0 = np.take_along_axis(pa, idx[..., None], axis=-1)[..., 0]
    if (p0 == 0).any():
        raise ValueError("p[answer] must be > 0 (p0 = P(a*|q) lies in the half-open interval (0, 1]), got 0.0")
    # p sums to 1 within 1e-8, so p[answer] may exceed 1 by that rounding: p0 <= 1 exactly
    p0 = np.minimum(p0, 1.0)
    is_a = np.arange(pa.shape[-1]) == idx[..., None]
    s2 = np.sum(np.where(is_a, 0.0, pa * pa), axis=-1)
    s2 = np.minimum(s2, (1.0 - p0) ** 2)  # S2 <= (1-p0)^2 exactly; float rounding of the two sums can exceed it
    return helpfulness_expectation(p0, s2, alpha, sigma, lam)


# ---------------------------------------------------------------------------------------------------------------
# Corollary 2
# ---------------------------------------------------------------------------------------------------------------
def helpfulness_limit(n: object) -> float:
    r"""Corollary 2: :math:`\limsup_{\lambda\to\infty}\mathbb E_q[H_{P_\lambda}(q)] \le 1/n`.

    The limit is exactly :math:`1/n` for i.i.d. continuous noise (docs/specification.md §7;
    :func:`helpfulness_at_infinity` is the per-realisation limit).

    Args:
        n: number of possible answers per query, an integer :math:`n \ge 1`.
    """
    return 1 / args("helpfulness_limit", n=n)[0]  # int / int: exact rounding, no OverflowError for n beyond 1.8e308


def helpfulness_at_infinity(p: object, z: object, answer: object) -> float | np.ndarray:
    r"""The exact limit :math:`\lim_{\|\delta\|\to\infty}H_{P_\lambda}(q)` for one realisation (steering :math:`+z`).

    .. math::

        \lim H = \frac{p_{a^*}\,\mathbf 1[z_{a^*}=m]}{\sum_{s:\ z_s=m}p_s},\qquad m=\max_{s:\ p_s>0}z_s ,

    i.e. :math:`\mathbf 1[a^*=\arg\max z]` when the maximum is unique (almost surely for continuous noise).

    Args:
        p: distribution, shape ``(..., V)``, :math:`p_{a^*}>0`.
        z: projections, broadcastable to ``p``.
        answer: index of :math:`a^*`.
    """
    pa = check_probability_vector("p", p)
    za = as_real("z", z)
    shape = broadcast_shape({"p": pa, "z": za})
    check_vocabulary_axis("z", za, pa.shape[-1])
    pa, za = np.broadcast_to(pa, shape), np.broadcast_to(za, shape)
    idx = answer_index(answer, shape)
    live = pa > 0
    m = np.max(np.where(live, za, -np.inf), axis=-1, keepdims=True)
    top = live & (za == m)
    pa_ans = np.take_along_axis(pa, idx[..., None], axis=-1)[..., 0]
    if (pa_ans == 0).any():
        raise ValueError("p[answer] must be > 0")
    at_top = np.take_along_axis(top, idx[..., None], axis=-1)[..., 0]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # only rows with a* at the top are kept
        return finish(_limit(pa, pa_ans, top, at_top))


def _limit(p: Any, p_answer: Any, top: Any, at_top: Any, xp: Any = np) -> Any:
    """``lim H = p_a* / P(top)`` where ``a*`` is in the set ``top`` of the largest projections (``at_top``), else 0."""
    return xp.where(at_top, p_answer / xp.sum(xp.where(top, p, 0.0), -1), 0.0)
