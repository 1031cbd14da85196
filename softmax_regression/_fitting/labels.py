"""Class labels from ``y``: the sorted classes and each row's index among them."""

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets


def encode_labels(y):
    """``(classes, y_index)`` for a 1-D ``y`` of class labels, as LabelEncoder gives them.

    Integer and boolean NumPy labels, and float ones that are whole numbers,
    are class labels by construction: one ``np.unique`` encodes them, where
    scikit-learn's ``type_of_target`` and ``LabelEncoder`` would read ``y``
    four more times (a third of the fit time on a small table). Anything
    else goes through those, with their errors for targets that are not
    class labels (continuous, multilabel).
    """
    if isinstance(y, np.ndarray) and y.ndim == 1 and _whole_numbers(y):
        return np.unique(y, return_inverse=True)
    check_classification_targets(y)
    encoder = LabelEncoder()
    y_index = encoder.fit_transform(y)
    return encoder.classes_, y_index


def _whole_numbers(y):
    if y.dtype.kind in "biu":
        return True
    if y.dtype.kind != "f":
        return False
    # A float y of whole numbers is multiclass to scikit-learn; any other
    # float (or NaN, infinity) is left to its error messages.
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.isfinite(y)) and np.all(y == np.floor(y)))
