"""Messages that say what to write instead, for habits brought from LogisticRegression.

A LogisticRegression-only keyword (``penalty``, ``dual``, ``n_jobs``, ...)
passed to an estimator, or to its ``set_params``, raises a TypeError with the
advice of the README's migration table; LogisticRegression's solvers name
ours; a method that needs another solver names it. The advice lives in the
tables below, one entry per keyword.
"""

import inspect
from functools import wraps
from types import MethodType

from .compat import InvalidParameterError


def _penalty(value, *, cv):
    """What LogisticRegression's ``penalty=value`` is here."""
    if value is None or value == "none":
        return "write C=np.inf instead (no penalty)" if not cv else (
            "write Cs=[np.inf] instead (no penalty)")
    if value == "l1":
        return "write l1_ratio=1.0 instead" if not cv else "write l1_ratios=(1.0,) instead"
    if value == "elasticnet":
        return ("drop it and keep l1_ratio=r (any r in [0, 1] is an elastic net)" if not cv
                else "drop it and keep l1_ratios=[...] (any values in [0, 1])")
    return ("drop it: an L2 penalty is the default (l1_ratio=0.0)" if not cv
            else "drop it: an L2 penalty is the default (l1_ratios=(0.0,))")


_DUAL = "drop it: only liblinear had a dual; solver=\"lbfgs\" handles n_features >> n_samples"
_INTERCEPT_SCALING = ("drop it: it only mattered for liblinear, which penalizes the intercept; "
                      "here the intercept is never penalized")
_MULTI_CLASS = ("drop it: the model is always multinomial; for one-vs-rest write "
                "OneVsRestClassifier(SoftmaxClassifier())")

# LogisticRegression's keywords that SoftmaxClassifier lacks, and
# LogisticRegressionCV's that SoftmaxClassifierCV lacks: keyword ->
# advice(value).
CLASSIFIER_KEYWORDS = {
    "penalty": lambda value: _penalty(value, cv=False),
    "dual": lambda value: _DUAL,
    "intercept_scaling": lambda value: _INTERCEPT_SCALING,
    "multi_class": lambda value: _MULTI_CLASS,
    "n_jobs": lambda value: (
        "drop it: a fit is one multinomial problem, whose matrix products use BLAS threads; "
        f"set them with threadpoolctl.threadpool_limits({value!r})"),
    "l1_ratios": lambda value: (
        "write SoftmaxClassifierCV(l1_ratios=...) to choose l1_ratio by cross-validation, or "
        "l1_ratio=r for one value"),
    "Cs": lambda value: (
        "write SoftmaxClassifierCV(Cs=...) to choose C by cross-validation, or C=c for one "
        "value"),
}
CV_KEYWORDS = {
    "penalty": lambda value: _penalty(value, cv=True),
    "dual": lambda value: _DUAL,
    "intercept_scaling": lambda value: _INTERCEPT_SCALING,
    "multi_class": lambda value: _MULTI_CLASS,
    "use_legacy_attributes": lambda value: (
        "drop it: the attributes are always LogisticRegressionCV's "
        "use_legacy_attributes=False form (C_ and l1_ratio_ floats, scores_ of shape "
        "(n_folds, n_l1_ratios, n_Cs))"),
    "l1_ratio": lambda value: f"write l1_ratios=({value!r},) instead",
    "C": lambda value: f"write Cs=[{value!r}] instead",
}

# Where a keyword comes from, when not from LogisticRegression.
_ORIGIN = {"Cs": "LogisticRegressionCV", "l1_ratios": "LogisticRegressionCV",
           "use_legacy_attributes": "LogisticRegressionCV"}

# LogisticRegression's solvers that are not ours: solver -> what to write.
SOLVER_ADVICE = {
    "liblinear": ('write solver="lbfgs"; the model is multinomial, not liblinear\'s '
                  "one-vs-rest, and the intercept is not penalized, so coefficients differ "
                  "from liblinear's"),
    "newton-cholesky": ('write solver="auto": exact Newton with the full Hessian where it is '
                        "cheap (small tables), sub-sampled Newton-CG or L-BFGS elsewhere"),
    "sag": 'write solver="lbfgs" for data in memory, solver="sgd" for streams (partial_fit)',
    "saga": ('write solver="auto" (proximal Newton) or solver="lbfgs" for L1 and elastic net '
             '(exact), solver="sgd" for streams (partial_fit)'),
}


def keyword_error(cls, params, method=None):
    """The TypeError for the LogisticRegression-only keywords among ``params``, or None.

    Keywords that ``cls.__init__`` takes (a subclass may add one) are never
    refused, nor is anything when ``__init__`` takes ``**kwargs``.
    """
    table = cls._logistic_regression_keywords
    # The signature is read only when a keyword could be refused: every
    # construction (clone, grid search) passes here.
    if not any(name in table for name in params):
        return None
    signature = inspect.signature(cls.__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in signature.values()):
        return None
    found = [name for name in params if name in table and name not in signature]
    if not found:
        return None
    call = f"{cls.__name__}.{method}()" if method else f"{cls.__name__}()"
    advice = "; ".join(
        f"for {_ORIGIN.get(name, 'LogisticRegression')}'s {name}={params[name]!r}, "
        f"{table[name](params[name])}" for name in found)
    names = ", ".join(repr(name) for name in found)
    which = "an unexpected keyword argument" if len(found) == 1 else "unexpected keyword arguments"
    return TypeError(f"{call} got {which} {names}: {advice}.")


class LogisticRegressionHabits:
    """Mixin: TypeErrors that guide, no dead documentation link.

    ``__new__`` reads the keywords before ``__init__`` runs (scikit-learn needs
    ``__init__`` to list its parameters, so it cannot take ``**kwargs``);
    ``set_params`` reads its own. Unknown keywords that are not
    LogisticRegression's keep Python's TypeError (from ``__init__``) and
    scikit-learn's error (from ``set_params``).
    """

    _logistic_regression_keywords = CLASSIFIER_KEYWORDS

    def __new__(cls, *args, **kwargs):
        error = keyword_error(cls, kwargs)
        if error is not None:
            raise error
        return super().__new__(cls)

    def set_params(self, **params):
        """Set the parameters of this estimator.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : estimator instance
            The estimator.
        """
        error = keyword_error(type(self), params, method="set_params")
        if error is not None:
            raise error
        return super().set_params(**params)

    def _validate_params(self):
        try:
            super()._validate_params()
        except InvalidParameterError as error:
            solver = getattr(self, "solver", None)
            if isinstance(solver, str) and solver in SOLVER_ADVICE:
                raise InvalidParameterError(
                    f"{error} LogisticRegression's solver={solver!r}: "
                    f"{SOLVER_ADVICE[solver]}.") from None
            raise

    def _get_doc_link(self):
        # The "?" links of scikit-learn's HTML representation (the estimator's
        # and every parameter's) need a published API page. There is none
        # yet, and a link to a page that does not exist helps nobody: no link.
        return ""


def available_with(check, explain):
    """Like scikit-learn's ``available_if``, with an AttributeError that says why.

    ``hasattr(estimator, name)`` is False where ``check(estimator)`` is false
    (or raises), as scikit-learn's tools expect; the AttributeError's message
    is ``explain(estimator)``: what to set to have the method.
    """
    def decorate(fn):
        return _AvailableWith(fn, check, explain)

    return decorate


class _AvailableWith:
    def __init__(self, fn, check, explain):
        self.fn, self.check, self.explain = fn, check, explain
        wraps(fn)(self)

    def _check(self, obj):
        try:
            available = self.check(obj)
        except Exception:
            available = False
        if not available:
            raise AttributeError(self.explain(obj))

    def __get__(self, obj, owner=None):
        if obj is not None:
            self._check(obj)
            return MethodType(self.fn, obj)

        @wraps(self.fn)
        def unbound(*args, **kwargs):
            self._check(args[0])
            return self.fn(*args, **kwargs)

        return unbound
