"""One row per check report: reading the reports, the row's key and label, and the columns read from the report
(parameters, verdicts, chance, probe accuracy, what the row cannot show) and measured on its curves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bounds.errors import MissingFileError

from ..report.figures import _common as rd
from ..report.schema import CheckReport, Parameter
from . import consequences as cq

__all__ = ["BEHAVIOR_CURVES", "PARAMETERS", "TASKS", "Row", "Task", "columns", "read_rows", "report_path"]


@dataclass(frozen=True)
class Task:
    """A helpfulness task: its curve, its p0 parameter, its entry of ``report.chance`` and its display name."""

    curve: str
    p0: str
    chance: str
    title: str


TASKS = {
    "mmlu_full": Task("H_mmlu_full", "p0_mmlu_full", "mmlu", "MMLU full"),
    "mmlu_restricted": Task("H_mmlu_restricted", "p0_mmlu_restricted", "mmlu", "MMLU A–D"),
    "piqa": Task("H_piqa", "p0_piqa", "piqa", "PIQA"),
}

#: the behavior curves a score can use, with the parameter holding their value at λ = 0
BEHAVIOR_CURVES = {"B_generated": "B0_generated", "B_single": "B0_single", "B_single_binary": "B0_single_binary"}

#: the parameters of the table (``mean_gap`` is read from Assumption 2, the rest from ``parameters``)
PARAMETERS = (
    "alpha", "Delta", "mean_gap", "sigma", "beta", "gamma", "B0_single", "B0_generated",
    "p0_mmlu_full", "p0_mmlu_restricted", "p0_piqa",
)  # fmt: skip

#: the behavior curves whose consequences are measured
CONSEQUENCE_CURVES = ("B_generated", "B_single")


@dataclass
class Row:
    """One report: its key (model, behavior, method, layers, positions), label, source path and the report."""

    key: dict[str, Any]
    label: str
    source: str
    report: CheckReport


def report_path(arg: str | Path) -> Path:
    """``arg/report.json`` for a folder, ``arg`` itself for a file.

    Raises:
        bounds.errors.MissingFileError: no such path, or a folder without ``report.json``.
    """
    p = Path(arg)
    if p.is_dir():
        if not (p / "report.json").is_file():
            raise MissingFileError(f"reports: {str(p)!r} holds no report.json (give a check output folder or a file)")
        return p / "report.json"
    if not p.exists():
        raise MissingFileError(f"reports: no such file or directory {str(p)!r}")
    return p


def _key(report: CheckReport) -> dict[str, Any]:
    cfg = report.config
    positions = cfg.get("positions")
    return {
        "model": str(report.model.get("name") or cfg.get("model") or "unknown model"),
        "behavior": str(report.behavior.get("name") or cfg.get("behavior") or "unknown behavior"),
        "method": str(report.vectors.get("method") or cfg.get("method") or "unknown method"),
        "layers": list(report.layers or cfg.get("layers") or []),
        "positions": "all" if positions in (None, "", []) else _joined(positions),
    }


def _joined(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def _layers_text(layers: list[int]) -> str:
    if not layers:
        return "?"
    if layers == list(range(layers[0], layers[0] + len(layers))) and len(layers) > 2:
        return f"{layers[0]}–{layers[-1]}"
    return ",".join(str(i) for i in layers)


def read_rows(paths: list[str | Path]) -> list[Row]:
    """The reports at ``paths`` (folders holding ``report.json`` or report files) as rows, in the given order;
    rows with the same key get their folder's name added to the label (and ``#2``, ... when that is the same too).

    Raises:
        bounds.errors.MissingFileError: a path does not exist or a folder has no ``report.json``.
        bounds.errors.ParameterError: a file is not a readable check report (the message names it).
    """
    rows = []
    for arg in paths:
        path = report_path(arg)
        report = CheckReport.read(path)
        key = _key(report)
        label = " · ".join(
            [key["model"], key["behavior"], key["method"], "L" + _layers_text(key["layers"]), key["positions"]]
        )
        rows.append(Row(key, label, str(path), report))
    labels = [r.label for r in rows]
    for row in rows:
        if labels.count(row.label) > 1:
            row.label = f"{row.label} ({Path(row.source).parent.name or row.source})"
    seen: dict[str, int] = {}
    for row in rows:  # the same report given twice
        seen[row.label] = seen.get(row.label, 0) + 1
        if seen[row.label] > 1:
            row.label = f"{row.label} #{seen[row.label]}"
    return rows


def _parameter(p: Parameter | None) -> dict[str, Any] | None:
    if p is None or rd.num(p.estimate) is None:
        return None
    low, high = (p.ci_low, p.ci_high) if p.ci_low is not None else (p.low, p.high)
    return {"estimate": float(p.estimate), "low": rd.num(low), "high": rd.num(high)}


def mean_gap(report: CheckReport) -> float | None:
    """The authors' mean gap on the λ > 0 side: the mean over λ > 0 of ``assumption_2.mean_gap_mean``."""
    a2, lam = report.assumptions.get("assumption_2"), rd.floats(report.lam)
    values = None if a2 is None or lam is None else rd.floats(a2.mean_gap_mean, lam.size)
    if values is None or not np.isfinite(values[lam > 0]).any():
        return None
    return float(np.nanmean(values[lam > 0]))


def parameters(report: CheckReport) -> dict[str, dict[str, Any] | None]:
    """The estimates of :data:`PARAMETERS` with their intervals (``None``: not in the report)."""
    out = {name: _parameter(report.parameters.get(name)) for name in PARAMETERS if name != "mean_gap"}
    gap = mean_gap(report)
    out["mean_gap"] = None if gap is None else {"estimate": gap, "low": None, "high": None}
    return {name: out[name] for name in PARAMETERS}


def heldout_accuracy(report: CheckReport) -> dict[str, Any] | None:
    """The probe's held-out accuracy of the vectors' metadata (``heldout_accuracy``, per layer or one number)."""
    acc = report.vectors.get("heldout_accuracy")
    values = acc if isinstance(acc, dict) else {"all": acc}
    nums = {str(k): rd.num(v) for k, v in values.items()}
    nums = {k: v for k, v in nums.items() if v is not None}
    if not nums:
        return None
    return {"per_layer": nums, "mean": float(np.mean(list(nums.values()))), "min": min(nums.values())}


def room(report: CheckReport) -> dict[str, Any] | None:
    """Whether the generated behavior can show an effect (:func:`validation.measure.behavior_room`): the report's
    ``behavior.room``, or for a report written before it existed the same check on the stored per-λ count of
    responses with the target label (``curves.positive_label_fraction_generated``; the check only uses the counts)."""
    if isinstance(report.behavior.get("room"), dict):
        return report.behavior["room"]
    from ..measure import behavior_room

    lam = rd.floats(report.lam)
    c = None if lam is None else report.curves.get("positive_label_fraction_generated")
    frac = None if c is None or lam is None else rd.floats(c.mean, lam.size)
    if frac is None or lam is None or np.count_nonzero(lam == 0) != 1 or not np.isfinite(frac).all():
        return None
    counts = np.rint(frac * c.n).astype(int)
    label = c.label.rsplit("classified ", 1)[-1] if "classified " in c.label else "aligned"
    return behavior_room(np.arange(c.n)[:, None] < counts[None, :], lam, label).to_dict()


def cannot_show(report: CheckReport) -> list[str]:
    """Why the row cannot show an effect: at chance on a helpfulness task, or a generated behavior with nothing to
    move (every response already has the target label at λ = 0, or no λ > 0 gives more: :func:`room` says which)."""
    out = [
        f"at chance on {name.upper()}: cannot show a helpfulness decrease"
        for name, entry in report.chance.items()
        if entry.get("at_chance")
    ]
    r = room(report)
    if r is not None and not r.get("can_show_effect"):
        out.append(f"generated behavior: {r.get('message')}")
    return out


def _consequences(report: CheckReport, z: float) -> dict[str, Any]:
    """Per behavior curve: the λ where it crosses 0 and reaches 90 % of its plateau, the helpfulness change on each
    task there, and the slope ratio near 0 on each task."""
    tasks = {t: cq.series(report, task.curve) for t, task in TASKS.items()}
    out: dict[str, Any] = {}
    for name in CONSEQUENCE_CURVES:
        b = cq.series(report, name)
        if isinstance(b, str):
            out[name] = {"reason": b}
            continue
        entry: dict[str, Any] = {"B0": b.at_zero[0]}
        for what, est in (("cross_zero", cq.cross_zero(b)), ("plateau_90", cq.plateau_90(b))):
            lost = {}
            for t, h in tasks.items():
                if isinstance(h, str) or est.value is None:
                    lost[t] = {"value": None, "reason": h if isinstance(h, str) else f"no λ: {est.reason}"}
                else:
                    lost[t] = cq.change_at(h, est.value, z).to_dict()
            entry[what] = {"lam": est.to_dict(), "helpfulness_change": lost}
        entry["slope_ratio"] = {
            t: {"value": None, "reason": h} if isinstance(h, str) else cq.slope_ratio(b, h, z).to_dict()
            for t, h in tasks.items()
        }
        out[name] = entry
    return out


def columns(row: Row, z: float) -> dict[str, Any]:
    """Everything the comparison shows of one row except its scores: its label, source and key (model, behavior,
    method, layers, positions) and the columns (JSON-safe)."""
    r = row.report
    return {
        "label": row.label,
        "source": row.source,
        **row.key,
        "lambda_grid": rd.floats(r.lam),
        "parameters": parameters(r),
        "verdicts": r.verdicts,
        "chance": {k: {"at_chance": v.get("at_chance"), "message": v.get("message")} for k, v in r.chance.items()},
        "probe_heldout_accuracy": heldout_accuracy(r),
        "room": room(r),
        "cannot_show_effect": cannot_show(r),
        "consequences": _consequences(r, z),
    }
