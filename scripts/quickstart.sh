#!/usr/bin/env bash
# Quick start: set up .venv, then sweep presets/quick.toml into out/quick (renders, passes, contact sheet).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
OUT=${1:-out/quick}
.venv/bin/python batch.py --preset presets/quick.toml --out "$OUT"
echo "Dataset written to $OUT — open $OUT/contact_sheet.png"
