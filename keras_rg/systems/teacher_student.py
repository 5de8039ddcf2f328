"""Deprecated alias of :mod:`keras_rg.experiments.teacher_student` (kept for one release).

The teacher-student experiment trains networks, so it lives with the other experiments (layer 2)
now; import it from ``keras_rg.experiments.teacher_student``.
"""

import warnings

from keras_rg.experiments.teacher_student import (  # noqa: F401
    TeacherStudentResult,
    TowardsReference,
    build_fcdnn,
    half_squared_error,
    teacher_student_experiment,
)

__all__ = [
    "TeacherStudentResult",
    "TowardsReference",
    "build_fcdnn",
    "half_squared_error",
    "teacher_student_experiment",
]

warnings.warn(
    "keras_rg.systems.teacher_student is deprecated and will be removed in the next release; "
    "import from keras_rg.experiments.teacher_student.",
    DeprecationWarning,
    stacklevel=2,
)
