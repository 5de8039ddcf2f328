"""The teacher-student experiment behind Theorem 3.1 of Gong & Xia's exponential-family RG paper:
θ̃^t of a trained FCDNN's feature layer against θ̃(W*) and the RG fixed point θ*.

Layer 2: it uses the library's coupling fits directly (no callback). See
``docs/exponential_family.md``.
"""

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from keras_rg.arguments import check_choice, check_int
from keras_rg.systems.canonical_rg import fixed_point
from keras_rg.systems.coupling_fit import dimensionless_couplings, fit_couplings
from keras_rg.systems.coupling_inference import coupling_test
from keras_rg.systems.cumulants import connected_correlations
from keras_rg.systems.exponential_family import RadialExponentialFamily

__all__ = [
    "OPTIMIZERS",
    "TeacherStudentResult",
    "TowardsReference",
    "build_fcdnn",
    "half_squared_error",
    "teacher_student_experiment",
]

OPTIMIZERS = ("langevin", "gradient_descent")


@keras.saving.register_keras_serializable(package="keras_rg")
def half_squared_error(y_true, y_pred):
    """``½ Σ_j (ŷ_j − y_j)²`` per sample; its batch mean is the first term of the paper's eq. 48."""
    diff = keras.ops.convert_to_tensor(y_pred) - keras.ops.cast(y_true, y_pred.dtype)
    return 0.5 * keras.ops.sum(keras.ops.square(diff), axis=-1)


@keras.saving.register_keras_serializable(package="keras_rg")
class TowardsReference(keras.regularizers.Regularizer):
    """``τ ‖w − w*‖²``: the regulariser of the paper's eq. 3 / 48, pulling a weight to ``w*``.

    Attached to every kernel and bias of a student with the teacher's values, the sum over
    layers is ``τ ‖W − W*‖²``, which makes W* the unique global minimum of the loss.

    Args:
        tau: the coefficient τ, a finite float >= 0.
        reference: the target array ``w*`` (the weight's shape).

    Example:
        >>> reg = TowardsReference(1e-3, np.zeros((4, 2)))
        >>> layer = keras.layers.Dense(2, kernel_regularizer=reg)
    """

    def __init__(self, tau, reference):
        try:
            tau = float(tau)
        except (TypeError, ValueError):
            raise TypeError(
                f"Received an invalid value for `tau`: expected a float >= 0. Received: tau={tau!r}"
            ) from None
        if not (math.isfinite(tau) and tau >= 0):
            raise ValueError(
                f"Received an invalid value for `tau`: expected a finite float >= 0. "
                f"Received: tau={tau!r}"
            )
        self.tau = tau
        self.reference = np.asarray(reference, dtype=np.float32)

    def __call__(self, x):
        ref = keras.ops.cast(self.reference, x.dtype)
        return self.tau * keras.ops.sum(keras.ops.square(x - ref))

    def get_config(self):
        return {"tau": self.tau, "reference": self.reference.tolist()}


def build_fcdnn(dim, hidden, features, activation="sigmoid", seed=0, references=None, tau=0.0):
    """A fully connected network ``R^dim → R^features`` whose output is the feature layer.

    Args:
        dim: input dimension N.
        hidden: widths of the hidden layers (a sequence of positive integers).
        features: the feature-layer width M.
        activation: activation of every layer (``"sigmoid"`` keeps F in (0, 1), as in the proof of
            Theorem 3.1). Defaults to ``"sigmoid"``.
        seed: seed of the Glorot-uniform initial weights. Defaults to 0.
        references: optional list of the teacher's weights (kernel, bias per layer) for the
            ``TowardsReference`` regularisers. Defaults to None.
        tau: the regulariser's τ (with ``references``). Defaults to 0.0.

    Returns:
        A ``keras.Sequential`` model; the last layer is named ``"features"``.
    """
    widths = [int(w) for w in hidden] + [int(features)]
    layers = [keras.Input((int(dim),))]
    for i, width in enumerate(widths):
        kwargs = {}
        if references is not None:
            kwargs["kernel_regularizer"] = TowardsReference(tau, references[2 * i])
            kwargs["bias_regularizer"] = TowardsReference(tau, references[2 * i + 1])
        layers.append(
            keras.layers.Dense(
                width,
                activation=activation,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 7919 * i),
                bias_initializer=keras.initializers.RandomNormal(0.0, 0.1, seed=seed + 104729 * i),
                name="features" if i == len(widths) - 1 else f"hidden_{i}",
                **kwargs,
            )
        )
    return keras.Sequential(layers)


@dataclasses.dataclass(frozen=True)
class TeacherStudentResult:
    """What ``teacher_student_experiment`` measured.

    Attributes:
        epochs: epochs at which θ̃^t was fitted (0 = before training), (T,).
        theta_t: θ̃^t of the student's feature outputs, (T, R); ``stderr_t`` their errors.
        theta_teacher: θ̃(W*) of the teacher's feature outputs, (R,); ``stderr_teacher``.
        theta_teacher_natural: the same fit without the sign constraint (``domain="natural"``):
            outside the paper's family when any entry is <= 0.
        theta_star: the canonical-RG fixed point θ* of the data's couplings, (R,).
        theta_data: the data's couplings θ; ``theta_data_fit`` their MLE from the inputs.
        loss: training loss per epoch (eq. 48, with the τ term).
        weight_distance: ``‖W_t − W*‖`` at the end of training.
        cumulants: connected correlations of the feature outputs: ``"initial"`` (W_0),
            ``"final"`` (W_t) and ``"teacher"`` (W*) (``ConnectedCorrelations``).
        test: the boundary-aware likelihood-ratio test of θ̃^T = θ* with profile intervals
            (:class:`~keras_rg.systems.coupling_inference.CouplingTest`).
        teacher_test: the same test of θ̃(W*) = θ*.
        radius_moments: mean and variance of ``|F(x; W*)|²`` (they set θ̃(W*): see
            :func:`~keras_rg.systems.coupling_inference.laplace_couplings`).
        config: the experiment's arguments.
    """

    epochs: np.ndarray
    theta_t: np.ndarray
    stderr_t: np.ndarray
    theta_teacher: np.ndarray
    stderr_teacher: np.ndarray
    theta_teacher_natural: np.ndarray
    theta_star: np.ndarray
    theta_data: np.ndarray
    theta_data_fit: np.ndarray
    loss: np.ndarray
    weight_distance: float
    cumulants: dict
    test: object
    teacher_test: object
    radius_moments: tuple
    config: dict

    @property
    def z_student_teacher(self):
        """``(θ̃^T − θ̃(W*)) / SE(θ̃(W*))`` at the last epoch."""
        return (self.theta_t[-1] - self.theta_teacher) / self.stderr_teacher

    @property
    def z_teacher_fixed_point(self):
        """``(θ̃(W*) − θ*) / SE(θ̃(W*))`` (±inf when θ* is infinite)."""
        with np.errstate(invalid="ignore"):
            return (self.theta_teacher - self.theta_star) / self.stderr_teacher

    @property
    def gap_ratio(self):
        """``|θ̃^T − θ̃(W*)| / |θ̃^0 − θ̃(W*)|``: the fraction of the initial gap left at the end."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.abs(self.theta_t[-1] - self.theta_teacher) / np.abs(
                self.theta_t[0] - self.theta_teacher
            )

    @property
    def student_reaches_teacher(self):
        """θ̃^T within one standard error of θ̃(W*) in every coupling."""
        return bool(np.all(np.abs(self.z_student_teacher) < 1.0))

    @property
    def teacher_equals_fixed_point(self):
        """θ̃(W*) within three standard errors of θ* in every coupling (Theorem 3.1's claim)."""
        return bool(np.all(np.abs(self.z_teacher_fixed_point) < 3.0))

    def summary(self):
        """A plain-text table of θ̃^t beside θ̃(W*), θ* and the data's θ, and the verdicts."""
        order = self.theta_t.shape[1]
        head = "epoch  " + "  ".join(f"{'θ̃_' + str(r + 1):>22}" for r in range(order))
        lines = [head]

        def row(label, theta, se=None):
            cells = []
            for r in range(order):
                err = "" if se is None else f" ± {se[r]:.2e}"
                cells.append(f"{theta[r]:>10.4g}{err:>12}")
            return f"{label:<7}" + "  ".join(cells)

        for e, t, s in zip(self.epochs, self.theta_t, self.stderr_t, strict=True):
            lines.append(row(str(e), t, s))
        lines.append(row("W*", self.theta_teacher, self.stderr_teacher))
        lines.append(row("W* nat", self.theta_teacher_natural))
        lines.append(row("θ*", self.theta_star))
        lines.append(row("θ data", self.theta_data))
        g = dimensionless_couplings
        lines.append("dimensionless g_r = θ_r/θ_1^r:")
        lines.append(row("final", g(self.theta_t[-1])))
        lines.append(row("W*", g(self.theta_teacher)))
        lines.append(row("W* nat", g(self.theta_teacher_natural)))
        lines.append(row("θ*", g(self.theta_star)))
        lines.append(
            f"final loss {self.loss[-1]:.3e}, ‖W_t − W*‖ = {self.weight_distance:.3e}; "
            f"z(θ̃^T − θ̃(W*)) = {np.array2string(self.z_student_teacher, precision=2)}; "
            f"z(θ̃(W*) − θ*) = {np.array2string(self.z_teacher_fixed_point, precision=2)}; "
            f"gap left |θ̃^T − θ̃(W*)|/|θ̃^0 − θ̃(W*)| = {np.array2string(self.gap_ratio, precision=3)}"
        )
        lines.append(
            f"θ̃^T = θ̃(W*) within 1 SE: {'yes' if self.student_reaches_teacher else 'no'}; "
            f"θ̃(W*) = θ* within 3 SE: {'yes' if self.teacher_equals_fixed_point else 'no'}"
        )
        return "\n".join(lines)


def _optimizer(optimizer, learning_rate, cooling, t0, seed):
    from keras_rg.optimizers import LangevinAnnealing
    from keras_rg.schedules import LogarithmicCooling

    if isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer
    if callable(optimizer):
        return optimizer()
    check_choice("optimizer", optimizer, OPTIMIZERS)
    if optimizer == "gradient_descent":  # the control: the same step without annealing noise
        return keras.optimizers.SGD(learning_rate)
    return LangevinAnnealing(learning_rate, temperature=LogarithmicCooling(c=cooling, t0=t0),
                             seed=seed)  # fmt: skip


def teacher_student_experiment(
    theta=(0.5, 0.1),
    dim=8,
    hidden=(16,),
    features=4,
    samples=1024,
    A=None,
    activation="sigmoid",
    tau=0.01,
    learning_rate=0.5,
    cooling=1e-5,
    t0=2.0,
    epochs=200,
    steps_per_epoch=10,
    every_n_epochs=20,
    field_scale=None,
    domain="positive",
    optimizer="langevin",
    jit_compile=True,
    seed=0,
    verbose=0,
):
    """Runs the experiment behind Theorem 3.1 and returns what it measured.

    Inputs ``x_k`` are drawn exactly from ``P(x; θ) ∝ exp(−Σ θ_r (xᵀAx)^r)``. A teacher FCDNN
    with random weights W* gives the feature targets ``F(x_k; W*)``. A student of the same shape
    starts from other random weights and is trained full-batch on
    ``½ mean_k ‖F(x_k; W) − F(x_k; W*)‖² + τ ‖W − W*‖²`` (eq. 3 / 48; the τ term is the
    ``TowardsReference`` regulariser), by default with ``LangevinAnnealing`` and logarithmic
    cooling ``T_t = cooling / log(t + t0)``. Every ``every_n_epochs`` epochs θ̃^t is fitted to
    the student's feature outputs on the training inputs (``fit_couplings``); θ̃(W*) is the
    same fit on the teacher's outputs and θ* the canonical fixed point of θ for
    ``Z(λ) = field_scale`` (default λ², for which θ* = θ: partition-function invariance).
    The final θ̃^T and θ̃(W*) are tested against θ* by the likelihood ratio with profile
    intervals (:func:`~keras_rg.systems.coupling_inference.coupling_test`), which stay valid
    when a coupling sits at the domain bound 0, where the Fisher errors do not.

    Args:
        theta: the data's couplings (R values > 0). Defaults to (0.5, 0.1).
        dim: input dimension N. Defaults to 8.
        hidden: hidden-layer widths. Defaults to (16,).
        features: feature-layer width M. Defaults to 4.
        samples: training-set size S. Defaults to 1024.
        A: SPD matrix of the data's quadratic form. Defaults to the identity.
        activation: every layer's activation. Defaults to ``"sigmoid"``.
        tau: the regulariser's τ >= 0 (0 is the control without the term: W* is then not the
            unique minimum). Defaults to 0.01.
        learning_rate: step size. Defaults to 0.5.
        cooling: c of the logarithmic cooling schedule. Defaults to 1e-5.
        t0: t0 of the schedule. Defaults to 2.0.
        epochs: training epochs. Defaults to 200.
        steps_per_epoch: full-batch steps per epoch. Defaults to 10.
        every_n_epochs: period of the coupling fits. Defaults to 20.
        field_scale: ``Z(λ)`` of the canonical RG (see ``canonical_rg.rg_couplings``).
            Defaults to None (λ²).
        domain: coupling-fit domain, ``"positive"`` or ``"natural"``. Defaults to "positive".
        optimizer: ``"langevin"`` (simulated annealing, the paper's), ``"gradient_descent"``
            (the same step size without noise: the control without annealing), a Keras
            optimizer, or a callable returning one (e.g. another sampler). Defaults to
            ``"langevin"``.
        jit_compile: compile the training step with XLA (faster for long runs, slower to
            start). Defaults to True.
        seed: seed of data, weights and noise. Defaults to 0.
        verbose: verbosity of ``fit``. Defaults to 0.

    Returns:
        A ``TeacherStudentResult``; ``print(result.summary())`` shows θ̃^t beside θ̃(W*) and θ*.

    Example:
        >>> result = teacher_student_experiment(epochs=20, every_n_epochs=5)  # doctest: +SKIP
        >>> print(result.summary())  # doctest: +SKIP
    """
    samples = check_int("samples", samples, 4)
    epochs = check_int("epochs", epochs)
    steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch)
    every_n_epochs = check_int("every_n_epochs", every_n_epochs)
    if isinstance(tau, bool) or not (isinstance(tau, (int, float)) and math.isfinite(tau)
                                     and tau >= 0):  # fmt: skip
        raise ValueError(
            f"Received an invalid value for `tau`: expected a finite float >= 0. "
            f"Received: tau={tau!r}"
        )
    data = RadialExponentialFamily(theta, dim=dim, A=A)
    order = data.order
    x = data.sample(samples, seed=seed).numpy()
    star = fixed_point(theta, field_scale).theta

    teacher = build_fcdnn(data.dim, hidden, features, activation, seed=seed + 1)
    y = np.asarray(teacher(x, training=False), dtype=np.float32)
    references = [np.asarray(w) for w in teacher.get_weights()]
    student = build_fcdnn(
        data.dim, hidden, features, activation, seed=seed + 2, references=references, tau=tau
    )
    initial = np.asarray(student(x, training=False))
    student.compile(optimizer=_optimizer(optimizer, learning_rate, cooling, t0, seed),
                    loss=half_squared_error, jit_compile=jit_compile)  # fmt: skip

    def fit_now():
        out = np.asarray(student(x, training=False), dtype=np.float64)
        try:
            return fit_couplings(out, order, domain=domain)
        except ValueError:
            return None

    recorded, fits, losses = [0], [fit_now()], []
    dataset = tf.data.Dataset.from_tensors((x, y)).repeat()
    done = 0
    while done < epochs:
        chunk = min(every_n_epochs, epochs - done)
        history = student.fit(dataset, epochs=chunk, steps_per_epoch=steps_per_epoch,
                              shuffle=False, verbose=verbose)  # fmt: skip
        losses += list(history.history["loss"])
        done += chunk
        recorded.append(done)
        fits.append(fit_now())
    final = np.asarray(student(x, training=False))
    teacher_fit = fit_couplings(y.astype(np.float64), order, domain=domain)
    teacher_natural = fit_couplings(y.astype(np.float64), order, domain="natural")
    data_fit = fit_couplings(x, order, A=A)
    distance = math.sqrt(
        sum(
            float(np.sum((a - b) ** 2))
            for a, b in zip(student.get_weights(), references, strict=True)
        )
    )
    blocks = 20 if samples >= 160 else 2
    cumulants = {
        name: connected_correlations(out.astype(np.float64), blocks=blocks)
        for name, out in (("initial", initial), ("final", final), ("teacher", y))
    }
    nan = np.full(order, np.nan)
    radius = np.sum(y.astype(np.float64) ** 2, axis=1)
    config = dict(
        theta=list(map(float, np.atleast_1d(theta))), dim=data.dim, hidden=list(hidden),
        features=features, samples=samples, activation=activation, tau=tau,
        learning_rate=learning_rate, cooling=cooling, t0=t0, epochs=epochs,
        steps_per_epoch=steps_per_epoch, every_n_epochs=every_n_epochs, domain=domain,
        optimizer=optimizer if isinstance(optimizer, str) else type(optimizer).__name__,
        seed=seed,
    )  # fmt: skip
    return TeacherStudentResult(
        epochs=np.asarray(recorded),
        theta_t=np.array([f.theta if f else nan for f in fits]),
        stderr_t=np.array([f.stderr if f else nan for f in fits]),
        theta_teacher=teacher_fit.theta,
        stderr_teacher=teacher_fit.stderr,
        theta_teacher_natural=teacher_natural.theta,
        theta_star=np.asarray(star, dtype=np.float64),
        theta_data=np.asarray(theta, dtype=np.float64),
        theta_data_fit=data_fit.theta,
        loss=np.asarray(losses),
        weight_distance=distance,
        cumulants=cumulants,
        test=coupling_test(final.astype(np.float64), star, order, domain=domain),
        teacher_test=coupling_test(y.astype(np.float64), star, order, domain=domain),
        radius_moments=(float(radius.mean()), float(radius.var())),
        config=config,
    )
