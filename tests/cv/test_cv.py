"""SoftmaxClassifierCV: agreement with LogisticRegressionCV and GridSearchCV, checks, bad input."""

import functools
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from joblib import parallel_config
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import accuracy_score, log_loss, make_scorer
from sklearn.model_selection import GridSearchCV, PredefinedSplit, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.fixes import parse_version

from _data import blobs

from softmax_regression import SoftmaxClassifier, SoftmaxClassifierCV

CS = np.logspace(-3, 3, 10)
TIGHT = dict(tol=1e-10, max_iter=10000)
# At tol=1e-10 some fits stop at the limit of double precision, just short of
# tol, and say so; in the tests at TIGHT the agreement checks are the measure.
AT_PRECISION_LIMIT = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# LogisticRegressionCV's non-legacy attributes (use_legacy_attributes=False)
# and its refit=False rule for l1_ratio_ are those of scikit-learn 1.9: the
# comparisons with it need that release (SoftmaxClassifierCV itself runs on
# 1.7 and 1.8 too, and the other tests run there).
NEEDS_SKLEARN_1_9 = pytest.mark.skipif(
    parse_version(sklearn.__version__) < parse_version("1.9"),
    reason="compares with LogisticRegressionCV's scikit-learn 1.9 attributes",
)


@functools.cache
def load(name):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def small():
    X, y = datasets.make_classification(n_samples=120, n_features=6, n_informative=4,
                                        n_classes=3, random_state=0)
    return X, y


def quiet_fit(model, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **kwargs)


# -- agreement ----------------------------------------------------------------
@NEEDS_SKLEARN_1_9
@AT_PRECISION_LIMIT
@pytest.mark.parametrize("name", ["wine", "digits", "breast_cancer"])
def test_matches_logistic_regression_cv(name):
    X, y = load(name)
    folds = StratifiedKFold(5)
    ours = SoftmaxClassifierCV(Cs=CS, cv=folds, **TIGHT).fit(X, y)
    ref = quiet_fit(LogisticRegressionCV(Cs=CS, cv=folds, l1_ratios=(0.0,), scoring="neg_log_loss",
                                         use_legacy_attributes=False, **TIGHT), X, y)
    assert ours.C_ == ref.C_
    assert ours.l1_ratio_ == ref.l1_ratio_ == 0.0
    np.testing.assert_array_equal(ours.Cs_, ref.Cs_)
    assert ours.scores_.shape == ref.scores_.shape == (5, 1, 10)
    assert ours.coefs_paths_.shape == ref.coefs_paths_.shape
    assert ours.n_iter_.shape == ref.n_iter_.shape
    np.testing.assert_allclose(ours.scores_, ref.scores_, rtol=0, atol=1e-4)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-4 * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-4 * scale)


@AT_PRECISION_LIMIT
def test_elastic_net_grid_matches_grid_search():
    X, y = load("wine")
    folds = StratifiedKFold(5)
    l1_ratios = [0.0, 0.5, 1.0]
    ours = SoftmaxClassifierCV(Cs=CS, l1_ratios=l1_ratios, cv=folds, **TIGHT).fit(X, y)
    grid = GridSearchCV(SoftmaxClassifier(**TIGHT), {"C": CS, "l1_ratio": l1_ratios},
                        cv=folds, scoring="neg_log_loss").fit(X, y)
    # cv_results_ run over C (outer) and l1_ratio (inner).
    split_scores = np.stack([grid.cv_results_[f"split{k}_test_score"] for k in range(5)])
    split_scores = split_scores.reshape(5, len(CS), len(l1_ratios)).transpose(0, 2, 1)
    assert (ours.C_, ours.l1_ratio_) == (grid.best_params_["C"], grid.best_params_["l1_ratio"])
    np.testing.assert_allclose(ours.scores_, split_scores, rtol=0, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X), grid.predict_proba(X), rtol=0, atol=1e-6)


@NEEDS_SKLEARN_1_9
@AT_PRECISION_LIMIT
def test_refit_false_follows_logistic_regression_cv():
    X, y = load("wine")
    folds = StratifiedKFold(4)
    Cs = np.logspace(-2, 2, 5)
    ours = SoftmaxClassifierCV(Cs=Cs, cv=folds, refit=False, **TIGHT).fit(X, y)
    ref = quiet_fit(LogisticRegressionCV(Cs=Cs, cv=folds, l1_ratios=(0.0,), scoring="neg_log_loss",
                                         refit=False, use_legacy_attributes=False, **TIGHT), X, y)
    best = ours.scores_[:, 0, :].argmax(axis=1)
    assert ours.C_ == pytest.approx(np.mean(Cs[best])) == ref.C_
    # The model is the average of the fold models at their own best C.
    average = np.mean([ours.coefs_paths_[f, 0, i] for f, i in enumerate(best)], axis=0)
    np.testing.assert_allclose(ours.coef_, average[:, :-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, average[:, -1], rtol=0, atol=1e-12)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-4 * scale)


def test_refit_false_l1_ratio_is_the_mean_of_the_fold_bests(small):
    X, y = small
    model = SoftmaxClassifierCV(Cs=[0.01, 1.0], l1_ratios=[0.0, 1.0], cv=3, refit=False).fit(X, y)
    flat = model.scores_.transpose(0, 2, 1).reshape(3, -1)  # (C, l1_ratio) order per fold
    i, j = np.unravel_index(flat.argmax(axis=1), (2, 2))
    assert model.C_ == pytest.approx(np.mean(model.Cs_[i]))
    assert model.l1_ratio_ == pytest.approx(np.mean(model.l1_ratios_[j]))


@AT_PRECISION_LIMIT
def test_refit_is_the_classifier_at_the_chosen_point(small):
    X, y = small
    model = SoftmaxClassifierCV(Cs=[0.1, 1.0, 10.0], l1_ratios=[0.0, 0.5], cv=3, **TIGHT).fit(X, y)
    single = SoftmaxClassifier(C=model.C_, l1_ratio=model.l1_ratio_, **TIGHT).fit(X, y)
    np.testing.assert_allclose(model.coef_, single.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(X), single.predict_proba(X), atol=1e-6)
    summed = model.scores_.sum(axis=0)
    j, i = np.unravel_index(summed.argmax(), summed.shape)
    assert (model.C_, model.l1_ratio_) == (model.Cs_[i], model.l1_ratios_[j])


def test_refit_starts_from_the_fold_average(small, monkeypatch):
    import softmax_regression._cv.estimator as cv_module

    starts = []

    def recording(spec, problem, coef0, *args, **kwargs):
        starts.append(np.array(coef0))
        return solve_point(spec, problem, coef0, *args, **kwargs)

    solve_point = cv_module.solve_point
    monkeypatch.setattr(cv_module, "solve_point", recording)
    X, y = small
    model = SoftmaxClassifierCV(Cs=[0.1, 1.0, 10.0], cv=3).fit(X, y)
    i = list(model.Cs_).index(model.C_)
    np.testing.assert_allclose(starts[-1], model.coefs_paths_[:, 0, i].mean(axis=0))


def test_path_is_warm_started():
    X, y = load("wine")
    Cs = np.logspace(-2, 2, 6)
    folds = list(StratifiedKFold(3).split(X, y))
    model = SoftmaxClassifierCV(Cs=Cs, cv=folds, max_iter=1000).fit(X, y)
    cold = [[SoftmaxClassifier(C=C, max_iter=1000, solver=model.solver).fit(X[train], y[train]).n_iter_[0]
             for C in Cs] for train, _ in folds]
    # The strongest penalty starts from the priors in both (the path scaled
    # by the Hessian diagonal); every later point is far cheaper warm.
    assert (model.n_iter_[:, 0, 0] <= np.asarray(cold)[:, 0]).all()
    assert model.n_iter_[:, 0, 1:].sum() < 0.6 * np.asarray(cold)[:, 1:].sum()


@pytest.mark.parametrize("features", ["standardized", "unscaled", "[0, 1]"])
def test_the_path_is_scaled_by_the_data_diagonal_and_stops_within_tol(features, monkeypatch):
    # Unscaled digits (pixels 0-16): strong penalties leave the intercepts'
    # curvature (the data's alone) far below the weights'; the path scales
    # L-BFGS by each point's Hessian diagonal. In [0, 1], border pixels that
    # are nearly always 0 count as features of mean square 1, or the scale
    # would overshoot along them (benchmarks/results/cv_diagonal.md).
    import softmax_regression._cv.path as path_module

    X, y = datasets.load_digits(return_X_y=True)
    X = {"standardized": StandardScaler().fit_transform(X), "unscaled": X,
         "[0, 1]": X / 16.0}[features]
    Cs = np.logspace(-3, 1, 5)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    solved = []
    solve_point = path_module.solve_point

    def recording(spec, problem, *args, **kwargs):
        result = solve_point(spec, problem, *args, **kwargs)
        solved.append((problem, result))
        return result

    monkeypatch.setattr(path_module, "solve_point", recording)
    model = SoftmaxClassifierCV(Cs=Cs, cv=folds, max_iter=1000).fit(X, y)
    assert len(solved) == len(folds) * len(Cs)
    # Each point meets tol on its fold's float64 problem, scaled by a diagonal.
    for point, result in solved:
        assert point.dtype == np.float64 and result.curvature.scale is not None
        _, G = point.smooth_value_gradient(result.coef)
        assert point.optimality(result.coef, G) <= model.tol
    monkeypatch.setattr(path_module, "path_curvature", lambda problem, coef: None)
    unscaled_path = SoftmaxClassifierCV(Cs=Cs, cv=folds, max_iter=1000).fit(X, y)
    limit = 1.0 if features == "[0, 1]" else 0.9
    assert model.n_iter_.sum() <= limit * unscaled_path.n_iter_.sum()


@pytest.mark.parametrize("data", ["digits", "above_one_fits_copy_limit"])
def test_a_path_makes_one_float32_copy_per_fold(data, monkeypatch):
    # The points of a fold share its float32 copy (and its transposed copy);
    # a path copies dense folds beyond the 4 MiB of one fit's copy.
    from softmax_regression._model.problem import TRANSPOSED_BYTES, SoftmaxProblem

    made = []
    original = SoftmaxProblem._single_precision

    def counting(self):
        single = original(self)
        made.append(single)
        return single

    monkeypatch.setattr(SoftmaxProblem, "_single_precision", counting)
    if data == "digits":
        X, y = load("digits")
    else:
        X, y = blobs(9000, 100, 10, seed=0, spread=3.0)
    folds = list(StratifiedKFold(3).split(X, y))
    model = SoftmaxClassifierCV(Cs=[0.01, 0.1, 1.0, 10.0], cv=folds).fit(X, y)
    # One per fold and one for the refit on all rows.
    assert len(made) == len(folds) + 1
    assert all(single.X.dtype == np.float32 for single in made)
    assert (model.n_iter_[:, 0, :2] > 0).all()
    if data != "digits":
        assert min(single.X.nbytes for single in made) * 2 > TRANSPOSED_BYTES


# -- scikit-learn's checks ----------------------------------------------------
@parametrize_with_checks([SoftmaxClassifierCV(Cs=3, cv=3)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- attributes, grid and scoring ----------------------------------------------
def test_int_Cs_is_logistic_regression_cv_grid(small):
    X, y = small
    model = SoftmaxClassifierCV(Cs=4, cv=3).fit(X, y)
    np.testing.assert_array_equal(model.Cs_, np.logspace(-4, 4, 4))
    assert model.coefs_paths_.shape == (3, 1, 4, 3, X.shape[1] + 1)
    assert model.n_iter_.shape == (3, 1, 4)
    assert isinstance(model.C_, float) and isinstance(model.l1_ratio_, float)


@AT_PRECISION_LIMIT
def test_unsorted_grid_keeps_the_order_given(small):
    X, y = small
    Cs, l1_ratios = [10.0, 0.1, 1.0], [1.0, 0.0]
    shuffled = SoftmaxClassifierCV(Cs=Cs, l1_ratios=l1_ratios, cv=3, **TIGHT).fit(X, y)
    ordered = SoftmaxClassifierCV(Cs=sorted(Cs), l1_ratios=sorted(l1_ratios), cv=3,
                                  **TIGHT).fit(X, y)
    np.testing.assert_array_equal(shuffled.Cs_, Cs)
    c_order, l_order = np.argsort(Cs), np.argsort(l1_ratios)
    np.testing.assert_allclose(shuffled.scores_[:, l_order][:, :, c_order], ordered.scores_,
                               atol=1e-7)
    assert (shuffled.C_, shuffled.l1_ratio_) == (ordered.C_, ordered.l1_ratio_)


def test_binary_coefs_paths_have_one_logit():
    X, y = load("breast_cancer")
    model = SoftmaxClassifierCV(Cs=[0.1, 1.0], cv=3, fit_intercept=False).fit(X, y)
    assert model.coefs_paths_.shape == (3, 1, 2, 1, X.shape[1])
    assert model.coef_.shape == (1, X.shape[1])
    np.testing.assert_array_equal(model.intercept_, [0.0])


@pytest.mark.parametrize("fast, generic", [
    ("neg_log_loss", make_scorer(log_loss, greater_is_better=False,
                                 response_method="predict_proba")),
    ("accuracy", make_scorer(accuracy_score)),
])
@pytest.mark.parametrize("weighted", [False, True])
def test_scores_from_logits_equal_the_scorers(small, fast, generic, weighted):
    X, y = small
    # Test folds without class 2 need the scorer told all the labels.
    test_fold = np.where(y == 2, -1, np.arange(len(y)) % 3)
    cv = PredefinedSplit(test_fold)
    weight = np.random.default_rng(0).uniform(0.5, 2, len(y)) if weighted else None
    a = SoftmaxClassifierCV(Cs=[1e-2, 1.0, 1e4], cv=cv, scoring=fast).fit(X, y, sample_weight=weight)
    b = SoftmaxClassifierCV(Cs=[1e-2, 1.0, 1e4], cv=cv, scoring=generic).fit(
        X, y, sample_weight=weight)
    np.testing.assert_allclose(a.scores_, b.scores_, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_held_out_log_loss_of_dense_rows_equals_the_scorers(n_classes, dtype, rtol):
    # Dense NumPy rows are scored with their logits laid out classes x rows.
    X, y = datasets.make_classification(n_samples=150, n_features=5, n_informative=3,
                                        n_classes=n_classes, random_state=1)
    X = X.astype(dtype)
    scorer = make_scorer(log_loss, greater_is_better=False, response_method="predict_proba")
    for fit_intercept in (True, False):
        params = dict(Cs=[1e-2, 1.0, 1e4], cv=3, fit_intercept=fit_intercept)
        fast = SoftmaxClassifierCV(scoring="neg_log_loss", **params).fit(X, y)
        generic = SoftmaxClassifierCV(scoring=scorer, **params).fit(X, y)
        np.testing.assert_allclose(fast.scores_, generic.scores_, rtol=rtol)


def test_log_loss_clips_like_scikit_learn():
    # A held-out sample far on the wrong side of a confident model: its
    # probability is far below machine epsilon, where log_loss clips.
    X = np.r_[np.linspace(-3, -1, 10), np.linspace(1, 3, 10), [8.0]][:, None]
    y = np.r_[np.zeros(10, int), np.ones(10, int), [0]]
    test_fold = np.r_[np.arange(20) % 2, [0]]
    scorer = make_scorer(log_loss, greater_is_better=False, response_method="predict_proba")
    fast = quiet_fit(SoftmaxClassifierCV(Cs=[1e4], cv=PredefinedSplit(test_fold)), X, y)
    generic = quiet_fit(SoftmaxClassifierCV(Cs=[1e4], cv=PredefinedSplit(test_fold),
                                            scoring=scorer), X, y)
    model = fast.coefs_paths_[0, 0, 0]
    assert model[0, 0] * 8.0 + model[0, 1] > 40  # the outlier's log-probability < log(eps)
    np.testing.assert_allclose(fast.scores_, generic.scores_, rtol=1e-12)


def test_other_scorer_and_score_method(small):
    X, y = small
    model = SoftmaxClassifierCV(Cs=[0.1, 1.0], cv=3, scoring="balanced_accuracy").fit(X, y)
    assert np.all((model.scores_ >= 0) & (model.scores_ <= 1))
    from sklearn.metrics import balanced_accuracy_score

    assert model.score(X, y) == pytest.approx(balanced_accuracy_score(y, model.predict(X)))
    default = SoftmaxClassifierCV(Cs=[0.1, 1.0], cv=3).fit(X, y)
    assert default.score(X, y) == pytest.approx(-log_loss(y, default.predict_proba(X)))
    plain = SoftmaxClassifierCV(Cs=[0.1, 1.0], cv=3, scoring=None).fit(X, y)
    assert plain.score(X, y) == pytest.approx(accuracy_score(y, plain.predict(X)))


def test_fold_without_a_class_in_training(small):
    X, y = small
    # Fold 0 holds out every sample of class 2: its training split lacks it.
    test_fold = np.where(y == 2, 0, 1 + np.arange(len(y)) % 2)
    model = SoftmaxClassifierCV(Cs=[0.1, 1.0, 10.0], cv=PredefinedSplit(test_fold),
                                scoring="accuracy").fit(X, y)
    assert model.coefs_paths_.shape == (3, 1, 3, 3, X.shape[1] + 1)
    assert np.all(np.isfinite(model.scores_))
    # A model trained without class 2 never predicts it on its test fold.
    assert np.all(model.scores_[0] == 0.0)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])


# -- sample weights -------------------------------------------------------------
@AT_PRECISION_LIMIT
def test_integer_weights_equal_repeated_rows(small):
    X, y = small
    weight = np.random.default_rng(1).integers(0, 4, len(y))
    weight[:6] = 1  # every class keeps weight in every fold
    fold_of = np.arange(len(y)) % 3
    repeated = np.repeat(np.arange(len(y)), weight)
    Cs = [0.01, 0.3, 10.0]
    weighted = SoftmaxClassifierCV(Cs=Cs, cv=PredefinedSplit(fold_of), **TIGHT).fit(
        X, y, sample_weight=weight)
    copies = SoftmaxClassifierCV(Cs=Cs, cv=PredefinedSplit(fold_of[repeated]), **TIGHT).fit(
        X[repeated], y[repeated])
    np.testing.assert_allclose(weighted.scores_, copies.scores_, rtol=0, atol=1e-7)
    np.testing.assert_allclose(weighted.coefs_paths_, copies.coefs_paths_, rtol=0, atol=1e-6)
    assert weighted.C_ == copies.C_
    np.testing.assert_allclose(weighted.coef_, copies.coef_, rtol=0, atol=1e-6)


def test_sample_weight_reaches_the_scorer(small):
    X, y = small
    seen = []

    def scorer(estimator, X_test, y_test, sample_weight=None):
        seen.append(sample_weight)
        return accuracy_score(y_test, estimator.predict(X_test), sample_weight=sample_weight)

    weight = np.arange(1, len(y) + 1, dtype=float)
    folds = list(StratifiedKFold(3).split(X, y))
    SoftmaxClassifierCV(Cs=[1.0], cv=folds, scoring=scorer).fit(X, y, sample_weight=weight)
    assert len(seen) == 3
    for (_, test), got in zip(folds, seen):
        np.testing.assert_array_equal(got, weight[test])


@NEEDS_SKLEARN_1_9
@AT_PRECISION_LIMIT
def test_balanced_class_weight_is_computed_on_all_of_y(small):
    X, y = small
    keep = np.r_[np.flatnonzero(y != 2), np.flatnonzero(y == 2)[:10]]
    X, y = X[keep], y[keep]
    folds = StratifiedKFold(3)
    ours = SoftmaxClassifierCV(Cs=[0.1, 10.0], cv=folds, class_weight="balanced", **TIGHT).fit(X, y)
    ref = quiet_fit(LogisticRegressionCV(Cs=[0.1, 10.0], cv=folds, class_weight="balanced",
                                         l1_ratios=(0.0,), scoring="neg_log_loss",
                                         use_legacy_attributes=False, **TIGHT), X, y)
    np.testing.assert_allclose(ours.scores_, ref.scores_, rtol=0, atol=1e-6)


# -- inputs and parallelism -------------------------------------------------------
@AT_PRECISION_LIMIT
def test_sparse_and_float32(small):
    X, y = small
    dense = SoftmaxClassifierCV(Cs=[0.1, 1.0], cv=3, **TIGHT).fit(X, y)
    sparse = SoftmaxClassifierCV(Cs=[0.1, 1.0], cv=3, **TIGHT).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.scores_, dense.scores_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=0, atol=1e-7)
    single = SoftmaxClassifierCV(Cs=[0.1, 1.0], cv=3, tol=1e-5).fit(X.astype(np.float32), y)
    assert single.coef_.dtype == np.float32
    assert single.coefs_paths_.dtype == np.float32
    np.testing.assert_allclose(single.scores_, dense.scores_, rtol=0, atol=1e-4)


def test_feature_names_are_kept(small):
    pd = pytest.importorskip("pandas")
    X, y = small
    frame = pd.DataFrame(X, columns=[f"f{k}" for k in range(X.shape[1])])
    model = SoftmaxClassifierCV(Cs=[1.0], cv=3).fit(frame, y)
    np.testing.assert_array_equal(model.feature_names_in_, frame.columns)
    assert model.n_features_in_ == X.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict_proba(frame)
    assert not hasattr(SoftmaxClassifierCV(Cs=[1.0], cv=3).fit(X, y), "feature_names_in_")
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame.rename(columns={"f0": "other"}))


def test_parallel_folds_give_the_same_result(small):
    X, y = small
    one = SoftmaxClassifierCV(Cs=[0.1, 1.0], cv=3, n_jobs=1).fit(X, y)
    # Threads start faster than processes; the BLAS limit per fold applies to both.
    with parallel_config(backend="threading"):
        two = SoftmaxClassifierCV(Cs=[0.1, 1.0], cv=3, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(one.scores_, two.scores_)
    np.testing.assert_array_equal(one.coef_, two.coef_)


def test_sgd_solver(small):
    X, y = small
    X = StandardScaler().fit_transform(X)
    a = SoftmaxClassifierCV(Cs=[0.1, 10.0], cv=3, solver="sgd", l1_ratios=[0.0, 0.5],
                            random_state=0, max_iter=30)
    b = SoftmaxClassifierCV(Cs=[0.1, 10.0], cv=3, solver="sgd", l1_ratios=[0.0, 0.5],
                            random_state=0, max_iter=30)
    quiet_fit(a, X, y)
    quiet_fit(b, X, y)
    np.testing.assert_array_equal(a.scores_, b.scores_)
    assert a.score(X, y) > -0.9  # held-out log loss of a useful model


def test_paths_not_converging_warn_once_with_the_count(small):
    X, y = small
    with pytest.warns(ConvergenceWarning) as record:
        SoftmaxClassifierCV(Cs=[0.1, 100.0], cv=3, max_iter=1, tol=1e-12).fit(X, y)
    messages = [str(w.message) for w in record]
    paths = [m for m in messages if "cross-validation paths" in m]
    assert len(paths) == 1
    assert "6 of the 6 fits" in paths[0] and "first at fold 0, C=0.1" in paths[0]
    assert any("did not converge in max_iter=1" in m for m in messages)  # the refit


# -- bad input ----------------------------------------------------------------------
BAD_FITS = {
    "nan in X": (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 7, np.nan, X), y),
                 {}, "NaN"),
    "one class": (lambda X, y: (X, np.zeros_like(y)), {},
                  "SoftmaxClassifierCV needs samples of at least 2 classes.*only one class"),
    "continuous target": (lambda X, y: (X, y + 0.5), {}, "Unknown label type"),
    "negative weight": (lambda X, y: (X, y), {"sample_weight": "negative"}, "Negative values"),
    "all-zero weights": (lambda X, y: (X, y), {"sample_weight": "zeros"}, "(non-zero|all zero)"),
    "weights leave one class": (lambda X, y: (X, y), {"sample_weight": "one_class"},
                                "fewer than 2 classes"),
    "1-D X": (lambda X, y: (X[:, 0], y), {}, "2D array"),
}


def _weights(kind, y):
    return {
        "negative": np.where(np.arange(len(y)) == 5, -1.0, 1.0),
        "zeros": np.zeros(len(y)),
        "one_class": (y == 1).astype(float),
    }[kind]


@pytest.mark.parametrize("case", sorted(BAD_FITS))
def test_bad_fit_input_raises_and_keeps_the_fitted_model(small, case):
    X, y = small
    make, kwargs, match = BAD_FITS[case]
    model = SoftmaxClassifierCV(Cs=[1.0], cv=3).fit(X, y)
    before = pickle.dumps(model)
    Xb, yb = make(X, y)
    if "sample_weight" in kwargs:
        kwargs = {"sample_weight": _weights(kwargs["sample_weight"], yb)}
    with pytest.raises(ValueError, match=match):
        model.fit(Xb, yb, **kwargs)
    assert pickle.dumps(model) == before


@pytest.mark.parametrize("params, match", [
    ({"Cs": []}, r"Cs must be an int or a non-empty list of numbers > 0.*got Cs=\[\]"),
    ({"Cs": [1.0, 0.0]}, r"Cs must be .* > 0 .*got Cs=\[1.0, 0.0\]"),
    ({"Cs": [-1.0]}, r"Cs must be .* > 0"),
    ({"Cs": [np.nan]}, r"Cs must be .* > 0"),
    ({"Cs": 0}, r"The 'Cs' parameter"),
    ({"Cs": [[1.0, 2.0]]}, r"Cs must be 1-D"),
    ({"l1_ratios": [0.0, 1.5]}, r"l1_ratios must be a non-empty list of numbers in \[0, 1\]"),
    ({"l1_ratios": [-0.1]}, r"l1_ratios must be .*in \[0, 1\]; got l1_ratios=\[-0.1\]"),
    ({"l1_ratios": []}, r"l1_ratios must be a non-empty list"),
    ({"l1_ratios": ["a"]}, r"l1_ratios must contain numbers"),
    ({"solver": "newton-cg", "l1_ratios": [0.0, 0.5]},
     r"solver='newton-cg' does not support an L1 penalty, but l1_ratios=\[0.0, 0.5\].*"
     r"\['auto', 'lbfgs', 'sgd'\]"),
    ({"scoring": "no_such_metric"}, r"The 'scoring' parameter"),
    ({"solver": "sag"}, r"The 'solver' parameter"),
    ({"cv": "five"}, r"The 'cv' parameter"),
    ({"max_iter": 0}, r"The 'max_iter' parameter"),
])
def test_invalid_parameters(small, params, match):
    X, y = small
    with pytest.raises(ValueError, match=match):
        SoftmaxClassifierCV(**params).fit(X, y)


def test_newton_cg_without_l1_works(small):
    X, y = small
    model = SoftmaxClassifierCV(Cs=[1.0], solver="newton-cg", l1_ratios=[0.0], cv=3).fit(X, y)
    # l1_ratio has no effect without a penalty: allowed for any solver.
    SoftmaxClassifierCV(Cs=[np.inf], solver="newton-cg", l1_ratios=[0.5], cv=3).fit(X, y)
    assert model.C_ == 1.0


# -- the plot ------------------------------------------------------------------------
def test_plot_path_marks_the_chosen_point(small):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = small
    model = SoftmaxClassifierCV(Cs=[0.01, 0.1, 1.0, 10.0], l1_ratios=[0.0, 1.0], cv=3).fit(X, y)
    ax = model.plot_path()
    try:
        assert isinstance(ax, matplotlib.axes.Axes)
        assert ax.get_xscale() == "log"
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert {"l1_ratio=0", "l1_ratio=1"} <= set(lines)
        np.testing.assert_allclose(lines["l1_ratio=1"].get_ydata(),
                                   model.scores_[:, 1].mean(axis=0))
        chosen = [line for line in ax.get_lines() if line.get_gid() == "chosen"]
        assert len(chosen) == 1
        j = list(model.l1_ratios_).index(model.l1_ratio_)
        i = list(model.Cs_).index(model.C_)
        np.testing.assert_allclose(chosen[0].get_xdata(), [model.C_])
        np.testing.assert_allclose(chosen[0].get_ydata(), [model.scores_[:, j, i].mean()])
        assert len(ax.collections) == 2  # one band per l1_ratio
    finally:
        plt.close(ax.figure)


# -- NaN scores, groups, empty cv, what the scorer sees ------------------------------
def test_nan_fold_scores_rank_last_and_warn(small):
    X, y = small
    Cs = [0.01, 0.1, 1.0, 10.0]

    def scorer(estimator, X_test, y_test):
        # Undefined (NaN) for the two weakest penalties on the first fold only.
        if estimator.C > 1.0 - 1e-12 and len(y_test) == 40 and X_test[0, 0] == X[0, 0]:
            return np.nan
        return accuracy_score(y_test, estimator.predict(X_test))

    folds = [(np.arange(40, 120), np.arange(40)), (np.arange(40), np.arange(40, 120))]
    with pytest.warns(UserWarning, match=r"2 of the 8 fold scores are NaN: fold 0 at "
                                         r"\(C=1, l1_ratio=0\), \(C=10, l1_ratio=0\); "
                                         r"these points rank last"):
        model = SoftmaxClassifierCV(Cs=Cs, cv=folds, scoring=scorer).fit(X, y)
    assert np.isnan(model.scores_[0, 0, 2:]).all()
    totals = model.scores_.sum(axis=0)[0]
    assert model.C_ == Cs[int(np.nanargmax(totals))]
    assert np.isfinite(totals[Cs.index(model.C_)])


def test_nan_scores_everywhere_raise():
    X, y = datasets.load_iris(return_X_y=True)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    weight = np.ones(len(y))
    weight[folds[0][1]] = 0.0  # the held-out rows of fold 0 weigh nothing: no score
    for refit in (True, False):
        model = SoftmaxClassifierCV(Cs=[1e-4, 1.0, 100.0], cv=folds, refit=refit)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            with pytest.raises(ValueError, match=r"Every point of the grid has a NaN score on "
                                                 r"fold 0: there is no C and l1_ratio to choose"):
                model.fit(X, y, sample_weight=weight)


def test_groups_reach_the_splitter(small):
    from sklearn.model_selection import GroupKFold

    X, y = small
    groups = np.arange(len(y)) // 10
    model = SoftmaxClassifierCV(Cs=[0.1, 1.0], cv=GroupKFold(3)).fit(X, y, groups=groups)
    folds = list(GroupKFold(3).split(X, y, groups))
    same = SoftmaxClassifierCV(Cs=[0.1, 1.0], cv=folds).fit(X, y)
    np.testing.assert_array_equal(model.scores_, same.scores_)
    with pytest.raises(ValueError, match="The 'groups' parameter should not be None"):
        SoftmaxClassifierCV(Cs=[0.1], cv=GroupKFold(3)).fit(X, y)


@pytest.mark.parametrize("make_cv", [lambda X, y: [], lambda X, y: iter([])])
def test_cv_without_splits_raises(small, make_cv):
    X, y = small
    with pytest.raises(ValueError, match=r"cv produced no splits"):
        SoftmaxClassifierCV(Cs=[1.0], cv=make_cv(X, y)).fit(X, y)


def test_generator_cv_is_used_up_by_the_first_fit(small):
    X, y = small
    model = SoftmaxClassifierCV(Cs=[1.0], cv=StratifiedKFold(3).split(X, y)).fit(X, y)
    assert model.scores_.shape == (3, 1, 1)
    with pytest.raises(ValueError, match=r"cv produced no splits.*generator.*list"):
        model.fit(X, y)


def test_callable_scorer_sees_the_point_it_scores(small):
    X, y = small
    seen = set()

    def scorer(estimator, X_test, y_test):
        seen.add((estimator.C, estimator.l1_ratio, estimator.fit_intercept, estimator.tol,
                  estimator.class_weight))
        return accuracy_score(y_test, estimator.predict(X_test))

    SoftmaxClassifierCV(Cs=[0.1, np.inf], l1_ratios=[0.0, 0.5], cv=2, scoring=scorer,
                        fit_intercept=False, tol=1e-3, class_weight="balanced").fit(X, y)
    assert seen == {(C, r, False, 1e-3, "balanced") for C in (0.1, np.inf) for r in (0.0, 0.5)}


def test_score_before_fit_is_not_fitted(small):
    from sklearn.exceptions import NotFittedError

    X, y = small
    for scoring in ("f1_macro", "neg_log_loss", None):
        with pytest.raises(NotFittedError, match="SoftmaxClassifierCV instance is not fitted"):
            SoftmaxClassifierCV(scoring=scoring).score(X, y)


@pytest.mark.parametrize("Cs, match", [
    (True, r"Cs must be an int or a non-empty list of numbers > 0 \(np.inf allowed\), not "
           r"booleans; got Cs=True"),
    ([True, True], r"not booleans; got Cs=\[True, True\]"),
    (np.bool_(True), r"The 'Cs' parameter of SoftmaxClassifierCV must be an int"),
])
def test_bool_Cs_is_refused(small, Cs, match):
    X, y = small
    with pytest.raises(ValueError, match=match):
        SoftmaxClassifierCV(Cs=Cs, cv=3).fit(X, y)


def test_default_check_estimator_fails_the_fold_count_and_n_iter_checks():
    # Documented in docs/user_guide/cv.md: with the defaults, check_sparsify_coefficients
    # fails for both estimators (the default 5 stratified folds need 5
    # samples per class; the check has 3). Both also fail the n_iter check on
    # iris: the points of weak penalties meet tol at the previous point's
    # solution, and report the 0 iterations they take.
    from sklearn.utils.estimator_checks import (
        check_non_transformer_estimators_n_iter,
        check_sparsify_coefficients,
    )

    for estimator in (SoftmaxClassifierCV(), LogisticRegressionCV()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ValueError, match="n_splits=5 cannot be greater than the number "
                                                 "of members in each class"):
                check_sparsify_coefficients(type(estimator).__name__, estimator)
            with pytest.raises(AssertionError, match="greater or equal to 1"):
                check_non_transformer_estimators_n_iter(type(estimator).__name__, estimator)
    X, y = datasets.load_iris(return_X_y=True)
    model = SoftmaxClassifierCV().fit(X, y)
    # Zeros at weak penalties (C = 1e4 in most folds), after points that iterate.
    assert (model.n_iter_[:, 0, 0] >= 1).all()
    assert (model.n_iter_[:, 0, -1] == 0).sum() >= 3


def test_a_point_whose_start_meets_tol_reports_0_iterations():
    # A repeated C starts from the solution just found: no iteration is needed,
    # and n_iter_ says 0 rather than a made-up 1.
    X, y = datasets.load_iris(return_X_y=True)
    model = SoftmaxClassifierCV(Cs=[0.1, 0.1], cv=3).fit(X, y)
    assert (model.n_iter_[:, 0, 0] >= 1).all()
    assert (model.n_iter_[:, 0, 1] == 0).all()


def test_plot_path_draws_an_infinite_C(small):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = small
    model = SoftmaxClassifierCV(Cs=[1e-4, 1e-2, np.inf], cv=3).fit(X, y)
    assert model.C_ == np.inf
    ax = model.plot_path()
    try:
        (chosen,) = [line for line in ax.get_lines() if line.get_gid() == "chosen"]
        x_inf = chosen.get_xdata()[0]
        assert np.isfinite(x_inf) and x_inf > 1e-2
        left, right = ax.get_xlim()
        assert left < x_inf < right
        np.testing.assert_allclose(chosen.get_ydata(), [model.scores_[:, 0, 2].mean()])
        labels = {tick.get_text(): loc for tick, loc in
                  zip(ax.get_xticklabels(), ax.get_xticks())}
        assert labels["inf"] == x_inf
        (line,) = [line for line in ax.get_lines() if line.get_label() == "l1_ratio=0"]
        np.testing.assert_allclose(line.get_xdata()[-1], x_inf)
        np.testing.assert_allclose(line.get_ydata(), model.scores_[:, 0].mean(axis=0))
    finally:
        plt.close(ax.figure)


def test_groups_are_routed_as_fit_metadata(small):
    import sklearn
    from sklearn.model_selection import GroupKFold, cross_validate

    X, y = small
    groups = np.arange(len(y)) // 10
    seen = []

    class Recording(GroupKFold):
        def split(self, X, y=None, groups=None):
            seen.append(groups)
            return super().split(X, y, groups)

    with sklearn.config_context(enable_metadata_routing=True):
        inner = SoftmaxClassifierCV(Cs=[0.1, 1.0], cv=Recording(3)).set_fit_request(groups=True)
        cross_validate(inner, X, y, cv=GroupKFold(2), params={"groups": groups})
    assert len(seen) == 2
    for got in seen:
        assert got is not None and set(np.unique(got)) < set(np.unique(groups))


# Scaling every sample weight by `a` acts as C * a: each case pairs extreme
# weights and a grid with unit-scale weights and the grid times `a`.
EXTREME_WEIGHTS = {
    "1e308": (1e308, [1e-310, 1e-308, 1e-306, 1.0], [1e-2, 1.0, 1e2, 1e308]),
    "1e-300": (1e-300, [1e2, 1e10, 1e300], [1e-298, 1e-290, 1.0]),
    "1e-50": (1e-50, [1.0, 1e45, 1e50], [1e-50, 1e-5, 1.0]),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "sgd"])
@pytest.mark.parametrize("case", sorted(EXTREME_WEIGHTS))
def test_extreme_weights_score_and_choose_as_unit_weights(case, solver, dtype):
    weight, Cs, unit_Cs = EXTREME_WEIGHTS[case]
    X, y = blobs(n_samples=90, n_features=4, n_classes=3, spread=3.0)  # overlapping classes
    X = X.astype(dtype)
    shape = np.linspace(0.5, 1.5, 90)
    params = dict(solver=solver, random_state=0, cv=3, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow on the way
        warnings.simplefilter("ignore", ConvergenceWarning)
        extreme = SoftmaxClassifierCV(Cs=Cs, **params).fit(X, y, sample_weight=shape * weight)
        unit = SoftmaxClassifierCV(Cs=unit_Cs, **params).fit(X, y, sample_weight=shape)
    assert np.all(np.isfinite(extreme.scores_))
    # The two grids are the same problems solved to tol=1e-4, not the same
    # floating-point operations: scores and probabilities agree to about tol.
    np.testing.assert_allclose(extreme.scores_, unit.scores_, rtol=1e-3)
    assert Cs.index(extreme.C_) == unit_Cs.index(unit.C_)
    np.testing.assert_allclose(extreme.predict_proba(X), unit.predict_proba(X), atol=1e-3)


@pytest.mark.parametrize("weighted", [False, True])
def test_binary_accuracy_scores_read_the_class_at_logit_zero(weighted):
    # Overlapping binary classes and a weak penalty grid: many held-out
    # logits fall just above 0, where a threshold other than 0 would read
    # another class. Each fold score must be the accuracy of "logit > 0"
    # computed here from the fold's coefficients.
    X, y = blobs(n_samples=150, n_features=3, n_classes=2, spread=4.0)
    weight = np.random.default_rng(1).uniform(0.5, 2.0, len(y)) if weighted else None
    cv = StratifiedKFold(3)
    model = SoftmaxClassifierCV(Cs=[1e-3, 1e-2, 1e-1, 1.0], cv=cv, scoring="accuracy").fit(
        X, y, sample_weight=weight)
    near_zero = 0
    for f, (train, test) in enumerate(cv.split(X, y)):
        for i in range(len(model.Cs_)):
            coef = model.coefs_paths_[f, 0, i]
            z = X[test] @ coef[0, :-1] + coef[0, -1]
            near_zero += int(np.count_nonzero((z > 0) & (z < 0.5)))
            expected = accuracy_score(y[test], model.classes_[(z > 0).astype(int)],
                                      sample_weight=None if weight is None else weight[test])
            assert model.scores_[f, 0, i] == pytest.approx(expected, abs=1e-12)
    assert near_zero > 0  # the test can see a threshold moved off 0
    best = int(np.argmax(model.scores_.sum(axis=0)[0]))
    assert model.C_ == model.Cs_[best]


def test_extrapolations_reproduce_paths_linear_and_quadratic_in_log_c():
    from softmax_regression._cv.path import extrapolations

    Cs = [0.01, 0.1, 1.0]
    base = np.arange(6.0).reshape(2, 3)
    linear = [(C, base * (1 + np.log(C))) for C in Cs]
    quadratic = [(C, base * (1 + np.log(C) ** 2)) for C in Cs]
    C = 10.0
    # Degree 1 from the last two points, degree 2 from the last three.
    line, curve = extrapolations(linear, C)
    np.testing.assert_allclose(line, base * (1 + np.log(C)), rtol=1e-12)
    np.testing.assert_allclose(curve, base * (1 + np.log(C)), rtol=1e-12)
    _, curve = extrapolations(quadratic, C)
    np.testing.assert_allclose(curve, base * (1 + np.log(C) ** 2), rtol=1e-12)
    # Nothing to extrapolate over: one point, a repeated C, C = inf.
    assert extrapolations(linear[:1], C) == []
    assert extrapolations(linear, 1.0) == []
    assert extrapolations(linear[:2] + [linear[1]], C) == []
    assert extrapolations(linear, np.inf) == []


def test_boolean_mask_splits_are_the_index_splits(small):
    # LogisticRegressionCV takes (train, test) boolean masks as well as indices.
    X, y = small
    mask = np.arange(len(y)) % 3 == 0
    masks = [(~mask, mask), (mask, ~mask)]
    indices = [(np.flatnonzero(train), np.flatnonzero(test)) for train, test in masks]
    by_mask = SoftmaxClassifierCV(Cs=[0.1, 1.0, 10.0], cv=masks).fit(X, y)
    by_index = SoftmaxClassifierCV(Cs=[0.1, 1.0, 10.0], cv=indices).fit(X, y)
    np.testing.assert_array_equal(by_mask.scores_, by_index.scores_)
    np.testing.assert_array_equal(by_mask.coef_, by_index.coef_)
    with pytest.raises(ValueError, match="one entry per sample"):
        SoftmaxClassifierCV(Cs=[1.0], cv=[(~mask[:-1], mask[:-1])]).fit(X, y)
