"""The ``steering-bounds`` command line: theory, simulate, fit, check, study, compare, vectors, figures (``--help``).

Subcommands import their heavy parts lazily. An error the project raises on purpose about the input
(:class:`bounds.errors.SteeringBoundsError`) is printed as one line ``steering-bounds <subcommand>: error: <message>``
on stderr with exit status 2 and no traceback, like argparse's usage errors; any other exception (a bug, an error from
inside torch or transformers) keeps its traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import Any

from bounds.errors import ParameterError, SteeringBoundsError


def _theory(args: argparse.Namespace) -> int:
    from bounds import registry

    if args.order < 0:
        raise ParameterError(f"order: expected an integer >= 0, got {args.order}")
    if args.markdown:
        from bounds.theory_doc import render_markdown

        sys.stdout.write(render_markdown())
        return 0
    items = registry.statements()
    if args.json:
        json.dump([s.to_dict() for s in items], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    order = args.order
    width = max(26, *(len(s.id) + 2 for s in items))  # the longest id keeps a gap before its kind
    head = f"{'ID':<{width}}{'KIND':<13}{'STATUS':<8}NAME"
    print(head)
    print("-" * max(len(head), 100))
    for s in items:
        print(f"{s.id:<{width}}{s.kind:<13}{(s.status or '-'):<8}{s.name}")
        print(f"    formula:   {s.text()}")
        print(f"    expansion: {s.expansion_text(order)}")
    n_claims = sum(s.is_claim for s in items)
    n_fail = sum(s.status == "fails" for s in items)
    print("-" * max(len(head), 100))
    print(
        f"{len(items)} statements, {n_claims} claims: {n_claims - n_fail} hold, {n_fail} fail (settled by the tests)."
    )
    return 0


def _fit(args: argparse.Namespace) -> int:
    from bounds.fit_workflow import run_fit

    if args.paper or args.curves is None:
        return _fit_paper(args)
    for name in ("n", "n_sensitivity"):
        if getattr(args, name) is not None:
            raise ParameterError(f"{name}: applies to --paper only (the paper's curves' assumed sample size)")
    options = ("alignment_law", "helpfulness_law", "k", "w", "tau", "lam_range", "B0", "window", "alpha", "beta")
    out = run_fit(args.curves, out_dir=args.out, **{k: getattr(args, k) for k in (*options, "n_boot", "level", "seed")})
    print(_fit_summary(out))
    print(f"wrote {args.out}/fit.json, curves.png, pareto.png")
    return 0


def _fit_paper(args: argparse.Namespace) -> int:
    """``fit --paper``: the paper's published curves, fitted as the authors did and weighted (docs/paper-curves.md)."""
    from bounds.paper import DEFAULT_N, SENSITIVITY_N, write_paper_fits
    from bounds.paper.report import summary

    if not args.paper:
        raise ParameterError("curves: give a curve file (CSV, JSON or JSON Lines), or --paper for the paper's curves")
    if args.curves is not None:
        raise ParameterError(f"curves: give either a curve file or --paper, not both (got {args.curves!r} and --paper)")
    n = DEFAULT_N if args.n is None else args.n
    sensitivity = SENSITIVITY_N if args.n_sensitivity is None else tuple(args.n_sensitivity)
    listed = ",".join(map(str, sensitivity)) or "none"
    command = f"steering-bounds fit --paper --out {args.out} --n {n} --level {args.level:g} --n-sensitivity {listed}"
    fits = write_paper_fits(args.out, n=n, level=args.level, sensitivity_n=sensitivity, command=command)
    print(summary(fits))
    print(f"wrote {args.out}/paper_fits.json, paper_fits.md")
    return 0


def _sample_sizes(text: str) -> list[int]:
    """An argparse type: comma-separated integers, or ``none`` for an empty list."""
    return [] if text.strip().lower() == "none" else _int_list(text)


def _fit_summary(out: dict) -> str:
    """A few lines from ``fit.json``: fitted parameters with their intervals and the tradeoff."""
    lines = []
    for quantity in ("behavior", "helpfulness"):
        q = out.get(quantity)
        if not isinstance(q, dict) or "params" not in q:
            continue
        lines.append(f"{quantity}: law {q.get('law')}, {q.get('method', '')}")
        for name, par in q["params"].items():
            text = f"  {name} = {par['value']:.4g}"
            if par.get("stderr") is not None:
                text += f" ± {par['stderr']:.2g}"
            if par.get("ci"):
                text += f", {par.get('ci_method', '')} CI [{par['ci'][0]:.4g}, {par['ci'][1]:.4g}]"
            if par.get("bootstrap_ci"):
                text += f", bootstrap CI [{par['bootstrap_ci'][0]:.4g}, {par['bootstrap_ci'][1]:.4g}]"
            lines.append(text)
    if any(
        "bootstrap_ci" in p for q in ("behavior", "helpfulness") for p in (out.get(q) or {}).get("params", {}).values()
    ):
        lines.append(
            "  (several queries: quote the bootstrap CI; the profile CI treats the lambda points of the average "
            "curve as independent, but each query's effect is correlated across lambda)"
        )
    t = out.get("tradeoff")
    if isinstance(t, dict) and "best" in t:
        b = t["best"]
        best = f"lambda = {b['lam']:.4g} (B = {b['B']:.3f}, H = {b['H']:.3f})"
        lines.append(f"tradeoff: argmax B + {b['w']:g} H at {best}")
        lines.append(f"  efficient regime (dB/dlam > -dH/dlam): {t['efficient_regime']}")
        h = t.get("helpfulness_limit") or {}
        if h:
            lines.append(f"  largest lambda keeping H >= (1 - {h['tau']:g}) p0: {h['lam']} ({h['reason']})")
    for warning in out.get("warnings", []):
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def _simulate(args: argparse.Namespace) -> int:
    from bounds.coverage import run_study

    def progress(message: object) -> None:  # a bounds.coverage.StudyProgress; str() is its progress line
        print(message, file=sys.stderr, flush=True)

    result = run_study(
        args.out,
        seed=args.seed,
        n_draws=args.n_draws,
        quick=args.quick,
        backend=args.backend,
        device=args.device,
        progress=progress,
    )
    print(result.summary())
    return 0


def _list_of(kind: type, what: str) -> Any:
    """An argparse type: comma- or space-separated values of ``kind``."""

    def parse(text: str) -> list[Any]:
        try:
            return [kind(x) for x in text.replace(",", " ").split()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {what}, got {text!r}") from None

    return parse


_int_list, _float_list = _list_of(int, "integers"), _list_of(float, "numbers")


def _batch_size(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or an integer, got {text!r}") from None


def _check(args: argparse.Namespace) -> int:
    from validation.check import CheckConfig, run_check

    cfg = CheckConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(CheckConfig)})
    report = run_check(  # checks every setting it can before the model loads
        cfg,
        args.out,
        progress=not args.quiet,
        fresh=args.fresh,
        command="steering-bounds " + " ".join(sys.argv[1:]),
    )
    print(report.summary.replace("; ", "\n"))
    print(f"wrote {args.out}/report.json, report.md and {len(report.figures)} figures")
    return 0


def _study(args: argparse.Namespace) -> int:
    from validation.study import grid, run_study

    behaviors = {}
    for item in args.behavior or []:
        model, sep, behavior = item.partition("=")
        if not sep or not model or not behavior:
            raise ParameterError(f"behavior: expected MODEL=BEHAVIOR, got {item!r}")
        behaviors[model] = behavior
    cells = grid(args.models, args.methods, args.bands, behaviors)
    shared = {name: getattr(args, name) for name in _study_shared()}
    result = run_study(cells, args.out, shared=shared, progress=not args.quiet)
    print(result.summary())
    return 0


def _study_shared() -> list[str]:
    """The CheckConfig settings a study shares between its cells (all but the axes and the per-model ones)."""
    from validation.check import CheckConfig
    from validation.study import AXES

    return [f.name for f in dataclasses.fields(CheckConfig) if f.name not in (*AXES, "layers", "vectors")]


def _vectors(args: argparse.Namespace) -> int:
    from validation.interop import describe, export_control_vector_gguf, load_any_vectors

    if args.action == "show":
        print(describe(load_any_vectors(args.file), args.file))
        return 0
    vectors = load_any_vectors(args.vectors)
    out = export_control_vector_gguf(vectors, args.out, coefficient=args.coefficient, model_hint=args.model_hint)
    layers = ", ".join(map(str, vectors.layers))
    print(f"wrote {out}: direction.k = {args.coefficient:g} x unit vector k, k in {layers}")
    print(f"llama.cpp: --control-vector-scaled {out} S adds S x {args.coefficient:g} x unit vector to block k's output")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from validation.compare import compare_reports

    options = {"task": args.task, "budget": args.budget, "behavior_curve": args.behavior_curve, "level": args.level}
    result = compare_reports(args.reports, args.out, **options)
    print(f"{len(result['rows'])} reports; ranking task: {result['settings']['task_rule']}")
    for margin, a in result["ranking"]["agreement"].items():
        tau = f"Kendall tau = {a['kendall_tau']:.3f} over {a['n_used']} rows" if a["reason"] is None else a["reason"]
        print(f"measured vs predicted ({margin}): {tau}")
    print(f"wrote {args.out}/compare.md, compare.json and {len(result['figures'])} figures")
    return 0


def _figures(args: argparse.Namespace) -> int:
    from paper_figures.build import build_all

    paths = build_all(
        args.out,
        model=args.model,
        report_path=args.report,
        only=args.only,
        paper_sizes=args.paper_sizes,
        progress=not args.quiet,
        device_map=args.device_map,
    )
    for p in paths:
        print(p)
    return 0


#: argparse options of each CheckConfig field (the defaults come from the fields)
_CHECK_OPTIONS: dict[str, dict[str, Any]] = {
    "model": {"help": "embedded name, GGUF file, HF directory or id"},
    "behavior": {"help": "harmless, harmful, bias, or a behavior JSON file"},
    "layers": {"type": _int_list, "help": "steered decoder blocks, e.g. 12,13,14 (default: the middle fifth)"},
    "layer_band": {
        "help": "named band of blocks when --layers is not given: early 20-40 %%, middle 40-60 %%, late 60-80 %% of "
        "the depth",
    },
    "lambdas": {"type": _float_list, "help": "lambda grid (must contain 0), e.g. -4,0,2,4 (default: from the norm)"},
    "vectors": {"help": "a vectors file: .safetensors, .gguf (llama.cpp), .pt (steering-vectors) (default: computed)"},
    "method": {
        "help": "how the steering direction is estimated: RepE PCA, CAA mean difference, ITI logistic probe "
        "or ActAdd single pair (docs/api/validation-vectors.md)"
    },
    "n_vector_pairs": {"type": int, "help": "contrast pairs for the vectors"},
    "n_behavior": {"type": int, "help": "behavior prompts"},
    "n_mmlu": {"type": int, "help": "MMLU questions, 0 skips"},
    "mmlu_max_tokens": {"type": int, "help": "longest MMLU prompt kept"},
    "n_piqa": {"type": int, "help": "PIQA items, 0 skips"},
    "max_new_tokens": {"type": int, "help": "greedy tokens per response, 0 skips"},
    "top_k": {"type": int, "help": "top-k tokens per MMLU query for Assumption 3"},
    "mmlu_subjects": {"nargs": "+", "help": "MMLU topics (default: all)"},
    "seed": {"type": int},
    "batch_size": {"type": _batch_size, "help": "rows (prompt x lambda) per forward, or auto: chosen once per run"},
    "dtype": {"choices": ("float32", "bfloat16", "float16")},
    "device": {"help": "cpu, cuda, cuda:1, ... (default: the loader's)"},
    "level": {"type": float, "help": "confidence level"},
    "device_map": {"help": "let accelerate place the model, e.g. auto (needs accelerate; exclusive with --device)"},
    "kl_budget": {"type": float, "help": "KL budget in nats: the report gives the lambda that spends it"},
    "target_behavior": {
        "type": float,
        "help": "target generated behavior B in (-1, 1]: the report gives the smallest grid lambda > 0 reaching it",
    },
    "positions": {
        "choices": ("all", "last"),
        "help": "where the vector is added: all, every position (the paper's); last, from the last prompt token on "
        "(exact fast path)",
    },
}


def _add_config_options(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    """One option per named :class:`~validation.check.CheckConfig` setting; the default is the field's."""
    from validation.check import LAYER_BANDS, CheckConfig
    from validation.vectors import METHODS

    choices = {"layer_band": tuple(LAYER_BANDS), "method": tuple(METHODS)}
    for f in dataclasses.fields(CheckConfig):
        if f.name not in names:
            continue
        kw = dict(_CHECK_OPTIONS[f.name])
        if f.name in choices:
            kw["choices"] = choices[f.name]
        if f.default is not None:
            kw["help"] = kw.get("help", f.name.replace("_", " ")) + " (default %(default)s)"
        parser.add_argument("--" + f.name.replace("_", "-"), default=f.default, **kw)


def build_parser() -> argparse.ArgumentParser:
    from validation.check import CheckConfig

    parser = argparse.ArgumentParser(prog="steering-bounds", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    th = sub.add_parser("theory", help="list every statement with its status, formula and small-lambda expansion")
    fmt = th.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print a JSON list of statement objects")
    fmt.add_argument("--markdown", action="store_true", help="print the generated docs/theory.md")
    th.add_argument("--order", type=int, default=2, help="order of the small-lambda expansion (default 2)")
    th.set_defaults(func=_theory)

    sm = sub.add_parser(
        "simulate",
        help="Monte-Carlo coverage study of the probability claims (Theorem 2, corrected bounds, Corollary 2, "
        "Theorem 1 tightness); writes coverage.csv/.json and figures; resumes an interrupted run",
    )
    sm.add_argument("--out", default="simulate-out", help="output directory (default: simulate-out)")
    sm.add_argument("--seed", type=int, default=0, help="root seed of the study (default 0)")
    sm.add_argument("--n-draws", type=int, default=None, help="noise draws per configuration (default: the study's)")
    sm.add_argument("--quick", action="store_true", help="a small study (seconds): fewer configurations and draws")
    sm.add_argument("--backend", choices=("numpy", "torch"), default="numpy", help="simulation backend")
    sm.add_argument("--device", default=None, help="torch device (cpu, cuda; default: cuda when available)")
    sm.set_defaults(func=_simulate)

    ft = sub.add_parser(
        "fit",
        help="fit the alignment and helpfulness laws to measured curves (CSV/JSON/JSONL: lam, behavior, "
        "helpfulness[, query, *_se]) and analyse the tradeoff; writes fit.json, curves.png, pareto.png",
    )
    ft.add_argument(
        "curves",
        nargs="?",
        default=None,
        help="curve file: CSV, JSON or JSON Lines with columns lam, behavior and/or helpfulness (omit with --paper)",
    )
    ft.add_argument("--out", default="fit-out", help="output directory (default: fit-out)")
    ft.add_argument("--alignment-law", choices=("tanh", "tanh-fixed-b0"), default="tanh")
    ft.add_argument("--helpfulness-law", choices=("theorem-2", "restricted", "expectation"), default="theorem-2")
    ft.add_argument("--k", type=int, default=4, help="answer options of the restricted law (default 4)")
    ft.add_argument("--w", type=float, default=1.0, help="weight of helpfulness in B + w H (default 1)")
    ft.add_argument("--tau", type=float, default=0.1, help="tolerated relative helpfulness loss (default 0.1)")
    ft.add_argument("--lam-range", type=float, nargs=2, metavar=("LO", "HI"), default=None)
    ft.add_argument("--B0", type=float, default=None, help="measured B0 for --alignment-law tanh-fixed-b0")
    ft.add_argument("--window", type=float, default=None, help="|lambda| window of the expectation law and tests")
    ft.add_argument("--alpha", type=float, default=None, help="measured alpha, to map b = alpha beta sigma to sigma")
    ft.add_argument("--beta", type=float, default=None, help="beta used to map b to sigma (docs/specification.md §6.1)")
    ft.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples over queries (default 1000)")
    ft.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    ft.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    ft.add_argument(
        "--paper",
        action="store_true",
        help="fit the paper's published Llama-2-13B curves instead of a file (the authors' laws and windows, "
        "unweighted and weighted; --n, --n-sensitivity, --level apply); writes paper_fits.json and paper_fits.md",
    )
    ft.add_argument("--n", type=int, default=None, help="--paper: assumed prompts/questions per point (default 100)")
    ft.add_argument(
        "--n-sensitivity",
        type=_sample_sizes,
        default=None,
        help="--paper: other n to refit at, comma-separated, or none (default 16,400)",
    )
    ft.set_defaults(func=_fit)

    ck = sub.add_parser(
        "check",
        help="check a real model against the theory's assumptions and bounds (default: the embedded SmolLM2, "
        "1.5 to 9 minutes on 2 CPU cores); writes report.json, report.md and figures; resumes an interrupted run",
    )
    _add_config_options(ck, [f.name for f in dataclasses.fields(CheckConfig)])
    ck.add_argument("--out", default="check-report", help="output directory (default: check-report)")
    ck.add_argument("--fresh", action="store_true", help="discard cached partial results in --out first")
    ck.add_argument("--quiet", action="store_true", help="no progress on stderr")
    ck.set_defaults(func=_check)

    st = sub.add_parser(
        "study",
        help="run a grid of checks (models x methods x layer bands) resumably into OUT/runs, then compare every "
        "report there into OUT/compare",
    )
    st.add_argument("--out", default="study-out", help="study directory (default: study-out)")
    st.add_argument(
        "--models", type=_list_of(str, "model names"), default=["smollm2-135m-instruct"], help="comma-separated"
    )
    st.add_argument("--methods", type=_list_of(str, "method names"), default=["pca", "mean_diff"], help="comma-sep.")
    st.add_argument("--bands", type=_list_of(str, "layer bands"), default=["middle"], help="early, middle, late")
    st.add_argument(
        "--behavior",
        action="append",
        metavar="MODEL=BEHAVIOR",
        help="behavior of one model (repeatable; default harmful for qwen2.5-coder-0.5b-instruct, else harmless)",
    )
    _add_config_options(st, _study_shared())  # the settings every cell shares, as in check
    st.add_argument("--quiet", action="store_true", help="no progress on stderr")
    st.set_defaults(func=_study)

    vc = sub.add_parser(
        "vectors",
        help="steering vectors in and out of other tools: export to a llama.cpp control vector (.gguf), or show a "
        "vectors file (.safetensors, .gguf, steering-vectors .pt/.pth); docs/interop.md",
    )
    vsub = vc.add_subparsers(dest="action", required=True)
    ve = vsub.add_parser("export", help="write a llama.cpp control vector: direction.k = coefficient x unit vector k")
    ve.add_argument("vectors", help="vectors file (.safetensors, .gguf, .pt/.pth); layer 0 cannot be exported")
    ve.add_argument("out", help="the .gguf file to write")
    ve.add_argument("--coefficient", type=float, default=1.0, help="factor of every unit vector (default 1)")
    ve.add_argument("--model-hint", default=None, help="controlvector.model_hint (default: the vectors' model id)")
    vs = vsub.add_parser("show", help="print a vectors file's format, model, method, layers, hidden size and norms")
    vs.add_argument("file", help="vectors file (.safetensors, .gguf, .pt/.pth)")
    vc.set_defaults(func=_vectors)

    cp = sub.add_parser(
        "compare",
        help="compare check reports: parameters, verdicts, measured consequences and the ranking by alignment gained "
        "per helpfulness lost, measured and predicted; writes compare.md, compare.json and figures (docs/compare.md)",
    )
    cp.add_argument("reports", nargs="+", metavar="DIR", help="output folders of check (holding report.json) or files")
    cp.add_argument("--out", default="compare-out", help="output directory (default: compare-out)")
    cp.add_argument(
        "--task",
        default="auto",
        help="helpfulness task of the ranking: mmlu_full, mmlu_restricted, piqa or auto (default: mmlu_full, or piqa "
        "when a report has no MMLU curve)",
    )
    cp.add_argument("--budget", type=float, default=0.05, help="helpfulness loss of the ranking (default 0.05)")
    cp.add_argument(
        "--behavior-curve",
        default="B_generated",
        help="behavior of the ranking: B_generated, B_single or B_single_binary (default B_generated)",
    )
    cp.add_argument("--level", type=float, default=0.95, help="confidence level of the intervals (default 0.95)")
    cp.set_defaults(func=_compare)

    fg = sub.add_parser(
        "figures",
        help="regenerate the paper's figures (theory from bounds; empirical from a check report, computed when "
        "--report is not given)",
    )
    fg.add_argument("--model", default="smollm2-135m-instruct", help="model of the empirical figures")
    fg.add_argument("--report", default=None, help="a report.json of steering-bounds check to draw from")
    fg.add_argument("--out", default="figures", help="output directory (default: figures)")
    fg.add_argument("--only", nargs="+", default=None, help="figure ids (default: all; see paper_figures/README.md)")
    fg.add_argument(
        "--paper-sizes",
        action="store_true",
        help="the paper's sample sizes for the sampled-answer and HumanEval figures (hours on a CPU)",
    )
    fg.add_argument(
        "--device-map",
        default=None,
        help="let accelerate place the model of the empirical figures, e.g. auto (needs accelerate)",
    )
    fg.add_argument("--quiet", action="store_true", help="no progress on stderr")
    fg.set_defaults(func=_figures)
    return parser


def _join_negative_lists(argv: Sequence[str]) -> list[str]:
    """``--lambdas -4,0,2`` as ``--lambdas=-4,0,2``: argparse would take a value starting with ``-`` for an option."""
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        a = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        if a in ("--lambdas", "--layers") and nxt is not None and nxt[:1] == "-" and nxt[1:2].isdigit():
            out.append(f"{a}={nxt}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def error_line(command: str, exc: BaseException) -> str:
    """``steering-bounds <command>: error: <message>`` with the message on one line (whitespace runs joined)."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    return f"steering-bounds {command}: error: {message}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for a :class:`~bounds.errors.SteeringBoundsError`)."""
    parser = build_parser()
    args = parser.parse_args(_join_negative_lists(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.func(args))
    except SteeringBoundsError as exc:  # on purpose, about the input: one line, no traceback
        print(error_line(args.command, exc), file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
