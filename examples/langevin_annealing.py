"""Langevin annealing in `model.fit`: sample a Bayesian posterior at T = 1, then anneal to the MAP.

Part 1 samples the posterior of a Bayesian linear regression with `LangevinAnnealing` at a
constant temperature T = 1 (``data_size`` = number of examples, so the iterates sample
``∝ exp(-N · L)``), keeps thinned samples with `LangevinSamples`, and compares their mean and
standard deviation with the closed-form Gaussian posterior; TFP's effective sample size and
R-hat across two seeds are printed. Part 2 trains a small MLP with logarithmic cooling
``T_t = c / log(t + 2)`` (Gong & Xia, eq. 6 and Lemma 2.1; docs/langevin.md); the temperature and step
size appear in the training logs every epoch.

Run:  python examples/langevin_annealing.py [--quick]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_rg.callbacks.langevin_logger import LangevinLogger  # noqa: E402
from keras_rg.callbacks.langevin_samples import LangevinSamples  # noqa: E402
from keras_rg.diagnostics import potential_scale_reduction  # noqa: E402
from keras_rg.optimizers import LangevinAnnealing  # noqa: E402
from keras_rg.schedules import LogarithmicCooling  # noqa: E402


@keras.saving.register_keras_serializable(package="keras_rg_examples")
class GaussianLoss(keras.losses.Loss):
    """Mean negative log-likelihood ``(y - f)² / (2 σ²)`` per example."""

    def __init__(self, noise_std=0.5, **kwargs):
        super().__init__(**kwargs)
        self.noise_std = noise_std

    def call(self, y_true, y_pred):
        return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1) / (2 * self.noise_std**2)

    def get_config(self):
        return {**super().get_config(), "noise_std": self.noise_std}


def bayesian_linear_regression(epochs, seeds=(1, 2)):
    rng = np.random.default_rng(0)
    n, d, noise_std, prior_std = 256, 3, 0.5, 1.0
    x = rng.normal(size=(n, d)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + noise_std * rng.normal(size=n)).astype("float32")
    # Closed form: precision = XᵀX/σ² + I/τ², mean = precision⁻¹ Xᵀy/σ².
    precision = x.T @ x / noise_std**2 + np.eye(d) / prior_std**2
    covariance = np.linalg.inv(precision)
    mean = covariance @ x.T @ y / noise_std**2

    runs = []
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model = keras.Sequential(
            [
                keras.Input((d,)),
                keras.layers.Dense(
                    1,
                    use_bias=False,
                    # The Gaussian prior w ~ N(0, τ²) enters the mean loss as |w|²/(2τ² N).
                    kernel_regularizer=keras.regularizers.L2(1 / (2 * prior_std**2 * n)),
                ),
            ]
        )
        model.compile(
            optimizer=LangevinAnnealing(0.01, temperature=1.0, data_size=n, seed=seed),
            loss=GaussianLoss(noise_std),
        )
        samples = LangevinSamples(burn_in=200, thin=2, max_samples=1000)
        # Full-batch steps: the data tiled 100 times gives 100 steps per epoch.
        tiled_x, tiled_y = np.tile(x, (100, 1)), np.tile(y[:, None], (100, 1))
        model.fit(tiled_x, tiled_y, batch_size=n, epochs=epochs, callbacks=[samples], verbose=0)
        runs.append(samples)

    pooled = np.concatenate([r.samples for r in runs])
    print(f"Bayesian linear regression, {len(pooled)} samples from {len(seeds)} chains")
    print("  posterior mean  exact", np.round(mean, 4), " sampled", np.round(pooled.mean(0), 4))
    print(
        "  posterior std   exact",
        np.round(np.sqrt(np.diag(covariance)), 4),
        " sampled",
        np.round(pooled.std(0), 4),
    )
    print("  ESS per chain (TFP)  ", np.round(runs[0].effective_sample_size(), 1))
    print("  R-hat across seeds   ", np.round(potential_scale_reduction(runs), 4))


def annealed_mlp(epochs):
    rng = np.random.default_rng(1)
    x = rng.uniform(-3, 3, size=(512, 1)).astype("float32")
    y = (np.sin(2 * x) + 0.1 * rng.normal(size=x.shape)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(32, activation="tanh"), keras.layers.Dense(1)]
    )
    model.compile(
        optimizer=LangevinAnnealing(
            learning_rate=0.02,
            temperature=LogarithmicCooling(c=1.0, t0=2.0),
            data_size=len(x),
            preconditioner="rmsprop",
            seed=0,
        ),
        loss="mse",
    )
    print("Annealed MLP on a noisy sine (temperature and step_size logged each epoch):")
    history = model.fit(x, y, batch_size=64, epochs=epochs, callbacks=[LangevinLogger()], verbose=2)
    print("  temperature per epoch", np.round(history.history["temperature"], 4))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds")
    args = parser.parse_args()
    bayesian_linear_regression(epochs=5 if args.quick else 60)
    annealed_mlp(epochs=3 if args.quick else 30)


if __name__ == "__main__":
    main()
