"""MCMC diagnostics of collected samples: effective sample size and R-hat, by TFP.

Thin wrappers over `tfp.mcmc.effective_sample_size` and `tfp.mcmc.potential_scale_reduction`
that check their input, plus `sampling_warnings`, the rule `keras_rg.callbacks.LangevinSamples`
applies at the end of training (tiny ESS, split R-hat > 1.1). See docs/langevin.md.
"""

import numpy as np

from keras_rg.arguments import check_array, check_float, invalid_value

__all__ = [
    "effective_sample_size",
    "potential_scale_reduction",
    "sampling_warnings",
    "split_potential_scale_reduction",
]


def effective_sample_size(samples):
    """Effective sample size of each coordinate of one chain, by `tfp.mcmc.effective_sample_size`.

    Geyer's initial-positive-sequence truncation (``filter_beyond_positive_pairs=True``) is used.

    Args:
        samples: Array of shape ``(n_samples >= 4, n_coordinates)`` (or ``(n_samples,)``).

    Returns:
        A float64 NumPy array of shape ``(n_coordinates,)`` (or a scalar).

    Example:

    >>> import numpy as np
    >>> ess = effective_sample_size(np.random.default_rng(0).normal(size=(400, 3)))
    >>> ess.shape
    (3,)
    """
    import tensorflow_probability as tfp

    samples = check_array("samples", samples, min_ndim=1, max_ndim=2, min_rows=4)
    ess = tfp.mcmc.effective_sample_size(samples, filter_beyond_positive_pairs=True)
    return np.asarray(ess, dtype=np.float64)


def _chain_array(chain):
    return np.asarray(getattr(chain, "samples", chain))


def potential_scale_reduction(chains):
    """Gelman–Rubin R-hat of each coordinate across chains, by `tfp.mcmc.potential_scale_reduction`.

    Chains are runs with different seeds (arrays, or objects with a ``samples`` array such as
    `LangevinSamples` callbacks); they are cut to the shortest length. Values near 1 mean the
    chains sample the same distribution.

    Args:
        chains: A list of at least two arrays of shape ``(n_samples, n_coordinates)``.

    Returns:
        A float64 NumPy array of shape ``(n_coordinates,)``.

    Example:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> rhat = potential_scale_reduction([rng.normal(size=(200, 2)) for _ in range(4)])
    >>> bool(np.all(np.abs(rhat - 1) < 0.05))
    True
    """
    import tensorflow_probability as tfp

    arrays = [_chain_array(c) for c in chains]
    if len(arrays) < 2 or any(a.ndim != 2 for a in arrays):
        raise invalid_value(
            "chains",
            "a list of at least two arrays of shape (n_samples, n_coordinates) or "
            "LangevinSamples callbacks",
            [a.shape for a in arrays],
        )
    n = min(a.shape[0] for a in arrays)
    if n < 2 or len({a.shape[1] for a in arrays}) != 1:
        raise invalid_value(
            "chains",
            ">= 2 samples per chain and the same number of coordinates",
            [a.shape for a in arrays],
        )
    states = np.stack([a[:n] for a in arrays], axis=1).astype(np.float64)
    return np.asarray(tfp.mcmc.potential_scale_reduction(states, independent_chain_ndims=1))


def split_potential_scale_reduction(samples):
    """R-hat of one chain split into halves (``split_chains=True`` in TFP): drift within a run.

    TFP returns the variance ratio of Gelman & Rubin (1992); this is its square root, the scale
    on which the usual threshold 1.1 is stated (Gelman et al., "Bayesian Data Analysis", 3rd ed.).

    Args:
        samples: Array of shape ``(n_samples >= 4, n_coordinates)``.

    Returns:
        A float64 NumPy array of shape ``(n_coordinates,)``.

    Example:

    >>> import numpy as np
    >>> trend = np.linspace(0, 5, 200)[:, None] + np.random.default_rng(0).normal(size=(200, 1))
    >>> bool(split_potential_scale_reduction(trend)[0] > 1.1)
    True
    """
    import tensorflow_probability as tfp

    samples = check_array("samples", samples, min_ndim=2, max_ndim=2, min_rows=4)
    n = samples.shape[0] - samples.shape[0] % 2
    states = samples[:n, None, :]
    rhat = tfp.mcmc.potential_scale_reduction(states, independent_chain_ndims=1, split_chains=True)
    return np.sqrt(np.maximum(np.asarray(rhat, dtype=np.float64), 0.0))


def sampling_warnings(samples, min_ess=10.0, max_rhat=1.1):
    """Messages for a chain whose samples cannot be trusted; an empty list when none apply.

    A coordinate with effective sample size below ``min_ess``, or a split R-hat above
    ``max_rhat``, means the chain has not explored the distribution: more steps, a larger
    step, or a better-conditioned sampler (`keras_rg.optimizers.UnderdampedLangevin` with an
    adapted mass) is needed. Chains with fewer than 8 samples are not judged. With many
    coordinates and a short chain (ESS ~ 100), the largest split R-hat exceeds 1.1 by chance:
    the advice, to run longer, still applies.

    Args:
        samples: Array of shape ``(n_samples, n_coordinates)``.
        min_ess: Smallest acceptable ESS, a float > 0. Defaults to `10.0`.
        max_rhat: Largest acceptable split R-hat, a float > 1. Defaults to `1.1`.

    Returns:
        A list of strings.

    Example:

    >>> import numpy as np
    >>> walk = np.cumsum(np.random.default_rng(0).normal(size=(400, 2)), axis=0)
    >>> [m.split(":")[0] for m in sampling_warnings(walk)]
    ['tiny effective sample size', 'R-hat above 1.1']
    """
    min_ess = check_float("min_ess", min_ess, 0.0, open_min=True)
    max_rhat = check_float("max_rhat", max_rhat, 1.0, open_min=True)
    samples = check_array("samples", samples, min_ndim=2, max_ndim=2, min_rows=1)
    if samples.shape[0] < 8:
        return []
    messages = []
    ess = effective_sample_size(samples)
    if np.min(ess) < min_ess:
        messages.append(
            f"tiny effective sample size: min ESS {np.min(ess):.1f} < {min_ess:g} over "
            f"{samples.shape[0]} samples (coordinate {int(np.argmin(ess))}); the chain has not "
            "mixed. Run longer, raise the step, or adapt a mass matrix (UnderdampedLangevin)."
        )
    rhat = split_potential_scale_reduction(samples)
    if np.max(rhat) > max_rhat:
        messages.append(
            f"R-hat above {max_rhat:g}: split R-hat {np.max(rhat):.3f} (coordinate "
            f"{int(np.argmax(rhat))}); the two halves of the chain disagree (still drifting "
            "or stuck in one mode)."
        )
    return messages
