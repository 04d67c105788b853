"""The Blender objects of the MakeHuman human and the per-identity mesh data they show.

Objects are made once per scene with fixed names (the binding file and the masks address them); an identity's
geometry lives in its own mesh/curves datablocks (``IdentityData``), which ``show`` swaps in. So a sweep that
returns to an identity, or changes only colours, camera, light or background, never rebuilds anything.

Objects and their parts (custom property ``blurd_part`` and ``pass_index`` as in factors.layout.PARTS):
``BLURD_Body`` skin (the subdivided hm08 body without the lips), ``BLURD_Lips`` lips (the lips, sharing the
border vertices with the body), ``BLURD_Eye_L`` / ``BLURD_Eye_R`` eyes (tracking the camera), ``BLURD_Mouth``
skin (teeth, tongue), ``BLURD_Shirt`` + ``BLURD_Collar`` shirt, ``BLURD_Tie`` tie, and the strand objects
``BLURD_Hair`` hair, ``BLURD_Beard`` beard, ``BLURD_Eyebrows`` eyebrows, ``BLURD_Eyelashes`` eyes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import bpy
import numpy as np

from ...factors.parts import PART_BY_NAME, PART_PROPERTY
from ..meshes import grid_faces
from ..strands import growth
from ..strands import objects as strand_objects
from ..strands import shading as strand_shading
from ..strands.styles import BeardStyle, HairStyle, StrandPart
from . import clothes, shading
from .assets import load_assets
from .body import Body, vertex_normals
from .subdivide import Subdivision, catmull_clark

BODY, LIPS, MOUTH = "BLURD_Body", "BLURD_Lips", "BLURD_Mouth"
EYES = {"l": "BLURD_Eye_L", "r": "BLURD_Eye_R"}
SHIRT, COLLAR, TIE = "BLURD_Shirt", "BLURD_Collar", "BLURD_Tie"
HAIR, BEARD, EYEBROWS, EYELASHES = "BLURD_Hair", "BLURD_Beard", "BLURD_Eyebrows", "BLURD_Eyelashes"
STRAND_OBJECTS = {StrandPart.HAIR: HAIR, StrandPart.BEARD: BEARD, StrandPart.EYEBROWS: EYEBROWS,
                  StrandPart.EYELASHES: EYELASHES}
LIPS_THRESHOLD = 0.45  # hm08 faces whose centre lies this far into the CC0 lips mask form the lips object
HAIR_SEED = 8  # strands are grown from a fixed seed: the same identity always gets the same hair


@dataclass(frozen=True)
class BodyTopology:
    """The fixed split of the subdivided body: which new vertices/faces belong to the skin and the lips."""

    subdivision: Subdivision
    skin_faces: np.ndarray  # indices into subdivision.faces
    lips_faces: np.ndarray
    skin_verts: np.ndarray  # subdivided vertex indices used by each object
    lips_verts: np.ndarray


@cache
def body_topology() -> BodyTopology:
    """The subdivision operator and the skin/lips split (the same for every identity)."""
    assets = load_assets()
    any_body = _reference_body()
    faces = any_body.faces[any_body.face_sets["body"]]
    used = np.unique(faces)
    sub = catmull_clark(np.searchsorted(used, faces), len(used))
    mask = assets.masks["lips"]
    box = assets.mask_box
    uv = any_body.uvs[any_body.face_sets["body"]].mean(axis=1)
    h, w = mask.shape
    px = np.clip(((uv[:, 0] - box[0]) / (box[2] - box[0]) * w).astype(int), 0, w - 1)
    py = np.clip(((uv[:, 1] - box[1]) / (box[3] - box[1]) * h).astype(int), 0, h - 1)
    inside = (uv[:, 0] >= box[0]) & (uv[:, 0] <= box[2]) & (uv[:, 1] >= box[1]) & (uv[:, 1] <= box[3])
    is_lips = inside & (mask[py, px] / 255.0 > LIPS_THRESHOLD)
    child_lips = is_lips[sub.parent]
    skin_faces, lips_faces = np.flatnonzero(~child_lips), np.flatnonzero(child_lips)
    return BodyTopology(sub, skin_faces, lips_faces, np.unique(sub.faces[skin_faces]),
                        np.unique(sub.faces[lips_faces]))


def _reference_body() -> Body:
    from .body import build_body

    return build_body(30.0, "male", "caucasian")


def shading_attributes(body: Body) -> dict[str, np.ndarray]:
    """Per-vertex 0..1 weights the skin material reads: redness (cheeks, nose, ears), the shiny T-zone, forehead
    lines and the deeper folds of age (nasolabial, under the eyes)."""
    v = body.verts.astype(np.float64)
    lm = body.landmarks
    eyes, nose, mouth = lm["eyes"], lm["nose_tip"], lm["mouth"]
    gap = float(np.linalg.norm(lm["eye_l"] - lm["eye_r"]))

    def blob(centre, radii):
        d = (v - centre) / np.asarray(radii)
        return np.exp(-np.sum(d * d, axis=1))

    front = np.clip(-body.normals[:, 1] * 2, 0, 1)
    cheeks = sum(blob(eyes + [s * 0.62 * gap, -0.005, -0.035], (0.022, 0.02, 0.018)) for s in (-1, 1)) * front
    ears = sum(blob([s * 0.075, eyes[1] + 0.10, eyes[2] - 0.01], (0.016, 0.03, 0.03)) for s in (-1, 1))
    redness = np.clip(cheeks + 0.7 * blob(nose, (0.012, 0.015, 0.01)) + 0.8 * ears, 0, 1)
    tzone = np.clip(blob(eyes + [0, -0.01, 0.045], (0.035, 0.03, 0.02)) + blob(nose, (0.01, 0.02, 0.03)), 0, 1)
    forehead = blob(eyes + [0, -0.01, 0.05], (0.04, 0.05, 0.022)) * front
    folds = sum(blob(mouth + [s * 0.025, -0.01, 0.012], (0.006, 0.02, 0.018)) for s in (-1, 1))
    folds = folds + sum(blob(lm[f"eye_{k}"] + [0, -0.01, -0.018], (0.014, 0.02, 0.004)) for k in "lr")
    return {"redness": redness, "tzone": tzone, "forehead": forehead, "folds": np.clip(folds, 0, 1) * front,
            "beard": body.regions["beard"]}


def _set_attributes(mesh: bpy.types.Mesh, values: dict[str, np.ndarray]) -> None:
    for name, data in values.items():
        attr = mesh.attributes.get(name) or mesh.attributes.new(name, "FLOAT", "POINT")
        attr.data.foreach_set("value", np.ascontiguousarray(data, np.float32))


def _mesh(name: str, verts: np.ndarray, faces: np.ndarray, uvs: np.ndarray | None = None,
          normals: np.ndarray | None = None) -> bpy.types.Mesh:
    """A smooth-shaded mesh from arrays; ``uvs`` per face corner (F, 4, 2); ``normals`` per vertex (custom)."""
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(np.asarray(verts, np.float64).tolist(), [], np.asarray(faces).tolist())
    if uvs is not None:
        layer = mesh.uv_layers.new(name="UVMap")
        layer.data.foreach_set("uv", np.ascontiguousarray(uvs, np.float32).ravel())
    mesh.shade_smooth()
    if normals is not None:
        mesh.normals_split_custom_set_from_vertices(np.asarray(normals, np.float32).tolist())
    mesh.update()
    return mesh


def body_meshes(body: Body, key: str) -> tuple[bpy.types.Mesh, bpy.types.Mesh, bpy.types.Mesh]:
    """The skin, lips and mouth meshes of one identity."""
    topo = body_topology()
    faces = body.faces[body.face_sets["body"]]
    used = np.unique(faces)
    sub = topo.subdivision
    control = body.control if body.control is not None else body.verts
    verts = sub.apply(control[used])
    normals = vertex_normals(verts, sub.faces)
    uvs = sub.corners(body.uvs[body.face_sets["body"]])
    attributes = {k: sub.apply(a[used]) for k, a in shading_attributes(body).items()}
    out = []
    for label, face_ids, vert_ids in (("skin", topo.skin_faces, topo.skin_verts),
                                      ("lips", topo.lips_faces, topo.lips_verts)):
        remap = np.full(sub.n_new, -1)
        remap[vert_ids] = np.arange(len(vert_ids))
        mesh = _mesh(f"{BODY if label == 'skin' else LIPS}.{key}", verts[vert_ids], remap[sub.faces[face_ids]],
                     uvs[face_ids], normals[vert_ids])
        _set_attributes(mesh, {k: a[vert_ids] for k, a in attributes.items()})
        out.append(mesh)
    mouth_faces = np.concatenate([body.face_sets[g] for g in ("teeth_upper", "teeth_lower", "tongue")])
    mouth_used = np.unique(body.faces[mouth_faces])
    remap = np.full(len(body.verts), -1)
    remap[mouth_used] = np.arange(len(mouth_used))
    mouth = _mesh(f"{MOUTH}.{key}", body.verts[mouth_used], remap[body.faces[mouth_faces]])
    tongue = np.isin(mouth_faces, body.face_sets["tongue"])
    mouth.polygons.foreach_set("material_index", tongue.astype(np.int32))
    out.append(mouth)
    return out[0], out[1], out[2]


def eye_mesh(radius: float, rows: int = 24, cols: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """A sphere round the origin with a cornea bulging along -Y (the gaze axis)."""
    el = np.linspace(np.pi / 2, -np.pi / 2, rows)
    az = np.linspace(-np.pi, np.pi, cols, endpoint=False)
    e, a = np.meshgrid(el, az, indexing="ij")
    d = np.stack([np.cos(e) * np.sin(a), np.sin(e), np.cos(e) * np.cos(a)], axis=-1).reshape(-1, 3)
    d = d[:, [0, 2, 1]] * np.array([1.0, -1.0, 1.0])  # pole axis along -Y: rings round the gaze
    angle = np.arccos(np.clip(-d[:, 1], -1, 1))
    bulge = 1.0 + 0.07 * np.clip(1 - angle / 0.5, 0, 1) ** 2
    return d * radius * bulge[:, None], grid_faces(rows, cols, wrap=True)


def clothes_meshes(body: Body, key: str) -> tuple[bpy.types.Mesh, bpy.types.Mesh, bpy.types.Mesh]:
    shirt = clothes.shirt(body)
    collar = clothes.collar(body)
    tie = clothes.tie(body, shirt)
    shirt_mesh = _mesh(f"{SHIRT}.{key}", shirt.verts, shirt.faces)
    _set_attributes(shirt_mesh, shirt.seams or {})
    return (shirt_mesh, _mesh(f"{COLLAR}.{key}", collar.verts, collar.faces),
            _mesh(f"{TIE}.{key}", tie.verts, tie.faces))


@dataclass
class IdentityData:
    """The datablocks of one identity (age, gender, race): body, clothes, brows and lashes."""

    body: Body
    meshes: dict[str, bpy.types.Mesh]
    strands: dict[str, bpy.types.ID]

    def remove(self) -> None:
        for block in {id(b): b for b in (*self.meshes.values(), *self.strands.values())}.values():
            collection = bpy.data.meshes if isinstance(block, bpy.types.Mesh) else bpy.data.hair_curves
            if block.users == 0:
                collection.remove(block)


def identity_data(body: Body, density: float) -> IdentityData:
    key = f"{body.race}_{body.gender}_{body.age:g}"
    skin, lips, mouth = body_meshes(body, key)
    shirt, collar, tie = clothes_meshes(body, key)
    strands = {EYEBROWS: strand_curves(StrandPart.EYEBROWS, body, density, key),
               EYELASHES: strand_curves(StrandPart.EYELASHES, body, density, key)}
    eye = _mesh(f"BLURD_Eye.{key}", *eye_mesh(body.eye_radius))  # both eyes share one sphere
    meshes = {BODY: skin, LIPS: lips, MOUTH: mouth, SHIRT: shirt, COLLAR: collar, TIE: tie, EYES["l"]: eye,
              EYES["r"]: eye}
    return IdentityData(body, meshes, strands)


def strand_curves(style: HairStyle | BeardStyle | StrandPart, body: Body, density: float, key: str
                  ) -> bpy.types.ID:
    """A hair-curves datablock of ``style`` grown on ``body`` (empty for the 'none' styles)."""
    strands = growth.grow(style, body, density, HAIR_SEED)
    obj = strand_objects.make_hair_object(f"BLURD_strands.{style.value}.{key}", strands, None)
    curves = obj.data
    bpy.data.objects.remove(obj)
    return curves


def _tag(obj: bpy.types.Object, part: str) -> None:
    obj[PART_PROPERTY] = part
    obj.pass_index = PART_BY_NAME[part].pass_index


def build_objects(collection: bpy.types.Collection, first: IdentityData, camera: bpy.types.Object
                  ) -> dict[str, bpy.types.Object]:
    """Every object of the human, showing ``first``; materials made here (names in ``shading``)."""
    assets = load_assets()
    mats = {
        "skin": shading.skin(assets), "lips": shading.lips(assets), "eye": shading.eye(),
        "shirt": shading.cloth(shading.SHIRT, "Shirt Colour", (0.9, 0.9, 0.9), "shirt", tie=False),
        "tie": shading.cloth(shading.TIE, "Tie Colour", (0.05, 0.15, 0.8), "tie", tie=True),
    }
    teeth, inner = shading.mouth()
    objs: dict[str, bpy.types.Object] = {}

    def add(name: str, data, part: str, materials: list) -> bpy.types.Object:
        obj = bpy.data.objects.new(name, data)
        collection.objects.link(obj)
        for mat in materials:
            obj.data.materials.append(mat)
        _tag(obj, part)
        objs[name] = obj
        return obj

    add(BODY, first.meshes[BODY], "skin", [mats["skin"]])
    add(LIPS, first.meshes[LIPS], "lips", [mats["lips"]])
    add(MOUTH, first.meshes[MOUTH], "skin", [teeth, inner])
    for name in EYES.values():
        eye = add(name, first.meshes[name], "eyes", [mats["eye"]])
        track = eye.constraints.new("DAMPED_TRACK")
        track.target = camera
        track.track_axis = "TRACK_NEGATIVE_Y"
    for name, part, mat, solid in ((SHIRT, "shirt", "shirt", 0.0), (COLLAR, "shirt", "shirt", 0.0015),
                                   (TIE, "tie", "tie", 0.0025)):
        obj = add(name, first.meshes[name], part, [mats[mat]])
        if solid:
            mod = obj.modifiers.new("Thickness", "SOLIDIFY")
            mod.thickness = solid
            mod.offset = 1.0
        sub = obj.modifiers.new("Subdivision", "SUBSURF")
        sub.levels = sub.render_levels = 1
    for part, name in STRAND_OBJECTS.items():
        data = first.strands.get(name) or bpy.data.hair_curves.new(f"{name}.empty")
        obj = add(name, data, part.value, [])
        # the hair material is linked to the object, so swapping curves datablocks keeps the colour bindings
        if not data.materials:
            data.materials.append(None)
        obj.material_slots[0].link = "OBJECT"
        obj.material_slots[0].material = strand_shading.hair_material(part)
    show(objs, first)
    return objs


def show(objs: dict[str, bpy.types.Object], data: IdentityData) -> None:
    """Swap ``data``'s datablocks into the objects and seat the eyes (instant: nothing is rebuilt)."""
    for name, mesh in data.meshes.items():
        materials = [s.material for s in objs[name].material_slots]
        if objs[name].data is not mesh:
            objs[name].data = mesh
            if not mesh.materials:
                for mat in materials:
                    mesh.materials.append(mat)
    for name, curves in data.strands.items():
        show_curves(objs[name], curves)
    for side, name in EYES.items():
        objs[name].location = data.body.landmarks[f"eye_{side}"]


def show_curves(obj: bpy.types.Object, curves: bpy.types.ID) -> None:
    """Put ``curves`` into a strand object, keeping its object-linked hair material."""
    if obj.data is curves:
        return
    material = obj.material_slots[0].material if obj.material_slots else None
    if not curves.materials:
        curves.materials.append(None)
    obj.data = curves
    obj.material_slots[0].link = "OBJECT"
    obj.material_slots[0].material = material


# Objects whose colour a factor sets are hidden from the bounce rays of other objects, so a colour factor changes
# only the pixels of its own part (control fidelity); hair and beard strands still see each other through
# transmission, which keeps fair hair from rendering black (brows and lashes are too sparse to need it). Skin and
# mouth stay visible to glossy rays: skin reflecting skin (no colour factor acts there but make-up, part skin).
HIDDEN_FROM_BOUNCES = {
    LIPS: ("glossy", "transmission"), EYES["l"]: ("glossy", "transmission"), EYES["r"]: ("glossy", "transmission"),
    SHIRT: ("glossy", "transmission"), COLLAR: ("glossy", "transmission"), TIE: ("glossy", "transmission"),
    HAIR: ("glossy",), BEARD: ("glossy",), EYEBROWS: ("glossy", "transmission"),
    EYELASHES: ("glossy", "transmission"),
}


def apply_ray_visibility(objs: dict[str, bpy.types.Object]) -> None:
    """Per-object ray visibility (see HIDDEN_FROM_BOUNCES)."""
    for name, rays in HIDDEN_FROM_BOUNCES.items():
        for ray in rays:
            setattr(objs[name], f"visible_{ray}", False)
