r"""The Monte-Carlo engine of Assumption 3 (docs/specification.md §6, §7, §12.2), numpy and torch backends.

:func:`simulate_helpfulness` studies one query, :func:`evaluate_draws` gives per-draw values for given projections,
:func:`measure_throughput` times a run; :func:`theorem_2_frequency`, :func:`corollary_3_frequency`,
:func:`expected_helpfulness` and :func:`event_probability` test one claim on a plain distribution. Realisations,
token-draws and the backends' random streams: docs/api/simulate.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._check import as_real, check_index, check_integer, check_open, check_probability_vector
from ._montecarlo import (
    Estimate,
    _check_law,
    _scalar,
    as_generator,
    frequency,
    mean_estimate,
    sample_projections,
)
from .errors import MissingPackageError, ParameterError
from .helpfulness import (
    RTOL,
    _limit,
    _log_event,
    _log_factor_6,
    _log_jensen,
    _log_odds_6,
    _sides,
    _top_mask,
    helpfulness_expectation_p,
    helpfulness_quantities,
)
from .steered import helpfulness, log_steered_distribution
from .synthetic import SyntheticQuery, _one_query, as_noise_law, law_label

__all__ = [
    "BACKENDS",
    "NOISE_MODES",
    "DrawResults",
    "HelpfulnessSimulation",
    "ProbabilityStudy",
    "corollary_3_frequency",
    "evaluate_draws",
    "event_probability",
    "expected_helpfulness",
    "measure_throughput",
    "resolve_device",
    "simulate_helpfulness",
    "theorem_2_frequency",
    "torch_available",
]

BACKENDS = ("numpy", "torch")
#: ``"top_k"``: noise on :math:`T_k` only (Assumption 3, Theorem 2); ``"all"``: every token (§12.2c, Corollary 2)
NOISE_MODES = ("top_k", "all")
#: default bound on the float64 entries of one ``(draws, grid, vocabulary)`` block: 8 MiB on a CPU (cache-friendly),
#: 256 MiB on a CUDA device (large kernels; a few temporaries of this size stay far below a GPU's memory)
MAX_ELEMENTS = 1 << 20
MAX_ELEMENTS_CUDA = 1 << 25
_NAN = "NaN in the simulation: alpha*|lam|*|z| overflows float64 (reduce the grid or alpha)"
#: scipy families with a native torch sampler, and the mean and sd of the standard member drawn
_NATIVE = {
    "norm": (0.0, 1.0),
    "uniform": (0.5, math.sqrt(1.0 / 12.0)),
    "laplace": (0.0, math.sqrt(2.0)),
    "logistic": (0.0, math.pi / math.sqrt(3.0)),
}


def torch_available() -> bool:
    """Whether :mod:`torch` can be imported (it is optional for :mod:`bounds`)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_device(backend: str, device: object = None) -> str:
    """The device string a backend runs on: ``"cpu"`` for numpy; for torch ``device`` or, when ``None``,
    ``"cuda"`` if available else ``"cpu"``.

    Raises:
        bounds.errors.ParameterError: (a ``ValueError``) unknown backend, a non-CPU device for numpy, a malformed
            device string, an unavailable CUDA device.
        bounds.errors.MissingPackageError: (a ``ModuleNotFoundError``) ``backend="torch"`` without torch installed.
    """
    if backend not in BACKENDS:
        raise ParameterError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "numpy":
        if device not in (None, "cpu"):
            raise ParameterError(f"device must be None or 'cpu' for the numpy backend, got {device!r}")
        return "cpu"
    try:
        import torch
    except ImportError as exc:
        raise MissingPackageError("backend='torch' needs torch (pip install torch); use backend='numpy'") from exc
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:  # torch's message for a malformed device string
        raise ParameterError(
            f"device must be a torch device such as 'cpu', 'cuda' or 'cuda:0', got {device!r}"
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"device {device!r} requested but CUDA is not available (valid: 'cpu' or None)")
    return str(dev)


class _NumpyOps:
    """The array namespace of the engine (and of the :mod:`bounds.helpfulness` kernels) on numpy."""

    name = "numpy"
    device = "cpu"
    log, exp, abs, logaddexp, minimum = np.log, np.exp, np.abs, np.logaddexp, np.minimum  # ufuncs: not bound
    where, sum = staticmethod(np.where), staticmethod(np.sum)

    def f64(self, x: object) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)

    def bool_(self, x: object) -> np.ndarray:
        return np.asarray(x, dtype=bool)

    @staticmethod
    def tilted_logsumexp(logp: np.ndarray, al: np.ndarray, d: np.ndarray) -> np.ndarray:
        """``logsumexp_s(logp_s + al_g d_ns)`` of shape (n, G), in place on one (n, G, W) buffer."""
        x = np.multiply(al[None, :, None], d[:, None, :])
        x += logp
        m = np.max(x, axis=-1, keepdims=True)
        x -= m
        np.exp(x, out=x)
        return m[..., 0] + np.log(np.sum(x, axis=-1))

    @staticmethod
    def reduce(op: str, x: Any, axis: int) -> Any:
        """``op`` (``"sum"``, ``"max"``, ``"all"``, ``"any"``) along ``axis``."""
        return getattr(np, op)(x, axis=axis)

    @staticmethod
    def numpy(x: Any) -> np.ndarray:
        return np.asarray(x)


class _TorchOps:
    """The same namespace on a torch device (python floats become float64 tensors where torch needs tensors)."""

    name = "torch"

    def __init__(self, device: str) -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.log, self.exp, self.abs, self.where, self.sum = torch.log, torch.exp, torch.abs, torch.where, torch.sum

    def f64(self, x: object) -> Any:
        if isinstance(x, self.torch.Tensor):
            return x.to(device=self.device, dtype=self.torch.float64)
        return self.torch.as_tensor(np.asarray(x, dtype=np.float64), device=self.device)

    def bool_(self, x: object) -> Any:
        return self.torch.as_tensor(np.asarray(x, dtype=bool), device=self.device)

    def logaddexp(self, a: Any, b: Any) -> Any:
        return self.torch.logaddexp(self.f64(a), self.f64(b))

    def minimum(self, a: Any, b: Any) -> Any:
        return self.torch.minimum(self.f64(a), self.f64(b))

    def tilted_logsumexp(self, logp: Any, al: Any, d: Any) -> Any:
        return self.torch.logsumexp(logp + al[None, :, None] * d[:, None, :], dim=-1)

    def reduce(self, op: str, x: Any, axis: int) -> Any:
        return getattr(self.torch, "amax" if op == "max" else op)(x, dim=axis)

    @staticmethod
    def numpy(x: Any) -> np.ndarray:
        return x.detach().cpu().numpy()


def _ops(backend: str, device: object) -> _NumpyOps | _TorchOps:
    dev = resolve_device(backend, device)
    return _NumpyOps() if backend == "numpy" else _TorchOps(dev)


@dataclass(frozen=True)
class _Prepared:
    """The query restricted to tokens of positive mass (zero-mass tokens play no role: docs/specification.md §1)."""

    keep: np.ndarray  # (V,) tokens with p > 0
    p: np.ndarray  # (W,)
    logp_rel: np.ndarray  # log p_s - log p0
    answer: int
    wrong: np.ndarray  # T_k without a*
    noised: np.ndarray  # tokens that receive noise
    fixed: np.ndarray  # fixed projections (noised entries ignored)
    p0: float
    log_p0: float
    log_odds: float  # log((1 - p0)/p0)
    log_top_mass: float


def _prepare(query: SyntheticQuery, noise: str) -> _Prepared:
    if not isinstance(query, SyntheticQuery):
        raise TypeError(f"query must be a bounds.synthetic.SyntheticQuery, got {type(query).__name__}")
    if noise not in NOISE_MODES:
        raise ParameterError(f"noise must be one of {NOISE_MODES}, got {noise!r}")
    keep = query.p > 0
    p = query.p[keep]
    answer = int(np.sum(keep[: query.answer]))
    top = query.top[keep]
    wrong = top.copy()
    wrong[answer] = False
    noised = top.copy() if noise == "top_k" else np.ones(p.size, dtype=bool)
    p0 = float(p[answer])
    others = float(np.sum(np.delete(p, answer)))
    return _Prepared(
        keep=keep,
        p=p,
        logp_rel=np.log(p) - math.log(p0),
        answer=answer,
        wrong=wrong,
        noised=noised,
        fixed=np.asarray(query.fixed_z[keep], dtype=float),
        p0=p0,
        log_p0=math.log(p0),
        log_odds=math.log(others) - math.log(p0),
        log_top_mass=math.log(float(np.sum(p[top]))),
    )


@np.errstate(divide="ignore", over="ignore", invalid="ignore")  # the callers check for NaN
def _core(xp: Any, z: Any, c: _Prepared, al: Any, nonneg: Any) -> dict[str, Any]:
    """Per-draw quantities (the fields of :class:`DrawResults`) for projections ``z`` (n, W) on the grid ``al`` =
    :math:`\\alpha\\lambda` (G,); NaN where ``al * z`` overflows."""
    p = xp.f64(c.p)
    d = z - z[:, c.answer : c.answer + 1]  # z_s - z_a*, steering +
    pos, neg, P_plus, P_minus, S_plus, S_minus, D_plus, D_minus, gamma = _sides(p, d, xp.bool_(c.wrong), 1.0 - c.p0, xp)
    min_D = xp.minimum(D_plus, D_minus)  # beta * sigma
    # exact log H on the grid, (n, G): log p0 - logsumexp_s(log p_s + alpha lam (z_s - z_a*))
    logH = -xp.tilted_logsumexp(xp.f64(c.logp_rel), al, d)
    t = xp.abs(al)[None, :]  # ||delta||
    # eq. (6) with x = alpha beta sigma lam = ||delta|| min(D+, D-)
    log6 = -xp.logaddexp(0.0, _log_odds_6(xp.log(gamma)[:, None] + c.log_odds, t * min_D[:, None], xp))
    # B+- and X+- for the sign of each lambda (lambda < 0 swaps the two sets)
    nn = nonneg[None, :]
    Pp = xp.where(nn, P_plus[:, None], P_minus[:, None])
    Pm = xp.where(nn, P_minus[:, None], P_plus[:, None])
    Dp = xp.where(nn, D_plus[:, None], D_minus[:, None])
    Dm = xp.where(nn, D_minus[:, None], D_plus[:, None])
    log_Pp = xp.log(Pp)
    L = S_plus - S_minus
    any_pos, any_neg = xp.reduce("any", pos, 1), xp.reduce("any", neg, 1)
    q = {
        "log_H": logH,
        "log_bound_6": log6,
        "log_jensen": _log_jensen(c.log_p0, log_Pp, xp.log(Pm), t * Dp, t * Dm, xp),
        "log_event": _log_event(c.log_p0, c.log_top_mass, log_Pp, t * Dp, xp),
        "on_event": xp.where(nn, (L >= 0)[:, None], (L <= 0)[:, None]),
        "L": L,
        "gamma": gamma,
        "beta_sigma": min_D,
        "both_nonempty": any_pos & any_neg,
        "b_plus_empty": ~any_pos,
        # lambda -> +inf: H -> p_a* 1[z_a* = max] / P(argmax set)
        "limit": _limit(p, c.p0, d == 0, xp.reduce("max", d, 1) <= 0, xp),
    }
    # does each bound hold at every grid point (the event bound: where the draw is on E_q)
    return q | {
        "holds_6": xp.reduce("all", logH <= q["log_bound_6"] + RTOL, 1),
        "holds_jensen": xp.reduce("all", logH <= q["log_jensen"] + RTOL, 1),
        "event_applies": xp.reduce("any", q["on_event"], 1),
        "holds_event": xp.reduce("all", (~q["on_event"]) | (logH <= q["log_event"] + RTOL), 1),
    }


def _grid(lam: object) -> np.ndarray:
    g = as_real("lam", lam)
    if g.ndim != 1 or g.size == 0:
        raise ParameterError(f"lam must be a non-empty 1-d grid of steering coefficients, got shape {g.shape}")
    return g


def _scales(alpha: object, sigma: object) -> tuple[float, float]:
    """``alpha > 0`` and ``sigma > 0`` as floats."""
    a = float(check_open("alpha", as_real("alpha", alpha), 0.0, np.inf))
    return a, float(check_open("sigma", as_real("sigma", sigma), 0.0, np.inf))


@dataclass(frozen=True, eq=False)
class DrawResults:
    r"""Per-draw quantities of :func:`evaluate_draws` (numpy arrays; ``n`` draws, ``G`` grid points).

    Attributes:
        lam: the grid, ``(G,)``.
        log_H: exact :math:`\log H_\lambda`, ``(n, G)``.
        log_bound_6: :math:`\log` eq. (6) with the draw's :math:`\gamma,\beta`, ``(n, G)``.
        log_jensen: :math:`\log` of the §12.2(a) bound, ``(n, G)``.
        log_event: :math:`\log` of the §12.2(b) bound (meaningful where ``on_event``), ``(n, G)``.
        on_event: the draw lies in :math:`E_q` for the sign of :math:`\lambda`, ``(n, G)``.
        L: the event statistic for :math:`\lambda\ge0` (projection units), ``(n,)``.
        gamma, beta: :math:`\gamma` and :math:`\beta=\min(Y^+,Y^-)`, ``(n,)``.
        both_nonempty, b_plus_empty: the proof's events (for :math:`\lambda\ge0`), ``(n,)``.
        limit: :math:`\lim_{\lambda\to+\infty}H`, ``(n,)``.
        holds_6, holds_jensen, holds_event: the bound holds at every grid point (the event bound: at every grid
            point where the draw is on :math:`E_q`), ``(n,)``.
        event_applies: the draw is on :math:`E_q` for the sign of some grid point, ``(n,)``.
    """

    lam: np.ndarray
    log_H: np.ndarray
    log_bound_6: np.ndarray
    log_jensen: np.ndarray
    log_event: np.ndarray
    on_event: np.ndarray
    L: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    both_nonempty: np.ndarray
    b_plus_empty: np.ndarray
    limit: np.ndarray
    holds_6: np.ndarray
    holds_jensen: np.ndarray
    holds_event: np.ndarray
    event_applies: np.ndarray


def _given_z(xp: Any, z: object, c: _Prepared) -> Any:
    """Checked projections ``(n, V)`` (numpy or torch) as float64 on the backend, on the tokens of positive mass."""
    V = c.keep.size
    if not type(z).__module__.startswith("torch"):
        z = as_real("z", z)
    if z.ndim != 2 or z.shape[1] != V or z.shape[0] < 1:
        raise ValueError(f"z must have shape (n_draws >= 1, V = {V}), got {tuple(z.shape)}")
    return xp.f64(z)[:, xp.bool_(c.keep)] if not c.keep.all() else xp.f64(z)


def evaluate_draws(
    query: SyntheticQuery,
    z: object,
    lam: object,
    *,
    alpha: float = 1.0,
    sigma: float = 1.0,
    backend: str = "numpy",
    device: object = None,
) -> DrawResults:
    r"""Every per-draw quantity of the engine for **given** projections ``z`` (no sampling).

    Args:
        query: the :class:`~bounds.synthetic.SyntheticQuery`.
        z: projections, shape ``(n, V)`` (all tokens; a numpy array or a torch tensor).
        lam: 1-d grid of :math:`\lambda` (finite; negative values flip :math:`z`).
        alpha: :math:`\alpha>0` (:math:`\|\delta\|=\alpha|\lambda|`).
        sigma: :math:`\sigma>0`, used only to normalise :math:`\beta=\min(Y^+,Y^-)`.
        backend, device: as in :func:`simulate_helpfulness`.

    Returns:
        :class:`DrawResults` (numpy arrays, float64).

    Raises:
        ValueError: bad shapes or parameters; NaN produced by overflow (:math:`\alpha|\lambda||z|` beyond float64).
    """
    c = _prepare(query, "top_k")
    grid = _grid(lam)
    a, s = _scales(alpha, sigma)
    xp = _ops(backend, device)
    out = {k: xp.numpy(x) for k, x in _core(xp, _given_z(xp, z, c), c, xp.f64(a * grid), xp.bool_(grid >= 0)).items()}
    if any(np.isnan(out[k]).any() for k in ("log_H", "log_bound_6", "log_jensen")):
        raise ValueError(_NAN)
    beta = out.pop("beta_sigma") / s
    return DrawResults(lam=grid, beta=beta, **out)


def _torch_noise(ops: _TorchOps, law: Any, shape: tuple[int, int], gen: Any, sigma: float) -> Any:
    """I.i.d. draws of ``law`` standardised to mean 0, sd ``sigma`` on the torch device (:data:`_NATIVE` laws natively,
    the others by scipy's inverse CDF on the CPU)."""
    torch, dev = ops.torch, ops.device
    name = law.dist.name
    if name == "norm":
        x = torch.randn(shape, generator=gen, device=dev, dtype=torch.float64)
    else:
        # uniforms in the open interval (0, 1) with 53 random bits: (randint(2^53) + 1/2) / 2^53
        k = torch.randint(0, 1 << 53, shape, generator=gen, device=dev, dtype=torch.int64)
        u = (k.to(torch.float64) + 0.5) * (2.0**-53)
        if name == "uniform":
            x = u
        elif name == "laplace":
            x = torch.where(u < 0.5, torch.log(2.0 * u), -torch.log(2.0 * (1.0 - u)))
        elif name == "logistic":
            x = torch.log(u) - torch.log1p(-u)
        else:  # inverse CDF through scipy on the CPU
            mu, sd = _check_law(law)
            x = torch.as_tensor(law.ppf(u.cpu().numpy()), device=dev, dtype=torch.float64)
            return (x - mu) * (sigma / sd)
    mu, sd = _NATIVE[name]
    return (x - mu) * (sigma / sd)


class _Sampler:
    """Draw chunks of projection vectors ``(m, W)`` on a backend."""

    def __init__(self, xp: Any, c: _Prepared, law: Any, sigma: float, gen: np.random.Generator) -> None:
        self.xp, self.c, self.law, self.sigma, self.gen = xp, c, law, sigma, gen
        if xp.name == "torch":
            torch = xp.torch
            self.tgen = torch.Generator(device=xp.device)
            self.tgen.manual_seed(int(gen.integers(0, (1 << 63) - 1)))
            self.tidx = torch.as_tensor(np.flatnonzero(c.noised), device=xp.device)
            self.fixed = xp.f64(c.fixed)

    def __call__(self, m: int) -> Any:
        if self.xp.name == "numpy":
            return sample_projections(self.c.noised, self.law, m, self.gen, sigma=self.sigma, fixed_z=self.c.fixed)
        z = self.fixed.expand(m, -1).clone()
        z[:, self.tidx] = _torch_noise(self.xp, self.law, (m, int(self.tidx.numel())), self.tgen, self.sigma)
        return z


class _Moments:
    """Streaming mean and sum of squared deviations (Chan et al.'s pairwise update), float64."""

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, xp: Any, x: Any) -> None:
        """Merge the draws ``x`` (along axis 0, at least one), reduced on the backend."""
        n = int(x.shape[0])
        chunk_mean = xp.sum(x, 0) / n
        dev = x - chunk_mean
        mean, m2 = xp.numpy(chunk_mean).astype(float), xp.numpy(xp.sum(dev * dev, 0)).astype(float)
        tot = self.n + n
        delta = mean - self.mean
        self.mean = self.mean + delta * (n / tot)
        self.m2 = self.m2 + m2 + delta * delta * (self.n * n / tot)
        self.n = tot

    def estimate(self) -> Estimate:
        if self.n < 2:
            raise ValueError(f"a mean needs at least two draws, got {self.n}")
        se = np.sqrt(self.m2 / (self.n - 1) / self.n)
        return Estimate(_scalar(self.mean), _scalar(se), int(self.n))


def _freq(count: int, n: int) -> Estimate:
    f = count / n
    return Estimate(float(f), float(math.sqrt(f * (1.0 - f) / n)), int(n))


@dataclass(frozen=True)
class ProbabilityStudy:
    """A Monte-Carlo test of a probability claim "the bound holds with probability >= ``claimed``".

    Attributes:
        holds: frequency of "the bound holds at every λ of the grid", with its standard error.
        claimed: the claimed probability (``1 - 2/k`` for Theorem 2, ``1 - Σ_i 2/k_i`` for Corollary 3).
        both_nonempty: frequency of the proof's event (every step has both ``B±`` non-empty).
        holds_given_both: frequency of "holds" on that event (the proof claims 1); ``None`` if the event never
            occurred.
    """

    holds: Estimate
    claimed: float
    both_nonempty: Estimate
    holds_given_both: Estimate | None

    @property
    def se(self) -> float:
        """The larger of the empirical SE and the SE a true claim would give, ``sqrt(c(1-c)/n)``."""
        c = min(max(self.claimed, 0.0), 1.0)
        return max(float(self.holds.se), float(np.sqrt(c * (1 - c) / self.holds.n)))

    @property
    def deficit(self) -> float:
        """``claimed - frequency - 4 SE``: ``> 0`` refutes the claim at four standard errors."""
        return self.claimed - float(self.holds.value) - 4.0 * self.se


def _step_check(
    p: np.ndarray, answer: int, mask: np.ndarray, z: np.ndarray, lam: np.ndarray, alpha: float, sigma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per draw and λ (each (n, G)): the exact ``log H`` and ``log`` of eq. (6) with that draw's ``γ``, ``β``; and
    "both ``B±`` non-empty" (n,). Compared in log space: exact down to the smallest masses (no subnormal H)."""
    n, G = z.shape[0], lam.size
    gam, bet = np.empty((n, G)), np.empty((n, G))
    both = np.ones(n, dtype=bool)
    for sgn in (1.0, -1.0):
        sel = (lam >= 0) if sgn > 0 else (lam < 0)
        if not sel.any():
            continue
        q = helpfulness_quantities(p, z, answer, mask, lam_norm=sgn, sigma=sigma)
        gam[:, sel], bet[:, sel] = q.gamma[:, None], q.beta[:, None]
        both &= q.both_nonempty
    zz = np.where(lam[None, :, None] < 0, -z[:, None, :], z[:, None, :])
    logH = log_steered_distribution(p, zz, alpha * np.abs(lam)[None, :])[..., answer]
    with np.errstate(over="ignore"):
        x = alpha * bet * sigma * lam[None, :]
    log_bound = _log_factor_6(np.asarray(p[answer]), gam, x)
    return logH, log_bound, both


def theorem_2_frequency(
    p: object,
    answer: int,
    top_k: object,
    law: Any,
    lam: object,
    rng: object,
    *,
    alpha: float = 1.0,
    sigma: float = 1.0,
    fixed_z: object = None,
    n_draws: int = 10_000,
    chunk: int = 2_000,
) -> ProbabilityStudy:
    r"""Monte-Carlo frequency, over Assumption-3 noise, of "eq. (6) (with each draw's :math:`\gamma,\beta`) holds at
    every :math:`\lambda` of the grid" (:func:`corollary_3_frequency` with one step; ``.claimed`` :math:`=1-2/k`).

    Args:
        p: unsteered distribution, shape ``(V,)``, :math:`0<p_0<1`.
        answer: index of :math:`a^*\in T_k`.
        top_k: integer :math:`k` or boolean mask of :math:`T_k`.
        law: frozen scipy.stats continuous law with finite variance (:func:`bounds._montecarlo.noise_law`).
        lam: 1-d grid of steering coefficients (finite; negative values flip the projections).
        rng: Generator or integer seed.
        alpha: :math:`\alpha>0`. sigma: :math:`\sigma>0`.
        fixed_z: projections of the tail tokens (shape ``(V,)``; entries in :math:`T_k` ignored).
        n_draws: number of noise draws ``>= 2``. chunk: draws per vectorised block.
    """
    pa = _one_query(p)
    check_index("answer", answer, pa.size)
    step = {"p": pa, "answer": answer, "top_k": top_k, "fixed_z": fixed_z}
    return corollary_3_frequency([step], law, lam, rng, alpha=alpha, sigma=sigma, n_draws=n_draws, chunk=chunk)


def corollary_3_frequency(
    steps: Sequence[Mapping[str, Any]],
    law: Any,
    lam: object,
    rng: object,
    *,
    alpha: float = 1.0,
    sigma: float = 1.0,
    n_draws: int = 10_000,
    chunk: int = 2_000,
) -> ProbabilityStudy:
    r"""Monte-Carlo frequency of "eq. (79) holds at every :math:`\lambda` of the grid" for an :math:`\ell`-step answer
    (independent noise per step; ``.claimed`` is the union bound :math:`1-\sum_i2/k_i`).

    Args:
        steps: one dict per step :math:`i`: ``p`` (given the correct prefix), ``answer``, ``top_k`` (int or mask),
            optionally ``fixed_z``.
        law, lam, rng, alpha, sigma, n_draws, chunk: as in :func:`theorem_2_frequency`.
    """
    if not steps:
        raise ValueError("steps must hold at least one decoding step")
    grid = _grid(lam)
    a, s = _scales(alpha, sigma)
    n_draws = check_integer("n_draws", n_draws, 2)
    gen = as_generator(rng)
    prepared = []
    for st in steps:
        pa = check_probability_vector("p", st["p"])
        mask = _top_mask(st["top_k"], pa)
        z = sample_projections(mask, law, n_draws, gen, sigma=s, fixed_z=st.get("fixed_z"))
        prepared.append((pa, int(st["answer"]), mask, z))
    holds, both = np.empty(n_draws, dtype=bool), np.empty(n_draws, dtype=bool)
    for i in range(0, n_draws, chunk):
        m = min(chunk, n_draws - i)
        logH, log_bound = np.zeros((m, grid.size)), np.zeros((m, grid.size))
        bth = np.ones(m, dtype=bool)
        for pa, ans, mask, z in prepared:
            lh, lb, bj = _step_check(pa, ans, mask, z[i : i + m], grid, a, s)
            logH, log_bound, bth = logH + lh, log_bound + lb, bth & bj  # chain rule H = prod_i H_i; eq. (79)
        holds[i : i + m] = np.all(logH <= log_bound + RTOL, axis=-1)
        both[i : i + m] = bth
    return ProbabilityStudy(
        holds=frequency(holds),
        claimed=1.0 - sum(2.0 / int(st[2].sum()) for st in prepared),
        both_nonempty=frequency(both),
        holds_given_both=frequency(holds[both]) if both.any() else None,
    )


def expected_helpfulness(
    p: object,
    answer: int,
    law: Any,
    lam: object,
    rng: object,
    *,
    alpha: float = 1.0,
    sigma: float = 1.0,
    noised: object = None,
    fixed_z: object = None,
    n_draws: int = 10_000,
    antithetic: bool = False,
    chunk: int = 2_000,
) -> Estimate:
    r"""Monte-Carlo :math:`\mathbb E_z[H_{P_\lambda}(q)]` at each :math:`\lambda` of a grid, with standard errors.

    Args:
        p: distribution, shape ``(V,)``. answer: index of :math:`a^*`.
        law: frozen scipy.stats continuous law with finite variance.
        lam: 1-d grid of :math:`\lambda`. rng: Generator or integer seed.
        alpha, sigma: :math:`\alpha>0`, :math:`\sigma>0`.
        noised: boolean mask of the noised tokens; ``None`` = every token (docs/specification.md §12.2c's setting).
        fixed_z: projections of the non-noised tokens.
        n_draws: draws (even when ``antithetic``).
        antithetic: pair each draw with its negation on the noised tokens and average the pairs before taking the
            SE (valid for **symmetric** laws only; cancels the odd orders in :math:`\lambda` draw by draw).

    Returns:
        :class:`~bounds._montecarlo.Estimate` with ``value`` and ``se`` arrays over the grid (``n`` = independent
        units: pairs when antithetic).
    """
    pa = _one_query(p)
    grid = _grid(lam)
    a, s = _scales(alpha, sigma)
    mask = np.ones(pa.shape, dtype=bool) if noised is None else np.asarray(noised, dtype=bool)
    z = sample_projections(mask, law, n_draws, as_generator(rng), sigma=s, fixed_z=fixed_z, antithetic=antithetic)
    H = np.empty((z.shape[0], grid.size))
    for i in range(0, z.shape[0], chunk):
        zc = z[i : i + chunk]
        zz = np.where(grid[None, :, None] < 0, -zc[:, None, :], zc[:, None, :])
        H[i : i + chunk] = helpfulness(pa, zz, a * np.abs(grid)[None, :], answer)
    if antithetic:
        half = z.shape[0] // 2
        H = 0.5 * (H[:half] + H[half:])
    return mean_estimate(H, axis=0)


def event_probability(
    p: object,
    answer: int,
    top_k: object,
    law: Any,
    rng: object,
    *,
    sign: int = 1,
    sigma: float = 1.0,
    fixed_z: object = None,
    n_draws: int = 10_000,
) -> Estimate:
    r"""Monte-Carlo :math:`\Pr[E_q]`, :math:`E_q=\{\sum_{b\in T_k\setminus a^*}P(b)(z_b-z_{a^*})\ge0\}` for
    steering with the sign ``sign`` (``-1`` flips the event). Exactly ½ for a symmetric continuous law."""
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 or -1, got {sign!r}")
    pa = check_probability_vector("p", p)
    mask = _top_mask(top_k, pa)
    z = sample_projections(mask, law, n_draws, as_generator(rng), sigma=sigma, fixed_z=fixed_z)
    q = helpfulness_quantities(pa, z, answer, mask, lam_norm=float(sign), sigma=sigma)
    return frequency(q.on_event)


@dataclass(frozen=True, eq=False)
class HelpfulnessSimulation:
    r"""Monte-Carlo estimates over Assumption-3 noise for one query (:func:`simulate_helpfulness`).

    Attributes:
        query: the simulated :class:`~bounds.synthetic.SyntheticQuery`.
        law: label of the noise law :math:`D` (e.g. ``"t(df=5)"``).
        lam: the grid, ``(G,)``. alpha, sigma: :math:`\alpha`, :math:`\sigma`.
        noise: ``"top_k"`` or ``"all"``. n_noised: number of noised tokens (of positive mass).
        backend, device: where it ran. n_draws: realisations.
        claimed: Theorem 2's claimed probability :math:`1-2/k`.
        theorem_2: frequency of "eq. (6) holds at every :math:`\lambda` of the grid".
        theorem_2_given_both: the same on "both :math:`B^\pm` non-empty" (the proof claims 1); ``None`` if never.
        both_nonempty: frequency of "both :math:`B^\pm` non-empty" (:math:`1-2/k` for i.i.d. top-k noise).
        b_plus_empty: frequency of ":math:`B^+` empty" (:math:`1/k`).
        jensen: frequency of "the §12.2(a) bound holds at every grid point" (must be 1).
        event: frequency of :math:`E_q` for :math:`\lambda\ge0` (½ for a symmetric law); for a grid without any
            :math:`\lambda\ge0`, of the event for :math:`\lambda<0`.
        event_bound: frequency of "the §12.2(b) bound holds wherever the draw is on :math:`E_q`", among the draws on
            it for some grid sign (must be 1); ``None`` if no draw is.
        mean_H: :math:`\mathbb E_z[H_\lambda]` per grid point (arrays ``value``/``se``).
        limit: :math:`\mathbb E_z[\lim_{\lambda\to\infty}H]` (Corollary 2: :math:`1/n` with all :math:`n` answers
            noised, at most that otherwise).
        beta, gamma: means of :math:`\beta=\min(Y^+,Y^-)` and :math:`\gamma`.
    """

    query: SyntheticQuery
    law: str
    lam: np.ndarray
    alpha: float
    sigma: float
    noise: str
    n_noised: int
    backend: str
    device: str
    n_draws: int
    claimed: float
    theorem_2: Estimate
    theorem_2_given_both: Estimate | None
    both_nonempty: Estimate
    b_plus_empty: Estimate
    jensen: Estimate
    event: Estimate
    event_bound: Estimate | None
    mean_H: Estimate
    limit: Estimate
    beta: Estimate
    gamma: Estimate

    @property
    def token_draws(self) -> int:
        """``n_draws * n_noised``: sampled projections, each evaluated across the whole grid (``lam.size``)."""
        return self.n_draws * self.n_noised

    @property
    def k(self) -> int:
        return self.query.k

    @property
    def deficit(self) -> float:
        """:attr:`ProbabilityStudy.deficit` of Theorem 2's claim: ``> 0`` refutes it at four standard errors."""
        return self.as_probability_study().deficit

    def as_probability_study(self) -> ProbabilityStudy:
        """The Theorem-2 part as a :class:`ProbabilityStudy` (as :func:`theorem_2_frequency` returns it)."""
        return ProbabilityStudy(
            holds=self.theorem_2,
            claimed=self.claimed,
            both_nonempty=self.both_nonempty,
            holds_given_both=self.theorem_2_given_both,
        )

    def second_order(self) -> np.ndarray:
        r"""docs/specification.md §12.2(c)'s :math:`p_0-p_0\alpha^2\sigma^2\lambda^2[p_0(1-p_0)-S_2]` on the grid (its
        hypothesis: ``noise == "all"`` and a symmetric law)."""
        return np.asarray(helpfulness_expectation_p(self.query.p, self.query.answer, self.alpha, self.sigma, self.lam))

    @property
    def corollary_2_value(self) -> float:
        """Corollary 2's :math:`1/n` with :math:`n` = ``n_noised``."""
        return 1.0 / self.n_noised


def simulate_helpfulness(
    query: SyntheticQuery,
    law: object,
    lam: object,
    rng: object,
    *,
    alpha: float = 1.0,
    sigma: float = 1.0,
    n_draws: int | None = None,
    noise: str = "top_k",
    backend: str = "numpy",
    device: object = None,
    chunk: int | None = None,
    max_elements: int | None = None,
    z: object = None,
) -> HelpfulnessSimulation:
    r"""Monte-Carlo study of one query under Assumption-3 noise: Theorem 2's probability claim, the §12.2 bounds,
    :math:`\mathbb E[H](\lambda)` and Corollary 2's limit, each with its standard error.

    Args:
        query: a :class:`~bounds.synthetic.SyntheticQuery` (:func:`bounds.synthetic.synthetic_query`).
        law: the noise law :math:`D`: a name (``"normal"``, ``"laplace"``, ...) or a frozen scipy.stats continuous law
            with finite variance (:func:`bounds.synthetic.as_noise_law`).
        lam: 1-d grid of :math:`\lambda` (finite; negative values flip :math:`z`).
        rng: :class:`numpy.random.Generator` or integer seed (may be ``None`` only when ``z`` is given).
        alpha: :math:`\alpha>0`. sigma: :math:`\sigma>0`, the sd of each noised projection.
        n_draws: realisations, ``>= 2`` (default 10,000; must equal ``len(z)`` when ``z`` is given).
        noise: one of :data:`NOISE_MODES` (``"all"``: Corollary 2 with :math:`n=V`).
        backend: ``"numpy"`` or ``"torch"``. device: torch device (``None``: CUDA if available, else CPU).
        chunk: draws per block (default: as many as fit ``max_elements``).
        max_elements: memory bound used when ``chunk`` is ``None`` (default :data:`MAX_ELEMENTS` on a CPU,
            :data:`MAX_ELEMENTS_CUDA` on a CUDA device).
        z: optional projections ``(n, V)`` to evaluate instead of sampling (numpy array or torch tensor).

    Returns:
        :class:`HelpfulnessSimulation`.

    Raises:
        ValueError: a parameter out of range (named), bad ``z`` shape.
        ModuleNotFoundError: ``backend="torch"`` without torch.
    """
    c = _prepare(query, noise)
    grid = _grid(lam)
    a, s = _scales(alpha, sigma)
    dist = as_noise_law(law)
    dev = resolve_device(backend, device)
    xp = _ops(backend, dev)
    if z is not None:
        zk = _given_z(xp, z, c)
        n = int(zk.shape[0])
        if n_draws is not None and n_draws != n:
            raise ValueError(f"n_draws = {n_draws!r} differs from the {n} rows of z")
        check_integer("n_draws", n, 2)
        sampler = None
    else:
        n = check_integer("n_draws", 10_000 if n_draws is None else n_draws, 2)
        sampler = _Sampler(xp, c, dist, s, as_generator(rng))
    G, W = grid.size, c.p.size
    if max_elements is None:
        max_elements = MAX_ELEMENTS_CUDA if dev.startswith("cuda") else MAX_ELEMENTS
    max_elements = check_integer("max_elements", max_elements, 1)
    step = max(1, max_elements // (G * W)) if chunk is None else check_integer("chunk", chunk, 1)
    al, nonneg = xp.f64(a * grid), xp.bool_(grid >= 0)
    counts = dict.fromkeys(("holds_6", "holds_jensen", "both", "bplus", "event0", "ev_app", "ev_ok", "both6"), 0)
    mom = {name: _Moments() for name in ("H", "limit", "beta", "gamma")}
    i0 = int(np.flatnonzero(grid >= 0)[0]) if (grid >= 0).any() else 0
    for start in range(0, n, step):
        m = min(step, n - start)
        zc = sampler(m) if sampler is not None else zk[start : start + m]
        q = _core(xp, zc, c, al, nonneg)
        if bool(xp.numpy(xp.reduce("any", q["log_H"] != q["log_H"], 1)).any()):
            raise ValueError(_NAN)
        h6, both = q["holds_6"], q["both_nonempty"]
        ev0 = q["L"] >= 0 if (grid >= 0).any() else q["on_event"][:, i0]
        for key, x in (
            ("holds_6", h6),
            ("holds_jensen", q["holds_jensen"]),
            ("both", both),
            ("bplus", q["b_plus_empty"]),
            ("event0", ev0),
            ("ev_app", q["event_applies"]),
            ("ev_ok", q["event_applies"] & q["holds_event"]),
            ("both6", both & h6),
        ):
            counts[key] += int(xp.numpy(xp.sum(x, 0)))
        stats = {"H": xp.exp(q["log_H"]), "limit": q["limit"], "beta": q["beta_sigma"] / s, "gamma": q["gamma"]}
        for name, x in stats.items():
            mom[name].add(xp, x)
    both_n = counts["both"]
    return HelpfulnessSimulation(
        query=query,
        law=law_label(dist),
        lam=grid,
        alpha=a,
        sigma=s,
        noise=noise,
        n_noised=int(c.noised.sum()),
        backend=backend,
        device=dev,
        n_draws=n,
        claimed=1.0 - 2.0 / query.k,
        theorem_2=_freq(counts["holds_6"], n),
        theorem_2_given_both=_freq(counts["both6"], both_n) if both_n else None,
        both_nonempty=_freq(both_n, n),
        b_plus_empty=_freq(counts["bplus"], n),
        jensen=_freq(counts["holds_jensen"], n),
        event=_freq(counts["event0"], n),
        event_bound=_freq(counts["ev_ok"], counts["ev_app"]) if counts["ev_app"] else None,
        mean_H=mom["H"].estimate(),
        limit=mom["limit"].estimate(),
        beta=mom["beta"].estimate(),
        gamma=mom["gamma"].estimate(),
    )


def measure_throughput(
    query: SyntheticQuery,
    law: object,
    lam: object,
    *,
    n_draws: int = 100_000,
    backend: str = "numpy",
    device: object = None,
    rng: object = 0,
    repeats: int = 3,
    **kwargs: Any,
) -> dict[str, Any]:
    r"""Time :func:`simulate_helpfulness`: the fastest of ``repeats`` runs after one untimed warm-up (each run ends
    with its counts copied to the host, so device work is finished when the clock stops).

    Args:
        query, law, lam, backend, device, kwargs: as in :func:`simulate_helpfulness` (``alpha``, ``sigma``, ...).
        n_draws: realisations per timed run, ``>= 2``. rng: seed or Generator. repeats: timed runs, ``>= 1``.

    Returns:
        dict with ``backend``, ``device``, ``law``, ``n_draws``, ``n_noised``, ``grid_size``, ``vocabulary``,
        ``token_draws`` (``n_draws * n_noised``), ``seconds`` (fastest run) and ``token_draws_per_second``.
    """
    import time

    n_draws = check_integer("n_draws", n_draws, 2)
    repeats = check_integer("repeats", repeats, 1)
    gen = as_generator(rng)
    dev = resolve_device(backend, device)
    simulate_helpfulness(query, law, lam, gen, n_draws=min(n_draws, 256), backend=backend, device=dev, **kwargs)
    best, sim = math.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        sim = simulate_helpfulness(query, law, lam, gen, n_draws=n_draws, backend=backend, device=dev, **kwargs)
        best = min(best, time.perf_counter() - t0)
    assert sim is not None
    return {
        "backend": backend,
        "device": dev,
        "law": sim.law,
        "n_draws": n_draws,
        "n_noised": sim.n_noised,
        "grid_size": int(sim.lam.size),
        "vocabulary": query.V,
        "token_draws": sim.token_draws,
        "seconds": best,
        "token_draws_per_second": sim.token_draws / best,
    }
