r"""Measured curves over the λ grid: behavior :math:`B(\lambda)` (single token, generated), helpfulness
:math:`H(\lambda)` (letter probability, choice likelihood), :math:`p_0` with its interval and chance, and the
comparison of a measured curve with a bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from bounds._check import as_real, check_integer

from ._common import (
    AcrossQueries,
    Result,
    across_queries,
    check_indices,
    check_level,
    check_matrix,
    check_scalar,
    check_unit_interval,
)

__all__ = [
    "BehaviorCurve",
    "BoundComparison",
    "ChanceCheck",
    "ChoiceLikelihood",
    "HelpfulnessCurves",
    "Interval",
    "RoomCheck",
    "at_chance",
    "behavior_generated",
    "behavior_room",
    "behavior_single_token",
    "choice_likelihood",
    "compare_with_bound",
    "degenerate_b0_reason",
    "helpfulness_curves",
    "p0_interval",
]


def _check_lam(lam: object, G: int) -> np.ndarray | None:
    if lam is None:
        return None
    lm = as_real("lam", lam)
    if lm.ndim != 1 or lm.size != G:
        raise ValueError(f"lam must be a 1-D grid of length G = {G} (the last axis of the curves), got {lm.shape}")
    if np.unique(lm).size != lm.size:
        raise ValueError("lam must not repeat a coefficient")
    return lm


def _zero_index(lm: np.ndarray | None) -> int | None:
    if lm is None:
        return None
    hit = np.flatnonzero(lm == 0)
    return int(hit[0]) if hit.size else None


# ---------------------------------------------------------------------------------------------------------------
# Behavior
# ---------------------------------------------------------------------------------------------------------------
def degenerate_b0_reason(B0: float) -> str | None:
    r"""Why Theorem 1's comparison degenerates at :math:`B_0=\pm1`, or ``None`` when :math:`|B_0|<1`.

    Theorem 1 reads :math:`B\ge\tanh(\alpha\Delta\lambda/2+\operatorname{artanh}B_0)` (an upper bound for
    :math:`\lambda<0`); :math:`\operatorname{artanh}(\pm1)=\pm\infty`.
    """
    if B0 >= 1.0:
        return (
            "B0 = +1: artanh(B0) = +inf, so Theorem 1's bound is identically 1 at every finite lambda. In exact "
            "arithmetic P- = 0 stays 0 under steering and B stays 1, so there is nothing to test; a measured B < 1 "
            "means misaligned mass that underflowed to 0 at lambda = 0 was revived by steering, and would show as a "
            "spurious violation of the lambda >= 0 lower bound (the lambda < 0 upper bound B <= 1 is vacuous). "
            "The comparison is skipped for this query."
        )
    if B0 <= -1.0:
        return (
            "B0 = -1: artanh(B0) = -inf, so Theorem 1's bound is identically -1 at every finite lambda: the "
            "lambda >= 0 lower bound B >= -1 is vacuous, and the lambda < 0 upper bound B <= -1 fails as soon as any "
            "aligned mass appears (in exact arithmetic P+ = 0 stays 0, so B0 = -1 means the aligned tokens "
            "underflowed). No alpha*Delta can be read from such a query. The comparison is skipped for this query."
        )
    return None


@dataclass(frozen=True)
class BehaviorCurve(Result):
    r"""A behavior curve :math:`B(q,\lambda)` and its summaries.

    Attributes:
        lam: the grid (``None`` if not given).
        B: per query and λ, shape ``(n_queries, G)``.
        summary: mean ± SE across queries per λ.
        coverage: per cell, :math:`P^++P^-` (single token: mass of the two token sets; generated: fraction of
            responses the classifier did not score 0).
        coverage_summary: its mean per λ.
        B_binary: per cell :math:`(P^+-P^-)/(P^++P^-)`, the binary behavior restricted to the two sets (``nan``
            where the coverage is 0); ``B_binary_summary`` across queries.
        B0: per query :math:`B` at :math:`\lambda=0` (``None`` when 0 is not on the grid); ``B0_summary``.
        artanh_B0: per query :math:`\operatorname{artanh}B_0` (``±inf`` where degenerate).
        degenerate: per query, :math:`|B_0|\ge1-` ``degenerate_atol``.
        degenerate_reasons: ``{query index: reason}`` (:func:`degenerate_b0_reason`).
        all_degenerate: every query is degenerate (the curve-level comparison with Theorem 1 cannot be made).
    """

    lam: np.ndarray | None
    B: np.ndarray
    summary: AcrossQueries
    coverage: np.ndarray
    coverage_summary: AcrossQueries
    B_binary: np.ndarray
    B_binary_summary: AcrossQueries
    B0: np.ndarray | None
    B0_summary: AcrossQueries | None
    artanh_B0: np.ndarray | None
    degenerate: np.ndarray | None
    degenerate_reasons: dict[int, str]
    all_degenerate: bool


def _curve(
    B: np.ndarray, coverage: np.ndarray, lm: np.ndarray | None, level: object, atol: object, B_binary: np.ndarray
) -> BehaviorCurve:
    level = check_level("level", level)
    atol = check_scalar("degenerate_atol", atol, 0.0, 1.0, hi_open=True)
    i0 = _zero_index(lm)
    B0 = artanh = deg = None
    B0_s = None
    reasons: dict[int, str] = {}
    if i0 is not None:
        B0 = B[:, i0].copy()
        deg = np.abs(B0) >= 1.0 - atol
        B0c = np.where(deg, np.sign(B0), B0)  # within atol of ±1 is treated as ±1
        with np.errstate(divide="ignore"):
            artanh = np.arctanh(B0c)
        for q in np.flatnonzero(deg):
            reasons[int(q)] = degenerate_b0_reason(float(B0c[q])) or ""
        B0_s = across_queries(B0, level)
    return BehaviorCurve(
        lam=lm,
        B=B,
        summary=across_queries(B, level),
        coverage=coverage,
        coverage_summary=across_queries(coverage, level),
        B_binary=B_binary,
        B_binary_summary=across_queries(B_binary, level),
        B0=B0,
        B0_summary=B0_s,
        artanh_B0=artanh,
        degenerate=deg,
        degenerate_reasons=reasons,
        all_degenerate=bool(deg is not None and deg.all()),
    )


def behavior_single_token(
    p_aligned_mass: object,
    p_misaligned_mass: object,
    *,
    lam: object = None,
    level: float = 0.95,
    degenerate_atol: float = 0.0,
) -> BehaviorCurve:
    r"""Single-token behavior :math:`B(q,\lambda)=P(A^+\mid q)-P(A^-\mid q)` on the answer's first token.

    Tokens outside both sets score 0 (a trinary score, docs/specification.md §9); ``B_binary`` is the binary behavior
    conditioned on the two sets, the quantity Theorem 1 idealises (:math:`P^++P^-=1`). When ``lam`` contains 0 the
    column at
    :math:`\lambda=0` gives :math:`B_0` per query; :math:`|B_0|=1` (within ``degenerate_atol``) is flagged per query
    with the reason the Theorem 1 comparison degenerates (:func:`degenerate_b0_reason`); nothing raises.

    Args:
        p_aligned_mass: :math:`P(A^+\mid q)` per query and λ, shape ``(n_queries, G)``, in ``[0, 1]``.
        p_misaligned_mass: :math:`P(A^-\mid q)`, same shape; ``P+ + P- <= 1``.
        lam: optional grid of length ``G``.
        level: confidence level of the across-query intervals.
        degenerate_atol: :math:`|B_0|\ge1-` this counts as :math:`\pm1`, in ``[0, 1)`` (default: exactly ±1).

    Returns:
        :class:`BehaviorCurve`.

    Raises:
        ValueError: shapes differ, probabilities out of ``[0, 1]`` or summing above 1.
    """
    pp = check_unit_interval("p_aligned_mass", check_matrix("p_aligned_mass", p_aligned_mass))
    pm = check_unit_interval("p_misaligned_mass", check_matrix("p_misaligned_mass", p_misaligned_mass))
    if pp.shape != pm.shape:
        raise ValueError(f"p_misaligned_mass must have the shape of p_aligned_mass {pp.shape}, got {pm.shape}")
    cov = pp + pm
    if (cov > 1.0 + 1e-6).any():
        raise ValueError(
            f"p_aligned_mass + p_misaligned_mass must be <= 1 (disjoint token sets), got {float(cov.max())!r}"
        )
    lm = _check_lam(lam, pp.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        b_bin = np.where(cov > 0, (pp - pm) / np.where(cov > 0, cov, 1.0), np.nan)
    return _curve(pp - pm, np.minimum(cov, 1.0), lm, level, degenerate_atol, b_bin)


def behavior_generated(
    scores: object, *, lam: object = None, level: float = 0.95, degenerate_atol: float = 0.0
) -> BehaviorCurve:
    r"""Response-level behavior from classifier scores of generated responses (Definition 1 by sampling).

    Args:
        scores: scores in :math:`\{-1,0,+1\}`, shape ``(n_queries, G)`` (one response each, e.g. greedy) or
            ``(n_queries, G, n_samples)`` (sampled responses; :math:`B` is their mean).
        lam, level, degenerate_atol: as in :func:`behavior_single_token`.

    Returns:
        :class:`BehaviorCurve` (``coverage`` = fraction of non-zero scores; ``B_binary`` = mean over non-zero).

    Raises:
        ValueError: a score outside :math:`\{-1,0,1\}`, wrong shape.
    """
    s = as_real("scores", scores)
    if s.ndim == 2:
        s = s[..., None]
    if s.ndim != 3 or 0 in s.shape:
        raise ValueError(f"scores must have shape (n_queries, G) or (n_queries, G, n_samples), got {np.shape(scores)}")
    if not np.isin(s, (-1.0, 0.0, 1.0)).all():
        raise ValueError(f"scores must be -1, 0 or +1, got {np.unique(s[~np.isin(s, (-1.0, 0.0, 1.0))])[:3].tolist()}")
    lm = _check_lam(lam, s.shape[1])
    pos, neg = (s > 0).mean(-1), (s < 0).mean(-1)
    cov = pos + neg
    with np.errstate(invalid="ignore", divide="ignore"):
        b_bin = np.where(cov > 0, (pos - neg) / np.where(cov > 0, cov, 1.0), np.nan)
    return _curve(pos - neg, cov, lm, level, degenerate_atol, b_bin)


# ---------------------------------------------------------------------------------------------------------------
# Helpfulness
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HelpfulnessCurves(Result):
    r"""Helpfulness curves :math:`H(q,\lambda)` with their summaries.

    Attributes:
        lam: the grid (``None`` if not given).
        full: probability of the correct answer over the full vocabulary, ``(n_queries, G)``; ``full_summary``.
        restricted: renormalised over the answer options (``None`` if not given); ``restricted_summary``.
        p0_full, p0_restricted: per-query values at :math:`\lambda=0` (``None`` when 0 is not on the grid).
        inconsistent_cells: cells where restricted < full (renormalising over a subset cannot lower a
            probability: such cells mean the two inputs do not come from the same distribution).
    """

    lam: np.ndarray | None
    full: np.ndarray
    full_summary: AcrossQueries
    restricted: np.ndarray | None
    restricted_summary: AcrossQueries | None
    p0_full: np.ndarray | None
    p0_restricted: np.ndarray | None
    inconsistent_cells: int


def helpfulness_curves(
    p_correct_full_vocab: object, p_correct_restricted: object = None, *, lam: object = None, level: float = 0.95
) -> HelpfulnessCurves:
    r"""The paper's helpfulness :math:`H=P(a^*\mid q)` (eq. 4) per query and λ, with mean ± SE across queries.

    Args:
        p_correct_full_vocab: probability of the correct answer token over the whole vocabulary, shape
            ``(n_queries, G)``, in ``[0, 1]``.
        p_correct_restricted: optional, the same renormalised over the answer options (e.g. A--D), same shape.
        lam: optional grid of length ``G`` (its 0 gives :math:`p_0`).
        level: confidence level.

    Returns:
        :class:`HelpfulnessCurves`.

    Raises:
        ValueError: shapes differ, values outside ``[0, 1]``.
    """
    full = check_unit_interval("p_correct_full_vocab", check_matrix("p_correct_full_vocab", p_correct_full_vocab))
    lv = check_level("level", level)
    lm = _check_lam(lam, full.shape[1])
    res = None
    bad = 0
    if p_correct_restricted is not None:
        res = check_unit_interval("p_correct_restricted", check_matrix("p_correct_restricted", p_correct_restricted))
        if res.shape != full.shape:
            raise ValueError(
                f"p_correct_restricted must have the shape of p_correct_full_vocab {full.shape}, got {res.shape}"
            )
        bad = int(np.sum(res < full - 1e-9))
    i0 = _zero_index(lm)
    return HelpfulnessCurves(
        lam=lm,
        full=full,
        full_summary=across_queries(full, lv),
        restricted=res,
        restricted_summary=None if res is None else across_queries(res, lv),
        p0_full=None if i0 is None else full[:, i0].copy(),
        p0_restricted=None if (i0 is None or res is None) else res[:, i0].copy(),
        inconsistent_cells=bad,
    )


@dataclass(frozen=True)
class ChoiceLikelihood(Result):
    r"""Result of :func:`choice_likelihood`.

    Attributes:
        probs: probability of each choice, the shape of the input (0 for absent choices).
        p_correct: probability of the correct choice, the input shape without its last axis.
        credit: accuracy credit of the argmax rule: 1 if the correct choice is the unique best, :math:`1/m`
            when it ties with :math:`m-1` others, else 0.
        normalized: whether the log-likelihoods were divided by ``lengths``.
    """

    probs: np.ndarray
    p_correct: np.ndarray
    credit: np.ndarray
    normalized: bool


def choice_likelihood(logprob_sums_per_choice: object, correct: object, *, lengths: object = None) -> ChoiceLikelihood:
    r"""Probability of the correct continuation among the choices: softmax over per-choice log-likelihoods.

    :math:`H=e^{\ell_{a^*}}/\sum_ce^{\ell_c}`, the chain-rule probability of the correct multi-token answer
    renormalised over the listed choices; with ``lengths``, :math:`\ell_c/n_c` replaces :math:`\ell_c` and the result
    is a score, not a probability (``docs/api/validation-measure.md``).

    Args:
        logprob_sums_per_choice: :math:`\ell_c`, shape ``(n_queries, n_choices)`` or ``(n_queries, G,
            n_choices)``; values ``<= 0`` (log-probabilities); ``-inf`` marks an absent choice (ragged choice
            counts), NaN and ``+inf`` are rejected.
        correct: index of the correct choice per query, integer array ``(n_queries,)``.
        lengths: optional positive lengths :math:`n_c`, broadcastable to the log-likelihoods.

    Returns:
        :class:`ChoiceLikelihood`.

    Raises:
        ValueError: bad shapes, positive log-likelihoods, a correct choice that is absent, fewer than 2 choices,
            non-positive lengths.
        TypeError: non-integer ``correct``.
    """
    ll = as_real("logprob_sums_per_choice", logprob_sums_per_choice, allow_inf=True)
    if ll.ndim not in (2, 3) or 0 in ll.shape or ll.shape[-1] < 2:
        raise ValueError(
            "logprob_sums_per_choice must have shape (n_queries, n_choices) or (n_queries, G, n_choices) with "
            f"n_choices >= 2, got {ll.shape}"
        )
    if (ll == np.inf).any():
        raise ValueError("logprob_sums_per_choice must not be +inf (log-probabilities are <= 0)")
    if (ll > 1e-9).any():
        raise ValueError(f"logprob_sums_per_choice must be log-probabilities <= 0, got {float(ll.max())!r}")
    nq, nc = ll.shape[0], ll.shape[-1]
    idx = check_indices("correct", correct, nq, 0, nc - 1, "choice indices")
    score = ll
    normalized = lengths is not None
    if normalized:
        n = as_real("lengths", lengths)
        try:
            n = np.broadcast_to(n, ll.shape)
        except ValueError as exc:
            raise ValueError(f"lengths must broadcast to {ll.shape}, got shape {n.shape}") from exc
        if (n <= 0).any():
            raise ValueError(f"lengths must be > 0, got {float(n.min())!r}")
        score = ll / n
    idx_b = idx.reshape((nq,) + (1,) * (ll.ndim - 1))
    s_cor = np.take_along_axis(score, np.broadcast_to(idx_b, (*ll.shape[:-1], 1)), axis=-1)[..., 0]
    if np.isneginf(s_cor).any():
        raise ValueError("the correct choice must be present (finite log-likelihood) in every query")
    top = score.max(axis=-1, keepdims=True)
    w = np.exp(score - top)
    probs = w / w.sum(axis=-1, keepdims=True)
    p_cor = np.take_along_axis(probs, np.broadcast_to(idx_b, (*ll.shape[:-1], 1)), axis=-1)[..., 0]
    best = score == top
    credit = np.where(s_cor == top[..., 0], 1.0 / best.sum(axis=-1), 0.0)
    return ChoiceLikelihood(probs=probs, p_correct=p_cor, credit=credit, normalized=normalized)


# ---------------------------------------------------------------------------------------------------------------
# p0 and chance
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Interval(Result):
    """An estimate with a confidence interval.

    Attributes:
        estimate: accuracy (fraction correct) or mean probability.
        low, high: the interval.
        level: confidence level.
        n: sample size.
        kind: ``"accuracy"`` or ``"probability"``.
        method: ``"wilson"``, ``"t"`` or ``"bootstrap"``.
    """

    estimate: float
    low: float
    high: float
    level: float
    n: int
    kind: str
    method: str


def _wilson(k: float, n: int, level: float) -> tuple[float, float]:
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + level / 2.0))
    p = k / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z / den * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # exact ends at k = 0 and k = n (centre - half and centre + half round to 1e-17 off 0 and 1 there)
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def p0_interval(
    values: object,
    level: float = 0.95,
    *,
    kind: str = "auto",
    method: str = "t",
    n_boot: int = 2000,
    seed: int = 0,
) -> Interval:
    r""":math:`p_0` with a confidence interval: Wilson for an accuracy, t or bootstrap for a mean probability.

    * ``kind="accuracy"`` (0/1 flags): the Wilson score interval
      :math:`\frac{\hat p+z^2/2n}{1+z^2/n}\pm\frac{z}{1+z^2/n}\sqrt{\frac{\hat p(1-\hat p)}{n}+\frac{z^2}{4n^2}}`,
      :math:`z=\Phi^{-1}((1+\ell)/2)` -- well behaved near 0 and 1, unlike the Wald interval.
    * ``kind="probability"`` (per-query probabilities): the mean with a Student-t interval (``method="t"``), or a
      percentile bootstrap over queries (``method="bootstrap"``, ``n_boot`` resamples, seeded); both intervals
      are intersected with ``[0, 1]``.
    * ``kind="auto"``: boolean or integer input is an accuracy, float input a probability.

    Args:
        values: 1-D, at least 2 values, in ``[0, 1]`` (flags: exactly 0 or 1).
        level: confidence level in ``(0, 1)``.
        kind: ``"auto"``, ``"accuracy"`` or ``"probability"``.
        method: for probabilities, ``"t"`` or ``"bootstrap"``.
        n_boot: integer ``>= 100``.
        seed: integer ``>= 0``.

    Returns:
        :class:`Interval`.

    Raises:
        ValueError: bad values or settings (named).
    """
    raw = np.asarray(values)
    x = as_real("values", values)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"values must be a 1-D array of at least 2 values, got shape {x.shape}")
    lv = check_level("level", level)
    if kind not in ("auto", "accuracy", "probability"):
        raise ValueError(f"kind must be 'auto', 'accuracy' or 'probability', got {kind!r}")
    if kind == "auto":
        kind = "accuracy" if raw.dtype.kind in "biu" else "probability"
    x = check_unit_interval("values", x, atol=0.0)
    n = x.size
    if kind == "accuracy":
        if not np.isin(x, (0.0, 1.0)).all():
            raise ValueError("values must be 0/1 flags for kind='accuracy'")
        lo, hi = _wilson(float(x.sum()), n, lv)
        return Interval(float(x.mean()), lo, hi, lv, n, "accuracy", "wilson")
    if method == "t":
        s = across_queries(x, lv)
        return Interval(s.mean, max(0.0, s.ci_low), min(1.0, s.ci_high), lv, n, "probability", "t")
    if method == "bootstrap":
        nb = check_integer("n_boot", n_boot, 100)
        rng = np.random.default_rng(check_integer("seed", seed, 0))
        means = x[rng.integers(0, n, size=(nb, n))].mean(axis=1)
        lo, hi = np.quantile(means, [0.5 - lv / 2.0, 0.5 + lv / 2.0])
        return Interval(float(x.mean()), float(lo), float(hi), lv, n, "probability", "bootstrap")
    raise ValueError(f"method must be 't' or 'bootstrap', got {method!r}")


@dataclass(frozen=True)
class ChanceCheck(Result):
    """Whether :math:`p_0` is distinguishable from chance :math:`1/n`.

    Attributes:
        chance: :math:`1/n`.
        at_chance: the interval contains :math:`1/n`.
        above_chance, below_chance: the whole interval lies above / below it.
        message: one line for the report.
    """

    chance: float
    at_chance: bool
    above_chance: bool
    below_chance: bool
    message: str


def at_chance(interval: Interval, n_choices: int) -> ChanceCheck:
    r"""Compare a :math:`p_0` interval with chance :math:`1/n` (e.g. :math:`1/4` for MMLU, :math:`1/2` for PIQA).

    A model at chance cannot show a helpfulness *decrease*: Corollary 2's limit is :math:`1/n` itself, so the
    report must say so instead of reading a flat curve as robustness.

    Args:
        interval: from :func:`p0_interval`.
        n_choices: integer ``>= 2``.

    Raises:
        TypeError: ``interval`` is not an :class:`Interval`.
        ValueError: ``n_choices < 2``.
    """
    if not isinstance(interval, Interval):
        raise TypeError(f"interval must be an Interval from p0_interval, got {type(interval).__name__}")
    n = check_integer("n_choices", n_choices, 2)
    c = 1.0 / n
    inside = interval.low <= c <= interval.high
    above, below = interval.low > c, interval.high < c
    what = "accuracy" if interval.kind == "accuracy" else "mean probability of the correct answer"
    head = f"{what} {interval.estimate:.3f} [{interval.low:.3f}, {interval.high:.3f}] ({interval.level:.0%}, n = "
    head += f"{interval.n}) vs chance 1/{n} = {c:.3f}: "
    if inside:
        msg = head + "AT CHANCE -- the model cannot show a helpfulness decrease on this task"
    elif above:
        msg = head + "above chance"
    else:
        msg = head + (
            "below chance (systematically wrong: steering may raise helpfulness towards 1/n, "
            "docs/specification.md §12.2c)"
        )
    return ChanceCheck(c, bool(inside), bool(above), bool(below), msg)


@dataclass(frozen=True)
class RoomCheck(Result):
    """Whether the generated behavior has room to move towards the steering target on the λ grid.

    Attributes:
        can_show_effect: some prompt's response turns to the target label at some λ > 0 that was not there at 0.
        n: behavior prompts.
        at_zero: prompts whose unsteered response already has the target label.
        best: the most prompts with the target label at one λ > 0 (``None`` without a positive λ).
        lam_best: the smallest λ > 0 reaching ``best``.
        message: one line for the report.
    """

    can_show_effect: bool
    n: int
    at_zero: int
    best: int | None
    lam_best: float | None
    message: str


def behavior_room(positive: ArrayLike, lam: ArrayLike, label: str) -> RoomCheck:
    """Can steering show an effect on the generated behavior? Counts the prompts whose greedy response has the
    target ``label`` (e.g. ``"refusal"`` when aligning, ``"compliance"`` when misaligning) at λ = 0 and at each λ > 0.

    Two cases cannot show one, and the report must say so rather than read a flat curve as robustness: every
    response already has the label at λ = 0 (nothing to gain: e.g. no refusals to remove when misaligning means
    every response already complies), or no λ > 0 gives more such responses than λ = 0 (the vector does not move the
    behavior on this grid).

    Args:
        positive: ``(n_prompts, G)`` booleans (or 0/1): the response to prompt i at λ_j has the label.
        lam: the ``(G,)`` grid, containing 0.
        label: the target label's name, for the message.

    Raises:
        ValueError: shapes that do not match, or a grid without 0.
    """
    pos = np.asarray(positive, dtype=bool)
    grid = np.asarray(lam, dtype=float)
    if pos.ndim != 2 or pos.shape[1] != grid.size:
        raise ValueError(f"positive: expected shape (n_prompts, {grid.size}), got {pos.shape}")
    zeros = np.flatnonzero(grid == 0.0)
    if zeros.size != 1:
        raise ValueError("lam: the grid must contain 0 exactly once")
    counts = pos.sum(axis=0)
    n, k0 = pos.shape[0], int(counts[zeros[0]])
    ahead = np.flatnonzero(grid > 0)
    best = int(counts[ahead].max()) if ahead.size else None
    lam_best = float(grid[ahead[np.argmax(counts[ahead])]]) if ahead.size else None
    head = f"{k0}/{n} responses classified {label} at lambda = 0"
    if k0 == n:
        return RoomCheck(False, n, k0, best, lam_best, head + ": nothing to gain -- the model cannot show an effect")
    if best is None or best <= k0:
        most = "no lambda > 0 on the grid" if best is None else f"at most {best}/{n} at any lambda > 0"
        return RoomCheck(False, n, k0, best, lam_best, head + f", {most}: the behavior does not move on this grid")
    msg = head + f", {best}/{n} at lambda = {lam_best:.4g}: room to show an effect"
    return RoomCheck(True, n, k0, best, lam_best, msg)


# ---------------------------------------------------------------------------------------------------------------
# Bound comparison
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BoundComparison(Result):
    r"""Result of :func:`compare_with_bound`.

    Attributes:
        lam: the grid.
        kind: per λ, ``"lower"`` or ``"upper"``.
        excess: by how much the measurement lies on the wrong side of the bound (``bound - measured`` for a lower
            bound, ``measured - bound`` for an upper one; positive = wrong side), ``nan`` where not compared.
        z: ``excess / se`` (``±inf`` with ``se = 0``).
        violated: per λ, ``excess > k * se``.
        violating_lam: the λ values where ``violated``.
        not_compared_lam: λ values with an undefined bound or measurement (NaN), e.g. a degenerate :math:`B_0`.
        k: the number of standard errors.
        rule: the rule in words.
    """

    lam: np.ndarray
    kind: np.ndarray
    excess: np.ndarray
    z: np.ndarray
    violated: np.ndarray
    violating_lam: np.ndarray
    not_compared_lam: np.ndarray
    k: float
    rule: str


def compare_with_bound(
    lam: object, B_measured: object, B_se: object, bound_values: object, *, kind: object = "lower", k: float = 2.0
) -> BoundComparison:
    r"""The λ values where a measured curve violates a bound beyond its uncertainty.

    A lower bound :math:`L` is violated where :math:`\hat B+k\,\mathrm{SE}<L`, an upper one :math:`U` where
    :math:`\hat B-k\,\mathrm{SE}>U`; NaN points are not compared (why :math:`k=2`: ``docs/api/validation-measure.md``).
    For Theorem 1 pass ``kind=np.where(lam >= 0, "lower", "upper")``.

    Args:
        lam: grid, 1-D, finite.
        B_measured: measured values, same length (NaN allowed: not compared).
        B_se: standard errors ``>= 0`` (scalar or same length; NaN allowed: not compared).
        bound_values: the bound at each λ, same length (NaN allowed: not compared; ``±inf`` allowed).
        kind: ``"lower"``, ``"upper"``, or a sequence of those per λ.
        k: number of standard errors, ``>= 0``.

    Returns:
        :class:`BoundComparison`.

    Raises:
        ValueError: lengths differ, negative SE, unknown ``kind``, ``k < 0``.
    """
    lm = as_real("lam", lam)
    if lm.ndim != 1 or lm.size == 0:
        raise ValueError(f"lam must be a non-empty 1-D grid, got shape {lm.shape}")
    G = lm.size

    def vec(name: str, x: object, allow_inf: bool = False) -> np.ndarray:
        arr = np.asarray(x, dtype=float) if not isinstance(x, (str, bytes)) else None
        if arr is None:
            raise TypeError(f"{name} must be numeric, got {x!r}")
        if arr.ndim == 0:
            arr = np.full(G, float(arr))
        if arr.shape != (G,):
            raise ValueError(f"{name} must have the length of lam ({G}), got shape {arr.shape}")
        if not allow_inf and np.isinf(arr).any():
            raise ValueError(f"{name} must be finite or NaN (not compared), got an infinity")
        return arr

    B = vec("B_measured", B_measured)
    se = vec("B_se", B_se)
    if (se < 0).any():
        raise ValueError(f"B_se must be >= 0, got {float(np.nanmin(se))!r}")
    bd = vec("bound_values", bound_values, allow_inf=True)
    kd = np.asarray([kind] * G if isinstance(kind, str) else list(kind), dtype=object)
    if kd.shape != (G,) or not np.isin(kd, ("lower", "upper")).all():
        raise ValueError(f"kind must be 'lower', 'upper' or a sequence of those of length {G}, got {kind!r}")
    kk = check_scalar("k", k, 0.0, np.inf)
    ok = ~(np.isnan(B) | np.isnan(se) | np.isnan(bd))
    with np.errstate(invalid="ignore"):
        excess = np.where(kd == "lower", bd - B, B - bd)
        excess = np.where(ok, excess, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, excess / np.where(se > 0, se, 1.0), np.sign(excess) * np.inf)
        z = np.where(ok & ~((se == 0) & (excess == 0)), z, np.where(ok, 0.0, np.nan))
        violated = ok & (excess > kk * se)
    rule = (
        f"lower bound L violated where measured + {kk:g} SE < L; upper bound U violated where measured - {kk:g} SE "
        "> U; NaN bound or measurement: not compared"
    )
    return BoundComparison(
        lam=lm,
        kind=kd.astype(str),
        excess=excess,
        z=z,
        violated=violated,
        violating_lam=lm[violated],
        not_compared_lam=lm[~ok],
        k=kk,
        rule=rule,
    )
