"""SoftmaxClassifierCV: C and l1_ratio chosen by cross-validation along a path."""

import math
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, cpu_count, delayed, effective_n_jobs
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, check_scoring, get_scorer_names, log_loss
from sklearn.model_selection import check_cv
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._utils.arrays import ACCEPTED_SPARSE, float_dtypes, host_numpy
from .._utils.atomic import restore_on_failure, store_fitted
from .._fitting.callbacks import cv_tasks, end_tasks
from .._utils.compat import (
    CallbackSupportMixin,
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    get_namespace_and_device,
    move_to,
)
from .choice import best_summed_point, check_grid, fold_average, nan_warning
from .path import fit_fold_path, from_logits, scorer_with_labels, solve_point
from .._estimator import SoftmaxClassifier
from .._prediction import SoftmaxPredictionMixin
from .._model.penalties import penalty_from_params
from .._fitting.prepare import prepare
from .._fitting.targets import is_soft_targets
from .._solvers import SOLVERS
from .._fitting.store import warn_if_not_converged
from .._solvers._trace import stop_advice
from .._utils.caller import warn
from .._utils.guidance import CV_KEYWORDS, LogisticRegressionHabits


class SoftmaxClassifierCV(LogisticRegressionHabits, CallbackSupportMixin, SoftmaxPredictionMixin,
                          BaseEstimator):
    """Softmax regression with ``C`` and ``l1_ratio`` chosen by cross-validation.

    For each fold the model of :class:`SoftmaxClassifier` is fit on the
    training rows along a path of ``Cs`` from strong to weak regularization,
    each fit starting from the closest of the previous solution, its
    extrapolation along the path and, with several ``l1_ratios``, the
    neighbouring ``l1_ratio``'s solution, and scored on the held-out rows
    (``"neg_log_loss"`` and ``"accuracy"`` straight from the logits, as
    their scorers would compute them). The point with the best score
    summed over the folds is chosen and, with ``refit=True``, the model is
    fit on all the data at that point, starting from the average of the fold
    models there. This is :class:`sklearn.linear_model.LogisticRegressionCV`
    (with ``use_legacy_attributes=False``) for every penalty the solvers of
    :class:`SoftmaxClassifier` support.

    Parameters
    ----------
    Cs : int or array-like of float, default=10
        Inverse regularization strengths to try, each ``> 0`` (``np.inf``
        allowed: no penalty). An int ``n`` gives ``np.logspace(-4, 4, n)``, as
        in LogisticRegressionCV. Booleans are refused.
    l1_ratios : array-like of float, default=(0.0,)
        Elastic-net mixings to try, each in ``[0, 1]``: 0 is a pure L2
        penalty, 1 a pure L1 penalty.
    cv : int, cross-validation generator or iterable, default=None
        ``None`` is 5-fold stratified; an int ``k`` is ``k``-fold stratified;
        or any scikit-learn splitter, or an iterable of (train, test) index
        arrays or boolean masks of the samples (as LogisticRegressionCV takes
        them). A training split may miss a class: the fold's model still has
        a row of coefficients for it. An iterable is read once per fit (a
        generator is used up by the first); one that yields no split is an
        error.
    scoring : str, callable or None, default="neg_log_loss"
        Any scikit-learn scorer name, or a callable
        ``scorer(estimator, X, y)``, whose ``estimator`` is a
        :class:`SoftmaxClassifier` with the point's ``C`` and ``l1_ratio``
        (and this estimator's other parameters) holding the fold model; None
        is the accuracy. Metrics that take ``labels`` are given all the
        classes, so a test fold may miss one. A NaN score ranks its point
        last, with a warning; when every point has one, ``fit`` raises.
    solver : {"lbfgs", "auto", "newton-cg", "sgd"}, default="lbfgs"
        The solver of :class:`SoftmaxClassifier`; it must support the
        penalties asked for: an ``l1_ratio`` above 0 needs ``"lbfgs"``,
        ``"auto"`` or ``"sgd"`` (``"newton-cg"`` takes L2 or no penalty
        only). ``"sgd"`` runs with SoftmaxClassifier's default SGD settings.
        The default stays ``"lbfgs"``, whose curvature the path carries from
        one ``C`` to the next: it measured faster here than ``"auto"``.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalized) intercept per class.
    tol : float, default=1e-4
        Stopping tolerance of every fit, as in :class:`SoftmaxClassifier`.
    max_iter : int, default=100
        Maximum number of solver iterations of every fit.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``. ``"balanced"``
        is computed once on all of ``y`` (as in LogisticRegressionCV), not
        per fold.
    n_jobs : int or None, default=None
        Folds fit in parallel with joblib; ``None`` means 1 unless in a
        ``joblib.parallel_backend`` context, ``-1`` all processors. With more
        than one job each fold's fits are limited to an equal share of the
        BLAS threads, so that the jobs do not oversubscribe the cores.
    refit : bool, default=True
        Fit the final model on all the data at the chosen ``C_`` and
        ``l1_ratio_``. If False, ``C_`` and ``l1_ratio_`` are the means of
        each fold's best values and the model is the average of the fold
        models at those best points.
    random_state : int, RandomState instance or None, default=None
        Seeds the ``"sgd"`` solver; unused by the others. The folds come from
        ``cv`` alone.
    verbose : int, default=0
        Above 0, joblib reports progress over the folds; above 1, every fit
        prints its iterations.
    penalty_factor : array-like of shape (n_features,), default=None
        Multipliers of each feature's penalty, as in :class:`SoftmaxClassifier`
        (0 leaves a feature unpenalized; not rescaled), at every point of the
        path and in the refit.

    Attributes
    ----------
    Cs_ : ndarray of shape (n_Cs,)
        The ``C`` values tried, in the order given.
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
        The ``l1_ratio`` values tried, in the order given.
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_Cs)
        Held-out score of each fold at each point.
    coefs_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_Cs, n_logits, n_features + fit_intercept)
        The fold models, the intercept in the last column when fitted.
        ``n_logits`` is 1 for two classes, else ``n_classes``; the
        representation is that of ``coef_`` and ``intercept_``.
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_Cs)
        Solver iterations of each fit of the paths.
    C_ : float
        The chosen ``C``.
    l1_ratio_ : float
        The chosen ``l1_ratio``.
    classes_ : ndarray of shape (n_classes,)
        Sorted class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights of the final model, in the training data's dtype.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts of the final model.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` had string column names.

    See Also
    --------
    SoftmaxClassifier : The model fit at each point.
    sklearn.linear_model.LogisticRegressionCV : The same search, L2 and saga's L1.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from softmax_regression import SoftmaxClassifierCV
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = SoftmaxClassifierCV(Cs=np.logspace(-2, 2, 5)).fit(X, y)
    >>> clf.scores_.shape
    (5, 1, 5)
    >>> bool(clf.C_ in clf.Cs_)
    True
    """

    _logistic_regression_keywords = CV_KEYWORDS

    _parameter_constraints: dict = {
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like"],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "solver": [StrOptions(set(SOLVERS))],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "n_jobs": [None, Integral],
        "refit": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "penalty_factor": ["array-like", None],
    }

    def __init__(
        self,
        Cs=10,
        l1_ratios=(0.0,),
        cv=None,
        scoring="neg_log_loss",
        solver="lbfgs",
        fit_intercept=True,
        tol=1e-4,
        max_iter=100,
        class_weight=None,
        n_jobs=None,
        refit=True,
        random_state=None,
        verbose=0,
        penalty_factor=None,
    ):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.cv = cv
        self.scoring = scoring
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.refit = refit
        self.random_state = random_state
        self.verbose = verbose
        self.penalty_factor = penalty_factor

    def _template(self):
        """The SoftmaxClassifier that ``prepare`` reads (each point sets its own penalty)."""
        return SoftmaxClassifier(
            fit_intercept=self.fit_intercept, solver=self.solver,
            tol=self.tol, max_iter=self.max_iter, class_weight=self.class_weight,
            random_state=self.random_state, verbose=max(0, self.verbose - 1),
            penalty_factor=self.penalty_factor,
        )

    # -- fitting -------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None, offset=None):
        """Choose ``C`` and ``l1_ratio`` by cross-validation, then fit the final model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 stays float32; CSR/CSC are used as they are.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or soft targets as in :meth:`SoftmaxClassifier.fit`.
            With soft targets the folds are split on each row's most
            probable class, and a held-out row weighs its sample weight
            times its row total; ``"neg_log_loss"`` is then the soft
            cross-entropy and ``"accuracy"`` compares with the most probable
            class.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero. They weigh the fits and are
            passed to the scorer for the held-out rows.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware ``cv`` splitter (``GroupKFold``,
            ``LeaveOneGroupOut``, ...), passed to ``cv.split(X, y, groups)``
            as in :class:`~sklearn.model_selection.GridSearchCV`; other
            splitters ignore them.
        offset : array-like of shape (n_samples, n_classes) or (n_samples,), default=None
            A known part of the logits (see :meth:`SoftmaxClassifier.fit`),
            split with the folds. Needs ``scoring`` ``"neg_log_loss"``,
            ``"accuracy"`` or None (a generic scorer cannot pass it on).

        Returns
        -------
        self : SoftmaxClassifierCV
            The fitted estimator. If fitting fails, the estimator is left
            exactly as it was.

        Raises
        ------
        ValueError
            For invalid input, a ``cv`` that yields no splits (a generator
            is used up by the first fit: pass a list to fit again), or when
            every point of the grid has a NaN score.

        Warns
        -----
        UserWarning
            When some fold scores are NaN (they rank last), naming the folds
            and points.
        """
        tasks = cv_tasks(self, X, y, sample_weight)
        X_input = X
        with restore_on_failure(self):
            Cs, l1_ratios = check_grid(self.Cs, self.l1_ratios, self.solver)
            # Validated here first so that messages name this estimator; this
            # also sets n_features_in_ and feature_names_in_ (restored on failure).
            if offset is not None and not from_logits(self.scoring):
                raise ValueError(
                    f"offset needs scoring='neg_log_loss', 'accuracy' or None; a generic "
                    f"scorer (scoring={self.scoring!r}) cannot pass the offset on.")
            if is_soft_targets(y):
                X = validate_data(self, X, accept_sparse=ACCEPTED_SPARSE, dtype=float_dtypes(X))
            else:
                X, y = validate_data(self, X, y, accept_sparse=ACCEPTED_SPARSE,
                                     dtype=float_dtypes(X))
                check_classification_targets(y)
                self._check_two_classes(y)
            template = self._template()
            prepared = prepare(template, X, y, sample_weight, offset=offset)
            problem, classes = prepared.problem, prepared.classes
            xp, device = problem.namespace_and_device
            score_weight = None
            if sample_weight is not None:
                # The caller's weights as they are (a scorer sees them), in float64:
                # X's float32 would turn 1e308 into inf and 1e-50 into 0.
                score_weight = _check_sample_weight(
                    move_to(sample_weight, xp=xp, device=device), X, dtype=None)
            y_labels = _labels_of(problem, classes)
            cv = check_cv(self.cv, host_numpy(y_labels), classifier=True)
            folds = [tuple(_row_indices(rows, X.shape[0]) for rows in split)
                     for split in cv.split(X, host_numpy(y_labels), groups)]
            if not folds:
                raise ValueError(
                    f"cv produced no splits (cv={self.cv!r}): there is nothing to score. An "
                    "iterable of splits is read once, so a generator is used up by the first "
                    "fit; pass a list of (train, test) pairs to fit more than once."
                )
            scoring = {
                "y": y_labels, "score_weight": score_weight, "classes": classes,
                "params": template.get_params(),
                "scoring": self.scoring,
                "scorer": None if from_logits(self.scoring) else scorer_with_labels(
                    check_scoring(template, scoring=self.scoring), classes),
            }
            spec = SOLVERS[self.solver]
            options = {name: getattr(template, name) for name in spec.options}
            n_jobs = effective_n_jobs(self.n_jobs)
            blas_threads = max(1, cpu_count() // n_jobs) if n_jobs > 1 else None
            fold_tasks = [None] * len(folds) if tasks is None else tasks.folds(
                folds, X_input=X_input, problem=problem, labels=y_labels, weights=score_weight,
                classes=classes, n_points=len(Cs) * len(l1_ratios), max_iter=self.max_iter)
            paths = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
                delayed(fit_fold_path)(
                    problem, prepared.total_factors, train, test, Cs=Cs, l1_ratios=l1_ratios, spec=spec,
                    options=options, tol=self.tol, max_iter=self.max_iter,
                    verbose=max(0, self.verbose - 1), scoring=scoring, blas_threads=blas_threads,
                    callbacks=fold_callbacks,
                )
                for (train, test), fold_callbacks in zip(folds, fold_tasks)
            )
            if tasks is not None:
                tasks.end_folds()
            self._warn_paths_not_converged(paths, Cs, l1_ratios)
            coefs_paths = np.stack([path.coefs for path in paths])
            scores = np.stack([path.scores for path in paths])
            message = nan_warning(scores, Cs, l1_ratios)
            if message is not None:
                warn(f"{type(self).__name__}: {message}", UserWarning)

            def in_X_namespace(array, dtype=xp.float64):
                return xp.asarray(array, dtype=dtype, device=device)

            attributes = {
                "Cs_": in_X_namespace(Cs),
                "l1_ratios_": in_X_namespace(l1_ratios),
                "scores_": in_X_namespace(scores),
                "coefs_paths_": in_X_namespace(coefs_paths, problem.dtype),
                "n_iter_": in_X_namespace(np.stack([path.n_iter for path in paths]), xp.int32),
                "classes_": classes,
            }
            if self.refit:
                attributes.update(self._refit(problem, prepared.total_factors, coefs_paths, scores,
                                              Cs, l1_ratios, spec, options, tasks, classes))
            else:
                attributes.update(fold_average(problem, coefs_paths, scores, Cs, l1_ratios))
            store_fitted(self, attributes)
        end_tasks(tasks)
        return self

    def _check_two_classes(self, y):
        present = np.unique(host_numpy(y))
        if present.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {present[0]!r}."
            )

    def _refit(self, problem, total, coefs_paths, scores, Cs, l1_ratios, spec, options,
               tasks=None, classes=None):
        i, j = best_summed_point(scores)
        C, l1_ratio = float(Cs[i]), float(l1_ratios[j])
        xp, device = problem.namespace_and_device
        full = problem.with_penalty(penalty_from_params(
            C, l1_ratio, *total, factor=problem.penalty.factor))
        coef0 = xp.asarray(coefs_paths[:, j, i].mean(axis=0), dtype=problem.dtype, device=device)
        iterations = None if tasks is None else tasks.refit(full, classes, coef0, self.max_iter)
        result = solve_point(spec, full, coef0, options, tol=self.tol, max_iter=self.max_iter,
                             verbose=max(0, self.verbose - 1), weight_seen=math.prod(total),
                             callback=iterations)
        if iterations is not None:
            iterations.finish(result.coef)
        warn_if_not_converged(self, spec, full, result)
        coef, intercept = full.loss.weights_and_intercept(
            result.coef, full.n_features, center_weights=full.penalty.is_smooth
        )
        return {"C_": C, "l1_ratio_": l1_ratio, "coef_": coef, "intercept_": intercept}

    def _warn_paths_not_converged(self, paths, Cs, l1_ratios):
        missed = [(fold, j, i, message, stop) for fold, path in enumerate(paths)
                  for j, i, message, stop in path.not_converged]
        if not missed:
            return
        n_fits = len(paths) * len(Cs) * len(l1_ratios)
        fold, j, i, message, _ = missed[0]
        # The advice of every reason among the stops, each said once.
        reasons = dict.fromkeys(stop or "max_iter" for *_, stop in missed)
        advice = " ".join(dict.fromkeys(stop_advice(reason) for reason in reasons))
        warn(
            f"{type(self).__name__}(solver={self.solver!r}): {len(missed)} of the {n_fits} "
            f"fits of the cross-validation paths stopped before meeting tol={self.tol:g} "
            f"(max_iter={self.max_iter}), the first at fold {fold}, C={Cs[i]:g}, "
            f"l1_ratio={l1_ratios[j]:g} ({message}). Their scores may be off. {advice}",
            ConvergenceWarning,
        )

    # -- prediction (SoftmaxPredictionMixin) ------------------------------
    def _score(self, X, y, sample_weight, offset=None):
        if from_logits(self.scoring):
            # On the host, where every namespace and device can go, and with
            # all the labels, which a small test set may not show.
            weight = None if sample_weight is None else host_numpy(sample_weight)
            if self.scoring == "neg_log_loss":
                return -log_loss(host_numpy(y), host_numpy(self.predict_proba(X, offset=offset)),
                                 labels=host_numpy(self.classes_), sample_weight=weight)
            return float(accuracy_score(host_numpy(y), host_numpy(self.predict(X, offset=offset)),
                                        sample_weight=weight))
        if offset is not None:
            raise ValueError(f"offset needs scoring='neg_log_loss', 'accuracy' or None, not "
                             f"{self.scoring!r}.")
        scorer = check_scoring(self, scoring=self.scoring)
        if sample_weight is None:
            return scorer(self, X, y)
        return scorer(self, X, y, sample_weight=sample_weight)

    def plot_path(self, ax=None):
        """Plot the mean held-out score against ``C``, one line per ``l1_ratio``.

        A band of one standard deviation across the folds surrounds each
        line; the chosen ``(C_, l1_ratio_)`` is marked. ``C = inf`` is drawn
        one decade right of the largest finite ``C``, with a tick ``inf``.
        Needs matplotlib.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure's axes when None.

        Returns
        -------
        ax : matplotlib Axes
            The axes drawn on.
        """
        from .plot import plot_path

        check_is_fitted(self)
        return plot_path(self, ax=ax)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags


def _row_indices(rows, n_samples):
    """A split's rows as integer indices: boolean masks, as LogisticRegressionCV takes, too."""
    rows = np.asarray(host_numpy(rows))
    if rows.dtype == bool:
        if rows.shape != (n_samples,):
            raise ValueError(
                f"A boolean mask of a cv split must have one entry per sample ({n_samples}); "
                f"got shape {rows.shape}. Pass row indices or a mask of length {n_samples}."
            )
        return np.flatnonzero(rows)
    return rows


def _labels_of(problem, classes):
    """The label of every row, in the namespace and device of ``classes``."""
    index = problem.loss.class_index(problem.Y)
    xp, _, device = get_namespace_and_device(classes)
    return xp.take(classes, move_to(index, xp=xp, device=device), axis=0)
