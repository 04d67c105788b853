"""The camera-orbit binding target: one entry places a rig's camera for camera_angle and focal_length.

Any rig gets the built-in human's camera behaviour from a pivot and a distance: camera_angle turns the camera about
the pivot's vertical axis (positive = towards the subject's left when the subject faces -Y), and focal_length sets
the lens and, with the ``keep_size`` framing rule, moves the camera so that the subject keeps its size in frame
(distance grows with the focal length). Both factors place the same camera, so each stores its part of the pose:
the lens on the camera data, the angle in the camera object's ``blurd_camera_angle`` property.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import bpy
from mathutils import Matrix, Vector

ANGLE_PROP = "blurd_camera_angle"  # camera object property: the orbit angle (degrees) last applied


class Framing(StrEnum):
    """How the camera distance follows the focal length."""

    KEEP_SIZE = "keep_size"  # distance proportional to the lens: the subject keeps its size in frame
    FIXED_DISTANCE = "fixed_distance"  # the camera stays put: a longer lens zooms in


class OrbitDrive(StrEnum):
    """Which part of the pose a factor sets."""

    ANGLE = "angle"  # camera_angle, degrees
    LENS = "lens"  # focal_length, mm


ORBIT_FACTORS = {"camera_angle": OrbitDrive.ANGLE, "focal_length": OrbitDrive.LENS}


@dataclass(frozen=True)
class CameraOrbit:
    """A camera placed on a circle about a pivot (an object's origin or a fixed point), looking at the pivot."""

    camera: str  # camera object name
    pivot: str | tuple[float, float, float]  # object name, or a world-space point
    distance: float  # metres from the pivot at ``reference_lens``
    drive: OrbitDrive
    framing: Framing = Framing.KEEP_SIZE
    reference_lens: float = 50.0  # mm at which the camera is ``distance`` away
    elevation: float = 0.0  # degrees above the pivot's horizontal plane
    heading: float = 0.0  # degrees: where camera_angle 0 sits (0 = in front, on the -Y side)

    def describe(self) -> str:
        pivot = f'object "{self.pivot}"' if isinstance(self.pivot, str) else f"point {list(self.pivot)}"
        return f'camera orbit of object "{self.camera}" around {pivot} ({self.drive.value})'

    def missing(self, bl_scene: bpy.types.Scene) -> list[str]:
        """What the scene lacks for this orbit (empty when it has the camera and the pivot)."""
        problems = []
        camera = bpy.data.objects.get(self.camera)
        if camera is None:
            problems.append(f'object "{self.camera}" (the orbit\'s camera)')
        elif camera.type != "CAMERA":
            problems.append(f'object "{self.camera}" is a {camera.type.lower()}, not a camera (camera_orbit)')
        if isinstance(self.pivot, str) and bpy.data.objects.get(self.pivot) is None:
            problems.append(f'object "{self.pivot}" (the orbit\'s pivot)')
        return problems

    def assign(self, bl_scene: bpy.types.Scene, value: float) -> None:
        """Store this factor's part of the pose, then place the camera from both parts."""
        camera = bpy.data.objects[self.camera]
        if self.drive is OrbitDrive.ANGLE:
            camera[ANGLE_PROP] = float(value)
        else:
            camera.data.lens = float(value)
        self.place(camera)

    def pivot_point(self) -> Vector:
        if isinstance(self.pivot, str):
            return bpy.data.objects[self.pivot].matrix_world.translation.copy()
        return Vector(self.pivot)

    def camera_distance(self, lens_mm: float) -> float:
        if self.framing is Framing.KEEP_SIZE:
            return self.distance * lens_mm / self.reference_lens
        return self.distance

    def place(self, camera: bpy.types.Object) -> None:
        """Put ``camera`` on the orbit at its stored angle and lens, aimed at the pivot (world up stays up)."""
        azimuth = math.radians(float(camera.get(ANGLE_PROP, 0.0)) + self.heading)
        elevation = math.radians(self.elevation)
        d = self.camera_distance(camera.data.lens)
        offset = Vector((d * math.cos(elevation) * math.sin(azimuth), -d * math.cos(elevation) * math.cos(azimuth),
                         d * math.sin(elevation)))
        rotation = (-offset).to_track_quat("-Z", "Y")
        scale = Matrix.Diagonal((*camera.matrix_world.to_scale(), 1.0))
        camera.matrix_world = Matrix.Translation(self.pivot_point() + offset) @ rotation.to_matrix().to_4x4() @ scale
