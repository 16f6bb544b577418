r""":class:`lmfit.Model` wrappers of the fitted laws of :mod:`bounds.fitting.lineshapes` in the independent variable
``lam``, with the bounds the mathematics requires as parameter hints and a data-driven ``guess(data, lam=...)``
(keyword arguments override single guessed values, as in lmfit). Each docstring states how the parameters map to
:math:`\alpha, \Delta, \beta, \sigma, \gamma, p_0`; :mod:`bounds.fitting.mapping` computes those. No fitted parameter
is rescaled (the authors' plotted ``b/2.5``, docs/specification.md §13.3, is a plotting quirk). Imports lmfit.
"""

from __future__ import annotations

from typing import Any

import lmfit
import numpy as np
from lmfit.models import update_param_vals

from .._check import as_real, check_integer
from .lineshapes import expectation_form, restricted_form, tanh_law, theorem_2_form

__all__ = ["AlignmentModel", "ExpectationModel", "RestrictedModel", "Theorem2Model"]

#: ``guess`` ignores points with ``|y| >= _SATURATED`` when linearising the tanh law (artanh is too steep there)
_SATURATED = 0.995
#: smallest positive starting value of a parameter bounded below by 0: lmfit's bound transform has zero gradient
#: exactly at the bound, so a start *on* the bound could stall the fit
_START_FRACTION = 1e-3

#: the docstring shared by every model's ``__init__`` (lmfit's ``COMMON_INIT_DOC``)
_INIT_DOC = """The model in ``lam`` with its parameter hints.

Args:
    prefix: lmfit parameter-name prefix.
    nan_policy: lmfit's NaN policy (default ``"raise"``).
    **kwargs: passed to :class:`lmfit.Model`.
"""
#: the docstring shared by every model's ``guess`` (lmfit's ``COMMON_GUESS_DOC``), after the model's method
_GUESS_DOC = """Starting values from the data: {how}

Args:
    data: the curve to fit, 1-D.
    lam: the steering coefficients of ``data``.
    **kwargs: override single starting values (``name=value``).

Returns:
    :class:`lmfit.Parameters` with the model's hints applied.

Raises:
    ValueError: missing ``lam``, shapes that differ, NaN or infinite values.
"""


def _guess_inputs(data: object, lam: object) -> tuple[np.ndarray, np.ndarray]:
    """``data`` and ``lam`` as finite 1-D float arrays of equal length (errors name them)."""
    if lam is None:
        raise ValueError("lam is required: guess(data, lam=...) needs the steering coefficients of the data")
    y = as_real("data", data)
    lm = as_real("lam", lam)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"data must be a non-empty 1-D array, got shape {y.shape}")
    if lm.shape != y.shape:
        raise ValueError(f"lam must have the shape of data {y.shape}, got {lm.shape}")
    return y, lm


def _scale(lam: np.ndarray) -> float:
    """A positive λ scale of the data (max |λ|, or 1 when every λ is 0)."""
    m = float(np.max(np.abs(lam)))
    return m if m > 0 else 1.0


def _weighted_line(x: np.ndarray, z: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least squares ``z ≈ c0 + c1 x``; returns ``(c0, c1)`` (``c1 = 0`` when ``x`` is constant)."""
    sw = np.sqrt(w)
    design = np.column_stack([np.ones_like(x), x]) * sw[:, None]
    coef, *_ = np.linalg.lstsq(design, z * sw, rcond=None)
    return float(coef[0]), float(coef[1])


class _LamModel(lmfit.Model):
    """Base of the models here: the law ``_law`` as an :class:`lmfit.Model` in ``lam``, with the hints of
    :meth:`_set_paramhints_prefix` (which lmfit's constructor does not apply by itself)."""

    _law: Any = None

    def __init__(self, *, prefix: str = "", nan_policy: str = "raise", **kwargs: Any):
        kwargs.update({"prefix": prefix, "nan_policy": nan_policy, "independent_vars": ["lam"]})
        super().__init__(self._law, **kwargs)
        self._set_paramhints_prefix()

    __init__.__doc__ = _INIT_DOC


class AlignmentModel(_LamModel):
    r"""The alignment law of :func:`tanh_law`,

    .. math::

        f(\lambda; a, b_0) = \tanh(a\lambda + b_0), \qquad a \ge 0 .

    **Mapping.** Theorem 1 (eq. 5, docs/specification.md §4) with the ½ and :math:`\Delta` the *full* gap gives
    :math:`a = \alpha\Delta/2` (:func:`~bounds.fitting.alpha_delta_from_tanh`; without the ½ it would be
    :math:`\alpha\Delta=a`) and :math:`b_0 = \operatorname{artanh}B_0`.

    **b0 free or fixed.** ``AlignmentModel()`` leaves :math:`b_0` free, as the authors did (docs/specification.md
    §13.3; e.g. −8.35 for the chat model, whose :math:`B_0=-1`). ``AlignmentModel(b0=np.arctanh(B0))`` (or
    :meth:`from_B0`) fixes it at the measured value, as Theorem 1 prescribes, and fits :math:`a` alone; a measured
    :math:`B_0=\pm1` cannot be fixed. The hint :math:`a\ge0` encodes steering *towards* the aligned set; for a curve
    that falls with :math:`\lambda`, fit :math:`-\lambda` (docs/specification.md §0).

    Parameters: ``a`` (hint ``min=0``), ``b0`` (finite; fixed when given).

    Args:
        b0: ``None`` (free :math:`b_0`) or the finite value to fix :math:`b_0` at.
        prefix, nan_policy, **kwargs: as in every model (:data:`_INIT_DOC`).

    Raises:
        ValueError: ``b0`` NaN or infinite (the message explains the :math:`B_0=\pm1` case).
    """

    _law = staticmethod(tanh_law)

    def __init__(self, b0: float | None = None, *, prefix: str = "", nan_policy: str = "raise", **kwargs: Any):
        if b0 is not None:
            value = as_real("b0", b0, allow_inf=True)
            if value.ndim != 0:
                raise ValueError(f"b0 must be None or a single finite real number, got shape {value.shape}")
            if np.isinf(value):
                raise ValueError(
                    f"b0 must be finite, got {float(value)}: b0 = artanh(B0) is infinite for a measured B0 = ±1 "
                    "(a saturated unsteered behavior, e.g. the chat models of docs/specification.md §13.3), so it "
                    "cannot be fixed; leave b0 free with AlignmentModel() (the authors' free fit found b0 ≈ -8.3 there)"
                )
            b0 = float(value)
        self.b0 = b0
        super().__init__(prefix=prefix, nan_policy=nan_policy, **kwargs)

    @classmethod
    def from_B0(cls, B0: float, **kwargs: Any) -> AlignmentModel:
        r"""The model with :math:`b_0=\operatorname{artanh}B_0` fixed, from a measured :math:`-1<B_0<1`.

        Raises:
            ValueError: :math:`|B_0|\ge1` (the message explains why :math:`B_0=\pm1` cannot be fixed).
        """
        from .mapping import b0_from_B0

        return cls(b0=b0_from_B0(B0), **kwargs)

    def _set_paramhints_prefix(self) -> None:
        self.set_param_hint("a", min=0.0)
        if self.b0 is None:
            self.set_param_hint("b0", vary=True)
        else:
            self.set_param_hint("b0", value=self.b0, vary=False)

    def guess(self, data: object, lam: object = None, **kwargs: Any) -> lmfit.Parameters:
        y, lm = _guess_inputs(data, lam)
        scale = _scale(lm)
        inside = np.abs(y) < _SATURATED
        need = 1 if self.b0 is not None else 2
        if inside.sum() >= need and (self.b0 is not None or np.ptp(lm[inside]) > 0):
            x, z = lm[inside], np.arctanh(y[inside])
            w = (1.0 - y[inside] ** 2) ** 2
            if self.b0 is not None:
                den = float(np.sum(w * x * x))
                a = float(np.sum(w * x * (z - self.b0))) / den if den > 0 else 1.0 / scale
                b0 = self.b0
            else:
                b0, a = _weighted_line(x, z, w)
        else:
            a = 2.0 / scale
            order = np.argsort(lm)
            ys, xs = y[order], lm[order]
            cross = np.nonzero(np.diff(np.sign(ys)) != 0)[0]
            if cross.size:
                b0 = -a * float(xs[cross[0]] + xs[cross[0] + 1]) / 2.0
            else:
                b0 = float(np.sign(np.mean(y))) * 3.0
            if self.b0 is not None:
                b0 = self.b0
        a = max(a, _START_FRACTION / scale)
        pars = self.make_params(a=a) if self.b0 is not None else self.make_params(a=a, b0=b0)
        return update_param_vals(pars, self.prefix, **kwargs)

    guess.__doc__ = _GUESS_DOC.format(
        how=r"""weighted least squares of :math:`\operatorname{artanh}y` on :math:`\lambda` over the points with
:math:`|y|<0.995`, weights :math:`(1-y^2)^2` (the variance of :math:`\operatorname{artanh}y` grows like
:math:`(1-y^2)^{-2}`); with :math:`b_0` fixed only :math:`a`. With fewer usable points (saturated data), :math:`a`
from the λ range and :math:`b_0` from the sign change of :math:`y`. The guessed :math:`a` is strictly positive."""
    )


class Theorem2Model(_LamModel):
    r"""Theorem 2's form (:func:`theorem_2_form`),

    .. math::

        f(\lambda; a, b) = \frac{1}{1 + a\big(1 + \tfrac12 b^2\lambda^2\big)}, \qquad a\ge0,\ b\ge0 .

    **Mapping** (eq. 6, docs/specification.md §6.1): :math:`a=\gamma(1-p_0)/p_0` and :math:`b=\alpha\beta\sigma`, so
    :math:`\gamma=a\,p_0/(1-p_0)` (:func:`~bounds.fitting.gamma_from_theorem_2`) and :math:`\sigma=b/(\alpha\beta)`
    (:func:`~bounds.fitting.sigma_from_theorem_2`). **Caution (§6.1):** :math:`\beta=\min(Y^+,Y^-)` is about
    0.47/0.54/0.58 at :math:`k=4/10/50`, well below the paper's :math:`\sqrt{2/\pi}\approx0.8`; say which β is used.
    :math:`\gamma,\beta,p_0` are per query, so a fit to a dataset average (§13.3) estimates no single query's values.
    Theorem 2 as a bound fails (§6.3); this is the form researchers fit.

    Parameters: ``a`` (hint ``min=0``), ``b`` (hint ``min=0``; the form depends on :math:`b^2` only).
    """

    _law = staticmethod(theorem_2_form)

    def _set_paramhints_prefix(self) -> None:
        self.set_param_hint("a", min=0.0)
        self.set_param_hint("b", min=0.0)

    def guess(self, data: object, lam: object = None, **kwargs: Any) -> lmfit.Parameters:
        t, lm = _guess_inputs(data, lam)
        ok = (t > 1e-6) & (t <= 1.0)
        if ok.sum() >= 2 and np.ptp(lm[ok]) > 0:
            # the variance of 1/t grows like t^-4: weight the linearised points by t^4
            a, s = _weighted_line(lm[ok] ** 2, 1.0 / t[ok] - 1.0, t[ok] ** 4)
        else:
            a, s = 1.0, 0.0
        a = max(a, _START_FRACTION)
        b = np.sqrt(2.0 * s / a) if s > 0 else 0.0
        b = max(float(b), _START_FRACTION / _scale(lm))
        return update_param_vals(self.make_params(a=a, b=b), self.prefix, **kwargs)

    guess.__doc__ = _GUESS_DOC.format(
        how=r"""weighted least squares of :math:`1/y-1=a+\tfrac{ab^2}{2}\lambda^2` on :math:`\lambda^2` over the
points with :math:`0<y\le1`, weights :math:`y^4`; both values strictly positive."""
    )


class RestrictedModel(Theorem2Model):
    r"""The restricted-choice form (:func:`restricted_form`), :math:`T` of :class:`Theorem2Model`, :math:`k` fixed,

    .. math::

        f(\lambda; a, b) = \Big(1-\frac2k\Big)\,T(\lambda; a, b) + \frac1k, \qquad k\in\{3,4,\dots\}.

    **Mapping** (docs/specification.md §7): Corollary 2's average over the three noise cases, :math:`k` the number of
    answer options (the authors' ``0.5 T + 0.25`` over A–D is :math:`k=4`); :math:`a, b` map as in
    :class:`Theorem2Model`, with the same caution on β. :math:`k` is not fitted.

    Parameters: ``a`` (hint ``min=0``), ``b`` (hint ``min=0``).

    Args:
        k: number of answer options, an integer :math:`\ge3` (at :math:`k=2` the form is the constant ½).
        prefix, nan_policy, **kwargs: as in every model (:data:`_INIT_DOC`).

    Raises:
        TypeError: non-integer ``k``.
        ValueError: ``k < 3``.
    """

    _law = staticmethod(restricted_form)

    def __init__(self, k: int, *, prefix: str = "", nan_policy: str = "raise", **kwargs: Any):
        kk = check_integer("k", k, 2)
        if kk == 2:
            raise ValueError(
                "k must be an integer >= 3 for RestrictedModel, got 2: at k = 2 the form (1 - 2/k) T + 1/k is the "
                "constant 1/2, so a and b cannot be fitted"
            )
        self.k = kk
        super().__init__(prefix=prefix, nan_policy=nan_policy, param_names=["a", "b"], k=kk, **kwargs)

    def guess(self, data: object, lam: object = None, **kwargs: Any) -> lmfit.Parameters:
        y, lm = _guess_inputs(data, lam)
        return super().guess((y - 1.0 / self.k) / (1.0 - 2.0 / self.k), lam=lm, **kwargs)

    guess.__doc__ = _GUESS_DOC.format(
        how=r"""undo the mixture, :math:`T=(y-1/k)/(1-2/k)`, then as :meth:`Theorem2Model.guess`."""
    )


class ExpectationModel(_LamModel):
    r"""The expectation form of docs/specification.md §12.2(c) (:func:`expectation_form`),

    .. math::

        f(\lambda; p_0, c) = p_0\,(1 - c\,\lambda^2), \qquad
        c = \alpha^2\sigma^2\Big[p_0(1-p_0) - \sum_{b\ne a^*}P(b\mid q)^2\Big].

    **Mapping:** :math:`p_0` is the unsteered probability of the correct answer and :math:`c` the curvature of
    :math:`\mathbb E_z[H]`; given :math:`p_0` and :math:`S_2=\sum_{b\ne a^*}p_b^2`,
    :math:`\alpha\sigma=\sqrt{c/(p_0(1-p_0)-S_2)}`. :math:`c` has **no sign constraint** (negative for confidently
    wrong models). A small-:math:`\lambda` expansion: fit it on a window around :math:`\lambda=0`.

    Parameters: ``p0`` (hints ``min=0, max=1``), ``c`` (free).
    """

    _law = staticmethod(expectation_form)

    def _set_paramhints_prefix(self) -> None:
        self.set_param_hint("p0", min=0.0, max=1.0)
        self.set_param_hint("c", vary=True)

    def guess(self, data: object, lam: object = None, **kwargs: Any) -> lmfit.Parameters:
        y, lm = _guess_inputs(data, lam)
        if y.size >= 2 and np.ptp(lm**2) > 0:
            p0, slope = _weighted_line(lm**2, y, np.ones_like(y))
        else:
            p0, slope = float(np.mean(y)), 0.0
        p0 = min(max(p0, _START_FRACTION), 1.0 - _START_FRACTION)
        pars = self.make_params(p0=p0, c=-slope / p0)
        return update_param_vals(pars, self.prefix, **kwargs)

    guess.__doc__ = _GUESS_DOC.format(
        how=r"""least squares of :math:`y=p_0-p_0c\,\lambda^2` on :math:`\lambda^2`; :math:`p_0` is the intercept,
moved strictly inside :math:`(0,1)`, and :math:`c=-\text{slope}/p_0`."""
    )
