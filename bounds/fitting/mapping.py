r"""From fitted parameters to the theory's quantities (docs/specification.md §4, §6.1), with first-order error
propagation.

Each input is a plain value (float or array), a ``(value, stderr)`` pair or an :class:`lmfit.Parameter`. The result is
a plain value when no input carries an uncertainty, else ``(value, stderr)`` propagated to first order with the inputs
independent. Exact reparametrisations, never rescalings (no ``b/2.5``, docs/specification.md §13.3). Imports no
lmfit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._check import as_real, broadcast_shape, check_closed, check_open, finish

__all__ = [
    "alpha_delta_from_tanh",
    "b0_from_B0",
    "gamma_from_theorem_2",
    "sigma_from_theorem_2",
]


def _value_se(name: str, x: object) -> tuple[np.ndarray, np.ndarray | None]:
    """``x`` as ``(value, stderr or None)``: a plain number/array, a ``(value, stderr)`` pair or a Parameter."""
    if hasattr(x, "value") and hasattr(x, "stderr") and not isinstance(x, np.ndarray):
        value, se = x.value, x.stderr  # an lmfit.Parameter (stderr None when not estimated)
    elif isinstance(x, tuple):
        if len(x) != 2:
            raise ValueError(f"{name} must be a value, a (value, stderr) pair or an lmfit.Parameter, got {x!r}")
        value, se = x
    else:
        value, se = x, None
    v = as_real(name, value)
    if se is None:
        return v, None
    s = check_closed(f"{name} stderr", as_real(f"{name} stderr", se), 0.0, np.inf)
    broadcast_shape({name: v, f"{name} stderr": s})
    return v, s


def _out(value: np.ndarray, terms: list[np.ndarray | None]) -> Any:
    """``value``, or ``(value, stderr)`` with ``stderr² = Σ term²`` when any input had a stderr."""
    present = [t for t in terms if t is not None]
    if not present:
        return finish(value)
    var = sum(np.asarray(t, dtype=float) ** 2 for t in present)
    shape = np.broadcast_shapes(np.shape(value), np.shape(var))
    return finish(np.broadcast_to(value, shape)), finish(np.sqrt(np.broadcast_to(var, shape)))


def _term(derivative: np.ndarray, se: np.ndarray | None) -> np.ndarray | None:
    return None if se is None else derivative * se


def b0_from_B0(B0: object) -> Any:
    r""":math:`b_0=\operatorname{artanh}B_0`, the offset of :class:`AlignmentModel` fixed by a measured :math:`B_0`.

    Stderr: :math:`\mathrm{se}(B_0)/(1-B_0^2)`.

    Args:
        B0: unsteered behavior expectation, :math:`-1<B_0<1` (value, ``(value, stderr)`` or Parameter).

    Returns:
        :math:`b_0` (float/array), or ``(b0, stderr)``.

    Raises:
        ValueError: :math:`|B_0|\ge1`: :math:`\operatorname{artanh}(\pm1)=\pm\infty`, so a saturated unsteered
            behavior (e.g. the chat models of docs/specification.md §13.3) cannot fix :math:`b_0`; fit it free instead.
    """
    v, se = _value_se("B0", B0)
    if np.any(np.abs(v) >= 1.0):
        raise ValueError(
            f"B0 must lie in the open interval (-1, 1), got {float(v.ravel()[np.argmax(np.abs(v.ravel()))])}: "
            "artanh(B0) is infinite at B0 = ±1 (a saturated unsteered behavior, e.g. the chat models of "
            "docs/specification.md §13.3), so b0 cannot be fixed to it; fit b0 free with AlignmentModel()"
        )
    return _out(np.arctanh(v), [_term(1.0 / (1.0 - v**2), se)])


def alpha_delta_from_tanh(a: object) -> Any:
    r""":math:`\alpha\Delta=2a` from the slope :math:`a` of :math:`\tanh(a\lambda+b_0)`.

    Theorem 1 with the ½ and :math:`\Delta` the **full** gap (docs/specification.md §4). Stderr:
    :math:`2\,\mathrm{se}(a)`.

    Args:
        a: fitted :math:`a\ge0` (value, ``(value, stderr)`` or Parameter).

    Returns:
        :math:`\alpha\Delta`, or ``(alpha_delta, stderr)``.

    Raises:
        ValueError: :math:`a<0` (steering away from the aligned set: fit :math:`-\lambda`), NaN or infinite.
    """
    v, se = _value_se("a", a)
    check_closed("a", v, 0.0, np.inf)
    return _out(2.0 * v, [_term(np.asarray(2.0), se)])


def gamma_from_theorem_2(a: object, p0: object) -> Any:
    r""":math:`\gamma=a\,p_0/(1-p_0)` from Theorem 2's fitted :math:`a=\gamma(1-p_0)/p_0` and a measured :math:`p_0`.

    :math:`\gamma\le1` (docs/specification.md §6.1); a value above 1 is returned as is: the form or the :math:`p_0` used
    (e.g. a dataset average, §13.3) does not describe the data. Stderr to first order in :math:`a, p_0`.

    Args:
        a: fitted :math:`a\ge0` (value, ``(value, stderr)`` or Parameter).
        p0: unsteered probability of the correct answer, :math:`0<p_0<1` (value, pair or Parameter).

    Returns:
        :math:`\gamma`, or ``(gamma, stderr)``.

    Raises:
        ValueError: :math:`a<0`, :math:`p_0\notin(0,1)`, NaN/inf, or shapes that do not broadcast.
    """
    av, ase = _value_se("a", a)
    pv, pse = _value_se("p0", p0)
    check_closed("a", av, 0.0, np.inf)
    check_open("p0", pv, 0.0, 1.0)
    broadcast_shape({"a": av, "p0": pv})
    odds = pv / (1.0 - pv)
    return _out(av * odds, [_term(odds, ase), _term(av / (1.0 - pv) ** 2, pse)])


def sigma_from_theorem_2(b: object, alpha: object, beta: object) -> Any:
    r""":math:`\sigma=b/(\alpha\beta)` from Theorem 2's fitted :math:`b=\alpha\beta\sigma`.

    .. warning::

        **β must be given, and chosen with care (docs/specification.md §6.1):** :math:`\beta=\min(Y^+,Y^-)` is about
        0.47/0.54/0.58 at :math:`k=4/10/50`, well below the paper's 0.8, which understates σ by 1.4–1.7×. σ is the
        **within-query** spread of each projection; a fit to a dataset average mixes queries' β and σ (§13.3).

    Stderr: :math:`\sigma\sqrt{(\mathrm{se}_b/b)^2+(\mathrm{se}_\alpha/\alpha)^2+(\mathrm{se}_\beta/\beta)^2}`.

    Args:
        b: fitted :math:`b\ge0` (value, ``(value, stderr)`` or Parameter).
        alpha: :math:`\alpha>0` of Assumption 1 (value, pair or Parameter).
        beta: :math:`\beta>0`, no default (value, pair or Parameter).

    Returns:
        :math:`\sigma`, or ``(sigma, stderr)``.

    Raises:
        ValueError: :math:`b<0`, :math:`\alpha\le0`, :math:`\beta\le0`, NaN/inf, or shapes that do not broadcast.
    """
    bv, bse = _value_se("b", b)
    alv, alse = _value_se("alpha", alpha)
    btv, btse = _value_se("beta", beta)
    check_closed("b", bv, 0.0, np.inf)
    check_open("alpha", alv, 0.0, np.inf)
    check_open("beta", btv, 0.0, np.inf)
    broadcast_shape({"b": bv, "alpha": alv, "beta": btv})
    sigma = bv / (alv * btv)
    return _out(sigma, [_term(1.0 / (alv * btv), bse), _term(sigma / alv, alse), _term(sigma / btv, btse)])
