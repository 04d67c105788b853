"""Strand growth in numpy: every hair style, the beard, eyebrows and eyelashes as polylines with radii.

Pure numpy (no bpy), deterministic from a seed (a local ``np.random.Generator``; never the global RNG). A strand
grows in fixed steps from a root on the skin: it starts along the skin normal, bends toward the style's combing
direction and gravity, and after every step is pushed back outside the head envelope by its own clearance, which
gives the layered volume of real hair. Styles differ in where roots grow, how long strands are, how they are
combed, cut, clumped and curled.

``density`` scales the strand count (1.0 suits a 512-px render, see ``density_for``); strands get thicker as it
drops so coverage, and hence the look and the masks, stays about the same at tiny test sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .head import Array, BodyLike, Envelope, HeadFrame, Skin, envelope, head_frame, head_skin, normalize, smoothstep
from .styles import BeardStyle, HairStyle, StrandPart

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


@dataclass(frozen=True)
class Head:
    """Everything growth reads from one body, computed once per body."""

    frame: HeadFrame
    skin: Skin
    envelope: Envelope  # seen from the cranium's centre: scalp hair
    jaw: Envelope  # seen from behind the mouth: the beard, whose underside the cranium's centre sees edge-on
    shoulders: Array  # (SH_CELLS, SH_CELLS) top of the body below the chin per 1-cm cell round the neck (metres)

    def shoulder_height(self, p: Array) -> Array:
        """Height of the neck and shoulders' top surface under each point (-inf off the grid)."""
        i = np.floor((p[..., 0] - self.frame.centre[0]) / SH_CELL + SH_CELLS / 2).astype(int)
        j = np.floor((p[..., 1] - self.frame.centre[1]) / SH_CELL + SH_CELLS / 2).astype(int)
        inside = (i >= 0) & (i < SH_CELLS) & (j >= 0) & (j < SH_CELLS)
        return np.where(inside, self.shoulders[i.clip(0, SH_CELLS - 1), j.clip(0, SH_CELLS - 1)], -np.inf)


def prepare(body: BodyLike) -> Head:
    """The head of ``body`` as growth needs it (a few tens of milliseconds)."""
    frame = head_frame(body)
    skin = head_skin(body, frame)
    jaw_centre = np.array([frame.centre[0], frame.centre[1], frame.mouth[2] + 0.01])
    return Head(frame, skin, envelope(skin, frame.centre, frame.radius), envelope(skin, jaw_centre, frame.radius),
                _shoulders(body, frame))


SH_CELL = 0.01
SH_CELLS = 48


def _shoulders(body: BodyLike, frame: HeadFrame) -> Array:
    """A height field of the body's top surface below the chin (neck, trapezius, shoulders), 1-cm cells."""
    v = np.asarray(body.verts, dtype=np.float64)[np.asarray(body.groups["body"])]
    v = v[v[:, 2] < frame.chin_z]
    i = np.floor((v[:, 0] - frame.centre[0]) / SH_CELL + SH_CELLS / 2).astype(int)
    j = np.floor((v[:, 1] - frame.centre[1]) / SH_CELL + SH_CELLS / 2).astype(int)
    ok = (i >= 0) & (i < SH_CELLS) & (j >= 0) & (j < SH_CELLS)
    field = np.full((SH_CELLS, SH_CELLS), -np.inf)
    np.maximum.at(field, (i[ok], j[ok]), v[ok, 2])
    for _ in range(2):  # close gaps between vertices
        grown = field.copy()
        grown[1:] = np.maximum(grown[1:], field[:-1])
        grown[:-1] = np.maximum(grown[:-1], field[1:])
        grown[:, 1:] = np.maximum(grown[:, 1:], field[:, :-1])
        grown[:, :-1] = np.maximum(grown[:, :-1], field[:, 1:])
        field = grown
    return field


# ------------------------------------------------------------------ regions on the skin (weights 0..1 per point)

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


def _face_xy(frame: HeadFrame, p: Array) -> tuple[Array, Array, Array]:
    """Face coordinates in eye gaps: x across (0 mid), z up from the eyes, depth y toward the back from the eyes."""
    d = (p - frame.eye_mid) / frame.eye_gap
    return d[:, 0], d[:, 2], d[:, 1]


def beard(frame: HeadFrame, p: Array) -> Array:
    """Cheeks below the cheekbones, jaw, chin, under the chin and the moustache; the lips left free."""
    x, z, y = _face_xy(frame, p)
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
    x, z, y = _face_xy(frame, p)
    u = (side * x - 0.2) / 0.82
    centre = 0.30 + 0.09 * np.sin(np.pi * np.clip(u, 0, 1) * 0.85) - 0.05 * np.clip(u, 0, 1)
    half = 0.10 - 0.055 * np.clip(u, 0, 1)
    w = smoothstep(half, half * 0.6, np.abs(z - centre)) * smoothstep(-0.05, 0.05, u) * smoothstep(1.05, 0.95, u)
    return w * (y < 0.35), np.clip(u, 0, 1)


# ------------------------------------------------------------------ the growth engine

def _roots(head: Head, rng: np.random.Generator, weight: Callable[[Array], Array], n: int,
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


def _tangent(v: Array, normal: Array) -> Array:
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


def _grow(head: Head, rng: np.random.Generator, roots: Array, normals: Array, lengths: Array, steps: int,
          g: Growth, env: Envelope | None = None) -> Array:
    n = len(roots)
    pts = np.empty((n, steps, 3))
    pts[:, 0] = roots
    lift = np.broadcast_to(np.asarray(g.lift, float), (n,))[:, None]
    d = normalize(normals * lift + g.comb)
    seg = (lengths / (steps - 1))[:, None]
    clearance = np.broadcast_to(np.asarray(g.clearance, float), (n,))
    env = env or head.envelope
    p = roots
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
    pts[~held, 1:] = np.nan  # the rare strand the envelope threw aside (skin seen edge-on): dropped by _strands
    return pts


def _clump(pts: Array, cell: float, amount: float, rng: np.random.Generator) -> Array:
    """Pull strands whose roots share a ``cell``-sized cube toward their clump's mean shape, more toward the tips."""
    if len(pts) == 0 or amount <= 0:
        return pts
    origin = pts[:, 0].min(0)
    jitter = rng.random(3) * cell  # clump boundaries move with the seed, not with the world grid
    key = np.floor((pts[:, 0] - origin + jitter) / cell).astype(np.int64)
    _, ids = np.unique(key, axis=0, return_inverse=True)
    ids = ids.ravel()
    valid = np.isfinite(pts).all(axis=(1, 2))
    sums = np.zeros((ids.max() + 1, *pts.shape[1:]))
    np.add.at(sums, ids[valid], pts[valid])
    mean = sums / np.maximum(np.bincount(ids[valid], minlength=len(sums)), 1)[:, None, None]
    t = np.linspace(0, 1, pts.shape[1])[None, :, None]
    guide = mean[ids] + (pts[:, :1] - mean[ids][:, :1]) * (1 - amount)
    return pts + (guide - pts) * amount * np.sqrt(t)


def _curl(pts: Array, radius: float, turns: Array, phase: Array) -> Array:
    """Coil each strand around its own path (``turns`` per strand along its length)."""
    tangent = normalize(np.gradient(pts, axis=1))
    side = normalize(np.cross(tangent, [0.0, 0.0, 1.0]) + 1e-4)
    up = np.cross(tangent, side)
    t = np.linspace(0, 1, pts.shape[1])[None, :]
    ang = 2 * np.pi * turns[:, None] * t + phase[:, None]
    r = radius * np.minimum(1.0, 4 * t)[..., None]
    return pts + r * (np.cos(ang)[..., None] * side + np.sin(ang)[..., None] * up)


def _cut_below(pts: Array, floor: Array, steps: int) -> Array:
    """Each strand cut where it first drops below its ``floor`` height ((N,) or per point (N, K)), resampled to
    ``steps`` points."""
    floor = np.broadcast_to(floor if floor.ndim == 2 else floor[:, None], pts.shape[:2])
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


def _strands(part: StrandPart, pts: Array, root_radius: float, density: float, tip: float = 0.25) -> Strands:
    """Radii taper from the root to ``tip`` of it; lower density gets proportionally wider strands, so the hair
    covers the same area (looks as full, masks as solid) with fewer strands."""
    pts = pts[np.isfinite(pts).all(axis=(1, 2))]
    r = root_radius / min(1.0, density)
    taper = 1.0 - (1.0 - tip) * np.linspace(0, 1, pts.shape[1]) ** 1.5
    radii = np.broadcast_to(r * taper, pts.shape[:2])
    return Strands(part, pts.astype(np.float32), np.ascontiguousarray(radii, dtype=np.float32))


def _count(base: int, density: float, least: int = 24) -> int:
    return max(least, int(round(base * density)))


# ------------------------------------------------------------------ the styles

def _flow_from_crown(head: Head, p: Array, nrm: Array) -> Array:
    """Combing direction away from a whorl on the crown: down the back and sides, forward on the front."""
    f = head.frame
    crown = f.centre + np.array([0.0, 0.35, 0.94]) * f.radius
    return _tangent(p - crown, nrm)


def _side_part(head: Head, p: Array, nrm: Array, part_x: float) -> Array:
    """Combed away from a side parting at ``part_x`` (m from the mid-plane), swept back on top."""
    f = head.frame
    side = np.sign(p[:, 0] - f.centre[0] - part_x)[:, None] * np.array([1.0, 0.0, 0.0])
    return _tangent(side * 0.8 + BACK * 0.6 + DOWN * 0.3, nrm)


def buzzcut(head: Head, rng: np.random.Generator, density: float) -> Strands:
    p, nrm = _roots(head, rng, lambda q: scalp(head.frame, q, 1.5), _count(60000, density))
    lengths = rng.uniform(0.004, 0.006, len(p))
    g = Growth(_flow_from_crown(head, p, nrm), lift=0.9, gravity=0.0, stiffness=0.8, clearance=0.0005, wiggle=0.1)
    return _strands(StrandPart.HAIR, _grow(head, rng, p, nrm, lengths, 3, g), 0.00004, density, tip=0.5)


def short_combed(head: Head, rng: np.random.Generator, density: float) -> Strands:
    f = head.frame
    p, nrm = _roots(head, rng, lambda q: scalp(f, q), _count(60000, density))
    e, a, _ = f.spherical(p)
    top = smoothstep(np.radians(0), np.radians(45), e)
    lengths = (0.02 + 0.045 * top) * rng.uniform(0.8, 1.1, len(p))
    comb = normalize(_side_part(head, p, nrm, 0.035) * top[:, None] + _flow_from_crown(head, p, nrm)
                     * (1 - top[:, None]))
    clearance = rng.uniform(0.0015, 0.009, len(p)) * (0.4 + 0.6 * top)
    g = Growth(comb, lift=0.35 + 0.4 * smoothstep(np.radians(40), np.radians(10), np.abs(a)) * top,
               gravity=0.25, stiffness=0.55, clearance=clearance, wiggle=0.06)
    pts = _clump(_grow(head, rng, p, nrm, lengths, 8, g), 0.008, 0.35, rng)
    return _strands(StrandPart.HAIR, head.envelope.push_out(pts, 0.0008), 0.00004, density)


def bald_top(head: Head, rng: np.random.Generator, density: float) -> Strands:
    """A horseshoe round the sides and back; the crown and the front bare."""
    f = head.frame

    def region(q: Array) -> Array:
        e, a, _ = f.spherical(q)
        upper = np.radians(np.interp(np.degrees(np.abs(a)), [0, 60, 90, 130, 180], [-30, 4, 14, 18, 16]))
        return scalp(f, q) * smoothstep(upper + np.radians(3), upper - np.radians(3), e)

    p, nrm = _roots(head, rng, region, _count(30000, density))
    lengths = rng.uniform(0.012, 0.022, len(p))
    g = Growth(_tangent(DOWN * 0.7 + BACK * 0.5, nrm), lift=0.4, gravity=0.4, stiffness=0.55,
               clearance=rng.uniform(0.001, 0.004, len(p)), wiggle=0.08)
    pts = _clump(_grow(head, rng, p, nrm, lengths, 5, g), 0.006, 0.3, rng)
    return _strands(StrandPart.HAIR, pts, 0.00004, density)


def undercut(head: Head, rng: np.random.Generator, density: float) -> Strands:
    """Clipped sides and back, a long top combed back with volume."""
    f = head.frame

    def line(q: Array) -> Array:
        return np.radians(np.interp(np.degrees(np.abs(f.spherical(q)[1])), [0, 60, 100, 180], [18, 26, 30, 24]))

    sides, s_nrm = _roots(head, rng, lambda q: scalp(f, q, 1.5) * (f.spherical(q)[0] < line(q) - 0.03),
                          _count(30000, density))
    lengths = rng.uniform(0.003, 0.005, len(sides))
    g = Growth(_flow_from_crown(head, sides, s_nrm), lift=0.9, gravity=0.0, stiffness=0.8, clearance=0.0005,
               wiggle=0.1)
    side_pts = _grow(head, rng, sides, s_nrm, lengths, 3, g)
    top, t_nrm = _roots(head, rng, lambda q: scalp(f, q) * (f.spherical(q)[0] > line(q)), _count(35000, density))
    e, a, _ = f.spherical(top)
    front = smoothstep(np.radians(60), np.radians(25), e) * smoothstep(np.radians(50), 0, np.abs(a))
    inner = smoothstep(line(top), line(top) + np.radians(18), e)  # thinner layers toward the clipped edge
    lengths = rng.uniform(0.08, 0.11, len(top)) * (0.75 + 0.25 * front)
    toward_mid = -np.sign(top[:, 0] - f.centre[0])[:, None] * np.array([0.25, 0.0, 0.0])
    comb = _tangent(BACK * 1.0 + DOWN * 0.1 + toward_mid, t_nrm)
    g = Growth(comb, lift=0.25 + 0.6 * front, gravity=0.12, stiffness=0.7,
               clearance=rng.uniform(0.003, 0.024, len(top)) * (0.3 + 0.7 * inner), wiggle=0.03)
    top_pts = _clump(_grow(head, rng, top, t_nrm, lengths, 10, g), 0.01, 0.45, rng)
    top_pts = head.envelope.push_out(top_pts, 0.001)
    side = _strands(StrandPart.HAIR, side_pts, 0.00004, density, tip=0.5)
    upper = _strands(StrandPart.HAIR, top_pts, 0.00004, density)
    return _join(side, upper)


def _resample(pts: Array, steps: int) -> Array:
    idx = np.linspace(0, pts.shape[1] - 1, steps)
    lo = np.floor(idx).astype(int)
    hi = np.minimum(lo + 1, pts.shape[1] - 1)
    w = (idx - lo)[None, :, None]
    return pts[:, lo] * (1 - w) + pts[:, hi] * w


def _join(*parts: Strands) -> Strands:
    """One Strands from several (resampled to the largest point count)."""
    steps = max(s.points.shape[1] for s in parts)
    pts = [(_resample(s.points, steps), _resample(s.radii[..., None], steps)[..., 0]) for s in parts]
    return Strands(parts[0].part, np.concatenate([p for p, _ in pts]).astype(np.float32),
                   np.concatenate([r for _, r in pts]).astype(np.float32))


def bob_long(head: Head, rng: np.random.Generator, density: float) -> Strands:
    """A chin-length bob: a fringe cut above the brows, the rest parted in the middle and falling straight past the
    ears to below the chin."""
    f = head.frame
    p, nrm = _roots(head, rng, lambda q: scalp(f, q), _count(45000, density))
    e, a, _ = f.spherical(p)
    fringe = (np.abs(a) < np.radians(40)) & (e < np.radians(55))
    side = np.sign(p[:, 0] - f.centre[0] + 1e-6)[:, None] * np.array([1.0, 0.0, 0.0])
    back = smoothstep(np.radians(100), np.radians(150), np.abs(a))[:, None]  # the back falls straight down
    comb = np.where(fringe[:, None], _tangent(-BACK * 0.5 + DOWN, nrm),
                    _tangent(side * 0.9 * (1 - back) + BACK * 0.35 + DOWN * (0.5 + back), nrm))
    lengths = np.full(len(p), 0.32)
    clearance = rng.uniform(0.002, 0.012, len(p))
    g = Growth(comb, lift=0.2, gravity=1.4, stiffness=0.5, clearance=clearance, wiggle=0.02, comb_fade=1.0)
    pts = _grow(head, rng, p, nrm, lengths, 26, g)
    # cut: above the brows where the hair hangs in front of the face, below the chin elsewhere
    x, y = pts[..., 0] - f.eye_mid[0], pts[..., 1] - f.eye_mid[1]
    over_face = (np.abs(x) < 1.15 * f.eye_gap) & (y < 0.5 * f.eye_gap)
    brow_cut = f.eye_z + 0.45 * f.eye_gap + rng.normal(0, 0.0015, len(p))[:, None]
    chin_cut = (f.chin_z - 0.025 + rng.normal(0, 0.003, len(p)))[:, None]
    above_shoulders = head.shoulder_height(pts) + 0.006  # ends rest above the shoulders, never in them
    pts = _cut_below(pts, np.where(over_face, brow_cut, np.maximum(chin_cut, above_shoulders)), 14)
    pts = _clump(pts, 0.012, 0.3, rng)
    return _strands(StrandPart.HAIR, head.envelope.push_out(pts, 0.001), 0.00004, density, tip=0.6)


def afro_dreads(head: Head, rng: np.random.Generator, density: float) -> Strands:
    """A voluminous rounded halo of coiled, clumped locks standing off the scalp."""
    f = head.frame
    p, nrm = _roots(head, rng, lambda q: scalp(f, q, 1.0), _count(45000, density))
    ball = f.centre + np.array([0.0, 0.15, 0.35]) * f.radius  # the afro's centre: above and behind the head's
    radial = normalize(p - ball)
    reach = 1.95 * f.radius - np.linalg.norm(p - ball, axis=1)  # tips end on a rounded outline
    lengths = np.clip(reach, 0.015, None) * rng.uniform(0.85, 1.1, len(p)) * 1.2
    g = Growth(radial, lift=0.6, gravity=0.1, stiffness=0.7, clearance=rng.uniform(0.002, 0.03, len(p)),
               wiggle=0.25)
    pts = _grow(head, rng, p, nrm, lengths, 14, g)
    pts = _clump(pts, 0.009, 0.6, rng)
    pts = _curl(pts, 0.004, rng.uniform(4.0, 7.0, len(p)), rng.uniform(0, 2 * np.pi, len(p)))
    return _strands(StrandPart.HAIR, head.envelope.push_out(pts, 0.001), 0.00005, density, tip=0.6)


HAIR_GROWERS: dict[HairStyle, Callable[[Head, np.random.Generator, float], Strands]] = {
    HairStyle.BUZZCUT: buzzcut,
    HairStyle.SHORT_COMBED: short_combed,
    HairStyle.BALD_TOP: bald_top,
    HairStyle.UNDERCUT: undercut,
    HairStyle.BOB_LONG: bob_long,
    HairStyle.AFRO_DREADS: afro_dreads,
}


def full_beard(head: Head, rng: np.random.Generator, density: float) -> Strands:
    f = head.frame
    p, nrm = _roots(head, rng, lambda q: beard(f, q), _count(40000, density), head.jaw)
    x, z, _ = _face_xy(f, p)
    moustache = (z > (f.mouth[2] - f.eye_z) / f.eye_gap) & (np.abs(x) < 0.75)
    comb = np.where(moustache[:, None], _tangent(DOWN + np.sign(x)[:, None] * np.array([0.6, 0, 0]), nrm),
                    _tangent(DOWN * 1.0 - BACK * 0.2, nrm))
    lengths = np.where(moustache, rng.uniform(0.009, 0.014, len(p)), rng.uniform(0.015, 0.028, len(p)))
    g = Growth(comb, lift=0.45, gravity=0.3, stiffness=0.6, clearance=rng.uniform(0.001, 0.008, len(p)),
               wiggle=0.12)
    pts = _clump(_grow(head, rng, p, nrm, lengths, 5, g, head.jaw), 0.004, 0.3, rng)
    return _strands(StrandPart.BEARD, head.jaw.push_out(pts, 0.0005), 0.00004, density)


def eyebrows(head: Head, rng: np.random.Generator, density: float) -> Strands:
    f = head.frame
    out = []
    for side in (1.0, -1.0):
        p, nrm = _roots(head, rng, lambda q, s=side: brow(f, q, s)[0], _count(700, density, least=60))
        _, u = brow(f, p, side)
        lateral = np.array([side, 0.0, 0.0])
        comb = _tangent(lateral[None, :] * (0.35 + u[:, None]) + np.array([0, 0, 1.0]) * (1 - u[:, None]) * 0.9
                        - np.array([0, 0, 1.0]) * u[:, None] * 0.25, nrm)
        lengths = rng.uniform(0.006, 0.009, len(p))
        g = Growth(comb, lift=0.15, gravity=0.0, stiffness=0.8, clearance=rng.uniform(0.0002, 0.0012, len(p)),
                   wiggle=0.05)
        out.append(_strands(StrandPart.EYEBROWS, _grow(head, rng, p, nrm, lengths, 4, g), 0.00004, density, 0.4))
    return _join(*out)


LASH_GROUPS = (("eyelashes_upper_l", "eye_l", 1.0), ("eyelashes_lower_l", "eye_l", -1.0),
               ("eyelashes_upper_r", "eye_r", 1.0), ("eyelashes_lower_r", "eye_r", -1.0))


def eyelashes(body: BodyLike, rng: np.random.Generator, density: float) -> Strands:
    """Short curved strands from the lid edge of MakeHuman's eyelash helpers (upper longer, curling up).

    The root edge is the helper's ring nearest the eye; each strand leaves it toward the helper's outer ring."""
    verts = np.asarray(body.verts, dtype=np.float64)
    out = []
    for group, eye_name, up in LASH_GROUPS:
        if group not in body.groups:
            raise ValueError(f"eyelashes need the vertex group {group!r} on the body (build_body provides it)")
        v = verts[np.asarray(body.groups[group])]
        eye = np.asarray(body.landmarks[eye_name], dtype=np.float64)
        dist = np.linalg.norm(v - eye, axis=1)
        inner = v[dist < dist.min() + 0.35 * (dist.max() - dist.min())]
        inner = inner[np.argsort(inner[:, 0])]
        n = _count(90 if up > 0 else 45, density, least=24)
        s = np.sort(rng.random(n)) * (len(inner) - 1)
        lo = np.floor(s).astype(int)
        hi = np.minimum(lo + 1, len(inner) - 1)
        roots = inner[lo] + (inner[hi] - inner[lo]) * (s - lo)[:, None]
        out_dir = normalize(roots - eye)
        out_dir = normalize(out_dir + np.array([0.0, -0.6, 0.0]))
        length = (0.009 if up > 0 else 0.005) * rng.uniform(0.7, 1.0, n)
        mid = np.abs(np.linspace(-1, 1, n))
        length *= 1.0 - 0.45 * mid ** 2  # shorter toward the corners
        t = np.linspace(0, 1, 5)[None, :, None]
        curve = out_dir[:, None, :] * t + np.array([0.0, 0.0, up])[None, None, :] * (t ** 2) * 0.7
        pts = roots[:, None, :] + curve * length[:, None, None]
        out.append(_strands(StrandPart.EYELASHES, pts, 0.00005, density, tip=0.3))
    return _join(*out)


# ------------------------------------------------------------------ the API

def grow(style: HairStyle | BeardStyle | StrandPart, body: BodyLike, density: float, seed: int,
         head: Head | None = None) -> Strands:
    """The strands of one hair style, beard style, or the eyebrows / eyelashes (``StrandPart``) of ``body``.

    Deterministic for (style, body, density, seed). ``head`` (from ``prepare(body)``) saves recomputing the head
    when several parts grow on one body. ``none`` styles give empty strands.
    """
    if not density > 0:
        raise ValueError(f"strand density must be > 0, got {density!r}; use density_for(resolution_px)")
    rng = np.random.default_rng([int(seed), _salt(style)])
    if style in (HairStyle.NONE, BeardStyle.NONE):
        return Strands.empty(StrandPart.BEARD if isinstance(style, BeardStyle) else StrandPart.HAIR)
    if style is StrandPart.EYELASHES:
        return eyelashes(body, rng, density)
    head = head or prepare(body)
    if isinstance(style, HairStyle):
        return HAIR_GROWERS[style](head, rng, density)
    if style is BeardStyle.FULL_BEARD:
        return full_beard(head, rng, density)
    if style is StrandPart.EYEBROWS:
        return eyebrows(head, rng, density)
    raise ValueError(f"cannot grow strands for {style!r}: give a HairStyle, a BeardStyle, StrandPart.EYEBROWS or "
                     f"StrandPart.EYELASHES")


def _salt(style: HairStyle | BeardStyle | StrandPart) -> int:
    """A stable per-kind stream, so the beard's randomness does not depend on the hair style's."""
    return sum((i + 1) * ord(c) for i, c in enumerate(f"{type(style).__name__}.{style.value}"))
