"""Validation of the seeds' claims by simulation (``keras-rg validate``), and checks that run on
a user's own model."""

from keras_rg.validate.byo import couplings_of_layers, flow_diagnostics, information_in_depth
from keras_rg.validate.report import format_verdict_table, write_report
from keras_rg.validate.result import VERDICTS, CheckResult, Context
from keras_rg.validate.runner import CHECKS, MODES, run_validation

__all__ = [
    "CHECKS",
    "MODES",
    "VERDICTS",
    "CheckResult",
    "Context",
    "couplings_of_layers",
    "flow_diagnostics",
    "format_verdict_table",
    "information_in_depth",
    "run_validation",
    "write_report",
]
