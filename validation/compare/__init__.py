r"""``steering-bounds compare``: several check reports side by side (``docs/compare.md``).

One row per report, keyed by (model, behavior, method, layers, positions): the measured parameters, the assumptions'
verdicts, the chance notes and what the row cannot show (:mod:`.rows`); the consequences measured on its curves
(:mod:`.consequences`); and the ranking by alignment gained per helpfulness lost, measured and predicted
(:mod:`.ranking`).

**The score.** For the ranking task T (``task``; ``"auto"``: MMLU full, or PIQA when a row has no MMLU curve) and
the behavior curve B (``behavior_curve``, default ``B_generated``): :math:`\lambda^\star` is the first
:math:`\lambda>0` where :math:`H_T(\lambda)=H_T(0)-\text{budget}` (``budget`` absolute, default 0.05; the largest
grid λ when H never falls that much, said in the row's note), and the score is
:math:`B(\lambda^\star)-B(0)`. The *measured* score interpolates the measured means linearly (interval
:math:`\pm z\sqrt{SE(\lambda^\star)^2+SE(0)^2}`); the *predicted* score evaluates the same on the theory's laws built
from the row's parameters: Theorem 1 with α, the margin (the hard margin Δ, and separately the authors' mean gap on
λ > 0) and B(0) of the same curve, and eq. (6) with p0, γ, α, β, σ of MMLU (so only for T = MMLU full). A row
whose parameters leave a law undefined (Δ ≤ 0, B0 = ±1) has no predicted score and is left out of the agreement
(Kendall's τ over the rows with both scores, and whether both put the same row first). A row at chance on T keeps its
scores (the full-vocabulary probability of the right answer still falls as steering moves the logits), flagged; the
agreement is then also given without those rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bounds._io import atomic_write, jsonable
from bounds.errors import ParameterError

from .consequences import Estimate
from .markdown import render_markdown
from .ranking import MARGINS, agreement, choose_task, measured_score, predicted_score, ranks
from .rows import BEHAVIOR_CURVES, TASKS, Row, columns, read_rows

__all__ = ["BEHAVIOR_CURVES", "SCHEMA", "TASKS", "compare", "compare_reports", "render_markdown"]

SCHEMA = "steering-bounds/compare"
SCHEMA_VERSION = 1


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2.0))


def _check(budget: float, level: float, behavior_curve: str) -> None:
    if not 0.0 < float(budget) < 1.0:
        raise ParameterError(f"budget: expected an absolute helpfulness loss in the open interval (0, 1), got {budget}")
    if not 0.0 < float(level) < 1.0:
        raise ParameterError(f"level: expected a confidence level in the open interval (0, 1), got {level}")
    if behavior_curve not in BEHAVIOR_CURVES:
        raise ParameterError(f"behavior_curve must be one of {list(BEHAVIOR_CURVES)}, got {behavior_curve!r}")


def _ranking(rows: list[Row], task: str, curve: str, budget: float, z: float) -> dict[str, Any]:
    labels = [r.label for r in rows]
    scores: dict[str, list[Estimate]] = {"measured": [measured_score(r, task, curve, budget, z) for r in rows]}
    for margin in MARGINS:
        scores[f"predicted_{margin}"] = [predicted_score(r, task, curve, budget, margin) for r in rows]
    values = {k: [e.value for e in v] for k, v in scores.items()}
    out: dict[str, Any] = {
        "scores": {k: [e.to_dict() for e in v] for k, v in scores.items()},
        "ranks": {k: ranks(labels, v) for k, v in values.items()},
        "agreement": {m: agreement(labels, values["measured"], values[f"predicted_{m}"]) for m in MARGINS},
    }
    known = [not (e.detail or {}).get("at_chance") for e in scores["measured"]]
    if not all(known):  # the same without the rows at chance on the task
        keep = [i for i, k in enumerate(known) if k]
        out["agreement_not_at_chance"] = {
            m: agreement(
                [labels[i] for i in keep],
                [values["measured"][i] for i in keep],
                [values[f"predicted_{m}"][i] for i in keep],
            )
            for m in MARGINS
        }
    if len(rows) < 2:
        out["reason"] = f"needs ≥ 2 rows, got {len(rows)}"
    return out


def compare(
    paths: list[str | Path],
    *,
    task: str = "auto",
    budget: float = 0.05,
    behavior_curve: str = "B_generated",
    level: float = 0.95,
) -> tuple[list[Row], dict[str, Any]]:
    """Read the reports and compute every column, score and ranking.

    Args:
        paths: folders holding ``report.json`` (output folders of ``steering-bounds check``) or report files.
        task: ``"auto"`` or a key of :data:`TASKS` (the helpfulness task of the score).
        budget: the absolute helpfulness loss of the score, in (0, 1).
        behavior_curve: a key of :data:`BEHAVIOR_CURVES` (the behavior of the score).
        level: confidence level of the intervals.

    Returns:
        the rows and the JSON-safe result (what ``compare.json`` holds, without the figures).

    Raises:
        bounds.errors.MissingFileError: a path does not exist, or a folder has no ``report.json``.
        bounds.errors.ParameterError: a file is not a check report, or a setting is outside its range.
    """
    _check(budget, level, behavior_curve)
    if not paths:
        raise ParameterError("reports: expected at least one folder or report.json, got none")
    z = _z(level)
    rows = read_rows(list(paths))
    chosen, why = choose_task(rows, task)
    result = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "settings": {
            "task": chosen,
            "task_rule": why,
            "budget": budget,
            "behavior_curve": behavior_curve,
            "level": level,
            "z": z,
        },
        "rows": [columns(r, z) for r in rows],
        "ranking": _ranking(rows, chosen, behavior_curve, budget, z),
    }
    return rows, jsonable(result)


def compare_reports(paths: list[str | Path], out: str | Path, **settings: Any) -> dict[str, Any]:
    """:func:`compare`, then write ``out/compare.json``, ``out/compare.md`` and the figures (:mod:`.figures`);
    returns what ``compare.json`` holds."""
    from .figures import write_figures

    rows, result = compare(paths, **settings)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result["figures"] = write_figures(rows, out, result["settings"]["task"], result["settings"]["behavior_curve"])
    atomic_write(out / "compare.json", json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    atomic_write(out / "compare.md", render_markdown(result))
    return result
