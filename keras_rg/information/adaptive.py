"""The library's recommended estimator for I(X; Y) between continuous variables, with its rule.

Measured on the 40 tasks of Czyż, Grabowski, Vogt, Beerenwinkel & Marx, "Beyond Normal: On the
Evaluation of Mutual Information Estimators" (NeurIPS 2023), n = 5000, two seeds
(``benchmarks/bench_information_bmi.py``; numbers in docs/information.md): no single estimator is
good everywhere. KSG is accurate in low dimension but biased low above ~10 joint dimensions and
on heavy tails; the Gaussian estimator after a Gaussian-copula transform is accurate on
Gaussian-copula data in any dimension but blind to non-monotone dependence (spirals, additive
noise, Student-t tails). Both err mostly *low*: the Gaussian-copula value is a lower bound on
the MI for 1-D X and Y (the Gaussian maximises entropy for a given covariance, and the copula
makes the marginals exactly Gaussian), and KSG's bias is downward in dimension and at high MI.
Hence the rule:

- joint dimension ``d_x + d_y <= 10``: the larger of KSG (k = 10, copula) and the Gaussian
  copula estimate;
- above 10: the Gaussian copula estimate alone (KSG in that dimension is far below it and costs
  O(n log n) k-d tree queries that degrade towards O(n^2)).
"""

from keras_rg.arguments import check_int
from keras_rg.information._checks import as_paired_samples
from keras_rg.information._result import InformationEstimate
from keras_rg.information.gaussian import gaussian_mi
from keras_rg.information.ksg import MAX_KNN_DIMENSIONS, ksg_mi

__all__ = ["recommended_mi", "RECOMMENDED_NEIGHBORS"]

# Neighbours of the KSG half of the rule: 10, as in the benchmark paper's KSG.
RECOMMENDED_NEIGHBORS = 10


def recommended_mi(x, y, *, n_neighbors=RECOMMENDED_NEIGHBORS, seed=0, algorithm="auto"):
    """``I(X; Y)`` in nats by the library's stated rule (module docstring): the larger of KSG on
    normal scores and the Gaussian-copula estimate up to 10 joint dimensions, the Gaussian-copula
    estimate alone above. Invariant under strictly monotone maps of every column; ties broken at
    random (seeded), as ``transforms.gaussian_copula`` states.

    Args:
        x: First variable, shape ``(n, ...)``.
        y: Second variable, shape ``(n, ...)``.
        n_neighbors: KSG's k. Defaults to 10.
        seed: Seed of the copula's tie order. Defaults to 0.
        algorithm: KSG's neighbour search (see ``ksg_mi``). Defaults to ``"auto"``.

    Returns:
        An ``InformationEstimate`` with ``estimator="recommended"``; its ``hyperparameters`` hold
        ``"chosen"`` (``"ksg_copula"`` or ``"gaussian_copula"``) and both values.

    Example:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=3000)
    >>> y = np.exp(0.75 * x + np.sqrt(1 - 0.75**2) * rng.normal(size=3000))
    >>> round(recommended_mi(x, y).value, 1)  # exact: -0.5 log(1 - 0.75^2) = 0.413
    0.4
    """
    n_neighbors = check_int("n_neighbors", n_neighbors)
    x, y = as_paired_samples(x, y)
    gauss = gaussian_mi(x, y, transform="copula", seed=seed, ridge=1e-9).value
    values = {"gaussian_copula": gauss}
    if x.shape[1] + y.shape[1] <= MAX_KNN_DIMENSIONS:
        k = min(n_neighbors, x.shape[0] - 1)
        values["ksg_copula"] = ksg_mi(
            x, y, n_neighbors=k, transform="copula", seed=seed, algorithm=algorithm
        ).value
    chosen = max(values, key=values.get)
    hyper = {"chosen": chosen, "n_neighbors": n_neighbors, "seed": seed, **values}
    return InformationEstimate(
        value=values[chosen], estimator="recommended", n=x.shape[0], hyperparameters=hyper
    )
