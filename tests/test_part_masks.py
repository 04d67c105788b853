"""Part masks from Cryptomatte coverage: exact at strand edges, split by material tags, bound by ``blurd_part`` or
pass index, and bad tags refused before any work.

Renders the tiny sphere scene (tests/tiny_scene.py) with a hair strand across it, at 48 px; the reference coverage
comes from the same scene rendered at 8x the resolution with one sample per pixel, averaged over 8x8 blocks.
"""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np
import pytest
import tiny_scene
from PIL import Image

from blurd.dataset import layout
from blurd.factors import parts
from blurd.presets.settings import RenderSettings
from blurd.scene import coverage, part_tags, render

SIZE = 48
SUPER = 8  # reference: SUPER x SUPER one-sample pixels per pixel
STRAND_RADIUS = 0.03  # metres: about 0.8 px wide at 48 px, so every strand pixel is partly covered


def png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def strand_scene() -> bpy.types.Scene:
    """The tiny sphere (skin), no cube, and one hair strand (a Curves object tagged hair) across sphere and sky."""
    scene = tiny_scene.build_scene(cube=False)
    curves = bpy.data.hair_curves.new("Strand")
    curves.add_curves([3])
    for point, position in zip(curves.points, ((-2.0, -1.3, 0.9), (0.0, -1.3, 0.2), (2.0, -1.3, -0.6))):
        point.position = position
        point.radius = STRAND_RADIUS
    strand = bpy.data.objects.new("Strand", curves)
    part_tags.tag_part(strand, "hair")
    scene.collection.objects.link(strand)
    scene.cycles.pixel_filter_type = "BOX"  # coverage of the pixel's own square, comparable with the reference
    scene.cycles.filter_width = 1.0
    return scene


def test_murmur3_and_cryptomatte_ids_follow_the_specification():
    assert coverage.murmur3_32(b"") == 0
    assert coverage.murmur3_32(b"hello") == 0x248BFA47  # Appleby's reference implementation
    assert coverage.cryptomatte_id("bunny") == 0x13851A76  # the Cryptomatte specification's example
    names = [f"object {k}" for k in range(2000)]
    extreme = [n for n in names if (coverage.murmur3_32(n.encode()) >> 23) & 0xFF in (0, 0xFF)]
    assert extreme  # names whose hash would be a denormal, inf or NaN float ...
    for name in extreme:  # ... get the exponent bit flipped, as Cryptomatte specifies
        bits = coverage.cryptomatte_id(name)
        assert bits == coverage.murmur3_32(name.encode()) ^ (1 << 23)
        assert np.isfinite(coverage.id_float(bits))


def test_masks_are_exact_at_strand_edges(tmp_path):
    scene = strand_scene()
    settings = RenderSettings(resolution=(SIZE, SIZE), samples=64, denoise=False, threads=1)
    render.render_sample(scene, tmp_path / "low", sample_id="low", seed=3, factors={}, settings=settings)
    fine = RenderSettings(resolution=(SIZE * SUPER, SIZE * SUPER), samples=1, denoise=False, threads=1)
    render.render_sample(scene, tmp_path / "fine", sample_id="fine", seed=3, factors={}, settings=fine)

    for part in ("hair", "skin", "background"):
        soft = png(tmp_path / "low" / layout.mask_filename(part)) / 255.0
        hits = (png(tmp_path / "fine" / layout.mask_filename(part)) > 127).astype(float)
        truth = hits.reshape(SIZE, SUPER, SIZE, SUPER).mean(axis=(1, 3))  # the share of each pixel covered
        assert np.abs(soft - truth).max() < 0.25, part  # the mask holds the coverage (64 samples: sd <= 0.07)
        clear = np.abs(truth - coverage.MASK_THRESHOLD) > 0.2  # beyond the noise of 64 samples
        binary = soft * 255 >= coverage.MASK_BINARY_LEVEL
        assert (binary == (truth >= coverage.MASK_THRESHOLD))[clear].all(), part
        assert (soft > 0)[truth > 0.25].all(), part  # every pixel the part covers a good share of is in its footprint
        partial = (truth > 0.05) & (truth < 0.95)
        assert partial.sum() > 20, part  # the check covers many partly covered pixels
    hair = png(tmp_path / "low" / layout.mask_filename("hair")) > 127
    assert 20 < hair.sum() < 3 * SIZE  # a strand under a pixel wide: only the pixels it covers half of
    label = png(tmp_path / "low" / "label.png")
    assert (label[hair] == parts.Label.HAIR).all()


def test_a_material_tag_splits_one_mesh_into_parts_and_pass_index_still_binds(tmp_path):
    scene = tiny_scene.build_scene()  # the cube has pass index 7 (shirt) and no tag
    sphere = bpy.data.objects["Sphere"]
    lips = bpy.data.materials.new("Lips")
    part_tags.tag_part(lips, "lips")
    sphere.data.materials.append(lips)
    for polygon in sphere.data.polygons:
        polygon.material_index = int(polygon.center.z > 0.6)  # a cap on top of the sphere: lips on the "skin"
    settings = RenderSettings(resolution=(SIZE, SIZE), samples=16, denoise=False, threads=1)
    render.render_sample(scene, tmp_path, sample_id="lips", seed=1, factors={}, settings=settings)
    masks = {p.name: png(tmp_path / layout.mask_filename(p.name)) > 127 for p in parts.PARTS}
    label = png(tmp_path / "label.png")

    assert masks["lips"].sum() > 20 and masks["skin"].sum() > 5 * masks["lips"].sum()
    rows = np.nonzero(masks["lips"])[0]
    assert rows.max() < np.nonzero(masks["skin"])[0].mean()  # the cap is the top of the sphere
    assert not (masks["lips"] & masks["skin"] & (label != parts.Label.SKIN) & (label != parts.Label.LIPS)).any()
    assert (label[masks["lips"] & ~masks["skin"]] == parts.Label.LIPS).all()
    assert masks["shirt"].sum() > 20  # bound by its pass index alone


def test_bad_part_tags_are_refused_before_any_work(tmp_path):
    scene = tiny_scene.build_scene()
    settings = RenderSettings(resolution=(SIZE, SIZE), samples=1, denoise=False, threads=1)
    bpy.data.objects["Sphere"]["blurd_part"] = "nose"
    with pytest.raises(part_tags.PartTagError, match="object 'Sphere' has blurd_part = 'nose'.*skin, eyes"):
        render.render_sample(scene, tmp_path / "a", sample_id="a", seed=1, factors={}, settings=settings)
    assert not (tmp_path / "a").exists()

    bpy.data.objects["Sphere"]["blurd_part"] = "skin"
    shared = bpy.data.materials.new("Shared")
    shared["blurd_part"] = "lips"
    for name in ("Sphere", "Cube"):  # a skin object and a shirt object: the lips pixels could not be told apart
        bpy.data.objects[name].data.materials.append(shared)
    with pytest.raises(part_tags.PartTagError, match="material 'Shared'.*several parts.*own copy"):
        render.render_sample(scene, tmp_path / "b", sample_id="b", seed=1, factors={}, settings=settings)
    assert not (tmp_path / "b").exists()
    with pytest.raises(part_tags.PartTagError, match="not a part"):
        part_tags.tag_part(shared, "teeth")
