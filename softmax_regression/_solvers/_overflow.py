"""One error type for a solver that overflows, whichever solver it is."""

from contextlib import contextmanager

import numpy as np

ADVICE = (
    "the features are too large in magnitude for this solver. Standardize them "
    "(e.g. with StandardScaler)"
)


def overflow_error(detail):
    """The ValueError every solver raises when its arithmetic overflows."""
    return ValueError(f"The solver overflowed ({detail}): {ADVICE}.")


@contextmanager
def overflow_is_an_error():
    """Turn a floating-point overflow inside a solver into :func:`overflow_error`.

    The loss itself never overflows for finite logits, but products such as
    ``X^T (P * X V)`` can when features reach ~1e77 (float64) or ~1e18
    (float32); scipy would then fail later with a message about NaN.
    """
    try:
        with np.errstate(over="raise", invalid="raise"):
            yield
    except FloatingPointError as error:
        raise overflow_error(error) from error
