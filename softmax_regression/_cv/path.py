"""One fold of :class:`~._cv.SoftmaxClassifierCV`: a warm-started path, scored.

A fold's training rows are cut once from the problem prepared on all the
data; only the penalty changes from one point of the grid to the next
(``SoftmaxProblem.with_penalty``), so the data are validated, encoded and weighed
once per fit, not once per point.
"""

import inspect
import math
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import make_scorer
from threadpoolctl import threadpool_limits

from .._utils.arrays import host_dtype, take_rows
from .._utils.namespace import clip
from .._utils.compat import _convert_to_numpy, get_namespace_and_device
from .._estimator import SoftmaxClassifier
from .._model.softmax import log_softmax
from .._model.penalties import penalty_from_params
from .._fitting.prior_model import solve
from .._solvers.lbfgs import path_curvature
from .._utils.threads import solver_threads


@dataclass(frozen=True)
class FoldPath:
    """What one fold's path returns, in the grid's sorted order.

    Attributes
    ----------
    coefs : ndarray of shape (n_l1_ratios, n_Cs, n_logits, n_features + fit_intercept)
        LogisticRegression's representation (see
        :meth:`~._loss.LinearSoftmaxLoss.weights_and_intercept`), on the host,
        in the data's dtype.
    scores : ndarray of shape (n_l1_ratios, n_Cs)
    n_iter : ndarray of shape (n_l1_ratios, n_Cs)
    not_converged : list of (int, int, str, str)
        ``(l1 index, C index, solver message, stop reason)`` of the fits that
        stopped before meeting ``tol`` (the reason is the result's ``stop``).
    """

    coefs: np.ndarray
    scores: np.ndarray
    n_iter: np.ndarray
    not_converged: list


def fold_problem(problem, total, train):
    """The problem on the rows ``train``, and their total sample weight as factors.

    ``total`` is the total weight of all the rows as factors (see
    :class:`~.._fitting.prepare.Prepared`); the fold's share is one more
    factor, so that its penalty is formed without overflow.

    The full problem's weights are the effective weights (``sample_weight``
    times ``class_weight``, the latter computed once on all of y, as in
    LogisticRegressionCV) divided by their total; they are renormalized over
    the fold, whose penalty is then scaled by the fold's own total weight.
    """
    xp, device = problem.namespace_and_device
    weights = take_rows(problem.sample_weight, train, xp, device)
    share = float(xp.sum(weights))
    if share <= 0:
        raise ValueError(
            "A training fold has zero total sample weight; nothing can be fit on it. "
            "Use another cv splitter or give its samples weight."
        )
    fold = problem.rows(lambda array: take_rows(array, train, xp, device),
                        sample_weight=weights / share)
    return fold, (*total, share)


def scorer_with_labels(scorer, classes):
    """``scorer`` told the full list of labels, when its metric takes them.

    A test fold may miss a class; metrics such as ``log_loss`` then need
    ``labels`` to match the columns of ``predict_proba``. As in
    LogisticRegressionCV, the scorer is rebuilt from its metric. Scorers that
    are plain callables are used as they are.
    """
    score_func = getattr(scorer, "_score_func", None)
    if score_func is None or "labels" not in inspect.signature(score_func).parameters:
        return scorer
    kwargs = dict(getattr(scorer, "_kwargs", {}))
    kwargs.setdefault("labels", classes)
    if classes.shape[0] == 2 and "pos_label" in inspect.signature(score_func).parameters:
        kwargs.setdefault("pos_label", classes[-1])
    return make_scorer(
        score_func,
        greater_is_better=scorer._sign == 1,
        response_method=scorer._response_method,
        **kwargs,
    )


# Metrics computed from the logits at hand, exactly as their scorers compute
# them from predict_proba or predict: a generic scorer call validates and
# re-encodes the labels each time, which costs more than the fit on small data.
FAST_SCORINGS = ("neg_log_loss", "accuracy", None)


def from_logits(scoring):
    """Whether ``scoring`` is computed from the logits (no scorer call)."""
    return scoring is None or isinstance(scoring, str) and scoring in FAST_SCORINGS


class HeldOutScore:
    """The score of coefficients on a fold's held-out rows.

    Parameters
    ----------
    problem : SoftmaxProblem
        Prepared on all the data.
    test : ndarray of int
        Held-out rows.
    y : array
        Labels of all the rows (generic scorers).
    score_weight : array or None
        The caller's sample weights of all the rows.
    classes : array
        All the labels.
    scoring : str, callable or None
        The estimator's ``scoring``; the names in :data:`FAST_SCORINGS` are
        computed from the logits.
    scorer : callable
        The scorer for any other ``scoring``.
    params : dict
        Parameters of the :class:`SoftmaxClassifier` the scorer is given;
        each point sets its own ``C`` and ``l1_ratio`` on it, so that a
        callable scorer sees the model it scores.
    """

    def __init__(self, problem, test, *, y, score_weight, classes, scoring, scorer, params):
        xp, device = problem.namespace_and_device
        self.xp = xp
        self.loss = problem.loss
        self.n_features = problem.n_features
        self.X = take_rows(problem.X, test, xp, device)
        self.offset = None if problem.offset is None else take_rows(problem.offset, test, xp,
                                                                    device)
        self.weight = None if score_weight is None else take_rows(score_weight, test, xp, device)
        self.fast = from_logits(scoring)
        self.scoring = scoring
        self.soft = None
        if self.loss.soft_targets:
            # Soft targets: the held-out rows weigh what they weigh in the fit
            # (sample weight times row total), and the log loss is the soft
            # cross-entropy against all classes' targets.
            self.weight = take_rows(problem.sample_weight, test, xp, device)
            Y = take_rows(problem.Y, test, xp, device)
            self.soft = self.loss.all_class_targets(Y)
        # neg_log_loss of dense NumPy rows: logits laid out classes x rows,
        # as in a pass (a third of the time of rows x classes on digits).
        self.kmajor = None
        if self.fast:
            self.y_index = self.loss.class_index(take_rows(problem.Y, test, xp, device))
            if scoring == "neg_log_loss" and self.soft is None and isinstance(self.X, np.ndarray):
                n = self.X.shape[0]
                self.kmajor = (np.ascontiguousarray(self.X.T),
                               np.asarray(self.y_index) * n + np.arange(n))
            self.log_eps = float(np.log(np.finfo(host_dtype(problem.dtype)).eps))
            self.log_one_minus_eps = float(np.log1p(-np.finfo(host_dtype(problem.dtype)).eps))
        else:
            self.y = take_rows(y, test, *_namespace_of(y))
            self.scorer = scorer
            self.model = SoftmaxClassifier(**params)
            self.model.classes_ = classes
            self.model.n_features_in_ = problem.n_features

    def __call__(self, point, coef, C, l1_ratio):
        """The held-out score of ``coef`` (the solver's layout), fit at ``C, l1_ratio``."""
        if not self.fast:
            return self._generic(point, coef, C, l1_ratio)
        xp = self.xp
        if self.kmajor is not None:
            return self._average(self._kmajor_log_likelihood(coef))
        if self.scoring == "neg_log_loss":
            log_proba = log_softmax(self.loss.full_logits(coef, self.X, self.offset), axis=1)
            if self.soft is not None:
                clipped = clip(log_proba, self.log_eps, self.log_one_minus_eps)
                return self._average(xp.sum(self.soft * clipped, axis=1))
            true = xp.take_along_axis(log_proba, self.y_index[:, None], axis=1)[:, 0]
            # log_loss clips the probabilities to [eps, 1 - eps].
            per_sample = clip(true, self.log_eps, self.log_one_minus_eps)
            return self._average(per_sample)  # neg_log_loss: the mean log-likelihood
        correct = self.loss.predicted_index(coef, self.X, self.offset) == self.y_index
        return self._average(xp.astype(correct, self.X.dtype))

    def _kmajor_log_likelihood(self, coef):
        """Each held-out row's clipped log-probability of its class (dense NumPy)."""
        XT, flat = self.kmajor
        Zt = self.loss.full_logits_kmajor(coef, XT, self.offset)
        Zt -= Zt.max(axis=0)
        true = Zt.ravel().take(flat)
        np.exp(Zt, out=Zt)
        per_sample = true - np.log(Zt.sum(axis=0))
        # log_loss clips the probabilities to [eps, 1 - eps].
        return np.clip(per_sample, self.log_eps, self.log_one_minus_eps, out=per_sample)

    def _average(self, values):
        xp = self.xp
        values = xp.astype(values, xp.float64)
        if self.weight is None:
            return float(xp.mean(values))
        weight = xp.astype(self.weight, xp.float64)
        largest = float(xp.max(weight)) if weight.shape[0] else 0.0
        if largest > 0:
            # Divided by the largest first, as the fit's weights are: sums of
            # weights near the largest float stay finite.
            weight = weight / largest
        total = float(xp.sum(weight))
        if total == 0:
            # A weighted mean over no weight is undefined: NaN, which ranks
            # last and is reported, rather than a 0 / 0 RuntimeWarning.
            return float("nan")
        return float(xp.sum(values * weight)) / total

    def _generic(self, point, coef, C, l1_ratio):
        W, b = point.loss.weights_and_intercept(
            coef, self.n_features, center_weights=point.penalty.is_smooth
        )
        self.model.set_params(C=C, l1_ratio=l1_ratio)
        self.model.coef_, self.model.intercept_ = W, b
        if self.weight is None:
            return float(self.scorer(self.model, self.X, self.y))
        return float(self.scorer(self.model, self.X, self.y, sample_weight=self.weight))


def _order(values):
    return np.argsort(values, kind="stable")


def fit_fold_path(problem, total, train, test, *, Cs, l1_ratios, spec, options, tol, max_iter,
                  verbose, scoring, blas_threads=None, callbacks=None):
    """Fit and score the whole grid on one fold.

    The path runs over ``Cs`` in increasing order (strong to weak
    regularization), and over ``l1_ratios`` in increasing order at each
    ``C``. Each fit starts from the candidate of lowest objective among its
    finished neighbours (the previous ``C`` at the same ``l1_ratio``, the
    previous ``l1_ratio`` at the same ``C``) and the extrapolations of the
    path to this ``C`` (see :func:`extrapolations`); each candidate costs one
    pass over the fold's data, a fraction of the iterations it saves.

    Parameters
    ----------
    problem : SoftmaxProblem
        Prepared on all the data.
    total : tuple of float
        Total effective sample weight of all the data, as factors.
    train, test : ndarray of int
        Row indices of the fold.
    Cs, l1_ratios : ndarray
        The grid, in the caller's order.
    spec : SolverSpec
    options : dict
        Solver options read from the estimator (SGD's).
    tol, max_iter, verbose
        As for the solver.
    scoring : dict
        Keyword arguments of :class:`HeldOutScore` besides the problem and
        the test rows.
    blas_threads : int or None
        Limit on BLAS threads while this fold runs (folds in parallel). The
        whole path runs as one solve (:func:`~.._utils.threads.solver_threads`):
        its points, starts and scores on numpy's BLAS at one thread, the
        passes' thread budget read once.
    callbacks : FoldTasks or None
        The fold's callback tasks (:mod:`._callbacks`): one per path point,
        with the solver's iterations in each.

    Returns
    -------
    FoldPath
        In the caller's order of ``Cs`` and ``l1_ratios``.
    """
    args = (problem, total, train, test, Cs, l1_ratios, spec, options, tol, max_iter, verbose,
            scoring, callbacks)
    with threadpool_limits(limits=blas_threads, user_api="blas") if blas_threads is not None \
            else nullcontext(), solver_threads():
        return _fit_fold_path(*args)


def _fit_fold_path(problem, total, train, test, Cs, l1_ratios, spec, options, tol, max_iter,
                   verbose, scoring, callbacks):
    xp, _ = problem.namespace_and_device
    fold, fold_total = fold_problem(problem, total, train)
    score = HeldOutScore(problem, test, **scoring)
    n_features = problem.n_features

    shape = (len(l1_ratios), len(Cs))
    coefs = np.empty(shape + fold.coef_shape, dtype=host_dtype(problem.dtype))
    scores = np.empty(shape)
    n_iter = np.zeros(shape, dtype=np.int32)
    not_converged = []
    # The last solution of each l1_ratio (previous C) and of this C (previous l1_ratio).
    along_C = {}
    # L-BFGS's curvature pairs of the previous C, per l1_ratio: the data term's
    # curvature is the same at every C. Each point scales them by the data
    # term's Hessian diagonal, measured once at the fold's start, plus its own
    # L2 part (see path_curvature).
    curvature = {}
    # The loss alone at those two solutions, (coef, loss_at_coef): a point
    # judges them as its start without a pass (see _known_start).
    known_C, known_l1 = {}, None
    start = fold.initial_coef()
    diagonal = None
    if callbacks is not None:
        callbacks.begin()
    for i in _order(Cs):
        along_l1 = known_l1 = None
        for j in _order(l1_ratios):
            point = fold.with_penalty(penalty_from_params(
                float(Cs[i]), float(l1_ratios[j]), *fold_total, factor=fold.penalty.factor))
            history = along_C.get(j, [])
            previous = history[-1][1] if history else None
            along_C_starts = [previous] + extrapolations(history, float(Cs[i]))
            if spec.carries_curvature and point.penalty.is_smooth:
                # L-BFGS brings the curvature along, so the extrapolation of
                # highest degree is taken without a pass to check it: a
                # start that overshoots a bend costs it little.
                along_C_starts = along_C_starts[-1:]
            known = (_known_start(point, [known_l1, known_C.get(j)], tol)
                     if spec.takes_start_loss else None)
            if known is not None:
                coef0, start_loss = known
            else:
                coef0 = _closer_start(point, [along_l1] + along_C_starts, default=start)
                start_loss = None
            if spec.carries_curvature and point.penalty.is_smooth and curvature.get(j) is None:
                diagonal = path_curvature(fold, start) if diagonal is None else diagonal
                curvature[j] = diagonal
            iterations = None if callbacks is None else callbacks.point(point, coef0)
            result = solve_point(spec, point, coef0, options, tol=tol, max_iter=max_iter,
                                 verbose=verbose, weight_seen=math.prod(fold_total), callback=iterations,
                                 curvature=curvature.get(j), start_loss=start_loss)
            if iterations is not None:
                iterations.finish(result.coef)
            along_C[j] = history[-MAX_DEGREE:] + [(float(Cs[i]), result.coef)]
            along_l1 = result.coef
            known_C[j] = known_l1 = (result.coef, result.loss_at_coef)
            curvature[j] = result.curvature
            n_iter[j, i] = result.n_iter
            # A stop a callback asked for is the user's choice, not a failure.
            if not result.converged and not result.stopped_by_callback:
                not_converged.append((int(j), int(i), result.message, result.stop))
            scores[j, i] = score(point, result.coef, float(Cs[i]), float(l1_ratios[j]))
            W, b = point.loss.weights_and_intercept(
                result.coef, n_features, center_weights=point.penalty.is_smooth
            )
            if fold.loss.fit_intercept:
                W = xp.concat([W, b[:, None]], axis=1)
            coefs[j, i] = _host(W, xp)
    if callbacks is not None:
        callbacks.end()
    return FoldPath(coefs=coefs, scores=scores, n_iter=n_iter, not_converged=not_converged)


# Extrapolation in log C of degree 1 and 2: far enough along a smooth path to
# beat the previous solution as a start.
MAX_DEGREE = 2


def extrapolations(history, C):
    """Predictions of the solution at ``C`` from the last solutions of the path.

    ``history`` holds ``(C, coef)`` of the previous points at the same
    ``l1_ratio``, in increasing C. The solutions are interpolated by
    Lagrange polynomials in ``log C`` through the last 2 and the last 3
    points, and evaluated at ``C``.
    """
    if not np.isfinite(C):
        return []
    predictions = []
    x = math.log(C)
    for degree in range(1, MAX_DEGREE + 1):
        if len(history) <= degree:
            break
        nodes = history[-(degree + 1):]
        logs = [math.log(c) for c, _ in nodes]
        if x in logs or len(set(logs)) < len(logs):
            break  # a repeated C: nothing to extrapolate over
        prediction = None
        for k, (_, coef) in enumerate(nodes):
            # The Lagrange weight of node k (at most 3 nodes: plain floats).
            weight = 1.0
            for j, other in enumerate(logs):
                if j != k:
                    weight *= (x - other) / (logs[k] - other)
            prediction = weight * coef if prediction is None else prediction + weight * coef
        predictions.append(prediction)
    return predictions


def _known_start(point, candidates, tol):
    """The candidate ``(coef, loss_at_coef)`` that meets ``tol`` at ``point``; None if none.

    The loss is the same at every point of a path, only the penalty
    differs: a neighbour's loss and gradient at its solution, with this
    point's penalty added, give this point's optimality there exactly, as
    an evaluation would. Where the penalty barely changes from one ``C`` to
    the next (weak penalties on many rows), the neighbour's solution already
    meets ``tol``: the point then takes no pass and no iteration, as a warm
    start of LogisticRegressionCV's takes none, where an extrapolated start
    would cost a pass and some iterations. Of several, the lowest optimality.
    """
    xp, _ = point.namespace_and_device
    best, best_optimality = None, tol
    for candidate in candidates:
        if candidate is None or candidate[1] is None:
            continue
        coef, (loss_value, loss_G) = candidate
        host = np.asarray(_host(coef, xp), dtype=np.float64)
        _, G = point.add_smooth_penalty(loss_value, loss_G, host)
        optimality = point.optimality(host, G)
        if optimality <= best_optimality:
            best, best_optimality = candidate, optimality
    return best


def _closer_start(point, candidates, default):
    """The candidate of lowest objective; ``default`` when there is none."""
    candidates = [coef for coef in candidates if coef is not None]
    if not candidates:
        return default
    if len(candidates) == 1:
        return candidates[0]
    return min(candidates, key=point.objective)


def solve_point(spec, problem, coef0, options, *, tol, max_iter, verbose, weight_seen,
                callback=None, curvature=None, start_loss=None):
    """Run the solver of ``spec`` from ``coef0``; a stateful one starts a fresh state.

    ``callback(coef) -> bool`` hears of every iteration (see :mod:`._callbacks`);
    ``curvature`` (from a neighbouring point) and ``start_loss`` (the loss
    alone at ``coef0``, known) go to a solver that can use them, and the
    spec's ``path_options`` to the solver.
    """
    options = {**dict(spec.path_options), **options}
    if spec.carries_curvature and curvature is not None:
        options["curvature"] = curvature
    if spec.takes_start_loss and start_loss is not None:
        options["start_loss"] = start_loss
    if spec.stateful:
        options["state"] = spec.init_state(coef0, previous=None, **options)
        options["weight_seen"] = weight_seen
    return solve(spec.function, problem, coef0, tol=tol, max_iter=max_iter, verbose=verbose,
                         callback=callback, **options)


def _namespace_of(array):
    xp, _, device = get_namespace_and_device(array)
    return xp, device


def _host(array, xp):
    return np.asarray(_convert_to_numpy(array, xp))

