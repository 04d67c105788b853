"""The paper's three augmentation regimes as torchvision v2 transforms applied jointly to an image and its mask.

torchvision v2 dispatches on the tensor type: a ``tv_tensors.Mask`` is resized with nearest neighbour, cropped and
flipped exactly like its ``tv_tensors.Image``, and passed through unchanged by the colour jitter, the dtype
conversion and the normalisation. Every regime first resizes to the model's square input size.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # the encoders' pretraining statistics (smp and timm use the same)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Regime(StrEnum):
    """The three regimes of the paper's Figure 7."""

    NONE = "none"  # "No Aug"
    GEOMETRIC = "geometric"  # "No Jitter": random resize, crop and horizontal flip
    ALL = "all"  # "All Augs": geometric + random brightness and hue


PAPER_NAMES: dict[Regime, str] = {Regime.NONE: "No Aug", Regime.GEOMETRIC: "No Jitter", Regime.ALL: "All Augs"}


@dataclass(frozen=True)
class AugmentSettings:
    """Strengths of the random operations (the paper does not give them; these are common segmentation values)."""

    max_scale: float = 1.5  # random resize of the square image to size .. size * max_scale, then a random crop
    flip_p: float = 0.5
    brightness: float = 0.4  # factor drawn from [1 - b, 1 + b]
    hue: float = 0.1  # hue shift drawn from [-h, h] (fraction of the colour circle)


def build_transform(regime: Regime | str, size: int, settings: AugmentSettings = AugmentSettings()):
    """The joint transform of one regime: call it as ``transform(tv_tensors.Image, tv_tensors.Mask)``."""
    import torch
    from torchvision import tv_tensors
    from torchvision.transforms import v2

    regime = Regime(regime)
    steps: list = [v2.Resize((size, size), antialias=True)]
    if regime in (Regime.GEOMETRIC, Regime.ALL):
        steps += [v2.RandomResize(size, max(size + 1, round(size * settings.max_scale) + 1), antialias=True),
                  v2.RandomCrop(size),
                  v2.RandomHorizontalFlip(settings.flip_p)]
    if regime is Regime.ALL:
        steps.append(v2.ColorJitter(brightness=settings.brightness, hue=settings.hue))
    steps += [v2.ToDtype({tv_tensors.Image: torch.float32, "others": None}, scale=True),
              v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    return v2.Compose(steps)


def apply_joint(transform, image, label: np.ndarray, seed: int | None = None):
    """(float image CxHxW, int64 mask HxW) from a PIL image and a uint8 label map; ``seed`` fixes the random draws
    without touching the global torch generator (so a resumed run draws the same augmentations)."""
    import torch
    from torchvision import tv_tensors
    from torchvision.transforms.v2 import functional as F

    img = tv_tensors.Image(F.pil_to_tensor(image.convert("RGB")))
    mask = tv_tensors.Mask(torch.from_numpy(np.ascontiguousarray(label)))
    if seed is None:
        out_img, out_mask = transform(img, mask)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            out_img, out_mask = transform(img, mask)
    return out_img.as_subclass(torch.Tensor), out_mask.as_subclass(torch.Tensor).long()


def eval_transform(size: int):
    """The test-time image transform: resize to the model input and normalise (labels stay at full size)."""
    import torch
    from torchvision.transforms import v2

    return v2.Compose([v2.PILToTensor(), v2.Resize((size, size), antialias=True), v2.ToDtype(torch.float32, scale=True),
                       v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
