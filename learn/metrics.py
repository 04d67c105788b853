"""Segmentation scores from a confusion matrix (numpy only): per-class IoU and their mean.

IoU of class c = TP / (TP + FP + FN) over all test pixels together (not averaged per image). A class that appears
in neither the labels nor the predictions has no IoU (None) and is left out of the mean. Pixels labelled IGNORE
count nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .classes import CLASS_NAMES, IGNORE, NUM_CLASSES


def confusion_matrix(pred: np.ndarray, target: np.ndarray, num_classes: int = NUM_CLASSES,
                     ignore: int = IGNORE) -> np.ndarray:
    """counts[true, predicted] over the pixels whose target is not ``ignore``."""
    pred = np.asarray(pred).reshape(-1).astype(np.int64)
    target = np.asarray(target).reshape(-1).astype(np.int64)
    if pred.shape != target.shape:
        raise ValueError(f"prediction has {pred.size} pixels, target {target.size}")
    keep = target != ignore
    return np.bincount(target[keep] * num_classes + pred[keep],
                       minlength=num_classes * num_classes).reshape(num_classes, num_classes)


@dataclass(frozen=True)
class SegmentationScores:
    """Per-class IoU (None where the class is absent from labels and predictions), the mean, pixel accuracy."""

    iou: dict[str, float | None]
    miou: float | None
    pixel_accuracy: float | None
    pixels: int

    def to_dict(self) -> dict:
        return {"iou": self.iou, "miou": self.miou, "pixel_accuracy": self.pixel_accuracy, "pixels": self.pixels}


def scores(confusion: np.ndarray, names: tuple[str, ...] = CLASS_NAMES) -> SegmentationScores:
    confusion = np.asarray(confusion, dtype=np.int64)
    tp = np.diag(confusion)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - tp
    iou = {name: (float(tp[c] / union[c]) if union[c] else None) for c, name in enumerate(names)}
    present = [v for v in iou.values() if v is not None]
    total = int(confusion.sum())
    return SegmentationScores(iou, float(np.mean(present)) if present else None,
                              float(tp.sum() / total) if total else None, total)
