"""Benchmark: Monte-Carlo simulator throughput in token-draws per second, numpy vs torch (CPU, and CUDA when present).

A *token-draw* is one sampled projection of one noised token in one realisation, evaluated across the whole λ grid
(docs/benchmarks.md). Run: ``.venv/bin/python benchmarks/bench_simulate.py [--k 50] [--grid 24] [--n-draws 100000]
[--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=50, help="noised (top-k) tokens per query (default 50)")
    ap.add_argument("--grid", type=int, default=24, help="points of the λ grid (default 24)")
    ap.add_argument("--n-draws", type=int, default=100_000, help="realisations per timed run (default 100000)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per backend; the fastest is kept (default 3)")
    ap.add_argument("--law", default="normal", help="noise law name (default normal)")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    if min(args.k, args.grid, args.n_draws, args.repeat) < 1 or args.k < 2:
        ap.error("--k must be >= 2 and --grid, --n-draws, --repeat >= 1")

    from bench_alignment import machine  # same folder

    from bounds.simulate import measure_throughput, torch_available
    from bounds.synthetic import synthetic_query

    query = synthetic_query(args.k, 0.5, "dirichlet", 0, tail_mass=0.0)
    lam = np.linspace(0.0, 12.0, args.grid)
    runs = [("numpy", "cpu")]
    if torch_available():
        import torch

        runs.append(("torch", "cpu"))
        if torch.cuda.is_available():
            runs.append(("torch", "cuda"))
    results = []
    for backend, device in runs:
        r = measure_throughput(
            query, args.law, lam, n_draws=args.n_draws, backend=backend, device=device, repeats=args.repeat
        )
        results.append(r)
    base = results[0]["token_draws_per_second"]
    print(
        f"simulator throughput: k={args.k} noised tokens (vocabulary {results[0]['vocabulary']}), "
        f"{args.grid}-point λ grid, {args.n_draws} draws, law {args.law}, best of {args.repeat}"
    )
    for r in results:
        print(
            f"  {r['backend']:<6} {r['device']!s:<8} {r['token_draws_per_second']:.3e} token-draws/s  "
            f"({r['seconds']:.3f} s)  {r['token_draws_per_second'] / base:.2f}x numpy"
        )
    info = machine()
    if torch_available():
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"  machine: {info}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": info, "simulate": results}, fh, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
