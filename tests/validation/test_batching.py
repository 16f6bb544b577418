"""Rows per forward (the CPU token budget and the CUDA out-of-memory back-off, with a fake probe) and the batching
toolbox `validation._batch`."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from validation.batching import CPU_TOKEN_BUDGET, choose_batch_size  # noqa: E402


def test_cpu_rows_follow_the_token_budget_in_whole_lambda_groups():
    assert choose_batch_size(None, [1] * 100, 12) == (CPU_TOKEN_BUDGET // 100) // 12 * 12
    assert choose_batch_size(None, [1] * 10_000, 12) == 12  # never less than one lambda group
    assert choose_batch_size(None, [1] * 64, 1) == CPU_TOKEN_BUDGET // 64


def test_cuda_backs_off_on_out_of_memory_and_returns_the_first_size_that_fits():
    tried = []

    def probe(module, prompt, rows, device):
        tried.append(rows)
        if rows > 96:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (fake)")

    assert choose_batch_size(None, [1] * 200, 41, device="cuda", start=1000, probe=probe) == 64
    assert tried == [512, 256, 128, 64]


def test_cuda_error_when_even_one_row_does_not_fit():
    def probe(module, prompt, rows, device):
        raise torch.cuda.OutOfMemoryError("fake")

    with pytest.raises(RuntimeError, match="batch_size: even one row"):
        choose_batch_size(None, [1] * 5, 3, device="cuda", start=4, probe=probe)


@pytest.mark.parametrize(("longest", "group", "start"), [([], 1, 8), ([1], 0, 8), ([1], 1, 0)])
def test_bad_arguments(longest, group, start):
    with pytest.raises(ValueError, match=r"longest|group"):
        choose_batch_size(None, longest, group, start=start)


def test_batch_toolbox_checks_pads_and_groups():
    from bounds.errors import ParameterError
    from validation._batch import check_number, groups, pad

    assert check_number("n", 3) == 3 and check_number("n", np.int64(0), 0) == 0
    assert check_number("t", "0.5", 0, integer=False) == 0.5
    for bad in (True, 0, 1.5, "2"):
        with pytest.raises(ParameterError, match=r"n: expected an integer >= 1"):
            check_number("n", bad)
    for bad in (0, -1.0, float("inf"), "x", True):
        with pytest.raises(ParameterError, match=r"t: expected a finite number > 0"):
            check_number("t", bad, 0, integer=False)
    assert [g.tolist() for g in groups([3, 1, 2, 1], 3)] == [[1, 3, 2], [0]]
    ids, mask = pad([[5, 6], [7]], 0)
    assert ids.tolist() == [[5, 6], [0, 7]] and mask.tolist() == [[1, 1], [0, 1]]
    ids, mask = pad([[5, 6], [7]], 9, side="right")
    assert ids.tolist() == [[5, 6], [7, 9]] and mask.tolist() == [[1, 1], [1, 0]]
