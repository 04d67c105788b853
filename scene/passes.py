"""The Blender side of the pass table: view-layer passes plus a compositor group that writes every raw pass.

One ``bpy.ops.render.render`` call renders the frame; the File Output node of the ``BLURD_Passes`` compositor
group writes the raw passes (display-referred rgb, metric depth, world normals and the Cryptomatte object layers,
plus the material layers when a material claims a part of its own) into a scratch folder, and ``scene.render``
turns them into the dataset files with numpy. Blender 5.0 compositor API only
(``scene.compositing_node_group``, ``file_output_items``), as the manifest claims Blender >= 5.0.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bpy

GROUP_NAME = "BLURD_Passes"


@dataclass(frozen=True)
class RawPass:
    """One raw pass: the Render Layers socket it comes from, the file it is written to and how."""

    name: str  # File Output item name and file stem
    socket: str  # Render Layers output socket
    file_format: str  # 'PNG' or 'OPEN_EXR'
    color_mode: str  # 'BW', 'RGB'
    color_depth: str  # '8' for PNG, '32' for EXR (lossless float)
    view_layer_flag: str | None  # ViewLayer attribute that enables the pass; None for the combined image


RAW_PASSES: tuple[RawPass, ...] = (
    RawPass("rgb", "Image", "PNG", "RGB", "8", None),
    RawPass("depth", "Depth", "OPEN_EXR", "BW", "32", "use_pass_z"),
    RawPass("normal", "Normal", "OPEN_EXR", "RGB", "32", "use_pass_normal"),
)
RAW_PASS_BY_NAME = {p.name: p for p in RAW_PASSES}

# Cryptomatte: ranks of (id, coverage) per pixel, two ranks per RGBA layer. Six ranks (Blender's default) keep a
# pixel where strands cross an eyebrow over skin and background exact; a rank beyond holds almost no coverage.
CRYPTOMATTE_RANKS = 6
OBJECT_LAYER, MATERIAL_LAYER = "crypto_object", "crypto_material"


def cryptomatte_passes(*, materials: bool = False) -> tuple[RawPass, ...]:
    """The raw Cryptomatte layers: object layers always, material layers when a material claims its own part.

    Each is written as its own uncompressed float32 RGBA EXR (the scratch folder's other EXRs are read the same
    way), read back raw: the ids are bit patterns, not colours."""
    kinds = [(OBJECT_LAYER, "CryptoObject", "use_pass_cryptomatte_object")]
    if materials:
        kinds.append((MATERIAL_LAYER, "CryptoMaterial", "use_pass_cryptomatte_material"))
    return tuple(RawPass(f"{name}_{k:02d}", f"{socket}{k:02d}", "OPEN_EXR", "RGBA", "32", flag)
                 for name, socket, flag in kinds for k in range(CRYPTOMATTE_RANKS // 2))


def render_view_layer(bl_scene: bpy.types.Scene) -> bpy.types.ViewLayer:
    """The view layer the passes come from: the first one enabled for rendering."""
    for layer in bl_scene.view_layers:
        if layer.use:
            return layer
    return bl_scene.view_layers[0]


def enable_view_layer_passes(bl_scene: bpy.types.Scene, *, bare: bool = False, materials: bool = False) -> None:
    """Switch the raw passes on (or, with ``bare``, off: the benchmark's RGB-only baseline); the material
    Cryptomatte only with ``materials`` (it costs render time and is needed only when a material claims a part)."""
    layer = render_view_layer(bl_scene)
    for raw in RAW_PASSES:
        if raw.view_layer_flag:
            setattr(layer, raw.view_layer_flag, not bare)
    layer.use_pass_cryptomatte_object = not bare
    layer.use_pass_cryptomatte_material = materials and not bare
    if not bare:
        layer.pass_cryptomatte_depth = max(layer.pass_cryptomatte_depth, CRYPTOMATTE_RANKS)


def _configure_format(fmt, raw: RawPass) -> None:
    fmt.media_type = "IMAGE"  # must precede file_format: the default is a multilayer EXR
    fmt.file_format = raw.file_format
    fmt.color_mode = raw.color_mode
    fmt.color_depth = raw.color_depth
    if raw.file_format == "OPEN_EXR":
        # depth becomes the dataset's depth.exr (lossless ZIP); the other EXRs are scratch, read once
        fmt.exr_codec = "ZIP" if raw.name == "depth" else "NONE"


def build_pass_group(bl_scene: bpy.types.Scene, *, materials: bool = False) -> bpy.types.NodeTree:
    """The ``BLURD_Passes`` compositor group (rebuilt from scratch each time, so user edits never go stale)."""
    group = bpy.data.node_groups.get(GROUP_NAME)
    if group is None or group.bl_idname != "CompositorNodeTree":
        group = bpy.data.node_groups.new(GROUP_NAME, "CompositorNodeTree")
    group.nodes.clear()
    layers = group.nodes.new("CompositorNodeRLayers")
    layers.scene = bl_scene
    layers.layer = render_view_layer(bl_scene).name
    output = group.nodes.new("CompositorNodeOutputFile")
    output.name = output.label = "BLURD raw passes"
    output.location = (400, 0)
    output.file_name = ""
    output.format.media_type = "IMAGE"  # one file per item; the default writes one multilayer EXR
    output.file_output_items.clear()
    for raw in (*RAW_PASSES, *cryptomatte_passes(materials=materials)):
        item = output.file_output_items.new("RGBA" if raw.color_mode != "BW" else "FLOAT", raw.name)
        item.override_node_format = True
        _configure_format(item.format, raw)
        group.links.new(layers.outputs[raw.socket], output.inputs[raw.name])
    return group


def file_output_node(group: bpy.types.NodeTree) -> bpy.types.Node:
    return next(n for n in group.nodes if n.bl_idname == "CompositorNodeOutputFile")


def metadata_flags(bl_scene: bpy.types.Scene) -> dict[str, bool]:
    """The render's metadata switches (date, render time, host name, file ...) that Blender writes into files."""
    render = bl_scene.render
    return {name: getattr(render, name) for name in dir(render)
            if name.startswith("use_stamp_") and name != "use_stamp_labels"}


@dataclass
class PassOutput:
    """The scene's compositor state while BLURD's pass group is installed; ``restore()`` puts it back."""

    scene: bpy.types.Scene
    previous_group: bpy.types.NodeTree | None
    previous_compositing: bool
    previous_sequencer: bool
    previous_metadata: dict[str, bool]

    def restore(self) -> None:
        self.scene.compositing_node_group = self.previous_group
        self.scene.render.use_compositing = self.previous_compositing
        self.scene.render.use_sequencer = self.previous_sequencer
        for name, value in self.previous_metadata.items():
            setattr(self.scene.render, name, value)


def install_pass_output(bl_scene: bpy.types.Scene, folder: Path, *, materials: bool = False) -> PassOutput:
    """Until ``restore()``, rendering ``bl_scene`` writes every raw pass into ``folder`` (with the material
    Cryptomatte layers when ``materials``).

    The scene's own compositor group and compositing switch come back on restore, so a user's scene is left as it
    was (its view-layer passes stay enabled: they are cheap).
    """
    enable_view_layer_passes(bl_scene, materials=materials)
    group = build_pass_group(bl_scene, materials=materials)
    file_output_node(group).directory = str(folder) + "/"
    state = PassOutput(bl_scene, bl_scene.compositing_node_group, bl_scene.render.use_compositing,
                       bl_scene.render.use_sequencer, metadata_flags(bl_scene))
    for name in state.previous_metadata:  # no date, render time or host name in the files: identical bytes
        setattr(bl_scene.render, name, False)
    bl_scene.compositing_node_group = group
    bl_scene.render.use_compositing = True
    bl_scene.render.use_sequencer = False  # video strips would replace the render result the passes come from
    return state


@contextmanager
def writing_raw_passes(bl_scene: bpy.types.Scene, folder: Path) -> Iterator[PassOutput]:
    """``install_pass_output`` for the duration of a block."""
    state = install_pass_output(bl_scene, folder)
    try:
        yield state
    finally:
        state.restore()


def find_raw_files(folder: Path, *, materials: bool = False) -> dict[str, Path]:
    """The raw pass files a render wrote into ``folder``, by raw pass name (Blender appends ``_`` or a frame)."""
    found: dict[str, Path] = {}
    for raw in (*RAW_PASSES, *cryptomatte_passes(materials=materials)):
        suffix = ".png" if raw.file_format == "PNG" else ".exr"
        matches = sorted(p for p in Path(folder).glob(f"{raw.name}*{suffix}"))
        if matches:
            found[raw.name] = matches[0]
    return found
