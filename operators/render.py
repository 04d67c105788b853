"""Render: the current factors of the current scene, every pass, into the output folder's dataset layout.

Invoked from the sidebar it runs Blender's own render job (progress in the status bar and render window, Esc
cancels) and post-processes the passes when the job completes; executed from a script it renders blocking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bpy
from bpy.types import Operator

from ..dataset import layout
from ..dataset.manifest import Manifest, manifest_row
from ..dataset.record import SampleRecord
from ..factors import ids
from ..factors.errors import BlurdError
from ..scene import render as scene_render
from ..scene import sweep
from ..scene.render_settings import snapshot_render_settings
from .scene_context import current_factors, output_folder, scene_has_camera, set_progress

POLL_SECONDS = 0.1


def record_in_manifest(out: Path, record: SampleRecord) -> None:
    """Add the sample's manifest row unless the manifest has one for its id already."""
    Manifest(out).append(manifest_row(record, -1))


class BLURD_OT_render(Operator):
    """Render the current factors with every pass (depth, normals, masks, labels, palette) into the output folder"""

    bl_idname = "blurd.render"
    bl_label = "Render"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context: Any) -> bool:
        return scene_has_camera(cls, context) and not bpy.app.is_job_running("RENDER")

    def _prepare(self, context: Any) -> scene_render.PendingSample:
        scene = context.scene
        values = current_factors(scene)
        sid = ids.sample_id(values)
        policy = ids.SeedPolicy()  # the default policy, as a preset without seed_from: pairs share their noise
        out = output_folder(scene)
        sweep.check_writable(out)
        self._out = out
        self._restore_settings = snapshot_render_settings(scene)  # Cycles and the seed only for this render
        return scene_render.prepare_sample(scene, layout.sample_dir(out, sid), sample_id=sid,
                                           seed=policy.seed(values, sid), factors=values, settings=None,
                                           seed_policy=policy)

    def execute(self, context: Any) -> set[str]:
        """Blocking render (scripts, background mode)."""
        try:
            pending = self._prepare(context)
        except BlurdError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        try:
            bpy.ops.render.render(write_still=False, scene=context.scene.name)
        except Exception:
            pending.abandon()
            self._restore_settings()
            raise
        return self._finish(context, pending)

    def invoke(self, context: Any, event: Any) -> set[str]:
        try:
            self._pending = self._prepare(context)
        except BlurdError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self._state = ""

        def on_complete(*_args: Any) -> None:
            self._state = "complete"

        def on_cancel(*_args: Any) -> None:
            self._state = "cancelled"

        self._handlers = ((bpy.app.handlers.render_complete, on_complete), (bpy.app.handlers.render_cancel, on_cancel))
        for handlers, function in self._handlers:
            handlers.append(function)
        started = bpy.ops.render.render("INVOKE_DEFAULT", write_still=False)
        if "RUNNING_MODAL" not in started:
            self._cleanup(context)
            self._pending.abandon()
            self.report({"ERROR"}, "Blender did not start the render job")
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(POLL_SECONDS, window=context.window)
        wm.modal_handler_add(self)
        set_progress(context, 0.0, "BLURD: rendering (Esc cancels)")
        return {"RUNNING_MODAL"}

    def modal(self, context: Any, event: Any) -> set[str]:
        if event.type == "TIMER" and self._state == "complete":
            self._cleanup(context)
            return self._finish(context, self._pending)
        if event.type == "TIMER" and self._state == "cancelled":
            self._cleanup(context)
            self._pending.abandon()
            self.report({"WARNING"}, "BLURD: render cancelled; nothing was written")
            return {"CANCELLED"}
        return {"PASS_THROUGH"}  # Esc reaches Blender's render job, which cancels and fires render_cancel

    def _cleanup(self, context: Any) -> None:
        for handlers, function in getattr(self, "_handlers", ()):
            if function in handlers:
                handlers.remove(function)
        timer = getattr(self, "_timer", None)
        if timer is not None:
            context.window_manager.event_timer_remove(timer)
            self._timer = None
        set_progress(context, 0.0, "")
        restore = getattr(self, "_restore_settings", None)
        if restore is not None:
            restore()

    def _finish(self, context: Any, pending: scene_render.PendingSample) -> set[str]:
        self._restore_settings()
        try:
            record = scene_render.finish_sample(pending)
            record_in_manifest(self._out, record)
        except BlurdError as exc:
            pending.abandon()
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"BLURD: rendered sample {record.id} into {pending.folder}")
        return {"FINISHED"}


classes: tuple[type, ...] = (BLURD_OT_render,)
