"""The strand growth engine (pure numpy): roots on the skin, stepwise growth with combing, gravity and collision
against the head envelope, then clumping, curling, cutting and the radii of the finished strands.

A strand grows in fixed steps from its root: it starts along the skin normal, bends toward its combing direction
and gravity, and after every step is pushed back outside the envelope by its own clearance, which gives hair its
layered volume. ``density`` scales counts (1.0 suits a 512-px render, ``density_for``); strands widen as it drops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .head import Array, Envelope, Head, Skin, normalize
from .styles import StrandPart

DOWN = np.array([0.0, 0.0, -1.0])
BACK = np.array([0.0, 1.0, 0.0])
REFERENCE_PX = 512
MIN_DENSITY = 0.02


def density_for(resolution_px: int) -> float:
    """The strand density for a render of this size: 1.0 at 512 px, linear in the image size."""
    return max(MIN_DENSITY, resolution_px / REFERENCE_PX)


@dataclass(frozen=True)
class Strands:
    """Strands of one object: ``points`` (N, K, 3) float32 in Blender metres (root first) and ``radii`` (N, K)."""

    part: StrandPart
    points: Array
    radii: Array

    @property
    def count(self) -> int:
        return len(self.points)

    @staticmethod
    def empty(part: StrandPart) -> Strands:
        return Strands(part, np.zeros((0, 2, 3), np.float32), np.zeros((0, 2), np.float32))


def roots(head: Head, rng: np.random.Generator, weight: Callable[[Array], Array], n: int,
           env: Envelope | None = None) -> tuple[Array, Array]:
    """``n`` roots on the outer skin where ``weight`` (0..1) allows, spread by area: a soft edge thins out. Skin
    hidden under the envelope (inside the mouth, behind the ears) grows nothing."""
    env = env or head.envelope
    skin = head.skin
    w_vert = weight(skin.verts)
    keep = w_vert[skin.tris].max(1) > 0
    if n <= 0 or not keep.any():
        return np.zeros((0, 3)), np.zeros((0, 3))
    region = Skin(skin.verts, skin.normals, skin.tris[keep], skin.areas[keep])
    accept = float((w_vert[region.tris].mean(1) * region.areas).sum() / region.areas.sum())
    found_p, found_n, total = [], [], 0
    for _ in range(4):  # rejection sampling; a second round tops up when the estimate was optimistic
        p, nrm = region.sample(rng, int((n - total) / max(accept, 0.05) * 1.3) + 16)
        outward = (nrm * normalize(p - env.centre)).sum(1) > 0.15  # not the inside of the mouth or nostrils
        ok = (rng.random(len(p)) < weight(p)) & (env.depth(p) > -0.003) & outward
        found_p.append(p[ok])
        found_n.append(nrm[ok])
        total += int(ok.sum())
        accept = max(0.05, accept * 0.7) if total < n else accept
        if total >= n:
            break
    return np.concatenate(found_p)[:n], np.concatenate(found_n)[:n]


def tangent(v: Array, normal: Array) -> Array:
    return normalize(v - (v * normal).sum(-1, keepdims=True) * normal)


@dataclass(frozen=True)
class Growth:
    """How strands grow from their roots: ``comb`` (N, 3) is the direction each is combed to, ``lift`` how much it
    stands off the skin at the root, ``gravity`` how hard it is pulled down along its length, ``stiffness`` how much
    it keeps its heading, ``clearance`` (N,) its layer above the skin, ``wiggle`` random bending per step."""

    comb: Array
    lift: float | Array = 0.3
    gravity: float = 0.3
    stiffness: float = 0.6
    clearance: Array | float = 0.002
    wiggle: float = 0.05
    comb_fade: float = 0.0  # 1: combing lets go along the strand and gravity alone shapes the ends


def grow_strands(head: Head, rng: np.random.Generator, starts: Array, normals: Array, lengths: Array, steps: int,
                 g: Growth, env: Envelope | None = None) -> Array:
    """(N, steps, 3) points of strands grown from ``starts`` (skin points with their ``normals``) to ``lengths``,
    kept outside ``env`` (default: the head's). Strands the envelope throws aside come back NaN past the root."""
    n = len(starts)
    pts = np.empty((n, steps, 3))
    pts[:, 0] = starts
    lift = np.broadcast_to(np.asarray(g.lift, float), (n,))[:, None]
    d = normalize(normals * lift + g.comb)
    seg = (lengths / (steps - 1))[:, None]
    clearance = np.broadcast_to(np.asarray(g.clearance, float), (n,))
    env = env or head.envelope
    p = starts
    held = np.ones(n, bool)
    for k in range(1, steps):
        t = k / (steps - 1)
        bend = (g.comb * (1 - g.stiffness) * (1 - g.comb_fade * t) + DOWN * g.gravity * t
                + rng.normal(0, g.wiggle, (n, 3)))
        d = normalize(d * g.stiffness + bend)
        q = env.push_out(p + d * seg, clearance * min(1.0, 3 * t) + 0.0004)
        d = normalize(q - p)
        q = env.push_out(p + d * seg, clearance * min(1.0, 3 * t) + 0.0004)
        held &= np.linalg.norm(q - p, axis=1) < 2.5 * seg[:, 0] + 0.002
        p = q
        pts[:, k] = p
    pts[~held, 1:] = np.nan  # the rare strand the envelope threw aside (skin seen edge-on): dropped by finish
    return pts


def clump(pts: Array, cell: float, amount: float, rng: np.random.Generator) -> Array:
    """Pull strands whose roots share a ``cell``-sized cube toward their clump's mean shape, more toward the tips."""
    if len(pts) == 0 or amount <= 0:
        return pts
    root = np.nan_to_num(pts[:, 0])  # dropped strands (NaN) join some clump but add nothing to its mean
    origin = root.min(0)
    jitter = rng.random(3) * cell  # clump boundaries move with the seed, not with the world grid
    key = np.floor((root - origin + jitter) / cell).astype(np.int64)
    _, ids = np.unique(key, axis=0, return_inverse=True)
    ids = ids.ravel()
    valid = np.isfinite(pts).all(axis=(1, 2))
    sums = np.zeros((ids.max() + 1, *pts.shape[1:]))
    np.add.at(sums, ids[valid], pts[valid])
    mean = sums / np.maximum(np.bincount(ids[valid], minlength=len(sums)), 1)[:, None, None]
    t = np.linspace(0, 1, pts.shape[1])[None, :, None]
    guide = mean[ids] + (pts[:, :1] - mean[ids][:, :1]) * (1 - amount)
    return pts + (guide - pts) * amount * np.sqrt(t)


def curl(pts: Array, radius: float, turns: Array, phase: Array) -> Array:
    """Coil each strand around its own path (``turns`` per strand along its length)."""
    tangent = normalize(np.gradient(pts, axis=1))
    side = normalize(np.cross(tangent, [0.0, 0.0, 1.0]) + 1e-4)
    up = np.cross(tangent, side)
    t = np.linspace(0, 1, pts.shape[1])[None, :]
    ang = 2 * np.pi * turns[:, None] * t + phase[:, None]
    r = radius * np.minimum(1.0, 4 * t)[..., None]
    return pts + r * (np.cos(ang)[..., None] * side + np.sin(ang)[..., None] * up)


def cut_below(pts: Array, floor: Array, steps: int) -> Array:
    """Each strand cut where it first drops below its ``floor`` height ((N,) or per point (N, K)), resampled to
    ``steps`` points."""
    floor = np.broadcast_to(floor if floor.ndim == 2 else floor[:, None], pts.shape[:2])
    valid = np.isfinite(pts).all(axis=(1, 2))
    if not valid.all():  # dropped strands stay dropped; the rest are cut as usual
        out = np.full((len(pts), steps, 3), np.nan)
        if valid.any():
            out[valid] = cut_below(pts[valid], floor[valid], steps)
        return out
    seg = np.linalg.norm(np.diff(pts, axis=1), axis=2)
    arc = np.concatenate([np.zeros((len(pts), 1)), np.cumsum(seg, 1)], 1)
    below = pts[:, :, 2] < floor
    below[:, 0] = False
    first = np.where(below.any(1), below.argmax(1), pts.shape[1] - 1)
    rows = np.arange(len(pts))
    z0, z1 = pts[rows, first - 1, 2], pts[rows, first, 2]
    fl = floor[rows, first]
    f = np.clip((z0 - fl) / np.maximum(z0 - z1, 1e-9), 0, 1)
    f = np.where(below.any(1), f, 1.0)
    end = arc[rows, first - 1] + f * (arc[rows, first] - arc[rows, first - 1])
    want = end[:, None] * np.linspace(0, 1, steps)[None, :]
    out = np.empty((len(pts), steps, 3))
    for c in range(3):  # per strand linear interpolation along the arc, vectorised with searchsorted on offsets
        offset = np.arange(len(pts))[:, None] * (arc[:, -1:].max() + 1.0)
        flat = np.interp((want + offset).ravel(), (arc + offset).ravel(), pts[:, :, c].ravel())
        out[:, :, c] = flat.reshape(len(pts), steps)
    return out


def finish(part: StrandPart, pts: Array, root_radius: float, density: float, tip: float = 0.25) -> Strands:
    """Radii taper from the root to ``tip`` of it; lower density gets proportionally wider strands, so the hair
    covers the same area (looks as full, masks as solid) with fewer strands."""
    pts = pts[np.isfinite(pts).all(axis=(1, 2))]
    r = root_radius / min(1.0, density)
    taper = 1.0 - (1.0 - tip) * np.linspace(0, 1, pts.shape[1]) ** 1.5
    radii = np.broadcast_to(r * taper, pts.shape[:2])
    return Strands(part, pts.astype(np.float32), np.ascontiguousarray(radii, dtype=np.float32))


def count(base: int, density: float, least: int = 24) -> int:
    return max(least, int(round(base * density)))


def resample(pts: Array, steps: int) -> Array:
    idx = np.linspace(0, pts.shape[1] - 1, steps)
    lo = np.floor(idx).astype(int)
    hi = np.minimum(lo + 1, pts.shape[1] - 1)
    w = (idx - lo)[None, :, None]
    return pts[:, lo] * (1 - w) + pts[:, hi] * w


def join(*parts: Strands) -> Strands:
    """One Strands from several (resampled to the largest point count)."""
    steps = max(s.points.shape[1] for s in parts)
    pts = [(resample(s.points, steps), resample(s.radii[..., None], steps)[..., 0]) for s in parts]
    return Strands(parts[0].part, np.concatenate([p for p, _ in pts]).astype(np.float32),
                   np.concatenate([r for _, r in pts]).astype(np.float32))
