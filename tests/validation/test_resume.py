"""A sweep killed with SIGKILL mid-run resumes from its finished groups: nothing finished is recomputed and the
result equals an uninterrupted run. The sweep runs in a real subprocess that the test kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np, torch
    sys.path.insert(0, {repo!r})
    torch.set_num_threads(1)
    from tests._tiny import tiny_llama
    from bounds._io import ChunkStore
    from validation.sweep import prompt_sweep

    class LoggingStore(ChunkStore):
        def save(self, index, items, arrays):
            super().save(index, items, arrays)
            with open({log!r}, "a") as f:
                f.write(f"{{index}}\\n")

    def slow(done, total):
        time.sleep({pause})

    model = tiny_llama(0)
    gen = torch.Generator().manual_seed(5)
    prompts = [torch.randint(3, 128, (int(n),), generator=gen).tolist() for n in range(2, 18)]  # 16 prompts
    vectors = {{1: torch.randn(32, generator=gen), 3: torch.randn(32, generator=gen)}}
    out = prompt_sweep(model, prompts, vectors, [-2.0, 0.0, 1.0, 3.0], ids=[3, 4, 5], top_k=4, batch_size=8,
                       pad_id=0, store=LoggingStore({chunks!r}), progress=slow)
    np.savez({result!r}, **out.arrays())
    """
)


def _script(tmp: Path, name: str, pause: float) -> Path:
    path = tmp / f"{name}.py"
    path.write_text(
        SCRIPT.format(
            repo=str(REPO),
            log=str(tmp / f"{name}.log"),
            chunks=str(tmp / f"{name}-chunks"),
            result=str(tmp / f"{name}-result.npz"),
            pause=pause,
        )
    )
    return path


def _saved(log: Path) -> list[int]:
    return [int(x) for x in log.read_text().split()] if log.exists() else []


def test_sweep_killed_with_sigkill_resumes_without_recomputing(tmp_path):
    script = _script(tmp_path, "run", pause=0.4)  # 8 groups of 2 prompts x 4 lambdas, 0.4 s pause after each
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path)
    chunks = tmp_path / "run-chunks"
    deadline = time.monotonic() + 120
    while len(list(chunks.glob("group-*[0-9].npz"))) < 3:
        assert proc.poll() is None, "the sweep finished before it could be killed"
        assert time.monotonic() < deadline, "no group finished in time"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "run-result.npz").exists()
    finished = sorted(int(p.stem.split("-")[1]) for p in chunks.glob("group-*[0-9].npz"))
    assert 3 <= len(finished) < 8
    before = _saved(tmp_path / "run.log")

    subprocess.run([sys.executable, str(script)], cwd=tmp_path, check=True, timeout=300)
    after = _saved(tmp_path / "run.log")[len(before) :]
    assert sorted(after) == sorted(set(range(8)) - set(finished))  # only the unfinished groups were computed

    ref_script = _script(tmp_path, "ref", pause=0.0)
    subprocess.run([sys.executable, str(ref_script)], cwd=tmp_path, check=True, timeout=300)
    with np.load(tmp_path / "run-result.npz") as a, np.load(tmp_path / "ref-result.npz") as b:
        for key in b.files:
            x, y = a[key].astype(float), b[key].astype(float)
            assert np.all(np.abs(x - y) <= 1e-6 * np.maximum(1.0, np.abs(y))), key
