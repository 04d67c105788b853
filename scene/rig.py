"""Camera rig and key light of the built-in scene.

The camera hangs from an empty at the head ('BLURD_CameraRig'): turning the empty about Z orbits the camera
(camera_angle), and the camera's distance along the rig's -Y grows with the focal length so the head stays the
same size in frame (focal_length). The key light is an area light with a blackbody temperature (light_warmth).
"""

from __future__ import annotations

import math

import bpy

from . import anatomy as A

RIG_NAME = "BLURD_CameraRig"
CAMERA_NAME = "BLURD_Camera"
KEY_LIGHT_NAME = "BLURD_KeyLight"
SENSOR_MM = 36.0
REFERENCE_LENS_MM = 50.0


def framing_distance(lens_mm: float) -> float:
    """Camera distance (m) that shows FRAME_HALF_HEIGHT above and below the target at this focal length."""
    return A.FRAME_HALF_HEIGHT * lens_mm / (SENSOR_MM / 2.0)


def build_camera(scene: bpy.types.Scene) -> bpy.types.Object:
    rig = bpy.data.objects.new(RIG_NAME, None)
    rig.location = A.FRAME_CENTRE
    scene.collection.objects.link(rig)
    data = bpy.data.cameras.new(CAMERA_NAME)
    data.sensor_fit = "AUTO"
    data.sensor_width = SENSOR_MM
    data.lens = REFERENCE_LENS_MM
    data.clip_start = 0.05
    data.clip_end = 50.0
    cam = bpy.data.objects.new(CAMERA_NAME, data)
    scene.collection.objects.link(cam)
    cam.parent = rig
    cam.location = (0.0, -framing_distance(REFERENCE_LENS_MM), 0.0)
    cam.rotation_euler = (math.radians(90.0), 0.0, 0.0)  # look along +Y, at the rig
    scene.camera = cam
    return cam


def build_key_light(scene: bpy.types.Scene) -> bpy.types.Object:
    """A soft area light up and to the subject's right of the camera, aimed at the face."""
    data = bpy.data.lights.new(KEY_LIGHT_NAME, "AREA")
    data.shape = "DISK"
    data.size = 0.6
    data.energy = 60.0
    data.use_temperature = True
    data.temperature = 5600.0
    light = bpy.data.objects.new(KEY_LIGHT_NAME, data)
    scene.collection.objects.link(light)
    light.location = (-0.75, -1.05, 0.55)
    direction = -light.location.normalized()
    light.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()
    return light
