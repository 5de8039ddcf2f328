"""``LayerCouplings``: logs the effective Ising coupling of chosen layers during ``fit``."""

import keras

from keras_rg.arguments import check_int
from keras_rg.probe import ProbeReader, as_probe, check_layer_names, probe_to_config
from keras_rg.systems.layer_couplings import (
    check_lattice_shape,
    check_threshold,
    layer_couplings,
)

__all__ = ["LayerCouplings"]


@keras.saving.register_keras_serializable(package="keras_rg")
class LayerCouplings(keras.callbacks.Callback):
    """Every ``every_n_epochs`` epochs, estimates the Ising couplings of layers on a probe set.

    Thin wrapper of ``keras_rg.systems.layer_couplings.layer_couplings`` (its docstring states
    the spin mapping and its assumptions). Writes into ``logs``, so ``History`` and
    ``TensorBoard`` placed after it see them:

    - ``coupling/<layer>``: the nearest-neighbour coupling K of the layer's spins;
    - ``coupling_error/<layer>``: its standard error.

    Other fitted terms are logged as ``coupling_<term>/<layer>``. ``self.history`` keeps
    ``(epoch, {layer: CouplingEstimate})`` pairs. The estimate runs on the host once per logged
    epoch (a predict on the probe set plus counting), not per batch.

    Args:
        probe: model inputs to read the layers on: an array, a list or dict of arrays or a
            ``tf.data.Dataset`` (kept small: it is stored in the config).
        layer_names: names or fnmatch globs of the layers to read (an unknown name raises at
            ``on_train_begin``, listing the available ones); None reads every layer.
            Defaults to None.
        threshold: float, ``"mean"`` or ``"median"``. Defaults to 0.0.
        lattice_shape: geometry override, ``(N,)`` or ``(L1, L2)``. Defaults to None.
        terms: couplings to fit; must include ``"nn"``. Defaults to ``("nn",)``.
        periodic: whether layer lattices wrap around. Defaults to False.
        every_n_epochs: logging period in epochs (>= 1). Defaults to 1.

    Example:
        >>> cb = LayerCouplings(x_probe, layer_names=["conv"], periodic=True)
        >>> model.fit(x, y, epochs=3, callbacks=[cb])  # doctest: +SKIP
        >>> history.history["coupling/conv"]  # doctest: +SKIP

    Reference: Liaw, Theorem 6; Gong & Xia, ref. [1] (docs/ising.md).
    """

    def __init__(
        self,
        probe,
        layer_names=None,
        threshold=0.0,
        lattice_shape=None,
        terms=("nn",),
        periodic=False,
        every_n_epochs=1,
    ):
        super().__init__()
        self.probe, _ = as_probe(probe)
        self.layer_names = check_layer_names(layer_names)
        self.threshold = check_threshold(threshold)
        self.lattice_shape = check_lattice_shape(lattice_shape)
        self.terms = tuple(terms)
        if "nn" not in self.terms:
            raise ValueError(
                "Received an invalid value for `terms`: expected a tuple that includes 'nn'. "
                f"Received: terms={terms!r}"
            )
        self.periodic = bool(periodic)
        self.every_n_epochs = check_int("every_n_epochs", every_n_epochs)
        self.history = []

    def on_train_begin(self, logs=None):
        # A probe that does not fit the model, or an unknown layer name, fails here.
        ProbeReader(self.model, self.probe, self.layer_names)

    def couplings(self):
        """``{layer: CouplingEstimate}`` for the current model."""
        return layer_couplings(
            self.model,
            self.probe,
            self.layer_names,
            self.threshold,
            self.lattice_shape,
            self.terms,
            self.periodic,
        )

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        estimates = self.couplings()
        self.history.append((epoch, estimates))
        if logs is None:
            return
        for name, est in estimates.items():
            logs[f"coupling/{name}"] = est.nn
            logs[f"coupling_error/{name}"] = est.nn_error
            for term in self.terms:
                if term != "nn":
                    logs[f"coupling_{term}/{name}"] = est.couplings[term]

    def get_config(self):
        return {
            "probe": probe_to_config(self.probe),
            "layer_names": self.layer_names,
            "threshold": self.threshold,
            "lattice_shape": None if self.lattice_shape is None else list(self.lattice_shape),
            "terms": list(self.terms),
            "periodic": self.periodic,
            "every_n_epochs": self.every_n_epochs,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
