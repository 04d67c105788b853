"""Contact-sheet labels: each thumbnail names first the factor in which it differs from the rest of the sheet, so
the factor that changed is never hidden behind "(+N more)" (it was, with sixteen swept factors and five lines)."""

from __future__ import annotations

from PIL import Image

from blurd.dataset import layout
from blurd.factors import FACTORS, default_assignment
from blurd.factors.grid import Sample
from blurd.factors.schema import FACTOR_NAMES
from blurd.scene import contact_sheet


def _sample(index: int, **changes) -> Sample:
    return Sample(index, f"s{index}", 0, {**default_assignment(), **changes})


def test_the_factor_a_thumbnail_changed_comes_first_even_when_sixteen_are_swept():
    # one factor moved per sample (the binding check sheet, a one-factor-at-a-time sweep), swept list = all factors
    changes = [{}, {"light_warmth": 3200}, {"tie_color": "red"}, {"world_rotation": 90}]
    sheet = [_sample(n, **c) for n, c in enumerate(changes)]
    swept = list(FACTOR_NAMES)
    for sample, change in zip(sheet[1:], changes[1:]):
        (name, value), = change.items()
        lines = contact_sheet.label_lines(sample, swept, sheet)
        assert lines[0] == f"{name}={value}", lines
        assert len(lines) <= contact_sheet.MAX_LABEL_LINES
    base = contact_sheet.label_lines(sheet[0], swept, sheet)
    assert {line.split("=")[0] for line in base} == {"light_warmth", "tie_color", "world_rotation"}  # only varying


def test_factors_that_do_not_vary_across_the_sheet_are_left_out():
    sheet = [_sample(0, hair_color="red", age=70), _sample(1, hair_color="blue", age=70)]
    swept = ["age", "hair_color"]  # age is swept in the preset but constant on this sheet
    assert contact_sheet.label_lines(sheet[1], swept, sheet) == ["hair_color=blue"]
    assert contact_sheet.varying_factors(sheet, swept) == ["hair_color"]


def test_a_full_grid_keeps_the_sweep_order_and_every_swept_factor():
    sheet = [_sample(n, hair_color=c, camera_angle=a) for n, (c, a) in
             enumerate((c, a) for c in ("red", "blue") for a in (0, 30))]
    for sample in sheet:  # no value has a majority: every thumbnail reads in sweep order
        lines = contact_sheet.label_lines(sample, ["hair_color", "camera_angle"], sheet)
        assert [line.split("=")[0] for line in lines] == ["hair_color", "camera_angle"]


def test_the_sheet_draws_every_label(tmp_path):
    sheet = [_sample(n, **c) for n, c in enumerate([{}, {"eye_color": "green"}])]
    for sample in sheet:
        folder = layout.sample_dir(tmp_path, sample.id)
        folder.mkdir(parents=True)
        Image.new("RGB", (16, 16), (200, 20, 20)).save(folder / layout.RGB)
    path = contact_sheet.write_contact_sheet(tmp_path, sheet, swept=[f.name for f in FACTORS], thumbnail=32)
    with Image.open(path) as image:
        assert image.height >= 32 + contact_sheet.LINE_HEIGHT  # one label line per thumbnail: eye_color
