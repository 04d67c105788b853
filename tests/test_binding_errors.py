"""Wrong binding files: each is one BindingError naming the file and the entry, found when the file is loaded or
checked against the scene (before anything changes), never a raw IndexError/ZeroDivisionError or a NaN written into
the scene; and the camera-orbit target, scene = true and "Use Temperature" on the docs' rig."""

from __future__ import annotations

import math

import bpy
import pytest
from user_rig import build_primitive_rig, doc_binding_toml

from blurd.factors.errors import BlurdError
from blurd.scene import bindings as B
from blurd.scene import camera_orbit, live


def write(tmp_path, text: str, name: str = "rig.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------- found at load time

LOAD_ERRORS = [
    ("nan in points", '[[age]]\nobject = "Head"\nshape_key = "Old"\npoints = [[30, nan], [70, 1.0]]',
     "[[age]] #1", "not a finite number"),
    ("inf x in points", '[[age]]\nobject = "Head"\nshape_key = "Old"\npoints = [[inf, 0.0], [70, 1.0]]',
     "[[age]] #1", "not a finite number"),
    ("nan in a value", '[[gender]]\nobject = "Head"\nshape_key = "Female"\nvalues = { male = nan, female = 1.0 }',
     "[[gender]] #1", "not a finite number"),
    ("nan in a colour", '[[race]]\nmaterial = "Skin"\nnode = "Principled BSDF"\ninput = "Base Color"\n'
     'values = { default = [0.5, nan, 0.2] }', "[[race]] #1", "not a finite number"),
    ("duplicate x with extrapolate", '[[focal_length]]\ncamera = "CamData"\npath = "lens"\n'
     'points = [[50, 50.0], [50, 60.0]]\nextrapolate = true', "[[focal_length]] #1", "more than once"),
    ("duplicate x", '[[age]]\nobject = "Head"\nshape_key = "Old"\npoints = [[30, 0.0], [30, 1.0], [70, 1.0]]',
     "[[age]] #1", "x = 30 more than once"),
    ("factor typo", '[[hair_colour]]\nmaterial = "HairMat"\nnode = "N"\nrgb = true', "[[hair_colour]]",
     "did you mean 'hair_color'"),
    ("key typo", '[[hair_color]]\nmaterail = "HairMat"\nnode = "N"\nrgb = true', "[[hair_color]] #1",
     "did you mean 'material'"),
    ("value typo", '[[light_strength]]\nlight = "KeyData"\npath = "energy"\nvalues = { hihg = 1.0, default = 2.0 }',
     "[[light_strength]] #1", "did you mean 'high'"),
    ("scene = name", '[[light_strength]]\nscene = "Scene"\npath = "view_settings.exposure"\n'
     'values = { default = 1.0 }', "[[light_strength]] #1", "scene = true"),
    ("index with rgb", '[[hair_color]]\nmaterial = "HairMat"\nnode = "Principled BSDF"\ninput = "Base Color"\n'
     'index = 1\nrgb = true', "[[hair_color]] #1", "index = 1 sets one number"),
    ("mixed value shapes", '[[race]]\nmaterial = "Skin"\nnode = "Principled BSDF"\ninput = "Base Color"\n'
     'values = { african = [0.1, 0.1, 0.1], default = 0.5 }', "[[race]] #1", "mix numbers and lists"),
    ("orbit without distance", '[[camera_angle]]\ncamera_orbit = "Cam"\npivot = "Head"', "[[camera_angle]] #1",
     "needs distance"),
    ("orbit entries disagree", '[[camera_angle]]\ncamera_orbit = "Cam"\npivot = "Head"\ndistance = 8.0\n'
     '[[focal_length]]\ncamera_orbit = "Cam"\ndistance = 5.0', "[[focal_length]] #1", "must agree"),
    ("orbit on another factor", '[[age]]\ncamera_orbit = "Cam"\npivot = "Head"\ndistance = 8.0', "[[age]] #1",
     "camera_angle and focal_length only"),
    ("bad framing", '[[camera_angle]]\ncamera_orbit = "Cam"\npivot = "Head"\ndistance = 8.0\nframing = "keep"',
     "[[camera_angle]] #1", "keep_size"),
]


@pytest.mark.parametrize("case, text, entry, problem", LOAD_ERRORS, ids=[c[0] for c in LOAD_ERRORS])
def test_malformed_files_are_refused_at_load_naming_file_and_entry(tmp_path, case, text, entry, problem):
    path = write(tmp_path, text + "\n")
    with pytest.raises(B.BindingError) as err:
        B.load_bindings(path)
    message = str(err.value)
    assert f"{path}: {entry}" in message and problem in message, message


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    text = "\n".join(t for _, t, _, _ in LOAD_ERRORS[:3]) + "\n"
    with pytest.raises(B.BindingError) as err:
        B.load_bindings(write(tmp_path, text))
    assert str(err.value).count("not a finite number") >= 2


# --------------------------------------------------------------------------------- found by the scene check

CHECK_ERRORS = [
    ("index out of range", '[[camera_angle]]\nobject = "Cam"\npath = "rotation_euler"\nindex = 5\n'
     'points = [[0, 0.0], [90, 1.57]]', 'index 5 is out of range; the target has 3 elements'),
    ("indexed path out of range", '[[camera_angle]]\nobject = "Cam"\npath = "location[7]"\n'
     'points = [[0, 0.0], [90, 1.0]]', "index 7 is out of range"),
    ("index on a single value", '[[focal_length]]\ncamera = "CamData"\npath = "lens"\nindex = 0\n'
     'points = [[50, 50.0], [100, 100.0]]', "holds a single value"),
    ("rgb into a float socket", '[[hair_color]]\nmaterial = "HairMat"\nnode = "Principled BSDF"\n'
     'input = "Roughness"\nrgb = true', "takes one number, but the binding gives 3"),
    ("colour list into a float", '[[race]]\nmaterial = "Skin"\nnode = "Principled BSDF"\ninput = "Metallic"\n'
     'values = { default = [0.2, 0.3, 0.4] }', "takes one number"),
    ("two-component colour", '[[race]]\nmaterial = "Skin"\nnode = "Principled BSDF"\ninput = "Base Color"\n'
     'values = { default = [0.2, 0.3] }', "takes 4 numbers, but the binding gives 2 (a colour is"),
    ("number into a colour", '[[light_strength]]\nmaterial = "Skin"\nnode = "Principled BSDF"\n'
     'input = "Base Color"\nvalues = { default = 0.5 }', "takes 4 numbers, but the binding gives one"),
    ("text property", '[[light_strength]]\nobject = "Cam"\npath = "name"\nvalues = { default = 0.5 }',
     "not numbers"),
    ("read-only property", '[[light_strength]]\nobject = "Head"\npath = "dimensions"\nindex = 0\n'
     'values = { default = 0.5 }', ""),
    ("orbit pivot missing", '[[camera_angle]]\ncamera_orbit = "Cam"\npivot = "Noggin"\ndistance = 8.0',
     'object "Noggin"'),
    ("orbit of a non-camera", '[[camera_angle]]\ncamera_orbit = "Key"\npivot = "Head"\ndistance = 8.0',
     "not a camera"),
]


@pytest.mark.parametrize("case, text, problem", CHECK_ERRORS, ids=[c[0] for c in CHECK_ERRORS])
def test_files_that_do_not_fit_the_scene_are_refused_by_the_check(tmp_path, case, text, problem):
    scene = build_primitive_rig()
    path = write(tmp_path, text + "\n")
    bound = B.load_bindings(path)
    problems = bound.problems(scene)
    if case == "read-only property":  # dimensions is writable in Blender: the check must accept it
        assert problems == []
        return
    assert len(problems) == 1 and str(path) in problems[0] and problem in problems[0], problems
    before = {o.name: tuple(o.matrix_world.translation) for o in bpy.data.objects}
    with pytest.raises(B.BindingError, match="binding") as err:
        bound.apply(scene, {"camera_angle": 30, "hair_color": "red", "race": "african", "focal_length": 85,
                            "light_strength": "high"})
    assert isinstance(err.value, BlurdError) and problem in str(err.value)
    assert before == {o.name: tuple(o.matrix_world.translation) for o in bpy.data.objects}


def test_the_live_update_never_lets_an_error_escape(tmp_path):
    scene = build_primitive_rig()
    for text, expected in [("[[age]]\nobject = \"Head\"\nshape_key = \"Old\"\npoints = [[30, nan], [70, 1]]\n",
                            "finite"),
                           ("[[hair_color]]\nmaterial = \"HairMat\"\nnode = \"Principled BSDF\"\n"
                            "input = \"Roughness\"\nrgb = true\n", "takes one number"),
                           ("not toml [[[", "not valid TOML")]:
        scene[live.BINDINGS_PROP] = str(write(tmp_path, text, f"bad{len(expected)}.toml"))
        live.on_factors_changed(scene, {"hair_color": "red", "age": 70})
        assert expected in scene[live.ERROR_PROP]
    scene[live.BINDINGS_PROP] = str(write(tmp_path, doc_binding_toml(), "good.toml"))
    live.on_factors_changed(scene, {"hair_color": "red"})
    assert live.ERROR_PROP not in scene
    live.on_factors_changed(scene, {"age": 999})  # an invalid factor value is reported too, not raised
    assert "age" in scene[live.ERROR_PROP]
    bpy.data.objects.remove(bpy.data.objects["Head"])  # the rig changed under the file: reported, not raised
    live.on_factors_changed(scene, {"age": 70})
    assert 'object "Head"' in scene[live.ERROR_PROP]


# ------------------------------------------------------------------------------------------------ new targets


def test_camera_orbit_turns_about_the_pivot_and_keeps_the_framing(tmp_path):
    scene = build_primitive_rig()
    bound = B.load_bindings(write(tmp_path, doc_binding_toml()))
    cam = bpy.data.objects["Cam"]
    head = bpy.data.objects["Head"].matrix_world.translation
    bound.apply(scene, {"camera_angle": 0, "focal_length": 50})
    assert tuple(cam.matrix_world.translation) == pytest.approx((0, -8, 0), abs=1e-5)
    bound.apply(scene, {"camera_angle": 30})
    yaw = math.radians(30)
    assert tuple(cam.matrix_world.translation) == pytest.approx((8 * math.sin(yaw), -8 * math.cos(yaw), 0), abs=1e-5)
    forward = -cam.matrix_world.to_3x3().col[2]  # a camera looks down its -Z
    to_pivot = (head - cam.matrix_world.translation).normalized()
    assert forward.normalized().dot(to_pivot) == pytest.approx(1.0, abs=1e-6)  # aimed at the pivot
    assert cam.matrix_world.to_3x3().col[1].z > 0.99  # upright
    bound.apply(scene, {"focal_length": 100})  # keep_size: twice the lens, twice the distance, same angle
    assert bpy.data.cameras["CamData"].lens == pytest.approx(100)
    assert (cam.matrix_world.translation - head).length == pytest.approx(16.0, abs=1e-4)
    assert cam[camera_orbit.ANGLE_PROP] == pytest.approx(30)
    assert tuple(cam.matrix_world.translation) == pytest.approx((16 * math.sin(yaw), -16 * math.cos(yaw), 0), abs=1e-4)


def test_fixed_distance_framing_only_zooms(tmp_path):
    scene = build_primitive_rig()
    text = ('[[camera_angle]]\ncamera_orbit = "Cam"\npivot = [0, 0, 0]\ndistance = 6.0\nframing = "fixed_distance"\n'
            'elevation = 30\n[[focal_length]]\ncamera_orbit = "Cam"\n')
    B.load_bindings(write(tmp_path, text)).apply(scene, {"camera_angle": 0, "focal_length": 85})
    location = bpy.data.objects["Cam"].matrix_world.translation
    assert tuple(location) == pytest.approx((0, -6 * math.cos(math.radians(30)), 3.0), abs=1e-5)


def test_scene_true_targets_a_property_of_the_scene(tmp_path):
    scene = build_primitive_rig()
    text = '[[light_strength]]\nscene = true\npath = "view_settings.exposure"\nvalues = { low = -1.0, default = 0.5 }\n'
    bound = B.load_bindings(write(tmp_path, text))
    assert bound.problems(scene) == []
    bound.apply(scene, {"light_strength": "low"})
    assert scene.view_settings.exposure == pytest.approx(-1.0)
    bound.apply(scene, {"light_strength": "high"})
    assert scene.view_settings.exposure == pytest.approx(0.5)


def test_light_warmth_switches_use_temperature_on(tmp_path):
    scene = build_primitive_rig()
    light = bpy.data.lights["KeyData"]
    assert not light.use_temperature
    B.load_bindings(write(tmp_path, doc_binding_toml())).apply(scene, {"light_warmth": 3200})
    assert light.use_temperature and light.temperature == pytest.approx(3200)


@pytest.mark.parametrize("entry, hint", [
    ('material = "HairMatt"\nnode = "Principled BSDF"\ninput = "Base Color"', "did you mean 'HairMat'"),
    ('material = "HairMat"\nnode = "Principled BDSF"\ninput = "Base Color"', "did you mean 'Principled BSDF'"),
    ('material = "HairMat"\nnode = "Principled BSDF"\ninput = "Base Colour"', "did you mean 'Base Color'"),
], ids=["material", "node", "input"])
def test_missing_scene_names_get_the_closest_name_in_the_scene(tmp_path, entry, hint):
    scene = build_primitive_rig()
    bound = B.load_bindings(write(tmp_path, f"[[hair_color]]\n{entry}\nrgb = true\n"))
    (problem,) = bound.problems(scene)
    assert hint in problem and str(tmp_path) in problem, problem


def test_missing_shape_keys_and_properties_get_the_closest_name_too(tmp_path):
    scene = build_primitive_rig()
    text = ('[[age]]\nobject = "Head"\nshape_key = "Olde"\npoints = [[30, 0], [70, 1]]\n'
            '[[light_strength]]\nlight = "KeyData"\npath = "energi"\nvalues = { default = 1.0 }\n')
    problems = B.load_bindings(write(tmp_path, text)).problems(scene)
    assert any("did you mean 'Old'" in p for p in problems) and any("did you mean 'energy'" in p for p in problems)


def test_unreadable_empty_and_odd_files_are_binding_errors(tmp_path):
    cases = {tmp_path: "is not a file", write(tmp_path, "", "empty.toml"): "binds no factor",
             write(tmp_path, '[binding]\nname = "x"\n', "meta.toml"): "binds no factor",
             write(tmp_path, "a = " + "[" * 5000 + "]" * 5000 + "\n", "deep.toml"): "not valid TOML"}
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'[binding]\nname = "caf\xe9"\n')
    cases[latin] = "not UTF-8"
    for path, expected in cases.items():
        with pytest.raises(B.BindingError, match=expected):
            B.load_bindings(path)


def test_a_bound_colour_whose_part_nothing_is_tagged_with_is_warned_about(tmp_path):
    from blurd.scene import binding_check

    scene = build_primitive_rig()
    bound = B.load_bindings(write(tmp_path, doc_binding_toml()))
    assert binding_check.part_warnings(scene, bound) == []
    beard = bpy.data.objects["Beard"]
    del beard["blurd_part"]
    beard.pass_index = 0
    (warning,) = binding_check.part_warnings(scene, bound)
    assert "beard_color is bound" in warning and "'beard'" in warning
    beard["blurd_part"] = "bread"
    check = binding_check.SceneCheck(bound, binding_check.part_problems(scene), [])
    assert "blurd_part = 'bread', which is not a part" in check.problems[0]
