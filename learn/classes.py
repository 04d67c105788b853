"""The seven BLURD Mask classes as the segmentation model sees them (the ids of ``label.png``).

The ids come from ``factors.parts.Label``; ``IGNORE`` marks pixels that count for neither the loss nor the IoU
(CelebAMask-HQ accessories BLURD never renders, see ``celeba.REMAP``).
"""

from __future__ import annotations

from ..factors.parts import Label

CLASSES: tuple[Label, ...] = tuple(sorted(Label, key=int))
CLASS_NAMES: tuple[str, ...] = tuple(label.name.lower() for label in CLASSES)
NUM_CLASSES = len(CLASSES)
IGNORE = 255  # label value excluded from the loss and the confusion matrix

# One colour per class for figures (RGB 0..255); ignored pixels are drawn white.
CLASS_COLOURS: dict[int, tuple[int, int, int]] = {
    Label.BACKGROUND: (0, 0, 0),
    Label.SKIN: (230, 180, 140),
    Label.EYES: (40, 120, 255),
    Label.EYEBROWS: (120, 60, 20),
    Label.LIPS: (220, 30, 60),
    Label.HAIR: (250, 220, 40),
    Label.CLOTH: (40, 170, 90),
}
IGNORE_COLOUR = (255, 255, 255)
