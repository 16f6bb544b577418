r"""Multi-token alignment: Theorem 6 as stated (eq. 72) and its corrected replacement (docs/specification.md §11).

A response of at most :math:`\ell` tokens is generated one token at a time. At every decoding step the next-token
distribution is steered with the same :math:`\|\delta\|=\alpha\lambda` along a step-dependent direction, and the
hard margin :math:`\Delta` of Theorem 1 holds at every step with that step's own projections :math:`z` ("the
assumption of theorem 1 holding in every decoding step"). The response-level score is binary: a response is aligned
iff every one of its tokens is aligned at its step, and :math:`B=P(\text{aligned response})-P(\text{misaligned
response})`.

:class:`ResponseTree` is the exact model: a tree of next-token distributions whose aligned tokens either end the
response or lead to the next step's node. :func:`response_behavior` computes the exact steered response-level
:math:`B` by recursion over the tree (the ground truth both statements are checked against). Only the aligned
prefixes matter: once a misaligned token is emitted the response is misaligned whatever follows, so misaligned tokens
carry no subtree.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import symbols as S
from ._check import (
    as_real,
    broadcast_shape,
    check_closed,
    check_integer,
    check_open,
    check_probability_vector,
    divide_by_product,
    finish,
)
from .statement import Statement, symbol_domains
from .steered import log_steered_distribution

__all__ = [
    "STATEMENTS",
    "ResponseTree",
    "multitoken_threshold",
    "multitoken_threshold_corrected",
    "response_behavior",
]


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

    Every step is steered with the same :math:`\|\delta\|` (along its own direction, docs/specification.md §1):
    :math:`P(\text{misaligned}\mid\text{node})=\sum_{s\in A^-}P_\lambda(s)+\sum_{s\in A^+}P_\lambda(s)\,
    P(\text{misaligned}\mid\text{child}_s)` (0 for tokens that end the response), and :math:`B=1-2P(\text{misaligned})`
    -- computed this way (not as :math:`2P(\text{aligned})-1`) so values close to 1 keep their precision.

    Args:
        tree: the response model.
        norm: :math:`\|\delta\|=\alpha\lambda\ge0` (scalar or array; evaluated element-wise).

    Raises:
        TypeError: ``tree`` is not a :class:`ResponseTree`. ValueError: a negative, NaN or infinite ``norm``.
    """
    if not isinstance(tree, ResponseTree):
        raise TypeError(f"tree must be a ResponseTree, got {type(tree).__name__}")
    nm = check_closed("norm", as_real("norm", norm), 0.0, np.inf)
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
            f"valid: alpha * delta large enough for a finite threshold, got alpha={float(np.ravel(a)[0])}, "
            f"delta={float(np.ravel(d)[0])}"
        )
    return out


def _common(eps: object, ell: object, alpha: object, delta: object) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    e = check_open("eps", as_real("eps", eps), 0.0, 1.0)
    n = check_integer("ell", ell, 1)
    a = check_open("alpha", as_real("alpha", alpha), 0.0, np.inf)
    d = check_open("delta", as_real("delta", delta), 0.0, np.inf)
    return e, n, a, d


def multitoken_threshold(eps: object, B0: object, ell: object, alpha: object, delta: object) -> float | np.ndarray:
    r"""Theorem 6 **as stated** (eq. 72, docs/specification.md §11) -- status ``fails``: the claimed guarantee
    threshold.

    .. math::

        \lambda^{(\ell)}=\max\Big(0,\ \frac{1}{\alpha\Delta}\ln\Big(\frac{1-B_0}{1+B_0}\Big(\frac{\ell}{\epsilon}-1
        \Big)\Big)\Big),\qquad \text{claim: } \lambda\ge\lambda^{(\ell)}\Rightarrow B_{P_\lambda}(q)\ge1-2\epsilon,

    with :math:`B_0` the **response-level** unsteered behavior expectation (the ``max(0, ·)`` makes it the smallest
    :math:`\lambda\ge0` the statement covers).

    .. warning::

        The claim is false for :math:`\ell\ge2`: the proof's step :math:`B_0\le B_0^{(i)}(s_{<i})` fails for
        individual prefixes (an aligned first token can lead to a step where misaligned tokens dominate). The test
        suite finds violations by search; use :func:`multitoken_threshold_corrected`.

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
    e, n, a, d = _common(eps, ell, alpha, delta)
    b0 = check_open("B0", as_real("B0", B0), -1.0, 1.0)
    broadcast_shape({"eps": e, "B0": b0, "alpha": a, "delta": d})
    return finish(_threshold(np.log1p(-b0) - np.log1p(b0), e, n, a, d))


def multitoken_threshold_corrected(
    eps: object, step_B0: object, ell: object, alpha: object, delta: object
) -> float | np.ndarray:
    r"""Theorem 6, corrected (docs/specification.md §11): a threshold that guarantees :math:`B\ge1-2\epsilon`.

    .. math::

        \lambda^{(\ell)}_{\text{corr}}=\max\Big(0,\ \frac{1}{\alpha\Delta}\max_{i,\,s_{<i}}
        \ln\Big(\frac{1-B_0^{(i)}(s_{<i})}{1+B_0^{(i)}(s_{<i})}\Big(\frac{\ell}{\epsilon}-1\Big)\Big)\Big),

    the maximum over the steps :math:`i\le\ell` and the aligned prefixes :math:`s_{<i}` the model can reach, with
    :math:`B_0^{(i)}(s_{<i})` the unsteered per-step behavior after that prefix. Proof: at every reached step
    Theorem 1 gives :math:`P_\lambda(\text{misaligned token})\le\epsilon/\ell`; a response is misaligned at its first
    misaligned token, so :math:`P(\text{misaligned})\le\sum_i(\epsilon/\ell)P(\text{step }i\text{ reached})\le
    \epsilon`. Since the logarithm decreases in :math:`B_0^{(i)}`, the maximum is attained at the smallest
    :math:`B_0^{(i)}`.

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
    e, n, a, d = _common(eps, ell, alpha, delta)
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
        b = check_closed("step_B0", as_real("step_B0", step_B0), -1.0, 1.0)
        if b.ndim == 0:
            b = b[None]
        if b.shape[-1] == 0:
            raise ValueError("step_B0 must hold at least one prefix on its last axis, got an empty axis")
        if (b == -1.0).any():
            raise ValueError(
                "step_B0 must lie in the half-open interval (-1.0, 1.0] (a step with B0^(i) = -1 has no aligned mass; "
                "no steering strength guarantees alignment there), got -1.0"
            )
        with np.errstate(divide="ignore"):
            worst = np.max(np.log1p(-b) - np.log1p(b), axis=-1)
    broadcast_shape({"eps": e, "step_B0[..., 0]": worst, "alpha": a, "delta": d})
    return finish(_threshold(worst, e, n, a, d))


# ---------------------------------------------------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------------------------------------------------
def _theorem_6_violation(ce: Mapping[str, Any]) -> float:
    """``(1 - 2ε) - B`` at ``λ = λ^{(ℓ)} + extra``: how far the claimed guarantee misses on the exact model.

    With ``extra_max`` in ``ce``: the smallest miss over ``λ = λ^{(ℓ)} + x`` for 65 evenly spaced ``x`` in
    ``[extra, extra_max]`` (``> 0``: the guarantee fails at every one of them, not only at the threshold).
    """
    tree = ResponseTree.from_dict(ce["tree"])
    lam = float(multitoken_threshold(ce["eps"], tree.behavior(0.0), ce["ell"], ce["alpha"], ce["delta"]))
    extras = np.linspace(ce["extra"], ce["extra_max"], 65) if "extra_max" in ce else [ce["extra"]]
    return min((1.0 - 2.0 * ce["eps"]) - tree.behavior(ce["alpha"] * (lam + float(x))) for x in extras)


def _lhs(name: str):
    def build() -> object:
        import sympy as sp

        return sp.Symbol(name)

    return build


def _theorem_6_expr() -> object:
    import sympy as sp

    return sp.Max(0, sp.log((1 - S.B0) / (1 + S.B0) * (S.ell / S.eps - 1)) / (S.alpha * S.Delta))


def _theorem_6_corrected_expr() -> object:
    import sympy as sp

    b = S.B0_min
    return sp.Max(0, sp.log((1 - b) / (1 + b) * (S.ell / S.eps - 1)) / (S.alpha * S.Delta))


_T = "tests/test_multitoken.py::"

THEOREM_6 = Statement(
    id="theorem-6",
    name="Multi-token alignment guarantee (as stated)",
    kind="theorem",
    section="§11 (App. K, eqs. 72-78)",
    provenance=("VERBATIM-PROSE", "RECONSTRUCTED-M"),
    statement=(
        "For a reply of at most ell tokens, with Theorem 1's hard margin Delta holding at every decoding step, "
        "lambda >= (1/(alpha Delta)) ln((1 - B0)/(1 + B0) (ell/eps - 1)) implies B >= 1 - 2 eps, where B0 is the "
        "response-level unsteered behavior expectation. FAILS for ell >= 2: the step B0 <= B0^(i)(s_<i) is false "
        "for individual prefixes."
    ),
    paper=r"""
"Let [$\epsilon>0$], a language model, [$B$] behavior scoring function and [$q$] a query, and suppose the model's
reply contains at most [$\ell$] tokens. Under the assumption of theorem 1 holding in every decoding step, for [$r_e\ge
r_e^{(\ell)}$], then:" eq. (72), behavior at least $1-2\epsilon$. The proof takes a union bound over the $\ell$ steps
and uses the claim that "the behavior expectation of the entire response is no larger than the behavior expectation of
each decoding step, [$B_0\le B_0^{(i)}$]".
""",
    reconstruction=r"""
Medium confidence (`RECONSTRUCTED-M`): the threshold is
$r_e^{(\ell)}=\frac{1}{\alpha\Delta}\ln(\frac{1-B_0}{1+B_0}(\frac{\ell}{\epsilon}-1))$ with $B_0$ the response-level
unsteered behavior, from the proof's steps (73–78); inverting it gives the "sigmoid-like" form
$B\ge1-\frac{2\ell}{1+\frac{1+B_0}{1-B_0}e^{\alpha\Delta r_e}}$.
""",
    decision=r"""
The project ships the threshold as stated (`multitoken_threshold`) with status `fails`: $B_0\le B_0^{(i)}(s_{<i})$ is
false for individual prefixes (only an average over prefixes relates to $B_0$), and a search finds a response tree in
which an aligned first token leads to a likely misaligned continuation. The replacement `theorem-6-corrected` takes
the maximum over the reachable aligned prefixes.
""",
    hypotheses=(
        "a response tree of depth <= ell; a response is aligned iff all its tokens are aligned",
        "assumption-2 with margin Delta at every step (own projections per step); both kinds of token at every step",
        "the same ||delta|| = alpha*lambda at every step (assumption-1)",
    ),
    lhs=_lhs("lambda^(ell)"),
    relation="=",
    build=_theorem_6_expr,
    parameters={**symbol_domains("epsilon", "B_0", "ell", "alpha", "Delta")},
    status="fails",
    numeric=multitoken_threshold,
    not_closed_form="a threshold on lambda (max(0, ...)), not a function of lambda",
    evidence=(
        _T + "test_theorem_6_counterexample_found_by_search",
        _T + "test_theorem_6_regression_counterexample",
        _T + "test_theorem_6_nondegenerate_counterexample_found_by_search",
        _T + "test_theorem_6_regression_nondegenerate_counterexample",
        _T + "test_theorem_6_holds_for_single_token_responses",
    ),
    # the simplest counterexample found by tests/test_multitoken.py::test_theorem_6_counterexample_found_by_search
    # (hypothesis' shrunk example, ci profile)
    counterexample={
        "what": (
            "ell = 2, eps = 0.5 (target B >= 0), Delta = 1, alpha = 1: the first step has two aligned tokens (z = 1) "
            "and a misaligned one (z = 0), 1/3 each; after the second aligned token the misaligned continuation has "
            "mass 0.9933. Response-level B0 = -0.662 gives the claimed threshold lambda = 2.692, where "
            "B = -0.0066 < 0; the corrected threshold (6.099) gives B = 0.746"
        ),
        "tree": {
            "p": [1 / 3, 1 / 3, 1 / 3],
            "z": [1.0, 1.0, 0.0],
            "aligned": [True, True, False],
            "children": [
                {"p": [0.5, 0.5], "z": [1.0, 0.0], "aligned": [True, False], "children": [None, None]},
                {
                    "p": [0.006692850924284856, 0.9933071490757153],
                    "z": [1.0, 0.0],
                    "aligned": [True, False],
                    "children": [None, None],
                },
                None,
            ],
        },
        "ell": 2,
        "delta": 1.0,
        "eps": 0.5,
        "alpha": 1.0,
        "extra": 0.0,
    },
    violation=_theorem_6_violation,
    # found by tests/test_multitoken.py::test_theorem_6_nondegenerate_counterexample_found_by_search (ci profile), whose
    # predicate excludes the degenerate cases: Delta >= 1, |B0| <= 1 - 1e-6, eps = 0.1, and B below 1 - 2 eps by at
    # least 0.1 over two units of lambda beyond the threshold, not only at it
    further_counterexamples=(
        {
            "what": (
                "Beyond the degenerate edge: ell = 2, eps = 0.1 (claimed B >= 0.8), Delta = 1, alpha = 1. The first "
                "step has two aligned tokens (z = 1) and a misaligned one (z = 0), 1/3 each; after the first aligned "
                "token the second step is 1/2 aligned, 1/2 misaligned; after the second one its misaligned token has "
                "mass 1/(1 + e^-6) = 0.9975. Response-level B0 = -0.665 gives the claimed threshold lambda* = 4.548. "
                "B stays far below 0.8 on the whole range lambda* to lambda* + 2: it rises from 0.173 to 0.631, so "
                "with the odds grown e^2 = 7.4-fold beyond the claimed threshold the guarantee still misses by "
                "0.169 (21 % of the claim); the violation is the smallest miss over that range. The corrected "
                "threshold (8.944) gives B = 0.950"
            ),
            "tree": {
                "p": [1 / 3, 1 / 3, 1 / 3],
                "z": [1.0, 1.0, 0.0],
                "aligned": [True, True, False],
                "children": [
                    {"p": [0.5, 0.5], "z": [1.0, 0.0], "aligned": [True, False], "children": [None, None]},
                    {
                        "p": [0.0024726231566347748, 0.9975273768433653],
                        "z": [1.0, 0.0],
                        "aligned": [True, False],
                        "children": [None, None],
                    },
                    None,
                ],
            },
            "ell": 2,
            "delta": 1.0,
            "eps": 0.1,
            "alpha": 1.0,
            "extra": 0.0,
            "extra_max": 2.0,
        },
    ),
)

THEOREM_6_CORRECTED = Statement(
    id="theorem-6-corrected",
    name="Multi-token alignment guarantee (corrected)",
    kind="replacement",
    section="§11 [CORRECTED]",
    provenance=("CORRECTED",),
    statement=(
        "Under the hypotheses of theorem-6, lambda >= (1/(alpha Delta)) max_{i, s_<i} ln((1 - B0^(i)(s_<i))/(1 + "
        "B0^(i)(s_<i)) (ell/eps - 1)), the maximum over steps i <= ell and reachable aligned prefixes s_<i, implies "
        "B >= 1 - 2 eps. The maximum is attained at the smallest per-prefix B0^(i) (B_0^min)."
    ),
    paper=r"""
The paper has no such statement: this is the project's replacement for Theorem 6 (eq. 72).
""",
    reconstruction=r"""
`CORRECTED`: derived for this project from the valid part of the paper's proof, the per-step bound (73–75) and the
union bound (76). The response-level score is binary, and a response is aligned iff each of its at most $\ell$ tokens
is aligned at its step.
""",
    decision=r"""
The threshold takes the maximum, over the steps $i\le\ell$ and the aligned prefixes $s_{<i}$ the steered model can
reach (the union bound needs only those), of the per-step threshold with the unsteered per-step behavior
$B_0^{(i)}(s_{<i})$; the maximum is attained at the smallest $B_0^{(i)}$. `multitoken_threshold_corrected` takes a
`ResponseTree` or the per-prefix values. As a threshold with a maximum over prefixes it has no expansion in $\lambda$.
""",
    hypotheses=("the hypotheses of theorem-6",),
    lhs=_lhs("lambda^(ell)_corr"),
    relation="=",
    build=_theorem_6_corrected_expr,
    parameters={**symbol_domains("epsilon", "B_0^min", "ell", "alpha", "Delta")},
    status="holds",
    replaces="theorem-6",
    numeric=multitoken_threshold_corrected,
    not_closed_form="a threshold on lambda with a maximum over steps and prefixes, not a function of lambda",
    evidence=(
        _T + "test_theorem_6_corrected_holds_at_and_beyond_threshold",
        _T + "test_theorem_6_corrected_holds_on_the_pinned_counterexample",
        _T + "test_theorem_6_corrected_per_step_guarantee_holds",
    ),
    nondegenerate="a response of at least two tokens (tree depth >= 2) and a positive threshold, lambda_corr > 0",
    min_instances={
        _T + "test_theorem_6_corrected_holds_at_and_beyond_threshold": 600,
        _T + "test_theorem_6_corrected_per_step_guarantee_holds": 150,
    },
)

STATEMENTS: list[Statement] = [THEOREM_6, THEOREM_6_CORRECTED]
