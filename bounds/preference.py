r"""Proposition 1 (steering vs. preference learning, docs/specification.md §12.1) and its corrected form, on small numpy
models with analytic gradients (no torch): :class:`LinearModel` and :class:`TwoLayerModel`.

The unembedding :math:`U` is not trained (:math:`h^{(L)}` does not depend on it). Losses: ``"difference"`` is eq. (63);
``"dpo"`` is the reference-free DPO loss :math:`-\frac1N\sum_i\log\sigma(\beta u_i)`,
:math:`u_i=\log P(s_i^+\mid q_i)-\log P(s_i^-\mid q_i)`, whose gradient is the ``"difference"`` one times
:math:`\beta\sigma(-\beta u_i)>0` per prompt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import numpy as np

from ._check import args, as_real, check_index

__all__ = [
    "LinearModel",
    "PreferenceProblem",
    "TwoLayerModel",
    "gradient_step",
    "hidden_change",
    "hidden_kernel",
    "hidden_states",
    "kernel_prediction",
    "last_layer_gradient",
    "parameter_gradients",
    "preference_loss",
    "steering_prediction",
]

LOSSES = ("difference", "dpo")


def _matrix(name: str, x: object, ndim: int) -> np.ndarray:
    arr = as_real(name, x)
    if arr.ndim != ndim or 0 in arr.shape:
        raise ValueError(f"{name} must be a non-empty {ndim}-D array, got shape {arr.shape}")
    return arr


@dataclass(frozen=True)
class LinearModel:
    r"""One linear layer: :math:`h=Wx` (the final hidden state), logits :math:`Uh`; trained parameter :math:`W`.

    Attributes:
        W: ``(d, d0)`` weights, finite.
        U: ``(V, d)`` unembedding, finite, ``V >= 2``.
    """

    W: np.ndarray
    U: np.ndarray
    n_layers: ClassVar[int] = 1

    def __post_init__(self) -> None:
        W, U = _matrix("W", self.W, 2), _matrix("U", self.U, 2)
        if U.shape[1] != W.shape[0] or U.shape[0] < 2:
            raise ValueError(f"U must have shape (V >= 2, d = {W.shape[0]}) to match W {W.shape}, got {U.shape}")
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "U", U)

    @property
    def input_dim(self) -> int:
        return self.W.shape[1]


@dataclass(frozen=True)
class TwoLayerModel:
    r""":math:`h_1=\tanh(W_1x+b_1)`, :math:`h_2=W_2h_1+b_2` (final hidden state), logits :math:`Uh_2`.

    Trained parameters :math:`\theta=(W_1,b_1,W_2,b_2)`.

    Attributes:
        W1: ``(d1, d0)``; b1: ``(d1,)``; W2: ``(d2, d1)``; b2: ``(d2,)``; U: ``(V, d2)`` with ``V >= 2``. All finite.
    """

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    U: np.ndarray
    n_layers: ClassVar[int] = 2

    def __post_init__(self) -> None:
        W1, W2, U = _matrix("W1", self.W1, 2), _matrix("W2", self.W2, 2), _matrix("U", self.U, 2)
        b1, b2 = _matrix("b1", self.b1, 1), _matrix("b2", self.b2, 1)
        d1, d2 = W1.shape[0], W2.shape[0]
        want = {"b1": (b1, (d1,)), "W2": (W2, (d2, d1)), "b2": (b2, (d2,))}
        for name, (arr, shape) in want.items():
            if arr.shape != shape:
                raise ValueError(f"{name} must have shape {shape} to match W1 {W1.shape} and W2, got {arr.shape}")
        if U.shape[1] != d2 or U.shape[0] < 2:
            raise ValueError(f"U must have shape (V >= 2, d2 = {d2}) to match W2 {W2.shape}, got {U.shape}")
        for name, arr in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2), ("U", U)):
            object.__setattr__(self, name, arr)

    @property
    def input_dim(self) -> int:
        return self.W1.shape[1]


Model = LinearModel | TwoLayerModel
_MODELS = {cls.__name__: cls for cls in (LinearModel, TwoLayerModel)}


def _check_model(model: object) -> Model:
    if not isinstance(model, (LinearModel, TwoLayerModel)):
        raise TypeError(f"model must be a LinearModel or a TwoLayerModel, got {type(model).__name__}")
    return model


def _inputs(model: Model, X: object) -> np.ndarray:
    Xa = as_real("X", X)
    if Xa.ndim == 1:
        Xa = Xa[None, :]
    if Xa.ndim != 2 or Xa.shape[0] == 0 or Xa.shape[1] != model.input_dim:
        raise ValueError(f"X must have shape (N >= 1, d0 = {model.input_dim}) (one row per prompt), got {Xa.shape}")
    return Xa


def _pairs(model: Model, N: int, s_plus: object, s_minus: object) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for name, s in (("s_plus", s_plus), ("s_minus", s_minus)):
        arr = np.atleast_1d(check_index(name, s, model.U.shape[0]))
        if arr.shape not in ((1,), (N,)):
            raise ValueError(f"{name} must be one index or one per prompt (N = {N}), got shape {arr.shape}")
        out.append(np.broadcast_to(arr, (N,)).astype(int))
    if (out[0] == out[1]).any():
        raise ValueError("s_plus and s_minus must differ in every pair (a preferred and a dispreferred answer)")
    return out[0], out[1]


def _loss_kind(loss: str, beta: object) -> float:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    b = float(as_real("beta", beta))
    if not b > 0:
        raise ValueError(f"beta must lie in (0, inf), got {b!r}")
    return b


def _layer(model: Model, layer: object) -> int:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
        raise TypeError(f"layer must be an integer, got {layer!r}")
    L = model.n_layers
    if not -L <= layer < L:
        raise ValueError(f"layer must be in [-{L}, {L - 1}] for a {L}-layer model, got {layer!r}")
    return int(layer) % L


def hidden_states(model: Model, X: object) -> list[np.ndarray]:
    r"""The hidden states :math:`[h^{(1)},\dots,h^{(L)}]`, each ``(N, d_l)``, for the prompts ``X`` ``(N, d0)``."""
    model = _check_model(model)
    Xa = _inputs(model, X)
    if isinstance(model, LinearModel):
        return [Xa @ model.W.T]
    h1 = np.tanh(Xa @ model.W1.T + model.b1)
    return [h1, h1 @ model.W2.T + model.b2]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    m = logits.max(axis=-1, keepdims=True)
    return logits - (m + np.log(np.sum(np.exp(logits - m), axis=-1, keepdims=True)))


def _log_ratio(model: Model, hL: np.ndarray, sp_: np.ndarray, sm: np.ndarray) -> np.ndarray:
    """``u_i = log P(s+|q_i) - log P(s-|q_i)``, computed through the log-softmax (equal to the logit difference)."""
    lp = _log_softmax(hL @ model.U.T)
    rows = np.arange(hL.shape[0])
    return lp[rows, sp_] - lp[rows, sm]


def preference_loss(
    model: Model, X: object, s_plus: object, s_minus: object, *, loss: str = "difference", beta: object = 1.0
) -> float:
    r"""The preference loss, eq. (63) (``"difference"``) or reference-free DPO (``"dpo"``), averaged over prompts.

    Args:
        model: a :class:`LinearModel` or :class:`TwoLayerModel`.
        X: prompts, ``(N, d0)`` (a 1-D array is one prompt).
        s_plus, s_minus: preferred / dispreferred token per prompt (or one for all), distinct, in ``[0, V-1]``.
        loss: ``"difference"`` or ``"dpo"``.
        beta: DPO temperature, ``beta > 0`` (ignored by ``"difference"``).

    Raises:
        ValueError / TypeError: shapes, indices, ``s_plus == s_minus``, unknown loss, ``beta <= 0``.
    """
    model = _check_model(model)
    Xa = _inputs(model, X)
    sp_, sm = _pairs(model, Xa.shape[0], s_plus, s_minus)
    b = _loss_kind(loss, beta)
    u = _log_ratio(model, hidden_states(model, Xa)[-1], sp_, sm)
    if loss == "difference":
        return float(-np.mean(u))
    return float(np.mean(np.logaddexp(0.0, -b * u)))


def last_layer_gradient(U: object, s_plus: object, s_minus: object) -> np.ndarray:
    r""":math:`\nabla_{h^{(L)}}[\log P(s^+\mid q)-\log P(s^-\mid q)]=U^T(e_{s^+}-e_{s^-})`, exactly (eq. 65).

    Independent of :math:`h^{(L)}`: the log-partition function cancels in the difference.

    Args:
        U: unembedding ``(V, d)``.
        s_plus, s_minus: token indices in ``[0, V-1]`` (ints or equal-shape int arrays).

    Returns:
        ``(d,)`` for scalar indices, else ``(..., d)``.
    """
    Ua = _matrix("U", U, 2)
    return Ua[check_index("s_plus", s_plus, Ua.shape[0])] - Ua[check_index("s_minus", s_minus, Ua.shape[0])]


def _backward(
    model: Model, Xa: np.ndarray, sp_: np.ndarray, sm: np.ndarray, loss: str, beta: float
) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    """Analytic gradients of the batch-mean loss: parameter gradients and ``∇_{h^(l)(q_i)} L`` per layer."""
    N = Xa.shape[0]
    hs = hidden_states(model, Xa)
    v = model.U[sp_] - model.U[sm]  # (N, d_L): U^T(e+ - e-) per prompt
    if loss == "difference":
        dL_du = np.full(N, -1.0 / N)
    else:
        u = _log_ratio(model, hs[-1], sp_, sm)
        dL_du = -beta * _sigmoid(-beta * u) / N
    gL = dL_du[:, None] * v  # ∇_{h^(L)(q_i)} L
    if isinstance(model, LinearModel):
        return {"W": gL.T @ Xa}, [gL]
    h1 = hs[0]
    g1 = gL @ model.W2  # ∇_{h1} L
    ga = g1 * (1.0 - h1**2)  # ∇ of the pre-activation
    grads = {"W1": ga.T @ Xa, "b1": ga.sum(axis=0), "W2": gL.T @ h1, "b2": gL.sum(axis=0)}
    return grads, [g1, gL]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


def parameter_gradients(
    model: Model, X: object, s_plus: object, s_minus: object, *, loss: str = "difference", beta: object = 1.0
) -> dict[str, np.ndarray]:
    r"""Analytic :math:`\nabla_\theta\mathcal L` of :func:`preference_loss`, keyed by parameter name (``"W"`` or
    ``"W1", "b1", "W2", "b2"``). Arguments as in :func:`preference_loss`."""
    model = _check_model(model)
    Xa = _inputs(model, X)
    sp_, sm = _pairs(model, Xa.shape[0], s_plus, s_minus)
    return _backward(model, Xa, sp_, sm, loss, _loss_kind(loss, beta))[0]


def gradient_step(
    model: Model,
    X: object,
    s_plus: object,
    s_minus: object,
    eta: object,
    *,
    loss: str = "difference",
    beta: object = 1.0,
) -> Model:
    r"""One gradient-descent step :math:`\theta\leftarrow\theta-\eta\nabla_\theta\mathcal L` (U fixed).

    Args:
        eta: learning rate :math:`\eta>0`; the rest as in :func:`preference_loss`.

    Returns:
        the updated model (a new object).
    """
    model = _check_model(model)
    (e,) = args("gradient_step", scalar=True, eta=eta)
    grads = parameter_gradients(model, X, s_plus, s_minus, loss=loss, beta=beta)
    return replace(model, **{k: getattr(model, k) - e * g for k, g in grads.items()})


def hidden_change(
    model: Model,
    X: object,
    s_plus: object,
    s_minus: object,
    eta: object,
    *,
    layer: int = -1,
    loss: str = "difference",
    beta: object = 1.0,
) -> np.ndarray:
    r"""The actual change :math:`\delta h^{(l)}(q_i)=h^{(l)}_{\theta'}(q_i)-h^{(l)}_\theta(q_i)` after one GD step.

    Args:
        layer: ``0 .. L-1`` or negative from the end (default ``-1``, the final hidden state).

    Returns:
        ``(N, d_l)``.
    """
    model = _check_model(model)
    li = _layer(model, layer)
    new = gradient_step(model, X, s_plus, s_minus, eta, loss=loss, beta=beta)
    return hidden_states(new, X)[li] - hidden_states(model, X)[li]


def steering_prediction(
    model: Model,
    X: object,
    s_plus: object,
    s_minus: object,
    eta: object,
    *,
    layer: int = -1,
    loss: str = "difference",
    beta: object = 1.0,
) -> np.ndarray:
    r"""Proposition 1's prediction (eq. 64): :math:`\delta h^{(l)}(q_i)=-\eta\,\nabla_{h^{(l)}(q_i)}\mathcal L`.

    For the final layer and the ``"difference"`` loss this is :math:`\frac{\eta}{N}U^T(e_{s_i^+}-e_{s_i^-})`.

    Returns:
        ``(N, d_l)``.
    """
    g = _hidden_gradient(model, X, s_plus, s_minus, layer, loss, beta)[3]
    return -args("steering_prediction", scalar=True, eta=eta)[0] * g


def _hidden_gradient(
    model: Model, X: object, s_plus: object, s_minus: object, layer: int, loss: str, beta: object
) -> tuple[Model, np.ndarray, int, np.ndarray]:
    """The checked ``(model, X, layer index)`` and ``∇_{h^(l)(q_i)} L`` of a prediction."""
    model = _check_model(model)
    Xa = _inputs(model, X)
    li = _layer(model, layer)
    sp_, sm = _pairs(model, Xa.shape[0], s_plus, s_minus)
    return model, Xa, li, _backward(model, Xa, sp_, sm, loss, _loss_kind(loss, beta))[1][li]


def hidden_kernel(model: Model, x: object, x2: object, *, layer: int = -1) -> np.ndarray:
    r"""The kernel :math:`J_l(x)J_l(x')^T`, ``(d_l, d_l)``, :math:`J_l=\partial h^{(l)}/\partial\theta`, in closed form.

    * :class:`LinearModel`: :math:`\langle x,x'\rangle I`.
    * :class:`TwoLayerModel`, final layer: :math:`(\langle h_1,h_1'\rangle+1)I+(\langle x,x'\rangle+1)W_2DD'W_2^T`;
      first layer: :math:`(\langle x,x'\rangle+1)DD'`, with :math:`D=\operatorname{diag}(1-h_1(x)^2)`.

    Args:
        x, x2: two prompts, each ``(d0,)``.
    """
    model = _check_model(model)
    Xa, X2 = _inputs(model, x), _inputs(model, x2)
    if Xa.shape[0] != 1 or X2.shape[0] != 1:
        raise ValueError(f"x and x2 must each be one prompt of shape (d0,), got {Xa.shape} and {X2.shape}")
    li = _layer(model, layer)
    return _kernel(model, Xa, X2, li)[0, 0]


def _kernel(model: Model, Xa: np.ndarray, X2: np.ndarray, li: int) -> np.ndarray:
    """All kernels ``K[i, j] = J_l(X[i]) J_l(X2[j])^T``, shape ``(N, N2, d_l, d_l)``."""
    xx = Xa @ X2.T
    if isinstance(model, LinearModel):
        d = model.W.shape[0]
        return xx[:, :, None, None] * np.eye(d)
    D, D2 = 1.0 - hidden_states(model, Xa)[0] ** 2, 1.0 - hidden_states(model, X2)[0] ** 2
    if li == 0:
        return (xx + 1.0)[:, :, None, None] * np.einsum("ik,jk,kl->ijkl", D, D2, np.eye(D.shape[1]))
    h1, h1b = hidden_states(model, Xa)[0], hidden_states(model, X2)[0]
    W2 = model.W2
    mixed = np.einsum("ak,ik,jk,bk->ijab", W2, D, D2, W2)
    return (h1 @ h1b.T + 1.0)[:, :, None, None] * np.eye(W2.shape[0]) + (xx + 1.0)[:, :, None, None] * mixed


def kernel_prediction(
    model: Model,
    X: object,
    s_plus: object,
    s_minus: object,
    eta: object,
    *,
    layer: int = -1,
    loss: str = "difference",
    beta: object = 1.0,
) -> np.ndarray:
    r"""The corrected first-order prediction :math:`\delta h^{(l)}(q_i)=-\eta\sum_jJ_l(q_i)J_l(q_j)^T
    \nabla_{h^{(l)}(q_j)}\mathcal L` (error :math:`O(\eta^2)`); it mixes the prompts of the batch.

    Returns:
        ``(N, d_l)``.
    """
    model, Xa, li, g = _hidden_gradient(model, X, s_plus, s_minus, layer, loss, beta)
    K = _kernel(model, Xa, Xa, li)
    return -args("kernel_prediction", scalar=True, eta=eta)[0] * np.einsum("ijab,jb->ia", K, g)


# ---------------------------------------------------------------------------------------------------------------
# Problems (JSON round trip for pinned counterexamples)
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PreferenceProblem:
    """One instance of Proposition 1's setting: a model, a batch of prompts with preference pairs, a step size.

    Attributes:
        model: :class:`LinearModel` or :class:`TwoLayerModel`.
        X: prompts ``(N, d0)``.
        s_plus, s_minus: ``(N,)`` distinct preferred / dispreferred tokens.
        eta: learning rate ``> 0``.
        loss: ``"difference"`` or ``"dpo"``; beta: DPO temperature ``> 0``.
    """

    model: Model
    X: np.ndarray
    s_plus: np.ndarray
    s_minus: np.ndarray
    eta: float
    loss: str = "difference"
    beta: float = 1.0

    def __post_init__(self) -> None:
        model = _check_model(self.model)
        Xa = _inputs(model, self.X)
        sp_, sm = _pairs(model, Xa.shape[0], self.s_plus, self.s_minus)
        _loss_kind(self.loss, self.beta)
        object.__setattr__(self, "X", Xa)
        object.__setattr__(self, "s_plus", sp_)
        object.__setattr__(self, "s_minus", sm)
        object.__setattr__(self, "eta", args("PreferenceProblem", scalar=True, eta=self.eta)[0])

    def _at(self, fn: Any, eta: float | None, layer: int) -> np.ndarray:
        e = self.eta if eta is None else eta
        return fn(self.model, self.X, self.s_plus, self.s_minus, e, layer=layer, loss=self.loss, beta=self.beta)

    def actual(self, eta: float | None = None, layer: int = -1) -> np.ndarray:
        """The actual hidden-state change after one GD step (at ``eta``, default the problem's)."""
        return self._at(hidden_change, eta, layer)

    def proposition_1(self, eta: float | None = None, layer: int = -1) -> np.ndarray:
        """Proposition 1's prediction ``-η ∇_h L``."""
        return self._at(steering_prediction, eta, layer)

    def corrected(self, eta: float | None = None, layer: int = -1) -> np.ndarray:
        """The corrected prediction ``-η Σ_j J(q_i) J(q_j)^T ∇_{h(q_j)} L``."""
        return self._at(kernel_prediction, eta, layer)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (plain lists and floats) from which :meth:`from_dict` rebuilds the problem."""
        m = self.model
        params = {f.name: np.asarray(getattr(m, f.name)).tolist() for f in fields(m)}
        return {
            "model": type(m).__name__,
            **params,
            "X": self.X.tolist(),
            "s_plus": self.s_plus.tolist(),
            "s_minus": self.s_minus.tolist(),
            "eta": self.eta,
            "loss": self.loss,
            "beta": self.beta,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PreferenceProblem:
        kind = d.get("model")
        if kind not in _MODELS:
            raise ValueError(f"model must be one of {sorted(_MODELS)}, got {kind!r}")
        model = _MODELS[kind](**{f.name: np.asarray(d[f.name], dtype=float) for f in fields(_MODELS[kind])})
        return cls(
            model=model,
            X=np.asarray(d["X"], dtype=float),
            s_plus=np.asarray(d["s_plus"], dtype=int),
            s_minus=np.asarray(d["s_minus"], dtype=int),
            eta=float(d["eta"]),
            loss=d.get("loss", "difference"),
            beta=float(d.get("beta", 1.0)),
        )
