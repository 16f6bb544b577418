"""The results of :mod:`bounds.paper.fits`: an :class:`Estimate` with its interval, a model :class:`Comparison`, one
:class:`Fit` (one law, one weighting), a :class:`CurveFit` (one curve, both weightings) and :class:`PaperFits` (all of
them, with the sensitivity to the assumed sample size). Plain dataclasses: a figure script reads the data, the window,
the parameters, the intervals and the fitted curve (:meth:`CurveFit.grid`) from them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .data import PaperCurve, Provenance

__all__ = ["WEIGHTINGS", "Comparison", "CurveFit", "Estimate", "Fit", "PaperFits", "number"]

#: the two weightings: the authors' (noise scale from the residuals) and the pseudo-count standard errors
WEIGHTINGS = ("unweighted", "weighted")


def number(x: float) -> str:
    """``x`` to 3 significant digits with a typographic minus (``∞``/``−∞`` for an unbounded end, ``–`` for NaN): how
    the tables of ``paper_fits.md`` and the redrawn figures print a value."""
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if math.isnan(x):
        return "–"
    return f"{x:.3g}".replace("-", "−")


@dataclass(frozen=True)
class Estimate:
    """A value with its standard error and confidence interval.

    Attributes:
        value: the estimate.
        stderr: its standard error (``None`` when not estimated).
        interval: ``(lower, upper)`` at the fit's level; an end is ±inf when unbounded.
        method: ``"profile"``/``"normal"`` (:func:`~bounds.fitting.confidence_intervals`), ``"mapped"`` (the
            parameter's interval through a monotone map) or ``"published"`` (a data value and its standard error).
        note: why an interval is open, at a bound, or how it was obtained (``""`` when nothing to say).
    """

    value: float
    stderr: float | None
    interval: tuple[float, float]
    method: str
    note: str = ""

    @property
    def half_width(self) -> float:
        """Half the interval's width (inf for an unbounded interval)."""
        return (self.interval[1] - self.interval[0]) / 2.0

    def text(self) -> str:
        """``"value [lower, upper]"`` (:func:`number` of each)."""
        return f"{number(self.value)} [{number(self.interval[0])}, {number(self.interval[1])}]"

    def scaled(self, factor: float, method: str = "mapped", note: str = "") -> Estimate:
        """The estimate times ``factor > 0``."""
        se = None if self.stderr is None else self.stderr * factor
        return Estimate(self.value * factor, se, (self.interval[0] * factor, self.interval[1] * factor), method, note)


@dataclass(frozen=True)
class Comparison:
    """A model comparison (:class:`~bounds.fitting.ModelComparison`) in brief.

    Attributes:
        window: the λ range of the compared points.
        best_aic, best_bic: the winning candidate by each criterion.
        delta_aic, delta_bic: ``{candidate: difference to the best}``.
        absolute_errors: whether the criteria used the standard errors (weighted) or the residual scale.
    """

    window: tuple[float, float]
    best_aic: str
    best_bic: str
    delta_aic: dict[str, float]
    delta_bic: dict[str, float]
    absolute_errors: bool


@dataclass(frozen=True, eq=False)
class Fit:
    """One law fitted to one curve with one weighting.

    Attributes:
        weighting: ``"unweighted"`` or ``"weighted"``.
        law: ``"tanh"``, ``"theorem-2"`` or ``"restricted"``.
        params: ``{"a", "b0"}`` or ``{"a", "b"}`` as :class:`Estimate`.
        derived: the theory's quantities as :class:`Estimate` (``None`` when undefined): tanh: ``alpha_delta``
            (2a), ``B0_implied`` (tanh b0), ``B0_measured``, ``b0_fixed`` (artanh of the measured B0; ``None`` when
            it is ±1), ``transition`` (−b0/a, where the fitted curve crosses 0); helpfulness: ``p0`` (the published
            mean at λ = 0), ``gamma`` (a p0/(1 − p0)), ``b_over_2_5`` (the authors' plotted b/2.5),
            ``curvature`` (a b²/2), and ``alpha_sigma[<β label>]`` (b/β for each reference β of
            :data:`~bounds.fit_workflow.BETA_REFERENCE`).
        comparison: the model comparison on this weighting's errors.
        se: the standard errors used per window point (``None`` unweighted).
        chisqr, redchi: the fit's (weighted) sum of squares and its reduced value.
        success: lmfit's convergence flag.
        notes: what to know about this fit (degenerate parameters, saturated B0, γ > 1, a poor χ²).
        result: the :class:`lmfit.model.ModelResult`.
    """

    weighting: str
    law: str
    params: dict[str, Estimate]
    derived: dict[str, Estimate | None]
    comparison: Comparison
    se: np.ndarray | None
    chisqr: float
    redchi: float
    success: bool
    notes: tuple[str, ...]
    result: Any = field(repr=False)

    def __call__(self, lam: object) -> np.ndarray:
        """The fitted law at ``lam`` (in the fitted orientation: ``sign * mean`` for behavior)."""
        return np.asarray(self.result.eval(lam=np.asarray(lam, dtype=float)), dtype=float)


@dataclass(frozen=True, eq=False)
class CurveFit:
    """One curve, one law, both weightings.

    Attributes:
        curve: the published curve.
        law: the law fitted.
        n: the assumed prompts/questions per point (weighted fit, p0's standard error).
        window: the fitted λ range.
        sign: the orientation fitted: ``y = sign * mean`` (−1 for a misaligning behavior curve).
        lam, y, std: the window's points (``y`` oriented, ``std`` as published).
        unweighted, weighted: the two :class:`Fit`.
        weight_share: each window point's share of the weighted fit's total weight Σ 1/se².
        disagreements: where the weightings disagree (a parameter differs by more than the larger interval
            half-width, or a comparison's winner differs), one sentence each; empty when they agree.
        why: which points carry the weighted fit's weight, in one sentence.
    """

    curve: PaperCurve
    law: str
    n: int
    window: tuple[float, float]
    sign: int
    lam: np.ndarray
    y: np.ndarray
    std: np.ndarray
    unweighted: Fit
    weighted: Fit
    weight_share: np.ndarray
    disagreements: tuple[str, ...]
    why: str

    @property
    def label(self) -> str:
        """The curve's label and the law, e.g. ``"Llama-2-13b / fairness / bias: tanh"``."""
        return f"{self.curve.label}: {self.law}"

    @property
    def fits(self) -> dict[str, Fit]:
        """``{"unweighted": ..., "weighted": ...}``."""
        return {"unweighted": self.unweighted, "weighted": self.weighted}

    def grid(self, num: int = 201) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(lam, {weighting: fitted values})`` on ``num`` points spanning the window (for figures)."""
        lam = np.linspace(self.window[0], self.window[1], num)
        return lam, {w: f(lam) for w, f in self.fits.items()}


@dataclass(frozen=True, eq=False)
class PaperFits:
    """All fits of :func:`fit_paper_curves`.

    Attributes:
        settings: ``n``, ``level``, ``pseudo_count``, the windows, ``k``, ``sensitivity_n``.
        provenance: where the data come from.
        behavior: the tanh fits of the behavior curves.
        helpfulness: Theorem 2's form on every helpfulness curve.
        restricted: the restricted form on the A–D curves.
        sensitivity: ``{n: the same fits at that n}`` for each ``sensitivity_n``.
        granularity: ``{behavior curve label: smallest prompt count its means allow}``
            (:func:`~bounds.paper.standard_errors.count_granularity`).
    """

    settings: dict[str, Any]
    provenance: Provenance
    behavior: tuple[CurveFit, ...]
    helpfulness: tuple[CurveFit, ...]
    restricted: tuple[CurveFit, ...]
    sensitivity: dict[int, tuple[CurveFit, ...]]
    granularity: dict[str, int | None]

    @property
    def all(self) -> tuple[CurveFit, ...]:
        """Every fit: behavior, then helpfulness, then restricted."""
        return (*self.behavior, *self.helpfulness, *self.restricted)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (what ``paper_fits.json`` holds)."""
        from .report import fits_to_dict

        return fits_to_dict(self)

    def markdown(self, command: str | None = None) -> str:
        """The tables of ``paper_fits.md``."""
        from .report import fits_markdown

        return fits_markdown(self, command)
