"""Shared pieces of :mod:`validation.measure`: input checks, across-query statistics (mean, SE and t interval;
``nan``, never zero, with one query), verdicts and JSON output (:class:`Result`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from bounds._check import as_real, check_domain
from bounds._io import jsonable
from bounds.domains import Domain

__all__ = [
    "AcrossQueries",
    "Result",
    "Verdict",
    "across_queries",
    "check_indices",
    "check_level",
    "check_matrix",
    "check_scalar",
    "check_unit_interval",
]


class Result:
    """Base of the result dataclasses: ``to_dict()`` gives the fields as JSON-safe Python (:func:`bounds._io.jsonable`:
    arrays as lists, non-finite floats as ``None``), after ``"assumption": ASSUMPTION`` when the class sets one."""

    ASSUMPTION: ClassVar[str | None] = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        head = {} if self.ASSUMPTION is None else {"assumption": self.ASSUMPTION}
        return jsonable(head | {f.name: getattr(self, f.name) for f in dataclasses.fields(self)})


@dataclass(frozen=True)
class Verdict(Result):
    """The pass/fail decision on one assumption, with the rule that produced it.

    Attributes:
        assumption: statement id (``"assumption-1"`` ...).
        statistic: name of the statistic the rule looks at.
        value: its measured value.
        threshold: the threshold it is compared with.
        passed: ``True``/``False``, or ``None`` when the data cannot decide (e.g. too few points).
        rule: the documented rule, in words, including the reason for the threshold.
        evidence: what was measured, in words (numbers with their uncertainties).
    """

    assumption: str
    statistic: str
    value: Any
    threshold: Any
    passed: bool | None
    rule: str
    evidence: str


def check_matrix(
    name: str, x: object, *, ndim: int = 2, what: str = "(n_queries, G)", allow_inf: bool = False
) -> np.ndarray:
    """``x`` as a finite float array with exactly ``ndim`` dimensions and no empty axis.

    Raises:
        ValueError: wrong number of dimensions, an empty axis, NaN or (unless allowed) infinite values.
        TypeError: non-numeric input.
    """
    arr = as_real(name, x, allow_inf=allow_inf)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array of shape {what}, got shape {arr.shape}")
    if 0 in arr.shape:
        raise ValueError(f"{name} must not have an empty axis (expected shape {what}), got shape {arr.shape}")
    return arr


def check_scalar(name: str, x: object, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> float:
    """A real number from ``lo`` to ``hi`` (each end closed unless ``*_open``; ``±inf``: one-sided)."""
    arr = as_real(name, x)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a number, got shape {arr.shape}")
    return float(check_domain(name, arr, Domain(lo, hi, lo_open, hi_open)))


def check_level(name: str, level: object) -> float:
    """A confidence or significance level strictly inside ``(0, 1)``."""
    return check_scalar(name, level, 0.0, 1.0, lo_open=True, hi_open=True)


def check_indices(name: str, x: object, n: int, lo: int, hi: int, what: str) -> np.ndarray:
    """An integer array of shape ``(n,)`` (``what`` its entries) with entries in ``[lo, hi]``.

    Raises:
        TypeError: not integers. ValueError: another shape, or an entry out of range.
    """
    idx = np.asarray(x)
    if isinstance(x, bool) or idx.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array ({what}), got {x!r}")
    if idx.shape != (n,):
        raise ValueError(f"{name} must have shape (n_queries,) = ({n},), got {idx.shape}")
    if ((idx < lo) | (idx > hi)).any():
        raise ValueError(f"{name} must lie in [{lo}, {hi}] ({what}), got {idx.tolist()}")
    return idx.astype(np.intp)


def check_unit_interval(name: str, x: np.ndarray, *, atol: float = 1e-9) -> np.ndarray:
    """Probabilities in ``[0, 1]`` (within ``atol``, then clipped to the interval: only rounding is absorbed)."""
    bad = (x < -atol) | (x > 1.0 + atol)
    if bad.any():
        vals = x[bad].ravel()[:3].tolist()
        raise ValueError(f"{name} must hold probabilities in [0, 1], got {vals}")
    return np.clip(x, 0.0, 1.0)


@dataclass(frozen=True)
class AcrossQueries(Result):
    """Mean over queries (axis 0) with its standard error, spread and Student-t confidence interval.

    ``mean``, ``se``, ``sd``, ``ci_low`` and ``ci_high`` have the shape of the input without its first axis
    (floats for a 1-D input). ``n`` is the number of queries; ``level`` the confidence level.
    """

    mean: Any
    se: Any
    sd: Any
    ci_low: Any
    ci_high: Any
    n: int
    level: float


def across_queries(values: np.ndarray, level: float = 0.95) -> AcrossQueries:
    r"""Mean of ``values`` over axis 0 with :math:`\mathrm{SE}=s/\sqrt n` and the t interval :math:`\bar x\pm
    t_{n-1,(1+\ell)/2}\,\mathrm{SE}`; NaN entries (undefined per-query values) are left out column by column.

    With fewer than two defined values in a column its ``se``/``sd``/interval are ``nan``.
    """
    from scipy import stats

    v = np.asarray(values, dtype=float)
    ok = ~np.isnan(v)
    n_col = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(ok, v, 0.0).sum(axis=0)
        mean = np.where(n_col > 0, total / np.maximum(n_col, 1), np.nan)
        dev2 = np.where(ok, (v - mean) ** 2, 0.0).sum(axis=0)
        sd = np.where(n_col > 1, np.sqrt(dev2 / np.maximum(n_col - 1, 1)), np.nan)
        se = sd / np.sqrt(np.maximum(n_col, 1))
        t = np.where(n_col > 1, stats.t.ppf(0.5 + level / 2.0, np.maximum(n_col - 1, 1)), np.nan)
    lo, hi = mean - t * se, mean + t * se

    def out(a: np.ndarray) -> Any:
        a = np.asarray(a, dtype=float)
        return float(a) if a.ndim == 0 else a

    return AcrossQueries(out(mean), out(se), out(sd), out(lo), out(hi), int(v.shape[0]), float(level))


def first_crossing(lam: np.ndarray, values: np.ndarray, level: float, *, rising: bool = True) -> float | None:
    """The first λ where ``values`` reach ``level`` going out from λ = 0 (upwards when ``rising``, else downwards), by
    linear interpolation between the neighbouring grid points; 0 when they are there at λ = 0, ``None`` when they never
    get there on the grid. ``lam`` ascending from 0 (the λ ≥ 0 side of a grid), ``values`` finite, one per λ."""
    past = (values >= level) if rising else (values <= level)
    hits = np.flatnonzero(past)
    if hits.size == 0:
        return None
    i = int(hits[0])
    if i == 0:
        return 0.0
    x0, x1, y0, y1 = lam[i - 1], lam[i], values[i - 1], values[i]
    return float(x0 + (level - y0) * (x1 - x0) / (y1 - y0))
