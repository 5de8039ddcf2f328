"""keras-rg validate: end to end (smoke sizes), report contents, determinism, bad input, and the
bring-your-own-model checks."""

import json
import re

import keras
import numpy as np
import pytest

from keras_rg.cli import main
from keras_rg.layers import ScaleCovariantDense
from keras_rg.validate import (
    CHECKS,
    VERDICTS,
    couplings_of_layers,
    flow_diagnostics,
    information_in_depth,
    run_validation,
)

CLAIMS = {"definition_1", "theorem_1", "theorem_2", "theorems_3_4", "theorem_5", "theorem_6",
          "lemma_2_1", "theorem_3_1", "motivation_ood", "local_scale"}  # fmt: skip


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main(["validate", "--smoke", "--output", str(out), "--overwrite"]) == 0
    return out


@pytest.mark.slow
def test_validate_end_to_end_has_every_claim(smoke_report):
    report = json.loads((smoke_report / "report.json").read_text())
    names = {c["name"] for c in report["checks"]}
    assert CLAIMS <= names == set(CHECKS)
    for check in report["checks"]:
        assert check["verdict"] in VERDICTS
        assert check["claim"] and check["measured"] and check["rule"] and check["source"]
    md = (smoke_report / "report.md").read_text()
    for name in CLAIMS:
        assert f"| {name} |" in md
    checks = {c["name"]: c for c in report["checks"]}
    # Theorem 3.1: the feature map's couplings are not theta* (the likelihood-ratio test rejects
    # at every size: theta-tilde_1 sits at the bound, theta-tilde_2 is several times theta*_2)
    t31 = checks["theorem_3_1"]
    assert t31["verdict"] == "does not hold"
    assert all(t["p_value"] < 0.0027 for t in t31["values"]["tests"])
    assert set(t31["values"]["controls"]) == {"no annealing (gradient descent)",
                                              "no τ‖W − W*‖² term"}  # fmt: skip
    # Theorems 3-4: the paper's step repels b from the fixed point b = 0 for every alpha > 0
    t34 = checks["theorems_3_4"]
    assert t34["verdict"] == "does not hold"
    assert not any(t34["values"]["runs"][f"paper/{a}"]["reached"] for a in (0.5, 1.0, 2.0))
    assert t34["values"]["runs"]["paper/2.0"]["loss_at_fixed_point"][0] == pytest.approx(
        np.log(4), abs=1e-3
    )  # W = 0, b = 0: logits 0 on 4 classes
    # Theorem 6 (smoke sizes, 32 x 32): the learned filter is block-spin-like and the learned
    # map's flow stops within 2% of K_c; the verdict is the stated rule applied to the goals
    t6 = checks["theorem_6"]
    goals = t6["values"]["goals"]
    assert goals["filter_block_spin_like"] and goals["K_c_within_2pct"]
    assert min(t6["values"]["cosines"]) >= 0.95
    expected = "holds" if all(goals.values()) else "holds with caveat"
    assert t6["verdict"] == expected
    for c in (t6, t31, t34):
        assert c["effect"] and c["falsified_if"] and c["n_seeds"] == 1
    # every verdict states its effect size and what would falsify it
    for c in checks.values():
        assert c["effect"] and c["falsified_if"] and c["n_seeds"] >= 1, c["name"]


def test_html_is_self_contained(smoke_report):
    page = (smoke_report / "report.html").read_text()
    report = json.loads((smoke_report / "report.json").read_text())
    figures = [c["figure"] for c in report["checks"] if c["figure"]]
    assert figures, "the checks made no figures"
    images = re.findall(r"<img [^>]*src='([^']*)'", page)
    assert len(images) == len(figures)
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r"(src|href)=['\"]https?:", page)  # nothing external to fetch


def test_same_seed_same_verdicts(tmp_path):
    only = ["definition_1", "theorem_2", "lemma_2_1"]
    a = run_validation(tmp_path / "a", mode="smoke", only=only, echo=None)
    b = run_validation(tmp_path / "b", mode="smoke", only=only, echo=None)
    assert [r.verdict for r in a] == [r.verdict for r in b]
    assert [r.values for r in a] == [r.values for r in b]


def test_bad_input_and_no_silent_overwrite(tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert main(["validate", "--smoke", "--output", str(a_file)]) == 2
    assert "not a folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"`only`.*'theorem_99'"):
        run_validation(tmp_path / "r", mode="smoke", only="theorem_99", echo=None)
    with pytest.raises(ValueError, match=r"`mode`.*'huge'"):
        run_validation(tmp_path / "r", mode="huge", echo=None)
    out = tmp_path / "kept"
    run_validation(out, mode="smoke", only="definition_1", echo=None)
    before = (out / "report.json").read_text()
    assert main(["validate", "--smoke", "--only", "theorem_1", "--output", str(out)]) == 2
    assert "already holds a report" in capsys.readouterr().err
    assert (out / "report.json").read_text() == before
    assert main(["validate", "--smoke", "--only", "theorem_1", "--output", str(out),
                 "--overwrite"]) == 0  # fmt: skip
    assert json.loads((out / "report.json").read_text())["checks_run"] == ["theorem_1"]


def _two_layer(scale_down):
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(4, use_bias=False, name="first"),
        keras.layers.Dense(4, use_bias=False, name="second"),
    ])  # fmt: skip
    model.get_layer("first").kernel.assign(scale_down * np.eye(4))
    model.get_layer("second").kernel.assign(np.eye(4) / scale_down)
    return model


def test_information_in_depth_detects_an_increase(rng):
    x = rng.normal(size=(400, 4)).astype("float32")
    # first layer shrinks the input 100x, the second restores it: with a fixed (absolute) KDE
    # noise the estimate of I(T+Z; X) must rise from the first to the second layer
    result = information_in_depth(_two_layer(0.01), x, probe_size=400, relative_noise=False)
    assert result.verdict == "does not hold"
    assert result.values["I_TX"]["second"] > result.values["I_TX"]["first"] + 1.0
    # noise relative to each layer's spread removes that scale artefact: equal to rounding
    result = information_in_depth(_two_layer(0.01), x, probe_size=400)
    assert result.values["I_TX"]["second"] == pytest.approx(result.values["I_TX"]["first"], 1e-5)
    assert result.values["violations"]["count"] == 0
    # a contraction in depth instead: no increase
    result = information_in_depth(_two_layer(1.0), x, probe_size=400, relative_noise=False)
    assert result.values["violations"]["count"] == 0
    with pytest.raises(
        ValueError, match=r"'nope' matches no layer.*Available: \['first', 'second'\]"
    ):
        information_in_depth(_two_layer(1.0), x, layer_names=["first", "nope"])
    with pytest.warns(DeprecationWarning, match=r"`layers` is deprecated"):
        information_in_depth(_two_layer(1.0), x, layers=["first"], probe_size=50)
    with pytest.raises(TypeError, match=r"`model`.*keras.Model"):
        information_in_depth("not a model", x)


def test_flow_diagnostics_numbers():
    model = keras.Sequential([keras.Input((3,)), ScaleCovariantDense(2, alpha=2.0, name="d")])
    model.get_layer("d").kernel.assign(np.ones((3, 2)))
    result = flow_diagnostics(model, epsilon=0.1)
    # paper β(W) = (α − 1) W = W: ‖β‖ = ‖W‖ = sqrt(6); the zero bias is at its fixed point
    assert result.values["total_beta_norm"] == pytest.approx(np.sqrt(6.0), rel=1e-12)
    assert result.verdict == "does not hold"
    assert result.values["at_fixed_point"] and "bias" in result.values["at_fixed_point"][0]


def test_couplings_of_layers_and_missing_layer():
    from keras_rg.systems.ising import sample_chain

    spins = sample_chain(64, 0.8, 200, seed=1).astype("float32")
    identity = keras.Sequential([keras.Input((64,)), keras.layers.Identity(name="copy")])
    result = couplings_of_layers(identity, spins, ["copy"], data_coupling=0.8)
    k, se = result.values["couplings"]["copy"]
    assert abs(k - 0.8) < 4 * se  # an identity layer has the data's own coupling
    with pytest.raises(ValueError, match=r"'feature' matches no layer.*Available: \['copy'\]"):
        couplings_of_layers(identity, spins, ["feature"])


def test_report_states_effect_and_falsifier(tmp_path):
    from keras_rg.validate.report import format_verdict_table, write_report
    from keras_rg.validate.result import CheckResult, Context

    stated = CheckResult("a", "src", "c", "m", "holds", "r", {}, effect="d = 0.3 +/- 0.1 (3 seeds)",
                         n_seeds=3, falsified_if="d < 0 at 3 s.e.")  # fmt: skip
    silent = CheckResult("b", "src", "c", "m", "does not hold", "r", {})
    write_report([stated, silent], tmp_path, {"mode": "quick", "seed": 0, "version": "x"})
    md = (tmp_path / "report.md").read_text()
    assert "| a | src | **holds** | d = 0.3 +/- 0.1 (3 seeds) | m |" in md
    assert "What would falsify it: d < 0 at 3 s.e." in md
    assert "| b | src | **does not hold** | not stated | m |" in md
    page = (tmp_path / "report.html").read_text()
    assert "What would falsify it: d &lt; 0 at 3 s.e." in page
    checks = json.loads((tmp_path / "report.json").read_text())["checks"]
    assert checks[0]["effect"].startswith("d = 0.3") and checks[0]["n_seeds"] == 3
    assert checks[1]["falsified_if"] is None
    assert "d = 0.3 +/- 0.1 (3 seeds)" in format_verdict_table([stated, silent])
    with pytest.raises(ValueError, match=r"`n_seeds`.*0"):
        CheckResult("a", "s", "c", "m", "holds", "r", {}, n_seeds=0)
    assert Context(mode="full", seed=5).seeds(full=2) == [5, 6, 7]  # never fewer than 3 in full
    assert Context(mode="quick", seed=5).seeds(quick=3) == [5, 6, 7]
