"""Batch sweep: the preset's grid rendered into the output folder by the same engine as batch.py, one sample per
timer tick, with progress and ETA in the status bar and Esc to cancel (complete samples stay; rerun resumes)."""

from __future__ import annotations

from typing import Any

from bpy.types import Operator

from ..factors.errors import BlurdError
from ..presets import load_preset
from ..scene import sweep
from ..scene.render_settings import snapshot_render_settings
from .scene_context import (
    current_factors,
    factor_applier,
    output_folder,
    scene_has_camera,
    set_progress,
    sweep_preset_path,
)

TICK_SECONDS = 0.05


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "ETA --"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"ETA {minutes}m {secs:02d}s" if minutes else f"ETA {secs}s"


class BLURD_OT_batch_sweep(Operator):
    """Render every sample of the sweep preset's grid into the output folder (resumes an interrupted sweep)"""

    bl_idname = "blurd.batch_sweep"
    bl_label = "Batch sweep"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context: Any) -> bool:
        return scene_has_camera(cls, context)

    def _start(self, context: Any) -> None:
        """Build and start the sweep (errors before any render), remembering what to restore afterwards."""
        scene = context.scene
        preset_path = sweep_preset_path(scene)
        preset = load_preset(preset_path)
        out = output_folder(scene) / preset.output.folder if preset.output.folder else output_folder(scene)
        config = sweep.SweepConfig(out=out, grid=preset.grid, render=preset.render, output=preset.output,
                                   preset_path=preset_path, progress_bar=False)
        self._apply = factor_applier()
        self._original_factors = current_factors(scene)
        self._apply(scene, self._original_factors, None)  # an unbound scene or a bad binding fails here, not per sample
        self._restore_render = snapshot_render_settings(scene)
        self._sweep = sweep.Sweep(config, scene=scene, apply_factors=self._apply)
        self._sweep.start()

    def execute(self, context: Any) -> set[str]:
        """Blocking sweep (scripts, background mode)."""
        try:
            self._start(context)
        except BlurdError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        while not self._sweep.done:
            self._sweep.step()
        return self._finish(context)

    def invoke(self, context: Any, event: Any) -> set[str]:
        try:
            self._start(context)
        except BlurdError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(TICK_SECONDS, window=context.window)
        wm.modal_handler_add(self)
        set_progress(context, 0.0, f"BLURD sweep: 0/{self._sweep.total} (Esc cancels)")
        return {"RUNNING_MODAL"}

    def modal(self, context: Any, event: Any) -> set[str]:
        if event.type == "ESC":
            self._sweep.cancel()
            return self._finish(context)
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        self._sweep.step()  # one sample per tick: the UI stays responsive between renders
        if self._sweep.done:
            return self._finish(context)
        runner = self._sweep
        summary = runner.summary
        set_progress(context, runner.position / max(1, runner.total),
                     f"BLURD sweep: {runner.position}/{runner.total}, {summary.rendered} rendered, "
                     f"{summary.failed} failed, {eta_text(runner.eta_seconds())} (Esc cancels)")
        return {"RUNNING_MODAL"}

    def _finish(self, context: Any) -> set[str]:
        timer = getattr(self, "_timer", None)
        if timer is not None:
            context.window_manager.event_timer_remove(timer)
            self._timer = None
        summary = self._sweep.finish()
        self._restore_render()
        try:
            self._apply(context.scene, self._original_factors, None)  # the scene shows the user's factors again
        except Exception as exc:  # the sweep's result stands; say why the scene was not restored
            self.report({"WARNING"}, f"BLURD: could not restore the scene's factors ({exc})")
        set_progress(context, 0.0, "")
        first_line = summary.text().splitlines()[0]
        self.report({"WARNING"} if summary.failed or summary.cancelled else {"INFO"}, f"BLURD sweep {first_line}")
        for sample_id, message in summary.failures[:5]:
            self.report({"WARNING"}, f"BLURD: sample {sample_id} failed: {message}")
        return {"CANCELLED"} if summary.cancelled else {"FINISHED"}


classes: tuple[type, ...] = (BLURD_OT_batch_sweep,)
