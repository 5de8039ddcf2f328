"""Mutual-information estimators for layer information, in nats (Liaw's Definition 3; see
docs/information.md, which also says how to choose an estimator)."""

from keras_rg.information._result import InformationEstimate
from keras_rg.information.adaptive import recommended_mi
from keras_rg.information.binning import binning_mi_input, binning_mi_labels, binning_mi_plane
from keras_rg.information.gaussian import gaussian_mi
from keras_rg.information.kde import kde_mi_input, kde_mi_labels, kde_mi_plane
from keras_rg.information.ksg import ksg_mi, ross_mi
from keras_rg.information.transforms import break_ties, gaussian_copula
from keras_rg.information.variational import (
    InfoNCELoss,
    NWJLoss,
    PairCritic,
    VariationalEstimate,
    variational_mi,
)

__all__ = [
    "InfoNCELoss",
    "InformationEstimate",
    "NWJLoss",
    "PairCritic",
    "VariationalEstimate",
    "binning_mi_input",
    "break_ties",
    "binning_mi_labels",
    "binning_mi_plane",
    "gaussian_copula",
    "gaussian_mi",
    "kde_mi_input",
    "kde_mi_labels",
    "kde_mi_plane",
    "ksg_mi",
    "recommended_mi",
    "ross_mi",
    "variational_mi",
]
