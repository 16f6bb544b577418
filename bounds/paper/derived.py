r"""The theory's quantities from one fit of a published curve, through :mod:`bounds.fitting.mapping` (never
re-implemented here), and the notes that say when a parameter is degenerate.

Behavior (:math:`\tanh(a\lambda+b_0)`): :math:`\alpha\Delta=2a`, :math:`\tanh b_0`, the measured :math:`B_0`,
:math:`b_0=\operatorname{artanh}B_0` (undefined at :math:`B_0=\pm1`) and the transition :math:`\lambda^*=-b_0/a`.
Helpfulness (Theorem 2's form or the restricted form): :math:`p_0`, :math:`\gamma=a\,p_0/(1-p_0)`, the authors'
plotted :math:`b/2.5`, the curvature :math:`ab^2/2` and :math:`\alpha\sigma=b/\beta` for the reference β values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..fit_workflow import BETA_REFERENCE
from .results import Estimate
from .standard_errors import standard_errors

#: a helpfulness fit is degenerate when the lower end of a's interval is below this (a compatible with its bound 0)
DEGENERATE_A = 1e-3


def _pair(est: Any) -> Any:
    """An :class:`~bounds.paper.fits.Estimate` as the ``(value, stderr)`` or value the mapping functions take."""
    return est.value if est.stderr is None else (est.value, est.stderr)


def _estimate(mapped: Any, interval: tuple[float, float], method: str, note: str = "") -> Any:
    """An :class:`Estimate` from a mapping function's value or ``(value, stderr)``."""
    value, se = mapped if isinstance(mapped, tuple) else (mapped, None)
    return Estimate(float(value), None if se is None else float(se), interval, method, note)


def _published_at_zero(cf: dict[str, Any], note: str) -> Estimate:
    """The curve's ``sign * mean`` at λ = 0 with its standard error (the pseudo-count rule at the fit's n) and the
    normal interval at the fit's level."""
    from scipy.stats import norm

    curve = cf["curve"]
    j = int(np.flatnonzero(np.isclose(curve.lam, 0.0, atol=1e-9))[0])
    value, se = cf["sign"] * float(curve.mean[j]), float(standard_errors(curve, cf["n"])[j])
    z = float(norm.ppf(0.5 + cf["level"] / 2.0))
    return Estimate(value, se, (value - z * se, value + z * se), "published", f"{note}; interval ±{z:.3g} se")


def _tanh(cf: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    from bounds.fitting import alpha_delta_from_tanh, b0_from_B0

    a, b0 = params["a"], params["b0"]
    notes: list[str] = []
    measured = _published_at_zero(cf, "sign × published mean at λ = 0; se by the pseudo-count rule")
    B0, B0_se = measured.value, measured.stderr
    out: dict[str, Any] = {
        "alpha_delta": _estimate(
            alpha_delta_from_tanh(_pair(a)),
            (2 * a.interval[0], 2 * a.interval[1]),
            "mapped",
            "αΔ = 2a (Theorem 1 with ½, full-gap Δ); interval: 2 × a's",
        ),
        "B0_implied": Estimate(
            math.tanh(b0.value),
            None,
            tuple(math.tanh(x) for x in b0.interval),
            "mapped",
            "tanh(b0); interval: tanh of b0's",
        ),
        "B0_measured": measured,
        "transition": Estimate(
            -b0.value / a.value, None, (math.nan, math.nan), "mapped", "λ* = −b0/a, where the fitted tanh crosses 0"
        )
        if a.value > 0
        else None,
    }
    try:
        out["b0_fixed"] = _estimate(b0_from_B0((B0, B0_se)), (math.nan, math.nan), "mapped", "artanh(measured B0)")
    except ValueError:
        out["b0_fixed"] = None
        where = out["transition"].value if out["transition"] is not None else math.nan
        notes.append(
            f"saturated: the measured B0 = {B0:+g}, so b0 = artanh(B0) is {'+' if B0 > 0 else '-'}inf and cannot be "
            f"fixed (b0_from_B0 refuses it); the free fit found b0 = {b0.value:.4g} "
            f"[{b0.interval[0]:.4g}, {b0.interval[1]:.4g}], tanh(b0) = {math.tanh(b0.value):+.8f}: b0 is set by where "
            f"the curve turns (λ* = −b0/a = {where:.3g}), not by B0, and is finite only because the window reaches "
            "past the turn"
        )
    for name, est in params.items():
        if est.note:
            notes.append(f"{name}: {est.note}")
    if a.value <= 1e-9:
        notes.append("a at its bound 0: the curve does not rise with λ in this orientation")
    return out, notes


def _helpfulness(cf: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    from bounds.fitting import gamma_from_theorem_2, sigma_from_theorem_2

    from .fits import PLOT_DIVISOR

    a, b = params["a"], params["b"]
    notes: list[str] = []
    p0_est = _published_at_zero(
        cf, "published mean at λ = 0 of this curve (its own measure); se by the pseudo-count rule"
    )
    p0, p0_se = p0_est.value, p0_est.stderr
    odds = p0 / (1.0 - p0)
    out: dict[str, Any] = {
        "p0": p0_est,
        "gamma": _estimate(
            gamma_from_theorem_2(_pair(a), (p0, p0_se)),
            (a.interval[0] * odds, a.interval[1] * odds),
            "mapped",
            "γ = a p0/(1 − p0), p0 = this curve's published mean at λ = 0 (a dataset average; Theorem 2's p0 is per "
            "question); stderr propagates a and p0, interval: a's times p0/(1 − p0)",
        ),
        "b_over_2_5": b.scaled(1.0 / PLOT_DIVISOR, note="the authors' plotted b/2.5 (docs/specification.md §13.3)"),
        "curvature": Estimate(
            a.value * b.value**2 / 2.0, None, (math.nan, math.nan), "mapped", "a b²/2: the coefficient of λ² in 1/T − 1"
        ),
    }
    for label, beta in BETA_REFERENCE.items():
        out[f"alpha_sigma[{label}]"] = _estimate(
            sigma_from_theorem_2(_pair(b), 1.0, beta),
            (b.interval[0] / beta, b.interval[1] / beta),
            "mapped",
            f"ασ = b/β at β = {beta:.3g}",
        )
    if out["gamma"].value > 1.0:
        notes.append(
            f"γ = {out['gamma'].value:.4g} > 1, outside its range: the form or the dataset-average p0 does not "
            "describe this curve"
        )
    if a.interval[0] < DEGENERATE_A:
        notes.append(
            f"degenerate: a's interval reaches down to its bound 0 (a = {a.value:.3g}), so a and b are not separately "
            f"identified (b = {b.value:.4g} [{b.interval[0]:.4g}, {b.interval[1]:.4g}]); the curvature a b²/2 = "
            f"{out['curvature'].value:.4g} is"
        )
    for name, est in params.items():
        if est.note:
            notes.append(f"{name}: {est.note}")
    return out, notes


def derived_quantities(cf: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The derived quantities of one fit and the notes about it (see the module docstring).

    Args:
        cf: the fit's context (``curve``, ``law``, ``n``, ``level``, ``sign``) as :func:`~bounds.paper.fit_curve`
            builds it.
        params: the fitted :class:`~bounds.paper.fits.Estimate` by name.

    Returns:
        ``(derived, notes)``.
    """
    return (_tanh if cf["law"] == "tanh" else _helpfulness)(cf, params)
