"""Shape-key warp fields of the built-in human: smooth displacement fields over world space, one per key.

Every face and body object gets the same fields as shape keys, so features seated on the head (eyes, lids, brows,
nose, lips, ears, beard, hair, clothes) follow it when gender, age or race change its shape. Pure numpy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import anatomy as A

Array = np.ndarray


def smoothstep(edge0: float, edge1: float, x: Array) -> Array:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def gauss(x: Array, sigma: float) -> Array:
    return np.exp(-0.5 * (x / sigma) ** 2)


def _front(p: Array) -> Array:
    """1 on the face side of the head (y < 0), fading to 0 behind the ears."""
    return smoothstep(0.01, -0.05, p[:, 1])


def _head_zone(p: Array) -> Array:
    """1 on and around the head, 0 on the torso (so body warps and face warps do not mix)."""
    return smoothstep(-0.16, -0.10, p[:, 2])


def female(p: Array) -> Array:
    """Narrower jaw and chin, softer brow, slimmer neck, narrower shoulders."""
    x, y, z = p[:, 0].copy(), p[:, 1].copy(), p[:, 2].copy()
    head = _head_zone(p)
    lower = smoothstep(-0.01, A.CHIN_Z, z) * head
    x *= 1.0 - 0.14 * lower
    chin = gauss(x, 0.03) * gauss(z - (A.CHIN_Z + 0.015), 0.02) * _front(p)
    y += 0.004 * chin
    z += 0.006 * chin
    cheeks = gauss(np.abs(x) - 0.045, 0.015) * gauss(z + 0.02, 0.015) * _front(p)
    y -= 0.003 * cheeks  # rounder, fuller cheeks
    brow = gauss(z - A.BROW_Z, 0.01) * gauss(np.abs(x) - A.EYE_X, 0.02) * _front(p)
    y += 0.003 * brow
    # slimmer, higher-arched brows; a smaller nose; fuller lips
    brows = gauss(z - A.BROW_Z, 0.006) * gauss(np.abs(x) - A.EYE_X, 0.025) * _front(p)
    z = z + ((A.BROW_Z + 0.002) - z) * 0.35 * brows + 0.002 * brows
    nx, ny = _nose_scale(np.stack([x, y, z], -1), 0.82, 0.85)
    x, y = np.where(head > 0.5, nx, x), np.where(head > 0.5, ny, y)
    z, y = _lips_scale(np.stack([x, y, z], -1), 1.3, 0.0015)
    neck = smoothstep(-0.09, -0.12, z) * smoothstep(-0.2, -0.15, z) * (np.hypot(x, y - A.NECK_Y) < 0.075)
    x *= 1.0 - 0.13 * neck
    y = A.NECK_Y + (y - A.NECK_Y) * (1.0 - 0.08 * neck)
    body = smoothstep(-0.13, -0.18, z)
    x *= 1.0 - 0.16 * body * smoothstep(0.04, 0.14, np.abs(x))
    return np.stack([x, y, z], axis=-1)


def old(p: Array) -> Array:
    """Jowls and lower cheeks sag, lips thin, nose and ears lengthen, cheeks hollow."""
    x, y, z = p[:, 0].copy(), p[:, 1].copy(), p[:, 2].copy()
    front = _front(p)
    jowl = gauss(np.abs(x) - 0.045, 0.02) * gauss(z - (A.MOUTH_Z - 0.02), 0.025) * front
    z -= 0.009 * jowl
    x += np.sign(x) * 0.004 * jowl
    hollow = gauss(np.abs(x) - 0.05, 0.015) * gauss(z + 0.02, 0.015) * front
    y += 0.003 * hollow
    lips = gauss(x, 0.03) * gauss(z - A.MOUTH_Z, 0.008) * front
    z = z + (A.MOUTH_Z - z) * 0.25 * lips
    nose = gauss(x, 0.02) * gauss(z - A.NOSE_TIP_Z, 0.012) * front
    z -= 0.005 * nose
    bags = gauss(np.abs(x) - A.EYE_X, 0.01) * gauss(z - (A.EYE_Z - 0.016), 0.005) * front
    y -= 0.002 * bags
    ear = gauss(np.abs(x) - A.HEAD_RADII[0], 0.02) * gauss(z - A.EAR_Z, 0.04) * (1 - front)
    z = A.EAR_Z + (z - A.EAR_Z) * (1 + 0.18 * ear)
    return np.stack([x, y, z], axis=-1)


def _nose_scale(p: Array, width: float, depth: float) -> tuple[Array, Array]:
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    w = gauss(x, 0.03) * gauss(z - (A.NOSE_TIP_Z + 0.006), 0.014) * _front(p)
    low = smoothstep(A.NOSE_ROOT_Z, A.NOSE_TIP_Z, z)
    nx = x * (1.0 + (width - 1.0) * w * low)
    face_y = -0.095
    ny = np.where(y < face_y, face_y + (y - face_y) * (1.0 + (depth - 1.0) * w), y)
    return nx, ny


def _lips_scale(p: Array, fullness: float, forward: float) -> tuple[Array, Array]:
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    w = gauss(x, 0.035) * gauss(z - A.MOUTH_Z, 0.012) * _front(p)
    nz = A.MOUTH_Z + (z - A.MOUTH_Z) * (1.0 + (fullness - 1.0) * w)
    ny = y - forward * w
    return nz, ny


def asian(p: Array) -> Array:
    """Lower nose bridge, wider cheekbones, lids set lower over the eyes."""
    x, y, z = p[:, 0].copy(), p[:, 1].copy(), p[:, 2].copy()
    bridge = gauss(x, 0.012) * smoothstep(-0.025, 0.0, z) * gauss(z - 0.0, 0.03) * _front(p)
    y += 0.004 * bridge * (y < -0.09)
    cheek = gauss(z + 0.015, 0.02) * _head_zone(p) * _front(p)
    x *= 1.0 + 0.05 * cheek
    lid = gauss(np.abs(x) - A.EYE_X, 0.012) * gauss(z - (A.EYE_Z + 0.008), 0.005) * _front(p)
    z -= 0.003 * lid
    return np.stack([x, y, z], axis=-1)


def african(p: Array) -> Array:
    """Wider, flatter nose, fuller lips set slightly forward."""
    x, y, z = p[:, 0].copy(), p[:, 1].copy(), p[:, 2].copy()
    x, y = _nose_scale(np.stack([x, y, z], -1), 1.45, 0.85)
    z, y = _lips_scale(np.stack([x, y, z], -1), 1.45, 0.003)
    return np.stack([x, y, z], axis=-1)


def hispanic(p: Array) -> Array:
    """Slightly wider nose and cheekbones, a little fuller lips."""
    x, y, z = p[:, 0].copy(), p[:, 1].copy(), p[:, 2].copy()
    x, y = _nose_scale(np.stack([x, y, z], -1), 1.18, 0.95)
    z, y = _lips_scale(np.stack([x, y, z], -1), 1.15, 0.001)
    cheek = gauss(z + 0.015, 0.02) * _head_zone(np.stack([x, y, z], -1))
    x *= 1.0 + 0.025 * cheek
    return np.stack([x, y, z], axis=-1)


# shape-key name -> warp; the binding file names these keys
WARPS: dict[str, Callable[[Array], Array]] = {
    "gender_female": female,
    "age_old": old,
    "race_asian": asian,
    "race_african": african,
    "race_hispanic": hispanic,
}
