"""The 12-bit task of Shwartz-Ziv & Tishby (2017), rebuilt from the papers' description.

Shwartz-Ziv & Tishby, "Opening the Black Box of Deep Neural Networks via Information" (2017),
and Saxe et al., "On the Information Bottleneck Theory of Deep Learning" (ICLR 2018), Fig. 1,
use 4096 inputs: every pattern of 12 binary units, the units sitting at 12 points spread
uniformly on a sphere, with the binary label a thresholded *spherically symmetric* function of
the pattern, the threshold set so that the two labels are (nearly) equiprobable. The original
data file is not part of either paper; this module rebuilds the task from that description:

- the 12 points are the vertices of a regular icosahedron (the only way to spread 12 points
  uniformly on a sphere with every point equivalent);
- the function is ``f(x) = |sum_i x_i v_i|^2``, the squared length of the sum of the unit vectors
  of the active units: unchanged when the pattern is rotated on the sphere (any rotation of the
  icosahedron's symmetry group permutes the units and leaves ``f`` unchanged), i.e.
  spherically symmetric, and non-linear in the bits;
- the threshold is the value of ``f`` that makes ``P(y = 1)`` closest to 1/2 (``f`` takes 20
  distinct values; the split is 2036 / 2060).

Example:

>>> x, y = shwartz_ziv_tishby_task()
>>> x.shape, int(y.sum())
((4096, 12), 2036)
"""

import numpy as np

__all__ = ["icosahedron_vertices", "shwartz_ziv_tishby_task"]


def icosahedron_vertices():
    """The 12 unit vectors of a regular icosahedron's vertices, ``(12, 3)``:
    ``(0, ±1, ±phi)`` and its cyclic permutations, normalised (phi the golden ratio)."""
    phi = (1.0 + 5.0**0.5) / 2.0
    points = []
    for a in (-1.0, 1.0):
        for b in (-phi, phi):
            points += [(0.0, a, b), (a, b, 0.0), (b, 0.0, a)]
    points = np.array(points)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def shwartz_ziv_tishby_task():
    """The 4096 binary patterns ``x`` (float32, ``(4096, 12)``, pattern ``k`` has bit ``i`` =
    ``(k >> i) & 1``) and their labels ``y`` (int32, ``(4096,)``), as the module docstring
    describes."""
    x = ((np.arange(4096)[:, None] >> np.arange(12)) & 1).astype(np.float32)
    f = np.sum((x.astype(np.float64) @ icosahedron_vertices()) ** 2, axis=1)
    f = np.round(f, 9)  # equal sums reached in different orders compare equal
    levels = np.unique(f)
    balance = np.array([abs(np.mean(f > t) - 0.5) for t in levels])
    threshold = levels[int(np.argmin(balance))]
    return x, (f > threshold).astype(np.int32)
