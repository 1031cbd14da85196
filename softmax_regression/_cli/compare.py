"""``python -m softmax_regression compare``: SoftmaxClassifier next to LogisticRegression.

Exit status: 0 when the table is printed; 2 for a usage error (an option value
or combination that cannot work, or an option whose optional dependency is not
installed), found before anything is read or fitted; 1 for a data error (the
file or its contents, or a fit that fails). Every error is one line on stderr.
"""

import argparse
import math
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .timing import fit_timed
from .data import BUNDLED, TEST_SIZE, DataError, check_classes, describe, load_bundled
from .._solvers import SOLVERS
from .._utils.optional import missing

PROG = "python -m softmax_regression compare"
EXTRA = 'pip install "softmax_regression[compare]"'


class UsageError(Exception):
    """The command line cannot work as given; the message says what to change."""


@dataclass
class Row:
    """One line of the table: a model's scores on one dataset's held-out part."""

    dataset: str
    model: str
    accuracy: float
    log_loss: float
    fit_seconds: float
    n_iter: int
    max_proba_diff: float
    reached_max_iter: bool = False


def compare_on(name, X, y, *, C, solvers, tol, max_iter, random_state=0):
    """Fit LogisticRegression and each SoftmaxClassifier solver on one split.

    Parameters
    ----------
    name : str
        The dataset's name for the table.
    X : array-like of shape (n_samples, n_features)
        Numeric features; standardized here with the training part's statistics.
    y : array-like of shape (n_samples,)
        Class labels.
    C : float
        Inverse regularization strength of every model.
    solvers : list of str
        SoftmaxClassifier solvers to fit.
    tol : float
        Tolerance of every model.
    max_iter : int
        Iteration (epoch) limit of every model.
    random_state : int, default=0
        Seeds the stratified split and the SGD solver.

    Returns
    -------
    list of Row
        LogisticRegression first, then the solvers in the order given.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from .._estimator import SoftmaxClassifier

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=random_state, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    models = [("LogisticRegression(lbfgs)", LogisticRegression(C=C, tol=tol, max_iter=max_iter))]
    models += [
        (f"SoftmaxClassifier({solver})",
         SoftmaxClassifier(C=C, solver=solver, tol=tol, max_iter=max_iter,
                           random_state=random_state))
        for solver in solvers
    ]
    rows, ref_proba = [], None
    for label, model in models:
        seconds = fit_timed(model, X_train, y_train, label, name)
        proba = model.predict_proba(X_test)
        ref_proba = proba if ref_proba is None else ref_proba
        n_iter = int(np.max(model.n_iter_))
        rows.append(
            Row(name, label, accuracy_score(y_test, model.predict(X_test)),
                log_loss(y_test, proba, labels=model.classes_), seconds, n_iter,
                float(np.max(np.abs(proba - ref_proba))), n_iter >= max_iter)
        )
    return rows


def format_table(rows):
    """The comparison as aligned text columns.

    Parameters
    ----------
    rows : list of Row
        As returned by :func:`compare_on`.

    Returns
    -------
    str
        A header, a rule and one line per row; a footnote when some model
        reached ``max_iter``.
    """
    header = ("dataset", "model", "accuracy", "log loss", "fit [ms]", "iters", "max |dP|")
    lines = [
        (r.dataset, r.model, f"{r.accuracy:.4f}", f"{r.log_loss:.5f}",
         f"{1e3 * r.fit_seconds:.1f}", f"{r.n_iter}{'*' if r.reached_max_iter else ''}",
         "-" if r.model.startswith("Logistic") else f"{r.max_proba_diff:.1e}")
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line) for line in lines]
    if any(r.reached_max_iter for r in rows):
        out.append("* reached --max-iter before --tol")
    return "\n".join(out)


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (raised, so main can print it)."""

    def error(self, message):
        raise UsageError(f"{message} (see --help)")


_EPILOG = f"""\
what it prints:
  for each dataset, what was read: rows used and dropped (and why), each
  feature column and its encoding (numeric as is, true/false as 1/0, one-hot
  with its number of categories, missing values imputed), and the classes
  with their row counts; then one table: accuracy and log loss on the
  held-out 25%, fit time, iterations (epochs for sgd; * when --max-iter was
  reached) and max |dP|, the largest difference in predicted probability
  from LogisticRegression(lbfgs) fitted with the same C.

exit status:
  0  the table was printed
  1  a data error: a missing, empty or unreadable file, a missing or unusable
     target column, a class too small for the split, a fit that fails
  2  a usage error, found before anything is read: a bad option value,
     conflicting options, or --csv/--plot without their optional dependencies
     ({EXTRA});
     with --plot the table is still printed first
  Every error is one line on stderr.
"""


def build_parser():
    """The ``compare`` argument parser.

    Returns
    -------
    argparse.ArgumentParser
        Its ``error`` raises :class:`UsageError` instead of exiting.
    """
    parser = _OneLineParser(
        prog=PROG,
        description=(
            "Fit LogisticRegression(lbfgs) and SoftmaxClassifier (each solver) with the\n"
            "same C on a stratified split with 25% held out, features standardized, and\n"
            "print one table. Data: scikit-learn's bundled datasets (no download) or\n"
            "your own CSV."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = parser.add_argument_group("data (--dataset or --csv, not both)")
    data.add_argument("--dataset", choices=BUNDLED, action="append",
                      help="a bundled dataset; repeat for several (default: all four)")
    data.add_argument("--csv", metavar="PATH",
                      help="your own data: a CSV file with a header row naming every column "
                           "(.gz, .bz2, .xz are decompressed; needs pandas: " + EXTRA + "). "
                           "Numeric columns are used as they are, true/false as 1/0, others "
                           "one-hot encoded; missing feature values are imputed (median, most "
                           "frequent) and rows without a target dropped")
    data.add_argument("--target", metavar="COLUMN",
                      help="the column of --csv that holds the class labels (required with "
                           "--csv); in scikit-learn's own CSV layout (wine_data.csv, "
                           "breast_cancer.csv) it is called 'target'")
    models = parser.add_argument_group("models")
    models.add_argument("--C", type=float, default=1.0, metavar="C",
                        help="inverse penalty strength of every model, > 0; inf for no "
                             "penalty (default: %(default)s)")
    models.add_argument("--solvers", nargs="+", choices=sorted(SOLVERS), default=sorted(SOLVERS),
                        metavar="SOLVER",
                        help=f"SoftmaxClassifier solvers, among {', '.join(sorted(SOLVERS))} "
                             "(default: all)")
    models.add_argument("--tol", type=float, default=1e-4, metavar="TOL",
                        help="tolerance of every model, >= 0 (default: %(default)s)")
    models.add_argument("--max-iter", type=int, default=1000, metavar="N",
                        help="iteration limit (epochs for sgd), >= 1 (default: %(default)s)")
    models.add_argument("--random-state", type=int, default=0, metavar="SEED",
                        help="seed of the split and of the sgd solver, so every run prints "
                             "the same rows (default: %(default)s)")
    run = parser.add_argument_group("run and output")
    run.add_argument("--threads", type=int, default=1, metavar="N",
                     help="BLAS threads for every fit, >= 1 (default 1: numpy's and scipy's "
                          "thread pools otherwise stall each other on small problems)")
    run.add_argument("--plot", metavar="FILE",
                     help="also save the convergence picture (objective gap against "
                          "iterations and time) of the first dataset to FILE; the suffix "
                          "(.png, .svg, .pdf, ...) picks the format (needs matplotlib: "
                          f"{EXTRA})")
    return parser


def _check_options(args):
    """Usage errors that argparse cannot see: values out of range, conflicts."""
    if args.csv is not None and args.dataset:
        raise UsageError("--dataset and --csv cannot be combined: give one of them")
    if args.target is not None and args.csv is None:
        raise UsageError("--target needs --csv PATH (the bundled datasets have their targets)")
    if args.csv is not None and args.target is None:
        raise UsageError("--csv needs --target COLUMN, the column with the class labels")
    if not args.C > 0:  # also refuses nan
        raise UsageError(f"--C must be > 0 (inf for no penalty), got {args.C:g}")
    if not math.isfinite(1 / args.C) or 1 / args.C > 1e300:
        # The penalty 1/(2C) ||W||^2 overflows in every solver, mid-fit.
        raise UsageError(f"--C {args.C!r} is too small (1/C overflows); give C >= 1e-300")
    if not (args.tol >= 0 and math.isfinite(args.tol)):
        raise UsageError(f"--tol must be a finite number >= 0, got {args.tol:g}")
    if args.max_iter < 1:
        raise UsageError(f"--max-iter must be >= 1, got {args.max_iter}")
    if args.threads < 1:
        raise UsageError(f"--threads must be >= 1, got {args.threads}")
    if not 0 <= args.random_state < 2**32:
        raise UsageError(f"--random-state must be in [0, 2**32), got {args.random_state}")
    if args.plot is not None:
        _check_plot_path(args.plot)


def _check_plot_path(plot):
    folder = Path(plot).parent
    if Path(plot).is_dir():
        raise UsageError(f"--plot {plot}: is a folder; give a file name such as "
                         f"{Path(plot) / 'convergence.png'}")
    if not folder.is_dir():
        raise UsageError(f"--plot {plot}: folder {str(folder)!r} does not exist; create it first")
    from .plot import plot_formats

    formats = plot_formats()
    suffix = Path(plot).suffix.lower().lstrip(".")
    if formats is not None and suffix not in formats:
        raise UsageError(
            f"--plot {plot}: unknown picture format {suffix!r}; end the name with one of "
            f"{', '.join('.' + f for f in sorted(formats))}"
        )


def _missing(module):
    try:
        __import__(module)
    except ImportError:
        return True
    return False


def _run(args):
    """Read, check and compare; return the exit status."""
    from threadpoolctl import threadpool_limits

    if args.csv is not None:
        if _missing("pandas"):
            raise UsageError(str(missing("pandas", "--csv")))
        from .csv_reader import read_csv

        datasets = [read_csv(args.csv, args.target)]
    else:
        datasets = [load_bundled(name) for name in dict.fromkeys(args.dataset or BUNDLED)]
    for dataset in datasets:
        check_classes(dataset)
    solvers = list(dict.fromkeys(args.solvers))
    for dataset in datasets:
        print("\n".join(describe(dataset)))
    print()
    no_matplotlib = args.plot is not None and _missing("matplotlib")
    rows = []
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for data in datasets:
            rows += compare_on(data.name, data.X, data.y, C=args.C, solvers=solvers,
                               tol=args.tol, max_iter=args.max_iter,
                               random_state=args.random_state)
        print(f"C={args.C:g}, tol={args.tol:g}, random_state={args.random_state}, "
              f"{args.threads} BLAS thread(s); 25% held out, features standardized")
        print(format_table(rows), flush=True)
        if no_matplotlib:
            raise UsageError(str(missing("matplotlib", "--plot")))
        if args.plot:
            from .plot import convergence_plot

            first = datasets[0]
            convergence_plot(args.plot, first.name, first.X, first.y, C=args.C,
                             solvers=solvers, random_state=args.random_state)
            print(f"convergence picture written to {args.plot}")
    return 0


def _escape_what_cannot_be_printed():
    """Print labels the output's encoding cannot represent as escapes, not a traceback.

    A Windows console or a stream redirected with ``PYTHONIOENCODING=cp1252``
    cannot encode, say, Chinese class labels; they then print as ``\\u4e2d``.
    """
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def main(argv=None):
    """Run ``compare`` with the given arguments.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``compare``; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success, 1 for a data error, 2 for a usage error (see the
        module docstring); ``--help`` prints the help and returns 0.
    """
    _escape_what_cannot_be_printed()
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
        _check_options(args)
        with warnings.catch_warnings():
            # A numerical warning would break the one-line promise; a fit it
            # spoils ends as a one-line error or shows in the table.
            warnings.simplefilter("ignore", RuntimeWarning)
            return _run(args)
    except SystemExit as stop:  # --help
        return stop.code
    except UsageError as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 2
    except DataError as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
