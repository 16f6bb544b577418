r"""Multi-token alignment: Theorem 6 as stated (eq. 72) and its corrected replacement (docs/specification.md §11).

:class:`ResponseTree` is the exact model of a response of at most :math:`\ell` tokens, the ground truth both statements
are checked against (:func:`response_behavior`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._check import args, as_real, broadcast_shape, check_probability_vector, divide_by_product, finish, first
from .steered import log_steered_distribution


# ---------------------------------------------------------------------------------------------------------------
# The exact multi-token model
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ResponseTree:
    r"""One decoding step after an aligned prefix, and (recursively) every aligned continuation of it.

    Attributes:
        p: the unsteered next-token distribution at this step (entries ``>= 0`` summing to 1 within 1e-8).
        z: the projections ``z_s`` of the step's tokens on this step's steering direction (finite reals).
        aligned: per token, ``True`` if it is aligned (score +1 at this step), ``False`` if misaligned.
        children: per token, the next step's :class:`ResponseTree` after emitting it, or ``None`` when the token
            ends the response. Misaligned tokens must have ``None``: the response is misaligned whatever follows.

    Raises:
        ValueError / TypeError: inconsistent lengths, a bad distribution, non-finite ``z``, a subtree under a
        misaligned token, or a child that is not a :class:`ResponseTree`.
    """

    p: np.ndarray
    z: np.ndarray
    aligned: np.ndarray
    children: tuple[ResponseTree | None, ...] = field(default=())

    def __post_init__(self) -> None:
        p = check_probability_vector("p", self.p)
        if p.ndim != 1:
            raise ValueError(f"p must be one distribution (1-D), got shape {p.shape}")
        z = as_real("z", self.z)
        if z.shape != p.shape:
            raise ValueError(f"z must have the shape of p {p.shape}, got {z.shape}")
        try:
            al = np.asarray(self.aligned)
        except ValueError as exc:  # a ragged sequence
            msg = f"aligned must be a boolean array of the shape of p {p.shape}, got {self.aligned!r}"
            raise ValueError(msg) from exc
        if al.dtype != bool or al.shape != p.shape:
            raise ValueError(f"aligned must be a boolean array of the shape of p {p.shape}, got {al.dtype} {al.shape}")
        try:
            children = tuple(self.children) if len(self.children) else (None,) * p.size
        except TypeError as exc:  # not a sequence
            raise TypeError(
                f"children must be a sequence of one ResponseTree or None per token, got {type(self.children).__name__}"
            ) from exc
        if len(children) != p.size:
            raise ValueError(f"children must have one entry per token ({p.size}), got {len(children)}")
        for i, c in enumerate(children):
            if c is not None and not isinstance(c, ResponseTree):
                raise TypeError(f"children[{i}] must be a ResponseTree or None, got {type(c).__name__}")
            if c is not None and not al[i]:
                raise ValueError(f"children[{i}]: a misaligned token ends the response's alignment; give it None")
        object.__setattr__(self, "p", p)
        object.__setattr__(self, "z", z)
        object.__setattr__(self, "aligned", al)
        object.__setattr__(self, "children", children)

    # -- structure ---------------------------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        """The largest number of tokens in a response (1 for a single step)."""
        return 1 + max((c.depth for c in self.children if c is not None), default=0)

    def nodes(self) -> Iterator[ResponseTree]:
        """Every step reachable by an aligned prefix (children behind tokens of probability 0 are unreachable)."""
        yield self
        for pi, c in zip(self.p, self.children, strict=True):
            if c is not None and pi > 0:
                yield from c.nodes()

    @property
    def log_odds_misaligned(self) -> float:
        r"""This step's :math:`\log(P^-_i/P^+_i)=\log\frac{1-B_0^{(i)}}{1+B_0^{(i)}}` in log space (may be ``±inf``)."""
        with np.errstate(divide="ignore"):
            lp = np.log(self.p)
        lneg = np.logaddexp.reduce(lp[~self.aligned]) if (~self.aligned).any() else -np.inf
        lpos = np.logaddexp.reduce(lp[self.aligned]) if self.aligned.any() else -np.inf
        if lpos == -np.inf:
            return np.inf
        return float(lneg - lpos)

    @property
    def step_B0(self) -> float:
        """Unsteered per-step behavior expectation :math:`B_0^{(i)}=P^+_i-P^-_i` of this step."""
        return float(self.p[self.aligned].sum() - self.p[~self.aligned].sum())

    @property
    def margin(self) -> float:
        """This step's realised margin ``min_{aligned} z - max_{misaligned} z`` (``inf`` without misaligned tokens)."""
        if not (~self.aligned).any():
            return np.inf
        if not self.aligned.any():
            return -np.inf
        return float(self.z[self.aligned].min() - self.z[~self.aligned].max())

    def min_margin(self) -> float:
        """The margin that holds at every reachable step (Theorem 1's assumption in every decoding step)."""
        return min(n.margin for n in self.nodes())

    # -- the exact steered response-level behavior ---------------------------------------------------------------
    def misaligned_probability(self, norm: float) -> float:
        """Exact ``P(misaligned response)`` when every step is steered with ``‖δ‖ = norm`` towards its aligned side."""
        q = np.exp(log_steered_distribution(self.p, self.z, norm))
        total = float(q[~self.aligned].sum())
        for qi, c in zip(q, self.children, strict=True):
            if c is not None and qi > 0:
                total += qi * c.misaligned_probability(norm)
        return total

    def behavior(self, norm: float) -> float:
        r"""Exact response-level :math:`B=P(\text{aligned})-P(\text{misaligned})=1-2P(\text{misaligned})`."""
        return 1.0 - 2.0 * self.misaligned_probability(norm)

    # -- JSON -----------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able nested dict: ``{"p": [...], "z": [...], "aligned": [...], "children": [... | None]}``."""
        return {
            "p": [float(v) for v in self.p],
            "z": [float(v) for v in self.z],
            "aligned": [bool(v) for v in self.aligned],
            "children": [None if c is None else c.to_dict() for c in self.children],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ResponseTree:
        """Inverse of :meth:`to_dict`."""
        children = d.get("children") or [None] * len(d["p"])
        return cls(
            p=np.asarray(d["p"], dtype=float),
            z=np.asarray(d["z"], dtype=float),
            aligned=np.asarray(d["aligned"], dtype=bool),
            children=tuple(None if c is None else cls.from_dict(c) for c in children),
        )


def response_behavior(tree: ResponseTree, norm: object) -> float | np.ndarray:
    r"""Exact steered response-level behavior :math:`B_{P_\lambda}(q)` of a :class:`ResponseTree`.

    Every step is steered with the same :math:`\|\delta\|` along its own direction; :math:`P(\text{misaligned})` is
    summed over the tree and :math:`B=1-2P(\text{misaligned})`, so values close to 1 keep their precision.

    Args:
        tree: the response model.
        norm: :math:`\|\delta\|=\alpha\lambda\ge0` (scalar or array; evaluated element-wise).

    Raises:
        TypeError: ``tree`` is not a :class:`ResponseTree`. ValueError: a negative, NaN or infinite ``norm``.
    """
    if not isinstance(tree, ResponseTree):
        raise TypeError(f"tree must be a ResponseTree, got {type(tree).__name__}")
    (nm,) = args("response_behavior", norm=norm)
    out = np.vectorize(tree.behavior, otypes=[float])(nm)
    return finish(out)


# ---------------------------------------------------------------------------------------------------------------
# Thresholds
# ---------------------------------------------------------------------------------------------------------------
def _threshold(log_odds: np.ndarray, e: np.ndarray, ell: int, a: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``max(0, (log_odds + log(ℓ/ε - 1)) / (αΔ))`` in log space, refusing a result beyond the float64 range."""
    # ℓ beyond float64 (a Python int): log(ℓ - ε) = log ℓ to float64 precision, without converting ℓ to float
    log_ell_minus_e = np.log(ell - e) if ell < 2**1000 else np.full(np.shape(e), math.log(ell))
    # log space where α Δ under/overflows (e.g. α = 1e-310, Δ = 1e300 is α Δ = 1e-10, not a float64 overflow)
    out = np.maximum(0.0, divide_by_product(log_odds + log_ell_minus_e - np.log(e), a, d))
    if not np.isfinite(out).all():
        raise ValueError(
            "alpha * delta is too small: the threshold log(...)/(alpha*delta) exceeds the float64 range (1.8e308); "
            f"valid: alpha * delta large enough for a finite threshold, got alpha={first(a)}, delta={first(d)}"
        )
    return out


def multitoken_threshold(eps: object, B0: object, ell: object, alpha: object, delta: object) -> float | np.ndarray:
    r"""Theorem 6 **as stated** (eq. 72, docs/specification.md §11) -- status ``fails``: the claimed guarantee
    threshold.

    .. math::

        \lambda^{(\ell)}=\max\Big(0,\ \frac{1}{\alpha\Delta}\ln\Big(\frac{1-B_0}{1+B_0}\Big(\frac{\ell}{\epsilon}-1
        \Big)\Big)\Big),\qquad \text{claim: } \lambda\ge\lambda^{(\ell)}\Rightarrow B_{P_\lambda}(q)\ge1-2\epsilon,

    with :math:`B_0` the **response-level** unsteered behavior expectation.

    .. warning::

        The claim is false for :math:`\ell\ge2` (§11: :math:`B_0\le B_0^{(i)}(s_{<i})` fails for individual
        prefixes); use :func:`multitoken_threshold_corrected`.

    Args:
        eps: :math:`0<\epsilon<1`.
        B0: response-level unsteered :math:`-1<B_0<1`.
        ell: maximal response length, an integer :math:`\ell\ge1`.
        alpha: :math:`\alpha>0`.
        delta: :math:`\Delta>0`, the per-step margin.

    Raises:
        ValueError: a parameter outside its domain, or a threshold beyond the float64 range.
        TypeError: non-numeric input or a non-integer ``ell``.
    """
    e, b0, n, a, d = args("multitoken_threshold", eps=eps, B0=B0, ell=ell, alpha=alpha, delta=delta)
    return finish(_threshold(np.log1p(-b0) - np.log1p(b0), e, n, a, d))


def multitoken_threshold_corrected(
    eps: object, step_B0: object, ell: object, alpha: object, delta: object
) -> float | np.ndarray:
    r"""Theorem 6, corrected (docs/specification.md §11): a threshold that guarantees :math:`B\ge1-2\epsilon`.

    .. math::

        \lambda^{(\ell)}_{\text{corr}}=\max\Big(0,\ \frac{1}{\alpha\Delta}\max_{i,\,s_{<i}}
        \ln\Big(\frac{1-B_0^{(i)}(s_{<i})}{1+B_0^{(i)}(s_{<i})}\Big(\frac{\ell}{\epsilon}-1\Big)\Big)\Big),

    the maximum over the steps :math:`i\le\ell` and the aligned prefixes :math:`s_{<i}` the model can reach, with
    :math:`B_0^{(i)}(s_{<i})` the unsteered per-step behavior after that prefix (attained at the smallest one).

    Args:
        eps: :math:`0<\epsilon<1`.
        step_B0: either a :class:`ResponseTree` (its reachable steps are enumerated and their odds taken in log
            space, exact even when :math:`B_0^{(i)}` rounds to :math:`\pm1`; ``ell`` must be at least its depth), or
            the per-prefix values :math:`B_0^{(i)}(s_{<i})\in(-1,1]` as an array whose **last axis** runs over the
            prefixes (leading axes broadcast with the other parameters). :math:`B_0^{(i)}=1` (no misaligned token at
            that step) contributes nothing.
        ell: maximal response length, an integer :math:`\ell\ge1`.
        alpha: :math:`\alpha>0`.
        delta: :math:`\Delta>0`, the margin holding at every step.

    Returns:
        the smallest :math:`\lambda\ge0` covered (0 when every step already meets :math:`1-\epsilon/\ell`).

    Raises:
        ValueError: a parameter outside its domain; a tree deeper than ``ell``; a reachable step without aligned mass
            (no steering strength can then guarantee anything); an empty prefix axis; a threshold beyond float64.
        TypeError: non-numeric input or a non-integer ``ell``.
    """
    e, n, a, d = args("multitoken_threshold_corrected", eps=eps, ell=ell, alpha=alpha, delta=delta, broadcast=False)
    if isinstance(step_B0, ResponseTree):
        if step_B0.depth > n:
            raise ValueError(f"ell must be at least the depth of the response tree ({step_B0.depth}), got {n}")
        odds = np.array([node.log_odds_misaligned for node in step_B0.nodes()])
        if (odds == np.inf).any():
            raise ValueError(
                "step_B0: a reachable step has no aligned mass (B0^(i) = -1); no steering strength guarantees "
                "alignment there (valid: P+ > 0 at every reachable step)"
            )
        worst = np.asarray(odds.max())
    else:
        # B0^(i) = -1: a step without aligned mass, where no steering strength guarantees alignment
        (b,) = args("multitoken_threshold_corrected", step_B0=step_B0)
        if b.ndim == 0:
            b = b[None]
        if b.shape[-1] == 0:
            raise ValueError("step_B0 must hold at least one prefix on its last axis, got an empty axis")
        with np.errstate(divide="ignore"):
            worst = np.max(np.log1p(-b) - np.log1p(b), axis=-1)
    broadcast_shape({"eps": e, "step_B0[..., 0]": worst, "alpha": a, "delta": d})
    return finish(_threshold(worst, e, n, a, d))
