"""Rows of a SoftmaxProblem for SGD: batches, validation splits, epoch orders."""

import numpy as np

from .._utils.arrays import take_rows
from .._utils.compat import _convert_to_numpy


def weighted_accuracy(problem, coef):
    xp, _ = problem.namespace_and_device
    loss = problem.loss
    correct = loss.predicted_index(coef, problem.X, problem.offset) == loss.class_index(problem.Y)
    w = problem.sample_weight
    return float(xp.sum(w * xp.astype(correct, problem.dtype)) / xp.sum(w))


def subproblem(problem, rows):
    """The problem restricted to ``rows`` (host indices), weights summing to one."""
    xp, device = problem.namespace_and_device
    rows = xp.asarray(rows, device=device)
    weights = take_rows(problem.sample_weight, rows, xp)
    total = float(xp.sum(weights))
    return problem.rows(lambda array: take_rows(array, rows, xp),
                        sample_weight=weights / total if total > 0 else weights)


def split_validation(problem, fraction, rng):
    """Stratified random split of the rows into training and validation parts."""
    from sklearn.model_selection import train_test_split

    xp, _ = problem.namespace_and_device
    n = problem.X.shape[0]
    if n < 2:
        raise ValueError(
            f"early_stopping holds out validation_fraction={fraction} of the rows of each "
            f"fit or partial_fit call for validation, which needs at least 2 rows; this "
            f"call has {n}. Pass larger batches, or set early_stopping=False."
        )
    rows = np.arange(n)
    y = _convert_to_numpy(problem.loss.class_index(problem.Y), xp)
    try:
        train, valid = train_test_split(rows, test_size=fraction, stratify=y, random_state=rng)
    except ValueError:  # too few samples in some class to stratify
        train, valid = train_test_split(rows, test_size=fraction, random_state=rng)
    return subproblem(problem, np.sort(train)), subproblem(problem, np.sort(valid))


def epoch_order(n, batch_size, rng, shuffle):
    """Row order for one epoch: shuffled, each batch's rows sorted (faster slicing)."""
    if not shuffle:
        return np.arange(n)
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        order[start : start + batch_size].sort()
    return order
