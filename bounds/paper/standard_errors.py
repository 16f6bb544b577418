r"""Standard errors of the published means, from their published standard deviations and an assumed sample size.

The files give, at each :math:`\lambda`, the mean :math:`m` and the population standard deviation :math:`s`
(``ddof=0``) of :math:`n` scores that lie in a known range :math:`[\ell, h]`: a behavior score is ±1 per prompt
(:math:`[\ell,h]=[-1,1]`, and :math:`s=\sqrt{1-m^2}` exactly), a helpfulness score is a probability per question
(:math:`[0,1]`). :math:`n` is not in the files (the paper says about 100 prompts or questions), so it is a parameter.

**The rule (pseudo-counts).** The naive standard error :math:`s/\sqrt n` is 0 wherever every score is equal (a
behavior of exactly ±1, a helpfulness of 0 on every question): a weighted fit would divide by zero there, or, with a
tiny floor, let those points dominate. Instead each point gets :math:`c` pseudo-observations at each end of the range
(:data:`PSEUDO_COUNT` :math:`c=2`): with :math:`u=(x-\ell)/(h-\ell)\in[0,1]`, :math:`\bar u=(m-\ell)/(h-\ell)`,
:math:`s_u=s/(h-\ell)` and :math:`N=n+2c`,

.. math::

    \tilde u=\frac{n\bar u+c}{N},\qquad
    \tilde v=\frac{n(s_u^2+\bar u^2)+c}{N}-\tilde u^2,\qquad
    \mathrm{se}=(h-\ell)\sqrt{\tilde v/N}.

For a ±1 score this is **exactly the Agresti–Coull ("plus four") standard error** of the proportion
:math:`p=(1+B)/2` (:math:`\tilde p=(np+2)/(n+4)`, :math:`\mathrm{se}_p=\sqrt{\tilde p(1-\tilde p)/(n+4)}`, the centre
and width of their 95 % interval with :math:`z\approx2`), and :math:`\mathrm{se}_B=2\,\mathrm{se}_p`; for a score in
[0, 1] it is the same two-sided pseudo-count, applied to the first two moments. Why this rule: it is the standard
remedy for the zero-width Wald interval of a proportion at 0 or 1 (Agresti & Coull 1998; Brown, Cai & DasGupta 2001);
it is one rule for every point (no threshold at which the weight jumps), positive everywhere, and at a saturated point
it is about :math:`2\sqrt{2}/(n+4)` in :math:`B` (0.027 at :math:`n=100`), a third of the interior
:math:`\approx 1/\sqrt n`: such a point weighs about 13 interior points, not infinitely many. Away from the ends it
differs from :math:`s/\sqrt n` by :math:`O(1/n)`. ``pseudo=0`` gives the naive :math:`s/\sqrt n`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._check import as_real, check_integer
from ..errors import ParameterError

if TYPE_CHECKING:
    from .data import PaperCurve

__all__ = ["DEFAULT_N", "PSEUDO_COUNT", "count_granularity", "pseudo_count_se", "standard_errors"]

#: pseudo-observations added at each end of a score's range (Agresti–Coull "plus four": 2 + 2)
PSEUDO_COUNT = 2.0
#: the assumed prompts/questions per point (the paper: about 100 evaluation prompts, 100 MMLU test questions)
DEFAULT_N = 100
#: the range of each quantity's per-prompt score
RANGES = {"behavior": (-1.0, 1.0), "helpfulness": (0.0, 1.0)}


def check_n(n: object) -> int:
    """``n`` as an integer >= 2 (ParameterError naming ``n`` otherwise)."""
    try:
        return check_integer("n", n, 2)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"n: expected an integer >= 2 (the assumed prompts/questions per point), got {n!r}"
        ) from exc


def pseudo_count_se(
    mean: object, std: object, n: int, *, low: float, high: float, pseudo: float = PSEUDO_COUNT
) -> np.ndarray:
    r"""Standard errors of means of ``n`` scores in ``[low, high]`` by the pseudo-count rule (module docstring).

    Args:
        mean: published means, in ``[low, high]``.
        std: published population standard deviations (``ddof=0``), ``>= 0``, same shape.
        n: scores per mean, an integer ``>= 2``.
        low: the lower end of one score's range.
        high: the upper end, ``> low``.
        pseudo: pseudo-observations at each end, ``>= 0`` (0: the naive ``std / sqrt(n)``).

    Returns:
        the standard errors, same shape as ``mean``; positive wherever ``pseudo > 0``.

    Raises:
        ParameterError: a value out of range, NaN, or shapes that differ.
    """
    nn = check_n(n)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ParameterError(f"low and high: expected finite low < high, got {low!r}, {high!r}")
    if not (np.isfinite(pseudo) and pseudo >= 0):
        raise ParameterError(f"pseudo: expected a finite pseudo-count >= 0, got {pseudo!r}")
    try:
        m, s = as_real("mean", mean), as_real("std", std)
    except (TypeError, ValueError) as exc:
        raise ParameterError(str(exc)) from exc
    if m.shape != s.shape:
        raise ParameterError(f"std must have the shape of mean {m.shape}, got {s.shape}")
    width = high - low
    if np.any((m < low - 1e-12) | (m > high + 1e-12)):
        raise ParameterError(f"mean: every value must lie in [{low:g}, {high:g}]")
    if np.any(s < 0) or np.any(s > width / 2 + 1e-9):
        raise ParameterError(f"std: every value must lie in [0, {width / 2:g}] (half the score range)")
    u, su = (m - low) / width, s / width
    total = nn + 2.0 * pseudo
    u_t = (nn * u + pseudo) / total
    v_t = np.maximum((nn * (su**2 + u**2) + pseudo) / total - u_t**2, 0.0)
    return width * np.sqrt(v_t / total)


def standard_errors(curve: PaperCurve, n: int = DEFAULT_N, *, pseudo: float = PSEUDO_COUNT) -> np.ndarray:
    """:func:`pseudo_count_se` of a :class:`~bounds.paper.PaperCurve`'s points (its range from its quantity).

    Args:
        curve: the published curve.
        n: assumed prompts/questions per point, an integer ``>= 2`` (default :data:`DEFAULT_N`).
        pseudo: pseudo-observations at each end (default :data:`PSEUDO_COUNT`; 0 is the naive rule).

    Returns:
        one standard error per point of ``curve.lam``.
    """
    low, high = RANGES[curve.quantity]
    return pseudo_count_se(curve.mean, curve.std, n, low=low, high=high, pseudo=pseudo)


def count_granularity(curve: PaperCurve, *, n_max: int = 1000) -> int | None:
    r"""The smallest prompt count :math:`n\le` ``n_max`` for which every published behavior mean is a possible mean
    of :math:`n` scores ±1 (:math:`n(1+B)/2` an integer at every point); the true count is a multiple of it.

    ``None`` for a helpfulness curve (probabilities have no granularity) or when no :math:`n\le` ``n_max`` fits.
    """
    if curve.quantity != "behavior":
        return None
    p = (1.0 + np.asarray(curve.mean)) / 2.0
    for n in range(1, n_max + 1):
        k = n * p
        if np.all(np.abs(k - np.round(k)) < 1e-6):
            return n
    return None
