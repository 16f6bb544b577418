r"""Helpfulness bounds: Theorem 2 as stated (eq. 6), its corrected replacements (docs/specification.md §12.2) and
Corollaries 2–3.

Throughout, :math:`p_0=P(a^*\mid q)` is the unsteered probability of the correct answer, the noise model is
Assumption 3 (i.i.d. projections :math:`z_s` on the top-:math:`k` tokens :math:`T_k\ni a^*`, variance
:math:`\sigma^2`; tail tokens unconstrained), and :math:`\|\delta\|=\alpha|\lambda|`. With
:math:`\Delta_b=\|\delta\|(z_b-z_{a^*})` (projections flipped for :math:`\lambda<0`, docs/specification.md §0),

.. math::

    H_{P_\lambda}(q)=\frac{p_0}{p_0+\sum_{b\ne a^*}P(b\mid q)\,e^{\Delta_b}}, \qquad
    B^\pm=\{b\in T_k\setminus a^*:\ \Delta_b\gtrless0\},\quad P^\pm=P(B^\pm\mid q),

    X^+=\frac1{P^+}\sum_{B^+}P(b)\Delta_b,\quad X^-=-\frac1{P^-}\sum_{B^-}P(b)\Delta_b,\quad
    Y^\pm=\frac{X^\pm}{\alpha\sigma|\lambda|},\quad \gamma=\frac{2\min(P^+,P^-)}{1-p_0},\quad \beta=\min(Y^+,Y^-).

:math:`\gamma` and :math:`\beta` are **random**: functions of the same noise realisation over which Theorem 2's
probability is taken (docs/specification.md §6.1, §13.4). :func:`helpfulness_quantities` computes them from one
realisation.

**Caution on β and σ (docs/specification.md §6.1).** The paper's A.3 uses :math:`\beta\approx\sqrt{2/\pi}\approx0.8`,
the mean of one :math:`|{\cal N}(0,1)|`. But :math:`\beta=\min(Y^+,Y^-)` is a minimum of two weighted means of
half-normal-like variables and is smaller: about 0.47 at :math:`k=4`, 0.54 at :math:`k=10`, 0.58 at :math:`k=50` for
Gaussian :math:`z` and Dirichlet :math:`p` (``tests/test_helpfulness.py::test_beta_is_well_below_half_normal_mean``
measures it). Any σ inferred from a fitted :math:`b=\alpha\beta\sigma` must say which β it used. σ is the standard
deviation of each :math:`z_s`, i.e. the **within-query** spread of the differences :math:`z_b-z_{a^*}` across :math:`b`
(pooled across queries they spread by :math:`\sqrt2\sigma`).

Status of each statement (settled by ``tests/test_helpfulness.py``): ``theorem-2`` and ``corollary-3`` **fail**
(Monte-Carlo frequency more than 4 standard errors below the claimed :math:`1-2/k`, resp. :math:`1-2\ell/k`);
``corollary-2`` and the three replacements ``theorem-2-jensen``, ``theorem-2-event``, ``theorem-2-expectation``
hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit

from . import symbols as S
from ._check import (
    as_real,
    broadcast_index,
    broadcast_shape,
    check_closed,
    check_index,
    check_integer,
    check_open,
    check_probability_vector,
    check_vocabulary_axis,
    finish,
    product,
)
from ._montecarlo import Estimate, as_generator, frequency, mean_estimate, noise_law, sample_projections
from .statement import Statement, symbol_domains
from .steered import helpfulness, log_steered_distribution

__all__ = [
    "STATEMENTS",
    "HelpfulnessQuantities",
    "ProbabilityStudy",
    "corollary_3_expr",
    "corollary_3_frequency",
    "event_probability",
    "expected_helpfulness",
    "helpfulness_at_infinity",
    "helpfulness_event",
    "helpfulness_expectation",
    "helpfulness_expectation_p",
    "helpfulness_jensen",
    "helpfulness_limit",
    "helpfulness_quantities",
    "helpfulness_upper",
    "helpfulness_upper_product",
    "theorem_2_frequency",
]

#: masses of token sets are sums of a distribution that sums to 1 within 1e-8 (``check_probability_vector``)
_ONE = 1.0 + 1e-8
#: tolerance on ``log H - log bound`` in the "bound holds" comparisons (the two are computed differently)
RTOL = 1e-9


# ---------------------------------------------------------------------------------------------------------------
# Theorem 2 as stated (eq. 6) and Corollary 3's product (eq. 79)
# ---------------------------------------------------------------------------------------------------------------
def _log1p_half_square(x: np.ndarray) -> np.ndarray:
    """``log(1 + x²/2)`` without overflow for ``|x|`` up to 1e308."""
    ax = np.abs(x)
    with np.errstate(divide="ignore"):
        return np.logaddexp(0.0, 2.0 * np.log(ax) - np.log(2.0))


def _check_p0(p0: object, name: str = "p0") -> np.ndarray:
    p = check_closed(name, as_real(name, p0), 0.0, 1.0)
    if (p == 0).any():
        raise ValueError(f"{name} must lie in the half-open interval (0, 1], got 0.0")
    return p


def _log_rest_6(p: np.ndarray, g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``log(γ(1-p0)/p0 (1 + x²/2))``, the log-odds against a* in eq. (6); ``-inf`` when ``γ = 0`` or ``p0 = 1``.

    That ``-inf`` holds even where ``x = αβσλ`` overflowed to ``inf`` (``0 * inf``: the true ``x`` is finite, the term
    is 0), so the bound is then exactly 1 instead of NaN.
    """
    with np.errstate(divide="ignore"):
        log_odds_wrong = np.log(g) + np.log1p(-p) - np.log(p)  # log(γ (1-p0)/p0); -inf when γ = 0 or p0 = 1
    with np.errstate(invalid="ignore"):
        out = log_odds_wrong + _log1p_half_square(x)
    return np.where(log_odds_wrong == -np.inf, -np.inf, out)


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

        This inequality does **not** hold "with probability :math:`1-2/k`" as the paper claims: the step that
        substitutes :math:`X^\pm \ge \alpha\beta\sigma\lambda` goes the wrong way for the :math:`P^-e^{-X^-}` term
        (docs/specification.md §6.2–6.3). The test suite finds, by search, noise configurations where the frequency of
        "(6) holds" is more than 4 standard errors below :math:`1-2/k`, and single realisations with both :math:`B^\pm`
        non-empty where (6) fails (see ``theorem-2`` in the registry). Use :func:`helpfulness_jensen`,
        :func:`helpfulness_event` or :func:`helpfulness_expectation` (§12.2) for statements that hold. It is still
        the right functional form to *fit*: the authors fit ``1/(1 + a + a b² λ²/2)``, i.e. ``a = γ(1-p0)/p0``
        and ``b = αβσ``.

    :math:`\gamma` and :math:`\beta` are functions of the noise realisation (:func:`helpfulness_quantities`);
    see the module docstring for the caution on β (≈0.47–0.58, not 0.8) and on σ (within-query spread).
    Evaluated as ``expit(-(log γ + log1p(-p0) - log p0 + log(1 + x²/2)))`` with ``x = αβσλ``, so ``p0`` down to
    1e-300 and ``|λ|`` up to 1e6 (and far beyond) give neither overflow nor NaN.

    Args:
        p0: :math:`0 < p_0 \le 1`, unsteered probability of the correct answer.
        gamma: :math:`0 \le \gamma \le 1` (:math:`\gamma = 2\min(P^+,P^-)/(1-p_0)`, docs/specification.md §6.1).
        alpha: :math:`\alpha \ge 0`.
        beta: :math:`\beta \ge 0` (:math:`\beta=\min(Y^+,Y^-)`).
        sigma: :math:`\sigma \ge 0`, standard deviation of the noise law :math:`D`.
        lam: :math:`\lambda`, any finite real (the bound is even in :math:`\lambda`).

    Returns:
        float for scalar inputs, else the broadcast array.

    Raises:
        ValueError: a parameter outside its domain, NaN/inf, or shapes that do not broadcast.
    """
    p = _check_p0(p0)
    g = check_closed("gamma", as_real("gamma", gamma), 0.0, 1.0)
    a = check_closed("alpha", as_real("alpha", alpha), 0.0, np.inf)
    bt = check_closed("beta", as_real("beta", beta), 0.0, np.inf)
    s = check_closed("sigma", as_real("sigma", sigma), 0.0, np.inf)
    lm = as_real("lam", lam)
    broadcast_shape({"p0": p, "gamma": g, "alpha": a, "beta": bt, "sigma": s, "lam": lm})
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

    The chain rule :math:`H=\prod_i H_i` is exact; each factor inherits Theorem 2's error, so the claimed
    probability :math:`1-2\ell/k` fails (see ``corollary-3``). Summed in log space.

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
    p = _check_p0(p0)
    if p.ndim == 0:
        raise ValueError("p0 must have a last axis over the ell >= 1 steps, got a scalar")
    g = check_closed("gamma", as_real("gamma", gamma), 0.0, 1.0)
    a = check_closed("alpha", as_real("alpha", alpha), 0.0, np.inf)
    bt = check_closed("beta", as_real("beta", beta), 0.0, np.inf)
    s = check_closed("sigma", as_real("sigma", sigma), 0.0, np.inf)
    lm = as_real("lam", lam)
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


def _answer_index(answer: object, V: int) -> np.ndarray:
    return check_index("answer", answer, V)


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
    t = as_real("lam_norm", lam_norm)
    s = check_open("sigma", as_real("sigma", sigma), 0.0, np.inf)
    V = pa.shape[-1]
    idx = _answer_index(answer, V)
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
    pos, neg = wrong & (d > 0), wrong & (d < 0)
    P_plus = np.sum(np.where(pos, pa, 0.0), axis=-1)
    P_minus = np.sum(np.where(neg, pa, 0.0), axis=-1)
    S_plus = np.sum(np.where(pos, pa * d, 0.0), axis=-1)
    S_minus = -np.sum(np.where(neg, pa * d, 0.0), axis=-1)
    D_plus = np.where(P_plus > 0, S_plus / np.where(P_plus > 0, P_plus, 1.0), 0.0)
    D_minus = np.where(P_minus > 0, S_minus / np.where(P_minus > 0, P_minus, 1.0), 0.0)
    norm = np.abs(t)
    # γ <= (P+ + P-)/(1 - p0) <= 1 exactly; float sums taken in different orders can exceed 1 by an ulp
    gamma = np.minimum(2.0 * np.minimum(P_plus, P_minus) / others, 1.0)
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
        L=np.sum(np.where(wrong, pa * d, 0.0), axis=-1),
        both_nonempty=pos.any(axis=-1) & neg.any(axis=-1),
        on_event=np.sum(np.where(wrong, pa * d, 0.0), axis=-1) >= 0,
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

    Proof: drop the tail outside :math:`T_k` (and ties), then Jensen on each of :math:`B^\pm`:
    :math:`\sum_{B^\pm}P(b)e^{\Delta_b}\ge P^\pm e^{\pm X^\pm}`. Evaluated in log space (``logaddexp``), so
    :math:`X^\pm` up to 1e300 and masses down to 1e-300 neither overflow nor give NaN.

    Args:
        p0: :math:`0<p_0\le1`.
        P_plus, P_minus: :math:`P^\pm\in[0,1]` with :math:`p_0+P^++P^-\le1` (disjoint sets; a ``1e-8`` slack
            for the rounding of sums, the tolerance of a probability vector's sum).
        X_plus, X_minus: :math:`X^\pm\ge0` (from :func:`helpfulness_quantities` at the chosen :math:`\alpha\lambda`).

    Raises:
        ValueError: a parameter outside its domain, masses summing above 1, shapes that do not broadcast.
    """
    p = _check_p0(p0)
    pp = check_closed("P_plus", as_real("P_plus", P_plus), 0.0, _ONE)
    pm = check_closed("P_minus", as_real("P_minus", P_minus), 0.0, _ONE)
    xp = check_closed("X_plus", as_real("X_plus", X_plus), 0.0, np.inf)
    xm = check_closed("X_minus", as_real("X_minus", X_minus), 0.0, np.inf)
    broadcast_shape({"p0": p, "P_plus": pp, "P_minus": pm, "X_plus": xp, "X_minus": xm})
    total = p + pp + pm
    if (total > _ONE).any():
        raise ValueError(
            f"p0 + P_plus + P_minus must be <= 1 (masses of disjoint token sets), got {float(np.max(total))!r}"
        )
    with np.errstate(divide="ignore"):
        lp, lpp, lpm = np.log(p), np.log(pp), np.log(pm)
    with np.errstate(over="ignore"):  # log_rest = +inf where X+ is huge: the bound is 0, the limit
        log_rest = np.logaddexp(lpp + xp, lpm - xm) - lp  # log((P+ e^X+ + P- e^-X-)/p0)
        return finish(np.exp(-np.logaddexp(0.0, log_rest)))


def helpfulness_event(p0: object, one_minus_eps: object, P_plus: object, X_plus: object) -> float | np.ndarray:
    r"""docs/specification.md §12.2(b): the quadratic decrease on the event :math:`E_q` (probability ½ for symmetric
    :math:`D`).

    .. math::

        E_q=\Big\{\sum_{b\in T_k\setminus a^*}P(b\mid q)(z_b-z_{a^*})\ge0\Big\}:\qquad
        H_{P_\lambda}(q)\ \le\ \frac{p_0}{1-\epsilon+\tfrac12P^+X_+^2},\quad X^+=\alpha\sigma Y^+|\lambda| .

    Stated for :math:`\lambda\ge0`; for :math:`\lambda<0` the event and :math:`B^\pm` flip (use the quantities of
    :func:`helpfulness_quantities` at the signed :math:`\alpha\lambda`). Proof: :math:`e^y\ge1+y+\tfrac12y_+^2`, sum
    over :math:`T_k\setminus a^*`, the linear term is :math:`\ge0` on :math:`E_q`, Jensen on
    :math:`\sum_{B^+}P(b)\Delta_b^2\ge P^+X_+^2`, and :math:`P(T_k)\ge1-\epsilon`. Evaluated in log space.

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
    p = _check_p0(p0)
    m = check_closed("one_minus_eps", as_real("one_minus_eps", one_minus_eps), 0.0, 1.0)
    if (m == 0).any():
        raise ValueError("one_minus_eps must lie in the half-open interval (0, 1], got 0.0")
    pp = check_closed("P_plus", as_real("P_plus", P_plus), 0.0, _ONE)
    xp = check_closed("X_plus", as_real("X_plus", X_plus), 0.0, np.inf)
    broadcast_shape({"p0": p, "one_minus_eps": m, "P_plus": pp, "X_plus": xp})
    if (p + pp > _ONE).any():
        raise ValueError(f"p0 + P_plus must be <= 1 (disjoint token sets), got {float(np.max(p + pp))!r}")
    with np.errstate(divide="ignore"):
        log_quad = np.log(pp) + 2.0 * np.log(xp) - np.log(2.0)  # log(½ P+ X+²); -inf when P+ = 0 or X+ = 0
    with np.errstate(over="ignore"):
        out = np.exp(np.log(p) - np.logaddexp(np.log(m), log_quad))
    if not np.isfinite(out).all():
        raise ValueError(
            "one_minus_eps is too small: p0 / (one_minus_eps + P_plus * X_plus**2 / 2) exceeds the float64 range "
            f"(1.8e308); valid: one_minus_eps > p0 / 1.8e308, got one_minus_eps={_first(m)}, p0={_first(p)}"
        )
    return finish(out)


def helpfulness_expectation(p0: object, S2: object, alpha: object, sigma: object, lam: object) -> float | np.ndarray:
    r"""docs/specification.md §12.2(c): the second-order expansion of :math:`\mathbb E_z[H_{P_\lambda}(q)]`.

    With **all** tokens receiving i.i.d. noise of variance :math:`\sigma^2` (symmetric law, finite fourth moment for
    the :math:`O(\lambda^4)` remainder),

    .. math::

        \mathbb E_z\big[H_{P_\lambda}(q)\big]=p_0-p_0\,\alpha^2\sigma^2\lambda^2\Big[p_0(1-p_0)-S_2\Big]+O(\lambda^4),
        \qquad S_2=\sum_{b\ne a^*}P(b\mid q)^2 .

    This returns the polynomial (without the remainder): an approximation valid for small :math:`\alpha\sigma\lambda`,
    not a bound (it leaves :math:`[0,1]` for large :math:`\lambda`). The bracket :math:`p_0(1-p_0)-S_2` (the curvature
    term) is positive (E[H] decreases) when :math:`a^*` is the model's top answer and **negative** (E[H] rises) for
    confidently wrong models, e.g. :math:`p=(0.2,0.7,0.1)`: the regression towards :math:`1/n` of Corollary 2.

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
    p = _check_p0(p0)
    s2 = check_closed("S2", as_real("S2", S2), 0.0, 1.0)
    a = check_closed("alpha", as_real("alpha", alpha), 0.0, np.inf)
    s = check_closed("sigma", as_real("sigma", sigma), 0.0, np.inf)
    lm = as_real("lam", lam)
    broadcast_shape({"p0": p, "S2": s2, "alpha": a, "sigma": s, "lam": lm})
    if (s2 > (1.0 - p) ** 2 + 1e-12).any():
        raise ValueError(f"S2 must be <= (1 - p0)**2 (a sum of squares of the wrong masses), got {_first(s2)}")
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
    idx = broadcast_index("answer", _answer_index(answer, pa.shape[-1]), pa.shape[:-1])
    p0 = np.take_along_axis(pa, idx[..., None], axis=-1)[..., 0]
    if (p0 == 0).any():
        raise ValueError("p[answer] must be > 0 (p0 = P(a*|q) lies in the half-open interval (0, 1]), got 0.0")
    # p sums to 1 within 1e-8, so p[answer] may exceed 1 by that rounding: p0 <= 1 exactly
    p0 = np.minimum(p0, 1.0)
    is_a = np.arange(pa.shape[-1]) == idx[..., None]
    s2 = np.sum(np.where(is_a, 0.0, pa * pa), axis=-1)
    s2 = np.minimum(s2, (1.0 - p0) ** 2)  # S2 <= (1-p0)^2 exactly; float rounding of the two sums can exceed it
    return helpfulness_expectation(p0, s2, alpha, sigma, lam)


def _first(x: np.ndarray) -> float:
    return float(np.ravel(x)[0])


# ---------------------------------------------------------------------------------------------------------------
# Corollary 2
# ---------------------------------------------------------------------------------------------------------------
def helpfulness_limit(n: object) -> float:
    r"""Corollary 2: :math:`\limsup_{\lambda\to\infty}\mathbb E_q[H_{P_\lambda}(q)] \le 1/n`.

    With i.i.d. continuous noise on the :math:`n` possible answers, :math:`\lim_{\lambda\to\infty}H =
    \mathbf 1[a^*=\arg\max_s z_s]` (:func:`helpfulness_at_infinity`), so the limiting expectation is exactly
    :math:`1/n` (docs/specification.md §7).

    Args:
        n: number of possible answers per query, an integer :math:`n \ge 1`.
    """
    return 1 / check_integer("n", n, 1)  # int / int: exact rounding, no OverflowError for n beyond 1.8e308


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
    idx = broadcast_index("answer", _answer_index(answer, shape[-1]), shape[:-1])
    live = pa > 0
    m = np.max(np.where(live, za, -np.inf), axis=-1, keepdims=True)
    top = live & (za == m)
    pa_ans = np.take_along_axis(pa, idx[..., None], axis=-1)[..., 0]
    if (pa_ans == 0).any():
        raise ValueError("p[answer] must be > 0")
    at_top = np.take_along_axis(top, idx[..., None], axis=-1)[..., 0]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # only rows with a* at the top are kept
        return finish(np.where(at_top, pa_ans / np.sum(np.where(top, pa, 0.0), axis=-1), 0.0))


# ---------------------------------------------------------------------------------------------------------------
# Monte-Carlo studies (Assumption 3 noise)
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProbabilityStudy:
    """A Monte-Carlo test of a probability claim "the bound holds with probability >= ``claimed``".

    Attributes:
        holds: frequency of "the bound holds at every λ of the grid", with its standard error.
        claimed: the claimed probability (``1 - 2/k`` for Theorem 2, ``1 - Σ_i 2/k_i`` for Corollary 3).
        both_nonempty: frequency of the proof's event (every step has both ``B±`` non-empty).
        holds_given_both: frequency of "holds" on that event (the proof claims 1); ``None`` if the event never
            occurred.
    """

    holds: Estimate
    claimed: float
    both_nonempty: Estimate
    holds_given_both: Estimate | None

    @property
    def se(self) -> float:
        """The larger of the empirical SE and the SE a true claim would give, ``sqrt(c(1-c)/n)``."""
        c = min(max(self.claimed, 0.0), 1.0)
        return max(float(self.holds.se), float(np.sqrt(c * (1 - c) / self.holds.n)))

    @property
    def deficit(self) -> float:
        """``claimed - frequency - 4 SE``: ``> 0`` refutes the claim at four standard errors."""
        return self.claimed - float(self.holds.value) - 4.0 * self.se


def _grid(lam: object) -> np.ndarray:
    g = as_real("lam", lam)
    if g.ndim != 1 or g.size == 0:
        raise ValueError(f"lam must be a non-empty 1-d grid of steering coefficients, got shape {g.shape}")
    return g


def _step_check(
    p: np.ndarray, answer: int, mask: np.ndarray, z: np.ndarray, lam: np.ndarray, alpha: float, sigma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per draw and λ (each (n, G)): the exact ``log H`` and ``log`` of eq. (6) with that draw's ``γ``, ``β``; and
    "both ``B±`` non-empty" (n,). Compared in log space: exact down to the smallest masses (no subnormal H)."""
    n, G = z.shape[0], lam.size
    gam, bet = np.empty((n, G)), np.empty((n, G))
    both = np.ones(n, dtype=bool)
    for sgn in (1.0, -1.0):
        sel = (lam >= 0) if sgn > 0 else (lam < 0)
        if not sel.any():
            continue
        q = helpfulness_quantities(p, z, answer, mask, lam_norm=sgn, sigma=sigma)
        gam[:, sel], bet[:, sel] = q.gamma[:, None], q.beta[:, None]
        both &= q.both_nonempty
    zz = np.where(lam[None, :, None] < 0, -z[:, None, :], z[:, None, :])
    logH = log_steered_distribution(p, zz, alpha * np.abs(lam)[None, :])[..., answer]
    with np.errstate(over="ignore"):
        x = alpha * bet * sigma * lam[None, :]
    log_bound = _log_factor_6(np.asarray(p[answer]), gam, x)
    return logH, log_bound, both


def theorem_2_frequency(
    p: object,
    answer: int,
    top_k: object,
    law: Any,
    lam: object,
    rng: object,
    *,
    alpha: float = 1.0,
    sigma: float = 1.0,
    fixed_z: object = None,
    n_draws: int = 10_000,
    chunk: int = 2_000,
) -> ProbabilityStudy:
    r"""Monte-Carlo frequency, over Assumption-3 noise, of "eq. (6) holds at every :math:`\lambda` of the grid".

    Each draw: :math:`z_s\sim D` i.i.d. (sd ``sigma``) on :math:`T_k`, tail tokens fixed at ``fixed_z``; compute
    :math:`\gamma,\beta` from that realisation (for the sign of each :math:`\lambda`), the exact steered
    :math:`H` (:func:`bounds.steered.helpfulness`) and eq. (6) (:func:`helpfulness_upper`); the bound holds if
    :math:`H\le(6)\,(1+10^{-9})` at every grid point. Compare ``.holds`` with ``.claimed`` :math:`=1-2/k`.

    Args:
        p: unsteered distribution, shape ``(V,)``, :math:`0<p_0<1`.
        answer: index of :math:`a^*\in T_k`.
        top_k: integer :math:`k` or boolean mask of :math:`T_k`.
        law: frozen scipy.stats continuous law with finite variance (:func:`bounds._montecarlo.noise_law`).
        lam: 1-d grid of steering coefficients (finite; negative values flip the projections).
        rng: Generator or integer seed.
        alpha: :math:`\alpha>0`. sigma: :math:`\sigma>0`.
        fixed_z: projections of the tail tokens (shape ``(V,)``; entries in :math:`T_k` ignored).
        n_draws: number of noise draws ``>= 2``. chunk: draws per vectorised block.
    """
    pa = check_probability_vector("p", p)
    if pa.ndim != 1:
        raise ValueError(f"p must be one query's distribution, shape (V,), got {pa.shape}")
    mask = _top_mask(top_k, pa)
    grid = _grid(lam)
    a = float(check_open("alpha", as_real("alpha", alpha), 0.0, np.inf))
    s = float(check_open("sigma", as_real("sigma", sigma), 0.0, np.inf))
    n_draws = check_integer("n_draws", n_draws, 2)
    gen = as_generator(rng)
    z = sample_projections(mask, law, n_draws, gen, sigma=s, fixed_z=fixed_z)
    holds, both = np.empty(n_draws, dtype=bool), np.empty(n_draws, dtype=bool)
    for i in range(0, n_draws, chunk):
        logH, log_bound, bth = _step_check(pa, answer, mask, z[i : i + chunk], grid, a, s)
        holds[i : i + chunk] = np.all(logH <= log_bound + RTOL, axis=-1)
        both[i : i + chunk] = bth
    return _study(holds, both, 1.0 - 2.0 / int(mask.sum()))


def _study(holds: np.ndarray, both: np.ndarray, claimed: float) -> ProbabilityStudy:
    return ProbabilityStudy(
        holds=frequency(holds),
        claimed=claimed,
        both_nonempty=frequency(both),
        holds_given_both=frequency(holds[both]) if both.any() else None,
    )


def corollary_3_frequency(
    steps: Sequence[Mapping[str, Any]],
    law: Any,
    lam: object,
    rng: object,
    *,
    alpha: float = 1.0,
    sigma: float = 1.0,
    n_draws: int = 10_000,
    chunk: int = 2_000,
) -> ProbabilityStudy:
    r"""Monte-Carlo frequency of "eq. (79) holds at every :math:`\lambda` of the grid" for an :math:`\ell`-step answer.

    Each step :math:`i` is a dict with ``p`` (distribution of step :math:`i` given the correct prefix), ``answer``
    (index of the correct token), ``top_k`` (int or mask) and optionally ``fixed_z`` (tail projections). Steps get
    **independent** Assumption-3 noise; :math:`H=\prod_iH_i` (chain rule, exact) is compared with
    :func:`helpfulness_upper_product` with per-realisation :math:`\gamma_i,\beta_i`. ``.claimed`` is the union
    bound :math:`1-\sum_i2/k_i` (:math:`=1-2\ell/k` for equal :math:`k`).
    """
    if not steps:
        raise ValueError("steps must hold at least one decoding step")
    grid = _grid(lam)
    a = float(check_open("alpha", as_real("alpha", alpha), 0.0, np.inf))
    s = float(check_open("sigma", as_real("sigma", sigma), 0.0, np.inf))
    n_draws = check_integer("n_draws", n_draws, 2)
    gen = as_generator(rng)
    prepared = []
    for st in steps:
        pa = check_probability_vector("p", st["p"])
        mask = _top_mask(st["top_k"], pa)
        z = sample_projections(mask, law, n_draws, gen, sigma=s, fixed_z=st.get("fixed_z"))
        prepared.append((pa, int(st["answer"]), mask, z))
    holds, both = np.empty(n_draws, dtype=bool), np.empty(n_draws, dtype=bool)
    for i in range(0, n_draws, chunk):
        m = min(chunk, n_draws - i)
        logH, log_bound = np.zeros((m, grid.size)), np.zeros((m, grid.size))
        bth = np.ones(m, dtype=bool)
        for pa, ans, mask, z in prepared:
            lh, lb, bj = _step_check(pa, ans, mask, z[i : i + m], grid, a, s)
            logH, log_bound, bth = logH + lh, log_bound + lb, bth & bj  # chain rule H = prod_i H_i; eq. (79)
        holds[i : i + m] = np.all(logH <= log_bound + RTOL, axis=-1)
        both[i : i + m] = bth
    claimed = 1.0 - sum(2.0 / int(st[2].sum()) for st in prepared)
    return _study(holds, both, claimed)


def expected_helpfulness(
    p: object,
    answer: int,
    law: Any,
    lam: object,
    rng: object,
    *,
    alpha: float = 1.0,
    sigma: float = 1.0,
    noised: object = None,
    fixed_z: object = None,
    n_draws: int = 10_000,
    antithetic: bool = False,
    chunk: int = 2_000,
) -> Estimate:
    r"""Monte-Carlo :math:`\mathbb E_z[H_{P_\lambda}(q)]` at each :math:`\lambda` of a grid, with standard errors.

    Args:
        p: distribution, shape ``(V,)``. answer: index of :math:`a^*`.
        law: frozen scipy.stats continuous law with finite variance.
        lam: 1-d grid of :math:`\lambda`. rng: Generator or integer seed.
        alpha, sigma: :math:`\alpha>0`, :math:`\sigma>0`.
        noised: boolean mask of the noised tokens; ``None`` = every token (docs/specification.md §12.2c's setting).
        fixed_z: projections of the non-noised tokens.
        n_draws: draws (even when ``antithetic``).
        antithetic: pair each draw with its negation on the noised tokens and average the pairs before taking the
            SE (valid for **symmetric** laws only; cancels the odd orders in :math:`\lambda` draw by draw).

    Returns:
        :class:`Estimate` with ``value`` and ``se`` arrays over the grid (``n`` = independent units: pairs when
        antithetic).
    """
    pa = check_probability_vector("p", p)
    if pa.ndim != 1:
        raise ValueError(f"p must be one query's distribution, shape (V,), got {pa.shape}")
    grid = _grid(lam)
    a = float(check_open("alpha", as_real("alpha", alpha), 0.0, np.inf))
    s = float(check_open("sigma", as_real("sigma", sigma), 0.0, np.inf))
    mask = np.ones(pa.shape, dtype=bool) if noised is None else np.asarray(noised, dtype=bool)
    z = sample_projections(mask, law, n_draws, as_generator(rng), sigma=s, fixed_z=fixed_z, antithetic=antithetic)
    H = np.empty((z.shape[0], grid.size))
    for i in range(0, z.shape[0], chunk):
        zc = z[i : i + chunk]
        zz = np.where(grid[None, :, None] < 0, -zc[:, None, :], zc[:, None, :])
        H[i : i + chunk] = helpfulness(pa, zz, a * np.abs(grid)[None, :], answer)
    if antithetic:
        half = z.shape[0] // 2
        H = 0.5 * (H[:half] + H[half:])
    return mean_estimate(H, axis=0)


def event_probability(
    p: object,
    answer: int,
    top_k: object,
    law: Any,
    rng: object,
    *,
    sign: int = 1,
    sigma: float = 1.0,
    fixed_z: object = None,
    n_draws: int = 10_000,
) -> Estimate:
    r"""Monte-Carlo :math:`\Pr[E_q]`, :math:`E_q=\{\sum_{b\in T_k\setminus a^*}P(b)(z_b-z_{a^*})\ge0\}` for
    steering with the sign ``sign`` (``-1`` flips the event). Exactly ½ for a symmetric continuous law."""
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 or -1, got {sign!r}")
    pa = check_probability_vector("p", p)
    mask = _top_mask(top_k, pa)
    z = sample_projections(mask, law, n_draws, as_generator(rng), sigma=sigma, fixed_z=fixed_z)
    q = helpfulness_quantities(pa, z, answer, mask, lam_norm=float(sign), sigma=sigma)
    return frequency(q.on_event)


# ---------------------------------------------------------------------------------------------------------------
# Sympy forms
# ---------------------------------------------------------------------------------------------------------------
def _H() -> Any:
    import sympy as sp

    return sp.Function("H_lambda")(sp.Symbol("q"))


def _theorem_2_expr() -> Any:
    return S.p0 / (S.p0 + S.gamma * (1 - S.p0) * (1 + (S.alpha * S.beta * S.sigma * S.lam) ** 2 / 2))


def _step_symbols(i: int) -> tuple[Any, Any, Any, Any]:
    import sympy as sp

    return (
        sp.Symbol(f"p_0^({i})", positive=True),
        sp.Symbol(f"gamma_{i}", positive=True),
        sp.Symbol(f"beta_{i}", positive=True),
        sp.Symbol(f"sigma_{i}", positive=True),
    )


def corollary_3_expr(ell: int) -> Any:
    r"""Eq. (79) for :math:`\ell` steps as a sympy expression in :math:`\lambda` with per-step symbols
    ``p_0^(i)``, ``gamma_i``, ``beta_i``, ``sigma_i`` (:math:`i=1..\ell`)."""
    import sympy as sp

    ell = check_integer("ell", ell, 1)
    factors = []
    for i in range(1, ell + 1):
        p, g, b, s = _step_symbols(i)
        factors.append(p / (p + g * (1 - p) * (1 + (S.alpha * b * s * S.lam) ** 2 / 2)))
    return sp.Mul(*factors)


def _jensen_expr() -> Any:
    import sympy as sp

    return S.p0 / (
        S.p0
        + S.P_plus * sp.exp(S.alpha * S.sigma * S.Y_plus * S.lam)
        + S.P_minus * sp.exp(-S.alpha * S.sigma * S.Y_minus * S.lam)
    )


def _event_expr() -> Any:
    return S.p0 / (1 - S.eps + S.P_plus * (S.alpha * S.sigma * S.Y_plus * S.lam) ** 2 / 2)


def _expectation_expr() -> Any:
    return S.p0 - S.p0 * S.alpha**2 * S.sigma**2 * S.lam**2 * (S.p0 * (1 - S.p0) - S.S2)


def _E_H() -> Any:
    import sympy as sp

    return sp.Function("E_z_H_lambda")(sp.Symbol("q"))


def _limsup_E_H() -> Any:
    import sympy as sp

    return sp.Symbol("limsup_{lambda->oo} E_q[H_lambda(q)]")


# ---------------------------------------------------------------------------------------------------------------
# Violations of the failing claims (evaluated on the pinned counterexamples)
# ---------------------------------------------------------------------------------------------------------------
def _law_of(mc: Mapping[str, Any]) -> Any:
    return noise_law(mc["law"], **dict(mc.get("law_params", {})))


def theorem_2_mc_violation(mc: Mapping[str, Any]) -> float:
    """``claimed - frequency - 4 SE`` of eq. (6) on a pinned Monte-Carlo configuration (``> 0``: refuted)."""
    study = theorem_2_frequency(
        np.asarray(mc["p"]),
        int(mc["answer"]),
        np.asarray(mc["top"], dtype=bool),
        _law_of(mc),
        np.asarray(mc["lam"]),
        int(mc["seed"]),
        alpha=float(mc["alpha"]),
        sigma=float(mc["sigma"]),
        fixed_z=np.asarray(mc["fixed_z"]),
        n_draws=int(mc["n_draws"]),
    )
    return study.deficit


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


def _theorem_2_violation(ce: Mapping[str, Any]) -> float:
    """The probability claim's violation (Monte-Carlo deficit at 4 SE); the realisation is checked separately."""
    return theorem_2_mc_violation(ce["monte_carlo"])


def corollary_3_mc_violation(mc: Mapping[str, Any]) -> float:
    """``claimed - frequency - 4 SE`` of eq. (79) on a pinned multi-step configuration (``> 0``: refuted)."""
    steps = [
        {"p": np.asarray(st["p"]), "answer": int(st["answer"]), "top_k": np.asarray(st["top"], dtype=bool),
         "fixed_z": np.asarray(st["fixed_z"])}
        for st in mc["steps"]
    ]  # fmt: skip
    study = corollary_3_frequency(
        steps,
        _law_of(mc),
        np.asarray(mc["lam"]),
        int(mc["seed"]),
        alpha=float(mc["alpha"]),
        sigma=float(mc["sigma"]),
        n_draws=int(mc["n_draws"]),
    )
    return study.deficit


def _corollary_3_violation(ce: Mapping[str, Any]) -> float:
    return corollary_3_mc_violation(ce["monte_carlo"])


# ---------------------------------------------------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------------------------------------------------
_T = "tests/test_helpfulness.py::"

#: the simplest counterexamples found by the searches of tests/test_helpfulness.py (shrunk, then pinned)
THEOREM_2_COUNTEREXAMPLE: dict[str, Any] = {
    "shows": (
        "monte_carlo: k = 45 top tokens, p0 = 0.5, geometric wrong answers (ratio 1/2: the largest wrong answer "
        "balances all the others, so gamma is close to 1 whenever it sits alone on one side), normal noise, "
        "alpha = sigma = 1, lambda in [0, 2]: eq. (6) holds at every lambda for 0.9175 +- 0.0062 of 2000 draws "
        "(seed 0), below the claimed 1 - 2/k = 0.956 by more than 4 SE. realisation: three equally likely tokens, "
        "a* = 2, z = (2, -1, 0) steered with lambda < 0: both B+ and B- are non-empty (gamma = 1) and (6) fails "
        "for small |lambda| (H first rises above p0, X+ = 1 < X- = 2), refuting the proof's step 5."
    ),
    "monte_carlo": {
        "p": [
            0.5,
            0.2500000000000142,
            0.1250000000000071,
            0.06250000000000355,
            0.031250000000001776,
            0.015625000000000888,
            0.007812500000000444,
            0.003906250000000222,
            0.001953125000000111,
            0.0009765625000000555,
            0.0004882812500000278,
            0.0002441406250000139,
            0.00012207031250000694,
            6.103515625000347e-05,
            3.0517578125001735e-05,
            1.5258789062500867e-05,
            7.629394531250434e-06,
            3.814697265625217e-06,
            1.9073486328126084e-06,
            9.536743164063042e-07,
            4.768371582031521e-07,
            2.3841857910157605e-07,
            1.1920928955078803e-07,
            5.960464477539401e-08,
            2.9802322387697007e-08,
            1.4901161193848503e-08,
            7.450580596924252e-09,
            3.725290298462126e-09,
            1.862645149231063e-09,
            9.313225746155315e-10,
            4.656612873077657e-10,
            2.3283064365388286e-10,
            1.1641532182694143e-10,
            5.820766091347072e-11,
            2.910383045673536e-11,
            1.455191522836768e-11,
            7.27595761418384e-12,
            3.63797880709192e-12,
            1.81898940354596e-12,
            9.0949470177298e-13,
            4.5474735088649e-13,
            2.27373675443245e-13,
            1.136868377216225e-13,
            5.684341886081125e-14,
            2.842170943040562e-14,
        ],
        "answer": 0,
        "top": [True] * 45,
        "fixed_z": [0.0] * 45,
        "shape": "geometric",
        "law": "normal",
        "law_params": {},
        "sigma": 1.0,
        "alpha": 1.0,
        "lam": [
            0.0,
            0.125,
            0.25,
            0.375,
            0.5,
            0.625,
            0.75,
            0.875,
            1.0,
            1.125,
            1.25,
            1.375,
            1.5,
            1.625,
            1.75,
            1.875,
            2.0,
        ],
        "n_draws": 2000,
        "seed": 0,
    },
    "realisation": {
        "p": [1 / 3, 1 / 3, 1 / 3],
        "answer": 2,
        "top": [True, True, True],
        "z": [2.0, -1.0, 0.0],
        "lam_norm": [-j / 16 for j in range(17)],
    },
}
COROLLARY_3_COUNTEREXAMPLE: dict[str, Any] = {
    "shows": (
        "ell = 2 steps, k = 35, Laplace noise, alpha = sigma = 1, lambda in [0, 1]: step 1 has a near-certain "
        "correct token (p0 = 0.9975), step 2 has p0 = 0.5 and two balanced dominant wrong answers (0.2455 each). "
        "The product bound (79) holds at every lambda in a fraction of the 1000 draws (seed 0) more than 4 SE below "
        "the claimed 1 - 2 ell/k = 0.886: step 2 inherits Theorem 2's failure, and step 1's factor is ~1 on both "
        "sides, so it leaves no slack to absorb it."
    ),
    "monte_carlo": {
        "steps": [
            {
                "p": [
                    0.0012363115783173286,
                    0.9975273768433653,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                    3.746398722173723e-05,
                ],
                "answer": 1,
                "top": [True] * 35,
                "fixed_z": [0.0] * 35,
                "shape": "dominant",
            },
            {
                "p": [
                    0.0002810345306576806,
                    0.5,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.0002810345306576806,
                    0.2455034475094771,
                    0.2455034475094771,
                ],
                "answer": 1,
                "top": [True] * 35,
                "fixed_z": [0.0] * 35,
                "shape": "dominant",
            },
        ],
        "law": "laplace",
        "law_params": {},
        "sigma": 1.0,
        "alpha": 1.0,
        "lam": [j / 16 for j in range(17)],
        "n_draws": 1000,
        "seed": 0,
    },
}

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
    paper=r"""
"Let [$P$] be a model prompted with query [$q$] and injected with representations of coefficient [$r_e$]. If the
resulting change to the directionality of the last hidden layer representation due to the injections in all layers,
distributes randomly with variance [$\sigma^2$] w.r.t. the representations of correct and incorrect answers making up
[$1-\epsilon$] of the probability mass, the helpfulness of the model on the query is bounded with probability
[$1-2/k$] by:" eq. (6), "Where [$p_0$] is the probability of answering correctly without steering, [$k$] is the number
of tokens making [$1-\epsilon$] of the probability mass and [$\gamma,\beta$] that depend on the query." The prose
describes a parabola near $r_e=0$ and a "decay to zero at a rate proportional to [$1/r_e^2$]".
""",
    reconstruction=r"""
The functional form is the authors' own (`VERBATIM-CODE`): their fit $1/(1+a+a\frac{b^2}{2}r_e^2)$ is eq. (6), $H\le
p_0/(p_0+\gamma(1-p_0)(1+\frac12(\alpha\beta\sigma r_e)^2))$, with $a=\gamma(1-p_0)/p_0$ and $b=\alpha\beta\sigma$
(sympy-checked). The parameters are medium confidence (`RECONSTRUCTED-M`), read off the proof of App. C (eqs. 28–38):
$\gamma=2\min(P^+,P^-)/(1-p_0)$ and $\beta=\min(Y^+,Y^-)$, both functions of the same noise realisation over which the
probability $1-2/k$ is taken. The proof is valid up to its Jensen step (≈32); the next step substitutes
$X^\pm\ge\alpha\beta\sigma r_e$, which goes the wrong way for the decreasing term $P^-e^{-X^-}$ (specification §6.2).
""",
    decision=r"""
The project ships eq. (6) as stated (`helpfulness_upper`) with status `fails`, because researchers fit it; a tradeoff
analysis built on it carries a warning. Three statements that hold replace it: the Jensen bound (`theorem-2-jensen`),
the quadratic decrease on a probability-½ event (`theorem-2-event`) and the second-order expected helpfulness
(`theorem-2-expectation`). A $\sigma$ inferred from a fitted $b=\alpha\beta\sigma$ must state its $\beta$:
$\beta=\min(Y^+,Y^-)$ is about 0.47–0.58 for Gaussian noise, not the 0.8 (the mean of one half-normal variable) of the
paper's A.3.
""",
    hypotheses=(
        "assumption-3 (i.i.d. continuous noise of finite variance on the top-k tokens, a* in T_k)",
        "tail tokens outside T_k unconstrained",
        "assumption-1",
    ),
    lhs=_H,
    relation="<=",
    build=_theorem_2_expr,
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
    counterexample=THEOREM_2_COUNTEREXAMPLE,
    violation=_theorem_2_violation,
    notes=(
        "Step 4 of the proof substitutes X+- >= alpha*beta*sigma*lambda, which goes the wrong way for the "
        "P- exp(-X-) term (docs/specification.md §6.2); step 5's 'the bound holds surely when both B+- are "
        "non-empty' is false.",
        "Caution (docs/specification.md §6.1): beta = min(Y+, Y-) is about 0.47-0.58 for Gaussian noise, not the 0.8 "
        "of a single half-normal mean; sigma is the within-query spread of z.",
        "Replaced by theorem-2-jensen, theorem-2-event and theorem-2-expectation.",
    ),
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
    paper=r"""
"Under the conditions of theorem 2, the expected value of the helpfulness on a dataset of queries, is asymptotically
bounded from above by [$1/n$] as [$r_e\to\infty$]. Where [$n$] is the number of possible answers for each query." The
proof (App. E, eqs. 39–45) averages three cases, Theorem 2's bound with probability $1-2/k$ and two sigmoids with
probability $1/k$ each.
""",
    reconstruction=r"""
The statement is high confidence (`RECONSTRUCTED-H`): $\limsup_{r_e\to\infty}\mathbb E_q[H_{P_{r_e}}(q)]\le1/n$. The
proof sketch is medium confidence, and its finite-$r_e$ average inherits Theorem 2's invalid term. The limit does not
need it: with i.i.d. continuous noise on the $n$ answers, $H\to\mathbf 1[a^*=\arg\max_sz_s]$, whose expectation is
exactly $1/n$ by exchangeability. The authors' restricted-vocabulary fit $0.5\,T+0.25$ is exactly $(1-2/k)T+1/k$ with
$k=4$ (`VERBATIM-CODE`).
""",
    decision=r"""
The project keeps the limit statement, which holds, and settles it by Monte Carlo at large $\alpha\sigma\lambda$
against $1/n$ within standard errors. `helpfulness_limit(n)` returns $1/n$ and `helpfulness_at_infinity` the exact
limit of one realisation. The three-case average is available only as a descriptive fit, `RestrictedModel(k)`, not as
a bound.
""",
    hypotheses=("assumption-3 with k = n (all possible answers noised)", "tail tokens unconstrained"),
    lhs=_limsup_E_H,
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
        "registry shows ell = 2, bounds.helpfulness.corollary_3_expr(ell) builds any ell). FAILS: it inherits "
        "Theorem 2's error; on configurations found by search the Monte-Carlo frequency is below 1 - 2 ell/k by more "
        "than 4 standard errors."
    ),
    paper=r"""
"Let [$P$] be a language model and [$q$] be a query with answer containing at most [$\ell$] tokens. Denote by
[$p_0^{(i)}$] the probability assigned to each correct token … such that the probability of the full sequence is
[$p_0=\prod_ip_0^{(i)}$]. Then under the conditions of theorem 2 holding at each decoding step, we have with
probability of at least" $1-2\ell/k$ ($(1-2/k)^\ell$ if the steps are independent) the product bound (79), expanded at
small $r_e$ as (80): "if [$p_0^{(i)}$] is close to [1], then [$\gamma_i(1-p_0^{(i)})\to0$], making the bound tighter".
""",
    reconstruction=r"""
Medium confidence (`RECONSTRUCTED-M`): eq. (79) is the product over the steps of Theorem 2's bound,
$\prod_ip_0^{(i)}/(p_0^{(i)}+\gamma_i(1-p_0^{(i)})(1+\frac12(\alpha\beta_i\sigma_ir_e)^2))$. The chain rule
$H=\prod_iH_i$ behind it is exact.
""",
    decision=r"""
The project ships (79) as stated (`helpfulness_upper_product`; the registry shows $\ell=2$, and
`bounds.helpfulness.corollary_3_expr(ell)` builds any $\ell$) with status `fails`: each factor inherits Theorem 2's
error, and a search finds two-step answers whose Monte-Carlo frequency of "(79) holds" is below the claimed
$1-2\ell/k$ by more than 4 standard errors. Apply the Theorem 2 replacements at each step instead.
""",
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
    counterexample=COROLLARY_3_COUNTEREXAMPLE,
    violation=_corollary_3_violation,
    notes=(
        "Each factor inherits Theorem 2's error (docs/specification.md §6.3); use the §12.2 replacements per step "
        "instead.",
    ),
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
    paper=r"""
The paper has no such statement: this is step (≈32) of the paper's own proof of Theorem 2 (App. C), the last step at
which that proof is valid.
""",
    reconstruction=r"""
`CORRECTED`: the proof's steps (≈28–32) kept, without the invalid substitution that follows them. $H$ is exact, the
tail outside $T_k$ is dropped (the denominator only shrinks), and Jensen's inequality on the wrong answers above and
below $a^*$ gives $H\le p_0/(p_0+P^+e^{X^+}+P^-e^{-X^-})$. No simulation found a violation.
""",
    decision=r"""
The project ships it as the deterministic replacement for Theorem 2 (`helpfulness_jensen`, which takes the realised
$P^\pm$ and $X^\pm$; `helpfulness_quantities` computes them from one realisation). It needs no distributional
assumption and holds for every realisation and either sign of $\lambda$, with $X^\pm=\alpha\sigma|\lambda|Y^\pm$ and
$B^\pm$ defined for the sign of $\lambda$.
""",
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
    paper=r"""
The paper has no such statement: it replaces Theorem 2's "with probability [$1-2/k$]" by an event of probability ½ on
which the quadratic decrease the paper describes does hold.
""",
    reconstruction=r"""
`CORRECTED`: derived for this project. Let $E_q=\{\sum_{b\in T_k\setminus a^*}P(b\mid q)(z_b-z_{a^*})\ge0\}$. Since
$e^y\ge1+y+\frac12y_+^2$, on $E_q$ the linear term is non-negative, and Jensen on $\sum_{B^+}P(b)\Delta_b^2$ gives
$H\le p_0/(1-\epsilon+\frac12P^+(\alpha\sigma Y^+r_e)^2)$. $E_q$ has probability exactly ½ for a symmetric continuous
noise law. No violation in 9,920 noise draws × 40 norms.
""",
    decision=r"""
The project states it for $\lambda\ge0$ with the event flipping sign for $\lambda<0$ (`helpfulness_event`). It keeps
the paper's quadratic decrease and $1/\lambda^2$ decay, but on an event of probability ½, not $1-2/k$.
""",
    hypotheses=("the realisation lies in E_q (for the sign of lambda)", "1 - eps <= top-k mass", "T_k contains a*"),
    lhs=_H,
    relation="<=",
    build=_event_expr,
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
    paper=r"""
The paper has no such statement: this is the reading of the paper's "helpfulness decreases quadratically" that holds,
in expectation over the noise.
""",
    reconstruction=r"""
`CORRECTED`: derived for this project. If every token (not only the top $k$) receives i.i.d. noise of variance
$\sigma^2$, $\mathbb E_z[H_{P_{r_e}}(q)]=p_0-p_0\alpha^2\sigma^2r_e^2[p_0(1-p_0)-\sum_{b\ne a^*}P(b\mid
q)^2]+O(r_e^4)$. The odd orders vanish by symmetry; the expansion is exact to this order (sympy) and agrees with Monte
Carlo to about $10^{-4}$ at small $\alpha\sigma r_e$.
""",
    decision=r"""
The project ships the second-order formula (`helpfulness_expectation`, the law
`bounds.tradeoff.helpfulness_expectation` and the fit `ExpectationModel`) as an approximation for small
$\alpha\sigma\lambda$, not a bound, and its strategy puts noise on every token, as the hypothesis requires. The
bracket is positive when $a^*$ is the model's top answer, so the expected helpfulness falls, and negative for a
confidently wrong model, whose expected helpfulness rises (e.g. $p=(0.2,0.7,0.1)$ with $a^*$ the first answer): the
regression towards $1/n$ of Corollary 2.
""",
    hypotheses=(
        "all tokens receive i.i.d. noise of variance sigma^2 (not only the top-k)",
        "symmetric law (odd orders vanish) with finite fourth moment (the O(lambda^4) remainder)",
    ),
    lhs=_E_H,
    relation="=",
    build=_expectation_expr,
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
)

STATEMENTS: list[Statement] = [
    THEOREM_2,
    COROLLARY_2,
    COROLLARY_3,
    THEOREM_2_JENSEN,
    THEOREM_2_EVENT,
    THEOREM_2_EXPECTATION,
]
