r""":class:`lmfit.Model` wrappers of the fitted laws, with parameter hints and data-driven :meth:`guess`.

Each model wraps one pure function of :mod:`bounds.fitting.lineshapes` with the independent variable ``lam``
(:math:`\lambda`), sets the bounds the mathematics requires as parameter hints, and has
``guess(data, lam=..., **kwargs)`` returning :class:`lmfit.Parameters` (keyword arguments override single guessed
values, as in lmfit). The docstring of each model states the law and how its parameters map to the theory's
:math:`\alpha, \Delta, \beta, \sigma, \gamma, p_0` (docs/specification.md §4, §6.1, §7, §12.2c);
:mod:`bounds.fitting.mapping` turns fitted values into those quantities. Nothing here rescales a fitted parameter (the
authors' plotted ``b/2.5`` is a plotting quirk of their notebooks, docs/specification.md §13.3, not theory).

Importing this module imports :mod:`lmfit`.
"""

from __future__ import annotations

from typing import Any

import lmfit
import numpy as np
from lmfit.models import update_param_vals

from .._check import as_real, check_integer
from .lineshapes import (
    expectation_form,
    flat_form,
    linear_form,
    quadratic_form,
    restricted_form,
    tanh_law,
    theorem_2_form,
)

__all__ = [
    "AlignmentModel",
    "ExpectationModel",
    "FlatModel",
    "LinearModel",
    "QuadraticModel",
    "RestrictedModel",
    "Theorem2Model",
]

#: ``guess`` ignores points with ``|y| >= _SATURATED`` when linearising the tanh law (artanh is too steep there)
_SATURATED = 0.995
#: smallest positive starting value of a parameter bounded below by 0: lmfit's bound transform has zero gradient
#: exactly at the bound, so a start *on* the bound could stall the fit
_START_FRACTION = 1e-3


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


def _guess_theorem_2(t: np.ndarray, lam: np.ndarray) -> tuple[float, float]:
    r"""Starting ``(a, b)`` for :math:`t=1/(1+a+\tfrac{a b^2}{2}\lambda^2)`.

    Linearises :math:`1/t-1=a+\tfrac{ab^2}{2}\lambda^2` on the points with :math:`0<t\le1`, weighting by
    :math:`t^4` (the variance of :math:`1/t` grows like :math:`t^{-4}`), and keeps both values positive.
    """
    ok = (t > 1e-6) & (t <= 1.0)
    scale = _scale(lam)
    if ok.sum() >= 2 and np.ptp(lam[ok]) > 0:
        a, s = _weighted_line(lam[ok] ** 2, 1.0 / t[ok] - 1.0, t[ok] ** 4)
    else:
        a, s = 1.0, 0.0
    a = max(a, _START_FRACTION)
    s = max(s, 0.0)
    b = np.sqrt(2.0 * s / a) if s > 0 else 0.0
    return a, max(float(b), _START_FRACTION / scale)


class _LamModel(lmfit.Model):
    """Base of the models of this module: the law ``_law`` of :mod:`bounds.fitting.lineshapes` as an
    :class:`lmfit.Model` in the independent variable ``lam``, with the parameter hints of
    :meth:`_set_paramhints_prefix` (which lmfit's constructor does not apply by itself)."""

    _law: Any = None

    def __init__(self, *, prefix: str = "", nan_policy: str = "raise", **kwargs: Any):
        kwargs.update({"prefix": prefix, "nan_policy": nan_policy, "independent_vars": ["lam"]})
        super().__init__(self._law, **kwargs)
        self._set_paramhints_prefix()


class AlignmentModel(_LamModel):
    r"""The alignment law :math:`B(\lambda)=\tanh(a\lambda+b_0)` (:func:`~bounds.fitting.lineshapes.tanh_law`).

    .. math::

        f(\lambda; a, b_0) = \tanh(a\lambda + b_0), \qquad a \ge 0 .

    **Mapping.** Theorem 1 (eq. 5, docs/specification.md §4) with the ½ and :math:`\Delta` the *full* gap between
    aligned and misaligned projections gives the bound :math:`\tanh(\alpha\Delta\lambda/2+\operatorname{artanh}B_0)`, so

    * :math:`a = \alpha\Delta/2`, i.e. :math:`\alpha\Delta = 2a` (:func:`~bounds.fitting.alpha_delta_from_tanh`);
      without the ½ (a half-gap :math:`\Delta`) it would be :math:`\alpha\Delta=a`;
    * :math:`b_0 = \operatorname{artanh}B_0`, with :math:`B_0` the unsteered behavior expectation.

    **b0 free or fixed.** ``AlignmentModel()`` leaves :math:`b_0` free, as the authors did (docs/specification.md
    §13.3); a free :math:`b_0` need not equal :math:`\operatorname{artanh}B_0` (e.g. −8.35 for the chat model, whose
    :math:`B_0=-1`). ``AlignmentModel(b0=np.arctanh(B0))`` (or :meth:`from_B0`) fixes :math:`b_0`
    (``vary=False``) at the measured value, as Theorem 1 prescribes, and fits :math:`a` alone. A measured
    :math:`B_0=\pm1` has :math:`\operatorname{artanh}B_0=\pm\infty` and cannot be fixed: leave :math:`b_0` free.

    Parameters: ``a`` (hint ``min=0``), ``b0`` (finite; fixed when given). The bound :math:`a\ge0` encodes steering
    *towards* the aligned set; for a curve that falls with :math:`\lambda`, fit :math:`-\lambda` (docs/specification.md
    §0).

    Args:
        b0: ``None`` (free :math:`b_0`) or the finite value to fix :math:`b_0` at.
        prefix: lmfit parameter-name prefix.
        nan_policy: lmfit's NaN policy (default ``"raise"``).
        **kwargs: passed to :class:`lmfit.Model`.

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
        r"""Starting values from the data: weighted least squares of :math:`\operatorname{artanh}y` on :math:`\lambda`.

        Uses the points with :math:`|y|<0.995` and weights :math:`(1-y^2)^2` (the variance of
        :math:`\operatorname{artanh}y` grows like :math:`(1-y^2)^{-2}`); with :math:`b_0` fixed only :math:`a` is
        estimated. When fewer points are usable (saturated data), :math:`a` is set from the data's λ range and
        :math:`b_0` from the sign change of :math:`y`. The guessed :math:`a` is kept strictly positive.

        Args:
            data: behavior expectations :math:`B(\lambda)`, 1-D.
            lam: the steering coefficients of ``data``.
            **kwargs: override single starting values (``a=...``, ``b0=...``).

        Returns:
            :class:`lmfit.Parameters` with the model's hints applied.

        Raises:
            ValueError: missing ``lam``, shapes that differ, NaN or infinite values.
        """
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


class Theorem2Model(_LamModel):
    r"""Theorem 2's form :math:`T(\lambda)=1/\big(1+a(1+b^2\lambda^2/2)\big)` (:func:`theorem_2_form`).

    .. math::

        f(\lambda; a, b) = \frac{1}{1 + a\big(1 + \tfrac12 b^2\lambda^2\big)}
        = \frac{p_0}{p_0+\gamma(1-p_0)\big(1+\tfrac12(\alpha\beta\sigma\lambda)^2\big)},
        \qquad a\ge0,\ b\ge0 .

    **Mapping** (eq. 6, docs/specification.md §6.1): :math:`a=\gamma(1-p_0)/p_0` and :math:`b=\alpha\beta\sigma`. Hence
    :math:`\gamma=a\,p_0/(1-p_0)` given a measured :math:`p_0` (:func:`~bounds.fitting.gamma_from_theorem_2`)
    and :math:`\sigma=b/(\alpha\beta)` given :math:`\alpha` and :math:`\beta`
    (:func:`~bounds.fitting.sigma_from_theorem_2`).
    **Caution (docs/specification.md §6.1):** :math:`\beta=\min(Y^+,Y^-)` is about 0.47/0.54/0.58 at :math:`k=4/10/50`,
    well below the :math:`\sqrt{2/\pi}\approx0.8` of the paper's A.3; say which β is used. :math:`\gamma,\beta,p_0` are
    per query, so a fit to a dataset average (as the authors did, §13.3) estimates no single query's values.

    Theorem 2 as a bound fails (docs/specification.md §6.3); this is the functional form researchers fit. The fitted
    :math:`b` is reported as fitted: the authors' ``b/2.5`` in their plots is not part of the theory.

    Parameters: ``a`` (hint ``min=0``), ``b`` (hint ``min=0``; the form depends on :math:`b^2` only).

    Args:
        prefix: lmfit parameter-name prefix.
        nan_policy: lmfit's NaN policy (default ``"raise"``).
        **kwargs: passed to :class:`lmfit.Model`.
    """

    _law = staticmethod(theorem_2_form)

    def _set_paramhints_prefix(self) -> None:
        self.set_param_hint("a", min=0.0)
        self.set_param_hint("b", min=0.0)

    def guess(self, data: object, lam: object = None, **kwargs: Any) -> lmfit.Parameters:
        r"""Starting values: weighted least squares of :math:`1/y-1=a+\tfrac{ab^2}{2}\lambda^2` on :math:`\lambda^2`.

        Uses the points with :math:`0<y\le1`, weights :math:`y^4`; both values are kept strictly positive.

        Args:
            data: helpfulness values :math:`H(\lambda)`, 1-D.
            lam: the steering coefficients of ``data``.
            **kwargs: override single starting values.

        Returns:
            :class:`lmfit.Parameters` with the model's hints applied.

        Raises:
            ValueError: missing ``lam``, shapes that differ, NaN or infinite values.
        """
        y, lm = _guess_inputs(data, lam)
        a, b = _guess_theorem_2(y, lm)
        return update_param_vals(self.make_params(a=a, b=b), self.prefix, **kwargs)


class RestrictedModel(_LamModel):
    r"""The restricted-choice form :math:`(1-2/k)\,T(\lambda)+1/k` (:func:`restricted_form`), :math:`k` fixed.

    .. math::

        f(\lambda; a, b) = \Big(1-\frac2k\Big)\frac{1}{1+a\big(1+\tfrac12b^2\lambda^2\big)} + \frac1k,
        \qquad a\ge0,\ b\ge0,\ k\in\{3,4,\dots\}\ \text{fixed}.

    **Mapping** (docs/specification.md §7): Corollary 2's average over the three noise cases, with :math:`k` the number
    of answer options (:math:`k=n` for multiple choice); the authors' ``0.5 T + 0.25`` over A–D is :math:`k=4`.
    :math:`a` and :math:`b` map as in :class:`Theorem2Model` (:math:`a=\gamma(1-p_0)/p_0`, :math:`b=\alpha\beta\sigma`,
    with the same caution on β). :math:`k` is not fitted: it is the number of options, an integer.

    Parameters: ``a`` (hint ``min=0``), ``b`` (hint ``min=0``).

    Args:
        k: number of answer options, an integer :math:`\ge3` (at :math:`k=2` the form is the constant ½ and
            :math:`a, b` are not identifiable).
        prefix: lmfit parameter-name prefix.
        nan_policy: lmfit's NaN policy (default ``"raise"``).
        **kwargs: passed to :class:`lmfit.Model`.

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

    def _set_paramhints_prefix(self) -> None:
        self.set_param_hint("a", min=0.0)
        self.set_param_hint("b", min=0.0)

    def guess(self, data: object, lam: object = None, **kwargs: Any) -> lmfit.Parameters:
        r"""Starting values: undo the mixture, :math:`T=(y-1/k)/(1-2/k)`, then as :meth:`Theorem2Model.guess`.

        Args:
            data: restricted-choice helpfulness values, 1-D.
            lam: the steering coefficients of ``data``.
            **kwargs: override single starting values.

        Returns:
            :class:`lmfit.Parameters` with the model's hints applied.

        Raises:
            ValueError: missing ``lam``, shapes that differ, NaN or infinite values.
        """
        y, lm = _guess_inputs(data, lam)
        t = (y - 1.0 / self.k) / (1.0 - 2.0 / self.k)
        a, b = _guess_theorem_2(t, lm)
        return update_param_vals(self.make_params(a=a, b=b), self.prefix, **kwargs)


class ExpectationModel(_LamModel):
    r"""The expectation form of docs/specification.md §12.2(c), :math:`p_0(1-c\lambda^2)` (:func:`expectation_form`).

    .. math::

        f(\lambda; p_0, c) = p_0\,(1 - c\,\lambda^2), \qquad
        c = \alpha^2\sigma^2\Big[p_0(1-p_0) - \sum_{b\ne a^*}P(b\mid q)^2\Big].

    **Mapping:** :math:`p_0` is the unsteered probability of the correct answer and :math:`c` the curvature of
    :math:`\mathbb E_z[H]` (all tokens noised i.i.d. with variance :math:`\sigma^2`). Given :math:`p_0` and
    :math:`S_2=\sum_{b\ne a^*}p_b^2`, :math:`\alpha\sigma=\sqrt{c/(p_0(1-p_0)-S_2)}`. :math:`c` has **no sign
    constraint**: it is negative for confidently wrong models (expected helpfulness rises towards :math:`1/n`). A
    small-:math:`\lambda` expansion: fit it on a window around :math:`\lambda=0`.

    Parameters: ``p0`` (hints ``min=0, max=1``), ``c`` (free).

    Args:
        prefix: lmfit parameter-name prefix.
        nan_policy: lmfit's NaN policy (default ``"raise"``).
        **kwargs: passed to :class:`lmfit.Model`.
    """

    _law = staticmethod(expectation_form)

    def _set_paramhints_prefix(self) -> None:
        self.set_param_hint("p0", min=0.0, max=1.0)
        self.set_param_hint("c", vary=True)

    def guess(self, data: object, lam: object = None, **kwargs: Any) -> lmfit.Parameters:
        r"""Starting values: least squares of :math:`y=p_0-p_0c\,\lambda^2` on :math:`\lambda^2`.

        :math:`p_0` is the intercept, moved strictly inside :math:`(0,1)` for the start; :math:`c=-\text{slope}/p_0`.

        Args:
            data: helpfulness values near :math:`\lambda=0`, 1-D.
            lam: the steering coefficients of ``data``.
            **kwargs: override single starting values.

        Returns:
            :class:`lmfit.Parameters` with the model's hints applied.

        Raises:
            ValueError: missing ``lam``, shapes that differ, NaN or infinite values.
        """
        y, lm = _guess_inputs(data, lam)
        if y.size >= 2 and np.ptp(lm**2) > 0:
            p0, slope = _weighted_line(lm**2, y, np.ones_like(y))
        else:
            p0, slope = float(np.mean(y)), 0.0
        p0 = min(max(p0, _START_FRACTION), 1.0 - _START_FRACTION)
        pars = self.make_params(p0=p0, c=-slope / p0)
        return update_param_vals(pars, self.prefix, **kwargs)


class LinearModel(_LamModel):
    r"""Linear comparison law :math:`c_0+c_1\lambda` in ``lam`` (:func:`linear_form`).

    .. math::

        f(\lambda; c_0, c_1) = c_0 + c_1\lambda .

    The null model against the tanh law (no saturation, :func:`~bounds.fitting.compare_alignment`) and the
    first-order alternative near :math:`\lambda=0` (:func:`~bounds.fitting.compare_helpfulness_near_zero`). For
    Theorem 1 near :math:`\lambda=0`: :math:`c_0\approx B_0` and :math:`c_1\approx\tfrac{\alpha\Delta}{2}(1-B_0^2)`.

    Parameters: ``c0``, ``c1`` (free).

    Args:
        prefix: lmfit parameter-name prefix.
        nan_policy: lmfit's NaN policy (default ``"raise"``).
        **kwargs: passed to :class:`lmfit.Model`.
    """

    _law = staticmethod(linear_form)

    def guess(self, data: object, lam: object = None, **kwargs: Any) -> lmfit.Parameters:
        """Starting values: the ordinary least-squares line (the fit then converges at once).

        Raises:
            ValueError: missing ``lam``, shapes that differ, NaN or infinite values.
        """
        y, lm = _guess_inputs(data, lam)
        c0, c1 = _weighted_line(lm, y, np.ones_like(y)) if y.size >= 2 else (float(y[0]), 0.0)
        return update_param_vals(self.make_params(c0=c0, c1=c1), self.prefix, **kwargs)


class QuadraticModel(_LamModel):
    r"""Quadratic comparison law :math:`c_0+c_1\lambda+c_2\lambda^2` in ``lam`` (:func:`quadratic_form`).

    .. math::

        f(\lambda; c_0, c_1, c_2) = c_0 + c_1\lambda + c_2\lambda^2 .

    Near :math:`\lambda=0` Theorem 2's form is :math:`T_0-\kappa\lambda^2` with
    :math:`\kappa=\tfrac{p_0\gamma(1-p_0)(\alpha\beta\sigma)^2}{2(p_0+\gamma(1-p_0))^2}` (docs/specification.md §6.1),
    and §12.2(c) gives :math:`c_2=-p_0c`; both predict :math:`c_1=0`. :math:`c_1` is left free so that a fitted non-zero
    slope (the per-query first-order term of docs/specification.md §6.3) shows up.

    Parameters: ``c0``, ``c1``, ``c2`` (free).

    Args:
        prefix: lmfit parameter-name prefix.
        nan_policy: lmfit's NaN policy (default ``"raise"``).
        **kwargs: passed to :class:`lmfit.Model`.
    """

    _law = staticmethod(quadratic_form)

    def guess(self, data: object, lam: object = None, **kwargs: Any) -> lmfit.Parameters:
        """Starting values: the ordinary least-squares parabola (a Vandermonde solve).

        Raises:
            ValueError: missing ``lam``, shapes that differ, NaN or infinite values.
        """
        y, lm = _guess_inputs(data, lam)
        design = np.column_stack([np.ones_like(lm), lm, lm**2])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        pars = self.make_params(c0=float(coef[0]), c1=float(coef[1]), c2=float(coef[2]))
        return update_param_vals(pars, self.prefix, **kwargs)


class FlatModel(_LamModel):
    r"""Flat comparison law :math:`c_0` in ``lam`` (:func:`flat_form`): steering has no effect.

    .. math::

        f(\lambda; c_0) = c_0 .

    Parameters: ``c0`` (free).

    Args:
        prefix: lmfit parameter-name prefix.
        nan_policy: lmfit's NaN policy (default ``"raise"``).
        **kwargs: passed to :class:`lmfit.Model`.
    """

    _law = staticmethod(flat_form)

    def guess(self, data: object, lam: object = None, **kwargs: Any) -> lmfit.Parameters:
        """Starting value: the mean of the data.

        Raises:
            ValueError: missing ``lam``, shapes that differ, NaN or infinite values.
        """
        y, _ = _guess_inputs(data, lam)
        return update_param_vals(self.make_params(c0=float(np.mean(y))), self.prefix, **kwargs)
