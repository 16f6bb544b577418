"""Tests of validation.tasks: the decoding loop against ``generate`` (tiny random Llama), exact Gumbel-max sampling,
determinism and batch invariance of sampled answers, the letter-parsing rule, and the HumanEval executor on
hand-written completions (no model)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

from validation.tasks import (
    HUMANEVAL_STOP,
    humaneval_program,
    parse_letter,
    run_completion,
    truncate_completion,
)

# --------------------------------------------------------------------------------------------------------------------
# Letter parsing (strings only)
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("B", "B"),
        ("B.", "B"),
        (" (C) because", "C"),
        ("**D**", "D"),
        ("The answer is B.", "B"),
        ("The correct answer is: C) Paris", "C"),
        ("A. 8 m/s\n\nThe correct answer is B.", "A"),  # the first standalone letter wins
        ("A bird flies. So B", "B"),  # the article "A" is skipped
        ("A", "A"),
        ("A.", "A"),
        ("Answer: A", "A"),  # "Answer" is a word, not the letter A
        ("I think it's Dover", None),  # letters inside words do not count
        ("the answer is b", None),  # lowercase is not recognised
        ("", None),
        ("E", None),
        ("B's value", None),
    ],
)
def test_parse_letter_rule(text: str, expected: str | None) -> None:
    assert parse_letter(text) == expected


def test_parse_letter_respects_the_number_of_options() -> None:
    assert parse_letter("C or B", n_choices=2) == "B"  # C is not an option of a 2-choice item
    assert parse_letter("C or B", n_choices=4) == "C"
    assert parse_letter("D", n_choices=3) is None
    for bad in (0, 5, 2.0, True):
        with pytest.raises(ValueError, match="n_choices"):
            parse_letter("A", n_choices=bad)


def test_letter_decided_only_when_later_text_cannot_change_it() -> None:
    from validation.tasks import _scan_letter

    assert _scan_letter("A", 4) == ("A", False)  # could become "An ..."
    assert _scan_letter("A ", 4) == ("A", False)  # could be the article
    assert _scan_letter("A b", 4) == (None, False)  # the article
    assert _scan_letter("A.", 4) == ("A", True)
    assert _scan_letter("The answer is C", 4) == ("C", False)
    assert _scan_letter("The answer is C.", 4) == ("C", True)


# --------------------------------------------------------------------------------------------------------------------
# HumanEval executor (hand-written completions, no model)
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    task_id: str = "Toy/0"
    prompt: str = 'def add(a, b):\n    """Return a + b."""\n'
    entry_point: str = "add"
    canonical_solution: str = "    return a + b\n"
    test: str = "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n"


def test_executor_passes_a_correct_completion_and_fails_a_wrong_one() -> None:
    ok = run_completion(Task(), "    return a + b\n", timeout=10.0)
    assert ok.passed and ok.status == "passed"
    wrong = run_completion(Task(), "    return a - b\n", timeout=10.0)
    assert not wrong.passed and wrong.status.startswith("failed: AssertionError")
    syntax = run_completion(Task(), "    return a +\n", timeout=10.0)
    assert not syntax.passed and "SyntaxError" in syntax.status


def test_executor_times_out_an_infinite_loop() -> None:
    res = run_completion(Task(), "    while True:\n        pass\n", timeout=1.0)
    assert not res.passed and res.status == "timed out"
    assert res.seconds < 5.0


def test_executor_runs_in_a_temporary_directory(tmp_path) -> None:
    # the program writes to its working directory; nothing lands in ours
    body = "    open('marker.txt', 'w').write('x')\n    return a + b\n"
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert run_completion(Task(), body, timeout=10.0).passed
    finally:
        os.chdir(cwd)
    assert not (tmp_path / "marker.txt").exists()


def test_executor_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="timeout"):
        run_completion(Task(), "    return a + b\n", timeout=0)
    with pytest.raises(ValueError, match="completion"):
        run_completion(Task(), None)  # type: ignore[arg-type]


def test_program_and_truncation() -> None:
    prog = humaneval_program(Task(), "    return a + b\n")
    assert prog.startswith(Task().prompt + "    return a + b\n") and prog.rstrip().endswith("check(add)")
    text = "    return a + b\n\ndef helper():\n    pass\n"
    assert truncate_completion(text) == "    return a + b\n"
    nested = "    x = 1\n    def inner():\n        pass\n"
    assert truncate_completion(nested) == nested  # only top-level statements stop a completion
    assert truncate_completion("    return 1\nprint(add(1, 2))") == "    return 1"
    assert truncate_completion("    return 1\nif __name__ == '__main__':\n") == "    return 1"
    # a completion that starts a new top-level statement right after the prompt's final newline is cut to nothing
    assert truncate_completion("def g():\n    pass\n", prefix="\n") == ""
    assert truncate_completion("def g():\n    pass\n") == "def g():\n    pass\n"
    assert set(HUMANEVAL_STOP) >= {"\ndef ", "\nclass ", "\nif ", "\nprint("}


# --------------------------------------------------------------------------------------------------------------------
# Tiny random Llama
# --------------------------------------------------------------------------------------------------------------------

torch = pytest.importorskip("torch", reason="needs torch: pip install 'steering-bounds[validation]'")
pytest.importorskip("transformers", reason="needs transformers: pip install 'steering-bounds[validation]'")

from tests._tiny import tiny_llama  # noqa: E402
from validation import tasks  # noqa: E402
from validation.data import MultipleChoice  # noqa: E402
from validation.sweep import generate_sweep  # noqa: E402

D = 32
LAM = [0.0, 4.0, -3.0]
VECS = {0: torch.linspace(-1, 1, D), 2: torch.cos(torch.arange(D, dtype=torch.float32))}
# vocabulary of the letter tokenizer: the answer letters, punctuation and a few words
WORDS = ["<unk>", "<eos>", "<bos>", "A", "B", "C", "D", ".", "(", ")", "the", "answer", "is", "cat", "dog", "bird"]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def letter_tokenizer():
    """Word-level tokenizer whose vocabulary holds the letters A-D (ids 3-6), padded to 128 ids."""
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers import models as tmodels
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(WORDS)}
    vocab.update({f"w{i}": i for i in range(len(WORDS), 128)})
    tok = Tokenizer(tmodels.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>", bos_token="<bos>")


@pytest.fixture(scope="module")
def lm(letter_tokenizer, one_thread):
    m = tiny_llama(seed=0)
    m.generation_config.eos_token_id = None
    return SimpleNamespace(model=m, tokenizer=letter_tokenizer)


def _items(n: int = 3) -> list[MultipleChoice]:
    out = []
    for i in range(n):
        k = 4 if i % 2 == 0 else 2
        choices = (*WORDS[13 : 13 + k - 1], "the")
        out.append(MultipleChoice(question=f"cat dog bird {i}", choices=choices, answer=i % k, source="toy"))
    return out


class StubTokenizer:
    pad_token_id = 0
    eos_token_id = None

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return " ".join(str(int(i)) for i in ids)


def test_greedy_decoding_equals_generate(lm) -> None:
    """The loop (prefill, cache, per-row λ, left padding, dropping rows) reproduces ``generate`` under steering."""
    prompts = [[5, 9, 17, 33], [8, 12, 99], [40, 41, 42, 43, 44, 45, 46]]
    ref = generate_sweep(SimpleNamespace(model=lm.model, tokenizer=StubTokenizer()), prompts, VECS, LAM,
                         max_new_tokens=6, batch_size=4)  # fmt: skip
    keys = [(i, g) for i in range(3) for g in range(3)]
    rows, lams = [prompts[i] for i, _ in keys], np.array([LAM[g] for _, g in keys])
    out = tasks._decode(lm.model, VECS, rows, lams, repeats=1, seeds=[None] * 9, temperature=1.0,
                        max_new_tokens=6, pad_id=0, eos=set())  # fmt: skip
    for (i, g), o in zip(keys, out, strict=True):
        assert ref[i][g] == " ".join(map(str, o))

    # rows stopped early leave the others unchanged
    def stop(r: int, new: list[int]) -> bool:
        return r % 2 == 0 and len(new) == 2

    stopped = tasks._decode(lm.model, VECS, rows, lams, repeats=1, seeds=[None] * 9, temperature=1.0,
                            max_new_tokens=6, pad_id=0, eos=set(), stop=stop)  # fmt: skip
    for r, (o, s) in enumerate(zip(out, stopped, strict=True)):
        assert s == (o[:2] if r % 2 == 0 else o)


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_gumbel_sampling_matches_the_softmax(lm, temperature: float) -> None:
    prompt = [5, 9, 17, 33]
    with torch.inference_mode():
        logits = lm.model(torch.tensor([prompt])).logits[0, -1].double()
    p = torch.softmax(logits / temperature, -1).numpy()
    N = 3000
    out = tasks._decode(lm.model, VECS, [prompt], np.array([0.0]), repeats=N,
                        seeds=[tasks._row_seed(0, 0, s) for s in range(N)], temperature=temperature,
                        max_new_tokens=1, pad_id=0, eos=set())  # fmt: skip
    freq = np.bincount([o[0] for o in out], minlength=p.size) / N
    top = np.argsort(p)[::-1][:5]
    tol = 4.5 * np.sqrt(p[top] * (1 - p[top]) / N)
    assert np.all(np.abs(freq[top] - p[top]) < tol), (freq[top], p[top])


def test_sampled_answers_shapes_progress_and_consistency(lm) -> None:
    items = _items(3)
    calls = []
    res = tasks.sampled_answers(lm, items, VECS, LAM, n_samples=4, max_new_tokens=4, seed=1, batch_size=10,
                                progress=lambda d, t: calls.append((d, t)))  # fmt: skip
    n, G, S = 3, 3, 4
    assert res.chosen.shape == (n, G, S) and res.greedy_chosen.shape == (n, G)
    assert res.sampled_accuracy.shape == res.parse_failure.shape == (n, G)
    assert calls[-1] == (n * G, n * G) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    np.testing.assert_array_equal(res.lam, LAM)
    np.testing.assert_allclose(res.chance, [0.25, 0.5, 0.25])
    for i in range(n):
        for g in range(G):
            k = len(items[i].choices)
            for s in range(S):
                letter = parse_letter(res.texts[i][g][s], k)
                assert res.chosen[i, g, s] == (-1 if letter is None else "ABCD".index(letter))
            letter = parse_letter(res.greedy_texts[i][g], k)
            assert res.greedy_chosen[i, g] == (-1 if letter is None else "ABCD".index(letter))
    np.testing.assert_allclose(res.parse_failure, (res.chosen < 0).mean(-1))
    np.testing.assert_allclose(res.sampled_accuracy, (res.chosen == res.answer[:, None, None]).mean(-1))
    assert np.all(res.chosen < res.n_choices[:, None, None])
    # the random tiny model writes some letters: the parse is exercised both ways
    assert 0 < (res.chosen >= 0).mean() < 1


def test_sampled_answers_deterministic_and_batch_invariant(lm) -> None:
    items = _items(3)
    kw = {"n_samples": 3, "max_new_tokens": 4, "seed": 7}
    a = tasks.sampled_answers(lm, items, VECS, LAM, batch_size=4, **kw)
    b = tasks.sampled_answers(lm, items, VECS, LAM, batch_size=4, **kw)
    c = tasks.sampled_answers(lm, items, VECS, LAM, batch_size=40, **kw)
    for other in (b, c):
        np.testing.assert_array_equal(a.chosen, other.chosen)
        np.testing.assert_array_equal(a.greedy_chosen, other.greedy_chosen)
        assert a.texts == other.texts and a.greedy_texts == other.greedy_texts
    d = tasks.sampled_answers(lm, items, VECS, LAM, batch_size=4, **(kw | {"seed": 8}))
    assert d.texts != a.texts and d.greedy_texts == a.greedy_texts  # greedy does not depend on the seed


def test_sampled_answers_errors(lm) -> None:
    items = _items(2)
    good = {"n_samples": 2, "max_new_tokens": 2, "batch_size": 8}
    for name, value in [("n_samples", 0), ("temperature", 0.0), ("temperature", float("nan")),
                        ("max_new_tokens", 0), ("seed", -1), ("batch_size", 0)]:  # fmt: skip
        with pytest.raises(ValueError, match=name):
            tasks.sampled_answers(lm, items, VECS, LAM, **(good | {name: value}))
    with pytest.raises(ValueError, match="lambdas"):
        tasks.sampled_answers(lm, items, VECS, [1.0, 2.0], **good)
    with pytest.raises(ValueError, match="items"):
        tasks.sampled_answers(lm, [], VECS, LAM, **good)
    five = MultipleChoice(question="q", choices=("a", "b", "c", "d", "e"), answer=0)
    with pytest.raises(ValueError, match="items"):
        tasks.sampled_answers(lm, [five], VECS, LAM, **good)
    with pytest.raises(ValueError, match="loaded"):
        tasks.sampled_answers(SimpleNamespace(model=lm.model, tokenizer=None), items, VECS, LAM, **good)


def test_humaneval_pass_on_the_tiny_model(lm) -> None:
    task = Task(prompt="cat dog bird")  # the tiny model writes word-ids, never valid Python
    calls = []
    res = tasks.humaneval_pass(lm, [task, Task(task_id="Toy/1", prompt="dog")], VECS, [0.0, 2.0], max_new_tokens=3,
                               batch_size=3, timeout=10.0, progress=lambda d, t: calls.append((d, t)))  # fmt: skip
    assert res.passed.shape == (2, 2) and not res.passed.any()
    assert all(s.startswith("failed") for row in res.status for s in row)
    assert calls[-1] == (8, 8) and res.task_ids == ["Toy/0", "Toy/1"]
    np.testing.assert_array_equal(res.pass_rate, [0.0, 0.0])
    for name, value in [("max_new_tokens", 0), ("batch_size", 0), ("timeout", -1.0)]:
        with pytest.raises(ValueError, match=name):
            tasks.humaneval_pass(lm, [task], VECS, [0.0, 1.0], **{name: value})
    with pytest.raises(ValueError, match="tasks"):
        tasks.humaneval_pass(lm, [object()], VECS, [0.0, 1.0])


# --------------------------------------------------------------------------------------------------------------------
# The embedded SmolLM2 (one small integration test)
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_smollm2_writes_parseable_letters(smollm2) -> None:
    """Two short MMLU-style questions at λ = 0 and one λ: SmolLM2 answers with letters most of the time."""
    items = [
        MultipleChoice("What is 2 + 3?", ("4", "5", "6", "7"), 1),
        MultipleChoice("Which animal barks?", ("cat", "cow", "dog", "fish"), 2),
    ]
    res = tasks.sampled_answers(smollm2, items, {14: torch.ones(smollm2.hidden_size)}, [0.0, 2.0], n_samples=3,
                                max_new_tokens=8, batch_size=16)  # fmt: skip
    assert res.chosen.shape == (2, 2, 3)
    assert res.parse_failure.mean() < 0.5, res.texts
    assert not res.greedy_parse_failure[:, 0].any(), res.greedy_texts


# --------------------------------------------------------------------------------------------------------------------
# Report helpers and the figures' drawing (synthetic data, no model)
# --------------------------------------------------------------------------------------------------------------------

GRID = [-14.0, -6.99, -2.8, 0.0, 0.699, 1.4, 2.8, 4.19, 6.99, 9.78, 14.0, 21.0]


def test_lambda_subset() -> None:
    sub = tasks.lambda_subset(GRID, 5)
    assert 0.0 in sub and sub.size == 5 and sub[0] == -14.0 and sub[-1] == 21.0
    assert np.all(np.diff(sub) > 0)
    assert 0.0 in tasks.lambda_subset(GRID, 6) and tasks.lambda_subset(GRID, 6).size == 6
    np.testing.assert_array_equal(tasks.lambda_subset(GRID, 0), GRID)
    np.testing.assert_array_equal(tasks.lambda_subset(GRID, 40), GRID)
    np.testing.assert_array_equal(tasks.lambda_subset([0.0, 1.0, 2.0], 2), [0.0, 2.0])
    with pytest.raises(ValueError, match="n_lambdas"):
        tasks.lambda_subset(GRID, 1)
    with pytest.raises(ValueError, match="lambdas"):
        tasks.lambda_subset([1.0, 2.0, 3.0], 2)


def test_report_steering(tmp_path) -> None:
    from validation.vectors import SteeringVectors

    unit = torch.ones(D) / D**0.5
    sv = SteeringVectors({1: unit, 2: -unit}, model_id="tiny", method="pca")
    path = sv.save(tmp_path / "v.safetensors")
    report = {"layers": [2], "lambda_grid": {"values": [0.0, 1.0]}, "vectors": {"path": str(tmp_path / "gone")}}
    with pytest.raises(FileNotFoundError, match="vectors_path"):
        tasks.report_steering(report)
    vecs, layers, grid = tasks.report_steering(report, path)
    assert list(vecs) == [2] and layers == [2] and grid.tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="layers"):
        tasks.report_steering({**report, "layers": [3]}, path)


REPORT = {"model": {"name": "tiny"}, "behavior": {"name": "harmless"}, "layers": [12, 13],
          "lambda_grid": {"values": GRID}}  # fmt: skip


def test_fig13_15_draws_measured_curves(tmp_path) -> None:
    from paper_figures import _common, fig13_15_sampled

    rng = np.random.default_rng(0)
    n, G, S = 5, 3, 4
    chosen, greedy = rng.integers(-1, 4, (n, G, S)), rng.integers(-1, 4, (n, G))
    fake = tasks.SampledAnswers(np.array([-2.0, 0.0, 3.0]), np.array([0, 1, 2, 3, 0]), np.array([4] * n), chosen,
                                greedy, [], [], 1.0, 0)  # fmt: skip
    summary = fig13_15_sampled.summarize(fake)
    np.testing.assert_allclose(summary["sampled_helpfulness"]["mean"], fake.sampled_accuracy.mean(0))
    np.testing.assert_allclose(summary["greedy_accuracy"]["se"], fake.greedy_correct.std(0, ddof=1) / np.sqrt(n))
    result = {"lam": [-2.0, 0.0, 3.0], "layers": [12, 13], "settings": fig13_15_sampled.DEFAULTS,
              "data": {"mmlu": {"source": "MMLU", "n": n, "max_tokens": 160}}, "tasks": {"mmlu": summary},
              "seconds": {"mmlu": 1.0}}  # fmt: skip
    fig = fig13_15_sampled.make_figure(result, REPORT)
    ax = fig.axes[0]
    assert "λ" in ax.get_xlabel() and ax.get_legend() is not None
    caption = fig.texts[-1].get_text().replace("\n", " ")
    assert "tiny" in caption and "3 points" in caption and "Llama" in caption
    assert _common.save(fig, tmp_path, "f.png").stat().st_size > 10_000


@pytest.mark.parametrize("passes", [[0, 0, 0], [0, 2, 1]])
def test_fig17_states_when_no_task_passes(passes) -> None:
    from paper_figures import fig17_humaneval

    result = {"lam": [-2.0, 0.0, 3.0], "settings": fig17_humaneval.DEFAULTS, "task_ids": ["a", "b", "c"],
              "pass_rate": [p / 3 for p in passes], "n_passed": passes,
              "interval": [{"low": 0.0, "high": 0.5, "level": 0.95}] * 3,
              "seconds": {"generate": 1.0, "execute": 0.5}}  # fmt: skip
    fig = fig17_humaneval.make_figure(result, REPORT)
    title = fig.axes[0].get_title()
    assert ("NONE" in title) == (passes[1] == 0)
    assert "Wilson" in fig.texts[-1].get_text().replace("\n", " ")
