"""The shared argument checks: wrong type -> TypeError, wrong value -> ValueError, no strings."""

import numpy as np
import pytest
import tensorflow as tf

from keras_rg.arguments import (
    check_array,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_positive,
)


def test_check_int_accepts_integers_and_scalar_tensors():
    assert check_int("n", 3) == 3
    assert check_int("n", np.int64(3)) == 3
    assert check_int("n", np.array(3)) == 3
    assert check_int("n", tf.constant(3)) == 3
    assert check_int("n", 0, minimum=0) == 0


@pytest.mark.parametrize("value", ["3", 3.0, True, None, [3]])
def test_check_int_rejects_non_integers_with_type_error(value):
    with pytest.raises(TypeError, match=r"`n`: expected an integer >= 1\. Received: n="):
        check_int("n", value)


def test_check_int_range():
    with pytest.raises(ValueError, match=r"expected an integer >= 1\. Received: n=0"):
        check_int("n", 0)
    with pytest.raises(ValueError, match=r"<= 5"):
        check_int("n", 6, maximum=5)


def test_check_float_accepts_numbers_and_scalar_tensors():
    assert check_float("x", 2) == 2.0
    assert check_float("x", np.float32(0.5)) == 0.5
    assert check_float("x", tf.constant(0.25)) == 0.25
    assert isinstance(check_float("x", np.array(1.5)), float)


@pytest.mark.parametrize("value", ["1e-3", True, np.bool_(True), None, 1j, [1.0], np.ones(2)])
def test_check_float_rejects_non_numbers_with_type_error(value):
    with pytest.raises(TypeError, match="Received an invalid type for `x`"):
        check_float("x", value)


def test_check_float_range_and_finiteness():
    with pytest.raises(ValueError, match=r"expected a finite float >= 0 and <= 1"):
        check_float("p", 1.5, 0, 1)
    with pytest.raises(ValueError, match=r"> 0"):
        check_positive("eps", 0.0)
    assert check_positive("eps", 0.0, allow_zero=True) == 0.0
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="finite"):
            check_float("x", bad)
    with pytest.raises(ValueError, match=r"< 1"):
        check_float("p", 1.0, 0, 1, open_max=True)


def test_check_bool_and_choice():
    assert check_bool("flag", np.bool_(False)) is False
    with pytest.raises(TypeError, match="True or False"):
        check_bool("flag", 1)
    assert check_choice("mode", "a", ("a", "b")) == "a"
    with pytest.raises(ValueError, match=r"one of \['a', 'b'\]. Received: mode='c'"):
        check_choice("mode", "c", ("a", "b"))
    with pytest.raises(ValueError):
        check_choice("mode", ["a"], ("a", "b"))


def test_check_array_names_the_argument():
    np.testing.assert_array_equal(check_array("x", [[1, 2]], min_ndim=2), [[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"`x`: expected at least 1 sample"):
        check_array("x", np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"`x`: expected at least 4 sample"):
        check_array("x", np.zeros((3, 3)), min_rows=4)
    with pytest.raises(ValueError, match=r"`y`: expected an array with >= 2 axes"):
        check_array("y", np.zeros(3), min_ndim=2)
    with pytest.raises(ValueError, match=r"`x`: expected finite entries.*1 NaN"):
        check_array("x", [1.0, np.nan])
    with pytest.raises(TypeError, match=r"`x`: expected a numeric array"):
        check_array("x", ["a", "b"])
    with pytest.raises(TypeError, match=r"`x`: expected a numeric array"):
        check_array("x", [[1, 2], [3]])


def test_renamed_argument_warns_and_forwards():
    from keras_rg.arguments import renamed_argument

    kwargs = {"burnin": 5, "other": 1}
    with pytest.warns(DeprecationWarning, match="Owner: `burnin` is deprecated.*use `burn_in`"):
        assert renamed_argument(kwargs, "burnin", "burn_in", 0, "Owner", default=0) == 5
    assert kwargs == {"other": 1}
    assert renamed_argument({}, "burnin", "burn_in", 7, "Owner") == 7
    with pytest.raises(TypeError, match="pass `burn_in` only"):
        renamed_argument({"burnin": 5}, "burnin", "burn_in", 3, "Owner", default=0)
