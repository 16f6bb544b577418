r"""Render the theory part of the documentation from the statement registry.

* :func:`render_markdown` -- ``docs/theory.md``, the index: one row per statement (status, the test that settles it,
  provenance) linking to its page (``steering-bounds theory --markdown`` prints it too).
* :func:`render_page` / :func:`render_pages` -- ``docs/theory/<id>.md``, one page per statement, with the pinned
  counterexample of a failing claim and its figure ``docs/figures/counterexample_<id>.png``.

Regenerate everything with ``python -m bounds.theory_doc --pages docs/theory --index docs/theory.md`` (``--check``
compares instead and exits 1 when a file is stale; ``tests/test_docs.py`` fails then, and checks :data:`SETTLED_BY`
against the test suite).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from . import domains as S
from . import registry
from .statement import Statement, collected_latex, short_latex

INDEX_COMMAND = "python -m bounds.theory_doc --pages docs/theory --index docs/theory.md"
FIGURES_COMMAND = "steering-bounds figures --out docs/figures"

PROVENANCE_MEANING: dict[str, str] = {
    "VERBATIM-PROSE": "words of the paper; the math inside them is reconstructed",
    "VERBATIM-CODE": "functional form taken from the authors' public fitting code",
    "RECONSTRUCTED-H": "reconstructed by derivation, high confidence",
    "RECONSTRUCTED-M": "reconstructed by derivation, medium confidence",
    "RECONSTRUCTED-L": "reconstructed by derivation, low confidence",
    "CORRECTED": "a rigorous replacement for a statement that does not hold as reconstructed",
}


@dataclass(frozen=True)
class Settlement:
    """The one test that settles a claim's status, and how it does.

    Attributes:
        test: pytest node id (``tests/<file>.py::<function>``), one of the statement's ``evidence``.
        kind: ``"property"`` (a ``@given`` test over generated instances of exactly the hypotheses passes) or
            ``"search"`` (hypothesis searches the hypotheses for a violation, finds one and shrinks it).
        how: what the test compares, in words.
    """

    test: str
    kind: str
    how: str


#: claim id -> the test that settles its status (``tests/test_docs.py`` checks every entry against the test suite).
SETTLED_BY: dict[str, Settlement] = {
    "theorem-1": Settlement(
        "tests/test_alignment.py::test_theorem_1_holds_on_hard_margin_instances",
        "property",
        "on generated hard-margin instances (Assumption 2 with the full gap Δ, binary scores), the behavior of the "
        "exact steered distribution at the instance's ‖δ‖ is at least the bound",
    ),
    "corollary-1": Settlement(
        "tests/test_alignment.py::test_corollary_1_holds_at_and_beyond_threshold",
        "property",
        "on generated hard-margin instances, the exact steered behavior at the returned λ* and beyond is at least "
        "1 − ε",
    ),
    "theorem-2": Settlement(
        "tests/test_helpfulness.py::test_theorem_2_counterexample_found_by_search",
        "search",
        "searches Assumption-3 configurations for one whose Monte-Carlo frequency of “(6) holds at every λ” is more "
        "than 4 standard errors below the claimed 1 − 2/k",
    ),
    "corollary-2": Settlement(
        "tests/test_helpfulness.py::test_corollary_2_holds_monte_carlo_at_large_steering",
        "property",
        "on generated noisy queries, the Monte-Carlo mean of the λ → ∞ limit of the helpfulness is at most 1/n "
        "plus 4 binomial standard errors (20,000 draws: detects an excess of about 0.01)",
    ),
    "theorem-3": Settlement(
        "tests/test_alignment_extensions.py::test_theorem_3_holds_on_soft_margin_instances",
        "property",
        "on generated soft-margin instances (Assumption 4), the exact steered behavior is at least the Theorem 1 "
        "bound minus the misclassified-mass slack",
    ),
    "theorem-4": Settlement(
        "tests/test_alignment_extensions.py::test_theorem_4_counterexample_found_by_search",
        "search",
        "searches trinary-score instances (margin Δ between A+ and A− ∪ A0) for one where the exact behavior is "
        "below (66)",
    ),
    "theorem-5": Settlement(
        "tests/test_alignment_extensions.py::test_theorem_5_holds_on_graded_instances",
        "property",
        "on generated graded-score instances (margin Δ between scores ≥ b and < b), the exact steered behavior is "
        "at least (67)",
    ),
    "theorem-6": Settlement(
        "tests/test_multitoken.py::test_theorem_6_counterexample_found_by_search",
        "search",
        "searches response trees (margin Δ at every step) for one where the response-level behavior is below "
        "1 − 2ε at or beyond the claimed threshold",
    ),
    "corollary-3": Settlement(
        "tests/test_helpfulness.py::test_corollary_3_counterexample_found_by_search",
        "search",
        "searches two-step answers for one whose Monte-Carlo frequency of “(79) holds at every λ” is more than 4 "
        "standard errors below the claimed 1 − 2ℓ/k",
    ),
    "proposition-1": Settlement(
        "tests/test_preference.py::test_proposition_1_counterexample_found_by_search",
        "search",
        "searches small differentiable models for a gradient step whose hidden-state change departs from "
        "−η∇ₕL by more than 10 times the O(η²) remainder of that step",
    ),
    "theorem-2-jensen": Settlement(
        "tests/test_helpfulness.py::test_theorem_2_jensen_holds_on_every_realisation",
        "property",
        "on generated noise realisations, the exact steered helpfulness is at most the Jensen bound",
    ),
    "theorem-2-event": Settlement(
        "tests/test_helpfulness.py::test_theorem_2_event_holds_on_the_event",
        "property",
        "on generated realisations inside the event E_q, the exact steered helpfulness is at most the quadratic bound",
    ),
    "theorem-2-expectation": Settlement(
        "tests/test_helpfulness.py::test_theorem_2_expectation_holds_monte_carlo",
        "property",
        "on generated all-noised queries, the Monte-Carlo mean helpfulness at small ασλ matches the second-order "
        "formula within standard errors (the expansion itself is derived by sympy in another test)",
    ),
    "theorem-4-corrected": Settlement(
        "tests/test_alignment_extensions.py::test_theorem_4_corrected_holds_on_trinary_instances",
        "property",
        "on generated trinary-score instances, the exact steered behavior is at least the corrected bound",
    ),
    "theorem-6-corrected": Settlement(
        "tests/test_multitoken.py::test_theorem_6_corrected_holds_at_and_beyond_threshold",
        "property",
        "on generated response trees, the exact response-level behavior at the corrected threshold and beyond is "
        "at least 1 − 2ε",
    ),
    "proposition-1-corrected": Settlement(
        "tests/test_preference.py::test_proposition_1_corrected_holds_first_order_coefficient",
        "property",
        "on generated small models, the first-order coefficient of the actual gradient step (Richardson "
        "extrapolation) equals −JJᵀ∇ₕL at every layer and for every prompt",
    ),
}

#: claim id -> proof sketch (Markdown with $…$ math), following docs/specification.md; where the proof breaks, the
#: sketch says so.
PROOF_SKETCHES: dict[str, str] = {
    "theorem-1": r"""
Write $S^\pm=\sum_{s\in A^\pm}P(s\mid q)e^{\langle u_s,\delta\rangle}$, so that the steered behavior is
$B=(S^+-S^-)/(S^++S^-)=(1-x)/(1+x)$ with $x=S^-/S^+$ (the steered distribution is exact, [§1](../specification.md#s1)).
Bound $S^-$ by $P^-\max_{A^-}e^{\langle u_{s^-},\delta\rangle}$ and $S^+$ by
$P^+\min_{A^+}e^{\langle u_{s^+},\delta\rangle}$; the margin (Assumption 2) gives
$x\le\frac{P^-}{P^+}e^{-\Delta\|\delta\|}$. Since $(1-x)/(1+x)$ decreases in $x$ and
$P^-/P^+=e^{-2\operatorname{artanh}B_0}$, $B\ge\tanh(\Delta\|\delta\|/2+\operatorname{artanh}B_0)$; Assumption 1 turns
$\|\delta\|$ into $\alpha\lambda$. Every step is valid; with $\Delta$ the full gap the ½ is necessary (a two-token
model attains the bound). For $\lambda<0$ the same expression is an upper bound (steering towards $A^-$).
""",
    "corollary-1": r"""
Solve Theorem 1's bound for the smallest $\lambda\ge0$ with
$\tanh(\alpha\Delta\lambda/2+\operatorname{artanh}B_0)\ge1-\epsilon$:
$\lambda^*=\max\big(0,\frac{2}{\alpha\Delta}(\operatorname{artanh}(1-\epsilon)-\operatorname{artanh}B_0)\big)$. The
bound increases in $\lambda$, so every $\lambda\ge\lambda^*$ qualifies; $\lambda^*=0$ when the unsteered model already
meets the target. For $B_0<0$ this is the paper's form
$\frac{1}{\alpha\Delta}\ln\frac{(2-\epsilon)(1+|B_0|)}{\epsilon(1-|B_0|)}$ (identical by sympy).
""",
    "theorem-2": r"""
The paper's proof (App. C): $H=p_0/(p_0+\sum_{b\ne a^*}P(b\mid q)e^{\Delta_b})$ exactly; dropping the tail and
Jensen's inequality on the wrong answers above and below $a^*$ give $H\le p_0/(p_0+P^+e^{X^+}+P^-e^{-X^-})$ — valid,
and kept as `theorem-2-jensen`. The proof then substitutes $X^\pm\ge\alpha\beta\sigma\lambda$, which goes the wrong
way for the decreasing term $P^-e^{-X^-}$, and claims the result holds surely when both $B^\pm$ are non-empty
(probability $1-2/k$). **Both steps fail**: the first derivative of $H$ at $\lambda=0$ has a random sign, so $H$ rises
above $p_0$ for about half of the noise draws, while (6) starts at $p_0/(p_0+\gamma(1-p_0))$ (which is $p_0$ only when
$\gamma=1$) and decreases: a draw on which $H$ first rises above that starting value violates it. The quadratic
decrease holds in expectation and on a probability-½ event (the replacements).
""",
    "corollary-2": r"""
As $\lambda\to\infty$ with i.i.d. continuous noise on the $n$ answers, the steered distribution concentrates on the
answer with the largest projection, so $H\to\mathbf 1[a^*=\arg\max_s z_s]$; by exchangeability this has expectation
exactly $1/n$. The paper's three-case average (Theorem 2's bound with probability $1-2/k$, two sigmoids with
probability $1/k$ each) reaches the same limit; its finite-λ form inherits Theorem 2's invalid term, the limit does
not.
""",
    "theorem-3": r"""
Split the misaligned answers into the misclassified set $M$ and the rest: $B=(1-x-y)/(1+x+y)$ with $x=S^{A^-\setminus
M}/S^+\le\frac{P^-}{P^+}e^{-\Delta\|\delta\|}$ (the margin off $M$) and
$y=S^M/S^+\le\frac{\rho}{P^+}e^{\Delta_M\|\delta\|}$ (the depth of $M$). Then
$B=\frac{1-x}{1+x}-\frac{2y}{(1+x)(1+x+y)}\ge\frac{1-x}{1+x}-2y$; the first term is Theorem 1's bound. The threshold
form follows by asking $2y\le\epsilon$. (Reconstructed with low confidence: the paper's exact slack term is lost.)
""",
    "theorem-4": r"""
With neutral answers ($B=0$) the proof bounds $S^0/S^+\le\frac{P^0}{P^+}e^{-\Delta\|\delta\|}$ and enlarges the
denominator: $B\ge\frac{P^+-P^-x}{P^++(P^-+P^0)x}$ with $x=e^{-\alpha\Delta\lambda}$. Enlarging the denominator lowers
$B$ only when the numerator is $\ge0$. **If $P^+<P^-x$ the step fails**: steering can first lower the behavior,
because neutral mass lying far on the negative side moves onto the misaligned answers. `theorem-4-corrected` uses
$\frac{P^+-P^-x}{P^++P^-x}$ in that case.
""",
    "theorem-5": r"""
Replace each score in the numerator by its worst case: $b$ for answers scoring $\ge b$ and $-1$ for the others; the
margin between the two groups gives $S_{<b}/S_{\ge b}\le\frac{P_{<b}}{P_{\ge b}}e^{-\Delta\|\delta\|}$, and
$(b-x)/(1+x)$ decreases in $x$ for $b\ge-1$, so $B\ge\frac{bP_{\ge b}-P_{<b}e^{-\alpha\Delta\lambda}}{P_{\ge
b}+P_{<b}e^{-\alpha\Delta\lambda}}\to b$.
""",
    "theorem-6": r"""
At every step $i$ the aligned-token probability is at least $1/(1+\frac{P_i^-}{P_i^+}e^{-\alpha\Delta\lambda})$;
asking each step for $1-\epsilon/\ell$ and taking a union bound over the $\ell$ steps gives $B\ge1-2\epsilon$ beyond
the largest per-step threshold. The proof then replaces every per-step $B_0^{(i)}(s_{<i})$ by the response-level
$B_0$, claiming $B_0\le B_0^{(i)}$. **That step fails**: it holds only on average over prefixes, not for each prefix —
an aligned first token can lead to a likely misaligned continuation. `theorem-6-corrected` keeps the maximum over
reachable prefixes.
""",
    "corollary-3": r"""
The chain rule $H=\prod_iH_i$ is exact, and applying Theorem 2 at each decoding step gives the product (79), which
expands to (80) at small $\lambda$. Each factor inherits Theorem 2's invalid step, so **the probability claim fails**:
a step with a near-certain token contributes a factor close to 1 on both sides and leaves no slack to absorb the
failure of another step. Use the §12.2 replacements per step instead.
""",
    "proposition-1": r"""
At the last layer the partition function cancels, so $\nabla_{h^{(L)}}[\log P(s^+\mid q)-\log P(s^-\mid
q)]=U^T(e_{s^+}-e_{s^-})$ exactly, and the paper concludes that a gradient step with learning rate $\eta$ moves each
hidden state by $-\eta\nabla_{h^{(l)}}\mathcal L$, i.e. steering with coefficient $\eta$. **The step (64) fails**:
gradient descent moves the parameters, not the hidden states; the induced change is $-\eta
J_lJ_l^T\nabla_{h^{(l)}}\mathcal L+O(\eta^2)$ with $J_l=\partial h^{(l)}/\partial\theta$, an input-dependent kernel
(for one linear layer $h=Wx$ the coefficient is $\eta\|x\|^2$, not $\eta$).
""",
    "theorem-2-jensen": r"""
Step (≈32) of the paper's own proof, stopped before the invalid substitution: the exact $H=p_0/(p_0+\sum_{b\ne
a^*}P(b\mid q)e^{\Delta_b})$, the tail dropped (the denominator only shrinks), and Jensen's inequality $\sum_{b\in
B^\pm}P(b)e^{\pm\Delta_b}\ge P^\pm e^{\pm X^\pm}$ on the wrong answers above and below $a^*$. It holds for every
realisation of the projections.
""",
    "theorem-2-event": r"""
Use $e^y\ge1+y+\tfrac12y_+^2$ for every wrong answer in $T_k$ and sum. On the event $E_q=\{\sum_{b\in T_k\setminus
a^*}P(b\mid q)(z_b-z_{a^*})\ge0\}$ the linear term is non-negative, and Jensen on $\sum_{B^+}P(b)\Delta_b^2$ leaves
$H\le p_0/(1-\epsilon+\tfrac12P^+(\alpha\sigma Y^+\lambda)^2)$. For a symmetric continuous noise law $E_q$ has
probability exactly ½; for $\lambda<0$ the event flips sign.
""",
    "theorem-2-expectation": r"""
With i.i.d. noise of variance $\sigma^2$ on every token, expand $H=p_0/\sum_sP(s\mid q)e^{\alpha\lambda(z_s-z_{a^*})}$
in $\lambda$ and take expectations term by term: odd orders vanish by symmetry, and the second-order term is
$-p_0\alpha^2\sigma^2\lambda^2[p_0(1-p_0)-\sum_{b\ne a^*}P(b\mid q)^2]$ (derived by sympy). The bracket (the
curvature term $p_0(1-p_0)-S_2$, $S_2=\sum_{b\ne a^*}P(b\mid q)^2$) is positive when $a^*$ is the model's top answer,
so $\mathbb E[H]$ falls quadratically; it is negative for a confidently wrong model, whose expected helpfulness rises
— the regression towards $1/n$ of Corollary 2.
""",
    "theorem-4-corrected": r"""
If $P^+\ge P^-x$ ($x=e^{-\alpha\Delta\lambda}$) the paper's (66) is valid. Otherwise the numerator $P^+-P^-x$ is
negative and enlarging the denominator by the neutral mass would raise it; dropping the neutral term instead gives
$\frac{P^+-P^-x}{P^++P^-x}$, valid because $\frac{1-a}{1+a+b}\ge\frac{1-a}{1+a}$ when $1-a<0$.
""",
    "theorem-6-corrected": r"""
The per-step argument of Theorem 6 with the threshold taken over the worst reachable aligned prefix:
$\lambda\ge\frac{1}{\alpha\Delta}\max_{i,s_{<i}}\ln\big(\frac{1-B_0^{(i)}(s_{<i})}{1+B_0^{(i)}(s_{<i})}(\frac{\ell}{\epsilon}-1)\big)$
makes every step aligned with probability $\ge1-\epsilon/\ell$ whatever the prefix, and the union bound over the
$\ell$ steps gives $B\ge1-2\epsilon$.
""",
    "proposition-1-corrected": r"""
A gradient step moves the parameters by $-\eta\nabla_\theta\mathcal L=-\eta J_l^T\nabla_{h^{(l)}}\mathcal L$ (chain
rule through the hidden state), and the hidden state then moves by $J_l\,\delta\theta+O(\eta^2)=-\eta
J_lJ_l^T\nabla_{h^{(l)}}\mathcal L+O(\eta^2)$: steering by the gradient direction weighted by the positive
semi-definite kernel $J_lJ_l^T$, which depends on the input and, across a batch, mixes the directions of different
prompts.
""",
}


# ---------------------------------------------------------------------------------------------------------------------
# Markdown helpers
# ---------------------------------------------------------------------------------------------------------------------
_CODE_SPAN = re.compile(r"(`[^`]*`)")


def _prose(text: str, *, table: bool = False) -> str:
    """Registry prose as Markdown text: ``*`` and ``<`` escaped (``a*`` and ``s_{<i}`` are not markup), code spans
    kept as they are; in a table cell ``|`` is escaped too."""
    parts = _CODE_SPAN.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            part = part.replace("\\", "\\\\").replace("*", "\\*").replace("<", "&lt;").replace("$", "\\$")
            part = part.replace("_", "\\_").replace("[", "\\[")
        if table:
            part = part.replace("|", "\\|")
        out.append(part)
    return "".join(out)


def _math_cell(latex: str) -> str:
    """Inline math usable inside a Markdown table cell (no bare ``|``)."""
    return "$" + latex.replace(r"\|", r"\Vert ").replace("|", r"\vert ") + "$"


def _test_name(node: str) -> str:
    """``tests/test_x.py::test_y`` -> ``test_x.py::test_y`` (short form for tables)."""
    return node.removeprefix("tests/")


def _symbol_latex(s: Statement) -> dict[str, str]:
    """Plain name -> LaTeX of every symbol of the statement, ``symbol = definition`` for an abbreviation."""
    syms = {str(x): x for x in (s.expr.free_symbols | s.lhs().free_symbols)}
    out = {name: S.latex(sym) for name, sym in syms.items()}
    for name, definition in S.latex_definitions.items():
        if name in out:
            out[name] += f" = {definition}"
    return out


def _compact_json(value: object, indent: int = 0) -> str:
    """JSON with one line per dictionary key and every list on one line (valid JSON, readable in the page)."""
    if isinstance(value, dict) and value:
        pad = " " * (indent + 2)
        items = [f"{pad}{json.dumps(k)}: {_compact_json(v, indent + 2)}" for k, v in sorted(value.items())]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    return json.dumps(value, separators=(", ", ": "))


def _replaced_by(items: Sequence[Statement]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in items:
        if s.replaces:
            out.setdefault(s.replaces, []).append(s.id)
    return out


def page_path(statement_id: str) -> str:
    """The page of a statement, relative to ``docs/``."""
    return f"theory/{statement_id}.md"


def counterexample_figure(statement_id: str) -> str:
    """The counterexample figure of a failing claim, relative to ``docs/``."""
    return f"figures/counterexample_{statement_id}.png"


# ---------------------------------------------------------------------------------------------------------------------
# the index: docs/theory.md
# ---------------------------------------------------------------------------------------------------------------------
HEADER = f"""# Theory: every statement of the specification, settled by the test suite

The [specification](specification.md) is the paper's theory as this project reconstructs it (the paper's displayed
equations are lost; the specification was written for this project from the paper's prose, public reviews and the
authors' public fitting code). Its notation, conventions and protocol are there; each of its statements is also on a
page of its own, listed below.

Generated from the statement registry (`bounds.registry`) by `{INDEX_COMMAND}` (this index alone:
`steering-bounds theory --markdown > docs/theory.md`); `tests/test_cli.py::test_docs_theory_is_generated_from_registry`
and `tests/test_docs.py::test_theory_pages_are_generated_from_registry` fail when a page is stale.

Each statement has its own page: the statement and its formula, the symbols, provenance and status, what the paper
says, what was reconstructed and how confidently, what the project decided and why, a proof sketch, notes, the test
that settles it and, for a claim that fails, the counterexample found by search and its figure. Statement ids,
provenance tags and statuses follow [specification §0](specification.md#s0). In "What the paper says", quotes are the
paper's words and math in square brackets inside them was reconstructed by this project; the paper's $r_e$ is the
code's λ. A claim's **status** is what its tests find: `holds` -- a property test over generated instances of exactly
the statement's hypotheses (or a Monte-Carlo check for probability, expectation and limit claims) passes; `fails` --
a test finds a counterexample by search (hypothesis, derandomized in CI) and a regression test pins the simplest one
found.
Run the evidence of one statement with `pytest "<test id>"`; a longer random search with `HYPOTHESIS_PROFILE=dev`.

"""


def _summary_table(items: Sequence[Statement]) -> str:
    rows = [
        "| id | name | kind | status | settled by | replaces | provenance |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in items:
        status = f"**{s.status}**" if s.status else "—"
        settled = f"`{_test_name(SETTLED_BY[s.id].test)}`" if s.id in SETTLED_BY else "—"
        replaces = f"[`{s.replaces}`]({page_path(s.replaces)})" if s.replaces else "—"
        rows.append(
            f"| [`{s.id}`]({page_path(s.id)}) | {_prose(s.name, table=True)} | {s.kind} | {status} | {settled} | "
            f"{replaces} | {', '.join(s.provenance)} |"
        )
    return "\n".join(rows) + "\n"


def _provenance_table() -> str:
    rows = ["| tag | meaning |", "|---|---|"]
    rows += [f"| `{tag}` | {meaning} |" for tag, meaning in PROVENANCE_MEANING.items()]
    return "\n".join(rows) + "\n"


def render_markdown() -> str:
    """The index page ``docs/theory.md``."""
    items = registry.statements()
    parts = [HEADER, _summary_table(items), "", "## Provenance tags", "", _provenance_table()]
    return "\n".join(parts).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------------------------------
# one page per statement: docs/theory/<id>.md
# ---------------------------------------------------------------------------------------------------------------------
def spec_anchor(section: str) -> str:
    """The anchor of a statement's section in ``docs/specification.md``: ``"§12.2(a)"`` -> ``"s12-2"``."""
    m = re.match(r"§(\d+(?:\.\d+)?)", section)
    if m is None:
        raise ValueError(f"a section starts with §<number>, got {section!r}")
    return "s" + m.group(1).replace(".", "-")


def _facts(s: Statement, replaced_by: Mapping[str, list[str]]) -> list[str]:
    where = f"[{_prose(s.section, table=True)}](../specification.md#{spec_anchor(s.section)})"
    rows = ["| | |", "|---|---|", f"| kind | {s.kind} |", f"| specification | {where} |"]
    tags = "; ".join(f"`{t}` ({PROVENANCE_MEANING[t]})" for t in s.provenance)
    rows.append(f"| provenance | {tags} |")
    rows.append(f"| status | **{s.status}** |" if s.status else "| status | none (not a claim) |")
    if s.replaces:
        rows.append(f"| replaces | [`{s.replaces}`]({s.replaces}.md) |")
    if s.id in replaced_by:
        rows.append("| replaced by | " + ", ".join(f"[`{r}`]({r}.md)" for r in replaced_by[s.id]) + " |")
    if s.id in SETTLED_BY:
        rows.append(f"| settled by | `{SETTLED_BY[s.id].test}` |")
    if s.numeric is not None:
        rows.append(f"| numeric function | `{s.numeric.__module__}.{s.numeric.__qualname__}` |")
    return [*rows, ""]


def _symbols(s: Statement) -> list[str]:
    if not s.parameters:
        return []
    latex = _symbol_latex(s)
    out = ["## Symbols", "", "| symbol | name in `bounds` | domain and meaning |", "|---|---|---|"]
    for name, domain in s.parameters.items():
        sym = _math_cell(latex[name]) if name in latex else "—"
        out.append(f"| {sym} | `{name}` | {_prose(domain, table=True)} |")
    return [*out, ""]


def _expansions(s: Statement) -> list[str]:
    out = ["## Expansions", ""]
    if not s.closed_form_in_lambda:
        return [*out, f"None: {_prose(str(s.not_closed_form))}.", ""]
    order = 2
    coefficients = s.series_coefficients(order)
    terms = [(f"c_{{{j}}}", j) for j, c in enumerate(coefficients) if c != 0]
    series = collected_latex(terms, r"\lambda") + rf" + O(\lambda^{{{order + 1}}})"
    out += [
        f"Small-λ expansion of the right-hand side (sympy, order {order}), collected by powers of λ:",
        "",
        *_display(series, [(f"c_{{{j}}}", c) for j, c in enumerate(coefficients)]),
    ]
    if s.gauge is not None:
        terms_at_infinity = 2
        g = s.gauge()
        coefficients = s.asymptotic_coefficients(terms_at_infinity)
        named = [S.latex(sp.Symbol(f"a_{j}") * g**j) for j, c in enumerate(coefficients) if c != 0]
        asy = " + ".join(named) + rf" + O\left({S.latex(g**terms_at_infinity)}\right)"
        out += [
            f"Large-λ expansion of the right-hand side (sympy, λ → +∞), in powers of ${S.latex(g)}$:",
            "",
            *_display(asy, [(f"a_{{{j}}}", c) for j, c in enumerate(coefficients)]),
        ]
    return out


def _display(expansion: str, coefficients: Sequence[tuple[str, sp.Expr]]) -> list[str]:
    """Display math of an expansion in named coefficients, then the coefficients (aligned, one per line)."""
    rows = " \\\\\n".join(f"{name} &= {short_latex(c)}" for name, c in coefficients)
    return ["$$", expansion, "$$", "", "with", "", "$$", "\\begin{aligned}", rows, "\\end{aligned}", "$$", ""]


def _settlement(s: Statement) -> list[str]:
    out = ["## How the test suite settles it", ""]
    if s.id in SETTLED_BY:
        st = SETTLED_BY[s.id]
        what = "Property test" if st.kind == "property" else "Counterexample search"
        out += [f"{what} `{st.test}`: {st.how}.", ""]
        out += ["```bash", f'.venv/bin/python -m pytest "{st.test}"', "```", ""]
    if s.evidence:
        out += ["All evidence (tests):" if s.is_claim else "Tests exercising it:", ""]
        out += [f"- `{e}`" for e in s.evidence] + [""]
    if s.min_instances:
        out += [
            f"Non-degenerate instances: {_prose(s.nondegenerate)}. Each of these property tests counts the "
            "instances it checks and fails unless at least the stated number of them are non-degenerate (draws "
            "outside the hypotheses are rejected, not counted as passes):",
            "",
        ]
        out += [f"- `{t}`: at least {n}" for t, n in s.min_instances.items()] + [""]
    return out


def _pinned(s: Statement, ce: dict, lead: str) -> list[str]:
    """What a pinned counterexample shows, its violation and its values (folded when long)."""
    assert s.violation is not None
    what = ce.get("what", ce.get("shows"))
    out = [_prose(what), ""] if isinstance(what, str) else []
    out += [f"{lead} violation function gives **{s.violation(ce):.6g}** (> 0 means violated).", ""]
    text = _compact_json({k: val for k, val in ce.items() if k not in ("what", "shows")})
    if len(text) > 1500:
        out += ['??? example "The counterexample\'s values (JSON)"', ""]
        return [*out, "    ```json", *("    " + line for line in text.splitlines()), "    ```", ""]
    return [*out, "```json", text, "```", ""]


def _counterexample(s: Statement) -> list[str]:
    if s.counterexample is None:
        return []
    out = ["## Counterexample", ""]
    out += _pinned(s, dict(s.counterexample), "Pinned in the regression tests; the statement's")
    out += [
        f"![Counterexample to {s.id}](../{counterexample_figure(s.id)})",
        "",
        f"*Figure: the counterexample, drawn by `paper_figures/fig_counterexamples.py` (`{FIGURES_COMMAND}`).*",
        "",
    ]
    found = [e for e in s.evidence if "nondegenerate_counterexample_found_by_search" in e]
    origin = (
        f"Found by a search whose own predicate excludes the degenerate cases (`{found[0]}`); pinned"
        if found
        else "Pinned"
    )
    for further in s.further_counterexamples:
        out += ["## Counterexample away from the degenerate cases", ""]
        out += _pinned(s, dict(further), f"{origin} in the regression tests. The statement's")
    return out


#: shown under "What the paper says" when it quotes the paper with reconstructed math
QUOTE_NOTE = (
    "*Quotes are the paper's words; math in square brackets inside them was reconstructed by this project (the "
    "paper's displayed equations are lost), and the paper's $r_e$ is the code's $\\lambda$.*"
)

#: the prose sections of a page: (Statement attribute, heading)
BACKGROUND: tuple[tuple[str, str], ...] = (
    ("paper", "What the paper says"),
    ("reconstruction", "What was reconstructed, and how confidently"),
    ("decision", "What the project decided, and why"),
)


def _background(s: Statement) -> list[str]:
    """The page's prose sections (Markdown with $…$ math, as written in the registry), then where the specification
    states it."""
    out: list[str] = []
    for attr, heading in BACKGROUND:
        text = getattr(s, attr)
        if text:
            out += [f"## {heading}", "", text.strip(), ""]
            if attr == "paper" and "[$" in text:
                out += [QUOTE_NOTE, ""]
    if out:
        link = f"[{_prose(s.section)}](../specification.md#{spec_anchor(s.section)})"
        out += [f"The specification states it in {link}.", ""]
    return out


def render_page(s: Statement, items: Sequence[Statement] | None = None) -> str:
    """The page ``docs/theory/<id>.md`` of one statement (``items``: all statements, for the "replaced by" links)."""
    items = registry.statements() if items is None else items
    out = [f"# `{s.id}` — {_prose(s.name)}", ""]
    out += _facts(s, _replaced_by(items))
    out += ["## Statement", "", _prose(s.statement), "", "$$", s.latex(), "$$", ""]
    if s.hypotheses:
        out += ["Hypotheses:", ""] + [f"- {_prose(h)}" for h in s.hypotheses] + [""]
    out += _background(s)
    out += _symbols(s)
    out += _expansions(s)
    if s.id in PROOF_SKETCHES:
        out += ["## Proof sketch", "", PROOF_SKETCHES[s.id].strip(), ""]
    if s.notes:
        out += ["## Notes", ""] + [f"- {_prose(n)}" for n in s.notes] + [""]
    out += _settlement(s)
    out += _counterexample(s)
    out += ["[All statements](../theory.md)", ""]
    return "\n".join(out).rstrip() + "\n"


def render_pages() -> dict[str, str]:
    """``{file name: page}`` for every statement (file names ``<id>.md``, relative to ``docs/theory/``)."""
    return dict(_rendered_pages())


@functools.cache
def _rendered_pages() -> tuple[tuple[str, str], ...]:
    # the registry is fixed for the life of the process, and the sympy expansions take seconds: render once
    items = registry.statements()
    return tuple((f"{s.id}.md", render_page(s, items)) for s in items)


# ---------------------------------------------------------------------------------------------------------------------
# command line: python -m bounds.theory_doc --pages docs/theory --index docs/theory.md [--check]
# ---------------------------------------------------------------------------------------------------------------------
def _differing(pages_dir: str | Path | None, index: str | Path | None) -> list[tuple[Path, str | None]]:
    """``(file, rendering)`` of each file that differs from the rendering: pages of statements no longer in the
    registry (rendering ``None``), changed or missing pages, the index."""
    wanted: list[tuple[Path, str | None]] = []
    if pages_dir is not None:
        d = Path(pages_dir)
        pages = render_pages()
        wanted += [(p, None) for p in sorted(d.glob("*.md")) if p.name not in pages]
        wanted += [(d / name, text) for name, text in pages.items()]
    if index is not None:
        wanted.append((Path(index), render_markdown()))
    return [(p, t) for p, t in wanted if t is None or not p.is_file() or p.read_text(encoding="utf-8") != t]


def stale_files(pages_dir: str | Path | None = None, index: str | Path | None = None) -> list[str]:
    """Files that differ from the rendering: changed or missing pages, pages of unknown statements, the index."""
    return [str(p) for p, _ in _differing(pages_dir, index)]


def write(pages_dir: str | Path | None = None, index: str | Path | None = None) -> list[Path]:
    """Write the pages (removing pages of statements no longer in the registry) and/or the index; returns the
    files written or removed."""
    if pages_dir is not None:
        Path(pages_dir).mkdir(parents=True, exist_ok=True)
    done = _differing(pages_dir, index)
    for p, text in done:
        if text is None:
            p.unlink()
        else:
            p.write_text(text, encoding="utf-8")
    return [p for p, _ in done]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bounds.theory_doc", description="Render the theory pages of the docs from the registry."
    )
    parser.add_argument("--pages", metavar="DIR", help="write one page per statement into DIR (e.g. docs/theory)")
    parser.add_argument("--index", metavar="FILE", help="write the index page (e.g. docs/theory.md)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file is stale")
    args = parser.parse_args(argv)
    if args.pages is None and args.index is None:
        parser.error("give --pages DIR and/or --index FILE")
    if args.check:
        stale = stale_files(args.pages, args.index)
        for f in stale:
            print(f"stale: {f}")
        if stale:
            print(f"regenerate with: {INDEX_COMMAND}", file=sys.stderr)
        return 1 if stale else 0
    for p in write(args.pages, args.index):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
