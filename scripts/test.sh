#!/usr/bin/env bash
# The test command: lint, then the whole pytest suite against the real bpy wheel and tiny diffusers/CLIP models.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
.venv/bin/ruff check --output-format concise .
# tests/ holds pytest.ini, so tests/ is the rootdir and the root package is imported only as blurd.
exec .venv/bin/python -m pytest -q "${@:-tests}"
