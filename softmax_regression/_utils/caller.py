"""Warnings that point at the user's line, wherever scikit-learn calls us from.

A warning's ``stacklevel`` is counted from the call stack at the moment it is
issued: the first frame outside this package, scikit-learn and joblib is the
line the user wrote (``clf.fit(X, y)``, ``pipe.fit(X, y)``,
``cross_val_score(clf, X, y)``), however many wrappers lie in between.
``warnings.warn(skip_file_prefixes=...)`` does the same from Python 3.12 on;
the package supports 3.10, so the level is computed here for every version.
"""

import sys
import warnings

# Packages whose frames are never the user's line: ours, and the libraries
# that call an estimator's methods on the user's behalf.
INTERNAL = ("softmax_regression", "sklearn", "joblib")


def _internal(frame):
    name = frame.f_globals.get("__name__", "")
    return any(name == package or name.startswith(package + ".") for package in INTERNAL)


def user_stacklevel():
    """The ``stacklevel`` that makes ``warnings.warn`` in the caller report the user's line.

    Counted as ``warnings.warn`` counts it, from the function that calls this
    one (level 1). In a joblib worker (``n_jobs`` above 1) the user's line is
    not on the stack at all: the level is then that of the first frame outside
    :data:`INTERNAL`, the worker's own machinery (``threading`` or the process
    pool), or the outermost frame. A worker process's warnings are not shown
    in the parent anyway.
    """
    frame = sys._getframe(2)  # the caller of the caller: level 2
    level = 2
    while frame.f_back is not None and _internal(frame):
        frame = frame.f_back
        level += 1
    return level


def warn(message, category=UserWarning):
    """``warnings.warn(message, category)`` reported at the user's line (see above)."""
    warnings.warn(message, category, stacklevel=user_stacklevel())
