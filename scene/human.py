"""Geometry of the built-in human: a sculpted head with eyes, lids, brows, nose, lips and ears, a neck, and a torso
in a shirt with collar and tie. Every shape is a formula over numpy arrays (no assets, no randomness).

Each builder returns (verts, faces) in world space; ``scene.builder`` turns them into objects, materials and keys.
"""

from __future__ import annotations

import numpy as np

from . import anatomy as A
from .meshes import Array, Surface, direction, ellipsoid, grid_faces, join_parts, sphere_grid
from .warps import gauss, smoothstep

Mesh = tuple[Array, Array]


def head() -> Mesh:
    """The skull ellipsoid sculpted into a face: tapered jaw, forward chin and mouth, eye sockets, brow ridge."""
    el, az, faces = sphere_grid(48, 64)
    p = direction(el, az) * np.asarray(A.HEAD_RADII)
    x, y, z = p[:, 0].copy(), p[:, 1].copy(), p[:, 2].copy()
    lower = smoothstep(0.0, A.CHIN_Z, z)
    x *= 1.0 - 0.13 * lower**1.3
    y = np.where(y < 0, y * (1.0 + 0.22 * lower), y * (1.0 - 0.55 * lower)) - 0.026 * lower**1.2
    z = np.where(z < 0, z * (1.0 + 0.05 * lower), z)
    forehead = smoothstep(0.03, 0.11, z)
    y = np.where(y < 0, y * (1.0 - 0.10 * forehead), y)
    front = smoothstep(0.0, -0.05, y)
    for sx in (-1.0, 1.0):
        socket = gauss(x - sx * A.EYE_X, 0.014) * gauss(z - A.EYE_Z, 0.010) * front
        y += 0.013 * socket
        cheekbone = gauss(x - sx * 0.052, 0.014) * gauss(z + 0.012, 0.014) * front
        x += sx * 0.004 * cheekbone
        y -= 0.003 * cheekbone
    jaw = gauss(z - (A.CHIN_Z + 0.035), 0.022) * smoothstep(0.02, 0.05, np.abs(x)) * smoothstep(0.03, -0.02, y)
    x += np.sign(x) * 0.007 * jaw  # a squarer jaw angle
    brow = gauss(z - (A.BROW_Z + 0.004), 0.008) * gauss(x, 0.045) * front
    y -= 0.0035 * brow
    muzzle = gauss(x, 0.026) * gauss(z - A.MOUTH_Z, 0.02) * front
    y -= 0.005 * muzzle
    chin = gauss(x, 0.018) * gauss(z - (A.CHIN_Z + 0.018), 0.012) * front
    y -= 0.005 * chin
    philtrum = gauss(x, 0.006) * gauss(z - (A.MOUTH_Z + 0.014), 0.006) * front
    y += 0.0012 * philtrum
    return np.stack([x, y, z], axis=-1), faces


def eyeball(side: float) -> tuple[Mesh, Array]:
    """An eyeball mesh and its centre (materials paint the iris around the object's -Y axis)."""
    centre = np.array([side * A.EYE_X, 0.0, A.EYE_Z])
    centre[1] = _eye_centre_y()
    verts, faces = ellipsoid(centre, (A.EYE_RADIUS,) * 3, rows=20, cols=28)
    return (verts, faces), centre


def _eye_centre_y() -> float:
    """The eyeball sits so its front just clears the unsculpted face surface."""
    radii = np.asarray(A.HEAD_RADII)
    y_surface = -radii[1] * np.sqrt(max(0.0, 1.0 - (A.EYE_X / radii[0]) ** 2 - (A.EYE_Z / radii[2]) ** 2))
    return float(y_surface + A.EYE_RADIUS - 0.0105)


def eyelids(side: float, centre: Array) -> tuple[Mesh, Array]:
    """Upper and lower lids as partial shells around the eyeball, plus a 0..1 'margin' attribute (1 at lid edge).

    The material paints eyeshadow on the upper lid and eyeliner where the margin is high.
    """
    r = A.EYE_RADIUS * 1.10
    parts, margins = [], []
    # upper lid: from the brow down to the lash line, which droops at the outer corner
    for top, bottom, upper in ((np.radians(75), np.radians(19), True), (np.radians(-24), np.radians(-70), False)):
        el = np.linspace(top, bottom, 8)
        az = np.linspace(np.radians(-80), np.radians(80), 17)
        e, a = np.meshgrid(el, az, indexing="ij")
        outer = np.clip(side * np.sin(a), 0, 1)  # toward the ear
        lash = bottom + (np.radians(-6) if upper else np.radians(4)) * outer
        e = top + (e - top) * (lash - top) / (bottom - top)
        d = direction(e.ravel(), a.ravel())
        verts = centre + d * r
        faces = grid_faces(8, 17, wrap=False)
        parts.append((verts, faces))
        margin = np.repeat(np.linspace(0, 1, 8), 17) if upper else np.repeat(np.linspace(1, 0, 8), 17) * 0.5
        margins.append(margin if upper else -margin)  # negative = lower lid (no eyeshadow)
    return join_parts(parts), np.concatenate(margins)


def eyebrow(side: float, skin: Surface) -> Mesh:
    """A tapered arc of hair seated on the brow ridge."""
    u = np.linspace(-1, 1, 14)
    v = np.linspace(-1, 1, 5)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    x = side * (A.EYE_X + 0.002 + uu * 0.021)
    inner = np.clip(-uu, 0, 1)
    z = A.BROW_Z + 0.004 * (1 - uu**2) - 0.002 * np.clip(uu, 0, 1) + vv * (0.0034 + 0.0012 * inner)
    xz = np.stack([x.ravel(), z.ravel()], -1)
    pts, nrm = skin.front(xz)
    bulge = (1 - vv.ravel() ** 2) * (1 - 0.6 * uu.ravel() ** 2)
    top = pts + nrm * (0.0008 + 0.0016 * bulge)[:, None]
    bottom = pts - nrm * 0.001
    n = len(top)
    faces_top = grid_faces(14, 5, wrap=False)
    faces_bottom = faces_top[:, ::-1] + n
    verts = np.concatenate([top, bottom])
    rim = _rim_faces(14, 5, n)
    return verts, np.concatenate([faces_top, faces_bottom, rim])


def _rim_faces(rows: int, cols: int, n: int) -> Array:
    """Quads joining the boundary of a top grid (0..n) to the same boundary of its copy (n..2n)."""
    ring = ([c for c in range(cols)] + [r * cols + cols - 1 for r in range(1, rows)]
            + [(rows - 1) * cols + c for c in range(cols - 2, -1, -1)] + [r * cols for r in range(rows - 2, 0, -1)])
    ring = np.array(ring)
    nxt = np.roll(ring, -1)
    return np.stack([ring, ring + n, nxt + n, nxt], -1)


def nose(skin: Surface) -> Mesh:
    """A ridge from the brow to a rounded tip, widening at the nostrils; its back sinks into the face."""
    el, az, faces = sphere_grid(22, 24)
    d = direction(el, az)
    t = (1.0 - d[:, 2]) / 2.0  # 0 at the root, 1 at the underside
    z = A.NOSE_ROOT_Z + (A.NOSE_TIP_Z - A.NOSE_ROOT_Z) * np.clip(t * 1.12, 0, 1)
    half_width = 0.0055 + 0.0110 * t**2.0
    x = d[:, 0] * half_width
    base, _ = skin.front(np.stack([np.zeros_like(z), z], -1))
    height = 0.004 + 0.024 * t**1.2 * (1 - 0.5 * smoothstep(0.85, 1.0, t))
    fwd = np.clip(-d[:, 1], 0, None)
    y = base[:, 1] + 0.006 - (0.006 + height) * fwd**0.8 + 0.004 * np.clip(d[:, 1], 0, None)
    ridge = np.stack([x, y, z], -1)
    return ridge, faces


def lips(skin: Surface) -> Mesh:
    """Upper and lower lip as tapered tubes following the face's curve, with a cupid's bow."""
    parts = []
    for upper in (True, False):
        u = np.linspace(-1, 1, 24)
        a = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        uu, aa = np.meshgrid(u, a, indexing="ij")
        x = uu * A.MOUTH_HALF_WIDTH
        taper = np.sqrt(np.clip(1 - uu**2, 0, 1)) * 0.6 + 0.4
        centre_z = A.MOUTH_Z + (0.0045 if upper else -0.0058) * taper - (0.0012 * np.exp(-(uu / 0.25) ** 2)
                                                                           if upper else 0)
        rz = (0.0040 if upper else 0.0050) * taper
        ry = 0.0038 * taper
        base, _ = skin.front(np.stack([x.ravel(), centre_z.ravel()], -1))
        cy = base[:, 1].reshape(x.shape) + 0.0015
        verts = np.stack([x, cy - ry * np.cos(aa), centre_z + rz * np.sin(aa)], -1)
        parts.append((verts.reshape(-1, 3), grid_faces(24, 16, wrap=True)))
    return join_parts(parts)


def ear(side: float) -> Mesh:
    """A flattened, cupped ellipsoid on the side of the head, leaning back."""
    el, az, faces = sphere_grid(16, 24)
    d = direction(el, az)
    ry, rz = 0.014, 0.028
    x = d[:, 0] * 0.0055
    y, z = d[:, 1] * ry, d[:, 2] * rz
    bowl = 1 - (d[:, 1] ** 2 + d[:, 2] ** 2)
    x = x + np.where(d[:, 0] * side > 0, -side * 0.004 * bowl, 0)  # cup the outer face
    lean = np.radians(12)
    y, z = y * np.cos(lean) + z * np.sin(lean), -y * np.sin(lean) + z * np.cos(lean)
    lower = smoothstep(0.0, A.CHIN_Z, A.EAR_Z)  # the head's jaw taper at ear height
    cx = side * (A.HEAD_RADII[0] * (1 - 0.13 * lower**1.3) + 0.0045)
    verts = np.stack([cx + x * side, A.EAR_Y + y, A.EAR_Z + z], -1)
    # rotate the cup outwards about the vertical axis so the ear flares
    flare = np.radians(18) * side
    rel = verts - np.array([cx, A.EAR_Y, 0.0])
    rx = rel[:, 0] * np.cos(flare) - rel[:, 1] * np.sin(flare)
    ry2 = rel[:, 0] * np.sin(flare) + rel[:, 1] * np.cos(flare)
    verts = np.stack([cx + rx, A.EAR_Y + ry2, verts[:, 2]], -1)
    return verts, faces


def neck() -> Mesh:
    """An open cylinder from inside the head down into the shirt."""
    rows, cols = 10, 32
    z = np.linspace(A.NECK_TOP_Z, A.NECK_BOTTOM_Z, rows)
    a = np.linspace(-np.pi, np.pi, cols, endpoint=False)
    zz, aa = np.meshgrid(z, a, indexing="ij")
    flare = 1 + 0.25 * smoothstep(-0.15, A.NECK_BOTTOM_Z, zz)
    x = np.sin(aa) * A.NECK_RADII[0] * flare
    y = A.NECK_Y - np.cos(aa) * A.NECK_RADII[1] * flare
    return np.stack([x, y, zz], -1).reshape(-1, 3), grid_faces(rows, cols, wrap=True)


def _shoulder_radius(a: Array) -> Array:
    """Half extent of the torso cross-section along azimuth ``a`` (a superellipse)."""
    n = 2.6
    w, d = A.SHOULDER_HALF_WIDTH, A.TORSO_HALF_DEPTH
    return 1.0 / ((np.abs(np.sin(a)) / w) ** n + (np.abs(np.cos(a)) / d) ** n) ** (1 / n)


def torso() -> Mesh:
    """The shirt body: from a ring around the neck, out over sloping shoulders, then down the chest and back."""
    cols = 48
    a = np.linspace(-np.pi, np.pi, cols, endpoint=False)
    neck_r = np.hypot(np.sin(a) * (A.NECK_RADII[0] * 1.12), np.cos(a) * (A.NECK_RADII[1] * 1.10))
    outer = _shoulder_radius(a)
    rows_top, rows_body = 12, 12
    rows = []
    for f in np.linspace(0, 1, rows_top):
        ease = np.sin(f * np.pi / 2)
        r = neck_r + (outer - neck_r) * ease
        centre_y = A.NECK_Y * (1 - ease)  # the neck sits behind the torso's centre
        lateral = np.abs(np.sin(a) * r) / A.SHOULDER_HALF_WIDTH
        # the trapezius slopes down from the neck by lateral distance, so the silhouette shows shoulders
        z = A.COLLAR_Z - 0.010 - 0.035 * f**1.2 - (A.COLLAR_Z - A.SHOULDER_Z) * lateral**1.5
        z = z - 0.06 * smoothstep(0.75, 1.0, f) * lateral  # round over the shoulder into the arm
        rows.append((r, z, a, centre_y))
    z_top = rows[-1][1]
    for g in np.linspace(0, 1, rows_body + 1)[1:]:
        z = z_top + (A.TORSO_BOTTOM_Z - z_top) * g**1.3
        rows.append((outer * (1 - 0.04 * g), z, a, 0.0))
    verts = np.concatenate([np.stack([np.sin(aa) * r, cy - np.cos(aa) * r, z], -1) for r, z, aa, cy in rows])
    chest = gauss(verts[:, 2] + 0.30, 0.08) * smoothstep(0.0, -0.08, verts[:, 1])
    verts[:, 1] -= 0.012 * chest
    return verts, grid_faces(len(rows), cols, wrap=True)


def collar() -> Mesh:
    """A stand collar hugging the neck, open at the front, with two points folding down over the chest."""
    cols = 40
    a = np.linspace(np.radians(-168), np.radians(168), cols)
    rows = 6
    h = np.linspace(0, 1, rows)
    hh, aa = np.meshgrid(h, a, indexing="ij")
    r0 = np.hypot(np.sin(aa) * A.NECK_RADII[0] * 1.22, np.cos(aa) * A.NECK_RADII[1] * 1.20)
    opening = 1 - np.abs(aa) / np.pi  # 1 at the front, 0 at the back
    r = r0 * (1 + 0.10 * hh)
    z = A.COLLAR_Z - 0.026 + hh * 0.030 - 0.018 * opening**3 * (1 - hh)
    verts = np.stack([np.sin(aa) * r, A.NECK_Y - np.cos(aa) * r, z], -1).reshape(-1, 3)
    parts = [(verts, grid_faces(rows, cols, wrap=False))]
    for sx in (-1.0, 1.0):
        front = A.NECK_Y - A.NECK_RADII[1] * 1.2 - 0.004
        tip = np.array([sx * 0.042, front - 0.004, A.COLLAR_Z - 0.060])
        root_top = np.array([sx * 0.014, front, A.COLLAR_Z - 0.002])
        root_side = np.array([sx * 0.055, front + 0.022, A.COLLAR_Z - 0.012])
        inner = np.array([sx * 0.012, front - 0.002, A.COLLAR_Z - 0.034])
        quad = np.stack([root_top, root_side, tip, inner])
        parts.append((quad, np.array([[0, 1, 2, 3]] if sx > 0 else [[3, 2, 1, 0]])))
    return join_parts(parts)


def tie(shirt: Surface) -> Mesh:
    """A knot under the collar and a blade lying on the shirt front, widening down the chest."""
    zs = np.linspace(A.COLLAR_Z - 0.040, A.TORSO_BOTTOM_Z + 0.15, 16)
    half = 0.018 + (0.042 - 0.018) * smoothstep(zs[0], zs[0] - 0.32, zs)
    u = np.linspace(-1, 1, 7)
    zz, uu = np.meshgrid(zs, u, indexing="ij")
    xx = uu * half[:, None]
    pts, nrm = shirt.front(np.stack([xx.ravel(), zz.ravel()], -1))
    front = pts + nrm * (0.005 + 0.002 * (1 - uu.ravel() ** 2))[:, None]
    blade = (front, grid_faces(16, 7, wrap=False))
    knot_top, knot_bottom = A.COLLAR_Z - 0.008, A.COLLAR_Z - 0.042
    kz = np.linspace(knot_top, knot_bottom, 6)
    khalf = 0.019 - 0.007 * (kz - knot_top) / (knot_bottom - knot_top)
    kzz, kuu = np.meshgrid(kz, u, indexing="ij")
    kx = kuu * khalf[:, None]
    collar_front = A.NECK_Y - A.NECK_RADII[1] * 1.2
    under, _ = shirt.front(np.stack([np.zeros_like(kz), kz], -1))
    seat = np.minimum(under[:, 1], collar_front)[:, None]
    ky = seat - 0.008 - 0.007 * (1 - kuu**2)
    knot = (np.stack([kx, ky, kzz], -1).reshape(-1, 3), grid_faces(6, 7, wrap=False))
    return join_parts([blade, knot])
