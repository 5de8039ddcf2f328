"""Layers beside RG: a layer's outputs mapped to Ising spins, and their effective coupling."""

import numbers

import keras
import numpy as np

from keras_rg.probe import ProbeReader, as_probe
from keras_rg.systems.ising.coupling import estimate_coupling

__all__ = ["check_lattice_shape", "check_threshold", "layer_couplings", "layer_spins"]

_THRESHOLDS = ("mean", "median")


def check_threshold(threshold):
    """``threshold``: a finite float, ``"mean"`` or ``"median"``."""
    if isinstance(threshold, str):
        if threshold not in _THRESHOLDS:
            raise ValueError(
                "Received an invalid value for `threshold`: expected a finite float, 'mean' or "
                f"'median'. Received: threshold={threshold!r}"
            )
        return threshold
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or not np.isfinite(threshold)
    ):
        raise ValueError(
            "Received an invalid value for `threshold`: expected a finite float, 'mean' or "
            f"'median'. Received: threshold={threshold!r}"
        )
    return float(threshold)


def check_lattice_shape(lattice_shape):
    """``lattice_shape``: None or a tuple of one or two integers >= 2."""
    if lattice_shape is None:
        return None
    shape = tuple(lattice_shape) if not isinstance(lattice_shape, numbers.Integral) else None
    if (
        shape is None
        or len(shape) not in (1, 2)
        or any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2 for n in shape)
    ):
        raise ValueError(
            "Received an invalid value for `lattice_shape`: expected a tuple of one (chain) or "
            f"two (square lattice) integers >= 2. Received: lattice_shape={lattice_shape!r}"
        )
    return tuple(int(n) for n in shape)


def _to_lattice(outputs, lattice_shape, name):
    # (n, *features) -> (n, channels, *lattice) with the channel axis last in ``features``.
    n = outputs.shape[0]
    features = outputs.shape[1:]
    if lattice_shape is None:
        if len(features) == 3:
            lattice_shape, channels = features[:2], features[2]
        elif len(features) == 2:
            lattice_shape, channels = features[:1], features[1]
        elif len(features) == 1:
            lattice_shape, channels = features, 1
        else:
            raise ValueError(
                f"Received an invalid value for `lattice_shape`: layer '{name}' has outputs of "
                f"shape {outputs.shape}; give the lattice explicitly. Received: lattice_shape=None"
            )
    else:
        size = int(np.prod(features))
        sites = int(np.prod(lattice_shape))
        if size % sites:
            raise ValueError(
                f"Received an invalid value for `lattice_shape`: layer '{name}' has {size} "
                f"outputs per sample, not a multiple of {sites} sites. "
                f"Received: lattice_shape={lattice_shape}"
            )
        channels = size // sites
    y = outputs.reshape((n,) + tuple(lattice_shape) + (channels,))
    return np.moveaxis(y, -1, 1), len(lattice_shape)


def layer_spins(model, probe, layer_name, threshold=0.0, lattice_shape=None, batch_size=256):
    """Reads a layer's outputs on a probe set and maps them to ±1 spins on a lattice.

    Mapping (the assumptions to keep in mind when reading a "layer coupling"):

    1. **Geometry.** Units are placed on a lattice in the layer's own output order (row-major,
       channels last, as Keras lays them out). ``Conv2D``-like outputs ``(H, W, C)`` give ``C``
       square ``H × W`` lattices; ``(N, C)`` gives ``C`` chains; a ``Dense`` output ``(N,)`` is one
       chain of ``N`` units in index order, as in Gong & Xia's ref. [1] (*Interpreting FCDNNs via RG on exponential family*). A ``Dense`` layer has no
       geometry of its own: neighbouring indices are neighbours only by this convention, so give
       ``lattice_shape`` when the units do index a lattice (e.g. a locality-preserving layer).
    2. **Spins.** ``s = +1`` where the output is strictly above the threshold, else ``−1``.
       ``threshold`` is a float (0 suits odd activations such as tanh; for ReLU, 0 maps inactive
       units to −1), or ``"mean"`` / ``"median"`` of each unit over the probe set (a per-unit
       threshold; it removes each unit's mean activity, i.e. an effective field).
    3. **Independence.** Probe samples are independent; the channels of one sample are not
       (they form one group for the error bars).

    Args:
        model: a built Keras functional or Sequential model (layers called once).
        probe: inputs to the model, e.g. Ising configurations.
        layer_name: the layer to read.
        threshold: see above. Defaults to 0.0.
        lattice_shape: ``(N,)`` or ``(L1, L2)`` to override the geometry; the outputs per sample
            must be a multiple of the sites (the quotient is the channel count). Defaults to None.
        batch_size: prediction batch size. Defaults to 256.

    Returns:
        ``(spins, groups, geometry)``: ``int8`` spins ``(n · C, *lattice)``, the probe index of
        each configuration, and ``"square"`` or ``"chain"``.
    """
    threshold = check_threshold(threshold)
    lattice_shape = check_lattice_shape(lattice_shape)
    if not isinstance(layer_name, str):
        raise TypeError(
            f"Received an invalid type for `layer_name`: expected a layer name. "
            f"Received: layer_name={layer_name!r}"
        )
    outputs = _read_outputs(model, probe, [layer_name], batch_size)
    (name,) = outputs
    return _spins_from_outputs(outputs[name], threshold, lattice_shape, name)


def _read_outputs(model, probe, names, batch_size):
    """``{layer name: outputs}`` from the shared probe reader (``keras_rg.probe``): one reader
    model, plain inference calls in batches (Dropout and the like in inference mode); unknown
    names raise listing the model's layers."""
    probe, _ = as_probe(probe)
    return ProbeReader(model, probe, names, batch_size=batch_size).read()


def _spins_from_outputs(outputs, threshold, lattice_shape, name):
    if threshold == "mean":
        cut = outputs.mean(axis=0, keepdims=True)
    elif threshold == "median":
        cut = np.median(outputs, axis=0, keepdims=True)
    else:
        cut = threshold
    spins = np.where(outputs > cut, 1, -1).astype(np.int8)
    lattice, ndim = _to_lattice(spins, lattice_shape, name)
    n, channels = lattice.shape[:2]
    groups = np.repeat(np.arange(n), channels)
    geometry = "square" if ndim == 2 else "chain"
    return lattice.reshape((n * channels,) + lattice.shape[2:]), groups, geometry


def layer_couplings(
    model,
    probe,
    layer_names=None,
    threshold=0.0,
    lattice_shape=None,
    terms=("nn",),
    periodic=False,
    batch_size=256,
):
    """Effective Ising couplings of a model's layers, to put beside the RG flow of the data.

    For each layer, ``layer_spins`` maps its outputs on ``probe`` to spins and
    ``estimate_coupling`` fits the couplings (pseudo-likelihood, errors grouped by probe sample).
    Compare the result with ``block_spin_flow`` or ``decimation_recursion`` at the coupling of the
    data: Liaw's Theorem 6 (docs/ising.md) posits a correspondence between the two flows, and Gong & Xia's
    ref. [1] proves that for 1-D Ising data a trained network's feature-layer coupling goes to 0,
    the stable fixed point of decimation. The numbers say whether that holds for a given model.

    Args:
        model: a built Keras functional or Sequential model.
        probe: model inputs: an array, a list or dict of arrays, or a ``tf.data.Dataset``.
        layer_names: layer names or fnmatch globs to read (unknown names raise listing the
            model's layers). Defaults to None (every layer with 1-D to 3-D outputs per sample,
            input layers excluded).
        threshold: float, ``"mean"`` or ``"median"`` (see ``layer_spins``). Defaults to 0.0.
        lattice_shape: geometry override (see ``layer_spins``). Defaults to None.
        terms: couplings to fit (see ``estimate_coupling``). Defaults to ``("nn",)``.
        periodic: whether the layer's lattice wraps around. Convolution outputs do not, unless
            the model pads circularly or, as for a stride-``b`` ``b × b`` kernel on a periodic
            input, its output tiles the input's torus exactly. Defaults to False.
        batch_size: prediction batch size. Defaults to 256.

    Returns:
        A dict ``{layer name: CouplingEstimate}`` in model order.

    Example:
        >>> from keras_rg.systems.ising import sample_lattice
        >>> x = sample_lattice(8, 0.3, 64, burn_in=50, seed=0).configurations()[..., None]
        >>> model = keras.Sequential([keras.Input((8, 8, 1)),
        ...                           keras.layers.Conv2D(2, 2, strides=2, name="block")])
        >>> sorted(layer_couplings(model, x.astype("float32")))
        ['block']

    Reference: S. Liaw, *A Renormalization Group Framework for Scale-Invariant Feature Learning
    in Deep Neural Networks*, Theorem 6; Gong & Xia, *Interpreting FCDNNs via RG on exponential
    family*, ref. [1] (docs/ising.md).
    """
    threshold = check_threshold(threshold)
    lattice_shape = check_lattice_shape(lattice_shape)
    if layer_names is None:
        layer_names = [
            layer.name
            for layer in model.layers
            if not isinstance(layer, keras.layers.InputLayer) and 2 <= len(layer.output.shape) <= 4
        ]
    elif isinstance(layer_names, str):
        layer_names = [layer_names]
    layer_names = list(layer_names)
    results = {}
    outputs = _read_outputs(model, probe, layer_names, batch_size)
    for name, out in outputs.items():
        spins, groups, geometry = _spins_from_outputs(out, threshold, lattice_shape, name)
        results[name] = estimate_coupling(spins, geometry, terms, periodic, groups)
    return results
