"""DiffusionSettings from a preset's [diffusion] table, and the modes table (pure Python: no torch needed)."""

from __future__ import annotations

import pytest

from blurd.diffusion.errors import DiffusionError
from blurd.diffusion.modes import MODES, Condition, get_mode, parse_modes
from blurd.diffusion.settings import ColourConditioner, DiffusionSettings, DType, Scheduler
from blurd.factors.errors import PresetError


def test_defaults_follow_the_paper():
    s = DiffusionSettings()
    assert (s.scheduler, s.steps, s.strength, s.depth_scale, s.normal_scale) == (Scheduler.UNIPC, 20, 0.2, 0.8, 0.8)
    assert s.colour_conditioner is ColourConditioner.T2I_ADAPTER and "color" in s.colour_model
    assert s.seed is None and s.device == "auto" and s.dtype is DType.AUTO


def test_mapping_round_trip():
    s = DiffusionSettings(steps=30, seed=5, resolution=(640, 512), colour_conditioner=ColourConditioner.CONTROLNET)
    assert DiffusionSettings.from_mapping(s.to_mapping(), "x") == s


def test_values_are_canonicalised():
    s = DiffusionSettings.from_mapping({"guidance": 7, "resolution": 256, "seed": "sample", "device": "cuda:1"}, "p")
    assert s.guidance == 7.0 and isinstance(s.guidance, float)
    assert s.resolution == (256, 256) and s.seed is None and s.device == "cuda:1"


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        ({"stepz": 3}, "diffusion.stepz", "unknown key"),
        ({"steps": "20"}, "diffusion.steps", "whole number"),
        ({"steps": True}, "diffusion.steps", "whole number"),
        ({"steps": 0}, "diffusion.steps", "out of range"),
        ({"strength": 1.5}, "diffusion.strength", "out of range"),
        ({"scheduler": "heun"}, "diffusion.scheduler", "unipc"),
        ({"resolution": [512, 500]}, "diffusion.resolution", "multiples of 8"),
        ({"resolution": "512"}, "diffusion.resolution", "[width, height]"),
        ({"device": "tpu"}, "diffusion.device", "auto"),
        ({"base_model": ""}, "diffusion.base_model", "hub id"),
        ({"cpu_offload": "yes"}, "diffusion.cpu_offload", "true or false"),
    ],
)
def test_bad_values_name_the_key_and_the_fix(data, key, words):
    with pytest.raises(PresetError) as info:
        DiffusionSettings.from_mapping(data, "presets/x.toml")
    assert info.value.source == "presets/x.toml" and info.value.key == key
    assert words in str(info.value)


def test_modes_table():
    assert [m.name for m in MODES] == ["unleashed", "tempered", "harbinger"]
    assert get_mode("unleashed").conditions == {Condition.TEXT}
    tempered, harbinger = get_mode("tempered"), get_mode("harbinger")
    assert tempered.uses_controlnets and not tempered.uses_palette and not tempered.uses_init_image
    assert harbinger.uses_controlnets and harbinger.uses_palette and harbinger.uses_init_image
    assert {c.pass_name for c in harbinger.conditions} == {None, "depth", "normal", "palette", "rgb"}


def test_parse_modes():
    assert [m.name for m in parse_modes(" tempered, unleashed,tempered ")] == ["tempered", "unleashed"]
    with pytest.raises(DiffusionError, match="unleashed, tempered, harbinger"):
        parse_modes("unleashed,photoreal")
    with pytest.raises(DiffusionError):
        parse_modes(" , ")


def test_prompt_template_fields_are_checked():
    assert DiffusionSettings.from_mapping({"prompt_template": "a photo, {hair_color} hair"}, "p").prompt_template
    with pytest.raises(PresetError, match="hair_colour"):
        DiffusionSettings.from_mapping({"prompt_template": "a photo, {hair_colour} hair"}, "p")
