"""The result of :func:`softmax_regression.inference` and its summary table."""

import numpy as np
from scipy.stats import norm

_COLUMNS = ("coef", "std err", "z", "P>|z|")
# statsmodels' summary: 4 decimals for the coefficient, 3 for the rest.
_FORMATS = ("{:.4f}", "{:.3f}", "{:.3f}", "{:.3f}", "{:.3f}", "{:.3f}")
_CELL_WIDTH = 11


def _cell(fmt, value):
    """``value`` in its column's fixed format, or in scientific notation where that is
    too wide for the column (as statsmodels switches from ``%f`` to ``%g``)."""
    text = fmt.format(value)
    if len(text) < _CELL_WIDTH:
        return text
    return f"{value:.4g}"


def check_alpha(alpha):
    """A ValueError unless ``alpha`` is a number strictly between 0 and 1."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.number)) or not (
        0 < alpha < 1
    ):
        raise ValueError(f"alpha must be a number strictly between 0 and 1, got {alpha!r}.")


class InferenceResult:
    """Coefficients, their covariance and the tests derived from it.

    Built by ``inference``; not meant to be constructed directly. Arrays are
    float64 of shape ``(n_classes - 1, n_features + fit_intercept)``: one row
    per non-reference class (in the order of ``classes``), one column per
    feature with the intercept last.

    Parameters
    ----------
    params : ndarray
        The coefficients, reference class subtracted.
    cov : ndarray of shape (params.size, params.size)
        Their covariance, in the row-major order of ``params``.
    cov_type, alpha, classes, reference, feature_names, nobs, n_groups, llf, \
penalized, separated : see Attributes
        Stored as they are.
    y_name : str or None
        The name of the target, used in the row labels (``"y"`` when None).

    Attributes
    ----------
    params : ndarray
        Coefficients of each class minus those of the reference class.
    bse : ndarray
        Standard errors of ``params``.
    zvalues : ndarray
        ``params / bse``.
    pvalues : ndarray
        Two-sided p-values of ``zvalues`` under the standard normal.
    classes : ndarray
        The label of each row of ``params``.
    reference : object
        The reference class.
    feature_names : list of str
        The label of each column of ``params``; ``"intercept"`` last when
        there is one.
    cov_type : str
        ``"nonrobust"``, ``"HC0"`` or ``"cluster"``.
    alpha : float
        The default significance level of :meth:`conf_int` and :meth:`summary`.
    nobs : float
        The number of samples, counting a weight of 3 as three samples.
    n_groups : int or None
        The number of clusters for ``cov_type="cluster"``.
    llf : float
        The weighted log-likelihood at ``params``.
    penalized : bool
        Whether the covariance is that of a penalized (ridge) estimator.
    separated : {"complete", "quasi"} or None
        Without a penalty: whether the data are completely separated (by the
        fitted coefficients) or quasi-separated (a direction with no negative
        margin, found by a linear program), where the maximum-likelihood
        estimate does not exist.
    """

    def __init__(self, *, params, cov, cov_type, alpha, classes, reference, feature_names,
                 nobs, n_groups, llf, penalized, separated, y_name):
        self.params = params
        self._cov = cov
        # Rounding can leave a variance of a coefficient identified only
        # jointly (a pseudo-inverse's null direction) a hair below zero. NaN
        # (no information at all) stays NaN.
        self.bse = np.sqrt(np.maximum(np.diag(cov), 0.0)).reshape(params.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            # A zero standard error (a coefficient without information) gives
            # an infinite or undefined z, reported as such.
            self.zvalues = params / self.bse
        self.pvalues = 2 * norm.sf(np.abs(self.zvalues))
        self.cov_type = cov_type
        self.alpha = alpha
        self.classes = classes
        self.reference = reference
        self.feature_names = list(feature_names)
        self.y_name = y_name
        self.nobs = nobs
        self.n_groups = n_groups
        self.llf = llf
        self.penalized = penalized
        self.separated = separated

    def conf_int(self, alpha=None):
        """Wald confidence intervals ``params -/+ z_(1 - alpha/2) * bse``.

        Parameters
        ----------
        alpha : float, default=None
            Significance level; the result's ``alpha`` when None.

        Returns
        -------
        intervals : ndarray of shape (n_classes - 1, n_features + fit_intercept, 2)
            Lower bounds in ``[..., 0]``, upper bounds in ``[..., 1]``.
        """
        alpha = self.alpha if alpha is None else alpha
        check_alpha(alpha)
        half_width = norm.ppf(1 - alpha / 2) * self.bse
        return np.stack([self.params - half_width, self.params + half_width], axis=-1)

    def cov_params(self):
        """Covariance matrix of the flattened ``params``.

        Returns
        -------
        cov : ndarray of shape (q, q)
            ``q = params.size``, in the row-major order of ``params.ravel()``.
        """
        return self._cov.copy()

    def _row_labels(self):
        name = "y" if self.y_name is None else str(self.y_name)
        return [f"{name}={label}" for label in self.classes]

    def _interval_names(self, alpha):
        return f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"

    def summary(self, alpha=None):
        """One row per class and feature: coef, std err, z, P>|z| and the interval.

        Parameters
        ----------
        alpha : float, default=None
            Significance level of the interval columns; the result's ``alpha``
            when None.

        Returns
        -------
        table : pandas.DataFrame or numpy structured array
            A DataFrame indexed by (class, feature) when pandas is installed;
            otherwise a structured array with ``class`` and ``feature`` fields
            followed by the numeric columns. ``str(result)`` prints the same
            table, statsmodels-style, in both cases.
        """
        alpha = self.alpha if alpha is None else alpha
        intervals = self.conf_int(alpha)
        columns = (*_COLUMNS, *self._interval_names(alpha))
        values = np.stack([self.params, self.bse, self.zvalues, self.pvalues,
                           intervals[..., 0], intervals[..., 1]], axis=-1).reshape(-1, 6)
        classes = np.repeat(self._row_labels(), len(self.feature_names))
        features = np.tile(self.feature_names, len(self.classes))
        try:
            import pandas as pd
        except ImportError:
            dtype = [("class", f"U{max(map(len, classes))}"),
                     ("feature", f"U{max(map(len, features))}")]
            table = np.empty(len(values), dtype=dtype + [(c, "f8") for c in columns])
            table["class"], table["feature"] = classes, features
            for j, column in enumerate(columns):
                table[column] = values[:, j]
            return table
        index = pd.MultiIndex.from_arrays([classes, features], names=["class", "feature"])
        return pd.DataFrame(values, index=index, columns=list(columns))

    def __str__(self):
        alpha = self.alpha
        columns = (*_COLUMNS, *self._interval_names(alpha))
        name_width = max(12, *map(len, self.feature_names), *map(len, self._row_labels()))
        intervals = self.conf_int(alpha)
        cells = [[[_cell(fmt, v) for fmt, v in zip(_FORMATS, (
                    self.params[k, j], self.bse[k, j], self.zvalues[k, j], self.pvalues[k, j],
                    intervals[k, j, 0], intervals[k, j, 1]))]
                  for j in range(len(self.feature_names))]
                 for k in range(self.params.shape[0])]
        # Every column keeps at least one space before its widest cell, so
        # that numbers never run together.
        cell_width = max([_CELL_WIDTH] + [len(text) + 1 for block in cells for row in block
                                          for text in row])
        width = name_width + cell_width * len(columns)
        cov = self.cov_type + (f", {self.n_groups} groups" if self.cov_type == "cluster" else "")
        header = [
            "Softmax regression: inference".center(width), "=" * width,
            f"{'Reference class:':<20}{self.reference!s:<20}"
            f"{'No. observations:':<20}{self.nobs:g}",
            f"{'Covariance type:':<20}{cov:<20}{'Log-likelihood:':<20}{self.llf:.6g}",
            f"{'Penalized:':<20}{'yes' if self.penalized else 'no':<20}"
            f"{'Separation:':<20}{'n/a' if self.penalized else self.separated or 'none detected'}",
        ]
        lines = header
        for label, block in zip(self._row_labels(), cells):
            lines += ["=" * width,
                      f"{label:<{name_width}}" + "".join(f"{c:>{cell_width}}" for c in columns),
                      "-" * width]
            for feature, row in zip(self.feature_names, block):
                lines.append(f"{feature:<{name_width}}" + "".join(
                    f"{text:>{cell_width}}" for text in row))
        lines.append("=" * width)
        return "\n".join(lines)

    def __repr__(self):
        return (f"<InferenceResult: {self.params.shape[0]} x {self.params.shape[1]} "
                f"coefficients, cov_type={self.cov_type!r}, reference={self.reference!r}>")
