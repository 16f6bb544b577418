"""Building blocks shared by the statement strategies."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..domains import domain

__all__ = ["log_weights", "probability_vectors", "split_masses", "typical_draw", "within"]

#: smallest log-weight generated: probabilities down to about 1e-300 (the numeric functions' documented range)
MIN_LOG_WEIGHT = -690.0


def _floats(lo: float, hi: float, **kwargs: bool) -> st.SearchStrategy[float]:
    """Finite floats in ``[lo, hi]``."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, **kwargs)


def within(
    name: str, call: str | None = None, *, lo: float = -np.inf, hi: float = np.inf, exclude_max: bool = False
) -> st.SearchStrategy[float]:
    """Floats of parameter ``name``'s documented domain (:func:`bounds.domains.domain`, in public function ``call``)
    inside the window ``[lo, hi]`` a strategy draws from (the domain's open ends stay open)."""
    dom = domain(name, call)
    a, b = max(lo, dom.lo), min(hi, dom.hi)
    return st.floats(
        a,
        b,
        exclude_min=dom.lo_open and a == dom.lo,
        exclude_max=exclude_max or (dom.hi_open and b == dom.hi),
        allow_nan=False,
        allow_infinity=False,
    )


def log_weights(n: int | st.SearchStrategy[int], low: float = MIN_LOG_WEIGHT) -> st.SearchStrategy[np.ndarray]:
    """``n`` log-weights in ``[low, 0]`` (default ``[-690, 0]``): after normalisation, probabilities from about 1e-300
    to 1. A caller passes a higher ``low`` (e.g. -30) for the *typical* half of its draws (:func:`typical_draw`).

    Edge values (all equal, one dominant, tiny masses) come from hypothesis' float shrinking towards 0 and bounds.
    """
    ns = st.just(n) if isinstance(n, int) else n
    return ns.flatmap(lambda m: st.lists(_floats(low, 0.0), min_size=m, max_size=m).map(np.asarray))


#: the typical half of the draws (:func:`typical_draw`): log-weights within this of each other (masses >= 1e-13 of the
#: largest, so ``B0`` is far from ±1 in float64), margins and norms at least :data:`TYPICAL_MIN`
TYPICAL_LOW_LOG_WEIGHT = -30.0
TYPICAL_MIN = 1e-3


def typical_draw(draw: st.DrawFn) -> bool:
    """Whether this instance draws its parameters from the *typical* range, where a statement says more than a
    triviality (moderate masses, margins and norms ``>= 1e-3``) -- about half the instances -- or from the statement's
    full domain (the other half). The full domain is the shrinking target (``False``), so counterexample searches still
    shrink to the edges (``Δ = 0``, masses of 1e-300). Nothing is narrowed: the union of the two ranges is the full
    domain; the mix only keeps degenerate instances (``Δ = 0``, ``‖δ‖ = 0``, ``B0`` rounded to ±1) from crowding out
    the ones that test the statement (hypothesis draws the edges of a float range often).
    """
    return draw(st.booleans())


def _array(draw: st.DrawFn, elements: st.SearchStrategy, n: int, unique: bool = False) -> np.ndarray:
    """``n`` draws of ``elements`` (distinct if ``unique``), as an array."""
    return np.asarray(draw(st.lists(elements, min_size=n, max_size=n, unique=unique)))


def _log_weights(draw: st.DrawFn, n: int, typical: bool, low: float = MIN_LOG_WEIGHT) -> np.ndarray:
    """``n`` log-weights in ``[low, 0]`` (in ``[max(-30, low), 0]`` when :func:`typical_draw` chose ``typical``)."""
    return draw(log_weights(n, max(TYPICAL_LOW_LOG_WEIGHT, low) if typical else low))


def _normalise(logw: np.ndarray) -> np.ndarray:
    w = np.exp(logw - logw.max())
    return w / w.sum()


def probability_vectors(n: int | st.SearchStrategy[int]) -> st.SearchStrategy[np.ndarray]:
    """Strictly positive probability vectors of length ``n`` (entries down to about 1e-300), summing to 1."""
    return log_weights(n).map(_normalise)


def split_masses(n_plus: int, n_minus: int) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """A positive distribution over ``n_plus + n_minus`` tokens, returned as (aligned part, misaligned part)."""
    return probability_vectors(n_plus + n_minus).map(lambda p: (p[:n_plus], p[n_plus:]))
