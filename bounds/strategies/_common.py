"""Building blocks shared by the statement strategies."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

__all__ = ["log_weights", "probability_vectors", "split_masses"]

#: smallest log-weight generated: probabilities down to about 1e-300 (the numeric functions' documented range)
MIN_LOG_WEIGHT = -690.0


def log_weights(n: int | st.SearchStrategy[int]) -> st.SearchStrategy[np.ndarray]:
    """``n`` log-weights in ``[-690, 0]``: after normalisation, probabilities from about 1e-300 to 1.

    Edge values (all equal, one dominant, tiny masses) come from hypothesis' float shrinking towards 0 and bounds.
    """
    ns = st.just(n) if isinstance(n, int) else n
    return ns.flatmap(
        lambda m: st.lists(
            st.floats(MIN_LOG_WEIGHT, 0.0, allow_nan=False, allow_infinity=False), min_size=m, max_size=m
        ).map(np.asarray)
    )


def _normalise(logw: np.ndarray) -> np.ndarray:
    w = np.exp(logw - logw.max())
    return w / w.sum()


def probability_vectors(n: int | st.SearchStrategy[int]) -> st.SearchStrategy[np.ndarray]:
    """Strictly positive probability vectors of length ``n`` (entries down to about 1e-300), summing to 1."""
    return log_weights(n).map(_normalise)


def split_masses(n_plus: int, n_minus: int) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """A positive distribution over ``n_plus + n_minus`` tokens, returned as (aligned part, misaligned part)."""
    return probability_vectors(n_plus + n_minus).map(lambda p: (p[:n_plus], p[n_plus:]))
