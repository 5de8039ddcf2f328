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


BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")


def test_bench_never_replaces_recorded_results_unless_asked(capsys):
    recorded = os.path.join(BENCHMARKS, "results", "bench_rg_flow.json")
    before = open(recorded, "rb").read()
    # Refused before any benchmark runs (this returns at once), and the file is untouched.
    assert main(["bench", "--only", "rg_flow", "ising"]) == 2
    err = capsys.readouterr().err
    assert "bench_rg_flow.json exists" in err and "--overwrite" in err
    assert "bench_ising.json exists" in err
    assert open(recorded, "rb").read() == before


def _runner():
    sys.path.insert(0, BENCHMARKS)
    try:
        import _runner

        return _runner
    finally:
        sys.path.remove(BENCHMARKS)


def test_bench_runner_routes_quick_runs_and_refuses_to_overwrite(tmp_path):
    import argparse

    runner = _runner()
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    runner.add_output_arguments(parser)
    quick = runner.output_path("rg_flow", parser.parse_args(["--quick"]))
    assert quick.parent == runner.QUICK_RESULTS  # scratch, ignored by git
    with pytest.raises(SystemExit, match="bench_rg_flow.json exists.*--overwrite"):
        runner.output_path("rg_flow", parser.parse_args([]))  # the recorded full-run file
    mine = tmp_path / "r.json"
    mine.write_text("{}")
    with pytest.raises(SystemExit, match="exists"):
        runner.output_path("x", parser.parse_args(["--out", str(mine)]))
    assert runner.output_path("x", parser.parse_args(["--out", str(mine), "--overwrite"])) == mine


def test_bench_runner_warms_up_and_judges_only_enough_repeats():
    runner = _runner()
    calls = []

    def slow_first_call():
        calls.append(None)
        if len(calls) == 1:  # tracing/compilation on the first call
            import time

            time.sleep(0.2)

    assert runner.median_seconds(slow_first_call, repeats=3) < 0.1  # the warm-up is not timed
    assert len(calls) == 4
    assert runner.MIN_REPEATS_FOR_VERDICT == 5
    assert runner.verdict(False, 2) == "no verdict"  # a 2-repeat quick run judges nothing
    assert runner.verdict(False, 5) == "MISSED"
    assert runner.verdict(True, 21) == "met"
