"""``RGOptimizer``: the RG step ``−εβ(θ)`` fused into any Keras 3 optimizer's update.

The step is Liaw's RG-guided training step; see docs/rg_flow.md for when to prefer it to the
:class:`~keras_rg.callbacks.rg_flow.RGFlow` callback."""

import types

import keras

from keras_rg.backend import read_now
from keras_rg.flow import (
    apply_rg_step,
    direction_sign,
    epsilon_at,
    match_plan,
    normalize_betas,
    validate_epsilon,
    variable_betas,
)

__all__ = ["RGOptimizer"]


class _Pairs:
    """Holds the resolved ``(variable, beta)`` pairs out of Keras's variable tracking (the model
    variables must not become optimizer variables)."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = tuple(items)


@keras.saving.register_keras_serializable(package="keras_rg")
class RGOptimizer(keras.optimizers.Optimizer):
    """Wraps a Keras optimizer so that each step is ``θ ← θ − η∇L − εβ(θ)`` (Liaw's RG-guided training, step 2(c)).

    The inner optimizer applies ``−η∇L``; right after it, in the same compiled train step, every
    variable in ``betas`` takes the RG step ``θ ← θ − sεβ(θ)`` (s = +1 for ``"paper"``, −1 for
    ``"reverse"``). Because the update lives inside ``apply``, it runs on every step with
    ``steps_per_execution > 1``, under ``jit_compile=True``, under ``tf.distribute`` (the update
    is applied per device with ``strategy.extended.update``, like decoupled weight decay) and on
    JAX, also under ``keras.distribution`` across hosts (docs/distributed.md). Its cost
    is one elementwise pass over the selected variables. It gives the same trajectory as the
    :class:`~keras_rg.callbacks.rg_flow.RGFlow` callback.

    Build the plan for a model with :meth:`for_model` (our layers from their own α, plain layers
    from a chosen α, user betas per layer or variable). ``learning_rate``, ``iterations`` and loss
    scaling are the inner optimizer's; the ε schedule is evaluated at the step index
    ``iterations`` before the step (0-based). The RG step follows every ``apply`` call (with the
    inner optimizer's ``gradient_accumulation_steps``, every micro-step). Under mixed_float16,
    Keras wraps this optimizer in a ``LossScaleOptimizer``, which skips the whole step, RG step
    included, when gradients are not finite.

    Args:
        inner_optimizer: a ``keras.optimizers.Optimizer`` (or its serialized config).
        betas: ``{variable key: beta}``; a key is a variable path (``"dense/kernel"``, the last
            two components suffice) or a glob pattern (``"*/bias"``), a beta is a callable of the
            variable's value returning the same shape (e.g. :class:`~keras_rg.flow.LinearBeta`),
            registered with Keras to be saved, or None to exclude.
        epsilon: ε, a finite float >= 0, a Keras ``LearningRateSchedule`` or a registered callable
            ``step -> ε``. Defaults to 1e-3.
        direction: ``"paper"`` (``θ − εβ``, the paper's sign) or ``"reverse"`` (``θ + εβ``).
            Defaults to ``"paper"``.
        name: optimizer name. Defaults to None.

    Example:
        >>> model = keras.Sequential([keras.Input((3,)), ScaleCovariantDense(4, alpha=0.5)])
        >>> opt = RGOptimizer.for_model(model, keras.optimizers.Adam(1e-3), epsilon=1e-3)
        >>> sorted(opt.betas)
        ['scale_covariant_dense/bias', 'scale_covariant_dense/kernel']
        >>> model.compile(optimizer=opt, loss="mse")

    Reference: S. Liaw, "A Renormalization Group Framework for Scale-Invariant Feature Learning
    in Deep Neural Networks", Theorem 2 and the RG-guided training procedure.
    """

    def __init__(
        self, inner_optimizer, betas, epsilon=1e-3, direction="paper", name=None, **kwargs
    ):
        if kwargs:
            raise ValueError(
                f"RGOptimizer does not take {sorted(kwargs)}: set them on `inner_optimizer`."
            )
        super().__init__(learning_rate=0.0, name=name)
        if isinstance(inner_optimizer, (dict, str)):
            inner_optimizer = keras.optimizers.get(inner_optimizer)
        if not isinstance(inner_optimizer, keras.optimizers.Optimizer):
            raise TypeError(
                "Received an invalid value for `inner_optimizer`: expected a "
                f"keras.optimizers.Optimizer. Received: inner_optimizer={inner_optimizer!r}"
            )
        self.inner_optimizer = inner_optimizer
        self.epsilon = validate_epsilon(epsilon)
        direction_sign(direction)
        self.direction = direction
        self._betas = types.MappingProxyType(normalize_betas(betas))
        self._pairs = _Pairs(())

    @classmethod
    def for_model(
        cls,
        model,
        inner_optimizer,
        epsilon=1e-3,
        direction="paper",
        *,
        beta="paper",
        delta=None,
        alpha=None,
        betas=None,
        layer_types=None,
        layer_names=None,
        predicate=None,
        name=None,
    ):
        """An ``RGOptimizer`` whose plan is :func:`~keras_rg.flow.variable_betas` of ``model``.

        Takes the selection arguments of :func:`~keras_rg.flow.resolve_targets` (``beta``,
        ``delta``, ``alpha``, ``betas``, ``layer_types``, ``layer_names``, ``predicate``); the
        resolved plan, not the selection, is what :meth:`get_config` stores.

        Raises:
            ValueError: the selection picks no variable, or a ``layer_names`` entry matches no
                layer (the message lists the model's layers).
        """
        plan = variable_betas(
            model,
            beta=beta,
            delta=delta,
            alpha=alpha,
            betas=betas,
            layer_types=layer_types,
            layer_names=layer_names,
            predicate=predicate,
            warn_empty=False,
        )
        if not plan:
            raise ValueError(
                "RGOptimizer.for_model selected no variables, so the RG step would do nothing: "
                "the model has no ScaleCovariantDense/ScaleCovariantConv1D layer matching "
                f"layer_types={layer_types}, layer_names={layer_names}, predicate={predicate}; "
                "pass `alpha` (for plain layers with a kernel) or `betas` to select some. "
                f"Received: alpha={alpha}, betas={betas}"
            )
        return cls(inner_optimizer, plan, epsilon=epsilon, direction=direction, name=name)

    @property
    def betas(self):
        """The plan ``{variable key: beta}`` (read-only)."""
        return dict(self._betas)

    @property
    def pairs(self):
        """The resolved ``(variable, beta)`` pairs (empty before :meth:`build`)."""
        return list(self._pairs.items)

    def build(self, var_list):
        self.inner_optimizer.build(var_list)
        self._pairs = _Pairs(match_plan(var_list, self._betas))
        super().build(var_list)

    @property
    def variables(self):
        return self._variables + self.inner_optimizer.variables

    def apply(self, grads, trainable_variables=None):
        if not self.built:
            if trainable_variables is None:
                raise ValueError(
                    "RGOptimizer must be built before `apply` without `trainable_variables`: "
                    "call `optimizer.build(model.trainable_variables)`."
                )
            with keras.name_scope(self.name, caller=self):
                self.build(list(trainable_variables))
        # Read here, before the inner step increments `iterations` (inside a tf.function a
        # converted variable would be read lazily, after the increment).
        step = None if isinstance(self.epsilon, float) else read_now(self.iterations)
        self.inner_optimizer.apply(grads, trainable_variables)
        if self._pairs.items:
            apply_rg_step(self._pairs.items, epsilon_at(self.epsilon, step), self.direction)

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    def scale_loss(self, loss):
        return self.inner_optimizer.scale_loss(loss)

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        epsilon = self.epsilon
        if not isinstance(epsilon, float):
            epsilon = keras.saving.serialize_keras_object(epsilon)
        return {
            "name": self.name,
            "inner_optimizer": keras.saving.serialize_keras_object(self.inner_optimizer),
            "betas": {
                k: None if v is None else keras.saving.serialize_keras_object(v)
                for k, v in self._betas.items()
            },
            "epsilon": epsilon,
            "direction": self.direction,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner = keras.saving.deserialize_keras_object(
            config.pop("inner_optimizer"), custom_objects=custom_objects
        )
        return cls(inner, **config)
