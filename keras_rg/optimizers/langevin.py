"""LangevinAnnealing: a Keras 3 optimizer for simulated annealing by Langevin dynamics."""

import keras
from keras import ops

from keras_rg.arguments import check_choice, check_float, check_int, renamed_argument
from keras_rg.optimizers.noise import (
    TemperatureMixin,
    check_data_size,
    check_learning_rate,
    check_seed,
    densify,
    make_seed_variable,
    resolve_temperature,
    serialize_temperature,
    stateless_normal,
)
from keras_rg.schedules import LogarithmicCooling

__all__ = ["LangevinAnnealing"]

_PRECONDITIONERS = ("identity", "rmsprop")


@keras.saving.register_keras_serializable(package="keras_rg")
class LangevinAnnealing(TemperatureMixin, keras.optimizers.Optimizer):
    """Langevin dynamics with a cooling temperature: simulated annealing for `model.fit`.

    Each step is the Euler–Maruyama discretisation of ``dW = -P ∇L dt + sqrt(2 T_t P / N) dB``:

        W ← W - h · P · g + sqrt(2 · h · T_t · P / N) · ξ,    ξ ~ N(0, I)

    with ``g`` the mini-batch mean gradient, ``h`` the step size (``learning_rate``), ``T_t`` the
    temperature at step ``t``, ``N`` = ``data_size`` and ``P`` a diagonal preconditioner. With
    ``N = 1`` and ``P = I`` this is the SDE of Gong & Xia ("Interpreting fully connected deep
    neural networks via renormalization group on the exponential family", eq. 6; docs/langevin.md) with ``η_t = 2 T_t``: at constant ``T`` the iterates sample
    ``∝ exp(-L / T)``; with ``N`` the data-set size they sample ``∝ exp(-N L / T)``, the Bayesian
    posterior at ``T = 1`` when ``L`` is the mean negative log-likelihood plus prior / N.
    The default temperature is the logarithmic cooling ``T_t = 1 / log(t + 2)`` on which the
    convergence of simulated annealing rests (Lemma 2.1 there).

    With ``preconditioner="rmsprop"``, ``v ← decay · v + (1 - decay) · g²`` (``v`` starts at 1) and
    ``P = 1 / sqrt(v + diagonal_bias)``: the preconditioned SGLD of Li et al. (2016). Configured
    as ``learning_rate = lr · N / 2``, ``temperature=1.0``, it reproduces
    `tfp.optimizer.StochasticGradientLangevinDynamics(lr, data_size=N)` (drift
    ``(lr / 2) N P g``, noise ``N(0, lr P)``) without its diagonal-Jacobian correction term,
    which that implementation evaluates to zero in a Keras training step. TFP switches the
    noise on after ``burnin + 1`` steps, this optimizer after ``burn_in``.

    The noise is drawn in float32 (also under mixed precision), stateless, keyed on the seed (an
    optimizer variable), the iteration and the variable's index (Philox on TensorFlow, threefry
    on JAX): runs are reproducible, saving/loading or checkpointing resumes the exact noise
    sequence, every replica of a mirrored variable under `tf.distribute` or of a JAX
    `keras.distribution.DataParallel` run (one or many processes) draws the same noise, and the
    update compiles with XLA (`jit_compile=True`). TensorFlow and JAX draw different numbers from
    the same seed (docs/distributed.md).

    Args:
        learning_rate: Step size ``h``: a float >= 0, a
            `keras.optimizers.schedules.LearningRateSchedule` (e.g. any schedule of
            `keras_rg.schedules`) or a callable with no arguments. Defaults to `0.01`.
        temperature: ``T_t``: a float >= 0 (constant) or a schedule such as
            `keras_rg.schedules.LogarithmicCooling`. `None` means `LogarithmicCooling()`.
            Defaults to `None`.
        data_size: ``N``, the number of training examples the mean loss averages over (float
            > 0). Defaults to `1`.
        preconditioner: `"identity"` or `"rmsprop"`. Defaults to `"identity"`.
        decay: RMSprop decay of the squared-gradient average, a float in [0, 1].
            Defaults to `0.95`.
        diagonal_bias: Added to ``v`` before the inverse square root, a float >= 0.
            Defaults to `1e-8`.
        burn_in: Number of initial noise-free steps (the preconditioner is still updated),
            an integer >= 0. Defaults to `0`. (`burnin` is its deprecated name.)
        seed: Integer seed in [0, 2**63) of the noise. `None` draws one from Python's `random`
            module (so `keras.utils.set_random_seed` makes it reproducible). Defaults to `None`.
        **kwargs: The usual Keras optimizer arguments (`weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm`, `use_ema`, `ema_momentum`, `ema_overwrite_frequency`,
            `loss_scale_factor`, `gradient_accumulation_steps`, `name`).

    Example:

    >>> import keras
    >>> from keras_rg.optimizers import LangevinAnnealing
    >>> from keras_rg.schedules import LogarithmicCooling
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(
    ...     optimizer=LangevinAnnealing(1e-3, temperature=LogarithmicCooling(0.1), seed=0),
    ...     loss="mse",
    ... )

    References:
        Gong & Xia, eq. 6 and Lemma 2.1 (docs/langevin.md). M. Welling, Y. W. Teh, "Bayesian learning via
        stochastic gradient Langevin dynamics", ICML 2011. C. Li, C. Chen, D. Carlson, L. Carin,
        "Preconditioned stochastic gradient Langevin dynamics for deep neural networks", AAAI 2016.
        B. Hajek, "Cooling schedules for optimal annealing", Math. Oper. Res. 13 (1988).
    """

    def __init__(
        self,
        learning_rate=0.01,
        temperature=None,
        data_size=1,
        preconditioner="identity",
        decay=0.95,
        diagonal_bias=1e-8,
        burn_in=0,
        seed=None,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        burn_in = renamed_argument(kwargs, "burnin", "burn_in", burn_in, "LangevinAnnealing", 0)
        learning_rate = check_learning_rate(learning_rate)
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )
        self.temperature, self._temperature_schedule = resolve_temperature(
            temperature, LogarithmicCooling()
        )
        self.data_size = check_data_size(data_size)
        self.preconditioner = check_choice("preconditioner", preconditioner, _PRECONDITIONERS)
        self.decay = check_float("decay", decay, 0.0, 1.0)
        self.diagonal_bias = check_float("diagonal_bias", diagonal_bias, 0.0)
        self.burn_in = check_int("burn_in", burn_in, minimum=0)
        self.seed = check_seed(seed)
        self._seed_variable = make_seed_variable(self, self.seed)

    def build(self, variables):
        """Creates the RMSprop accumulators (initialised to one) when preconditioning."""
        if self.built:
            return
        super().build(variables)
        self._mean_squares = []
        if self.preconditioner == "rmsprop":
            self._mean_squares = self.add_optimizer_variables(variables, "rms", initializer="ones")

    def update_step(self, gradient, variable, learning_rate):
        """One Euler–Maruyama step for one variable (computed in float32)."""
        gradient = densify(gradient)  # a tf.IndexedSlices: the noise is dense anyway
        index = self._get_variable_index(variable)
        step = self._iterations
        g = ops.cast(gradient, "float32")
        h = ops.cast(learning_rate, "float32")
        temperature = ops.cast(self._temperature_schedule(step), "float32")
        noise_variance = 2.0 / float(self.data_size) * h * temperature
        if self.preconditioner == "rmsprop":
            v = self._mean_squares[index]
            v_new = self.decay * ops.cast(v, "float32") + (1.0 - self.decay) * ops.square(g)
            self.assign(v, v_new)
            # P = 1 / root. Divisions, not reciprocals: TF's vectorised reciprocal and rsqrt
            # are approximate and differ between copies of a mirrored variable by an ulp.
            root = ops.sqrt(v_new + self.diagonal_bias)
            drift = h * g / root
            noise_std = ops.sqrt(noise_variance / root)
        else:
            drift = h * g
            noise_std = ops.sqrt(noise_variance)
        if self.burn_in > 0:
            noise_std = noise_std * ops.cast(ops.greater_equal(step, self.burn_in), "float32")
        xi = stateless_normal(self._seed_variable, variable.shape, step, index)
        self.assign_add(variable, ops.cast(noise_std * xi - drift, variable.dtype))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "temperature": serialize_temperature(self.temperature),
                "data_size": self.data_size,
                "preconditioner": self.preconditioner,
                "decay": self.decay,
                "diagonal_bias": self.diagonal_bias,
                "burn_in": self.burn_in,
                "seed": self.seed,
            }
        )
        return config
