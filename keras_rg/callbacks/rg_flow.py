"""``RGFlow``: the RG step ``θ ← θ − εβ(θ)`` after every optimizer step, as a callback.

A thin adapter: the selection, the maths and the update are :mod:`keras_rg.flow`'s. Usage, the
choice of ε and when an interrupted run resumes bit for bit: docs/rg_flow.md and docs/guide.md."""

import warnings

import keras
import numpy as np

from keras_rg.backend import is_tensorflow, tensorflow_module
from keras_rg.flow import (
    apply_rg_step,
    beta_norms,
    direction_sign,
    epsilon_at,
    normalize_betas,
    normalize_selection,
    resolve_targets,
    validate_alpha_spec,
    validate_beta_kind,
    validate_epsilon,
)
from keras_rg.rg_optimizer import RGOptimizer

__all__ = ["RGFlow"]


@keras.saving.register_keras_serializable(package="keras_rg")
class RGFlow(keras.callbacks.Callback):
    """Applies the RG step ``θ ← θ − sεβ(θ)`` to the selected variables after each batch.

    With the optimizer's ``−η∇L`` this is Liaw's RG-guided step ``θ ← θ − η∇L − εβ(θ)``.
    All selected variables are updated by one compiled function per batch (no Python loop of
    eager ops). Each epoch it writes into ``logs`` (so ``History``, ``CSVLogger`` and
    ``TensorBoard`` placed after it in ``callbacks`` see them):

    - ``rg_beta_norm/<layer>``: ``‖β(θ)‖`` over the layer's selected variables;
    - ``rg_beta_norm``: ``‖β(θ)‖`` over all of them (the distance to the fixed point, Definition 2);
    - ``rg_epsilon``: the ε of the epoch's last step.

    A per-batch callback costs about a host round trip per step and sees only every k-th step with
    ``steps_per_execution = k > 1`` (it warns then): for small batches, ``steps_per_execution``,
    ``jit_compile`` or ``tf.distribute``, use :class:`~keras_rg.rg_optimizer.RGOptimizer`, which
    gives the same trajectory inside the train step. ``epsilon=0.0`` still logs the norms.

    Args:
        epsilon: ε, a finite float >= 0, a Keras ``LearningRateSchedule`` or a registered callable
            ``step -> ε``, evaluated at the optimizer step index (0-based). Defaults to 1e-3.
        direction: ``"paper"`` (``θ − εβ``, the paper's sign: it expands b for every α > 0) or
            ``"reverse"`` (``θ + εβ``, along the flow). Defaults to ``"paper"``.
        beta: ``"paper"`` (Theorem 2) or ``"covariant"`` (``β_Δ``). Defaults to ``"paper"``.
        delta: Δ for ``beta="covariant"``; None is each layer's own α. Defaults to None.
        alpha: α for plain Keras layers with a kernel (float or ``{layer name: α}``); None leaves
            them alone. Our layers use their own α. Defaults to None.
        betas: user beta functions ``{layer name or variable path (glob ok): callable or None}``,
            in addition to and overriding the defaults. Defaults to None.
        layer_types: layer classes or class names to select. Defaults to None (any).
        layer_names: exact layer names or ``fnmatch`` globs to select; one that matches no layer
            raises ValueError at ``on_train_begin``, listing the model's layers. Defaults to None
            (any).
        predicate: a callable ``layer -> bool`` (registered with Keras to be saved).
            Defaults to None.

    Example:
        >>> model = keras.Sequential([keras.Input((3,)), ScaleCovariantDense(2, alpha=0.5)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> history = model.fit(np.ones((8, 3)), np.zeros((8, 2)), epochs=1, verbose=0,
        ...                     callbacks=[RGFlow(epsilon=1e-3)])
        >>> sorted(k for k in history.history if k.startswith("rg_"))
        ['rg_beta_norm', 'rg_beta_norm/scale_covariant_dense', 'rg_epsilon']

    Raises:
        TypeError/ValueError: at construction, for a bad argument (``epsilon="1e-3"`` and
            ``epsilon=True`` are TypeErrors).
        ValueError: at ``on_train_begin``, when the selection picks no variable (a model without
            scale-covariant layers and no ``alpha``/``betas``): a ``rg_beta_norm`` of 0.0 would
            read as "at the fixed point".

    Resuming: with ``keras.callbacks.BackupAndRestore(save_freq="epoch")`` or a
    ``ModelCheckpoint`` + ``load_model`` at an epoch boundary, an interrupted run continues bit
    for bit, whatever the order of the callbacks. With ``save_freq=<batches>`` Keras 3 replays the
    interrupted epoch from its first batch on the restored weights, so the run is not bit-exact.
    Callbacks run in list order: a callback that saves after a batch must come after ``RGFlow``
    to see that batch's RG step (``RGOptimizer`` has no such order). tests/test_resume.py checks
    each case; docs/rg_flow.md, "Resuming", explains them.

    Reference: S. Liaw, "A Renormalization Group Framework for Scale-Invariant Feature Learning in
    Deep Neural Networks", Theorem 2, Definition 2 and the RG-guided training procedure.
    """

    def __init__(
        self,
        epsilon=1e-3,
        direction="paper",
        beta="paper",
        delta=None,
        alpha=None,
        betas=None,
        layer_types=None,
        layer_names=None,
        predicate=None,
    ):
        super().__init__()
        self.epsilon = validate_epsilon(epsilon)
        direction_sign(direction)
        self.direction = direction
        self.delta = validate_beta_kind(beta, delta)
        self.beta = beta
        self.alpha = validate_alpha_spec(alpha)
        self.betas = normalize_betas(betas)
        self.layer_types, self.layer_names, self.predicate = normalize_selection(
            layer_types, layer_names, predicate
        )
        self.targets = []
        self._step_fn = None
        self._norm_fn = None
        self._compiled_for = None
        self._loss_scaled = False
        self._last_iteration = None

    def on_train_begin(self, logs=None):
        self.targets = resolve_targets(
            self.model,
            beta=self.beta,
            delta=self.delta,
            alpha=self.alpha,
            betas=self.betas,
            layer_types=self.layer_types,
            layer_names=self.layer_names,
            predicate=self.predicate,
            warn_empty=False,
        )
        if not self.targets:
            raise ValueError(
                "RGFlow selected no variables, so there is no flow to apply or measure (a logged "
                "rg_beta_norm of 0.0 would read as 'at the fixed point'). The model has no "
                "ScaleCovariantDense/ScaleCovariantConv1D layer matching "
                f"layer_types={self.layer_types}, layer_names={self.layer_names}, "
                f"predicate={self.predicate}; pass `alpha` (for plain layers with a kernel) or "
                f"`betas` to select some. Received: alpha={self.alpha}, betas={self.betas}"
            )
        spe = getattr(self.model, "steps_per_execution", 1) or 1
        if int(spe) > 1:
            warnings.warn(
                f"RGFlow runs once per `steps_per_execution`={int(spe)} steps, so it does not "
                "take the RG step after every optimizer step; use keras_rg.rg_optimizer."
                "RGOptimizer for the fused update.",
                UserWarning,
                stacklevel=2,
            )
        opt = self.model.optimizer
        while opt is not None and not isinstance(opt, RGOptimizer):
            opt = getattr(opt, "inner_optimizer", None)
        if opt is not None and self.epsilon != 0.0:
            warnings.warn(
                "The model's optimizer is an RGOptimizer, which already takes the RG step; with "
                "RGFlow(epsilon != 0) the step is applied twice. Use RGFlow(epsilon=0.0) to only "
                f"log the diagnostics. Received: epsilon={self.epsilon}",
                UserWarning,
                stacklevel=2,
            )
        pairs = [(t.variable, t.beta) for t in self.targets]
        iterations = self.model.optimizer.iterations
        # Under mixed_float16 a LossScaleOptimizer skips a step whose gradients overflow (and
        # does not count it); the RG step is skipped with it, as RGOptimizer's is.
        self._loss_scaled = isinstance(self.model.optimizer, keras.optimizers.LossScaleOptimizer)
        self._last_iteration = int(iterations.numpy()) if self._loss_scaled else None
        # Betas compare by value (LinearBeta) or identity; the traced closures keep the old ones
        # alive, so the variable ids cannot be reused by other objects meanwhile.
        key = (id(iterations), tuple((id(v), b) for v, b in pairs))
        if key == self._compiled_for:  # a later fit() on the same model: keep the traces
            return
        epsilon, direction = self.epsilon, self.direction

        def step_fn():
            # ε of the step just taken: the schedule at index iterations − 1 (0-based).
            step = None if isinstance(epsilon, float) else iterations - 1
            apply_rg_step(pairs, epsilon_at(epsilon, step), direction)

        def norm_fn():
            return beta_norms(pairs)

        if is_tensorflow():
            tf = tensorflow_module("RGFlow's compiled step")
            step_fn = tf.function(step_fn, autograph=False)
            norm_fn = tf.function(norm_fn, autograph=False)
        # Elsewhere (JAX) the eager keras.ops update is a handful of dispatched array ops; a
        # jitted version would need the variables as arguments and gains little per batch.
        self._step_fn = step_fn if pairs else None
        self._norm_fn = norm_fn
        self._compiled_for = key

    def on_train_batch_end(self, batch, logs=None):
        if self._step_fn is None:
            return
        if self._loss_scaled:  # one host read per step, only under loss scaling
            iteration = int(self.model.optimizer.iterations.numpy())
            if iteration == self._last_iteration:
                return  # the loss-scale optimizer skipped this step (non-finite gradients)
            self._last_iteration = iteration
        if not is_tensorflow():  # reading self.model syncs JAX's train state into the variables
            self.model  # noqa: B018
            self._step_fn()
            return
        tf = tensorflow_module("RGFlow under tf.distribute")
        strategy = self.model.distribute_strategy
        if strategy is tf.distribute.get_strategy():
            self._step_fn()
        else:  # MirroredStrategy & co.: update every replica's copy in cross-replica context
            with strategy.scope():
                self._step_fn()

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or self._norm_fn is None:
            return
        logs.update(self.diagnostics())

    def diagnostics(self):
        """``{"rg_beta_norm/<layer>": ..., "rg_beta_norm": ..., "rg_epsilon": ...}`` now."""
        squares = np.asarray(self._norm_fn(), dtype=np.float64)
        per_layer = {}
        for t, sq in zip(self.targets, squares, strict=True):
            per_layer[t.layer] = per_layer.get(t.layer, 0.0) + float(sq)
        out = {f"rg_beta_norm/{name}": float(np.sqrt(sq)) for name, sq in per_layer.items()}
        out["rg_beta_norm"] = float(np.sqrt(squares.sum()))
        step = max(int(self.model.optimizer.iterations.numpy()) - 1, 0)
        out["rg_epsilon"] = float(np.asarray(epsilon_at(self.epsilon, step)))
        return out

    def get_config(self):
        def ser(obj):
            return None if obj is None else keras.saving.serialize_keras_object(obj)

        return {
            "epsilon": self.epsilon if isinstance(self.epsilon, float) else ser(self.epsilon),
            "direction": self.direction,
            "beta": self.beta,
            "delta": self.delta,
            "alpha": self.alpha,
            "betas": {k: ser(v) for k, v in self.betas.items()},
            "layer_types": None
            if self.layer_types is None
            else [t if isinstance(t, str) else t.__name__ for t in self.layer_types],
            "layer_names": None if self.layer_names is None else list(self.layer_names),
            "predicate": ser(self.predicate),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
