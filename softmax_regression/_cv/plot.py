"""The picture of a SoftmaxClassifierCV's choice: held-out score against C."""

import numpy as np

from .._utils.arrays import host_numpy
from .._utils.optional import require


def plot_path(cv, ax=None):
    """Mean score over the folds against ``C`` (log axis), one line per ``l1_ratio``.

    A band of one standard deviation across the folds surrounds each line;
    the chosen ``(C_, l1_ratio_)`` is marked with a star on its line (with
    ``refit=False`` the chosen values are fold means, which need not be on
    the grid: the star then sits at the mean score interpolated there).
    ``C = inf`` (no penalty) is drawn at the right edge, one decade past the
    largest finite ``C`` (at 1 when there is none), with a tick labelled
    ``inf``.

    Parameters
    ----------
    cv : SoftmaxClassifierCV
        Fitted.
    ax : matplotlib Axes or None
        Where to draw; a new figure's axes when None.

    Returns
    -------
    ax : matplotlib Axes
    """
    plt = require("matplotlib.pyplot", "SoftmaxClassifierCV.plot_path()")
    Cs, l1_ratios, scores = (host_numpy(a) for a in (cv.Cs_, cv.l1_ratios_, cv.scores_))
    if ax is None:
        _, ax = plt.subplots()
    order = np.argsort(Cs, kind="stable")
    Cs = Cs[order]
    finite = np.isfinite(Cs)
    x_inf = 10.0 * Cs[finite].max() if finite.any() else 1.0
    # Where each C is drawn: itself, or the right edge for inf.
    x = np.where(finite, Cs, x_inf)
    mean = scores.mean(axis=0)[:, order]
    std = scores.std(axis=0)[:, order]
    for j, l1_ratio in enumerate(l1_ratios):
        (line,) = ax.plot(x, mean[j], marker=".", label=f"l1_ratio={l1_ratio:g}")
        ax.fill_between(x, mean[j] - std[j], mean[j] + std[j],
                        color=line.get_color(), alpha=0.2, linewidth=0)
    chosen = int(np.argmin(np.abs(l1_ratios - cv.l1_ratio_)))
    chosen_x = x_inf if np.isinf(cv.C_) else cv.C_
    chosen_score = np.interp(np.log(chosen_x), np.log(x), mean[chosen])
    ax.plot([chosen_x], [chosen_score], marker="*", markersize=14, color="black",
            linestyle="none", label=f"chosen: C={cv.C_:.3g}, l1_ratio={cv.l1_ratio_:g}",
            gid="chosen")
    ax.set_xscale("log")
    if not finite.all():
        _label_infinity(ax, x_inf)
    ax.set_xlabel("C (inverse regularization strength)")
    scoring = cv.scoring if isinstance(cv.scoring, str) else (
        "accuracy" if cv.scoring is None else getattr(cv.scoring, "__name__", "score"))
    ax.set_ylabel(f"held-out {scoring}, mean ± 1 std over {scores.shape[0]} folds")
    ax.legend()
    return ax


def _label_infinity(ax, x_inf):
    """Decade ticks below ``x_inf``, and a tick ``inf`` at it."""
    left, right = ax.get_xlim()
    # Keep the log locator's decades that are visibly left of x_inf, so that
    # no "10^k" label sits on the "inf" one.
    ticks = [t for t in ax.get_xticks() if left <= t <= right and t < x_inf / 3.0]
    labels = [f"$10^{{{int(round(np.log10(t)))}}}$" for t in ticks]
    ax.set_xticks(ticks + [x_inf], labels + ["inf"])
    ax.set_xlim(left, right)
