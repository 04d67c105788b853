"""Every hair style, the full beard, eyebrows and eyelashes as strands: ``grow(style, body, density, seed)``.

Pure numpy (no bpy), deterministic from a seed (a local ``np.random.Generator``; never the global RNG). Styles
differ in where roots grow (regions.py), how long strands are, how they are combed, cut, clumped and curled; the
engine (engine.py) grows them against the head's envelope (head.py) so no strand enters the skin.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .engine import (
    BACK,
    DOWN,
    REFERENCE_PX,
    Growth,
    Strands,
    clump,
    count,
    curl,
    cut_below,
    density_for,
    finish,
    grow_strands,
    join,
    roots,
    tangent,
)
from .head import Array, BodyLike, Head, normalize, prepare, require, smoothstep
from .regions import beard, brow, face_coords, scalp
from .styles import BeardStyle, HairStyle, StrandPart

__all__ = ["REFERENCE_PX", "Head", "Strands", "density_for", "grow", "prepare"]


def _flow_from_crown(head: Head, p: Array, nrm: Array) -> Array:
    """Combing direction away from a whorl on the crown: down the back and sides, forward on the front."""
    f = head.frame
    crown = f.centre + np.array([0.0, 0.35, 0.94]) * f.radius
    return tangent(p - crown, nrm)


def _side_part(head: Head, p: Array, nrm: Array, part_x: float) -> Array:
    """Combed away from a side parting at ``part_x`` (m from the mid-plane), swept back on top."""
    f = head.frame
    side = np.sign(p[:, 0] - f.centre[0] - part_x)[:, None] * np.array([1.0, 0.0, 0.0])
    return tangent(side * 0.8 + BACK * 0.6 + DOWN * 0.3, nrm)


def buzzcut(head: Head, rng: np.random.Generator, density: float) -> Strands:
    p, nrm = roots(head, rng, lambda q: scalp(head.frame, q, 1.5), count(60000, density))
    lengths = rng.uniform(0.004, 0.006, len(p))
    g = Growth(_flow_from_crown(head, p, nrm), lift=0.9, gravity=0.0, stiffness=0.8, clearance=0.0005, wiggle=0.1)
    return finish(StrandPart.HAIR, grow_strands(head, rng, p, nrm, lengths, 3, g), 0.00004, density, tip=0.5)


def short_combed(head: Head, rng: np.random.Generator, density: float) -> Strands:
    f = head.frame
    p, nrm = roots(head, rng, lambda q: scalp(f, q), count(60000, density))
    e, a, _ = f.spherical(p)
    top = smoothstep(np.radians(0), np.radians(45), e)
    lengths = (0.02 + 0.045 * top) * rng.uniform(0.8, 1.1, len(p))
    comb = normalize(_side_part(head, p, nrm, 0.035) * top[:, None] + _flow_from_crown(head, p, nrm)
                     * (1 - top[:, None]))
    clearance = rng.uniform(0.0015, 0.009, len(p)) * (0.4 + 0.6 * top)
    g = Growth(comb, lift=0.35 + 0.4 * smoothstep(np.radians(40), np.radians(10), np.abs(a)) * top,
               gravity=0.25, stiffness=0.55, clearance=clearance, wiggle=0.06)
    pts = clump(grow_strands(head, rng, p, nrm, lengths, 8, g), 0.008, 0.35, rng)
    return finish(StrandPart.HAIR, head.envelope.push_out(pts, 0.0008), 0.00004, density)


def bald_top(head: Head, rng: np.random.Generator, density: float) -> Strands:
    """A horseshoe round the sides and back; the crown and the front bare."""
    f = head.frame

    def region(q: Array) -> Array:
        e, a, _ = f.spherical(q)
        upper = np.radians(np.interp(np.degrees(np.abs(a)), [0, 35, 50, 90, 130, 180], [-30, -30, 13, 21, 23, 21]))
        return scalp(f, q) * smoothstep(upper + np.radians(3), upper - np.radians(3), e)

    p, nrm = roots(head, rng, region, count(30000, density))
    lengths = rng.uniform(0.018, 0.03, len(p))
    # a full fringe standing off the sides, so it shows beside the temples even in a small front view
    g = Growth(tangent(DOWN * 0.7 + BACK * 0.5, nrm), lift=0.6, gravity=0.35, stiffness=0.6,
               clearance=rng.uniform(0.002, 0.011, len(p)), wiggle=0.1)
    pts = clump(grow_strands(head, rng, p, nrm, lengths, 5, g), 0.006, 0.3, rng)
    return finish(StrandPart.HAIR, pts, 0.00004, density)


def undercut(head: Head, rng: np.random.Generator, density: float) -> Strands:
    """Clipped sides and back, a long top combed back with volume."""
    f = head.frame

    def line(q: Array) -> Array:
        return np.radians(np.interp(np.degrees(np.abs(f.spherical(q)[1])), [0, 60, 100, 180], [18, 26, 30, 24]))

    sides, s_nrm = roots(head, rng, lambda q: scalp(f, q, 1.5) * (f.spherical(q)[0] < line(q) - 0.03),
                          count(30000, density))
    lengths = rng.uniform(0.003, 0.005, len(sides))
    g = Growth(_flow_from_crown(head, sides, s_nrm), lift=0.9, gravity=0.0, stiffness=0.8, clearance=0.0005,
               wiggle=0.1)
    side_pts = grow_strands(head, rng, sides, s_nrm, lengths, 3, g)
    top, t_nrm = roots(head, rng, lambda q: scalp(f, q) * (f.spherical(q)[0] > line(q)), count(35000, density))
    e, a, _ = f.spherical(top)
    front = smoothstep(np.radians(60), np.radians(25), e) * smoothstep(np.radians(35), 0, np.abs(a))
    inner = smoothstep(line(top), line(top) + np.radians(18), e)  # thinner layers toward the clipped edge
    back = smoothstep(np.radians(70), np.radians(150), np.abs(a))  # shorter toward the crown: no tail behind
    lengths = rng.uniform(0.08, 0.11, len(top)) * (0.75 + 0.25 * front) * (1.0 - 0.55 * back)
    toward_mid = -np.sign(top[:, 0] - f.centre[0])[:, None] * np.array([0.25, 0.0, 0.0])
    comb = tangent(BACK * 1.0 + DOWN * 0.1 + toward_mid, t_nrm)
    g = Growth(comb, lift=0.2 + 0.6 * front, gravity=0.35, stiffness=0.7,
               clearance=rng.uniform(0.003, 0.022, len(top)) * (0.3 + 0.7 * inner), wiggle=0.02)
    top_pts = clump(grow_strands(head, rng, top, t_nrm, lengths, 10, g), 0.01, 0.25, rng)
    top_pts = head.envelope.push_out(top_pts, 0.001)
    side = finish(StrandPart.HAIR, side_pts, 0.00004, density, tip=0.5)
    upper = finish(StrandPart.HAIR, top_pts, 0.00004, density)
    return join(side, upper)


def bob_long(head: Head, rng: np.random.Generator, density: float) -> Strands:
    """A chin-length bob: a fringe cut above the brows, the rest parted in the middle and falling straight past the
    ears to below the chin."""
    f = head.frame
    p, nrm = roots(head, rng, lambda q: scalp(f, q), count(45000, density))
    e, a, _ = f.spherical(p)
    fringe = (np.abs(a) < np.radians(52)) & (e < np.radians(55))  # bangs reach the temples: none hangs over a brow
    side = np.sign(p[:, 0] - f.centre[0] + 1e-6)[:, None] * np.array([1.0, 0.0, 0.0])
    back = smoothstep(np.radians(100), np.radians(150), np.abs(a))[:, None]  # the back falls straight down
    comb = np.where(fringe[:, None], tangent(-BACK * 0.5 + DOWN, nrm),
                    tangent(side * 0.9 * (1 - back) + BACK * 0.35 + DOWN * (0.5 + back), nrm))
    lengths = np.full(len(p), 0.32)
    clearance = rng.uniform(0.002, 0.012, len(p))
    g = Growth(comb, lift=0.2, gravity=1.4, stiffness=0.5, clearance=clearance, wiggle=0.02, comb_fade=1.0)
    pts = grow_strands(head, rng, p, nrm, lengths, 26, g)
    # cut: above the brows where the hair hangs in front of the face, below the chin elsewhere
    x, y = pts[..., 0] - f.eye_mid[0], pts[..., 1] - f.eye_mid[1]
    over_face = (np.abs(x) < 1.15 * f.eye_gap) & (y < 0.5 * f.eye_gap)
    brow_cut = f.eye_z + 0.62 * f.eye_gap + rng.normal(0, 0.001, len(p))[:, None]  # clear of the brows
    chin_cut = (f.chin_z - 0.025 + rng.normal(0, 0.003, len(p)))[:, None]
    above_shoulders = head.shoulder_height(pts) + 0.006  # ends rest above the shoulders, never in them
    pts = cut_below(pts, np.where(over_face, brow_cut, np.maximum(chin_cut, above_shoulders)), 14)
    pts = clump(pts, 0.012, 0.3, rng)
    return finish(StrandPart.HAIR, head.envelope.push_out(pts, 0.001), 0.00004, density, tip=0.6)


def afro_dreads(head: Head, rng: np.random.Generator, density: float) -> Strands:
    """A voluminous rounded halo of coiled, clumped locks standing off the scalp."""
    f = head.frame
    p, nrm = roots(head, rng, lambda q: scalp(f, q, 1.0), count(45000, density))
    ball = f.centre + np.array([0.0, 0.15, 0.35]) * f.radius  # the afro's centre: above and behind the head's
    radial = normalize(p - ball)
    reach = 1.95 * f.radius - np.linalg.norm(p - ball, axis=1)  # tips end on a rounded outline
    lengths = np.clip(reach, 0.015, None) * rng.uniform(0.85, 1.1, len(p)) * 1.2
    g = Growth(radial, lift=0.6, gravity=0.1, stiffness=0.7, clearance=rng.uniform(0.002, 0.03, len(p)),
               wiggle=0.25)
    pts = grow_strands(head, rng, p, nrm, lengths, 14, g)
    pts = clump(pts, 0.009, 0.6, rng)
    pts = curl(pts, 0.004, rng.uniform(4.0, 7.0, len(p)), rng.uniform(0, 2 * np.pi, len(p)))
    return finish(StrandPart.HAIR, head.envelope.push_out(pts, 0.001), 0.00005, density, tip=0.6)


HAIR_GROWERS: dict[HairStyle, Callable[[Head, np.random.Generator, float], Strands]] = {
    HairStyle.BUZZCUT: buzzcut,
    HairStyle.SHORT_COMBED: short_combed,
    HairStyle.BALD_TOP: bald_top,
    HairStyle.UNDERCUT: undercut,
    HairStyle.BOB_LONG: bob_long,
    HairStyle.AFRO_DREADS: afro_dreads,
}


def full_beard(head: Head, rng: np.random.Generator, density: float) -> Strands:
    """Moustache, cheeks, jaw and chin: short on the cheeks, fullest on the chin, combed down."""
    f = head.frame
    p, nrm = roots(head, rng, lambda q: beard(f, q), count(40000, density), head.jaw)
    x, z, _ = face_coords(f, p)
    moustache = (z > (f.mouth[2] - f.eye_z) / f.eye_gap) & (np.abs(x) < 0.75)
    comb = np.where(moustache[:, None], tangent(DOWN + np.sign(x)[:, None] * np.array([0.6, 0, 0]), nrm),
                    tangent(DOWN * 1.0 - BACK * 0.2, nrm))
    chin = smoothstep(1.1, 0.3, np.abs(x))  # toward the chin the beard grows longer and fuller
    lengths = np.where(moustache, rng.uniform(0.009, 0.014, len(p)),
                       rng.uniform(0.014, 0.024, len(p)) * (1.0 + 0.3 * chin))
    # layers of strands give fair beards their whiteness (light scattered between strands): keep the volume
    g = Growth(comb, lift=0.4, gravity=0.3, stiffness=0.6,
               clearance=rng.uniform(0.001, 0.006, len(p)) * (1.0 + 0.5 * chin), wiggle=0.12)
    pts = clump(grow_strands(head, rng, p, nrm, lengths, 5, g, head.jaw), 0.004, 0.3, rng)
    return finish(StrandPart.BEARD, head.jaw.push_out(pts, 0.0005), 0.00004, density)


def eyebrows(head: Head, rng: np.random.Generator, density: float) -> Strands:
    """Dense brows (about two layers of strands), so even a tiny render covers the brow's pixels, and its mask holds
    the pixels a brow colour changes: inner strands point up, outer ones sweep out and down."""
    f = head.frame
    out = []
    for side in (1.0, -1.0):
        p, nrm = roots(head, rng, lambda q, s=side: brow(f, q, s)[0], count(1100, density, least=150))
        _, u = brow(f, p, side)
        lateral = np.array([side, 0.0, 0.0])
        comb = tangent(lateral[None, :] * (0.35 + u[:, None]) + np.array([0, 0, 1.0]) * (1 - u[:, None]) * 0.9
                        - np.array([0, 0, 1.0]) * u[:, None] * 0.25, nrm)
        lengths = rng.uniform(0.006, 0.009, len(p))
        g = Growth(comb, lift=0.15, gravity=0.0, stiffness=0.8, clearance=rng.uniform(0.0002, 0.0012, len(p)),
                   wiggle=0.05)
        out.append(finish(StrandPart.EYEBROWS, grow_strands(head, rng, p, nrm, lengths, 4, g), 0.00005, density, 0.4))
    return join(*out)


LASH_GROUPS = (("eyelashes_upper_l", "eye_l", 1.0), ("eyelashes_lower_l", "eye_l", -1.0),
               ("eyelashes_upper_r", "eye_r", 1.0), ("eyelashes_lower_r", "eye_r", -1.0))


def eyelashes(body: BodyLike, rng: np.random.Generator, density: float) -> Strands:
    """Short curved strands from the lid edge of MakeHuman's eyelash helpers (upper longer, curling up).

    The root edge is the helper's ring nearest the eye; each strand leaves it outward from the eye, tilted toward
    the front, and curls up (upper lid) or down (lower lid). Rendered as strands, not the helper's solid strip,
    which reads as eyeliner."""
    require(body, ("eye_l", "eye_r"), tuple(group for group, _, _ in LASH_GROUPS))
    verts = np.asarray(body.verts, dtype=np.float64)
    out = []
    for group, eye_name, up in LASH_GROUPS:
        v = verts[np.asarray(body.groups[group])]
        eye = np.asarray(body.landmarks[eye_name], dtype=np.float64)
        dist = np.linalg.norm(v - eye, axis=1)
        inner = v[dist < dist.min() + 0.35 * (dist.max() - dist.min())]
        inner = inner[np.argsort(inner[:, 0])]
        n = count(110 if up > 0 else 45, density, least=24)
        s = np.sort(rng.random(n)) * (len(inner) - 1)
        lo = np.floor(s).astype(int)
        hi = np.minimum(lo + 1, len(inner) - 1)
        base = inner[lo] + (inner[hi] - inner[lo]) * (s - lo)[:, None]
        out_dir = normalize(base - eye)
        out_dir = normalize(out_dir + np.array([0.0, -0.6, 0.0]))
        length = (0.0105 if up > 0 else 0.005) * rng.uniform(0.7, 1.0, n)
        mid = np.abs(np.linspace(-1, 1, n))
        length *= 1.0 - 0.45 * mid ** 2  # shorter toward the corners
        t = np.linspace(0, 1, 5)[None, :, None]
        curve = out_dir[:, None, :] * t + np.array([0.0, 0.0, up])[None, None, :] * (t ** 2) * 0.9
        pts = base[:, None, :] + curve * length[:, None, None]
        out.append(finish(StrandPart.EYELASHES, pts, 0.00006, density, tip=0.3))
    return join(*out)


def grow(style: HairStyle | BeardStyle | StrandPart, body: BodyLike, density: float, seed: int,
         head: Head | None = None) -> Strands:
    """The strands of one hair style, beard style, or the eyebrows / eyelashes (``StrandPart``) of ``body``.

    Deterministic for (style, body, density, seed). ``head`` (from ``prepare(body)``) saves recomputing the head
    when several parts grow on one body. ``none`` styles give empty strands.
    """
    if not isinstance(style, HairStyle | BeardStyle | StrandPart) or style in (StrandPart.HAIR, StrandPart.BEARD):
        raise ValueError(f"cannot grow strands for {style!r}: give a HairStyle (e.g. HairStyle('bob_long') from the "
                         f"factor value), a BeardStyle, StrandPart.EYEBROWS or StrandPart.EYELASHES")
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
    return eyebrows(head, rng, density)


def _salt(style: HairStyle | BeardStyle | StrandPart) -> int:
    """A stable per-kind stream, so the beard's randomness does not depend on the hair style's."""
    return sum((i + 1) * ord(c) for i, c in enumerate(f"{type(style).__name__}.{style.value}"))
