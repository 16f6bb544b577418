r"""Candidate steering strengths a user can defend, each as a λ with the reason it is absent: Corollary 1's λ* with
the measured parameters, the end of the efficient regime of the fitted laws, and the smallest grid λ > 0 at which a
measured behavior curve reaches a target. (The KL-budget λ is :func:`validation.measure.kl_budget`'s.) Method:
``docs/check.md``, "A λ you can defend".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bounds._check import as_real
from bounds.errors import ParameterError

from ._common import Result

__all__ = ["Candidate", "corollary_1_lambda", "efficient_regime_end", "target_crossing"]


@dataclass(frozen=True)
class Candidate(Result):
    """One candidate strength.

    Attributes:
        lam: the λ, or ``None`` when the candidate does not exist.
        reason: why it does not exist, or a caveat on the λ (``None``: neither).
    """

    lam: float | None
    reason: str | None = None


def _check_target(target: float) -> float:
    if isinstance(target, bool) or not np.isfinite(target) or not -1.0 < target <= 1.0:
        raise ParameterError(f"target: expected a behavior expectation in (-1, 1], got {target!r}")
    return float(target)


def target_crossing(lam: object, curve: object, target: float) -> Candidate:
    """The smallest grid λ > 0 at which ``curve`` (a mean behavior per grid point) is at least ``target``.

    Raises:
        bounds.errors.ParameterError: ``target`` outside ``(-1, 1]`` or ``curve`` not the grid's shape.
    """
    t = _check_target(target)
    lm, c = as_real("lam", lam), np.asarray(curve, dtype=float)
    if c.shape != lm.shape:
        raise ParameterError(f"curve: expected one value per grid point {lm.shape}, got shape {c.shape}")
    pos = np.sort(lm[lm > 0])
    if pos.size == 0:
        return Candidate(None, "the grid has no lambda > 0")
    values = np.array([c[lm == x][0] for x in pos])
    hit = np.flatnonzero(np.isfinite(values) & (values >= t))
    if hit.size == 0:
        best = np.nanmax(values) if np.isfinite(values).any() else float("nan")
        return Candidate(
            None,
            f"the measured behavior stays below the target {t:g} up to the largest lambda {pos[-1]:.4g} "
            f"(its largest value on lambda > 0: {best:.3g})",
        )
    return Candidate(float(pos[hit[0]]))


def corollary_1_lambda(target: float, B0: float | None, alpha: float | None, delta: float | None) -> Candidate:
    r"""Corollary 1's :math:`\lambda^*` (:func:`bounds.alignment_guarantee`) for the target behavior
    ``1 - eps = target``, absent with the reason where its hypotheses fail: the hard margin
    :math:`\Delta \le 0`, :math:`\alpha` not positive, :math:`B_0` outside :math:`(-1, 1)`, or the target 1 (the
    bound reaches 1 only as λ → ∞).

    Raises:
        bounds.errors.ParameterError: ``target`` outside ``(-1, 1]``.
    """
    from bounds.alignment import alignment_guarantee

    t = _check_target(target)

    def bad(x: float | None) -> bool:
        return x is None or not np.isfinite(x)

    if bad(delta) or delta <= 0:  # type: ignore[operator]
        return Candidate(
            None,
            f"the hard margin does not hold (Delta = {delta if delta is None else f'{delta:.3g}'}"
            " <= 0): Corollary 1 rests on Assumption 2",
        )
    if bad(alpha) or alpha <= 0:  # type: ignore[operator]
        return Candidate(None, f"alpha = {alpha} is not > 0 (Assumption 1)")
    if bad(B0) or not -1.0 < B0 < 1.0:  # type: ignore[operator]
        return Candidate(None, f"B0 = {B0} is not in (-1, 1)")
    if t >= 1.0:
        return Candidate(None, "the target 1 is reached by Theorem 1's bound only as lambda -> infinity")
    try:
        return Candidate(float(alignment_guarantee(1.0 - t, B0, alpha, delta)))
    except ValueError as exc:
        return Candidate(None, str(exc))


def efficient_regime_end(
    behavior: dict[str, float] | None, helpfulness: dict[str, float] | None, lam_max: float
) -> Candidate:
    r"""Where the efficient regime :math:`B'(\lambda) > -H'(\lambda)` of the fitted laws, starting at λ = 0, ends on
    ``[0, lam_max]`` (:func:`bounds.tradeoff.efficient_regime`).

    Args:
        behavior: the fitted tanh law's parameters ``a``, ``b0`` (:func:`bounds.fitting.tanh_law`), or ``None``.
        helpfulness: the fitted Theorem 2 form's ``a``, ``b`` (:func:`bounds.fitting.theorem_2_form`), or ``None``.
        lam_max: the largest λ of the grid, ``> 0``.

    Returns:
        the end (``lam_max`` with a caveat when the regime reaches it), or ``None`` with the reason: no usable fit,
        or steering is not efficient just above 0.
    """
    from bounds.fitting.lineshapes import tanh_law, tanh_law_dlam, theorem_2_form, theorem_2_form_dlam
    from bounds.tradeoff import efficient_regime, law_from_callable

    if not (np.isfinite(lam_max) and lam_max > 0):
        return Candidate(None, "the grid has no lambda > 0")
    missing = [
        name
        for name, p, keys in (("behavior", behavior, ("a", "b0")), ("helpfulness", helpfulness, ("a", "b")))
        if p is None or any(p.get(k) is None or not np.isfinite(p[k]) for k in keys)
    ]
    if missing:
        return Candidate(None, f"no usable fit of the {' and '.join(missing)} law (the fit failed or was not run)")
    a, b0, ha, hb = behavior["a"], behavior["b0"], helpfulness["a"], helpfulness["b"]  # type: ignore[index]
    B = law_from_callable(
        "fitted tanh", "behavior", lambda x: tanh_law(x, a, b0), derivative=lambda x: tanh_law_dlam(x, a, b0)
    )
    H = law_from_callable(
        "fitted Theorem 2 form",
        "helpfulness",
        lambda x: theorem_2_form(x, ha, hb),
        derivative=lambda x: theorem_2_form_dlam(x, ha, hb),
    )
    regime = efficient_regime(B, H, (0.0, float(lam_max)))
    if not regime or regime[0][0] > 0.0:
        return Candidate(None, "dB/dlambda <= -dH/dlambda just above 0 under the fitted laws: no efficient regime")
    end = regime[0][1]
    if end >= lam_max:
        return Candidate(float(lam_max), "the efficient regime reaches the grid's largest lambda; it may go on")
    return Candidate(float(end))
