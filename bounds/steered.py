r"""The exact steered next-token distribution :math:`P_\lambda(s\mid q)\propto P(s\mid q)\,e^{\|\delta\| z_s}`
(docs/specification.md §1): the ground truth every bound is checked against. A negative coefficient steers towards
the other side: pass ``-z`` with ``norm = α|λ|`` (:func:`signed_tilt`). Computed in log space: probabilities down to
``1e-300`` and norms of ``1e6`` neither underflow to NaN nor overflow.
"""

from __future__ import annotations

import numpy as np

from ._check import (
    args,
    broadcast_index,
    broadcast_shape,
    check_index,
    check_probability_vector,
    check_vocabulary_axis,
    finish,
    product,
)

__all__ = [
    "behavior_expectation",
    "helpfulness",
    "log_steered_distribution",
    "signed_tilt",
    "steered_distribution",
]


def _inputs(p: object, z: object, norm: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pa = check_probability_vector("p", p)
    za, na = args("steered_distribution", z=z, norm=norm, broadcast=False)
    if za.ndim == 0:
        raise ValueError(f"z must have a last axis over the vocabulary like p {pa.shape}, got a scalar")
    broadcast_shape({"p": pa, "z": za, "norm[..., None]": na[..., None]})
    check_vocabulary_axis("z", za, pa.shape[-1])
    return pa, za, na


def log_steered_distribution(p: object, z: object, norm: object) -> np.ndarray:
    r"""``log P_λ(s|q)`` on the last axis: ``log p_s + ‖δ‖ z_s - logsumexp_t(log p_t + ‖δ‖ z_t)``.

    Args:
        p: unsteered next-token distribution, shape ``(..., V)``; entries ``>= 0`` summing to 1 (within 1e-8).
        z: projections ``z_s``, broadcastable to ``p``; finite reals.
        norm: ``‖δ‖ >= 0``, broadcastable to ``p.shape[:-1]``.

    Returns:
        array of the broadcast shape; ``-inf`` exactly where ``p_s = 0``.
    """
    _, logp, tilt = log_weights_and_tilt(p, z, norm)
    a = logp + tilt  # logs taken before broadcasting: a batch of norms costs one log per token, not per norm
    shifted = a - np.max(a, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def log_weights_and_tilt(
    p: object, z: object, norm: object, *, centre: str = "max"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The validated pieces of :math:`\log P_\lambda`: ``(p, log p, tilt = ‖δ‖ (z - c))``; ``p`` and ``log p`` of
    the shape of ``p``, ``tilt`` of the broadcast shape of ``norm[..., None]``, ``z`` (and ``p`` for ``centre !=
    "max"``).

    ``log P_λ(s) = log p_s + tilt_s - logsumexp_t(log p_t + tilt_t)`` for any centre ``c`` (only differences of
    projections matter). ``centre``:

    * ``"max"``: ``c = max_s z_s`` over every token (:func:`log_steered_distribution`; ``tilt <= 0``);
    * ``"support max"``: ``c`` the largest ``z`` of the tokens with ``p > 0``;
    * ``"support mean"``: ``c = E_P[z]`` over the tokens with ``p > 0`` (``p / sum(p)``): the tilt of the likely tokens
      is then small when the norm is, and keeps its digits.

    With a support centre the massless tokens get tilt 0 (they carry no mass, so they may lie anywhere, and only the
    supported tokens must keep ``norm * |z_s - z_t|`` within float64). :func:`bounds.kl.kl_divergence` uses the pieces
    as they are (``log P_λ - log P = tilt - logsumexp``, without cancelling ``log p``).

    Raises:
        ValueError: as :func:`steered_distribution`, and where ``norm * z`` overflows float64.
    """
    pa, za, na = _inputs(p, z, norm)
    with np.errstate(divide="ignore"):
        logp = np.log(pa)
    # Only differences of projections matter (docs/specification.md §1): centring z before multiplying by the norm keeps
    # the exponents small, so rounding does not scale with |‖δ‖ z| (e.g. z = (24, 24), ‖δ‖ = 683 stays exact).
    supported = None if centre == "max" else pa > 0
    if centre == "max":
        c = np.max(za, axis=-1, keepdims=True)
    elif centre == "support max":
        c = np.max(np.where(supported, za, -np.inf), axis=-1, keepdims=True)
    elif centre == "support mean":  # halved: the weighted sum of z near ±1.8e308 does not overflow
        weights = pa / np.sum(pa, axis=-1, keepdims=True)
        c = 2.0 * np.sum(weights * np.where(supported, 0.5 * za, 0.0), axis=-1, keepdims=True)
    else:
        raise ValueError(f"centre must be 'max', 'support max' or 'support mean', got {centre!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        zc = za - c
        tilt = _masked(na[..., None] * zc, supported)
    if not np.isfinite(tilt).all():
        # z_s - z_t itself may overflow (|z| near 1e308) while norm * (z_s - z_t) does not (norm = 0, or norm < 1):
        # halve before subtracting (exact for normal floats), 0 * inf counts as 0.
        with np.errstate(over="ignore"):
            tilt = _masked(2.0 * product(na[..., None], 0.5 * za - 0.5 * c), supported)
        if not np.isfinite(tilt).all():
            raise ValueError("norm * z overflows float64; reduce norm (valid: norm * |z_s - z_t| < 1.7e308)")
    return pa, logp, tilt


def _masked(tilt: np.ndarray, supported: np.ndarray | None) -> np.ndarray:
    """``tilt`` with 0 on the massless tokens (``supported`` False), or as it is (``supported`` None)."""
    return tilt if supported is None else np.where(supported, tilt, 0.0)


def steered_distribution(p: object, z: object, norm: object) -> np.ndarray:
    r"""The exact steered distribution :math:`P_\lambda(s|q)\propto P(s|q)\,e^{\|\delta\| z_s}` (docs/specification.md
    §1).

    Args:
        p: unsteered next-token distribution, shape ``(..., V)``.
        z: projections of the answer representations on the steering direction, broadcastable to ``p``.
        norm: ``‖δ‖ >= 0`` (``α|λ|`` under Assumption 1), broadcastable to ``p.shape[:-1]``.

    Returns:
        the steered distribution, same shape as ``p`` and ``z`` broadcast.

    Raises:
        ValueError: ``p`` not a distribution, NaN/inf anywhere, negative ``norm``, shapes that do not broadcast.

    >>> steered_distribution([0.5, 0.5], [1.0, 0.0], 0.0)
    array([0.5, 0.5])
    """
    return np.exp(log_steered_distribution(p, z, norm))


def signed_tilt(z: object, lam_norm: object) -> tuple[np.ndarray, np.ndarray]:
    """Map a signed ``α λ`` to ``(z', ‖δ‖)`` with ``z' = sign(αλ) z`` and ``‖δ‖ = |αλ|`` (docs/specification.md §0, sign
    of λ)."""
    za, t = args("signed_tilt", z=z, lam_norm=lam_norm, broadcast=False)
    sign = np.where(t < 0, -1.0, 1.0)
    return sign[..., None] * za, np.abs(t)


def behavior_expectation(p: object, z: object, norm: object, scores: object) -> float | np.ndarray:
    r"""Definition 1 under steering: :math:`B_{P_\lambda}(q)=\sum_s P_\lambda(s\mid q)\,B(s)`.

    Args:
        p, z, norm: as in :func:`steered_distribution`.
        scores: the score ``B(s)`` of every token, in ``[-1, 1]``, broadcastable to ``p``.
    """
    (sc,) = args("behavior_expectation", scores=scores)
    logq = log_steered_distribution(p, z, norm)
    broadcast_shape({"P_lambda (from p, z, norm)": logq, "scores": sc})
    check_vocabulary_axis("scores", sc, logq.shape[-1])
    return finish(np.sum(np.exp(logq) * sc, axis=-1))


def helpfulness(p: object, z: object, norm: object, answer: object) -> float | np.ndarray:
    r"""Eq. (4) under steering: :math:`H_{P_\lambda}(q)=P_\lambda(a^*\mid q)`.

    Args:
        p, z, norm: as in :func:`steered_distribution`.
        answer: index of the correct token ``a*`` on the last axis (an int, or an int array over the batch).
    """
    logq = log_steered_distribution(p, z, norm)
    idx = broadcast_index("answer", check_index("answer", answer, logq.shape[-1]), logq.shape[:-1])
    return finish(np.exp(np.take_along_axis(logq, idx[..., None], axis=-1)[..., 0]))
