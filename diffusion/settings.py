"""Diffusion settings held by a preset's ``[diffusion]`` table: models, sampler, scales, device and memory options.

Pure Python (no torch): the preset reader, the Blender panel and the worker protocol all use this one dataclass.
Defaults follow the paper: a realism-tuned SD 1.5, ControlNet 1.1 depth and NormalBAE at 0.8, the T2I colour
adapter on the palette, UniPC with 20 steps and img2img strength 0.2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any

from ..factors.fields import (
    BoolField,
    ChoiceField,
    Field,
    FloatField,
    IntField,
    SeedField,
    SizeField,
    TextField,
    Where,
    parse_section,
    suggest,
)
from .core import BlurdError, check_template


class ColourConditioner(StrEnum):
    """How harbinger conditions on the spatial palette."""

    T2I_ADAPTER = "t2i_adapter"  # a T2IAdapter whose residuals are added inside the UNet's down blocks
    CONTROLNET = "controlnet"  # a colour ControlNet run as a third net beside depth and normal


class Scheduler(StrEnum):
    """Sampler, mapped to a diffusers scheduler class by the worker."""

    UNIPC = "unipc"
    DDIM = "ddim"
    EULER = "euler"
    EULER_ANCESTRAL = "euler_ancestral"
    DPMPP_2M = "dpmpp_2m"
    PNDM = "pndm"


class DType(StrEnum):
    """Weight and activation precision; ``auto`` is float16 on cuda/mps and float32 on cpu."""

    AUTO = "auto"
    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"


MAX_TEMPLATE_LENGTH = 2000  # characters of a prompt template (a prompt is at most 77 CLIP tokens anyway)
DEVICES = ("auto", "cuda", "mps", "cpu")  # "auto" = cuda, then mps, then cpu; "cuda:1" is accepted too

# Fields that decide how the base pipeline is loaded: the worker reloads it only when one of these changes
# (conditioners are loaded and swapped on their own, on demand).
MODEL_FIELDS = ("base_model", "dtype", "device", "attention_slicing", "vae_tiling", "cpu_offload")


@dataclass(frozen=True)
class DiffusionSettings:
    """Everything the worker needs to turn a sample into ``sd_<mode>.png``, except the sample and the mode."""

    base_model: str = "SG161222/Realistic_Vision_V5.1_noVAE"  # hub id, diffusers folder or single .safetensors
    depth_controlnet: str = "lllyasviel/control_v11f1p_sd15_depth"
    normal_controlnet: str = "lllyasviel/control_v11p_sd15_normalbae"
    colour_conditioner: ColourConditioner = ColourConditioner.T2I_ADAPTER
    colour_model: str = "TencentARC/t2iadapter_color_sd14v1"
    scheduler: Scheduler = Scheduler.UNIPC
    steps: int = 20
    guidance: float = 7.5
    strength: float = 0.2  # img2img strength (harbinger): the fraction of the steps that run
    depth_scale: float = 0.8
    normal_scale: float = 0.8
    colour_scale: float = 1.0  # adapter conditioning scale, or the colour ControlNet's scale
    resolution: tuple[int, int] = (512, 512)  # width, height in pixels, multiples of 8
    seed: int | None = None  # None: each sample's own seed from sample.json
    dtype: DType = DType.AUTO
    device: str = "auto"
    attention_slicing: bool = False
    vae_tiling: bool = False
    cpu_offload: bool = False
    prompt_template: str | None = None  # None: factors.prompt's default wording
    negative_template: str | None = None
    batch_size: int = 1  # images per pipeline call in the batch stage

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "") -> DiffusionSettings:
        """Settings from a preset's ``[diffusion]`` table (or a protocol message); missing keys keep defaults.

        Raises PresetError(source, key, problem, fix) for an unknown key (with "did you mean"), a wrong type or an
        out-of-range value: the checks are SETTING_FIELDS, the same table the preset reader and the sidebar use.
        """
        return cls(**parse_section(data, SETTING_FIELDS, Where(source, "diffusion")))

    def to_mapping(self) -> dict[str, Any]:
        """JSON/TOML-ready values (enums as strings, resolution as a list, None kept) that from_mapping reads back."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Enum):
                value = value.value
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def model_key(self) -> tuple:
        """The values that decide how the base pipeline is loaded (equal keys share one loaded pipeline)."""
        return tuple(getattr(self, name) for name in MODEL_FIELDS)

    def replace(self, **changes: Any) -> DiffusionSettings:
        return dataclasses.replace(self, **changes)


# ---- the settings table: one Field per setting, in sidebar order (checks, tooltips, labels, headings) ----


@dataclass(frozen=True)
class ModelField(TextField):
    """A model: hub id, diffusers folder or single .safetensors file."""

    empty_fix: str = 'write a hub id like "org/name", a diffusers folder or a .safetensors file'
    label: str = "model (hub id or path)"


@dataclass(frozen=True)
class TemplateField(TextField):
    """A prompt template whose {fields} factors.prompt knows (checked there, including the field sizes)."""

    optional: bool = True

    def parse(self, value: Any, where: Where) -> str | None:
        text = super().parse(value, where)
        if text is not None:
            try:
                check_template(text, where.key)
            except BlurdError as exc:
                raise where.error(str(exc)) from None
        return text


@dataclass(frozen=True)
class DeviceField(Field):
    """A torch device name: one of ``choices``, or ``cuda:N``."""

    choices: tuple[str, ...] = DEVICES
    doc: str = ""
    label: str = ""
    group: str = ""

    def parse(self, value: Any, where: Where) -> str:
        if isinstance(value, str):
            base, _, index = value.partition(":")
            if base in self.choices and (not index or (base == "cuda" and index.isdigit())):
                return value
        raise where.error(f"unknown device {value!r}", suggest(str(value), self.choices, "devices") + " (or cuda:N)")


SETTING_FIELDS: Mapping[str, Field] = MappingProxyType({
    "base_model": ModelField(doc="Hub id, diffusers folder or single .safetensors file of an SD 1.5 model",
                             label="Base", group="Models"),
    "depth_controlnet": ModelField(doc="Depth ControlNet (tempered, harbinger)", label="Depth", group="Models"),
    "normal_controlnet": ModelField(doc="Normal ControlNet (tempered, harbinger)", label="Normal", group="Models"),
    "colour_conditioner": ChoiceField(ColourConditioner, "How harbinger conditions on the spatial palette",
                                      "Colour", "Models"),
    "colour_model": ModelField(doc="The T2I colour adapter or colour ControlNet", label="Colour model",
                               group="Models"),
    "scheduler": ChoiceField(Scheduler, "Sampler (a diffusers scheduler)", "Scheduler", "Sampler"),
    "steps": IntField(1, 1000, "Denoising steps", "Steps", "Sampler"),
    "guidance": FloatField(0.0, 50.0, "Classifier-free guidance scale", "Guidance", "Sampler"),
    "strength": FloatField(0.01, 1.0, "img2img strength of harbinger: how far from the render it may move",
                           "Strength", "Sampler"),
    "depth_scale": FloatField(0.0, 5.0, "Depth ControlNet conditioning scale", "Depth", "Scales"),
    "normal_scale": FloatField(0.0, 5.0, "Normal ControlNet conditioning scale", "Normal", "Scales"),
    "colour_scale": FloatField(0.0, 5.0, "Colour adapter or colour ControlNet scale", "Colour", "Scales"),
    "resolution": SizeField(32, 4096, "Output [width, height] in pixels, multiples of 8", "Resolution", "Image",
                            multiple=8, square_from_int=True),
    "seed": SeedField("A fixed seed for every image; \"sample\" (or none): each sample's own seed", "Seed", "Image"),
    "dtype": ChoiceField(DType, "Weight precision; auto: float16 on cuda/mps, float32 on cpu", "Precision",
                         "Device"),
    "device": DeviceField(doc="auto: cuda, then mps, then cpu", label="Device", group="Device"),
    "attention_slicing": BoolField("Slice attention to save memory", "Attention slicing", "Device"),
    "vae_tiling": BoolField("Decode the image in tiles to save memory", "VAE tiling", "Device"),
    "cpu_offload": BoolField("Keep models on the CPU until used (needs accelerate)", "CPU offload", "Device"),
    "prompt_template": TemplateField(max_length=MAX_TEMPLATE_LENGTH, doc="Empty: the paper's template",
                                     label="Prompt", group="Prompt"),
    "negative_template": TemplateField(max_length=MAX_TEMPLATE_LENGTH, doc="Empty: the default negative prompt",
                                       label="Negative", group="Prompt"),
    "batch_size": IntField(1, 64, "Images per pipeline call in the batch stage", "Batch size", "Device"),
})
assert list(SETTING_FIELDS) == [f.name for f in dataclasses.fields(DiffusionSettings)], "one field per setting"
