"""The ``keras-rg`` command: ``demo``, ``validate`` and ``bench``.

TensorFlow's start-up log lines (oneDNN notices, CUDA probes) are kept off the terminal: see
``keras_rg._quiet``.
"""

import argparse
import os
import sys

__all__ = ["main"]


def _cmd_demo(args):
    from keras_rg.demo import format_summary, format_table, format_verdict, run_demo

    print(
        f"keras-rg demo: {args.epochs} epochs per model on built-in signals "
        f"(seed {args.seed}); results go to {os.path.abspath(args.output)}"
    )
    result = run_demo(
        epochs=args.epochs,
        seed=args.seed,
        output_dir=args.output,
        n_train=args.n_train,
        n_test=args.n_test,
        verbose=args.verbose,
    )
    print(
        "\nTest accuracy at the training amplitudes (1x, in [0.5, 2]), out of range and under "
        "gain envelopes:"
    )
    print(format_table(result))
    print("\n" + format_verdict(result))
    print(
        "\nScale-covariant run (LangevinAnnealing + RGFlow + LayerInformation + CouplingTracker):"
    )
    print(format_summary(result))
    out = os.path.abspath(args.output)
    figures = ", ".join(os.path.basename(p) for p in result.get("figures", []))
    figures = figures or "none (figures need matplotlib: pip install 'keras-rg[plot]')"
    print(f"\nWrote {os.path.join(out, 'demo.json')}; figures: {figures}")
    return 0


def _cmd_validate(args):
    from keras_rg.validate import run_validation

    mode = "full" if args.full else "smoke" if args.smoke else "quick"
    print(f"keras-rg validate ({mode}, seed {args.seed}) -> {os.path.abspath(args.output)}")
    try:
        run_validation(args.output, mode=mode, only=args.only, seed=args.seed,
                       overwrite=args.overwrite)  # fmt: skip
    except ValueError as err:
        print(f"keras-rg: error: {err}", file=sys.stderr)
        return 2
    out = os.path.abspath(args.output)
    print(f"\nReport: {os.path.join(out, 'report.html')} (also report.md, report.json)")
    return 0


def _benchmarks_dir():
    """benchmarks/ in the current folder, else beside the installed package (a checkout)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for folder in (os.path.join(os.getcwd(), "benchmarks"), os.path.join(here, "benchmarks")):
        if os.path.isdir(folder):
            return folder
    return None


def _bench_output(folder, name, args):
    """The ``--out`` for one script, and an error message when it would replace a recorded
    result without ``--overwrite``."""
    if args.output:
        out = os.path.join(os.path.abspath(args.output), f"bench_{name}.json")
    elif args.quick:  # scratch results, ignored by git
        out = os.path.join(folder, "results", "quick", f"bench_{name}.json")
    else:
        out = os.path.join(folder, "results", f"bench_{name}.json")
    scratch = not args.output and args.quick
    if os.path.exists(out) and not (scratch or args.overwrite):
        return out, (
            f"{out} exists (recorded results); pass --overwrite to replace it, or --output DIR "
            "to write elsewhere"
        )
    return out, None


def _cmd_bench(args):
    import glob
    import subprocess

    folder = _benchmarks_dir()
    if folder is None:
        print("keras-rg: error: no benchmarks/ folder here or beside the package; run from a "
              "checkout of keras_rg", file=sys.stderr)  # fmt: skip
        return 2
    scripts = sorted(glob.glob(os.path.join(folder, "bench_*.py")))
    names = [os.path.basename(p)[len("bench_") : -3] for p in scripts]
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            print(f"keras-rg: error: unknown benchmark(s) {unknown}; available: {names}",
                  file=sys.stderr)  # fmt: skip
            return 2
        scripts = [p for p, n in zip(scripts, names, strict=True) if n in args.only]
        names = [n for n in names if n in args.only]
    outputs = [_bench_output(folder, name, args) for name in names]
    refused = [message for _, message in outputs if message]
    if refused:  # checked for every script before any runs: no time is spent on a refused run
        for message in refused:
            print(f"keras-rg: error: {message}", file=sys.stderr)
        return 2
    if args.quick:
        print("Quick runs: smoke-sized, too few repeats for a verdict; results go to "
              f"{os.path.dirname(outputs[0][0]) if outputs else ''} (the recorded full-run "
              "results are not touched).")  # fmt: skip
    status = 0
    for path, (out, _) in zip(scripts, outputs, strict=True):
        print(f"\n=== {os.path.basename(path)} ===", flush=True)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        cmd = [sys.executable, path, "--out", out] + (["--quick"] if args.quick else [])
        with open(path, encoding="utf-8") as f:
            if "add_output_arguments" in f.read():  # scripts on the shared runner plumbing
                cmd.append("--overwrite")  # (this command has already checked the target)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        proc = subprocess.run(cmd, env=env, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            status = 1
            print(proc.stderr[-3000:], file=sys.stderr)
    return status


def _positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-rg",
        description="Renormalization-group components for Keras 3: demo, validation, benchmarks.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="train a scale-covariant model and a plain baseline on built-in signals",
        description="Trains an adaptive, bias-free scale-covariant conv net with every keras_rg "
        "component (LangevinAnnealing, RGFlow, LayerInformation, CouplingTracker) and a plain "
        "Keras conv net of the same size (Adam) on built-in 1-D signals (amplitudes 0.5-2), then "
        "tests both at the training amplitudes and at 0.1x and 10x, prints the accuracy table "
        "and the RG summary (‖β‖, temperature, layer information, feature couplings), and writes "
        "JSON and figures.",
    )
    demo.add_argument(
        "--epochs", type=_positive_int, default=15, help="training epochs per model (default 15)"
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of data and weights (default 0)")
    demo.add_argument(
        "--output",
        default="keras_rg_output",
        help="output folder for demo.json and figures (default ./keras_rg_output)",
    )
    demo.add_argument(
        "--n-train", type=_positive_int, default=4000, help="training signals (default 4000)"
    )
    demo.add_argument(
        "--n-test", type=_positive_int, default=1000, help="test signals (default 1000)"
    )
    demo.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=2,
        help="progress display: 0 silent, 1 progress bar, 2 one line per epoch (default 2)",
    )
    demo.set_defaults(func=_cmd_demo)

    from keras_rg.validate.runner import CHECKS

    validate = sub.add_parser(
        "validate",
        help="run one check per claim of the two papers and write a report",
        description='Runs one simulation check per claim of the two papers (Liaw, "A '
        "Renormalization Group Framework for Scale-Invariant Feature Learning in Deep Neural "
        'Networks"; Gong & Xia, "Interpreting FCDNNs via RG on exponential family") and writes report.md, a self-contained report.html and '
        "report.json into the output folder, then prints the verdict table. Checks: "
        + ", ".join(CHECKS)
        + ".",
    )
    size = validate.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="small sizes, a few minutes on 2 cores (the default)"
    )
    size.add_argument("--full", action="store_true", help="larger sizes and more seeds")
    size.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes that only prove the pipeline runs (used by the tests)",
    )
    validate.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help=f"run only these checks (from: {', '.join(CHECKS)})",
    )
    validate.add_argument(
        "--output", default="keras_rg_report", help="report folder (default ./keras_rg_report)"
    )
    validate.add_argument(
        "--overwrite", action="store_true", help="replace an earlier report in the output folder"
    )
    validate.add_argument(
        "--seed",
        type=int,
        default=0,
        help="base seed; the same seed gives the same verdicts (default 0)",
    )
    validate.set_defaults(func=_cmd_validate)

    bench = sub.add_parser(
        "bench",
        help="run the benchmark scripts and print their ratio tables",
        description="Runs benchmarks/bench_*.py (from a checkout) one after another; each times "
        "keras_rg against its anchor in one process (every variant warmed up first), prints a "
        "ratio table and writes JSON. Full runs write benchmarks/results/ and never replace a "
        "recorded result there without --overwrite; --quick runs write "
        "benchmarks/results/quick/ and give no verdicts (too few repeats).",
    )
    bench.add_argument(
        "--quick", action="store_true", help="fast smoke-sized runs (no verdicts, scratch output)"
    )
    bench.add_argument(
        "--output", default=None, help="write the JSON results into this folder instead"
    )
    bench.add_argument("--overwrite", action="store_true", help="replace existing result files")
    bench.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="run only these benchmarks (e.g. rg_flow langevin information)",
    )
    bench.set_defaults(func=_cmd_bench)
    return parser


def main(argv=None):
    """Entry point of the ``keras-rg`` console script."""
    args = build_parser().parse_args(argv)
    output = getattr(args, "output", None)
    if output is not None and os.path.exists(output) and not os.path.isdir(output):
        print(f"keras-rg: error: --output {output!r} exists and is not a folder", file=sys.stderr)
        return 2
    from keras_rg._quiet import import_tensorflow_quietly

    import_tensorflow_quietly(init_devices=True)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
