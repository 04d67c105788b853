"""The extension shell: manifest (checked by Blender's own validator), the built zip, registration, operators and
the relative-import rule."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import runpy
import shutil
import subprocess
import sys
import tomllib
import types
import zipfile
from pathlib import Path

import bpy
import pytest

import blurd
from blurd.factors import schema

REPO_ROOT = Path(blurd.__file__).resolve().parent
MANIFEST_PATH = REPO_ROOT / "blender_manifest.toml"
BLENDER_SCRIPTS = Path(bpy.utils.system_resource("SCRIPTS"))  # Blender's bundled scripts, inside the bpy wheel
# Code that is not part of the installed package (scripts, tests, tools) may import absolutely.
NOT_PACKAGE_CODE = ("tests", "tools", "benchmarks", "scripts", ".venv", ".git", ".ci", "wheels", "dist", "out")
SCRIPTS = ("batch.py",)  # run as a script (blender -b -P batch.py), so it finds the package itself


def _blender_ext():
    """Blender's own extension tool (``blender --command extension``), as shipped inside the bpy wheel."""
    tool = BLENDER_SCRIPTS / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"
    spec = importlib.util.spec_from_file_location("blender_ext", tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tool, module


def _manifest() -> dict:
    with open(MANIFEST_PATH, "rb") as handle:
        return tomllib.load(handle)


# ---- manifest ----


def test_manifest_passes_blenders_strict_validation():
    _, ext = _blender_ext()
    result = ext.pkg_manifest_from_toml_and_validate_all_errors(str(MANIFEST_PATH), strict=True)
    assert not isinstance(result, list), result
    assert result.id == "blurd" and result.type == "add-on"


def test_manifest_required_fields_and_our_choices():
    manifest = _manifest()
    required = ("schema_version", "id", "version", "name", "tagline", "maintainer", "type", "blender_version_min",
                "license")
    assert all(manifest.get(key) for key in required)
    assert manifest["schema_version"] == "1.0.0"
    assert manifest["blender_version_min"] == "5.0.0"
    assert all(lic.startswith("SPDX:") for lic in manifest["license"])
    assert len(manifest["tagline"]) < 64 and manifest["tagline"][-1].isalnum()
    assert set(manifest["permissions"]) == {"files", "network"}


def test_manifest_tags_are_blender_tags():
    tags_file = BLENDER_SCRIPTS / "modules" / "_bpy_internal" / "extensions" / "tags.py"
    _, ext = _blender_ext()
    valid = ext.pkg_manifest_tags_load_valid_map(str(tags_file))
    assert ext.pkg_manifest_tags_valid_or_error(valid, "add-on", _manifest()["tags"]) is None


def test_manifest_bundles_the_blender_side_dependencies():
    wheels = [Path(w).name for w in _manifest()["wheels"]]
    for package in ("pillow", "tqdm", "tomli_w"):
        assert any(w.lower().startswith(package + "-") for w in wheels), package
    for python in ("cp311", "cp313"):  # Blender 5.0 runs Python 3.11, 5.1+ Python 3.13
        for platform in ("manylinux", "win_amd64", "macosx"):
            assert any(python in w and platform in w for w in wheels if w.startswith("pillow")), (python, platform)


def test_build_tool_fetches_exactly_the_manifest_wheels():
    build = runpy.run_path(str(REPO_ROOT / "tools" / "build_extension.py"), run_name="build_extension")
    wheels = build["manifest_wheels"]()
    assert [w.path for w in wheels] == _manifest()["wheels"]
    pillow = next(w for w in wheels if w.distribution == "pillow" and "manylinux" in w.platform_tag)
    args = pillow.pip_download_args(Path("wheels"))
    assert f"pillow=={pillow.version}" in args and "--no-deps" in args
    assert args[args.index("--python-version") + 1] in ("3.11", "3.13")
    assert args.count("--platform") == 2  # the compressed tag set manylinux_2_27.manylinux_2_28


def _copy_repository(tmp_path: Path) -> Path:
    source = tmp_path / "blurd"
    shutil.copytree(REPO_ROOT, source, symlinks=True,
                    ignore=shutil.ignore_patterns(".venv", ".git", "wheels", "dist", "out", "__pycache__", "*.zip"))
    return source


def _build(source: Path, out: Path) -> Path:
    """Blender's own ``extension build`` of ``source``; returns the zip."""
    tool, _ = _blender_ext()
    out.mkdir()
    result = subprocess.run([sys.executable, str(tool), "build", "--source-dir", str(source), "--output-dir",
                             str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    (archive,) = out.glob("*.zip")
    return archive


def test_built_zip_holds_the_package_and_leaves_out_development_files(tmp_path):
    """Build from a copy of the repository, the wheels stood in by empty files (no download in tests)."""
    source = _copy_repository(tmp_path)
    for wheel in _manifest()["wheels"]:
        (source / wheel).parent.mkdir(parents=True, exist_ok=True)
        (source / wheel).write_bytes(b"")
    for dev_file in ("tests/x.py", "benchmarks/x.py", ".ci/run", "tools/x.py", "factors/__pycache__/x.pyc"):
        (source / dev_file).parent.mkdir(parents=True, exist_ok=True)
        (source / dev_file).write_text("")
    archive = _build(source, tmp_path / "dist")
    assert archive.name == f"blurd-{_manifest()['version']}.zip"
    names = set(zipfile.ZipFile(archive).namelist())
    for needed in ("__init__.py", "blender_manifest.toml", "factors/schema.py", "presets/reader.py",
                   "presets/quick.toml", "presets/blurd3d.toml", "presets/blurd_mask.toml", "operators/presets.py",
                   "panels/factors.py", "scene/assets/makehuman_hm08.npz",  # the built-in human works offline
                   *(w.removeprefix("./") for w in _manifest()["wheels"])):
        assert needed in names, needed
    for name in names:
        assert not name.startswith(("tests/", "benchmarks/", ".ci/", "tools/", ".git")), name
        assert "__pycache__" not in name, name


INSTALL_SCRIPT = """
import sys
import bpy
import addon_utils
bpy.ops.wm.read_factory_settings(use_empty=True)
result = bpy.ops.extensions.package_install_files(filepath=sys.argv[1], repo="user_default",
                                                  enable_on_install=True)
assert result == {"FINISHED"}, result
module = "bl_ext.user_default.blurd"
assert addon_utils.check(module) == (True, True), addon_utils.check(module)
assert bpy.context.scene.blurd.gender == "male"
assert bpy.ops.blurd.preset_export.get_rna_type().description
assert bpy.ops.blurd.add_human() == {"FINISHED"}  # the bundled MakeHuman assets load from the installed extension
assert "BLURD_Body" in bpy.data.scenes["BLURD Portrait"].objects
addon_utils.disable(module)
assert not hasattr(bpy.types.Scene, "blurd") and not hasattr(bpy.types, "BLURD_PT_factors")
print("installed, enabled and disabled")
"""


def test_built_zip_installs_and_enables_in_blender(tmp_path):
    """Install the zip with Blender's Install from Disk into a throwaway user folder (in a fresh Blender)."""
    source = _copy_repository(tmp_path)
    manifest = (source / "blender_manifest.toml").read_text(encoding="utf-8")
    # The wheels come from PyPI at build time; here the zip is built without them (the test stays offline).
    manifest = manifest[: manifest.index("platforms =")] + manifest[manifest.index("[permissions]"):]
    (source / "blender_manifest.toml").write_text(manifest, encoding="utf-8")
    archive = _build(source, tmp_path / "dist")
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(tmp_path / "user")}
    result = subprocess.run([sys.executable, "-c", INSTALL_SCRIPT, str(archive)], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "installed, enabled and disabled" in result.stdout
    assert (tmp_path / "user" / "extensions" / "user_default" / "blurd" / "__init__.py").is_file()


# ---- registration ----


def _blurd_types() -> set[str]:
    return {name for name in dir(bpy.types) if name.startswith("BLURD_")}


def _menu_draw_funcs(menu: str) -> list:
    draw = getattr(bpy.types, menu).draw
    return list(getattr(draw, "_draw_funcs", []))


def test_register_and_unregister_twice_cleanly():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    before_types, before_import = _blurd_types(), _menu_draw_funcs("TOPBAR_MT_file_import")
    assert not hasattr(bpy.types.Scene, "blurd")
    for _ in range(2):
        blurd.register()
        assert hasattr(bpy.types.Scene, "blurd")
        assert bpy.context.scene.blurd.hair_color == schema.FACTOR_BY_NAME["hair_color"].default
        classes = list(_registered_classes())
        assert len(classes) >= 10 and all(cls.is_registered for cls in classes)
        assert {"BLURD_PT_factors", "BLURD_MT_factor_presets", "BLURD_OT_preset_export"} <= _blurd_types()
        assert len(_menu_draw_funcs("TOPBAR_MT_file_import")) == len(before_import) + 1
        blurd.unregister()
        assert not hasattr(bpy.types.Scene, "blurd")
        assert _blurd_types() == before_types
        assert not any(cls.is_registered for cls in classes)
        assert _menu_draw_funcs("TOPBAR_MT_file_import") == before_import


def test_register_twice_without_unregister_does_not_double_up():
    blurd.register()
    try:
        blurd.register()
        assert len([f for f in _menu_draw_funcs("TOPBAR_MT_file_export") if "blurd" in f.__module__]) == 1
    finally:
        blurd.unregister()
    assert not hasattr(bpy.types.Scene, "blurd")


@pytest.fixture()
def registered():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    blurd.register()
    yield
    blurd.unregister()


def _registered_classes():
    for name in blurd.MODULES:
        yield from importlib.import_module(f"blurd.{name}").classes


def test_every_operator_is_labelled_described_and_searchable(registered):
    operators = [cls for cls in _registered_classes() if issubclass(cls, bpy.types.Operator)]
    assert len(operators) >= 4
    for op in operators:
        assert op.bl_idname.startswith("blurd."), op
        assert op.bl_label and op.__doc__ and op.bl_description == " ".join(op.__doc__.split()), op
        assert "INTERNAL" not in getattr(op, "bl_options", set()), f"{op.bl_idname} is hidden from F3 search"
        category, name = op.bl_idname.split(".")
        assert getattr(getattr(bpy.ops, category), name).get_rna_type().description == op.bl_description


def test_sidebar_tab_has_one_sub_panel_per_factor_group(registered):
    panels = [cls for cls in _registered_classes() if issubclass(cls, bpy.types.Panel)]
    main = bpy.types.BLURD_PT_factors
    assert (main.bl_space_type, main.bl_region_type, main.bl_category) == ("VIEW_3D", "UI", "BLURD")
    subs = [p for p in panels if getattr(p, "bl_parent_id", "") == "BLURD_PT_factors"]
    assert [p.bl_label for p in subs] == [g.value for g in schema.FactorGroup]
    assert all(p.bl_category == "BLURD" for p in subs)
    for top in (bpy.types.BLURD_PT_output, bpy.types.BLURD_PT_diffusion):  # every panel shares the one tab
        assert (top.bl_space_type, top.bl_region_type, top.bl_category) == ("VIEW_3D", "UI", "BLURD")
    grouped = sorted(f.name for p in subs for f in schema.FACTORS if f.group is p.factor_group)
    assert grouped == sorted(schema.FACTOR_NAMES)


# ---- import rules ----


def _package_files():
    for path in sorted(REPO_ROOT.rglob("*.py")):
        rel = path.relative_to(REPO_ROOT)
        if rel.parts[0] in NOT_PACKAGE_CODE or str(rel) in SCRIPTS:
            continue
        yield rel, path


def _fallback_imports(tree: ast.AST) -> list[int]:
    """Line numbers of ``try: <import> except ImportError: <import>`` blocks: a module must have one name, so a
    second way to import it is a defect (issue 9), whatever the reason given for it."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        for handler in node.handlers:
            names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            catches = any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names)
            imports_again = any(isinstance(n, (ast.Import, ast.ImportFrom)) for b in handler.body for n in ast.walk(b))
            if catches and imports_again:
                lines.append(handler.lineno)
    return lines


def _own_absolute_imports(tree: ast.AST, own: set[str]) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        lines += [node.lineno for n in names if n.split(".")[0] in own]
    return lines


OWN = {p.name for p in REPO_ROOT.iterdir() if (p / "__init__.py").is_file()} | {"blurd"}


def test_package_code_imports_its_own_modules_relatively():
    offenders = []
    for rel, path in _package_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(rel))
        offenders += [f"{rel}:{line}: absolute import of the package" for line in _own_absolute_imports(tree, OWN)]
        offenders += [f"{rel}:{line}: fallback import" for line in _fallback_imports(tree)]
    assert not offenders, "\n".join(offenders)


def test_the_import_rule_catches_absolute_and_fallback_imports():
    code = "import factors\nfrom scene import live\ntry:\n    from ..factors import ids\nexcept ImportError:\n" \
           "    from factors import ids\n"
    tree = ast.parse(code)
    assert _own_absolute_imports(tree, {"factors", "scene"}) == [1, 2, 6]
    assert _fallback_imports(tree) == [5]


# Ways of giving a module a second name: each one is a defect wherever it appears in the project's own files.
FORBIDDEN_LOADERS = ("sys.path.insert", "sys.path.append", "sys.path[", "spec_from_file_location", "module_from_spec",
                     "blender_package")


def test_no_module_is_loaded_by_hand_anywhere_in_the_project():
    offenders = []
    for path in sorted(REPO_ROOT.rglob("*.py")):
        rel = path.relative_to(REPO_ROOT)
        if rel.parts[0] in (".venv", ".git", "wheels", "dist", "out") or path.name == "test_extension.py":
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{rel}: {word}" for word in FORBIDDEN_LOADERS if word in text]
        tree = ast.parse(text, filename=str(rel))
        if rel.parts[0] in NOT_PACKAGE_CODE or str(rel) in SCRIPTS:  # scripts and tests import `blurd` absolutely
            offenders += [f"{rel}:{line}: fallback import" for line in _fallback_imports(tree)]
            bare = OWN - {"blurd"}
            offenders += [f"{rel}:{line}: import without blurd." for line in _own_absolute_imports(tree, bare)]
    assert not offenders, "\n".join(offenders)


def test_one_error_class_in_every_context():
    """A BlurdError raised by any subpackage is caught by ``except BlurdError`` imported from ``blurd``."""
    from blurd import BlurdError
    from blurd.diffusion.core import BlurdError as diffusion_view
    from blurd.factors.errors import BlurdError as core
    from blurd.factors.grid import parse_shard
    from blurd.presets import load_preset

    assert BlurdError is core is diffusion_view
    for raise_it in (lambda: parse_shard("9/2"), lambda: load_preset(Path("/nonexistent/preset.toml"))):
        with pytest.raises(BlurdError):
            raise_it()
    code = "import blurd.diffusion.worker.server as s, blurd.factors.errors as e; "\
            "print(s.__name__, e.BlurdError.__module__)"
    worker = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert worker.stdout.split() == ["blurd.diffusion.worker.server", "blurd.factors.errors"], worker.stderr


def test_pure_packages_import_without_bpy_at_import_time():
    init_tree = ast.parse((REPO_ROOT / "__init__.py").read_text(encoding="utf-8"))
    top_level_imports = [n for n in init_tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not any("bpy" in ast.dump(n) for n in top_level_imports), "__init__.py must import bpy lazily"


def test_pyproject_lists_every_subpackage_so_the_install_maps_them_all():
    listed = set(tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
                 ["packages"])
    found = {"blurd"} | {
        "blurd." + ".".join(p.parent.relative_to(REPO_ROOT).parts)
        for p in REPO_ROOT.rglob("__init__.py")
        if p.parent != REPO_ROOT and p.relative_to(REPO_ROOT).parts[0] not in NOT_PACKAGE_CODE
    }
    assert listed == found


class RecordingLayout:
    """A stand-in for ``Panel.layout`` that records what a panel draws (every sub-layout shares the record)."""

    def __init__(self, record: list[tuple[str, str]] | None = None) -> None:
        self.__dict__["record"] = [] if record is None else record

    def prop(self, data, name: str, **_kw) -> None:
        assert hasattr(data, name), f"the panel draws {name!r}, which {data!r} does not have"
        self.record.append(("prop", name))

    def operator(self, idname: str, **_kw):
        category, name = idname.split(".")
        assert getattr(getattr(bpy.ops, category), name).idname(), idname
        self.record.append(("operator", idname))
        return RecordingLayout(self.record)  # operator properties are set on what it returns

    def __getattr__(self, name: str):  # row(), column(), box(), label(), menu(), progress(), separator()...
        return lambda *args, **kw: RecordingLayout(self.record)

    def __setattr__(self, name: str, value) -> None:  # use_property_split, scale_y, enabled ...
        self.__dict__[name] = value


def test_every_panel_draws_and_shows_every_factor_and_every_setting(registered):
    from blurd.diffusion.settings import SETTING_FIELDS

    record: list[tuple[str, str]] = []
    panels = [cls for cls in _registered_classes() if issubclass(cls, bpy.types.Panel)]
    for panel in panels:
        stand_in = types.SimpleNamespace(layout=RecordingLayout(record), **{
            k: v for k, v in vars(panel).items() if not k.startswith("__")})
        if panel.poll(bpy.context) if hasattr(panel, "poll") else True:
            panel.draw(stand_in, bpy.context)
        if hasattr(panel, "draw_header_preset"):
            panel.draw_header_preset(stand_in, bpy.context)
    drawn = {name for kind, name in record if kind == "prop"}
    assert set(schema.FACTOR_NAMES) <= drawn, set(schema.FACTOR_NAMES) - drawn
    assert set(SETTING_FIELDS) <= drawn, set(SETTING_FIELDS) - drawn
    assert ("operator", "blurd.generate") in record


def test_every_loaded_project_module_is_named_blurd():
    """No module of the package is loaded a second time under another name (e.g. pytest importing the root folder
    as a package named after the clone)."""
    def package_file(module) -> bool:
        path = getattr(module, "__file__", None)
        if not path or not Path(path).is_absolute() or not Path(path).resolve().is_relative_to(REPO_ROOT):
            return False
        return Path(path).resolve().relative_to(REPO_ROOT).parts[0] not in NOT_PACKAGE_CODE

    aliases = sorted(name for name, module in list(sys.modules.items())
                     if package_file(module) and not name.startswith(("blurd", "bl_ext")))  # Blender's own
    assert not aliases, aliases
