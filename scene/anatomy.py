"""Landmarks of the built-in human in metres, head centre at the origin, face looking along -Y, +X the subject's left.

One table of numbers that the head sculpt, the features, the hair, the clothes and the shape-key warps all read,
so moving a landmark moves everything seated on it.
"""

from __future__ import annotations

HEAD_RADII = (0.074, 0.094, 0.112)  # half width, half depth, half height of the skull ellipsoid
EYE_X = 0.031  # eye centres at +-EYE_X
EYE_Z = 0.004
EYE_RADIUS = 0.0125
BROW_Z = 0.024
NOSE_ROOT_Z = 0.006
NOSE_TIP_Z = -0.028
MOUTH_Z = -0.047
MOUTH_HALF_WIDTH = 0.025
CHIN_Z = -0.097
EAR_Z = -0.008
EAR_Y = 0.004
NECK_TOP_Z = -0.035
NECK_BOTTOM_Z = -0.20
NECK_RADII = (0.054, 0.057)
NECK_Y = 0.012
COLLAR_Z = -0.150  # top of the shirt collar
SHOULDER_Z = -0.215
SHOULDER_HALF_WIDTH = 0.215
TORSO_HALF_DEPTH = 0.115
TORSO_BOTTOM_Z = -0.75
FRAME_CENTRE = (0.0, 0.0, -0.05)  # the camera rig's target: head and shoulders in frame
FRAME_HALF_HEIGHT = 0.225  # metres visible above and below the target at the reference focal length
