"""The head as strand growth sees it (pure numpy): a frame from the body's landmarks, a sampler of root points on
the skin, and a radial envelope that strands are kept outside of.

Everything is computed from the body it is given (a few milliseconds), so it is deterministic and fits every
identity; because the hm08 topology never changes the regions land on the same vertices for everyone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

Array = np.ndarray


class BodyLike(Protocol):
    """What growth reads from a body (``blurd.scene.makehuman.body.Body`` has these): Blender metres, Z up, face -Y."""

    verts: Array  # (N, 3)
    faces: Array  # (F, 3) or (F, 4) vertex indices
    groups: Mapping[str, Array]  # vertex-index arrays: "body", "eyelashes_upper_l", "eyelashes_lower_l", ...
    landmarks: Mapping[str, Array]  # "eye_l", "eye_r", "head_top", "chin" (front of the chin), "nose_tip"
    regions: Mapping[str, Array]  # per-vertex 0..1 weights; growth reads "lips"


class BodyError(ValueError):
    """The body lacks what strand growth needs (a vertex group or a landmark)."""


def require(body: BodyLike, landmarks: tuple[str, ...], groups: tuple[str, ...],
            regions: tuple[str, ...] = ()) -> None:
    """Raise one BodyError naming everything ``body`` lacks of what growth reads."""
    missing = [f"landmark {k!r}" for k in landmarks if k not in body.landmarks]
    missing += [f"vertex group {k!r}" for k in groups if k not in body.groups]
    missing += [f"region {k!r}" for k in regions if k not in getattr(body, "regions", {})]
    if missing:
        raise BodyError(f"strand growth needs {', '.join(missing)} on the body; build it with "
                        f"blurd.scene.makehuman.body.build_body, which provides them")


def smoothstep(lo: float | Array, hi: float | Array, x: Array) -> Array:
    t = np.clip((x - lo) / (np.asarray(hi) - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def normalize(v: Array) -> Array:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class HeadFrame:
    """Head-centred measures: the cranium's centre and radius (a sphere fitted to the skin above the eyes), the eye
    line, chin and crown heights. Elevation/azimuth are taken about ``centre``: azimuth 0 faces the camera (-Y),
    positive towards the subject's left (+X)."""

    centre: Array
    radius: float
    eye_mid: Array
    eye_gap: float  # distance between the eye centres
    eye_z: float
    chin_z: float  # the front of the chin
    top_z: float
    mouth: Array  # centre of the lips
    mouth_half_width: float
    nose_base_z: float

    def spherical(self, p: Array) -> tuple[Array, Array, Array]:
        """Elevation, azimuth (radians) and distance of points about the centre."""
        d = p - self.centre
        r = np.linalg.norm(d, axis=-1)
        e = np.arcsin(np.clip(d[..., 2] / np.maximum(r, 1e-12), -1, 1))
        a = np.arctan2(d[..., 0], -d[..., 1])
        return e, a, r


def head_frame(body: BodyLike) -> HeadFrame:
    require(body, ("eye_l", "eye_r", "head_top", "chin", "nose_tip"), ("body",), ("lips",))
    lm = {k: np.asarray(v, dtype=np.float64) for k, v in body.landmarks.items()}
    eye_mid = 0.5 * (lm["eye_l"] + lm["eye_r"])
    skin = np.asarray(body.verts, dtype=np.float64)[np.asarray(body.groups["body"])]
    cranium = skin[skin[:, 2] > eye_mid[2] + 0.25 * (lm["head_top"][2] - eye_mid[2])]
    a = np.c_[2 * cranium, np.ones(len(cranium))]
    sol = np.linalg.lstsq(a, (cranium ** 2).sum(1), rcond=None)[0]
    centre = sol[:3].copy()
    centre[0] = eye_mid[0]  # the head is symmetric: keep the centre on the mid-plane
    radius = float(np.sqrt(sol[3] + sol[:3] @ sol[:3]))
    lips_w = np.asarray(body.regions["lips"], dtype=np.float64)
    lips = np.asarray(body.verts, dtype=np.float64)[lips_w > 0.5]
    if len(lips) == 0:
        raise BodyError("the body's 'lips' region is empty; strand growth needs it to keep the beard off the lips")
    mouth = lips.mean(0)
    return HeadFrame(centre, radius, eye_mid, float(np.linalg.norm(lm["eye_l"] - lm["eye_r"])), float(eye_mid[2]),
                     float(lm["chin"][2]), float(lm["head_top"][2]), mouth, float(np.abs(lips[:, 0] - mouth[0]).max()),
                     float(lm["nose_tip"][2]) - 0.012)


def triangles(faces: Array) -> Array:
    """Quads split into triangles (triangles pass through)."""
    faces = np.asarray(faces)
    if faces.shape[1] == 3:
        return faces
    return np.concatenate([faces[:, [0, 1, 2]], faces[:, [0, 2, 3]]])


@dataclass(frozen=True)
class Skin:
    """The skin triangles of the head and neck with smooth vertex normals: where roots are sampled."""

    verts: Array
    normals: Array
    tris: Array
    areas: Array

    def sample(self, rng: np.random.Generator, n: int) -> tuple[Array, Array]:
        """``n`` points spread uniformly by area, with interpolated normals."""
        if n <= 0 or len(self.tris) == 0:
            return np.zeros((0, 3)), np.zeros((0, 3))
        t = rng.choice(len(self.tris), size=n, p=self.areas / self.areas.sum())
        u, v = rng.random(n), rng.random(n)
        flip = u + v > 1
        u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
        w = np.stack([1 - u - v, u, v], 1)[:, :, None]
        tri = self.tris[t]
        p = (self.verts[tri] * w).sum(1)
        nrm = normalize((self.normals[tri] * w).sum(1))
        return p, nrm


def head_skin(body: BodyLike, frame: HeadFrame) -> Skin:
    """Skin triangles above the shoulders (the body group only: no helpers, no joint cubes)."""
    verts = np.asarray(body.verts, dtype=np.float64)
    inside = np.zeros(len(verts), bool)
    inside[np.asarray(body.groups["body"])] = True
    tris = triangles(body.faces)
    tris = tris[inside[tris].all(1)]
    low = frame.chin_z - 0.4 * (frame.eye_z - frame.chin_z)  # the upper neck, not the shoulders
    corner = verts[tris]
    axis = np.linalg.norm(corner[:, :, :2] - frame.centre[:2], axis=2)
    neck = (corner[:, :, 2] > frame.chin_z) | (axis < 0.9 * frame.radius)  # below the chin: the neck, no shoulders
    tris = tris[(corner[:, :, 2] > low).all(1) & neck.all(1)]
    cross = np.cross(verts[tris[:, 1]] - verts[tris[:, 0]], verts[tris[:, 2]] - verts[tris[:, 0]])
    normals = np.zeros_like(verts)
    for k in range(3):
        np.add.at(normals, tris[:, k], cross)
    return Skin(verts, normalize(normals), tris, 0.5 * np.linalg.norm(cross, axis=1))


@dataclass(frozen=True)
class Envelope:
    """The outermost skin distance from the head centre per direction (a 1-degree grid): strands are pushed out
    radially to stay above it. The head, ears and neck are star-shaped enough from the centre for this to hold."""

    centre: Array
    table: Array  # (181, 361) metres, elevation -90..90 by azimuth -180..180

    def spherical(self, p: Array) -> tuple[Array, Array, Array]:
        d = p - self.centre
        r = np.linalg.norm(d, axis=-1)
        return np.arcsin(np.clip(d[..., 2] / np.maximum(r, 1e-12), -1, 1)), np.arctan2(d[..., 0], -d[..., 1]), r

    def radius(self, e: Array, a: Array) -> Array:
        fe = np.nan_to_num(np.degrees(e) + 90.0).clip(0, 180 - 1e-6)  # NaN points (dropped strands) read row 0
        fa = np.nan_to_num(np.degrees(a) + 180.0).clip(0, 360 - 1e-6)
        ie, ia = fe.astype(int), fa.astype(int)
        te, ta = fe - ie, fa - ia
        t = self.table
        return ((t[ie, ia] * (1 - ta) + t[ie, ia + 1] * ta) * (1 - te)
                + (t[ie + 1, ia] * (1 - ta) + t[ie + 1, ia + 1] * ta) * te)

    def depth(self, p: Array) -> Array:
        """How far (m) each point lies outside the envelope (negative: inside)."""
        e, a, r = self.spherical(p)
        return r - self.radius(e, a)

    def push_out(self, p: Array, clearance: Array | float) -> Array:
        """Points moved radially out to at least ``clearance`` above the envelope."""
        e, a, r = self.spherical(p)
        floor = self.radius(e, a) + clearance
        low = r < floor
        if not low.any():
            return p
        out = p.copy()
        d = (p[low] - self.centre) / np.maximum(r[low], 1e-9)[:, None]
        out[low] = self.centre + d * np.broadcast_to(floor, r.shape)[low][:, None]
        return out


def envelope(skin: Skin, centre: Array, fallback: float, samples_per_tri: int = 10) -> Envelope:
    """The envelope of ``skin`` seen from ``centre`` (``fallback`` radius where no skin lies in a direction)."""
    rng = np.random.default_rng(0)  # a fixed dense scatter: the table is a property of the shape, not of a seed
    tri = skin.verts[skin.tris]
    uv = rng.random((samples_per_tri, 2))
    uv[uv.sum(1) > 1] = 1 - uv[uv.sum(1) > 1]
    w = np.c_[1 - uv.sum(1), uv]
    pts = np.concatenate([tri.reshape(-1, 3), np.einsum("sk,tkd->tsd", w, tri).reshape(-1, 3)])
    d = pts - centre
    r = np.linalg.norm(d, axis=1)
    e, a = np.arcsin(np.clip(d[:, 2] / r, -1, 1)), np.arctan2(d[:, 0], -d[:, 1])
    ie = np.clip(np.round(np.degrees(e) + 90).astype(int), 0, 180)
    ia = np.clip(np.round(np.degrees(a) + 180).astype(int), 0, 360)
    table = np.zeros((181, 361))
    np.maximum.at(table, (ie, ia), r)
    table[:, 0] = table[:, 360] = np.maximum(table[:, 0], table[:, 360])  # azimuth wraps
    for _ in range(3):  # fill sparse bins from their neighbours (never shrinks a filled bin)
        grown = np.maximum(np.roll(table, 1, 1), np.roll(table, -1, 1))  # azimuth wraps, elevation does not
        grown[1:] = np.maximum(grown[1:], table[:-1])
        grown[:-1] = np.maximum(grown[:-1], table[1:])
        table = np.where(table > 0, table, grown)
    for row in range(179, -1, -1):  # below the cut-off neck, carry the lowest skin radius further down
        table[row] = np.where(table[row] > 0, table[row], table[row + 1])
    table[table == 0] = fallback
    return Envelope(np.asarray(centre, dtype=np.float64), table)


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
        p = np.nan_to_num(p, nan=1e3)  # dropped strands read as off the grid
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
