"""``steering-bounds study``: a grid of checks (models × methods × layer bands), run resumably, then compared.

Each cell of the grid is one :func:`validation.check.run_check` into ``OUT/runs/<cell>/``. A cell whose
``report.json`` already holds the cell's settings is not run again; an interrupted cell resumes from its own stage
cache. ``OUT/study.json`` is rewritten after every cell (status, wall time, error; the cells of earlier studies into the
same ``OUT`` are kept), and at the end every report under
``OUT/runs`` -- those of earlier studies into the same ``OUT`` included -- is compared
(:func:`validation.compare.compare_reports`) into ``OUT/compare``.

Cells of one model share one loaded model. A cell that fails on purpose (a :class:`~bounds.errors.SteeringBoundsError`:
e.g. a behavior whose token sets do not resolve on that model) is recorded with its one-line error and the study goes
on; any other exception is a bug and stops the study (finished cells stay finished).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bounds._io import atomic_write, jsonable
from bounds.errors import ParameterError, SteeringBoundsError

from .check import LAYER_BANDS, CheckConfig, run_check

__all__ = ["AXES", "DEFAULT_BEHAVIORS", "Cell", "StudyResult", "grid", "run_study"]

#: The settings a study varies (every other :class:`~validation.check.CheckConfig` setting is shared by all cells).
AXES = ("model", "behavior", "method", "layer_band")

#: The behavior a study steers on each model when none is given. The instruction-tuned Qwen refuses most harmful
#: requests, so on it the study *misaligns an aligned model* (``harmful``: steer towards compliance, the paper's chat
#: experiment); SmolLM2 and the Gemma base model rarely refuse, so they are *aligned* (``harmless``: towards refusal).
DEFAULT_BEHAVIORS: dict[str, str] = {"qwen2.5-coder-0.5b-instruct": "harmful"}

STUDY_SCHEMA = "steering-bounds/study"


@dataclass(frozen=True)
class Cell:
    """One check of the grid: the four axes of :data:`AXES`."""

    model: str
    behavior: str
    method: str
    layer_band: str

    @property
    def name(self) -> str:
        """The cell's folder name under ``OUT/runs`` (path separators of a model path made safe)."""
        model = "".join(c if c.isalnum() or c in "-._" else "_" for c in Path(self.model).name)
        return f"{model}__{self.behavior}__{self.method}__{self.layer_band}"


def grid(
    models: Sequence[str],
    methods: Sequence[str],
    bands: Sequence[str] = ("middle",),
    behaviors: Mapping[str, str] | None = None,
) -> list[Cell]:
    """The cells models × methods × bands, each model with its behavior (``behaviors``, else
    :data:`DEFAULT_BEHAVIORS`, else ``"harmless"``), in that order, without duplicates.

    Raises:
        ParameterError: an empty axis or an unknown band.
    """
    for name, axis in (("models", models), ("methods", methods), ("bands", bands)):
        if not axis:
            raise ParameterError(f"{name}: give at least one")
    bad = [b for b in bands if b not in LAYER_BANDS]
    if bad:
        raise ParameterError(f"bands: expected names from {sorted(LAYER_BANDS)}, got {bad}")
    chosen = {**DEFAULT_BEHAVIORS, **dict(behaviors or {})}
    cells = [Cell(m, chosen.get(m, "harmless"), method, band) for m in models for method in methods for band in bands]
    return list(dict.fromkeys(cells))


@dataclass
class StudyResult:
    """What :func:`run_study` did: per cell its status (``"done before"``, ``"ran"``, ``"failed"``), and the
    comparison's output folder (``None`` when fewer than one report exists)."""

    out: Path
    cells: list[dict[str, Any]]
    compare_dir: Path | None

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for c in self.cells:
            counts[c["status"]] = counts.get(c["status"], 0) + 1
        parts = ", ".join(f"{n} {status}" for status, n in counts.items())
        where = f"; comparison in {self.compare_dir}" if self.compare_dir else ""
        return f"{len(self.cells)} cells: {parts}{where}"


def _config(cell: Cell, shared: Mapping[str, Any]) -> CheckConfig:
    fixed = set(shared) & set(AXES)
    if fixed:
        raise ParameterError(f"shared settings: {sorted(fixed)} are axes of the study, give them as axes")
    if shared.get("layers") is not None or shared.get("vectors") is not None:
        raise ParameterError("shared settings: layers and vectors are per model; a study varies layer_band instead")
    return CheckConfig(**{**shared, **dataclasses.asdict(cell)}).validate()


def _folder(cell: Cell, cfg: CheckConfig) -> str:
    """The cell's folder under ``OUT/runs``: its name, with ``__<positions>`` when the study steers other positions
    than every one (so that studies of both semantics into one ``OUT`` keep both reports, and compare sees both)."""
    return cell.name if cfg.positions == "all" else f"{cell.name}__{cfg.positions}"


def _finished(report: Path, cfg: CheckConfig) -> bool:
    """``report`` exists and was written with ``cfg``'s settings (a resolved ``"auto"`` batch size matches)."""
    if not report.is_file():
        return False
    try:
        stored = json.loads(report.read_text(encoding="utf-8")).get("config", {})
    except (OSError, ValueError):
        return False
    want = cfg.to_dict()
    if want.get("batch_size") == "auto":
        stored = {**stored, "batch_size": "auto"}
    stored.setdefault("layer_band", "middle")  # reports written before the setting existed
    stored.setdefault("positions", "all")
    return {k: stored.get(k) for k in want} == want


def run_study(
    cells: Sequence[Cell],
    out: str | Path,
    *,
    shared: Mapping[str, Any] | None = None,
    progress: bool = True,
    compare: bool = True,
    load: Callable[[CheckConfig], Any] | None = None,
) -> StudyResult:
    """Run every cell not finished yet, then compare all reports under ``OUT/runs``.

    Args:
        cells: the grid (:func:`grid`).
        out: the study folder.
        shared: further :class:`~validation.check.CheckConfig` settings of every cell (not the axes).
        progress: progress lines on stderr (and each check's own).
        compare: write ``OUT/compare`` at the end.
        load: loads a cell's model (default :func:`validation.models.load_model` with the cell's dtype and device);
            one loaded model serves the consecutive cells of that model.

    Raises:
        ParameterError: a bad cell or shared setting (every cell is validated before any runs).
    """
    out = Path(out)
    configs = [_config(cell, dict(shared or {})) for cell in cells]  # fail before any model loads
    rows: list[dict[str, Any]] = []
    loaded: tuple[str, Any] | None = None
    t_study = time.perf_counter()

    earlier = _earlier_cells(out / "study.json")

    def save() -> None:  # this study's cells, after the cells of earlier studies into OUT that it did not redo
        mine = {r["dir"] for r in rows}
        cells_all = [r for r in earlier if r.get("dir") not in mine] + rows
        record = {"schema": STUDY_SCHEMA, "cells": cells_all, "wall_seconds": round(time.perf_counter() - t_study, 1)}
        atomic_write(out / "study.json", json.dumps(jsonable(record), indent=2) + "\n")

    for i, (cell, cfg) in enumerate(zip(cells, configs, strict=True)):
        folder = out / "runs" / _folder(cell, cfg)
        row: dict[str, Any] = {"cell": dataclasses.asdict(cell), "dir": str(folder.relative_to(out))}
        if _finished(folder / "report.json", cfg):
            row.update(status="done before", **_seconds(json.loads((folder / "report.json").read_text())))
        else:
            if progress:
                print(f"[study] cell {i + 1}/{len(cells)}: {folder.name}", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                if loaded is None or loaded[0] != cfg.model:
                    loaded = None  # free the previous model first
                    loaded = (cfg.model, (load or _load)(cfg))
                report = run_check(cfg, folder, progress=progress, loaded=loaded[1], command=_command(cell, shared))
            except SteeringBoundsError as exc:
                row.update(status="failed", error=" ".join(str(exc).split()))
            else:
                row.update(status="ran", **_seconds(report.to_json()))
            row["wall_seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        save()
    compare_dir = None
    if compare:
        from .compare import compare_reports

        reports = sorted((out / "runs").glob("*/report.json"))
        if reports:
            compare_dir = out / "compare"
            compare_reports([p.parent for p in reports], compare_dir)
    return StudyResult(out, rows, compare_dir)


def _earlier_cells(path: Path) -> list[dict[str, Any]]:
    """The cells recorded in an earlier ``study.json`` (none when there is none; a file of another kind is an error)."""
    if not path.is_file():
        return []
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ParameterError(f"out: {path} is not a study record ({exc})") from exc
    if not isinstance(record, dict) or record.get("schema") != STUDY_SCHEMA:
        raise ParameterError(f"out: {path} is not a study record (schema {STUDY_SCHEMA!r})")
    return list(record.get("cells", []))


def _seconds(report: Mapping[str, Any]) -> dict[str, float | None]:
    """``check_seconds``: the report's last run, start to end (a resumed run counts only what it redid);
    ``sweep_seconds``: the sweeps' own times when they were computed, whichever run computed them."""
    sweeps = report.get("stage_seconds_when_computed") or {}
    return {
        "check_seconds": (report.get("runtime_seconds") or {}).get("total"),
        "sweep_seconds": round(sum(sweeps.values()), 1) if sweeps else None,
    }


def _load(cfg: CheckConfig) -> Any:
    from .models import load_model

    return load_model(cfg.model, dtype=cfg.dtype, device=cfg.device, device_map=cfg.device_map)


def _command(cell: Cell, shared: Mapping[str, Any] | None) -> str:
    opts = {**dict(shared or {}), **dataclasses.asdict(cell)}
    parts = [f"--{k.replace('_', '-')} {','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in opts.items()]
    return "steering-bounds check " + " ".join(parts) + "  (a cell of steering-bounds study)"
