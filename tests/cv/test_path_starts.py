"""Where a path point starts: a neighbour's solution that meets tol there costs no pass."""

import warnings

import numpy as np
import pytest
from _data import blobs
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from softmax_regression import SoftmaxClassifierCV


def _recorded_path(monkeypatch, X, y, **params):
    """The estimator fit, and ``(point, coef0, start_loss, result)`` of each path point."""
    import softmax_regression._cv.path as path_module

    solved = []
    solve_point = path_module.solve_point

    def recording(spec, problem, coef0, *args, **kwargs):
        result = solve_point(spec, problem, coef0, *args, **kwargs)
        solved.append((problem, coef0, kwargs.get("start_loss"), result))
        return result

    monkeypatch.setattr(path_module, "solve_point", recording)
    return SoftmaxClassifierCV(**params).fit(X, y), solved


def _optimality(point, coef):
    _, G = point.smooth_value_gradient(coef)
    return point.optimality(coef, G)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_weak_penalties_start_from_the_previous_solution_without_a_pass(monkeypatch, dtype):
    # 6,000 rows, C from 1 to 1e4: past C ~ 100 the penalty's gradient moves
    # by less than tol from one C to the next, and the previous solution
    # already meets tol (LogisticRegressionCV's warm start takes 0
    # iterations there too).
    X, y = blobs(6000, 20, 5, seed=0, spread=3.0)
    X = X.astype(dtype)
    Cs = np.logspace(0, 4, 9)
    model, solved = _recorded_path(monkeypatch, X, y, Cs=Cs, cv=3)
    assert len(solved) == 3 * len(Cs)
    known = 0
    for fold in range(3):
        path = solved[fold * len(Cs):(fold + 1) * len(Cs)]
        assert path[0][2] is None  # nothing is known before the first point
        for (point, coef0, start_loss, result), previous in zip(path[1:], path[:-1]):
            assert _optimality(point, result.coef) <= model.tol
            previous_meets_tol = _optimality(point, previous[3].coef) <= model.tol
            # The rule is exact: the known start is taken where, and only
            # where, the previous solution meets tol at this point.
            assert (start_loss is not None) == previous_meets_tol
            if start_loss is not None:
                known += 1
                assert result.n_iter == 0 and result.n_evaluations == 0
                assert_array_equal(result.coef, previous[3].coef)
            else:
                assert result.n_iter > 0
    assert known >= 6
    assert (model.n_iter_ == 0).sum() == known


def test_a_known_start_is_judged_with_each_l1_ratio_s_penalty(monkeypatch):
    # Elastic net along C and l1_ratio: a neighbour's solution is judged by
    # the point's own optimality (the L1 part's subgradient included).
    X, y = blobs(4000, 10, 3, seed=2, spread=3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model, solved = _recorded_path(monkeypatch, X, y, Cs=np.logspace(-1, 4, 6),
                                       l1_ratios=[0.0, 0.5], cv=3)
    for point, coef0, start_loss, result in solved:
        if result.converged:  # L-BFGS-B crawls along strong L1 parts (max_iter)
            assert _optimality(point, result.coef) <= model.tol
        if start_loss is not None:
            assert _optimality(point, coef0) <= model.tol
            assert result.n_iter == 0 and result.converged
    assert any(start_loss is not None for _, _, start_loss, _ in solved)
    # Strong L1 parts (C = 0.1, 1) are not met by the L2 neighbour's solution.
    assert (model.n_iter_[:, 1, :2] > 0).all()
