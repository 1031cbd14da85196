"""Incremental learning: ``partial_fit`` over the SGD solver's state."""

from contextlib import contextmanager

import numpy as np
from sklearn.base import _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._array_api import (
    _convert_to_numpy,
    device,
    get_namespace,
    get_namespace_and_device,
    move_to,
)
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import validate_data

from ._solvers import SGD_OPTIONS
from ._solvers.sgd import new_stream_state, sgd_partial_fit
from ._solvers.sgd_optimizer import SGDConfig

# What every entry point accepts as X: sparse stays sparse, float32 stays float32.
ACCEPTED_SPARSE = ["csr", "csc"]


def float_dtypes(X):
    """The floating dtypes kept as they are, in X's array namespace."""
    xp, _ = get_namespace(X)
    return [xp.float64, xp.float32]


def host_numpy(array):
    """``array`` as a NumPy array on the host (labels, K class totals, ...)."""
    return _convert_to_numpy(array, get_namespace(array)[0])


def host_sum(array):
    """The sum of ``array``, as a Python float."""
    xp, _ = get_namespace(array)
    return float(xp.sum(array))


def problem_array(problem, values):
    """Small integer array (``n_iter_``) in the problem's namespace and device."""
    xp, device = problem.namespace_and_device
    return xp.asarray(values, dtype=xp.int32, device=device)


def same_labels(a, b):
    a, b = host_numpy(a), host_numpy(b)
    return a.shape == b.shape and bool(np.all(a == b))


@contextmanager
def restore_on_failure(estimator):
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


class PartialFitMixin:
    """``partial_fit`` and the SGD-only fitted attributes of SoftmaxClassifier.

    Relies on the estimator's validation helpers (``_check_solver_penalty``,
    ``_effective_sample_weight``, ``_build_problem``, ``_cold_coef``,
    ``_previous_coef``, ``_store_coef``).
    """

    def _is_sgd(self):
        return self.solver == "sgd"

    @available_if(_is_sgd)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Take one SGD pass over a batch of data, continuing the last fit.

        This is incremental learning of the multinomial model itself (not one
        binary model per class). The optimizer state in ``sgd_state_`` carries
        over between calls, so a stream of ``partial_fit`` calls continues
        exactly where the last call (or a ``fit`` with ``solver="sgd"``)
        stopped.

        The penalty is scaled by the total sample weight seen so far, this
        call included: after one pass over a data set, the objective is the
        one ``fit`` would minimize on all of it. Rows seen again count again,
        so after ``k`` passes it is ``fit``'s objective with ``k * C``; divide
        ``C`` by the number of passes to keep ``fit``'s penalty.

        With ``early_stopping``, each call holds out ``validation_fraction``
        of its rows (stratified when possible) and scores the model on them
        after its pass; after ``n_iter_no_change`` calls without improvement
        by more than ``tol``, whatever the schedule, the model returns to the
        best coefficients seen and later calls leave it unchanged. A new
        ``fit`` starts over.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,)
            Labels of the batch; each must be one of ``classes``.
        classes : array-like of shape (n_classes,), default=None
            All the labels the stream can contain. Required on the first call;
            on later calls it must equal ``classes_`` if given.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.

        Returns
        -------
        self : SoftmaxClassifier
            The updated estimator. If the call fails, the estimator is left
            exactly as it was.
        """
        with restore_on_failure(self):
            self._check_solver_penalty()
            first_call = not hasattr(self, "sgd_state_")
            if self.class_weight == "balanced":
                raise ValueError(
                    "class_weight='balanced' needs the class counts of the whole data and "
                    "is not available with partial_fit; pass a dict of class weights."
                )
            xp, _, device_ = get_namespace_and_device(X)
            sample_weight = move_to(sample_weight, xp=xp, device=device_)
            X, y = validate_data(
                self, X, y, accept_sparse=ACCEPTED_SPARSE, dtype=float_dtypes(X),
                reset=first_call,
            )
            classes = self._stream_classes(classes, first_call, y)
            encoder = LabelEncoder()
            encoder.classes_ = classes
            try:
                y_index = move_to(encoder.transform(y), xp=xp, device=device_)
            except ValueError as error:
                known = host_numpy(classes).tolist()
                unknown = sorted(set(np.unique(host_numpy(y)).tolist()) - set(known))
                raise ValueError(
                    f"y contains labels that are not in classes={known}: {unknown}"
                ) from error
            weights = self._effective_sample_weight(X, y, y_index, classes, sample_weight)
            call_weight = host_sum(weights)
            state = None if first_call else self.sgd_state_
            weight_seen = call_weight + (0.0 if first_call else state.weight_seen)
            problem = self._build_problem(X, y_index, classes.shape[0], weights, call_weight,
                                          penalty_weight=weight_seen)
            if first_call:
                coef = self._cold_coef(problem)
                state = new_stream_state(coef, SGDConfig(self.learning_rate, self.eta0,
                                                         self.power_t, self.momentum),
                                         self.random_state)
            else:
                coef = self._previous_coef(problem)
            result = sgd_partial_fit(
                problem, coef, state, weight_seen=weight_seen, tol=self.tol,
                verbose=self.verbose, **{name: getattr(self, name) for name in SGD_OPTIONS},
            )
            if result.n_iter == 0:
                return self  # early stopping has ended this stream: nothing changes
            self.classes_ = classes
            self._store_coef(problem, result.coef)
            previous_iter = 0 if first_call else int(self.n_iter_[0])
            self.n_iter_ = problem_array(problem, [previous_iter + result.n_iter])
            self.loss_curve_ = (
                [] if first_call else list(self.loss_curve_)
            ) + [float(v) for v in result.objective_history]
            self._store_stream_state(result, append=not first_call)
        return self

    def _stream_classes(self, classes, first_call, y):
        """The sorted labels of the stream, in y's namespace and device."""
        if classes is None:
            if first_call:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit: the full "
                    "list of labels the stream can contain."
                )
            return self.classes_
        sorted_labels = np.unique(np.asarray(host_numpy(classes) if hasattr(classes, "shape")
                                             else classes))
        if first_call:
            if len(sorted_labels) < 2:
                raise ValueError(
                    f"classes must contain at least 2 classes, got only one class: "
                    f"{sorted_labels.tolist()}."
                )
            xp, _ = get_namespace(y)
            if sorted_labels.dtype.kind in "OUS":
                return sorted_labels  # strings live on the host, like the labels
            return xp.asarray(sorted_labels, device=device(y))
        if not same_labels(sorted_labels, self.classes_):
            raise ValueError(
                f"classes={sorted_labels.tolist()} differs from the classes of the "
                f"first call, {host_numpy(self.classes_).tolist()}."
            )
        return self.classes_

    def _store_stream_state(self, result, append):
        """Record (or, for other solvers, drop) the SGD-only attributes."""
        if result.state is None:
            for name in ("sgd_state_", "t_", "validation_scores_"):
                self.__dict__.pop(name, None)
            return
        self.sgd_state_ = result.state
        self.t_ = result.state.n_samples_seen
        if not self.early_stopping:
            self.validation_scores_ = None
        else:
            previous = getattr(self, "validation_scores_", None) if append else None
            self.validation_scores_ = list(previous or []) + list(result.validation_scores)
