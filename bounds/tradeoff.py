r"""Tradeoff analysis between alignment and helpfulness along the steering coefficient :math:`\lambda`.

A :class:`Law` is a function of :math:`\lambda` with its derivative and provenance (a theorem, a fit, any callable);
the analysis functions take a behavior law ``B`` and a helpfulness law ``H`` on a finite range of :math:`\lambda`,
each on its own scale (:math:`B\in[-1,1]`, :math:`H\in[0,1]`, no rescaling). docs/api/tradeoff.md has the overview.
matplotlib is imported inside :func:`plot_pareto` only; lmfit is never imported here.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from ._check import args, as_real, check_closed, check_integer
from ._plot import new_figure
from .alignment import alignment_lower
from .errors import ParameterError
from .fitting.lineshapes import derivative_of
from .helpfulness import helpfulness_expectation, helpfulness_upper

__all__ = [
    "FD_STEP",
    "BestLambda",
    "HelpfulnessLimit",
    "Law",
    "ParetoFrontier",
    "Theorem2Warning",
    "TradeoffSummary",
    "alignment_theorem_1_law",
    "analyse",
    "best_lambda",
    "efficient_regime",
    "helpfulness_expectation_law",
    "helpfulness_theorem_2_law",
    "law_from_callable",
    "max_lambda_keeping_helpfulness",
    "pareto_frontier",
    "plot_pareto",
]

#: relative step of the central differences, :math:`h=\text{FD\_STEP}\cdot\max(1,|\lambda|)` (why: docs/api/tradeoff.md)
FD_STEP = float(np.finfo(np.float64).eps ** (1.0 / 3.0))

#: default number of grid points of the analysis functions (the grid is refined by root finding / optimisation)
N_GRID = 2001

#: docs/specification.md §6.1 caution on β, reported whenever a fitted :math:`b=\alpha\beta\sigma` is mentioned
BETA_CAUTION = (
    "docs/specification.md §6.1: b = αβσ; β = min(Y+, Y-) is about 0.47 (k=4), 0.54 (k=10), 0.58 (k=50) for "
    "Gaussian noise, not the paper's 0.8 (the mean of one |N(0,1)|). Any σ inferred from b must state the β it "
    "used; σ is the within-query spread of the projections."
)

Kind = Literal["behavior", "helpfulness"]
_SCALES: dict[str, tuple[float, float]] = {"behavior": (-1.0, 1.0), "helpfulness": (0.0, 1.0)}

#: how :meth:`Law.from_result` describes a fit of each lineshape of :mod:`bounds.fitting.lineshapes`:
#: ``(kind, label, provenance formatted with the fitted arguments, note)``; any other model is a helpfulness law
#: named after its function, with provenance "fitted <model name>"
_FITTED: dict[str, tuple[Kind, str, str | None, str | None]] = {
    "tanh_law": ("behavior", "tanh", "fitted tanh", None),
    "theorem_2_form": (
        "helpfulness",
        "eq. (6) form",
        "fitted theorem-2 form 1/(1+a(1+b²λ²/2)) (eq. (6)'s functional form as a fit, not a bound)",
        BETA_CAUTION,
    ),
    "restricted_form": (
        "helpfulness",
        "restricted form",
        "fitted restricted-choice form (1-2/k)T+1/k, k={k:g} (eq. (6)'s form as a fit, not a bound)",
        BETA_CAUTION,
    ),
    "expectation_form": (
        "helpfulness",
        "§12.2c expectation form",
        "fitted expectation form p0(1-cλ²) (theorem-2-expectation, second order, valid for small |λ|)",
        None,
    ),
}


class Theorem2Warning(UserWarning):
    """Emitted when eq. (6) (Theorem 2 as stated, status ``fails``) is used as a helpfulness law."""


def _central_difference(f: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    r"""Central difference :math:`(f(\lambda+h)-f(\lambda-h))/(2h)`, :math:`h=\text{FD\_STEP}\max(1,|\lambda|)`."""

    def d(lam: np.ndarray) -> np.ndarray:
        x = np.asarray(lam, dtype=np.float64)
        h = FD_STEP * np.maximum(1.0, np.abs(x))
        # (x + h) - (x - h) is the step actually taken once rounded: dividing by it removes the representation error
        hi, lo = x + h, x - h
        return (np.asarray(f(hi), dtype=np.float64) - np.asarray(f(lo), dtype=np.float64)) / (hi - lo)

    return d


@dataclass(frozen=True)
class Law:
    r"""A behavior or helpfulness law :math:`\lambda\mapsto L(\lambda)` with its derivative and provenance.

    Attributes:
        name: short display name (used in plots and reports).
        kind: ``"behavior"`` (:math:`B`, scale :math:`[-1,1]`) or ``"helpfulness"`` (:math:`H`, scale :math:`[0,1]`).
        value: vectorised callable :math:`\lambda\mapsto L(\lambda)` (float64 array in, array out).
        derivative: vectorised callable :math:`\lambda\mapsto dL/d\lambda`.
        derivative_method: ``"analytic"`` or a description of the central difference used (:data:`FD_STEP`).
        provenance: which statement or fit the law comes from (e.g. ``"theorem-1"``, ``"fitted tanh"``).
        params: the parameter values the law was built from (for reports).
        warning: a caution the user must see (e.g. eq. (6)'s failure), or ``None``.
        note: a further remark that is not a warning (e.g. which side of :math:`B` Theorem 1 bounds for
            :math:`\lambda<0`).
    """

    name: str
    kind: Kind
    value: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray], np.ndarray]
    derivative_method: str
    provenance: str
    params: Mapping[str, float] = field(default_factory=dict)
    warning: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _SCALES:
            raise ParameterError(f"kind must be 'behavior' or 'helpfulness', got {self.kind!r}")

    @classmethod
    def from_result(cls, result: Any, kind: Kind | None = None) -> Law:
        r"""A fitted curve (an lmfit ``ModelResult`` in one independent variable, :math:`\lambda`) as a law.

        Args:
            result: the fit.
            kind: ``"behavior"`` or ``"helpfulness"``; default ``"behavior"`` for a tanh fit, else ``"helpfulness"``.

        Raises:
            TypeError: ``result`` is not a ModelResult.
        """
        if not hasattr(result, "eval") or not hasattr(result, "params") or not hasattr(result, "model"):
            raise TypeError(
                f"result must be an lmfit ModelResult (with .eval and .params), got {type(result).__name__}"
            )
        model = result.model
        var, fname = model.independent_vars[0], getattr(model.func, "__name__", "")
        default_kind, label, provenance, note = _FITTED.get(fname, ("helpfulness", fname or model.name, None, None))
        args = model.make_funcargs(result.params)
        params = {n: float(p.value) for n, p in result.params.items()}
        fixed = [n for n, p in result.params.items() if not p.vary]

        def value(lam: np.ndarray) -> np.ndarray:
            x = np.asarray(lam, dtype=np.float64)
            return np.broadcast_to(np.asarray(result.eval(**{var: x}), dtype=np.float64), x.shape)

        dlam = derivative_of(model.func)
        return law_from_callable(
            f"fitted {label} ("
            + ", ".join(f"{k}={v:.3g}" for k, v in params.items() if k != "k")
            + (", fixed)" if fixed else ")"),
            kind or default_kind,
            value,
            derivative=None if dlam is None else lambda lam: dlam(np.asarray(lam, dtype=np.float64), **args),
            provenance=(provenance.format(**args) if provenance else f"fitted {model.name}")
            + (f" ({', '.join(fixed)} fixed)" if fixed else ""),
            params=params,
            note=note,
        )

    @property
    def scale(self) -> tuple[float, float]:
        """The range of the quantity the law describes: :math:`[-1,1]` for :math:`B`, :math:`[0,1]` for :math:`H`."""
        return _SCALES[self.kind]

    def __call__(self, lam: object) -> float | np.ndarray:
        """:math:`L(\\lambda)`; a float for a scalar :math:`\\lambda`. Raises ValueError if the law is not finite."""
        return self._eval(self.value, lam, "value")

    def d(self, lam: object) -> float | np.ndarray:
        """:math:`dL/d\\lambda`; a float for a scalar :math:`\\lambda`."""
        return self._eval(self.derivative, lam, "derivative")

    def _eval(self, f: Callable[[np.ndarray], np.ndarray], lam: object, what: str) -> float | np.ndarray:
        x = as_real("lam", lam)
        out = np.asarray(f(x), dtype=np.float64)
        if out.shape != x.shape:
            out = np.broadcast_to(out, x.shape).copy()
        if not np.isfinite(out).all():
            bad = x[~np.isfinite(out)] if x.ndim else x
            raise ValueError(f"law {self.name!r}: {what} is not finite at lam = {float(np.ravel(bad)[0])!r}")
        return float(out) if out.ndim == 0 else out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (no callables)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "scale": list(self.scale),
            "provenance": self.provenance,
            "derivative": self.derivative_method,
            "params": {k: float(v) for k, v in self.params.items()},
            "warning": self.warning,
            "note": self.note,
        }


def law_from_callable(
    name: str,
    kind: Kind,
    f: Callable[[np.ndarray], object],
    *,
    derivative: Callable[[np.ndarray], object] | None = None,
    provenance: str = "user-supplied",
    params: Mapping[str, float] | None = None,
    warning: str | None = None,
    note: str | None = None,
) -> Law:
    r"""Wrap a vectorised function of :math:`\lambda` as a :class:`Law` (every law is built here).

    Args:
        name: display name.
        kind: ``"behavior"`` or ``"helpfulness"``.
        f: :math:`\lambda\mapsto L(\lambda)`, accepting float64 arrays.
        derivative: :math:`\lambda\mapsto L'(\lambda)`, analytic, or ``None`` for the central difference.
        provenance: where the law comes from.
        params: parameter values for reports.
        warning: a caution to show with every result that uses the law.
        note: a further remark for reports.

    Raises:
        TypeError: ``f`` or ``derivative`` is not callable.
        ValueError: ``kind`` is not one of the two kinds.
    """
    if not callable(f):
        raise TypeError(f"f must be callable (a function of lam), got {type(f).__name__}")
    if derivative is not None and not callable(derivative):
        raise TypeError(f"derivative must be callable or None, got {type(derivative).__name__}")

    def value(lam: np.ndarray) -> np.ndarray:
        return np.asarray(f(lam), dtype=np.float64)

    def exact(lam: np.ndarray) -> np.ndarray:
        return np.asarray(derivative(lam), dtype=np.float64)  # type: ignore[misc]

    return Law(
        name=name,
        kind=kind,
        value=value,
        derivative=exact if derivative is not None else _central_difference(value),
        derivative_method="analytic"
        if derivative is not None
        else f"central difference, h = {FD_STEP:.3g}·max(1, |λ|)",
        provenance=provenance,
        params=dict(params or {}),
        warning=warning,
        note=note,
    )


def _scalar(name: str, x: object, lo: float, hi: float) -> float:
    arr = as_real(name, x)
    if arr.ndim != 0:
        raise ParameterError(f"{name} must be a scalar, got an array of shape {arr.shape}")
    return float(check_closed(name, arr, lo, hi))


# -- The theory's laws -------------------------------------------------------------------------------------------------
def alignment_theorem_1_law(alpha: object, delta: object, B0: object) -> Law:
    r"""Theorem 1 (eq. 5) as a behavior law: :math:`B(\lambda)=\tanh(\alpha\Delta\lambda/2+\operatorname{artanh}B_0)`.

    Args:
        alpha: :math:`\alpha\ge0` (Assumption 1).
        delta: the full-gap margin :math:`\Delta\ge0` (Assumption 2).
        B0: unsteered behavior expectation, :math:`-1<B_0<1`.

    Raises:
        ValueError: a parameter outside its domain (checked by :func:`bounds.alignment_lower`) or not a scalar.
    """
    a, d, b0 = args("alignment_lower", scalar=True, alpha=alpha, delta=delta, B0=B0)
    half_slope = 0.5 * a * d

    def value(lam: np.ndarray) -> np.ndarray:
        return np.asarray(alignment_lower(a, b0, lam, d))

    return law_from_callable(
        f"Theorem 1 (αΔ={a * d:.3g}, B0={b0:.3g})",
        "behavior",
        value,
        derivative=lambda lam: half_slope * (1.0 - value(lam) ** 2),
        provenance="theorem-1",
        params={"alpha": a, "delta": d, "B0": b0},
        note="Theorem 1 is a lower bound on B for λ ≥ 0 and an upper bound for λ < 0 (docs/specification.md §0).",
    )


def helpfulness_expectation_law(p0: object, S2: object, alpha: object, sigma: object) -> Law:
    r"""docs/specification.md §12.2(c) (:func:`bounds.helpfulness_expectation`) as a helpfulness law.

    Args:
        p0: :math:`0<p_0\le1`.
        S2: :math:`S_2=\sum_{b\ne a^*}P(b\mid q)^2\in[0,(1-p_0)^2]`.
        alpha: :math:`\alpha\ge0`.
        sigma: :math:`\sigma\ge0` (within-query standard deviation of the projections).

    Raises:
        ValueError: a parameter outside its domain (checked by :func:`bounds.helpfulness_expectation`).
    """
    p, s2, a, s = args("helpfulness_expectation", scalar=True, p0=p0, S2=S2, alpha=alpha, sigma=sigma)
    helpfulness_expectation(p, s2, a, s, 0.0)  # the joint domain check S2 <= (1-p0)^2, with the package's message
    curvature = p * (1.0 - p) - s2
    return law_from_callable(
        f"§12.2c expectation (p0={p:.3g}, ασ={a * s:.3g})",
        "helpfulness",
        lambda lam: np.asarray(helpfulness_expectation(p, s2, a, s, lam)),
        derivative=lambda lam: -2.0 * p * (a * s) ** 2 * curvature * np.asarray(lam, dtype=np.float64),
        provenance="theorem-2-expectation (second order, valid for small ασλ)",
        params={"p0": p, "S2": s2, "alpha": a, "sigma": s},
        note="An expectation over the noise, not a per-query bound; a polynomial that leaves [0, 1] for large ασλ.",
    )


def _theorem_2_failure_note() -> str:
    from .registry import get

    status = get("theorem-2").status
    return (
        f"Theorem 2 (eq. 6) has status '{status}' in bounds.registry: it does not hold with probability 1-2/k "
        "(docs/specification.md §6.3); it is not a valid bound and is used here only as the authors' fitting form. Use "
        "theorem-2-expectation (§12.2c) or a fitted curve for conclusions."
    )


def helpfulness_theorem_2_law(p0: object, gamma: object, alpha: object, beta: object, sigma: object) -> Law:
    r"""Eq. (6) (Theorem 2 as stated, **status fails**) as a helpfulness law; emits a :class:`Theorem2Warning`.

    Args:
        p0, gamma, alpha, beta, sigma: as in :func:`bounds.helpfulness_upper` (scalars).

    Raises:
        ValueError: a parameter outside its domain.
    """
    p, g, a, bt, s = args("helpfulness_upper", scalar=True, p0=p0, gamma=gamma, alpha=alpha, beta=beta, sigma=sigma)
    msg = _theorem_2_failure_note()
    warnings.warn(msg, Theorem2Warning, stacklevel=2)
    big_a = g * (1.0 - p) / p
    b2 = (a * bt * s) ** 2

    def value(lam: np.ndarray) -> np.ndarray:
        return np.asarray(helpfulness_upper(p, g, a, bt, s, lam))

    return law_from_callable(
        f"eq. (6) [fails] (p0={p:.3g}, γ={g:.3g}, αβσ={a * bt * s:.3g})",
        "helpfulness",
        value,
        derivative=lambda lam: -(value(lam) ** 2) * big_a * b2 * np.asarray(lam, dtype=np.float64),
        provenance="theorem-2 eq. (6) — status fails: not a valid bound, use only as the authors' fitting form",
        params={"p0": p, "gamma": g, "alpha": a, "beta": bt, "sigma": s},
        warning=msg,
        note=BETA_CAUTION,
    )


# -- Input checks shared by the analysis functions ---------------------------------------------------------------------
def _as_law(name: str, law: object, kind: Kind) -> Law:
    if isinstance(law, Law):
        if law.kind != kind:
            raise ValueError(f"{name} must be a {kind} law, got the {law.kind} law {law.name!r} (arguments swapped?)")
        return law
    if callable(law):
        return law_from_callable(getattr(law, "__name__", name), kind, law)
    raise TypeError(f"{name} must be a Law or a callable of lam, got {type(law).__name__}")


def _check_range(lam_range: object) -> tuple[float, float]:
    try:
        lo_hi = as_real("lam_range", lam_range)
    except TypeError as exc:
        raise TypeError(f"lam_range must be a pair (lo, hi) of finite reals, got {lam_range!r}") from exc
    if lo_hi.shape != (2,):
        raise ParameterError(f"lam_range must be a pair (lo, hi) of finite reals, got shape {lo_hi.shape}")
    lo, hi = float(lo_hi[0]), float(lo_hi[1])
    if not lo < hi:
        raise ParameterError(f"lam_range must satisfy lo < hi, got ({lo!r}, {hi!r})")
    return lo, hi


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """The maximal runs of ``True`` in a 1-D boolean array, as ``(first, last)`` index pairs."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist(), strict=True))


def _brentq(f: Callable[[float], float], a: float, b: float, fa: float, fb: float) -> float:
    """A root of ``f`` in ``[a, b]`` given ``fa = f(a)`` and ``fb = f(b)`` of opposite signs (or one of them zero)."""
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    return float(brentq(f, a, b, xtol=1e-12 * max(1.0, abs(a), abs(b)), rtol=4 * np.finfo(float).eps))


# -- Analysis ----------------------------------------------------------------------------------------------------------
def efficient_regime(
    B: Law | Callable, H: Law | Callable, lam_range: Sequence[float], *, n_grid: int = N_GRID
) -> list[tuple[float, float]]:
    r"""The efficient regime :math:`\{\lambda\in[\lambda_{lo},\lambda_{hi}]:\ B'(\lambda) > -H'(\lambda)\}`.

    Args:
        B, H: the behavior and the helpfulness law (a :class:`Law` of that kind, or a callable: central differences).
        lam_range: ``(lo, hi)``, finite, ``lo < hi``.
        n_grid: grid points, ``>= 3``.

    Returns:
        disjoint, sorted intervals ``(lo_i, hi_i)`` (closed at the range ends) where :math:`g>0`; empty if none.

    Raises:
        ValueError/TypeError: bad laws, range or grid (the message names the parameter).
    """
    b_law, h_law = _as_law("B", B, "behavior"), _as_law("H", H, "helpfulness")
    lo, hi = _check_range(lam_range)
    n = check_integer("n_grid", n_grid, 3)
    grid = np.linspace(lo, hi, n)
    g = np.asarray(b_law.d(grid)) + np.asarray(h_law.d(grid))

    def gf(x: float) -> float:
        return float(b_law.d(x)) + float(h_law.d(x))

    out: list[tuple[float, float]] = []
    for i, j in _runs(g > 0):
        left = lo if i == 0 else _brentq(gf, grid[i - 1], grid[i], g[i - 1], g[i])
        right = hi if j == n - 1 else _brentq(gf, grid[j], grid[j + 1], g[j], g[j + 1])
        out.append((float(left), float(right)))
    return out


@dataclass(frozen=True)
class BestLambda:
    r"""The maximiser of :math:`B(\lambda)+wH(\lambda)` on a range.

    Attributes:
        lam: the maximising :math:`\lambda`.
        objective: :math:`B+wH` there.
        B, H: the two laws' values there.
        w: the weight.
        boundary: ``"lower"``/``"upper"`` when the maximum is at an end of the range (the optimum may lie beyond
            it), else ``None``.
    """

    lam: float
    objective: float
    B: float
    H: float
    w: float
    boundary: Literal["lower", "upper"] | None

    @property
    def at_boundary(self) -> bool:
        """Whether the maximum is at an end of the range."""
        return self.boundary is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable fields (plus ``at_boundary``, before ``boundary``)."""
        fields = {k: v for k, v in asdict(self).items() if k != "boundary"}
        return fields | {"at_boundary": self.at_boundary, "boundary": self.boundary}


def best_lambda(
    B: Law | Callable, H: Law | Callable, w: float, lam_range: Sequence[float], *, n_grid: int = N_GRID
) -> BestLambda:
    r""":math:`\lambda^\star=\arg\max_{\lambda\in[\lambda_{lo},\lambda_{hi}]} B(\lambda)+w\,H(\lambda)`, :math:`w\ge0`.

    Args:
        B, H: the behavior and the helpfulness law.
        w: weight :math:`w\ge0`, finite (one unit of helpfulness is worth :math:`w` units of behavior).
        lam_range: ``(lo, hi)``, finite, ``lo < hi``.
        n_grid: grid points, ``>= 3``.

    Returns:
        a :class:`BestLambda` (``boundary`` says whether the maximum is at an end of the range).

    Raises:
        ValueError/TypeError: bad laws, weight, range or grid.
    """
    b_law, h_law = _as_law("B", B, "behavior"), _as_law("H", H, "helpfulness")
    wt = _scalar("w", w, 0.0, np.inf)
    lo, hi = _check_range(lam_range)
    n = check_integer("n_grid", n_grid, 3)
    grid = np.linspace(lo, hi, n)
    f = np.asarray(b_law(grid)) + wt * np.asarray(h_law(grid))
    i = int(np.argmax(f))
    best_x, best_f = float(grid[i]), float(f[i])
    a, b = float(grid[max(i - 1, 0)]), float(grid[min(i + 1, n - 1)])
    res = minimize_scalar(
        lambda x: -(float(b_law(x)) + wt * float(h_law(x))),
        bounds=(a, b),
        method="bounded",
        options={"xatol": 1e-12 * max(1.0, abs(a), abs(b))},
    )
    cand = float(res.x)
    # an interior maximum is a root of B' + wH': Brent's root finder locates it to ~1e-12, where the flat top of the
    # objective only pins it to ~sqrt(eps)
    ga, gb = float(b_law.d(a)) + wt * float(h_law.d(a)), float(b_law.d(b)) + wt * float(h_law.d(b))
    if ga > 0.0 > gb:
        cand = _brentq(lambda x: float(b_law.d(x)) + wt * float(h_law.d(x)), a, b, ga, gb)
    f_cand = float(b_law(cand)) + wt * float(h_law(cand))
    if f_cand >= best_f - 1e-12 * max(1.0, abs(best_f)) and cand not in (lo, hi):
        best_x, best_f = cand, f_cand
    boundary: Literal["lower", "upper"] | None = "lower" if best_x == lo else "upper" if best_x == hi else None
    return BestLambda(best_x, best_f, float(b_law(best_x)), float(h_law(best_x)), wt, boundary)


@dataclass(frozen=True)
class HelpfulnessLimit:
    r"""The largest :math:`|\lambda|` keeping :math:`H\ge(1-\tau)p_0` on :math:`[0,\lambda]` (first crossing).

    Attributes:
        lam: the limit, or ``None`` when :math:`H(0)` is already below the threshold.
        threshold: :math:`(1-\tau)p_0`.
        p0: the reference helpfulness.
        tau: the tolerated relative loss.
        side: ``"positive"`` (search :math:`\lambda\ge0`) or ``"negative"``.
        crossed: ``True`` when :math:`H` crosses the threshold inside the range; ``False`` when it never does and
            ``lam`` is the range end (the true limit lies beyond it).
        reason: one sentence saying which case applies.
    """

    lam: float | None
    threshold: float
    p0: float
    tau: float
    side: Literal["positive", "negative"]
    crossed: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable fields."""
        return asdict(self)


def max_lambda_keeping_helpfulness(
    H: Law | Callable,
    tau: float,
    lam_range: Sequence[float],
    *,
    p0: float | None = None,
    side: Literal["positive", "negative"] = "positive",
    n_grid: int = N_GRID,
) -> HelpfulnessLimit:
    r"""The largest :math:`\lambda` in range with :math:`H\ge(1-\tau)p_0` on **all** of :math:`[0,\lambda]`.

    Args:
        H: helpfulness law.
        tau: tolerated relative loss, :math:`0\le\tau\le1`.
        lam_range: ``(lo, hi)``, finite, ``lo < hi``, containing 0, with room on the searched side.
        p0: reference helpfulness in :math:`[0,1]`; default :math:`H(0)`.
        side: ``"positive"`` or ``"negative"`` (the most negative :math:`\lambda` with the property on
            :math:`[\lambda,0]`).
        n_grid: grid points, ``>= 3``.

    Returns:
        a :class:`HelpfulnessLimit`; ``lam`` is ``None`` when :math:`H(0)<(1-\tau)p_0` (possible only with an explicit
        ``p0``), and the range end with ``crossed=False`` when :math:`H` never falls below the threshold.

    Raises:
        ValueError/TypeError: bad law, ``tau``, ``p0``, ``side``, range (not containing 0) or grid.
    """
    h_law = _as_law("H", H, "helpfulness")
    t = _scalar("tau", tau, 0.0, 1.0)
    lo, hi = _check_range(lam_range)
    n = check_integer("n_grid", n_grid, 3)
    if side not in ("positive", "negative"):
        raise ParameterError(f"side must be 'positive' or 'negative', got {side!r}")
    if not lo <= 0.0 <= hi:
        raise ParameterError(f"lam_range must contain 0 (the search starts at λ = 0), got ({lo!r}, {hi!r})")
    end = hi if side == "positive" else lo
    if end == 0.0:
        raise ParameterError(f"lam_range ({lo!r}, {hi!r}) has no {side} λ to search")
    h0 = float(h_law(0.0))
    if p0 is None:
        if not 0.0 <= h0 <= 1.0:
            raise ValueError(f"H(0) = {h0!r} is outside [0, 1]: pass p0 explicitly (law {h_law.name!r})")
        ref = h0
    else:
        ref = _scalar("p0", p0, 0.0, 1.0)
    thr = (1.0 - t) * ref

    def limit(lam: float | None, crossed: bool, reason: str) -> HelpfulnessLimit:
        return HelpfulnessLimit(lam, thr, ref, t, side, crossed, reason)

    if h0 < thr:
        return limit(None, True, f"H(0) = {h0:.6g} is already below (1-τ)p0 = {thr:.6g}: no λ qualifies")
    grid = np.linspace(0.0, end, n)
    dev = np.asarray(h_law(grid)) - thr
    below = np.flatnonzero(dev < 0)
    if below.size == 0:
        reason = f"H stays >= (1-τ)p0 = {thr:.6g} on the whole {side} side of the range: the limit lies beyond {end:g}"
        return limit(float(end), False, reason)
    i = int(below[0])
    lam = _brentq(lambda x: float(h_law(x)) - thr, float(grid[i - 1]), float(grid[i]), dev[i - 1], dev[i])
    return limit(lam, True, f"first crossing of H = (1-τ)p0 = {thr:.6g} going out from λ = 0")


@dataclass(frozen=True)
class ParetoFrontier:
    r"""Points :math:`(\lambda_i,B(\lambda_i),H(\lambda_i))` and the ``mask`` of the non-dominated ones."""

    lam: np.ndarray
    B: np.ndarray
    H: np.ndarray
    mask: np.ndarray

    def lam_intervals(self) -> list[tuple[float, float]]:
        """Maximal runs of consecutive frontier points (in the given order of ``lam``) as ``(first, last)`` pairs."""
        return [(float(self.lam[i]), float(self.lam[j])) for i, j in _runs(self.mask)]


def pareto_frontier(B: Law | Callable, H: Law | Callable, lam: object) -> ParetoFrontier:
    r"""The Pareto frontier of :math:`(B(\lambda),H(\lambda))` over the given :math:`\lambda` values (equal points
    are all kept).

    Args:
        B, H: the behavior and the helpfulness law.
        lam: 1-D array of finite :math:`\lambda` values (any order, at least one).

    Returns:
        a :class:`ParetoFrontier` with the points in the given order and the boolean ``mask``.

    Raises:
        ValueError/TypeError: bad laws or ``lam``.
    """
    b_law, h_law = _as_law("B", B, "behavior"), _as_law("H", H, "helpfulness")
    x = as_real("lam", lam)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"lam must be a non-empty 1-D array of λ values, got shape {x.shape}")
    b = np.asarray(b_law(x), dtype=np.float64)
    h = np.asarray(h_law(x), dtype=np.float64)
    # the non-dominated points (maximising both b and h) by one sweep in decreasing b
    order = np.lexsort((-h, -b))  # by b descending, ties by h descending
    mask = np.zeros(b.size, dtype=bool)
    best_h_above = -np.inf  # the largest h among points with strictly larger b
    k = 0
    while k < order.size:
        group = [order[k]]
        while k + len(group) < order.size and b[order[k + len(group)]] == b[order[k]]:
            group.append(order[k + len(group)])
        top = h[group[0]]  # the group's largest h (sorted)
        for idx in group:
            mask[idx] = h[idx] == top and h[idx] > best_h_above
        best_h_above = max(best_h_above, top)
        k += len(group)
    return ParetoFrontier(lam=x.copy(), B=b, H=h, mask=mask)


def plot_pareto(
    B: Law | Callable,
    H: Law | Callable,
    lam_range: Sequence[float],
    *,
    ax: Any = None,
    mark: Mapping[str, float] | Sequence[float] | float | None = None,
    n_grid: int = 401,
    extra_warnings: Sequence[str] = (),
) -> Any:
    r"""Plot the curve :math:`\lambda\mapsto(B(\lambda),H(\lambda))` with its Pareto frontier; return the Figure.

    Args:
        B, H: the behavior and the helpfulness law.
        lam_range: ``(lo, hi)``, finite, ``lo < hi``.
        ax: a matplotlib Axes to draw into, or ``None`` for a new Figure (Agg canvas, no pyplot state).
        mark: λ values to mark: a mapping ``label -> λ``, a sequence of λ, or one λ.
        n_grid: points along the curve, ``>= 3``.
        extra_warnings: more warnings to print on the figure.

    Returns:
        the :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError/TypeError: bad laws, range, marks or grid.
    """
    b_law, h_law = _as_law("B", B, "behavior"), _as_law("H", H, "helpfulness")
    lo, hi = _check_range(lam_range)
    n = check_integer("n_grid", n_grid, 3)
    if mark is None:
        marks = {}
    elif isinstance(mark, Mapping):
        marks = {str(k): _scalar(f"mark[{k!r}]", v, -np.inf, np.inf) for k, v in mark.items()}
    else:
        marks = {f"λ = {v:.3g}": float(v) for v in np.atleast_1d(as_real("mark", mark))}
    pf = pareto_frontier(b_law, h_law, np.linspace(lo, hi, n))
    fig, ax = new_figure((7.0, 5.2)) if ax is None else (ax.figure, ax)
    ax.plot(pf.B, pf.H, color="0.75", lw=1.0, zorder=1)
    sc = ax.scatter(pf.B, pf.H, c=pf.lam, cmap="viridis", s=10, zorder=2, label="(B, H) along λ")
    for r, (first, last) in enumerate(pf.lam_intervals()):
        run = (pf.lam >= first) & (pf.lam <= last)
        ax.plot(
            pf.B[run],
            pf.H[run],
            color="crimson",
            lw=7,
            alpha=0.35,
            solid_capstyle="round",
            zorder=1.5,
            label="Pareto frontier (non-dominated)" if r == 0 else None,
        )
    for k, (label, lm) in enumerate(marks.items()):
        ax.scatter(
            [b_law(lm)],
            [h_law(lm)],
            marker="*",
            s=180,
            color=f"C{(k + 1) % 10}",
            edgecolors="black",
            zorder=4,
            label=label,
        )
    fig.colorbar(sc, ax=ax, label="steering coefficient λ")
    ax.set_xlabel("behavior expectation B(λ)")
    ax.set_ylabel("helpfulness H(λ)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    warns = [w for w in (b_law.warning, h_law.warning) if w] + [w for w in extra_warnings if w]
    title = f"B: {b_law.name}\nH: {h_law.name}"
    if warns:
        wrapped = "\n".join(textwrap.fill("⚠ " + w, width=95) for w in dict.fromkeys(warns))
        title = f"{title}\n{wrapped}"
    ax.set_title(title, fontsize=7, loc="left")
    fig.tight_layout()
    return fig


# -- Everything at once ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TradeoffSummary:
    """The results of :func:`analyse` (JSON-serialisable through :meth:`to_dict`; the laws are kept for plotting)."""

    B: Law
    H: Law
    lam_range: tuple[float, float]
    w: float
    tau: float
    slopes_at_zero: dict[str, float] | None
    efficient_regime: list[tuple[float, float]]
    best: BestLambda
    helpfulness_limit: HelpfulnessLimit | None
    helpfulness_limit_negative: HelpfulnessLimit | None
    pareto: ParetoFrontier
    warnings: list[str]

    def marks(self) -> dict[str, float]:
        """The λ values worth marking on a plot: the best λ and the helpfulness limits."""
        out = {f"best λ for B + {self.w:g}·H": self.best.lam}
        for lim in (self.helpfulness_limit, self.helpfulness_limit_negative):
            if lim is not None and lim.lam is not None:
                out[f"max |λ| with H ≥ (1-{self.tau:g})p0 ({lim.side})"] = lim.lam
        return out

    def plot(self, ax: Any = None) -> Any:
        """:func:`plot_pareto` with :meth:`marks` and the summary's warnings."""
        return plot_pareto(self.B, self.H, self.lam_range, ax=ax, mark=self.marks(), extra_warnings=self.warnings)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only: laws as descriptions, intervals as lists, the frontier as λ-intervals."""
        limits = [
            None if lim is None else lim.to_dict() for lim in (self.helpfulness_limit, self.helpfulness_limit_negative)
        ]
        return {
            "B": self.B.to_dict(),
            "H": self.H.to_dict(),
            "lam_range": list(self.lam_range),
            "w": self.w,
            "tau": self.tau,
            "slopes_at_zero": self.slopes_at_zero,
            "efficient_regime": [list(iv) for iv in self.efficient_regime],
            "best": self.best.to_dict(),
            "helpfulness_limit": limits[0],
            "helpfulness_limit_negative": limits[1],
            "pareto_frontier_lam_intervals": [list(iv) for iv in self.pareto.lam_intervals()],
            "pareto_grid_points": int(self.pareto.lam.size),
            "warnings": list(self.warnings),
        }


def _out_of_scale(law: Law, grid: np.ndarray) -> str | None:
    lo, hi = law.scale
    v = np.asarray(law(grid))
    bad = (v < lo - 1e-12) | (v > hi + 1e-12)
    if not bad.any():
        return None
    where = grid[bad]
    return (
        f"{law.kind} law {law.name!r} leaves its scale [{lo:g}, {hi:g}] for λ in [{where.min():.4g}, {where.max():.4g}]"
        " (within the range): outside the law's validity there"
    )


def analyse(
    B: Law | Callable,
    H: Law | Callable,
    *,
    w: float = 1.0,
    tau: float = 0.1,
    lam_range: Sequence[float],
    p0: float | None = None,
    n_grid: int = N_GRID,
) -> TradeoffSummary:
    r"""Run every analysis of this module on two laws and one range (a limit is ``None`` on a side the range lacks).

    Args:
        B, H: the behavior and the helpfulness law.
        w: weight :math:`w\ge0` of :math:`H` in :math:`B+wH`.
        tau: tolerated relative helpfulness loss, :math:`0\le\tau\le1`.
        lam_range: ``(lo, hi)``, finite, ``lo < hi``.
        p0: reference helpfulness for the :math:`\tau` criterion; default :math:`H(0)`.
        n_grid: grid points, ``>= 3``.

    Returns:
        a :class:`TradeoffSummary`.

    Raises:
        ValueError/TypeError: any bad input, named.
    """
    b_law, h_law = _as_law("B", B, "behavior"), _as_law("H", H, "helpfulness")
    wt = _scalar("w", w, 0.0, np.inf)
    t = _scalar("tau", tau, 0.0, 1.0)
    lo, hi = _check_range(lam_range)
    n = check_integer("n_grid", n_grid, 3)
    if p0 is not None:
        _scalar("p0", p0, 0.0, 1.0)
    grid = np.linspace(lo, hi, n)
    notes = [w_ for w_ in (b_law.warning, h_law.warning) if w_]
    notes += [m for m in (_out_of_scale(b_law, grid), _out_of_scale(h_law, grid)) if m]
    has_zero = lo <= 0.0 <= hi
    limit = limit_neg = None
    if has_zero and hi > 0:
        limit = max_lambda_keeping_helpfulness(h_law, t, (lo, hi), p0=p0, side="positive", n_grid=n)
    if has_zero and lo < 0:
        limit_neg = max_lambda_keeping_helpfulness(h_law, t, (lo, hi), p0=p0, side="negative", n_grid=n)
    if not has_zero:
        notes.append(f"lam_range ({lo:g}, {hi:g}) does not contain 0: no helpfulness limit relative to λ = 0")
    # "+ 0.0" turns an exact -0.0 (e.g. -2 p0 c · 0) into 0.0 in reports
    slopes = {"dB/dλ": float(b_law.d(0.0)) + 0.0, "dH/dλ": float(h_law.d(0.0)) + 0.0} if has_zero else None
    return TradeoffSummary(
        B=b_law,
        H=h_law,
        lam_range=(lo, hi),
        w=wt,
        tau=t,
        slopes_at_zero=slopes,
        efficient_regime=efficient_regime(b_law, h_law, (lo, hi), n_grid=n),
        best=best_lambda(b_law, h_law, wt, (lo, hi), n_grid=n),
        helpfulness_limit=limit,
        helpfulness_limit_negative=limit_neg,
        pareto=pareto_frontier(b_law, h_law, grid),
        warnings=notes,
    )
