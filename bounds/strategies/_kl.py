r"""Strategies for the KL statements (issue 17, docs/specification.md §16): any distribution, any projections.

An instance is one query in the exact parametrisation of docs/specification.md §1 -- the unsteered distribution ``p``
and the projections ``z`` -- with a steering strength ``‖δ‖`` (the laws of :math:`\mathrm{KL}(P_\lambda\Vert P)`) or a
KL budget :math:`\tau` and a slope :math:`\alpha` (the strengths that spend the budget). The KL statements assume
nothing else: no margin, no scores, no noise law.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from ..kl import kl_divergence, projection_spread
from ._common import _array, _floats, _log_weights, typical_draw, within

__all__ = ["TiltInstance", "kl_budget_instances", "tilt_instances"]

_Z = _floats(-50.0, 50.0)
#: the smallest slope drawn: the statements depend on α only through ‖δ‖ = αλ, and below it λ = ‖δ‖/α can leave the
#: float64 range (the strength itself is then not representable)
MIN_ALPHA = 1e-100


@dataclass(frozen=True)
class TiltInstance:
    """A query ``(p, z)`` with a strength ``norm = ‖δ‖``, a budget ``tau`` and a slope ``alpha`` (those a strategy
    does not draw are 0, ``nan`` and 1).

    Attributes:
        p: unsteered distribution (entries ``>= 0`` summing to 1; some may be 0).
        z: projections of every token (finite).
        norm: ``‖δ‖ >= 0``.
        tau: a KL budget ``> 0`` in nats (``nan``: none drawn).
        alpha: Assumption 1's slope ``> 0``.
    """

    p: np.ndarray
    z: np.ndarray
    norm: float = 0.0
    tau: float = math.nan
    alpha: float = 1.0

    @property
    def var_z(self) -> float:
        """:math:`\\operatorname{Var}_P(z)`."""
        return float(projection_spread(self.p, self.z)[0])

    @property
    def z_range(self) -> float:
        """:math:`R_z`, the range of ``z`` over the tokens with ``p > 0``."""
        return float(projection_spread(self.p, self.z)[1])

    @property
    def kl_limit(self) -> float:
        """:math:`\\lim_{\\|\\delta\\|\\to\\infty}\\mathrm{KL}=-\\log P(\\arg\\max z)`: the most KL steering can
        spend (the KL grows with ``‖δ‖``), ``argmax`` over the supported tokens."""
        support, total = self.p > 0, self.p.sum()
        top = support & (self.z == self.z[support].max())
        share = self.p[top].sum() / total
        if share < 0.5:
            return float(-np.log(share))
        return float(-np.log1p(-self.p[support & ~top].sum() / total))  # digits kept when P(argmax z) is near 1

    def kl(self, norm: float) -> float:
        """The exact :math:`\\mathrm{KL}(P_\\lambda\\Vert P)` at ``‖δ‖ = norm`` (:func:`bounds.kl.kl_divergence`)."""
        return float(kl_divergence(self.p, self.z, norm))

    def as_dict(self) -> dict[str, object]:
        """The JSON-safe fields (a pinned counterexample: ``p``, ``z`` and those drawn)."""
        out: dict[str, object] = {"p": self.p.tolist(), "z": self.z.tolist()}
        return out | ({"norm": self.norm} if math.isnan(self.tau) else {"tau": self.tau, "alpha": self.alpha})


def _distribution(draw: st.DrawFn, max_tokens: int, typical: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(p, z)``: 1 to ``max_tokens`` tokens, masses down to about 1e-300 (or exactly 0 outside the typical half,
    at least one positive), projections in ``[-50, 50]``."""
    n = draw(st.integers(1, max_tokens))
    logw = _log_weights(draw, n, typical)
    if not typical:
        massless = np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        massless[int(np.argmax(logw))] = False  # the largest weight keeps its mass
        logw = np.where(massless, -np.inf, logw)
    w = np.exp(logw - logw.max())
    return w / w.sum(), _array(draw, _Z, n)


def _log_uniform(draw: st.DrawFn, lo: float, hi: float) -> float:
    """``10**u`` with ``u`` uniform in ``[log10 lo, log10 hi]``: every scale between ``lo`` and ``hi`` equally often."""
    return float(10.0 ** draw(st.floats(math.log10(lo), math.log10(hi))))


@st.composite
def tilt_instances(draw: st.DrawFn, max_tokens: int = 6, max_norm: float = 1e3) -> TiltInstance:
    """Instances of the hypotheses of ``proposition-kl-second-order``, ``-accuracy`` and ``proposition-kl-upper``,
    and nothing narrower.

    Each restriction and the hypothesis it encodes:

    * any distribution ``p`` over 1 to ``max_tokens`` tokens: masses down to about 1e-300 (log-weights down to -690)
      and, outside the typical half, exact zeros on any tokens but one (the statements take ``R_z`` over the tokens
      with ``P(s) > 0``; a massless token may lie anywhere);
    * any projections ``z`` in ``[-50, 50]`` (the statements hold for every finite ``z``; only differences matter);
    * ``0 <= norm <= max_norm``: every steering strength.

    About half the instances are *typical* (:func:`typical_draw`): masses within ``e^-30`` of each other, no massless
    token, and ``‖δ‖ R_z`` log-uniform in ``[1e-3, 1e2]`` (every scale from the second-order regime to saturation
    equally often; ``norm`` at most ``max_norm``); the others range over the whole domain, where hypothesis also
    shrinks to ``norm = 0`` and single tokens.
    """
    typical = typical_draw(draw)
    p, z = _distribution(draw, max_tokens, typical)
    if typical:  # ‖δ‖ R_z log-uniform: the scale on which the KL moves from its second-order regime to saturation
        spread = float(np.ptp(z))
        norm = min(_log_uniform(draw, 1e-3, 1e2) / spread, max_norm) if spread > 0 else _log_uniform(draw, 1e-3, 1e2)
    else:
        norm = draw(within("norm", hi=max_norm))
    return TiltInstance(p=p, z=z, norm=norm)


@st.composite
def kl_budget_instances(draw: st.DrawFn, max_tokens: int = 6) -> TiltInstance:
    """Instances of the hypotheses of ``corollary-kl-budget-safe`` and ``corollary-kl-budget-second-order``, and
    nothing narrower: ``(p, z)`` as in :func:`tilt_instances`, a budget ``tau > 0`` and a slope ``alpha > 0``.

    * ``tau`` in ``(0, 1e3]`` (any budget; beyond ``-log P(argmax z)`` every strength is within it);
    * ``alpha`` in ``[1e-100, 1e3]`` (Assumption 1's slope; the statements depend on it only through ``αλ``, and
      below 1e-100 the strength ``λ = ‖δ‖/α`` can leave the float64 range).

    About half the instances are *typical*: ``p`` and ``z`` as in :func:`tilt_instances`, ``tau`` log-uniform in
    ``[1e-4, 10]`` and ``alpha`` log-uniform in ``[1e-2, 1e2]``.
    """
    typical = typical_draw(draw)
    p, z = _distribution(draw, max_tokens, typical)
    if typical:
        tau, alpha = _log_uniform(draw, 1e-4, 10.0), _log_uniform(draw, 1e-2, 1e2)
    else:
        tau, alpha = draw(within("tau", hi=1e3)), draw(within("alpha", "lambda_for_kl", lo=MIN_ALPHA, hi=1e3))
    return TiltInstance(p=p, z=z, tau=tau, alpha=alpha)
