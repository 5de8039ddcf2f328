"""Step-size guidance for the Langevin samplers: the top Hessian eigenvalue by power iteration
with Hessian-vector products, the largest stable step, a suggested step, the mini-batch gradient
noise, and the divergence check `keras_rg.callbacks.LangevinLogger` applies.

For ``L`` with top Hessian eigenvalue ``λ`` (of the mean loss the optimizer sees):

- `LangevinAnnealing` (Euler–Maruyama, ``w ← w − h·g + noise``) is stable for ``h·λ < 2``; on a
  quadratic its stationary variance is ``2/(2 − h·λ)`` times the exact ``T/(N·λ)``;
- `UnderdampedLangevin` (BAOAB) is stable for ``h·sqrt(λ) < 2`` and exact on a Gaussian.

See docs/langevin.md for the guide to choosing settings.
"""

import dataclasses
import math

import numpy as np

from keras_rg.arguments import check_choice, check_float, check_int

__all__ = [
    "StepSizeAdvice",
    "divergence_message",
    "gradient_noise_variance",
    "suggest_step_size",
    "top_hessian_eigenvalue",
]


@dataclasses.dataclass(frozen=True)
class StepSizeAdvice:
    """The top Hessian eigenvalue, the largest stable step of ``sampler`` and a suggested step
    (``safety`` × the largest), with the stationary-variance inflation of that step on a
    quadratic with the top curvature (1.0 for the underdamped sampler)."""

    sampler: str
    top_eigenvalue: float
    max_stable_step: float
    suggested_step: float
    variance_inflation: float

    def to_dict(self):
        return dataclasses.asdict(self)


def _mean_loss(model, x, y):
    y_pred = model(x, training=False)
    return model.compute_loss(x=x, y=y, y_pred=y_pred)


def top_hessian_eigenvalue(model, x, y, n_iterations=30, seed=0):
    """Largest-magnitude eigenvalue of the Hessian of the compiled mean loss at the current
    weights, by power iteration with Hessian-vector products (double backpropagation).

    Args:
        model: A compiled Keras model (the loss, with regularisation terms, is
            ``model.compute_loss``).
        x: Inputs (one batch; use the full data for a full-batch estimate).
        y: Targets.
        n_iterations: Power iterations, an integer >= 1. Defaults to `30`.
        seed: Seed of the starting vector. Defaults to `0`.

    Returns:
        The eigenvalue (Rayleigh quotient at the last iterate), a float.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    >>> model.compile(loss="mse")
    >>> x = np.array([[1.0, 0.0], [0.0, 3.0]], np.float32)  # Hessian of MSE: 2 XᵀX / n
    >>> round(top_hessian_eigenvalue(model, x, np.zeros((2, 1), np.float32)), 3)
    9.0
    """
    import tensorflow as tf

    n_iterations = check_int("n_iterations", n_iterations)
    variables = list(model.trainable_variables)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    vector = [tf.constant(rng.normal(size=v.shape), v.dtype) for v in variables]
    x = tf.convert_to_tensor(x)
    y = tf.convert_to_tensor(y)

    @tf.function
    def hvp(vec):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                loss = _mean_loss(model, x, y)
            grads = inner.gradient(loss, variables)
            dot = tf.add_n([tf.reduce_sum(g * v) for g, v in zip(grads, vec, strict=True)])
        return outer.gradient(dot, variables)

    eigenvalue = 0.0
    for _ in range(n_iterations):
        norm = math.sqrt(sum(float(tf.reduce_sum(v * v)) for v in vector))
        vector = [v / norm for v in vector]
        hv = hvp(vector)
        eigenvalue = sum(float(tf.reduce_sum(a * b)) for a, b in zip(hv, vector, strict=True))
        vector = hv
    return eigenvalue


def suggest_step_size(model, x, y, sampler="underdamped", safety=0.5, n_iterations=30):
    """The largest stable step of a sampler from the top Hessian eigenvalue, and a suggestion.

    Args:
        model: A compiled Keras model; x, y: data for the (full-batch) loss.
        sampler: `"overdamped"` (`LangevinAnnealing`, identity preconditioner) or
            `"underdamped"` (`UnderdampedLangevin` with the identity mass, i.e. its warm-up
            step). Defaults to `"underdamped"`.
        safety: Fraction of the largest stable step suggested, a float in (0, 1).
            Defaults to `0.5`.
        n_iterations: Power iterations. Defaults to `30`.

    Returns:
        A `StepSizeAdvice`.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    >>> model.compile(loss="mse")
    >>> x = np.array([[1.0, 0.0], [0.0, 3.0]], np.float32)
    >>> advice = suggest_step_size(model, x, np.zeros((2, 1)), "overdamped")
    >>> round(advice.max_stable_step, 4), round(advice.suggested_step, 4)
    (0.2222, 0.1111)
    """
    sampler = check_choice("sampler", sampler, ("overdamped", "underdamped"))
    safety = check_float("safety", safety, 0.0, 1.0, open_min=True, open_max=True)
    lam = abs(top_hessian_eigenvalue(model, x, y, n_iterations=n_iterations))
    if lam == 0.0:
        raise ValueError(
            "Received an invalid value for `model`: the loss Hessian is zero at the current "
            "weights, so no step size follows from it. Received: top eigenvalue 0"
        )
    if sampler == "overdamped":
        h_max = 2.0 / lam
        h = safety * h_max
        inflation = 2.0 / (2.0 - h * lam)
    else:
        h_max = 2.0 / math.sqrt(lam)
        h = safety * h_max
        inflation = 1.0
    return StepSizeAdvice(sampler, lam, h_max, h, inflation)


def gradient_noise_variance(model, x, y, batch_size, n_batches=20, seed=0):
    """Variance per coordinate of the mini-batch mean gradient at the current weights.

    The gradient of the compiled loss is computed on ``n_batches`` random mini-batches of
    ``batch_size`` rows (without replacement within a batch); the variance across batches,
    averaged over all coordinates, is the ``gradient_noise`` of `UnderdampedLangevin`.

    Args:
        model: A compiled Keras model; x, y: NumPy arrays of the training data.
        batch_size: Mini-batch size, an integer >= 1 and < len(x).
        n_batches: Mini-batches drawn, an integer >= 2. Defaults to `20`.
        seed: Seed of the batch draws. Defaults to `0`.

    Returns:
        A float >= 0.
    """
    import tensorflow as tf

    x, y = np.asarray(x), np.asarray(y)
    batch_size = check_int("batch_size", batch_size, maximum=len(x) - 1)
    n_batches = check_int("n_batches", n_batches, minimum=2)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    variables = list(model.trainable_variables)
    grads = []
    for _ in range(n_batches):
        rows = rng.choice(len(x), batch_size, replace=False)
        with tf.GradientTape() as tape:
            loss = _mean_loss(model, tf.constant(x[rows]), tf.constant(y[rows]))
        g = tape.gradient(loss, variables)
        grads.append(np.concatenate([np.asarray(v).reshape(-1) for v in g]))
    return float(np.mean(np.var(np.asarray(grads, np.float64), axis=0, ddof=1)))


def divergence_message(loss, weights):
    """A message when a run has diverged (non-finite loss or weights), else `None`.

    Args:
        loss: The latest loss (a float, or `None` when unknown).
        weights: A list of weight arrays.

    Example:

    >>> import numpy as np
    >>> divergence_message(float("nan"), [np.zeros(2)])[:17]
    'the run diverged:'
    """
    bad = [i for i, w in enumerate(weights) if not np.all(np.isfinite(np.asarray(w)))]
    if (loss is None or math.isfinite(float(loss))) and not bad:
        return None
    return (
        f"the run diverged: loss {loss}, {len(bad)} weight arrays non-finite. The step is "
        "above the stability limit (h·λ < 2 for LangevinAnnealing, h·sqrt(λ) < 2 for "
        "UnderdampedLangevin, λ the top Hessian eigenvalue): use "
        "keras_rg.step_size.suggest_step_size, or a smaller adapted_learning_rate."
    )
