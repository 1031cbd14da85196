"""Export to ONNX: importing this module registers the estimators with skl2onnx.

After ``import softmax_regression.onnx``, ``skl2onnx.to_onnx`` converts a
fitted :class:`~softmax_regression.SoftmaxClassifier` or
:class:`~softmax_regression.SoftmaxClassifierCV`, alone or as the last step of
a scikit-learn ``Pipeline``, like a ``LogisticRegression``: the graph outputs
the labels and the class probabilities, with the same options (``zipmap``,
``nocl``, ``output_class_labels``). The graph computes in the type of its input:
float32 or float64.

Needs the ``onnx`` extra (``pip install "softmax_regression[onnx]"``).
"""

import numbers

import numpy as np

from ._utils.optional import missing

try:
    from onnx import TensorProto
    from onnx.numpy_helper import from_array
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
    from skl2onnx.common.utils_classifier import get_label_classes
except ImportError as error:  # depends on the environment
    raise missing(error.name or "skl2onnx", "softmax_regression.onnx") from error

from ._cv.estimator import SoftmaxClassifierCV
from ._estimator import SoftmaxClassifier

__all__ = ["convert_softmax_classifier", "register_estimator"]

# The options of skl2onnx's LogisticRegression converter that apply here.
# Declaring "zipmap" makes skl2onnx parse the estimator as a classifier and
# append its ZipMap (a list of {label: probability} dicts) unless told not to.
OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [True, False],
    "output_class_labels": [False, True],
}


def _all_class_parameters(model, dtype):
    """Weights (n_features, n_classes) and intercepts (n_classes,) of every class.

    A binary model stores the logit of ``classes_[1]`` only; the first class
    is the reference with logit 0 (softmax over ``[0, z]``). Its column of
    zeros goes into the weights, so that the graph is the same matrix product,
    softmax and arg-max for every number of classes.
    """
    coef = model.coef_
    coef = np.asarray(coef.toarray() if hasattr(coef, "toarray") else coef, dtype=dtype)
    intercept = np.broadcast_to(np.asarray(model.intercept_, dtype=dtype), (coef.shape[0],))
    if coef.shape[0] == 1:
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros(1, dtype=dtype), intercept])
    return np.ascontiguousarray(coef.T), np.ascontiguousarray(intercept)


def _label_tensor(classes):
    """The labels as an ONNX-ready array: int64 for numbers, UTF-8 for strings."""
    if all(isinstance(c, str) for c in classes):
        return np.array([c.encode("utf-8") for c in classes], dtype=object)
    if all(isinstance(c, (numbers.Real, np.bool_)) for c in classes):
        labels = np.asarray(classes).astype(np.int64)
        if not np.array_equal(labels, np.asarray(classes, dtype=np.float64)):
            raise ValueError(
                "ONNX labels are integers or strings; the classes "
                f"{np.asarray(classes).tolist()} include numbers that are not integers. "
                "Fit on integer or string labels, or convert with options={'nocl': True}."
            )
        return labels
    raise ValueError(f"ONNX labels are integers or strings, not {np.asarray(classes).tolist()}.")


def convert_softmax_classifier(scope, operator, container):
    """Write the ONNX nodes of a fitted softmax classifier.

    The graph is ``scores = X @ W + b`` (one column per class), then
    ``Softmax`` for the probabilities and ``ArgMax`` of the scores, mapped to
    ``classes_``, for the labels, as ``predict`` does. It computes in the
    type of its input (float64 for a double tensor, float32 otherwise);
    integer and boolean inputs are cast to float32 first.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
        Names the graph's variables and operators.
    operator : skl2onnx.common._topology.Operator
        Holds the fitted estimator (``raw_operator``), one input (the
        features) and two outputs (labels, probabilities).
    container : skl2onnx.common._container.ModelComponentContainer
        Receives the nodes and initializers.
    """
    model = operator.raw_operator
    input_type = operator.inputs[0].type
    features = operator.inputs[0].full_name
    if isinstance(input_type, DoubleTensorType):
        if container.get_options(model, dict(zipmap=True))["zipmap"] is True:
            # Otherwise onnxruntime rejects the finished graph, far from the cause.
            raise ValueError(
                "ONNX's ZipMap takes float32 probabilities only; convert a float64 "
                "graph with options={'zipmap': False} (or 'columns'), or feed float32."
            )
        dtype, proto = np.float64, TensorProto.DOUBLE
    else:
        dtype, proto = np.float32, TensorProto.FLOAT
        if not isinstance(input_type, FloatTensorType):
            cast = scope.get_unique_variable_name("cast_input")
            container.add_node("Cast", features, cast, to=proto,
                               name=scope.get_unique_operator_name("Cast"))
            features = cast

    weights, intercept = _all_class_parameters(model, dtype)
    weights_name = scope.get_unique_variable_name("coef")
    container.add_initializer(weights_name, None, None, from_array(weights, weights_name))
    scores = scope.get_unique_variable_name("scores")
    container.add_node("MatMul", [features, weights_name], scores,
                       name=scope.get_unique_operator_name("MatMul"))
    if np.any(intercept != 0):
        # A model without intercept skips the addition (x + 0 is x anyway).
        intercept_name = scope.get_unique_variable_name("intercept")
        container.add_initializer(intercept_name, None, None,
                                  from_array(intercept, intercept_name))
        shifted = scope.get_unique_variable_name("scores_with_intercept")
        container.add_node("Add", [scores, intercept_name], shifted,
                           name=scope.get_unique_operator_name("Add"))
        scores = shifted

    # ONNX's Softmax subtracts the row maximum, as the estimator does.
    container.add_node("Softmax", scores, operator.outputs[1].full_name, axis=1,
                       name=scope.get_unique_operator_name("Softmax"))
    # Labels come from the scores, not the probabilities: two probabilities
    # that round to the same value may still have different logits.
    index = scope.get_unique_variable_name("class_index")
    container.add_node("ArgMax", scores, index, axis=1, keepdims=0,
                       name=scope.get_unique_operator_name("ArgMax"))
    labels = _label_tensor(get_label_classes(scope, model))
    labels_name = scope.get_unique_variable_name("classes")
    if labels.dtype == object:
        # skl2onnx copies only the raw bytes of a ready tensor, and strings have none.
        container.add_initializer(labels_name, TensorProto.STRING, [len(labels)], list(labels))
    else:
        container.add_initializer(labels_name, None, None, from_array(labels, labels_name))
    container.add_node("Gather", [labels_name, index], operator.outputs[0].full_name, axis=0,
                       name=scope.get_unique_operator_name("Gather"))


def register_estimator(estimator_class):
    """Register a softmax classifier class with skl2onnx.

    Importing :mod:`softmax_regression.onnx` registers
    :class:`~softmax_regression.SoftmaxClassifier` and
    :class:`~softmax_regression.SoftmaxClassifierCV`; skl2onnx looks a model's
    converter up by its exact class, so a subclass is registered with this
    function.

    Parameters
    ----------
    estimator_class : type
        A class with the fitted attributes ``coef_``, ``intercept_`` and
        ``classes_`` of :class:`~softmax_regression.SoftmaxClassifier`.

    Returns
    -------
    alias : str
        The name skl2onnx knows the class by.
    """
    alias = f"SoftmaxRegression{estimator_class.__name__}"
    update_registered_converter(
        estimator_class, alias, calculate_linear_classifier_output_shapes,
        convert_softmax_classifier, options=OPTIONS,
    )
    return alias


for _estimator_class in (SoftmaxClassifier, SoftmaxClassifierCV):
    register_estimator(_estimator_class)
