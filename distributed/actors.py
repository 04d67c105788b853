"""The long-lived workers of a distributed run, as plain classes the pipeline hands to ``ray.remote``.

Each loads its heavy state once (bpy and the scene; a diffusers pipeline; a CLIP model) and then serves many
requests. They import bpy or torch only inside their own process, through ``scene`` / ``diffusion.worker`` /
``benchmark``, never in the driver. A failure inside one sample comes back as a result with a message; only a
dead process (SIGKILL, out of memory) surfaces as a Ray actor error, which the pipeline answers with a retry.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..factors.grid import Sample
from ..presets.settings import OutputSettings, RenderSettings


@dataclass(frozen=True)
class RenderResult:
    """What a render worker did with one sample: its manifest row, or why it failed."""

    sample_id: str
    row: dict[str, Any] | None
    seconds: float
    error: str = ""
    busy: bool = False  # another process holds the sample's lock
    cpu_seconds: float = 0.0  # CPU time of this worker process for the sample (steadier than wall time)


@dataclass(frozen=True)
class DiffuseResult:
    """What a diffusion worker did with a batch of (sample folder, mode) jobs."""

    jobs: tuple[tuple[str, str], ...]
    outputs: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class EmbedResult:
    """Embedding rows of some images: (source, sample id, file size, mtime ns, row as a list of floats)."""

    rows: list[tuple[str, str, int, int, list[float]]] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""


class RenderWorker:
    """Imports bpy and builds the scene once, then renders sample after sample into the dataset folder."""

    def __init__(self, render: RenderSettings, output: OutputSettings, build_scene: Callable | None = None,
                 apply_factors: Callable | None = None) -> None:
        from ..scene import sweep  # imports bpy: only ever in this worker's process

        self._sweep = sweep
        self.render_settings, self.output = render, output
        self.apply_factors = apply_factors
        if build_scene is None:
            from ..scene import builder

            build_scene = builder.build_scene
        self.scene = build_scene(render)

    def pid(self) -> int:
        return os.getpid()

    def render(self, sample: Sample, out: str) -> RenderResult:
        """Render one sample under its lock (a SIGKILL frees the lock with the process)."""
        from ..dataset.locks import Busy, sample_lock

        started, cpu = time.perf_counter(), time.process_time()
        try:
            lock = sample_lock(Path(out), sample.id).acquire(blocking=False)
        except Busy:
            return RenderResult(sample.id, None, 0.0, busy=True)
        row, error = None, ""
        try:
            row = self._sweep.render_into_dataset(self.scene, sample, Path(out), render=self.render_settings,
                                                  output=self.output, apply_factors=self.apply_factors)
        except self._sweep.SampleError as exc:
            error = str(exc)
        finally:
            lock.release()
            self._sweep.release_freed_memory()  # as the local sweep: a long-lived worker's heap must not creep
        return RenderResult(sample.id, row, time.perf_counter() - started, error,
                            cpu_seconds=time.process_time() - cpu)


class DiffusionWorker:
    """One diffusers pipeline per worker (per GPU), kept loaded; runs batches of jobs with the worker's own code."""

    def __init__(self, settings: Mapping[str, Any], modes: Sequence[str], allow_downloads: bool) -> None:
        if not allow_downloads:
            os.environ["HF_HUB_OFFLINE"] = "1"  # before diffusers is imported: never touch the network
        from ..diffusion.modes import get_mode
        from ..diffusion.settings import DiffusionSettings
        from ..diffusion.worker import generate, models, server

        self._generate, self._server = generate, server
        self.settings = dict(settings)
        self.allow_downloads = allow_downloads
        checked = DiffusionSettings.from_mapping(self.settings, "preset [diffusion]")
        models.required_models(checked, [get_mode(m) for m in modes], allow_downloads)  # missing model: fail now
        self.context = server.WorkerContext(open(os.devnull, "w", encoding="utf-8"))  # progress lines go nowhere
        self.requests = 0

    def pid(self) -> int:
        return os.getpid()

    def generate(self, jobs: Sequence[tuple[str, str]]) -> DiffuseResult:
        self.requests += 1
        message = {"type": "generate", "id": f"ray-{self.requests}", "settings": self.settings,
                   "jobs": [{"sample_dir": folder, "mode": mode} for folder, mode in jobs],
                   "allow_downloads": self.allow_downloads, "overwrite": False}
        started = time.perf_counter()
        try:
            reply = self._generate.run(self.context, message)
        except Exception as exc:  # the worker's own readable message (OOM advice included); the actor lives on
            message = self._server._error_reply(None, exc)["message"]
            return DiffuseResult(tuple(jobs), [], time.perf_counter() - started, message)
        return DiffuseResult(tuple(jobs), list(reply["outputs"]), time.perf_counter() - started)


class EmbedWorker:
    """A CLIP model kept loaded; embeds images as they are finished, for the benchmark's embedding cache."""

    def __init__(self, model: str, device: str, allow_download: bool) -> None:
        import torch

        from ..benchmark.encoders import make_encoder, parse_model_spec
        from ..factors.devices import resolve_device

        self.encoder = make_encoder(parse_model_spec(model), resolve_device(device, torch),
                                    allow_download=allow_download)
        self.encoder.preflight()

    def pid(self) -> int:
        return os.getpid()

    def embed(self, images: Sequence[tuple[str, str, str]]) -> EmbedResult:
        """Rows for (source, sample id, image path) triples, stamped with each file's size and mtime."""
        started = time.perf_counter()
        try:
            stamps = [os.stat(path) for _, _, path in images]
            rows = self.encoder.encode_images([Path(path) for _, _, path in images])
        except Exception as exc:
            return EmbedResult([], time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
        return EmbedResult([(source, sid, st.st_size, st.st_mtime_ns, row.tolist())
                            for (source, sid, _), st, row in zip(images, stamps, rows)],
                           time.perf_counter() - started)
