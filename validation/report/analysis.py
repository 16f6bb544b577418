r"""From the sweeps' arrays to the :class:`~validation.report.schema.CheckReport`: curves, assumptions, parameters,
bounds and fits, through the pure functions of :mod:`validation.measure` (what each measures: ``docs/check.md``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import schema
from .schema import (
    BoundEntry,
    CandidateLambda,
    CandidateLambdas,
    CheckReport,
    Curve,
    Fit,
    KLBudget,
    KLDivergence,
    Parameter,
    ParameterSpread,
    Slopes,
    Steerability,
    drop_duplicates,
)

__all__ = ["analyse", "curve_summary", "steering_norms", "token_projections"]

#: Short legend names of the curves and bounds (the ``label``/``title`` keep the full description).
LEGENDS = {
    "delta_norm_post": "‖δ‖ after the final norm",
    "delta_norm_pre": "‖Δh‖ pre-norm residual",
    "delta_logit_norm": "‖Uδ‖",
    "mmlu_delta_norm_post": "‖δ‖ on MMLU",
    "B_single": "B single token",
    "B_single_binary": "B binary (A± only)",
    "coverage_single": "P(A+) + P(A−)",
    "B_generated": "B generated (greedy)",
    "positive_label_fraction_generated": "fraction classified aligned",
    "H_mmlu_full": "MMLU P(correct), full vocab",
    "H_mmlu_restricted": "MMLU P(correct | A–D)",
    "acc_mmlu": "MMLU accuracy",
    "H_piqa": "PIQA P(correct | choices)",
    "acc_piqa": "PIQA accuracy",
    "theorem_1": "Theorem 1 (α|λ|)",
    "theorem_1_norm": "Theorem 1 (measured ‖δ‖)",
    "theorem_2_as_stated": "Theorem 2 as stated",
    "helpfulness_expectation": "2nd-order E[H]",
}


def curve_summary(values: np.ndarray, label: str, unit: str = "", level: float = 0.95) -> dict[str, Any]:
    """Mean ± SE across queries (axis 0) per λ, NaN-aware (NaN cells are left out of that λ's mean)."""
    v = np.asarray(values, dtype=float)
    n = np.sum(np.isfinite(v), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.nansum(np.where(np.isfinite(v), v, 0.0), axis=0) / np.maximum(n, 1), np.nan)
        sd = np.array([np.nanstd(v[:, g], ddof=1) if n[g] > 1 else np.nan for g in range(v.shape[1])])
        se = sd / np.sqrt(np.maximum(n, 1))
    return {"mean": mean, "se": se, "n": int(v.shape[0]), "n_per_lambda": n, "label": label, "unit": unit}


def token_projections(W: Any, ids: Sequence[int] | np.ndarray, direction: np.ndarray) -> np.ndarray:
    r""":math:`z_s=\langle u_s,\hat\delta\rangle` for token rows ``ids`` (shared, 1-D) or per query (2-D ids)."""
    import torch

    d = torch.as_tensor(direction, dtype=torch.float32)
    d = d / torch.linalg.norm(d, dim=-1, keepdim=True).clamp_min(1e-30)
    ids_t = torch.as_tensor(np.asarray(ids), dtype=torch.long)
    U = W[ids_t]  # (m, d) or (n, k, d)
    if U.ndim == 2:
        return torch.einsum("...d,md->...m", d, U).numpy()
    return torch.einsum("nd,nkd->nk", d, U).numpy()


def steering_norms(sweep: Any, W: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Per (query, λ): :math:`\lVert\delta\rVert` after the final norm, of the pre-norm residual stream, and
    :math:`\lVert U\delta\rVert` (``W``: the unembedding matrix, ``(V, d)`` torch tensor), each ``(n, G)``."""
    d_post = sweep.delta("post")
    return (
        np.linalg.norm(d_post, axis=-1),
        np.linalg.norm(sweep.delta("pre"), axis=-1),
        _logit_norms(W, d_post),
    )


def _logit_norms(W: Any, delta: np.ndarray, chunk: int = 64) -> np.ndarray:
    r""":math:`\lVert U\delta\rVert` for every row of ``delta`` (..., d), in chunks."""
    import torch

    flat = torch.as_tensor(delta.reshape(-1, delta.shape[-1]), dtype=torch.float32)
    out = [torch.linalg.norm(flat[s : s + chunk] @ W.T, dim=-1) for s in range(0, flat.shape[0], chunk)]
    return torch.cat(out).numpy().reshape(delta.shape[:-1])


def _per_query_bound(
    fn: Callable[..., Any], lam: np.ndarray, params: list[tuple[Any, ...] | str]
) -> tuple[np.ndarray, dict[str, str], np.ndarray]:
    """Evaluate ``fn(*params[q])`` per query; a string entry (the reason) excludes the query. Returns the rows,
    the excluded queries with their reasons, and which queries were used."""
    rows, excluded = [], {}
    for q, p in enumerate(params):
        if isinstance(p, str):
            excluded[str(q)] = p
            continue
        try:
            rows.append(np.asarray(fn(*p), dtype=float))
        except ValueError as e:
            excluded[str(q)] = f"bound undefined: {e}"
    used = np.array([not isinstance(p, str) and str(i) not in excluded for i, p in enumerate(params)])
    return (np.vstack(rows) if rows else np.full((0, lam.size), np.nan)), excluded, used


def _bound_entry(
    title: str,
    measured_key: str,
    lam: np.ndarray,
    measured: np.ndarray,
    per_query: tuple[np.ndarray, dict[str, str], np.ndarray],
    kind: Any,
    status: str,
    note: str,
    compare: bool = True,
) -> BoundEntry:
    from ..measure import compare_with_bound

    bound_rows, excluded, used = per_query
    entry = BoundEntry(
        title=title,
        measured=measured_key,
        status=status,
        note=note,
        n_queries_used=int(used.sum()),
        excluded=excluded,
        kind=kind if isinstance(kind, str) else "mixed",
    )
    if not used.any():
        reasons = sorted(set(excluded.values()))
        entry.values = [None] * lam.size
        entry.applicable = False
        entry.reason = "no query satisfies its hypotheses" + (
            f" ({reasons[0].split(':')[0]}{', ...' if len(reasons) > 1 else ''})" if reasons else ""
        )
        entry.note = note + " Not compared: no query satisfies the bound's hypotheses."
        return entry
    entry.applicable = True
    values = np.mean(bound_rows, axis=0)
    sub = curve_summary(measured[used], measured_key)
    entry.values = values
    entry.measured_mean_used = sub["mean"]
    entry.measured_se_used = sub["se"]
    if compare:
        cmp = compare_with_bound(lam, sub["mean"], np.nan_to_num(sub["se"], nan=0.0), values, kind=kind)
        entry.comparison = {k: v for k, v in cmp.to_dict().items() if k != "lam"}  # lam: lambda_grid.values
        per_q_excess = (bound_rows - measured[used]) * np.where(np.asarray(kind) == "upper", -1.0, 1.0)
        entry.per_query_violation_fraction = np.mean(per_q_excess > 1e-9, axis=0)
    return entry


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for name in ("steering-bounds", "torch", "transformers", "numpy", "scipy", "lmfit"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def analyse(
    *,
    cfg: Any,
    lm: Any,
    spec: Any,
    btoks: Any,
    layers: list[int],
    grid: np.ndarray,
    zero: int,
    W: Any,
    na: int,
    bs: Any,
    texts: list[list[str]] | None,
    ms: Any,
    mmlu_items: list[Any] | None,
    letter_ids: list[list[int]] | None,
    piqa: dict[str, np.ndarray] | None,
    piqa_items: list[Any] | None,
    layer_convention: str,
    lambda_grid: dict[str, Any],
    data: dict[str, Any],
    vectors: dict[str, Any],
    benign: Any = None,
) -> CheckReport:
    """The check report of the sweeps' arrays (``check`` adds the run times); ``benign``: the sweep of the benign
    matched prompts (a ``PromptSweep`` with ``kl``; ``None``: none, the reason in ``data["benign_prompts"]``)."""
    behavior = {
        "name": spec.name,
        "documentation": spec.documentation,
        "aligned": list(spec.aligned),
        "misaligned": list(spec.misaligned),
        "n_aligned_ids": len(btoks.aligned.ids),
        "n_misaligned_ids": len(btoks.misaligned.ids),
        "warnings": list(btoks.warnings),
        "degenerate_B0_single": {},
        "tokens": btoks.to_dict(),
    }
    r = CheckReport(
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        versions=_versions(),
        config=cfg.to_dict(),
        model=lm.metadata(),
        behavior=behavior,
        layers=layers,
        layer_convention=layer_convention,
        lambda_grid=lambda_grid,
        data=data,
        vectors=vectors,
    )
    level = cfg.level
    n_post, alpha, a2, win = _assumptions(r, grid, zero, W, na, bs, btoks, level)
    b1 = _curves(r, grid, zero, na, bs, texts, spec, level)
    _theorem_1(r, grid, zero, b1, a2, alpha, n_post)
    _steerability(r, grid, na, bs, b1, a2, alpha, win, level)
    hc = cl = None
    if ms is not None and mmlu_items is not None and letter_ids is not None:
        hc = _mmlu(r, cfg, grid, zero, W, ms, mmlu_items, letter_ids, alpha, win)
    if piqa is not None and piqa_items is not None:
        cl = _piqa(r, grid, zero, piqa, piqa_items, level)
    r.fits = _fits(grid, b1.B_binary, {"mmlu": hc, "piqa": cl}, alpha, a2, r.parameters)
    _kl(r, grid, ms, piqa, alpha, getattr(cfg, "kl_budget", 0.1), level)
    _kl_benign(r, grid, benign, alpha, level)
    r.candidates = _candidates(r, grid, alpha, getattr(cfg, "target_behavior", 0.5))
    r.summary = _summary(r.verdicts, r.bounds, r.chance, r.behavior, r.steerability)
    for key, curve in r.curves.items():
        curve.legend = LEGENDS.get(key, curve.label)
    for key, entry in r.bounds.items():
        entry.legend = LEGENDS.get(key, entry.title)
    details = {name: {"details": a.details} for name, a in r.assumptions.items() if hasattr(a, "details")}
    drop_duplicates({"assumptions": details, "behavior": r.behavior})  # the details' copies of stored quantities
    return r


#: the window of the estimates read at λ = 0 (B0, p0, accuracy at λ = 0)
_AT_ZERO = {"window": "λ = 0", "window_lam": [0.0]}


def _curve(values: np.ndarray, label: str, unit: str = "") -> Curve:
    return Curve(**curve_summary(values, label, unit))


def _assumptions(
    r: CheckReport, grid: np.ndarray, zero: int, W: Any, na: int, bs: Any, btoks: Any, level: float
) -> tuple[np.ndarray, float, Any, Any]:
    """Assumption 1 (‖δ‖ curves, α) and Assumptions 2 and 4 (projections, Δ on each window) on the behavior
    prompts; also returns the window α rests on (:func:`validation.measure.alpha_window`, ``None`` without α)."""
    from ..measure import alpha_window, assumption_1, assumption_2

    d_post = bs.delta("post")
    n_post, n_pre, n_logit = steering_norms(bs, W)
    a1 = assumption_1(grid, n_post, residual_norms=n_pre, logit_norms=n_logit, level=level)
    r.curves["delta_norm_post"] = _curve(n_post, "||delta|| after the final norm (what U multiplies)", "hidden units")
    r.curves["delta_norm_pre"] = _curve(n_pre, "||delta|| of the pre-norm residual stream (last block output)", "")
    r.curves["delta_logit_norm"] = _curve(n_logit, "||U delta|| (logit change)", "logits")
    alpha = a1.alpha.mean if a1.alpha is not None else float("nan")
    linear_range = _linear_range(a1.quantities["delta_final"])
    r.assumptions["assumption_1"] = schema.Assumption1(a1.verdict, linear_range, a1.to_dict())
    win = alpha_window(grid, a1)
    r.parameters["alpha"] = (
        None if a1.alpha is None else _aq(a1.alpha, n=None, side=a1.alpha_side, **_window_of(win, nonzero_only=True))
    )

    nonzero = grid != 0.0
    dirs = d_post[:, nonzero]
    z_a = token_projections(W, btoks.aligned.ids, dirs)
    z_m = token_projections(W, btoks.misaligned.ids, dirs)
    P0 = np.exp(bs.logprobs[:, zero].astype(float))
    a2 = assumption_2(z_a, z_m, P0[:, :na], P0[:, na:], lam=grid[nonzero], level=level)

    def full_grid(x: np.ndarray | None) -> np.ndarray | None:
        if x is None:
            return None
        y = np.full(grid.size, np.nan)
        y[nonzero] = np.asarray(x, dtype=float)
        return y

    r.assumptions["assumption_2"] = schema.Assumption2(
        a2.verdict,
        margin_mean=full_grid(a2.margin_summary.mean),
        margin_min=full_grid(a2.margin_min),
        mean_gap_mean=full_grid(a2.mean_gap_summary.mean),
        fraction_positive_margin=full_grid(a2.fraction_positive_margin),
        z_aligned_mean=full_grid(z_a.mean(axis=(0, 2))),
        z_misaligned_mean=full_grid(z_m.mean(axis=(0, 2))),
        z_aligned_min_mean=full_grid(z_a.min(axis=2).mean(axis=0)),
        z_misaligned_max_mean=full_grid(z_m.max(axis=2).mean(axis=0)),
        details=a2.to_dict(),
    )
    r.assumptions["assumption_4"] = schema.Assumption4(
        a2.verdict_soft,
        rho_mean=None if a2.rho_summary is None else full_grid(a2.rho_summary.mean),
        soft_margin_mean=None if a2.soft_margin_summary is None else full_grid(a2.soft_margin_summary.mean),
    )
    _margin_windows(r, grid, a2, win, level)
    return n_post, alpha, a2, win


def _window_of(win: Any, nonzero_only: bool = False) -> dict[str, Any]:
    """``window``/``window_lam`` of a :class:`Parameter` resting on :class:`validation.measure.Window` ``win``."""
    if win is None:
        return {}
    lam = win.lam[win.lam != 0] if nonzero_only else win.lam
    return {"window": win.text, "window_lam": lam}


def _margin_windows(r: CheckReport, grid: np.ndarray, a2: Any, win: Any, level: float) -> None:
    """The hard margin Δ (mean over queries of each query's minimum over a window) on the whole grid -- the Δ of the
    bounds --, on λ > 0 and on α's window, each with the window it rests on."""
    from ..measure import grid_window, minimum_over

    lam = grid[grid != 0.0]
    windows = {"Delta": grid_window(grid, "whole_grid", lam.min(), lam.max(), "whole grid, λ ≠ 0")}
    if (lam > 0).any():
        pos = lam[lam > 0]
        windows["Delta_positive"] = grid_window(grid, "positive", pos.min(), pos.max(), "λ > 0")
    if win is not None and win.contains(lam).any():
        windows["Delta_linear_window"] = win
    for key, w in windows.items():
        _, summary = minimum_over(lam, a2.margin, w, level)
        r.parameters[key] = _aq(summary, **_window_of(w, nonzero_only=True))


def _steerability(
    r: CheckReport, grid: np.ndarray, na: int, bs: Any, b1: Any, a2: Any, alpha: float, win: Any, level: float
) -> None:
    """Per-query slopes of the binary B and of log P(A+) - log P(A-) on α's window, against αΔ_q on that window."""
    from scipy.special import logsumexp

    from ..measure import grid_window, minimum_over, steerability

    lam = grid[grid != 0.0]
    drive = np.full(b1.B_binary.shape[0], np.nan)
    if win is None:  # no α, so no α window and no drive: the smallest |λ| <= L holding 3 grid points
        L = np.sort(np.abs(grid))[min(2, grid.size - 1)]
        win = grid_window(grid, "small", -L, L, f"|λ| ≤ {L:.3g} (no α window: the 3 grid points nearest 0)")
    else:
        drive = alpha * minimum_over(lam, a2.margin, win, level)[0]
    lp = bs.logprobs.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logit_diff = logsumexp(lp[:, :, :na], axis=-1) - logsumexp(lp[:, :, na:], axis=-1)
    res = steerability(
        grid,
        {"B_single_binary": b1.B_binary, "logit_difference": logit_diff},
        drive,
        window=(win.low, win.high),
        labels={
            "B_single_binary": "binary single-token B = (P(A+) - P(A-)) / (P(A+) + P(A-))",
            "logit_difference": "log P(A+) - log P(A-) (refusal minus compliance)",
        },
        level=level,
    )
    r.steerability = Steerability(
        window=win.text,
        window_lam=res.window_lam,
        rule=(
            "ordinary least squares of each prompt's values on lambda over the grid points of the window (lambda = 0 "
            "included; non-finite cells left out), where ||delta|| grows like alpha |lambda| (Assumption 1) and the "
            "first-order picture of Theorem 1 applies (d/dlambda (log P+ - log P-) >= alpha Delta_q, dB/dlambda = "
            "(1 - B^2)/2 times that for the binary B); interval: Student t from the residuals with m - 2 degrees of "
            "freedom (a prompt with 2 finite points has its secant slope and no interval: undetermined); wrong way: "
            "the interval lies entirely below 0, its share over the prompts with an interval, Wilson interval"
        ),
        drive=res.drive,
        drive_definition=(
            "alpha Delta_q: alpha of Assumption 1 (one value for every prompt, so the rank correlation is that with "
            "Delta_q), Delta_q the prompt's hard margin (Assumption 2) minimised over the lambda != 0 of the window"
        ),
        level=level,
        measures={k: Slopes(**v.to_dict()) for k, v in res.measures.items()},
    )


def _curves(r: CheckReport, grid: np.ndarray, zero: int, na: int, bs: Any, texts: Any, spec: Any, level: float) -> Any:
    """The behavior curves (single token, binary, generated) and their B0."""
    from .. import behaviors
    from ..measure import across_queries, behavior_generated, behavior_room, behavior_single_token

    P = np.exp(bs.logprobs.astype(float))
    p_plus, p_minus = P[:, :, :na].sum(-1), P[:, :, na:].sum(-1)
    b1 = behavior_single_token(np.clip(p_plus, 0, 1), np.clip(p_minus, 0, 1), lam=grid, level=level)
    r.curves["B_single"] = _curve(b1.B, "B single token: P(A+) - P(A-)")
    r.curves["B_single_binary"] = _curve(b1.B_binary, "B binary: (P(A+) - P(A-)) / (P(A+) + P(A-))")
    r.curves["coverage_single"] = _curve(b1.coverage, "P(A+) + P(A-)")
    r.parameters["B0_single"] = _aq(b1.B0_summary, **_AT_ZERO)
    finite_b0 = b1.B_binary[:, zero][np.isfinite(b1.B_binary[:, zero])]
    r.parameters["B0_single_binary"] = (
        _aq(across_queries(finite_b0, level), **_AT_ZERO) if finite_b0.size >= 2 else None
    )
    r.behavior["degenerate_B0_single"] = {str(k): v for k, v in b1.degenerate_reasons.items()}
    if texts is not None:
        scores = np.array([[behaviors.classify_response(t, spec) for t in row] for row in texts], dtype=float)
        bg = behavior_generated(scores, lam=grid, level=level)
        r.curves["B_generated"] = _curve(bg.B, "B generated (greedy response, rule-based classifier)")
        r.parameters["B0_generated"] = _aq(
            bg.B0_summary,
            degenerate_queries=len(bg.degenerate_reasons),
            all_degenerate=bg.all_degenerate,
            **_AT_ZERO,
        )
        r.curves["positive_label_fraction_generated"] = _curve(
            (scores == 1).astype(float), f"fraction of responses classified {spec.positive_label}"
        )
        r.behavior["room"] = behavior_room(scores == 1, grid, spec.positive_label).to_dict()
    return b1


def _theorem_1(r: CheckReport, grid: np.ndarray, zero: int, b1: Any, a2: Any, alpha: float, n_post: np.ndarray) -> None:
    """Theorem 1 per query on the binary single-token behavior, with α|λ| and with the measured ‖δ‖."""
    import bounds

    B0b = b1.B_binary[:, zero]
    params_t1: list[Any] = []
    for q in range(B0b.size):
        reason = None
        if not np.isfinite(B0b[q]):
            reason = "P(A+) + P(A-) = 0 at lambda = 0: binary B0 undefined"
        elif abs(B0b[q]) >= 1.0:
            reason = f"B0 = {B0b[q]:+.0f}: artanh(B0) is infinite, the bound is the constant +-1 (degenerate)"
        elif not a2.delta_per_query[q] > 0:
            dq = a2.delta_per_query[q]
            reason = f"hard margin Delta_q <= 0: Assumption 2 fails for this query (Delta_q = {dq:.3g})"
        elif not np.isfinite(alpha):
            reason = "alpha undefined (Assumption 1 has no estimate)"
        params_t1.append(reason or (alpha, B0b[q], grid, a2.delta_per_query[q]))
    kind_t1 = np.where(grid >= 0, "lower", "upper")
    rows, excl, used = _per_query_bound(bounds.alignment_lower, grid, params_t1)
    r.bounds["theorem_1"] = _bound_entry(
        "Theorem 1: tanh(alpha lambda Delta / 2 + artanh B0) with measured alpha, per-query Delta and B0",
        "B_single_binary",
        grid,
        b1.B_binary,
        (rows, excl, used),
        kind_t1,
        bounds.statement("theorem-1").status,
        "Lower bound for lambda >= 0, upper for lambda < 0, per query; compared on the mean over the queries it "
        "applies to (the mean of per-query bounds bounds the mean behavior).",
    )
    signs = np.sign(grid)  # alignment_lower_norm takes ||delta|| >= 0: apply the sign via the form
    rows_n = [
        np.tanh(p[3] * (signs * n_post[q]) / 2.0 + np.arctanh(p[1]))
        for q, p in enumerate(params_t1)
        if not isinstance(p, str)
    ]
    r.bounds["theorem_1_norm"] = _bound_entry(
        "Theorem 1 with the measured ||delta|| instead of alpha|lambda| (no Assumption 1 needed)",
        "B_single_binary",
        grid,
        b1.B_binary,
        (np.vstack(rows_n) if rows_n else np.full((0, grid.size), np.nan), excl, used),
        kind_t1,
        "holds",
        "tanh(Delta ||delta|| sign(lambda) / 2 + artanh B0) per query.",
    )


def _mmlu(
    r: CheckReport,
    cfg: Any,
    grid: np.ndarray,
    zero: int,
    W: Any,
    ms: Any,
    mmlu_items: list[Any],
    letter_ids: list[list[int]],
    alpha: float,
    win: Any = None,
) -> Any:
    """MMLU helpfulness curves, p0 and chance, then Assumption 3 (σ's spread over α's window ``win``) and the
    Theorem 2 bounds."""
    from ..measure import at_chance, helpfulness_curves, p0_interval

    level = cfg.level
    sizes = [len(v) for v in letter_ids]
    offsets = np.cumsum([0, *sizes])
    Pm = np.exp(ms.logprobs.astype(float))  # (n, G, m)
    per_letter = np.stack([Pm[:, :, offsets[i] : offsets[i + 1]].sum(-1) for i in range(4)], axis=-1)
    correct = np.array([it.answer for it in mmlu_items])
    p_full = per_letter[np.arange(len(correct)), :, correct]
    p_restr = p_full / np.maximum(per_letter.sum(-1), 1e-300)
    hc = helpfulness_curves(np.clip(p_full, 0, 1), np.clip(p_restr, 0, 1), lam=grid, level=level)
    r.curves["H_mmlu_full"] = _curve(hc.full, "MMLU P(correct letter), full vocabulary")
    r.curves["H_mmlu_restricted"] = _curve(hc.restricted, "MMLU P(correct letter | A-D)")
    acc = (np.argmax(per_letter, axis=-1) == correct[:, None]).astype(float)
    r.curves["acc_mmlu"] = _curve(acc, "MMLU accuracy (argmax over A-D)")
    norms_m = np.linalg.norm(ms.delta("post"), axis=-1)
    r.curves["mmlu_delta_norm_post"] = _curve(norms_m, "||delta|| on MMLU")
    r.parameters["p0_mmlu_full"] = Parameter(**p0_interval(p_full[:, zero], level).to_dict(), **_AT_ZERO)
    r.parameters["p0_mmlu_restricted"] = Parameter(**p0_interval(p_restr[:, zero], level).to_dict(), **_AT_ZERO)
    r.parameters["acc0_mmlu"] = Parameter(**p0_interval(acc[:, zero].astype(bool), level).to_dict(), **_AT_ZERO)
    r.chance["mmlu"] = at_chance(p0_interval(p_restr[:, zero], level), 4).to_dict()
    a3, probs_top, answer_index = _assumption_3(r, ms, correct, letter_ids, norms_m, W, grid, zero, cfg.seed)
    if win is not None:
        _sigma_spread(r, ms, W, grid, win)
    _theorem_2(r, grid, zero, a3, p_full, hc, probs_top, answer_index, alpha)
    return hc


def _assumption_3(
    r: CheckReport,
    ms: Any,
    correct: np.ndarray,
    letter_ids: list[list[int]],
    norms_m: np.ndarray,
    W: Any,
    grid: np.ndarray,
    zero: int,
    seed: int,
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Assumption 3 from the top-k projections at the smallest positive λ, and σ, β, γ."""
    from ..measure import assumption_3

    pos = np.flatnonzero(grid > 0)
    g_ref = int(pos[0]) if pos.size else int(np.flatnonzero(grid != 0.0)[0])
    z_top = token_projections(W, ms.top_ids, ms.delta("post")[:, g_ref])
    probs_top = np.exp(ms.top_logprobs[:, zero].astype(float))
    answer_index = np.full(len(correct), -1, dtype=np.int64)
    for q, c in enumerate(correct):
        hits = [j for j, t in enumerate(ms.top_ids[q]) if int(t) in letter_ids[c]]
        if hits:
            answer_index[q] = hits[0]
    a3 = assumption_3(z_top, np.clip(probs_top, 0, 1), answer_index, seed=seed)
    sigma = a3.sigma
    # spread of the logit changes of the top-k tokens vs ||delta|| (Fig. 10): log-probability changes differ
    # from logit changes by one constant per (query, lambda), so their within-query SD is the logit-change SD
    changes = ms.top_logprobs.astype(float) - ms.top_logprobs[:, zero : zero + 1].astype(float)
    sd_changes = changes.std(axis=2, ddof=1)  # (n, G)
    r.assumptions["assumption_3"] = schema.Assumption3(
        a3.verdict,
        sigma_pooled_differences=a3.sigma_pooled_differences,
        ratio_pooled_to_within=a3.ratio_pooled_to_within,
        tests=a3.tests,
        skewness=a3.skewness,
        excess_kurtosis=a3.excess_kurtosis,
        qq_theoretical=a3.qq_theoretical,
        qq_sample=a3.qq_sample,
        differences=a3.differences,
        top_k_mass_mean=None if a3.top_k_mass is None else float(np.mean(a3.top_k_mass)),
        k=a3.k,
        lambda_ref=float(grid[g_ref]),
        answer_in_top_k_fraction=a3.answer_in_top_k_fraction,
        details={k: v for k, v in a3.to_dict().items() if k not in ("differences", "qq_theoretical", "qq_sample")},
        spread_by_lambda={  # its delta_norm is curves.mmlu_delta_norm_post
            "logit_change_sd": curve_summary(sd_changes, "within-query SD of the top-k logit changes"),
            "sigma_times_norm": sigma * norms_m.mean(axis=0),
            "note": "Assumption 3 with a fixed direction predicts SD = sigma ||delta|| (sigma at lambda_ref)",
        },
    )
    which = "the smallest positive λ" if grid[g_ref] > 0 else "the first λ ≠ 0: the grid has no λ > 0"
    at_ref = {"window": f"λ_ref = {grid[g_ref]:.3g} (z at {which})", "window_lam": [grid[g_ref]]}
    r.parameters["sigma"] = Parameter(
        estimate=sigma, definition="within-query spread of z over the top-k (docs/specification.md §6.1)", **at_ref
    )
    at_ref_p0 = {**at_ref, "window": at_ref["window"] + ", probabilities at λ = 0"}
    r.parameters["beta"] = _aq(a3.beta_summary, **at_ref_p0)
    r.parameters["gamma"] = _aq(a3.gamma_summary, **at_ref_p0)
    return a3, probs_top, answer_index


def _sigma_spread(r: CheckReport, ms: Any, W: Any, grid: np.ndarray, win: Any) -> None:
    """σ read at each λ ≠ 0 of α's window (z of the same top-k tokens on δ̂ at that λ), against the headline σ."""
    from ..measure import sigma_within, spread_over

    sigma = r.parameters["sigma"]
    gs = np.flatnonzero(win.contains(grid) & (grid != 0.0))
    if sigma is None or not sigma.estimate or gs.size == 0:
        return
    d_post = ms.delta("post")
    values = [sigma_within(token_projections(W, ms.top_ids, d_post[:, g])) for g in gs]
    r.spreads["sigma"] = ParameterSpread(**spread_over(grid[gs], values, sigma.estimate, win.text).to_dict())


def _theorem_2(
    r: CheckReport,
    grid: np.ndarray,
    zero: int,
    a3: Any,
    p_full: np.ndarray,
    hc: Any,
    p_top: np.ndarray,
    answer_index: np.ndarray,
    alpha: float,
) -> None:
    """Theorem 2 as stated, and the corrected second-order expectation, per query."""
    import bounds

    sigma = a3.sigma
    params_t2: list[Any] = []
    params_e: list[Any] = []
    for q in range(p_full.shape[0]):
        p0q = p_full[q, zero]
        if a3.beta is None or a3.gamma is None or not (np.isfinite(a3.beta[q]) and np.isfinite(a3.gamma[q])):
            params_t2.append("beta or gamma undefined (answer not among the top-k, or an empty B+/B-)")
        elif not np.isfinite(alpha):
            params_t2.append("alpha undefined")
        else:
            params_t2.append((p0q, a3.gamma[q], alpha, a3.beta[q], sigma, grid))
        if p0q <= 0 or not np.isfinite(alpha):
            params_e.append("p0 = 0 or alpha undefined")
        else:
            others = np.array([p for j, p in enumerate(p_top[q]) if j != answer_index[q]])
            s2 = min(float(np.sum(others**2)), (1 - p0q) ** 2)
            params_e.append((p0q, s2, alpha, sigma, grid))
    r.bounds["theorem_2_as_stated"] = _bound_entry(
        "Theorem 2 as stated (eq. 6): p0 / (p0 + gamma (1 - p0)(1 + (alpha beta sigma lambda)^2 / 2))",
        "H_mmlu_full",
        grid,
        hc.full,
        _per_query_bound(_quiet(bounds.helpfulness_upper), grid, params_t2),
        "upper",
        bounds.statement("theorem-2").status,
        "Per query with measured p0, gamma, beta, the across-query alpha and sigma. The statement fails as a "
        "probability-(1-2/k) bound (docs/specification.md §6.3), so violations are expected evidence, not a bug.",
    )
    r.bounds["helpfulness_expectation"] = _bound_entry(
        "Second-order expectation (docs/specification.md §12.2c): p0 - p0 alpha^2 sigma^2 lambda^2 [p0 (1 - p0) - S2]",
        "H_mmlu_full",
        grid,
        hc.full,
        _per_query_bound(bounds.helpfulness_expectation, grid, params_e),
        "approximation",
        "approximation",
        "An expansion valid for small alpha sigma lambda, not a bound: shown, not compared. S2 is summed over "
        "the top-k tokens other than the answer (the rest of the vocabulary is left out).",
        compare=False,
    )


def _piqa(
    r: CheckReport, grid: np.ndarray, zero: int, piqa: dict[str, np.ndarray], piqa_items: list[Any], level: float
) -> Any:
    """PIQA helpfulness (choice likelihood), accuracy, p0 and chance."""
    from ..measure import at_chance, choice_likelihood, p0_interval

    correct_p = np.array([it.answer for it in piqa_items])
    cl = choice_likelihood(piqa["sums"], correct_p)
    r.curves["H_piqa"] = _curve(cl.p_correct, "PIQA P(correct continuation | choices)")
    r.curves["acc_piqa"] = _curve(cl.credit, "PIQA accuracy (argmax likelihood)")
    r.parameters["p0_piqa"] = Parameter(**p0_interval(cl.p_correct[:, zero], level).to_dict(), **_AT_ZERO)
    r.parameters["acc0_piqa"] = Parameter(**p0_interval((cl.credit[:, zero] >= 0.5), level).to_dict(), **_AT_ZERO)
    r.chance["piqa"] = at_chance(p0_interval(cl.p_correct[:, zero], level), 2).to_dict()
    return cl


#: the measured curves reported at each KL-budget λ and each candidate strength (those the run has)
_AT_BUDGET = ("B_generated", "B_single_binary", "H_mmlu_full", "H_mmlu_restricted", "H_piqa")


def _curves_at(r: CheckReport, grid: np.ndarray, lam: float | None, kl_mean: Any) -> dict[str, float | None]:
    """The measured mean KL on MMLU (``kl_mean`` per grid point, when given) and the curves of :data:`_AT_BUDGET` the
    run has, at ``lam`` (linear interpolation, :func:`validation.measure.interpolate_at`; ``None`` off the grid)."""
    from ..measure import interpolate_at

    at = {} if kl_mean is None else {"kl_mmlu": interpolate_at(grid, kl_mean, lam)}
    for name in _AT_BUDGET:
        if name in r.curves:
            at[name] = interpolate_at(grid, r.curves[name].mean, lam)
    return at


def _kl(r: CheckReport, grid: np.ndarray, ms: Any, piqa: Any, alpha: float, tau: float, level: float) -> None:
    """KL(P_λ‖P_0) measured on MMLU (last prompt token) and PIQA (last context token; per-token mean over the answer
    continuations), against the second-order law and the rigorous bound of :mod:`bounds.kl`; the KL-budget λ.
    Needs the MMLU sweep's KL arrays (a sweep without them -- no MMLU -- leaves ``r.kl`` unset)."""
    from ..measure import across_queries, kl_budget, kl_prediction

    if ms is None or getattr(ms, "kl", None) is None:
        return
    norms = np.linalg.norm(ms.delta("post"), axis=-1)
    pred = kl_prediction(grid, ms.kl, norms, ms.var_z, ms.z_range, alpha, level=level)

    def summary(values: np.ndarray) -> dict[str, Any]:
        a = across_queries(values, level)
        return {"mean": a.mean, "se": a.se, "ci_low": a.ci_low, "ci_high": a.ci_high, "n": a.n}

    measured = {"mmlu": summary(ms.kl)}
    if piqa is not None and "kl_context" in piqa:
        measured["piqa_context"] = summary(piqa["kl_context"])
        measured["piqa_continuation"] = summary(piqa["kl_continuation"].mean(axis=-1))
    b = kl_budget(grid, pred.measured.mean, ms.var_z, ms.z_range, alpha, tau)
    at: dict[str, dict[str, float | None]] = {}
    for name in ("measured", "second_order", "safe_mean", "safe_every_query"):
        lam_b = getattr(b, name)
        at[name] = {"lam": lam_b, **_curves_at(r, grid, lam_b, pred.measured.mean)}
    lam_ref = float(grid[_kl_reference(grid)])
    r.kl = KLDivergence(
        definition=(
            "KL(P_lambda || P_0) = sum_s P_lambda(s) (log P_lambda(s) - log P_0(s)) over the full vocabulary, in "
            "nats, per query and lambda, computed inside the sweep's forward (float64 from the logits). MMLU: the "
            "next-token distribution at the last prompt token; PIQA: at the last context token, and the mean over "
            "each answer continuation's tokens (teacher-forced) of the per-token KL, averaged over the two answers. "
            "Predicted: 1/2 ||delta_q||^2 Var_q (bounds.kl.kl_second_order) with Var_q = Var_{P_0}(z), z = U "
            "delta_hat over the full vocabulary at lam_ref, per MMLU query; bound: ||delta_q||^2 R_q^2 / 8 "
            "(bounds.kl.kl_upper), rigorous only for the exact tilted family P_0(s) e^{||delta|| z_s}"
        ),
        lam_ref=lam_ref,
        level=level,
        var_z=ms.var_z,
        z_range=ms.z_range,
        measured=measured,
        predicted_norm=pred.predicted_norm,
        predicted_alpha=pred.predicted_alpha,
        bound=pred.bound,
        above_bound_fraction=pred.above_bound_fraction,
        factor=pred.factor,
        first_off_positive=pred.first_off_positive,
        first_off_negative=pred.first_off_negative,
        first_above_bound_positive=pred.first_above_bound_positive,
        first_above_bound_negative=pred.first_above_bound_negative,
        regime=_kl_regime(pred),
        budget=KLBudget(**b.to_dict(), at=at),
    )


def _kl_benign(r: CheckReport, grid: np.ndarray, benign: Any, alpha: float, level: float) -> None:
    """The KL at the last prompt token of the benign matched prompts of the behavior data, measured (a third curve in
    ``r.kl.measured["benign"]``) and predicted with their own Var_q/R_q; or the reason there are none. Needs ``r.kl``
    (the MMLU sweep)."""
    from ..measure import across_queries, kl_prediction

    if r.kl is None:
        return
    if benign is None or getattr(benign, "kl", None) is None:
        r.kl.benign_reason = (r.data.get("benign_prompts") or {}).get("reason") or "no benign prompts swept"
        return
    norms = np.linalg.norm(benign.delta("post"), axis=-1)
    pred = kl_prediction(grid, benign.kl, norms, benign.var_z, benign.z_range, alpha, level=level)
    a = across_queries(benign.kl, level)
    row = {"mean": a.mean, "se": a.se, "ci_low": a.ci_low, "ci_high": a.ci_high, "n": a.n}
    r.kl.measured = {**(r.kl.measured or {}), "benign": row}
    r.kl.benign_var_z, r.kl.benign_z_range = benign.var_z, benign.z_range
    r.kl.benign_predicted_norm, r.kl.benign_predicted_alpha = pred.predicted_norm, pred.predicted_alpha
    r.kl.benign_bound = pred.bound


#: each candidate strength: (key, title, what it is for, the assumptions it rests on)
_CANDIDATES = (
    (
        "corollary_1",
        "Corollary 1's λ*",
        "the strength at which Theorem 1's lower bound on the single-token binary B reaches the target (a guarantee, "
        "not a measurement): λ* = 2/(αΔ)·(artanh(target) − artanh B0), with Δ on λ > 0",
        "Assumptions 1 (‖δ‖ = α|λ|) and 2 (hard margin Δ > 0), B0 of the binary B at λ = 0",
    ),
    (
        "efficient_end",
        "end of the efficient regime",
        "the largest strength up to which each step buys more behavior than it costs helpfulness (dB/dλ > −dH/dλ) "
        "under the fitted laws: tanh on the binary B, Theorem 2's form on MMLU (full vocabulary)",
        "the fitted functional forms only (Theorem 1's tanh, eq. (6)'s form as a fit, not as a bound)",
    ),
    (
        "kl_budget",
        "KL budget (measured)",
        "the strength whose measured mean KL(P_λ‖P_0) on MMLU (last prompt token) equals the budget τ: a side-effect "
        "budget as practitioners set it",
        "none of the theory: read off the measured KL curve",
    ),
    (
        "kl_budget_second_order",
        "KL budget (second-order law)",
        "the strength the second-order law ½α²λ²·mean Var_q predicts for τ, without measuring KL at every λ",
        "Assumption 1 (‖δ‖ = α|λ|) and the exact tilted family, to second order in ‖δ‖",
    ),
    (
        "kl_budget_safe",
        "KL budget (rigorous, every query)",
        "the strength at which every query's rigorous bound ‖δ‖²R_q²/8 equals τ: no query exceeds τ in the tilted "
        "family",
        "Assumption 1 (‖δ‖ = α|λ|) and the exact tilted family (the bound holds for every ‖δ‖ there)",
    ),
    (
        "target",
        "target behavior reached",
        "the smallest grid strength at which the measured generated behavior B reaches the target (--target-behavior)",
        "none of the theory: read off the measured curve of the greedy responses",
    ),
)


def _candidates(r: CheckReport, grid: np.ndarray, alpha: float, target: float) -> CandidateLambdas:
    """The candidate strengths a user can defend (:mod:`validation.measure.candidates` and the KL budget in
    ``r.kl``), each with the measured curves there."""
    from ..measure import Candidate, corollary_1_lambda, efficient_regime_end, target_crossing

    def est(name: str) -> float | None:
        p = r.parameters.get(name)
        return None if p is None else p.estimate

    def params(key: str) -> dict[str, float] | None:
        fit = r.fits.get(key)
        if fit is None or fit.params is None:
            return None
        return {n: v.get("value") for n, v in fit.params.items()}

    budget = None if r.kl is None else r.kl.budget
    no_kl = Candidate(None, "no KL measured (the run has no MMLU sweep)")

    def from_budget(name: str) -> Candidate:
        if budget is None:
            return no_kl
        lam_b = getattr(budget, name)
        why = budget.measured_reason if name == "measured" else budget.note.split(" Not: ")[-1] if budget.note else None
        return Candidate(lam_b, None if lam_b is not None else why)

    delta = est("Delta_positive") if "Delta_positive" in r.parameters else est("Delta")
    found = {
        "corollary_1": corollary_1_lambda(target, est("B0_single_binary"), alpha, delta),
        "efficient_end": efficient_regime_end(params("behavior"), params("helpfulness"), float(grid.max())),
        "kl_budget": from_budget("measured"),
        "kl_budget_second_order": from_budget("second_order"),
        "kl_budget_safe": from_budget("safe_every_query"),
        "target": (
            target_crossing(grid, r.curves["B_generated"].mean, target)
            if "B_generated" in r.curves
            else Candidate(None, "no generated behavior (max_new_tokens = 0)")
        ),
    }
    kl_mean = None if r.kl is None or not r.kl.measured else r.kl.measured["mmlu"]["mean"]
    rows = []
    for key, title, purpose, assumptions in _CANDIDATES:
        c = found[key]
        at = _curves_at(r, grid, c.lam, kl_mean)
        rows.append(
            CandidateLambda(
                key=key, title=title, lam=c.lam, reason=c.reason, purpose=purpose, assumptions=assumptions, at=at
            )
        )
    return CandidateLambdas(target_behavior=float(target), rows=rows)


def _kl_reference(grid: np.ndarray) -> int:
    """The λ index of z = U δ̂ (the sweep's rule, :func:`validation.sweep.kl_reference`)."""
    from ..sweep import kl_reference

    return kl_reference(grid)


def _kl_regime(pred: Any) -> str:
    """Where the measured mean KL on MMLU leaves the second-order law and the bound, in words."""
    parts = []
    for side, off, above in (
        ("lambda > 0", pred.first_off_positive, pred.first_above_bound_positive),
        ("lambda < 0", pred.first_off_negative, pred.first_above_bound_negative),
    ):
        text = (
            f"on {side} the measured mean stays within a factor {pred.factor:g} of the second-order law"
            if off is None
            else f"on {side} the measured mean first leaves a factor {pred.factor:g} of the second-order law at "
            f"lambda = {off:.4g}"
        )
        text += (
            " and below the mean rigorous bound"
            if above is None
            else f"; it exceeds the mean rigorous bound from lambda = {above:.4g} (the model is not in the tilted "
            "family there: the direction of delta turns or the output collapses)"
        )
        parts.append(text)
    return "; ".join(parts)


def _quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    import warnings

    def call(*args: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args)

    return call


def _aq(summary: Any, **extra: Any) -> Parameter | None:
    if summary is None:
        return None
    values = {"estimate": summary.mean, "se": summary.se, "ci_low": summary.ci_low, "ci_high": summary.ci_high}
    return Parameter(**values, **{"n": summary.n, **extra})


def _linear_range(fit: Any) -> list[float] | None:
    """The λ interval where ‖δ‖ stays within the tolerance of α|λ| (``fit``: a
    :class:`~validation.measure.LinearityFit`): [-(negative side's), +(positive side's)]."""
    neg, pos = fit.sides["negative"], fit.sides["positive"]
    lo = -float(neg.linear_up_to) if neg.available else 0.0
    hi = float(pos.linear_up_to) if pos.available else 0.0
    return None if lo == hi == 0.0 else [lo, hi]


def _fits(
    grid: np.ndarray, B_binary: np.ndarray, h: dict[str, Any], alpha: float, a2: Any, parameters: dict[str, Any]
) -> dict[str, Fit]:
    """lmfit fits of the dataset-average curves (tanh law on the binary B, Theorem 2's form on H), each with the
    measured counterparts of its parameters under the theorem's mapping (same parameter names)."""
    from bounds.fitting import AlignmentModel, Theorem2Model, fit_dataset_average

    out: dict[str, Fit] = {}

    def run(key: str, model: Any, Y: np.ndarray, counterpart: dict[str, Any]) -> None:
        ok = np.all(np.isfinite(Y), axis=1)
        if ok.sum() < 2:
            out[key] = Fit(error="fewer than 2 queries with a finite curve")
            return
        try:
            res = fit_dataset_average(model, grid, Y[ok])
        except (ValueError, RuntimeError) as e:
            out[key] = Fit(error=str(e))
            return
        out[key] = Fit(
            model=type(model).__name__,
            params={n: {"value": p.value, "stderr": p.stderr} for n, p in res.params.items()},
            curve=res.eval(lam=grid),
            aic=res.aic,
            redchi=res.redchi,
            n_queries=int(ok.sum()),
            measured_counterpart=counterpart,
        )

    def est(name: str) -> float:
        p = parameters.get(name)
        return float(p.estimate) if p is not None and p.estimate is not None else float("nan")

    delta = est("Delta")
    gap = float(np.nanmean(a2.mean_gap))
    b0 = est("B0_single_binary")
    run(
        "behavior",
        AlignmentModel(),
        B_binary,
        {
            "a": alpha * delta / 2.0,
            "a (alpha x authors' mean gap / 2)": alpha * gap / 2.0,
            "b0": float(np.arctanh(b0)) if abs(b0) < 1 else float("nan"),
            "mapping": "Theorem 1: a = alpha Delta / 2 (Delta: hard margin), b0 = artanh B0 (mean binary B0)",
        },
    )
    sigma, beta, gamma = est("sigma"), est("beta"), est("gamma")
    if h.get("mmlu") is not None:
        p0 = est("p0_mmlu_full")
        run(
            "helpfulness",
            Theorem2Model(),
            h["mmlu"].full,
            {
                "a": gamma * (1 - p0) / p0 if p0 > 0 else float("nan"),
                "b": alpha * beta * sigma,
                "mapping": "Theorem 2's form: a = gamma (1 - p0) / p0, b = alpha beta sigma (means over queries)",
            },
        )
    if h.get("piqa") is not None:
        run(
            "helpfulness_piqa",
            Theorem2Model(),
            h["piqa"].p_correct,
            {"mapping": "Theorem 2's form fitted to a multi-token H (Corollary 3's regime): no per-token mapping"},
        )
    return out


def _summary(
    verdict: dict[str, str],
    bounds: dict[str, BoundEntry],
    chance: dict[str, Any],
    behavior: dict,
    steer: Steerability | None = None,
) -> str:
    parts = [f"{k.replace('_', ' ').title()}: {v}" for k, v in verdict.items()]
    for name, b in bounds.items():
        if b.comparison is None:
            continue
        viol = b.comparison.get("violating_lam") or []
        parts.append(f"{name}: {'violated at lambda in ' + str(list(viol)) if len(viol) else 'not violated'}")
    for name, c in chance.items():
        parts.append(f"{name}: {c.get('message')}")
    if "room" in behavior:
        parts.append(f"generated behavior: {behavior['room']['message']}")
    m = None if steer is None or not steer.measures else steer.measures.get("B_single_binary")
    if m is not None and m.n_with_interval:
        parts.append(
            f"steerability: {m.n_wrong_way}/{m.n_with_interval} behavior prompts steer the wrong way (binary B, "
            f"slope interval below 0 on {steer.window})"
        )
    degenerate = behavior.get("degenerate_B0_single")
    if degenerate:
        parts.append(f"{len(degenerate)} behavior queries have a degenerate B0 = +-1 (single token)")
    return "; ".join(parts)
