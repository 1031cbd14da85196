"""Multinomial logistic (softmax) regression as a scikit-learn estimator."""

from ._cv.estimator import SoftmaxClassifierCV
from ._estimator import SoftmaxClassifier
from ._inference.api import inference
from ._inference.result import InferenceResult
from ._model.softmax import log_softmax, softmax

__version__ = "0.1.0"

__all__ = ["InferenceResult", "SoftmaxClassifier", "SoftmaxClassifierCV", "inference",
           "log_softmax", "softmax", "__version__"]
