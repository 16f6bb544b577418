r"""Which λ a headline estimate rests on: windows of the grid (the whole grid, λ > 0, the window α was fitted on),
the across-query mean of a per-query minimum over a window (the hard margin :math:`\Delta_q`), and how an estimate
read at one λ moves over the λ of a window (σ). Method: ``docs/api/validation-measure.md``, "Windows".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bounds._check import as_real
from bounds.errors import ParameterError

from ._common import AcrossQueries, Result, across_queries, check_level
from .assumption1 import Assumption1Result

__all__ = ["Spread", "Window", "alpha_window", "grid_window", "minimum_over", "spread_over"]


@dataclass(frozen=True)
class Window(Result):
    """A closed interval of λ and the grid points inside it.

    Attributes:
        name: a short key (``"whole_grid"``, ``"positive"``, ``"linear"``).
        text: the window in words for the report.
        low, high: the closed interval.
        lam: the grid points inside it, λ = 0 included when the grid has it (measurements defined only at
            λ ≠ 0 select their own points with :meth:`contains`).
    """

    name: str
    text: str
    low: float
    high: float
    lam: np.ndarray

    def contains(self, lam: object) -> np.ndarray:
        """Which entries of ``lam`` lie in ``[low, high]``."""
        lm = np.asarray(lam, dtype=float)
        return (lm >= self.low) & (lm <= self.high)


def grid_window(lam: object, name: str, low: float, high: float, text: str) -> Window:
    """The :class:`Window` ``[low, high]`` of the grid ``lam``.

    Raises:
        bounds.errors.ParameterError: (a ``ValueError``) ``low > high``, or no grid point inside.
    """
    lm = as_real("lam", lam)
    if lm.ndim != 1:
        raise ParameterError(f"lam must be a 1-D grid, got shape {lm.shape}")
    if not low <= high:
        raise ParameterError(f"window {name!r}: low = {low!r} must be <= high = {high!r}")
    inside = (lm >= low) & (lm <= high)
    if not inside.any():
        raise ParameterError(f"window {name!r} = [{low:g}, {high:g}] holds no point of lam")
    return Window(name, text, float(low), float(high), lm[inside])


def alpha_window(lam: object, a1: Assumption1Result) -> Window | None:
    r"""The window α was fitted on (Assumption 1, ``a1.alpha_side`` of ``delta_final``): ``|λ| ≤ L`` for the
    symmetric fit, ``0 ≤ λ ≤ L`` or ``−L ≤ λ ≤ 0`` for a one-sided one, ``L`` its ``window_up_to`` (the detected
    linear range, or the first window when none was found; ``text`` says which). ``None`` when α has no estimate.
    """
    side = a1.alpha_side
    if side is None:
        return None
    fit = a1.quantities["delta_final"].sides[side]
    L = float(fit.window_up_to)
    low, high = {"symmetric": (-L, L), "positive": (0.0, L), "negative": (-L, 0.0)}[side]
    where = {"symmetric": f"|λ| ≤ {L:.3g}", "positive": f"0 < λ ≤ {L:.3g}", "negative": f"{-L:.3g} ≤ λ < 0"}[side]
    how = "its linear range" if fit.linear else "the first window (no linear range was found)"
    return grid_window(lam, "linear", low, high, f"α's window {where} ({side} fit of Assumption 1, {how})")


def minimum_over(lam: object, values: object, window: Window, level: float = 0.95) -> tuple[np.ndarray, AcrossQueries]:
    r"""Per query, the minimum of ``values`` over the columns whose λ lies in ``window`` (e.g. the hard margin
    :math:`\Delta_q=\min_\lambda\Delta(q,\lambda)` valid on that window), and its mean across queries.

    Args:
        lam: the λ of the columns, 1-D (e.g. the grid without 0).
        values: shape ``(n_queries, len(lam))``, finite.
        window: the :class:`Window`; at least one column must lie in it.
        level: confidence level of the across-query interval.

    Raises:
        bounds.errors.ParameterError: (a ``ValueError``) shapes that do not match, no column in the window.
    """
    lm = as_real("lam", lam)
    V = as_real("values", values)
    if lm.ndim != 1 or V.ndim != 2 or V.shape[1] != lm.size or V.shape[0] == 0:
        raise ParameterError(f"values must have shape (n_queries, len(lam) = {lm.size}), got {V.shape}")
    inside = window.contains(lm)
    if not inside.any():
        raise ParameterError(f"window {window.name!r} = [{window.low:g}, {window.high:g}] holds no column of lam")
    per_query = V[:, inside].min(axis=1)
    return per_query, across_queries(per_query, check_level("level", level))


@dataclass(frozen=True)
class Spread(Result):
    """An estimate read at each λ of a window, against its headline value (``reference``).

    Attributes:
        window: the window in words.
        lam: the λ it was read at; values: the estimate at each.
        low, high: the smallest and the largest value; lam_low, lam_high: where.
        reference: the headline value; rel_low, rel_high: ``low / reference - 1`` and ``high / reference - 1``.
    """

    window: str
    lam: np.ndarray
    values: np.ndarray
    low: float
    high: float
    lam_low: float
    lam_high: float
    reference: float
    rel_low: float
    rel_high: float


def spread_over(lam: object, values: object, reference: float, window: str) -> Spread:
    """The :class:`Spread` of ``values`` (one per entry of ``lam``, finite) around ``reference`` (finite, non-zero).

    Raises:
        bounds.errors.ParameterError: (a ``ValueError``) empty or mismatched inputs, a zero or non-finite reference.
    """
    lm, v = as_real("lam", lam), as_real("values", values)
    if lm.ndim != 1 or lm.size == 0 or v.shape != lm.shape:
        raise ParameterError(f"values must have the shape of lam {lm.shape} (at least one), got {v.shape}")
    ref = float(as_real("reference", reference))
    if ref == 0:
        raise ParameterError("reference must be non-zero (the spread is relative to it)")
    i, j = int(np.argmin(v)), int(np.argmax(v))
    lo, hi = float(v[i]), float(v[j])
    return Spread(window, lm, v, lo, hi, float(lm[i]), float(lm[j]), ref, lo / ref - 1.0, hi / ref - 1.0)
