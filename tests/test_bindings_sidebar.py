"""The sidebar path with a user's own character, as a user walks it: the extension built into its zip and installed
with Install from Disk into a clean user folder, the docs' rig opened from a .blend, then the Bindings panel's file,
Check, live factor changes, Check sheet and Render, a wrong file whose errors show in the panel without ever
escaping, and the docs' Python snippet under the installed module name (bl_ext.user_default.blurd)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import bpy
from user_rig import save_primitive_rig, write_doc_bindings

ROOT = Path(__file__).resolve().parents[1]

SIDEBAR_SCRIPT = r"""
import sys
from pathlib import Path
import bpy
import addon_utils

zip_path, blend, toml, out, doc = sys.argv[1:6]
bpy.ops.wm.read_factory_settings(use_empty=True)
assert bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default",
                                                enable_on_install=True) == {"FINISHED"}
assert addon_utils.check("bl_ext.user_default.blurd") == (True, True)
bpy.ops.wm.open_mainfile(filepath=blend)
scene = bpy.context.scene

# docs/bindings.md, "Python": every python snippet of the doc, run as printed (the .blend lies beside the toml)
import re
by_import, by_operators = re.findall(r"```python\n(.*?)```", Path(doc).read_text(encoding="utf-8"), re.S)
exec(compile(by_import, "docs/bindings.md", "exec"), {})
cam = bpy.data.objects["Cam"]
assert cam.get("blurd_camera_angle") == 30, dict(cam)  # the snippet applied its factors
exec(compile(by_operators, "docs/bindings.md", "exec"), {})
assert scene.blurd_bindings.endswith("primitive_rig.toml") and "fits the scene" in scene.blurd_binding_status
from bl_ext.user_default.blurd.scene.bindings import load_bindings
assert load_bindings(toml).problems(scene) == []

# the Bindings panel: choose the file, Check, then factor changes drive the rig
panel = bpy.types.BLURD_PT_bindings
assert panel.poll(bpy.context)
scene.blurd_bindings = toml
assert bpy.ops.blurd.bindings_check() == {"FINISHED"}
assert "fits the scene" in scene.blurd_binding_status, scene.blurd_binding_status
scene.blurd.hair_color = "red"
hair = bpy.data.materials["HairMat"].node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value
assert tuple(hair)[:3] == (0.800000011920929, 0.05000000074505806, 0.05000000074505806), tuple(hair)
scene.blurd.camera_angle = 0.5  # radians in the UI: the camera orbits the head
assert abs(bpy.data.objects["Cam"]["blurd_camera_angle"] - 28.648) < 0.01
assert "blurd_binding_error" not in scene

scene.blurd_output.folder = out
assert bpy.ops.blurd.bindings_check_sheet() == {"FINISHED"}
sheet = Path(out) / "binding_check" / "contact_sheet.png"
assert sheet.is_file() and bpy.data.images["BLURD binding check"].size[0] > 0
assert tuple(hair)[:3] == (0.800000011920929, 0.05000000074505806, 0.05000000074505806)  # factors put back
assert bpy.ops.blurd.render() == {"FINISHED"}
assert len(list((Path(out) / "samples").glob("*/sample.json"))) == 1
preset = Path(out) / "sweep.toml"
preset.write_text('format = 1\n[output]\nfolder = "sweep"\nthumbnail_size = 32\n[grid.sweep]\n'
                  'shirt_color = ["red", "green"]\n[render]\nresolution = [32, 32]\nsamples = 1\ndenoise = false\n'
                  'threads = 1\n')
scene.blurd_output.preset = str(preset)
assert bpy.ops.blurd.batch_sweep() == {"FINISHED"}  # the sidebar's Batch sweep drives the rig through the file
swept = sorted((Path(out) / "sweep" / "samples").glob("*/sample.json"))
assert len(swept) == 2 and (Path(out) / "sweep" / "contact_sheet.png").is_file()
shirt = bpy.data.materials["ShirtMat"].node_tree.nodes["Shirt RGB"].outputs[0].default_value
assert abs(shirt[0] - 0.9) < 1e-6  # the sweep put the user's factors back (shirt white)

# a wrong file: the live update keeps the error for the panel and never raises; Check lists every problem
bad = Path(out) / "bad.toml"
bad.write_text('[[hair_colour]]\nmaterial = "HairMat"\nnode = "N"\nrgb = true\n'
               '[[focal_length]]\ncamera = "CamData"\npath = "lens"\nindex = 3\npoints = [[50, 50.0], [100, 100.0]]\n')
scene.blurd_bindings = str(bad)
scene.blurd.hair_color = "blue"
assert "did you mean 'hair_color'" in scene["blurd_binding_error"]
try:
    bpy.ops.blurd.bindings_check()
except RuntimeError as exc:
    assert "did you mean 'hair_color'" in str(exc), exc
else:
    raise AssertionError("Check accepted a wrong file")
assert "problem" in scene.blurd_binding_status


class Layout:
    def __init__(self, lines):
        self.lines = lines

    def label(self, text="", **_kw):
        self.lines.append(text)

    def __getattr__(self, name):
        return lambda *a, **k: Layout(self.lines)


lines = []
panel.draw(type("P", (), {"layout": Layout(lines)})(), bpy.context)
assert any("did you mean 'hair_color'" in line for line in lines), lines
print("sidebar path ok")
"""


def _blender_ext_tool() -> Path:
    return Path(bpy.utils.system_resource("SCRIPTS")) / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"


def build_extension_zip(tmp_path: Path) -> Path:
    """The extension zip, built by Blender's own builder from a copy of the tree (wheels left out: offline test)."""
    source = tmp_path / "blurd"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "wheels", "dist", "out",
                                                                "__pycache__", "*.zip", "tests", "benchmarks"))
    manifest = (source / "blender_manifest.toml").read_text(encoding="utf-8")
    manifest = manifest[: manifest.index("platforms =")] + manifest[manifest.index("[permissions]"):]
    (source / "blender_manifest.toml").write_text(manifest, encoding="utf-8")
    (tmp_path / "dist").mkdir()
    built = subprocess.run([sys.executable, str(_blender_ext_tool()), "build", "--source-dir", str(source),
                            "--output-dir", str(tmp_path / "dist")], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    (archive,) = (tmp_path / "dist").glob("*.zip")
    return archive


def test_a_users_rig_through_the_installed_extensions_bindings_panel(tmp_path):
    assert importlib.util.find_spec("PIL"), "the check sheet draws with Pillow (bundled in the extension's wheels)"
    archive = build_extension_zip(tmp_path)
    toml = write_doc_bindings(tmp_path, "primitive_rig.toml")
    blend = save_primitive_rig(tmp_path / "rig.blend", size=32, samples=2)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(tmp_path / "user")}
    run = subprocess.run([sys.executable, "-c", SIDEBAR_SCRIPT, str(archive), str(blend), str(toml),
                          str(tmp_path / "out"), str(ROOT / "docs" / "bindings.md")],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "sidebar path ok" in run.stdout
