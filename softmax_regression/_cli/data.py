"""What ``compare`` reads: the dataset type, bundled datasets, checks and the summary.

Every problem found in the data is a :class:`DataError` with a one-line message
that names the problem and what to do; the command line prints it and exits
with status 1. A user's CSV is read by ``_csv_input``.
"""

import math
from dataclasses import dataclass, field

import numpy as np

# The held-out fraction of compare's stratified split. It lives here because
# the class checks below must know what the split will need.
TEST_SIZE = 0.25

# At most this many names or labels are printed in one message or summary line.
_SHOWN = 8

AS_IS = "numeric, as is"

# scikit-learn's bundled loaders, by the name --dataset takes.
BUNDLED = ("iris", "wine", "breast_cancer", "digits")


class DataError(Exception):
    """The data cannot be compared as given; the message says why and what to do."""


@dataclass
class Dataset:
    """Features and labels ready for the comparison, and what was done to get them.

    Parameters
    ----------
    name : str
        The name in the table's dataset column (a file name, never a path).
    X : ndarray of shape (n_rows, n_inputs)
        Encoded features in float64, not yet standardized.
    y : ndarray of shape (n_rows,)
        Class labels.
    source : str
        Where the data came from, for the summary.
    n_read : int
        Rows read, before any was dropped.
    dropped : list of (int, str)
        Rows dropped and why.
    features : list of (str, str)
        Each feature column and how it was encoded (or why it was left out).
    notes : list of str
        Anything else worth saying about how the file was read.
    class_names : dict or None
        Names to show for integer labels.
    target : str
        The label column's name, for messages.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    source: str
    n_read: int
    dropped: list = field(default_factory=list)
    features: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    class_names: dict = None
    target: str = "target"


def shorten(items, shown=_SHOWN):
    """Join the first few items; say how many more there are instead of listing them."""
    items = [str(item) for item in items]
    text = ", ".join(items[:shown])
    if len(items) > shown:
        text += f", ... ({len(items) - shown} more)"
    return text


def quoted(items, shown=_SHOWN, width=40):
    """Quote items for a message, each cut to ``width`` characters."""
    cut = [str(item) if len(str(item)) <= width else str(item)[: width - 3] + "..."
           for item in items]
    return shorten([repr(item) for item in cut], shown)


def load_bundled(name):
    """Load one of scikit-learn's bundled datasets as a :class:`Dataset`.

    Parameters
    ----------
    name : {"iris", "wine", "breast_cancer", "digits"}
        The loader's name without ``load_``.

    Returns
    -------
    Dataset
        Numeric features as they are, labels as the dataset's class names.
    """
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    names = list(getattr(bunch, "feature_names", [])) or [
        f"x{j}" for j in range(bunch.data.shape[1])
    ]
    # y stays the integer codes: the stratified split orders classes by label,
    # so class names would draw a different split than scikit-learn's own y.
    return Dataset(
        name=name, X=np.asarray(bunch.data, dtype=np.float64), y=bunch.target,
        source=f"scikit-learn's load_{name}()", n_read=len(bunch.target),
        features=group_as_is([(str(column), AS_IS) for column in names]),
        class_names={code: str(label) for code, label in enumerate(bunch.target_names)},
    )


def check_classes(dataset):
    """Refuse labels that a classifier or the stratified split cannot use.

    Parameters
    ----------
    dataset : Dataset
        The data after reading.

    Raises
    ------
    DataError
        With a single class, a class with one row, or too few rows for the
        held-out part to hold one row of every class. More than 10 labels that
        make up more than half the rows look like free text or an identifier.
    """
    labels, counts = np.unique(dataset.y, return_counts=True)
    n = len(dataset.y)
    where = f"{dataset.name}: target {dataset.target!r}"
    if len(labels) < 2:
        raise DataError(
            f"{where} has one class ({str(labels[0])!r}, {n} rows); a classifier needs "
            "at least two: choose another --target column"
        )
    if len(labels) > max(n / 2, 10):
        raise DataError(
            f"{where} has {len(labels)} distinct labels in {n} rows (e.g. "
            f"{quoted(labels[:3], 3)}): it looks like free text or an identifier, not a "
            "class label; choose a column with a few repeated values"
        )
    rare = labels[counts < 2]
    if len(rare):
        raise DataError(
            f"{where} has {len(rare)} class(es) with a single row ({quoted(rare, 5)}); "
            "the stratified split needs at least 2 rows per class: drop or merge those "
            "rows"
        )
    n_test = math.ceil(TEST_SIZE * n)
    if n_test < len(labels):
        needed = 4 * len(labels) - 3  # the smallest n with ceil(n / 4) >= n_classes
        raise DataError(
            f"{dataset.name}: {n} rows are too few for {len(labels)} classes: the 25% "
            f"held-out part ({n_test} rows) cannot hold one row of each class; give at "
            f"least {needed} rows"
        )


def describe(dataset):
    """Say what was read: rows, features and their encoding, classes.

    Parameters
    ----------
    dataset : Dataset
        The data after reading and checking.

    Returns
    -------
    list of str
        Lines to print before the table.
    """
    n_used = len(dataset.y)
    rows = f"{dataset.n_read} rows read, {n_used} used"
    if dataset.dropped:
        rows += "; dropped: " + "; ".join(f"{k} ({why})" for k, why in dataset.dropped)
    lines = [f"{dataset.name} ({dataset.source}): {rows}"]
    lines += [f"  {note}" for note in dataset.notes]
    lines.append(f"  features ({dataset.X.shape[1]} model inputs after encoding):")
    for column, how in dataset.features:
        lines.append(f"    {column}: {how}")
    labels, counts = np.unique(dataset.y, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    names = dataset.class_names or {}
    pairs = [f"{names.get(labels[i], labels[i])} {counts[i]}" for i in order]
    lines.append(f"  classes ({len(labels)}, rows each): {shorten(pairs, 12)}")
    return lines


def group_as_is(features):
    """Fold the columns used as they are into one line, so a wide file stays short."""
    as_is = [column for column, how in features if how == AS_IS]
    rest = [(column, how) for column, how in features if how != AS_IS]
    if len(as_is) <= 1:
        return features
    return [(f"{AS_IS} ({len(as_is)} columns)", shorten(as_is, 10)), *rest]
