"""A sample folder read as diffusion inputs: prompt text, seed and the pass images a mode conditions on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ...dataset import layout
from ...dataset.errors import DatasetError
from ...dataset.record import read_record
from ..core import build_prompts
from ..errors import DiffusionError
from ..modes import Condition, Mode
from ..settings import DiffusionSettings

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
        if condition.pass_name and not (sample_dir / layout.pass_filename(condition.pass_name)).is_file():
            raise DiffusionError(
                f"mode '{mode.name}' needs {layout.pass_filename(condition.pass_name)} in '{sample_dir}', which is "
                "missing; render the sample again with all passes"
            )


def read_image(path: Path) -> Image.Image:
    """An image file as RGB; DiffusionError naming the file when it is truncated, not an image or too large."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DiffusionError(f"cannot read the image '{path}' ({type(exc).__name__}: {exc}); render the sample "
                             "again") from None


def load_sample(sample_dir: Path, mode: Mode, settings: DiffusionSettings) -> SampleInputs:
    """The prompt, seed and resized condition images of one sample folder for one mode."""
    check_sample(sample_dir, mode)
    try:
        record = read_record(sample_dir)
    except DatasetError as exc:
        raise DiffusionError(str(exc)) from None
    seed = settings.seed if settings.seed is not None else record.seed
    if seed is None:
        raise DiffusionError(f"'{sample_dir / layout.SAMPLE_JSON}' has no 'seed'; render the sample again or set "
                             "a seed in the diffusion settings")
    prompt, negative = build_prompts(record.factors, settings.prompt_template, settings.negative_template)
    inputs = SampleInputs(sample_dir, record.id, seed, record.factors, prompt, negative)
    for condition in mode.conditions:
        if condition.pass_name is None:
            continue
        name = layout.pass_filename(condition.pass_name)
        rgb = read_image(sample_dir / name)
        resample = _RESAMPLE.get(condition, Image.Resampling.BICUBIC)
        inputs.images[condition] = rgb.resize(settings.resolution, resample) if rgb.size != settings.resolution else rgb
        inputs.files[condition.value] = name
    return inputs


def batch_tensor(images: list[Image.Image]) -> torch.Tensor:
    """Images as one float batch (B, 3, H, W) in 0..1, the form ControlNet and adapter inputs take."""
    array = np.stack([np.asarray(im, dtype=np.float32) / 255.0 for im in images])
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()
