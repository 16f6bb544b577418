r"""Definition 1 (eq. 3), helpfulness (eq. 4) and Assumptions 1--4 as predicates (docs/specification.md §2--§3).

The unsteered quantities :math:`B_0`, :math:`P^\pm`, :math:`\operatorname{artanh}B_0` and :math:`p_0` (the steered
ones are :mod:`bounds.steered`). Each ``assumption_*`` function returns a :class:`PredicateResult`, truthy iff the
assumption holds on the instance, with the measured quantities and what failed; nothing is clipped.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._check import (
    answer_index,
    args,
    as_real,
    broadcast_shape,
    check_closed,
    check_index,
    check_probability_vector,
    check_vocabulary_axis,
    finish,
)


# ---------------------------------------------------------------------------------------------------------------
# Definition 1 and eq. (4): unsteered quantities
# ---------------------------------------------------------------------------------------------------------------
def _scores(scores: object, *, binary: bool) -> np.ndarray:
    sc = as_real("scores", scores)
    if binary:
        bad = ~((sc == 1.0) | (sc == -1.0))
        if bad.any():
            raise ValueError(
                f"scores must be binary behavior scores, each exactly -1 or +1 (Definition 1), got {sc[bad][:3]}"
            )
    else:
        check_closed("scores", sc, -1.0, 1.0)
    return sc


def _p_and_scores(p: object, scores: object, *, binary: bool) -> tuple[np.ndarray, np.ndarray]:
    pa = check_probability_vector("p", p)
    sc = _scores(scores, binary=binary)
    if sc.ndim == 0:
        raise ValueError(f"scores must have a last axis over the vocabulary like p {pa.shape}, got a scalar")
    shape = broadcast_shape({"p": pa, "scores": sc})
    check_vocabulary_axis("scores", sc, pa.shape[-1])
    return np.broadcast_to(pa, shape), np.broadcast_to(sc, shape)


def behavior_unsteered(p: object, scores: object) -> float | np.ndarray:
    r"""Definition 1 (eq. 3) for the unsteered model: :math:`B_0(q)=B_P(q)=\sum_s P(s\mid q)\,B(s)\in[-1,1]`.

    The steered value is :func:`bounds.steered.behavior_expectation` (equal to this at ``norm = 0``).

    Args:
        p: next-token distribution, shape ``(..., V)``; entries ``>= 0`` summing to 1 (within 1e-8).
        scores: behavior score of every token, in ``[-1, 1]`` (Definition 1 uses ``{-1, +1}``; graded scores in
            ``[-1, 1]`` as in Theorem 5 are accepted), broadcastable to ``p``.

    Returns:
        :math:`B_0`, a float for a single distribution, else an array over the leading axes.

    Raises:
        ValueError: ``p`` not a distribution, a score outside ``[-1, 1]``, shapes that do not broadcast.
    """
    pa, sc = _p_and_scores(p, scores, binary=False)
    return finish(np.sum(pa * sc, axis=-1))


def binary_masses(p: object, scores: object) -> tuple[float | np.ndarray, float | np.ndarray]:
    r"""The unsteered masses :math:`P^\pm=P(A^\pm\mid q)` with :math:`A^\pm=\{s:B(s)=\pm1\}` (docs/specification.md §2).

    Args:
        p: next-token distribution, shape ``(..., V)``.
        scores: binary scores, each exactly ``-1`` or ``+1``, broadcastable to ``p``.

    Returns:
        ``(P_plus, P_minus)``.

    Raises:
        ValueError: ``p`` not a distribution, a score other than ``±1``.
    """
    pa, sc = _p_and_scores(p, scores, binary=True)
    return finish(np.sum(np.where(sc > 0, pa, 0.0), axis=-1)), finish(np.sum(np.where(sc < 0, pa, 0.0), axis=-1))


def artanh_behavior(p: object, scores: object) -> float | np.ndarray:
    r""":math:`\operatorname{artanh}B_0=\tfrac12\log(P^+/P^-)` in log space (exact when :math:`B_0` rounds to ±1).

    Theorem 1's offset; :math:`\pm\infty` when :math:`P^\mp=0` (the value of :math:`\operatorname{artanh}(\pm1)`).

    Args:
        p: next-token distribution, shape ``(..., V)``; probabilities down to 1e-300 are handled.
        scores: binary scores, each exactly ``-1`` or ``+1``, broadcastable to ``p``.

    Raises:
        ValueError: ``p`` not a distribution, a score other than ``±1``.
    """
    pa, sc = _p_and_scores(p, scores, binary=True)
    with np.errstate(divide="ignore"):
        lp = np.log(pa)
    lpos = np.logaddexp.reduce(np.where(sc > 0, lp, -np.inf), axis=-1)
    lneg = np.logaddexp.reduce(np.where(sc < 0, lp, -np.inf), axis=-1)
    with np.errstate(invalid="ignore"):
        return finish(0.5 * (lpos - lneg))


def helpfulness_unsteered(p: object, answer: object) -> float | np.ndarray:
    r"""Eq. (4) for the unsteered model: :math:`p_0=H_P(q)=P(a^*\mid q)\in[0,1]`.

    The steered value :math:`H_{P_\lambda}(q)` is :func:`bounds.steered.helpfulness`.

    Args:
        p: next-token distribution, shape ``(..., V)``.
        answer: index of the correct token :math:`a^*` in ``[0, V-1]`` (an int, or an int array over the batch).

    Raises:
        ValueError: ``p`` not a distribution, ``answer`` out of range; TypeError: ``answer`` not an integer.
    """
    pa = check_probability_vector("p", p)
    idx = answer_index(answer, pa.shape)
    return finish(np.take_along_axis(pa, idx[..., None], axis=-1)[..., 0])


# ---------------------------------------------------------------------------------------------------------------
# Assumptions as predicates
# ---------------------------------------------------------------------------------------------------------------
#: absolute tolerance when a sum of probabilities is compared with a mass bound (float rounding of the sum only)
MASS_ATOL = 1e-12


@dataclass(frozen=True)
class PredicateResult:
    """The value of an assumption on one instance.

    Attributes:
        assumption: the statement id (``"assumption-2"``, ...).
        holds: whether the assumption holds on the instance (the object is truthy exactly when it holds).
        measured: the measured quantities (margin, slope, mass, depth, p-values, ...), documented per function.
        failures: one human-readable line per violated condition (empty when ``holds``).
    """

    assumption: str
    holds: bool
    measured: Mapping[str, Any] = field(default_factory=dict)
    failures: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "holds", bool(self.holds))
        object.__setattr__(self, "failures", tuple(self.failures))

    def __bool__(self) -> bool:
        return self.holds


def _vector(name: str, x: object) -> np.ndarray:
    arr = as_real(name, x)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (one query), got shape {arr.shape}")
    return arr


def _same_length(names: Sequence[str], arrays: Sequence[np.ndarray]) -> None:
    if len({a.shape for a in arrays}) != 1:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrays, strict=True))
        raise ValueError(f"parameters must have the same length (one entry per token / point): {shapes}")


# -- Assumption 1 -----------------------------------------------------------------------------------------------
def assumption_1(
    lam: object,
    norms: object,
    *,
    rtol: float = 0.05,
    atol: float = 0.0,
    min_points: int = 2,
    weak: bool = False,
) -> PredicateResult:
    r"""Assumption 1 (eq. 7), :math:`\|\delta_\lambda(q)\|=\alpha|\lambda|` for small :math:`|\lambda|`, on data.

    For every prefix :math:`|\lambda|\le L` of the points ordered by :math:`|\lambda|` (equal :math:`|\lambda|`, e.g.
    :math:`\pm\lambda`, taken together) the slope through the origin is fitted by least squares,
    :math:`\hat\alpha_L=\sum|\lambda_i|\,n_i/\sum\lambda_i^2`; the prefix is *linear* when every point satisfies
    :math:`\big|n_i-\hat\alpha_L|\lambda_i|\big|\le \mathrm{rtol}\,\hat\alpha_L|\lambda_i|+\mathrm{atol}`. The
    assumption holds when a linear prefix with :math:`\hat\alpha>0` contains at least ``min_points`` distinct
    :math:`|\lambda|>0` (one point fits any slope). ``weak=True`` checks A.2's form instead: :math:`\|\delta\|`
    non-decreasing in :math:`|\lambda|` within ``atol`` (each sign apart), not constant, and :math:`\le\mathrm{atol}`
    at :math:`\lambda=0`.

    This is the exact predicate on one curve. A model's noisy per-query curves are measured by
    ``validation.measure.assumption1.assumption_1`` (slopes weighted by :math:`1/\lambda^2`, windows grown from 0,
    confidence intervals): an estimate with its uncertainty, a different question; one rule for both would change the
    numbers either reports, so both are kept.

    Args:
        lam: steering coefficients, 1-D, finite reals (both signs allowed; A1 is symmetric in the sign).
        norms: measured :math:`\|\delta_\lambda\|\ge0` at each coefficient, same length as ``lam``.
        rtol: relative tolerance of linearity, ``0 <= rtol < 1``.
        atol: absolute tolerance, ``atol >= 0``.
        min_points: integer ``>= 2``, the fewest distinct non-zero :math:`|\lambda|` the linear range must contain.
        weak: check the monotone form of A.2 instead of linearity.

    Returns:
        :class:`PredicateResult` with ``measured``: ``alpha`` (slope over the largest linear range, ``nan`` if none),
        ``linear_up_to`` (that range's largest :math:`|\lambda|`, 0 if none), ``n_linear`` (its distinct non-zero
        :math:`|\lambda|`), ``relative_residual`` (:math:`\|n-\hat\alpha|\lambda|\|/\|n\|` on it), ``alpha_all`` and
        ``relative_residual_all`` (the same over all points) and ``monotone`` (A.2's form).

    Raises:
        ValueError: lengths differ, a negative or non-finite norm, a tolerance out of range, ``min_points < 2``, or a
            slope ``norms / |lam|`` beyond the float64 range.
    """
    lm = _vector("lam", lam)
    nm = check_closed("norms", _vector("norms", norms), 0.0, np.inf)
    _same_length(("lam", "norms"), (lm, nm))
    rtol, atol, min_points = args("assumption_1", scalar=True, rtol=rtol, atol=atol, min_points=min_points)

    a = np.abs(lm)
    order = np.argsort(a, kind="stable")
    a, n = a[order], nm[order]
    # prefix ends: last index of each group of equal |λ|
    ends = np.flatnonzero(np.append(a[1:] != a[:-1], True))
    # Everything is computed in units 2^ea of |λ| and 2^en of ‖δ‖ (powers of two near the maxima: the rescaling is
    # exact), so that |λ|‖δ‖ and λ² near 1e308 neither overflow to inf nor give inf/inf = NaN slopes; slopes are
    # scaled back by 2^(en - ea) at the end.
    ea, en = _pow2_exponent(a), _pow2_exponent(n)
    a_s, n_s = np.ldexp(a, -ea), np.ldexp(n, -en)
    with np.errstate(over="ignore"):
        atol_s = float(np.ldexp(atol, -en))  # inf when atol dwarfs every norm: then every point is within it
    sxy, sxx = np.cumsum(a_s * n_s), np.cumsum(a_s * a_s)
    # distinct non-zero |λ| values up to each point (±λ is one value: a line through the origin needs two)
    n_nonzero = np.cumsum(np.append(a[:1] > 0, (a[1:] != a[:-1]) & (a[1:] > 0)))
    best = -1
    with np.errstate(invalid="ignore", divide="ignore"):
        alphas = np.where(sxx > 0, sxy / sxx, 0.0)  # in units 2^(en - ea)
    with np.errstate(over="ignore", under="ignore"):
        slopes = np.ldexp(alphas, en - ea)  # a slope below 5e-324 is 0: not a positive alpha
    with np.errstate(invalid="ignore", divide="ignore"):
        for e in ends:
            if n_nonzero[e] < min_points or slopes[e] <= 0:
                continue
            dev = np.abs(n_s[: e + 1] - alphas[e] * a_s[: e + 1])
            if np.all(dev <= rtol * alphas[e] * a_s[: e + 1] + atol_s):
                best = e

    def rel_resid(alpha: float, m: int) -> float:
        den = float(np.linalg.norm(n_s[:m]))
        num = float(np.linalg.norm(n_s[:m] - alpha * a_s[:m]))
        return num / den if den > 0 else (0.0 if num == 0 else float("inf"))

    if not np.isfinite(slopes[[-1, best]]).all():
        raise ValueError(
            "lam, norms: the slope ||delta|| / |lambda| exceeds the float64 range (1.8e308); valid: norms / |lam| "
            "below 1.8e308 (rescale lam or norms)"
        )
    alpha_all = float(slopes[-1])
    monotone, mono_fail = _monotone(lm, nm, atol)
    measured: dict[str, Any] = {
        "alpha": float(slopes[best]) if best >= 0 else float("nan"),
        "linear_up_to": float(a[best]) if best >= 0 else 0.0,
        "n_linear": int(n_nonzero[best]) if best >= 0 else 0,
        "relative_residual": rel_resid(float(alphas[best]), best + 1) if best >= 0 else float("nan"),
        "alpha_all": alpha_all,
        "relative_residual_all": rel_resid(float(alphas[-1]), a.size),
        "monotone": monotone,
    }
    if weak:
        return PredicateResult("assumption-1", monotone, measured, tuple(mono_fail))
    failures: list[str] = []
    if best < 0:
        if int(n_nonzero[-1]) < min_points:
            failures.append(
                f"only {int(n_nonzero[-1])} distinct |lambda| > 0; linearity needs min_points = {min_points}"
            )
        elif alpha_all <= 0 and np.all(n <= atol):
            failures.append("alpha = 0: the norm does not grow with |lambda| (Assumption 1 needs alpha > 0)")
        else:
            failures.append(
                f"no range |lambda| <= L with >= {min_points} distinct |lambda| > 0 has ||delta|| = alpha |lambda| "
                f"within rtol = {rtol:g}, atol = {atol:g} (smallest points: |lambda| = {a[:3].tolist()}, "
                f"||delta|| = {n[:3].tolist()})"
            )
    return PredicateResult("assumption-1", best >= 0, measured, tuple(failures))


def _pow2_exponent(x: np.ndarray) -> int:
    """``e`` with ``2^e <= max|x| < 2^(e+1)`` (0 for an all-zero or empty ``x``): scaling by ``2^-e`` is exact."""
    m = float(np.max(np.abs(x), initial=0.0))
    return math.frexp(m)[1] - 1 if m > 0 else 0


def _monotone(lm: np.ndarray, nm: np.ndarray, atol: float) -> tuple[bool, list[str]]:
    failures: list[str] = []
    zero = nm[lm == 0]
    if zero.size and np.any(zero > atol):
        failures.append(f"||delta|| = {float(zero.max())} > atol = {atol:g} at lambda = 0")
    for side, mask in (("lambda > 0", lm > 0), ("lambda < 0", lm < 0)):
        a, n = np.abs(lm[mask]), nm[mask]
        if a.size < 2:
            continue
        o = np.argsort(a, kind="stable")
        a, n = a[o], n[o]
        drop = np.flatnonzero((np.diff(n) < -atol) & (np.diff(a) > 0))
        if drop.size:
            i = int(drop[0])
            failures.append(
                f"{side}: ||delta|| decreases from {n[i]} at |lambda| = {a[i]} to {n[i + 1]} at |lambda| = {a[i + 1]}"
            )
    if nm.size and float(nm.max() - nm.min()) <= atol and np.any(lm != 0):
        failures.append("||delta|| does not grow: it is constant over the given coefficients")
    return not failures, failures


# -- Assumption 2 -----------------------------------------------------------------------------------------------
def assumption_2(z: object, scores: object, delta: object = None, *, p: object = None) -> PredicateResult:
    r"""Assumption 2 (eq. 8): :math:`\min_{s^+\in A^+}z_{s^+}-\max_{s^-\in A^-}z_{s^-}\ge\Delta` (full-gap hard margin).

    :math:`\Delta` is the full gap (docs/specification.md §3), for the sign of :math:`\lambda` that points
    :math:`\delta` towards :math:`A^+` (for the other sign pass ``-z``); with one class empty the margin is ``+inf``.
    ``measured["mean_gap_not_margin"]`` is the paper's check "with mean instead of min" (§13.2): **not** the margin.

    Args:
        z: projections of every token on the steering direction, 1-D, finite.
        scores: binary scores, each exactly ``-1`` or ``+1``, same length as ``z``.
        delta: the margin :math:`\Delta\ge0` to check, or ``None`` to check strict separability (margin ``> 0``).
        p: optional distribution over the same tokens; when given, only tokens with :math:`P(s\mid q)>0` are
            constrained (zero-mass tokens stay at zero mass under steering and play no role in Theorem 1).

    Returns:
        :class:`PredicateResult` with ``measured``: ``margin``, ``mean_gap_not_margin`` (``nan`` if a class is
        empty), ``closest_pair`` (``(s+, s-)`` token indices attaining the margin, or ``None``) and
        ``violating_pairs`` (the number of pairs with :math:`z_{s^+}-z_{s^-}<\Delta`).

    Raises:
        ValueError: lengths differ, non-binary scores, ``delta < 0``, ``p`` not a distribution.
    """
    za = _vector("z", z)
    sc = _scores(_vector("scores", scores), binary=True)
    arrays, names = [za, sc], ["z", "scores"]
    keep = np.ones(za.shape, dtype=bool)
    if p is not None:
        pa = check_probability_vector("p", p)
        arrays.append(pa)
        names.append("p")
        keep = pa > 0
    _same_length(names, arrays)
    d = None if delta is None else args("assumption_2", scalar=True, delta=delta)[0]
    ip, im = np.flatnonzero((sc > 0) & keep), np.flatnonzero((sc < 0) & keep)
    if ip.size == 0 or im.size == 0:
        measured = {"margin": float("inf"), "mean_gap_not_margin": float("nan"), "closest_pair": None}
        return PredicateResult("assumption-2", True, measured | {"violating_pairs": 0}, ())
    sp_, sm = ip[np.argmin(za[ip])], im[np.argmax(za[im])]
    e = _pow2_exponent(za[keep])  # the mean gap in units 2^e: no spurious overflow of the sums near 1e308
    with np.errstate(over="ignore"):  # a difference beyond float64 is +-inf, which compares correctly with d
        margin = float(za[sp_] - za[sm])
        gaps = za[ip][:, None] - za[im][None, :]
        mean_gap = float(np.ldexp(np.mean(np.ldexp(za[ip], -e)) - np.mean(np.ldexp(za[im], -e)), e))
    threshold = 0.0 if d is None else d
    violating = int(np.sum(gaps <= 0)) if d is None else int(np.sum(gaps < d))
    holds = margin > 0 if d is None else margin >= d
    measured = {
        "margin": margin,
        "mean_gap_not_margin": mean_gap,
        "closest_pair": (int(sp_), int(sm)),
        "violating_pairs": violating,
    }
    failures = ()
    if not holds:
        rel = "<=" if d is None else "<"
        failures = (
            f"margin min_(A+) z - max_(A-) z = {margin!r} {rel} Delta = {threshold!r} at the pair (s+ = {int(sp_)}, "
            f"s- = {int(sm)}); {violating} violating pair(s)",
        )
    return PredicateResult("assumption-2", bool(holds), measured, failures)


# -- Assumption 3 -----------------------------------------------------------------------------------------------
def assumption_3(p: object, z: object, answer: object, *, eps: object, k: object = None) -> PredicateResult:
    r"""Assumption 3 (eq. 9), the part that one query can show: the top-:math:`k` set and the noise it carries.

    :math:`T_k(q)` is the set of the :math:`k` most probable tokens (ties broken in favour of :math:`a^*`, then by
    index). Checked: :math:`\sum_{s\in T_k}P(s\mid q)\ge1-\epsilon` (within ``MASS_ATOL`` = 1e-12) and
    :math:`a^*\in T_k`; ``k=None`` takes the smallest :math:`k` meeting both (one always exists, :math:`k=V`).
    Measured: the differences :math:`z_b-z_{a^*}`, :math:`b\in T_k\setminus\{a^*\}` (what the authors' code records),
    and the within-query spread :math:`\hat\sigma` (ddof 1) of :math:`\{z_s\}_{s\in T_k}` (§6.1).

    "i.i.d. from a continuous :math:`D`" is a statement about many queries: any :math:`k` distinct numbers are a
    possible draw, so one query can neither confirm nor refute it (ties are counted in ``measured["ties"]`` but do not
    fail the predicate). Test it over many queries with :func:`assumption_3_sample`.

    Args:
        p: next-token distribution, 1-D.
        z: projections :math:`z_s`, same length as ``p``.
        answer: index of the correct token :math:`a^*` in ``[0, V-1]``.
        eps: :math:`0\le\epsilon<1`, the mass allowed outside :math:`T_k`.
        k: integer in ``[1, V]`` or ``None``.

    Returns:
        :class:`PredicateResult` with ``measured``: ``k``, ``top_k`` (indices, most probable first), ``top_k_mass``,
        ``answer_in_top_k``, ``differences`` (array, in ``top_k`` order without :math:`a^*`), ``sigma_within``
        (``nan`` when :math:`k<2`) and ``ties`` (number of tied pairs of :math:`z` inside :math:`T_k`).

    Raises:
        ValueError: ``p`` not a distribution, lengths differ, ``answer`` or ``k`` or ``eps`` out of range.
    """
    pa = check_probability_vector("p", p)
    if pa.ndim != 1:
        raise ValueError(f"p must be a 1-D distribution (one query), got shape {pa.shape}")
    za = _vector("z", z)
    _same_length(("p", "z"), (pa, za))
    V = pa.size
    if np.ndim(answer) != 0:
        raise TypeError(f"answer must be one integer token index in [0, {V - 1}], got {answer!r}")
    answer = int(check_index("answer", answer, V))
    (e,) = args("assumption_3", scalar=True, eps=eps)
    is_answer = np.arange(V) == answer
    order = np.lexsort((np.arange(V), ~is_answer, -pa))  # p descending, then a* first, then index
    mass = np.cumsum(pa[order])
    if k is None:
        hit = np.flatnonzero(mass >= 1.0 - e - MASS_ATOL)
        k_mass = int(hit[0]) + 1 if hit.size else V
        kk = max(k_mass, int(np.flatnonzero(order == answer)[0]) + 1)
    else:
        (kk,) = args("assumption_3", k=k)
        if kk > V:
            raise ValueError(f"k must be an integer in [1, V = {V}], got {kk}")
    top = order[:kk]
    top_mass = float(mass[kk - 1])
    in_top = bool(answer in top)
    zt = za[top]
    others = top[top != answer]
    with np.errstate(over="ignore"):  # diagnostics: a difference or spread beyond float64 is reported as inf
        diffs = za[others] - za[answer]
        ez = _pow2_exponent(zt)  # std in units 2^ez: no spurious overflow of the squares near 1e308
        sigma_within = float(np.ldexp(np.std(np.ldexp(zt, -ez), ddof=1), ez)) if kk >= 2 else float("nan")
    ties = int(np.sum(zt[:, None] == zt[None, :]) - kk) // 2
    measured = {
        "k": kk,
        "top_k": top.tolist(),
        "top_k_mass": top_mass,
        "answer_in_top_k": in_top,
        "differences": diffs,
        "sigma_within": sigma_within,
        "ties": ties,
    }
    failures = []
    if top_mass < 1.0 - e - MASS_ATOL:
        failures.append(f"top-{kk} mass {top_mass!r} < 1 - eps = {1.0 - e!r}")
    if not in_top:
        failures.append(f"the correct answer {answer} (p = {float(pa[answer])!r}) is not in the top-{kk} set")
    return PredicateResult("assumption-3", not failures, measured, tuple(failures))


def _helmert(x: np.ndarray) -> np.ndarray:
    r"""The :math:`k-1` Helmert contrasts of :math:`k` values: i.i.d. :math:`N(0,\sigma^2)` if the values are."""
    j = np.arange(1, x.size)
    return (np.cumsum(x)[:-1] - j * x[1:]) / np.sqrt(j * (j + 1.0))


def assumption_3_sample(
    z_top: Sequence[object], *, law: str | None = "normal", sigma: object = None, level: object = 0.01
) -> PredicateResult:
    r"""Assumption 3's distributional part over many queries: :math:`\{z_s\}_{s\in T_k(q)}\overset{iid}{\sim}D`.

    ``z_top[q]`` holds the projections of query :math:`q`'s top-:math:`k` tokens. Only differences within a query carry
    information (§3), so each query is reduced to its :math:`k_q-1` Helmert contrasts (i.i.d. :math:`N(0,\sigma^2)`
    when its values are i.i.d. normal); their pooled spread is §6.1's :math:`\sigma` (pooling the raw differences
    :math:`z_b-z_{a^*}` would give :math:`\sqrt2\,\sigma`). Rejected when any p-value is below ``level``:

    * same law in every query: Bartlett's test of equal variances (``law="normal"``; a constant query next to
      non-constant ones gives ``p_equal_variance = 0``) or Levene's (``law=None``; its ``0/0`` gives 1);
    * ``law="normal"``: normality of the pooled contrasts (Shapiro--Wilk up to 5000 contrasts, D'Agostino above);
    * ``sigma`` given (``law="normal"`` only): :math:`\sum c^2/\sigma^2\sim\chi^2_N`, two-sided;
    * continuity of :math:`D`: any tie inside a query fails the predicate (a probability-zero event).

    Passing means "not rejected at this level", never a proof.

    Args:
        z_top: a sequence of 1-D arrays (or a 2-D array, one row per query), each with at least 2 finite values; at
            least 2 queries.
        law: ``"normal"`` or ``None`` (any continuous law).
        sigma: the claimed :math:`\sigma>0`, or ``None``.
        level: significance level, ``0 < level < 1``.

    Returns:
        :class:`PredicateResult` with ``measured``: ``n_queries``, ``n_contrasts``, ``sigma_pooled``,
        ``p_equal_variance``, ``p_normality`` (``nan`` when ``law=None`` or fewer than 3 contrasts), ``p_sigma``
        (``nan`` unless ``sigma``), ``ties``; the p-values are all ``nan`` when every query is constant.

    Raises:
        ValueError: fewer than 2 queries, a query with fewer than 2 values, ``law``/``sigma``/``level`` invalid, or
            a pooled spread ``sigma_pooled`` beyond the float64 range.
        TypeError: ``z_top`` is not a sequence of arrays, or holds non-numeric values.
    """
    from scipy import stats

    if law not in ("normal", None):
        raise ValueError(f"law must be 'normal' or None (any continuous law), got {law!r}")
    if isinstance(z_top, (str, bytes)) or not hasattr(z_top, "__iter__"):
        raise TypeError(f"z_top must be a sequence of 1-D arrays (one per query), got {type(z_top).__name__}")
    groups = [as_real(f"z_top[{i}]", g) for i, g in enumerate(z_top)]
    if len(groups) < 2:
        raise ValueError(f"z_top must hold at least 2 queries, got {len(groups)}")
    for i, g in enumerate(groups):
        if g.ndim != 1 or g.size < 2:
            raise ValueError(f"z_top[{i}] must be a 1-D array of at least 2 projections, got shape {g.shape}")
    (lv,) = args("assumption_3_sample", scalar=True, level=level)
    if sigma is not None and law != "normal":
        raise ValueError("sigma can only be tested with law='normal' (valid: sigma=None when law is None)")
    sg = None if sigma is None else args("assumption_3_sample", scalar=True, sigma=sigma)[0]
    # exact rescaling by a power of two near max|z|: no overflow (|z| near 1e308) or underflow (1e-300) in the tests
    e = _pow2_exponent(np.concatenate(groups))
    groups_s = [np.ldexp(g, -e) for g in groups]
    contrasts = np.concatenate([_helmert(g) for g in groups_s])  # in units 2^e
    n = contrasts.size
    with np.errstate(over="ignore"):
        sigma_pooled = float(np.ldexp(np.sqrt(np.mean(contrasts**2)), e))
    if not math.isfinite(sigma_pooled):
        raise ValueError("z_top: the pooled within-query spread exceeds the float64 range (1.8e308); rescale z_top")
    ties = sum(int(np.sum(g[:, None] == g[None, :]) - g.size) // 2 for g in groups)
    failures: list[str] = []
    if ties:
        failures.append(f"{ties} tied pair(s) of projections inside a query: impossible under a continuous law D")
    constant = all(g.max() == g.min() for g in groups)  # no subtraction: no overflow near 1e308
    if constant:
        p_var = p_norm = p_sig = float("nan")
        failures.append("every query's projections are constant: sigma = 0, not a continuous law")
    else:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's warnings on degenerate samples; the cases are handled below
            if law == "normal" and any(g.max() == g.min() for g in groups):
                p_var = 0.0  # a sample variance of exactly 0 next to positive ones: unequal variances
            else:
                p_var = float((stats.bartlett if law == "normal" else stats.levene)(*groups_s).pvalue)
                if math.isnan(p_var):  # Levene's 0/0: constant absolute deviations in every query
                    p_var = 1.0
            if law == "normal":
                test = stats.shapiro if n <= 5000 else stats.normaltest
                p_norm = float(test(contrasts).pvalue) if n >= 3 else float("nan")
            else:
                p_norm = float("nan")
            if sg is not None:
                chi = float(np.sum(contrasts**2) / np.ldexp(sg, -e) ** 2)
                p_sig = float(min(1.0, 2 * min(stats.chi2.cdf(chi, n), stats.chi2.sf(chi, n))))
            else:
                p_sig = float("nan")
        for name, pv in (("equal variance across queries", p_var), ("normality", p_norm), ("sigma", p_sig)):
            if pv < lv:
                failures.append(f"{name} rejected: p = {pv:.3g} < level = {lv:g}")
    measured = {
        "n_queries": len(groups),
        "n_contrasts": n,
        "sigma_pooled": sigma_pooled,
        "p_equal_variance": p_var,
        "p_normality": p_norm,
        "p_sigma": p_sig,
        "ties": ties,
    }
    return PredicateResult("assumption-3", not failures, measured, tuple(failures))


# -- Assumption 4 -----------------------------------------------------------------------------------------------
def assumption_4(
    p: object, z: object, scores: object, *, delta: object, rho: object, delta_M: object
) -> PredicateResult:
    r"""Assumption 4 (eqs. 46--50), the soft margin.

    The misclassified set (46) is :math:`M=\{s^-\in A^-: \min_{A^+}z-z_{s^-}<\Delta\}` (zero-mass tokens included:
    they count in the depth, not the mass); the predicate is (47) :math:`P(M\mid q)\le\rho` within ``MASS_ATOL`` =
    1e-12 and (48) :math:`\max_M z-\min_{A^+}z\le\Delta_M` (vacuous when :math:`M=\varnothing`). (49) holds by
    construction of :math:`M`; it is still measured (``rest_margin``) as a consistency check.

    Args:
        p: next-token distribution, 1-D.
        z: projections, same length.
        scores: binary scores, each exactly ``-1`` or ``+1``, same length.
        delta: margin :math:`\Delta\ge0`.
        rho: mass bound, :math:`0\le\rho\le1`.
        delta_M: depth bound :math:`\Delta_M`, finite real.

    Returns:
        :class:`PredicateResult` with ``measured``: ``misclassified`` (indices of :math:`M`), ``mass``
        (:math:`P(M\mid q)`), ``depth`` (``-inf`` when :math:`M=\varnothing`) and ``rest_margin``
        (:math:`\min_{A^+}z-\max_{A^-\setminus M}z`, ``+inf`` when either set is empty).

    Raises:
        ValueError: ``p`` not a distribution, lengths differ, non-binary scores, a parameter out of range.
    """
    pa = check_probability_vector("p", p)
    za = _vector("z", z)
    sc = _scores(_vector("scores", scores), binary=True)
    _same_length(("p", "z", "scores"), (pa, za, sc))
    d, r, dm = args("assumption_4", scalar=True, delta=delta, rho=rho, delta_M=delta_M)
    ip, im = np.flatnonzero(sc > 0), np.flatnonzero(sc < 0)
    if ip.size == 0 or im.size == 0:
        M = np.array([], dtype=int)
        rest = np.array([], dtype=int)
        zmin = float("inf")
    else:
        zmin = float(za[ip].min())
        with np.errstate(over="ignore"):  # a difference beyond float64 is +-inf, which compares correctly with d
            in_M = (zmin - za[im]) < d
        M, rest = im[in_M], im[~in_M]
    mass = float(np.sum(pa[M]))
    with np.errstate(over="ignore"):
        depth = float(za[M].max() - zmin) if M.size else float("-inf")
        rest_margin = float(zmin - za[rest].max()) if rest.size and ip.size else float("inf")
    failures = []
    if rest_margin < d:
        failures.append(f"(49) fails outside M: margin {rest_margin!r} < Delta = {d!r}")
    if mass > r + MASS_ATOL:
        failures.append(f"(47) misclassified mass P(M|q) = {mass!r} > rho = {r!r} (M = {M.tolist()})")
    if depth > dm:
        failures.append(f"(48) depth max_M z - min_(A+) z = {depth!r} > Delta_M = {dm!r}")
    measured = {"misclassified": M.tolist(), "mass": mass, "depth": depth, "rest_margin": rest_margin}
    return PredicateResult("assumption-4", not failures, measured, tuple(failures))
