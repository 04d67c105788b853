"""Numpy-to-Blender mesh helpers: grids, spheres and shells built from arrays, so every shape is a formula.

All builders return world-space vertex arrays; objects are created with their origin at a chosen point so
materials that read object coordinates (the eyes) work. Nothing here is random: the same call gives the same mesh.
"""

from __future__ import annotations

from collections.abc import Callable

import bpy
import numpy as np
from mathutils.bvhtree import BVHTree

Array = np.ndarray


def grid_faces(rows: int, cols: int, *, wrap: bool) -> Array:
    """Quad indices of a rows x cols vertex grid (row-major); ``wrap`` closes the columns into a ring."""
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols if wrap else cols - 1), indexing="ij")
    c1 = (c + 1) % cols
    return np.stack([r * cols + c, r * cols + c1, (r + 1) * cols + c1, (r + 1) * cols + c], axis=-1).reshape(-1, 4)


def direction(elevation: Array, azimuth: Array) -> Array:
    """Unit vectors for elevation (up from the horizon) and azimuth (0 = the face's front, -Y; +90 = +X) in radians."""
    ce = np.cos(elevation)
    return np.stack([ce * np.sin(azimuth), -ce * np.cos(azimuth), np.sin(elevation)], axis=-1)


def sphere_grid(rows: int, cols: int) -> tuple[Array, Array, Array]:
    """A lat-long grid: (elevation, azimuth, quads); rows run from the top pole to the bottom one."""
    el = np.linspace(np.pi / 2, -np.pi / 2, rows)
    az = np.linspace(-np.pi, np.pi, cols, endpoint=False)
    e, a = np.meshgrid(el, az, indexing="ij")
    return e.ravel(), a.ravel(), grid_faces(rows, cols, wrap=True)


def keep_faces(verts: Array, faces: Array, keep_vertex: Array) -> tuple[Array, Array]:
    """The faces whose every corner is kept, with unused vertices dropped and indices renumbered."""
    faces = faces[np.all(keep_vertex[faces], axis=1)]
    used = np.unique(faces)
    remap = np.full(len(verts), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return verts[used], remap[faces]


def ellipsoid(centre, radii, rows: int = 16, cols: int = 24) -> tuple[Array, Array]:
    """Vertices and quads of an ellipsoid (a lat-long sphere scaled by ``radii``)."""
    el, az, faces = sphere_grid(rows, cols)
    return np.asarray(centre) + direction(el, az) * np.asarray(radii), faces


def new_object(name: str, verts: Array, faces: Array, *, origin=(0.0, 0.0, 0.0), smooth: bool = True,
               collection: bpy.types.Collection | None = None) -> bpy.types.Object:
    """A mesh object from world-space ``verts``, with its origin at ``origin`` (vertices stored relative to it)."""
    mesh = bpy.data.meshes.new(name)
    local = np.asarray(verts, dtype=np.float64) - np.asarray(origin)
    mesh.from_pydata(local.tolist(), [], np.asarray(faces).tolist())
    mesh.validate(clean_customdata=False)
    if smooth:
        mesh.shade_smooth()
    obj = bpy.data.objects.new(name, mesh)
    obj.location = origin
    (collection or bpy.context.scene.collection).objects.link(obj)
    return obj


def join_parts(parts: list[tuple[Array, Array]]) -> tuple[Array, Array]:
    """Concatenate several (verts, faces) pieces into one vertex and face array."""
    verts, faces, offset = [], [], 0
    for v, f in parts:
        verts.append(v)
        faces.append(np.asarray(f) + offset)
        offset += len(v)
    return np.concatenate(verts), np.concatenate(faces)


def add_subdivision(obj: bpy.types.Object, levels: int = 1, render_levels: int | None = None) -> None:
    mod = obj.modifiers.new("Subdivision", "SUBSURF")
    mod.levels = levels
    mod.render_levels = levels if render_levels is None else render_levels


def add_solidify(obj: bpy.types.Object, thickness: float, offset: float = 1.0) -> None:
    mod = obj.modifiers.new("Solidify", "SOLIDIFY")
    mod.thickness = thickness
    mod.offset = offset


def vertex_world(obj: bpy.types.Object) -> Array:
    """World-space vertex positions of a mesh object (objects here are only ever translated)."""
    co = np.empty(len(obj.data.vertices) * 3)
    obj.data.vertices.foreach_get("co", co)
    return co.reshape(-1, 3) + np.asarray(obj.location)


def add_float_attribute(obj: bpy.types.Object, name: str, values: Array) -> None:
    """A per-vertex float attribute that materials read with an Attribute node."""
    attr = obj.data.attributes.new(name, "FLOAT", "POINT")
    attr.data.foreach_set("value", np.asarray(values, dtype=np.float32))


def add_shape_keys(obj: bpy.types.Object, warps: dict[str, Callable[[Array], Array]]) -> None:
    """One shape key per warp field: the key moves each vertex to ``warp(world position)``."""
    if not warps:
        return
    obj.shape_key_add(name="Basis", from_mix=False)
    base = vertex_world(obj)
    origin = np.asarray(obj.location)
    for name, warp in warps.items():
        key = obj.shape_key_add(name=name, from_mix=False)
        key.data.foreach_set("co", (warp(base) - origin).astype(np.float32).ravel())
        key.value = 0.0


class Surface:
    """Ray casts against a set of world-space triangles, to seat features on the head and clothes on the body."""

    def __init__(self, verts: Array, faces: Array) -> None:
        self.tree = BVHTree.FromPolygons(np.asarray(verts).tolist(), np.asarray(faces).tolist())

    def hit(self, origin, direction_) -> tuple[Array, Array] | None:
        loc, normal, _, _ = self.tree.ray_cast(tuple(origin), tuple(direction_))
        return None if loc is None else (np.array(loc), np.array(normal))

    def radial(self, dirs: Array, centre=(0.0, 0.0, 0.0)) -> tuple[Array, Array]:
        """Hit points and normals of rays cast from inside ``centre`` outwards along ``dirs`` (far side first)."""
        pts, nrm = np.zeros_like(dirs), np.zeros_like(dirs)
        c = np.asarray(centre)
        for i, d in enumerate(dirs):
            # cast inwards from outside so the outermost surface is hit
            got = self.hit(c + d * 1.0, -d)
            if got is None:
                got = (c, d)
            pts[i], nrm[i] = got
            if np.dot(nrm[i], d) < 0:
                nrm[i] = -nrm[i]
        return pts, nrm

    def front(self, xz: Array, y_from: float = -1.0) -> tuple[Array, Array]:
        """Hit points and normals of rays cast along +Y from the front at each (x, z)."""
        pts, nrm = np.zeros((len(xz), 3)), np.zeros((len(xz), 3))
        for i, (x, z) in enumerate(xz):
            got = self.hit((x, y_from, z), (0.0, 1.0, 0.0))
            pts[i], nrm[i] = got if got is not None else (np.array([x, 0.0, z]), np.array([0.0, -1.0, 0.0]))
            if nrm[i][1] > 0:
                nrm[i] = -nrm[i]
        return pts, nrm
