r"""Coverage study of the paper's probability and expectation claims by Monte Carlo (docs/specification.md §4, §6,
§7, §12.2): one row per configuration (:data:`ROW_FIELDS`), resumable (:func:`run_study`). The study's design, its
resume rule and its outputs: docs/api/simulate.md.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._check import as_real, check_integer
from ._io import FingerprintStore, ResumeMismatchError, fingerprint, jsonable, read_jsonl
from ._montecarlo import noise_law
from ._plot import new_figure, save
from .errors import ParameterError
from .simulate import resolve_device, simulate_helpfulness
from .synthetic import SHAPE_DEFAULTS, WRONG_SHAPES, _label, hard_margin_instance, synthetic_query, two_token_extremal

__all__ = [
    "DEFAULT_GRID",
    "DEFAULT_N_DRAWS",
    "QUICK_GRID",
    "QUICK_N_DRAWS",
    "ROW_FIELDS",
    "CoverageConfig",
    "StudyProgress",
    "StudyResult",
    "default_configs",
    "evaluate_config",
    "run_study",
    "write_figures",
]

#: bump when the meaning of a row changes: part of every fingerprint
STUDY_VERSION = 1
#: the default grid of :math:`\alpha\sigma\lambda` (24 points): fine steps up to 0.6 for the second-order
#: comparison, then out to 12 where :math:`\mathbb E[H]` approaches Corollary 2's limit
DEFAULT_GRID = np.array(
    [
        *(0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6),  # step 0.05: second order
        *(0.8, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0, 12.0),  # out towards Corollary 2's limit
    ]
)
#: the quick grid (10 points)
QUICK_GRID = np.array([0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 4.0, 8.0])
#: realisations per simulation: default and quick study
DEFAULT_N_DRAWS = 40_000
QUICK_N_DRAWS = 1_000
#: the "small-lambda part" of the grid for the second-order comparison: 0 < alpha sigma lambda <= SMALL_LAMBDA
SMALL_LAMBDA = 0.3
#: hard-margin instances per row (Theorem 1) and their margin
N_INSTANCES = 16
THM1_DELTA = 1.0
#: numerical tolerance of "bound holds" for Theorem 1 (B and the bound are computed differently)
THM1_TOL = 1e-12
#: the default laws and their labels
LAWS: dict[str, tuple[str, dict[str, float]]] = {
    "normal": ("normal", {}),
    "laplace": ("laplace", {}),
    "uniform": ("uniform", {}),
    "t5": ("t", {"df": 5.0}),
}


@dataclass(frozen=True)
class CoverageConfig:
    r"""One configuration of the study.

    Attributes:
        k: :math:`|T_k|\ge2`.
        shape: wrong-answer shape (:data:`bounds.synthetic.WRONG_SHAPES`), with its default parameter unless
            ``shape_params`` is given.
        law: law name of :func:`bounds._montecarlo.noise_law`; ``law_params`` its shape parameters (sorted pairs).
        p0: :math:`0<p_0<1-\epsilon`.
        eps: :math:`\epsilon\ge0`, the tail mass (tail size chosen by :func:`~bounds.synthetic.synthetic_query`).
        shape_params: the shape's parameter as sorted ``(name, value)`` pairs.
        alpha, sigma: :math:`\alpha,\sigma>0` (the grid is in units of :math:`\alpha\sigma\lambda`).
    """

    k: int
    shape: str
    law: str
    p0: float
    eps: float = 0.0
    law_params: tuple[tuple[str, float], ...] = ()
    shape_params: tuple[tuple[str, float], ...] = ()
    alpha: float = 1.0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        check_integer("k", self.k, 2)
        if self.shape not in WRONG_SHAPES:
            raise ParameterError(f"shape must be one of {WRONG_SHAPES}, got {self.shape!r}")
        object.__setattr__(self, "law_params", tuple(sorted((str(a), float(b)) for a, b in self.law_params)))
        object.__setattr__(self, "shape_params", tuple(sorted((str(a), float(b)) for a, b in self.shape_params)))
        for name in ("p0", "eps", "alpha", "sigma"):
            object.__setattr__(self, name, float(as_real(name, getattr(self, name))))

    @property
    def law_label(self) -> str:
        """``"normal"``, ``"t(df=5)"``, ..."""
        return _label(self.law, dict(self.law_params))

    @property
    def shape_label(self) -> str:
        """The shape with its parameter, e.g. ``"zipf(s=1)"``."""
        return _label(self.shape, dict(SHAPE_DEFAULTS[self.shape]) | dict(self.shape_params))


def default_configs(quick: bool = False) -> list[CoverageConfig]:
    """The documented grid of configurations (docs/api/simulate.md): 144 rows, or 6 when ``quick``."""

    def cfg(k: int, shape: str, law: str, p0: float, eps: float = 0.0) -> CoverageConfig:
        name, params = LAWS[law]
        return CoverageConfig(k=k, shape=shape, law=name, law_params=tuple(params.items()), p0=p0, eps=eps)

    if quick:
        return [
            cfg(50, "two_dominant", "normal", 0.5),
            cfg(4, "zipf", "laplace", 0.2),
            cfg(10, "two_dominant", "t5", 0.5),
            cfg(3, "dirichlet", "uniform", 0.2),
            cfg(4, "uniform", "normal", 0.3, 0.1),
            cfg(10, "dirichlet", "laplace", 0.3, 0.1),
        ]
    out = [
        cfg(k, shape, law, p0) for k in (3, 4, 10, 50) for shape in WRONG_SHAPES for law in LAWS for p0 in (0.2, 0.5)
    ]
    out += [cfg(k, shape, law, 0.3, 0.1) for k in (4, 10) for shape in WRONG_SHAPES for law in ("normal", "laplace")]
    return out


#: every field of a row and its meaning (CSV columns: the scalar ones, in this order; JSON: all)
ROW_FIELDS: dict[str, str] = {
    "index": "position of the configuration in the study",
    "key": "fingerprint of (configuration, index, seed, n_draws, grid, backend, device type)",
    "k": "|T_k|, the number of noised top tokens (Assumption 3)",
    "shape": "wrong-answer shape inside T_k, with its parameter",
    "law": "noise law D (standardised to sd sigma)",
    "p0": "P(a*|q), unsteered probability of the correct answer",
    "eps": "tail mass outside T_k",
    "V": "vocabulary size (k + tail tokens)",
    "answer_rank": "number of tokens more probable than a* (0: a* is the top answer)",
    "alpha": "alpha (Assumption 1)",
    "sigma": "sigma, sd of each noised projection",
    "n_grid": "grid points (alpha sigma lambda from 0 to grid_max)",
    "grid_max": "largest alpha sigma lambda of the grid",
    "n_draws": "noise realisations per simulation",
    "claimed": "Theorem 2's claimed probability 1 - 2/k",
    "thm2_freq": "frequency that eq. (6) (with each draw's gamma, beta) holds at every lambda of the grid",
    "thm2_se": "its standard error",
    "thm2_deficit": "claimed - thm2_freq - 4 SE (SE: max of the empirical one and sqrt(c(1-c)/n)); > 0 refutes",
    "thm2_fails": "thm2_deficit > 0: the claim fails by more than 4 standard errors",
    "thm2_given_both": "frequency of (6) holding on 'both B+- non-empty' (the proof claims 1)",
    "thm2_given_both_se": "its standard error",
    "both_nonempty": "frequency of 'both B+- non-empty' (exactly 1 - 2/k for i.i.d. continuous noise)",
    "both_nonempty_se": "its standard error",
    "b_plus_empty": "frequency of 'B+ empty' (exactly 1/k)",
    "b_plus_empty_se": "its standard error",
    "jensen_freq": "frequency that the Jensen bound (§12.2a) holds at every grid point (must be 1)",
    "jensen_se": "its standard error",
    "event_freq": "P[E_q] for lambda >= 0 (1/2 for a symmetric law)",
    "event_se": "its standard error",
    "event_bound_freq": "frequency that the event bound (§12.2b) holds wherever the draw is on E_q (must be 1)",
    "event_bound_se": "its standard error",
    "beta_mean": "mean of beta = min(Y+, Y-) (not the 0.8 of a half-normal mean, docs/specification.md §6.1)",
    "beta_se": "its standard error",
    "gamma_mean": "mean of gamma = 2 min(P+, P-)/(1 - p0)",
    "gamma_se": "its standard error",
    "second_order_max_z": "max over 0 < alpha sigma lambda <= small_lambda of |E[H]_MC - formula (§12.2c)| / SE",
    "second_order_max_z_at": "the alpha sigma lambda where that maximum occurs",
    "second_order_max_abs": "max |E[H]_MC - formula| over the same points",
    "second_order_departs_at": "smallest alpha sigma lambda with |E[H]_MC - formula| > 4 SE (null: none on the grid)",
    "small_lambda": "the end of the small-lambda part of the grid (alpha sigma lambda)",
    "cor2_n": "n, the number of noised tokens in the all-noise simulation",
    "cor2_claimed": "1/n (Corollary 2)",
    "cor2_limit": "E[lim_{lambda -> oo} H] (exact limit per draw), all tokens noised",
    "cor2_limit_se": "its standard error",
    "cor2_limit_z": "(cor2_limit - 1/n) / SE",
    "cor2_at_grid_max": "E[H] at the largest grid point, all tokens noised",
    "cor2_at_grid_max_se": "its standard error",
    "thm1_min_gap": "min over hard-margin instances (the query's masses) and the grid of B - Theorem 1 bound (>= 0)",
    "thm1_extremal_gap": "max over the grid of |B - bound| on the two-token extremal instance with P+ = p0 (0)",
    "thm1_n_instances": "hard-margin instances per row",
    "backend": "backend the row was computed with",
    "device": "device the row was computed on",
    "grid": "JSON only: the grid of alpha sigma lambda",
    "mean_H": "JSON only: E[H] per grid point (all tokens noised)",
    "mean_H_se": "JSON only: its standard errors",
    "second_order": "JSON only: the §12.2c formula per grid point",
    "mean_H_top_k": "JSON only: E[H] per grid point with noise on T_k only (Theorem 2's setting)",
}
_ARRAY_FIELDS = ("grid", "mean_H", "mean_H_se", "second_order", "mean_H_top_k")
CSV_FIELDS = tuple(f for f in ROW_FIELDS if f not in _ARRAY_FIELDS)


def _est(e: Any) -> tuple[float, float]:
    return (float("nan"), float("nan")) if e is None else (float(e.value), float(e.se))


def _with_se(**estimates: Any) -> dict[str, float]:
    """``{name: value, name_se: se}`` per estimate (``_freq``/``_mean`` dropped before ``_se``; NaN for ``None``)."""
    out = {}
    for name, e in estimates.items():
        out[name], out[name.removesuffix("_freq").removesuffix("_mean") + "_se"] = _est(e)
    return out


def _theorem_1(p: np.ndarray, p0: float, norms: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """(min over instances and norms of B - bound, max |B - bound| on the extremal two-token instance)."""
    V = p.size
    gaps = []
    for _ in range(N_INSTANCES):
        n_plus = int(rng.integers(1, V))  # 1 .. V-1 aligned tokens
        inst = hard_margin_instance(rng, n_plus, V - n_plus, delta=THM1_DELTA, p=p, exact=True)
        gaps.append(np.min(np.asarray(inst.behavior(norms)) - inst.theorem_1_bound(norms)))
    ext = two_token_extremal(2.0 * p0 - 1.0, THM1_DELTA)
    ext_gap = float(np.max(np.abs(np.asarray(ext.behavior(norms)) - ext.theorem_1_bound(norms))))
    return float(min(gaps)), ext_gap


def evaluate_config(
    cfg: CoverageConfig,
    index: int,
    *,
    seed: int = 0,
    n_draws: int = DEFAULT_N_DRAWS,
    grid: object = None,
    backend: str = "numpy",
    device: object = None,
) -> dict[str, Any]:
    r"""One row of the study (see :data:`ROW_FIELDS`): deterministic given (configuration, index, seed, draws,
    grid, backend, device type).

    Args:
        cfg: the configuration. index: its position (keys its random stream).
        seed: integer ``>= 0``. n_draws: realisations ``>= 2`` per simulation.
        grid: 1-d grid of :math:`\alpha\sigma\lambda\ge0` (default :data:`DEFAULT_GRID`).
        backend, device: see :func:`bounds.simulate.simulate_helpfulness`.
    """
    seed = check_integer("seed", seed, 0)
    index = check_integer("index", index, 0)
    g = _check_grid(DEFAULT_GRID if grid is None else grid)
    dev = resolve_device(backend, device)
    # the all-tokens simulation uses its own stream only when eps > 0 (otherwise the two settings coincide)
    ss_query, ss_top, ss_all, ss_thm1 = np.random.SeedSequence(seed, spawn_key=(index,)).spawn(4)
    query = synthetic_query(
        cfg.k, cfg.p0, cfg.shape, np.random.default_rng(ss_query), tail_mass=cfg.eps, **dict(cfg.shape_params)
    )
    law = noise_law(cfg.law, **dict(cfg.law_params))
    lam = g / (cfg.alpha * cfg.sigma)
    common = {"alpha": cfg.alpha, "sigma": cfg.sigma, "n_draws": n_draws, "backend": backend, "device": dev}
    top = simulate_helpfulness(query, law, lam, np.random.default_rng(ss_top), noise="top_k", **common)
    if query.eps > 0:
        full = simulate_helpfulness(query, law, lam, np.random.default_rng(ss_all), noise="all", **common)
    else:
        full = top
    study = top.as_probability_study()
    second = full.second_order()
    mh, mh_se = np.asarray(full.mean_H.value), np.asarray(full.mean_H.se)
    diff = np.abs(mh - second)
    small = (g > 0) & (g <= SMALL_LAMBDA)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(mh_se > 0, diff / mh_se, np.where(diff > 0, np.inf, 0.0))
    if small.any():
        j = int(np.flatnonzero(small)[np.argmax(z[small])])
        max_z, max_z_at, max_abs = float(z[j]), float(g[j]), float(np.max(diff[small]))
    else:
        max_z = max_z_at = max_abs = float("nan")
    departs = np.flatnonzero(diff > 4 * mh_se + 1e-12)  # 1e-12: rounding where SE = 0 (lambda = 0)
    n_all = full.n_noised
    j_max = int(np.argmax(g))
    lim, lim_se = _est(full.limit)
    thm1_min, thm1_ext = _theorem_1(query.p, query.p0, cfg.alpha * lam, np.random.default_rng(ss_thm1))
    row: dict[str, Any] = {
        "index": index,
        "key": row_key(cfg, index, seed=seed, n_draws=n_draws, grid=g, backend=backend, device=dev),
        "k": cfg.k,
        "shape": cfg.shape_label,
        "law": cfg.law_label,
        "p0": query.p0,
        "eps": query.eps,
        "V": query.V,
        "answer_rank": query.answer_rank,
        "alpha": cfg.alpha,
        "sigma": cfg.sigma,
        "n_grid": int(g.size),
        "grid_max": float(g.max()),
        "n_draws": int(n_draws),
        "claimed": top.claimed,
        **_with_se(thm2_freq=top.theorem_2),
        "thm2_deficit": study.deficit,
        "thm2_fails": bool(study.deficit > 0),
        **_with_se(
            thm2_given_both=top.theorem_2_given_both,
            both_nonempty=top.both_nonempty,
            b_plus_empty=top.b_plus_empty,
            jensen_freq=top.jensen,
            event_freq=top.event,
            event_bound_freq=top.event_bound,
            beta_mean=top.beta,
            gamma_mean=top.gamma,
        ),
        "second_order_max_z": max_z,
        "second_order_max_z_at": max_z_at,
        "second_order_max_abs": max_abs,
        "second_order_departs_at": float(g[departs[0]]) if departs.size else float("nan"),
        "small_lambda": SMALL_LAMBDA,
        "cor2_n": n_all,
        "cor2_claimed": 1.0 / n_all,
        "cor2_limit": lim,
        "cor2_limit_se": lim_se,
        "cor2_limit_z": (lim - 1.0 / n_all) / lim_se if lim_se > 0 else float("nan"),
        "cor2_at_grid_max": float(mh[j_max]),
        "cor2_at_grid_max_se": float(mh_se[j_max]),
        "thm1_min_gap": thm1_min,
        "thm1_extremal_gap": thm1_ext,
        "thm1_n_instances": N_INSTANCES,
        "backend": backend,
        "device": dev,
        "grid": g.tolist(),
        "mean_H": mh.tolist(),
        "mean_H_se": mh_se.tolist(),
        "second_order": np.asarray(second, dtype=float).tolist(),
        "mean_H_top_k": np.asarray(top.mean_H.value, dtype=float).tolist(),
    }
    assert set(row) == set(ROW_FIELDS), set(row) ^ set(ROW_FIELDS)
    return jsonable(row)


def _check_grid(grid: object) -> np.ndarray:
    g = as_real("grid", grid)
    if g.ndim != 1 or g.size < 2:
        raise ParameterError(
            f"grid must be a 1-d array of at least 2 values of alpha sigma lambda, got shape {g.shape}"
        )
    if (g < 0).any():
        raise ParameterError(
            f"grid must hold alpha sigma lambda >= 0 (Theorem 2 is stated for lambda >= 0), got {g.min()}"
        )
    return g


def row_key(
    cfg: CoverageConfig, index: int, *, seed: int, n_draws: int, grid: np.ndarray, backend: str, device: str
) -> str:
    """The fingerprint of one row: a hash of everything its values depend on."""
    return fingerprint(
        {
            "config": cfg,
            "index": index,
            "seed": seed,
            "n_draws": n_draws,
            "grid": np.asarray(grid, dtype=float).tolist(),
            "backend": backend,
            "device": device.split(":")[0],  # the device type: rows are equal across cuda:0 and cuda:1
            "version": STUDY_VERSION,
        }
    )


@dataclass(frozen=True)
class StudyProgress:
    """What a progress callback receives after each row; ``str(event)`` is a one-line human-readable summary.

    Attributes:
        done: rows finished so far (this one included). total: rows in the study.
        row: the finished row (:data:`ROW_FIELDS`).
        seconds: time spent computing it (0.0 when it was resumed from ``rows.jsonl``).
        resumed: whether it was taken from ``rows.jsonl``.
    """

    done: int
    total: int
    row: dict[str, Any]
    seconds: float
    resumed: bool

    def __str__(self) -> str:
        r = self.row
        verdict = "FAILS" if r["thm2_fails"] else "ok"
        took = "resumed" if self.resumed else f"{self.seconds:5.2f} s"
        return (
            f"[{self.done:>4}/{self.total}] k={r['k']:<3} {r['shape']:<26} {r['law']:<8} p0={r['p0']:.2f} "
            f"eps={r['eps']:.2f}: P[(6) holds]={r['thm2_freq']:.3f}±{r['thm2_se']:.3f} vs {r['claimed']:.3f} "
            f"{verdict:<5} ({took})"
        )


#: ``progress(event)``: called after each row with a :class:`StudyProgress`
ProgressCallback = Callable[[StudyProgress], None]


@dataclass(frozen=True)
class StudyResult:
    """What :func:`run_study` produced.

    Attributes:
        out_dir: the output directory.
        rows: one dict per configuration (:data:`ROW_FIELDS`), in configuration order.
        fingerprint: the study's fingerprint (a hash of every row key).
        csv_path, json_path, jsonl_path: ``coverage.csv``, ``coverage.json``, ``rows.jsonl``.
        figures: the PNG files written (empty when ``figures=False``).
        elapsed_s: wall time of this call.
        n_resumed: rows taken from ``rows.jsonl`` instead of computed.
    """

    out_dir: Path
    rows: list[dict[str, Any]]
    fingerprint: str
    csv_path: Path
    json_path: Path
    jsonl_path: Path
    figures: tuple[Path, ...] = ()
    elapsed_s: float = 0.0
    n_resumed: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

    def failures(self) -> list[dict[str, Any]]:
        """Rows where Theorem 2's frequency is more than 4 SE below :math:`1-2/k`."""
        return [r for r in self.rows if r["thm2_fails"]]

    def summary(self) -> str:
        """A short plain-text report: settings, Theorem 2's failures, the corrected bounds' checks, the outputs."""
        rows = self.rows
        s = self.settings
        lines = [
            f"coverage study: {len(rows)} configurations ({self.n_resumed} resumed), {s.get('n_draws')} draws each, "
            f"{len(s.get('grid', []))} grid points up to alpha sigma lambda = {max(s.get('grid', [0.0])):g}, "
            f"seed {s.get('seed')}, backend {s.get('backend')} ({s.get('device_type')}), {self.elapsed_s:.1f} s",
            f"theorem-2 (as stated): P[(6) holds for all lambda] more than 4 SE below 1 - 2/k in "
            f"{len(self.failures())} of {len(rows)} configurations",
        ]
        for r in sorted(self.failures(), key=lambda r: -r["thm2_deficit"])[:10]:
            lines.append(
                f"  k={r['k']} {r['shape']} {r['law']} p0={r['p0']:.2f} eps={r['eps']:.2f}: "
                f"{r['thm2_freq']:.4f} ± {r['thm2_se']:.4f} vs claimed {r['claimed']:.4f}"
            )
        ev = [abs(r["event_freq"] - 0.5) / r["event_se"] for r in rows if r["event_se"]]
        c2 = [abs(r["cor2_limit_z"]) for r in rows if r["cor2_limit_z"] is not None]
        departs = [r["second_order_departs_at"] for r in rows if r["second_order_departs_at"] is not None]
        lines += [
            f"theorem-2-jensen: min frequency {min(r['jensen_freq'] for r in rows):.4f} (must be 1)",
            f"theorem-2-event: min frequency on E_q {min(r['event_bound_freq'] or 0.0 for r in rows):.4f} (must be "
            f"1); max |P[E_q] - 1/2| / SE = {max(ev, default=float('nan')):.2f}",
            f"theorem-2-expectation: max |MC - formula| / SE at 0 < alpha sigma lambda <= {SMALL_LAMBDA:g}: "
            f"{max(r['second_order_max_z'] for r in rows):.2f} (max abs "
            f"{max(r['second_order_max_abs'] for r in rows):.1e}); an expansion with an O(lambda^4) remainder, it "
            f"first departs by > 4 SE at alpha sigma lambda = {min(departs, default=float('nan')):g}",
            f"corollary-2: max |E[lim H] - 1/n| / SE = {max(c2, default=float('nan')):.2f}",
            f"theorem-1: min (B - bound) = {min(r['thm1_min_gap'] for r in rows):.2e}, extremal max |B - bound| = "
            f"{max(r['thm1_extremal_gap'] for r in rows):.2e}",
            f"outputs: {self.csv_path}, {self.json_path}" + "".join(f", {f}" for f in self.figures),
        ]
        return "\n".join(lines)


def run_study(
    out_dir: str | os.PathLike[str],
    *,
    seed: int = 0,
    n_draws: int | None = None,
    quick: bool = False,
    backend: str = "numpy",
    device: object = None,
    progress: ProgressCallback | None = None,
    configs: Sequence[CoverageConfig] | None = None,
    grid: object = None,
    figures: bool = True,
) -> StudyResult:
    r"""Run (or resume) the coverage study and write ``coverage.csv``, ``coverage.json`` and the figures.

    Args:
        out_dir: output directory (created). It also holds ``manifest.json`` and ``rows.jsonl`` (one finished row per
            line), which make the run resumable.
        seed: integer ``>= 0``; row ``i`` uses ``SeedSequence(seed, spawn_key=(i,))``.
        n_draws: realisations per simulation (default :data:`DEFAULT_N_DRAWS`, or :data:`QUICK_N_DRAWS` when
            ``quick``).
        quick: the 6-row quick study on :data:`QUICK_GRID` (unless ``configs``/``grid`` are given).
        backend, device: see :func:`bounds.simulate.simulate_helpfulness`.
        progress: called after each row with a :class:`StudyProgress` (e.g. :func:`bounds._progress.stderr_progress`);
            an exception it raises stops the run with the rows so far saved.
        configs: configurations to run instead of :func:`default_configs`.
        grid: grid of :math:`\alpha\sigma\lambda\ge0` instead of the default one.
        figures: write the PNG figures.

    Returns:
        :class:`StudyResult`.

    Raises:
        ResumeMismatchError: ``out_dir`` holds a study with a different fingerprint.
        ValueError: bad parameters.
    """
    t0 = time.perf_counter()
    seed = check_integer("seed", seed, 0)
    dev = resolve_device(backend, device)
    n = check_integer("n_draws", (QUICK_N_DRAWS if quick else DEFAULT_N_DRAWS) if n_draws is None else n_draws, 2)
    g = _check_grid((QUICK_GRID if quick else DEFAULT_GRID) if grid is None else grid)
    cfgs = list(default_configs(quick) if configs is None else configs)
    if not cfgs:
        raise ParameterError("configs must hold at least one configuration")
    for c in cfgs:
        if not isinstance(c, CoverageConfig):
            raise TypeError(f"configs must hold CoverageConfig objects, got {type(c).__name__}")
    keys = [row_key(c, i, seed=seed, n_draws=n, grid=g, backend=backend, device=dev) for i, c in enumerate(cfgs)]
    fp = fingerprint(keys)
    settings = {
        "fingerprint": fp,
        "seed": seed,
        "n_draws": n,
        "grid": g.tolist(),
        "backend": backend,
        "device_type": dev.split(":")[0],
        "n_configs": len(cfgs),
        "version": STUDY_VERSION,
        "small_lambda": SMALL_LAMBDA,
        "thm1_instances": N_INSTANCES,
        "thm1_delta": THM1_DELTA,
    }
    out = Path(out_dir)
    FingerprintStore(
        out, settings, prefix=f"{out} holds a study with another fingerprint than {fp!r}",
        suffix="; use another out_dir or delete it", key=None, opaque={"fingerprint": "the configurations"},
    )  # fmt: skip
    jsonl = out / "rows.jsonl"
    done: dict[str, dict[str, Any]] = {}
    for rec in read_jsonl(jsonl):
        if rec.get("study") != fp:
            raise ResumeMismatchError(
                f"{jsonl} holds rows of a study with fingerprint {rec.get('study')!r}, not {fp!r} (different "
                "configurations, seed, n_draws, grid, backend or device type); use another out_dir or delete it"
            )
        done[rec["key"]] = rec["row"]
    rows: list[dict[str, Any]] = []
    n_resumed = 0
    for i, (c, key) in enumerate(zip(cfgs, keys, strict=True)):
        resumed = key in done
        if resumed:
            row, secs = done[key], 0.0
            n_resumed += 1
        else:
            t1 = time.perf_counter()
            row = evaluate_config(c, i, seed=seed, n_draws=n, grid=g, backend=backend, device=dev)
            secs = time.perf_counter() - t1
            with jsonl.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"study": fp, "key": key, "row": row}) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        rows.append(row)
        if progress is not None:
            progress(StudyProgress(done=i + 1, total=len(cfgs), row=row, seconds=secs, resumed=resumed))
    csv_path, json_path = out / "coverage.csv", out / "coverage.json"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(CSV_FIELDS), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r[k] is None else r[k]) for k in CSV_FIELDS})
    json_path.write_text(
        json.dumps(
            {"settings": settings, "fields": ROW_FIELDS, "claims": _CLAIMS, "rows": rows}, indent=1, allow_nan=False
        )
        + "\n",
        encoding="utf-8",
    )
    figs = write_figures(out, rows, seed=seed) if figures else ()
    return StudyResult(
        out_dir=out,
        rows=rows,
        fingerprint=fp,
        csv_path=csv_path,
        json_path=json_path,
        jsonl_path=jsonl,
        figures=tuple(figs),
        elapsed_s=time.perf_counter() - t0,
        n_resumed=n_resumed,
        settings=settings,
    )


_CLAIMS = {
    "theorem-2": "P[(6) holds for every lambda of the grid] >= 1 - 2/k (as stated; fails)",
    "theorem-2-jensen": "the Jensen bound holds on every draw (frequency 1)",
    "theorem-2-event": "P[E_q] = 1/2 for symmetric laws; on E_q the event bound holds (frequency 1)",
    "theorem-2-expectation": "E[H] = second-order formula + O(lambda^4) (all tokens noised, symmetric law)",
    "corollary-2": "E[lim H] = 1/n with all n answers noised",
    "theorem-1": "B >= tanh(Delta ||delta||/2 + artanh B0) under Assumption 2; equality on the two-token instance",
}


_SHAPE_COLORS = {"uniform": "tab:blue", "dirichlet": "tab:orange", "zipf": "tab:green", "two_dominant": "tab:red"}


def _fig_theorem_2(rows: list[dict[str, Any]], path: Path) -> None:
    """Per law: the frequency that (6) FAILS somewhere on the grid, 1 - thm2_freq (±2 SE), against the claimed
    failure probability 2/k, on log-log axes (points above the line by more than their error bars refute)."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import NullFormatter

    laws = list(dict.fromkeys(r["law"] for r in rows))
    ncol = min(len(laws), 2)
    nrow = math.ceil(len(laws) / ncol)
    fig, axes = new_figure((6.0 * ncol, 4.4 * nrow), nrow, ncol, layout="constrained", sharey=True, squeeze=False)
    axes = axes.ravel()
    ks = sorted({r["k"] for r in rows})
    kk = np.geomspace(min(ks) / 1.3, max(ks) * 1.3, 200)
    shapes = list(dict.fromkeys(r["shape"].split("(")[0] for r in rows))
    offsets = {s: 1.0 + 0.07 * (j - (len(shapes) - 1) / 2) for j, s in enumerate(shapes)}
    floor = 0.5 / max(r["n_draws"] for r in rows)
    for ax, law in zip(axes, laws, strict=False):
        ax.plot(kk, 2 / kk, color="black", lw=1.5)
        for r in (r for r in rows if r["law"] == law):
            s = r["shape"].split("(")[0]
            x = r["k"] * offsets[s] * (1.0 + 0.025 * np.sign(r["p0"] - 0.35))
            fail = max(1.0 - r["thm2_freq"], floor)
            color = _SHAPE_COLORS.get(s, "gray")
            ax.errorbar(
                x, fail, yerr=2 * r["thm2_se"], fmt="o" if r["eps"] == 0 else "D", color=color,
                mfc=color if r["p0"] >= 0.35 else "white", ms=5, capsize=2,
            )  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("k, number of noised top-k tokens (log scale)")
        ax.set_ylabel("P[eq. (6) fails at some λ of the grid]")
        ax.set_title(f"noise law D = {law}")
        ax.grid(alpha=0.3, which="both")
    for ax in axes[len(laws) :]:
        ax.set_visible(False)
    handles = [Line2D([], [], color="black", label="claimed: P[fail] ≤ 2/k (Theorem 2)")]
    handles += [Line2D([], [], ls="", marker="o", color=_SHAPE_COLORS.get(s, "gray"), label=s) for s in shapes]
    handles += [
        Line2D([], [], ls="", marker="o", color="gray", mfc="gray", label="p0 ≥ 0.35 (filled)"),
        Line2D([], [], ls="", marker="o", color="gray", mfc="white", label="p0 < 0.35 (hollow)"),
        Line2D([], [], ls="", marker="D", color="gray", label="tail ε > 0 (diamond)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8)
    fig.suptitle(
        "Theorem 2 as stated: Monte-Carlo frequency (±2 SE) that eq. (6) fails vs the claimed 2/k\n"
        "(above the line = the claimed probability 1 − 2/k is not met)"
    )
    save(fig, path)


def _pick_rows(rows: list[dict[str, Any]], n: int = 4) -> list[dict[str, Any]]:
    wanted = [
        lambda r: r["k"] == 4 and r["shape"].startswith("uniform") and r["p0"] == 0.5,
        lambda r: r["k"] == 3 and r["p0"] == 0.2,  # a* a minority answer: E[H] rises towards 1/n
        lambda r: r["k"] == 10 and r["shape"].startswith("zipf"),
        lambda r: r["k"] == 50 and r["shape"].startswith("two_dominant"),
    ]
    picked: list[dict[str, Any]] = []
    for pred in wanted:
        r = next((r for r in rows if r["eps"] == 0 and pred(r) and r not in picked), None)
        if r is not None:
            picked.append(r)
    for r in rows:
        if len(picked) >= n:
            break
        if r not in picked:
            picked.append(r)
    return picked[:n]


def _fig_expected(rows: list[dict[str, Any]], path: Path) -> None:
    picked = _pick_rows(rows)
    ncol = min(len(picked), 2)
    nrow = math.ceil(len(picked) / ncol)
    fig, axes = new_figure((6.0 * ncol, 4.0 * nrow), nrow, ncol, layout="constrained", squeeze=False)
    axes = axes.ravel()
    for ax, r in zip(axes, picked, strict=False):
        g = np.asarray(r["grid"])
        mh, se = np.asarray(r["mean_H"]), np.asarray(r["mean_H_se"])
        so = np.asarray(r["second_order"])
        ax.plot(g, mh, color="tab:blue", lw=1.8, label="E[H] Monte Carlo (all tokens noised)")
        ax.fill_between(g, mh - 2 * se, mh + 2 * se, color="tab:blue", alpha=0.25, label="±2 SE")
        keep = (so >= -0.05) & (so <= 1.05)
        ax.plot(g[keep], so[keep], "--", color="tab:orange", lw=1.5, label="second-order formula (§12.2c)")
        ax.axhline(r["cor2_claimed"], color="black", ls=":", lw=1.2, label=f"1/n = 1/{r['cor2_n']} (Corollary 2)")
        ax.axhline(r["p0"], color="gray", ls="-.", lw=0.8, label="p0 (unsteered)")
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xlim(0.0, float(g.max()) * 1.05)
        ax.set_xlabel("ασλ  (‖δ‖ in units of 1/σ; symlog scale)")
        ax.set_ylabel("expected helpfulness E[H] (probability)")
        ax.set_title(f"k={r['k']}, {r['shape']}, {r['law']}, p0={r['p0']:.2f}", fontsize=10)
        ax.set_ylim(0.0, 1.0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for ax in axes[len(picked) :]:
        ax.set_visible(False)
    fig.suptitle("Expected helpfulness under Assumption-3 noise: MC vs second-order formula vs 1/n")
    save(fig, path)


def _fig_theorem_1(rows: list[dict[str, Any]], path: Path, seed: int) -> None:
    fig, ax = new_figure((7.5, 5.0), layout="constrained")
    norms = np.linspace(0.0, 8.0, 161)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1 << 30,)))
    examples = [hard_margin_instance(rng, 3, 3, delta=THM1_DELTA, B0=b0, slack=2.0) for b0 in (-0.8, -0.3, 0.3)]
    examples.append(two_token_extremal(-0.6, THM1_DELTA))
    colors = ["tab:blue", "tab:orange", "tab:green", "black"]
    for j, (inst, c) in enumerate(zip(examples, colors, strict=False)):
        ext = j == len(examples) - 1
        name = "two-token extremal" if ext else f"6 tokens, B0 = {inst.B0:+.2f}"
        ax.plot(norms, inst.behavior(norms), color=c, lw=2.0, label=f"exact B, {name}")
        if ext:
            ax.plot(norms[::8], inst.theorem_1_bound(norms[::8]), ls="", marker="o", mfc="white", color=c, ms=5,
                    label="its Theorem 1 bound (equal)")  # fmt: skip
        else:
            ax.plot(norms, inst.theorem_1_bound(norms), color=c, ls="--", lw=1.2)
    ax.plot([], [], color="gray", ls="--", label="Theorem 1 bound tanh(Δ‖δ‖/2 + artanh B0)")
    worst = min((r["thm1_min_gap"] for r in rows), default=float("nan"))
    ext_gap = max((r["thm1_extremal_gap"] for r in rows), default=float("nan"))
    ax.set_xlabel("‖δ‖ = αλ (steering norm; full-gap margin Δ = 1)")
    ax.set_ylabel("behavior expectation B (in [−1, 1])")
    ax.set_title(
        "Theorem 1 on hard-margin instances (Assumption 2)\n"
        f"over the study: min(B − bound) = {worst:.1e} (rounding), extremal max|B − bound| = {ext_gap:.1e}",
        fontsize=10,
    )
    ax.set_ylim(-1.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    save(fig, path)


def write_figures(out_dir: str | os.PathLike[str], rows: list[dict[str, Any]], *, seed: int = 0) -> list[Path]:
    """Write the three PNG figures of the study (docs/api/simulate.md) into ``out_dir`` and return their paths."""
    if not rows:
        raise ValueError("rows must hold at least one row")
    out = Path(out_dir)
    paths = [out / "theorem2_coverage.png", out / "expected_helpfulness.png", out / "theorem1_tightness.png"]
    _fig_theorem_2(rows, paths[0])
    _fig_expected(rows, paths[1])
    _fig_theorem_1(rows, paths[2], seed)
    return paths
