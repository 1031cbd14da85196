"""What SGD's end means: convergence or a stop, overflow, a stream that learns nothing.

SGD stops by its own rules (a stall, the learning rate's floor, early
stopping); these functions decide whether such a stop is convergence, with
the optimality measure every solver reports, and refuse what overflowed.
"""

import math

import numpy as np
import scipy.sparse as sp

from .._utils.namespace import namespace
from ._overflow import overflow_error, overflow_is_an_error
from .sgd_monitor import MIN_ETA, STREAM_AVERAGING
from .sgd_scaling import standardized_optimality

# A stop by the stopping rule counts as convergence only when the optimality
# measure in standardized coordinates is at most this multiple of tol (see
# stop_is_convergence). Default fits on standardized digits stop at 1.3e-4
# to 4e-4 (tol=1e-4); raw wine without the preconditioner stopped at ~377.
NEAR_OPTIMUM = 100.0
# partial_fit warns that a stream predicts like its class priors when its
# running objective is not below theirs and within this fraction of it
# (no_better_than_the_priors): a stream stalled by one outlier row stayed
# within 0.3% of the priors (digits), data without signal within 2%.
PRIOR_BAND = 0.05


def optimality_and_gradient(problem, coef):
    """The problem's optimality measure at ``coef`` and the smooth gradient (one full pass).

    SGD stops by its own rule, but reports the same measure as every other
    solver: the largest distance of the full gradient to the subdifferential.
    """
    with overflow_is_an_error():
        _, G = problem.smooth_value_gradient(coef)
    return problem.optimality(coef, G), G


def optimality(problem, coef):
    """The problem's optimality measure at ``coef`` (see :func:`optimality_and_gradient`)."""
    return optimality_and_gradient(problem, coef)[0]


def check_finite_logits(problem, coef):
    """Raise the overflow error if ``coef`` gives infinite logits on ``problem.X``.

    Steps on features of ~1e150 can leave finite coefficients whose logits
    overflow, so every prediction would be NaN. A bound on the logits rules
    that out without a pass over the data in every ordinary case; only near
    the edge of the range are the logits computed.
    """
    xp, _ = problem.namespace_and_device
    X = problem.X
    d = problem.n_features
    W = xp.abs(coef[:, :d])
    intercept = float(xp.max(xp.abs(coef[:, d:]))) if coef.shape[1] > d else 0.0
    # max and min of the stored values, never max(abs(X)): no temporary the
    # size of X, and scipy's X.max() would sum duplicate entries in place.
    if sp.issparse(X):
        if not X.nnz:
            return
        largest = max(abs(float(X.data.max())), abs(float(X.data.min())))
        # |z_ik| <= max|stored value| * stored values per row * max_j |W_kj| + |b_k|
        per_row = int(np.diff(X.tocsr().indptr).max())  # SGD's X is CSR: no copy
        bound = largest * per_row * float(xp.max(W)) + intercept if d else intercept
    else:
        if not X.shape[0] or not d:
            return
        largest = max(abs(float(xp.max(X))), abs(float(xp.min(X))))
        # |z_ik| <= max|x| * ||W_k||_1 + |b_k|
        bound = largest * float(xp.max(xp.sum(W, axis=1))) + intercept
    if bound < 0.01 * float(xp.finfo(problem.dtype).max):
        return
    with overflow_is_an_error():
        finite = bool(xp.all(xp.isfinite(problem.loss.logits(coef, X))))
    if not finite:
        raise overflow_error("SGD reached coefficients whose logits are infinite")


def finite_objective(objective, coef, state, where):
    """The epoch's objective, or inf if it overflowed (the rule then rolls back).

    Without a finite point to return to (the very first epoch), overflow is
    an error.
    """
    xp = namespace(coef)
    if np.isfinite(objective) and bool(xp.all(xp.isfinite(coef))):
        return objective
    if state.monitor.lowest_coef is None:
        raise overflow_error(
            f"SGD diverged in {where} with objective {objective}; a lower eta0 may also help"
        )
    return np.inf


def updated_prior_gap(previous, objective, shares, class_totals):
    """The running averages of :attr:`StreamState.prior_gap` after one more call.

    ``shares`` are the call's class weights (summing to one), ``class_totals``
    the stream's, this call included: the model with ``W = 0`` and the log
    priors as intercepts has the cross-entropy ``-sum_k shares_k log p_k`` on
    the call's rows (and no penalty). A call whose objective overflowed (the
    stream rule returns from it) leaves the averages as they were.
    """
    if not math.isfinite(objective):
        return previous
    priors = class_totals / class_totals.sum()
    present = shares > 0
    prior = -float(np.sum(shares[present] * np.log(priors[present])))
    now = (objective, prior, abs(objective - prior))
    if previous is None:
        return now
    return tuple(old + STREAM_AVERAGING * (new - old) for old, new in zip(previous, now))


def no_better_than_the_priors(state, problem):
    """Whether a stream that has seen enough data predicts like its class priors.

    The failure this catches is a model whose weights cannot move (one
    outlier row in the preconditioner's running variance makes every step
    ~1e-8 of a standardized one) while its intercepts still learn the
    priors: its objective then follows the priors' cross-entropy on every
    call, a little above it. So the rule is: the running average of the
    calls' objectives is not below the priors' (``f >= q``) and stays within
    ``PRIOR_BAND`` of it call by call (the running ``|f - q| <= PRIOR_BAND *
    q``). A stream that learns is well below the priors (standardized
    digits in chunks, the 60,000-row stream: ``f - q`` below -0.5); a stream
    sorted by class can be far above them while it drifts from class to
    class (``f - q`` up to 10 and 31 in its first passes on digits in chunks
    of 50 and 20, with ``q`` about 2.3), which is no stall and no reason to
    warn. Enough data: ``1 / STREAM_AVERAGING`` calls
    (the averages span their window), as many rows as the model has
    coefficients, ``n_classes * (n_features + 1)``, and every class trained
    on.
    """
    loss = problem.loss
    enough = (state.calls >= round(1 / STREAM_AVERAGING)
              and state.n_samples_seen >= loss.n_classes * (problem.n_features + 1)
              and state.class_totals is not None and bool(np.all(state.class_totals > 0)))
    if not enough or state.prior_gap is None:
        return False
    objective, prior, distance = state.prior_gap
    return objective >= prior and distance <= PRIOR_BAND * prior


def majority_accuracy(problem):
    """The accuracy on ``problem`` of always predicting its heaviest class.

    What a model that learned nothing but the class priors scores: early
    stopping's best score must beat it (weights sum to one in a problem).
    """
    totals = problem.class_totals()
    return float(totals.max() / totals.sum()) if totals.sum() > 0 else 1.0


def stop_is_convergence(problem, coef, G, scaling, tol, final_optimality, stopped, floor,
                        early_stopping, best_score=None, baseline=None):
    """(converged, message, stop) for the end of a fit.

    Meeting ``tol`` with the optimality measure is convergence, however the
    fit stopped. Early stopping's stop is the user's criterion, but it must
    not hide a useless model: it is a stop, not convergence, when the best
    validation accuracy ``best_score`` is not above ``baseline`` (predicting
    the majority class of the validation rows), or when the model is far
    from the optimum (below). Otherwise a stop of the stopping rule, a stall
    or the learning rate falling below its floor, is convergence only if the
    optimality measure in standardized coordinates (which does not depend on
    the features' units) is within ``NEAR_OPTIMUM * tol``. The rate reaches its floor by
    halvings after stalls as well as after divergence: at a small ``C`` (or
    on data without signal) the epoch objectives stall in their own noise
    near the optimum until the rate is below 1e-6 (standardized iris at
    C=1e-5..0.1: coefficients within 0.1-2% of newton-cg's), and a warning
    there would fire on good models. Far from the optimum it is a stop.

    ``stop`` is ``""`` for convergence, else the key of
    :data:`~._trace.ADVICE` whose advice the warning gives: ``"max_iter"``
    when the epochs ran out, ``"sgd"`` for a stop of SGD's own rules.
    """
    if final_optimality <= tol:
        return True, "optimality within tol", ""
    if not stopped:
        return False, "max_iter reached", "max_iter"
    standardized = standardized_optimality(problem, coef, G, scaling)
    far = standardized > NEAR_OPTIMUM * tol
    if early_stopping:
        if best_score is not None and baseline is not None and best_score <= baseline:
            return False, (f"early stopping kept a validation accuracy of {best_score:.3g}, no "
                           f"better than predicting the majority class ({baseline:.3g}) on the "
                           "validation data"), "sgd"
        if far:
            return False, (f"the validation accuracy of early stopping stopped improving far "
                           f"from the optimum (standardized optimality {standardized:.3g} > "
                           f"{NEAR_OPTIMUM:g} * tol)"), "sgd"
        return True, "validation accuracy stopped improving", ""
    if floor and far:
        return False, (f"the learning rate fell below {MIN_ETA:g} after repeated stalls or "
                       "divergence, far from the optimum"), "sgd"
    if floor:
        return True, (f"the learning rate fell below {MIN_ETA:g} within {NEAR_OPTIMUM:g} * tol "
                      "of the optimum"), ""
    if far:
        return False, (f"the objective stopped improving far from the optimum (standardized optimality "
                       f"{standardized:.3g})"), "sgd"
    return True, "no improvement", ""
