"""Checking and loading the configured models, once: one base pipeline whose components every mode shares.

A model is a hub id, a diffusers folder or a single .safetensors file. Everything is checked before anything loads,
so a missing model is an immediate error naming the setting and how to provide it, never a hang on the network.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import torch
from diffusers import (
    ControlNetModel,
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    PNDMScheduler,
    StableDiffusionControlNetImg2ImgPipeline,
    StableDiffusionControlNetPipeline,
    StableDiffusionPipeline,
    T2IAdapter,
    UniPCMultistepScheduler,
)
from diffusers.models.controlnets.multicontrolnet import MultiControlNetModel

from ...factors.devices import DeviceError, resolve_device
from ..errors import DiffusionError, ModelNotFoundError
from ..modes import Mode
from ..settings import ColourConditioner, DiffusionSettings, DType, Scheduler

SCHEDULERS = {
    Scheduler.UNIPC: UniPCMultistepScheduler,
    Scheduler.DDIM: DDIMScheduler,
    Scheduler.EULER: EulerDiscreteScheduler,
    Scheduler.EULER_ANCESTRAL: EulerAncestralDiscreteScheduler,
    Scheduler.DPMPP_2M: DPMSolverMultistepScheduler,
    Scheduler.PNDM: PNDMScheduler,
}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class SourceKind(StrEnum):
    HUB = "hub"
    FOLDER = "folder"
    FILE = "file"


@dataclass(frozen=True)
class ModelRef:
    """A model setting resolved to where its weights are: a hub id, a diffusers folder or one .safetensors file."""

    setting: str  # the DiffusionSettings field, named in errors
    role: str  # "base model", "depth ControlNet", ...
    ref: str
    kind: SourceKind
    index_file: str  # model_index.json for pipelines, config.json for single models

    @property
    def path(self) -> Path:
        return Path(self.ref).expanduser()


def check_model(
    setting: str, role: str, ref: str, *, pipeline: bool, allow_downloads: bool, expected_class: str | None = None
) -> ModelRef:
    """Where the model lives, or ModelNotFoundError naming it and how to provide it (no network, no loading).

    ``expected_class``: the diffusers class a folder's config must name (a T2IAdapter folder given as a
    ControlNet would otherwise load as a half-empty model).
    """
    index_file = "model_index.json" if pipeline else "config.json"
    how = (
        f"set '{setting}' to a hub id (e.g. org/name), a diffusers folder (with {index_file} and .safetensors "
        "weights) or a single .safetensors file"
    )
    path = Path(ref).expanduser()
    if path.is_file():
        if path.suffix != ".safetensors":
            raise ModelNotFoundError(
                f"{role} '{ref}' is not a .safetensors file; weights load from safetensors only: convert it or {how}"
            )
        return ModelRef(setting, role, ref, SourceKind.FILE, index_file)
    if path.is_dir():
        if not (path / index_file).is_file():
            raise ModelNotFoundError(
                f"{role} folder '{ref}' has no {index_file}, so it is not a diffusers folder; {how}"
            )
        if not any(path.rglob("*.safetensors")):
            raise ModelNotFoundError(
                f"{role} folder '{ref}' holds no .safetensors weights; weights load from safetensors only: "
                "convert the .bin files (diffusers save_pretrained(safe_serialization=True)) or use another model"
            )
        if expected_class and not pipeline:
            found = _config_class(path / index_file)
            if found and found != expected_class:
                raise ModelNotFoundError(
                    f"{role} folder '{ref}' holds a {found}, not a {expected_class}; point '{setting}' at a "
                    f"{expected_class} folder"
                    + (" or switch colour_conditioner" if setting == "colour_model" else "")
                )
        return ModelRef(setting, role, ref, SourceKind.FOLDER, index_file)
    looks_like_path = ref.startswith((".", "/", "~", "\\")) or ref.endswith(".safetensors") or ":" in ref[1:3]
    if looks_like_path or not _HUB_ID.match(ref):
        raise ModelNotFoundError(f"{role} '{ref}' does not exist; {how}")
    if not allow_downloads and not _in_hub_cache(ref, index_file):
        raise ModelNotFoundError(
            f"{role} '{ref}' is not in the local Hugging Face cache and downloads are off; allow online access "
            f"(Blender: Preferences > System > Network) to download it, or fetch it beforehand with "
            f"`hf download {ref}`, or {how}"
        )
    return ModelRef(setting, role, ref, SourceKind.HUB, index_file)


def _config_class(config: Path) -> str | None:
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("_class_name")
    except (OSError, ValueError, AttributeError):
        return None


def _in_hub_cache(repo_id: str, filename: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename)
    return isinstance(found, str)


def pick_device(setting: str) -> torch.device:
    """The torch device for a setting (factors.devices decides: 'auto' is cuda, then mps, then cpu)."""
    try:
        return torch.device(resolve_device(setting, torch))
    except DeviceError as exc:
        raise DiffusionError(f"{exc} (the [diffusion] device setting)") from None


def pick_dtype(setting: DType, device: torch.device) -> torch.dtype:
    """float16 on accelerators and float32 on cpu for 'auto'; an explicit dtype is used as given."""
    if setting is DType.AUTO:
        return torch.float16 if device.type in ("cuda", "mps") else torch.float32
    return {DType.FLOAT32: torch.float32, DType.FLOAT16: torch.float16, DType.BFLOAT16: torch.bfloat16}[setting]


def required_models(settings: DiffusionSettings, modes: list[Mode], allow_downloads: bool) -> dict[str, ModelRef]:
    """Every model the modes need, checked; raises on the first missing one before anything loads."""
    wanted = [("base_model", "base model", settings.base_model, None)]
    if any(m.uses_controlnets for m in modes):
        wanted += [
            ("depth_controlnet", "depth ControlNet", settings.depth_controlnet, "ControlNetModel"),
            ("normal_controlnet", "normal ControlNet", settings.normal_controlnet, "ControlNetModel"),
        ]
    if any(m.uses_palette for m in modes):
        adapter = settings.colour_conditioner is ColourConditioner.T2I_ADAPTER
        wanted.append(
            ("colour_model", "T2I colour adapter" if adapter else "colour ControlNet", settings.colour_model,
             "T2IAdapter" if adapter else "ControlNetModel")
        )
    refs = {}
    for setting, role, ref, expected in wanted:
        refs[setting] = check_model(
            setting, role, ref, pipeline=expected is None, allow_downloads=allow_downloads, expected_class=expected
        )
    if settings.colour_conditioner is ColourConditioner.T2I_ADAPTER and "colour_model" in refs:
        if refs["colour_model"].kind is SourceKind.FILE:
            raise ModelNotFoundError(
                f"T2I colour adapter '{settings.colour_model}' is a single file; adapters load from a diffusers "
                "folder or hub id (config.json + diffusion_pytorch_model.safetensors)"
            )
    return refs


StatusFn = Callable[[str], None]


@dataclass
class LoadedPipelines:
    """The base pipeline loaded once plus the ControlNet pipelines composed from its components on demand."""

    settings: DiffusionSettings
    allow_downloads: bool
    device: torch.device
    dtype: torch.dtype
    text: StableDiffusionPipeline
    models: dict[str, str] = field(default_factory=dict)  # setting -> ref of what is loaded
    colour_adapter: T2IAdapter | None = None  # the adapter of the current harbinger call, if any
    load_seconds: float = 0.0
    loads: int = 0  # from_pretrained / from_single_file calls made, for the overhead benchmark
    _conditioners: dict[tuple[str, str], object] = field(default_factory=dict)  # (class, ref) -> model
    _composed: dict[tuple, object] = field(default_factory=dict)  # (mode, refs...) -> pipeline
    _scheduler: Scheduler | None = None
    _offloaded: object | None = None

    def pipeline_for(self, mode: Mode, refs: dict[str, ModelRef], status: StatusFn):
        """The pipeline that runs ``mode``, loading its conditioners the first time they are needed.

        Every pipeline is made with ``from_pipe`` from the base pipeline, so the UNet, VAE and text encoder exist once.
        """
        self._forget_unused()
        if not mode.uses_controlnets:
            return self._prepare(self.text)
        nets = [
            self._conditioner(ControlNetModel, refs["depth_controlnet"], status),
            self._conditioner(ControlNetModel, refs["normal_controlnet"], status),
        ]
        used = [refs["depth_controlnet"].ref, refs["normal_controlnet"].ref]
        self.colour_adapter = None
        if mode.uses_palette:
            if self.settings.colour_conditioner is ColourConditioner.CONTROLNET:
                nets.append(self._conditioner(ControlNetModel, refs["colour_model"], status))
                used.append(refs["colour_model"].ref)
            else:
                self.colour_adapter = self._conditioner(T2IAdapter, refs["colour_model"], status)
                self.colour_adapter.to(self.device)  # run outside the pipeline, so never offloaded
        pipeline_class = (
            StableDiffusionControlNetImg2ImgPipeline if mode.uses_init_image else StableDiffusionControlNetPipeline
        )
        key = (pipeline_class.__name__, *used)
        if key not in self._composed:
            self._composed[key] = pipeline_class.from_pipe(self.text, controlnet=MultiControlNetModel(nets))
        return self._prepare(self._composed[key])

    def _conditioner(self, cls, ref: ModelRef, status: StatusFn):
        key = (cls.__name__, ref.ref)
        if key not in self._conditioners:
            self._conditioners[key] = self._load_model(cls, ref, status)
        return self._conditioners[key]

    def _forget_unused(self) -> None:
        """Drop conditioners (and pipelines using them) that the current settings no longer name."""
        s = self.settings
        wanted = {s.depth_controlnet, s.normal_controlnet, s.colour_model}
        for key in [k for k in self._conditioners if k[1] not in wanted]:
            del self._conditioners[key]
        for key in [k for k in self._composed if any(r not in wanted for r in k[1:])]:
            del self._composed[key]

    def use_scheduler(self, scheduler: Scheduler) -> None:
        """Swap the sampler of every pipeline (cheap: schedulers hold no weights)."""
        if scheduler is self._scheduler:
            return
        new = SCHEDULERS[scheduler].from_config(self.text.scheduler.config)
        for pipe in (self.text, *self._composed.values()):
            pipe.scheduler = new
        self._scheduler = scheduler

    def _prepare(self, pipe):
        if pipe.scheduler is not self.text.scheduler:
            pipe.scheduler = self.text.scheduler
        pipe.set_progress_bar_config(disable=True)
        if self.settings.cpu_offload and self.device.type != "cpu" and self._offloaded is not pipe:
            pipe.enable_model_cpu_offload(device=self.device)  # re-hooks the shared modules for this pipeline
            self._offloaded = pipe
        elif not self.settings.cpu_offload and pipe.device != self.device:
            pipe.to(self.device)
        return pipe

    def _load_model(self, cls, ref: ModelRef, status: StatusFn):
        status(f"loading {ref.role} {ref.ref}")
        started = time.perf_counter()
        common = {"torch_dtype": self.dtype, "local_files_only": not self.allow_downloads}
        try:
            model = from_source(cls, ref, **common)
        except (OSError, ValueError) as exc:
            raise ModelNotFoundError(f"{ref.role} '{ref.ref}' could not be loaded: {exc}") from exc
        self.loads += 1
        self.load_seconds += time.perf_counter() - started
        self.models[ref.setting] = ref.ref
        if not self.settings.cpu_offload:
            model.to(self.device)
        return model


def from_source(cls, ref: ModelRef, **kwargs):
    """``cls`` loaded from a single checkpoint file or a diffusers folder / hub id (safetensors only)."""
    if ref.kind is SourceKind.FILE:
        return cls.from_single_file(ref.ref, **kwargs)
    return cls.from_pretrained(ref.ref, use_safetensors=True, **kwargs)


def load_pipelines(
    settings: DiffusionSettings, refs: dict[str, ModelRef], allow_downloads: bool, status: StatusFn
) -> LoadedPipelines:
    """The base pipeline on the configured device and dtype, with the memory options applied."""
    device = pick_device(settings.device)
    dtype = pick_dtype(settings.dtype, device)
    base = refs["base_model"]
    status(f"loading base model {base.ref} on {device} ({str(dtype).removeprefix('torch.')})")
    started = time.perf_counter()
    common = {"torch_dtype": dtype, "local_files_only": not allow_downloads, "safety_checker": None,
              "requires_safety_checker": False}
    try:
        text = from_source(StableDiffusionPipeline, base, **common)
    except (OSError, ValueError) as exc:
        hint = (
            " (a single-file checkpoint needs the SD 1.5 configs in the hub cache; allow downloads once or use a "
            "diffusers folder)"
            if base.kind is SourceKind.FILE
            else ""
        )
        raise ModelNotFoundError(f"base model '{base.ref}' could not be loaded: {exc}{hint}") from exc
    if not settings.cpu_offload or device.type == "cpu":
        text.to(device)
    if settings.attention_slicing:
        text.enable_attention_slicing()  # the UNet is shared, so every mode gets it
    if settings.vae_tiling:
        text.vae.enable_tiling()
    loaded = LoadedPipelines(settings, allow_downloads, device, dtype, text, models={"base_model": base.ref})
    loaded.loads = 1
    loaded.load_seconds = time.perf_counter() - started
    return loaded
