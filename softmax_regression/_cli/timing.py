"""One timed fit, whose failure becomes the command line's one-line data error."""

import time
import warnings

import numpy as np

from .data import DataError


def fit_timed(model, X, y, label, dataset):
    """Fit and time one model; a fitting error becomes a one-line DataError.

    Parameters
    ----------
    model : estimator
        Fitted in place.
    X, y : array-like
        Training data.
    label, dataset : str
        The model's and the dataset's names, for the error message.

    Returns
    -------
    float
        Seconds spent in ``fit``.

    Raises
    ------
    DataError
        When ``fit`` raises a ValueError, an arithmetic or linear-algebra error.
    """
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # Reaching max_iter is shown in the table (a star), not as a warning.
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        try:
            model.fit(X, y)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
            text = str(exc).strip()
            first = text.splitlines()[0].rstrip(".") if text else type(exc).__name__
            raise DataError(
                f"{dataset}: {label} failed to fit: {first}; try another --C or check "
                "the data"
            ) from None
        return time.perf_counter() - start
