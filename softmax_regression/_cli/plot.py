"""The convergence picture of ``compare --plot``; matplotlib is imported only here."""

import numpy as np

from .timing import fit_timed
from .data import DataError
from .._model.referee import estimator_objective


def plot_formats():
    """Return matplotlib's picture file suffixes, or None without matplotlib.

    Returns
    -------
    set of str or None
        Suffixes without the dot; None tells the caller to report the missing
        extra after the table.
    """
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        return None
    return set(FigureCanvasBase.get_supported_filetypes())


def _objective(model, X, y, C):
    """The shared float64 measure: mean cross-entropy plus ||W||^2 / (2 C n)."""
    return estimator_objective(model, X, np.searchsorted(model.classes_, y), C=C)


def convergence_plot(path, name, X, y, *, C, solvers, max_iter=200, random_state=0):
    """Objective gap against iterations and time, each solver and LogisticRegression.

    Every curve point is a fit stopped after k iterations (``max_iter=k``), so
    both estimators are measured the same way, whatever they record inside.

    Parameters
    ----------
    path : str
        The picture file; its suffix picks the format.
    name : str
        The dataset's name for the title.
    X, y : array-like
        Features (standardized here) and labels.
    C : float
        Inverse regularization strength.
    solvers : list of str
        SoftmaxClassifier solvers to draw.
    max_iter : int, default=200
        The largest k.
    random_state : int, default=0
        Seeds the SGD solver.

    Returns
    -------
    dict
        For each model, its (k, seconds, objective) points.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from .._estimator import SoftmaxClassifier

    X = StandardScaler().fit_transform(X)
    makers = {"LogisticRegression(lbfgs)": lambda k: LogisticRegression(C=C, max_iter=k,
                                                                        tol=1e-12)}
    for solver in solvers:
        makers[f"SoftmaxClassifier({solver})"] = (
            lambda k, solver=solver: SoftmaxClassifier(C=C, solver=solver, max_iter=k,
                                                       tol=1e-12, random_state=random_state))
    curves = {}
    for label, make in makers.items():
        steps = np.unique(np.geomspace(1, max_iter, 25).astype(int))
        points = []
        for k in steps:
            model = make(int(k))
            seconds = fit_timed(model, X, y, label, name)
            points.append((int(k), seconds, _objective(model, X, y, C)))
        curves[label] = points
    best = min(p[2] for points in curves.values() for p in points)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for label, points in curves.items():
        k, seconds, value = map(np.asarray, zip(*points))
        gap = np.maximum(value - best, 1e-16) / abs(best)
        axes[0].loglog(k, gap, marker="o", ms=3, label=label)
        axes[1].loglog(seconds, gap, marker="o", ms=3, label=label)
    axes[0].set(xlabel="iterations (epochs for sgd)", ylabel="relative objective gap")
    axes[1].set(xlabel="fit time [s]")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{name}, C={C:g}, standardized")
    try:
        fig.savefig(path, dpi=100)
    except OSError as exc:
        raise DataError(f"--plot {path}: cannot write ({exc.strerror or exc})") from None
    finally:
        plt.close(fig)
    return curves
