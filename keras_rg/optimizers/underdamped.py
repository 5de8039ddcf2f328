"""UnderdampedLangevin: stochastic-gradient HMC with friction, a gradient-noise correction and a
mass matrix (diagonal or dense) adapted from the chain's own covariance during burn-in."""

import keras
from keras import ops

from keras_rg.arguments import check_choice, check_float, check_int
from keras_rg.optimizers.noise import (
    TemperatureMixin,
    check_data_size,
    check_learning_rate,
    check_seed,
    cond_update,
    densify,
    make_seed_variable,
    resolve_temperature,
    serialize_temperature,
    stateless_normal,
    step_dtype,
)

__all__ = ["UnderdampedLangevin"]

_MASSES = ("identity", "diagonal", "dense")


@keras.saving.register_keras_serializable(package="keras_rg")
class UnderdampedLangevin(TemperatureMixin, keras.optimizers.Optimizer):
    """Underdamped Langevin dynamics (stochastic-gradient HMC) for posterior sampling in `fit`.

    The dynamics are those of stochastic-gradient HMC (Chen, Fox & Guestrin, "Stochastic
    Gradient Hamiltonian Monte Carlo", ICML 2014): position ``W``, velocity ``u``, friction
    ``γ``, inverse mass ``Σ``, target ``∝ exp(−N·L/T)`` (the Bayesian posterior at ``T = 1`` when
    ``L`` is the mean negative log-likelihood plus prior / N). Each step integrates them over a
    time ``h`` with the BAOAB splitting of Leimkuhler & Matthews, one gradient ``g`` per step
    (the closing half-kick of a step and the opening one of the next share the gradient):

        u ← u − h·Σ·g                                   (B, two half-kicks)
        W ← W + (h/2)·u                                 (A)
        u ← c·u + N(0, (1 − c²)·(T/N)·Σ − c²·h²·V̂·Σ²),  c = exp(−γ·h)   (O)
        W ← W + (h/2)·u                                 (A)

    ``V̂`` (``gradient_noise``) is the variance per coordinate of the mini-batch gradient: its
    contribution ``h²·Σ·V̂·Σ`` to the velocity is subtracted from the injected noise (clipped
    at zero), the gradient-noise correction of Chen et al. For a Gaussian target the stationary
    distribution of ``W`` is exact for every stable step (``h·sqrt(λ) < 2`` for each eigenvalue
    ``λ`` of ``Σ·∇²L``); otherwise the error is ``O(h²)``. At ``T = 0`` and ``γ = 0`` it is
    deterministic Hamiltonian (leapfrog) dynamics.

    With ``mass="diagonal"`` or ``"dense"`` the inverse mass is adapted during burn-in and then
    frozen, so the chain afterwards is a time-homogeneous sampler of the right distribution:
    the steps ``[burn_in/4, burn_in/2)`` and ``[burn_in/2, burn_in)`` are two windows whose
    sample covariance ``C`` of each variable (shrunk as ``n/(n+5)·C + 5/(n+5)·10⁻³·tr(C)/d``)
    sets ``Σ = C·N/T`` at the window's end, so that ``Σ·∇²L ≈ I`` (the posterior is whitened);
    from the first window's end the step is ``adapted_learning_rate`` in these whitened units
    (stable below 2). ``"dense"`` keeps the full covariance of each variable with at most
    ``max_dense_size`` elements (larger ones get the diagonal); it undoes correlated (collinear)
    posteriors that a diagonal preconditioner cannot. Covariance between different variables is
    not modelled (one block per variable). The velocity is zeroed at each adaptation.

    The noise is float32 stateless normals keyed on (seed, iteration, variable) (Philox on
    TensorFlow, threefry on JAX): runs resume bit for bit from `model.save`/checkpoints, mirrored
    and `DataParallel` copies draw the same noise, XLA compiles it.

    Args:
        learning_rate: Time step ``h`` (with the identity mass, and before the first
            adaptation): a float >= 0 or a `LearningRateSchedule` (e.g.
            `keras_rg.schedules.CyclicalTemperature` for the cyclical step sizes of Zhang et al.,
            ICLR 2020). The position moves by ``≈ h²·g`` per step, like SGD with learning rate
            ``h²``. Defaults to `0.01`.
        friction: ``γ`` >= 0 per unit time; ``c = exp(−γ·h)``. Defaults to `1.0`.
        temperature: ``T_t``, a float >= 0 or a schedule. Defaults to `1.0`.
        data_size: ``N``, a number > 0 (scalar tensors accepted). Defaults to `1`.
        mass: `"identity"`, `"diagonal"` or `"dense"`. Defaults to `"identity"`.
        adapted_learning_rate: Step after the first adaptation (whitened units), a float > 0 or a
            schedule. Defaults to `0.7`.
        burn_in: Steps of warm-up and mass adaptation, an integer >= 0 (>= 8 unless
            `mass="identity"`). Defaults to `0`.
        gradient_noise: ``V̂``, the variance per coordinate of the mini-batch mean gradient
            (see `keras_rg.step_size.gradient_noise_variance`), a float >= 0. Defaults to `0.0`.
        max_dense_size: Largest variable (elements) given a dense mass. Defaults to `2048`.
        seed: Integer seed in [0, 2**63) of the noise, or `None`. Defaults to `None`.
        **kwargs: The usual Keras optimizer arguments (`weight_decay`, `clipnorm`, ...).

    Example:

    >>> import keras
    >>> from keras_rg.optimizers import UnderdampedLangevin
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=UnderdampedLangevin(0.05, data_size=100, mass="dense",
    ...     burn_in=400, seed=0), loss="mse")

    References:
        T. Chen, E. Fox, C. Guestrin, "Stochastic Gradient Hamiltonian Monte Carlo", ICML 2014.
        B. Leimkuhler, C. Matthews, "Rational construction of stochastic numerical methods for
        molecular sampling", Appl. Math. Res. Express 2013. R. Zhang, C. Li, J. Zhang, C. Chen,
        A. G. Wilson, "Cyclical Stochastic Gradient MCMC for Bayesian Deep Learning", ICLR 2020.
        B. Carpenter et al., "Stan: A probabilistic programming language", J. Stat. Softw. 76
        (2017), for windowed covariance adaptation. docs/langevin.md for choosing the settings.
    """

    serialized_keys = ("temperature", "adapted_learning_rate")

    def __init__(
        self,
        learning_rate=0.01,
        friction=1.0,
        temperature=1.0,
        data_size=1,
        mass="identity",
        adapted_learning_rate=0.7,
        burn_in=0,
        gradient_noise=0.0,
        max_dense_size=2048,
        seed=None,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=check_learning_rate(learning_rate), name=name, **kwargs)
        self.friction = check_float("friction", friction, 0.0)
        self.temperature, self._temperature_schedule = resolve_temperature(temperature, 1.0)
        self.data_size = check_data_size(data_size)
        self.mass = check_choice("mass", mass, _MASSES)
        if callable(adapted_learning_rate) and not hasattr(adapted_learning_rate, "dtype"):
            self.adapted_learning_rate = adapted_learning_rate
        else:
            self.adapted_learning_rate = check_float(
                "adapted_learning_rate", adapted_learning_rate, 0.0, open_min=True
            )
        self.burn_in = check_int("burn_in", burn_in, minimum=0 if mass == "identity" else 8)
        self.gradient_noise = check_float("gradient_noise", gradient_noise, 0.0)
        self.max_dense_size = check_int("max_dense_size", max_dense_size)
        self.seed = check_seed(seed)
        self._seed_variable = make_seed_variable(self, self.seed)

    def _is_dense(self, variable):
        size = 1
        for d in variable.shape:
            size *= int(d)
        return self.mass == "dense" and size <= self.max_dense_size

    def build(self, variables):
        """Creates the velocities and, with an adapted mass, the covariance accumulators."""
        if self.built:
            return
        super().build(variables)
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        self._scales, self._sums, self._squares, self._vectors = [], [], [], []
        self._dense_slot = {}
        if self.mass == "identity":
            return
        for variable in variables:
            n = 1
            for d in variable.shape:
                n *= int(d)
            base = variable.path.replace("/", "_")
            self._scales.append(self.add_variable((n,), "ones", "float32", name=f"{base}_scale"))
            self._sums.append(self.add_variable((n,), "zeros", "float32", name=f"{base}_sum"))
            if self._is_dense(variable):
                self._dense_slot[self._get_variable_index(variable)] = len(self._vectors)
                self._squares.append(
                    self.add_variable((n, n), "zeros", "float32", name=f"{base}_square")
                )
                self._vectors.append(
                    self.add_variable((n, n), "identity", "float32", name=f"{base}_vectors")
                )
            else:
                self._squares.append(
                    self.add_variable((n,), "zeros", "float32", name=f"{base}_square")
                )

    def _step_size(self, learning_rate, step):
        if self.mass == "identity":
            return ops.cast(learning_rate, "float32")
        adapted = self.adapted_learning_rate
        adapted = adapted(step) if callable(adapted) else adapted
        first_adaptation = self.burn_in // 2
        return ops.where(
            ops.less(step, first_adaptation),
            ops.cast(learning_rate, "float32"),
            ops.cast(adapted, "float32"),
        )

    def update_step(self, gradient, variable, learning_rate):
        """One BAOAB step for one variable (computed in float32)."""
        gradient = densify(gradient)
        index = self._get_variable_index(variable)
        step = self._iterations
        g = ops.reshape(ops.cast(gradient, "float32"), (-1,))
        h = self._step_size(learning_rate, step)
        kt = ops.cast(self._temperature_schedule(step), "float32") / float(self.data_size)
        c = ops.exp(-self.friction * h)
        xi = stateless_normal(self._seed_variable, g.shape, step, index)
        dense = index in self._dense_slot
        s = 1.0 if self.mass == "identity" else ops.convert_to_tensor(self._scales[index])
        injected = (1.0 - c * c) * kt * s - c * c * h * h * self.gradient_noise * s * s
        std = ops.sqrt(ops.maximum(injected, 0.0))
        if dense:
            q = ops.convert_to_tensor(self._vectors[self._dense_slot[index]])
            kick = ops.matmul(q, s * ops.matmul(ops.transpose(q), g[:, None])[:, 0])
            noise = ops.matmul(q, (std * xi)[:, None])[:, 0]
        else:
            kick = s * g
            noise = std * xi
        v = self._velocities[index]
        u = ops.reshape(ops.cast(v, "float32"), (-1,)) - h * kick
        w = ops.reshape(ops.cast(variable, "float32"), (-1,)) + 0.5 * h * u
        u = c * u + noise
        w = w + 0.5 * h * u
        self.assign(variable, ops.cast(ops.reshape(w, variable.shape), variable.dtype))
        if self.mass != "identity":
            # After burn-in the mass is frozen: the accumulation is skipped altogether.
            u = cond_update(
                ops.less(step, self.burn_in),
                lambda: self._adapt(index, dense, step, w, u, kt),
                lambda: self._adaptation_state(index, dense, u),
                lambda values: self._assign_adaptation(index, dense, values),
            )
        self.assign(v, ops.cast(ops.reshape(u, v.shape), v.dtype))

    def _adaptation_state(self, index, dense, v):
        """(velocity, scales, eigenvectors, window sums, window squares) as they are."""
        vectors = self._vectors[self._dense_slot[index]] if dense else ops.zeros((1, 1))
        state = (self._scales[index], vectors, self._sums[index], self._squares[index])
        return (v,) + tuple(ops.convert_to_tensor(x) for x in state)

    def _assign_adaptation(self, index, dense, values):
        _, scales, vectors, sums, squares = values
        self.assign(self._scales[index], scales)
        if dense:
            self.assign(self._vectors[self._dense_slot[index]], vectors)
        self.assign(self._sums[index], sums)
        self.assign(self._squares[index], squares)

    def _adapt(self, index, dense, step, w, v, kt):
        """Accumulates the window's covariance; at a window's end sets Σ = C·N/T, zeroes v.
        Returns the new (velocity, scales, eigenvectors, window sums, window squares)."""
        quarter, half, end = self.burn_in // 4, self.burn_in // 2, self.burn_in
        step = ops.cast(step, step_dtype())
        in_window = ops.logical_and(ops.greater_equal(step, quarter), ops.less(step, end))
        window_end = ops.logical_or(ops.equal(step, half - 1), ops.equal(step, end - 1))
        start = ops.where(ops.less(step, half), quarter, half)
        count = ops.cast(step - ops.cast(start, step_dtype()) + 1, "float32")
        weight = ops.cast(in_window, "float32")
        sums = self._sums[index] + weight * w
        outer = w[:, None] * w[None, :] if dense else w * w
        squares = self._squares[index] + weight * outer
        n = int(w.shape[0])
        data_over_t = 1.0 / ops.maximum(kt, 1e-30)
        vectors = self._vectors[self._dense_slot[index]] if dense else None

        def adapted():
            mean = sums / count
            if dense:
                cov = squares / count - mean[:, None] * mean[None, :]
                cov = 0.5 * (cov + ops.transpose(cov))
                floor = 1e-3 * ops.mean(ops.diagonal(cov))
                cov = count / (count + 5.0) * cov + 5.0 / (count + 5.0) * floor * ops.eye(n)
                values, vecs = ops.eigh(cov)
                values = ops.maximum(values, floor * 1e-3)
                return values * data_over_t, vecs
            var = ops.maximum(squares / count - mean * mean, 0.0)
            floor = 1e-3 * ops.mean(var)
            var = count / (count + 5.0) * var + 5.0 / (count + 5.0) * floor
            return ops.maximum(var, floor * 1e-3) * data_over_t, ops.zeros((1, 1))

        def kept():
            return ops.convert_to_tensor(self._scales[index]), (
                ops.convert_to_tensor(vectors) if dense else ops.zeros((1, 1))
            )

        scales, vecs = ops.cond(window_end, adapted, kept)
        reset = ops.cast(window_end, "float32")
        return (1.0 - reset) * v, scales, vecs, (1.0 - reset) * sums, (1.0 - reset) * squares

    def get_config(self):
        config = super().get_config()
        adapted = self.adapted_learning_rate
        if not isinstance(adapted, float):
            adapted = keras.saving.serialize_keras_object(adapted)
        config.update(
            {
                "friction": self.friction,
                "temperature": serialize_temperature(self.temperature),
                "data_size": self.data_size,
                "mass": self.mass,
                "adapted_learning_rate": adapted,
                "burn_in": self.burn_in,
                "gradient_noise": self.gradient_noise,
                "max_dense_size": self.max_dense_size,
                "seed": self.seed,
            }
        )
        return config
