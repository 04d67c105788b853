"""A shirt with a turn-down collar and a tie with a knot, fitted to one MakeHuman body (numpy + a BVH for seating).

The shirt is the torso and upper arms of the hm08 body pushed out and smoothed (the cloth hides anatomy and hangs
looser at the waist); the collar is a stand band round the neck with a fall folded over it, ending in two points
on the chest; the tie is a knot in the collar's opening and a blade lying on the shirt front. Topologies are fixed
for every identity (the same body vertices, the same grids), so an identity change only moves vertices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mathutils.bvhtree import BVHTree

from ..meshes import grid_faces, join_parts
from .assets import load_assets
from .body import Body, _smoothstep, vertex_normals

Array = np.ndarray
COLLAR_GAP_DEG = 11.0  # half the opening at the front of the collar band, where the knot sits
BAND_HEIGHT = 0.034
SHIRT_DEPTH = 0.30  # how far below the shoulder joints the shirt reaches (the frame ends above it)


@dataclass(frozen=True)
class Garment:
    verts: Array
    faces: Array
    seams: dict[str, Array] | None = None  # per-vertex attributes the shirt material sews seams and a pocket from


def _neck_axis(body: Body) -> tuple[Array, float]:
    """A vertical axis inside the neck, and the height of the neck's base (the jugular notch, just above the
    shoulder joints)."""
    neck = body.landmarks["neck"]
    base = float(body.landmarks["shoulder_l"][2] + body.landmarks["shoulder_r"][2]) / 2 + 0.035
    return np.array([0.0, neck[1] - 0.012, 0.0]), base


def neckline(body: Body, azimuth: Array) -> Array:
    """Height of the collar band's lower edge round the neck: at the notch at the throat, higher at the nape."""
    _, base_z = _neck_axis(body)
    degrees = np.degrees(np.abs((np.asarray(azimuth) + np.pi) % (2 * np.pi) - np.pi))
    return base_z + np.interp(degrees, [0, 30, 60, 90, 135, 180], [0.004, 0.014, 0.038, 0.056, 0.058, 0.054])


def _azimuth(points: Array, axis: Array) -> Array:
    d = points[:, :2] - axis[:2]
    return np.arctan2(d[:, 0], -d[:, 1])


def _body_tree(body: Body) -> BVHTree:
    faces = body.faces[body.face_sets["body"]]
    return BVHTree.FromPolygons(body.verts.astype(np.float64).tolist(), faces.tolist())


def _radial_hits(tree: BVHTree, axis: Array, azimuth: Array, z: Array, reach: float = 0.2) -> Array:
    """Points where rays cast outward from the vertical neck axis first meet the body (the neck's skin)."""
    out = np.zeros((len(z), 3))
    for i, (a, h) in enumerate(zip(azimuth, z)):
        direction = np.array([np.sin(a), -np.cos(a), 0.0])
        start = np.array([axis[0], axis[1], h])
        hit = tree.ray_cast(start.tolist(), direction.tolist(), reach)
        out[i] = hit[0] if hit[0] is not None else start + direction * 0.06
    return out


def shirt(body: Body) -> Garment:
    """The torso and upper arms of the body, offset outward, smoothed, looser toward the waist."""
    axis, neck_z = _neck_axis(body)
    verts = body.verts.astype(np.float64)
    normals = body.normals.astype(np.float64)
    shoulder_z = float(body.landmarks["shoulder_l"][2])
    az = _azimuth(verts, axis)
    near_neck = np.hypot(*(verts[:, :2] - axis[:2]).T) < 0.11
    keep = (verts[:, 2] > shoulder_z - SHIRT_DEPTH) & ((verts[:, 2] < neckline(body, az) + 0.014) | ~near_neck)
    keep &= verts[:, 2] < neck_z + 0.06
    in_body = np.zeros(len(verts), bool)
    in_body[body.groups["body"]] = True
    keep &= in_body
    faces = body.faces[body.face_sets["body"]]
    faces = faces[keep[faces].all(axis=1)]
    used = np.unique(faces)
    remap = np.full(len(verts), -1)
    remap[used] = np.arange(len(used))
    base, n = verts[used], normals[used]
    faces = remap[faces]
    loose = 0.004 + 0.014 * _smoothstep(shoulder_z - 0.05, shoulder_z - 0.28, base[:, 2])
    out = base + n * loose[:, None]
    out = _smooth(out, faces, iterations=20)
    # never inside the skin: at least 3 mm out along the body normal
    depth = np.einsum("ij,ij->i", out - base, n)
    out += n * np.maximum(0.0, 0.003 - depth)[:, None]
    out += vertex_normals(out, faces) * folds(out, shoulder_z)[:, None]
    depth = np.einsum("ij,ij->i", out - base, n)  # folds never sink the cloth into the skin
    out += n * np.maximum(0.0, 0.0035 - depth)[:, None]
    return Garment(out.astype(np.float32), faces, seams(body, used, base))


def seams(body: Body, used: Array, base: Array) -> dict[str, Array]:
    """Per-vertex attributes that place the shirt's sewing, as signed fields the material cuts sharp lines from:
    ``seam_arm`` (zero round each armhole, where the arm's skinning weight crosses one half), ``seam_top`` (zero
    along the top of each shoulder); ``pocket_u`` / ``pocket_v`` run 0..1 across a breast pocket on the left."""
    assets = load_assets()
    hm08 = np.unique(assets.faces)[used]  # body vertex -> hm08 vertex (build_body keeps the used ones in order)
    # signed fields (linear across faces, so the material's |field| < width cuts a sharp line after interpolation)
    arm = np.maximum(*(assets.skin[f"arm_{s}"][hm08] + 0.5 * assets.skin[f"shoulder_{s}"][hm08] for s in "lr"))
    seam_arm = np.where(arm > 0.05, (arm - 0.5) * 0.04, 0.05)
    shoulder = body.landmarks["shoulder_l"]
    on_top = (np.abs(base[:, 0]) > 0.06) & (base[:, 2] > shoulder[2] - 0.02)
    seam_top = np.where(on_top, base[:, 1] - shoulder[1] - 0.006, 0.05)
    top_z = shoulder[2] - 0.03
    u = (base[:, 0] - 0.045) / 0.10
    v = (base[:, 2] - (top_z - 0.11)) / 0.11
    front = base[:, 1] < shoulder[1] - 0.03
    u, v = np.where(front, u, -1.0), np.where(front, v, -1.0)
    return {k: a.astype(np.float32) for k, a in
            (("seam_arm", seam_arm), ("seam_top", seam_top), ("pocket_u", u), ("pocket_v", v))}


def folds(points: Array, shoulder_z: float) -> Array:
    """Outward offsets (m) that drape the cloth: soft vertical folds down the torso, diagonal pulls from the
    armpits toward the chest, and creases round the upper arms. A fixed pattern: the same for every render."""
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    below = _smoothstep(shoulder_z - 0.06, shoulder_z - 0.30, z)
    drape = 0.005 * below * (0.6 * np.sin(36 * x + 9 * z + 0.7) + 0.4 * np.sin(61 * x - 21 * z + 2.1))
    side = np.sign(x)
    armpit = np.exp(-(((np.abs(x) - 0.14) / 0.05) ** 2 + ((z - shoulder_z + 0.12) / 0.07) ** 2))
    pull = 0.004 * armpit * np.sin(55 * (side * x * 0.7 + z * 0.7))
    sleeve = _smoothstep(0.16, 0.2, np.abs(x)) * 0.003 * np.sin(45 * z + 25 * y)
    return drape + pull + sleeve


def _smooth(verts: Array, faces: Array, iterations: int, factor: float = 0.5) -> Array:
    """Uniform Laplacian smoothing with the open boundary held fixed (the cloth loses the body's small forms)."""
    edges = np.concatenate([faces[:, [i, (i + 1) % 4]] for i in range(4)])
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    counts = np.zeros(len(verts))
    np.add.at(counts, edges.ravel(), 1)
    edge_faces = np.concatenate([np.sort(faces[:, [i, (i + 1) % 4]], axis=1) for i in range(4)])
    _, occurrences = np.unique(edge_faces, axis=0, return_counts=True)
    boundary = np.zeros(len(verts), bool)
    boundary[np.unique(edges[occurrences == 1])] = True
    out = verts.copy()
    for _ in range(iterations):
        total = np.zeros_like(out)
        np.add.at(total, edges[:, 0], out[edges[:, 1]])
        np.add.at(total, edges[:, 1], out[edges[:, 0]])
        mean = total / np.maximum(counts, 1)[:, None]
        step = (mean - out) * factor
        step[boundary] = 0.0
        out = out + step
    return out


def collar(body: Body, cols: int = 56) -> Garment:
    """A stand band round the neck, open at the throat, and its fall turned down over it into two points."""
    axis, _ = _neck_axis(body)
    tree = _body_tree(body)
    gap = np.radians(COLLAR_GAP_DEG)
    a = np.linspace(gap, 2 * np.pi - gap, cols)  # from the throat round the subject's left, the nape, the right
    front = np.cos(a).clip(0, 1) ** 3  # 1 at the throat, 0 from the sides back
    z0 = neckline(body, a)
    rows = []
    for t in np.linspace(0.0, 1.0, 5):  # the band, hugging the neck
        z = z0 + t * BAND_HEIGHT * (1 - 0.25 * front)
        hit = _radial_hits(tree, axis, a, z)
        rows.append(_push_out(hit, axis, 0.003 + 0.001 * t))
    top = rows[-1]
    length = BAND_HEIGHT * 1.15 + 0.030 * front  # the fall: longer at the points
    for u in np.linspace(0.15, 1.0, 6):  # the fall, turned down over the band and out over the shirt
        z = top[:, 2] - u * length
        spread = 0.003 + u * (0.005 + 0.006 * front)
        ring = _push_out(np.column_stack([top[:, 0], top[:, 1], z]), axis, spread)
        ring[:, 0] += np.sign(np.sin(a)) * front * u * 0.012  # the points fan out toward the shoulders
        rows.append(ring)
    verts = np.concatenate(rows)
    return Garment(verts.astype(np.float32), grid_faces(len(rows), cols, wrap=False))


def _push_out(points: Array, axis: Array, distance: float | Array) -> Array:
    d = points[:, :2] - axis[:2]
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    out = points.copy()
    out[:, :2] += d * np.asarray(distance).reshape(-1, 1)
    return out


def tie(body: Body, shirt_garment: Garment) -> Garment:
    """A knot in the collar's opening and a blade on the shirt front, widening down the chest."""
    axis, _ = _neck_axis(body)
    z0 = float(neckline(body, np.zeros(1))[0])
    tree = _body_tree(body)
    throat = _radial_hits(tree, axis, np.zeros(1), np.array([z0 + 0.012]))[0]
    shirt_tree = BVHTree.FromPolygons(shirt_garment.verts.astype(np.float64).tolist(),
                                      shirt_garment.faces.tolist())
    # knot: a four-in-hand, an inverted trapezoid seen from the front with squared corners, rounded in depth
    rows, cols = 11, 20
    el = np.linspace(np.pi / 2, -np.pi / 2, rows)
    az = np.linspace(-np.pi, np.pi, cols, endpoint=False)
    e, k = np.meshgrid(el, az, indexing="ij")

    def square(t: Array) -> Array:  # a superellipse: flatter sides, squarer corners
        return np.sign(t) * np.abs(t) ** 0.55

    taper = 0.55 + 0.45 * (np.sin(e) + 1) / 2  # narrow at the bottom
    knot = np.stack([square(np.cos(e) * np.sin(k)) * 0.0195 * taper,
                     -np.cos(e) * np.cos(k).clip(-0.3, 1) * 0.011,
                     square(np.sin(e)) * 0.0185], axis=-1).reshape(-1, 3)
    knot[:, 0] += 0.003 * knot[:, 2] / 0.0185  # a slight slant, as a tied knot has
    knot += np.array([0.0, throat[1] - 0.012, z0 + 0.012])
    knot_faces = grid_faces(rows, cols, wrap=True)
    # blade: from under the knot down the chest, lying on the shirt
    zs = np.linspace(z0 - 0.004, z0 - 0.42, 22)
    half = 0.011 + 0.029 * _smoothstep(zs[0], zs[0] - 0.30, zs)
    u = np.linspace(-1, 1, 7)
    blade = np.zeros((len(zs), len(u), 3))
    for i, (z, h) in enumerate(zip(zs, half)):
        for j, uu in enumerate(u):
            x = uu * h
            hit = shirt_tree.ray_cast((x, -1.0, z), (0.0, 1.0, 0.0), 2.0)
            y = hit[0][1] if hit[0] is not None else throat[1]
            blade[i, j] = (x, y - 0.0035 - 0.0025 * (1 - uu * uu), z)
    # the blade tucks under the knot: its top row sits behind the knot's lower half
    blade[0, :, 1] = np.maximum(blade[0, :, 1], knot[:, 1].min() + 0.004)
    verts, faces = join_parts([(knot, knot_faces), (blade.reshape(-1, 3), grid_faces(len(zs), len(u), wrap=False))])
    return Garment(verts.astype(np.float32), faces)
