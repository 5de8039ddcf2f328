"""Posterior predictive from collected weight samples: averaged predictions, spread, NLL, ECE.

Samples are rows of the model's trainable weights flattened in the order of
``model.trainable_variables`` (what `keras_rg.callbacks.LangevinSamples` records with
``weights=None`` and ``max_coordinates`` at least the number of parameters). The model is
evaluated for every sample by `model.stateless_call` in a compiled loop; its weights are left
untouched.

- classification: the posterior predictive probability is the average of the samples'
  probabilities (Bayesian model averaging);
- regression: the predictive mean is the average prediction and the predictive standard
  deviation combines the spread across samples with the observation noise ``noise_sd``.

`predictive_metrics` scores a prediction by negative log-likelihood and expected calibration
error (ECE: Guo et al., "On Calibration of Modern Neural Networks", ICML 2017, for classes;
Kuleshov et al., "Accurate Uncertainties for Deep Learning Using Calibrated Regression", ICML
2018, for regression quantiles), beside the same scores of a point estimate. See docs/langevin.md.
"""

import dataclasses
import math

import numpy as np

from keras_rg.arguments import check_array, check_choice, check_float, check_int, invalid_value

__all__ = ["PosteriorPredictive", "PredictiveMetrics", "posterior_predictive", "predictive_metrics"]


@dataclasses.dataclass(frozen=True)
class PosteriorPredictive:
    """A posterior predictive: ``probabilities`` (classification, shape (n, classes)) or
    ``mean`` and ``sd`` (regression, shape (n, outputs)), from ``n_samples`` weight samples."""

    task: str
    n_samples: int
    mean: np.ndarray
    sd: np.ndarray | None = None
    probabilities: np.ndarray | None = None

    def to_dict(self):
        return {
            f.name: (v.tolist() if isinstance(v, np.ndarray) else v)
            for f in dataclasses.fields(self)
            for v in [getattr(self, f.name)]
        }


@dataclasses.dataclass(frozen=True)
class PredictiveMetrics:
    """Mean negative log-likelihood and expected calibration error of a predictive, and of the
    point estimate when one was given (else `None`)."""

    nll: float
    ece: float
    point_nll: float | None = None
    point_ece: float | None = None

    def to_dict(self):
        return dataclasses.asdict(self)


def _sample_outputs(model, samples, x, chunk):
    """Model outputs for every sample row, by `model.stateless_call` in a compiled loop (the
    model's own weights are not touched)."""
    import tensorflow as tf

    variables = list(model.trainable_variables)
    sizes = [int(np.prod(v.shape)) for v in variables]
    x = tf.nest.map_structure(tf.convert_to_tensor, x)
    fixed = [v.value for v in model.non_trainable_variables]

    @tf.function
    def run(rows):
        def one(row):
            parts = tf.split(row, sizes)
            values = [
                tf.cast(tf.reshape(p, v.shape), v.dtype)
                for p, v in zip(parts, variables, strict=True)
            ]
            out, _ = model.stateless_call(values, fixed, x, training=False)
            return tf.cast(out, tf.float64)

        return tf.map_fn(one, rows, fn_output_signature=tf.float64)

    outputs = []
    for start in range(0, len(samples), chunk):
        outputs.append(run(tf.constant(samples[start : start + chunk], tf.float64)).numpy())
    return np.concatenate(outputs)


def _as_probabilities(outputs, output):
    outputs = np.asarray(outputs, np.float64)
    if outputs.ndim == 1:
        outputs = outputs[:, None]
    if outputs.shape[-1] == 1:
        p = outputs[:, 0]
        if output == "logits":
            p = 1.0 / (1.0 + np.exp(-p))
        return np.stack([1.0 - p, p], axis=-1)
    if output == "logits":
        z = outputs - outputs.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)
    return outputs


def posterior_predictive(
    model, samples, x, task="classification", output="probabilities", noise_sd=0.0, chunk=256
):
    """The posterior predictive of ``model`` at inputs ``x`` from weight ``samples``.

    Args:
        model: A built Keras model.
        samples: Array of shape ``(n_samples, n_parameters)`` (flattened trainable weights in
            the order of ``model.trainable_variables``), or an object with such a ``samples``
            array (a `LangevinSamples` callback that recorded every weight).
        x: Inputs accepted by ``model.predict``.
        task: `"classification"` or `"regression"`. Defaults to `"classification"`.
        output: What the model outputs for classification: `"probabilities"` or `"logits"`
            (one unit = binary). Defaults to `"probabilities"`.
        noise_sd: Observation noise standard deviation added in quadrature to the regression
            spread, a float >= 0. Defaults to `0.0`.
        chunk: Samples evaluated together (all of ``x`` at once for each), an integer >= 1.
            Defaults to `256`.

    Returns:
        A `PosteriorPredictive`.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    >>> draws = np.array([[1.0], [3.0]])  # two samples of the single weight
    >>> pred = posterior_predictive(model, draws, np.ones((1, 1)), task="regression")
    >>> float(pred.mean[0, 0]), float(pred.sd[0, 0])
    (2.0, 1.0)
    """
    task = check_choice("task", task, ("classification", "regression"))
    output = check_choice("output", output, ("probabilities", "logits"))
    noise_sd = check_float("noise_sd", noise_sd, 0.0)
    chunk = check_int("chunk", chunk)
    samples = check_array("samples", getattr(samples, "samples", samples), min_ndim=2, max_ndim=2)
    total = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    if samples.shape[1] != total:
        raise invalid_value(
            "samples",
            f"rows of all {total} trainable parameters of the model (record them with "
            f"LangevinSamples(weights=None, max_coordinates>={total}))",
            f"array of shape {samples.shape}",
        )
    outputs = _sample_outputs(model, samples, x, chunk)
    n = samples.shape[0]
    if task == "classification":
        probs = np.mean([_as_probabilities(o, output) for o in outputs], axis=0)
        return PosteriorPredictive(task, n, mean=probs, probabilities=probs)
    stacked = outputs.reshape(n, outputs.shape[1], -1)
    mean = stacked.mean(axis=0)
    sd = np.sqrt(stacked.var(axis=0) + noise_sd**2)
    return PosteriorPredictive(task, n, mean=mean, sd=sd)


def _classification_scores(probs, labels, n_bins):
    labels = labels.astype(int).reshape(-1)
    if labels.min() < 0 or labels.max() >= probs.shape[1]:
        raise invalid_value("labels", f"class indices in [0, {probs.shape[1]})", labels)
    p_true = np.clip(probs[np.arange(len(labels)), labels], 1e-300, 1.0)
    nll = float(-np.mean(np.log(p_true)))
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(float)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return nll, float(ece)


def _regression_scores(mean, sd, labels, n_bins):
    from scipy.stats import norm

    labels = labels.reshape(mean.shape)
    if np.any(sd <= 0):
        raise invalid_value("prediction", "standard deviations > 0 (set noise_sd)", "sd <= 0")
    z = (labels - mean) / sd
    nll = float(np.mean(0.5 * z**2 + np.log(sd) + 0.5 * math.log(2 * math.pi)))
    levels = (np.arange(n_bins) + 0.5) / n_bins
    cdf = norm.cdf(z).reshape(-1)
    ece = float(np.mean([abs(np.mean(cdf <= p) - p) for p in levels]))
    return nll, ece


def predictive_metrics(prediction, labels, point=None, n_bins=10):
    """NLL and expected calibration error of ``prediction`` (and of ``point``) on ``labels``.

    Classification: NLL = −mean log p(label); ECE = Σ_bins (n_b/n)·|accuracy_b − confidence_b|
    over ``n_bins`` equal-width bins of the top-class confidence. Regression (Gaussian
    predictive): NLL of N(mean, sd²); ECE = mean over the levels p = (k + ½)/n_bins of
    |fraction of labels below the predicted p-quantile − p|.

    Args:
        prediction: A `PosteriorPredictive`.
        labels: Class indices (classification) or targets (regression).
        point: Optional `PosteriorPredictive` of a point estimate (e.g. from one sample, the MAP).
        n_bins: Number of bins / quantile levels, an integer >= 1. Defaults to `10`.

    Returns:
        A `PredictiveMetrics`.

    Example:

    >>> import numpy as np
    >>> probs = np.tile([0.2, 0.8], (10, 1))  # confidence 0.8, and 8 of 10 labels are class 1
    >>> pred = PosteriorPredictive("classification", 1, mean=probs, probabilities=probs)
    >>> round(predictive_metrics(pred, np.array([1] * 8 + [0] * 2)).ece, 12)
    0.0
    """
    n_bins = check_int("n_bins", n_bins)
    labels = check_array("labels", labels)

    def score(pred):
        if pred.task == "classification":
            return _classification_scores(pred.probabilities, labels, n_bins)
        return _regression_scores(pred.mean, pred.sd, labels, n_bins)

    nll, ece = score(prediction)
    point_nll, point_ece = score(point) if point is not None else (None, None)
    return PredictiveMetrics(nll, ece, point_nll, point_ece)
