r"""The consequences measured on one report's curves, as pure functions of the per-λ means and SEs: where the behavior
crosses 0 and reaches 90 % of its plateau, the helpfulness lost there, and the slope ratio near :math:`\lambda=0`.

Every value between grid points is the linear interpolation of the neighbouring means (and SEs); every search walks
out from :math:`\lambda=0` over :math:`\lambda\ge0`. An interval is :math:`\pm z\sqrt{SE_1^2+SE_0^2}`, treating the
two λ values as independent (they share the queries, so with a positive correlation the interval is conservative);
a missing SE counts as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bounds._io import jsonable

from ..measure._common import first_crossing
from ..report.figures import _common as rd
from ..report.schema import CheckReport

__all__ = [
    "Estimate",
    "Series",
    "change_at",
    "cross_zero",
    "plateau_90",
    "series",
    "slope_ratio",
]


@dataclass(frozen=True)
class Estimate:
    """A number with its interval, or ``value=None`` and the ``reason``; ``detail`` holds the numbers it came from."""

    value: float | None
    low: float | None = None
    high: float | None = None
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields (non-finite numbers as ``None``)."""
        return jsonable({"value": self.value, "low": self.low, "high": self.high, "reason": self.reason, **self.detail})


@dataclass(frozen=True)
class Series:
    """A measured curve on the λ ≥ 0 side of its grid: ascending ``lam`` starting at 0, finite ``mean``, ``se``
    (0 where missing)."""

    name: str
    lam: np.ndarray
    mean: np.ndarray
    se: np.ndarray

    @property
    def at_zero(self) -> tuple[float, float]:
        """Mean and SE at λ = 0."""
        return float(self.mean[0]), float(self.se[0])

    def at(self, lam: float) -> tuple[float, float]:
        """Mean and SE at ``lam`` (linear interpolation; ``lam`` inside the series' range)."""
        return float(np.interp(lam, self.lam, self.mean)), float(np.interp(lam, self.lam, self.se))


def series(report: CheckReport, name: str) -> Series | str:
    """``report.curves[name]`` on λ ≥ 0 (points with a finite mean), or the reason it cannot be used."""
    lam = rd.floats(report.lam)
    if lam is None or lam.size == 0:
        return "the report has no λ grid"
    c = rd.curve(report, name, lam, name)
    if c is None:
        return f"curve {name} not in the report"
    keep = (lam >= 0) & np.isfinite(lam) & np.isfinite(c.mean)
    order = np.argsort(lam[keep], kind="stable")
    x, m, s = lam[keep][order], c.mean[keep][order], np.nan_to_num(c.se[keep][order], nan=0.0)
    if x.size == 0 or x[0] != 0.0:
        return f"curve {name} has no finite value at λ = 0"
    if x.size < 2:
        return f"curve {name} has no finite value at λ > 0"
    return Series(name, x, m, s)


def cross_zero(s: Series) -> Estimate:
    """Where the behavior ``s`` crosses 0 going out from λ = 0 (``None`` with the reason when it starts above 0 or
    never gets there)."""
    b0, _ = s.at_zero
    if b0 > 0:
        return Estimate(None, reason=f"{s.name}(0) = {b0:+.3g} > 0: above 0 already at λ = 0")
    lam = first_crossing(s.lam, s.mean, 0.0)
    if lam is None:
        i = int(np.argmax(s.mean))
        return Estimate(None, reason=f"{s.name} stays below 0 for λ ≥ 0 (largest {s.mean[i]:+.3g} at λ = {s.lam[i]:g})")
    return Estimate(lam)


def plateau_90(s: Series) -> Estimate:
    """Where the behavior reaches 90 % of the way from B(0) to its plateau, the largest mean over λ > 0."""
    b0, _ = s.at_zero
    i = 1 + int(np.argmax(s.mean[1:]))
    plateau = float(s.mean[i])
    detail = {"plateau": plateau, "lam_plateau": float(s.lam[i])}
    if not plateau > b0:
        return Estimate(
            None, reason=f"{s.name} never rises above its value at λ = 0 ({b0:+.3g}) for λ > 0", detail=detail
        )
    target = b0 + 0.9 * (plateau - b0)
    return Estimate(first_crossing(s.lam, s.mean, target), detail={**detail, "target": target})


def change_at(s: Series, lam: float, z: float) -> Estimate:
    """:math:`Y(\\lambda)-Y(0)` of the curve ``s`` (interpolated), ``± z sqrt(SE(λ)² + SE(0)²)``."""
    if not s.lam[0] <= lam <= s.lam[-1]:
        return Estimate(None, reason=f"λ = {lam:g} outside the measured λ ≥ 0 range of {s.name} (up to {s.lam[-1]:g})")
    (m, se), (m0, se0) = s.at(lam), s.at_zero
    d, half = m - m0, z * float(np.hypot(se, se0))
    return Estimate(d, d - half, d + half, detail={"lam": lam})


def slope_ratio(b: Series, h: Series, z: float) -> Estimate:
    r"""``(dB/dλ) / (−dH/dλ)`` by finite differences from λ = 0 to the first λ > 0 where both are measured, with
    ``± z·SE`` by the delta method; ``None`` ("H does not fall") when ``−dH/dλ ≤ 0``.

    When ``−dH/dλ`` is positive but within ``z·SE`` of 0 the ratio is given with no upper end (``high = None``) and a
    note: the theory's H is flat to first order at λ = 0 (quadratic), so a ratio that grows without bound near 0 is
    the efficient regime itself. The SEs are those of independent means; the queries are shared between the two λ,
    so the test is conservative.
    """
    common = np.intersect1d(b.lam[1:], h.lam[1:])
    if common.size == 0:
        return Estimate(None, reason=f"{b.name} and {h.name} share no λ > 0")
    lam1 = float(common[0])
    (b1, sb1), (b0, sb0) = b.at(lam1), b.at_zero
    (h1, sh1), (h0, sh0) = h.at(lam1), h.at_zero
    slope, se_slope = (b1 - b0) / lam1, float(np.hypot(sb1, sb0)) / lam1
    fall, se_fall = (h0 - h1) / lam1, float(np.hypot(sh1, sh0)) / lam1
    detail: dict[str, Any] = {
        "lam1": lam1,
        "dB_dlam": slope,
        "dB_dlam_se": se_slope,
        "minus_dH_dlam": fall,
        "minus_dH_dlam_se": se_fall,
        "note": None,
    }
    if not fall > 0:
        why = f"H does not fall: −dH/dλ = {fall:.3g} ≤ 0 (from λ = 0 to {lam1:g})"
        return Estimate(None, reason=why, detail=detail)
    ratio = slope / fall
    se = float(np.hypot(se_slope / fall, slope * se_fall / fall**2))
    if not fall > z * se_fall:
        detail["note"] = (
            f"−dH/dλ = {fall:.3g} is within z·SE = {z * se_fall:.3g} of 0 (from λ = 0 to {lam1:g}): H is flat to "
            "first order there, the ratio has no upper end"
        )
        return Estimate(ratio, ratio - z * se, None, detail=detail)
    return Estimate(ratio, ratio - z * se, ratio + z * se, detail=detail)
