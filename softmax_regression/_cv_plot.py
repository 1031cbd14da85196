"""The picture of a SoftmaxClassifierCV's choice: held-out score against C."""

import numpy as np

from ._arrays import host_numpy


def plot_path(cv, ax=None):
    """Mean score over the folds against ``C`` (log axis), one line per ``l1_ratio``.

    A band of one standard deviation across the folds surrounds each line;
    the chosen ``(C_, l1_ratio_)`` is marked with a star on its line (with
    ``refit=False`` the chosen values are fold means, which need not be on
    the grid: the star then sits at the mean score interpolated there).
    Points with ``C = inf`` are left out of the log axis.

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
    import matplotlib.pyplot as plt

    Cs, l1_ratios, scores = (host_numpy(a) for a in (cv.Cs_, cv.l1_ratios_, cv.scores_))
    if not np.any(np.isfinite(Cs)):
        raise ValueError("plot_path needs at least one finite C in Cs_ for its log axis.")
    if ax is None:
        _, ax = plt.subplots()
    order = np.argsort(Cs, kind="stable")
    Cs = Cs[order]
    finite = np.isfinite(Cs)
    mean = scores.mean(axis=0)[:, order]
    std = scores.std(axis=0)[:, order]
    for j, l1_ratio in enumerate(l1_ratios):
        (line,) = ax.plot(Cs[finite], mean[j, finite], marker=".",
                          label=f"l1_ratio={l1_ratio:g}")
        ax.fill_between(Cs[finite], (mean[j] - std[j])[finite], (mean[j] + std[j])[finite],
                        color=line.get_color(), alpha=0.2, linewidth=0)
    chosen = int(np.argmin(np.abs(l1_ratios - cv.l1_ratio_)))
    chosen_score = np.interp(np.log(cv.C_), np.log(Cs[finite]), mean[chosen, finite])
    ax.plot([cv.C_], [chosen_score], marker="*", markersize=14, color="black", linestyle="none",
            label=f"chosen: C={cv.C_:.3g}, l1_ratio={cv.l1_ratio_:g}", gid="chosen")
    ax.set_xscale("log")
    ax.set_xlabel("C (inverse regularization strength)")
    scoring = cv.scoring if isinstance(cv.scoring, str) else (
        "accuracy" if cv.scoring is None else getattr(cv.scoring, "__name__", "score"))
    ax.set_ylabel(f"held-out {scoring}, mean ± 1 std over {scores.shape[0]} folds")
    ax.legend()
    return ax
