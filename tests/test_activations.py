"""Scale-aware activations: Definition 1 (property-based), gradients, serialization, bad input."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_rg.activations import PowerLaw, ScaleAware
from tests.helpers import assert_config_roundtrip

BASES = ["tanh", "gelu", "softplus", "sigmoid", "relu", "leaky_relu", "silu", "elu"]
positive = st.floats(min_value=0.05, max_value=20.0)
# TensorFlow flushes subnormal floats to zero on CPU, so the domain is the normal floats.
xs = st.lists(
    st.floats(min_value=-5.0, max_value=5.0, allow_subnormal=False), min_size=1, max_size=8
)


def _np(t):
    return np.asarray(keras.ops.convert_to_numpy(t), dtype=np.float64)


@pytest.mark.parametrize("base", BASES)
@settings(max_examples=25, deadline=None)
@given(alpha=st.floats(0.1, 3.0), lam=positive, s=positive, x=xs)
def test_definition_1_scale_aware(base, alpha, lam, s, x):
    # σ_s(λx) = λ^α σ_{λs}(x), evaluated in float64: the identity is exact algebra, so the only
    # error is rounding of s·x vs (λs)·(x) products, a few ulps relative to the values' size.
    sigma = ScaleAware(base, alpha)
    x = np.asarray(x, dtype=np.float64)
    lhs = _np(sigma(lam * x, scale=s))
    rhs = lam**alpha * _np(sigma(x, scale=lam * s))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10 * (1 + np.abs(rhs).max()))


@settings(max_examples=50, deadline=None)
@given(alpha=st.floats(0.1, 3.0), lam=positive, s=positive, x=xs)
def test_definition_1_power_law(alpha, lam, s, x):
    sigma = PowerLaw(alpha)
    x = np.asarray(x, dtype=np.float64)
    lhs = _np(sigma(lam * x, scale=s))
    rhs = lam**alpha * _np(sigma(x, scale=lam * s))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-300)


def test_scale_aware_formula_and_homogeneous_base():
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(
        _np(ScaleAware("tanh", 0.5)(x, scale=2.0)), 2.0**-0.5 * np.tanh(2.0 * x), rtol=1e-12
    )
    # relu is homogeneous of degree 1: σ_s = s^(1-α) relu(x)
    np.testing.assert_allclose(
        _np(ScaleAware("relu", 0.3)(x, scale=4.0)), 4.0**0.7 * np.maximum(x, 0), rtol=1e-12
    )
    # the object's own scale is the default
    np.testing.assert_allclose(
        _np(ScaleAware("tanh", 2.0, scale=3.0)(x)), 3.0**-2 * np.tanh(3.0 * x), rtol=1e-12
    )


def test_power_law_values_and_finite_gradient_at_zero():
    import tensorflow as tf

    for alpha, grad0 in [(0.5, 0.0), (1.0, 1.0), (2.0, 0.0)]:
        x = tf.constant([-4.0, 0.0, 9.0], dtype="float64")
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = PowerLaw(alpha)(x)
        g = tape.gradient(y, x).numpy()
        np.testing.assert_allclose(y.numpy(), np.sign(x) * np.abs(x) ** alpha, rtol=1e-14)
        assert np.all(np.isfinite(g))
        assert g[1] == grad0
        np.testing.assert_allclose(g[[0, 2]], alpha * np.abs(x.numpy()[[0, 2]]) ** (alpha - 1))


@pytest.mark.parametrize("obj", [ScaleAware("gelu", 0.7, 2.5), PowerLaw(1.5)])
def test_config_roundtrip(obj):
    back = assert_config_roundtrip(obj)
    x = np.linspace(-2, 2, 9)
    np.testing.assert_array_equal(_np(back(x, scale=1.3)), _np(obj(x, scale=1.3)))


def test_usable_as_keras_activation_and_saved(tmp_path):
    from tests.helpers import assert_model_roundtrip

    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, activation=ScaleAware("softplus", 0.5, 2.0))]
    )
    assert_model_roundtrip(model, np.random.default_rng(0).normal(size=(5, 3)), tmp_path)


def test_callable_base_must_be_registered_to_save(tmp_path):
    @keras.saving.register_keras_serializable(package="keras_rg_tests")
    def cube(x):
        return x * x * x

    sigma = ScaleAware(cube, alpha=3.0)
    np.testing.assert_allclose(_np(sigma(np.array([2.0]), scale=5.0)), [8.0])
    back = assert_config_roundtrip(sigma)
    assert back._fn is cube


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"alpha": -1e-9}, ValueError, r"`alpha`.*>= 0"),
        ({"scale": "2"}, TypeError, r"`scale`.*'2'"),
        ({"alpha": True}, TypeError, r"`alpha`"),
        ({"alpha": -1}, ValueError, r"`alpha`.*alpha=-1"),
        ({"alpha": float("nan")}, ValueError, r"`alpha`.*alpha=nan"),
        ({"alpha": float("inf")}, ValueError, r"`alpha`.*alpha=inf"),
        ({"alpha": "big"}, TypeError, r"`alpha`.*'big'"),
        ({"scale": 0.0}, ValueError, r"`scale`.*scale=0.0"),
        ({"base": "not_an_activation"}, ValueError, r"`base`.*'not_an_activation'"),
        ({"base": 3}, TypeError, r"`base`.*3"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ScaleAware(**kwargs)


def test_alpha_zero_is_invariant_and_power_law_needs_positive_alpha():
    sigma = ScaleAware("tanh", alpha=0.0)  # σ_s(x) = tanh(s·x): Definition 1 with α = 0
    x = np.array([-2.0, 0.3, 5.0])
    np.testing.assert_allclose(_np(sigma(7.0 * x, scale=0.5)), _np(sigma(x, scale=3.5)),
                               rtol=1e-12)  # fmt: skip
    with pytest.raises(ValueError, match=r"`alpha`.*> 0.*alpha=0.0"):
        PowerLaw(0.0)


def test_deprecated_validators_warn_and_forward():
    from keras_rg.activations import validate_alpha, validate_positive

    with pytest.warns(DeprecationWarning, match="check_positive"):
        assert validate_positive("eps", 0.0, allow_zero=True) == 0.0
    with pytest.warns(DeprecationWarning, match="check_positive"):
        assert validate_alpha(2) == 2.0
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="`alpha`"):
        validate_alpha("2")


def test_homogeneous_bases_are_detected():
    from keras_rg.activations import is_positively_homogeneous

    assert all(is_positively_homogeneous(b) for b in ("relu", "leaky_relu", "linear"))
    assert is_positively_homogeneous(keras.activations.relu)
    assert not any(is_positively_homogeneous(b) for b in ("tanh", "gelu", keras.activations.elu))


def test_bad_power_law_and_integer_input():
    with pytest.raises(ValueError, match=r"`alpha`.*alpha=-0.5"):
        PowerLaw(-0.5)
    with pytest.raises(TypeError, match=r"`x`.*floating-point.*int32"):
        ScaleAware("tanh")(np.array([1, 2], dtype="int32"))
    with pytest.raises(TypeError, match=r"`x`.*int64"):
        PowerLaw(2.0)(np.array([1, 2], dtype="int64"))
