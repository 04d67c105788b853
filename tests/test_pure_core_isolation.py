"""The pure core (factors/, presets/ reader) works in an interpreter where neither bpy nor torch can be imported."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PURE_TESTS = ["tests/test_factors_schema.py", "tests/test_factors_text.py", "tests/test_factors_grid.py",
              "tests/test_preset_reader.py", "tests/test_diffusion_settings.py"]
BLOCK = ["bpy", "torch", "diffusers", "transformers", "mathutils", "bmesh"]


def test_pure_core_tests_pass_without_bpy_or_torch():
    tests = [t for t in PURE_TESTS if (ROOT / t).exists()]
    # A None entry in sys.modules makes `import name` raise ImportError, as if the package were not installed.
    code = (
        "import sys\n"
        f"for name in {BLOCK!r}: sys.modules[name] = None\n"
        "import pytest\n"
        f"code = pytest.main({tests!r} + ['-q', '-p', 'no:cacheprovider'])\n"
        f"leaked = [n for n in {BLOCK!r} if sys.modules.get(n) is not None]\n"
        "assert not leaked, leaked\n"
        "sys.exit(code)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout


def test_blocking_really_blocks():
    code = "import sys; sys.modules['bpy'] = None\ntry:\n import bpy\nexcept ImportError:\n print('blocked')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.strip() == "blocked"
