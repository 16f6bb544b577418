"""Benchmark (issue 19): the helpfulness sweep with the vector at the last prompt token only, against the paper's
pattern and against the all-position sweep, side by side in one run, each next to its exact-FLOP ceiling.

Variants, on the same prompts × λ rows (P of the answer letters over the full vocabulary at the last prompt token):

* ``paper pattern (all)`` — the issue-6 baseline: one prompt per forward, hooks re-applied per λ, full logits at every
  position, the vector at every position;
* ``paper pattern (last)`` — the same loop with the vector at the last prompt position only (a position mask): the
  straightforward computation the fast path must equal;
* ``sweep all`` — :func:`validation.sweep.prompt_sweep` (λ along the batch, prefix reuse), every position;
* ``sweep last`` — ``prompt_sweep(..., positions="last")``: one packed pass per prompt (the prompt minus its last token
  once, then the last token once per λ, each copy seeing the prefix and itself only; :mod:`validation.lastpos`).

The *ceiling* of a variant is the ratio of the paper pattern's matrix-product FLOPs to the variant's (both counted
exactly by :func:`flops`, checked against ``torch.utils.flop_counter.FlopCounterMode`` on one prompt); *efficiency*
is the measured speed-up divided by that ceiling. Paper-pattern variants run on ``--baseline-prompts`` prompts and are
scaled per row. Numbers: docs/benchmarks.md.
Run: ``.venv/bin/python benchmarks/bench_positions.py --n-prompts 10 --n-lambdas 41 --baseline-prompts 5 --json OUT``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pass_flops(cfg: object, new: int, context: int, logits: int, attention: bool = True) -> int:
    """Matrix-product FLOPs (2 per multiply-add) of one row's pass through a Llama-style decoder: ``new`` tokens
    attending to ``context`` keys each (the full ``new × context`` score matrix, as scaled-dot-product attention
    computes it), and ``logits`` positions through the unembedding. Norms, rotary tables and softmax are ignored;
    ``attention=False`` leaves out the score products too (what ``FlopCounterMode`` sees of CPU attention kernels)."""
    d, inter, layers = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    heads = cfg.num_attention_heads
    hd = getattr(cfg, "head_dim", None) or d // heads
    kv = getattr(cfg, "num_key_value_heads", None) or heads
    linear = d * heads * hd * 2 + d * kv * hd * 2 + 3 * d * inter  # q, o; k, v; gate, up, down
    attention = 2 * heads * hd * context if attention else 0  # QK^T and AV, per new token
    return 2 * layers * new * linear + 2 * layers * new * attention + 2 * logits * d * cfg.vocab_size


def flops(cfg: object, lengths: list[int], n_lambdas: int, first: int, attention: bool = True) -> dict[str, int]:
    """Exact FLOPs of each variant over prompts of ``lengths`` tokens and ``n_lambdas`` λ rows each (real tokens only:
    the padding a batched variant also computes counts against its efficiency, not its ceiling). ``first`` is the
    first steered block (the all-position sweep computes blocks below it once per prompt)."""
    L = cfg.num_hidden_layers
    out = {"paper pattern (all)": 0, "paper pattern (last)": 0, "sweep all": 0, "sweep last": 0}
    for T in lengths:
        paper = n_lambdas * pass_flops(cfg, T, T, T, attention)
        out["paper pattern (all)"] += paper
        out["paper pattern (last)"] += paper
        block = pass_flops(cfg, T, T, 0, attention) // L  # one block over the prompt
        out["sweep all"] += first * block + n_lambdas * ((L - first) * block + pass_flops(cfg, 0, 0, 1))
        step = pass_flops(cfg, 1, T, 1, attention)  # one token with the cache, its logits
        out["sweep last"] += pass_flops(cfg, T - 1, T - 1, 0, attention) + n_lambdas * step
    return out


def counted_flops(module: object, ids: list[int], n_lambdas: int) -> dict[str, int]:
    """FLOPs counted by ``FlopCounterMode`` for one prompt: the paper pattern's forward (times ``n_lambdas``) and the
    least work of the last-token sweep (the prefix once, then one token per λ row reading the prefix's keys and values
    from a KV cache) — the count :func:`flops` uses for its ceiling; the packed pass does this work plus the score
    products of the copies against each other, which its mask discards."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from validation.kvcache import cache_kwargs, new_cache

    x = torch.as_tensor([ids])
    with torch.inference_mode():
        with FlopCounterMode(display=False) as full:
            module(input_ids=x, use_cache=False)
        cache = new_cache(module)
        with FlopCounterMode(display=False) as prefix:
            module(input_ids=x[:, :-1], use_cache=True, logits_to_keep=1, **cache_kwargs(module, cache))
        with FlopCounterMode(display=False) as step:
            module(input_ids=x[:, -1:], use_cache=True, **cache_kwargs(module, cache))
    V, d = module.config.vocab_size, module.config.hidden_size
    return {
        "paper pattern (all)": n_lambdas * full.get_total_flops(),
        # the prefix pass keeps one logit row (logits_to_keep=1) that the fast path does not need
        "sweep last": prefix.get_total_flops() - 2 * d * V + n_lambdas * step.get_total_flops(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct", help="embedded name or path")
    ap.add_argument("--n-prompts", type=int, default=10)
    ap.add_argument("--n-lambdas", type=int, default=41)
    ap.add_argument("--baseline-prompts", type=int, default=5, help="prompts for the paper-pattern variants")
    ap.add_argument("--batch-size", default="auto", help="rows per forward of the sweeps, or 'auto' (default)")
    ap.add_argument("--prompt-tokens", type=int, default=200, help="(unused here; bench_sweep.load reads it)")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args(argv)

    import torch
    from bench_alignment import machine  # same folder
    from bench_sweep import setup, timer

    from validation.hooks import steer
    from validation.sweep import prompt_sweep

    w = setup(args)
    model, module, prompts, ids, what, layers = w.model, w.module, w.prompts, w.ids, w.what, w.layers
    vectors, grid, device, pad, batch = w.vectors, w.grid, w.device, w.pad, w.batch
    n, G, nb = len(prompts), grid.size, min(args.baseline_prompts, len(prompts))
    print(f"paper-pattern variants on the first {nb} prompts, scaled per row")
    results: dict[str, dict] = {}
    timed = timer(results, device, width=24)

    def paper(last: bool) -> np.ndarray:
        out = np.zeros((nb, G, len(ids)), np.float32)
        with torch.inference_mode():
            for i, p in enumerate(prompts[:nb]):
                x = torch.as_tensor([p], device=device)
                where: str | torch.Tensor = "all"
                if last:
                    where = torch.zeros((1, len(p)), dtype=torch.bool)
                    where[0, -1] = True
                for g, lam in enumerate(grid):
                    with steer(module, vectors, float(lam), positions=where):
                        logits = module(input_ids=x, use_cache=False).logits
                    out[i, g] = torch.log_softmax(logits[0, -1].float(), -1)[ids].cpu().numpy()
        return out

    ref_all = timed("paper pattern (all)", lambda: paper(False))
    ref_last = timed("paper pattern (last)", lambda: paper(True))
    sweep_all = timed(
        "sweep all", lambda: prompt_sweep(model, prompts, vectors, grid, ids=ids, batch_size=batch, pad_id=pad)
    )
    sweep_last = timed(
        "sweep last",
        lambda: prompt_sweep(model, prompts, vectors, grid, ids=ids, batch_size=batch, pad_id=pad, positions="last"),
    )
    results["sweep all"]["max_abs_diff"] = float(np.max(np.abs(sweep_all.logprobs[:nb] - ref_all)))
    results["sweep last"]["max_abs_diff"] = float(np.max(np.abs(sweep_last.logprobs[:nb] - ref_last)))

    counted = flops(module.config, [len(p) for p in prompts], G, min(layers))
    check = counted_flops(module, prompts[0], G)
    mine = flops(module.config, [len(prompts[0])], G, min(layers), attention=False)
    print("FLOP count check on prompt 0, attention scores left out (this script vs torch FlopCounterMode):")
    for k, v in check.items():
        print(f"  {k:<24} {mine[k] / 1e9:10.3f} vs {v / 1e9:10.3f} GFLOP ({mine[k] / v - 1:+.2e})")
    t_paper = results["paper pattern (all)"]["seconds"] * n / nb
    results["paper pattern (all)"]["seconds_scaled"] = t_paper
    results["paper pattern (last)"]["seconds_scaled"] = results["paper pattern (last)"]["seconds"] * n / nb
    print(f"\nresults ({n} prompts x {G} lambdas = {n * G} rows):")
    print(f"  {'variant':<24} {'seconds':>9} {'speed-up':>9} {'ceiling':>9} {'efficiency':>10} {'GFLOP/s':>8}")
    for name, r in results.items():
        secs = r.get("seconds_scaled", r["seconds"])
        r["gflop"] = counted[name] / 1e9
        r["speedup_vs_paper"] = t_paper / secs
        r["ceiling"] = counted["paper pattern (all)"] / counted[name]
        r["efficiency"] = r["speedup_vs_paper"] / r["ceiling"]
        r["gflop_per_s"] = r["gflop"] / secs
        diff = f"  max |diff| {r['max_abs_diff']:.1e}" if "max_abs_diff" in r else ""
        print(
            f"  {name:<24} {secs:9.2f} {r['speedup_vs_paper']:8.2f}x {r['ceiling']:8.2f}x {r['efficiency']:10.2f}"
            f" {r['gflop_per_s']:8.1f}{diff}"
        )
    r = results["sweep last"]
    print(f"  sweep last vs sweep all: {results['sweep all']['seconds'] / r['seconds']:.2f}x")
    if args.json:
        payload = {
            "machine": machine(),
            "workload": what,
            "layers": layers,
            "batch": batch,
            "flop_check": {k: {"script": mine[k], "torch": v} for k, v in check.items()},
            "results": results,
        }
        Path(args.json).write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
