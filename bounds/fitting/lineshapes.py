r"""The fitted laws as plain numpy functions of :math:`\lambda` (lmfit ``lineshapes`` style; no lmfit import), each
with its :math:`\lambda`-derivative beside it.

A law takes ``lam`` first and its parameters as keywords with defaults, so :class:`lmfit.Model` wraps it directly
(:mod:`bounds.fitting.models`); it validates its inputs (a parameter outside its domain raises :class:`ValueError`
naming it) and returns a ``float`` for scalar inputs, else an array. A derivative ``<law>_dlam`` has the law's
signature and does plain numpy arithmetic (its inputs are the parameters of a fit). :func:`derivative_of` finds the
derivative of a model's function, including lmfit's own ``linear``, ``parabolic``, ``constant`` and ``polynomial``
(the comparison laws of :mod:`bounds.fitting.comparison`).

The laws and the sections of ``docs/specification.md`` that state them are listed in docs/api/fitting.md;
``functions`` lists the laws (it drives the parametrised tests, as in lmfit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._check import as_real, broadcast_shape, check_closed, check_integer, finish

__all__ = [
    "derivative_of",
    "expectation_form",
    "expectation_form_dlam",
    "functions",
    "restricted_form",
    "restricted_form_dlam",
    "tanh_law",
    "tanh_law_dlam",
    "theorem_2_form",
    "theorem_2_form_dlam",
]

#: the public laws, by name (drives the parametrised tests)
functions = ("tanh_law", "theorem_2_form", "restricted_form", "expectation_form")


def _reals(**named: object) -> list[np.ndarray]:
    """Each keyword as a finite float array (error names it); shapes must broadcast together."""
    arrays = {name: as_real(name, value) for name, value in named.items()}
    if any(arr.ndim for arr in arrays.values()):
        broadcast_shape(arrays)
    return list(arrays.values())


def tanh_law(lam: object, a: object = 1.0, b0: object = 0.0) -> float | np.ndarray:
    r"""The alignment law :math:`f(\lambda)=\tanh(a\lambda+b_0)` (the authors' fit of Theorem 1, docs/specification.md
    §13.3; the mapping to the theory is :class:`AlignmentModel`'s). Any finite real :math:`a` is accepted here.

    Args:
        lam: steering coefficient :math:`\lambda`, finite.
        a: slope in the argument, finite real.
        b0: offset :math:`b_0`, finite real.

    Returns:
        a float for scalar inputs, else the broadcast array, in :math:`(-1, 1)` (rounding to :math:`\pm1` for
        :math:`|a\lambda+b_0|\gtrsim19`).

    Raises:
        ValueError: NaN or infinite input, or shapes that do not broadcast.

    >>> round(tanh_law(2.0, a=0.5, b0=0.0), 6)
    0.761594
    """
    lm, av, bv = _reals(lam=lam, a=a, b0=b0)
    return finish(np.tanh(av * lm + bv))


def tanh_law_dlam(lam: Any, a: Any = 1.0, b0: Any = 0.0) -> Any:
    r"""The :math:`\lambda`-derivative of :func:`tanh_law`, :math:`a\,(1-\tanh^2(a\lambda+b_0))` (inputs unchecked)."""
    return a * (1.0 - np.tanh(a * lam + b0) ** 2)


def theorem_2_form(lam: object, a: object = 1.0, b: object = 1.0) -> float | np.ndarray:
    r"""Theorem 2's functional form :math:`T(\lambda)=\dfrac{1}{1+a\big(1+\tfrac12b^2\lambda^2\big)}` (eq. 6).

    Eq. (6) with :math:`a=\gamma(1-p_0)/p_0` and :math:`b=\alpha\beta\sigma` (:class:`Theorem2Model`). Even in
    :math:`\lambda` and in :math:`b`; Theorem 2 as a *bound* fails (docs/specification.md §6.3), the form is kept for
    fitting.

    Args:
        lam: :math:`\lambda`, finite.
        a: :math:`a\ge0`.
        b: :math:`b`, finite real (only :math:`b^2` enters).

    Returns:
        a float for scalar inputs, else the broadcast array, in :math:`[0, 1]`.

    Raises:
        ValueError: ``a < 0``, NaN or infinite input, or shapes that do not broadcast.

    >>> theorem_2_form(0.0, a=1.0, b=0.5)
    0.5
    """
    lm, av, bv = _reals(lam=lam, a=a, b=b)
    check_closed("a", av, 0.0, np.inf)
    with np.errstate(
        over="ignore", invalid="ignore"
    ):  # (bλ)² may overflow to inf: the form is then 0 (its limit), or 1 when a = 0
        quad = 1.0 + 0.5 * (bv * lm) ** 2
        out = 1.0 / (1.0 + np.where(av == 0.0, 0.0, av * quad))
    return finish(out)


def theorem_2_form_dlam(lam: Any, a: Any = 1.0, b: Any = 1.0) -> Any:
    r"""The :math:`\lambda`-derivative of :func:`theorem_2_form`, :math:`-T^2ab^2\lambda` (inputs unchecked)."""
    t = 1.0 / (1.0 + a * (1.0 + 0.5 * (b * lam) ** 2))
    return -(t**2) * a * b * b * lam


def restricted_form(lam: object, a: object = 1.0, b: object = 1.0, k: int = 4) -> float | np.ndarray:
    r"""The restricted-choice form :math:`(1-\tfrac2k)\,T(\lambda)+\tfrac1k` (Corollary 2's average,
    docs/specification.md §7).

    With :math:`T` = :func:`theorem_2_form` (:class:`RestrictedModel` has the mapping). The authors' ``0.5 T + 0.25``
    over the letters A–D is :math:`k=4`; at :math:`k=2` it is the constant ½.

    Args:
        lam: :math:`\lambda`, finite.
        a: :math:`a\ge0` of :math:`T`.
        b: :math:`b` of :math:`T`.
        k: number of answer options, an integer :math:`\ge2` (not a fitted parameter).

    Returns:
        a float for scalar inputs, else the broadcast array, in :math:`[1/k, 1-1/k]`.

    Raises:
        ValueError: ``a < 0``, ``k < 2``, NaN or infinite input, or shapes that do not broadcast.
        TypeError: non-integer ``k``.

    >>> restricted_form(0.0, a=1.0, b=0.5, k=4)
    0.5
    """
    kk = check_integer("k", k, 2)
    t = np.asarray(theorem_2_form(lam, a, b))
    return finish((1.0 - 2.0 / kk) * t + 1.0 / kk)


def restricted_form_dlam(lam: Any, a: Any = 1.0, b: Any = 1.0, k: int = 4) -> Any:
    r"""The :math:`\lambda`-derivative of :func:`restricted_form`, :math:`-(1-2/k)T^2ab^2\lambda` (inputs unchecked)."""
    t = 1.0 / (1.0 + a * (1.0 + 0.5 * (b * lam) ** 2))
    return -(1.0 - 2.0 / k) * t**2 * a * b * b * lam


def expectation_form(lam: object, p0: object = 0.5, c: object = 0.0) -> float | np.ndarray:
    r"""The second-order expected helpfulness of docs/specification.md §12.2(c): :math:`f(\lambda)=p_0\,(1-c\lambda^2)`.

    :math:`c=\alpha^2\sigma^2\big[p_0(1-p_0)-S_2\big]` (:class:`ExpectationModel`). A small-:math:`\lambda`
    approximation, not a bound: it leaves :math:`[0,1]` for large :math:`|\lambda|`.

    Args:
        lam: :math:`\lambda`, finite.
        p0: :math:`0\le p_0\le1`.
        c: curvature coefficient :math:`c`, any finite real.

    Returns:
        a float for scalar inputs, else the broadcast array.

    Raises:
        ValueError: ``p0`` outside :math:`[0,1]`, NaN or infinite input, shapes that do not broadcast, or
        :math:`c\lambda^2` beyond the float64 range.

    >>> expectation_form(2.0, p0=0.5, c=0.1)
    0.3
    """
    lm, pv, cv = _reals(lam=lam, p0=p0, c=c)
    check_closed("p0", pv, 0.0, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        out = pv * (1.0 - cv * lm**2)
    if not np.all(np.isfinite(out)):
        raise ValueError("expectation_form: c * lam**2 overflows float64; lam or c is far outside the small-λ range")
    return finish(out)


def expectation_form_dlam(lam: Any, p0: Any = 0.5, c: Any = 0.0) -> Any:
    r"""The :math:`\lambda`-derivative of :func:`expectation_form`, :math:`-2p_0c\lambda` (inputs unchecked)."""
    return -2.0 * p0 * c * lam


def _linear_dlam(x: Any, slope: Any = 1.0, intercept: Any = 0.0) -> Any:
    return np.full_like(x, slope)


def _parabolic_dlam(x: Any, a: Any = 0.0, b: Any = 0.0, c: Any = 0.0) -> Any:
    return b + 2.0 * a * x


def _constant_dlam(x: Any, c: Any = 0.0) -> Any:
    return np.zeros_like(x)


def _polynomial_dlam(
    x: Any, c0: Any = 0, c1: Any = 0, c2: Any = 0, c3: Any = 0, c4: Any = 0, c5: Any = 0, c6: Any = 0, c7: Any = 0
) -> Any:
    return np.polyval(np.polyder([c7, c6, c5, c4, c3, c2, c1, c0]), x)


#: the derivative of each model function, by ``module.name`` (lmfit's built-ins take ``x`` for ``lam``)
_DERIVATIVES: dict[str, Callable[..., Any]] = {
    f"{__name__}.tanh_law": tanh_law_dlam,
    f"{__name__}.theorem_2_form": theorem_2_form_dlam,
    f"{__name__}.restricted_form": restricted_form_dlam,
    f"{__name__}.expectation_form": expectation_form_dlam,
    "lmfit.lineshapes.linear": _linear_dlam,
    "lmfit.lineshapes.parabolic": _parabolic_dlam,
    "lmfit.models.constant": _constant_dlam,
    "lmfit.models.polynomial": _polynomial_dlam,
}


def derivative_of(func: Callable[..., Any]) -> Callable[..., Any] | None:
    """The :math:`\\lambda`-derivative of a law or lmfit lineshape (same signature), or ``None`` when unknown."""
    return _DERIVATIVES.get(f"{getattr(func, '__module__', '')}.{getattr(func, '__name__', '')}")
