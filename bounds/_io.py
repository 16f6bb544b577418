"""Files: JSON-safe values and their fingerprints, atomic writes, resume stores and record readers with ``file:line``
errors. numpy is the only import (``import bounds`` stays light)."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import math
import os
import re
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .errors import MissingFileError, ParameterError, SteeringBoundsError

__all__ = [
    "ChunkStore",
    "FingerprintStore",
    "ResumeMismatchError",
    "atomic_savez",
    "atomic_write",
    "fingerprint",
    "flatten",
    "jsonable",
    "read_jsonl",
    "read_records",
]


class ResumeMismatchError(SteeringBoundsError, ValueError, RuntimeError):
    """An output folder holds results of a run with other settings (never mixed with the new run)."""


def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON-safe Python: dataclasses (through ``to_dict`` when they have one) and mappings to dicts,
    arrays and sequences to lists, numpy scalars to Python, non-finite floats to ``None``."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return jsonable(obj.to_dict())
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    return obj


def fingerprint(obj: Any) -> str:
    """16 hex digits of the sha256 of ``obj``'s canonical JSON (:func:`jsonable`, sorted keys, ``str`` of the rest)."""
    return hashlib.sha256(json.dumps(jsonable(obj), sort_keys=True, default=str).encode()).hexdigest()[:16]


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``{"a.b": value}`` (to name exactly which setting differs)."""
    if not isinstance(obj, Mapping):
        return {prefix: obj}
    out: dict[str, Any] = {}
    for k, v in obj.items():
        out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def atomic_write(path: str | os.PathLike[str], data: str | bytes | Callable[[BinaryIO], Any]) -> Path:
    """Write ``data`` (text as UTF-8, bytes, or ``data(binary file)``) into a temporary sibling, then
    :func:`os.replace` it onto ``path``: the file is complete or untouched, whenever the process dies.

    The temporary file is opened with ``"xb"`` (not :func:`tempfile.mkstemp`, whose files are mode 0600), so the
    result gets the permissions of the user's umask; it is removed when writing fails.
    """
    path = Path(path)
    write = data if callable(data) else (lambda fh: fh.write(data.encode("utf-8") if isinstance(data, str) else data))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_savez(path: str | os.PathLike[str], **arrays: Any) -> Path:
    """``np.savez(path, **arrays)`` through :func:`atomic_write` (``path`` is used as given: name it ``*.npz``)."""
    return atomic_write(path, lambda fh: np.savez(fh, **arrays))


class FingerprintStore:
    """A folder whose ``manifest.json`` holds the settings (the fingerprint) of the run that owns it.

    The first run writes the manifest; a later run with other settings is refused with :class:`ResumeMismatchError`
    ``"{prefix} (differs in: a.b, c){suffix}"``, naming the differing settings as flattened keys.

    Args:
        directory: the folder (created).
        settings: JSON-able settings (nested mappings allowed); compared after :func:`jsonable`.
        prefix, suffix: the error message around ``(differs in: ...)``.
        key: the manifest holds ``{key: settings}``; ``None``: the manifest is ``settings`` itself.
        opaque: settings compared but not named (e.g. a hash), mapped to the words named when only they differ.
    """

    def __init__(
        self, directory: str | os.PathLike[str], settings: Mapping[str, Any], *, prefix: str, suffix: str = "",
        key: str | None = "fingerprint", opaque: Mapping[str, str] | None = None,
    ) -> None:  # fmt: skip
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.settings = jsonable(settings)
        manifest = self.dir / "manifest.json"
        if not manifest.exists():
            body = self.settings if key is None else {key: self.settings}
            atomic_write(manifest, json.dumps(body, indent=1, sort_keys=True) + "\n")
            return
        old = json.loads(manifest.read_text(encoding="utf-8"))
        old = old if key is None else old.get(key, {})
        if old != self.settings:
            a, b, opaque = flatten(old), flatten(self.settings), opaque or {}
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            named = [k for k in diff if k not in opaque] or [opaque[k] for k in diff]
            raise ResumeMismatchError(f"{prefix} (differs in: {', '.join(named)}){suffix}")

    def cached(self, name: str, compute: Callable[[], Any]) -> tuple[Any, bool]:
        """``(value, reused)``: file ``name`` of the folder (``*.npz``: a dict of arrays; else JSON) when a run
        finished it, else ``compute()``, written atomically."""
        path = self.dir / name
        npz = path.suffix == ".npz"
        if path.exists():
            if npz:
                with np.load(path) as z:
                    return {k: z[k] for k in z.files}, True
            return json.loads(path.read_text(encoding="utf-8")), True
        value = compute()
        atomic_savez(path, **value) if npz else atomic_write(path, json.dumps(value))
        return value, False


class ChunkStore:
    """Finished groups of a sweep on disk, one file per group, so that a killed run resumes without recomputing them.

    Each group is written atomically (:func:`atomic_savez`): a file is either complete or absent, whatever moment
    the process dies (``kill -9`` included). A group's file records the item indices it holds; a rerun with different
    grouping (another batch size or other prompts) is refused, never mixed.

    Args:
        directory: folder of the group files (created).
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def _path(self, index: int) -> Path:
        return self.dir / f"group-{index:06d}.npz"

    def load(self, index: int, items: np.ndarray) -> dict[str, np.ndarray] | None:
        """The arrays of group ``index`` if it was finished, else ``None``.

        Raises:
            ValueError: the stored group holds other items than ``items`` (a different run in the same folder).
        """
        path = self._path(index)
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        if not np.array_equal(arrays.pop("_items"), items):
            raise ParameterError(
                f"store: {path} holds a group of other items (a run with other prompts or batch size); use a new "
                "folder or delete it"
            )
        return arrays

    def save(self, index: int, items: np.ndarray, arrays: dict[str, np.ndarray]) -> None:
        """Write group ``index`` atomically."""
        atomic_savez(self._path(index), _items=np.asarray(items), **arrays)

    def count(self) -> int:
        """Number of finished groups on disk."""
        return len(list(self.dir.glob("group-*.npz")))


def read_jsonl(path: str | os.PathLike[str]) -> list[Any]:
    """The records of a JSON Lines file written by appending (``[]`` when it does not exist). A torn last line (an
    interrupted write) is truncated away from the file; any other line that does not parse raises
    :class:`ResumeMismatchError`."""
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")
    records, good = [], 0
    for i, line in enumerate(lines):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if i < len(lines) - 1:
                    raise ResumeMismatchError(f"{path} line {i + 1} is not valid JSON: {exc}") from exc
                with path.open("r+b") as fh:  # torn final write
                    fh.truncate(good)
                break
        good += len(line) + 1
    return records


def read_records(
    path: str | os.PathLike[str], what: str = "file", *, error: type[Exception] = ParameterError,
    single: bool = False, header: Callable[[list[str]], Any] | None = None,
) -> Any:  # fmt: skip
    """``(line, record)`` pairs of a CSV (``.csv``: a dict of cells per row; ``header(names)`` checks the header
    first), JSON Lines (``.jsonl``/``.ndjson``) or JSON (``.json``: an array, or JSON Lines) file; with ``single``,
    the one JSON object the file holds.

    Lines are split at ``\n``, ``\r\n`` and ``\r`` only; a CSV record's line is the one it starts on.

    Raises:
        MissingFileError: ``"{what}: no such file ..."``.
        error: malformed input, the message starting with ``path:line:`` (or ``path:`` for the whole file); the
            exception's ``path`` and ``line`` attributes hold both.
    """
    p = Path(path)
    suffix = p.suffix.lower()

    def fail(line: int | None, msg: str) -> Exception:
        exc = error(f"{p}:{line}: {msg}" if line else f"{p}: {msg}")
        vars(exc).update(path=str(p), line=line or None)
        return exc

    if not p.is_file():
        raise MissingFileError(f"{what}: no such file {str(p)!r}")
    if not single and suffix not in (".csv", ".json", ".jsonl", ".ndjson"):
        raise fail(None, f"unknown format {suffix!r}: use .csv, .json, .jsonl or .ndjson")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(None, f"not UTF-8 text ({exc.reason})") from None
    if single:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise fail(exc.lineno, f"{what} could not be read as JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise fail(None, f"{what} must hold a JSON object, got {type(obj).__name__}")
        return obj
    if suffix == ".csv":
        reader = csv.reader(io.StringIO(text, newline=""))
        first = next(reader, None)
        if first is None:
            raise fail(None, "empty file (a CSV header line is required)")
        names = [h.strip() for h in first]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise fail(1, f"duplicate column names {dup}")
        if header is not None:
            header(names)
        rows, start = [], reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if cells and any(c.strip() for c in cells):
                if len(cells) != len(names):
                    raise fail(line, f"expected {len(names)} fields (as in the header), got {len(cells)}")
                rows.append((line, dict(zip(names, cells, strict=True))))
        return rows
    stripped = text.lstrip()
    if suffix == ".json" and stripped.startswith("["):
        return _json_array(text, len(text) - len(stripped) + 1, fail)
    records = []
    for i, raw in enumerate(io.StringIO(text, newline=None), start=1):
        if raw.strip():
            try:
                records.append((i, json.loads(raw)))
            except json.JSONDecodeError as exc:
                raise fail(i, f"invalid JSON line: {exc.msg} (column {exc.colno})") from None
    return records


_BLANK = re.compile(r"[ \t\r\n]*")


def _json_array(text: str, pos: int, fail: Callable[[int | None, str], Exception]) -> list[tuple[int, Any]]:
    """The elements of the JSON array opened before ``pos``, each with the line it starts on."""
    decoder, records, skip = json.JSONDecoder(), [], lambda i: _BLANK.match(text, i).end()
    pos = skip(pos)
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            try:
                obj, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise fail(exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})") from None
            records.append((text.count("\n", 0, pos) + 1, obj))
            pos = skip(end)
            if text.startswith(",", pos):
                pos = skip(pos + 1)
                continue
            if not text.startswith("]", pos):
                raise fail(text.count("\n", 0, pos) + 1, "invalid JSON: expected ',' or ']' after an array element")
            pos += 1
            break
    if text[pos:].strip():
        raise fail(text.count("\n", 0, pos) + 1, "invalid JSON: extra data after the array")
    return records
