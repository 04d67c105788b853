"""`python -m blurd.diffusion.random_models DIR`: tiny models plus a preset a new user can diffuse with, offline."""

from pathlib import Path

from blurd import presets
from blurd.diffusion import random_models


def test_try_out_preset_loads_and_points_at_the_saved_models(tmp_path, capsys):
    assert random_models.main([str(tmp_path / "tiny")]) == 0
    preset_path = tmp_path / "tiny" / random_models.TRY_PRESET
    assert str(preset_path) in capsys.readouterr().out
    preset = presets.load_preset(preset_path)
    quick = presets.load_preset(presets.shipped_preset_path("quick"))
    assert preset.grid == quick.grid and preset.render == quick.render  # the quick sweep ...
    settings = preset.diffusion  # ... diffused with the tiny models, through the real settings reader
    assert Path(settings.base_model) == (tmp_path / "tiny" / "base").resolve()
    assert (Path(settings.base_model) / "model_index.json").is_file()
    for model in (settings.depth_controlnet, settings.normal_controlnet, settings.colour_model):
        assert any(Path(model).glob("*.safetensors")), model
    assert settings.steps == random_models.TRY_DIFFUSION["steps"]
    assert list(settings.resolution) == random_models.TRY_DIFFUSION["resolution"]
