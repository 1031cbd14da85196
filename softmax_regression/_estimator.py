"""The scikit-learn estimator: validation, label encoding, and a solver call."""

from numbers import Integral, Real

from sklearn.base import BaseEstimator

from ._utils.arrays import host_numpy, is_dask_collection, same_labels
from ._utils.atomic import restore_on_failure
from ._utils.guidance import LogisticRegressionHabits, available_with
from ._fitting.callbacks import end_tasks, fit_tasks, solver_callback
from ._utils.compat import (
    CallbackSupportMixin,
    Interval,
    StrOptions,
    _fit_context,
    get_namespace_and_device,
)
from ._prediction import SoftmaxPredictionMixin
from ._fitting.prepare import (
    checked_classes, checked_validation_data, prepare, previous_coef, starting_point,
)
from ._fitting.prior_model import solve
from ._fitting.targets import is_soft_targets, soft_target_classes
from ._solvers import SOLVERS
from ._solvers.sgd_optimizer import SCHEDULES
from ._fitting.store import store_result, warn_if_not_converged


def _solver_is_stateful(estimator):
    return SOLVERS[estimator.solver].stateful


def _needs_an_incremental_solver(estimator):
    """Why ``estimator`` has no ``partial_fit``: the solvers that would give it one."""
    stateful = " or ".join(f'solver="{name}"' for name, spec in SOLVERS.items() if spec.stateful)
    name = type(estimator).__name__
    return (f"{name}(solver={estimator.solver!r}) has no attribute 'partial_fit': incremental "
            f"learning needs {stateful}, as in {name}({stateful.split(' or ')[0]})"
            ".partial_fit(X, y, classes=classes).")


class SoftmaxClassifier(LogisticRegressionHabits, CallbackSupportMixin, SoftmaxPredictionMixin,
                        BaseEstimator):
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
        penalty. Values above 0 need ``solver="auto"``, ``"lbfgs"`` or
        ``"sgd"``.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalized) intercept per class.
    solver : {"auto", "lbfgs", "newton-cg", "sgd"}, default="auto"
        ``"auto"``: the method that measured fastest for the problem's
        shape, each stopping on the same optimality test: exact Newton (full
        Hessian, Cholesky) where forming the Hessian is cheap (small tables,
        few coefficients per row); Newton-CG with Hessian products on a
        fixed random twentieth of the rows (at least 5,000, and 2 per
        coefficient) for larger dense problems with at least twice that
        many rows; ``"lbfgs"`` otherwise (an L1 part, larger sparse X, many
        coefficients for the rows, dask). Deterministic: the same data give the same coefficients on
        every run. Its stops also wait until the next step would lower the
        objective by at most ``tol / 200`` relative.
        ``"lbfgs"``: L-BFGS with value and gradient from one pass over the
        data; L1 through the split ``W = W+ - W-`` with bounds in scipy's
        L-BFGS-B.
        ``"newton-cg"``: line-search Newton-CG on exact Hessian-vector
        products, preconditioned by the Hessian's diagonal (robust to badly
        scaled features); L2 or no penalty only.
        ``"sgd"``: minibatch SGD with momentum on the same objective, with
        ``partial_fit``; L1 through a cumulative proximal step.
    tol : float, default=1e-4
        ``"auto"``, ``"lbfgs"``, ``"newton-cg"``: stop when the largest violation of the
        optimality conditions of the objective divided by the total sample
        weight is at most ``tol``: the largest absolute gradient entry for a
        smooth penalty, its distance to the subdifferential with an L1 part.
        ``"sgd"``: an epoch counts as progress when it lowers the training
        objective (or raises the validation accuracy, with early stopping) by
        more than ``tol``.
    max_iter : int, default=100
        Maximum number of solver iterations (epochs for ``"sgd"``). With 0
        the model is the starting point (a warm start, or the class priors)
        and, unless that already meets ``tol``, a ConvergenceWarning says so.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``. ``"balanced"``
        uses ``n_samples / (n_classes * np.bincount(y))``, weighted by
        ``sample_weight`` as in scikit-learn.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_`` when their shape
        and ``classes_`` match the new data; otherwise start afresh.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the validation split of ``"sgd"`` and the
        row sample of ``"auto"``'s sub-sampled Newton-CG (None: a fixed
        sample); the same integer gives bit-identical coefficients. Unused by
        the other solvers.
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
        best coefficients); fitting stops once it falls below 1e-6 (with a
        ConvergenceWarning unless the optimality measure in standardized
        coordinates is within ``100 * tol``).
        Every schedule restarts the momentum after an epoch that raised the
        objective. ``partial_fit`` never lowers the rate for a stall (the
        calls of a stream see different rows); it halves it only after a
        divergence, judged on a running average of the calls' objectives.
        The current rate is ``sgd_state_.learning_rate``.
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
        of its own rows (see ``partial_fit``). The stop warns (a
        ConvergenceWarning) when the best validation accuracy is not above
        that of predicting the majority class of the validation rows, and
        in ``fit`` also when the model is far from the optimum (optimality
        above ``100 * tol`` in standardized coordinates).
    validation_fraction : float, default=0.1
        ``"sgd"`` only: fraction held out for early stopping, in ``(0, 1)``.
    n_iter_no_change : int, default=5
        ``"sgd"`` only: epochs (or ``partial_fit`` calls) without progress
        before the learning rate is lowered or fitting stops.
    precondition : bool, default=True
        ``"sgd"`` only: take every step in standardized coordinates, with the
        mean and standard deviation of each feature (over the training data
        in ``fit``, over all rows seen in ``partial_fit``), so the step sizes
        suit features of any scale; the optimum is unchanged. With
        standardized features it changes nothing.
    average : bool, default=True
        ``"sgd"`` only: the model is an average of the iterates: in ``fit``,
        of each epoch's; in ``partial_fit``, of all of the stream's, the
        ``t``-th weighted by about ``t ** 3``. The optimizer continues from
        its own last iterate.
    penalty_factor : array-like of shape (n_features,), default=None
        Non-negative, finite multipliers of each feature's penalty, both its
        L2 and its L1 part: the penalty on feature ``j`` is
        ``penalty_factor[j]`` times what it would be; 0 leaves the feature
        unpenalized. Used as given (glmnet's ``penalty.factor`` is rescaled
        to sum to ``n_features``; multiply ``C`` by ``sum(f) / n_features``
        to convert). None: all ones.

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
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
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
        "max_iter": [Interval(Integral, 0, None, closed="left")],
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
        "precondition": ["boolean"],
        "average": ["boolean"],
        "penalty_factor": ["array-like", None],
    }

    def __init__(
        self,
        C=1.0,
        l1_ratio=0.0,
        fit_intercept=True,
        solver="auto",
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
        precondition=True,
        average=True,
        penalty_factor=None,
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
        self.precondition = precondition
        self.average = average
        self.penalty_factor = penalty_factor

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
    def fit(self, X, y, sample_weight=None, offset=None):
        """Fit the model to ``X``, ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 stays float32; CSR/CSC are used as they are.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels (any hashable, sortable values), or soft targets:
            non-negative numbers per class (probabilities or counts), row
            ``i`` adding ``sum_k y[i, k] * -log p[i, k]`` to the loss. The
            classes of soft targets are a data frame's column labels
            (sorted, the columns matched by label), else ``0..n_classes-1``.
            A row of zeros needs a sample weight of 0.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.
        offset : array-like of shape (n_samples, n_classes) or (n_samples,), default=None
            A known part of the logits, added to ``X @ coef_.T + intercept_``
            and held fixed. For two classes also ``(n_samples,)``: the
            offset of the single logit (that of ``classes_[1]``). A 1-D
            offset is refused for three or more classes: the same number
            added to every logit changes no probability.

        Returns
        -------
        self : SoftmaxClassifier
            The fitted estimator. If fitting fails, the estimator is left
            exactly as it was.
        """
        if is_dask_collection(X):
            from ._dask.fit import fit_dask

            with restore_on_failure(self):
                return fit_dask(self, X, y, sample_weight, offset)
        tasks = fit_tasks(self, X, y, sample_weight, task_name="fit", max_subtasks=self.max_iter)
        with restore_on_failure(self):
            prepared = prepare(self, X, y, sample_weight, offset=offset)
            problem = prepared.problem
            spec = SOLVERS[self.solver]
            coef0, options = starting_point(self, prepared, spec)
            result = solve(
                spec.function, problem, coef0, tol=self.tol, max_iter=self.max_iter, verbose=self.verbose,
                callback=solver_callback(tasks, prepared, coef0, unit=spec.unit), **options,
            )
            warn_if_not_converged(self, spec, problem, result)
            store_result(self, spec, prepared, result)
        end_tasks(tasks)
        return self

    @available_with(_solver_is_stateful, _needs_an_incremental_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None, validation_data=None,
                    offset=None):
        """Take one SGD pass over a batch of data, continuing the last fit.

        This is incremental learning of the multinomial model itself (not one
        binary model per class). The optimizer state in ``sgd_state_`` carries
        over between calls, so a stream of ``partial_fit`` calls continues
        exactly where the last call (or a ``fit`` with ``solver="sgd"``)
        stopped.

        Only a solver that learns incrementally (``solver="sgd"``) has this
        method: with another, ``hasattr(estimator, "partial_fit")`` is False,
        as scikit-learn's tools expect, and calling it raises an
        AttributeError that names ``solver="sgd"``.

        The penalty is scaled by the total sample weight seen so far, this
        call included: after one pass over a data set, the objective is the
        one ``fit`` would minimize on all of it. Rows seen again count again,
        so after ``k`` passes it is ``fit``'s objective with ``k * C``; divide
        ``C`` by the number of passes to keep ``fit``'s penalty.

        A stream that, after enough data (10 calls, as many rows as the model
        has coefficients, every class), still predicts like its class priors
        warns once with a ConvergenceWarning: a few outlier rows in the
        preconditioner's running variance can freeze its weights.

        With ``early_stopping``, each call holds out ``validation_fraction``
        of its rows (stratified when possible) and scores the model on them
        after its pass. Once the stream has trained on every class and its
        validation rows have shown every class, ``n_iter_no_change`` calls
        without improvement by more than ``tol``, whatever the schedule, end
        it: the model returns to the best coefficients seen and later calls
        leave it unchanged. That stop warns (ConvergenceWarning) when the
        best score is not above the accuracy of predicting the majority
        class of the validation rows that gave it. A new
        ``fit`` starts over. ``validation_data=(X_val, y_val)`` scores a
        fixed validation set instead, and the call trains on all its rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Labels of the batch; each must be one of ``classes``. Or soft
            targets (see ``fit``), one column per class of the stream.
        classes : array-like of shape (n_classes,), default=None
            All the labels the stream can contain. Required on the first call
            (with soft targets: optional, the columns' labels or
            ``0..n_classes-1``); on later calls it must equal ``classes_``
            if given.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.
        validation_data : tuple (X_val, y_val) or (X_val, y_val, sample_weight_val), \
default=None
            With ``early_stopping=True``: the held-out set the model is scored
            on after the call (weighted by ``sample_weight_val`` when given,
            times ``class_weight``), in place of ``validation_fraction`` of
            the call's rows. Pass the same set to every call. Anything but a
            tuple (or list) of two or three items raises a ValueError, and
            so does ``validation_data`` without ``early_stopping``.
        offset : array-like of shape (n_samples, n_classes) or (n_samples,), default=None
            A known part of the batch's logits (see ``fit``).

        Returns
        -------
        self : SoftmaxClassifier
            The updated estimator. If the call fails, the estimator is left
            exactly as it was.
        """
        tasks = fit_tasks(self, X, y, sample_weight, task_name="partial_fit", max_subtasks=1)
        with restore_on_failure(self):
            spec = SOLVERS[self.solver]
            previous = getattr(self, spec.state_attribute, None)
            first_call = previous is None
            if self.class_weight == "balanced":
                raise ValueError(
                    "class_weight='balanced' needs the class counts of the whole data and "
                    "is not available with partial_fit; pass a dict of class weights."
                )
            classes = self._stream_classes(classes, first_call, y)
            prepared = prepare(
                self, X, y, sample_weight, classes=classes, reset=first_call,
                weight_before=0.0 if first_call else previous.weight_seen, offset=offset,
            )
            problem = prepared.problem
            coef = problem.initial_coef() if first_call else previous_coef(self, problem)
            options = {name: getattr(self, name) for name in spec.options}
            state = spec.init_state(coef, previous=previous, **options)
            result = spec.step(
                problem, coef, state, weight_seen=state.weight_seen + prepared.total,
                tol=self.tol, verbose=self.verbose, **options,
                validation=None if validation_data is None else prepare(
                    self, *checked_validation_data(validation_data), classes=classes,
                    reset=False).problem,
                callback=solver_callback(
                    tasks, prepared, coef, unit=spec.unit,
                    n_iter_before=0 if first_call else int(self.n_iter_[0])),
            )
            # n_iter 0: early stopping has ended this stream, nothing changes.
            if result.n_iter:
                store_result(self, spec, prepared, result, continuing=not first_call)
        end_tasks(tasks)
        return self

    def _stream_classes(self, classes, first_call, y):
        """The sorted labels of the stream, in y's namespace and device."""
        if classes is None:
            if first_call and is_soft_targets(y):
                return soft_target_classes(y)
            if first_call:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit: the full "
                    "list of labels the stream can contain."
                )
            return self.classes_
        sorted_labels = checked_classes(classes)
        if first_call:
            if sorted_labels.dtype.kind in "OUS":
                return sorted_labels  # strings live on the host, like the labels
            xp, _, device = get_namespace_and_device(y)
            return xp.asarray(sorted_labels, device=device)
        if not same_labels(sorted_labels, self.classes_):
            raise ValueError(
                f"classes={sorted_labels.tolist()} differs from the classes of the "
                f"first call, {host_numpy(self.classes_).tolist()}."
            )
        return self.classes_

    _predicts_dask_lazily = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags
