r"""Strategies for the multi-token statements (Theorem 6 and its correction): response trees with a per-step margin.

An instance is a :class:`bounds.multitoken.ResponseTree` -- responses of at most :math:`\ell` tokens, each step a
next-token distribution over aligned and misaligned tokens with the step's own projections -- together with
:math:`\ell` and a margin :math:`\Delta` that holds at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from ..multitoken import ResponseTree
from ._alignment import _Z, _margins, _separated_above
from ._common import MIN_LOG_WEIGHT, _array, _log_weights, _normalise, typical_draw

__all__ = ["ResponseTreeInstance", "response_tree_instances"]


@dataclass(frozen=True)
class ResponseTreeInstance:
    """A response model satisfying Theorem 6's hypotheses.

    Attributes:
        tree: the response tree (depth ``<= ell``).
        ell: the maximal response length ``ℓ >= 1`` the statement is applied with.
        delta: a margin that holds at every reachable step: ``min_{aligned} z - max_{misaligned} z >= delta >= 0``.
    """

    tree: ResponseTree
    ell: int
    delta: float

    @property
    def B0(self) -> float:
        """Response-level unsteered behavior expectation."""
        return self.tree.behavior(0.0)

    def behavior(self, norm: float) -> float:
        """Exact steered response-level behavior with ``‖δ‖ = norm >= 0`` at every step."""
        return self.tree.behavior(norm)


def _step(
    draw: st.DrawFn,
    depth: int,
    ell: int,
    delta: float,
    max_aligned: int,
    max_misaligned: int,
    typical: bool = False,
    low: float = MIN_LOG_WEIGHT,
) -> ResponseTree:
    n_al = draw(st.integers(1, max_aligned))
    n_mis = draw(st.integers(1, max_misaligned))
    p = _normalise(_log_weights(draw, n_al + n_mis, typical, low))
    z_mis = _array(draw, _Z, n_mis)
    # the tree's one margin at this step; float64 rounding of the gap is handled by tree.min_margin() below
    z_al, _ = _separated_above(draw, z_mis, n_al, delta=delta)
    children: list[ResponseTree | None] = []
    for i in range(n_al):
        # an aligned token either ends the response or leads to the next step (only while fewer than ell tokens); in
        # the typical half the first aligned token of the first step always goes on (a genuinely multi-token response)
        go_on = depth < ell and ((typical and depth == 1 and i == 0) or draw(st.booleans()))
        child = _step(draw, depth + 1, ell, delta, max_aligned, max_misaligned, typical, low) if go_on else None
        children.append(child)
    children += [None] * n_mis
    return ResponseTree(
        p=p,
        z=np.concatenate([z_al, z_mis]),
        aligned=np.concatenate([np.ones(n_al, dtype=bool), np.zeros(n_mis, dtype=bool)]),
        children=tuple(children),
    )


@st.composite
def response_tree_instances(
    draw: st.DrawFn,
    max_len: int = 3,
    max_aligned: int = 3,
    max_misaligned: int = 2,
    positive_margin: bool = False,
    min_log_weight: float = MIN_LOG_WEIGHT,
) -> ResponseTreeInstance:
    """Instances of Theorem 6's hypotheses, and nothing narrower.

    Each restriction and the hypothesis it encodes:

    * ``1 <= ell <= max_len`` and every response has at most ``ell`` tokens: "the model's reply contains at most
      ``ℓ`` tokens". Each aligned token either **ends** the response or leads to a next step (hypothesis chooses), so
      lengths vary between 1 and ``ell``;
    * every step has at least one aligned and one misaligned token with positive mass: Theorem 1's domain
      ``-1 < B0^(i) < 1`` at every step ("the assumption of theorem 1 holding in every decoding step");
    * every step has its own projections ``z`` (its own steering direction) with
      ``min_{aligned} z - max_{misaligned} z >= delta``, the same ``delta`` at every step (Theorem 1's margin at
      every step); the drawn ``delta`` holds in float64 at every step (the float fix of
      :func:`hard_margin_instances`); ``positive_margin=True`` draws ``delta >= 1e-100`` (the thresholds' hypothesis
      ``αΔ > 0``: with ``Δ = 0`` they are infinite; below 1e-100 they are beyond what float64 steering evaluates);
    * misaligned tokens carry no subtree: a response is aligned iff all its tokens are, so whatever follows a
      misaligned token does not change ``B``.

    Masses range down to about 1e-300 at every step (log-weights down to ``min_log_weight``, as in
    :func:`hard_margin_instances`). About half the instances are *typical* (:func:`typical_draw`):
    masses within ``e^-30`` of each other at every step, ``delta >= 1e-3``, and (when ``ell >= 2``) the first aligned
    token of the first step leads to a second step; the others range over the whole domain.
    """
    typical = typical_draw(draw)
    ell = draw(st.integers(1, max_len))
    delta = draw(_margins(typical, positive_margin))
    tree = _step(draw, 1, ell, delta, max_aligned, max_misaligned, typical, min_log_weight)
    return ResponseTreeInstance(tree=tree, ell=ell, delta=float(min(delta, tree.min_margin())))
