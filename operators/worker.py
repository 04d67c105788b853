"""The Blender side's one diffusion worker, and the preference buttons: set up its venv, check it, stop it.

Blender never imports torch: it holds a diffusion.process.WorkerClient, which runs the worker as a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import bpy
from bpy.types import Operator

from ..diffusion.errors import DiffusionError
from ..diffusion.process import WorkerClient

ROOT_PACKAGE = __package__.rpartition(".")[0]  # the extension's package (bl_ext.<repo>.blurd)
REQUIREMENTS = Path(__file__).resolve().parent.parent / "diffusion" / "requirements-worker.txt"


def preferences(context: Any) -> Any | None:
    addon = context.preferences.addons.get(ROOT_PACKAGE)
    return addon.preferences if addon else None


class WorkerSession:
    """The worker this Blender session talks to; replaced when the preferred interpreter or online access changes."""

    def __init__(self) -> None:
        self.client: WorkerClient | None = None
        self._config: tuple[str, bool] | None = None

    def client_for(self, context: Any) -> WorkerClient:
        prefs = preferences(context)
        python = (bpy.path.abspath(prefs.worker_python) if prefs and prefs.worker_python else "") or ""
        config = (python, bool(bpy.app.online_access))
        if self.client is None or config != self._config:
            self.stop()
            self.client = WorkerClient(python or None, allow_downloads=config[1])
            self._config = config
        return self.client

    def stop(self) -> None:
        if self.client is not None:
            self.client.stop()
        self.client = None


SESSION = WorkerSession()


def worker_client(context: Any) -> WorkerClient:
    """The session's worker client (started lazily by its first request)."""
    return SESSION.client_for(context)


class BLURD_OT_worker_stop(Operator):
    """Stop the diffusion worker and free all its GPU memory (the next Generate starts a fresh one)"""

    bl_idname = "blurd.worker_stop"
    bl_label = "Free GPU Memory"

    def execute(self, context: Any) -> set[str]:
        running = SESSION.client is not None and SESSION.client.running
        SESSION.stop()
        self.report({"INFO"}, "Diffusion worker stopped" if running else "No diffusion worker was running")
        return {"FINISHED"}


class BLURD_OT_worker_check(Operator):
    """Start the diffusion worker and show its Python, torch and diffusers versions and its device"""

    bl_idname = "blurd.worker_check"
    bl_label = "Check Worker"

    def execute(self, context: Any) -> set[str]:
        prefs = preferences(context)
        try:
            info = worker_client(context).info(timeout=300)
        except DiffusionError as exc:
            if prefs:
                prefs.worker_status = str(exc)
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        text = (f"Python {info['python']}, torch {info['torch']}, diffusers {info['diffusers']}, "
                f"device {info['device']} ({info['device_name']})")
        if prefs:
            prefs.worker_status = text
        self.report({"INFO"}, text)
        return {"FINISHED"}


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


class BLURD_OT_worker_setup(Operator):
    """Create a Python environment for the diffusion worker in the extension's user folder and pip install torch
    and diffusers into it (downloads several GB; needs Online Access)"""

    bl_idname = "blurd.worker_setup"
    bl_label = "Set Up Worker Environment"

    @classmethod
    def poll(cls, context: Any) -> bool:
        if not bpy.app.online_access:
            cls.poll_message_set("Allow Online Access (Preferences > System > Network) to download the packages")
            return False
        return True

    def invoke(self, context: Any, event: Any) -> set[str]:
        folder = Path(bpy.utils.extension_path_user(ROOT_PACKAGE, path="worker", create=True))
        self._venv = folder / "venv"
        self._log = folder / "setup.log"
        self._steps = [
            [sys.executable, "-m", "venv", str(self._venv)],
            [str(venv_python(self._venv)), "-m", "pip", "install", "--upgrade", "pip"],
            [str(venv_python(self._venv)), "-m", "pip", "install", "-r", str(REQUIREMENTS)],
        ]
        self._lines = 0
        self._result: tuple[bool, str] | None = None
        threading.Thread(target=self._run, name="blurd-worker-setup", daemon=True).start()
        self._timer = context.window_manager.event_timer_add(0.5, window=context.window)
        context.window_manager.progress_begin(0, 100)
        context.window_manager.modal_handler_add(self)
        prefs = preferences(context)
        if prefs:
            prefs.worker_log = str(self._log)
            prefs.worker_status = "Setting up the worker environment..."
        return {"RUNNING_MODAL"}

    def _run(self) -> None:
        with open(self._log, "w", encoding="utf-8") as log:
            for command in self._steps:
                log.write("$ " + " ".join(command) + "\n")
                log.flush()
                proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for line in proc.stdout:
                    log.write(line)
                    self._lines += 1
                if proc.wait() != 0:
                    self._result = (False, f"'{' '.join(command[:4])}...' failed (exit {proc.returncode}); "
                                           f"see the log {self._log}")
                    return
        self._result = (True, str(venv_python(self._venv)))

    def modal(self, context: Any, event: Any) -> set[str]:
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        context.window_manager.progress_update(min(99, self._lines // 5))
        if self._result is None:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        context.window_manager.progress_end()
        ok, text = self._result
        prefs = preferences(context)
        if ok:
            if prefs:
                prefs.worker_python = text
                prefs.worker_status = f"Worker environment ready: {text}"
            SESSION.stop()
            self.report({"INFO"}, f"Worker environment ready: {text}")
            return {"FINISHED"}
        if prefs:
            tail = self._log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
            prefs.worker_status = "\n".join([text, *tail])
        self.report({"ERROR"}, text)
        return {"CANCELLED"}


classes = (BLURD_OT_worker_stop, BLURD_OT_worker_check, BLURD_OT_worker_setup)
