"""The scikit-learn estimator: validation, label encoding, and a solver call."""

import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin, SparseCoefMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import compute_class_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._loss import LinearSoftmaxLoss, log_softmax, softmax
from ._penalties import penalty_from_params
from ._problem import SoftmaxProblem
from ._solvers import SOLVERS

_ACCEPTED_SPARSE = ["csr", "csc"]
_FLOAT_DTYPES = [np.float64, np.float32]


@contextmanager
def _restore_on_failure(estimator):
    """Put every attribute back as it was if the body raises (even Ctrl-C)."""
    # Fitting only ever rebinds attributes to new objects, so a shallow copy
    # of the instance dictionary is a complete snapshot.
    saved = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise


class SoftmaxClassifier(LinearClassifierMixin, SparseCoefMixin, BaseEstimator):
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
    solver : {"lbfgs", "newton-cg"}, default="lbfgs"
        ``"lbfgs"``: scipy's L-BFGS-B with value and gradient from one pass
        over the data; L1 through the split ``W = W+ - W-`` with bounds.
        ``"newton-cg"``: scipy's trust-region Newton-CG with exact
        Hessian-vector products; L2 or no penalty only.
    tol : float, default=1e-4
        Stop when the largest violation of the optimality conditions of the
        objective divided by the total sample weight is at most ``tol``: the
        largest absolute gradient entry for a smooth penalty, its distance to
        the subdifferential with an L1 part.
    max_iter : int, default=100
        Maximum number of solver iterations.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``. ``"balanced"``
        uses ``n_samples / (n_classes * np.bincount(y))``, weighted by
        ``sample_weight`` as in scikit-learn.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_`` when their shape
        and ``classes_`` match the new data; otherwise start afresh.
    random_state : int, RandomState instance or None, default=None
        Unused by the deterministic solvers; kept for API compatibility.
    verbose : int, default=0
        Print the objective and the optimality measure at each iteration.

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
        with _restore_on_failure(self):
            self._check_solver_penalty()
            X, y = validate_data(
                self, X, y, accept_sparse=_ACCEPTED_SPARSE, dtype=_FLOAT_DTYPES
            )
            check_classification_targets(y)
            encoder = LabelEncoder()
            y_index = encoder.fit_transform(y)
            classes = encoder.classes_
            sample_weight = self._effective_sample_weight(
                X, y, y_index, classes, sample_weight
            )
            problem = self._build_problem(X, y_index, len(classes), sample_weight)
            coef0 = self._initial_coef(problem, classes, y_index)
            result = SOLVERS[self.solver].function(
                problem, coef0, tol=self.tol, max_iter=self.max_iter, verbose=self.verbose
            )
            self._store_result(problem, result, classes)
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
        """``sample_weight * class_weight``, checked to leave two classes."""
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {classes[0]!r}."
            )
        weights = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        if self.class_weight is not None:
            per_class = compute_class_weight(
                self.class_weight, classes=classes, y=y, sample_weight=sample_weight
            )
            weights = weights * per_class[y_index].astype(X.dtype)
        if not np.all(np.isfinite(weights)):
            raise ValueError("sample_weight contains NaN or infinity.")
        class_totals = np.bincount(y_index, weights=weights, minlength=len(classes))
        if np.count_nonzero(class_totals > 0) < 2:
            raise ValueError(
                "The sample weights leave fewer than 2 classes with positive weight "
                f"(total weight per class: {dict(zip(classes.tolist(), class_totals.tolist()))}); "
                "at least 2 classes must have positive weight."
            )
        return weights

    def _build_problem(self, X, y_index, n_classes, sample_weight):
        total = float(np.sum(sample_weight, dtype=np.float64))
        loss = LinearSoftmaxLoss(n_classes, self.fit_intercept)
        return SoftmaxProblem(
            X=X,
            Y=loss.one_hot(y_index, X.dtype),
            sample_weight=(sample_weight / total).astype(X.dtype, copy=False),
            loss=loss,
            penalty=penalty_from_params(self.C, self.l1_ratio, total),
        )

    def _initial_coef(self, problem, classes, y_index):
        coef0 = np.zeros(problem.coef_shape, dtype=problem.dtype)
        d = problem.n_features
        if (
            self.warm_start
            and hasattr(self, "coef_")
            and np.shape(self.coef_) == (coef0.shape[0], d)
            and np.array_equal(self.classes_, classes)
        ):
            coef0[:, :d] = self.coef_.toarray() if hasattr(self.coef_, "toarray") else self.coef_
            if self.fit_intercept:
                coef0[:, d] = self.intercept_
            return coef0
        if self.fit_intercept:
            # Start the intercepts at the log class priors: the optimum of the
            # model with W = 0, usually much closer to the solution than 0.
            totals = np.bincount(
                y_index, weights=problem.sample_weight, minlength=len(classes)
            )
            if np.all(totals > 0):
                log_prior = np.log(totals)
                if problem.loss.pinned_reference:
                    coef0[0, d] = log_prior[1] - log_prior[0]
                else:
                    coef0[:, d] = log_prior - log_prior.mean()
        return coef0

    def _store_result(self, problem, result, classes):
        coef = result.coef
        d = problem.n_features
        if not problem.loss.pinned_reference:
            # Adding the same vector to every class changes no probability;
            # the symmetric (zero-sum) representative is LogisticRegression's.
            coef = coef.copy()
            coef[:, d:] -= coef[:, d:].mean(axis=0)
            if problem.penalty.is_smooth:
                coef[:, :d] -= coef[:, :d].mean(axis=0)
        if not result.converged:
            reason = (
                f"did not converge in max_iter={self.max_iter} iterations"
                if result.n_iter >= self.max_iter
                else f"stopped after {result.n_iter} iterations ({result.message})"
            )
            warnings.warn(
                f"{type(self).__name__}(solver={self.solver!r}) {reason}: optimality "
                f"{result.optimality:.3g} > tol={self.tol:g}. Increase max_iter, or "
                "standardize the features.",
                ConvergenceWarning,
            )
        if problem.penalty.is_zero and problem.separates(coef):
            warnings.warn(
                f"{type(self).__name__}: with C=inf the training data are linearly "
                "separated by the fitted model, so the unpenalized objective has no "
                "minimizer and the coefficients only stay finite because the solver "
                "stopped. Use a finite C.",
                ConvergenceWarning,
            )
        self.classes_ = classes
        self.coef_ = np.ascontiguousarray(coef[:, :d])
        self.intercept_ = (
            coef[:, d].copy() if self.fit_intercept else np.zeros(coef.shape[0], coef.dtype)
        )
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.loss_curve_ = [float(v) for v in result.objective_history]

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
        X = validate_data(
            self, X, accept_sparse=_ACCEPTED_SPARSE, dtype=_FLOAT_DTYPES, reset=False
        )
        scores = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def _all_class_logits(self, X):
        scores = self.decision_function(X)
        if scores.ndim == 1:
            # Binary model: the first class is the reference with logit 0.
            scores = np.stack([np.zeros_like(scores), scores], axis=1)
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
        return log_softmax(self._all_class_logits(X), axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
