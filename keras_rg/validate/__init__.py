"""Validation of the seeds' claims by simulation (``keras-rg validate``), and checks that run on
a user's own model."""

from keras_rg.validate.report import format_verdict_table, write_report
from keras_rg.validate.result import VERDICTS, CheckResult, Context
from keras_rg.validate.runner import CHECKS, MODES, run_validation

__all__ = [
    "CHECKS",
    "MODES",
    "VERDICTS",
    "CheckResult",
    "Context",
    "format_verdict_table",
    "run_validation",
    "write_report",
]
