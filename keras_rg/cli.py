"""The ``keras-rg`` command: ``demo`` (and, as they land, ``validate`` and ``bench``).

TensorFlow's start-up log lines (oneDNN notices, CUDA probes) are kept off the terminal: see
``keras_rg._quiet``.
"""

import argparse
import os
import sys

__all__ = ["main"]


def _cmd_demo(args):
    from keras_rg.demo import format_table, run_demo

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
    print("\nTest accuracy at the training amplitudes (1x, in [0.5, 2]) and out of range:")
    print(format_table(result))
    print(f"\nWrote {os.path.join(os.path.abspath(args.output), 'demo.json')}")
    return 0


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
        description="Trains an adaptive, bias-free scale-covariant conv net and a plain Keras "
        "conv net of the same size on built-in 1-D signals (amplitudes 0.5-2), then tests both "
        "at the training amplitudes and at 0.1x and 10x, prints the accuracy table and writes "
        "it as JSON.",
    )
    demo.add_argument(
        "--epochs", type=_positive_int, default=15, help="training epochs per model (default 15)"
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of data and weights (default 0)")
    demo.add_argument(
        "--output",
        default="keras_rg_output",
        help="output folder for demo.json (default ./keras_rg_output)",
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
