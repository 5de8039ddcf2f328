"""The keras-rg command: demo end to end (reduced sizes), quiet start-up, bad arguments."""

import json
import os
import subprocess
import sys

import pytest

from keras_rg.cli import main
from keras_rg.demo import accuracy_spread


def test_demo_writes_json_and_table(tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["demo", "--epochs", "2", "--n-train", "256", "--n-test", "128", "--verbose", "0",
               "--output", str(out)])  # fmt: skip
    assert rc == 0
    result = json.loads((out / "demo.json").read_text())
    assert set(result["accuracy"]) == {"scale_covariant", "baseline"}
    for accs in result["accuracy"].values():
        assert set(accs) == {"1x", "0.1x", "10x"}
    # the adaptive bias-free model is homogeneous: identical accuracy at every amplitude
    assert accuracy_spread(result["accuracy"]["scale_covariant"]) == 0.0
    text = capsys.readouterr().out
    assert "scale_covariant" in text and "acc @ 10x" in text


def test_command_is_quiet_and_helpful():
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    proc = subprocess.run([sys.executable, "-m", "keras_rg.cli", "demo", "--help"],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert proc.returncode == 0
    for flag in ("--epochs", "--seed", "--output"):
        assert flag in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-c", "import keras_rg, keras; keras.ops.ones(2)"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0
    assert "oneDNN" not in proc.stderr and "absl" not in proc.stderr


def test_bad_output_and_epochs(tmp_path, capsys):
    target = tmp_path / "a_file"
    target.write_text("x")
    assert main(["demo", "--output", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--epochs", "0"])


def test_bench_lists_and_rejects_unknown(capsys):
    assert main(["bench", "--only", "no_such_benchmark"]) == 2
    err = capsys.readouterr().err
    assert "unknown benchmark" in err and "rg_flow" in err and "langevin" in err
