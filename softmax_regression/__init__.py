"""Multinomial logistic (softmax) regression as a scikit-learn estimator."""

from ._estimator import SoftmaxClassifier
from ._loss import log_softmax, softmax

__version__ = "0.1.0"

__all__ = ["SoftmaxClassifier", "log_softmax", "softmax", "__version__"]
