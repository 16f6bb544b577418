"""Direction estimators: one unit steering direction per layer from paired hidden states of contrast pairs.

Four additive recipes, each a function ``(pos_hidden, neg_hidden, **options) -> DirectionFit`` registered in
:data:`METHODS`: ``pca`` (RepE's first principal component of the differences), ``mean_diff`` (CAA, the difference of
means), ``probe`` (ITI, the normal of an L2-regularised logistic-regression probe, with its held-out accuracy) and
``actadd`` (ActAdd, one pair's difference). :func:`validation.vectors.compute_vectors` reads the hidden states and
calls them per layer; the docs: ``docs/api/validation-vectors.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from bounds.errors import ParameterError

from . import _batch

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "METHODS",
    "PROBE_FOLDS",
    "PROBE_L2",
    "DirectionFit",
    "actadd_direction",
    "check_method",
    "mean_difference_direction",
    "pca_direction",
    "probe_direction",
]


class DirectionFit(NamedTuple):
    """A unit direction fitted from paired hidden states.

    Attributes:
        direction: ``(d,)`` float32 CPU tensor of unit norm, oriented so that
            :math:`\\hat u\\cdot\\frac1n\\sum_i (h^+_i - h^-_i) > 0` (``actadd`` keeps its pair's own sign instead).
        explained_variance: For ``pca``, the explained-variance ratio :math:`s_1^2/\\sum_k s_k^2` of the decomposed
            matrix; for the other methods, the share of the differences' second moment along the direction,
            :math:`\\sum_i (d_i\\cdot\\hat u)^2/\\sum_i \\lVert d_i\\rVert^2` over all pairs.
        accuracy: Reading accuracy, the fraction of pairs with :math:`(h^+_i - h^-_i)\\cdot\\hat u > 0` (RepE's
            criterion for choosing layers), over all pairs.
        heldout_accuracy: For ``probe``, the probe's classification accuracy on held-out pairs (k-fold
            cross-validation by pair, see :func:`probe_direction`); ``None`` for the other methods.
    """

    direction: torch.Tensor
    explained_variance: float
    accuracy: float
    heldout_accuracy: float | None = None


def _members(pos: Any, neg: Any, min_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Both members' hidden states as float64 ``(n, d)`` arrays, checked to align and to hold ``min_pairs`` pairs."""
    a = _as_float64(pos, "pos_hidden")
    b = _as_float64(neg, "neg_hidden")
    if a.shape != b.shape:
        raise ValueError(
            f"neg_hidden: shape {b.shape} differs from pos_hidden's {a.shape}; pairs must align row by row"
        )
    if a.shape[0] < min_pairs:
        raise ValueError(f"pos_hidden: at least {min_pairs} pairs are needed, got {a.shape[0]}")
    return a, b


def _paired(pos: Any, neg: Any, min_pairs: int) -> np.ndarray:
    a, b = _members(pos, neg, min_pairs)
    return a - b


def _as_float64(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().to("cpu").double().numpy()
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] == 0:
        raise ValueError(f"{name}: expected an (n_pairs, d) array, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: contains non-finite values")
    return a


def _finish(u: np.ndarray, diffs: np.ndarray, explained: float, *, orient: bool = True) -> DirectionFit:
    import torch

    u = u / np.linalg.norm(u)
    proj = diffs @ u
    if orient and proj.mean() < 0:
        u, proj = -u, -proj
    accuracy = float(np.mean(proj > 0))
    return DirectionFit(torch.from_numpy(u.astype(np.float32)), float(explained), accuracy)


def pca_direction(pos_hidden: Any, neg_hidden: Any, *, seed: int = 0, orientation: str = "random") -> DirectionFit:
    """First principal component of paired differences, RepE's ``rep-reading`` recipe (docs/specification.md §14.2).

    Args:
        pos_hidden: ``(n, d)`` hidden states of the positive members (tensor or array).
        neg_hidden: ``(n, d)`` hidden states of the negative members, row-aligned with ``pos_hidden``.
        seed: Seed of the random orientation (ignored for ``"symmetric"``).
        orientation: ``"random"`` (RepE, default) or ``"symmetric"``.

    Returns:
        A :class:`DirectionFit`.

    Raises:
        ValueError: For mismatched or non-2-D inputs, fewer than 2 pairs, non-finite values, an unknown
            ``orientation``, or differences with no variance (all zero after centering).
    """
    if orientation not in ("random", "symmetric"):
        raise ValueError(f"orientation: expected 'random' or 'symmetric', got {orientation!r}")
    diffs = _paired(pos_hidden, neg_hidden, 2)
    if orientation == "random":
        signs = np.random.default_rng(seed).choice(np.array([-1.0, 1.0]), size=diffs.shape[0])
        rows = diffs * signs[:, None]
    else:
        rows = np.concatenate([diffs, -diffs], axis=0)
    x = rows - rows.mean(axis=0, keepdims=True)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    total = float(np.sum(s**2))
    if total == 0.0 or not math.isfinite(total):
        raise ValueError("pos_hidden/neg_hidden: the paired differences have no variance; no principal direction")
    return _finish(vt[0], diffs, s[0] ** 2 / total)


def mean_difference_direction(pos_hidden: Any, neg_hidden: Any) -> DirectionFit:
    """Normalised mean difference :math:`\\hat u = \\bar d/\\lVert\\bar d\\rVert`, :math:`\\bar d = \\frac1n\\sum_i
    (h^+_i - h^-_i)` (computed in float64).

    Args:
        pos_hidden: ``(n, d)`` hidden states of the positive members.
        neg_hidden: ``(n, d)`` hidden states of the negative members, row-aligned.

    Returns:
        A :class:`DirectionFit`.

    Raises:
        ValueError: For mismatched or non-2-D inputs, no pair, non-finite values, or a zero mean difference.
    """
    diffs = _paired(pos_hidden, neg_hidden, 1)
    mean = diffs.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm == 0.0:
        raise ValueError("pos_hidden/neg_hidden: the mean difference is zero; no direction")
    u = mean / norm
    return _finish(u, diffs, _share_along(diffs, u))


def _share_along(diffs: np.ndarray, u: np.ndarray) -> float:
    """The share of the differences' second moment along the unit vector ``u``: :math:`\\sum_i (d_i\\cdot u)^2 /
    \\sum_i\\lVert d_i\\rVert^2` (0 when every difference is zero)."""
    total = float(np.sum(diffs**2))
    return float(np.sum((diffs @ u) ** 2) / total) if total > 0.0 else 0.0


PROBE_L2 = 1e-4
"""Default L2 penalty of :func:`probe_direction`, on features scaled to unit RMS row norm (see there)."""

PROBE_FOLDS = 5
"""Default number of cross-validation folds (by pair) of :func:`probe_direction`'s held-out accuracy."""


def _probe_rows(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The probe's features and labels: the ``2n`` rows (positive members first, label 1; then the negative members,
    label 0), centred at their grand mean and divided by one scalar, the RMS norm of the centred rows."""
    x = np.concatenate([pos, neg], axis=0)
    x = x - x.mean(axis=0, keepdims=True)
    rms = math.sqrt(float(np.mean(np.sum(x**2, axis=1))))
    if rms == 0.0:
        raise ValueError("pos_hidden/neg_hidden: every hidden state is the same; no probe direction")
    return x / rms, np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])


def _fit_logistic(z: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """``(w, b)`` minimising the mean logistic loss of labels ``y`` (0/1) given ``z`` plus ``l2/2 * |w|^2`` (the
    intercept ``b`` is not penalised): L-BFGS on the exact loss with its analytic gradient, float64, from zero."""
    from scipy.optimize import minimize
    from scipy.special import expit, log_expit

    sign, n, d = 2.0 * y - 1.0, z.shape[0], z.shape[1]

    def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = p[:d], p[d]
        margin = sign * (z @ w + b)
        r = -sign * expit(-margin) / n  # d(mean loss)/d(score) per row
        value = -float(np.mean(log_expit(margin))) + 0.5 * l2 * float(w @ w)
        return value, np.concatenate([z.T @ r + l2 * w, [r.sum()]])

    res = minimize(
        loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"maxiter": 10_000, "gtol": 1e-9, "ftol": 1e-15}
    )
    gradient = float(np.max(np.abs(res.jac)))
    if not res.success and gradient > 1e-6:  # a line-search stop at the optimum (gradient ~ 0) is a success
        raise ValueError(f"probe: L-BFGS did not converge ({res.message}; largest gradient entry {gradient:.3g})")
    return res.x[:d], float(res.x[d])


def _pair_folds(n: int, folds: int, seed: int) -> list[np.ndarray]:
    """The pair indices of each fold: a permutation of ``0..n-1`` by ``numpy.random.default_rng(seed)`` cut into
    ``folds`` parts of sizes differing by at most one (``numpy.array_split``)."""
    return np.array_split(np.random.default_rng(seed).permutation(n), folds)


def _heldout_accuracy(z: np.ndarray, y: np.ndarray, l2: float, folds: list[np.ndarray]) -> float:
    """Accuracy of the probe on held-out pairs: for each fold, fit on the other pairs' rows and classify both members
    of the fold's pairs by the sign of :math:`w\\cdot z + b` (a score of exactly 0 counts as wrong); the correct
    rows over all ``2n`` rows (each row is held out once)."""
    n = len(z) // 2
    correct = 0
    for held in folds:
        test = np.concatenate([held, held + n])  # both members of each held-out pair
        train = np.setdiff1d(np.arange(2 * n), test)
        w, b = _fit_logistic(z[train], y[train], l2)
        score = z[test] @ w + b
        correct += int(np.sum(np.where(y[test] == 1.0, score > 0.0, score < 0.0)))
    return correct / (2 * n)


def probe_direction(
    pos_hidden: Any, neg_hidden: Any, *, l2: float = PROBE_L2, folds: int = PROBE_FOLDS, seed: int = 0
) -> DirectionFit:
    """The normal of an L2-regularised logistic-regression probe separating the two members of the pairs: the
    linear-probe direction of ITI (Li et al., 2023), with its held-out accuracy.

    The ``2n`` hidden states are the rows (positive members label 1, negative members label 0). They are centred at
    their grand mean and divided by one scalar, the RMS norm of the centred rows, so that ``l2`` means the same on
    every model and layer; the probe minimises the mean logistic loss over the rows plus
    :math:`\\frac{l_2}{2}\\lVert w\\rVert^2` (intercept not penalised) by L-BFGS in float64. A scalar rescaling does
    not turn the normal, so the direction in the hidden-state space is :math:`w/\\lVert w\\rVert`, then oriented like
    the other methods (positive mean projection of the differences).

    The default ``l2 = 1e-4`` (:data:`PROBE_L2`): with ``d`` = 576–1024 and about 128 rows the two classes are
    linearly separable, so without a penalty :math:`\\lVert w\\rVert` grows without bound and the minimiser does not
    exist; as ``l2 -> 0`` the normal tends to the hard-margin (max-margin) separator, and as ``l2`` grows it tends to
    the mean difference of the classes (the gradient at ``w = 0``), i.e. ``mean_diff``. A small penalty keeps the
    max-margin-like probe direction, the one that differs from ``mean_diff``, while the optimum stays finite and
    unique.

    Held-out accuracy: ``folds``-fold cross-validation **by pair** (both members of a pair in the same fold, so the
    probe is never tested on a text whose partner it was trained on); folds from ``default_rng(seed)``. The features
    are scaled once with all rows (a label-free step).

    Args:
        pos_hidden: ``(n, d)`` hidden states of the positive members.
        neg_hidden: ``(n, d)`` hidden states of the negative members, row-aligned.
        l2: The L2 penalty, a finite number ``> 0``.
        folds: Cross-validation folds, an integer in ``[2, n]``.
        seed: Seed of the fold assignment, an integer ``>= 0``.

    Returns:
        A :class:`DirectionFit` with ``heldout_accuracy`` set.

    Raises:
        ParameterError: (a ``ValueError``) For a bad ``l2``, ``folds`` or ``seed`` (named).
        ValueError: For mismatched or non-2-D inputs, fewer than 2 pairs, non-finite values, identical hidden states,
            or a zero mean difference (then ``w = 0`` is the probe's optimum: no direction).
    """
    l2 = _batch.check_number("l2", l2, 0, integer=False)
    folds = _batch.check_number("folds", folds, 2)
    seed = _batch.check_number("seed", seed, 0)
    a, b = _members(pos_hidden, neg_hidden, 2)
    n = a.shape[0]
    if folds > n:
        raise ParameterError(f"folds: expected an integer in [2, {n}] (at most one fold per pair), got {folds}")
    z, y = _probe_rows(a, b)
    # the loss is convex and its gradient at w = 0, b = 0 is proportional to the classes' mean difference: when that
    # vanishes, w = 0 is the optimum and there is no normal (z has unit RMS row norm, so the tolerance is relative)
    if float(np.linalg.norm(z[:n].mean(axis=0) - z[n:].mean(axis=0))) <= 1e-12:
        raise ValueError("pos_hidden/neg_hidden: the mean difference is zero, so the probe's normal is zero")
    w, _ = _fit_logistic(z, y, l2)
    diffs = a - b
    fit = _finish(w, diffs, _share_along(diffs, w / np.linalg.norm(w)))
    return fit._replace(heldout_accuracy=_heldout_accuracy(z, y, l2, _pair_folds(n, folds, seed)))


def actadd_direction(pos_hidden: Any, neg_hidden: Any, *, pair: int = 0) -> DirectionFit:
    """The normalised difference of one contrast pair, :math:`(h^+_k - h^-_k)/\\lVert h^+_k - h^-_k\\rVert`: ActAdd
    (Turner et al., 2023), which steers with the activation difference of a single prompt pair.

    The sign is the pair's own (not re-oriented); ``explained_variance`` and ``accuracy`` are computed over all the
    pairs given, as for ``mean_diff``, so they say how representative the one pair is.

    Args:
        pos_hidden: ``(n, d)`` hidden states of the positive members.
        neg_hidden: ``(n, d)`` hidden states of the negative members, row-aligned.
        pair: Which pair, an integer in ``[0, n - 1]``.

    Returns:
        A :class:`DirectionFit`.

    Raises:
        ParameterError: (a ``ValueError``) For a ``pair`` out of range.
        ValueError: For mismatched or non-2-D inputs, no pair, non-finite values, or a pair whose members read the same.
    """
    diffs = _paired(pos_hidden, neg_hidden, 1)
    n = diffs.shape[0]
    if isinstance(pair, bool) or not isinstance(pair, int | np.integer) or not 0 <= pair < n:
        raise ParameterError(f"pair: expected an integer in [0, {n - 1}], got {pair!r}")
    u = diffs[pair]
    norm = float(np.linalg.norm(u))
    if norm == 0.0:
        raise ValueError(f"pos_hidden/neg_hidden: pair {pair}'s members have the same hidden state; no direction")
    return _finish(u, diffs, _share_along(diffs, u / norm), orient=False)


#: The direction estimators by name: ``METHODS[method](pos_hidden, neg_hidden, **options) -> DirectionFit``:
#: ``pca`` (RepE), ``mean_diff`` (CAA), ``probe`` (ITI's logistic probe), ``actadd`` (ActAdd's single pair).
METHODS: dict[str, Callable[..., DirectionFit]] = {
    "pca": pca_direction,
    "mean_diff": mean_difference_direction,
    "probe": probe_direction,
    "actadd": actadd_direction,
}

_MIN_PAIRS = {"pca": 2, "mean_diff": 1, "actadd": 1}  # probe: max(2, folds)


def check_method(method: object, n_pairs: int | None = None, *, folds: int = PROBE_FOLDS, name: str = "pairs") -> str:
    """``method`` checked to be a key of :data:`METHODS` and, when ``n_pairs`` is given, to have enough contrast pairs
    (``pca``: 2; ``mean_diff``, ``actadd``: 1; ``probe``: ``max(2, folds)``, one pair per fold); returns it.

    Args:
        method: The method name.
        n_pairs: The number of contrast pairs (``None``: not checked).
        folds: The probe's cross-validation folds.
        name: The name of the setting that gives the pairs, for the error message.

    Raises:
        ParameterError: (a ``ValueError``) naming ``method`` and every method, or ``name`` and the minimum.
    """
    if not isinstance(method, str) or method not in METHODS:
        raise ParameterError(f"method: expected one of {list(METHODS)}, got {method!r}")
    if n_pairs is not None:
        least = max(2, folds) if method == "probe" else _MIN_PAIRS.get(method, 1)
        if n_pairs < least:
            raise ParameterError(f"{name}: method {method!r} needs at least {least} pairs, got {n_pairs}")
    return method
