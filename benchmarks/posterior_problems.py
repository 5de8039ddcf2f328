"""Posterior problems and the two samplers compared in benchmarks/bench_posterior.py.

Each problem is a Bayesian model with a differentiable mean loss ``L(w) = mean NLL + prior / N``
(so the posterior is ``∝ exp(−N·L)``). `run_keras_sampler` runs a keras_rg optimizer on one flat
weight variable in a compiled loop (one `optimizer.apply` per step, as `fit` does, without the
Python callback overhead), `run_nuts` runs TFP's NUTS with dual-averaging step adaptation on the
same log density. Both are timed from the call to the last draw, tracing and XLA compilation
included.
"""

import time

import keras
import numpy as np
import tensorflow as tf

from keras_rg.diagnostics import effective_sample_size


def breast_cancer():
    """569 × 30 standardised features plus an intercept column; logistic likelihood."""
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    x = (x - x.mean(0)) / x.std(0)
    return np.hstack([x, np.ones((len(x), 1))]), y.astype(np.float64)


def logistic_loss_fn(x, y, prior_sd=1.0):
    """``w ↦ mean logistic NLL + |w|²/(2·prior_sd²·N)`` on the full data (float32)."""
    xt = tf.constant(x, tf.float32)
    yt = tf.constant(y, tf.float32)
    n = float(len(y))

    def loss(w):
        logits = tf.linalg.matvec(xt, w)
        nll = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=yt, logits=logits))
        return nll + tf.reduce_sum(w * w) / (2.0 * prior_sd**2 * n)

    return loss


def logistic_log_prob(x, y, prior_sd=1.0):
    """Unnormalised log posterior in float64, for NUTS."""
    xt = tf.constant(x, tf.float64)
    yt = tf.constant(y, tf.float64)

    def log_prob(w):
        logits = tf.linalg.matvec(xt, w)
        ll = -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=yt, logits=logits))
        return ll - tf.reduce_sum(w * w) / (2.0 * prior_sd**2)

    return log_prob


def run_keras_sampler(optimizer, grad_fn, w0, n_steps, thin, burn_in, chunk=200):
    """Runs ``optimizer`` for ``burn_in + n_steps`` steps; returns (draws, seconds, gradients).

    ``grad_fn(w, step)`` returns the (mini-batch) mean-loss gradient at ``w``; draws are kept
    every ``thin`` steps after burn-in.
    """
    w = keras.Variable(np.asarray(w0, np.float32), name="w")
    optimizer.build([w])
    counter = tf.Variable(0, dtype=tf.int64)

    @tf.function(jit_compile=True)
    def advance(k):
        for _ in tf.range(k):
            optimizer.apply([grad_fn(w.value, counter.read_value())], [w])
            counter.assign_add(1)
        return w.value

    @tf.function(jit_compile=True)
    def sample(k):
        out = tf.TensorArray(tf.float32, size=k)
        for i in tf.range(k):
            for _ in tf.range(thin):
                optimizer.apply([grad_fn(w.value, counter.read_value())], [w])
                counter.assign_add(1)
            out = out.write(i, w.value)
        return out.stack()

    start = time.perf_counter()
    if burn_in:
        advance(tf.constant(burn_in))
    run_keras_sampler.last_burn_in_seconds = time.perf_counter() - start
    draws, left = [], n_steps // thin
    while left:
        k = min(chunk, left)
        draws.append(sample(tf.constant(k)).numpy())
        left -= k
    seconds = time.perf_counter() - start
    return np.concatenate(draws).astype(np.float64), seconds, burn_in + n_steps


def run_nuts(log_prob, dim, n_draws, n_warmup, seed=0, max_tree_depth=10, start=None):
    """TFP NUTS (float64, unit mass, dual averaging to 0.8 acceptance); returns draws, seconds,
    and the number of gradient evaluations (leapfrog steps)."""
    import tensorflow_probability as tfp

    kernel = tfp.mcmc.NoUTurnSampler(
        log_prob, step_size=tf.constant(0.1, tf.float64), max_tree_depth=max_tree_depth
    )
    initial = tf.zeros(dim, tf.float64) if start is None else tf.constant(start, tf.float64)
    kernel = tfp.mcmc.DualAveragingStepSizeAdaptation(
        kernel, num_adaptation_steps=int(0.8 * n_warmup), target_accept_prob=0.8
    )

    @tf.function(jit_compile=True)
    def chain():
        return tfp.mcmc.sample_chain(
            n_draws,
            current_state=initial,
            kernel=kernel,
            num_burnin_steps=n_warmup,
            trace_fn=lambda _, r: r.inner_results.leapfrogs_taken,
            seed=tf.constant([seed, 1], tf.int32),
        )

    start = time.perf_counter()
    draws, leapfrogs = chain()
    draws = draws.numpy()
    seconds = time.perf_counter() - start
    # Leapfrogs of the kept draws; the warm-up's are estimated at the same rate per draw.
    grads = int(np.sum(leapfrogs.numpy()) * (n_draws + n_warmup) / n_draws)
    return draws, seconds, grads


def summarize(draws, seconds, grads, reference=None):
    """Means, sds, min ESS, ESS/s, ESS per 1000 gradients; against ``reference`` (NUTS draws):
    largest |mean difference| in reference sds and the range of sd ratios."""
    ess = effective_sample_size(draws)
    row = {
        "draws": int(draws.shape[0]),
        "seconds": round(seconds, 2),
        "gradients": int(grads),
        "ess_min": round(float(np.min(ess)), 1),
        "ess_median": round(float(np.median(ess)), 1),
        "ess_per_second": round(float(np.min(ess)) / seconds, 2),
        "ess_per_1000_gradients": round(1000 * float(np.min(ess)) / grads, 3),
    }
    if reference is not None:
        ref_sd = reference.std(0)
        row["max_mean_error_in_sd"] = round(
            float(np.max(np.abs(draws.mean(0) - reference.mean(0)) / ref_sd)), 3
        )
        ratio = draws.std(0) / ref_sd
        row["sd_ratio_min"] = round(float(ratio.min()), 3)
        row["sd_ratio_max"] = round(float(ratio.max()), 3)
        # The same figures for the reference against itself, split in halves: the Monte Carlo
        # noise floor of the comparison.
    return row


def mixture_gradient(heavy_weight, separation=4.0):
    """Gradient of −log p for p = (1 − a)·N((−s, 0), I) + a·N((s, 0), I), per row of x."""
    mu = tf.constant([[-separation, 0.0], [separation, 0.0]], tf.float32)
    log_w = tf.math.log(tf.constant([1.0 - heavy_weight, heavy_weight], tf.float32))

    def grad(x):
        d = x[:, None, :] - mu[None]
        r = tf.nn.softmax(log_w[None] - 0.5 * tf.reduce_sum(d * d, -1), axis=1)
        return tf.reduce_sum(r[..., None] * d, 1)

    return grad


def mixture_fractions(optimizer, heavy_weight, n_chains, cycle_length, n_cycles, seed=0):
    """Fraction of chains in the heavy mode (x > 0) at the end of each cycle; all chains start
    at the light mode's centre."""
    grad = mixture_gradient(heavy_weight)
    x = keras.Variable(np.tile([[-4.0, 0.0]], (n_chains, 1)).astype(np.float32))
    optimizer.build([x])

    @tf.function(jit_compile=True)
    def run(k):
        for _ in tf.range(k):
            optimizer.apply([grad(x.value)], [x])
        return x.value

    return [
        float(np.mean(run(tf.constant(cycle_length)).numpy()[:, 0] > 0)) for _ in range(n_cycles)
    ]


def synthetic_logistic(n, d, seed=0):
    """x ~ N(0, I_d), w* ~ N(0, I_d)/2, y ~ Bernoulli(sigmoid(x·w*)), float32."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    w = rng.normal(size=d) / 2
    y = (rng.random(n) < 1 / (1 + np.exp(-(x @ w)))).astype(np.float32)
    return x, y


def laplace_reference(x, y, prior_sd=1.0, iterations=12):
    """MAP by Newton's method (float64) and the Laplace posterior sd: for N = 10^6 the posterior
    mean differs from the MAP by O(1/N) relative to the sd."""
    w = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(x @ w)))
        g = x.T @ (p - y) + w / prior_sd**2
        hess = (x.T * (p * (1 - p))) @ x + np.eye(len(w)) / prior_sd**2
        w = w - np.linalg.solve(hess, g)
    return w, np.sqrt(np.diag(np.linalg.inv(hess)))


def minibatch_gradient(x, y, batch_size, prior_sd=1.0):
    """``grad(w, step)``: gradient of the mean loss on a mini-batch drawn (with replacement)
    from the step number by a stateless generator."""
    xt, yt = tf.constant(x), tf.constant(y)
    n = len(y)

    def grad(w, step):
        seed = tf.stack([tf.cast(step, tf.int32), tf.constant(7)])
        rows = tf.random.stateless_uniform([batch_size], seed, maxval=n, dtype=tf.int32)
        xb, yb = tf.gather(xt, rows), tf.gather(yt, rows)
        p = tf.sigmoid(tf.linalg.matvec(xb, w))
        return tf.linalg.matvec(xb, p - yb, transpose_a=True) / batch_size + w / (prior_sd**2 * n)

    return grad


def full_gradient_seconds(x, y, repeats=20):
    """Seconds per full-data gradient of the log posterior (float64, XLA), NUTS's unit of cost."""
    log_prob = logistic_log_prob(x.astype(np.float64), y.astype(np.float64))

    @tf.function(jit_compile=True)
    def grad(w):
        with tf.GradientTape() as tape:
            tape.watch(w)
            value = log_prob(w)
        return tape.gradient(value, w)

    w = tf.zeros(x.shape[1], tf.float64)
    grad(w).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        grad(w).numpy()
    return (time.perf_counter() - start) / repeats


def diabetes_split(seed=0):
    """scikit-learn's diabetes data (442 × 10), standardised x and y, a 70/30 split."""
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    x = (x - x.mean(0)) / x.std(0)
    y = (y - y.mean()) / y.std()
    order = np.random.default_rng(seed).permutation(len(y))
    cut = int(0.7 * len(y))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def mlp_shapes(d, hidden):
    """Flat-parameter layout of Dense(hidden, tanh) → Dense(1): the order of a Keras model's
    ``trainable_variables`` (kernel, bias, kernel, bias)."""
    return [(d, hidden), (hidden,), (hidden, 1), (1,)]


def mlp_forward(w, x, shapes):
    sizes = [int(np.prod(s)) for s in shapes]
    k1, b1, k2, b2 = [tf.reshape(p, s) for p, s in zip(tf.split(w, sizes), shapes, strict=True)]
    return tf.matmul(tf.tanh(tf.matmul(x, k1) + b1), k2)[:, 0] + b2[0]


def mlp_loss_fn(x, y, shapes, noise_sd, prior_sd=1.0, dtype=tf.float32):
    """Mean Gaussian NLL (known noise sd) + |w|²/(2·prior_sd²·N); and the float64 log density."""
    xt, yt, n = tf.constant(x, dtype), tf.constant(y, dtype), float(len(y))

    def loss(w):
        r = yt - mlp_forward(w, xt, shapes)
        return tf.reduce_mean(r * r) / (2 * noise_sd**2) + tf.reduce_sum(w * w) / (
            2 * prior_sd**2 * n
        )

    return loss
