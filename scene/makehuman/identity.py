"""Identities of the MakeHuman human (age, gender, race, hair style, beard style): built once, cached, swapped in.

An identity's body, clothes, brows and lashes, and each hair and beard style grown on it, are datablocks kept in
a small LRU per scene; applying an identity swaps them into the fixed objects and frames the camera from the
body's landmarks. A sweep over colours, camera, light or background therefore never rebuilds a body or regrows
hair, and one that cycles through a few identities reuses them.

Framing: the camera rig sits at the head (between top and chin) and is scaled by the head's height (top of head
to chin) over ``REFERENCE_HEAD_HEIGHT``; the camera is counter-scaled, so its world matrix stays a pure rotation and
translation while its distance (set by the focal_length binding in rig units) grows with the head. Every identity
and focal length thus shows the head at the same size and place in the frame (a head-and-shoulders portrait).
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import bpy
import numpy as np

from ...factors import default_assignment
from .. import rig
from ..anatomy import FRAME_HALF_HEIGHT
from ..strands.growth import REFERENCE_PX, density_for
from ..strands.styles import BeardStyle, HairStyle
from . import objects
from .body import Body, build_body

IDENTITY_FACTORS = ("age", "gender", "race", "hair_style", "beard_style")
TOKEN = "blurd_human_token"  # scene property: which identity cache belongs to this scene's objects
IDENTITY_PROP = "blurd_identity"  # scene property: the identity shown now (JSON)
BODIES_KEPT = 4
STYLES_KEPT = 8
HEAD_SHARE = 0.40  # the head (top to chin) spans this share of the frame height
TOP_MARGIN = 0.14  # share of the frame above the top of the head (room for hair)
REFERENCE_HEAD_HEIGHT = HEAD_SHARE * 2 * FRAME_HALF_HEIGHT  # rig scale 1 frames a head this tall
KEY_LIGHT_OFFSET = (-0.75, -1.05, 0.55)  # from the head centre, in rig units (scene/rig.py's key light)


@dataclass(frozen=True)
class Identity:
    age: float
    gender: str
    race: str
    hair_style: str
    beard_style: str

    @property
    def body_key(self) -> tuple[float, str, str]:
        return (self.age, self.gender, self.race)

    @classmethod
    def from_factors(cls, values: Mapping[str, Any]) -> Identity:
        return cls(float(values["age"]), str(values["gender"]), str(values["race"]), str(values["hair_style"]),
                   str(values["beard_style"]))


class IdentityCache:
    """LRU caches of identity datablocks for one scene's human; ``builds`` counts what was actually built."""

    def __init__(self) -> None:
        self.bodies: OrderedDict[tuple, objects.IdentityData] = OrderedDict()
        self.styles: OrderedDict[tuple, bpy.types.ID] = OrderedDict()
        self.builds: Counter[str] = Counter()

    def body(self, key: tuple[float, str, str], density: float) -> objects.IdentityData:
        full = (*key, round(density, 4))
        if full in self.bodies:
            self.bodies.move_to_end(full)
            return self.bodies[full]
        self.builds["body"] += 1
        data = objects.identity_data(build_body(*key), density)
        self.bodies[full] = data
        while len(self.bodies) > BODIES_KEPT:
            _, old = self.bodies.popitem(last=False)
            old.remove()
        return data

    def style(self, style: HairStyle | BeardStyle, body: Body, density: float) -> bpy.types.ID:
        full = (type(style).__name__, style.value, *body.key, round(density, 4))
        if full in self.styles:
            self.styles.move_to_end(full)
            return self.styles[full]
        self.builds[type(style).__name__] += 1
        key = f"{body.race}_{body.gender}_{body.age:g}"
        curves = objects.strand_curves(style, body, density, key)
        self.styles[full] = curves
        while len(self.styles) > STYLES_KEPT:
            _, old = self.styles.popitem(last=False)
            if old.users == 0:
                bpy.data.hair_curves.remove(old)
        return curves


_caches: dict[int, IdentityCache] = {}
_tokens = itertools.count(1)


def new_cache(bl_scene: bpy.types.Scene) -> IdentityCache:
    """A fresh cache bound to ``bl_scene`` (called when the human is built)."""
    token = next(_tokens)
    bl_scene[TOKEN] = token
    _caches[token] = IdentityCache()
    return _caches[token]


def scene_cache(bl_scene: bpy.types.Scene) -> IdentityCache:
    """The scene's cache; a scene loaded from a file (no live cache) starts a new one."""
    cache = _caches.get(int(bl_scene.get(TOKEN, 0)))
    return cache if cache is not None else new_cache(bl_scene)


def strand_density(bl_scene: bpy.types.Scene) -> float:
    """Strand density for the scene's output size, in whole octaves of resolution (hair scales with resolution, so
    tiny renders stay cheap; octaves keep one identity's hair the same across nearby sizes, e.g. 64 and 80 px)."""
    render = bl_scene.render
    pixels = max(render.resolution_x, render.resolution_y) * render.resolution_percentage / 100
    octave = 2.0 ** round(np.log2(max(pixels, 1.0) / REFERENCE_PX))
    return density_for(round(octave * REFERENCE_PX))


def human_objects(bl_scene: bpy.types.Scene) -> dict[str, bpy.types.Object]:
    names = (objects.BODY, objects.LIPS, objects.MOUTH, *objects.EYES.values(), objects.SHIRT, objects.COLLAR,
             objects.TIE, *objects.STRAND_OBJECTS.values())
    return {name: bpy.data.objects[name] for name in names if name in bpy.data.objects}


def apply_identity(bl_scene: bpy.types.Scene, values: Mapping[str, Any]) -> Identity:
    """Show the identity named by ``values`` (identity factors missing from it keep their current value)."""
    current = json.loads(bl_scene.get(IDENTITY_PROP, "{}"))
    merged = {**default_assignment(), **current, **{k: values[k] for k in IDENTITY_FACTORS if k in values}}
    identity = Identity.from_factors(merged)
    cache = scene_cache(bl_scene)
    density = strand_density(bl_scene)
    data = cache.body(identity.body_key, density)
    objs = human_objects(bl_scene)
    objects.show(objs, data)
    objects.show_curves(objs[objects.HAIR], cache.style(HairStyle(identity.hair_style), data.body, density))
    objects.show_curves(objs[objects.BEARD], cache.style(BeardStyle(identity.beard_style), data.body, density))
    frame_camera(bl_scene, data.body)
    bl_scene[IDENTITY_PROP] = json.dumps({k: getattr(identity, k) for k in IDENTITY_FACTORS})
    return identity


def frame_camera(bl_scene: bpy.types.Scene, body: Body) -> None:
    """Centre the camera rig on the head and scale it by the head's height; the key light follows the head."""
    lm = body.landmarks
    scale = body.head_height / REFERENCE_HEAD_HEIGHT
    frame_height = 2 * FRAME_HALF_HEIGHT * scale
    top = lm["head_top"][2] + TOP_MARGIN * frame_height
    # The camera stays at eye level (a straight gaze into the lens, no tilt) and the lens shift moves the frame down
    # over the shoulders. The rig turns about a point between the top of the head and the chin in depth, so both
    # sit near the plane the frame is measured in and every focal length (perspective) frames them alike.
    eye_level = float(lm["eyes"][2])
    rig_at = np.array([0.0, (lm["head_top"][1] + lm["chin"][1]) / 2, eye_level])
    shift = (top - frame_height / 2 - eye_level) / frame_height
    rig_obj = bpy.data.objects.get(rig.RIG_NAME)
    camera = bpy.data.objects.get(rig.CAMERA_NAME)
    if rig_obj is not None:
        rig_obj.location = rig_at
        rig_obj.scale = (scale, scale, scale)
    if camera is not None:
        camera.scale = (1 / scale,) * 3
        camera.data.shift_y = shift
    light = bpy.data.objects.get(rig.KEY_LIGHT_NAME)
    if light is not None:
        head = np.array([0.0, lm["head_centre"][1], lm["eyes"][2]])
        light.location = head + np.asarray(KEY_LIGHT_OFFSET) * scale
        direction = -np.asarray(KEY_LIGHT_OFFSET)
        from mathutils import Vector

        light.rotation_euler = Vector(direction).to_track_quat("-Z", "Y").to_euler()
