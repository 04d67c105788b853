"""Where hair grows on the skin: per-point weights 0..1 of the scalp, the beard and the eyebrows (pure numpy).

Regions are drawn in head-centred coordinates from the body's own landmarks (HeadFrame), so they follow every
identity's shape; the hm08 topology never changes, so they land on the same skin for everyone.
"""

from __future__ import annotations

import numpy as np

from .head import Array, HeadFrame, smoothstep


def hairline(a: Array) -> Array:
    """Elevation (radians, about the head centre) of the natural hairline per azimuth: high on the forehead,
    receding at the temples, down the sideburns, over the ears and low at the nape."""
    deg = np.degrees(np.abs(a))
    return np.radians(np.interp(deg, [0, 25, 42, 55, 64, 70, 77, 82, 88, 100, 112, 125, 145, 180],
                                [21, 20, 15, 9, 2, -14, -18, -6, 4, 4, -8, -28, -42, -48]))


def scalp(frame: HeadFrame, p: Array, soft_deg: float = 2.5) -> Array:
    e, a, _ = frame.spherical(p)
    line = hairline(a)
    return smoothstep(line - np.radians(soft_deg), line + np.radians(soft_deg), e)


def face_coords(frame: HeadFrame, p: Array) -> tuple[Array, Array, Array]:
    """Face coordinates in eye gaps: x across (0 mid), z up from the eyes, depth y toward the back from the eyes."""
    d = (p - frame.eye_mid) / frame.eye_gap
    return d[:, 0], d[:, 2], d[:, 1]


def beard(frame: HeadFrame, p: Array) -> Array:
    """Cheeks below the cheekbones, jaw, chin, under the chin and the moustache; the lips left free."""
    x, z, y = face_coords(frame, p)
    g = frame.eye_gap
    ax = np.abs(x)
    mouth = (frame.mouth[2] - frame.eye_z) / g
    mouth_w = frame.mouth_half_width / g
    nose = (frame.nose_base_z - frame.eye_z) / g
    chin = (frame.chin_z - frame.eye_z) / g
    # upper edge: from the nose wing along the cheek to the sideburn in front of the ear
    top = np.interp(ax, [0.0, 0.30, 0.45, 0.8, 1.15, 1.35], [nose - 0.04, nose - 0.04, nose + 0.05, nose + 0.35,
                                                                 -0.25, -0.2])  # sideburns to the ear's middle
    upper = smoothstep(top + 0.05, top - 0.05, z)
    front = smoothstep(1.55, 1.2, y) * smoothstep(1.48, 1.30, ax)  # ahead of the ears
    neck = smoothstep(chin - 0.3, chin - 0.1, z)  # the underside of the jaw, not the throat
    lips = ((x / (mouth_w + 0.08)) ** 2 + ((z - mouth) / 0.2) ** 2) < 1.0
    nostrils = (ax < 0.42) & (z > nose - 0.07)
    return upper * front * neck * ~lips * ~nostrils


def brow(frame: HeadFrame, p: Array, side: float) -> tuple[Array, Array]:
    """Weight of one eyebrow (side +1 = subject's left, +X) and the position along it (0 inner .. 1 outer)."""
    x, z, y = face_coords(frame, p)
    u = (side * x - 0.2) / 0.74  # the tail ends ~5.5 cm from the mid-line, inside the temples
    centre = 0.30 + 0.09 * np.sin(np.pi * np.clip(u, 0, 1) * 0.85) - 0.05 * np.clip(u, 0, 1)
    half = 0.10 - 0.055 * np.clip(u, 0, 1)
    w = smoothstep(half, half * 0.6, np.abs(z - centre)) * smoothstep(-0.05, 0.05, u) * smoothstep(1.05, 0.95, u)
    return w * (y < 0.35), np.clip(u, 0, 1)
