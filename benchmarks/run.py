"""Run the benchmark: every library and solver on every problem, two tolerances.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py --quick
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py

Per (library, solver, problem, dtype, tol): one warm-up fit, measured with
tracemalloc for the peak memory and, at a tight tolerance (<= 1e-6), traced
(objective against time); then up to ``--repeats`` timed fits with neither,
fewer once they have taken ``--time-budget`` seconds in all (at least one),
reported as median, min and max. See benchmarks/README.md for every column.
"""

import argparse
import gc
import sys
import time
import tracemalloc
import traceback
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import accuracy_score, log_loss
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_sklearn_logistic  # noqa: E402
import bench_sklearn_sgd  # noqa: E402
import bench_softmax_regression  # noqa: E402
import report  # noqa: E402
from _harness import SkipFit  # noqa: E402
from objective import estimator_objective  # noqa: E402
from problems import Problem, make_medium, problems  # noqa: E402

LIBRARIES = {
    "softmax_regression": bench_softmax_regression,
    "sklearn-logistic": bench_sklearn_logistic,
    "sklearn-sgd": bench_sklearn_sgd,
}
TOLS = {"default": 1e-4, "tight": 1e-8}
TRACE_BELOW = 1e-6  # tolerances at or below this are traced
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny problems, seconds in all (a smoke test)")
    parser.add_argument("--problems", help="comma-separated problem names")
    parser.add_argument("--libraries", help=f"comma-separated, of {', '.join(LIBRARIES)}")
    parser.add_argument("--solvers", help="comma-separated solver names (any library)")
    parser.add_argument("--dtypes", help="comma-separated: float64,float32")
    parser.add_argument("--tol", default="default,tight",
                        help="comma-separated names (default=1e-4, tight=1e-8) or numbers")
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=1,
                        help="thread limit for every BLAS and OpenMP library (default 1)")
    parser.add_argument("--repeats", type=int,
                        help="timed fits after the warm-up (default 3; --quick: 1)")
    parser.add_argument("--time-budget", type=float, default=5.0,
                        help="seconds; timed fits stop early (after at least one) "
                        "once they have taken this long in all")
    parser.add_argument("--max-iter", type=int, default=500,
                        help="iterations of the full-batch solvers (--quick: at most 200)")
    parser.add_argument("--max-epochs", type=int, default=20,
                        help="epochs of the stochastic solvers (saga, SGD)")
    parser.add_argument("--scaling", choices=["on", "off"], default="on",
                        help="fit time against n on the medium problem")
    parser.add_argument("--scaling-budget", type=float, default=60.0,
                        help="seconds; a solver is not run at the next n when "
                        "its time scaled linearly would exceed this")
    parser.add_argument("--threads-study", choices=["on", "off"], default="on",
                        help="one pass of SoftmaxClassifier's loss on 1 and 2 threads, and "
                        "default fits of both libraries without a thread limit")
    parser.add_argument("--cv", choices=["on", "off"], default=None,
                        help="SoftmaxClassifierCV beside LogisticRegressionCV and a grid "
                             "search (cv_speed.py), into cv_speed.md (default: on, "
                             "off with --quick)")
    parser.add_argument("--default-path", choices=["on", "off"], default=None,
                        help="SoftmaxClassifier() against LogisticRegression() at their "
                             "defaults, with the L1 case against saga (default_path.py), into "
                             "default_path.md (default: on, off with --quick)")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--output", type=Path, help="results folder "
                        "(default benchmarks/results, or benchmarks/results/quick)")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.quick:
        args.max_iter = min(args.max_iter, 200)
    if args.output is None:
        args.output = DEFAULT_OUTPUT / "quick" if args.quick else DEFAULT_OUTPUT
    args.tols = [(name, TOLS[name]) if name in TOLS else (name, float(name))
                 for name in args.tol.split(",")]
    return args


def _split(text):
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def selected_solvers(args):
    libraries = _split(args.libraries) or list(LIBRARIES)
    unknown = set(libraries) - set(LIBRARIES)
    if unknown:
        raise SystemExit(f"unknown libraries {sorted(unknown)}; known: {list(LIBRARIES)}")
    wanted = _split(args.solvers)
    return [(LIBRARIES[lib], solver) for lib in libraries
            for solver in LIBRARIES[lib].solvers() if wanted is None or solver in wanted]


def measure_floor(X, n_classes, dtype, repeats=9):
    """Median seconds (wall, CPU) of the two products a gradient pass needs.

    ``X @ W.T`` and ``R.T @ X`` (dense) or ``(X.T @ R).T`` (sparse), with
    ``W`` of shape (K, d) and ``R`` of shape (n, K) in the problem's dtype.
    """
    rng = np.random.default_rng(0)
    W = rng.standard_normal((n_classes, X.shape[1])).astype(dtype)
    R = rng.standard_normal((X.shape[0], n_classes)).astype(dtype)
    times, cpu_times = [], []
    for _ in range(repeats + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        X @ W.T
        (X.T @ R).T if sp.issparse(X) else R.T @ X
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    return float(np.median(times[1:])), float(np.median(cpu_times[1:]))


def _max_iter(module, solver, args):
    return args.max_epochs if module.is_stochastic(solver) else args.max_iter


def _fit(module, solver, problem, dtype, tol, max_iter, C, trace=False):
    """``(record, wall seconds)``, garbage collector off as in timeit.

    The process CPU time goes into ``record.cpu_seconds``: on a shared
    machine it is not inflated by waiting for a core (with one thread per
    library it is close to the wall time of an idle machine).
    """
    gc.collect(0)
    gc.disable()
    try:
        start, cpu_start = time.perf_counter(), time.process_time()
        record = module.fit(problem, solver=solver, dtype=dtype, tol=tol,
                            max_iter=max_iter, C=C, trace=trace)
        record.cpu_seconds = time.process_time() - cpu_start
        return record, time.perf_counter() - start
    finally:
        gc.enable()


def measure(module, solver, problem, dtype, tol_name, tol, args):
    """One result row (a dict) and its trace, for one configuration."""
    X, y, X_test, y_test = problem.data(dtype)
    max_iter = _max_iter(module, solver, args)
    row = dict(library=module.LIBRARY, solver=solver, problem=problem.name, dtype=dtype,
               tol_setting=tol_name, tol=tol, max_iter=max_iter, n_samples=X.shape[0],
               n_features=X.shape[1], n_classes=problem.n_classes)
    trace = tol <= TRACE_BELOW
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        record, _ = _fit(module, solver, problem, dtype, tol, max_iter, args.C, trace)
        row["peak_memory_mb"] = (tracemalloc.get_traced_memory()[1] - base) / 2**20
    except SkipFit as skip:
        return {**row, "note": f"skipped: {skip}"}, None
    finally:
        tracemalloc.stop()
    points = record.scored_trace(X, y, args.C) if trace else None
    times, cpu_times = [], []
    while len(times) < max(args.repeats, 1) and (not times or sum(times) < args.time_budget):
        record, seconds = _fit(module, solver, problem, dtype, tol, max_iter, args.C)
        times.append(seconds)
        cpu_times.append(record.cpu_seconds)
    repeats = len(times)
    estimator = record.estimator
    proba = estimator.predict_proba(X_test)
    row.update(
        fit_time_median_s=float(np.median(times)), fit_time_min_s=min(times),
        fit_time_max_s=max(times), fit_cpu_median_s=float(np.median(cpu_times)),
        repeats=repeats, iterations=record.iterations,
        evaluations=record.evaluations, hessian_products=record.hessian_products,
        passes=record.passes, converged=record.converged,
        objective=estimator_objective(estimator, X, y, C=args.C),
        test_accuracy=accuracy_score(y_test, estimator.predict(X_test)),
        test_log_loss=log_loss(y_test, proba, labels=np.arange(problem.n_classes)),
        coef_dtype=str(np.asarray(estimator.coef_).dtype), note=record.note,
    )
    return row, points


def run_problems(args, rows, traces, on_progress):
    names = _split(args.problems)
    dtypes = _split(args.dtypes)
    solvers = selected_solvers(args)
    for problem in problems(quick=args.quick):
        if names is not None and problem.name not in names:
            continue
        for dtype in problem.dtypes:
            if dtypes is not None and dtype not in dtypes:
                continue
            X, y, _, _ = problem.data(dtype)
            floor, floor_cpu = measure_floor(X, problem.n_classes, dtype)
            print(f"== {problem.name} {dtype} {X.shape} floor {floor * 1e3:.2f} ms", flush=True)
            first = len(rows)
            for tol_name, tol in args.tols:
                for module, solver in solvers:
                    start = time.perf_counter()
                    try:
                        row, points = measure(module, solver, problem, dtype, tol_name, tol, args)
                    except Exception as error:  # keep a long run going; say what failed
                        traceback.print_exc()
                        row, points = dict(library=module.LIBRARY, solver=solver,
                                           problem=problem.name, dtype=dtype, tol_setting=tol_name,
                                           tol=tol, note=f"error: {error!r}"), None
                    rows.append(row)
                    if points:
                        traces.append(dict(library=row["library"], solver=solver,
                                           problem=problem.name, dtype=dtype, tol=tol,
                                           points=points))
                    print(f"  {tol_name:7s} {module.LIBRARY:28s} {solver:16s} "
                          f"{row.get('fit_time_median_s', float('nan')):8.3f} s  "
                          f"it={row.get('iterations')} passes={row.get('passes')} "
                          f"obj={row.get('objective', float('nan')):.10g} {row.get('note', '')}"
                          f"  [{time.perf_counter() - start:.0f} s]", flush=True)
            # Again after the fits: the lower of the two medians, so that a
            # burst of other work on the machine does not inflate the floor.
            again = measure_floor(X, problem.n_classes, dtype)
            floor, floor_cpu = min(floor, again[0]), min(floor_cpu, again[1])
            print(f"   floor {floor * 1e3:.2f} ms (CPU {floor_cpu * 1e3:.2f} ms)", flush=True)
            for row in rows[first:]:
                row["floor_s"], row["floor_cpu_s"] = floor, floor_cpu
            on_progress()
        problem.release()


def run_scaling(args, scaling_rows, on_progress):
    """Fit time against n on the medium problem's model, float64, default tol."""
    sizes = [500, 1_000, 2_000] if args.quick else [10**3, 10**4, 10**5, 10**6]
    tol = TOLS["default"]
    stopped = set()
    for n in sizes:
        problem = Problem(f"medium-n{n}", f"medium model, n={n}", lambda n=n: make_medium(n))
        X, _, _, _ = problem.data("float64")
        floor, _ = measure_floor(X, problem.n_classes, "float64")
        print(f"== scaling n={n:,} floor {floor * 1e3:.2f} ms", flush=True)
        for module, solver in selected_solvers(args):
            key = (module.LIBRARY, solver)
            row = dict(library=module.LIBRARY, solver=solver, n_samples=n, floor_s=floor)
            if key in stopped:
                scaling_rows.append({**row, "note": "skipped: over --scaling-budget"})
                continue
            max_iter = _max_iter(module, solver, args)
            try:
                if n == sizes[0]:
                    _fit(module, solver, problem, "float64", tol, max_iter, args.C)
                repeats = args.repeats if n <= 10_000 else 1
                results = [_fit(module, solver, problem, "float64", tol, max_iter, args.C)
                           for _ in range(repeats)]
            except SkipFit as skip:
                scaling_rows.append({**row, "note": f"skipped: {skip}"})
                continue
            seconds = float(np.median([s for _, s in results]))
            record = results[-1][0]
            cpu = float(np.median([r.cpu_seconds for r, _ in results]))
            scaling_rows.append({**row, "fit_time_s": seconds, "fit_cpu_s": cpu, "repeats": repeats,
                                 "iterations": record.iterations, "passes": record.passes})
            print(f"  {module.LIBRARY:28s} {solver:16s} {seconds:8.3f} s "
                  f"it={record.iterations} passes={record.passes}", flush=True)
            if seconds * 10 > args.scaling_budget:
                stopped.add(key)
        on_progress()
        problem.release()


THREAD_STUDY = {"medium": ("float64", "float32"), "tall": ("float64", "float32"),
                "digits": ("float64",)}


def _pass_seconds(problem, dtype, threads, repeats=9):
    """Median seconds of one ``loss_gradient`` pass on ``threads`` threads."""
    from softmax_regression._model.loss import LinearSoftmaxLoss

    X, y, _, _ = problem.data(dtype)
    loss = LinearSoftmaxLoss(problem.n_classes, True)
    Y = loss.one_hot(y, X.dtype)
    w = np.full(X.shape[0], 1.0 / X.shape[0], dtype=X.dtype)
    coef = np.random.default_rng(0).standard_normal(loss.coef_shape(X.shape[1])).astype(X.dtype)
    coef *= 0.1
    times = []
    with threadpool_limits(limits=threads):
        for _ in range(repeats + 1):
            start = time.perf_counter()
            loss.loss_gradient(coef, X, Y, w)
            times.append(time.perf_counter() - start)
    return float(np.median(times[1:]))


def run_thread_study(args, thread_rows, on_progress):
    """Pass time on 1 and 2 threads; default fits (no thread limit) of both libraries.

    Runs outside the run's thread limit: "default" means what the libraries
    do when the user sets nothing.
    """
    libraries = [bench_softmax_regression, bench_sklearn_logistic]
    for problem in problems(quick=args.quick):
        if problem.name not in THREAD_STUDY:
            continue
        for dtype in THREAD_STUDY[problem.name]:
            one, two = _pass_seconds(problem, dtype, 1), _pass_seconds(problem, dtype, 2)
            row = dict(problem=problem.name, dtype=dtype, pass_1_thread_s=one,
                       pass_2_threads_s=two, pass_speedup=one / two)
            for module in libraries:
                results = [_fit(module, "lbfgs", problem, dtype, TOLS["default"],
                                args.max_iter, args.C) for _ in range(max(args.repeats, 1) + 1)]
                seconds = float(np.median([s for _, s in results[1:]]))
                key = "sc" if module is bench_softmax_regression else "lr"
                row[f"{key}_default_threads_fit_s"] = seconds
            row["sc_over_lr_default_threads"] = (row["sc_default_threads_fit_s"]
                                                 / row["lr_default_threads_fit_s"])
            thread_rows.append(row)
            print(f"== threads {problem.name} {dtype}: pass 1 thread {one * 1e3:.2f} ms, "
                  f"2 threads {two * 1e3:.2f} ms ({one / two:.2f}x); default-thread fit "
                  f"SC {row['sc_default_threads_fit_s']:.3f} s, "
                  f"LR {row['lr_default_threads_fit_s']:.3f} s", flush=True)
            on_progress()
        problem.release()


def run_cv(args):
    """The SoftmaxClassifierCV study of cv_speed.py, written beside the results."""
    import cv_speed

    rows, blas = cv_speed.run(quick=args.quick)
    command = "python benchmarks/run.py" + (" --quick" if args.quick else "") + " (cv_speed.run)"
    (args.output / "cv_speed.md").write_text(cv_speed.report(rows, blas, command))


def run_default_path(args, commit):
    """The default-path study of default_path.py, written beside the results."""
    import default_path

    with threadpool_limits(limits=1):
        budget = (default_path.REPEATS, default_path.TIME_BUDGET)
        rows = default_path.run(args.quick, *budget, None)
        l1_row = None if args.quick else default_path.l1_case(*budget)
    default_path.write(rows, args.quick, l1_row, args.output, commit)


def main(argv=None):
    args = parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows, traces, scaling_rows, thread_rows = [], [], [], []
    with threadpool_limits(limits=args.threads):
        env = report.environment(args)
        env["complete"] = False  # until the last save: a stopped run says it is partial

        def save():
            env["wall_time_s"] = round(time.perf_counter() - started, 1)
            report.write_all(args.output, rows, traces, scaling_rows, env, thread_rows)

        run_problems(args, rows, traces, save)
        if args.scaling == "on":
            run_scaling(args, scaling_rows, save)
    if args.threads_study == "on":
        run_thread_study(args, thread_rows, save)
    if args.cv == "on" or (args.cv is None and not args.quick):
        run_cv(args)
    if args.default_path == "on" or (args.default_path is None and not args.quick):
        # The commit read when the run started: its own results are edits by now.
        run_default_path(args, env["softmax_regression_git"])
    env["complete"] = True
    save()
    if not args.no_plots:
        import plots

        plots.plot_all(args.output)
    print(f"wrote {args.output} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
