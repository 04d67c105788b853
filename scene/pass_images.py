"""The dataset's pass images from raw render passes: pure numpy (no bpy), one small function per file.

Conventions (see docs/passes.md):

- ``depth.png``: the ControlNet depth convention (MiDaS-like): inverse depth, normalised over the subject (pixels
  that parts other than the background cover, or every surface when there are none) to ``DEPTH_PNG_RANGE``, near
  bright; everything else is black.
- ``normal.png``: camera-space normals in the ControlNet 1.1 NormalBAE convention (lllyasviel/ControlNet-v1-1-nightly
  README: "blue is front, red is left, green is top", NYU-V2 visualisation): R = (1 - x) / 2, G = (1 + y) / 2,
  B = (1 + z) / 2 with Blender camera axes (x right, y up, z toward the viewer). A surface facing the camera is
  (128, 128, 255), one facing the image's left (255, 128, 128), one facing up (128, 255, 128). Pixels with no
  surface get ``NORMAL_BACKGROUND`` (a backdrop facing the camera); partly covered edge pixels blend towards it.
- ``masks/<part>.png`` and ``label.png`` come from the Cryptomatte coverage of each part (``scene.coverage``).
- ``palette.png``: the rgb image averaged over a coarse grid (``palette_cells`` along the short side), upsampled
  with nearest neighbour to full size.
"""

from __future__ import annotations

import numpy as np

NORMAL_BACKGROUND = (0.0, 0.0, 1.0)  # camera-space normal for pixels with no surface: a backdrop facing the camera
DEPTH_PNG_RANGE = (0.2, 1.0)  # farthest and nearest subject pixel in depth.png (0 stays for the background)


def depth_png(depth: np.ndarray, subject: np.ndarray) -> np.ndarray:
    """ControlNet depth (uint8): inverse depth normalised over the ``subject`` pixels (boolean), near bright, the
    rest black."""
    finite = np.isfinite(depth) & (depth > 0)
    subject = finite & subject
    if not subject.any():
        subject = finite
    out = np.zeros(depth.shape, np.uint8)
    if not subject.any():
        return out
    inverse = 1.0 / depth[subject].astype(np.float64)
    lo, hi = inverse.min(), inverse.max()
    unit = (inverse - lo) / (hi - lo) if hi > lo else np.ones_like(inverse)
    far, near = DEPTH_PNG_RANGE
    out[subject] = np.rint(255.0 * (far + (near - far) * unit)).astype(np.uint8)
    return out


def camera_space_normals(normal_world: np.ndarray, camera_to_world: np.ndarray) -> np.ndarray:
    """World-space normals rotated into Blender camera axes (x right, y up, z toward the viewer)."""
    rotation = camera_to_world[:3, :3]
    rotation = rotation / np.linalg.norm(rotation, axis=0, keepdims=True)  # drop any camera scale
    return normal_world @ rotation  # row vectors: n_cam = R^T n_world


def normal_png(normal_camera: np.ndarray) -> np.ndarray:
    """NormalBAE-convention normal map (uint8 RGB): red left, green up, blue toward the viewer."""
    length = np.linalg.norm(normal_camera, axis=-1, keepdims=True)
    coverage = np.clip(length, 0.0, 1.0)
    blended = normal_camera + (1.0 - coverage) * np.asarray(NORMAL_BACKGROUND, np.float32)
    blended /= np.maximum(np.linalg.norm(blended, axis=-1, keepdims=True), 1e-6)
    x, y, z = blended[..., 0], blended[..., 1], blended[..., 2]
    encoded = np.stack(((1.0 - x) * 0.5, (1.0 + y) * 0.5, (1.0 + z) * 0.5), axis=-1)
    return np.rint(np.clip(encoded, 0.0, 1.0) * 255.0).astype(np.uint8)


def palette_image(rgb: np.ndarray, cells: int) -> np.ndarray:
    """The spatial palette: mean colour of each coarse cell (``cells`` along the short side), upsampled nearest."""
    height, width = rgb.shape[:2]
    cell = max(1.0, min(height, width) / max(1, cells))
    grid_h, grid_w = max(1, round(height / cell)), max(1, round(width / cell))
    rows = np.minimum(np.arange(height) * grid_h // height, grid_h - 1)  # the cell row of each pixel row
    cols = np.minimum(np.arange(width) * grid_w // width, grid_w - 1)
    cell_of_pixel = rows[:, None] * grid_w + cols[None, :]
    sums = np.zeros((grid_h * grid_w, 3), np.float64)
    np.add.at(sums, cell_of_pixel.ravel(), rgb.reshape(-1, 3).astype(np.float64))
    counts = np.bincount(cell_of_pixel.ravel(), minlength=grid_h * grid_w)[:, None]
    means = np.rint(sums / counts).astype(np.uint8)
    return means[cell_of_pixel]
