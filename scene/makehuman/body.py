"""A person's body from the CC0 MakeHuman hm08 mesh: macro targets for age, gender and race, a slight blink, the
arms lowered out of the A-pose, landmarks for framing and per-vertex regions for hair. Pure numpy, no bpy.

API (what the scene builder and the strand-hair code build on)::

    from blurd.scene.makehuman.body import build_body, Body
    body = build_body(age=30.0, gender="male", race="caucasian")   # cached (LRU of 16); arrays are read-only

    body.verts      (N, 3) float32  Blender metres, Z up, the face toward -Y, +X = the subject's left
                                   (the camera rig of scene/rig.py looks along +Y at the face); the body's
                                   vertices lie on the rendered (subdivided) skin, so strands rooted there are
                                   never buried; ``body.control`` keeps the hm08 control positions
    body.normals    (N, 3) float32  unit vertex normals (outward)
    body.faces      (F, 4) int64    quads into verts (hm08 is all quads)
    body.uvs        (F, 4, 2) float32  per-corner UVs (MakeHuman's layout; the CC0 masks use it)
    body.face_group (F,) int64      index into body.group_names, per face
    body.groups     dict[str, (k,) int64]  vertex indices: "body", "eye_l", "eye_r", "eyelashes_upper_l",
                                   "eyelashes_lower_l", "eyelashes_upper_r", "eyelashes_lower_r", "teeth_upper",
                                   "teeth_lower", "tongue"; the hm08 helper names ("helper-l-eye",
                                   "helper-l-eyelashes-2" = upper lid, "-1" = lower lid, ...) are aliases
    body.face_sets  dict[str, (m,) int64]  face indices per group (same names)
    body.landmarks  dict[str, (3,) float64]  "eye_l", "eye_r", "eyes" (midpoint), "head_top", "chin", "mouth",
                                   "nose_tip", "head_centre", "neck", "shoulder_l", "shoulder_r"
    body.eye_radius float           radius (m) of the eye spheres centred on landmarks eye_l / eye_r
    body.regions    dict[str, (N,) float32]  0..1 per-vertex weights on the body surface (0 off the body):
                                   "scalp" (above the natural hairline), "brow_l", "brow_r", "beard" (moustache,
                                   cheeks, jaw, chin, lips excluded), "lips" and "eyelids" (from the CC0 UV masks)
    body.head_coords(points) -> (elevation, azimuth, radius): head-centred spherical coordinates (radians,
                                   azimuth 0 = the face's front (-Y), +pi/2 = the subject's left (+X))

The hm08 topology never changes, so per-vertex regions and fixed landmark vertices fit every identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np

from .assets import Assets, load_assets
from .macro import Macro, target_weights
from .subdivide import Subdivision, catmull_clark

BLINK = 0.12  # face-unit blink weight: a hint of a lowered lid, so the eyes do not stare
ARM_DROP_DEGREES = 40.0  # how far the arms come down from the A-pose (about the shoulder joint)
CHIN_VERTEX = 5296  # the front of the chin on the midline (hm08 index)
NOSE_TIP_VERTEX = 5072  # hm08 index near the nose tip on the midline (refined by the frontmost midline vertex)
GROUP_NAMES = {  # asset group -> Body group
    "body": "body",
    "helper-l-eye": "eye_l",
    "helper-r-eye": "eye_r",
    "helper-l-eyelashes-2": "eyelashes_upper_l",
    "helper-l-eyelashes-1": "eyelashes_lower_l",
    "helper-r-eyelashes-2": "eyelashes_upper_r",
    "helper-r-eyelashes-1": "eyelashes_lower_r",
    "helper-upper-teeth": "teeth_upper",
    "helper-lower-teeth": "teeth_lower",
    "helper-tongue": "tongue",
}


@dataclass(frozen=True)
class Body:
    """One person's hm08 mesh and what the scene needs around it (see the module docstring)."""

    age: float
    gender: str
    race: str
    verts: np.ndarray
    normals: np.ndarray
    faces: np.ndarray
    uvs: np.ndarray
    face_group: np.ndarray
    group_names: tuple[str, ...]
    groups: dict[str, np.ndarray]
    face_sets: dict[str, np.ndarray]
    landmarks: dict[str, np.ndarray]
    eye_radius: float
    regions: dict[str, np.ndarray] = field(default_factory=dict)
    control: np.ndarray | None = None  # the hm08 control vertices (verts moved onto the subdivided render surface)

    @property
    def key(self) -> tuple[float, str, str]:
        return (self.age, self.gender, self.race)

    @property
    def head_height(self) -> float:
        """Top of the head to the chin (m): the framing scale."""
        return float(self.landmarks["head_top"][2] - self.landmarks["chin"][2])

    def head_coords(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(elevation, azimuth, radius) of ``points`` around landmarks["head_centre"]."""
        return head_coords(points, self.landmarks["head_centre"])


def head_coords(points: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(points, np.float64) - centre
    r = np.linalg.norm(d, axis=-1)
    elevation = np.arcsin(np.clip(d[..., 2] / np.maximum(r, 1e-9), -1, 1))
    azimuth = np.arctan2(d[..., 0], -d[..., 1])
    return elevation, azimuth, r


def apply_targets(assets: Assets, weights: dict[str, float], verts: np.ndarray) -> np.ndarray:
    """``verts`` moved by every weighted target (in place, returned)."""
    for name, w in weights.items():
        target = assets.targets[name]
        np.add.at(verts, target.indices, target.deltas * np.float32(w))
    return verts


def _rotation_y(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], np.float32)


def lower_arms(assets: Assets, verts: np.ndarray, degrees: float = ARM_DROP_DEGREES) -> np.ndarray:
    """Linear-blend skinning of one rotation per side: the arm chain turns about the shoulder joint by ``degrees``
    (the shoulder bone by half), lowering the arms out of the A-pose."""
    out = verts.copy()
    for side, sign in (("l", 1.0), ("r", -1.0)):
        pivot = verts[assets.groups[f"joint-{side}-shoulder"]].mean(axis=0)
        for part, fraction in (("arm", 1.0), ("shoulder", 0.5)):
            w = assets.skin[f"{part}_{side}"][:, None]
            if not w.any():
                continue
            rotated = (verts - pivot) @ _rotation_y(sign * np.radians(degrees * fraction)).T + pivot
            out += w * (rotated - verts)
    return out


def vertex_normals(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals of a quad mesh."""
    v = verts.astype(np.float64)
    a, b, c, d = (v[faces[:, i]] for i in range(4))
    n = np.cross(c - a, d - b)  # the quad's diagonal cross product (twice its vector area)
    normals = np.zeros_like(v)
    for i in range(4):
        np.add.at(normals, faces[:, i], n)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return (normals / np.maximum(length, 1e-12)).astype(np.float32)


def _smoothstep(lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def hairline(azimuth: np.ndarray) -> np.ndarray:
    """Elevation (radians, around landmarks["head_centre"]) of a natural hairline: high on the forehead, low at the
    nape."""
    deg = np.degrees(np.abs(azimuth))
    return np.radians(np.interp(deg, [0, 20, 35, 50, 65, 80, 100, 130, 180], [36, 35, 31, 28, 18, 8, 6, -18, -32]))


def _uv_mask_weight(mask: np.ndarray, box: np.ndarray, uvs: np.ndarray, faces: np.ndarray, n: int) -> np.ndarray:
    """Per-vertex 0..1 weight sampled from a cropped UV mask (max over the vertex's face corners)."""
    h, w = mask.shape
    px = np.rint((uvs[..., 0] - box[0]) / (box[2] - box[0]) * w).astype(int)
    py = np.rint((uvs[..., 1] - box[1]) / (box[3] - box[1]) * h).astype(int)
    inside = (px >= 0) & (px < w) & (py >= 0) & (py < h)
    values = np.where(inside, mask[np.clip(py, 0, h - 1), np.clip(px, 0, w - 1)], 0).astype(np.float32) / 255.0
    out = np.zeros(n, np.float32)
    np.maximum.at(out, faces.ravel(), values.ravel())
    return out


def _regions(verts: np.ndarray, normals: np.ndarray, body_idx: np.ndarray, landmarks: dict[str, np.ndarray],
             uvs: np.ndarray, faces: np.ndarray, masks: dict[str, np.ndarray], box: np.ndarray
             ) -> dict[str, np.ndarray]:
    n = len(verts)
    on_body = np.zeros(n, bool)
    on_body[body_idx] = True
    el, az, _ = head_coords(verts, landmarks["head_centre"])
    head = _smoothstep(landmarks["chin"][2] - 0.03, landmarks["chin"][2] + 0.01, verts[:, 2])
    scalp = _smoothstep(0.0, np.radians(6), el - hairline(az)) * head * on_body
    eyes = landmarks["eyes"]
    front = _smoothstep(0.0, 0.4, -normals[:, 1])
    brows = {}
    for side, key in ((1.0, "brow_l"), (-1.0, "brow_r")):
        eye = landmarks["eye_l" if side > 0 else "eye_r"]
        dx = (verts[:, 0] - eye[0]) * side  # + toward the ear
        arc = eye[2] + 0.017 + 0.004 * (1 - (dx / 0.022) ** 2) - 0.004 * np.clip(dx / 0.022, 0, 1)
        along = _smoothstep(-0.026, -0.018, dx) * _smoothstep(0.03, 0.02, dx)
        across = np.exp(-(((verts[:, 2] - arc) / 0.0045) ** 2))
        brows[key] = (along * across * front * on_body).astype(np.float32)
    lips = _uv_mask_weight(masks["lips"], box, uvs, faces, n) * on_body
    eyelids = _uv_mask_weight(masks["eyelids"], box, uvs, faces, n) * on_body
    nose_bottom = landmarks["nose_tip"][2] - 0.012
    height = verts[:, 2] + 0.25 * np.abs(verts[:, 0] - eyes[0])  # the cheek line rises toward the ears
    below_cheek = _smoothstep(nose_bottom + 0.012, nose_bottom - 0.004, height)
    jaw = _smoothstep(landmarks["chin"][2] - 0.045, landmarks["chin"][2] - 0.01, verts[:, 2])
    sideways = _smoothstep(np.radians(105), np.radians(85), np.abs(az))
    beard = below_cheek * jaw * sideways * (1.0 - _smoothstep(0.15, 0.5, lips)) * on_body
    return {"scalp": scalp.astype(np.float32), **brows, "beard": beard.astype(np.float32),
            "lips": lips.astype(np.float32), "eyelids": eyelids.astype(np.float32)}


def _landmarks(verts: np.ndarray, groups: dict[str, np.ndarray], assets_idx: dict[str, np.ndarray],
               full: np.ndarray) -> tuple[dict[str, np.ndarray], float]:
    eye_l = verts[groups["eye_l"]].astype(np.float64).mean(axis=0)
    eye_r = verts[groups["eye_r"]].astype(np.float64).mean(axis=0)
    radius = float(np.linalg.norm(verts[groups["eye_l"]] - eye_l, axis=1).mean())
    body = verts[groups["body"]].astype(np.float64)
    head = body[(body[:, 2] > eye_l[2]) & (np.abs(body[:, 0]) < 0.12)]
    top = head[np.argmax(head[:, 2])]
    eyes = (eye_l + eye_r) / 2
    midline = body[(np.abs(body[:, 0]) < 0.004) & (body[:, 2] < eyes[2]) & (body[:, 2] > eyes[2] - 0.07)]
    nose = midline[np.argmin(midline[:, 1])]
    landmarks = {
        "eye_l": eye_l, "eye_r": eye_r, "eyes": eyes,
        "head_top": np.array([0.0, top[1], top[2]]),
        "chin": full[CHIN_VERTEX].astype(np.float64),
        "mouth": full[assets_idx["joint-mouth"]].astype(np.float64).mean(axis=0),
        "nose_tip": nose,
        "neck": full[assets_idx["joint-neck"]].astype(np.float64).mean(axis=0),
        "shoulder_l": full[assets_idx["joint-l-shoulder"]].astype(np.float64).mean(axis=0),
        "shoulder_r": full[assets_idx["joint-r-shoulder"]].astype(np.float64).mean(axis=0),
    }
    landmarks["head_centre"] = np.array([0.0, eyes[1] + 0.085, eyes[2] + 0.012])
    return landmarks, radius


@cache
def _body_subdivision() -> tuple[np.ndarray, Subdivision]:
    """The body's vertices (compact indices) and the level-1 Catmull-Clark operator of the body's quads; the first
    rows of its result are where the render surface passes through each body vertex."""
    assets = load_assets()
    used = np.unique(assets.faces)
    body_faces = np.searchsorted(used, assets.faces[assets.face_group == 0])
    skin_used = np.unique(body_faces)
    return skin_used, catmull_clark(np.searchsorted(skin_used, body_faces), len(skin_used))


@lru_cache(maxsize=16)
def build_body(age: float, gender: str, race: str) -> Body:
    """The body of one identity (age 18..90 years, gender male|female, race caucasian|asian|african|hispanic).

    Raises IdentityError for values out of range and MissingAssetsError when the asset file is missing.
    """
    assets = load_assets()
    macro = Macro.from_factors(age, gender, race)
    names = list(assets.targets)
    full = assets.base_verts.copy()
    apply_targets(assets, target_weights(macro, names), full)
    apply_targets(assets, {"faceunits/eyeBlinkLeft": BLINK, "faceunits/eyeBlinkRight": BLINK}, full)
    full = lower_arms(assets, full)
    # keep only the rendered groups' vertices, renumbered
    used = np.unique(assets.faces)
    remap = np.full(len(full), -1, np.int64)
    remap[used] = np.arange(len(used))
    verts = full[used].astype(np.float32)
    faces = remap[assets.faces]
    uvs = assets.uvs[assets.face_uvs]
    names_in = assets.face_group_names
    group_names = tuple(GROUP_NAMES[n] for n in names_in)
    groups = {GROUP_NAMES[n]: remap[assets.groups[n]][remap[assets.groups[n]] >= 0] for n in names_in}
    groups.update({n: groups[GROUP_NAMES[n]] for n in names_in if n != "body"})  # hm08 names as aliases
    face_sets = {GROUP_NAMES[n]: np.flatnonzero(assets.face_group == i) for i, n in enumerate(names_in)}
    control = verts.copy()
    skin_used, subdivision = _body_subdivision()
    verts[skin_used] = subdivision.apply(control[skin_used])[: len(skin_used)].astype(np.float32)
    normals = vertex_normals(verts, faces)
    landmarks, eye_radius = _landmarks(verts, groups, assets.groups, full)
    regions = _regions(verts, normals, groups["body"], landmarks, uvs, faces, assets.masks, assets.mask_box)
    body = Body(float(age), gender, race, verts, normals, faces, uvs, assets.face_group, group_names, groups,
                face_sets, landmarks, eye_radius, regions, control)
    for array in (verts, control, normals, faces, uvs, *groups.values(), *face_sets.values(), *landmarks.values(),
                  *regions.values()):
        array.flags.writeable = False
    return body
