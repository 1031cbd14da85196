"""From ``fit(X, y)`` or ``partial_fit(X, y)`` to the problem a solver sees.

One sequence serves every entry point: validate the input, encode the labels,
weigh the samples (``sample_weight`` times ``class_weight``), build the
problem with its penalty, and choose the starting coefficients.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import validate_data

from .._utils.arrays import ACCEPTED_SPARSE, float_dtypes, host_numpy, same_labels
from .._utils.compat import _check_sample_weight, _get_feature_names, get_namespace_and_device, move_to
from .._model.loss import LinearSoftmaxLoss
from .._model.penalties import penalty_from_params
from .._model.problem import SoftmaxProblem
from .._solvers import SOLVERS
from .labels import encode_labels
from .targets import (
    checked_offset, checked_penalty_factor, free_targets, in_class_order, is_soft_targets,
    soft_sample_weight, soft_target_classes, soft_target_matrix,
)


@dataclass(frozen=True)
class Prepared:
    """What one call turns its input into.

    Attributes
    ----------
    problem : SoftmaxProblem
        Sample weights normalized to sum to one over this call's rows.
    classes : ndarray
        The sorted labels, in y's namespace and device.
    total : float
        Total sample weight of this call (class weights included).
    features : dict
        ``n_features_in_`` and ``feature_names_in_`` read from X (empty when
        the call keeps those of an earlier fit).
    total_factors : tuple of float
        ``total`` as factors whose product it is (the largest weight, the sum
        of the weights divided by it): finite even where ``total`` overflows,
        for penalties formed later (the folds and refit of the CV).
    """

    problem: SoftmaxProblem
    classes: object
    total: float
    features: dict
    total_factors: tuple = ()


def check_solver_penalty(estimator):
    """Refuse an L1 part of the penalty for a solver that cannot handle one."""
    has_l1 = estimator.l1_ratio > 0 and estimator.C != np.inf
    if has_l1 and not SOLVERS[estimator.solver].supports_l1:
        working = sorted(name for name, spec in SOLVERS.items() if spec.supports_l1)
        raise ValueError(
            f"solver={estimator.solver!r} does not support an L1 penalty "
            f"(l1_ratio={estimator.l1_ratio!r}); use l1_ratio=0 or one of the "
            f"solvers {working}."
        )


def prepare(estimator, X, y, sample_weight=None, *, classes=None, reset=True,
            weight_before=0.0, offset=None):
    """Validate, encode and weigh ``X, y`` into a :class:`Prepared` problem.

    Parameters
    ----------
    estimator : SoftmaxClassifier
        Read for its parameters; ``validate_data`` checks the feature count
        against it when ``reset=False``.
    X, y, sample_weight
        As passed to ``fit`` or ``partial_fit``.
    classes : ndarray or None
        The sorted labels of a stream (``partial_fit``), or None to take them
        from ``y`` (``fit``), which then must have two classes with weight.
    reset : bool
        Whether this call sets the number and names of the features.
    weight_before : float
        Sample weight seen by earlier calls of a stream: the penalty is
        divided by ``weight_before + total``.
    offset : array-like or None
        A fixed part of the logits (see :func:`~.targets.checked_offset`).

    ``y`` may be soft targets, an ``(n_samples, K >= 2)`` matrix (see
    :mod:`.targets`); its classes are then its columns.
    """
    check_solver_penalty(estimator)
    if is_soft_targets(y):
        return _prepare_soft(estimator, X, y, sample_weight, classes=classes, reset=reset,
                             weight_before=weight_before, offset=offset)
    classes_from_y = classes is None
    # Weights and label indices follow X to its namespace and device; the
    # labels themselves (classes_) stay in y's, as in scikit-learn.
    xp, _, device = get_namespace_and_device(X)
    sample_weight = move_to(sample_weight, xp=xp, device=device)
    features = {}
    if reset:
        # An array has no feature names (the check costs more than a pass on
        # a small table).
        names = None if isinstance(X, np.ndarray) else _get_feature_names(X)
        features = {"feature_names_in_": names}
    X, y = validate_data(
        estimator, X, y, accept_sparse=ACCEPTED_SPARSE, dtype=float_dtypes(X), reset=reset
    )
    if reset:
        features["n_features_in_"] = X.shape[1]
    if classes_from_y:
        classes, y_index = encode_labels(y)
        if classes.shape[0] < 2:
            raise ValueError(
                f"{type(estimator).__name__} needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {host_numpy(classes)[0]!r}."
            )
    else:
        encoder = LabelEncoder()
        encoder.classes_ = classes
        known = host_numpy(classes).tolist()
        # Compared as Python values, so that 0 and "0" are different labels.
        unknown = sorted(set(np.unique(host_numpy(y)).tolist()) - set(known), key=repr)
        if unknown:
            raise ValueError(f"y contains labels that are not in classes={known}: {unknown}")
        y_index = encoder.transform(y)
    if not (isinstance(y_index, np.ndarray) and isinstance(X, np.ndarray)):
        y_index = move_to(y_index, xp=xp, device=device)
    factor = checked_penalty_factor(getattr(estimator, "penalty_factor", None), X.shape[1])
    offset = checked_offset(offset, X.shape[0], classes.shape[0], X)
    # Unweighted: unit weights, and every class read from y has rows, so
    # positive weight (no scan of the weights, no per-class check).
    unweighted = sample_weight is None and estimator.class_weight is None
    if unweighted:
        weights, scale = xp.ones(X.shape[0], dtype=X.dtype, device=device), 1.0
    else:
        weights, scale = effective_sample_weight(estimator, X, y, y_index, classes,
                                                 sample_weight, xp, device)
    loss = LinearSoftmaxLoss(classes.shape[0], estimator.fit_intercept)
    Y = loss.one_hot(y_index, X.dtype, column_major=isinstance(X, np.ndarray) or sp.issparse(X))
    return _prepared(estimator, X, Y, weights, scale, loss,
                     classes, features, check_classes=classes_from_y and not unweighted,
                     weight_before=weight_before, factor=factor, offset=offset,
                     namespace_device=(xp, device))


def _prepared(estimator, X, Y, weights, scale, loss, classes, features, *, check_classes,
              weight_before, factor, offset, namespace_device=None):
    """The :class:`Prepared` problem of checked targets and weights.

    ``namespace_device``: X's ``(namespace, device)`` where the caller has them.
    """
    if namespace_device is None:
        xp, _, device = get_namespace_and_device(X)
        namespace_device = (xp, device)
    xp = namespace_device[0]
    relative_total = float(xp.sum(weights))
    total = scale * relative_total  # inf for weights near the largest float: no penalty
    factors = (weight_before + total,) if weight_before else (scale, relative_total)
    problem = SoftmaxProblem(
        X=X,
        Y=Y,
        sample_weight=weights / relative_total,
        loss=loss,
        # The total weight as factors, so that the penalty's scale is formed
        # without overflow (see penalty_from_params).
        penalty=penalty_from_params(estimator.C, estimator.l1_ratio, *factors, factor=factor),
        offset=offset,
    )
    # The problem's arrays are X's: its namespace is known.
    problem.__dict__["namespace_and_device"] = namespace_device
    if check_classes:
        _check_weighted_classes(problem, classes)
    return Prepared(problem=problem, classes=classes, total=total, features=features,
                    total_factors=factors)


def _prepare_soft(estimator, X, y, sample_weight, *, classes, reset, weight_before, offset):
    """:func:`prepare` for soft targets: the classes are the columns of ``y``."""
    features = {}
    if reset:
        features = {"feature_names_in_": _get_feature_names(X)}
    n_columns = y.shape[1] if hasattr(y, "shape") else len(y[0])
    from_columns = classes is None
    if from_columns:
        classes = soft_target_classes(y)
    elif len(classes) != n_columns:
        raise ValueError(
            f"y has {n_columns} columns (soft targets, one per class), but the model has "
            f"{len(classes)} classes: {host_numpy(classes).tolist()}."
        )
    X = validate_data(estimator, X, accept_sparse=ACCEPTED_SPARSE, dtype=float_dtypes(X),
                      reset=reset)
    if reset:
        features["n_features_in_"] = X.shape[1]
    Y = in_class_order(soft_target_matrix(y, X), y, classes)
    factor = checked_penalty_factor(getattr(estimator, "penalty_factor", None), X.shape[1])
    offset = checked_offset(offset, X.shape[0], n_columns, X)
    weights, scale, Y = soft_sample_weight(
        estimator, X, Y, classes, sample_weight,
        lambda class_weight, classes: class_weights(class_weight, classes, None, None))
    loss = LinearSoftmaxLoss(n_columns, estimator.fit_intercept, soft_targets=True)
    return _prepared(estimator, X, free_targets(loss, Y, X), weights, scale, loss, classes,
                     features, check_classes=from_columns, weight_before=weight_before,
                     factor=factor, offset=offset)


def effective_sample_weight(estimator, X, y, y_index, classes, sample_weight, xp, device):
    """``sample_weight * class_weight`` divided by its largest value, and that value.

    Dividing by the largest weight first keeps every later sum finite for
    weights anywhere in the floating-point range (1e-320 or 1e308 alike);
    the scale comes back separately, as a Python float. ``xp`` and
    ``device`` are X's namespace and device.

    Returns
    -------
    weights : array of shape (n_samples,)
        In ``[0, 1]``, in X's dtype, namespace and device.
    scale : float
        The largest weight.
    """
    weights = _check_sample_weight(sample_weight, X, dtype=None, ensure_non_negative=True)
    # scikit-learn 1.7 makes default weights on the default device: bring them to X's.
    weights = move_to(weights, xp=xp, device=device)
    if not bool(xp.all(xp.isfinite(weights))):
        raise ValueError("sample_weight contains NaN or infinity.")
    scale = float(xp.max(weights))
    if not scale > 0:
        raise ValueError("The sample weights are all zero: nothing to fit.")
    weights = weights / scale
    if estimator.class_weight is not None:
        if isinstance(estimator.class_weight, str):
            # "balanced": w_i * total / (K * class total), formed as the share
            # w_i / class total (at most 1) times total / K (at most n), so
            # that no factor overflows however small a class's weights are.
            totals = class_totals_of(y_index, weights, classes.shape[0])
            # A class without weight has only zero weights: any divisor will do.
            divisor = xp.asarray(np.where(totals > 0, totals, 1.0), dtype=weights.dtype,
                                 device=device)
            weights = weights / xp.take(divisor, y_index, axis=0) * (
                float(np.sum(totals)) / classes.shape[0])
        else:
            per_class = class_weights(estimator.class_weight, classes, y_index, weights)
            weights = weights * xp.take(
                xp.asarray(per_class, dtype=weights.dtype, device=device), y_index, axis=0)
        # Class weights near the largest float: the products overflow.
        if not bool(xp.all(xp.isfinite(weights))):
            raise ValueError(
                "sample_weight times class_weight overflows: the class weights are too "
                "large; divide them all by the same factor (only their ratios and C "
                "matter)."
            )
        relative = float(xp.max(weights))
        if not relative > 0:
            raise ValueError("The sample weights times the class weights are all zero: "
                             "nothing to fit.")
        weights, scale = weights / relative, scale * relative
    return xp.astype(weights, X.dtype), scale


def class_totals_of(y_index, weights, n_classes):
    """Total weight of each class, host float64."""
    return np.bincount(host_numpy(y_index), weights=np.asarray(host_numpy(weights), np.float64),
                       minlength=n_classes).astype(np.float64)


def class_weights(class_weight, classes, y_index, sample_weight):
    """One non-negative finite weight per class (host float64), checked.

    ``"balanced"`` gives ``total / (n_classes * class total)`` as in
    scikit-learn, and 0 to a class without weight (its rows weigh nothing
    whatever its class weight).
    """
    labels = host_numpy(classes)
    if isinstance(class_weight, str):  # "balanced", the only string allowed
        totals = class_totals_of(y_index, sample_weight, len(labels))
        with np.errstate(divide="ignore", over="ignore"):
            per_class = np.sum(totals / totals.max()) / (len(labels) * (totals / totals.max()))
        return np.where(totals > 0, per_class, 0.0)
    known = set(labels.tolist())
    unknown = [key for key in class_weight if key not in known]
    if unknown:
        raise ValueError(
            f"class_weight has keys that are not classes: {sorted(unknown, key=repr)}; "
            f"the classes are {labels.tolist()}."
        )
    per_class = np.array([class_weight.get(label, 1.0) for label in labels.tolist()],
                         dtype=np.float64)
    bad = {label: value for label, value in zip(labels.tolist(), per_class.tolist())
           if not (np.isfinite(value) and value >= 0)}
    if bad:
        raise ValueError(
            f"class_weight must be finite and non-negative; got {bad}."
        )
    return per_class


def _check_weighted_classes(problem, classes):
    class_totals = problem.class_totals()
    if np.count_nonzero(class_totals > 0) < 2:
        names = host_numpy(classes).tolist()
        raise ValueError(
            "The sample weights leave fewer than 2 classes with positive weight "
            f"(share of the total weight per class: "
            f"{dict(zip(names, class_totals.tolist()))}); at least 2 classes must "
            "have positive weight."
        )


def starting_point(estimator, prepared, spec):
    """The coefficients a fit starts from, and the options its solver gets.

    With ``warm_start`` and matching classes and shapes, the previous
    ``coef_`` (and a stateful solver's previous state); otherwise ``W = 0``
    with the intercepts at the class priors. The one start for an in-memory
    and a dask fit.
    """
    problem = prepared.problem
    warm = estimator.warm_start and can_continue(estimator, problem, prepared.classes)
    coef0 = previous_coef(estimator, problem) if warm else problem.initial_coef()
    options = {name: getattr(estimator, name) for name in spec.options}
    if spec.stateful:
        previous = getattr(estimator, spec.state_attribute, None) if warm else None
        options["state"] = spec.init_state(coef0, previous=previous, **options)
        options["weight_seen"] = prepared.total
    return coef0, options


def can_continue(estimator, problem, classes):
    """Whether the fitted ``coef_`` fits ``problem`` and ``classes`` (warm start)."""
    return (
        hasattr(estimator, "coef_")
        and tuple(estimator.coef_.shape) == (problem.coef_shape[0], problem.n_features)
        and same_labels(estimator.classes_, classes)
    )


def previous_coef(estimator, problem):
    """The fitted coefficients in the problem's layout, dtype, namespace and device.

    A missing intercept column (fitted with ``fit_intercept=False``) starts
    at zero; an intercept that is no longer fitted is dropped.
    """
    xp, device = problem.namespace_and_device
    coef = estimator.coef_
    coef = coef.toarray() if hasattr(coef, "toarray") else coef
    coef = xp.asarray(coef, dtype=problem.dtype, device=device)
    if not problem.loss.fit_intercept:
        return xp.asarray(coef, copy=True)
    intercept = xp.asarray(estimator.intercept_, dtype=problem.dtype, device=device)
    return xp.concat([coef, intercept[:, None]], axis=1)


def checked_classes(classes):
    """``partial_fit``'s ``classes`` as a sorted 1-D host array, or a ValueError."""
    if isinstance(classes, (set, frozenset, dict, str, bytes)) or not hasattr(
        classes, "__len__"
    ):
        raise ValueError(
            "classes must be a list or 1-D array of the labels, got a "
            f"{type(classes).__name__}: {classes!r}."
        )
    labels = host_numpy(classes) if hasattr(classes, "shape") else np.asarray(
        list(classes), dtype=object
    )
    if labels.ndim != 1:
        raise ValueError(f"classes must be 1-D, got an array of shape {labels.shape}.")
    values = labels.tolist()
    if any(value is None or (isinstance(value, float) and value != value) for value in values):
        raise ValueError(f"classes must not contain missing labels (None or NaN): {values}.")
    kinds = {isinstance(value, (str, bytes)) for value in values}
    if len(kinds) > 1:
        raise ValueError(f"classes mixes strings and numbers: {values}.")
    unique = np.unique(np.asarray(values))
    if len(unique) < 2:
        raise ValueError(
            f"classes must contain at least 2 classes, got {len(unique)}: {unique.tolist()}."
        )
    return unique


def checked_validation_data(validation_data):
    """``partial_fit``'s ``validation_data`` as ``(X_val, y_val, sample_weight_val)``.

    Only a tuple (or list) of two or three items is accepted: unpacking
    anything else (an array ``X_val`` alone) into ``prepare`` would fail with
    an unrelated message, or take a row for the labels.
    """
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        got = (f"a {type(validation_data).__name__} of length {len(validation_data)}"
               if isinstance(validation_data, (tuple, list))
               else f"an object of type {type(validation_data).__name__}")
        raise ValueError(
            "validation_data must be a tuple (X_val, y_val) or (X_val, y_val, "
            f"sample_weight_val), got {got}."
        )
    return tuple(validation_data) + (None,) * (3 - len(validation_data))
