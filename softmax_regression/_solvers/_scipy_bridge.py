"""The one place where 2-D coefficients become scipy's flat float64 vectors."""

import numpy as np


class ScipyBridge:
    """Expose a :class:`~.._problem.SoftmaxProblem` to ``scipy.optimize``.

    scipy works on a flat float64 vector ``x``; the problem works on 2-D
    coefficients in the data's dtype. The bridge converts between the two and
    remembers the last evaluation, so that a callback or a Hessian product at
    the point just evaluated costs no extra pass over the data.

    With ``split_l1=True`` the weights are written ``W = W+ - W-`` with
    ``W+, W- >= 0``; the L1 norm is then the linear function
    ``sum(W+ + W-)``, and the problem becomes smooth with bound constraints
    (the intercept stays free). Layout of ``x``: ``[W+, W-, b]`` each raveled
    in C order.

    Parameters
    ----------
    problem : SoftmaxProblem
    split_l1 : bool, default=False
    """

    def __init__(self, problem, split_l1=False):
        self.problem = problem
        self.split_l1 = split_l1
        self.shape = problem.coef_shape
        self.n_weights = problem.coef_shape[0] * problem.n_features
        self.n_evaluations = 0
        self.n_hessian_products = 0
        self._last_x = None
        self._last = None

    # -- conversions ---------------------------------------------------------
    def to_flat(self, coef):
        coef = np.asarray(coef, dtype=np.float64)
        if not self.split_l1:
            return coef.ravel()
        W = self.problem.weights(coef)
        intercept = coef[:, W.shape[1] :]
        return np.concatenate(
            [np.maximum(W, 0).ravel(), np.maximum(-W, 0).ravel(), intercept.ravel()]
        )

    def to_coef(self, x):
        dtype = self.problem.dtype
        if not self.split_l1:
            return np.asarray(x.reshape(self.shape), dtype=dtype)
        k = self.n_weights
        W = x[:k] - x[k : 2 * k]
        coef = np.empty(self.shape, dtype=dtype)
        coef[:, : self.problem.n_features] = W.reshape(self.shape[0], -1)
        coef[:, self.problem.n_features :] = x[2 * k :].reshape(self.shape[0], -1)
        return coef

    def bounds(self):
        """Bounds for L-BFGS-B (``None`` when unconstrained)."""
        if not self.split_l1:
            return None
        n_free = len(self.to_flat(np.zeros(self.shape))) - 2 * self.n_weights
        return [(0.0, None)] * (2 * self.n_weights) + [(None, None)] * n_free

    def _flat_gradient(self, G):
        G = np.asarray(G, dtype=np.float64)
        if not self.split_l1:
            return G.ravel()
        l1 = self.problem.penalty.l1_strength
        G_W = self.problem.weights(G).ravel()
        return np.concatenate([G_W + l1, l1 - G_W, G[:, self.problem.n_features :].ravel()])

    # -- evaluations ---------------------------------------------------------
    def _evaluate(self, x, with_hessp):
        if (
            self._last_x is not None
            and np.array_equal(x, self._last_x)
            and (not with_hessp or self._last[2] is not None)
        ):
            return self._last
        coef = self.to_coef(x)
        self.n_evaluations += 1
        if with_hessp:
            value, G, hessp = self.problem.smooth_value_gradient_hessp(coef)
        else:
            (value, G), hessp = self.problem.smooth_value_gradient(coef), None
        if self.split_l1:
            value += self.problem.penalty.l1_strength * float(
                np.sum(x[: 2 * self.n_weights])
            )
        self._last_x = np.array(x, copy=True)
        self._last = (value, G, hessp)
        return self._last

    def value_gradient(self, x):
        """``(f, g)`` for ``scipy.optimize.minimize(..., jac=True)``."""
        value, G, _ = self._evaluate(x, with_hessp=False)
        return value, self._flat_gradient(G)

    def value_gradient_with_hessp(self, x):
        """Like :meth:`value_gradient`, keeping what a Hessian product needs."""
        value, G, _ = self._evaluate(x, with_hessp=True)
        return value, self._flat_gradient(G)

    def hessp(self, x, p):
        """Hessian of the smooth objective at ``x`` times ``p`` (no split)."""
        _, _, hessp = self._evaluate(x, with_hessp=True)
        self.n_hessian_products += 1
        V = np.asarray(p.reshape(self.shape), dtype=self.problem.dtype)
        return np.asarray(hessp(V), dtype=np.float64).ravel()

    def state_at(self, x):
        """``(coef, objective, optimality)`` at ``x``, reusing the last evaluation."""
        value, G, _ = self._evaluate(x, with_hessp=False)
        coef = self.to_coef(x)
        if self.split_l1:
            # Report the L1 norm of W itself, not of the split (they differ
            # only where W+ and W- are both positive).
            k = self.n_weights
            l1 = self.problem.penalty.l1_strength
            value += l1 * float(
                np.sum(np.abs(x[:k] - x[k : 2 * k])) - np.sum(x[: 2 * k])
            )
        return coef, value, self.problem.optimality(coef, G)
