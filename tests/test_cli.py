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
    baselines = {"plain", "bias_free", "rms_norm", "local_norm", "augmented"}
    assert set(result["accuracy"]) == {"scale_covariant", "scale_covariant_local"} | baselines
    for accs in result["accuracy"].values():
        assert set(accs) == {"1x", "0.01x", "0.1x", "10x", "100x", "envelope"}
    # the invariant first layer and the bias-free net: identical accuracy at every amplitude;
    # the RMS-normalised baselines too (an exact rescaling of the input)
    for name in ("scale_covariant", "scale_covariant_local", "bias_free", "rms_norm", "local_norm"):
        assert accuracy_spread(result["accuracy"][name]) == 0.0, name
    verdict = result["verdict"]
    assert verdict["strongest_on_amplitude"] in baselines
    assert verdict["exactly_invariant"] is True
    text = capsys.readouterr().out
    assert "scale_covariant" in text and "acc @ 100x" in text and "acc @ envelope" in text
    for name in baselines:
        assert name in text
    assert "Strongest baseline on amplitudes" in text and "gain envelopes" in text


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
