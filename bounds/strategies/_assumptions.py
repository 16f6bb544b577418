r"""Strategies for Assumptions 1--4 (docs/specification.md §3): instances that satisfy each predicate, and instances
that violate it.

Each strategy builds its instance from the assumption's *structure* (a line through the origin, points placed on
either side of a margin, i.i.d. draws from a law), not by evaluating the predicate, so the tests of
:mod:`bounds.definitions` check the predicates against an independent construction. Violating strategies build a
violation of a named kind and say why it is one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from ._alignment import hard_margin_instances
from ._common import _array, _floats, probability_vectors

__all__ = [
    "MarginInstance",
    "NoiseSample",
    "NormCurve",
    "SoftMarginInstance",
    "TopKInstance",
    "margin_instances",
    "monotone_norm_curves",
    "noise_samples",
    "norm_curves",
    "soft_margin_instances",
    "top_k_instances",
]


def _signs(draw: st.DrawFn, n: int) -> np.ndarray:
    """``n`` random signs ``±1.0``."""
    return np.where(draw(st.lists(st.booleans(), min_size=n, max_size=n)), 1.0, -1.0)


# -- Assumption 1 -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NormCurve:
    """Measured norms ``‖δ_λ‖`` over coefficients ``λ`` for Assumption 1 (``kind`` names the construction)."""

    lam: np.ndarray
    norms: np.ndarray
    rtol: float
    kind: str


@st.composite
def norm_curves(draw: st.DrawFn, linear: bool = True) -> NormCurve:
    r"""Curves that satisfy (``linear=True``) or violate Assumption 1's linear form with tolerance ``rtol``.

    Satisfying: 2--8 distinct :math:`|\lambda|\in[10^{-3},10]` (random signs, optional :math:`\lambda=0` with norm 0)
    with norms :math:`\alpha|\lambda|(1+e_i)`, :math:`|e_i|\le\mathrm{rtol}/3` (measurement noise; the fitted slope then
    deviates by at most :math:`2e/(1-e)<\mathrm{rtol}` from every point), :math:`\alpha\in[10^{-3},10^3]`, plus up to 5
    points beyond the linear range with arbitrary norms (A1 only speaks of small :math:`|\lambda|`).

    Violating (``kind``), with :math:`\mathrm{rtol}\le0.05`:

    * ``power``: :math:`c|\lambda|^\gamma` with :math:`\gamma\in[0,0.5]\cup[1.5,3]` on :math:`|\lambda|` spaced by
      ratios :math:`\ge1.5`: over any two distinct :math:`|\lambda|`, :math:`\|\delta\|/|\lambda|` varies by a factor
      :math:`R\ge1.5^{1/2}`, so some point deviates from the fitted line by :math:`(R-1)/(R+1)>0.1>\mathrm{rtol}`;
    * ``offset``: :math:`\|\delta_0\|>0` at :math:`\lambda=0` (A1 forces 0 there);
    * ``zero``: all norms 0 (:math:`\alpha=0`);
    * ``few``: one distinct :math:`|\lambda|>0` only (any slope fits one point).
    """
    if linear:
        r = draw(_floats(0.01, 0.5))
        alpha = draw(_floats(1e-3, 1e3))
        n = draw(st.integers(2, 8))
        a = _array(draw, _floats(1e-3, 10.0), n, unique=True)
        e = _array(draw, _floats(-r / 3, r / 3), n)
        sign = _signs(draw, n)
        lam, norms = sign * a, alpha * a * (1.0 + e)
        n_tail = draw(st.integers(0, 5))
        if n_tail:
            t = _array(draw, _floats(0.01, 10.0), n_tail)
            lam = np.concatenate([lam, a.max() * (1.0 + t)])
            tail = _array(draw, _floats(0.0, 50.0), n_tail)
            norms = np.concatenate([norms, alpha * a.max() * tail])
        if draw(st.booleans()):
            lam, norms = np.append(lam, 0.0), np.append(norms, 0.0)
        return NormCurve(lam, norms, r, "linear")
    kind = draw(st.sampled_from(["power", "offset", "zero", "few"]))
    r = draw(_floats(0.0, 0.05))
    c = draw(_floats(1e-3, 1e3))
    n = draw(st.integers(2, 8))
    if kind == "power":
        a0 = draw(_floats(1e-3, 1.0))
        ratios = _array(draw, _floats(1.5, 3.0), n - 1)
        a = a0 * np.concatenate([[1.0], np.cumprod(ratios)])
        gamma = draw(st.one_of(_floats(0.0, 0.5), _floats(1.5, 3.0)))
        norms = c * a**gamma
    elif kind == "offset":
        a = np.concatenate([[0.0], _array(draw, _floats(1e-3, 10.0), n)])
        norms = draw(_floats(1e-6, 10.0)) * c + c * a
    elif kind == "zero":
        a = _array(draw, _floats(0.0, 10.0), n)
        norms = np.zeros_like(a)
    else:
        a = np.full(n, draw(_floats(1e-3, 10.0)))
        norms = _array(draw, _floats(0.0, 1e3), n)
    sign = _signs(draw, a.size)
    return NormCurve(sign * a, norms, r, kind)


@st.composite
def monotone_norm_curves(draw: st.DrawFn, monotone: bool = True) -> NormCurve:
    r"""Curves for A.2's weaker form (``‖δ‖`` grows monotonically with :math:`|\lambda|`).

    Satisfying: :math:`c\tanh(\gamma|\lambda|)`, :math:`\gamma\in[0.1,0.5]` and :math:`|\lambda|\le10` (so
    :math:`\gamma|\lambda|\le5`: no float saturation makes it constant), at 2--8 distinct :math:`|\lambda|` with random
    signs, optional :math:`\lambda=0` with norm 0 -- increasing but not linear. Violating (``kind="drop"``): on one
    side the norm at the smallest :math:`|\lambda|` is raised above the norm at the largest, so the curve decreases
    somewhere on that side.
    """
    c, gamma = draw(_floats(1e-3, 1e3)), draw(_floats(0.1, 0.5))
    n = draw(st.integers(2, 8))
    a = _array(draw, _floats(1e-3, 10.0), n, unique=True)
    sign = _signs(draw, n)
    if not monotone:
        # at least two distinct |λ| on the positive side
        sign[:2] = 1.0
    lam, norms = sign * a, c * np.tanh(gamma * a)
    if not monotone:
        pos = np.flatnonzero(lam > 0)
        lo, hi = pos[np.argmin(lam[pos])], pos[np.argmax(lam[pos])]
        norms[lo] = norms[hi] + c * draw(_floats(1e-3, 10.0))
    if draw(st.booleans()):
        lam, norms = np.append(lam, 0.0), np.append(norms, 0.0)
    return NormCurve(lam, norms, 0.0, "monotone" if monotone else "drop")


# -- Assumption 2 -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MarginInstance:
    """One query for Assumption 2: projections, binary scores, the margin ``delta`` to check, the distribution."""

    p: np.ndarray
    z: np.ndarray
    scores: np.ndarray
    delta: float
    kind: str


@st.composite
def margin_instances(draw: st.DrawFn, satisfy: bool = True) -> MarginInstance:
    r"""Queries that satisfy Assumption 2 with margin ``delta`` (``satisfy=True``) or violate it.

    Satisfying: :func:`hard_margin_instances` (aligned projections at least ``delta`` above every misaligned one).
    Violating (``kind``): ``intrude`` -- one misaligned projection is moved to :math:`\min_{A^+}z-\Delta+t`,
    :math:`t\in(0,50]`, so that pair's gap is below :math:`\Delta`; ``delta`` -- the margin asked for is the realised
    gap plus :math:`t>0`. Instances whose float arithmetic does not realise the construction are discarded (a float
    representability fix, as in :func:`hard_margin_instances`).
    """
    inst = draw(hard_margin_instances(max_norm=0.0))
    if satisfy:
        return MarginInstance(inst.p, inst.z, inst.scores, inst.delta, "margin")
    kind = draw(st.sampled_from(["intrude", "delta"]))
    z, delta = inst.z.copy(), inst.delta
    plus, minus = np.flatnonzero(inst.scores > 0), np.flatnonzero(inst.scores < 0)
    t = draw(_floats(1e-6, 50.0))
    zmin = float(z[plus].min())
    if kind == "intrude":
        j = minus[draw(st.integers(0, minus.size - 1))]
        z[j] = zmin - delta + t
        assume(zmin - z[j] < delta)
    else:
        delta = inst.margin + t
        assume(inst.margin < delta)
    return MarginInstance(inst.p, z, inst.scores, float(delta), kind)


# -- Assumption 3 -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TopKInstance:
    """One query for Assumption 3's structural part."""

    p: np.ndarray
    z: np.ndarray
    answer: int
    eps: float
    k: int | None
    kind: str


@st.composite
def top_k_instances(draw: st.DrawFn, satisfy: bool = True) -> TopKInstance:
    r"""Queries whose top-:math:`k` set satisfies Assumption 3's structure (mass :math:`\ge1-\epsilon`,
    :math:`a^*\in T_k`) or violates it.

    Satisfying: any distribution over 1--8 tokens, :math:`k` drawn (or ``None``: the predicate's smallest :math:`k`),
    :math:`\epsilon` at least the mass outside the top-:math:`k` (plus a slack of at least 1e-9, a float
    representability fix), :math:`a^*` among the :math:`k` most probable tokens; :math:`z` arbitrary.
    Violating (``kind``): ``answer`` -- :math:`a^*` strictly less probable than the :math:`k`-th token; ``mass`` --
    :math:`\epsilon` smaller than the mass outside the top-:math:`k` (by at least 1e-9).
    """
    V = draw(st.integers(1 if satisfy else 2, 8))
    p = draw(probability_vectors(V))
    z = _array(draw, _floats(-50.0, 50.0), V)
    order = np.lexsort((np.arange(V), -p))
    mass = np.cumsum(p[order])
    if satisfy:
        k = draw(st.integers(1, V))
        outside = 1.0 - float(mass[k - 1])
        eps = max(0.0, outside) + draw(_floats(1e-9, 0.5))
        assume(eps < 1.0 and float(mass[k - 1]) >= 1.0 - eps)
        answer = int(order[draw(st.integers(0, k - 1))])
        return TopKInstance(p, z, answer, eps, None if draw(st.booleans()) else k, "satisfy")
    kind = draw(st.sampled_from(["answer", "mass"]))
    k = draw(st.integers(1, V - 1))
    if kind == "answer":
        below = np.flatnonzero(p < p[order[k - 1]])
        assume(below.size > 0)
        answer = int(below[draw(st.integers(0, below.size - 1))])
        return TopKInstance(p, z, answer, draw(_floats(0.0, 0.999)), k, kind)
    outside = 1.0 - float(mass[k - 1])
    eps = outside - draw(_floats(1e-9, 1.0))
    assume(0.0 <= eps and float(mass[k - 1]) < 1.0 - eps)
    answer = int(order[draw(st.integers(0, k - 1))])
    return TopKInstance(p, z, answer, eps, k, kind)


@dataclass(frozen=True)
class NoiseSample:
    """Projections of the top-:math:`k` tokens of many queries, and the σ used to draw them."""

    z_top: list[np.ndarray]
    sigma: float
    claimed_sigma: float
    kind: str


@st.composite
def noise_samples(draw: st.DrawFn, violation: str | None = None, min_queries: int = 100) -> NoiseSample:
    r"""Many queries' top-:math:`k` projections: i.i.d. :math:`N(\mu_q,\sigma^2)` (``violation=None``) or not.

    Each query has its own mean :math:`\mu_q` (irrelevant under A3: only differences enter) and :math:`k_q\in[5,10]`
    tokens; ``min_queries..2*min_queries`` queries, :math:`\sigma\in[0.01,100]`; numpy draws from a seed drawn by
    hypothesis. ``claimed_sigma`` is the :math:`\sigma` a user would claim (the true one when satisfying).

    Violations (``violation`` or ``"any"``), each a gross departure from "i.i.d. from one continuous law with variance
    :math:`\sigma^2`" so that the tests reject it at small levels: ``heteroscedastic`` (half the queries have
    :math:`10\sigma`), ``exponential`` and ``cauchy`` (not normal), ``sigma`` (the claimed σ is twice the true one),
    ``ties`` (two equal projections in one query: impossible under a continuous law).
    """
    kinds = ["heteroscedastic", "exponential", "cauchy", "sigma", "ties"]
    kind = draw(st.sampled_from(kinds)) if violation == "any" else violation
    if kind is not None and kind not in kinds:
        raise ValueError(f"violation must be None, 'any' or one of {kinds}, got {kind!r}")
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    sigma = draw(_floats(0.01, 100.0))
    n_q = int(rng.integers(min_queries, 2 * min_queries + 1))
    out = []
    for i in range(n_q):
        k = int(rng.integers(5, 11))
        mu = rng.normal(0.0, 10.0 * sigma)
        if kind == "exponential":
            x = rng.exponential(sigma, k)
        elif kind == "cauchy":
            x = sigma * rng.standard_cauchy(k)
        else:
            s = 10.0 * sigma if kind == "heteroscedastic" and i % 2 else sigma
            x = rng.normal(0.0, s, k)
        out.append(mu + x)
    if kind == "ties":
        out[0][1] = out[0][0]
    claimed = 2.0 * sigma if kind == "sigma" else sigma
    return NoiseSample(out, sigma, claimed, kind or "iid-normal")


# -- Assumption 4 -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SoftMarginInstance:
    """One query for Assumption 4, with the misclassified set ``M`` of its construction."""

    p: np.ndarray
    z: np.ndarray
    scores: np.ndarray
    delta: float
    rho: float
    delta_M: float
    M: tuple[int, ...]
    kind: str


@st.composite
def soft_margin_instances(draw: st.DrawFn, satisfy: bool = True) -> SoftMarginInstance:
    r"""Queries that satisfy Assumption 4 (``satisfy=True``) or violate it, built from its structure.

    Layout: 1--4 aligned tokens at :math:`z_{\min}^++e_i` (:math:`e_0=0`, :math:`e_i\in[0,20]`); 0--4 correctly
    classified misaligned tokens at :math:`z_{\min}^+-\Delta-t`, :math:`t\in[0,20]` (:math:`t=0`: exactly on the
    margin, allowed by (49)); 0--4 misclassified tokens at :math:`z_{\min}^+-\Delta+t`, :math:`t\in(0,\Delta+20]`
    (inside the margin or beyond :math:`z_{\min}^+`); :math:`\Delta\in[0,10]`; any positive masses (with
    :math:`P(M)\le1` in float arithmetic too). Instances whose float arithmetic puts a token on the other side of the
    margin than its construction are discarded (float representability).

    Satisfying: :math:`\rho=\min(1,P(M)+s)` and :math:`\Delta_M=\text{depth}+s'` with slacks :math:`\ge0`
    (:math:`\Delta_M` any real when :math:`M=\varnothing`). Violating (``kind``): ``mass`` -- :math:`\rho<P(M)`;
    ``depth`` -- :math:`\Delta_M<` depth (both need :math:`M\ne\varnothing`); the mass excess is kept above 1e-9,
    clear of the predicate's float tolerance 1e-12 on sums of probabilities.
    """
    n_plus, n_rest = draw(st.integers(1, 4)), draw(st.integers(0, 4))
    n_M = draw(st.integers(0 if satisfy else 1, 4))
    zmin = draw(_floats(-20.0, 20.0))
    delta = draw(_floats(0.0, 10.0))
    e = _array(draw, _floats(0.0, 20.0), n_plus)
    e[0] = 0.0
    z_plus = zmin + e
    z_rest = zmin - delta - _array(draw, _floats(0.0, 20.0), n_rest)
    tM = _array(draw, _floats(1e-6, delta + 20.0), n_M)
    z_M = zmin - delta + tM
    z = np.concatenate([z_plus, z_rest, z_M])
    scores = np.concatenate([np.ones(n_plus), -np.ones(n_rest + n_M)])
    M = np.arange(n_plus + n_rest, z.size)
    assume(np.all(zmin - z_rest >= delta) and np.all(zmin - z_M < delta))
    p = draw(probability_vectors(z.size)).copy()
    # normalisation rounds: when M holds nearly all the mass its float sum can exceed 1 (1 + 2**-52 seen), which is no
    # probability (outside A4's hypotheses, where rho <= 1 must be able to bound it); M's largest entry is lowered by
    # one ulp until it is not (a few ulps at most)
    while np.sum(p[M]) > 1.0:
        j = M[np.argmax(p[M])]
        p[j] = np.nextafter(p[j], 0.0)
    mass = float(np.sum(p[M]))
    depth = float(z_M.max() - zmin) if n_M else float("-inf")
    if satisfy:
        rho = min(1.0, mass + draw(_floats(0.0, 1.0)))
        delta_M = (depth if n_M else draw(_floats(-30.0, 30.0))) + draw(_floats(0.0, 10.0))
        return SoftMarginInstance(p, z, scores, delta, rho, delta_M, tuple(M.tolist()), "satisfy")
    kind = draw(st.sampled_from(["mass", "depth"]))
    if kind == "mass":
        rho, delta_M = max(0.0, mass - draw(_floats(1e-9, 1.0))), depth + draw(_floats(0.0, 10.0))
        assume(mass - rho > 1e-9)  # clear of the predicate's float tolerance on masses (1e-12)
    else:
        rho, delta_M = min(1.0, mass + draw(_floats(0.0, 1.0))), depth - draw(_floats(1e-6, 10.0))
        assume(delta_M < depth)
    return SoftMarginInstance(p, z, scores, delta, rho, delta_M, tuple(M.tolist()), kind)
