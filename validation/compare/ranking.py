r"""Alignment gained per helpfulness lost: the measured score of each row, the score the theory predicts from the
row's measured parameters, the two rankings and their agreement (Kendall's :math:`\tau`, top-1).

Both scores are the behavior gained, :math:`B(\lambda^\star)-B(0)`, at the first :math:`\lambda^\star>0` where the
helpfulness on the ranking task has fallen by ``budget`` below its value at :math:`\lambda=0` (the largest grid λ
when it never falls that much): the measured one on the interpolated curves (:mod:`.consequences`), the predicted one
on the theory's laws (:func:`bounds.tradeoff.alignment_theorem_1_law` with α, the margin and B0;
:func:`bounds.tradeoff.helpfulness_theorem_2_law` with p0, γ, α, β, σ, as the check's fits map them) through
:func:`bounds.tradeoff.max_lambda_keeping_helpfulness`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from bounds.errors import ParameterError
from bounds.tradeoff import (
    Theorem2Warning,
    alignment_theorem_1_law,
    helpfulness_theorem_2_law,
    max_lambda_keeping_helpfulness,
)

from ..measure._common import first_crossing
from . import consequences as cq
from .consequences import Estimate
from .rows import BEHAVIOR_CURVES, TASKS, Row, mean_gap

__all__ = ["MARGINS", "agreement", "choose_task", "measured_score", "predicted_score", "ranks"]

#: the margins a prediction can use in Theorem 1: the hard margin Δ (the theorem's) and the authors' mean gap
MARGINS = {"Delta": "hard margin Δ", "mean_gap": "mean gap on λ > 0"}


def choose_task(rows: list[Row], task: str) -> tuple[str, str]:
    """The ranking task and why: ``task`` itself, or for ``"auto"`` MMLU full (the task eq. (6) is about) unless a
    row has no MMLU curve (run with ``n_mmlu = 0``), then PIQA. Rows at chance on MMLU stay in: the full-vocabulary
    probability of the right letter still falls when steering moves the logits (what eq. (6) describes), even when
    the model does not know the answers; they are flagged, and the agreement is also given without them.

    Raises:
        bounds.errors.ParameterError: ``task`` is not ``"auto"`` or a key of :data:`~.rows.TASKS`.
    """
    if task != "auto" and task not in TASKS:
        raise ParameterError(f"task must be 'auto' or one of {sorted(TASKS)}, got {task!r}")
    if task != "auto":
        return task, f"{TASKS[task].title} (chosen with --task)"
    no_mmlu = [r.label for r in rows if TASKS["mmlu_full"].curve not in r.report.curves]
    if no_mmlu:
        return "piqa", f"PIQA: {len(no_mmlu)} of {len(rows)} rows have no MMLU curve (default rule)"
    at_chance = sum(bool((r.report.chance.get("mmlu") or {}).get("at_chance")) for r in rows)
    note = f"; {at_chance} of {len(rows)} rows at chance on MMLU (flagged)" if at_chance else ""
    return "mmlu_full", f"MMLU full (default: the task of eq. (6)){note}"


def _at_chance(row: Row, task: str) -> str | None:
    entry = row.report.chance.get(TASKS[task].chance) or {}
    return (
        f"at chance on {TASKS[task].chance.upper()}: cannot show a helpfulness decrease"
        if entry.get("at_chance")
        else None
    )


def _unspendable(h0: float, budget: float, task: str) -> str:
    return (
        f"H(0) = {h0:.3g} on {TASKS[task].title} is not above the budget {budget:g}: that much helpfulness cannot be "
        "lost there (no score; a smaller --budget or another --task ranks this row)"
    )


def measured_score(row: Row, task: str, curve: str, budget: float, z: float) -> Estimate:
    """B gained on the measured curves at the λ where H on ``task`` has fallen by ``budget`` (± z SE of B)."""
    b, h = cq.series(row.report, curve), cq.series(row.report, TASKS[task].curve)
    reason = (b if isinstance(b, str) else None) or (h if isinstance(h, str) else None)
    if reason:
        return Estimate(None, reason=reason)
    assert isinstance(b, cq.Series) and isinstance(h, cq.Series)
    h0 = h.at_zero[0]
    if not h0 > budget:
        return Estimate(None, reason=_unspendable(h0, budget, task))
    lam = first_crossing(h.lam, h.mean, h0 - budget, rising=False)
    note = None
    if lam is None:
        lam = float(min(h.lam[-1], b.lam[-1]))
        note = f"H never fell by {budget:g} on the grid: λ* = the largest λ measured, {lam:g}"
    gained = cq.change_at(b, lam, z)
    detail = {"lam_star": lam, "crossed": note is None, "H0": h0, "note": note, "at_chance": _at_chance(row, task)}
    return Estimate(gained.value, gained.low, gained.high, gained.reason, detail)


def _estimate(row: Row, name: str) -> float | None:
    if name == "mean_gap":
        return mean_gap(row.report)
    p = row.report.parameters.get(name)
    return None if p is None or p.estimate is None or not np.isfinite(p.estimate) else float(p.estimate)


def predicted_score(row: Row, task: str, curve: str, budget: float, margin: str = "Delta") -> Estimate:
    """B gained on the theory's laws built from the row's parameters (``margin``: a key of :data:`MARGINS`) at the
    λ where the law of H has fallen by ``budget`` below its value at λ = 0; ``None`` with the reason when a law
    does not apply."""
    if task != "mmlu_full":
        why = f"no law of the theory for {TASKS[task].title}: eq. (6) is built from MMLU's full-vocabulary p0, γ, β, σ"
        return Estimate(None, reason=why + " (use --task mmlu_full)")
    names = ("alpha", margin, BEHAVIOR_CURVES[curve], "p0_mmlu_full", "gamma", "beta", "sigma")
    values = {n: _estimate(row, n) for n in names}
    missing = [n for n, v in values.items() if v is None]
    reason = f"not in the report: {', '.join(missing)}" if missing else None
    if reason is None and not values[margin] > 0:
        reason = f"{MARGINS[margin]} = {values[margin]:.3g} ≤ 0: Assumption 2 fails, Theorem 1 does not apply"
    if reason:
        return Estimate(None, reason=reason)
    alpha, b0, p0 = values["alpha"], values[BEHAVIOR_CURVES[curve]], values["p0_mmlu_full"]
    try:
        b_law = alignment_theorem_1_law(alpha, values[margin], b0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Theorem2Warning)
            h_law = helpfulness_theorem_2_law(p0, values["gamma"], alpha, values["beta"], values["sigma"])
    except ValueError as exc:
        return Estimate(None, reason=f"law undefined: {exc}")
    hi = float(max(row.report.lam, default=0.0))
    if not hi > 0:
        return Estimate(None, reason="the report's grid has no λ > 0")
    h0 = float(h_law(0.0))
    if not h0 > budget:
        return Estimate(None, reason="the law's " + _unspendable(h0, budget, task))
    limit = max_lambda_keeping_helpfulness(h_law, budget / h0, (0.0, hi))
    lam, note = float(limit.lam), None if limit.crossed else f"{limit.reason}: λ* = {hi:g}"
    score = float(b_law(lam)) - float(b_law(0.0))
    detail = {
        "lam_star": lam,
        "crossed": note is None,
        "H0": h0,
        "note": note,
        "B_law": b_law.name,
        "H_law": h_law.name,
        "at_chance": _at_chance(row, task),
    }
    return Estimate(score, detail=detail)


def ranks(labels: list[str], scores: list[float | None]) -> dict[str, int | None]:
    """1 for the largest score (ties: in the given order), ``None`` for a missing one."""
    order = sorted((i for i, s in enumerate(scores) if s is not None), key=lambda i: -scores[i])  # type: ignore[operator]
    out: dict[str, int | None] = dict.fromkeys(labels)
    for rank, i in enumerate(order, 1):
        out[labels[i]] = rank
    return out


def agreement(labels: list[str], measured: list[float | None], predicted: list[float | None]) -> dict[str, Any]:
    """Kendall's τ between the measured and the predicted scores over the rows that have both, and whether the two
    put the same row first; the rows left out with their count."""
    from scipy.stats import kendalltau

    both = [i for i in range(len(labels)) if measured[i] is not None and predicted[i] is not None]
    out: dict[str, Any] = {
        "n_used": len(both),
        "n_left_out": len(labels) - len(both),
        "left_out": [labels[i] for i in range(len(labels)) if i not in both],
        "kendall_tau": None,
        "p_value": None,
        "top1_agree": None,
        "top1_measured": None,
        "top1_predicted": None,
        "reason": None,
    }
    if len(both) < 2:
        out["reason"] = f"needs ≥ 2 rows with both scores, got {len(both)}"
        return out
    m, p = np.array([measured[i] for i in both]), np.array([predicted[i] for i in both])
    out["top1_measured"], out["top1_predicted"] = labels[both[int(np.argmax(m))]], labels[both[int(np.argmax(p))]]
    out["top1_agree"] = out["top1_measured"] == out["top1_predicted"]
    res = kendalltau(m, p)
    if not np.isfinite(res.statistic):
        out["reason"] = "Kendall's τ undefined: one of the scores is the same for every row"
        return out
    out["kendall_tau"], out["p_value"] = float(res.statistic), float(res.pvalue)
    return out
