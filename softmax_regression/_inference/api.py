"""Standard errors, confidence intervals and p-values for a fitted SoftmaxClassifier.

Conventions
-----------
- Parameters are in the reference-class parametrization of statsmodels'
  ``MNLogit``: row ``k`` holds the coefficients of the ``k``-th non-reference
  class minus those of the reference class, the intercept (when fitted) as the
  last column. ``q = (n_classes - 1) * (n_features + fit_intercept)`` numbers,
  flattened row-major wherever a vector or a ``q x q`` matrix is needed.
- The objective is the model's own, unnormalized:
  ``sum_i s_i CE_i + 1 / (2 C) ||W||^2`` with ``s_i = sample_weight_i *
  class_weight[y_i]``. A weight of 3 therefore counts as three rows, in the
  Hessian and in the score outer products alike.
- All arithmetic is float64, whatever the dtype of the model and of ``X``;
  ``X`` is read in row blocks (a float32 ``X`` is never copied whole, a sparse
  ``X`` never densified).
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import log_softmax
from sklearn.utils import compute_class_weight
from sklearn.utils.validation import (
    check_consistent_length,
    column_or_1d,
    validate_data,
)

from .linalg import (
    Design,
    KroneckerSum,
    cluster_meat,
    inverse,
    penalty_matrix,
    separating_direction,
)
from .checks import check_groups, check_model, check_options
from .result import InferenceResult
from .._fitting.targets import (
    checked_offset, checked_penalty_factor, inference_soft_targets, is_soft_targets,
)
from .._utils.caller import warn

# Without a penalty, a row whose observed class gets a probability this close
# to 1 (a logit margin above ~18) is where a fit on (quasi-)separated data
# ends up, its coefficients running off along the separating direction. It is
# only the cue to look: one far sample on its own side gets there too on
# overlapping data, so the data themselves decide (a linear program).
_PERFECT_PREDICTION = 1e-8

# A Newton step larger than this many standard errors means the coefficients
# are not the optimum of the objective on the data given: the intervals would be
# centred visibly off. Fits at the default tol=1e-4 stay well below it (0.2 at
# most on the scikit-learn toy data sets, standardized); a fit on other data
# from the same population is about one standard error away.
_OFF_OPTIMUM_SE = 0.5


def inference(model, X, y, *, sample_weight=None, cov_type="nonrobust", groups=None,
              reference=None, alpha=0.05, offset=None):
    """Standard errors, z-values, p-values and confidence intervals of a fitted model.

    The covariance of the coefficients is the inverse Hessian of the model's
    objective at the fitted coefficients (``"nonrobust"``), or a sandwich with
    that inverse Hessian as bread (``"HC0"``, ``"cluster"``). Without a penalty
    (``C=np.inf``) and with ``reference=None`` the numbers are those of
    statsmodels' ``MNLogit`` (``Logit`` for two classes) with the same
    ``cov_type``.

    Parameters
    ----------
    model : SoftmaxClassifier
        A fitted model. Its ``l1_ratio`` must be 0 when ``C`` is finite.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data the model was fitted on (the model does not keep it).
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        The labels the model was fitted on; every label must be in
        ``model.classes_``. Or the soft targets it was fitted on: each row
        then counts as one observation whose score is scaled by its total.
        The model's ``penalty_factor`` enters the penalized covariance.
    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights, as given to ``fit``: a weight of 3 is the row
        repeated three times, standard errors included. The model's
        ``class_weight`` is applied on top, as in ``fit``.
    cov_type : {"nonrobust", "HC0", "cluster"}, default="nonrobust"
        ``"nonrobust"``: inverse Hessian. ``"HC0"``: ``H^-1 (sum_i g_i g_i^T)
        H^-1`` with the per-sample scores ``g_i``, no small-sample correction.
        ``"cluster"``: scores summed within ``groups`` before the outer
        products, times statsmodels' default correction
        ``G / (G - 1) * (N - 1) / (N - q)`` for ``G`` groups, ``N`` samples
        (the sum of the frequency weights) and ``q`` parameters.
    groups : array-like of shape (n_samples,), default=None
        Cluster labels, required for and only used with ``cov_type="cluster"``:
        none missing (NaN or None), all of one sortable type.
    reference : label, default=None
        The class whose coefficients are subtracted (and dropped);
        ``model.classes_[0]`` when None, as in ``MNLogit``.
    alpha : float, default=0.05
        Default significance level of :meth:`InferenceResult.conf_int` and of
        the interval columns of the summary.
    offset : array-like of shape (n_samples, n_classes) or (n_samples,), default=None
        The offset the model was fitted with (see ``SoftmaxClassifier.fit``).

    Returns
    -------
    result : InferenceResult
        ``params``, ``bse``, ``zvalues``, ``pvalues`` of shape
        ``(n_classes - 1, n_features + fit_intercept)``, ``conf_int()``,
        ``cov_params()`` and ``summary()``.

    Raises
    ------
    NotFittedError
        If the model is not fitted.
    ValueError
        For an L1 penalty, an unknown ``cov_type`` or ``reference``, a missing
        or mismatched ``groups`` (or one with missing or unsortable labels),
        labels outside ``classes_``, data that do not match the model, or
        invalid weights.

    Warns
    -----
    UserWarning
        With a penalty (the intervals are conditional on it), on separated
        data without a penalty (complete, or quasi-separation found by a
        linear program on the data), for coefficients the data carry no
        information about (reported as NaN, not as the pseudo-inverse's 0
        variance), for a singular Hessian, and when the coefficients are not
        at the optimum of the objective on ``X, y``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_regression import SoftmaxClassifier, inference
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 2))
    >>> y = (X[:, 0] + rng.standard_normal(200) > 0).astype(int) + (X[:, 1] > 0)
    >>> model = SoftmaxClassifier(C=np.inf, solver="newton-cg", tol=1e-10).fit(X, y)
    >>> result = inference(model, X, y)
    >>> result.params.shape, result.bse.shape, result.conf_int().shape
    ((2, 3), (2, 3), (2, 3, 2))
    """
    check_options(cov_type, groups, alpha)
    check_model(model)
    penalty = 0.0 if np.isinf(model.C) else 1.0 / model.C
    classes = model.classes_
    n_classes = len(classes)
    ref = _reference_index(classes, reference)

    y_name = getattr(y, "name", None)
    X = validate_data(model, X, reset=False, accept_sparse="csr",
                      dtype=(np.float64, np.float32), ensure_all_finite=True)
    factor = checked_penalty_factor(getattr(model, "penalty_factor", None), X.shape[1])
    soft = None
    if is_soft_targets(y):
        soft, y_index, class_w = inference_soft_targets(model, y, X)
    else:
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        y_index = _class_index(classes, y)
    freq = _frequency_weights(sample_weight, X.shape[0])
    if groups is not None:
        groups = check_groups(groups, X.shape[0])
    if soft is None:
        class_w = _class_weights(model, y, freq)[y_index]
    weight = freq * class_w

    fit_intercept = bool(model.fit_intercept)
    design = Design(X, fit_intercept)
    theta = _reference_params(model, ref)
    free = np.delete(np.arange(n_classes), ref)
    # Y and P over the non-reference classes only: the reference is implicit.
    Y = (y_index[:, None] == free[None, :]).astype(np.float64) if soft is None else soft[:, free]
    log_p_all = log_softmax(_full_logits(design, theta, ref) + _full_offset(offset, X, classes),
                            axis=1)
    P = np.exp(np.delete(log_p_all, ref, axis=1))
    log_p_obs = (log_p_all[np.arange(len(y_index)), y_index] if soft is None
                 else np.sum(soft * log_p_all, axis=1))
    positive = weight > 0
    llf = float(np.sum(weight[positive] * log_p_obs[positive]))

    hessian = KroneckerSum(design, d=weight[:, None] * P,
                            f=np.sqrt(weight)[:, None] * P, sign=-1.0).to_dense()
    hessian += penalty * penalty_matrix(n_classes, design.width, fit_intercept, factor)

    separated = None
    if penalty == 0.0 and soft is None:
        separated = _separation(design, log_p_all, y_index, ref, positive)
    bread_inv, singular, no_information = inverse(hessian)

    residual = P - Y
    n_groups = None
    if cov_type == "nonrobust":
        cov = bread_inv
    else:
        meat, n_groups = _meat(cov_type, design, residual, freq, class_w, groups,
                               n_identified=int(np.sum(~no_information)))
        cov = bread_inv @ meat @ bread_inv
        cov = (cov + cov.T) / 2

    feature_names = _feature_names(model, X.shape[1], fit_intercept)
    not_identified = [f"({classes[free[k]]}, {feature_names[j]!r})" for k, j in
                      zip(*np.unravel_index(np.flatnonzero(no_information), theta.shape))]
    # The pseudo-inverse gives these a variance of exactly 0, which would read
    # as a coefficient known perfectly (z infinite, p 0): the data say nothing
    # about them, so nothing is reported.
    cov = cov.copy()
    cov[no_information, :] = np.nan
    cov[:, no_information] = np.nan
    _warn(model, penalty, separated, singular, not_identified)
    if separated is None:
        gradient = design.rmatmul(weight[:, None] * residual).T.ravel()
        gradient += penalty * (penalty_matrix(n_classes, design.width, fit_intercept, factor)
                               @ theta.ravel())
        _check_optimum(bread_inv, gradient)

    return InferenceResult(
        params=theta, cov=cov, cov_type=cov_type, alpha=alpha,
        classes=classes[free], reference=classes[ref], feature_names=feature_names,
        y_name=y_name, nobs=float(freq.sum()), n_groups=n_groups, llf=llf,
        penalized=penalty > 0, separated=separated,
    )


def _meat(cov_type, design, residual, freq, class_w, groups, n_identified):
    """The sum of score outer products of the sandwich, and the number of groups.

    ``n_identified`` is the ``q`` of the cluster correction: parameters the
    data say nothing about are not estimated, and do not count.
    """
    if cov_type == "HC0":
        # Frequency weights count a score once per copy; class weights scale
        # the score itself, hence enter squared.
        c = np.sqrt(freq)[:, None] * class_w[:, None] * residual
        return KroneckerSum(design, d=np.zeros_like(c), f=c, sign=1.0).to_dense(), None
    codes, n_groups = _group_codes(groups, freq)
    meat = cluster_meat(design, (freq * class_w)[:, None] * residual, codes)
    n_obs, q = float(freq.sum()), n_identified
    if n_obs <= q:
        raise ValueError(
            f"cov_type='cluster' needs more samples ({n_obs:g}) than parameters ({q}) "
            "for its small-sample correction."
        )
    # statsmodels' default (use_correction=True) for cov_type="cluster".
    meat *= n_groups / (n_groups - 1.0) * (n_obs - 1.0) / (n_obs - q)
    return meat, n_groups


def _reference_index(classes, reference):
    if reference is None:
        return 0
    matches = np.flatnonzero(classes == reference) if np.ndim(reference) == 0 else []
    if len(matches) != 1:
        raise ValueError(
            f"reference must be one of the model's classes {classes.tolist()}, "
            f"got {reference!r}."
        )
    return int(matches[0])


def _class_index(classes, y):
    known = np.isin(y, classes)
    if not known.all():
        unknown = np.unique(y[~known])
        raise ValueError(
            f"y contains labels the model was not fitted on: {unknown[:10].tolist()}; "
            f"the model's classes are {classes.tolist()}."
        )
    return np.searchsorted(classes, y)


def _frequency_weights(sample_weight, n_samples):
    if sample_weight is None:
        return np.ones(n_samples)
    weight = np.asarray(sample_weight, dtype=np.float64)
    if weight.ndim != 1 or weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), got {weight.shape}."
        )
    if not np.all(np.isfinite(weight)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if np.any(weight < 0):
        raise ValueError("sample_weight has negative values; frequency weights are >= 0.")
    if not np.any(weight > 0):
        raise ValueError("The sample weights are all zero: there is nothing to estimate.")
    return weight


def _class_weights(model, y, freq):
    if model.class_weight is None:
        return np.ones(len(model.classes_))
    return compute_class_weight(model.class_weight, classes=model.classes_, y=y,
                                sample_weight=freq)


def _reference_params(model, ref):
    """``(n_classes - 1, n_features + fit_intercept)`` float64, reference subtracted."""
    # sparsify() leaves coef_ a sparse matrix.
    coef = model.coef_.toarray() if sp.issparse(model.coef_) else model.coef_
    coef = np.asarray(coef, dtype=np.float64)
    full = np.column_stack([coef, np.asarray(model.intercept_, dtype=np.float64)])
    if len(model.classes_) == 2:
        # The binary model is softmax over [0, z]: the first class is pinned.
        full = np.vstack([np.zeros_like(full), full])
    if not model.fit_intercept:
        full = full[:, :-1]
    return np.delete(full - full[ref], ref, axis=0)


def _full_offset(offset, X, classes):
    """The offset of every class's logit (host float64), or 0 without one."""
    O = checked_offset(offset, X.shape[0], len(classes), np.empty((0, 0)))
    if O is None:
        return 0.0
    return np.column_stack([np.zeros(X.shape[0]), O]) if len(classes) == 2 else O


def _full_logits(design, theta, ref):
    free_logits = design.matmul(theta.T)
    return np.insert(free_logits, ref, 0.0, axis=1)


def _separation(design, log_p_all, y_index, ref, positive):
    """``"complete"``, ``"quasi"`` or None: whether the data are separated.

    Coefficients that put every row strictly in its class separate the data:
    scaling them up lowers the unpenalized objective without end. Otherwise a
    sample predicted with probability above ``1 - _PERFECT_PREDICTION`` is the
    cue to check for quasi-separation, which the linear program of
    :func:`separating_direction` decides from the data alone.
    """
    rows = np.arange(len(y_index))
    log_p_obs = log_p_all[rows, y_index]
    others = log_p_all.copy()
    others[rows, y_index] = -np.inf
    if np.all((log_p_obs > others.max(axis=1))[positive]):
        return "complete"
    perfect = positive & (log_p_obs > np.log1p(-_PERFECT_PREDICTION))
    if perfect.any() and separating_direction(design, y_index, ref, log_p_all.shape[1],
                                              np.flatnonzero(positive)):
        return "quasi"
    return None


def _warn(model, penalty, separated, singular, not_identified):
    if penalty > 0:
        warn(
            f"The model is penalized (C={model.C}): the standard errors are those of the "
            "penalized estimator, conditional on C; the intervals and p-values are not "
            "valid tests in the usual sense (the estimate is biased towards 0).",
            UserWarning,
        )
    if separated is not None:
        what = ("The fitted coefficients completely separate the classes: the data are "
                "separated" if separated == "complete" else
                "The data are quasi-separated (a direction of the coefficients puts some "
                "samples strictly on the side of their class and none on the wrong side)")
        warn(
            f"{what} and the "
            "unpenalized maximum-likelihood estimate does not exist. The standard errors "
            "of the affected coefficients are meaningless (huge); refit with a finite C.",
            UserWarning,
        )
    if not_identified:
        shown = ", ".join(not_identified[:10]) + (" ..." if len(not_identified) > 10 else "")
        warn(
            f"{len(not_identified)} coefficient(s) (class, feature) are not identified: the "
            "data carry no information about them (a feature that is 0 on every sample with "
            f"weight, without a penalty): {shown}. Their standard errors, z, p-values, "
            "intervals and covariances are NaN.",
            UserWarning,
        )
    elif singular and separated is None:
        warn(
            "The Hessian is singular (collinear or constant features?): some coefficients "
            "are not identified; their standard errors use its pseudo-inverse.",
            UserWarning,
        )


def _check_optimum(bread_inv, gradient):
    step = bread_inv @ gradient
    se = np.sqrt(np.maximum(np.diag(bread_inv), 0.0))
    # Parameters without information (zero variance) have no scale to move by.
    informative = se > 0
    if not informative.any():
        return
    worst = float(np.max(np.abs(step[informative]) / se[informative]))
    if worst > _OFF_OPTIMUM_SE:
        warn(
            f"The coefficients are not at the optimum of the objective on these data: a "
            f"Newton step moves one by {worst:.2g} standard errors. Either X, y or "
            "sample_weight are not the data the model was fitted on, or the fit stopped "
            "early; refit with a smaller tol.",
            UserWarning,
        )


def _group_codes(groups, freq):
    """Group codes ``0..G-1`` of the samples with positive weight (-1 for the rest), and G.

    A group whose samples all have zero weight is absent from the repeated-rows
    data that frequency weights stand for, so it does not count in G.
    """
    codes = np.full(len(freq), -1)
    _, codes[freq > 0] = np.unique(groups[freq > 0], return_inverse=True)
    n_groups = int(codes.max()) + 1
    if n_groups < 2:
        raise ValueError(
            f"cov_type='cluster' needs at least 2 groups with positive weight, got {n_groups}."
        )
    return codes, n_groups


def _feature_names(model, n_features, fit_intercept):
    names = getattr(model, "feature_names_in_", None)
    names = [str(n) for n in names] if names is not None else [
        f"x{j}" for j in range(n_features)]
    return names + ["intercept"] if fit_intercept else names
