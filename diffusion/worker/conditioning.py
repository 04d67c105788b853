"""A sample folder read as diffusion inputs: prompt text, seed and the pass images a mode conditions on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..core import build_prompts, layout
from ..errors import DiffusionError
from ..modes import Condition, Mode
from ..settings import DiffusionSettings

_PASS_FILES = {p.name: p.filename for p in layout.PASSES}
# The palette is a grid of flat cells: nearest keeps the cells flat; the others are smooth images.
_RESAMPLE = {Condition.PALETTE: Image.Resampling.NEAREST}


@dataclass
class SampleInputs:
    """What one job feeds the pipeline."""

    sample_dir: Path
    sample_id: str
    seed: int
    factors: dict
    prompt: str
    negative_prompt: str
    images: dict[Condition, Image.Image] = field(default_factory=dict)  # at the output resolution, RGB
    files: dict[str, str] = field(default_factory=dict)  # condition -> file name read


def check_sample(sample_dir: Path, mode: Mode) -> None:
    """Raise DiffusionError naming the first missing file the mode needs (called before any model loads)."""
    if not (sample_dir / layout.SAMPLE_JSON).is_file():
        raise DiffusionError(
            f"sample folder '{sample_dir}' has no {layout.SAMPLE_JSON}; render the sample first (Render button or "
            "batch.py), then generate"
        )
    for condition in mode.conditions:
        if condition.pass_name and not (sample_dir / _PASS_FILES[condition.pass_name]).is_file():
            raise DiffusionError(
                f"mode '{mode.name}' needs {_PASS_FILES[condition.pass_name]} in '{sample_dir}', which is missing; "
                "render the sample again with all passes"
            )


def load_sample(sample_dir: Path, mode: Mode, settings: DiffusionSettings) -> SampleInputs:
    """The prompt, seed and resized condition images of one sample folder for one mode."""
    check_sample(sample_dir, mode)
    try:
        meta = json.loads((sample_dir / layout.SAMPLE_JSON).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DiffusionError(
            f"cannot read '{sample_dir / layout.SAMPLE_JSON}': {exc}; render the sample again"
        ) from None
    factors = meta.get("factors")
    if not isinstance(factors, dict):
        raise DiffusionError(f"'{sample_dir / layout.SAMPLE_JSON}' has no 'factors' object; render the sample again")
    sample_seed = meta.get("seed", 0)
    seed = settings.seed if settings.seed is not None else int(sample_seed)
    prompt, negative = build_prompts(factors, settings.prompt_template, settings.negative_template)
    inputs = SampleInputs(sample_dir, str(meta.get("id", sample_dir.name)), seed, factors, prompt, negative)
    for condition in mode.conditions:
        if condition.pass_name is None:
            continue
        name = _PASS_FILES[condition.pass_name]
        with Image.open(sample_dir / name) as image:
            rgb = image.convert("RGB")
        resample = _RESAMPLE.get(condition, Image.Resampling.BICUBIC)
        inputs.images[condition] = rgb.resize(settings.resolution, resample) if rgb.size != settings.resolution else rgb
        inputs.files[condition.value] = name
    return inputs


def batch_tensor(images: list[Image.Image]) -> torch.Tensor:
    """Images as one float batch (B, 3, H, W) in 0..1, the form ControlNet and adapter inputs take."""
    array = np.stack([np.asarray(im, dtype=np.float32) / 255.0 for im in images])
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()
