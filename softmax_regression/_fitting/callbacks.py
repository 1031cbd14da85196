"""scikit-learn's callbacks (``set_callbacks``, scikit-learn >= 1.9) around a fit.

What a fit reports to the callbacks, as scikit-learn's task tree:

- ``fit``: the root task, with one subtask per solver iteration (an L-BFGS
  or Newton iteration, an SGD epoch), so at most ``max_iter`` of them;
- ``partial_fit``: the root task, with one subtask, the call's pass over
  its batch;
- ``SoftmaxClassifierCV.fit``: the root task, with the subtasks
  ``cross-validation`` (one ``fold`` per split, one ``path point`` per
  ``(C, l1_ratio)`` in each, one ``iteration`` per solver iteration in each
  point) and, with ``refit=True``, ``refit`` (its iterations).

Each subtask's ``on_fit_task_begin`` gets the model as it was before the
iteration and its ``on_fit_task_end`` the model after it (as
``fitted_estimator``: a copy of the estimator with ``coef_``,
``intercept_``, ``classes_`` and ``n_iter_`` of that moment, ready to
predict and score), along with the ``X``, ``y`` and ``sample_weight`` (as
``metadata``) passed to the method. scipy reports an iteration only once it
is over, so an iteration's two hooks run back to back, after it. A callback
whose ``on_fit_task_end`` returns True ends ``fit`` after that iteration:
the model of that iteration is stored, ``n_iter_`` counts the iterations
run, and there is no ConvergenceWarning (the stop was the user's choice).
A ``partial_fit`` call is one pass, already over when the callbacks hear of
it: a request to stop has nothing left to stop there. In
``SoftmaxClassifierCV`` a stop ends the fit of that path point (or the
refit); the other points and folds still run, since the search needs their
scores. A fold's tasks get the fold's training rows as ``X``, ``y`` and
``metadata``.

The solvers know nothing of this: they take ``callback(coef) -> bool``,
called after each iteration with the coefficients in the problem's layout.
Without ``sklearn.callback`` (scikit-learn 1.7, 1.8), or with no callbacks
set, nothing here runs.
"""

from .._utils.arrays import take_rows
from .._utils.compat import get_namespace_and_device


def fit_tasks(estimator, X, y, sample_weight, *, task_name, max_subtasks):
    """The :class:`FitTasks` of one call, or None when no callback listens.

    Parameters
    ----------
    estimator : SoftmaxClassifier
        The estimator being fitted.
    X, y, sample_weight
        As passed to the method: the callbacks receive them (a
        ``ScoringMonitor`` scores on them).
    task_name : str
        ``"fit"`` or ``"partial_fit"``.
    max_subtasks : int
        The most iterations the call can report.

    Returns
    -------
    FitTasks or None
        None without callbacks, so that a fit without them costs nothing.
    """
    if not _listened_to(estimator):
        return None
    return FitTasks(estimator, X, y, sample_weight, task_name=task_name,
                    max_subtasks=max_subtasks)


def _listened_to(estimator):
    # An estimator inside a meta-estimator that reports to callbacks has a
    # parent context: its tasks join that tree even without its own callbacks.
    return bool(getattr(estimator, "_skl_callbacks", None)
                or hasattr(estimator, "_parent_callback_ctx"))


def solver_callback(tasks, prepared, coef0, *, unit, n_iter_before=0):
    """The ``callback(coef) -> bool`` for a solver, or None without tasks.

    Parameters
    ----------
    tasks : FitTasks or None
        From :func:`fit_tasks`.
    prepared : Prepared
        The call's problem, classes and feature attributes.
    coef0 : array
        The solver's starting coefficients (the model before the first
        iteration).
    unit : str
        What an iteration is called (the solver table's ``unit``, plural):
        the subtasks are named by its singular.
    n_iter_before : int, default=0
        Iterations already counted in ``n_iter_`` (a continuing
        ``partial_fit`` stream).

    Returns
    -------
    IterationTasks or None
    """
    if tasks is None:
        return None
    fixed = {"classes_": prepared.classes}
    fixed.update((name, value) for name, value in prepared.features.items() if value is not None)
    return IterationTasks(tasks, prepared.problem, fixed, coef0, unit.removesuffix("s"),
                          n_iter_before=n_iter_before)


def end_tasks(tasks):
    """End the root task of ``tasks`` (nothing for None), after the model is stored."""
    if tasks is not None:
        tasks.end({})


def fitted_attributes(problem, fixed, coef, n_iter=None):
    """The fitted attributes of the model at ``coef``, as the estimators store them.

    ``fixed`` (``classes_``, feature attributes) is added as it is;
    ``n_iter_`` is ``[n_iter]`` unless ``n_iter`` is None.
    """
    # weights_and_intercept returns copies: every fitted estimator has
    # arrays of its own.
    coef_, intercept_ = problem.loss.weights_and_intercept(
        coef, problem.n_features, center_weights=problem.penalty.is_smooth
    )
    attributes = {**fixed, "coef_": coef_, "intercept_": intercept_}
    if n_iter is not None:
        xp, device = problem.namespace_and_device
        attributes["n_iter_"] = xp.asarray([n_iter], dtype=xp.int32, device=device)
    return attributes


class Task:
    """One task with subtasks: its callback context and what its hooks get.

    Parameters
    ----------
    context : CallbackContext
    estimator : estimator
        The estimator whose fit this is (the hooks' ``estimator``).
    hook_data : dict
        ``X``, ``y`` and ``metadata`` for the hooks; a callable value is
        evaluated only if a hook asks for it.
    """

    def __init__(self, context, estimator, hook_data):
        self.context = context
        self.estimator = estimator
        self.hook_data = hook_data

    def begin(self):
        """``on_fit_task_begin``; returns the task."""
        self.context.call_on_fit_task_begin(estimator=self.estimator, **self.hook_data)
        return self

    def end(self, attributes=None):
        """``on_fit_task_end``, with the fitted attributes of the model (or none)."""
        return self.context.call_on_fit_task_end(
            estimator=self.estimator, **self.hook_data, reconstruction_attributes=attributes
        )

    def subtask(self, task_name, max_subtasks, hook_data=None):
        """A new (not yet begun) subtask, with this task's hook data by default."""
        return Task(self.context.subcontext(task_name=task_name, max_subtasks=max_subtasks),
                    self.estimator, self.hook_data if hook_data is None else hook_data)


class FitTasks(Task):
    """The root task of one ``fit`` or ``partial_fit`` call, begun.

    Created before the input is validated and before the estimator's
    attributes are snapshotted for failure atomicity, so that a failed call
    still keeps the context scikit-learn's ``_fit_context`` needs to tear
    the callbacks down (a progress bar's thread ends with it).

    Parameters
    ----------
    estimator : SoftmaxClassifier or SoftmaxClassifierCV
    X, y, sample_weight
        As passed to the method.
    task_name : str
    max_subtasks : int
    """

    def __init__(self, estimator, X, y, sample_weight, *, task_name, max_subtasks):
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        context = estimator._init_callback_context(task_name=task_name, max_subtasks=max_subtasks)
        super().__init__(context, estimator, {"X": X, "y": y, "metadata": metadata})
        self.begin()


class IterationTasks:
    """A solver's ``callback(coef) -> bool``: one subtask of ``parent`` per iteration.

    Parameters
    ----------
    parent : Task
    problem : SoftmaxProblem
    fixed : dict
        Fitted attributes that do not change with the iterations.
    coef0 : array
        The model before the first iteration.
    task_name : str
    n_iter_before : int or None, default=0
        Iterations already counted; None leaves ``n_iter_`` out of the
        fitted estimators (SoftmaxClassifierCV's ``n_iter_`` is per path).
    """

    def __init__(self, parent, problem, fixed, coef0, task_name, n_iter_before=0):
        self.parent = parent
        self.problem = problem
        self.fixed = fixed
        self.task_name = task_name
        self.counted = n_iter_before is not None
        self.n_iter = n_iter_before or 0
        self.previous = coef0

    def __call__(self, coef):
        """Report one finished iteration; True if a callback asks to stop."""
        xp, _ = self.problem.namespace_and_device
        # scipy updates its iterate in place, and coef may be a view of it:
        # keep a copy for the next iteration's begin hook.
        coef = xp.asarray(coef, copy=True)
        before, n_before = self.previous, self.n_iter
        self.previous, self.n_iter = coef, self.n_iter + 1
        n_after = self.n_iter
        task = self.parent.subtask(self.task_name, max_subtasks=0)
        # The fitted estimators are built only for a callback that asks for
        # one (scikit-learn calls these lazily).
        task.context.call_on_fit_task_begin(
            estimator=task.estimator, **task.hook_data,
            reconstruction_attributes=lambda: self._attributes(before, n_before),
        )
        return bool(task.end(lambda: self._attributes(coef, n_after)))

    def finish(self, coef):
        """End ``parent`` (a path point, a refit) with the model at ``coef``."""
        self.parent.end(lambda: self._attributes(coef, self.n_iter))

    def _attributes(self, coef, n_iter):
        return fitted_attributes(self.problem, self.fixed, coef,
                                 n_iter if self.counted else None)


# -- SoftmaxClassifierCV -------------------------------------------------------
def cv_tasks(estimator, X, y, sample_weight):
    """The :class:`CVTasks` of a ``SoftmaxClassifierCV.fit``, or None without callbacks."""
    if not _listened_to(estimator):
        return None
    return CVTasks(estimator, X, y, sample_weight, task_name="fit",
                   max_subtasks=1 + bool(estimator.refit))


class CVTasks(FitTasks):
    """``SoftmaxClassifierCV.fit``: the cross-validation, then the refit."""

    def folds(self, folds, *, X_input, problem, labels, weights, classes, n_points, max_iter):
        """Begin ``cross-validation``; one :class:`FoldTasks` per split, made here.

        They are made before the folds are dispatched (to joblib workers,
        perhaps), so that the task tree is built in one process.

        Parameters
        ----------
        folds : list of (train, test)
        X_input : array-like
            ``X`` as passed to ``fit``: a frame keeps its column names in
            the rows the fold's hooks get.
        problem : SoftmaxProblem
            On all the data (validated ``X``).
        labels, weights : arrays or None
            Every row's label and sample weight (None: unweighted).
        classes : array
        n_points : int
            Points of the grid, each a subtask of every fold.
        max_iter : int
        """
        self.search = self.subtask("cross-validation", max_subtasks=len(folds)).begin()
        fixed = {"classes_": classes}
        return [
            FoldTasks(self.search.subtask("fold", max_subtasks=n_points, hook_data=_FoldRows(
                X_input, problem, labels, weights, train).hook_data()), fixed, max_iter)
            for train, _ in folds
        ]

    def end_folds(self):
        """End ``cross-validation``."""
        self.search.end()

    def refit(self, problem, classes, coef0, max_iter):
        """Begin ``refit``; the solver's callback (``finish`` ends the task)."""
        task = self.subtask("refit", max_subtasks=max_iter).begin()
        return IterationTasks(task, problem, {"classes_": classes}, coef0, "iteration",
                              n_iter_before=None)


class FoldTasks:
    """One fold's task: a subtask per path point, each with its iterations.

    Parameters
    ----------
    task : Task
        The fold's (not yet begun) task.
    fixed : dict
    max_iter : int
    """

    def __init__(self, task, fixed, max_iter):
        self.task = task
        self.fixed = fixed
        self.max_iter = max_iter

    def begin(self):
        """``on_fit_task_begin`` of the fold."""
        self.task.begin()

    def point(self, problem, coef0):
        """Begin a path point's task; the solver's callback (``finish`` ends it)."""
        task = self.task.subtask("path point", max_subtasks=self.max_iter).begin()
        return IterationTasks(task, problem, self.fixed, coef0, "iteration", n_iter_before=None)

    def end(self):
        """``on_fit_task_end`` of the fold."""
        self.task.end()


class _FoldRows:
    """A fold's training rows for the hooks, cut once, when a hook first asks."""

    def __init__(self, X_input, problem, labels, weights, train):
        self.X_input, self.problem = X_input, problem
        self.labels, self.weights, self.train = labels, weights, train
        self._rows = None

    def hook_data(self):
        return {"X": lambda: self.rows()[0], "y": lambda: self.rows()[1],
                "metadata": None if self.weights is None else lambda: self.rows()[2]}

    def rows(self):
        if self._rows is None:
            xp, device = self.problem.namespace_and_device
            train = self.train
            if hasattr(self.X_input, "iloc"):  # pandas: keep the column names
                X = self.X_input.iloc[train]
            else:
                X = take_rows(self.problem.X, train, xp, device)
            y = take_rows(self.labels, train, *_namespace_and_device(self.labels))
            weights = None if self.weights is None else {
                "sample_weight": take_rows(self.weights, train, xp, device)}
            self._rows = (X, y, weights)
        return self._rows


def _namespace_and_device(array):
    xp, _, device = get_namespace_and_device(array)
    return xp, device
