"""Benchmark: a helpfulness sweep over λ, the paper's per-prompt pattern vs `validation.sweep` (side by side).

Variants (the paper's per-prompt pattern, :func:`validation.sweep.prompt_sweep` without and with prefix reuse, a
plain batched forward, the hook overhead) and measured numbers: docs/benchmarks.md; letter log-probabilities are
compared with the baseline's (goal ≤ 1e-4 in fp32). Model ``llama-2-13b-shaped`` builds Llama-2-13B's config with
random bf16 weights (no download), meant for a GPU; MFU is reported against ``--peak-tflops``.
Run: ``.venv/bin/python benchmarks/bench_sweep.py [--n-prompts 100] [--n-lambdas 41] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def paper_band(n_layers: int) -> list[int]:
    """Blocks 8–15 of 40 (20–40 % of the depth) scaled to ``n_layers``."""
    lo, hi = round(0.2 * n_layers), round(0.4 * n_layers)
    return list(range(lo, max(hi, lo + 1)))


def random_steering(module: object, layers: list[int], n_lambdas: int) -> tuple[dict, np.ndarray]:
    """Random vectors (seed 0) for ``layers`` and the λ grid ``linspace(-20, 20, n_lambdas)`` with 0 added."""
    import torch

    gen = torch.Generator().manual_seed(0)
    vectors = {l: torch.randn(module.config.hidden_size, generator=gen) for l in layers}
    grid = np.round(np.linspace(-20.0, 20.0, n_lambdas), 6)
    if 0.0 not in grid:
        grid = np.sort(np.append(grid, 0.0))
    return vectors, grid


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timer(results: dict[str, dict], device: str = "cpu", width: int = 28) -> object:
    """``timed(name, fn)``: runs ``fn()``, records its wall time as ``results[name]["seconds"]``, prints it."""

    def timed(name: str, fn) -> object:
        _sync(device)
        t0 = time.perf_counter()
        out = fn()
        _sync(device)
        dt = time.perf_counter() - t0
        results[name] = {"seconds": dt}
        print(f"  {name:<{width}} {dt:9.2f} s", flush=True)
        return out

    return timed


def load(args: argparse.Namespace):
    """(model, prompts as token-id lists, letter ids, description)."""
    import torch

    if args.model == "llama-2-13b-shaped":
        from transformers import LlamaConfig, LlamaForCausalLM

        cfg = LlamaConfig(
            hidden_size=5120,
            intermediate_size=13824,
            num_hidden_layers=40,
            num_attention_heads=40,
            num_key_value_heads=40,
            vocab_size=32000,
            max_position_embeddings=4096,
        )
        torch.manual_seed(0)
        with torch.device(args.device):
            model = LlamaForCausalLM(cfg).to(torch.bfloat16).eval()
        gen = torch.Generator().manual_seed(1)
        prompts = [
            torch.randint(3, 32000, (args.prompt_tokens,), generator=gen).tolist() for _ in range(args.n_prompts)
        ]
        letters = [[319], [350], [315], [360]]  # "A".."D" in Llama-2's vocabulary (any ids do for timing)
        return model, prompts, letters, f"Llama-2-13B-shaped, random bf16 weights, {args.prompt_tokens}-token prompts"
    from validation import _batch, data
    from validation.models import load_model

    lm = load_model(args.model, dtype=args.dtype, device=args.device)
    tok = lm.tokenizer
    _, prompts = data.select_mmlu(
        data.mmlu(), args.n_prompts, max_tokens=192, seed=0, encode=lambda t: _batch.encode(tok, [t], chat=True)[0]
    )
    return lm, prompts, data.letter_ids(tok), f"{lm.name} ({args.dtype}), MMLU prompts (chat template, <= 192 tokens)"


def setup(args: argparse.Namespace) -> SimpleNamespace:
    """The shared workload of the sweep benchmarks: the model and prompts of :func:`load`, the paper's band with random
    vectors and the λ grid of :func:`random_steering`, the letter ids, the device, the pad id and the rows per forward
    (``--batch-size``, or chosen by :func:`validation.batching.choose_batch_size`); prints the machine, the workload
    and the rows per forward."""
    from bench_alignment import machine  # same folder

    from validation.batching import choose_batch_size
    from validation.layout import as_module

    model, prompts, letters, what = load(args)
    module = as_module(model)
    L = module.config.num_hidden_layers
    layers = paper_band(L)
    vectors, grid = random_steering(module, layers, args.n_lambdas)
    n, G = len(prompts), grid.size
    device = str(module.get_input_embeddings().weight.device)
    print(f"machine: {machine()}")
    print(f"workload: {what}; {n} prompts x {G} lambdas = {n * G} rows; steered blocks {layers} of {L}")
    if args.batch_size == "auto":
        batch = choose_batch_size(module, max(prompts, key=len), G, device=device)
    else:
        batch = int(args.batch_size)
    print(f"rows per forward: {batch} ({'chosen automatically' if args.batch_size == 'auto' else 'given'})")
    return SimpleNamespace(
        model=model,
        module=module,
        prompts=prompts,
        ids=[i for v in letters for i in v],
        what=what,
        layers=layers,
        vectors=vectors,
        grid=grid,
        device=device,
        pad=getattr(getattr(model, "tokenizer", None), "pad_token_id", None) or 0,
        batch=batch,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct", help="embedded name, path, or llama-2-13b-shaped")
    ap.add_argument("--n-prompts", type=int, default=100)
    ap.add_argument("--n-lambdas", type=int, default=41)
    ap.add_argument("--baseline-prompts", type=int, default=None, help="prompts for the baseline (default: all)")
    ap.add_argument("--batch-size", default="auto", help="rows per forward of the sweeps, or 'auto' (default)")
    ap.add_argument("--prompt-tokens", type=int, default=200, help="prompt length of llama-2-13b-shaped")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--peak-tflops", type=float, default=989.0, help="bf16 dense peak for MFU (H100 SXM: 989)")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args(argv)

    import torch
    from bench_alignment import machine  # same folder

    from validation import _batch
    from validation.hooks import steer
    from validation.sweep import prompt_sweep

    w = setup(args)
    model, module, prompts, ids, what, layers = w.model, w.module, w.prompts, w.ids, w.what, w.layers
    vectors, grid, device, pad, batch = w.vectors, w.grid, w.device, w.pad, w.batch
    n, G = len(prompts), grid.size
    results: dict[str, dict] = {}

    timed = timer(results, device)

    # baseline: the paper's pattern
    nb = args.baseline_prompts or n

    def baseline() -> np.ndarray:
        out = np.zeros((nb, G, len(ids)), np.float32)
        with torch.inference_mode():
            for i, p in enumerate(prompts[:nb]):
                x = torch.as_tensor([p], device=device)
                for g, lam in enumerate(grid):
                    with steer(module, vectors, float(lam)):
                        logits = module(input_ids=x, use_cache=False).logits  # full logits, every position
                    out[i, g] = torch.log_softmax(logits[0, -1].float(), -1)[ids].cpu().numpy()
        return out

    base = timed("baseline (paper pattern)", baseline)
    noreuse = timed(
        "sweep, no prefix reuse",
        lambda: prompt_sweep(model, prompts, vectors, grid, ids=ids, batch_size=batch, pad_id=pad, reuse_prefix=False),
    )
    fast = timed(
        "sweep (prefix reuse)",
        lambda: prompt_sweep(model, prompts, vectors, grid, ids=ids, batch_size=batch, pad_id=pad, reuse_prefix=True),
    )

    def plain() -> None:  # the same rows, no hooks, no reuse, last logits only

        with torch.inference_mode():
            for group in _batch.groups([len(p) for p in prompts], max(1, batch // G)):
                rows = [prompts[i] for i in group for _ in range(G)]
                x, m = _batch.pad(rows, pad, device)
                module(input_ids=x, attention_mask=m, use_cache=False, logits_to_keep=1)

    timed("plain batched forward", plain)
    for name, sw in (("sweep, no prefix reuse", noreuse), ("sweep (prefix reuse)", fast)):
        results[name]["max_abs_diff_vs_baseline"] = float(np.max(np.abs(sw.logprobs[:nb] - base)))
    tb = results["baseline (paper pattern)"]["seconds"] * n / nb  # per-row time scaled to all prompts
    tokens = sum(len(p) for p in prompts) * G
    for name, r in results.items():
        secs = tb if name.startswith("baseline") else r["seconds"]
        r["tokens_per_second"] = tokens / secs
        r["speedup_vs_baseline"] = tb / secs
    results["sweep (prefix reuse)"]["speedup_vs_plain"] = (
        results["plain batched forward"]["seconds"] / results["sweep (prefix reuse)"]["seconds"]
    )

    # hook overhead: steered forward at lambda = 0 vs a plain forward of the same batch
    rows = [prompts[i % n] for i in range(min(batch, 32))]
    x, m = _batch.pad(rows, pad, device)

    def best(fn, k: int = 5) -> float:
        times = []
        with torch.inference_mode():
            fn()
            for _ in range(k):
                _sync(device)
                t0 = time.perf_counter()
                fn()
                _sync(device)
                times.append(time.perf_counter() - t0)
        return min(times)

    t_plain = best(lambda: module(input_ids=x, attention_mask=m, use_cache=False, logits_to_keep=1))

    def steered0():
        with steer(module, vectors, 0.0):
            module(input_ids=x, attention_mask=m, use_cache=False, logits_to_keep=1)

    t_steer = best(steered0)
    results["hook_overhead"] = {"plain_s": t_plain, "steered_lambda0_s": t_steer, "overhead": t_steer / t_plain - 1}

    params = sum(p.numel() for p in module.parameters())
    print(f"\nresults ({n} prompts x {G} lambdas; baseline timed on {nb} prompts, scaled per row):")
    for name in ("baseline (paper pattern)", "sweep, no prefix reuse", "sweep (prefix reuse)", "plain batched forward"):
        r = results[name]
        mfu = 2 * params * r["tokens_per_second"] / (args.peak_tflops * 1e12) if device.startswith("cuda") else None
        r["mfu"] = mfu
        extra = (
            f", max |diff| vs baseline {r['max_abs_diff_vs_baseline']:.2e}" if "max_abs_diff_vs_baseline" in r else ""
        )
        mfu_s = f", MFU {mfu:.1%}" if mfu is not None else ""
        print(
            f"  {name:<28} {r['speedup_vs_baseline']:6.2f}x baseline, {r['tokens_per_second']:9.0f} tok/s{mfu_s}{extra}"
        )
    print(f"  sweep vs plain batched forward: {results['sweep (prefix reuse)']['speedup_vs_plain']:.2f}x")
    h = results["hook_overhead"]
    print(
        f"  hook overhead at lambda = 0: {h['overhead']:+.1%} ({h['steered_lambda0_s']:.4f} s vs {h['plain_s']:.4f} s, "
        f"batch of {len(rows)}, best of 5)"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"machine": machine(), "workload": what, "layers": layers, "batch": batch, "results": results}, indent=1
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
