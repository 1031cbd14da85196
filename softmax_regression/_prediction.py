"""What both estimators do once fitted: logits, probabilities, labels, a score."""

import numpy as np
from sklearn.metrics import accuracy_score
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from ._model.softmax import all_class_scores, log_softmax, softmax
from ._fitting.targets import checked_offset
from ._utils.arrays import ACCEPTED_SPARSE, float_dtypes, host_numpy, is_dask_collection
from ._utils.compat import (
    LinearClassifierMixin,
    SparseCoefMixin,
    check_same_namespace,
    get_namespace,
)


class SoftmaxPredictionMixin(LinearClassifierMixin, SparseCoefMixin):
    """Prediction from ``coef_``, ``intercept_`` and ``classes_``.

    Each public method first checks that the estimator is fitted and that X
    lives in the namespace of ``coef_``. An estimator whose
    ``_predicts_dask_lazily`` is true answers dask collections lazily, chunk
    by chunk; ``_score`` is the score on in-memory data (accuracy here).
    """

    _predicts_dask_lazily = False

    def _lazily(self, X, method):
        """Check the fitted state and X; True when ``method`` goes to dask."""
        check_is_fitted(self)
        if self._predicts_dask_lazily and is_dask_collection(X):
            return True
        if method != "score":
            check_same_namespace(X, self, attribute="coef_", method=method)
        return False

    def _dask_method(self, name, X, *args, offset=None):
        from ._dask.fit import dask_method

        return dask_method(self, name, X, *args, offset=offset)

    def decision_function(self, X, offset=None):
        """Compute the logits of the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        offset : array-like of shape (n_samples, n_classes) or (n_samples,), default=None
            A known part of the logits, added to them (as in ``fit``); 1-D
            only for a binary model.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For a binary problem, the logit of ``classes_[1]`` (1-D), else one
            column per class.
        """
        if self._lazily(X, "decision_function"):
            return self._dask_method("decision_function", X, offset=offset)
        return self._logits(X, offset)

    def _logits(self, X, offset=None):
        X = validate_data(
            self, X, accept_sparse=ACCEPTED_SPARSE, dtype=float_dtypes(X), reset=False
        )
        scores = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        if offset is not None:
            scores = scores + checked_offset(offset, X.shape[0], len(self.classes_), scores)
        if scores.shape[1] == 1:
            xp, _ = get_namespace(scores)
            return xp.reshape(scores, (-1,))
        return scores

    def _all_class_logits(self, X, offset=None):
        return all_class_scores(self._logits(X, offset))

    def predict_proba(self, X, offset=None):
        """Compute class probabilities: the softmax of the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        offset : array-like of shape (n_samples, n_classes) or (n_samples,), default=None
            A known part of the logits, added to them (as in ``fit``); 1-D
            only for a binary model.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``.
        """
        if self._lazily(X, "predict_proba"):
            return self._dask_method("predict_proba", X, offset=offset)
        return softmax(self._all_class_logits(X, offset), axis=1)

    def predict_log_proba(self, X, offset=None):
        """Compute log class probabilities, without underflow to ``-inf``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        offset : array-like of shape (n_samples, n_classes) or (n_samples,), default=None
            A known part of the logits, added to them (as in ``fit``); 1-D
            only for a binary model.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Computed as ``log_softmax`` of the logits.
        """
        if self._lazily(X, "predict_log_proba"):
            return self._dask_method("predict_log_proba", X, offset=offset)
        return log_softmax(self._all_class_logits(X, offset), axis=1)

    def predict(self, X, offset=None):
        """Predict the most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        offset : array-like of shape (n_samples, n_classes) or (n_samples,), default=None
            A known part of the logits, added to them (as in ``fit``); 1-D
            only for a binary model.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        if self._lazily(X, "predict"):
            return self._dask_method("predict", X, offset=offset)
        if offset is None:
            return super().predict(X)
        scores = self._logits(X, offset)
        xp, _ = get_namespace(scores)
        index = xp.astype(scores > 0, xp.int64) if scores.ndim == 1 else xp.argmax(scores, axis=1)
        if isinstance(self.classes_, np.ndarray):
            return self.classes_[host_numpy(index)]
        return xp.take(self.classes_, index, axis=0)

    def score(self, X, y, sample_weight=None, offset=None):
        """Score the model on ``X``, ``y``; greater is better.

        The mean accuracy for :class:`SoftmaxClassifier`; the ``scoring`` of
        :class:`SoftmaxClassifierCV` (accuracy when ``scoring=None``), as in
        its ``scores_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.
        offset : array-like of shape (n_samples, n_classes) or (n_samples,), default=None
            A known part of the logits, added to them (as in ``fit``); 1-D
            only for a binary model.

        Returns
        -------
        score : float
            The score of ``X`` against ``y``.
        """
        if self._lazily(X, "score"):
            return self._dask_method("score", X, y, sample_weight, offset=offset)
        return self._score(X, y, sample_weight, offset)

    def _score(self, X, y, sample_weight, offset=None):
        if offset is None:
            return super().score(X, y, sample_weight=sample_weight)
        return float(accuracy_score(y, self.predict(X, offset=offset),
                                    sample_weight=sample_weight))
