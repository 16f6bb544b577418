"""Benchmark: a steered greedy-generation sweep over λ, the paper's per-prompt pattern vs `validation.sweep` (side by
side).

Variants (the paper's one ``generate`` call per prompt and λ; ``generate_sweep`` without and with prefix reuse),
``--layers`` and measured numbers: docs/benchmarks.md. The generated token ids of both sweeps are compared with the
baseline's. Run: ``.venv/bin/python benchmarks/bench_generate.py [--n-prompts 8] [--n-lambdas 11] [--layers band]``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")


class _IdTokenizer:
    """Decodes to the token ids themselves, so that the comparison is on ids, not on text; the trailing padding of a
    row that finished early in a batch is dropped (a single-prompt ``generate`` has none)."""

    def __init__(self, pad_token_id: int, eos_token_id: object) -> None:
        self.pad_token_id, self.eos_token_id = pad_token_id, eos_token_id

    def decode(self, ids: object, skip_special_tokens: bool = True) -> str:
        out = [int(i) for i in ids]
        while out and out[-1] == self.pad_token_id:
            out.pop()
        return " ".join(map(str, out))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--n-prompts", type=int, default=8)
    ap.add_argument("--n-lambdas", type=int, default=11)
    ap.add_argument("--max-new-tokens", type=int, default=24)
    ap.add_argument("--layers", choices=("band", "check"), default="check")
    ap.add_argument("--batch-size", type=int, default=48, help="rows per generate call of the sweeps")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args(argv)

    import torch
    from bench_alignment import machine  # same folder
    from bench_sweep import paper_band, random_steering, timer

    from validation import _batch, data, sweep
    from validation.check import default_layers
    from validation.hooks import steer
    from validation.layout import as_module
    from validation.models import load_model

    lm = load_model(args.model)
    module = as_module(lm)
    L = module.config.num_hidden_layers
    layers = paper_band(L) if args.layers == "band" else default_layers(L)
    vectors, grid = random_steering(module, layers, args.n_lambdas)
    items = data.advbench()
    prompts = _batch.encode(lm.tokenizer, [items[i].text for i in data.seeded_order(len(items), 0)[: args.n_prompts]])
    n, G = len(prompts), grid.size
    pad = _batch.pad_id(lm.tokenizer)
    print(f"machine: {machine()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(
        f"workload: {lm.name}, {n} AdvBench prompts ({min(map(len, prompts))}-{max(map(len, prompts))} tokens) x "
        f"{G} lambdas = {n * G} rows, {args.max_new_tokens} new tokens; steered blocks {layers} of {L} "
        f"({args.layers}); {args.batch_size} rows per generate call"
    )
    results: dict[str, dict] = {}

    timed = timer(results, width=24)

    ids_tokenizer = _IdTokenizer(pad, lm.tokenizer.eos_token_id)

    def baseline() -> list[list[str]]:
        out = []
        with torch.inference_mode():
            for p in prompts:
                x = torch.as_tensor([p])
                row = []
                for lam in grid:
                    with steer(module, vectors, float(lam), positions="all"):
                        y = module.generate(
                            input_ids=x,
                            attention_mask=torch.ones_like(x),
                            max_new_tokens=args.max_new_tokens,
                            do_sample=False,
                            pad_token_id=pad,
                        )
                    row.append(ids_tokenizer.decode(y[0, len(p) :]))
                out.append(row)
        return out

    wrapped = SimpleNamespace(model=module, tokenizer=ids_tokenizer)

    def run_sweep(reuse: bool) -> list[list[str]]:
        return sweep.generate_sweep(
            wrapped,
            prompts,
            vectors,
            grid,
            max_new_tokens=args.max_new_tokens,
            batch_size=args.batch_size,
            pad_id=pad,
            reuse_prefix=reuse,
        )

    base = timed("baseline (paper pattern)", baseline)
    noreuse = timed("sweep, no prefix reuse", lambda: run_sweep(False))
    fast = timed("sweep (prefix reuse)", lambda: run_sweep(True))
    tb = results["baseline (paper pattern)"]["seconds"]
    for name, texts in (("sweep, no prefix reuse", noreuse), ("sweep (prefix reuse)", fast)):
        results[name]["rows_differing_from_baseline"] = sum(
            a != b for ra, rb in zip(texts, base, strict=True) for a, b in zip(ra, rb, strict=True)
        )
    for r in results.values():
        r["speedup_vs_baseline"] = tb / r["seconds"]
    ratio = results["sweep, no prefix reuse"]["seconds"] / results["sweep (prefix reuse)"]["seconds"]
    results["prefix_reuse_speedup"] = ratio
    print(f"\nresults ({n} prompts x {G} lambdas):")
    for name in ("sweep, no prefix reuse", "sweep (prefix reuse)"):
        r = results[name]
        print(
            f"  {name:<24} {r['speedup_vs_baseline']:5.2f}x baseline, "
            f"{r['rows_differing_from_baseline']}/{n * G} rows differ from the baseline"
        )
    print(f"  prefix reuse vs no reuse: {ratio:.2f}x")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"machine": machine(), "layers": layers, "grid": grid.tolist(), "results": results}, indent=1)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
