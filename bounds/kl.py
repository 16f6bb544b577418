r"""The KL price of steering: :math:`\mathrm{KL}(P_\lambda\Vert P)` of the exact steered distribution (issue 17).

With :math:`P_\lambda(s)\propto P(s)\,e^{t z_s}`, :math:`t=\|\delta\|=\alpha|\lambda|` (docs/specification.md §1;
for :math:`\lambda<0` read :math:`-z`), and :math:`A(t)=\log\sum_s P(s)e^{t z_s}` the cumulant generating function
of :math:`z` under :math:`P`,

.. math::

    \mathrm{KL}(P_\lambda\Vert P) = tA'(t)-A(t) = \int_0^t s\,\operatorname{Var}_{P_s}(z)\,ds
    = \tfrac12 t^2\kappa_2+\tfrac13 t^3\kappa_3+\tfrac18 t^4\kappa_4+O(t^5),

:math:`\kappa_n` the cumulants of :math:`z` under :math:`P` (:math:`\kappa_2=\operatorname{Var}_P(z)`). Two laws
follow (statements ``proposition-kl-second-order`` and ``proposition-kl-upper``):

* the second-order law :math:`\tfrac12t^2\operatorname{Var}_P(z)` (:func:`kl_second_order`), with
  :math:`|\mathrm{KL}-\tfrac12t^2\operatorname{Var}_P(z)|\le t^3R_z^3/(18\sqrt3)` for every :math:`t`;
* the rigorous bound :math:`\mathrm{KL}\le t^2R_z^2/8` for every :math:`t` (:func:`kl_upper`), from Popoviciu's
  :math:`\operatorname{Var}_{P_s}(z)\le R_z^2/4`, :math:`R_z` the range of :math:`z` over the tokens with
  :math:`P(s)>0`.

:func:`lambda_for_kl` inverts either for the strength that spends a KL budget :math:`\tau`; only the rigorous one
is safe (``corollary-kl-budget-safe`` holds, ``corollary-kl-budget-second-order`` fails).
"""

from __future__ import annotations

import numpy as np

from ._check import args, check_probability_vector, check_vocabulary_axis, divide_by_product, finish, product
from .errors import ParameterError
from .steered import log_weights_and_tilt

__all__ = ["kl_divergence", "kl_second_order", "kl_upper", "lambda_for_kl", "projection_spread"]

#: below this ``|u|`` (``u = log P_λ(s)/P(s)``) the term ``φ(u) = u e^u - e^u + 1`` is summed as its Taylor series
_SERIES_BELOW = 0.5
#: ``(n - 1)/n!`` for ``n = 2 .. 19``: ``φ(u) = Σ_{n≥2} (n - 1) u^n / n!`` (the next term is < 1e-22 of φ at |u| = 0.5)
_PHI_COEFFS = np.array([(n - 1) / float(np.prod(np.arange(1, n + 1, dtype=float))) for n in range(2, 20)])


def _phi_series(u: np.ndarray) -> np.ndarray:
    """``φ(u) = u e^u - e^u + 1`` for small ``|u|``, by Horner on its Taylor series (no cancellation)."""
    acc = np.zeros_like(u)
    for c in _PHI_COEFFS[::-1]:
        acc = acc * u + c
    return acc * u * u


def kl_divergence(p: object, z: object, norm: object) -> float | np.ndarray:
    r"""The exact :math:`\mathrm{KL}(P_\lambda\Vert P)=\sum_s P_\lambda(s)\log\frac{P_\lambda(s)}{P(s)}` on the last
    axis, with :math:`P_\lambda(s)\propto P(s)e^{\|\delta\| z_s}` (:func:`bounds.steered.steered_distribution`).

    Summed as :math:`\sum_{s:P(s)>0}P(s)\,\varphi(u_s)` with :math:`u_s=\log\frac{P_\lambda(s)}{P(s)}
    =\|\delta\|(z_s-c)-\log\sum_tP(t)e^{\|\delta\|(z_t-c)}` and :math:`\varphi(u)=ue^u-e^u+1\ge0` (the two sums
    agree because :math:`\sum_sP(s)e^{u_s}=1`): every term is non-negative and of order :math:`u^2`, so a small norm
    does not cancel two first-order quantities. The centre :math:`c` is :math:`\mathbb E_P[z]` while steering has
    moved little (the likely tokens keep their digits however rare and far another token lies) and the largest
    supported :math:`z` beyond (the tokens the mass moves to keep theirs); ``log p`` is never subtracted. The relative
    error is a few ulps times :math:`16+\|\delta\|R_z` (the conditioning of :math:`e^{\|\delta\|z}` itself;
    ``tests/bounds/test_kl.py`` checks it against 360-digit arithmetic), down to norms of 1e-300 and masses of 1e-300;
    large norms give the limit :math:`-\log P(\arg\max z)` without overflow. Exactly 0 at ``norm = 0`` (and wherever
    the supported tokens share one projection), never negative. ``p`` (summing to 1 within 1e-8) is taken as the
    distribution it represents: the KL is that against ``p / sum(p)``.

    Args:
        p: unsteered next-token distribution, shape ``(..., V)``; entries ``>= 0`` summing to 1 (within 1e-8).
        z: projections ``z_s``, broadcastable to ``p``; finite reals.
        norm: ``‖δ‖ >= 0`` (``α|λ|`` under Assumption 1; pass ``-z`` for ``λ < 0``), broadcastable to
            ``p.shape[:-1]``.

    Returns:
        KL in nats, ``>= 0``, of the broadcast batch shape (a Python float for one distribution and one norm).

    Raises:
        ValueError: as :func:`bounds.steered.steered_distribution` (``p`` not a distribution, NaN/inf, negative
            ``norm``, shapes that do not broadcast, ``norm * |z_s - z_t|`` beyond float64).

    >>> round(kl_divergence([0.5, 0.5], [1.0, -1.0], 1.0), 6)  # tanh(1) - log(cosh(1))
    0.327813
    """
    pa, logp, tilt_mean = log_weights_and_tilt(p, z, norm, centre="support mean")
    tilt_max = log_weights_and_tilt(p, z, norm, centre="support max")[2]
    total = np.sum(pa, axis=-1, keepdims=True)
    w, logw = pa / total, logp - np.log(total)  # P as the distribution p represents (sums within 1e-8 of 1)
    u, q = _log_ratio(w, logw, tilt_mean, tilt_max)
    u, q, w = np.broadcast_arrays(u, q, w)
    small = (w > 0) & (np.abs(u) < _SERIES_BELOW)
    large = (w > 0) & ~small
    terms = np.zeros(u.shape)
    terms[small] = w[small] * _phi_series(u[small])
    terms[large] = (q[large] * u[large] - q[large]) + w[large]
    # no supported token tilted against another (one projection on the support, or ‖δ‖ R_z below float64's reach):
    # P_λ = P exactly, and the KL is 0, not the square of the rounding of sum(p / sum(p)) - 1
    moved = np.any((w > 0) & (tilt_max != 0), axis=-1)
    return finish(np.where(moved, np.sum(terms, axis=-1), 0.0))


def _log_ratio(
    w: np.ndarray, logw: np.ndarray, tilt_mean: np.ndarray, tilt_max: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(u, q)``: ``u_s = log P_λ(s)/P(s)`` and ``q_s = P_λ(s)`` wherever ``P(s) > 0``, by one of two centrings of
    the tilt (both with tilt 0 on massless tokens).

    While steering has moved little (``|y| < 1/2``, ``y = E_P[e^{tilt} - 1]`` about the mean): ``u = tilt_mean -
    log1p(y)``, the tilt about ``E_P[z]``, and ``q = P e^u``. Its rounding scales with ``‖δ‖ |z_s - E_P z|``, the
    likely tokens' own spread, so the KL keeps its relative digits down to the smallest norms (``norm = 0`` gives
    exactly 0) however rare and far a token lies. Otherwise: ``u = tilt_max - logsumexp(log P + tilt_max)``, the tilt
    below the largest supported ``z``, and ``q = exp((log P + tilt_max) - logsumexp)``, exact for the tokens the mass
    moves to."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        y = np.sum(w * np.expm1(tilt_mean), axis=-1, keepdims=True)
        a = logw + tilt_max
        m = np.max(a, axis=-1, keepdims=True)  # finite: p has positive mass somewhere
        lse = m + np.log(np.sum(np.exp(a - m), axis=-1, keepdims=True))
        little = np.isfinite(y) & (np.abs(y) < 0.5)
        u_mean = tilt_mean - np.log1p(np.where(little, y, 0.0))
        # P e^u below e^700 (no overflow of e^u), else in log space (p < 1e-300 pulled up by e^700 or more)
        q_mean = np.where(u_mean < 700.0, w * np.exp(np.minimum(u_mean, 700.0)), np.exp(logw + u_mean))
        return np.where(little, u_mean, tilt_max - lse), np.where(little, q_mean, np.exp(a - lse))


def projection_spread(p: object, z: object) -> tuple[float | np.ndarray, float | np.ndarray]:
    r"""``(Var_P(z), R_z)``: the variance of the projections under :math:`P` and their range over the tokens with
    :math:`P(s)>0`, on the last axis: the inputs of :func:`kl_second_order`, :func:`kl_upper` and
    :func:`lambda_for_kl`.

    The variance uses ``p / sum(p)`` (``p`` sums to 1 within 1e-8) and is computed about the likeliest token's
    projection, scaled, by the corrected two-pass sum: ``|z|`` up to 1e308 does not overflow, and a spread far below
    ``|z|`` keeps its digits.

    Args:
        p: unsteered distribution, shape ``(..., V)``.
        z: projections, broadcastable to ``p`` (its last axis over the same ``V`` tokens, or 1).

    Returns:
        ``(var_z, z_range)``, each of the broadcast batch shape (Python floats for one distribution).

    Raises:
        ValueError: ``p`` not a distribution, ``z`` not finite or not broadcastable, or a variance or range beyond
            the float64 range (names ``z``).
    """
    pa = check_probability_vector("p", p)
    (za,) = args("projection_spread", z=z, broadcast=False)
    if za.ndim == 0:
        raise ParameterError(f"z must have a last axis over the vocabulary like p {pa.shape}, got a scalar")
    check_vocabulary_axis("z", za, pa.shape[-1])
    try:
        pa, za = np.broadcast_arrays(pa, za)
    except ValueError as exc:
        raise ParameterError(f"p {pa.shape} and z {za.shape} do not broadcast together") from exc
    support = pa > 0
    w = pa / np.sum(pa, axis=-1, keepdims=True)
    # about the projection of the likeliest token, scaled to [-1, 1]: near-equal projections subtract exactly, so a
    # tiny spread far from 0 keeps its digits (z = (50, 50 - 1e-10) has Var 2.5e-21 to the last digit)
    centre = np.take_along_axis(za, np.argmax(pa, axis=-1)[..., None], axis=-1)
    with np.errstate(over="ignore", invalid="ignore"):  # |z_s - z_t| beyond float64: inf, refused below
        diff = np.where(support, za - centre, 0.0)  # a massless token's z may lie anywhere: it counts for 0
        scale = np.max(np.abs(diff), axis=-1, keepdims=True)
        d = diff / np.where(scale > 0, scale, 1.0)
        e = d - np.sum(w * d, axis=-1, keepdims=True)
        var_scaled = np.maximum(np.sum(w * e * e, axis=-1) - np.sum(w * e, axis=-1) ** 2, 0.0)  # corrected two-pass
        var = product(scale[..., 0], scale[..., 0], var_scaled)
        spread = np.max(np.where(support, diff, -np.inf), axis=-1) - np.min(np.where(support, diff, np.inf), -1)
    if not (np.isfinite(var).all() and np.isfinite(spread).all()):
        raise ParameterError("the variance or range of z exceeds the float64 range; valid: |z_s - z_t| < 1.3e154")
    return finish(var), finish(spread)


def _beyond_float64(out: np.ndarray, what: str, names: str) -> None:
    if not np.isfinite(out).all():
        raise ParameterError(f"{what} exceeds the float64 range (1.8e308); reduce {names}")


def kl_second_order(norm: object, var_z: object) -> float | np.ndarray:
    r"""The second-order law :math:`\tfrac12\|\delta\|^2\operatorname{Var}_P(z)` of :math:`\mathrm{KL}(P_\lambda\Vert
    P)` (statement ``proposition-kl-second-order``).

    An approximation, not a bound: the exact KL differs from it by at most :math:`\|\delta\|^3R_z^3/(18\sqrt3)` and
    by :math:`\tfrac13\|\delta\|^3\kappa_3+O(\|\delta\|^4)` as :math:`\|\delta\|\to0`, so it **underestimates** the KL
    when :math:`z` is skewed towards its rare large values (:math:`\kappa_3>0`; ``proposition-kl-second-order-accuracy``
    fails).

    Args:
        norm: :math:`\|\delta\|\ge0` (:math:`\alpha|\lambda|` under Assumption 1).
        var_z: :math:`\operatorname{Var}_P(z)\ge0` (:func:`projection_spread`).

    Returns:
        values ``>= 0`` (a Python float for scalar inputs).

    Raises:
        ValueError: a parameter outside its domain, shapes that do not broadcast, or a result beyond float64.

    >>> kl_second_order(2.0, 0.25)
    0.5
    """
    n, v = args("kl_second_order", norm=norm, var_z=var_z)
    out = product(n, v, n, 0.5)  # no spurious overflow of norm**2 when var_z is small (or 0)
    _beyond_float64(out, "norm**2 * var_z / 2", "norm or var_z")
    return finish(out)


def kl_upper(norm: object, z_range: object) -> float | np.ndarray:
    r"""The rigorous bound :math:`\mathrm{KL}(P_\lambda\Vert P)\le\|\delta\|^2R_z^2/8`, valid for every
    :math:`\|\delta\|` (statement ``proposition-kl-upper``).

    Since :math:`\mathrm{KL}=\int_0^{\|\delta\|}s\operatorname{Var}_{P_s}(z)\,ds` and every :math:`P_s` lives on
    the support of :math:`P`, Popoviciu's :math:`\operatorname{Var}_{P_s}(z)\le R_z^2/4` bounds the integrand. The
    constant is sharp as :math:`\|\delta\|\to0` (two equally likely tokens at the ends of the range).

    Args:
        norm: :math:`\|\delta\|\ge0`.
        z_range: :math:`R_z\ge0`, at least :math:`\max_s z_s-\min_s z_s` over the tokens with :math:`P(s)>0`
            (:func:`projection_spread`).

    Returns:
        values ``>= 0``.

    Raises:
        ValueError: a parameter outside its domain, shapes that do not broadcast, or a result beyond float64.

    >>> kl_upper(1.0, 2.0)
    0.5
    """
    n, r = args("kl_upper", norm=norm, z_range=z_range)
    with np.errstate(over="ignore"):  # norm * z_range beyond float64: so is the bound, refused below
        x = n * r
    out = product(x, x, 0.125)
    _beyond_float64(out, "(norm * z_range)**2 / 8", "norm or z_range")
    return finish(out)


def lambda_for_kl(tau: object, alpha: object, *, var_z: object = None, z_range: object = None) -> float | np.ndarray:
    r"""The steering strength :math:`\lambda\ge0` that spends a KL budget :math:`\tau` under one of the two laws,
    with :math:`\|\delta\|=\alpha\lambda` (Assumption 1; with ``alpha = 1`` it returns the norm).

    * ``z_range`` (:math:`R_z`): :math:`\lambda_\tau=\sqrt{8\tau}/(\alpha R_z)`, where :func:`kl_upper` equals
      :math:`\tau`. **Safe**: the exact KL there is at most :math:`\tau` for every distribution
      (``corollary-kl-budget-safe`` holds), and the same for every smaller :math:`\lambda` (the KL grows with
      :math:`\|\delta\|`).
    * ``var_z``: :math:`\lambda_\tau^{(2)}=\sqrt{2\tau/\operatorname{Var}_P(z)}/\alpha`, where
      :func:`kl_second_order` equals :math:`\tau`. **Not safe**: when :math:`z` is skewed towards rare large values
      the exact KL there exceeds :math:`\tau` (``corollary-kl-budget-second-order`` fails; as
      :math:`\tau\to0` the KL is :math:`\tau+\frac{2\sqrt2}{3}\gamma_1\tau^{3/2}+O(\tau^2)`,
      :math:`\gamma_1=\kappa_3/\kappa_2^{3/2}` the skewness of :math:`z` under :math:`P`).

    A zero ``var_z`` or ``z_range`` gives ``inf``: steering then does not move :math:`P` at all, so every
    :math:`\lambda` spends no KL.

    Args:
        tau: the budget :math:`\tau>0`, in nats.
        alpha: :math:`\alpha>0` (Assumption 1).
        var_z: :math:`\operatorname{Var}_P(z)\ge0`; give exactly one of ``var_z`` and ``z_range``.
        z_range: :math:`R_z\ge0`.

    Returns:
        :math:`\lambda\ge0` (``inf`` exactly where ``var_z`` or ``z_range`` is 0).

    Raises:
        ValueError: not exactly one of ``var_z`` and ``z_range``, a parameter outside its domain, shapes that do not
            broadcast, or a finite :math:`\lambda` beyond the float64 range (:math:`\alpha` or the spread too small).

    >>> lambda_for_kl(0.125, 1.0, z_range=2.0)
    0.5
    """
    if (var_z is None) == (z_range is None):
        raise ParameterError("give exactly one of var_z (the second-order law) and z_range (the rigorous bound)")
    if var_z is not None:  # λ = sqrt(2 τ) / (sqrt(var) α)
        t, a, v = args("lambda_for_kl", tau=tau, alpha=alpha, var_z=var_z)
        spread, c, name = np.sqrt(v), 2.0, "sqrt(var_z)"
    else:  # λ = sqrt(8 τ) / (R α)
        t, a, spread = args("lambda_for_kl", tau=tau, alpha=alpha, z_range=z_range)
        c, name = 8.0, "z_range"
    with np.errstate(over="ignore"):
        num = np.sqrt(c * t)
    num = np.where(np.isfinite(num), num, np.sqrt(c) * np.sqrt(t))  # c τ beyond float64
    zero = spread == 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = divide_by_product(num, np.where(zero, 1.0, spread), a)  # log space where R α under/overflows
    out = np.where(zero, np.inf, out)
    if not np.isfinite(out[~np.broadcast_to(zero, np.shape(out))]).all():
        raise ParameterError(
            f"lambda exceeds the float64 range (1.8e308): alpha * {name} is too small for tau; valid: alpha * {name} "
            f">= sqrt({c:g} * tau) / 1.8e308, got alpha={float(np.min(a))}"
        )
    return finish(out)
