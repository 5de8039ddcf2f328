"""Saxe et al. (ICLR 2018), Fig. 1, reproduced: binned I(T;X) of a tanh and a ReLU network on the
12-bit task of Shwartz-Ziv & Tishby (2017), rebuilt by `keras_rg.information.datasets`.

The tanh network's deeper layers lose information about X late in training ("compression"); the
ReLU network's much less. Prints both tables, the per-layer drop from the peak and the check's
verdict under its stated rule, and saves the two-panel figure.

Run:  python examples/saxe_compression.py [--quick] [--out saxe_fig1.png]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_rg.validate.checks_saxe import compression, plot_compression, train_and_measure  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 epochs, a few seconds")
    parser.add_argument("--epochs", type=int, default=1500)
    parser.add_argument("--out", default="saxe_fig1.png")
    args = parser.parse_args()
    epochs = 60 if args.quick else args.epochs
    runs = {act: train_and_measure(act, epochs, seed=0) for act in ("tanh", "relu")}
    for act, run in runs.items():
        print(f"\n{act}: binned I(T;X) in nats (ceiling log 4096 = 8.32), accuracy "
              f"{run['accuracy']:.3f}")  # fmt: skip
        print("epoch  " + "  ".join(f"{name:>5}" for name in run["layers"]))
        for epoch, row in zip(run["epochs"], run["I_TX"], strict=True):
            print(f"{epoch:5d}  " + "  ".join(f"{v:5.2f}" for v in row))
        for name, c in compression(run).items():
            print(f"  {name}: rise {c['rise']:.2f}, drop from peak {c['drop']:.2f}"
                  + ("  <- compresses" if c["compresses"] else ""))  # fmt: skip
    plot_compression(args.out, runs)
    print(f"\nfigure saved to {args.out}")


if __name__ == "__main__":
    main()
