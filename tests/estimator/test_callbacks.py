"""scikit-learn's callbacks (``set_callbacks``) and the HTML documentation link.

The callback API exists from scikit-learn 1.9 (``sklearn.callback``); on 1.7
and 1.8 the callback tests are skipped and one test checks that
``set_callbacks`` is absent there.
"""

import importlib.util
import threading
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss

from _data import blobs
from softmax_regression import SoftmaxClassifier, SoftmaxClassifierCV

HAS_CALLBACKS = importlib.util.find_spec("sklearn.callback") is not None
needs_callbacks = pytest.mark.skipif(
    not HAS_CALLBACKS, reason="scikit-learn < 1.9 has no sklearn.callback"
)
if HAS_CALLBACKS:
    from sklearn.callback import ProgressBar, ScoringMonitor

SOLVERS = ["lbfgs", "newton-cg", "sgd"]
# What a solver's iterations are called in the task tree.
ITERATION = {"lbfgs": "iteration", "newton-cg": "iteration", "sgd": "epoch"}


class Recorder:
    """A callback of our own: records every hook, and stops when told to.

    Parameters
    ----------
    stop_after : int or None
        Ask to stop at the end of this many iterations (leaf tasks).
    """

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.events = []
        self.n_iterations = 0
        self.ended = []  # (task path from the root, rows of X, snapshot) of every task end

    def setup(self, estimator, context):
        self.events.append(("setup", context.task_name))

    def teardown(self, estimator, context):
        self.events.append(("teardown", context.task_name))

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
        self.events.append(("begin", context.task_name, context.task_id,
                            _snapshot(fitted_estimator)))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None,
                        fitted_estimator=None):
        snapshot = _snapshot(fitted_estimator)
        self.events.append(("end", context.task_name, context.task_id, snapshot))
        self.ended.append((_path(context), None if X is None else X.shape[0], snapshot))
        is_iteration = context.parent is not None
        self.n_iterations += is_iteration
        return (is_iteration and self.stop_after is not None
                and self.n_iterations >= self.stop_after)

    def iterations(self, hook):
        """(task_id, snapshot) of each leaf task's ``hook`` ("begin" or "end")."""
        return [(e[2], e[3]) for e in self.events if e[0] == hook and e[1] in ITERATION.values()]


def _path(context):
    """((task_name, task_id), ...) from the root task down to ``context``."""
    path = []
    while context is not None:
        path.insert(0, (context.task_name, context.task_id))
        context = context.parent
    return tuple(path)


def _snapshot(fitted):
    """(n_iter_, coef_, intercept_) of a fitted-estimator view, or None."""
    if fitted is None:
        return None
    # SoftmaxClassifierCV's views have no n_iter_ (its n_iter_ is per path point).
    n_iter = getattr(fitted, "n_iter_", None)
    n_iter = int(n_iter[0]) if n_iter is not None and n_iter.size == 1 else None
    return n_iter, np.array(fitted.coef_), np.array(fitted.intercept_)


def _foreground_threads():
    return {thread for thread in threading.enumerate() if not thread.daemon and thread.is_alive()}


def _data():
    X, y = blobs(n_samples=90, n_features=4, n_classes=3, seed=1)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def _model(solver, **params):
    return SoftmaxClassifier(solver=solver, random_state=0, **params)


def test_set_callbacks_exists_exactly_where_scikit_learn_has_callbacks():
    assert hasattr(SoftmaxClassifier(), "set_callbacks") is HAS_CALLBACKS
    assert hasattr(SoftmaxClassifierCV(), "set_callbacks") is HAS_CALLBACKS


@needs_callbacks
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", SOLVERS)
def test_fit_reports_one_task_per_iteration(solver):
    X, y = _data()
    recorder = Recorder()
    clf = _model(solver, max_iter=60).set_callbacks(recorder).fit(X, y)
    n_iter = int(clf.n_iter_[0])
    assert n_iter > 1

    ends, begins = recorder.iterations("end"), recorder.iterations("begin")
    assert [task_id for task_id, _ in ends] == list(range(n_iter))
    assert [task_id for task_id, _ in begins] == list(range(n_iter))
    assert [snap[0] for _, snap in ends] == list(range(1, n_iter + 1))
    # An iteration begins where the previous one ended.
    for (_, before), (_, after) in zip(begins[1:], ends[:-1]):
        np.testing.assert_array_equal(before[1], after[1])
    # The last iteration's view is the stored model.
    np.testing.assert_array_equal(ends[-1][1][1], clf.coef_)
    np.testing.assert_array_equal(ends[-1][1][2], clf.intercept_)
    # The root task brackets the iterations, setup and teardown bracket all.
    assert recorder.events[:2] == [("setup", "fit"), ("begin", "fit", 0, None)]
    assert recorder.events[-2][:3] == ("end", "fit", 0)
    assert recorder.events[-1] == ("teardown", "fit")
    assert {e[1] for e in recorder.events[2:-2]} == {ITERATION[solver]}
    # Listening changes nothing in the fit.
    plain = _model(solver, max_iter=60).fit(X, y)
    np.testing.assert_array_equal(plain.coef_, clf.coef_)
    assert not hasattr(clf, "_callback_fit_ctx")


@needs_callbacks
def test_partial_fit_reports_one_task_per_call():
    X, y = _data()
    recorder = Recorder(stop_after=1)
    clf = _model("sgd").set_callbacks(recorder)
    plain = _model("sgd")
    for chunk in np.array_split(np.arange(len(y)), 3):
        clf.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
        plain.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
    ends = recorder.iterations("end")
    assert [task_id for task_id, _ in ends] == [0, 0, 0]  # one subtask per call
    assert [snap[0] for _, snap in ends] == [1, 2, 3] == [1, 2, int(clf.n_iter_[0])]
    assert [e[:2] for e in recorder.events if e[1] == "partial_fit"] == [
        ("setup", "partial_fit"), ("begin", "partial_fit"), ("end", "partial_fit"),
        ("teardown", "partial_fit")] * 3
    np.testing.assert_array_equal(ends[-1][1][1], clf.coef_)
    # A request to stop has nothing left to stop in a call: every call updated
    # the model exactly as without callbacks.
    np.testing.assert_array_equal(plain.coef_, clf.coef_)


@needs_callbacks
@pytest.mark.parametrize("solver", SOLVERS)
def test_a_callback_stops_the_fit_cleanly(solver):
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert _model(solver, max_iter=200).fit(X, y).n_iter_[0] > 3
    # The same stop without a callback is not convergence: it warns.
    with pytest.warns(ConvergenceWarning):
        _model(solver, max_iter=3).fit(X, y)

    recorder = Recorder(stop_after=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = _model(solver, max_iter=200).set_callbacks(recorder).fit(X, y)
    assert clf.n_iter_.tolist() == [3]
    assert len(clf.loss_curve_) == 3
    ends = recorder.iterations("end")
    assert len(ends) == 3
    np.testing.assert_array_equal(ends[-1][1][1], clf.coef_)
    assert recorder.events[-1] == ("teardown", "fit")
    assert clf.score(X, y) > 0.5


@needs_callbacks
def test_a_refit_at_the_optimum_reports_no_iteration():
    X, y = _data()
    clf = _model("lbfgs", warm_start=True).fit(X, y)
    recorder = Recorder()
    clf.set_callbacks(recorder).fit(X, y)
    assert clf.n_iter_.tolist() == [0]
    assert [e[:2] for e in recorder.events] == [
        ("setup", "fit"), ("begin", "fit"), ("end", "fit"), ("teardown", "fit")]


@needs_callbacks
def test_a_failed_fit_still_tears_the_callbacks_down():
    X, y = _data()
    recorder = Recorder()
    clf = _model("lbfgs").fit(X, y)
    coef = clf.coef_.copy()
    clf.set_callbacks(recorder)
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(X_bad, y)
    assert recorder.events[0] == ("setup", "fit")
    assert recorder.events[-1] == ("teardown", "fit")
    np.testing.assert_array_equal(clf.coef_, coef)
    assert not hasattr(clf, "_callback_fit_ctx")


@needs_callbacks
@pytest.mark.parametrize("solver", SOLVERS)
def test_scoring_monitor_scores_every_iteration(solver):
    X, y = _data()
    weights = np.linspace(0.5, 2.0, len(y))
    monitor = ScoringMonitor(scoring="neg_log_loss")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = _model(solver, max_iter=40).set_callbacks(monitor).fit(
            X, y, sample_weight=weights)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == ITERATION[solver]]
    assert len(rows) == clf.n_iter_[0]
    scores = [row["neg_log_loss"] for row in rows]
    # Scored on the fit's X, y and sample weights: the last one is the model's.
    expected = -log_loss(y, clf.predict_proba(X), sample_weight=weights)
    assert scores[-1] == pytest.approx(expected, rel=1e-12)
    assert scores[-1] > scores[0]


@needs_callbacks
@pytest.mark.parametrize("solver", SOLVERS)
def test_progress_bar_runs_on_a_fit(solver, capsys):
    pytest.importorskip("rich")
    X, y = _data()
    threads = _foreground_threads()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = _model(solver, max_iter=20).set_callbacks(ProgressBar()).fit(X, y)
    assert clf.score(X, y) > 0.5
    assert "SoftmaxClassifier - fit" in capsys.readouterr().out
    # The display's thread has ended: a left-over one would keep Python from exiting.
    assert _foreground_threads() == threads


@needs_callbacks
def test_cv_reports_folds_path_points_and_iterations():
    X, y = _data()
    recorder = Recorder()
    cv = SoftmaxClassifierCV(Cs=3, cv=3).set_callbacks(recorder).fit(X, y)
    root, search = ("fit", 0), ("cross-validation", 0)
    for fold in range(3):
        for point in range(3):
            ended = [p for p, _, _ in recorder.ended
                     if p[:4] == (root, search, ("fold", fold), ("path point", point))
                     and len(p) == 5]
            assert len(ended) == cv.n_iter_[fold, 0, point]
    # A fold's hooks get the fold's training rows; the others all of X.
    in_folds = [rows for p, rows, _ in recorder.ended if len(p) >= 3 and p[1] == search]
    assert len(in_folds) == cv.n_iter_.sum() + 9 + 3 and set(in_folds) == {60}
    assert {rows for p, rows, _ in recorder.ended if p[1:2] != (search,)} == {len(y)}
    # The refit's last iteration is the stored model; the fit ends last.
    refit = [snap for p, _, snap in recorder.ended if len(p) == 3 and p[1] == ("refit", 1)]
    assert refit
    np.testing.assert_array_equal(refit[-1][1], cv.coef_)
    assert recorder.ended[-1][0] == (root,)
    # Listening changes nothing in the search.
    plain = SoftmaxClassifierCV(Cs=3, cv=3).fit(X, y)
    np.testing.assert_array_equal(plain.scores_, cv.scores_)
    np.testing.assert_array_equal(plain.coef_, cv.coef_)


@needs_callbacks
def test_a_callback_stop_in_cv_ends_each_point_without_a_warning():
    X, y = _data()
    # The same stop without a callback is not convergence: it warns.
    with pytest.warns(ConvergenceWarning):
        SoftmaxClassifierCV(Cs=3, cv=3, max_iter=1).fit(X, y)
    recorder = Recorder(stop_after=1)  # every iteration asks to stop
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        cv = SoftmaxClassifierCV(Cs=3, cv=3).set_callbacks(recorder).fit(X, y)
    assert cv.n_iter_.max() == 1
    refit = [p for p, _, _ in recorder.ended if len(p) == 3 and p[1][0] == "refit"]
    assert len(refit) == 1
    assert cv.scores_.shape == (3, 1, 3)


@needs_callbacks
def test_scoring_monitor_and_progress_bar_on_cv_in_parallel(capsys):
    pytest.importorskip("rich")
    X, y = _data()
    monitor = ScoringMonitor(scoring="neg_log_loss")
    cv = SoftmaxClassifierCV(Cs=2, cv=2, n_jobs=2).set_callbacks(monitor, ProgressBar())
    cv.fit(X, y)
    rows = monitor.get_logs().data
    in_folds = [r for r in rows if r["task_name"] == "iteration" and len(r["task_id_path"]) == 5]
    assert len(in_folds) == cv.n_iter_.sum()  # reported from the worker processes too
    assert all(np.isfinite(r["neg_log_loss"]) for r in in_folds)
    assert "SoftmaxClassifierCV - fold" in capsys.readouterr().out


class PropagatedRecorder(Recorder):
    """A recorder that meta-estimators hand down to their sub-estimators."""

    max_propagation_depth = None


@needs_callbacks
def test_a_grid_search_hands_its_callbacks_down_to_every_fit():
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    X, y = _data()
    recorder = PropagatedRecorder()
    search = GridSearchCV(SoftmaxClassifier(C=0.5), {"C": [0.5]}, cv=2)
    search.set_callbacks(recorder).fit(X, y)
    per_fit = {}
    for path, _, _ in recorder.ended:
        if path[-1][0] == "iteration":
            per_fit[path[:-1]] = per_fit.get(path[:-1], 0) + 1
    root = ("fit", 0)
    expected = {(root, ("search", 0), ("fit", fold)): int(
        SoftmaxClassifier(C=0.5).fit(X[train], y[train]).n_iter_[0])
        for fold, (train, _) in enumerate(StratifiedKFold(2).split(X, y))}
    expected[(root, ("fit", 1))] = int(search.best_estimator_.n_iter_[0])  # the refit
    assert per_fit == expected
