"""The benchmarks' referee: the package's one float64 reference objective."""

from softmax_regression._model.referee import (  # noqa: F401  (re-exported)
    cross_entropy,
    estimator_objective,
    logits,
    objective,
    relative_gap,
)
