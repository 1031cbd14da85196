"""The one place where 2-D coefficients become scipy's flat float64 vectors."""

import numpy as np
from .._utils.compat import _convert_to_numpy


class ScipyBridge:
    """Expose a :class:`~.._problem.SoftmaxProblem` to ``scipy.optimize``.

    scipy works on a flat float64 NumPy vector ``x``; the problem works on 2-D
    coefficients in the data's dtype, array namespace and device. The bridge
    converts between the two (moving only the coefficients and gradients, never
    data, between host and device) and remembers the last two evaluations, so
    that a callback or a Hessian product at a point just evaluated costs no
    extra pass over the data.

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
        self.xp, self.device = problem.namespace_and_device
        self.split_l1 = split_l1
        self.shape = problem.coef_shape
        self.n_weights = problem.coef_shape[0] * problem.n_features
        if split_l1:
            # The L1 weight of each flat entry of W (penalty factors included),
            # formed once: every evaluation reads it.
            penalty = problem.penalty
            self.l1_weights = np.tile(penalty.l1_strength * penalty.factor_row(problem.n_features),
                                      problem.coef_shape[0])
        # NumPy problems skip the namespace conversions: on small tables
        # those, not the passes, were most of an evaluation's time.
        self.numpy = isinstance(problem.Y, np.ndarray)
        self.n_evaluations = 0
        self.n_hessian_products = 0
        self._recent = []

    # -- conversions ---------------------------------------------------------
    def _to_host(self, array):
        if self.numpy and isinstance(array, np.ndarray):
            host = np.asarray(array, dtype=np.float64)
        else:
            host = np.asarray(_convert_to_numpy(array, self.xp), dtype=np.float64)
        if not np.isfinite(host).all():
            # Sparse products overflow silently (no floating-point flag).
            raise FloatingPointError("overflow in a gradient or Hessian product")
        return host

    def _to_problem(self, array):
        if self.numpy:
            return np.asarray(array, dtype=self.problem.dtype)
        return self.xp.asarray(array, dtype=self.problem.dtype, device=self.device)

    def to_flat(self, coef):
        coef = self._to_host(coef)
        if not self.split_l1:
            return coef.ravel()
        W = self.problem.weights(coef)
        intercept = coef[:, W.shape[1] :]
        return np.concatenate(
            [np.maximum(W, 0).ravel(), np.maximum(-W, 0).ravel(), intercept.ravel()]
        )

    def host_coef(self, x):
        """2-D float64 coefficients on the host (``W = W+ - W-`` when split)."""
        if not self.split_l1:
            return x.reshape(self.shape)
        k = self.n_weights
        W = (x[:k] - x[k : 2 * k]).reshape(self.shape[0], -1)
        intercept = x[2 * k :].reshape(self.shape[0], -1)
        return np.concatenate([W, intercept], axis=1)

    def to_coef(self, x):
        """Coefficients in the problem's dtype, namespace and device."""
        return self._to_problem(self.host_coef(x))

    def bounds(self):
        """Bounds for L-BFGS-B (``None`` when unconstrained)."""
        if not self.split_l1:
            return None
        n_free = self.shape[0] * (self.shape[1] - self.problem.n_features)  # intercepts
        return [(0.0, None)] * (2 * self.n_weights) + [(None, None)] * n_free

    def _flat_gradient(self, G):
        if not self.split_l1:
            return G.ravel()
        l1 = self.l1_weights
        G_W = self.problem.weights(G).ravel()
        return np.concatenate([G_W + l1, l1 - G_W, G[:, self.problem.n_features :].ravel()])

    # -- evaluations ---------------------------------------------------------
    def _evaluate(self, x, with_hessp):
        """``(value, G, hessp)`` of the smooth objective at ``x``; G on the host.

        The loss and its gradient come from the data's device; the penalty is
        added on the host, where the coefficients already are.
        """
        # Points are compared by their bytes: one memory comparison instead of
        # numpy's elementwise test and its reduction, per remembered point
        # (a -0.0 against a 0.0 only costs an evaluation).
        key = x.tobytes()
        for last_key, last, _ in self._recent:
            if key == last_key and (not with_hessp or last[2] is not None):
                return last
        problem = self.problem
        coef = self.to_coef(x)
        self.n_evaluations += 1
        if with_hessp:
            value, G, hessp = problem.loss_gradient_hessp(coef)
        else:
            (value, G), hessp = problem.loss_gradient(coef), None
        return self._remember(key, x, float(value), self._to_host(G), hessp)

    def _remember(self, key, x, loss_value, loss_G, hessp=None):
        value, G = self.problem.add_smooth_penalty(loss_value, loss_G, self.host_coef(x))
        if self.split_l1:
            k = self.n_weights
            value += float(np.sum(self.l1_weights * (x[:k] + x[k : 2 * k])))
        last = (value, G, hessp)
        # Two entries: a line search may accept a point before its last trial.
        self._recent = self._recent[-1:] + [(key, last, (loss_value, loss_G))]
        return last

    def remember(self, x, loss_value, loss_G):
        """Take the loss's value and gradient at ``x`` as known: no pass evaluates them.

        ``loss_G`` (2-D, on the host, float64) is the loss's gradient alone;
        this problem's penalty is added as for an evaluation. A path hands on
        what an earlier evaluation at ``x`` found (see :meth:`loss_at`): the
        loss is the same at every point of the path, only the penalty differs.
        """
        self._remember(x.tobytes(), x, loss_value, loss_G)

    def loss_at(self, x):
        """``(value, G)`` of the loss alone (no penalty) at ``x``, from the last evaluation."""
        self._evaluate(x, with_hessp=False)
        key = x.tobytes()
        return next(loss for last_key, _, loss in self._recent if last_key == key)

    def value_gradient(self, x):
        """``(f, g)`` for ``scipy.optimize.minimize(..., jac=True)``."""
        value, G, _ = self._evaluate(x, with_hessp=False)
        return value, self._flat_gradient(G)

    def value_gradient_with_hessp(self, x):
        """Like :meth:`value_gradient`, keeping what a Hessian product needs."""
        value, G, _ = self._evaluate(x, with_hessp=True)
        return value, self._flat_gradient(G)

    def hessian_diagonal(self, x):
        """The diagonal of the loss's Hessian at ``x``, 2-D, on the host."""
        _, _, hessp = self._evaluate(x, with_hessp=True)
        return np.asarray(hessp.diagonal(), dtype=np.float64)

    def proba(self, x):
        """The probabilities of the free logits at ``x``, from the evaluation there."""
        _, _, hessp = self._evaluate(x, with_hessp=True)
        return hessp.proba

    def hessp(self, x, p):
        """Hessian of the smooth objective at ``x`` times ``p`` (no split)."""
        _, _, hessp = self._evaluate(x, with_hessp=True)
        self.n_hessian_products += 1
        V = p.reshape(self.shape)
        HV = self._to_host(hessp(self._to_problem(V)))
        return self.problem.add_smooth_penalty_hessp(HV, V).ravel()

    def state_at(self, x):
        """``(objective, optimality)`` at ``x``, from the last evaluation, on the host."""
        value, G, _ = self._evaluate(x, with_hessp=False)
        # With the L1 split this is the value L-BFGS-B decreases; it is never
        # below the objective at W = W+ - W- and equals it wherever W+ and W-
        # do not overlap, as at the optimum.
        return value, self.problem.optimality(self.host_coef(x), G)
