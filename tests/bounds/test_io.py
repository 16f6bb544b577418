"""bounds._io and bounds._plot: atomic files, fingerprints, resume stores, record readers."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from bounds._io import (
    ChunkStore,
    FingerprintStore,
    ResumeMismatchError,
    atomic_savez,
    atomic_write,
    fingerprint,
    flatten,
    jsonable,
    read_jsonl,
    read_records,
)
from bounds.errors import MissingFileError, ParameterError, SteeringBoundsError


def test_jsonable_and_fingerprint() -> None:
    @dataclasses.dataclass
    class P:
        a: float
        b: tuple

    obj = {"x": np.float32(1.5), "y": np.array([1.0, np.nan]), "z": (np.int64(2), np.bool_(True)), 3: P(np.inf, (1,))}
    assert jsonable(obj) == {"x": 1.5, "y": [1.0, None], "z": [2, True], "3": {"a": None, "b": [1]}}
    text = ["a", "héllo"]  # the hash check.py and coverage.py used: sha256 of the sorted JSON, 16 hex digits
    expected = hashlib.sha256(json.dumps(text, sort_keys=True, default=str).encode()).hexdigest()[:16]
    assert fingerprint(text) == expected and fingerprint(("a", "héllo")) == expected
    assert fingerprint({"p": Path("/x")}) == fingerprint({"p": "/x"})
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": [3]}) == {"a.b": 1, "a.c.d": 2, "e": [3]}


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    assert atomic_write(path, "héllo") == path and path.read_text(encoding="utf-8") == "héllo"
    atomic_write(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"

    def broken(fh) -> None:
        fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, broken)
    assert path.read_bytes() == b"\x00\x01" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]
    atomic_savez(tmp_path / "a.npz", x=np.arange(3))
    with np.load(tmp_path / "a.npz") as z:
        assert np.array_equal(z["x"], np.arange(3))


def test_read_jsonl_truncates_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    assert read_jsonl(path) == []
    path.write_text('{"a": 1}\n\n{"a": 2}\n{"a": ', encoding="utf-8")
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}]
    assert path.read_text(encoding="utf-8") == '{"a": 1}\n\n{"a": 2}\n'
    path.write_text('{"a": 1}\n{bad\n{"a": 2}\n', encoding="utf-8")
    with pytest.raises(ResumeMismatchError, match="line 2 is not valid JSON"):
        read_jsonl(path)


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("r.csv", "", r"r\.csv: empty file"),
        ("r.csv", "a,a\n1,2\n", r"r\.csv:1: duplicate column names \['a'\]"),
        ("r.csv", "a,b\n1,2\n\n1,2,3\n", r"r\.csv:4: expected 2 fields"),
        ("r.jsonl", '{"a": 1}\n{"a": \n', r"r\.jsonl:2: invalid JSON line"),
        ("r.json", '[\n {"a": 1},\n {"a": }\n]', r"r\.json:3: invalid JSON: Expecting value"),
        ("r.json", '[\n {"a": 1}\n {"a": 2}\n]', r"r\.json:3: invalid JSON: expected ','"),
        ("r.json", '[{"a": 1}]\n[2]', r"r\.json:1: invalid JSON: extra data after the array"),
        ("r.txt", "a\n", r"r\.txt: unknown format '\.txt'"),
    ],
)
def test_read_records_errors_name_file_and_line(tmp_path: Path, name: str, text: str, match: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError, match=match):
        read_records(path)


def test_read_records_formats(tmp_path: Path) -> None:
    csv_path = tmp_path / "r.csv"
    csv_path.write_text("a, b\n1,x\n\n2,\n", encoding="utf-8")
    seen = []
    assert read_records(csv_path, header=seen.append) == [(2, {"a": "1", "b": "x"}), (4, {"a": "2", "b": ""})]
    assert seen == [["a", "b"]]
    arr = tmp_path / "r.json"
    arr.write_text('[\n {"a": 1},\n\n 2\n]\n', encoding="utf-8")
    assert read_records(arr) == [(2, {"a": 1}), (4, 2)]
    arr.write_text('{"a": 1}\n{"a": 2}\n', encoding="utf-8")  # JSON Lines in a .json file
    assert read_records(arr) == [(1, {"a": 1}), (2, {"a": 2})]
    arr.write_text("[ ]", encoding="utf-8")
    assert read_records(arr) == []
    with pytest.raises(MissingFileError, match="curves: no such file"):
        read_records(tmp_path / "none.csv", "curves")


def test_read_records_single_object(tmp_path: Path) -> None:
    path = tmp_path / "b.txt"
    path.write_text('{\n "a": [1, 2]\n}\n', encoding="utf-8")
    assert read_records(path, "behavior file", single=True) == {"a": [1, 2]}
    path.write_text('{\n "a": \n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"b\.txt:3: behavior file could not be read as JSON"):
        read_records(path, "behavior file", single=True)
    path.write_text("[1]", encoding="utf-8")
    with pytest.raises(ValueError, match=r"b\.txt: behavior file must hold a JSON object, got list"):
        read_records(path, "behavior file", single=True)


def test_fingerprint_store_names_what_differs(tmp_path: Path) -> None:
    settings = {"config": {"a": 1, "b": (1, 2)}, "hash": "x"}
    kw = {"prefix": "out: here holds other results", "suffix": "; use another folder", "opaque": {"hash": "the data"}}
    store = FingerprintStore(tmp_path, settings, **kw)
    assert json.loads((tmp_path / "manifest.json").read_text()) == {"fingerprint": jsonable(settings)}
    FingerprintStore(tmp_path, settings, **kw)  # same settings (tuples read back as lists): accepted
    with pytest.raises(ResumeMismatchError) as info:
        FingerprintStore(tmp_path, {"config": {"a": 2, "b": [1, 2]}, "c": 3, "hash": "y"}, **kw)
    assert str(info.value) == "out: here holds other results (differs in: c, config.a); use another folder"
    with pytest.raises(ResumeMismatchError, match=r"\(differs in: the data\)"):
        FingerprintStore(tmp_path, settings | {"hash": "y"}, **kw)
    assert issubclass(ResumeMismatchError, (SteeringBoundsError)) and issubclass(ResumeMismatchError, ValueError)
    assert issubclass(ResumeMismatchError, RuntimeError)
    calls = []

    def compute() -> dict:
        calls.append(1)
        return {"x": np.arange(3.0)}

    first, reused = store.cached("stage.npz", compute)
    again, reused_again = store.cached("stage.npz", compute)
    assert (reused, reused_again, len(calls)) == (False, True, 1) and np.array_equal(first["x"], again["x"])
    assert store.cached("s.json", lambda: {"k": [1]}) == ({"k": [1]}, False)
    assert store.cached("s.json", lambda: 1 / 0) == ({"k": [1]}, True)
    flat = tmp_path / "flat"
    FingerprintStore(flat, {"seed": 1}, prefix="p", key=None)
    assert json.loads((flat / "manifest.json").read_text()) == {"seed": 1}
    with pytest.raises(ResumeMismatchError, match=r"^p \(differs in: seed\)$"):
        FingerprintStore(flat, {"seed": 2}, prefix="p", key=None)


def test_chunk_store_refuses_groups_of_another_run(tmp_path: Path) -> None:
    store = ChunkStore(tmp_path / "groups")
    store.save(0, np.array([3, 4]), {"x": np.ones(2)})
    assert np.array_equal(store.load(0, np.array([3, 4]))["x"], np.ones(2))
    assert store.load(1, np.array([5])) is None and store.count() == 1
    with pytest.raises(ValueError, match=r"store: .* holds a group of other items"):
        store.load(0, np.array([1, 2]))


def test_plot_helpers_draw_and_save_atomically(tmp_path: Path) -> None:
    from bounds._plot import add_caption, errorbar, new_figure, save

    fig, axes = new_figure((4.0, 3.0), 1, 2, squeeze=False)
    assert axes.shape == (1, 2) and new_figure((2.0, 2.0), 0)[1] is None
    errorbar(axes[0, 0], np.arange(3.0), np.ones(3), np.array([np.nan, 0.1, 0.2]), label="m")
    errorbar(axes[0, 1], np.arange(3.0), np.ones(3), np.full(3, np.nan))
    add_caption(fig, "a caption " * 30)
    path = save(fig, tmp_path / "f.png", bbox_inches="tight")
    assert path.read_bytes()[:4] == b"\x89PNG" and [p.name for p in tmp_path.iterdir()] == ["f.png"]


def test_import_bounds_stays_light() -> None:
    import subprocess

    code = "import sys, bounds._io, bounds._plot; print([m for m in ('matplotlib', 'torch') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
