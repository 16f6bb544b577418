"""Regenerate the paper's figures: ``steering-bounds figures [--model …] [--report report.json] [--out DIR]``.

Theory figures come from :mod:`bounds` alone, the redrawn Figs. 4 and 5 (kind ``"paper-data"``) from the authors'
published curves shipped with :mod:`bounds.paper`. Empirical figures come from a ``steering-bounds check`` report: the
one given with ``--report`` (reused as it is), or one computed first into ``OUT/check`` (resumable, like
``steering-bounds check``). Figures that need more model computation (sampled answers, HumanEval) reuse that
report's vectors, layers and λ grid.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import FIGURES

__all__ = ["build_all", "main"]


def _log(message: str, progress: bool) -> None:
    if progress:
        print(f"[figures] {message}", file=sys.stderr, flush=True)


def build_all(
    out_dir: str | Path,
    *,
    model: str = "smollm2-135m-instruct",
    report_path: str | Path | None = None,
    only: Sequence[str] | None = None,
    model_kwargs: dict[str, Any] | None = None,
    paper_sizes: bool = False,
    progress: bool = True,
    device_map: str | dict[str, Any] | None = None,
) -> list[Path]:
    """Write every figure of :data:`paper_figures.FIGURES` (or those in ``only``) into ``out_dir``.

    Args:
        out_dir: output folder.
        model: the model of the empirical figures when no report is given.
        report_path: a ``report.json`` of ``steering-bounds check`` to draw from (its model is then used).
        only: figure ids to build (default: all).
        model_kwargs: extra keyword arguments of the model-computed figures (sample sizes).
        paper_sizes: the model-computed figures use their ``PAPER_SIZES`` (the paper's sample sizes; hours on CPU).
        progress: log to stderr.
        device_map: passed to :func:`validation.models.load_model` (e.g. ``"auto"``: accelerate places the model;
            needs ``accelerate``) and recorded in the check run's settings; ``None``: the loader's default (CPU).

    Raises:
        bounds.errors.ParameterError: (a ``ValueError``) an unknown figure id, a bad ``device_map``, a bad report.
        bounds.errors.MissingFileError: (a ``FileNotFoundError``) ``report_path`` names no file.
    """
    from bounds.errors import ParameterError
    from validation.check import check_device_map

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ids = list(FIGURES) if only is None else list(only)
    unknown = [i for i in ids if i not in FIGURES]
    if unknown:
        raise ParameterError(f"only: unknown figure ids {unknown}; valid: {', '.join(FIGURES)}")
    check_device_map(device_map)
    written: list[Path] = []
    kinds = {FIGURES[i][1] for i in ids}
    report = loaded = None
    if kinds & {"report", "model"}:
        from ._common import load_report

        if report_path is not None:
            report = load_report(report_path)
            model = report.get("config", {}).get("model", model)
        cfg = None
        if report is None:
            from validation.check import CheckConfig

            cfg = CheckConfig(model=model, device_map=device_map).validate()  # before the model loads
        if "model" in kinds or report is None:
            from validation.models import load_model, model_kind

            model_kind(model, name="model")  # a model path that does not exist fails here, before any loading
            loaded = load_model(model, device_map=device_map)
        if cfg is not None:
            from validation.check import run_check

            _log(f"no --report: running steering-bounds check on {model} into {out / 'check'}", progress)
            report = run_check(cfg, out / "check", loaded=loaded, progress=progress).to_json()
    for fid in ids:
        module_name, kind = FIGURES[fid]
        t0 = time.perf_counter()
        module = importlib.import_module(module_name)
        if kind in ("theory", "paper-data"):
            paths = module.render(out)
        elif kind == "report":
            from validation.report import CheckReport

            paths = module.render(CheckReport.from_json(report), out)
        else:
            kwargs = {**(getattr(module, "PAPER_SIZES", {}) if paper_sizes else {}), **(model_kwargs or {})}
            vec = Path(str((report.get("vectors") or {}).get("path", "")))
            if not vec.is_file() and report_path is not None:  # a report moved with its folder: vectors beside it
                beside = Path(report_path).parent / "vectors.safetensors"
                if beside.is_file():
                    kwargs.setdefault("vectors_path", beside)
            paths = module.render(out, loaded=loaded, report=report, **kwargs)
        written += [Path(p) for p in paths]
        _log(f"{fid}: {', '.join(Path(p).name for p in paths)} ({time.perf_counter() - t0:.1f} s)", progress)
    return written


def main(render: Callable[..., list[Path]], argv: Sequence[str] | None = None) -> list[Path]:
    """The command line of one figure script, ``python -m paper_figures.<module> [--out DIR] [--OPTION ...]``.

    One option per keyword of ``render`` (per field of the module's ``Params`` for ``params``), or, for a figure
    computed on a model (a module with ``DEFAULTS``), ``--report`` (required), ``--vectors``, ``--model``,
    ``--paper-sizes`` and one option per size; a setting whose default is ``None`` takes a float when annotated so,
    else comma-separated names. Prints the written paths and returns them.
    """
    import argparse
    import dataclasses
    import inspect

    module = sys.modules[render.__module__]
    parser = argparse.ArgumentParser(description=module.__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="output folder (default: current folder)")
    keywords = {p.name: p for p in inspect.signature(render).parameters.values() if p.kind is p.KEYWORD_ONLY}
    if hasattr(module, "DEFAULTS"):
        parser.add_argument("--report", type=Path, required=True, help="report.json of steering-bounds check")
        parser.add_argument("--vectors", type=Path, default=None, help="steering vectors (default: the report's)")
        parser.add_argument("--model", default=None, help="model to load (default: the report's model name)")
        parser.add_argument("--paper-sizes", action="store_true", help=f"use the paper's sizes {module.PAPER_SIZES}")
        options = dict(module.DEFAULTS)
    elif "params" in keywords:
        options = {f.name: f.default for f in dataclasses.fields(module.Params)}
    else:
        options = {name: p.default for name, p in keywords.items()}
    for name, default in options.items():
        annotation = str(getattr(keywords.get(name), "annotation", ""))
        kind = type(default) if default is not None else float if "float" in annotation else _names
        more = ", comma-separated names" if kind is _names else ""
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=None, help=f"default {default}{more}")
    args = parser.parse_args(argv)
    chosen = {name: getattr(args, name) for name in options if getattr(args, name) is not None}
    if hasattr(module, "DEFAULTS"):
        from bounds._progress import progress_bar
        from validation.models import load_model

        from ._common import load_report

        report = load_report(args.report)
        sizes = {**(module.PAPER_SIZES if args.paper_sizes else {}), **chosen}
        loaded = load_model(args.model or report["model"]["name"])
        paths = render(args.out, loaded=loaded, report=report, vectors_path=args.vectors,
                       progress=progress_bar(Path(module.FILENAME).stem), **sizes)  # fmt: skip
    elif "params" in keywords:
        paths = render(args.out, params=module.Params(**chosen))
    else:
        paths = render(args.out, **chosen)
    for p in paths:
        print(p)
    return paths


def _names(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]
