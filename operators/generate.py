"""Generate: render the current factors if needed, then turn the render photo-real in the diffusion worker.

Invoked from the sidebar it runs modally (progress bar, Esc cancels within one denoising step) and shows the
result in an Image Editor; executed from a script it blocks until the image is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bpy
from bpy.types import Operator

from ..dataset import layout
from ..dataset.record import is_complete
from ..diffusion.errors import RequestCancelledError, RequestFailedError
from ..diffusion.requests import Progress, Request, Status
from ..diffusion.settings import SETTING_FIELDS, DiffusionSettings
from ..factors import ids
from ..factors.errors import BlurdError
from .scene_context import current_factors, output_folder, scene_has_camera
from .settings_properties import values_from_properties
from .worker import worker_client

POLL_SECONDS = 0.1


def settings_from_properties(props: Any) -> DiffusionSettings:
    """The panel's values as DiffusionSettings (checked by the same table as a preset's [diffusion] table)."""
    return DiffusionSettings.from_mapping(values_from_properties(props, SETTING_FIELDS), "Diffusion panel")


def show_image(context: Any, path: Path) -> Any:
    """Load (or reload) the image into bpy.data.images and show it in every Image Editor of the screen."""
    image = bpy.data.images.load(str(path), check_existing=True)
    image.reload()
    screen = context.screen if context is not None else None
    for area in screen.areas if screen else ():
        if area.type == "IMAGE_EDITOR":
            area.spaces.active.image = image
            area.tag_redraw()
    return image


class BLURD_OT_generate(Operator):
    """Render the current factors if needed, then generate the photo-real image of the chosen mode"""

    bl_idname = "blurd.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context: Any) -> bool:
        if getattr(context.scene, "blurd_diffusion", None) is None:
            return False
        return scene_has_camera(cls, context) and not bpy.app.is_job_running("RENDER")

    def _start(self, context: Any) -> Request | None:
        scene = context.scene
        props = scene.blurd_diffusion
        try:
            settings = settings_from_properties(props)
            values = current_factors(scene)
            folder = layout.sample_dir(output_folder(scene), ids.sample_id(values))
            if not is_complete(folder):
                props.status = "Rendering..."
                if bpy.ops.blurd.render("EXEC_DEFAULT") != {"FINISHED"} or not is_complete(folder):
                    self.report({"ERROR"}, f"Rendering the sample into {folder} failed; see the Info log")
                    return None
            self._folder, self._mode = folder, props.mode
            request = worker_client(context).generate([(folder, props.mode)], settings, overwrite=True)
        except BlurdError as exc:  # settings, worker interpreter, sample: all name the fix
            props.status = ""
            self.report({"ERROR"}, str(exc))
            return None
        props.status, props.progress = "Starting the diffusion worker...", 0.0
        return request

    def execute(self, context: Any) -> set[str]:
        """Blocking (scripts and background mode)."""
        request = self._start(context)
        if request is None:
            return {"CANCELLED"}
        request.wait()
        return self._finish(context, request)

    def invoke(self, context: Any, event: Any) -> set[str]:
        self._request = self._start(context)
        if self._request is None:
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(POLL_SECONDS, window=context.window)
        wm.progress_begin(0, 100)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context: Any, event: Any) -> set[str]:
        if event.type == "ESC" and event.value == "PRESS":
            self._request.cancel()
            context.scene.blurd_diffusion.status = "Cancelling..."
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        props = context.scene.blurd_diffusion
        for update in self._request.poll():
            if isinstance(update, Progress):
                props.progress = 100.0 * update.fraction
                props.status = f"{update.mode}: step {update.step}/{update.steps}"
            elif isinstance(update, Status):
                props.status = update.message[:120]
        context.window_manager.progress_update(int(props.progress))
        if context.area:
            context.area.tag_redraw()
        if not self._request.done:
            return {"RUNNING_MODAL"}
        context.window_manager.event_timer_remove(self._timer)
        context.window_manager.progress_end()
        return self._finish(context, self._request)

    def _finish(self, context: Any, request: Request) -> set[str]:
        props = context.scene.blurd_diffusion
        props.status, props.progress = "", 0.0
        try:
            result = request.result()
        except RequestCancelledError:
            self.report({"WARNING"}, "Generation cancelled")
            return {"CANCELLED"}
        except RequestFailedError as exc:
            print(f"BLURD diffusion worker traceback:\n{exc.worker_traceback}")
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        except BlurdError as exc:  # the worker crashed or was stopped
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        output = result.outputs[0]
        show_image(context, output.image)
        self.report({"INFO"}, f"Generated {output.image}")
        return {"FINISHED"}


classes: tuple[type, ...] = (BLURD_OT_generate,)
