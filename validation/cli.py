"""The ``steering-bounds`` command line. Subcommands import their heavy parts lazily.

``steering-bounds theory`` prints every statement of THEORY.md (id, name, status, formula, small-λ expansion);
``--json`` prints them as a JSON list; ``--markdown`` prints the generated ``docs/theory.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def _theory(args: argparse.Namespace) -> int:
    from bounds import registry

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
    head = f"{'ID':<26}{'KIND':<13}{'STATUS':<8}NAME"
    print(head)
    print("-" * max(len(head), 100))
    for s in items:
        print(f"{s.id:<26}{s.kind:<13}{(s.status or '-'):<8}{s.name}")
        print(f"    formula:   {s.text()}")
        print(f"    expansion: {s.expansion_text(order)}")
    n_claims = sum(s.is_claim for s in items)
    n_fail = sum(s.status == "fails" for s in items)
    print("-" * max(len(head), 100))
    print(
        f"{len(items)} statements, {n_claims} claims: {n_claims - n_fail} hold, {n_fail} fail (settled by the tests)."
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="steering-bounds", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    th = sub.add_parser("theory", help="list every statement with its status, formula and small-lambda expansion")
    fmt = th.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print a JSON list of statement objects")
    fmt.add_argument("--markdown", action="store_true", help="print the generated docs/theory.md")
    th.add_argument("--order", type=int, default=2, help="order of the small-lambda expansion (default 2)")
    th.set_defaults(func=_theory)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "order", 0) < 0:
        parser.error(f"--order must be an integer >= 0, got {args.order}")
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
