r"""Strategies for the alignment statements (Theorem 1, Corollary 1): binary scores and a hard margin.

An instance is one query in the exact parametrisation of docs/specification.md §1: the unsteered distribution ``p`` over
the answer tokens, their projections ``z`` on the steering direction, and binary scores (``+1`` aligned, ``-1``
misaligned).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from ..steered import behavior_expectation
from ..synthetic import BehaviorInstance
from ._common import MIN_LOG_WEIGHT, TYPICAL_MIN, _array, _floats, _log_weights, _normalise, typical_draw, within

__all__ = ["hard_margin_instances"]

_Z = _floats(-50.0, 50.0)


#: the smallest positive margin drawn for a threshold statement (``positive=True``): below it the thresholds
#: ``~1/(αΔ)`` put ``‖δ‖ z`` beyond float64, where the steered distribution cannot be evaluated
MIN_POSITIVE_MARGIN = 1e-100


def _margins(typical: bool, positive: bool = False) -> st.SearchStrategy[float]:
    """A margin ``Δ`` in ``[0, 20]`` (``[1e-100, 20]`` when ``positive``; ``[1e-3, 20]`` in the typical half)."""
    return within(
        "delta", "alignment_lower", lo=TYPICAL_MIN if typical else MIN_POSITIVE_MARGIN if positive else 0.0, hi=20.0
    )


def _separated_above(
    draw: st.DrawFn,
    z_low: np.ndarray,
    n_high: int,
    exact: bool | None = None,
    delta: float | None = None,
    margins: st.SearchStrategy[float] | None = None,
) -> tuple[np.ndarray, float]:
    """Projections of ``n_high`` tokens at least ``delta`` above every entry of ``z_low``, and that ``delta``.

    ``exact=True`` puts the closest pair at exactly the margin, ``False`` adds a common positive slack, ``None`` lets
    hypothesis choose. ``delta=None`` draws the margin from ``margins`` (default: ``[0, 20]``); a given ``delta`` is
    used as drawn (e.g. one margin shared by every step of a response tree).
    """
    if delta is None:
        delta = draw(margins if margins is not None else _margins(False))
    extra = _array(draw, st.floats(0.0, 50.0), n_high)
    if draw(st.booleans()) if exact is None else exact:
        extra[0] = 0.0  # the closest pair at exactly the margin: the bounds are tightest there
    else:
        extra = extra + draw(st.floats(0.0, 10.0))
    top = z_low.max()
    z_high = top + delta + extra
    # float64 rounding can make the realised gap smaller than the drawn delta (e.g. 1 + 1e-100 == 1): raise each such
    # projection to the next float until the gap is at least delta, so the drawn margin holds in the arithmetic the
    # checks use (a positive delta stays positive: it does not collapse to a margin of 0)
    short = z_high - top < delta
    while short.any():
        z_high[short] = np.nextafter(z_high[short], np.inf)
        short = z_high - top < delta
    return z_high, float(delta)


@st.composite
def hard_margin_instances(
    draw: st.DrawFn,
    max_aligned: int = 5,
    max_misaligned: int = 5,
    max_norm: float = 1e3,
    exact_margin: bool | None = None,
    positive_margin: bool = False,
    min_log_weight: float = MIN_LOG_WEIGHT,
) -> BehaviorInstance:
    """Instances of Theorem 1's hypotheses, and nothing narrower.

    Each restriction and the hypothesis it encodes:

    * at least one aligned and one misaligned token, both with positive mass: ``-1 < B0 < 1`` (Theorem 1's domain);
    * scores in ``{-1, +1}`` and ``P+ + P- = 1``: a binary behavior scoring function (Definition 1);
    * ``min_{A+} z - max_{A-} z >= delta >= 0``: Assumption 2 with full-gap margin ``delta`` (eq. 8); the slack
      above ``delta`` is free (``exact_margin=True`` forces it to 0 at the closest pair, ``None`` lets hypothesis
      choose), misaligned projections and the spread of aligned ones are arbitrary in ``[-50, 50]``;
      ``positive_margin=True`` draws ``delta >= 1e-100`` (the hypothesis ``αΔ > 0`` of Corollary 1's threshold, within
      float64: a smaller margin puts the threshold's ``‖δ‖ z`` beyond float64);
    * ``0 <= norm <= max_norm``: any steering strength (Theorem 1 holds exactly for every ``‖δ‖``, docs/specification.md
      §13.5).

    Masses range down to about 1e-300 (log-weights down to ``min_log_weight``: e.g. -34 keeps every mass above
    ~1e-15 of the largest, so ``B0`` is not rounded to ±1 in float64, the domain of functions that take ``B0``). About
    half the instances are *typical* (:func:`typical_draw`): masses within
    ``e^-30`` of each other, ``delta`` and ``norm`` at least 1e-3 (the range where the bound says more than
    ``B >= B0``); the others range over the whole domain above.
    """
    typical = typical_draw(draw)
    n_plus = draw(st.integers(1, max_aligned))
    n_minus = draw(st.integers(1, max_misaligned))
    p = _normalise(_log_weights(draw, n_plus + n_minus, typical, min_log_weight))
    z_minus = _array(draw, _Z, n_minus)
    z_plus, delta = _separated_above(draw, z_minus, n_plus, exact_margin, margins=_margins(typical, positive_margin))
    z = np.concatenate([z_plus, z_minus])
    scores = np.concatenate([np.ones(n_plus), -np.ones(n_minus)])
    norm = draw(_norm_range(typical, max_norm))
    return BehaviorInstance(p=p, z=z, scores=scores, delta=delta, norm=norm)


def _norm_range(typical: bool, max_norm: float) -> st.SearchStrategy[float]:
    """``‖δ‖`` in ``[0, max_norm]`` (``[min(1e-3, max_norm), max_norm]`` in the typical half)."""
    return within("norm", lo=min(TYPICAL_MIN, max_norm) if typical else 0.0, hi=max_norm)


# ---------------------------------------------------------------------------------------------------------------
# Theorems 3-5: soft margin (Assumption 4), trinary scores, graded scores with a threshold
# ---------------------------------------------------------------------------------------------------------------
__all__ += [  # appended by the Theorems 3-6 work package
    "GradedInstance",
    "TrinaryInstance",
    "graded_instances",
    "soft_margin_bound_instances",
    "trinary_instances",
]


def _norms(max_norm: float, typical: bool = False) -> st.SearchStrategy[float]:
    """``‖δ‖`` in ``[0, max_norm]``, with the small-norm regime (where the bounds bite) drawn often; at least
    ``min(1e-3, max_norm)`` in the typical half."""
    lo = min(TYPICAL_MIN, max_norm) if typical else 0.0
    return st.one_of(within("norm", lo=lo, hi=max(lo, min(2.0, max_norm))), within("norm", lo=lo, hi=max_norm))


def _misclassified(z: np.ndarray, scores: np.ndarray, delta: float) -> np.ndarray:
    """Mask of ``M``: misaligned tokens ``s-`` with ``z_{s+} - z_{s-} < Δ`` for some aligned ``s+`` (eq. 46)."""
    gap_too_small = (z[scores > 0][:, None] - z[None, :] < delta).any(axis=0)
    return (scores < 0) & gap_too_small


@st.composite
def soft_margin_bound_instances(
    draw: st.DrawFn,
    max_aligned: int = 4,
    max_misaligned: int = 6,
    max_norm: float = 1e3,
    positive_delta_M: bool = False,
    min_log_weight: float = MIN_LOG_WEIGHT,
) -> BehaviorInstance:
    """Instances of Theorem 3's hypotheses (Assumption 4, eqs. 46-50), and nothing narrower.

    Each restriction and the hypothesis it encodes:

    * at least one aligned and one misaligned token with positive mass, scores in ``{-1, +1}``: a binary behavior
      score with ``-1 < B0 < 1`` (Theorem 3's domain; ``B0 = P+ - P-`` over *all* tokens);
    * ``M`` is **defined** from the realised float projections by eq. (46) -- the misaligned tokens with
      ``z_{s+} - z_{s-} < Δ`` for some aligned ``s+`` -- so every other pair is separated by ``>= Δ`` (eq. 49) by
      construction, in the arithmetic the checks use. Misaligned tokens are drawn either below ``min_{A+} z - Δ``
      (meant to be separated) or anywhere above it up to 30 beyond the aligned minimum (meant to be misclassified);
      which set a token lands in is decided by eq. (46) on the realised floats, not by that intent;
    * ``rho`` anywhere in ``[P(M), 1]`` (eq. 47; ``P(M)`` summed as :attr:`bounds.synthetic.BehaviorInstance.P_M`
      does; when that float sum exceeds 1 by rounding, ``rho = 1`` undershoots it by at most an ulp);
    * ``delta_M = depth + slack`` with slack in ``[0, 10]`` (eq. 48: any real ``>= depth``; ``depth + slack >= depth``
      holds in float64 because rounding is monotone); any real in ``[-50, 50]`` when ``M`` is empty (eq. 48 vacuous);
      ``positive_delta_M=True`` draws ``delta_M > 0`` (the threshold form's domain ``Δ_M > 0``): ``depth + slack``
      when ``depth > 0``, else any real in ``(0, 10]`` (``>= depth`` still);
    * ``0 <= norm <= max_norm`` (the theorem is stated for steering towards ``A+``);
    * log-weights down to ``min_log_weight`` (default -690: masses down to about 1e-300).

    About half the instances are *typical* (:func:`typical_draw`): masses within ``e^-30`` of each other, ``delta`` at
    least 1e-3, ``norm`` in ``[1e-3, 2]``, misaligned tokens meant to be misclassified at most 2 beyond the aligned
    minimum and up to ``e^10`` times rarer than the others, ``rho`` between ``P(M)`` and ``P(M) + max(P(M), 1e-3)``
    and the slack of ``delta_M`` in ``[0, 1]`` (where the bound is above -1, i.e. not vacuous, more often); the others
    range over the whole domain.
    """
    typical = typical_draw(draw)
    n_plus = draw(st.integers(1, max_aligned))
    n_minus = draw(st.integers(1, max_misaligned))
    logw = _log_weights(draw, n_plus + n_minus, typical, min_log_weight)
    z_plus = _array(draw, _Z, n_plus)
    delta = draw(_margins(typical))
    lo = z_plus.min() - delta
    z_minus = []
    for j in range(n_minus):
        if draw(st.booleans()):
            z_minus.append(lo - draw(st.floats(0.0, 50.0)))
        else:
            z_minus.append(lo + draw(st.floats(0.0, delta + (2.0 if typical else 30.0))))
            if typical:  # a typical misclassified token is rarer than the others by a factor up to e^-10
                logw[n_plus + j] -= draw(st.floats(0.0, 10.0))
    p = _normalise(logw)
    z = np.concatenate([z_plus, np.asarray(z_minus)])
    scores = np.concatenate([np.ones(n_plus), -np.ones(n_minus)])
    mis = _misclassified(z, scores, delta)
    probe = BehaviorInstance(p=p, z=z, scores=scores, delta=delta, kind="soft", misclassified=mis)
    P_M, depth = probe.P_M, probe.depth
    room = max(0.0, 1.0 - P_M)
    rho = min(1.0, P_M + draw(st.floats(0.0, 1.0)) * (min(max(P_M, 1e-3), room) if typical else room))
    hi = 1.0 if typical else 10.0
    if positive_delta_M and not depth > 0:
        delta_M = draw(within("delta_M", "soft_margin_range", hi=hi))
    elif np.isfinite(depth):
        delta_M = depth + draw(st.floats(0.0, hi))
    else:
        delta_M = draw(st.floats(-1.0 if typical else -50.0, 1.0 if typical else 50.0))
    norm = draw(within("norm", lo=min(TYPICAL_MIN, max_norm), hi=min(2.0, max_norm)) if typical else _norms(max_norm))
    return BehaviorInstance(
        p=p, z=z, scores=scores, delta=delta, kind="soft", rho=rho, delta_M=float(delta_M), misclassified=mis, norm=norm
    )


class TrinaryInstance(BehaviorInstance):
    """A query with scores in ``{-1, 0, +1}`` whose ``A+`` is separated from ``A- ∪ A0`` with margin ``delta``:
    ``min_{A+} z - max_{A- ∪ A0} z >= delta`` (Theorem 4's hypothesis)."""

    @property
    def P_zero(self) -> float:
        return float(self.p[self.scores == 0].sum())

    @property
    def margin(self) -> float:
        return float(self.z[self.scores > 0].min() - self.z[self.scores <= 0].max())


@st.composite
def trinary_instances(
    draw: st.DrawFn, max_aligned: int = 4, max_other: int = 6, max_norm: float = 1e3
) -> TrinaryInstance:
    """Instances of Theorem 4's hypotheses, and nothing narrower.

    * at least one aligned token (``P+ > 0``, the statement's domain) and at least one non-aligned token (with none,
      ``B ≡ 1`` and every bound is trivially met; the margin is then undefined);
    * the non-aligned tokens are misaligned (``-1``) or neutral (``0``) in any mix, at any projections in
      ``[-50, 50]``: the hypothesis separates ``A+`` from ``A- ∪ A0`` only, and says nothing about where the neutral
      answers lie relative to the misaligned ones;
    * ``min_{A+} z - max_{A- ∪ A0} z >= delta >= 0`` (the margin, with the float fix of
      :func:`hard_margin_instances`);
    * ``0 <= norm <= max_norm``. Masses down to about 1e-300.

    About half the instances are *typical* (:func:`typical_draw`): masses within ``e^-30`` of each other, ``delta`` and
    ``norm`` at least 1e-3; the others range over the whole domain.
    """
    typical = typical_draw(draw)
    n_plus = draw(st.integers(1, max_aligned))
    n_other = draw(st.integers(1, max_other))
    other = _array(draw, st.sampled_from([-1.0, 0.0]), n_other)
    p = _normalise(_log_weights(draw, n_plus + n_other, typical))
    z_other = _array(draw, _Z, n_other)
    z_plus, delta = _separated_above(draw, z_other, n_plus, margins=_margins(typical))
    z = np.concatenate([z_plus, z_other])
    scores = np.concatenate([np.ones(n_plus), other])
    return TrinaryInstance(p=p, z=z, scores=scores, delta=delta, norm=draw(_norms(max_norm, typical)))


@dataclass(frozen=True)
class GradedInstance:
    """A query with scores in ``[-1, 1]`` whose answers with score ``>= b`` lie ``>= delta`` above the others.

    Attributes:
        p, z: unsteered distribution and projections.
        scores: scores in ``[-1, 1]``.
        b: the threshold, ``-1 <= b <= 1``.
        delta: a margin that holds: ``min_{score >= b} z - max_{score < b} z >= delta`` (vacuous if none is ``< b``).
        norm: ``‖δ‖ >= 0``.
    """

    p: np.ndarray
    z: np.ndarray
    scores: np.ndarray
    b: float
    delta: float
    norm: float

    @property
    def P_ge(self) -> float:
        return float(self.p[self.scores >= self.b].sum())

    @property
    def P_lt(self) -> float:
        return float(self.p[self.scores < self.b].sum())

    def behavior(self, norm: float) -> float:
        """Exact steered behavior expectation at ``‖δ‖ = norm >= 0``."""
        return float(behavior_expectation(self.p, self.z, norm, self.scores))


@st.composite
def graded_instances(draw: st.DrawFn, max_ge: int = 4, max_lt: int = 4, max_norm: float = 1e3) -> GradedInstance:
    """Instances of Theorem 5's hypotheses, and nothing narrower.

    * a threshold ``b`` in ``[-1, 1]`` and scores in ``[-1, 1]``: the general scoring function of §10;
    * at least one answer with score ``>= b`` (``P_ge > 0``, the statement's domain), any number (0 included, always
      0 when ``b = -1``) with score ``< b``; scores within each side are arbitrary (``b`` itself and ``-1`` come from
      shrinking);
    * ``min_{score >= b} z - max_{score < b} z >= delta >= 0`` (the margin, with the float fix of
      :func:`hard_margin_instances`); projections otherwise free in ``[-50, 50]`` (plus the gap);
    * ``0 <= norm <= max_norm``. Masses down to about 1e-300.

    About half the instances are *typical* (:func:`typical_draw`): ``b >= -0.99`` with at least one answer below it,
    masses within ``e^-30`` of each other, ``delta`` and ``norm`` at least 1e-3; the others range over the whole domain.
    """
    typical = typical_draw(draw)
    b = draw(within("b", lo=-0.99) if typical else within("b"))
    n_ge = draw(st.integers(1, max_ge))
    n_lt = draw(st.integers(1 if typical else 0, max_lt)) if b > -1.0 else 0
    s_ge = draw(st.lists(within("scores", lo=b), min_size=n_ge, max_size=n_ge))
    s_lt = draw(st.lists(within("scores", hi=b, exclude_max=True), min_size=n_lt, max_size=n_lt)) if n_lt else []
    p = _normalise(_log_weights(draw, n_ge + n_lt, typical))
    if n_lt:
        z_lt = _array(draw, _Z, n_lt)
        z_ge, delta = _separated_above(draw, z_lt, n_ge, margins=_margins(typical))
    else:
        z_lt = np.zeros(0)
        z_ge = _array(draw, _Z, n_ge)
        delta = draw(_margins(typical))
    z = np.concatenate([z_ge, z_lt])
    scores = np.asarray(s_ge + s_lt, dtype=float)
    return GradedInstance(p=p, z=z, scores=scores, b=b, delta=delta, norm=draw(_norms(max_norm, typical)))
