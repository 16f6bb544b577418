"""Steering vectors from contrast pairs: reading hidden states, the direction estimators (:data:`METHODS`: RepE's PCA,
CAA's mean difference, an ITI-style logistic probe, ActAdd's single pair), save/load.

The pair builders (:func:`harmfulness_pairs`, :func:`bias_pairs`, :func:`response_pairs`) take their templates as
arguments; the paper's templates live in :mod:`validation.behaviors`. Estimators, token position and file format:
``docs/api/validation-vectors.md``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from bounds.errors import MissingFileError, ParameterError

from . import _batch
from .hooks import LAYER_CONVENTION, _StopForward, record, resolve_layers
from .layout import as_module, decoder_layers

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

__all__ = [
    "FORMAT",
    "METHODS",
    "PROBE_FOLDS",
    "PROBE_L2",
    "TOKEN_POSITION",
    "ContrastPair",
    "DirectionFit",
    "SteeringVectors",
    "actadd_direction",
    "as_pairs",
    "bias_pairs",
    "check_method",
    "compute_vectors",
    "dataset_hash",
    "harmfulness_pairs",
    "mean_difference_direction",
    "pca_direction",
    "probe_direction",
    "read_hidden",
    "response_pairs",
]

TOKEN_POSITION = "last_real_token"
"""Where vectors are read: the last token whose attention-mask entry is 1 (RepE's ``rep_token=-1``, padding-aware)."""

FORMAT = "steering-bounds/steering-vectors"
_FORMAT_VERSION = 1

Tokens = str | tuple[int, ...]


@dataclass(frozen=True)
class ContrastPair:
    """Two inputs that differ in one behaviour or property; the vector points from ``negative`` to ``positive``.

    Attributes:
        positive: Text (or token ids) showing the behaviour the vector points towards.
        negative: Text (or token ids) showing the opposite behaviour.
        source: Dataset name or user file path.
        category: A grouping label (bias type, domain), or ``None``.
        context: Optional shared prefix (e.g. a question both members answer), or ``None``.
        id: Stable identifier inside the source, or ``None``.
    """

    positive: Tokens
    negative: Tokens
    source: str = ""
    category: str | None = None
    context: str | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        for name in ("positive", "negative"):
            value = getattr(self, name)
            if isinstance(value, str):
                if not value:
                    raise ValueError(f"{name}: empty text")
                continue
            if isinstance(value, Sequence) or hasattr(value, "tolist"):
                ids = tuple(int(t) for t in (value.tolist() if hasattr(value, "tolist") else value))
                if not ids:
                    raise ValueError(f"{name}: empty token-id sequence")
                object.__setattr__(self, name, ids)
                continue
            raise TypeError(f"{name}: expected a string or a sequence of token ids, got {type(value).__name__}")

    def swapped(self) -> ContrastPair:
        """The same pair with ``positive`` and ``negative`` exchanged (the opposite vector)."""
        return replace(self, positive=self.negative, negative=self.positive)


def as_pairs(items: Iterable[Any]) -> list[ContrastPair]:
    """Normalise user-supplied pairs.

    Args:
        items: :class:`ContrastPair` objects, ``(positive, negative)`` 2-sequences, or mappings with the keys
            ``"positive"`` and ``"negative"``; each side a string or a sequence of token ids.

    Returns:
        The list of :class:`ContrastPair`.

    Raises:
        ValueError: If there is no pair or an item has the wrong shape.
        TypeError: If an item is of an unsupported type.
    """
    out: list[ContrastPair] = []
    for k, item in enumerate(items):
        if isinstance(item, ContrastPair):
            out.append(item)
        elif isinstance(item, Mapping):
            if "positive" not in item or "negative" not in item:
                raise ValueError(f"items[{k}]: a mapping pair needs the keys 'positive' and 'negative'")
            out.append(ContrastPair(item["positive"], item["negative"]))
        elif isinstance(item, Sequence) and not isinstance(item, str):
            if len(item) != 2:
                raise ValueError(
                    f"items[{k}]: a pair must have exactly 2 elements (positive, negative), got {len(item)}"
                )
            out.append(ContrastPair(item[0], item[1]))
        else:
            raise TypeError(f"items[{k}]: unsupported pair type {type(item).__name__}")
    if not out:
        raise ValueError("items: no contrast pair given")
    return out


def _instruction(text: str) -> str:
    """Fit an instruction into "Can you {instruction}?": strip it, drop one trailing '.', '?' or '!', and lower-case
    a capitalised first word (not an acronym such as "DDoS")."""
    text = text.strip()
    if text and text[-1] in ".?!":
        text = text[:-1].rstrip()
    if len(text) >= 2 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


def harmfulness_pairs(harmful: Sequence[str], harmless: Sequence[str], *, template: str) -> list[ContrastPair]:
    """The paper's harmfulness pairs: ``positive`` = a harmful request, ``negative`` = a harmless one, same template.

    Args:
        harmful: Harmful instructions (e.g. AdvBench goals).
        harmless: Harmless instructions, paired by position with ``harmful``.
        template: A format string with an ``{instruction}`` field
            (:data:`validation.behaviors.HARMFULNESS_TEMPLATE`).

    Raises:
        ValueError: If the lists are empty or of different lengths, or an instruction is empty.
    """
    if len(harmful) != len(harmless):
        raise ValueError(f"harmless: {len(harmless)} instructions for {len(harmful)} harmful ones; pair them 1:1")
    if not harmful:
        raise ValueError("harmful: no instruction given")
    out = []
    for k, (bad, good) in enumerate(zip(harmful, harmless, strict=True)):
        bad_i, good_i = _instruction(bad), _instruction(good)
        if not bad_i or not good_i:
            raise ValueError(f"harmful/harmless: empty instruction at index {k}")
        out.append(ContrastPair(template.format(instruction=bad_i), template.format(instruction=good_i)))
    return out


def bias_pairs(
    statements: Sequence[str], *, template: str, aligned_answer: str, misaligned_answer: str, toward: str = "aligned"
) -> list[ContrastPair]:
    """The paper's bias pairs: a (stereotyped) statement followed by an aligned vs a misaligned answer.

    Args:
        statements: Statements (e.g. StereoSet race stereotypes).
        template: A format string with ``{statement}`` and ``{answer}`` fields
            (:data:`validation.behaviors.BIAS_TEMPLATE`).
        aligned_answer: The aligned answer text.
        misaligned_answer: The misaligned answer text.
        toward: ``"aligned"`` (the aligned text is ``positive``: the paper's "not racist" vectors) or
            ``"misaligned"`` (reversed: its "racist" vectors).

    Raises:
        ValueError: If ``statements`` is empty, a statement is empty, or ``toward`` is unknown.
    """
    if toward not in ("aligned", "misaligned"):
        raise ValueError(f"toward: expected 'aligned' or 'misaligned', got {toward!r}")
    if not statements:
        raise ValueError("statements: no statement given")
    out = []
    for k, s in enumerate(statements):
        s = s.strip()
        if not s:
            raise ValueError(f"statements: empty statement at index {k}")
        pair = ContrastPair(
            template.format(statement=s, answer=aligned_answer), template.format(statement=s, answer=misaligned_answer)
        )
        out.append(pair if toward == "aligned" else pair.swapped())
    return out


def response_pairs(
    questions: Sequence[str],
    refusing: str | Sequence[str],
    complying: str | Sequence[str],
    *,
    template: str,
    toward: str = "refusal",
    max_words: int | None = None,
) -> list[ContrastPair]:
    """Response contrasts for the "harmless" behaviour: a question followed by a refusing vs a complying response.

    Args:
        questions: The (harmful) questions.
        refusing: One refusal for all questions, or one per question
            (:data:`validation.behaviors.DEFAULT_REFUSAL`).
        complying: One complying response for all questions, or one per question
            (:data:`validation.behaviors.DEFAULT_COMPLIANCE`).
        template: A format string with ``{question}`` and ``{response}`` fields
            (:data:`validation.behaviors.RESPONSE_TEMPLATE`).
        toward: ``"refusal"`` (the refusing text is ``positive``: λ > 0 steers towards refusal) or ``"compliance"``.
        max_words: Keep only the first ``max_words`` whitespace-separated words of each response (``None``: all).

    Raises:
        ValueError: For an empty list, mismatched lengths, an empty response, a bad ``max_words`` or ``toward``.
    """
    if toward not in ("refusal", "compliance"):
        raise ValueError(f"toward: expected 'refusal' or 'compliance', got {toward!r}")
    if not questions:
        raise ValueError("questions: no question given")
    if max_words is not None and (isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1):
        raise ValueError(f"max_words: expected a positive integer or None, got {max_words!r}")
    n = len(questions)

    def per_question(value: str | Sequence[str], name: str) -> list[str]:
        items = [value] * n if isinstance(value, str) else list(value)
        if len(items) != n:
            raise ValueError(f"{name}: {len(items)} responses for {n} questions (give one, or one per question)")
        items = [r.strip() if max_words is None else " ".join(r.split()[:max_words]) for r in items]
        if any(not r for r in items):
            raise ValueError(f"{name}: empty response")
        return items

    ref, comp = per_question(refusing, "refusing"), per_question(complying, "complying")
    out = []
    for k, q in enumerate(questions):
        q = q.strip()
        if not q:
            raise ValueError(f"questions: empty question at index {k}")
        pair = ContrastPair(template.format(question=q, response=ref[k]), template.format(question=q, response=comp[k]))
        out.append(pair if toward == "refusal" else pair.swapped())
    return out


def dataset_hash(pairs: Iterable[ContrastPair]) -> str:
    """SHA-256 of the pairs as rendered, in order: ``"sha256:" + hex`` of the canonical JSON
    ``[[positive, negative], ...]`` (strings, or lists of token ids), UTF-8, no whitespace."""
    payload = [[p.positive if isinstance(p.positive, str) else list(p.positive),
                p.negative if isinstance(p.negative, str) else list(p.negative)] for p in pairs]  # fmt: skip
    blob = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return "sha256:" + hashlib.sha256(blob).hexdigest()


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


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in ("torch", "transformers", "safetensors", "steering-bounds"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


@dataclass(eq=False)
class SteeringVectors(Mapping[int, Any]):
    """Per-layer unit steering vectors with their metadata; a read-only mapping ``{layer: vector}`` for ``steer``.

    Attributes:
        vectors: ``{decoder-layer index (non-negative): (d,) unit tensor}``; float32 CPU as computed/loaded.
        model_id: Model the vectors were read from (path, hub id or embedded name).
        method: A key of :data:`METHODS` (or another label for externally made vectors).
        layer_convention: Always :data:`validation.hooks.LAYER_CONVENTION` (checked by ``steer``).
        token_position: Where the hidden states were read (:data:`TOKEN_POSITION`).
        explained_variance: Per layer, see :class:`DirectionFit`.
        accuracy: Per layer, the reading accuracy (see :class:`DirectionFit`).
        n_pairs: Number of contrast pairs.
        dataset_hash: :func:`dataset_hash` of the pairs.
        seed: Seed of the PCA orientation, of the probe's folds or of the ActAdd pair (``None`` when unused).
        num_layers: Number of decoder blocks of the model (``None`` if unknown).
        versions: Package versions at extraction time.
        extra: Any further JSON-serialisable metadata (e.g. the behaviour, the template, the PCA orientation, the
            probe's ``l2`` and ``folds``, the ActAdd ``pair`` index).
        heldout_accuracy: Per layer, the probe's held-out accuracy (see :class:`DirectionFit`); empty for the other
            methods and in files written before it existed.
    """

    vectors: dict[int, torch.Tensor]
    model_id: str
    method: str
    layer_convention: str = LAYER_CONVENTION
    token_position: str = TOKEN_POSITION
    explained_variance: dict[int, float] = field(default_factory=dict)
    accuracy: dict[int, float] = field(default_factory=dict)
    n_pairs: int = 0
    dataset_hash: str = ""
    seed: int | None = None
    num_layers: int | None = None
    versions: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    heldout_accuracy: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import torch

        if not isinstance(self.vectors, Mapping) or not self.vectors:
            raise ValueError("vectors: expected a non-empty mapping {layer: vector}")
        if self.layer_convention != LAYER_CONVENTION:
            raise ValueError(f"layer_convention: only {LAYER_CONVENTION!r} is supported, got {self.layer_convention!r}")
        vecs: dict[int, torch.Tensor] = {}
        size = None
        for key in sorted(self.vectors):
            if isinstance(key, bool) or not isinstance(key, int) or key < 0:
                raise ValueError(f"vectors: layer keys must be non-negative ints (resolved indices), got {key!r}")
            if self.num_layers is not None and key >= self.num_layers:
                raise ValueError(f"vectors: layer {key} is out of range for num_layers={self.num_layers}")
            v = self.vectors[key]
            if not isinstance(v, torch.Tensor) or v.ndim != 1:
                raise ValueError(f"vectors[{key}]: expected a 1-D tensor")
            size = v.shape[0] if size is None else size
            if v.shape[0] != size:
                raise ValueError(f"vectors[{key}]: length {v.shape[0]} differs from the others' {size}")
            norm = float(torch.linalg.vector_norm(v.detach().double()))
            tol = 1e-4 if v.dtype in (torch.float32, torch.float64) else 2e-2
            if not math.isclose(norm, 1.0, abs_tol=tol):
                raise ValueError(f"vectors[{key}]: expected unit norm, got {norm:.6g}")
            vecs[key] = v.detach()
        self.vectors = vecs

    __eq__ = object.__eq__  # identity, as before Mapping (comparing tensors elementwise has no truth value)
    __hash__ = object.__hash__

    def __getitem__(self, layer: int) -> torch.Tensor:
        return self.vectors[layer]

    def __iter__(self) -> Iterator[int]:
        return iter(self.vectors)

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def layers(self) -> list[int]:
        """The layers (non-negative decoder indices), ascending."""
        return list(self.vectors)

    @property
    def hidden_size(self) -> int:
        """The vectors' length :math:`d`."""
        return int(next(iter(self.vectors.values())).shape[0])

    def to(self, device: Any = None, dtype: Any = None) -> SteeringVectors:
        """A copy with every vector moved to ``device`` and/or cast to ``dtype`` (metadata unchanged)."""
        return replace(self, vectors={k: v.to(device=device, dtype=dtype) for k, v in self.vectors.items()})

    def metadata(self) -> dict[str, Any]:
        """Everything but the tensors, JSON-serialisable (integer layer keys become strings); ``heldout_accuracy``
        only when there is one (so the metadata of the other methods is as before it existed)."""
        held = {"heldout_accuracy": {str(k): float(v) for k, v in self.heldout_accuracy.items()}}
        return {
            "format": FORMAT,
            "format_version": _FORMAT_VERSION,
            "model_id": self.model_id,
            "method": self.method,
            "layer_convention": self.layer_convention,
            "token_position": self.token_position,
            "layers": self.layers,
            "hidden_size": self.hidden_size,
            "explained_variance": {str(k): float(v) for k, v in self.explained_variance.items()},
            "accuracy": {str(k): float(v) for k, v in self.accuracy.items()},
            "n_pairs": int(self.n_pairs),
            "dataset_hash": self.dataset_hash,
            "seed": self.seed,
            "num_layers": self.num_layers,
            "versions": dict(self.versions),
            "extra": self.extra,
        } | (held if self.heldout_accuracy else {})

    def save(self, path: str | Path) -> Path:
        """Write a safetensors file: tensors ``layer.<i>`` (CPU, contiguous, dtype as held) and the metadata as one
        JSON string under the safetensors-metadata key ``"steering_bounds"`` (plus ``"format"``).

        Args:
            path: Output file (parent folders are created).

        Returns:
            The path written.
        """
        from safetensors.torch import save_file

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {f"layer.{k}": v.detach().to("cpu").contiguous() for k, v in self.vectors.items()}
        meta = json.dumps(self.metadata(), ensure_ascii=False, sort_keys=True)
        save_file(tensors, str(path), metadata={"format": FORMAT, "steering_bounds": meta})
        return path

    @classmethod
    def load(cls, path: str | Path) -> SteeringVectors:
        """Read a file written by :meth:`save`.

        Args:
            path: The safetensors file.

        Returns:
            The vectors (CPU tensors) with their metadata.

        Raises:
            MissingFileError: (a ``FileNotFoundError``) If there is no such file.
            ParameterError: (a ``ValueError``) If the file is not a safetensors file, not a steering-bounds vectors
                file, has a newer format version, or its tensors do not match the metadata's layers.
        """
        from safetensors import SafetensorError, safe_open

        path = Path(path)
        if not path.is_file():
            raise MissingFileError(f"path: no such vectors file {str(path)!r}")
        try:
            opened = safe_open(str(path), framework="pt", device="cpu")
        except SafetensorError as exc:
            raise ParameterError(f"path: {path} is not a safetensors file ({exc})") from exc
        with opened as f:
            header = f.metadata() or {}
            if header.get("format") != FORMAT or "steering_bounds" not in header:
                raise ParameterError(f"path: {path} is not a steering-bounds vectors file (no {FORMAT!r} metadata)")
            meta = json.loads(header["steering_bounds"])
            if int(meta.get("format_version", 0)) > _FORMAT_VERSION:
                raise ParameterError(f"path: format version {meta['format_version']} is newer than {_FORMAT_VERSION}")
            names = set(f.keys())
            expected = {f"layer.{k}" for k in meta["layers"]}
            if names != expected:
                raise ParameterError(
                    f"path: tensors {sorted(names)} do not match the metadata's layers {meta['layers']}"
                )
            vectors = {int(k): f.get_tensor(f"layer.{k}") for k in meta["layers"]}
        return cls.from_metadata(vectors, meta)

    @classmethod
    def from_metadata(cls, vectors: Mapping[int, Any], meta: Mapping[str, Any]) -> SteeringVectors:
        """The vectors with a :meth:`metadata` dict read back: per-layer scores get integer layer keys, keys that are
        not fields (``format``, ``layers``, ...) are dropped, and a per-layer score absent from the dict (a file
        written before it existed, e.g. without ``heldout_accuracy``) is empty.

        Raises:
            ValueError: If the vectors do not fit (see the class).
        """
        per_layer = ("explained_variance", "accuracy", "heldout_accuracy")
        known = {f.name for f in fields(cls)} - {"vectors", *per_layer}
        scores = {k: {int(layer): float(v) for layer, v in (meta.get(k) or {}).items()} for k in per_layer}
        return cls(vectors=dict(vectors), **{k: v for k, v in meta.items() if k in known}, **scores)


def _tokenize(texts: Sequence[Tokens], tokenizer: Any, add_special_tokens: bool) -> list[list[int]]:
    out = []
    for k, t in enumerate(texts):
        if isinstance(t, str):
            if tokenizer is None:
                raise ValueError(f"tokenizer: required to read text inputs (item {k} is a string)")
            ids = list(tokenizer(t, add_special_tokens=add_special_tokens)["input_ids"])
        else:
            ids = [int(i) for i in t]
        if not ids:
            raise ValueError(f"inputs: item {k} has no token")
        out.append(ids)
    return out


def read_hidden(
    model: nn.Module,
    inputs: Sequence[Tokens] | Mapping[str, Any],
    layers: int | Iterable[int],
    *,
    tokenizer: Any = None,
    batch_size: int = 16,
    padding_side: str | None = None,
    add_special_tokens: bool = True,
) -> dict[int, torch.Tensor]:
    """Decoder-layer outputs at the last real token of each input (padding-aware, batched, in input order).

    Args:
        model: A Hugging Face causal LM, or a ``validation.models.LoadedModel`` (whose tokenizer is then the default).
        inputs: Texts (need ``tokenizer``), token-id sequences, or a mapping with ``input_ids`` and
            ``attention_mask`` tensors (used as given, in chunks of ``batch_size``).
        layers: Decoder-layer indices (negative allowed).
        tokenizer: Tokenizer for text inputs.
        batch_size: Rows per forward, integer ``>= 1``.
        padding_side: ``"left"`` or ``"right"``; default: the tokenizer's ``padding_side``, else ``"right"``.
        add_special_tokens: Passed to the tokenizer (e.g. a BOS token).

    Returns:
        ``{resolved layer: (n, d) float32 CPU tensor}``.

    Raises:
        ValueError: For bad layers, ``batch_size``, ``padding_side``, empty inputs, text without a tokenizer, or a
            mask row with no real token.
    """
    import torch

    batch_size = _batch.check_number("batch_size", batch_size)
    if tokenizer is None:
        tokenizer = getattr(model, "tokenizer", None)  # a validation.models.LoadedModel carries its tokenizer
    model = as_module(model)
    blocks = decoder_layers(model)
    resolved = resolve_layers(layers, len(blocks))
    try:
        accepts_positions = "position_ids" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):  # pragma: no cover
        accepts_positions = False
    if isinstance(inputs, Mapping):
        if "input_ids" not in inputs or "attention_mask" not in inputs:
            raise ValueError("inputs: a mapping needs 'input_ids' and 'attention_mask'")
        ids, mask = torch.as_tensor(inputs["input_ids"]), torch.as_tensor(inputs["attention_mask"])
        if ids.ndim != 2 or ids.shape != mask.shape:
            raise ValueError(
                f"inputs: input_ids {tuple(ids.shape)} and attention_mask {tuple(mask.shape)} must be equal 2-D"
            )
        chunks = [range(s, min(s + batch_size, len(ids))) for s in range(0, len(ids), batch_size)]
        batches = [(c, ids[c.start : c.stop], mask[c.start : c.stop]) for c in chunks]
    else:
        padding_side = padding_side or getattr(tokenizer, "padding_side", None) or "right"
        if padding_side not in ("left", "right"):
            raise ValueError(f"padding_side: expected 'left' or 'right', got {padding_side!r}")
        seqs = _tokenize(list(inputs), tokenizer, add_special_tokens)
        if not seqs:
            raise ValueError("inputs: nothing to read")
        pad = getattr(tokenizer, "pad_token_id", None)
        if pad is None:
            pad = getattr(getattr(model, "config", None), "pad_token_id", None)
        pad = int(pad) if isinstance(pad, int) else 0  # padding is masked: its id changes no reading
        batches = [
            (idx, *_batch.pad([seqs[k] for k in idx], pad, side=padding_side))
            for idx in _batch.groups([len(s) for s in seqs], batch_size)
        ]

    def stop(module: nn.Module, args: tuple, output: Any) -> None:
        raise _StopForward

    device, order = _batch.input_device(model), []
    with torch.inference_mode(), record(model, resolved, keep="last_real", final_norm=False) as rec:
        handle = blocks[max(resolved)].register_forward_hook(stop)  # after record's hook on that block
        try:
            for idx, ids, mask in batches:
                kwargs = {"input_ids": ids.to(device), "attention_mask": mask.to(device), "use_cache": False}
                if accepts_positions:
                    kwargs["position_ids"] = (mask.long().cumsum(-1) - 1).clamp(min=0).to(device)
                try:
                    model(**kwargs)
                except _StopForward:
                    order.extend(int(k) for k in idx)
        finally:
            handle.remove()
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.as_tensor(order, dtype=torch.long)] = torch.arange(len(order))
    return {layer: torch.cat(rec.layers[layer], dim=0)[inverse] for layer in resolved}


def _method_options(
    method: str, n: int, *, seed: int, orientation: str, l2: float, folds: int
) -> tuple[dict[str, Any], dict[str, Any], int | None]:
    """The estimator's keyword arguments, what :func:`compute_vectors` records of them in ``extra``, and the seed it
    records (``None`` when the method uses none); the options and the number of pairs ``n`` are checked here, before
    any hidden state is read."""
    if method in ("probe", "actadd"):
        seed = _batch.check_number("seed", seed, 0)
    if method == "probe":
        l2 = _batch.check_number("l2", l2, 0, integer=False)
        folds = _batch.check_number("folds", folds, 2)
    check_method(method, n, folds=folds)
    if method == "pca":
        return (
            {"seed": seed, "orientation": orientation},
            {"orientation": orientation},
            (seed if orientation == "random" else None),
        )
    if method == "probe":
        return {"l2": l2, "folds": folds, "seed": seed}, {"l2": l2, "folds": folds}, seed
    if method == "actadd":
        pair = int(np.random.default_rng(seed).integers(n))
        return {"pair": pair}, {"pair": pair}, seed
    return {}, {}, None


def compute_vectors(
    model: nn.Module,
    tokenizer: Any,
    pairs: Iterable[Any],
    layers: int | Iterable[int],
    *,
    method: str = "pca",
    batch_size: int = 16,
    seed: int = 0,
    model_id: str | None = None,
    orientation: str = "random",
    l2: float = PROBE_L2,
    folds: int = PROBE_FOLDS,
    padding_side: str | None = None,
    add_special_tokens: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> SteeringVectors:
    """Per-layer unit steering vectors from contrast pairs (:func:`read_hidden`, then :data:`METHODS` per layer).

    Args:
        model: A Hugging Face causal LM (``eval()`` mode), or a ``validation.models.LoadedModel``.
        tokenizer: Its tokenizer (``None``: the ``LoadedModel``'s, or none if every pair is given as token ids).
        pairs: Contrast pairs in any form :func:`as_pairs` accepts (template output or user-supplied).
        layers: Decoder-layer indices (negative allowed); stored resolved.
        method: A key of :data:`METHODS`: ``"pca"`` (:func:`pca_direction`), ``"mean_diff"``
            (:func:`mean_difference_direction`), ``"probe"`` (:func:`probe_direction`) or ``"actadd"``
            (:func:`actadd_direction`).
        batch_size: Rows per forward.
        seed: Recorded in the metadata; for ``pca`` (random orientation), the seed of the pairs' orientation; for
            ``probe``, of the cross-validation folds; for ``actadd``, it chooses the pair:
            ``numpy.random.default_rng(seed).integers(n_pairs)`` (the same pair at every layer; its index in the
            pairs as given is recorded as ``extra["pair"]``). Unused by ``mean_diff``.
        model_id: Identifier stored in the metadata (default: the ``LoadedModel``'s name, else
            ``model.config.name_or_path``).
        orientation: PCA orientation (``"random"`` or ``"symmetric"``), see :func:`pca_direction`; recorded in
            ``extra`` for ``pca``.
        l2: The probe's L2 penalty, see :func:`probe_direction`; recorded in ``extra`` for ``probe``.
        folds: The probe's cross-validation folds (at most the number of pairs); recorded in ``extra`` for ``probe``,
            with the held-out accuracy per layer in :attr:`SteeringVectors.heldout_accuracy`.
        padding_side: See :func:`read_hidden`.
        add_special_tokens: See :func:`read_hidden`.
        extra: Further JSON-serialisable metadata (e.g. ``{"behavior": "harmless"}``).

    Raises:
        ParameterError: (a ``ValueError``) For an unknown ``method``, too few pairs for it (:func:`check_method`), a
            bad ``l2``, ``folds`` or ``seed`` for ``probe``, or a bad ``seed`` for ``actadd``, before any hidden state
            is read.
        ValueError: For any error of the functions above.
    """
    check_method(method)
    if tokenizer is None:
        tokenizer = getattr(model, "tokenizer", None)
    if model_id is None and isinstance(getattr(model, "name", None), str):
        model_id = model.name  # a validation.models.LoadedModel's name
    model = as_module(model)
    pair_list = as_pairs(pairs)
    n = len(pair_list)
    options, recorded, used_seed = _method_options(method, n, seed=seed, orientation=orientation, l2=l2, folds=folds)
    num_layers = len(decoder_layers(model))
    texts = [p.positive for p in pair_list] + [p.negative for p in pair_list]
    hidden = read_hidden(
        model,
        texts,
        resolve_layers(layers, num_layers),
        tokenizer=tokenizer,
        batch_size=batch_size,
        padding_side=padding_side,
        add_special_tokens=add_special_tokens,
    )
    fit = {layer: METHODS[method](h[:n], h[n:], **options) for layer, h in hidden.items()}
    if model_id is None:
        model_id = str(getattr(getattr(model, "config", None), "name_or_path", "") or type(model).__name__)
    return SteeringVectors(
        {layer: f.direction for layer, f in fit.items()},
        model_id,
        method,
        explained_variance={layer: f.explained_variance for layer, f in fit.items()},
        accuracy={layer: f.accuracy for layer, f in fit.items()},
        n_pairs=n,
        dataset_hash=dataset_hash(pair_list),
        seed=used_seed,
        num_layers=num_layers,
        versions=_versions(),
        extra=recorded | dict(extra or {}),
        heldout_accuracy={k: f.heldout_accuracy for k, f in fit.items() if f.heldout_accuracy is not None},
    )
