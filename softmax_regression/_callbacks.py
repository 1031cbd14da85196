"""scikit-learn's callbacks (``set_callbacks``, scikit-learn >= 1.9) around a fit.

What a fit reports to the callbacks, as scikit-learn's task tree:

- ``fit``: the root task, with one subtask per solver iteration (an L-BFGS
  or Newton iteration, an SGD epoch), so at most ``max_iter`` of them;
- ``partial_fit``: the root task, with one subtask, the call's pass over
  its batch.

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
it: a request to stop has nothing left to stop there.

The solvers know nothing of this: they take ``callback(coef) -> bool``,
called after each iteration with the coefficients in the problem's layout.
Without ``sklearn.callback`` (scikit-learn 1.7, 1.8), or with no callbacks
set, nothing here runs.
"""


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
    # An estimator inside a meta-estimator that reports to callbacks has a
    # parent context: its tasks join that tree even without its own callbacks.
    if not (getattr(estimator, "_skl_callbacks", None)
            or hasattr(estimator, "_parent_callback_ctx")):
        return None
    return FitTasks(estimator, X, y, sample_weight, task_name=task_name,
                    max_subtasks=max_subtasks)


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
    callable or None
    """
    if tasks is None:
        return None
    return IterationTasks(tasks, prepared, coef0, unit.removesuffix("s"), n_iter_before)


def end_tasks(tasks):
    """End the root task of ``tasks`` (nothing for None), after the model is stored."""
    if tasks is not None:
        tasks.end()


class FitTasks:
    """The root callback task of one ``fit`` or ``partial_fit`` call.

    Created before the input is validated and before the estimator's
    attributes are snapshotted for failure atomicity, so that a failed call
    still keeps the context scikit-learn's ``_fit_context`` needs to tear
    the callbacks down (a progress bar's thread ends with it).

    Parameters
    ----------
    estimator : SoftmaxClassifier
    X, y, sample_weight
        As passed to the method.
    task_name : str
    max_subtasks : int
    """

    def __init__(self, estimator, X, y, sample_weight, *, task_name, max_subtasks):
        self.estimator = estimator
        self.hook_data = {
            "X": X,
            "y": y,
            "metadata": None if sample_weight is None else {"sample_weight": sample_weight},
        }
        self.context = estimator._init_callback_context(
            task_name=task_name, max_subtasks=max_subtasks
        )
        self.context.call_on_fit_task_begin(estimator=estimator, **self.hook_data)

    def end(self):
        """``on_fit_task_end`` of the root task, with the stored model."""
        # Empty reconstruction attributes: the fitted estimator the callbacks
        # get is a copy of the estimator as stored.
        self.context.call_on_fit_task_end(
            estimator=self.estimator, **self.hook_data, reconstruction_attributes={}
        )


class IterationTasks:
    """A solver's ``callback(coef) -> bool``: one subtask per iteration.

    Parameters
    ----------
    tasks : FitTasks
    prepared : Prepared
    coef0 : array
    task_name : str
    n_iter_before : int
    """

    def __init__(self, tasks, prepared, coef0, task_name, n_iter_before):
        self.tasks = tasks
        self.problem = prepared.problem
        self.fixed = {"classes_": prepared.classes}
        self.fixed.update(
            (name, value) for name, value in prepared.features.items() if value is not None
        )
        self.task_name = task_name
        self.n_iter = n_iter_before
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
        tasks = self.tasks
        context = tasks.context.subcontext(task_name=self.task_name)
        # The fitted estimators are built only for a callback that asks for
        # one (scikit-learn calls these lazily).
        context.call_on_fit_task_begin(
            estimator=tasks.estimator, **tasks.hook_data,
            reconstruction_attributes=lambda: self._attributes(before, n_before),
        )
        return bool(context.call_on_fit_task_end(
            estimator=tasks.estimator, **tasks.hook_data,
            reconstruction_attributes=lambda: self._attributes(coef, n_after),
        ))

    def _attributes(self, coef, n_iter):
        """The fitted attributes of the model at ``coef``, as ``store_result`` sets them."""
        problem = self.problem
        xp, device = problem.namespace_and_device
        # weights_and_intercept returns copies: every fitted estimator has
        # arrays of its own.
        coef_, intercept_ = problem.loss.weights_and_intercept(
            coef, problem.n_features, center_weights=problem.penalty.is_smooth
        )
        return {
            **self.fixed,
            "coef_": coef_,
            "intercept_": intercept_,
            "n_iter_": xp.asarray([n_iter], dtype=xp.int32, device=device),
        }
