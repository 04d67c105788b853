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
from typing import Any

from .core import BlurdError, PresetError, check_template


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

        Raises PresetError(source, key, problem, fix) for an unknown key, a wrong type or an out-of-range value.
        """
        if not isinstance(data, Mapping):
            raise PresetError(source, "diffusion", f"expected a table, got {type(data).__name__}", "write [diffusion]")
        known = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in data.items():
            if key not in known:
                raise PresetError(
                    source, f"diffusion.{key}", "unknown key", f"use one of: {', '.join(sorted(known))}"
                )
            values[key] = _CHECKS[key](source, f"diffusion.{key}", raw)
        return cls(**values)

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


# ---- validation of single values: each returns the canonical value or raises PresetError ----


def _kind(value: Any) -> str:
    return type(value).__name__


def _model(source: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PresetError(
            source, key, f"expected a model (hub id or path), got {value!r}",
            "write a hub id like \"org/name\", a diffusers folder or a .safetensors file",
        )
    return value.strip()


def _optional_text(source: str, key: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PresetError(source, key, f"expected text, got {_kind(value)}", "write a quoted string")
    return value


def _prompt_template(source: str, key: str, value: Any) -> str | None:
    """A prompt template whose {fields} factors.prompt knows (checked there)."""
    text = _optional_text(source, key, value)
    if text is not None:
        try:
            check_template(text, key)
        except BlurdError as exc:
            raise PresetError(source, key, str(exc)) from None
    return text


def _int_range(lo: int, hi: int, allow_none: bool = False):
    def check(source: str, key: str, value: Any) -> int | None:
        if allow_none and (value is None or value == "sample"):
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            extra = ' or "sample" (the sample\'s own seed)' if allow_none else ""
            raise PresetError(source, key, f"expected a whole number, got {value!r}", f"write an integer{extra}")
        if not lo <= value <= hi:
            raise PresetError(source, key, f"{value} is out of range", f"use a value from {lo} to {hi}")
        return value

    return check


def _float_range(lo: float, hi: float):
    def check(source: str, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PresetError(source, key, f"expected a number, got {value!r}", f"write a number from {lo} to {hi}")
        if not lo <= float(value) <= hi:
            raise PresetError(source, key, f"{value} is out of range", f"use a value from {lo} to {hi}")
        return float(value)

    return check


def _bool(source: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise PresetError(source, key, f"expected true or false, got {value!r}", "write true or false")
    return value


def _enum(enum_type: type[Enum]):
    def check(source: str, key: str, value: Any) -> Enum:
        try:
            return enum_type(value.value if isinstance(value, Enum) else value)
        except ValueError:
            choices = ", ".join(str(e.value) for e in enum_type)  # type: ignore[attr-defined]
            raise PresetError(source, key, f"unknown value {value!r}", f"use one of: {choices}") from None

    return check


def _device(source: str, key: str, value: Any) -> str:
    if isinstance(value, str):
        base = value.split(":", 1)[0]
        if base in DEVICES and (":" not in value or (base == "cuda" and value.split(":", 1)[1].isdigit())):
            return value
    raise PresetError(source, key, f"unknown device {value!r}", f"use one of: {', '.join(DEVICES)} (or cuda:N)")


def _resolution(source: str, key: str, value: Any) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise PresetError(source, key, f"expected [width, height], got {value!r}", "write e.g. [512, 512]")
    for side in value:
        if isinstance(side, bool) or not isinstance(side, int):
            raise PresetError(source, key, f"expected whole numbers, got {value!r}", "write e.g. [512, 512]")
        if not 32 <= side <= 4096 or side % 8:
            raise PresetError(
                source, key, f"{side} is not a usable size", "use multiples of 8 from 32 to 4096 (e.g. 512)"
            )
    return (int(value[0]), int(value[1]))


_CHECKS = {
    "base_model": _model,
    "depth_controlnet": _model,
    "normal_controlnet": _model,
    "colour_conditioner": _enum(ColourConditioner),
    "colour_model": _model,
    "scheduler": _enum(Scheduler),
    "steps": _int_range(1, 1000),
    "guidance": _float_range(0.0, 50.0),
    "strength": _float_range(0.01, 1.0),
    "depth_scale": _float_range(0.0, 5.0),
    "normal_scale": _float_range(0.0, 5.0),
    "colour_scale": _float_range(0.0, 5.0),
    "resolution": _resolution,
    "seed": _int_range(0, 2**32 - 1, allow_none=True),
    "dtype": _enum(DType),
    "device": _device,
    "attention_slicing": _bool,
    "vae_tiling": _bool,
    "cpu_offload": _bool,
    "prompt_template": _prompt_template,
    "negative_template": _optional_text,
    "batch_size": _int_range(1, 64),
}
assert set(_CHECKS) == {f.name for f in dataclasses.fields(DiffusionSettings)}, "every setting needs a check"
