"""Benchmark: ``bounds.alignment_lower`` over 10^7 values of λ against bare ``np.tanh`` on the same array.

Variants and measured numbers: docs/benchmarks.md. Run: ``.venv/bin/python benchmarks/bench_alignment.py [--n 10000000]
[--repeat 7] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable

import numpy as np


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Smallest wall time of ``repeat`` calls (after one warm-up call), in seconds."""
    fn()
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return float(best)


def run(n: int, repeat: int) -> dict[str, object]:
    import bounds

    lam = np.linspace(-5.0, 5.0, n)
    rng = np.random.default_rng(0)
    A = rng.uniform(0.5, 2.0, n)
    B = rng.uniform(-0.9, 0.9, n)
    D = rng.uniform(0.1, 3.0, n)
    # same numbers from both paths before timing anything
    np.testing.assert_allclose(bounds.alignment_lower(1.3, 0.2, lam, 0.7), np.tanh(lam * 0.455 + np.arctanh(0.2)))
    t_tanh = best_of(lambda: np.tanh(lam), repeat)
    t_scalar = best_of(lambda: bounds.alignment_lower(1.3, 0.2, lam, 0.7), repeat)
    t_arrays = best_of(lambda: bounds.alignment_lower(A, B, lam, D), repeat)
    return {
        "n": n,
        "repeat": repeat,
        "np.tanh_s": t_tanh,
        "alignment_lower_scalar_params_s": t_scalar,
        "alignment_lower_all_arrays_s": t_arrays,
        "ratio_scalar_params": t_scalar / t_tanh,
        "ratio_all_arrays": t_arrays / t_tanh,
        "goal_ratio_scalar_params": 2.0,
    }


def machine() -> dict[str, str]:
    import os

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": str(os.cpu_count()),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10**7, help="length of the λ array (default 10^7)")
    ap.add_argument("--repeat", type=int, default=7, help="timed calls per variant; the best is kept (default 7)")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    if args.n < 1 or args.repeat < 1:
        ap.error(f"--n and --repeat must be >= 1, got {args.n} and {args.repeat}")
    res = {"machine": machine(), "alignment_lower": run(args.n, args.repeat)}
    r = res["alignment_lower"]
    print(f"alignment_lower vs np.tanh, {args.n:.0e} values of lam, best of {args.repeat}")
    print(f"  np.tanh(lam)                         {r['np.tanh_s'] * 1e3:9.1f} ms   1.00x")
    print(
        f"  alignment_lower(scalars, lam)        {r['alignment_lower_scalar_params_s'] * 1e3:9.1f} ms   "
        f"{r['ratio_scalar_params']:.2f}x  (goal <= 2x)"
    )
    print(
        f"  alignment_lower(all arrays)          {r['alignment_lower_all_arrays_s'] * 1e3:9.1f} ms   "
        f"{r['ratio_all_arrays']:.2f}x"
    )
    print(f"  machine: {res['machine']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
