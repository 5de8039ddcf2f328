"""Real data with nothing downloaded: UCR time-series sets bundled inside the ``aeon`` package,
and scikit-learn's 8x8 digits as images.

The UCR files are read straight from aeon's package folder (``aeon/datasets/data/<name>``, the
``.ts`` format: ``@`` header lines, then one ``v1,v2,...:label`` line per series), so aeon is
needed only as a container of the files: ``pip install 'keras-rg[ucr]'`` (or ``pip install
aeon``). Neither loader touches the network.
"""

import importlib.util
import os

import numpy as np

__all__ = ["UCR_SETS", "load_digits_images", "load_ucr", "ucr_folder"]

UCR_SETS = ("GunPoint", "ArrowHead", "ItalyPowerDemand", "OSULeaf")


def ucr_folder():
    """The folder of UCR sets shipped inside the installed aeon package (aeon is not imported)."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "The UCR data sets are read from the aeon package, which is not installed: "
            "pip install 'keras-rg[ucr]' (or pip install aeon)."
        )
    return os.path.join(list(spec.submodule_search_locations)[0], "datasets", "data")


def _read_ts(path):
    series, labels, in_data = [], [], False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                in_data = line.lower().startswith("@data")
                continue
            values, label = line.rsplit(":", 1)
            series.append([float(v) for v in values.split(",")])
            labels.append(label.strip())
    lengths = {len(s) for s in series}
    if len(lengths) != 1:
        raise ValueError(f"{path}: series of unequal lengths {sorted(lengths)} are not supported")
    return np.asarray(series, dtype="float32"), np.asarray(labels)


def load_ucr(name):
    """One bundled UCR set with its standard train/test split.

    Args:
        name: one of :data:`UCR_SETS` (or any equal-length set shipped with aeon).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: ``x`` of shape ``(n, length, 1)`` float32,
        ``y`` integer labels ``0..k−1`` (sorted order of the original labels).

    Raises:
        ImportError: aeon is not installed.
        ValueError: no such set in aeon's folder (the message lists the available ones).
    """
    folder = ucr_folder()
    if not isinstance(name, str) or not os.path.isfile(
        os.path.join(folder, name, f"{name}_TRAIN.ts")
    ):
        available = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
        raise ValueError(
            f"Received an invalid value for `name`: expected a UCR set bundled with aeon, one of "
            f"{available}. Received: name={name!r}"
        )
    x_train, l_train = _read_ts(os.path.join(folder, name, f"{name}_TRAIN.ts"))
    x_test, l_test = _read_ts(os.path.join(folder, name, f"{name}_TEST.ts"))
    classes = sorted(set(l_train) | set(l_test))
    index = {c: i for i, c in enumerate(classes)}
    y_train = np.array([index[c] for c in l_train], dtype="int32")
    y_test = np.array([index[c] for c in l_test], dtype="int32")
    return (x_train[..., None], y_train), (x_test[..., None], y_test)


def load_digits_images(test_fraction=0.3, seed=0):
    """scikit-learn's bundled 8x8 digits (1797 images, 10 classes) as ``(n, 8, 8, 1)`` float32
    in [0, 1], split at random (stratified) into train and test.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.images / 16.0).astype("float32")[..., None]
    x_train, x_test, y_train, y_test = train_test_split(
        x, data.target.astype("int32"), test_size=test_fraction, random_state=seed,
        stratify=data.target,
    )  # fmt: skip
    return (x_train, y_train), (x_test, y_test)
