"""When an interrupted RGFlow / RGOptimizer run resumes bit for bit (docs/rg_flow.md, "Resuming").

Bit-exact: ``BackupAndRestore(save_freq="epoch")`` (in either callback order), ``ModelCheckpoint``
+ ``load_model`` at an epoch boundary, and ``save_weights`` mid-epoch when the rest of the epoch's
batches are then fed (the weights file holds the optimizer's state, ``iterations`` included).
Not bit-exact: ``BackupAndRestore(save_freq=<batches>)``, because Keras 3 restarts the
interrupted epoch from its first batch on the restored weights (a Keras behaviour; if this test
starts failing, Keras changed it and docs/rg_flow.md must say so).
"""

import keras
import numpy as np
import pytest

from keras_rg.callbacks.rg_flow import RGFlow
from keras_rg.layers import ScaleCovariantDense

EPOCHS, BATCH = 4, 8


def _data():
    rng = np.random.default_rng(5)
    return rng.normal(size=(32, 4)).astype("float32"), rng.normal(size=(32, 2)).astype("float32")


def _model():
    keras.utils.set_random_seed(11)
    inputs = keras.Input((4,))
    h = ScaleCovariantDense(6, alpha=0.5, bias_initializer="ones", name="a05")(inputs)
    h = ScaleCovariantDense(6, alpha=2.0, bias_initializer="ones", name="a20")(h)
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(h))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def _flow():
    # A schedule: the resumed run must also resume ε at the right step.
    return RGFlow(keras.optimizers.schedules.ExponentialDecay(0.02, 8, 0.5), alpha=1.0)


def _weights(model):
    return [np.asarray(v) for v in model.weights]


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch, batch=None):
        super().__init__()
        self.epoch, self.batch = epoch, batch

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if self.batch is None and epoch == self.epoch:
            raise RuntimeError("interrupted")

    def on_train_batch_begin(self, batch, logs=None):
        if self.batch is not None and self.current == self.epoch and batch == self.batch:
            raise RuntimeError("interrupted")


def _fit(model, callbacks, **kwargs):
    x, y = _data()
    kwargs.setdefault("epochs", EPOCHS)
    return model.fit(
        x, y, batch_size=BATCH, shuffle=False, verbose=0, callbacks=callbacks, **kwargs
    )


@pytest.fixture(scope="module")
def uninterrupted():
    keras.utils.clear_session()
    model = _model()
    _fit(model, [_flow()])
    return _weights(model)


def _assert_same(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("flow_first", [True, False])
def test_backup_and_restore_at_epoch_boundaries_is_bit_exact(uninterrupted, tmp_path, flow_first):
    def callbacks(extra=()):
        backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"), save_freq="epoch")
        return [_flow(), backup, *extra] if flow_first else [backup, _flow(), *extra]

    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(_model(), callbacks([_Interrupt(epoch=2)]))
    resumed = _model()  # a fresh process would rebuild the model the same way
    _fit(resumed, callbacks())
    _assert_same(_weights(resumed), uninterrupted)


def test_model_checkpoint_and_load_model_is_bit_exact(uninterrupted, tmp_path):
    path = str(tmp_path / "epoch{epoch}.keras")
    _fit(_model(), [_flow(), keras.callbacks.ModelCheckpoint(path)], epochs=2)
    loaded = keras.models.load_model(str(tmp_path / "epoch2.keras"))
    _fit(loaded, [_flow()], initial_epoch=2)
    _assert_same(_weights(loaded), uninterrupted)


class _SaveAtBatch(keras.callbacks.Callback):
    def __init__(self, path, epoch, batch):
        super().__init__()
        self.path, self.epoch, self.batch = path, epoch, batch

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            self.model.save_weights(self.path)


def _resume_mid_epoch(path, saver_first):
    saver = _SaveAtBatch(path, epoch=1, batch=1)
    _fit(_model(), [saver, _flow()] if saver_first else [_flow(), saver], epochs=2)
    resumed = _model()
    # The weights file holds the optimizer's state too; it is restored into a built optimizer.
    resumed.optimizer.build(resumed.trainable_variables)
    resumed.load_weights(path)  # iterations = 4 + 2
    assert int(resumed.optimizer.iterations) == 6
    x, y = _data()
    flow = _flow()
    done = 2 * BATCH  # batches 0 and 1 of epoch 1 were taken before the save
    resumed.fit(x[done:], y[done:], batch_size=BATCH, shuffle=False, verbose=0, callbacks=[flow])
    _fit(resumed, [flow], initial_epoch=2)
    return _weights(resumed)


def test_mid_epoch_save_weights_is_bit_exact_when_the_epoch_is_finished_by_hand(
    uninterrupted, tmp_path
):
    """The saver runs after RGFlow in the list, so it sees the RG step of its batch."""
    _assert_same(_resume_mid_epoch(str(tmp_path / "mid.weights.h5"), False), uninterrupted)


def test_a_per_batch_saver_placed_before_rgflow_misses_one_rg_step(uninterrupted, tmp_path):
    """Callbacks run in list order, so a saver before RGFlow stores the weights without the RG
    step of its batch: the resumed run lacks that one step (put RGFlow first, or use
    RGOptimizer, whose step is part of the optimizer update)."""
    resumed = _resume_mid_epoch(str(tmp_path / "mid.weights.h5"), True)
    gap = max(float(np.max(np.abs(a - b))) for a, b in zip(resumed, uninterrupted, strict=True))
    assert gap > 1e-5


def test_backup_and_restore_every_n_batches_replays_the_epoch(uninterrupted, tmp_path):
    """Keras 3 restarts the interrupted epoch from batch 0 on the weights saved mid-epoch, so the
    batches before the save are applied twice: the result differs from the uninterrupted run."""

    def callbacks(extra=()):
        backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"), save_freq=2)
        return [_flow(), backup, *extra]

    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(_model(), callbacks([_Interrupt(epoch=2, batch=3)]))
    resumed = _model()
    _fit(resumed, callbacks())
    gap = max(
        float(np.max(np.abs(a - b))) for a, b in zip(_weights(resumed), uninterrupted, strict=True)
    )
    assert gap > 1e-4
