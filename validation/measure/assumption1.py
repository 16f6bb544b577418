r"""Assumption 1 on measured data: :math:`\|\delta_\lambda(q)\|=\alpha\,|\lambda|` for small :math:`|\lambda|`
(docs/specification.md §3, eq. 7), for ``delta_final`` (after the final norm: the specification's δ and the only one
the verdict uses), ``delta_residual`` (before it) and ``U_delta`` (the logit change). The method (steps 1-5), the
10 % tolerance and the verdict: ``docs/api/validation-measure.md``.

Not :func:`bounds.definitions.assumption_1`, the statement's predicate on one exact curve: these curves are noisy
per-query measurements of a real model, so the slope is weighted, the range grows from 0 on each sign and α comes
with its uncertainty; one rule for both would change the numbers either reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bounds._check import as_real, check_integer

from ._common import AcrossQueries, Result, Verdict, across_queries, check_level, check_matrix, check_scalar

__all__ = ["QUANTITIES", "Assumption1Result", "LinearityFit", "SideFit", "assumption_1", "detect_linear_range"]

#: label -> description of the three quantities :func:`assumption_1` accepts (the first is the specification's δ)
QUANTITIES = {
    "delta_final": "||delta||, change of the final hidden state after the final norm (the vector U multiplies)",
    "delta_residual": "||delta_residual||, change of the last residual-stream state before the final norm",
    "U_delta": "||U delta||, norm of the change of the logits",
}
_SIDES = ("positive", "negative", "symmetric")


@dataclass(frozen=True)
class SideFit(Result):
    r"""The linear fit of one quantity on one side of the grid.

    Attributes:
        side: ``"positive"``, ``"negative"`` or ``"symmetric"``.
        available: the grid has at least ``min_points`` distinct non-zero :math:`|\lambda|` on this side (for
            ``symmetric``: and points of both signs). When ``False`` every other field is ``nan``/empty.
        linear: a linear range was detected.
        linear_up_to: :math:`L` of the detected range (``0.0`` when none).
        window_up_to: the window the slopes were fitted on (the linear range, or the first window).
        n_points: distinct non-zero :math:`|\lambda|` in that window.
        grid_max: the largest :math:`|\lambda|` of the side.
        saturates: the range ends before ``grid_max`` (non-linearity seen inside the grid).
        alpha_curve, alpha_curve_se: slope of the query-mean curve and its regression SE (SE of the mean ratio).
        max_rel_dev: largest relative deviation of the mean curve from the fitted line in the window.
        r2: centred :math:`R^2` of the mean curve on the window.
        alpha: per-query slopes across queries (:class:`AcrossQueries`).
        alpha_per_query: the per-query slopes, shape ``(n_queries,)``.
        r2_per_query_median: median centred :math:`R^2` of the per-query fits.
        curvature: relative curvature :math:`bL/a` on the window, across queries.
        curvature_full: the same on the whole side.
        query_linear_up_to: the linear range detected on each query's own curve (``0.0`` when none).
        query_linear_fraction: fraction of queries with a linear range of their own.
    """

    side: str
    available: bool
    linear: bool = False
    linear_up_to: float = 0.0
    window_up_to: float = float("nan")
    n_points: int = 0
    grid_max: float = float("nan")
    saturates: bool = False
    alpha_curve: float = float("nan")
    alpha_curve_se: float = float("nan")
    max_rel_dev: float = float("nan")
    r2: float = float("nan")
    alpha: AcrossQueries | None = None
    alpha_per_query: np.ndarray = field(default_factory=lambda: np.empty(0))
    r2_per_query_median: float = float("nan")
    curvature: AcrossQueries | None = None
    curvature_full: AcrossQueries | None = None
    query_linear_up_to: np.ndarray = field(default_factory=lambda: np.empty(0))
    query_linear_fraction: float = float("nan")


@dataclass(frozen=True)
class LinearityFit(Result):
    """Assumption 1 measurements of one labelled quantity.

    Attributes:
        label: key of :data:`QUANTITIES`.
        description: what the quantity is.
        sides: ``{"positive" | "negative" | "symmetric": SideFit}``.
        monotone_fraction: ``{"positive": f, "negative": f}``, fraction of queries whose norm is non-decreasing in
            :math:`|\\lambda|` on that side (A.2's weak form; ``nan`` for a side with fewer than 2 points).
        norm_at_zero: largest value over queries at :math:`\\lambda=0` (``nan`` when 0 is not on the grid).
    """

    label: str
    description: str
    sides: dict[str, SideFit]
    monotone_fraction: dict[str, float]
    norm_at_zero: float


@dataclass(frozen=True)
class Assumption1Result(Result):
    """Result of :func:`assumption_1`.

    Attributes:
        lam: the grid.
        tolerance, min_points, level: the settings used.
        quantities: ``{label: LinearityFit}`` for each supplied quantity.
        alpha: the α estimate the rest of the report uses: the combined (``symmetric``) per-query slopes of
            ``delta_final`` across queries when the combined fit is linear; otherwise the ``positive`` side's (the
            sign the theorems are stated for), or the only side the grid has.
        alpha_side: which side ``alpha`` comes from.
        verdict: the :class:`Verdict`.
    """

    ASSUMPTION = "assumption-1"

    lam: np.ndarray
    tolerance: float
    min_points: int
    level: float
    quantities: dict[str, LinearityFit]
    alpha: AcrossQueries | None
    alpha_side: str | None
    verdict: Verdict


# ---------------------------------------------------------------------------------------------------------------
# Fitting helpers (vectorised over rows)
# ---------------------------------------------------------------------------------------------------------------
def _slope(x: np.ndarray, Y: np.ndarray) -> np.ndarray:
    r"""Slope through the origin of each row of ``Y`` against ``x > 0``, weighted least squares with weights
    :math:`1/x^2`: :math:`\hat\alpha=\operatorname{mean}_i(y_i/x_i)` (relative residuals)."""
    return np.mean(Y / x, axis=1)


def _window_ok(x: np.ndarray, Y: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: slope, max relative deviation, and whether the window is linear."""
    a = _slope(x, Y)
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.max(np.abs(Y - a[:, None] * x) / (np.abs(a[:, None]) * x), axis=1)
    ok = (a > 0) & (dev <= tol)
    return a, dev, ok


def _detect(x: np.ndarray, Y: np.ndarray, tol: float, min_points: int) -> np.ndarray:
    """Per row of ``Y``, the detected linear range :math:`L` (0 when none); ``x`` = :math:`|\\lambda|>0`."""
    ux = np.unique(x)
    L = np.zeros(Y.shape[0])
    alive = np.ones(Y.shape[0], dtype=bool)
    for j in range(min_points - 1, ux.size):
        m = x <= ux[j]
        _, _, ok = _window_ok(x[m], Y[:, m], tol)
        alive &= ok
        if not alive.any():
            break
        L = np.where(alive, ux[j], L)
    return L


def detect_linear_range(
    lam: object, norms: object, *, tolerance: float = 0.10, min_points: int = 2, side: str = "symmetric"
) -> float:
    r"""The detected linear range :math:`L` of one curve (steps 1--4 of the method); 0.0 when none.

    Args:
        lam: grid, 1-D, finite.
        norms: the curve :math:`n(\lambda)\ge0`, same length.
        tolerance: relative tolerance :math:`\tau`, ``0 < tolerance < 1``.
        min_points: integer ``>= 2``.
        side: ``"positive"``, ``"negative"`` or ``"symmetric"``.

    Raises:
        ValueError: bad shapes or values, unknown ``side``, or fewer than ``min_points`` points on the side.
    """
    lm = _check_lam(lam)
    n = as_real("norms", norms)
    if n.shape != lm.shape:
        raise ValueError(f"norms must have the shape of lam {lm.shape}, got {n.shape}")
    tol, mp = _check_settings(tolerance, min_points)
    if side not in _SIDES:
        raise ValueError(f"side must be one of {_SIDES}, got {side!r}")
    m = _side_mask(lm, side)
    if np.unique(np.abs(lm[m])).size < mp:
        raise ValueError(f"lam has fewer than min_points = {mp} distinct non-zero |lambda| on side {side!r}")
    return float(_detect(np.abs(lm[m]), n[None, m], tol, mp)[0])


def _side_mask(lm: np.ndarray, side: str) -> np.ndarray:
    if side == "positive":
        return lm > 0
    if side == "negative":
        return lm < 0
    return lm != 0


def _r2(x: np.ndarray, Y: np.ndarray, a: np.ndarray) -> np.ndarray:
    res = np.sum((Y - a[:, None] * x) ** 2, axis=1)
    tot = np.sum((Y - Y.mean(axis=1, keepdims=True)) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tot > 0, 1.0 - res / tot, np.nan)


def _curvature(x: np.ndarray, Y: np.ndarray) -> np.ndarray:
    r"""Per row, :math:`bL/a` of the least-squares fit :math:`y=a x+b x^2` (``nan`` if not identifiable)."""
    if np.unique(x).size < 2:
        return np.full(Y.shape[0], np.nan)
    X = np.stack([x, x**2], axis=1)
    coef, *_ = np.linalg.lstsq(X, Y.T, rcond=None)
    a, b = coef
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a != 0, b * x.max() / a, np.nan)


def _monotone_fraction(lm: np.ndarray, N: np.ndarray, side: str) -> float:
    m = _side_mask(lm, side)
    if m.sum() < 2:
        return float("nan")
    x = np.abs(lm[m])
    o = np.argsort(x, kind="stable")
    x, Y = x[o], N[:, m][:, o]
    step = np.diff(x) > 0  # equal |λ| on one side cannot occur after the duplicate check, kept for safety
    scale = np.maximum(np.abs(Y).max(axis=1, keepdims=True), 1e-300)
    drops = (np.diff(Y, axis=1) < -1e-12 * scale) & step
    return float(np.mean(~drops.any(axis=1)))


def _fit_side(lm: np.ndarray, N: np.ndarray, side: str, tol: float, mp: int, level: float) -> SideFit:
    m = _side_mask(lm, side)
    x_all = np.abs(lm[m])
    if np.unique(x_all).size < mp or (side == "symmetric" and not ((lm > 0).any() and (lm < 0).any())):
        return SideFit(side=side, available=False)
    Y_all = N[:, m]
    mean_curve = Y_all.mean(axis=0, keepdims=True)
    L = float(_detect(x_all, mean_curve, tol, mp)[0])
    ux = np.unique(x_all)
    linear = L > 0
    window = L if linear else float(ux[mp - 1])
    w = x_all <= window
    x, Yw, ybar = x_all[w], Y_all[:, w], mean_curve[:, w]
    a_curve, dev, _ = _window_ok(x, ybar, tol)
    ratios = ybar[0] / x  # the weighted fit's residuals are ratios - alpha
    n_pts = x.size
    se_fit = float(np.std(ratios, ddof=1) / np.sqrt(n_pts)) if n_pts > 1 else float("nan")
    a_q = _slope(x, Yw)
    q_L = _detect(x_all, Y_all, tol, mp)
    r2_q = _r2(x, Yw, a_q)
    return SideFit(
        side=side,
        available=True,
        linear=linear,
        linear_up_to=L,
        window_up_to=window,
        n_points=int(np.unique(x).size),
        grid_max=float(ux[-1]),
        saturates=bool(linear and L < ux[-1]),
        alpha_curve=float(a_curve[0]),
        alpha_curve_se=se_fit,
        max_rel_dev=float(dev[0]),
        r2=float(_r2(x, ybar, a_curve)[0]),
        alpha=across_queries(a_q, level),
        alpha_per_query=a_q,
        r2_per_query_median=float(np.nanmedian(r2_q)) if np.isfinite(r2_q).any() else float("nan"),
        curvature=across_queries(_curvature(x, Yw), level),
        curvature_full=across_queries(_curvature(x_all, Y_all), level),
        query_linear_up_to=q_L,
        query_linear_fraction=float(np.mean(q_L > 0)),
    )


def _check_lam(lam: object) -> np.ndarray:
    lm = as_real("lam", lam)
    if lm.ndim != 1 or lm.size == 0:
        raise ValueError(f"lam must be a non-empty 1-D grid of steering coefficients, got shape {lm.shape}")
    if np.unique(lm).size != lm.size:
        raise ValueError("lam must not repeat a coefficient (average repeated measurements first)")
    return lm


def _check_settings(tolerance: object, min_points: object) -> tuple[float, int]:
    tol = check_scalar("tolerance", tolerance, 0.0, 1.0, lo_open=True, hi_open=True)
    return tol, check_integer("min_points", min_points, 2)


def _fit_quantity(label: str, lm: np.ndarray, N: np.ndarray, tol: float, mp: int, level: float) -> LinearityFit:
    sides = {s: _fit_side(lm, N, s, tol, mp, level) for s in _SIDES}
    zero = lm == 0
    return LinearityFit(
        label=label,
        description=QUANTITIES[label],
        sides=sides,
        monotone_fraction={s: _monotone_fraction(lm, N, s) for s in ("positive", "negative")},
        norm_at_zero=float(N[:, zero].max()) if zero.any() else float("nan"),
    )


def _verdict(fit: LinearityFit, lm: np.ndarray, tol: float, mp: int, level: float) -> tuple[Verdict, str | None]:
    rule = (
        f"pass iff every one-sided side of the grid has a linear range (relative deviation of the query-mean "
        f"||delta|| from a line through the origin <= {tol:g}, chosen because Theorem 1 uses ||delta|| only through "
        f"Delta ||delta||/2, so a {tol:.0%} deviation acts like a {tol:.0%} error on alpha*Delta, below the spread of "
        f"the paper's own alpha estimates) with >= {mp} distinct |lambda| > 0, the lower end of the {level:.0%} t "
        f"interval of mean alpha is > 0, and ||delta|| at lambda = 0 is < tolerance * alpha * min|lambda|; "
        f"undetermined when no side has {mp} non-zero points"
    )
    one_sided = [fit.sides[s] for s in ("positive", "negative") if fit.sides[s].available]
    # one alpha for both signs only when the combined fit is itself linear; otherwise the side the theorems are
    # stated for (lambda > 0, docs/specification.md §0), or the only side measured
    sym = fit.sides["symmetric"]
    if sym.available and (sym.linear or not one_sided):
        alpha_side: str | None = "symmetric"
    else:
        alpha_side = one_sided[0].side if one_sided else None
    if alpha_side is None:
        v = Verdict(
            "assumption-1", "linear_up_to", float("nan"), tol, None, rule,
            f"fewer than {mp} distinct non-zero |lambda| on every side of the grid: linearity cannot be assessed",
        )  # fmt: skip
        return v, None
    a = fit.sides[alpha_side].alpha
    assert a is not None
    lows = [s.linear_up_to for s in one_sided]
    stat = float(min(lows))
    fails: list[str] = []
    for s in one_sided:
        if not s.linear:
            fails.append(
                f"{s.side}: no linear range (first window |lambda| <= {s.window_up_to:g} deviates by "
                f"{s.max_rel_dev:.3g} > {tol:g})"
            )
    a_low = a.ci_low if a.n > 1 else a.mean
    if not a_low > 0:
        fails.append(f"alpha not significantly > 0 (lower end {a_low:.4g})")
    a_ref = fit.sides[alpha_side].alpha_curve
    min_abs = float(np.min(np.abs(lm[lm != 0])))
    if np.isfinite(fit.norm_at_zero) and not fit.norm_at_zero < tol * abs(a_ref) * min_abs:
        fails.append(
            f"||delta|| = {fit.norm_at_zero:.4g} at lambda = 0 (must vanish; limit {tol * abs(a_ref) * min_abs:.3g}): "
            "the measurement itself is suspect"
        )
    parts = [
        f"{s.side}: linear up to |lambda| = {s.linear_up_to:g} of {s.grid_max:g} (alpha = {s.alpha_curve:.4g} "
        f"± {s.alpha_curve_se:.2g}, R2 = {s.r2:.4f}, max rel. dev. {s.max_rel_dev:.3g})"
        for s in (fit.sides[k] for k in _SIDES)
        if s.available
    ]
    if len(one_sided) == 2 and one_sided[1].alpha_curve > 0:
        parts.append(f"asymmetry alpha+/alpha- = {one_sided[0].alpha_curve / one_sided[1].alpha_curve:.3f}")
    parts.append(f"alpha ({alpha_side}) = {a.mean:.4g} ± {a.se:.2g} (SE over {a.n} queries)")
    if fails:
        parts.append("failed: " + "; ".join(fails))
    v = Verdict("assumption-1", "linear_up_to", stat, tol, not fails, rule, "; ".join(parts))
    return v, alpha_side


def assumption_1(
    lam: object,
    delta_norms: object,
    *,
    residual_norms: object = None,
    logit_norms: object = None,
    tolerance: float = 0.10,
    min_points: int = 2,
    level: float = 0.95,
) -> Assumption1Result:
    r"""Measure Assumption 1 (eq. 7) from per-query norms over a λ grid (method: ``docs/api/validation-measure.md``).

    Args:
        lam: the steering coefficients, 1-D, finite, no repeats; both signs and 0 allowed.
        delta_norms: :math:`\|\delta_\lambda(q)\|` after the final norm, shape ``(n_queries, len(lam))``,
            finite, ``>= 0``.
        residual_norms: optional pre-norm residual change norms, same shape.
        logit_norms: optional :math:`\|U\delta\|`, same shape.
        tolerance: relative deviation :math:`\tau` allowed inside the linear range, ``0 < tolerance < 1``.
        min_points: the fewest distinct non-zero :math:`|\lambda|` a window must hold, integer ``>= 2`` (through
            the origin, one point fits any slope).
        level: confidence level of the across-query intervals, in ``(0, 1)``.

    Returns:
        :class:`Assumption1Result`.

    Raises:
        ValueError: bad shapes (the message names the parameter), negative or non-finite norms, repeated ``lam``,
            settings out of range.
    """
    lm = _check_lam(lam)
    tol, mp = _check_settings(tolerance, min_points)
    lv = check_level("level", level)
    given = {"delta_final": delta_norms, "delta_residual": residual_norms, "U_delta": logit_norms}
    names = {"delta_final": "delta_norms", "delta_residual": "residual_norms", "U_delta": "logit_norms"}
    fits: dict[str, LinearityFit] = {}
    for label, arr in given.items():
        if arr is None:
            continue
        name = names[label]
        N = check_matrix(name, arr)
        if N.shape[1] != lm.size:
            raise ValueError(f"{name} must have shape (n_queries, len(lam) = {lm.size}), got {N.shape}")
        if (N < 0).any():
            raise ValueError(f"{name} must hold norms >= 0, got {float(N.min())!r}")
        fits[label] = _fit_quantity(label, lm, N, tol, mp, lv)
    verdict, side = _verdict(fits["delta_final"], lm, tol, mp, lv)
    alpha = fits["delta_final"].sides[side].alpha if side else None
    return Assumption1Result(lm, tol, mp, lv, fits, alpha, side, verdict)
