#!/usr/bin/env bash
# Make this clone importable as `blurd` by Blender's own Python, so `blender -b -P batch.py -- ...` runs the clone.
# Usage: bash scripts/setup_blender.sh /path/to/blender
# Installs the clone editable without its dependency list (Blender's Python has numpy), plus Pillow (the pass PNGs)
# and tqdm (the progress bar), as the extension zip bundles them.
set -euo pipefail
cd "$(dirname "$0")/.."
BLENDER=${1:?usage: scripts/setup_blender.sh /path/to/blender}
"$BLENDER" -b --factory-startup --python-expr "
import subprocess, sys
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade'])
subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--no-deps', '--editable', '$(pwd)'])
subprocess.check_call([sys.executable, '-m', 'pip', 'install', 'pillow', 'tqdm'])
"
echo "Blender's Python now imports blurd from $(pwd): blender -b -P batch.py -- --preset presets/quick.toml --out out/quick"
