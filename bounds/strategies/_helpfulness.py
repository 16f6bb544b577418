r"""Strategies for the helpfulness statements: Assumption 3 noise (Theorem 2, Corollaries 2–3, docs/specification.md
§12.2).

Two kinds of instances:

* **configurations** (:class:`NoisyQuery`, :class:`MultiStepQuery`) for the probability and expectation claims: a
  query's distribution, its correct answer, the top-:math:`k` set and a noise law :math:`D`; the claim is then
  checked by Monte Carlo over the noise (:mod:`bounds.simulate`'s ``*_frequency`` / ``expected_helpfulness``);
* **realisations** (:class:`HelpfulnessRealisation`) for the per-realisation bounds (§12.2a, b): hypothesis chooses
  the projections ``z`` freely -- any ``z``, not only typical i.i.d. draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from scipy.special import expit

from .._montecarlo import noise_law
from ..steered import helpfulness
from ..synthetic import SyntheticQuery
from ._common import MIN_LOG_WEIGHT, TYPICAL_MIN, _array, _log_weights, _normalise, log_weights, typical_draw, within

__all__ = [
    "SHAPES",
    "AllNoisedQuery",
    "HelpfulnessRealisation",
    "MultiStepQuery",
    "NoisyQuery",
    "all_noised_queries",
    "event_realisations",
    "helpfulness_realisations",
    "multistep_noisy_queries",
    "noise_laws",
    "noisy_queries",
]

#: shapes of the wrong-answer distribution inside T_k
SHAPES = ("uniform", "dominant", "geometric", "free")


def noise_laws(
    *, symmetric: bool = False, finite_fourth_moment: bool = False
) -> st.SearchStrategy[tuple[str, dict[str, float]]]:
    """``(name, shape parameters)`` of a continuous law with finite variance (Assumption 3's ``D``).

    * normal, Laplace, uniform, logistic, Student-t with ``df > 2`` (finite variance): symmetric laws;
    * gamma (``a`` in [0.5, 10]), log-normal (``s`` in [0.05, 1]) and skew-normal (``a`` in [-10, 10], left-skewed
      for ``a < 0``): skewed laws -- left out when ``symmetric``
      (a hypothesis of the statement being checked, e.g. P(E_q) = 1/2 or the vanishing odd orders of §12.2c);
    * ``finite_fourth_moment`` restricts Student-t to ``df > 4`` (the hypothesis behind an ``O(λ⁴)`` remainder).
    """
    df_min = 4.0 if finite_fourth_moment else 2.0
    laws = [
        st.just(("normal", {})),
        st.just(("laplace", {})),
        st.just(("uniform", {})),
        st.just(("logistic", {})),
        st.floats(df_min, 60.0, exclude_min=True).map(lambda df: ("t", {"df": df})),
    ]
    if not symmetric:
        laws += [
            st.floats(0.5, 10.0).map(lambda a: ("gamma", {"a": a})),
            st.floats(0.05, 1.0).map(lambda s: ("lognorm", {"s": s})),
            st.floats(-10.0, 10.0).map(lambda a: ("skewnorm", {"a": a})),
        ]
    return st.one_of(*laws)


@dataclass(frozen=True, eq=False)
class NoisyQuery(SyntheticQuery):
    """A :class:`~bounds.synthetic.SyntheticQuery` (Assumption 3: noise on the top-``k`` tokens ``top``, the tail's
    projections ``fixed_z`` fixed; ``shape`` one of :data:`SHAPES`) with the noise and steering of a Monte-Carlo check.

    Attributes:
        law, law_params: the noise law ``D`` (:func:`bounds._montecarlo.noise_law`).
        sigma: standard deviation of each noised projection.
        alpha: Assumption 1's slope.
        lam: the grid of steering coefficients ``λ >= 0`` on which "the bound holds" is checked.
    """

    law: str = "normal"
    law_params: dict[str, float] = field(default_factory=dict)
    sigma: float = 1.0
    alpha: float = 1.0
    lam: np.ndarray = field(default_factory=lambda: np.zeros(1))

    def law_dist(self) -> Any:
        return noise_law(self.law, **self.law_params)

    def mc_dict(self, n_draws: int, seed: int) -> dict[str, Any]:
        """A JSON-able Monte-Carlo configuration for :func:`bounds.spec.helpfulness.theorem_2_mc_violation`."""
        return self.to_dict() | self._mc_fields(n_draws, seed)

    def _mc_fields(self, n_draws: int, seed: int) -> dict[str, Any]:
        """The noise, steering and Monte-Carlo fields of :meth:`mc_dict` (shared by every step of a
        :class:`MultiStepQuery`)."""
        return {
            "law": self.law,
            "law_params": dict(self.law_params),
            "sigma": float(self.sigma),
            "alpha": float(self.alpha),
            "lam": [float(x) for x in self.lam],
            "n_draws": int(n_draws),
            "seed": int(seed),
        }


@dataclass(frozen=True)
class MultiStepQuery:
    """An ``ℓ``-step answer (Corollary 3): one :class:`NoisyQuery` per decoding step, sharing ``k``, the law, σ, α
    and the λ grid; the steps get independent noise."""

    steps: tuple[NoisyQuery, ...]

    @property
    def ell(self) -> int:
        return len(self.steps)

    def mc_dict(self, n_draws: int, seed: int) -> dict[str, Any]:
        """A JSON-able Monte-Carlo configuration for :func:`bounds.spec.helpfulness.corollary_3_mc_violation`."""
        return {"steps": [s.to_dict() for s in self.steps]} | self.steps[0]._mc_fields(n_draws, seed)


def _wrong_weights(draw: st.DrawFn, m: int, shape: str) -> np.ndarray:
    """``m >= 1`` positive weights summing to 1, of the given shape."""
    if shape == "uniform" or m == 1:
        w = np.ones(m)
    elif shape == "geometric":
        w = draw(st.floats(0.01, 1.0)) ** np.arange(m)
    elif shape == "dominant":  # j dominant wrong answers share the mass d equally, the other m - j share 1 - d
        j = draw(st.integers(1, m - 1))
        # 0 < d < 1 as a logistic of a real, from 1e-300 to 1 - 2.3e-16: every mass stays > 0 after scaling by
        # 1 - p0 (>= 2.3e-16), where a plain float in (0, 1) could underflow the minor masses to exactly 0
        d = float(expit(draw(st.floats(-690.0, 36.0))))
        w = np.concatenate([np.full(j, d / j), np.full(m - j, (1 - d) / (m - j))])
    else:
        lw = draw(log_weights(m))
        w = np.exp(lw - lw.max())
    return w / w.sum()


@st.composite
def _step(draw: st.DrawFn, k: int, max_tail: int, sigma: float) -> dict[str, Any]:
    shape = draw(st.sampled_from(SHAPES))
    # 0 < p0 < 1 as a logistic of a real: p0 from 1e-300 (no subnormal masses) to 1 - 2.3e-16 (still < 1 in float64)
    p0 = float(expit(draw(st.floats(-690.0, 36.0))))
    top_p = np.concatenate([[p0], (1.0 - p0) * _wrong_weights(draw, k - 1, shape)])
    pos = draw(st.integers(0, k - 1))  # where a* sits among the top-k indices (labels are arbitrary)
    top_p[[0, pos]] = top_p[[pos, 0]]
    n_tail = draw(st.integers(0, max_tail))
    # tail masses u_i * min(top-k mass), 1e-13 <= u_i <= 1 (before the common normalisation): the top-k set is the
    # k most probable tokens (eq. 9), and rounding is monotone so the order survives; u_i >= 1e-13 keeps every tail
    # mass > 0 in float64 even when min(top) is tiny
    u = expit(np.asarray(_array(draw, st.floats(-30.0, 36.0), n_tail), dtype=float))
    tail = u * float(top_p.min())
    p = np.concatenate([top_p, tail]) / (1.0 + float(tail.sum()))
    tail_z = np.asarray(_array(draw, st.floats(-10.0, 10.0), n_tail), dtype=float)
    fixed_z = np.concatenate([np.zeros(k), sigma * tail_z])
    top = np.concatenate([np.ones(k, dtype=bool), np.zeros(n_tail, dtype=bool)])
    return {"p": p, "answer": pos, "top": top, "fixed_z": fixed_z, "shape": shape}


@st.composite
def _shared(draw: st.DrawFn, laws: st.SearchStrategy | None) -> dict[str, Any]:
    law, params = draw(laws if laws is not None else noise_laws())
    sigma = draw(within("sigma", lo=0.1, hi=10.0))
    alpha = draw(within("alpha", lo=0.1, hi=10.0))
    t_max = draw(st.floats(0.1, 20.0))  # largest α σ λ of the grid
    lam = np.linspace(0.0, t_max, 17) / (alpha * sigma)
    return {"law": law, "law_params": params, "sigma": sigma, "alpha": alpha, "lam": lam}


@st.composite
def noisy_queries(
    draw: st.DrawFn,
    min_k: int = 2,
    max_k: int = 50,
    max_tail: int = 4,
    laws: st.SearchStrategy[tuple[str, dict[str, float]]] | None = None,
) -> NoisyQuery:
    """Configurations of Theorem 2's hypotheses (docs/specification.md §6.1, Assumption 3), and nothing narrower.

    Each restriction and the hypothesis it encodes:

    * ``k >= 2`` noised tokens ``T_k`` containing ``a*``, with ``0 < p0 < 1`` (the theorem's setting; ``k`` is the
      ``k`` of the claimed probability ``1 - 2/k``);
    * ``T_k`` are the ``k`` most probable tokens: tail tokens (0..``max_tail``) each get at most the smallest top-k
      mass (eq. 9: "the k highest probability tokens making 1 - eps of the mass");
    * the wrong answers inside ``T_k`` follow one of :data:`SHAPES` (uniform; ``j`` dominant answers sharing a mass
      ``d``; geometric; free log-weights);
    * the noise law is any continuous law with finite variance (:func:`noise_laws`, skewed laws included unless the
      caller passes ``laws``), standardised to sd ``sigma``; tail projections are fixed values in
      ``[-10σ, 10σ]`` (unconstrained by Assumption 3);
    * the bound is checked on a grid of 17 coefficients ``0 <= α σ λ <= t_max``, ``t_max`` in [0.1, 20]: steering
      towards the aligned side (docs/specification.md §0), any strength.
    """
    k = draw(st.integers(min_k, max_k))
    shared = draw(_shared(laws))
    step = draw(_step(k, max_tail, shared["sigma"]))
    return NoisyQuery(**step, **shared)


@st.composite
def multistep_noisy_queries(
    draw: st.DrawFn,
    min_ell: int = 2,
    max_ell: int = 3,
    min_k: int = 2,
    max_k: int = 50,
    max_tail: int = 2,
    laws: st.SearchStrategy[tuple[str, dict[str, float]]] | None = None,
) -> MultiStepQuery:
    """Configurations of Corollary 3: ``ℓ`` decoding steps, each satisfying Theorem 2's hypotheses
    (:func:`noisy_queries`' restrictions per step) with the same ``k`` (the ``k`` of ``1 - 2ℓ/k``), the same noise
    law, σ, α and λ grid; the steps' noise is independent ("steps with independent noise")."""
    ell = draw(st.integers(min_ell, max_ell))
    k = draw(st.integers(min_k, max_k))
    shared = draw(_shared(laws))
    steps = tuple(NoisyQuery(**draw(_step(k, max_tail, shared["sigma"])), **shared) for _ in range(ell))
    return MultiStepQuery(steps=steps)


@dataclass(frozen=True)
class HelpfulnessRealisation:
    """One realisation of the projections of a query (any ``z``) and a signed ``αλ``.

    Attributes:
        p: unsteered distribution. answer: ``a*``. top: mask of ``T_k`` (the ``k`` most probable, with ``a*``).
        z: projections of every token. lam_norm: the signed ``αλ`` (``‖δ‖ = |αλ|``, the sign flips ``z``).
    """

    p: np.ndarray
    answer: int
    top: np.ndarray
    z: np.ndarray
    lam_norm: float

    def H(self) -> float:
        """Exact steered helpfulness at the signed ``αλ``."""
        z = self.z if self.lam_norm >= 0 else -self.z
        return float(helpfulness(self.p, z, abs(self.lam_norm), self.answer))

    def as_dict(self) -> dict[str, Any]:
        return {
            "p": [float(x) for x in self.p],
            "answer": int(self.answer),
            "top": [bool(x) for x in self.top],
            "z": [float(x) for x in self.z],
            "lam_norm": float(self.lam_norm),
        }


@st.composite
def helpfulness_realisations(
    draw: st.DrawFn, max_vocab: int = 8, max_abs_z: float = 50.0, max_norm: float = 100.0
) -> HelpfulnessRealisation:
    """Realisations for the deterministic Jensen bound (§12.2a): anything, not only i.i.d. noise.

    * any strictly positive distribution over ``2..max_vocab`` tokens (masses down to about 1e-300);
    * ``T_k``: the ``k >= 2`` most probable tokens (ties broken by index), ``a*`` any of them (eq. 9's ``a* in T_k``);
    * any projections ``z`` in ``[-max_abs_z, max_abs_z]`` (every realisation, no distributional assumption);
    * any signed ``αλ`` in ``[-max_norm, max_norm]`` (both steering directions, docs/specification.md §0).

    About half the realisations are *typical* (:func:`typical_draw`): masses within ``e^-30`` of each other,
    projections in ``[-5, 5]`` and ``1e-3 <= |αλ| <= 10`` (where the bounds are neither ``H <= 1`` nor underflowed);
    the others range over the whole domain.
    """
    typical = typical_draw(draw)
    V = draw(st.integers(2, max_vocab))
    p = _normalise(_log_weights(draw, V, typical))
    k = draw(st.integers(2, V))
    order = np.argsort(-p, kind="stable")
    top = np.zeros(V, dtype=bool)
    top[order[:k]] = True
    answer = int(order[draw(st.integers(0, k - 1))])
    z_max = min(5.0, max_abs_z) if typical else max_abs_z
    z = np.asarray(_array(draw, st.floats(-z_max, z_max), V), dtype=float)
    if typical:
        lo = min(TYPICAL_MIN, max_norm)
        lam_norm = draw(st.floats(lo, max(lo, min(10.0, max_norm)))) * draw(st.sampled_from([1.0, -1.0]))
    else:
        lam_norm = draw(st.floats(-max_norm, max_norm))
    return HelpfulnessRealisation(p=p, answer=answer, top=top, z=z, lam_norm=lam_norm)


@st.composite
def event_realisations(draw: st.DrawFn, **kwargs: Any) -> HelpfulnessRealisation:
    """Realisations on the event ``E_q`` of §12.2(b) for the sign of ``λ``, and nothing narrower.

    A realisation of :func:`helpfulness_realisations` whose ``λ`` sign is set so that
    ``Σ_{T_k∖a*} P(b)(sign(λ) z_b - sign(λ) z_a*) >= 0`` (the event flips with the sign of ``λ``: for any ``z``
    one of the two signs is on it). ``λ = 0`` with a negative statistic is off the event and rejected.
    """
    r = draw(helpfulness_realisations(**kwargs))
    wrong = r.top & (np.arange(r.p.size) != r.answer)
    L = float(np.sum(r.p[wrong] * (r.z[wrong] - r.z[r.answer])))
    mag = abs(r.lam_norm)
    assume(not (mag == 0.0 and L < 0))
    return HelpfulnessRealisation(p=r.p, answer=r.answer, top=r.top, z=r.z, lam_norm=mag if L >= 0 else -mag)


@dataclass(frozen=True)
class AllNoisedQuery:
    """A query of §12.2(c): every token's projection is i.i.d. noise."""

    p: np.ndarray
    answer: int
    law: str
    law_params: dict[str, float]
    sigma: float
    t: float  # α σ λ at which E[H] is compared with the expansion

    def law_dist(self) -> Any:
        return noise_law(self.law, **self.law_params)


@st.composite
def all_noised_queries(
    draw: st.DrawFn, max_vocab: int = 5, max_t: float = 0.3, laws: st.SearchStrategy | None = None
) -> AllNoisedQuery:
    """Queries of §12.2(c)'s hypotheses, and nothing narrower.

    * any strictly positive distribution over ``2..max_vocab`` tokens and any correct answer;
    * **every** token receives i.i.d. noise (the statement's setting, not only the top-``k`` of Assumption 3);
    * a symmetric law with finite fourth moment (default ``noise_laws(symmetric=True, finite_fourth_moment=True)``):
      the statement's ``O(λ⁴)`` remainder rests on vanishing odd moments and a finite fourth moment;
    * a small ``α σ λ`` in ``[0.01, max_t]`` (the expansion is a small-λ statement), any ``σ`` in [0.1, 10].

    About half the queries are *typical* (:func:`typical_draw`): masses within ``e^-3`` of each other, the answer's
    log-mass moved off the others' by 0.5 to 2, and ``α σ λ`` in ``[max_t/2, max_t]``, where the ``λ²`` term is large
    enough for a Monte-Carlo check to see; the others range over the whole domain.
    """
    typical = typical_draw(draw)
    V = draw(st.integers(2, max_vocab))
    logw = draw(log_weights(V, -3.0 if typical else MIN_LOG_WEIGHT))
    answer = draw(st.integers(0, V - 1))
    if typical:  # the answer's mass off the others' (equal masses make the λ² coefficient vanish)
        logw[answer] += draw(st.floats(0.5, 2.0)) * draw(st.sampled_from([1.0, -1.0]))
    p = _normalise(logw)
    law, params = draw(laws if laws is not None else noise_laws(symmetric=True, finite_fourth_moment=True))
    t = draw(st.floats(max(0.01, max_t / 2) if typical else 0.01, max_t))
    return AllNoisedQuery(
        p=p, answer=answer, law=law, law_params=params, sigma=draw(within("sigma", lo=0.1, hi=10.0)), t=t
    )
