"""scikit-learn's own estimator checks, for every solver."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from softmax_regression import SoftmaxClassifier
from softmax_regression._solvers import SOLVERS


@parametrize_with_checks([SoftmaxClassifier(solver=name) for name in sorted(SOLVERS)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
