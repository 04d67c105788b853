"""Hair and beard geometry: each style is a distinct mesh (shell, curtain, volume or locks) grown from the scalp.

A style is a region of scalp directions plus a thickness over them; the shell is seated by casting rays from the
head centre onto the sculpted head, so it hugs the skull. Styles differ in outline and volume, not only colour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import anatomy as A
from .meshes import Array, Surface, direction, grid_faces, join_parts, keep_faces
from .warps import gauss, smoothstep

Mesh = tuple[Array, Array]


def hairline(az: Array) -> Array:
    """Elevation (radians) of the natural hairline around the head: high on the forehead, low at the nape."""
    deg = np.degrees(np.abs(az))
    return np.radians(np.interp(deg, [0, 20, 35, 50, 65, 80, 100, 130, 180], [31, 30, 26, 24, 14, 6, 2, -22, -38]))


CROWN = np.radians(89.5)  # the top row of a shell: a tiny ring round the pole, closed by a rim


def _shell(skin: Surface, lower: Callable[[Array], Array], height: Callable[[Array, Array], Array], *,
           upper: Callable[[Array], Array] | None = None, span: tuple[float, float] | None = None,
           rows: int = 30, cols: int = 96) -> Mesh:
    """A closed-volume shell of hair between two hairlines, ``lower(azimuth)`` and ``upper(azimuth)`` (default the
    crown), round the whole head or over ``span`` (radians). The grid follows the hairlines, so edges are smooth
    curves, not a staircase of grid cells; the outer surface lies ``height(elevation, azimuth)`` off the scalp."""
    wrap = span is None
    az = np.linspace(-np.pi, np.pi, cols, endpoint=False) if wrap else np.linspace(span[0], span[1], cols)
    t, a = np.meshgrid(np.linspace(1.0, 0.0, rows), az, indexing="ij")  # rows from the upper edge down
    a = (a + np.pi) % (2 * np.pi) - np.pi
    lo = lower(a)
    hi = upper(a) if upper is not None else np.full_like(a, CROWN)
    e = (lo + (hi - lo) * t).ravel()
    a = a.ravel()
    base, normal = skin.radial(direction(e, a))
    outer = base + normal * height(e, a)[:, None]
    inner = base - normal * 0.0015
    return _close(outer, inner, grid_faces(rows, cols, wrap=wrap))


def _close(outer: Array, inner: Array, faces: Array) -> Mesh:
    """Join an outer and an inner copy of the same surface into one closed volume (rims on open edges)."""
    n = len(outer)
    edges: dict[tuple[int, int], int] = {}
    for f in faces:
        for i in range(4):
            a, b = int(f[i]), int(f[(i + 1) % 4])
            key = (min(a, b), max(a, b))
            edges[key] = edges.get(key, 0) + 1
    rims = []
    for f in faces:
        for i in range(4):
            a, b = int(f[i]), int(f[(i + 1) % 4])
            if edges[(min(a, b), max(a, b))] == 1:
                rims.append([b, a, a + n, b + n])
    all_faces = [faces, faces[:, ::-1] + n]
    if rims:
        all_faces.append(np.array(rims))
    return np.concatenate([outer, inner]), np.concatenate(all_faces)


def buzzcut(skin: Surface) -> Mesh:
    return _shell(skin, lambda a: hairline(a) + np.radians(2), lambda e, a: np.full_like(e, 0.003))


def short_combed(skin: Surface) -> Mesh:
    def height(e, a):
        top = smoothstep(np.radians(-10), np.radians(60), e)
        quiff = gauss(a + 0.25, 0.45) * gauss(e - np.radians(40), 0.22)
        part = gauss(a - np.radians(40), 0.06) * smoothstep(np.radians(30), np.radians(55), e)
        clumps = 0.0015 * np.sin(20 * a + 6 * e) * smoothstep(np.radians(10), np.radians(40), e)
        edge = smoothstep(0.0, np.radians(8), e - hairline(a))  # thin out toward the hairline
        return (0.002 + 0.010 * top + 0.014 * quiff - 0.006 * part + clumps) * (0.35 + 0.65 * edge)

    return _shell(skin, hairline, height)


def bald_top(skin: Surface) -> Mesh:
    """A fringe of hair round the sides and back, the crown bare: visible at the temples from the front."""
    def top(a):
        return np.radians(np.interp(np.degrees(np.abs(a)), [48, 70, 110, 180], [26, 34, 30, 18]))

    def height(e, a):
        return 0.004 + 0.010 * smoothstep(0.0, np.radians(8), top(a) - e) * smoothstep(48, 62, np.degrees(np.abs(a)))

    return _shell(skin, hairline, height, upper=top, span=(np.radians(48), np.radians(312)), rows=14, cols=80)


def undercut_top(skin: Surface) -> Mesh:
    def height(e, a):
        return 0.006 + 0.020 * smoothstep(np.radians(30), np.radians(70), e) + 0.012 * gauss(a, 0.6)

    return _shell(skin, lambda a: np.maximum(hairline(a), np.radians(38)), height)


def undercut_sides(skin: Surface) -> Mesh:
    return _shell(skin, lambda a: hairline(a) + np.radians(2), lambda e, a: np.full_like(e, 0.0035),
                  upper=lambda a: np.full_like(a, np.radians(41)), rows=14)


def bob_long(skin: Surface) -> Mesh:
    """A thin cap with a fringe to the brows, flowing into a curtain that falls past the ears to the jaw."""
    def lower(a):
        fringe = smoothstep(1.15, 0.85, np.abs(a))  # the fringe across the forehead, ending above the brows
        return np.minimum(hairline(a), np.radians(4)) * (1 - fringe) + np.radians(21) * fringe

    cap = _shell(skin, lower, lambda e, a: 0.006 + 0.007 * smoothstep(0.0, np.radians(70), e))
    cols, rows = 60, 14
    a = np.radians(np.concatenate([np.linspace(60, 180, cols // 2, endpoint=False), np.linspace(-180, -60, cols // 2)]))
    ring, ring_n = skin.radial(direction(np.full(cols, np.radians(6.0)), a))
    ring = ring + ring_n * 0.0075
    bottom = A.CHIN_Z + 0.022 + 0.003 * np.sin(13 * a)  # layered, uneven ends
    verts = []
    for t in np.linspace(0, 1, rows):
        swell = 1 + 0.10 * np.sin(np.pi * 0.8 * t)  # bulges out, then curls under at the ends
        z = ring[:, 2] - t * (ring[:, 2] - bottom)
        verts.append(np.column_stack([ring[:, :2] * swell, z]))
    outer = np.concatenate(verts)
    inner = outer.copy()
    inner[:, :2] *= 0.95
    curtain = _close(outer, inner, grid_faces(rows, cols, wrap=False))
    return join_parts([cap, curtain])


def afro_dreads(skin: Surface) -> Mesh:
    """A close cap of hair with two rings of thick dreadlocks hanging to the shoulders round the sides and back."""
    def height(e, a):
        return 0.012 + 0.010 * smoothstep(np.radians(-20), np.radians(50), e) + 0.003 * np.sin(9 * a) * np.sin(7 * e)

    volume = _shell(skin, lambda a: hairline(a) - np.radians(4), height)
    locks = []
    rings = ((np.radians(8), np.linspace(58, 302, 26), 0.17), (np.radians(32), np.linspace(44, 316, 22), 0.19))
    for elevation, azimuths, length in rings:
        for i, deg in enumerate(azimuths):
            a = np.radians(deg)
            root, n = skin.radial(direction(np.array([elevation]), np.array([a])))
            start = root[0] + n[0] * 0.012
            near_face = 1.0 - 0.5 * smoothstep(90, 50, min(deg, 360 - deg))  # shorter beside the face
            lock_length = (length + 0.03 * ((i * 7) % 5) / 4) * near_face
            heading = np.array([n[0][0] * 0.35, n[0][1] * 0.35, -1.0])
            locks.append(_lock(start, heading, lock_length, 0.0085))
    return join_parts([volume, *locks])


def _lock(start: Array, heading: Array, length: float, radius: float) -> Mesh:
    """A twisted tube (one dreadlock) from ``start`` along ``heading``."""
    heading = heading / np.linalg.norm(heading)
    side = np.cross(heading, [0.0, 0.0, 1.0])
    side = side / (np.linalg.norm(side) + 1e-9) if np.linalg.norm(side) > 1e-6 else np.array([1.0, 0.0, 0.0])
    up = np.cross(side, heading)
    rows, cols = 12, 8
    t = np.linspace(0, 1, rows)
    ang = np.linspace(0, 2 * np.pi, cols, endpoint=False)
    tt, aa = np.meshgrid(t, ang, indexing="ij")
    r = radius * (1 - 0.35 * tt) * (1 + 0.15 * np.sin(6 * tt * np.pi + aa * 2))
    centre = start + heading * (tt[..., None] * length)
    verts = centre + (np.cos(aa)[..., None] * side + np.sin(aa)[..., None] * up) * r[..., None]
    return verts.reshape(-1, 3), grid_faces(rows, cols, wrap=True)


def full_beard(skin: Surface) -> Mesh:
    """Moustache, cheeks, jaw and chin, leaving the lips free."""
    mouth_dir = np.array([0.0, -0.10, A.MOUTH_Z])
    mouth_el = np.arctan2(mouth_dir[2], -mouth_dir[1])

    def keep(e, a):
        deg = np.degrees(np.abs(a))
        upper = np.radians(np.interp(deg, [0, 12, 25, 45, 70, 88, 100], [-14, -14.5, -17, -15, -8, -2, -4]))
        lips = ((np.degrees(a) / 22.0) ** 2 + (np.degrees(e - mouth_el) / 5.5 + 0.15) ** 2) < 1
        return (e < upper) & (e > np.radians(-82)) & (deg < 100) & ~lips

    el = np.radians(np.linspace(0, -85, 86))
    az = np.radians(np.linspace(-110, 110, 111))
    e, a = np.meshgrid(el, az, indexing="ij")
    e, a = e.ravel(), a.ravel()
    mask = keep(e, a)
    base, normal = skin.radial(direction(e, a))
    lower = smoothstep(np.radians(-20), np.radians(-50), e)
    h = 0.0035 + 0.006 * lower + 0.0015 * np.sin(11 * a) * np.sin(13 * e)
    outer = base + normal * h[:, None]
    inner = base - normal * 0.0015
    faces = grid_faces(len(el), len(az), wrap=False)
    o, f = keep_faces(outer, faces, mask)
    i, _ = keep_faces(inner, faces, mask)
    return _close(o, i, f)


@dataclass(frozen=True)
class HairPiece:
    """One hair object: its object name, which factor value shows it, and how it is built."""

    name: str
    style: str
    build: Callable[[Surface], Mesh]
    tufts: bool = True  # roughen the surface; off for shells too thin to displace without piercing the scalp


HAIR_PIECES: tuple[HairPiece, ...] = (
    HairPiece("BLURD_Hair_buzzcut", "buzzcut", buzzcut, tufts=False),
    HairPiece("BLURD_Hair_short_combed", "short_combed", short_combed),
    HairPiece("BLURD_Hair_bald_top", "bald_top", bald_top, tufts=False),
    HairPiece("BLURD_Hair_undercut_top", "undercut", undercut_top),
    HairPiece("BLURD_Hair_undercut_sides", "undercut", undercut_sides, tufts=False),
    HairPiece("BLURD_Hair_bob_long", "bob_long", bob_long),
    HairPiece("BLURD_Hair_afro_dreads", "afro_dreads", afro_dreads),
)
BEARD_PIECES: tuple[HairPiece, ...] = (HairPiece("BLURD_Beard_full", "full_beard", full_beard),)
