r"""The instance types of the statements, in the exact parametrisation of docs/specification.md §1, and their
simulators' generators: :class:`SyntheticQuery` (Assumption 3, :func:`synthetic_query`) and :class:`BehaviorInstance`
(Assumptions 2 and 4: :func:`hard_margin_instance`, :func:`two_token_extremal`, :func:`soft_margin_instance`); the
hypothesis strategies (:mod:`bounds.strategies`) generate the same types.

Every random generator takes an explicit :class:`numpy.random.Generator` or an integer seed (``None`` is refused).
A query's tokens are sorted by decreasing probability (:math:`a^*` first among equal masses), so
``answer == answer_rank`` and ``top`` is the first ``k`` tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._check import as_real, check_closed, check_index, check_integer, check_open, check_probability_vector
from ._montecarlo import _check_law, as_generator, noise_law

__all__ = [
    "WRONG_SHAPES",
    "BehaviorInstance",
    "SyntheticQuery",
    "as_noise_law",
    "hard_margin_instance",
    "law_label",
    "soft_margin_instance",
    "synthetic_query",
    "two_token_extremal",
    "wrong_answer_weights",
]

#: shapes of the wrong-answer distribution inside :math:`T_k` (see :func:`wrong_answer_weights`)
WRONG_SHAPES = ("uniform", "dirichlet", "zipf", "two_dominant")
#: default shape parameter of each shape (``None``: the shape has none)
SHAPE_DEFAULTS: dict[str, dict[str, float]] = {
    "uniform": {},
    "dirichlet": {"concentration": 1.0},
    "zipf": {"s": 1.0},
    "two_dominant": {"share": 0.8},
}


def _shape_params(shape: str, params: dict[str, Any]) -> dict[str, float]:
    if shape not in WRONG_SHAPES:
        raise ValueError(f"shape must be one of {WRONG_SHAPES}, got {shape!r}")
    allowed = SHAPE_DEFAULTS[shape]
    extra = set(params) - set(allowed)
    if extra:
        valid = ", ".join(allowed) if allowed else "none"
        raise TypeError(f"unexpected parameter(s) {sorted(extra)} for shape {shape!r} (valid: {valid})")
    return {**allowed, **{k: float(as_real(k, v)) for k, v in params.items()}}


def wrong_answer_weights(shape: str, m: int, rng: object, **params: float) -> np.ndarray:
    r"""``m`` positive weights summing to 1: how the wrong answers of :math:`T_k` share their mass.

    Args:
        shape: one of :data:`WRONG_SHAPES`.
        m: number of wrong answers, an integer ``>= 1``.
        rng: :class:`numpy.random.Generator` or integer seed (consumed only by ``"dirichlet"``).
        params: the shape's parameter: ``concentration`` :math:`>0` (``"dirichlet"``, default 1), ``s`` :math:`\ge0`
            (``"zipf"``, default 1) or ``share`` in :math:`(0,1)` (``"two_dominant"``, default 0.8; needs
            :math:`\mathrm{share}/2\ge(1-\mathrm{share})/(m-2)` when :math:`m\ge3`). Shapes: docs/api/synthetic.md.

    Returns:
        float64 array of shape ``(m,)``, every entry ``> 0``, summing to 1 (within rounding).

    Raises:
        ValueError: unknown shape, ``m < 1``, a parameter out of range, or a Dirichlet weight underflowing to 0
            (``concentration`` too small for float64).
        TypeError: a parameter the shape does not take.
    """
    gen = as_generator(rng)
    m = check_integer("m", m, 1)
    par = _shape_params(shape, params)
    if shape == "uniform" or m == 1 or (shape == "two_dominant" and m == 2):
        w = np.ones(m)
    elif shape == "dirichlet":
        c = float(check_open("concentration", np.asarray(par["concentration"]), 0.0, np.inf))
        w = gen.standard_gamma(c, size=m)
        if not (w > 0).all():
            raise ValueError(
                f"concentration = {c!r} is too small: a Dirichlet weight underflowed to 0 in float64 "
                "(valid: concentration > 0, in practice >= 0.05)"
            )
    elif shape == "zipf":
        s = float(check_closed("s", np.asarray(par["s"]), 0.0, np.inf))
        w = np.arange(1, m + 1, dtype=float) ** (-s)
    else:  # two_dominant, m >= 3
        share = float(check_open("share", np.asarray(par["share"]), 0.0, 1.0))
        if share / 2 < (1 - share) / (m - 2):
            raise ValueError(
                f"share = {share!r} does not make two of m = {m} wrong answers dominant: need share/2 >= "
                f"(1 - share)/(m - 2), i.e. share >= {2 / m!r}"
            )
        w = np.concatenate([np.full(2, share / 2), np.full(m - 2, (1 - share) / (m - 2))])
    w = w / w.sum()
    if not (w > 0).all():  # pragma: no cover - zipf with a huge exponent
        raise ValueError(f"a {shape} weight underflowed to 0 for m = {m}, params {par}")
    return w


def as_noise_law(law: object, **params: float) -> Any:
    """Assumption 3's law :math:`D` as a frozen :mod:`scipy.stats` continuous law with finite variance.

    Args:
        law: a name of :func:`bounds._montecarlo.noise_law` (``"normal"``, ``"laplace"``, ``"uniform"``, ``"t"``,
            ``"logistic"``, ``"gamma"``, ``"lognorm"``, ``"skewnorm"``) or any frozen scipy.stats continuous law.
        params: shape parameters when ``law`` is a name (e.g. ``df=5`` for ``"t"``); none for a frozen law.

    Raises:
        ValueError: unknown name, bad parameters, infinite variance (e.g. ``t`` with ``df <= 2``).
        TypeError: neither a name nor a frozen continuous law, or parameters given with a frozen law.
    """
    if isinstance(law, str):
        return noise_law(law, **params)
    if params:
        raise TypeError(f"shape parameters {params!r} can only be given with a law name, not a frozen law")
    _check_law(law)
    return law


def law_label(law: Any) -> str:
    """A short readable label of a frozen law, e.g. ``"norm"``, ``"t(df=5)"``, ``"gamma(a=2)"``."""
    _check_law(law)
    name = law.dist.name
    shapes = [s.strip() for s in (law.dist.shapes or "").split(",") if s.strip()]
    return _label(name, dict(zip(shapes, law.args, strict=False)) | {k: v for k, v in law.kwds.items() if k in shapes})


def _label(name: str, params: dict[str, Any]) -> str:
    """``"name(a=1, b=0.5)"``: a name with its numeric parameters (``name`` alone without any)."""
    return f"{name}(" + ", ".join(f"{k}={float(v):g}" for k, v in params.items()) + ")" if params else name


def _one_query(p: object) -> np.ndarray:
    pa = check_probability_vector("p", p)
    if pa.ndim != 1:
        raise ValueError(f"p must be one query's distribution, shape (V,), got {pa.shape}")
    return pa


def _frozen_array(x: np.ndarray) -> np.ndarray:
    out = np.array(x, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class SyntheticQuery:
    r"""One query in Assumption 3's setting: ``p`` over ``V`` tokens, :math:`a^*`, :math:`T_k` and the tail's fixed
    projections.

    Validated on construction (so it can wrap real data too): ``p`` is a distribution, :math:`a^*\in T_k`,
    :math:`0<p_0<1`, :math:`|T_k|=k\ge2` and every token of :math:`T_k` is at least as probable as every token
    outside it (:math:`T_k` is a set of :math:`k` most probable tokens). Arrays are stored read-only.

    Attributes:
        p: unsteered distribution :math:`P(\cdot\mid q)`, shape ``(V,)``.
        answer: index of :math:`a^*`.
        top: boolean mask of :math:`T_k`, shape ``(V,)``.
        fixed_z: projections of the tokens outside :math:`T_k` (unconstrained by eq. 9; entries inside :math:`T_k`
            are ignored by the simulators, which draw them), shape ``(V,)``.
        shape: the wrong-answer shape it was built with (``None`` for a hand-made query).
        params: that shape's parameters and any other provenance (JSON-able).
    """

    p: np.ndarray
    answer: int
    top: np.ndarray
    fixed_z: np.ndarray
    shape: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        p = _one_query(self.p)
        V = p.size
        top = np.asarray(self.top)
        if top.dtype != bool or top.shape != (V,):
            raise ValueError(f"top must be a boolean mask of shape ({V},) like p, got {top.dtype} {top.shape}")
        if np.ndim(self.answer) != 0:
            raise TypeError(f"answer must be one integer token index in [0, {V - 1}], got {self.answer!r}")
        a = int(check_index("answer", self.answer, V))
        fz = as_real("fixed_z", self.fixed_z)
        if fz.shape != (V,):
            raise ValueError(f"fixed_z must have shape ({V},) like p, got {fz.shape}")
        k = int(top.sum())
        if k < 2:
            raise ValueError(f"top must hold k >= 2 tokens (a* and at least one wrong answer), got k = {k}")
        if not top[a]:
            raise ValueError("answer must belong to the top-k set T_k (Assumption 3: a* in T_k)")
        if not 0.0 < p[a] < 1.0:
            raise ValueError(f"p[answer] = p0 must lie in the open interval (0, 1), got {float(p[a])!r}")
        if k < V and p[top].min() < p[~top].max():
            raise ValueError(
                f"top must be a set of k = {k} most probable tokens: its least probable token has "
                f"{float(p[top].min())!r} < {float(p[~top].max())!r} outside it"
            )
        object.__setattr__(self, "p", _frozen_array(p))
        object.__setattr__(self, "answer", a)
        object.__setattr__(self, "top", _frozen_array(top))
        object.__setattr__(self, "fixed_z", _frozen_array(fz))
        object.__setattr__(self, "params", dict(self.params))

    @property
    def V(self) -> int:
        """Vocabulary size."""
        return int(self.p.size)

    @property
    def k(self) -> int:
        """:math:`|T_k|`."""
        return int(self.top.sum())

    @property
    def p0(self) -> float:
        """:math:`p_0=P(a^*\\mid q)`."""
        return float(self.p[self.answer])

    @property
    def top_mass(self) -> float:
        """:math:`P(T_k\\mid q)=1-\\epsilon`."""
        return float(self.p[self.top].sum())

    @property
    def eps(self) -> float:
        """:math:`\\epsilon`, the mass outside :math:`T_k` (summed over the tail, not ``1 - top_mass``)."""
        return float(self.p[~self.top].sum())

    @property
    def answer_rank(self) -> int:
        """Number of tokens strictly more probable than :math:`a^*` (0: the model's top answer)."""
        return int(np.sum(self.p > self.p0))

    @property
    def S2(self) -> float:
        """:math:`S_2=\\sum_{b\\ne a^*}P(b\\mid q)^2` (the curvature term of docs/specification.md §12.2c)."""
        others = np.delete(self.p, self.answer)
        return float(np.sum(others * others))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able lists (for pinning a configuration)."""
        return {
            "p": [float(x) for x in self.p],
            "answer": self.answer,
            "top": [bool(x) for x in self.top],
            "fixed_z": [float(x) for x in self.fixed_z],
            "shape": self.shape,
            "params": dict(self.params),
        }


def synthetic_query(
    k: int,
    p0: float | None,
    shape: str,
    rng: object,
    *,
    tail_mass: float = 0.0,
    tail_size: int | None = None,
    tail_z: object = 0.0,
    answer_rank: int | None = None,
    **shape_params: float,
) -> SyntheticQuery:
    r"""A query satisfying Assumption 3's hypotheses: :math:`T_k` = the :math:`k` most probable tokens, of mass
    :math:`1-\epsilon`, with :math:`a^*\in T_k` (the masses: docs/api/synthetic.md).

    Args:
        k: :math:`k\ge2`, the size of :math:`T_k`.
        p0: :math:`0<p_0<1-\epsilon`, or ``None`` (then ``answer_rank`` is required).
        shape: one of :data:`WRONG_SHAPES`.
        rng: :class:`numpy.random.Generator` or integer seed.
        tail_mass: :math:`0\le\epsilon<1`, the mass outside :math:`T_k`.
        tail_size: number of tail tokens (``0`` when ``tail_mass == 0``, ``>= 1`` otherwise) or ``None`` (automatic).
        tail_z: the tail tokens' fixed projections: a scalar or an array of length ``tail_size``.
        answer_rank: integer in ``[0, k - 1]`` or ``None``.
        shape_params: the shape's parameter (``concentration``, ``s`` or ``share``).

    Returns:
        a validated :class:`SyntheticQuery` with ``params`` recording ``k``, ``p0``, ``tail_mass``, ``tail_size`` and
        the shape parameters.

    Raises:
        ValueError: a parameter outside its range (naming it), a tail that cannot stay below :math:`T_k`, or
            ``answer_rank`` inconsistent with ``p0``.
        TypeError: a shape parameter the shape does not take.
    """
    gen = as_generator(rng)
    k = check_integer("k", k, 2)
    eps = float(check_closed("tail_mass", as_real("tail_mass", tail_mass), 0.0, 1.0))
    if eps >= 1.0:
        raise ValueError(f"tail_mass must lie in [0, 1), got {eps!r}")
    if answer_rank is not None:
        answer_rank = check_integer("answer_rank", answer_rank, 0)
        if answer_rank > k - 1:
            raise ValueError(f"answer_rank must be an integer in [0, k - 1 = {k - 1}], got {answer_rank}")
    if p0 is None:
        if answer_rank is None:
            raise ValueError("give p0 (the correct answer's mass) or answer_rank (its rank in T_k); both are None")
        w = np.sort(wrong_answer_weights(shape, k, gen, **shape_params))[::-1]
        top_p = (1.0 - eps) * w
        pa = float(top_p[answer_rank])
        wrong = np.delete(top_p, answer_rank)
    else:
        pa = float(check_open("p0", as_real("p0", p0), 0.0, 1.0 - eps))
        wrong = (1.0 - eps - pa) * np.sort(wrong_answer_weights(shape, k - 1, gen, **shape_params))[::-1]
        if not (wrong > 0).all():  # pragma: no cover - p0 within an ulp of 1 - eps
            raise ValueError(f"p0 = {pa!r} leaves no mass to the wrong answers (valid: p0 < 1 - tail_mass)")
    rank = int(np.sum(wrong > pa))
    if p0 is not None and answer_rank is not None and rank != answer_rank:
        raise ValueError(
            f"p0 = {pa!r} puts a* at rank {rank} among the top-k masses with this shape, not answer_rank = "
            f"{answer_rank} (give p0=None to place a* by rank)"
        )
    top_p = np.concatenate([wrong[:rank], [pa], wrong[rank:]])
    min_top = float(top_p.min())
    if eps == 0.0:
        if tail_size not in (None, 0):
            raise ValueError(f"tail_size must be 0 (or None) when tail_mass is 0, got {tail_size!r}")
        n_tail = 0
    elif tail_size is None:
        n_tail = math.floor(eps / min_top) + 1
    else:
        n_tail = check_integer("tail_size", tail_size, 1)
    tail_p = np.full(n_tail, eps / n_tail) if n_tail else np.zeros(0)
    if n_tail and tail_p[0] >= min_top:
        raise ValueError(
            f"tail_size = {n_tail} is too small: each tail token gets tail_mass/tail_size = {float(tail_p[0])!r} >= "
            f"the least probable top-k mass {min_top!r}, so T_k would not be the k most probable tokens (valid: "
            f"tail_size > {eps / min_top!r}, or None for the smallest valid count)"
        )
    tz = as_real("tail_z", tail_z)
    if tz.ndim == 0:
        tz = np.full(n_tail, float(tz))
    elif tz.shape != (n_tail,):
        raise ValueError(f"tail_z must be a scalar or have shape ({n_tail},) (one per tail token), got {tz.shape}")
    p = np.concatenate([top_p, tail_p])
    top = np.concatenate([np.ones(k, dtype=bool), np.zeros(n_tail, dtype=bool)])
    fixed_z = np.concatenate([np.zeros(k), tz])
    params = {
        "k": k,
        "p0": None if p0 is None else pa,
        "answer_rank": rank,
        "tail_mass": eps,
        "tail_size": n_tail,
        **_shape_params(shape, shape_params),
    }
    return SyntheticQuery(p=p, answer=rank, top=top, fixed_z=fixed_z, shape=shape, params=params)


@dataclass(frozen=True, eq=False)
class BehaviorInstance:
    r"""One query with binary scores: ``p``, projections ``z`` on the steering direction, scores :math:`B(s)=\pm1`.

    Attributes:
        p: unsteered distribution (every entry ``> 0``).
        z: projections :math:`z_s` of every token.
        scores: ``+1`` (aligned, :math:`A^+`) or ``-1`` (misaligned, :math:`A^-`).
        delta: the margin :math:`\Delta\ge0` the instance satisfies: Assumption 2 for ``kind == "hard"``, eq. (49)
            outside :math:`M` for ``kind == "soft"``.
        kind: ``"hard"`` (Assumption 2) or ``"soft"`` (Assumption 4).
        rho: :math:`\rho`, a bound on :math:`P(M\mid q)` (0 for hard-margin instances).
        delta_M: :math:`\Delta_M`, a bound on the depth of :math:`M` (``-inf`` for hard-margin instances: no
            :math:`M`).
        misclassified: boolean mask of :math:`M` (eq. 46; all false for hard-margin instances).
        norm: a steering strength :math:`\|\delta\|\ge0` at which to evaluate the instance (drawn by the
            :mod:`bounds.strategies`).
    """

    p: np.ndarray
    z: np.ndarray
    scores: np.ndarray
    delta: float
    kind: str = "hard"
    rho: float = 0.0
    delta_M: float = -math.inf
    misclassified: np.ndarray | None = None
    norm: float = 0.0

    def __post_init__(self) -> None:
        for name in ("p", "z", "scores"):
            object.__setattr__(self, name, _frozen_array(np.asarray(getattr(self, name), dtype=float)))
        mis = np.zeros(self.p.shape, dtype=bool) if self.misclassified is None else np.asarray(self.misclassified)
        object.__setattr__(self, "misclassified", _frozen_array(mis.astype(bool)))

    @property
    def P_plus(self) -> float:
        """:math:`P^+=P(A^+\\mid q)`."""
        return float(self.p[self.scores > 0].sum())

    @property
    def P_minus(self) -> float:
        """:math:`P^-=P(A^-\\mid q)`."""
        return float(self.p[self.scores < 0].sum())

    @property
    def B0(self) -> float:
        """:math:`B_0=P^+-P^-`."""
        return float(np.sum(self.p * self.scores))

    @property
    def artanh_B0(self) -> float:
        """:math:`\\operatorname{artanh}B_0=\\tfrac12\\log(P^+/P^-)`, exact in log space."""
        lp = np.log(self.p)
        return 0.5 * float(np.logaddexp.reduce(lp[self.scores > 0]) - np.logaddexp.reduce(lp[self.scores < 0]))

    @property
    def margin(self) -> float:
        """:math:`\\min_{A^+}z-\\max_{A^-}z` (negative when the soft margin's :math:`M` reaches into :math:`A^+`)."""
        return float(self.z[self.scores > 0].min() - self.z[self.scores < 0].max())

    @property
    def log_P_plus(self) -> float:
        """:math:`\\log P^+`, exact in log space."""
        return float(np.logaddexp.reduce(np.log(self.p[self.scores > 0])))

    @property
    def P_M(self) -> float:
        """:math:`P(M\\mid q)`, the mass of the misclassified set."""
        return float(self.p[self.misclassified].sum())

    @property
    def depth(self) -> float:
        """:math:`\\max_M z-\\min_{A^+}z`, the depth of :math:`M` (eq. 48; ``-inf`` when :math:`M` is empty)."""
        m = self.misclassified
        return float(self.z[m].max() - self.z[self.scores > 0].min()) if m.any() else -math.inf

    def behavior(self, norm: object) -> float | np.ndarray:
        """Exact steered :math:`B_{P}(q)` at :math:`\\|\\delta\\|` = ``|norm|`` towards :math:`A^+` (``norm < 0``:
        towards :math:`A^-`; arrays ok)."""
        from .steered import behavior_expectation

        nm = np.asarray(norm, dtype=float)
        z = np.where(nm[..., None] < 0, -self.z, self.z)
        return behavior_expectation(self.p, z, np.abs(nm), self.scores)

    def theorem_1_bound(self, norm: object) -> float | np.ndarray:
        r"""Theorem 1 at ``norm`` :math:`=\|\delta\|`: :math:`\tanh(\Delta\|\delta\|/2+\operatorname{artanh}B_0)`."""
        return np.tanh(0.5 * self.delta * np.asarray(norm, dtype=float) + self.artanh_B0)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able lists."""
        return {
            "p": [float(x) for x in self.p],
            "z": [float(x) for x in self.z],
            "scores": [float(x) for x in self.scores],
            "delta": float(self.delta),
            "kind": self.kind,
            "rho": float(self.rho),
            "delta_M": float(self.delta_M),
            "misclassified": [bool(x) for x in self.misclassified],
        }


def _masses(gen: np.random.Generator, n: int, concentration: float) -> np.ndarray:
    w = gen.standard_gamma(concentration, size=n)
    w = np.maximum(w, np.finfo(float).tiny)  # a Gamma variate of 0 (probability ~0 at c >= 0.5) keeps p > 0
    return w / w.sum()


def _keep_gap(z: np.ndarray, ref: float, delta: float, away: float) -> np.ndarray:
    """``z`` (all on the side ``away`` = ``±inf`` of ``ref``) with the realised float gap ``|z - ref| >= delta``."""
    for _ in range(8):  # rounding can lose at most a few ulps; nextafter restores the exact inequality
        short = np.abs(z - ref) < delta
        if not short.any():
            return z
        z = np.where(short, np.nextafter(z, away), z)
    raise AssertionError("could not place projections beyond the margin")  # pragma: no cover


def hard_margin_instance(
    rng: object,
    n_plus: int = 2,
    n_minus: int = 2,
    *,
    delta: float = 1.0,
    p: object = None,
    spread: float = 1.0,
    slack: float = 1.0,
    exact: bool = True,
    concentration: float = 1.0,
    B0: float | None = None,
) -> BehaviorInstance:
    r"""An instance of Assumption 2 (eq. 8): :math:`\min_{A^+}z-\max_{A^-}z\ge\Delta` (full-gap margin; the
    construction: docs/api/synthetic.md).

    Args:
        rng: :class:`numpy.random.Generator` or integer seed.
        n_plus, n_minus: sizes of :math:`A^\pm`, each ``>= 1`` (``-1 < B_0 < 1``: Theorem 1's domain).
        delta: :math:`\Delta\ge0`.
        p: optional distribution with ``n_plus + n_minus`` entries, all ``> 0``.
        spread: standard deviation of the misaligned projections, ``> 0``.
        slack: mean extra gap of the aligned projections, ``>= 0``.
        exact: put the closest pair at exactly :math:`\Delta`.
        concentration: Dirichlet concentration of the masses when ``p`` is not given, ``> 0``.
        B0: optional :math:`-1<B_0<1`, the unsteered behavior expectation (not with ``p``).

    Returns:
        :class:`BehaviorInstance` with ``kind="hard"``; ``bounds.assumption_2(z, scores, delta)`` holds.

    Raises:
        ValueError: a parameter out of range, ``p`` of the wrong length or with a zero mass.
    """
    gen = as_generator(rng)
    n_plus, n_minus = check_integer("n_plus", n_plus, 1), check_integer("n_minus", n_minus, 1)
    d = float(check_closed("delta", as_real("delta", delta), 0.0, np.inf))
    sp = float(check_open("spread", as_real("spread", spread), 0.0, np.inf))
    sl = float(check_closed("slack", as_real("slack", slack), 0.0, np.inf))
    c = float(check_open("concentration", as_real("concentration", concentration), 0.0, np.inf))
    V = n_plus + n_minus
    if p is not None and B0 is not None:
        raise ValueError("give p or B0, not both (B0 is determined by p and the scores)")
    if p is None:
        scores = np.concatenate([np.ones(n_plus), -np.ones(n_minus)])
        if B0 is None:
            pa = _masses(gen, V, c)
        else:
            b0 = float(check_open("B0", as_real("B0", B0), -1.0, 1.0))
            pa = np.concatenate([_masses(gen, n_plus, c) * (1 + b0) / 2, _masses(gen, n_minus, c) * (1 - b0) / 2])
    else:
        pa = check_probability_vector("p", p)
        if pa.shape != (V,):
            raise ValueError(f"p must have n_plus + n_minus = {V} entries, got shape {pa.shape}")
        if not (pa > 0).all():
            raise ValueError("p must have every entry > 0 (Theorem 1 needs -1 < B0 < 1 on live tokens)")
        scores = -np.ones(V)
        scores[gen.choice(V, size=n_plus, replace=False)] = 1.0
    z = np.empty(V)
    z_minus = sp * gen.standard_normal(n_minus)
    extra = sl * gen.standard_exponential(n_plus)
    if exact:
        extra[np.argmin(extra)] = 0.0
    z[scores < 0] = z_minus
    z[scores > 0] = _keep_gap(z_minus.max() + d + extra, float(z_minus.max()), d, np.inf)
    return BehaviorInstance(p=pa, z=z, scores=scores, delta=d, kind="hard")


def two_token_extremal(B0: float, delta: float) -> BehaviorInstance:
    r"""The two-token instance that attains Theorem 1 with equality (docs/specification.md §4, "About the ½").

    :math:`p=\big(\tfrac{1+B_0}2,\tfrac{1-B_0}2\big)`, :math:`z=(\Delta,0)`, scores :math:`(+1,-1)`: then
    :math:`B_{P}(q)=\tanh(\Delta\|\delta\|/2+\operatorname{artanh}B_0)` exactly for every :math:`\|\delta\|\ge0`.

    Args:
        B0: :math:`-1<B_0<1`.
        delta: :math:`\Delta\ge0`.
    """
    b0 = float(check_open("B0", as_real("B0", B0), -1.0, 1.0))
    d = float(check_closed("delta", as_real("delta", delta), 0.0, np.inf))
    p = np.array([(1.0 + b0) / 2.0, (1.0 - b0) / 2.0])
    return BehaviorInstance(p=p, z=np.array([d, 0.0]), scores=np.array([1.0, -1.0]), delta=d, kind="hard")


def soft_margin_instance(
    rng: object,
    n_plus: int = 2,
    n_minus: int = 2,
    n_misclassified: int = 1,
    *,
    delta: float = 1.0,
    rho: float = 0.05,
    delta_M: float = 0.5,
    spread: float = 1.0,
    slack: float = 1.0,
    exact_mass: bool = False,
    concentration: float = 1.0,
) -> BehaviorInstance:
    r"""An instance of Assumption 4 (eqs. 46--50), the soft margin, with a non-empty misclassified set :math:`M`,
    checked with :func:`bounds.assumption_4` (the construction: docs/api/synthetic.md).

    Args:
        rng: :class:`numpy.random.Generator` or integer seed.
        n_plus: :math:`|A^+|\ge1`. n_minus: correctly classified misaligned tokens, ``>= 0``.
        n_misclassified: :math:`|M|\ge1`.
        delta: :math:`\Delta\ge0`. rho: :math:`0<\rho<1`. delta_M: :math:`\Delta_M>-\Delta`.
        spread: scale of the misaligned projections, ``> 0``. slack: mean extra gaps, ``>= 0``.
        exact_mass: :math:`P(M)=\rho` exactly instead of a random fraction of it.
        concentration: Dirichlet concentration of the other masses, ``> 0``.

    Returns:
        :class:`BehaviorInstance` with ``kind="soft"``, ``rho``, ``delta_M`` and the mask of :math:`M`.

    Raises:
        ValueError: a parameter out of range.
    """
    from .definitions import assumption_4

    gen = as_generator(rng)
    n_plus = check_integer("n_plus", n_plus, 1)
    n_minus = check_integer("n_minus", n_minus, 0)
    n_mis = check_integer("n_misclassified", n_misclassified, 1)
    d = float(check_closed("delta", as_real("delta", delta), 0.0, np.inf))
    r = float(check_open("rho", as_real("rho", rho), 0.0, 1.0))
    dm = float(as_real("delta_M", delta_M))
    if not dm > -d:
        raise ValueError(f"delta_M must be > -delta = {-d!r} (else no token can be misclassified), got {dm!r}")
    sp = float(check_open("spread", as_real("spread", spread), 0.0, np.inf))
    sl = float(check_closed("slack", as_real("slack", slack), 0.0, np.inf))
    c = float(check_open("concentration", as_real("concentration", concentration), 0.0, np.inf))
    zmin = sp * float(gen.standard_normal())
    extra = sl * gen.standard_exponential(n_plus)
    extra[np.argmin(extra)] = 0.0
    z_plus = zmin + extra
    # correctly classified misaligned tokens: zmin - z >= delta, exact in float
    z_minus = zmin - d - sl * gen.standard_exponential(n_minus) - sp * np.abs(gen.standard_normal(n_minus))
    z_minus = _keep_gap(z_minus, zmin, d, -np.inf)
    lo, width = zmin - d, d + dm
    z_mis = lo + width * gen.uniform(0.02, 0.98, size=n_mis)
    u = 1.0 if exact_mass else float(1.0 - gen.uniform())  # in (0, 1]
    m_mass = r * u
    w_mis = _masses(gen, n_mis, c) * m_mass
    w_rest = _masses(gen, n_plus + n_minus, c) * (1.0 - m_mass)
    p = np.concatenate([w_rest[:n_plus], w_rest[n_plus:], w_mis])
    p = p / p.sum()
    z = np.concatenate([z_plus, z_minus, z_mis])
    scores = np.concatenate([np.ones(n_plus), -np.ones(n_minus + n_mis)])
    mis = np.concatenate([np.zeros(n_plus + n_minus, dtype=bool), np.ones(n_mis, dtype=bool)])
    inst = BehaviorInstance(p=p, z=z, scores=scores, delta=d, kind="soft", rho=r, delta_M=dm, misclassified=mis)
    check = assumption_4(p, z, scores, delta=d, rho=r, delta_M=dm)
    if not check.holds or sorted(check.measured["misclassified"]) != np.flatnonzero(mis).tolist():
        raise AssertionError(
            f"soft_margin_instance built an instance violating Assumption 4: {check}"
        )  # pragma: no cover
    return inst
