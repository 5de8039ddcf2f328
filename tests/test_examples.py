"""Every example script runs with --quick, and every example is run by some test."""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
# examples run here; the others are run by their module's own test file
HERE = ["scale_covariant_layers.py", "validate_your_model.py"]


def test_every_example_is_run_by_a_test():
    tests = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    for path in EXAMPLES:
        assert (
            path.name in HERE or f"examples/{path.name}" in tests or (f'"{path.name}"' in tests)
        ), f"{path.name} is not run by any test"


@pytest.mark.parametrize("name", HERE)
def test_example_runs_quick(name):
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name), "--quick"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    if name == "scale_covariant_layers.py":
        assert "identical predictions: True" in proc.stdout
        # homogeneous network: one accuracy at every amplitude
        accs = {line.split()[-1] for line in proc.stdout.splitlines() if line.strip().endswith(
            tuple("0123456789")) and "x " in line}  # fmt: skip
        assert len(accs) == 1
    else:
        assert "theorem_5" in proc.stdout and "flow_diagnostics" in proc.stdout
