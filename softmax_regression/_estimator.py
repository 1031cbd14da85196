"""The scikit-learn estimator: validation, label encoding, and a solver call."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin, SparseCoefMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import compute_class_weight
from sklearn.utils._array_api import (
    check_same_namespace,
    get_namespace,
    get_namespace_and_device,
    move_to,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._loss import LinearSoftmaxLoss, log_softmax, softmax
from ._partial_fit import (
    ACCEPTED_SPARSE,
    PartialFitMixin,
    float_dtypes,
    host_numpy,
    problem_array,
    restore_on_failure,
)
from ._partial_fit import (
    host_sum as _host_sum,
)
from ._partial_fit import (
    same_labels as _same_labels,
)
from ._penalties import penalty_from_params
from ._problem import SoftmaxProblem
from ._solvers import SOLVERS
from ._solvers.sgd_optimizer import SCHEDULES


class SoftmaxClassifier(
    PartialFitMixin, LinearClassifierMixin, SparseCoefMixin, BaseEstimator
):
    """Multinomial logistic (softmax) regression.

    Minimizes the regularized cross-entropy

    ``sum_i s_i CE(y_i, softmax(W x_i + b)) + (1 - l1_ratio) / (2 C) ||W||_F^2
    + l1_ratio / C ||W||_1``

    where ``s_i`` is the sample weight times the class weight. The intercept
    ``b`` is never penalized. This is the objective of
    :class:`sklearn.linear_model.LogisticRegression` with the same ``C`` and
    ``l1_ratio``, so both reach the same model. For two classes the model is
    the binary logistic one (one row of coefficients).

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularization strength, ``> 0``. ``np.inf`` means no penalty
        (``l1_ratio`` is then ignored).
    l1_ratio : float, default=0.0
        Elastic-net mixing in ``[0, 1]``: 0 is a pure L2 penalty, 1 a pure L1
        penalty. Values above 0 need ``solver="lbfgs"``.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalized) intercept per class.
    solver : {"lbfgs", "newton-cg", "sgd"}, default="lbfgs"
        ``"lbfgs"``: scipy's L-BFGS-B with value and gradient from one pass
        over the data; L1 through the split ``W = W+ - W-`` with bounds.
        ``"newton-cg"``: scipy's trust-region Newton-CG with exact
        Hessian-vector products; L2 or no penalty only.
        ``"sgd"``: minibatch SGD with momentum on the same objective, with
        ``partial_fit``; L1 through a cumulative proximal step.
    tol : float, default=1e-4
        ``"lbfgs"``, ``"newton-cg"``: stop when the largest violation of the
        optimality conditions of the objective divided by the total sample
        weight is at most ``tol``: the largest absolute gradient entry for a
        smooth penalty, its distance to the subdifferential with an L1 part.
        ``"sgd"``: an epoch counts as progress when it lowers the training
        objective (or raises the validation accuracy, with early stopping) by
        more than ``tol``.
    max_iter : int, default=100
        Maximum number of solver iterations (epochs for ``"sgd"``).
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``. ``"balanced"``
        uses ``n_samples / (n_classes * np.bincount(y))``, weighted by
        ``sample_weight`` as in scikit-learn.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_`` when their shape
        and ``classes_`` match the new data; otherwise start afresh.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the validation split of ``"sgd"``; the same
        integer gives bit-identical coefficients. Unused by the other solvers.
    verbose : int, default=0
        Print the objective and the optimality measure at each iteration.
    batch_size : int, default=256
        ``"sgd"`` only: samples per minibatch (the last one may be smaller).
    learning_rate : {"constant", "invscaling", "adaptive"}, default="adaptive"
        ``"sgd"`` only. ``"constant"``: ``eta0`` throughout.
        ``"invscaling"``: ``eta0 / (1 + t) ** power_t`` after ``t`` updates.
        ``"adaptive"``: starts at ``eta0``, grows by 10% after each epoch of
        progress (see ``tol``), is halved after ``n_iter_no_change`` epochs
        without progress or after a diverging epoch (which also returns to the
        best coefficients); fitting stops once it falls below 1e-6. Every
        schedule restarts the momentum after an epoch that raised the
        objective.
    eta0 : float, default=0.1
        ``"sgd"`` only: initial learning rate.
    power_t : float, default=0.5
        ``"sgd"`` only: exponent of the ``"invscaling"`` schedule.
    momentum : float, default=0.9
        ``"sgd"`` only: heavy-ball momentum in ``[0, 1)``; 0 disables it.
    shuffle : bool, default=True
        ``"sgd"`` only: shuffle the samples before each epoch.
    early_stopping : bool, default=False
        ``"sgd"`` only: hold out ``validation_fraction`` of the training data
        (stratified), stop when its accuracy has not improved by more than
        ``tol`` for ``n_iter_no_change`` epochs, and keep the best
        coefficients. With ``partial_fit`` each call holds out that fraction
        of its own rows (see ``partial_fit``).
    validation_fraction : float, default=0.1
        ``"sgd"`` only: fraction held out for early stopping, in ``(0, 1)``.
    n_iter_no_change : int, default=5
        ``"sgd"`` only: epochs (or ``partial_fit`` calls) without progress
        before the learning rate is lowered or fitting stops.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights; one row for a binary problem. Same dtype as the training X
        (float32 or float64).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros when ``fit_intercept=False``). For three or more
        classes they are centered to sum to zero, which changes no
        prediction.
    n_iter_ : ndarray of shape (1,)
        Iterations run by the solver.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` had string column names.
    loss_curve_ : list of float
        Objective (divided by the total sample weight) after each iteration.
        For ``"sgd"``: the mean of the minibatch objectives of each epoch or
        ``partial_fit`` call.
    t_ : int
        ``"sgd"`` only: number of training samples processed by updates.
    validation_scores_ : list of float or None
        ``"sgd"`` with ``early_stopping``: held-out accuracy after each epoch
        or ``partial_fit`` call; None otherwise.
    sgd_state_ : object
        ``"sgd"`` only: the optimizer state (velocity, step count, learning
        rate, L1 bookkeeping, random stream, stopping rule) that
        ``partial_fit`` and a warm-started ``fit`` continue from.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same model and objective.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax_regression import SoftmaxClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxClassifier(max_iter=1000).fit(X, y)
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions(set(SCHEDULES))],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        C=1.0,
        l1_ratio=0.0,
        fit_intercept=True,
        solver="lbfgs",
        tol=1e-4,
        max_iter=100,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        batch_size=256,
        learning_rate="adaptive",
        eta0=0.1,
        power_t=0.5,
        momentum=0.9,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
    ):
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.momentum = momentum
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change

    def set_params(self, **params):
        """Set the parameters of this estimator, all or none.

        Parameters
        ----------
        **params : dict
            Estimator parameters. Values are validated at ``fit``, as in
            scikit-learn.

        Returns
        -------
        self : SoftmaxClassifier
            The estimator. If a name is unknown, no parameter is changed.
        """
        with restore_on_failure(self):
            return super().set_params(**params)

    # -- fitting -------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``X``, ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 stays float32; CSR/CSC are used as they are.
        y : array-like of shape (n_samples,)
            Class labels (any hashable, sortable values).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.

        Returns
        -------
        self : SoftmaxClassifier
            The fitted estimator. If fitting fails, the estimator is left
            exactly as it was.
        """
        with restore_on_failure(self):
            self._check_solver_penalty()
            # Weights and label indices follow X to its namespace and device;
            # the labels themselves (classes_) stay in y's, as in scikit-learn.
            xp, _, device_ = get_namespace_and_device(X)
            sample_weight = move_to(sample_weight, xp=xp, device=device_)
            X, y = validate_data(
                self, X, y, accept_sparse=ACCEPTED_SPARSE, dtype=float_dtypes(X)
            )
            check_classification_targets(y)
            encoder = LabelEncoder()
            y_index = move_to(encoder.fit_transform(y), xp=xp, device=device_)
            classes = encoder.classes_
            n_classes = classes.shape[0]
            if n_classes < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in the "
                    f"data, but the data contains only one class: "
                    f"{host_numpy(classes)[0]!r}."
                )
            weights = self._effective_sample_weight(X, y, y_index, classes, sample_weight)
            total = _host_sum(weights)
            problem = self._build_problem(X, y_index, n_classes, weights, total)
            class_totals = problem.class_totals()
            if np.count_nonzero(class_totals > 0) < 2:
                names = host_numpy(classes).tolist()
                raise ValueError(
                    "The sample weights leave fewer than 2 classes with positive weight "
                    f"(share of the total weight per class: "
                    f"{dict(zip(names, class_totals.tolist()))}); at least 2 classes must "
                    "have positive weight."
                )
            warm = self._warm_start_possible(problem, classes)
            coef0 = self._previous_coef(problem) if warm else self._cold_coef(problem)
            spec = SOLVERS[self.solver]
            options = {name: getattr(self, name) for name in spec.options}
            if spec.stateful:
                options["state"] = getattr(self, "sgd_state_", None) if warm else None
                options["weight_seen"] = total
            result = spec.function(
                problem, coef0, tol=self.tol, max_iter=self.max_iter, verbose=self.verbose,
                **options,
            )
            self._warn_if_not_converged(problem, result)
            self.classes_ = classes
            self._store_coef(problem, result.coef)
            self.n_iter_ = problem_array(problem, [result.n_iter])
            self.loss_curve_ = [float(v) for v in result.objective_history]
            self._store_stream_state(result, append=False)
        return self

    def _check_solver_penalty(self):
        has_l1 = self.l1_ratio > 0 and self.C != np.inf
        if has_l1 and not SOLVERS[self.solver].supports_l1:
            working = sorted(name for name, spec in SOLVERS.items() if spec.supports_l1)
            raise ValueError(
                f"solver={self.solver!r} does not support an L1 penalty "
                f"(l1_ratio={self.l1_ratio!r}); use l1_ratio=0 or one of the "
                f"solvers {working}."
            )

    def _effective_sample_weight(self, X, y, y_index, classes, sample_weight):
        """``sample_weight * class_weight``, checked to be finite and not all zero."""
        weights = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        xp, _, device = get_namespace_and_device(weights)
        if self.class_weight is not None:
            # Class weights are K numbers computed on the host from the labels.
            per_class = compute_class_weight(
                self.class_weight, classes=host_numpy(classes), y=host_numpy(y),
                sample_weight=None if sample_weight is None else host_numpy(sample_weight),
            )
            per_class = xp.asarray(per_class, dtype=X.dtype, device=device)
            weights = weights * xp.take(per_class, y_index, axis=0)
        if not bool(xp.all(xp.isfinite(weights))):
            raise ValueError("sample_weight contains NaN or infinity.")
        if not bool(xp.any(weights > 0)):
            raise ValueError("The sample weights are all zero: nothing to fit.")
        return weights

    def _build_problem(self, X, y_index, n_classes, weights, total, penalty_weight=None):
        """The problem on ``X``; the penalty is divided by ``penalty_weight``.

        ``penalty_weight`` defaults to ``total``, the sum of ``weights``.
        """
        loss = LinearSoftmaxLoss(n_classes, self.fit_intercept)
        return SoftmaxProblem(
            X=X,
            Y=loss.one_hot(y_index, X.dtype),
            sample_weight=weights / total,
            loss=loss,
            penalty=penalty_from_params(
                self.C, self.l1_ratio, total if penalty_weight is None else penalty_weight
            ),
        )

    def _warm_start_possible(self, problem, classes):
        return (
            self.warm_start
            and hasattr(self, "coef_")
            and tuple(self.coef_.shape) == (problem.coef_shape[0], problem.n_features)
            and _same_labels(self.classes_, classes)
        )

    def _previous_coef(self, problem):
        xp, device = problem.namespace_and_device
        coef = self.coef_.toarray() if hasattr(self.coef_, "toarray") else self.coef_
        coef = xp.asarray(coef, dtype=problem.dtype, device=device)
        if not self.fit_intercept:
            return xp.asarray(coef, copy=True)
        intercept = xp.asarray(self.intercept_, dtype=problem.dtype, device=device)
        return xp.concat([coef, intercept[:, None]], axis=1)

    def _cold_coef(self, problem):
        coef0 = np.zeros(problem.coef_shape)
        if self.fit_intercept:
            # Start the intercepts at the log class priors: the optimum of the
            # model with W = 0, usually much closer to the solution than 0.
            totals = problem.class_totals()
            if np.all(totals > 0):
                log_prior = np.log(totals)
                d = problem.n_features
                if problem.loss.pinned_reference:
                    coef0[0, d] = log_prior[1] - log_prior[0]
                else:
                    coef0[:, d] = log_prior - log_prior.mean()
        xp, device = problem.namespace_and_device
        return xp.asarray(coef0, dtype=problem.dtype, device=device)

    def _warn_if_not_converged(self, problem, result):
        if not result.converged:
            unit = "epochs" if self.solver == "sgd" else "iterations"
            reason = (
                f"did not converge in max_iter={self.max_iter} {unit}"
                if result.n_iter >= self.max_iter
                else f"stopped after {result.n_iter} {unit} ({result.message})"
            )
            measure = (
                "" if np.isnan(result.optimality)
                else f": optimality {result.optimality:.3g} > tol={self.tol:g}"
            )
            warnings.warn(
                f"{type(self).__name__}(solver={self.solver!r}) {reason}{measure}. "
                "Increase max_iter, or standardize the features.",
                ConvergenceWarning,
            )
        if problem.penalty.is_zero and problem.separates(result.coef):
            warnings.warn(
                f"{type(self).__name__}: with C=inf the training data are linearly "
                "separated by the fitted model, so the unpenalized objective has no "
                "minimizer and the coefficients only stay finite because the solver "
                "stopped. Use a finite C.",
                ConvergenceWarning,
            )

    def _store_coef(self, problem, coef):
        xp, device = problem.namespace_and_device
        d = problem.n_features
        W = coef[:, :d]
        if self.fit_intercept:
            intercept = coef[:, d]
        else:
            intercept = xp.zeros(coef.shape[0], dtype=coef.dtype, device=device)
        if not problem.loss.pinned_reference:
            # Adding the same vector to every class changes no probability;
            # the symmetric (zero-sum) representative is LogisticRegression's.
            intercept = intercept - xp.mean(intercept)
            if problem.penalty.is_smooth:
                W = W - xp.mean(W, axis=0)
        self.coef_ = xp.asarray(W, copy=True)
        self.intercept_ = xp.asarray(intercept, copy=True)

    # -- prediction ----------------------------------------------------------
    def decision_function(self, X):
        """Compute the logits of the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For a binary problem, the logit of ``classes_[1]`` (1-D), else one
            column per class.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="decision_function")
        X = validate_data(
            self, X, accept_sparse=ACCEPTED_SPARSE, dtype=float_dtypes(X), reset=False
        )
        scores = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        if scores.shape[1] == 1:
            xp, _ = get_namespace(scores)
            return xp.reshape(scores, (-1,))
        return scores

    def _all_class_logits(self, X):
        scores = self.decision_function(X)
        if scores.ndim == 1:
            # Binary model: the first class is the reference with logit 0.
            xp, _ = get_namespace(scores)
            scores = xp.stack([xp.zeros_like(scores), scores], axis=1)
        return scores

    def predict_proba(self, X):
        """Compute class probabilities: the softmax of the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="predict_proba")
        return softmax(self._all_class_logits(X), axis=1)

    def predict_log_proba(self, X):
        """Compute log class probabilities, without underflow to ``-inf``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Computed as ``log_softmax`` of the logits.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="predict_log_proba")
        return log_softmax(self._all_class_logits(X), axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags
