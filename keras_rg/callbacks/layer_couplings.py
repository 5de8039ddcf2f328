"""``LayerCouplings``: logs the effective Ising coupling of chosen layers during ``fit``."""

import keras
import numpy as np

from keras_rg.systems.layer_couplings import (
    _check_lattice_shape,
    _check_threshold,
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
        probe: model inputs to read the layers on (kept small: it is stored in the config).
        layer_names: layers to read; None reads every layer. Defaults to None.
        threshold: float, ``"mean"`` or ``"median"``. Defaults to 0.0.
        lattice_shape: geometry override, ``(N,)`` or ``(L1, L2)``. Defaults to None.
        terms: couplings to fit; must include ``"nn"``. Defaults to ``("nn",)``.
        periodic: whether layer lattices wrap around. Defaults to False.
        every_n_epochs: logging period in epochs (>= 1). Defaults to 1.

    Example:
        >>> cb = LayerCouplings(x_probe, layer_names=["conv"], periodic=True)
        >>> model.fit(x, y, epochs=3, callbacks=[cb])  # doctest: +SKIP
        >>> history.history["coupling/conv"]  # doctest: +SKIP

    Reference: seed 000 (Liaw), Theorem 6; seed 001 (Gong & Xia), ref. [1].
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
        self.probe = np.asarray(probe, dtype=np.float32)
        if self.probe.ndim < 1 or self.probe.shape[0] < 2:
            raise ValueError(
                "Received an invalid value for `probe`: expected at least two input samples. "
                f"Received: probe of shape {self.probe.shape}"
            )
        if isinstance(layer_names, str):
            layer_names = [layer_names]
        self.layer_names = None if layer_names is None else list(layer_names)
        self.threshold = _check_threshold(threshold)
        self.lattice_shape = _check_lattice_shape(lattice_shape)
        self.terms = tuple(terms)
        if "nn" not in self.terms:
            raise ValueError(
                "Received an invalid value for `terms`: expected a tuple that includes 'nn'. "
                f"Received: terms={terms!r}"
            )
        self.periodic = bool(periodic)
        if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int):
            raise ValueError(
                "Received an invalid value for `every_n_epochs`: expected an integer >= 1. "
                f"Received: every_n_epochs={every_n_epochs!r}"
            )
        if every_n_epochs < 1:
            raise ValueError(
                "Received an invalid value for `every_n_epochs`: expected an integer >= 1. "
                f"Received: every_n_epochs={every_n_epochs!r}"
            )
        self.every_n_epochs = every_n_epochs
        self.history = []

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
            "probe": self.probe.tolist(),
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
