r"""Sampling for the Monte-Carlo engine (:mod:`bounds.simulate`): noise laws (Assumption 3), projections drawn from
an explicit Generator or seed (reproducible bit for bit), and estimates with their standard errors.

Samples are **standardised**, ``(X - E X) / sd(X) * sigma``, so ``sigma`` is the standard deviation of each
projection :math:`z_s` (the within-query spread, docs/specification.md §6.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._check import as_real, check_closed

__all__ = [
    "Estimate",
    "as_generator",
    "frequency",
    "mean_estimate",
    "noise_law",
    "sample_noise",
    "sample_projections",
]

#: the named laws of :func:`noise_law` and their scipy.stats names (skewed: ``gamma``, ``lognorm``, ``skewnorm``)
_LAWS = {"normal": "norm"} | {n: n for n in ("laplace", "uniform", "t", "logistic", "gamma", "lognorm", "skewnorm")}


@dataclass(frozen=True)
class Estimate:
    """A Monte-Carlo estimate: ``value`` ± ``se`` (standard error) from ``n`` independent draws.

    ``value`` and ``se`` are floats for a scalar estimate and arrays for a vector of estimates (one per grid point).
    """

    value: Any
    se: Any
    n: int

    def __str__(self) -> str:  # pragma: no cover - display only
        return f"{self.value} ± {self.se} (n={self.n})"


def as_generator(rng: object) -> np.random.Generator:
    """``rng`` as a :class:`numpy.random.Generator`: a Generator passes through, an int ``>= 0`` seeds a new one.

    Raises:
        TypeError: anything else (``None`` is refused: every study must be reproducible).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator or an integer seed >= 0, got {rng!r}")


def frequency(events: object, axis: int = 0) -> Estimate:
    r"""Frequency of boolean ``events`` along ``axis`` with its binomial standard error
    :math:`\sqrt{\hat f(1-\hat f)/n}`.

    Raises:
        ValueError: no draws along ``axis``.
    """
    ev = np.asarray(events, dtype=bool)
    n = ev.shape[axis] if ev.ndim else 0
    if n == 0:
        raise ValueError(f"events must hold at least one draw along axis {axis}, got shape {ev.shape}")
    f = ev.mean(axis=axis)
    se = np.sqrt(f * (1.0 - f) / n)
    return Estimate(_scalar(f), _scalar(se), int(n))


def mean_estimate(samples: object, axis: int = 0) -> Estimate:
    r"""Sample mean along ``axis`` with its standard error :math:`s/\sqrt n` (``s`` with ``ddof=1``).

    Raises:
        ValueError: fewer than two draws, or NaN/inf samples.
    """
    x = as_real("samples", samples)
    n = x.shape[axis] if x.ndim else 0
    if n < 2:
        raise ValueError(f"samples must hold at least two draws along axis {axis}, got shape {x.shape}")
    m = x.mean(axis=axis)
    se = x.std(axis=axis, ddof=1) / np.sqrt(n)
    return Estimate(_scalar(m), _scalar(se), int(n))


def _scalar(x: Any) -> Any:
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


def noise_law(name: str, **shape: float) -> Any:
    """A frozen :mod:`scipy.stats` continuous law for Assumption 3's ``D``, checked to have finite variance.

    Args:
        name: ``"normal"``, ``"laplace"``, ``"uniform"``, ``"logistic"`` (symmetric), ``"t"`` (symmetric, needs
            ``df > 2`` for a finite variance), ``"gamma"`` (needs ``a > 0``), ``"lognorm"`` (needs ``s > 0``) or
            ``"skewnorm"`` (any real ``a``; left-skewed for ``a < 0``) -- the last three are skewed.
        shape: the law's scipy shape parameters (``df`` for ``t``, ``a`` for ``gamma``/``skewnorm``, ``s`` for
            ``lognorm``).

    Raises:
        ValueError: unknown name, bad shape parameters, or infinite variance (e.g. ``t`` with ``df <= 2``).
    """
    from scipy import stats

    if name not in _LAWS:
        raise ValueError(f"name must be one of {sorted(_LAWS)}, got {name!r}")
    try:
        dist = getattr(stats, _LAWS[name])(**shape)
        var = float(dist.var())
    except TypeError as exc:
        raise ValueError(f"bad shape parameters {shape!r} for the {name} law: {exc}") from exc
    if not np.isfinite(var) or var <= 0:
        raise ValueError(
            f"the noise law must have a finite positive variance (Assumption 3), got {name}{shape!r} with variance "
            f"{var!r} (for t: df > 2)"
        )
    return dist


def _check_law(law: Any) -> tuple[float, float]:
    from scipy.stats import rv_continuous

    if not isinstance(getattr(law, "dist", None), rv_continuous):
        raise TypeError(f"law must be a frozen scipy.stats continuous distribution, got {law!r}")
    mu, var = float(law.mean()), float(law.var())
    if not (np.isfinite(mu) and np.isfinite(var) and var > 0):
        raise ValueError(f"law must have a finite mean and a finite positive variance, got mean {mu}, variance {var}")
    return mu, float(np.sqrt(var))


def sample_noise(law: Any, size: int | tuple[int, ...], rng: object, sigma: float = 1.0) -> np.ndarray:
    """I.i.d. draws from ``law`` standardised to mean 0 and standard deviation ``sigma``.

    Args:
        law: a frozen scipy.stats continuous law with finite variance (see :func:`noise_law`).
        size: output shape.
        rng: a :class:`numpy.random.Generator` or an integer seed.
        sigma: ``sigma >= 0``, the standard deviation of every draw.
    """
    mu, sd = _check_law(law)
    s = float(check_closed("sigma", as_real("sigma", sigma), 0.0, np.inf))
    x = law.rvs(size=size, random_state=as_generator(rng))
    return (np.asarray(x, dtype=np.float64) - mu) * (s / sd)


def sample_projections(
    noised: object,
    law: Any,
    n_draws: int,
    rng: object,
    *,
    sigma: float = 1.0,
    fixed_z: object = None,
    antithetic: bool = False,
) -> np.ndarray:
    r"""``n_draws`` projection vectors ``z`` (shape ``(n_draws, V)``) under Assumption 3.

    Tokens where ``noised`` is true get i.i.d. draws from ``law`` (mean 0, sd ``sigma``); the other tokens (the tail
    outside :math:`T_k`, unconstrained by eq. (9)) keep the fixed values ``fixed_z`` (default 0).

    Args:
        noised: boolean mask of shape ``(V,)``: the noised tokens (the top-:math:`k` set, or every token).
        law: frozen scipy.stats continuous law with finite variance.
        n_draws: number of draws ``>= 1`` (even when ``antithetic``).
        rng: Generator or integer seed.
        sigma: standard deviation of each noised projection.
        fixed_z: projections of the non-noised tokens, shape ``(V,)`` (entries at noised positions are ignored).
        antithetic: return the draws in pairs ``(z, -z)`` on the noised tokens (rows ``i`` and ``i + n/2``); valid
            as a variance reduction only for a **symmetric** law, where ``-z`` has the law of ``z``.
    """
    mask = np.asarray(noised, dtype=bool)
    if mask.ndim != 1 or not mask.any():
        raise ValueError(f"noised must be a 1-d boolean mask with at least one True, got {noised!r}")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise ValueError(f"n_draws must be an integer >= 1, got {n_draws!r}")
    if antithetic and n_draws % 2:
        raise ValueError(f"n_draws must be even when antithetic, got {n_draws}")
    base = np.zeros(mask.shape) if fixed_z is None else as_real("fixed_z", fixed_z)
    if base.shape != mask.shape:
        raise ValueError(f"fixed_z must have the shape of noised {mask.shape}, got {base.shape}")
    k = int(mask.sum())
    if antithetic:
        half = sample_noise(law, (n_draws // 2, k), rng, sigma)
        noise = np.concatenate([half, -half])
    else:
        noise = sample_noise(law, (int(n_draws), k), rng, sigma)
    z = np.broadcast_to(base, (int(n_draws), mask.size)).copy()
    z[:, mask] = noise
    return z
