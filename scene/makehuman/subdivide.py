"""One level of Catmull-Clark subdivision of a quad mesh as a fixed linear operator (pure numpy).

The hm08 topology never changes, so the operator is built once and applied to every identity's vertices in a few
milliseconds. Having the subdivided surface as arrays (instead of a modifier) lets the body be split into a skin
and a lips object that share their border vertices exactly (no crack, seamless normals), so each part has its own
object for the masks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Subdivision:
    """New vertices = sparse (rows, cols, weights) times old vertices; ``faces`` are the new quads, ``parent`` the
    old face of each, ``corner_weights`` turn per-face-corner data (UVs) of the old mesh into the new corners."""

    n_old: int
    n_new: int
    rows: Array
    cols: Array
    weights: Array
    faces: Array
    parent: Array
    corner_rows: Array  # (F_new * 4) new corner -> weights over the old face's 4 corners
    corner_weights: Array  # (F_new * 4, 4)

    def apply(self, values: Array) -> Array:
        """Per-vertex values (N, ...) of the old mesh on the new vertices."""
        values = np.asarray(values, np.float64)
        flat = values.reshape(self.n_old, -1)
        out = np.zeros((self.n_new, flat.shape[1]))
        for c in range(flat.shape[1]):
            out[:, c] = np.bincount(self.rows, self.weights * flat[self.cols, c], minlength=self.n_new)
        return out.reshape((self.n_new, *values.shape[1:]))

    def corners(self, corner_values: Array) -> Array:
        """Per-face-corner values (F_old, 4, D) of the old mesh on the new faces' corners (F_new, 4, D)."""
        old = np.asarray(corner_values, np.float64)[self.parent]  # (F_new, 4, D)
        w = self.corner_weights.reshape(len(self.faces), 4, 4)
        return np.einsum("fck,fkd->fcd", w, old)


def catmull_clark(faces: Array, n_verts: int) -> Subdivision:
    """The level-1 Catmull-Clark operator of a quad mesh (boundaries kept as cubic B-splines)."""
    faces = np.asarray(faces, np.int64)
    n_faces = len(faces)
    half = np.stack([faces, np.roll(faces, -1, axis=1)], axis=-1).reshape(-1, 2)  # (F*4, 2): corner i -> i+1
    key = np.sort(half, axis=1)
    edges, edge_of_half, edge_count = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    edge_of_half = edge_of_half.ravel()
    n_edges = len(edges)
    face_of_half = np.repeat(np.arange(n_faces), 4)
    boundary_edge = edge_count == 1
    face_base = n_verts
    edge_base = n_verts + n_faces
    rows, cols, weights = [], [], []

    def add(r, c, w):
        rows.append(np.asarray(r, np.int64).ravel())
        cols.append(np.asarray(c, np.int64).ravel())
        weights.append(np.broadcast_to(np.asarray(w, np.float64), np.asarray(r).shape).ravel())

    # face points: the mean of the face's corners
    add(np.repeat(face_base + np.arange(n_faces), 4), faces.ravel(), 0.25)
    # edge points: interior = (ends + adjacent face points) / 4, boundary = midpoint
    e_rows = edge_base + np.arange(n_edges)
    interior = ~boundary_edge
    for end in (0, 1):
        add(e_rows, edges[:, end], np.where(interior, 0.25, 0.5))
    # the adjacent faces' points: each face contributes its corners / 16 to each interior edge
    h_interior = interior[edge_of_half]
    he = edge_of_half[h_interior]
    hf = face_of_half[h_interior]
    add(np.repeat(edge_base + he, 4), faces[hf].ravel(), 0.25 * 0.25)
    # vertex points
    valence = np.bincount(edges.ravel(), minlength=n_verts).astype(np.float64)
    on_boundary = np.zeros(n_verts, bool)
    on_boundary[edges[boundary_edge].ravel()] = True
    face_valence = np.bincount(faces.ravel(), minlength=n_verts).astype(np.float64)
    inner = ~on_boundary & (valence > 0)
    n = np.maximum(valence, 1)
    # (Q + 2R + (n - 3) P) / n with Q = mean face point, R = mean edge midpoint
    v = np.arange(n_verts)
    add(v[inner], v[inner], (n[inner] - 3) / n[inner])
    corner_v = faces.ravel()
    use = inner[corner_v]
    cv = corner_v[use]
    add(np.repeat(cv, 4), faces[np.repeat(np.arange(n_faces), 4)[use]].ravel(),
        np.repeat(0.25 / (face_valence[cv] * n[cv]), 4))
    for end, other in ((0, 1), (1, 0)):
        a, b = edges[:, end], edges[:, other]
        use = inner[a]
        add(a[use], a[use], 2 * 0.5 / (valence[a[use]] * n[a[use]]))
        add(a[use], b[use], 2 * 0.5 / (valence[a[use]] * n[a[use]]))
    # boundary vertices: 3/4 P + 1/8 each boundary neighbour
    bv = v[on_boundary]
    add(bv, bv, 0.75)
    be = edges[boundary_edge]
    for end, other in ((0, 1), (1, 0)):
        add(be[:, end], be[:, other], 0.125)
    # isolated vertices keep their place
    lone = valence == 0
    add(v[lone], v[lone], 1.0)
    # new faces: (corner, edge to next, face point, edge from previous)
    e = edge_of_half.reshape(n_faces, 4)
    new_faces = []
    for i in range(4):
        new_faces.append(np.stack([faces[:, i], edge_base + e[:, i], face_base + np.arange(n_faces),
                                   edge_base + e[:, (i - 1) % 4]], axis=1))
    new_faces = np.stack(new_faces, axis=1).reshape(-1, 4)
    parent = np.repeat(np.arange(n_faces), 4)
    # per-corner weights (bilinear: corner, edge midpoints, centre) over the old face's 4 corners
    cw = np.zeros((4, 4, 4))
    for i in range(4):
        cw[i, 0, i] = 1.0
        cw[i, 1, i] = cw[i, 1, (i + 1) % 4] = 0.5
        cw[i, 2, :] = 0.25
        cw[i, 3, i] = cw[i, 3, (i - 1) % 4] = 0.5
    corner_weights = np.tile(cw.reshape(16, 4), (n_faces, 1))
    return Subdivision(n_verts, edge_base + n_edges, np.concatenate(rows), np.concatenate(cols),
                       np.concatenate(weights), new_faces, parent, np.arange(len(new_faces) * 4), corner_weights)
