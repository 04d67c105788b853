"""The camera record of sample.json: pinhole intrinsics in pixels and extrinsics in Blender and OpenCV axes."""

from __future__ import annotations

from typing import Any

import bpy
import numpy as np


def render_size(bl_scene: bpy.types.Scene) -> tuple[int, int]:
    scale = bl_scene.render.resolution_percentage / 100.0
    return round(bl_scene.render.resolution_x * scale), round(bl_scene.render.resolution_y * scale)


def camera_record(bl_scene: bpy.types.Scene) -> dict[str, Any]:
    """Pinhole intrinsics in pixels and extrinsics of the scene camera (Blender and OpenCV axes)."""
    camera = bl_scene.camera
    data = camera.data
    width, height = render_size(bl_scene)
    if data.sensor_fit == "VERTICAL":
        sensor_mm, size_px = data.sensor_height, height
    elif data.sensor_fit == "HORIZONTAL":
        sensor_mm, size_px = data.sensor_width, width
    else:  # AUTO: the sensor width spans the larger image side
        sensor_mm, size_px = data.sensor_width, max(width, height)
    focal_px = data.lens / sensor_mm * size_px
    camera_to_world = np.array(camera.matrix_world, dtype=np.float64)
    to_opencv = np.diag([1.0, -1.0, -1.0, 1.0])  # Blender camera (x right, y up, -z forward) -> OpenCV
    world_to_camera_cv = to_opencv @ np.linalg.inv(camera_to_world)
    return {
        "intrinsics": {
            "model": "pinhole" if data.type == "PERSP" else data.type.lower(),
            "width": width,
            "height": height,
            "fx": focal_px,
            "fy": focal_px,
            "cx": width / 2.0 - data.shift_x * size_px,
            "cy": height / 2.0 + data.shift_y * size_px,
            "focal_length_mm": data.lens,
            "sensor_mm": sensor_mm,
            "sensor_fit": data.sensor_fit,
            "clip_start": data.clip_start,
            "clip_end": data.clip_end,
        },
        "extrinsics": {
            "camera_to_world_blender": camera_to_world.round(9).tolist(),
            "world_to_camera_opencv": world_to_camera_cv.round(9).tolist(),
            "note": "Blender camera axes: x right, y up, looking down -z; OpenCV: x right, y down, z forward",
        },
    }
