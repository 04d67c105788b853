"""Sidebar: the Diffusion panel (mode, models, sampler, scales, seed, Generate) and its scene properties."""

from __future__ import annotations

from typing import Any

from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty
from bpy.types import Panel, PropertyGroup

from ..diffusion.modes import MODES
from ..diffusion.settings import DEVICES, ColourConditioner, DiffusionSettings, DType, Scheduler
from .sidebar import SidebarPanel

_D = DiffusionSettings()  # defaults come from the one settings dataclass


def _items(enum_type) -> list[tuple[str, str, str]]:
    return [(e.value, e.value.replace("_", " ").title(), "") for e in enum_type]


class BLURD_DiffusionProperties(PropertyGroup):
    """Diffusion settings of the sidebar's Generate button (a preset's [diffusion] table holds the same values)"""

    mode: EnumProperty(name="Mode", items=[(m.name, m.label, m.description) for m in MODES], default="harbinger")
    base_model: StringProperty(name="Base model", default=_D.base_model,
                               description="Hub id, diffusers folder or single .safetensors file of an SD 1.5 model")
    depth_controlnet: StringProperty(name="Depth ControlNet", default=_D.depth_controlnet)
    normal_controlnet: StringProperty(name="Normal ControlNet", default=_D.normal_controlnet)
    colour_conditioner: EnumProperty(name="Colour", items=_items(ColourConditioner),
                                     default=_D.colour_conditioner.value,
                                     description="How harbinger conditions on the spatial palette")
    colour_model: StringProperty(name="Colour model", default=_D.colour_model)
    scheduler: EnumProperty(name="Scheduler", items=_items(Scheduler), default=_D.scheduler.value)
    steps: IntProperty(name="Steps", default=_D.steps, min=1, max=1000)
    guidance: FloatProperty(name="Guidance", default=_D.guidance, min=0.0, max=50.0)
    strength: FloatProperty(name="Strength", default=_D.strength, min=0.01, max=1.0,
                            description="img2img strength of harbinger: how far from the render it may move")
    depth_scale: FloatProperty(name="Depth", default=_D.depth_scale, min=0.0, max=5.0)
    normal_scale: FloatProperty(name="Normal", default=_D.normal_scale, min=0.0, max=5.0)
    colour_scale: FloatProperty(name="Colour", default=_D.colour_scale, min=0.0, max=5.0)
    width: IntProperty(name="Width", default=_D.resolution[0], min=32, max=4096, step=8)
    height: IntProperty(name="Height", default=_D.resolution[1], min=32, max=4096, step=8)
    use_sample_seed: BoolProperty(name="Sample seed", default=True,
                                  description="Use the sample's own seed (from its factors); off: the seed below")
    seed: IntProperty(name="Seed", default=0, min=0)
    dtype: EnumProperty(name="Precision", items=_items(DType), default=_D.dtype.value)
    device: EnumProperty(name="Device", items=[(d, d.upper() if d != "auto" else "Auto", "") for d in DEVICES],
                         default=_D.device)
    attention_slicing: BoolProperty(name="Attention slicing", default=_D.attention_slicing)
    vae_tiling: BoolProperty(name="VAE tiling", default=_D.vae_tiling)
    cpu_offload: BoolProperty(name="CPU offload", default=_D.cpu_offload)
    prompt_template: StringProperty(name="Prompt template", default="",
                                    description="Empty: the paper's template (factors.prompt)")
    progress: FloatProperty(name="Progress", subtype="PERCENTAGE", min=0.0, max=100.0, options={"SKIP_SAVE"})
    status: StringProperty(name="Status", default="", options={"SKIP_SAVE"})


class BLURD_PT_diffusion(SidebarPanel, Panel):
    """Turn the render photo-real with Stable Diffusion"""

    bl_idname = "BLURD_PT_diffusion"
    bl_label = "Diffusion"

    @classmethod
    def poll(cls, context: Any) -> bool:
        return getattr(context.scene, "blurd_diffusion", None) is not None

    def draw(self, context: Any) -> None:
        props = context.scene.blurd_diffusion
        layout = self.layout
        layout.use_property_split = True
        layout.prop(props, "mode")
        models = layout.column(heading="Models", align=True)
        models.prop(props, "base_model", text="Base")
        models.prop(props, "depth_controlnet", text="Depth")
        models.prop(props, "normal_controlnet", text="Normal")
        models.prop(props, "colour_conditioner")
        models.prop(props, "colour_model", text="Colour model")
        sampler = layout.column(align=True)
        sampler.prop(props, "scheduler")
        sampler.prop(props, "steps")
        sampler.prop(props, "guidance")
        sampler.prop(props, "strength")
        scales = layout.column(heading="Scales", align=True)
        scales.prop(props, "depth_scale")
        scales.prop(props, "normal_scale")
        scales.prop(props, "colour_scale")
        size = layout.column(align=True)
        size.prop(props, "width")
        size.prop(props, "height")
        seed = layout.row(heading="Seed")
        seed.prop(props, "use_sample_seed", text="")
        sub = seed.row()
        sub.enabled = not props.use_sample_seed
        sub.prop(props, "seed", text="")
        device = layout.column(heading="Device", align=True)
        device.prop(props, "device", text="")
        device.prop(props, "dtype", text="")
        device.prop(props, "attention_slicing")
        device.prop(props, "vae_tiling")
        device.prop(props, "cpu_offload")
        layout.prop(props, "prompt_template", text="Prompt")
        row = layout.row(align=True)
        row.scale_y = 1.4
        row.operator("blurd.generate", icon="SHADERFX")
        row.operator("blurd.worker_stop", text="", icon="CANCEL")
        if props.status:
            layout.progress(factor=props.progress / 100.0, text=props.status)


classes: tuple[type, ...] = (BLURD_DiffusionProperties, BLURD_PT_diffusion)


def scene_properties() -> dict[str, Any]:
    """Properties this module adds to bpy.types.Scene."""
    return {"blurd_diffusion": PointerProperty(type=BLURD_DiffusionProperties, name="BLURD diffusion")}


