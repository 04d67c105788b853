"""Scoring a trained U-Net on a test set: images resized to the model's input, logits resized back to each label
map's own resolution (bilinear), argmax, one confusion matrix over all pixels."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .augment import eval_transform
from .metrics import SegmentationScores, confusion_matrix, scores
from .pairs import EvalSet


def evaluate(model, evalset: EvalSet, size: int, device: str = "cpu", batch_size: int = 8,
             progress: Callable[..., object] | None = None) -> tuple[SegmentationScores, np.ndarray]:
    """(scores, confusion matrix) of ``model`` on every image of ``evalset``."""
    import torch
    from PIL import Image
    from torch.nn import functional as F

    transform = eval_transform(size)
    items = list(evalset.items)
    classes = model.segmentation_head[0].out_channels
    confusion = np.zeros((classes, classes), dtype=np.int64)
    bar = progress(total=len(items), desc=f"test {evalset.name}") if progress else None
    model.eval()
    with torch.inference_mode():
        for first in range(0, len(items), batch_size):
            chunk = items[first:first + batch_size]
            images = []
            for item in chunk:
                with Image.open(item.image) as image:
                    images.append(transform(image.convert("RGB")))
            logits = model(torch.stack(images).to(device))
            for item, item_logits in zip(chunk, logits):
                label = item.label()
                full = F.interpolate(item_logits[None].float(), size=label.shape, mode="bilinear", align_corners=False)
                confusion += confusion_matrix(full[0].argmax(0).cpu().numpy(), label, classes)
            if bar is not None:
                bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return scores(confusion), confusion
