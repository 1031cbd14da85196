"""Failure atomicity: a method that raises leaves the estimator as it was."""

import threading
from contextlib import contextmanager

# One lock for all estimators: held only while a finished fit's attributes
# are swapped in, which takes microseconds.
_store_lock = threading.Lock()


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


def store_fitted(estimator, attributes, drop=()):
    """Set all fitted ``attributes`` (a dict) and remove ``drop``, in one step.

    Two fits of one estimator from two threads then end with all the
    attributes of one of them, never a mix.
    """
    with _store_lock:
        for name in drop:
            estimator.__dict__.pop(name, None)
        estimator.__dict__.update(attributes)
