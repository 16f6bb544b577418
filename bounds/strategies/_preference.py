r"""Strategies for Proposition 1 (docs/specification.md §12.1): small differentiable models, prompts, preference pairs,
step sizes.

Proposition 1's hypotheses are "an LLM" (any differentiable model mapping a prompt to a final hidden state and then to
logits through an unembedding), the preference loss (eq. 63, or DPO's :math:`-\log\sigma`) and one gradient step with
learning rate :math:`\eta>0`. The strategies draw both model families of :mod:`bounds.preference` (one linear layer,
and a two-layer tanh network), batches of prompts with distinct preferred / dispreferred tokens, and step sizes.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..preference import LinearModel, PreferenceProblem, TwoLayerModel

__all__ = ["preference_problems"]


def _arrays(shape: tuple[int, ...], bound: float) -> st.SearchStrategy[np.ndarray]:
    size = int(np.prod(shape))
    return st.lists(st.floats(-bound, bound, allow_nan=False, allow_infinity=False), min_size=size, max_size=size).map(
        lambda v: np.asarray(v, dtype=float).reshape(shape)
    )


@st.composite
def preference_problems(
    draw: st.DrawFn,
    kind: str | None = None,
    max_dim: int = 3,
    max_vocab: int = 4,
    max_batch: int = 3,
    min_eta: float = 1e-4,
    max_eta: float = 0.1,
    bound: float = 2.0,
    loss: str | None = None,
) -> PreferenceProblem:
    """Instances of Proposition 1's setting, and nothing narrower.

    Each restriction and the hypothesis it encodes:

    * ``kind``: ``"LinearModel"``, ``"TwoLayerModel"`` or ``None`` (both): "an LLM" is any differentiable model with
      an unembedding; these are the two smallest families (a linear layer, and a nonlinear layer before a linear
      one), enough to exercise the gap of eq. (64);
    * dimensions ``1..max_dim`` and vocabulary ``2..max_vocab`` (a preference pair needs two tokens); weights, biases,
      unembedding and prompts in ``[-bound, bound]`` (any finite values; the bound keeps the draws small);
    * ``N`` in ``1..max_batch`` prompts, each with its own pair ``s+ != s-`` (a preferred and a dispreferred answer);
    * ``min_eta <= eta <= max_eta``: a learning rate ``eta > 0`` (Proposition 1 is stated for one step of any size;
      the corrected statement is asymptotic, and its tests pass small ``max_eta``);
    * ``loss``: eq. (63) ``"difference"`` or ``"dpo"`` (``None``: either), DPO temperature ``beta`` in ``[0.1, 5]``.
    """
    k = draw(st.sampled_from(["LinearModel", "TwoLayerModel"])) if kind is None else kind
    d0 = draw(st.integers(1, max_dim))
    V = draw(st.integers(2, max_vocab))
    if k == "LinearModel":
        d = draw(st.integers(1, max_dim))
        model = LinearModel(W=draw(_arrays((d, d0), bound)), U=draw(_arrays((V, d), bound)))
    else:
        d1, d2 = draw(st.integers(1, max_dim)), draw(st.integers(1, max_dim))
        model = TwoLayerModel(
            W1=draw(_arrays((d1, d0), bound)),
            b1=draw(_arrays((d1,), bound)),
            W2=draw(_arrays((d2, d1), bound)),
            b2=draw(_arrays((d2,), bound)),
            U=draw(_arrays((V, d2), bound)),
        )
    N = draw(st.integers(1, max_batch))
    X = draw(_arrays((N, d0), bound))
    s_plus = np.asarray(draw(st.lists(st.integers(0, V - 1), min_size=N, max_size=N)), dtype=int)
    # s- is drawn among the V - 1 tokens other than s+ (a preference pair has two distinct answers)
    shift = np.asarray(draw(st.lists(st.integers(1, V - 1), min_size=N, max_size=N)), dtype=int)
    s_minus = (s_plus + shift) % V
    eta = draw(st.floats(min_eta, max_eta, allow_nan=False))
    lo = draw(st.sampled_from(["difference", "dpo"])) if loss is None else loss
    beta = draw(st.floats(0.1, 5.0)) if lo == "dpo" else 1.0
    return PreferenceProblem(model=model, X=X, s_plus=s_plus, s_minus=s_minus, eta=eta, loss=lo, beta=beta)
