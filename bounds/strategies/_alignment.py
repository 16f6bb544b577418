r"""Strategies for the alignment statements (Theorem 1, Corollary 1): binary scores and a hard margin.

An instance is one query in the exact parametrisation of THEORY §1: the unsteered distribution ``p`` over the answer
tokens, their projections ``z`` on the steering direction, and binary scores (``+1`` aligned, ``-1`` misaligned).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from ..steered import behavior_expectation
from ._common import log_weights

__all__ = ["HardMarginInstance", "hard_margin_instances"]

_Z = st.floats(-50.0, 50.0, allow_nan=False, allow_infinity=False)


@dataclass(frozen=True)
class HardMarginInstance:
    """A query satisfying Assumption 2 with full-gap margin ``delta`` along the steering direction.

    Attributes:
        p: unsteered distribution over the answer tokens (strictly positive, sums to 1).
        z: projections ``z_s`` of every token on the steering direction.
        scores: ``+1`` for aligned tokens (``A+``), ``-1`` for misaligned ones (``A-``).
        delta: a margin that holds: ``min_{A+} z - max_{A-} z >= delta`` (Assumption 2, eq. 8).
        norm: ``‖δ‖ >= 0`` at which to evaluate.
    """

    p: np.ndarray
    z: np.ndarray
    scores: np.ndarray
    delta: float
    norm: float

    @property
    def P_plus(self) -> float:
        return float(self.p[self.scores > 0].sum())

    @property
    def P_minus(self) -> float:
        return float(self.p[self.scores < 0].sum())

    @property
    def B0(self) -> float:
        """Unsteered behavior expectation ``P+ - P-`` (may round to ±1 in float64 for extreme masses)."""
        return float(np.sum(self.p * self.scores))

    @property
    def artanh_B0(self) -> float:
        """``artanh B0 = ½ log(P+/P-)``, exact in log space even when ``B0`` rounds to ±1."""
        lp = np.log(self.p)
        pos, neg = lp[self.scores > 0], lp[self.scores < 0]
        return 0.5 * (float(np.logaddexp.reduce(pos)) - float(np.logaddexp.reduce(neg)))

    @property
    def margin(self) -> float:
        """The realised margin ``min_{A+} z - max_{A-} z`` (at least ``delta``)."""
        return float(self.z[self.scores > 0].min() - self.z[self.scores < 0].max())

    def behavior(self, norm: float) -> float:
        """Exact steered behavior expectation at ``‖δ‖ = norm`` towards ``A+`` (``norm < 0``: towards ``A-``)."""
        z = self.z if norm >= 0 else -self.z
        return float(behavior_expectation(self.p, z, abs(norm), self.scores))


@st.composite
def hard_margin_instances(
    draw: st.DrawFn,
    max_aligned: int = 5,
    max_misaligned: int = 5,
    max_norm: float = 1e3,
    exact_margin: bool | None = None,
) -> HardMarginInstance:
    """Instances of Theorem 1's hypotheses, and nothing narrower.

    Each restriction and the hypothesis it encodes:

    * at least one aligned and one misaligned token, both with positive mass: ``-1 < B0 < 1`` (Theorem 1's domain);
    * scores in ``{-1, +1}`` and ``P+ + P- = 1``: a binary behavior scoring function (Definition 1);
    * ``min_{A+} z - max_{A-} z >= delta >= 0``: Assumption 2 with full-gap margin ``delta`` (eq. 8); the slack
      above ``delta`` is free (``exact_margin=True`` forces it to 0 at the closest pair, ``None`` lets hypothesis
      choose), misaligned projections and the spread of aligned ones are arbitrary in ``[-50, 50]``;
    * ``0 <= norm <= max_norm``: any steering strength (Theorem 1 holds exactly for every ``‖δ‖``, THEORY §13.5).

    Masses range down to about 1e-300.
    """
    n_plus = draw(st.integers(1, max_aligned))
    n_minus = draw(st.integers(1, max_misaligned))
    logw = draw(log_weights(n_plus + n_minus))
    w = np.exp(logw - logw.max())
    p = w / w.sum()
    z_minus = np.asarray(draw(st.lists(_Z, min_size=n_minus, max_size=n_minus)))
    delta = draw(st.floats(0.0, 20.0, allow_nan=False))
    exact = draw(st.booleans()) if exact_margin is None else exact_margin
    extra = np.asarray(draw(st.lists(st.floats(0.0, 50.0), min_size=n_plus, max_size=n_plus)))
    if exact:
        extra[0] = 0.0
    else:
        extra = extra + draw(st.floats(0.0, 10.0))
    z_plus = z_minus.max() + delta + extra
    # float64 rounding can make the realised gap smaller than the drawn delta (e.g. 1 + 1e-100 == 1): the instance
    # then states the margin that actually holds, so Assumption 2 is true in the arithmetic the checks use.
    delta = float(min(delta, z_plus.min() - z_minus.max()))
    z = np.concatenate([z_plus, z_minus])
    scores = np.concatenate([np.ones(n_plus), -np.ones(n_minus)])
    norm = draw(st.floats(0.0, max_norm, allow_nan=False))
    return HardMarginInstance(p=p, z=z, scores=scores, delta=delta, norm=norm)
