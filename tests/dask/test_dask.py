"""Fit and predict on dask collections across a dask.distributed cluster.

One LocalCluster (two worker processes, one thread each) serves the module.
The dask fit must reach the in-memory optimum, never gather X into the
client, and raise the in-memory errors on bad input.
"""

import re
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, NotFittedError

da = pytest.importorskip("dask.array", reason="dask[array] is not installed (extra 'dask')")
distributed = pytest.importorskip("distributed", reason="distributed is not installed "
                                  "(extra 'dask')")
import dask  # noqa: E402

from softmax_regression import SoftmaxClassifier  # noqa: E402

from _data import blobs  # noqa: E402

N_CHUNKS = 8


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def chunked(array, n_chunks=N_CHUNKS):
    rows = -(-array.shape[0] // n_chunks)
    chunks = (rows,) + array.shape[1:]
    return da.from_array(array, chunks=chunks, asarray=not sp.issparse(array))


def problem(n_classes, seed=0):
    X, y = blobs(n_samples=800, n_features=6, n_classes=n_classes, seed=seed, spread=2.0)
    weights = np.random.default_rng(seed).uniform(0.2, 3.0, size=y.shape[0])
    return X, y, weights


def relative_difference(a, b):
    scale = max(np.abs(a.coef_).max(), np.abs(a.intercept_).max())
    return max(np.abs(a.coef_ - b.coef_).max(), np.abs(a.intercept_ - b.intercept_).max()) / scale


# -- the optimum ------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
@pytest.mark.parametrize("kind", ["dense", "sparse"])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_fit_reaches_the_in_memory_optimum(client, solver, kind, n_classes):
    X, y, weights = problem(n_classes)
    if kind == "sparse":
        X = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    params = dict(solver=solver, C=0.5, tol=1e-10, max_iter=500)
    memory = SoftmaxClassifier(**params).fit(X, y, sample_weight=weights)
    Xd = chunked(X)
    assert Xd.numblocks[0] == N_CHUNKS
    distributed_fit = SoftmaxClassifier(**params).fit(Xd, chunked(y), sample_weight=chunked(weights))
    assert relative_difference(memory, distributed_fit) < 1e-6
    assert distributed_fit.coef_.shape == memory.coef_.shape
    np.testing.assert_array_equal(distributed_fit.classes_, memory.classes_)
    assert isinstance(distributed_fit.coef_, np.ndarray)


@pytest.mark.parametrize(
    "params",
    [
        {"class_weight": "balanced"},
        {"class_weight": {0: 3.0, 2: 0.5}},
        {"l1_ratio": 0.6, "C": 0.05},
        {"fit_intercept": False},
    ],
    ids=["balanced", "dict", "elastic-net", "no-intercept"],
)
def test_options_reach_the_in_memory_optimum(client, params):
    X, y, weights = problem(3)
    params = dict(params, tol=1e-10, max_iter=1000)
    memory = SoftmaxClassifier(**params).fit(X, y, sample_weight=weights)
    fitted = SoftmaxClassifier(**params).fit(chunked(X), chunked(y),
                                             sample_weight=chunked(weights))
    assert relative_difference(memory, fitted) < 1e-6
    if "l1_ratio" in params:
        np.testing.assert_array_equal(fitted.coef_ == 0, memory.coef_ == 0)
        assert np.any(fitted.coef_ == 0)


def test_float32_stays_float32(client):
    X, y, _ = problem(3)
    X = X.astype(np.float32)
    memory = SoftmaxClassifier(tol=1e-6).fit(X, y)
    fitted = SoftmaxClassifier(tol=1e-6).fit(chunked(X), chunked(y))
    assert fitted.coef_.dtype == np.float32
    assert fitted.predict_proba(chunked(X)).dtype == np.float32
    assert relative_difference(memory, fitted) < 1e-3


def test_string_labels_and_dataframe_feature_names(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y, _ = problem(3)
    labels = np.array(["ant", "bee", "cat"], dtype=object)[y]
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    Xd = dd.from_pandas(frame, npartitions=4)
    yd = dd.from_pandas(pd.Series(labels), npartitions=4)
    memory = SoftmaxClassifier(tol=1e-10).fit(frame, labels)
    fitted = SoftmaxClassifier(tol=1e-10).fit(Xd, yd)
    np.testing.assert_array_equal(fitted.feature_names_in_, memory.feature_names_in_)
    np.testing.assert_array_equal(fitted.classes_, ["ant", "bee", "cat"])
    assert relative_difference(memory, fitted) < 1e-6
    np.testing.assert_array_equal(fitted.predict(Xd).compute(), memory.predict(frame))
    renamed = dd.from_pandas(frame.rename(columns={"f0": "g0"}), npartitions=4)
    with pytest.raises(ValueError, match="The feature names should match those that were "
                                         "passed during fit"):
        fitted.predict_proba(renamed)


def test_warm_start_continues_from_the_previous_fit(client):
    X, y, _ = problem(3)
    model = SoftmaxClassifier(warm_start=True, tol=1e-8, max_iter=500)
    model.fit(chunked(X), chunked(y))
    first = model.n_iter_[0]
    model.fit(chunked(X), chunked(y))
    assert first > 3
    assert model.n_iter_[0] <= 1


def test_threaded_scheduler_without_a_client(client):
    X, y, weights = problem(3)
    # The same method on both sides (the default picks by where the data live).
    memory = SoftmaxClassifier(solver="lbfgs", tol=1e-10).fit(X, y, sample_weight=weights)
    before = len(client.get_task_stream())
    with dask.config.set(scheduler="threads"):
        fitted = SoftmaxClassifier(solver="lbfgs", tol=1e-10).fit(chunked(X), chunked(y),
                                                  sample_weight=chunked(weights))
        proba = fitted.predict_proba(chunked(X)).compute()
    assert relative_difference(memory, fitted) < 1e-6
    np.testing.assert_allclose(proba, memory.predict_proba(X), rtol=0, atol=1e-10)
    assert len(client.get_task_stream()) == before  # nothing ran on the cluster


def test_verbose_prints_each_iteration(client, capsys):
    X, y, _ = problem(3)
    SoftmaxClassifier(verbose=1, max_iter=3, tol=0).fit(chunked(X), chunked(y))
    out = capsys.readouterr().out
    assert "[lbfgs] iter    3" in out


# -- SGD -------------------------------------------------------------------------------
def test_sgd_accuracy_is_within_a_point_of_lbfgs(client):
    X, y, _ = problem(4, seed=1)
    reference = SoftmaxClassifier().fit(X, y).score(X, y)
    sgd = SoftmaxClassifier(solver="sgd", max_iter=10, random_state=0, tol=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sgd.fit(chunked(X), chunked(y))
    assert abs(sgd.score(chunked(X), chunked(y)) - reference) <= 0.01
    assert sgd.t_ == sgd.n_iter_[0] * X.shape[0]
    assert sgd.sgd_state_.random_state is not None


def test_sgd_is_reproducible(client):
    X, y, _ = problem(3)
    fits = []
    for _ in range(2):
        model = SoftmaxClassifier(solver="sgd", max_iter=3, random_state=7)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(chunked(X), chunked(y))
        fits.append(model.coef_)
    np.testing.assert_array_equal(fits[0], fits[1])


def test_sgd_early_stopping_is_refused(client):
    X, y, _ = problem(3)
    with pytest.raises(ValueError, match="early_stopping=True is not supported with "
                                         "solver='sgd' on dask input"):
        SoftmaxClassifier(solver="sgd", early_stopping=True).fit(chunked(X), chunked(y))


# -- the client's memory ----------------------------------------------------------------
def generated_on_workers(n_samples, n_features, n_classes, n_chunks, seed=0):
    """X and labels generated chunk by chunk on the workers (never in the client)."""
    state = da.random.RandomState(seed)
    rows = n_samples // n_chunks
    X = state.standard_normal((n_samples, n_features), chunks=(rows, n_features))
    directions = np.random.default_rng(seed).standard_normal((n_features, n_classes))
    y = X.map_blocks(lambda block: np.argmax(block @ directions, axis=1), drop_axis=1,
                     dtype=np.intp)
    return X, y


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "sgd"])
def test_client_memory_stays_below_a_quarter_of_X(client, solver):
    X, y = generated_on_workers(160_000, 40, 3, N_CHUNKS)  # 51 MB of X
    model = SoftmaxClassifier(solver=solver, max_iter=3 if solver == "sgd" else 6,
                              random_state=0)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 4, f"client peak {peak / 2**20:.1f} MiB"
    assert model.score(X, y) > 0.95


def test_an_evaluation_moves_coefficient_sized_messages(client):
    # What crosses the network per evaluation: the coefficients to each worker
    # and one gradient per chunk through the reduction tree, never a chunk.
    # (The scheduler may still copy a chunk once to balance load.)
    X, y = generated_on_workers(80_000, 25, 3, N_CHUNKS)  # 16 MB of X
    X, y = dask.persist(X, y)
    distributed.wait([X, y])
    client.run(lambda dask_worker: dask_worker.transfer_outgoing_log.clear())
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=10"):
        model = SoftmaxClassifier(max_iter=10, tol=0).fit(X, y)

    def per_evaluation_bytes(dask_worker):
        names = ("_block_loss_gradient", "add_up", "ndarray")
        return sum(size for entry in dask_worker.transfer_outgoing_log
                   for key, size in entry["keys"].items()
                   if (key[0] if isinstance(key, tuple) else key).startswith(names))

    moved = sum(client.run(per_evaluation_bytes).values())
    evaluations = model.n_iter_[0] + 3
    per_chunk = moved / (evaluations * N_CHUNKS)
    assert 0 < per_chunk < 4 * 8 * model.coef_.size + 2000, per_chunk


# -- predictions --------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["dense", "sparse"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_predictions_are_lazy_and_equal_to_in_memory(client, kind, n_classes):
    X, y, weights = problem(n_classes)
    if kind == "sparse":
        X = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    model = SoftmaxClassifier(solver="newton-cg").fit(X, y)
    Xd = chunked(X)
    for name in ["decision_function", "predict_proba", "predict_log_proba", "predict"]:
        lazy = getattr(model, name)(Xd)
        assert isinstance(lazy, da.Array), name
        assert lazy.numblocks[0] == N_CHUNKS
        expected = getattr(model, name)(X)
        assert lazy.shape == expected.shape and lazy.dtype == expected.dtype, name
        np.testing.assert_allclose(lazy.compute(), expected, rtol=0, atol=1e-10, err_msg=name)
    score = model.score(Xd, chunked(y), sample_weight=chunked(weights))
    assert type(score) is float
    assert score == pytest.approx(model.score(X, y, sample_weight=weights), abs=1e-12)


def test_prediction_checks_the_number_of_features(client):
    X, y, _ = problem(3)
    model = SoftmaxClassifier().fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but SoftmaxClassifier is "
                                         "expecting 6 features as input"):
        model.predict(chunked(X[:, :5]))
    with pytest.raises(NotFittedError, match="This SoftmaxClassifier instance is not fitted"):
        SoftmaxClassifier().predict_proba(chunked(X))


# -- bad input -------------------------------------------------------------------------
def with_nan_in_one_chunk(X):
    X = X.copy()
    X[-3, 2] = np.nan
    return X


@pytest.mark.parametrize(
    "make_input, error",
    [
        (lambda X, y: (with_nan_in_one_chunk(X), y), "Input X contains NaN"),
        (lambda X, y: (np.where(X > 3, np.inf, X), y), "Input X contains infinity"),
        (lambda X, y: (X, np.zeros_like(y)), "at least 2 classes in the data, but the data "
                                             "contains only one class: np.int64"),
        (lambda X, y: (X, y + 0.5), "Unknown label type: continuous"),
        (lambda X, y: (X, y[:-10]), r"inconsistent numbers of samples: \[800, 790\]"),
        (lambda X, y: (X[:, :0], y), r"Found array with 0 feature\(s\) \(shape=\(800, 0\)\)"),
    ],
    ids=["nan", "inf", "one-class", "continuous", "lengths", "no-features"],
)
def test_bad_input_raises_the_in_memory_error(client, make_input, error):
    X, y, _ = problem(3)
    X, y = make_input(X, y)
    with pytest.raises(ValueError, match=error) as in_memory:
        SoftmaxClassifier().fit(X, y)
    fitted = SoftmaxClassifier().fit(*problem(3)[:2])
    before = fitted.coef_.copy()
    with pytest.raises(ValueError, match=re.escape(str(in_memory.value))):
        fitted.fit(chunked(X), chunked(y))
    np.testing.assert_array_equal(fitted.coef_, before)  # a failed fit changes nothing


def test_soft_targets_are_refused_on_dask_input(client):
    # In memory a 2-D y is soft targets; on dask it is refused, naming y.
    X, y, _ = problem(3)
    fitted = SoftmaxClassifier().fit(X, y)
    before = fitted.coef_.copy()
    with pytest.raises(ValueError, match=r"y of shape \(800, 3\) \(soft targets"):
        fitted.fit(chunked(X), chunked(np.eye(3)[y]))
    np.testing.assert_array_equal(fitted.coef_, before)


@pytest.mark.parametrize(
    "weights, error",
    [
        (lambda w: -w, "Negative values in data passed to `sample_weight`"),
        (lambda w: np.where(w > 2.9, np.nan, w), "Input sample_weight contains NaN"),
        (lambda w: 0 * w, "Sample weights must contain at least one non-zero number"),
        (lambda w: np.where(np.arange(w.shape[0]) % 3 == 0, w, 0.0),
         "leave fewer than 2 classes with positive weight"),
    ],
    ids=["negative", "nan", "all-zero", "one-class-weighted"],
)
def test_bad_weights_raise_the_in_memory_error(client, weights, error):
    X, y, w = problem(3)
    w = weights(w)
    with pytest.raises(ValueError, match=error):
        SoftmaxClassifier().fit(X, y, sample_weight=w)
    with pytest.raises(ValueError, match=error):
        SoftmaxClassifier().fit(chunked(X), chunked(y), sample_weight=chunked(w))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "sgd"])
@pytest.mark.parametrize("weight, class_weight", [
    (1e-320, None), (1e-50, None), (1e308, None), (1e308, "balanced"), (1e308, {0: 1e10}),
], ids=["1e-320", "1e-50", "1e308", "1e308-balanced", "1e308-class-weight-1e10"])
def test_extreme_weights_fit_as_in_memory(client, weight, class_weight, solver, dtype):
    # Tiny weights: the penalty dominates, the prior model in closed form;
    # weights near the largest float: divided by the largest one first.
    X, y, w = problem(3)
    X, w = X.astype(dtype), w / w.max() * weight
    params = dict(solver=solver, class_weight=class_weight, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)  # sgd on the unpenalized problem
        memory = SoftmaxClassifier(**params).fit(X, y, sample_weight=w)
        fitted = SoftmaxClassifier(**params).fit(chunked(X), chunked(y), sample_weight=chunked(w))
    assert fitted.coef_.dtype == dtype
    if solver == "sgd" and weight > 1:
        # Epochs over chunks visit the rows in another order than in memory.
        assert abs(fitted.score(X, y) - memory.score(X, y)) <= 0.02
    else:
        assert relative_difference(memory, fitted) < (1e-3 if dtype == np.float32 else 1e-6)


def test_y_chunked_differently_is_aligned_to_X(client):
    X, y, _ = problem(3)
    memory = SoftmaxClassifier(tol=1e-10).fit(X, y)
    fitted = SoftmaxClassifier(tol=1e-10).fit(chunked(X), chunked(y, n_chunks=3))
    assert relative_difference(memory, fitted) < 1e-6


def test_not_converging_warns_as_in_memory(client):
    X, y, _ = problem(3)
    message = r"SoftmaxClassifier\(solver='auto'\) did not converge in max_iter=2 iterations"
    with pytest.warns(ConvergenceWarning, match=message):
        SoftmaxClassifier(max_iter=2, tol=1e-12).fit(X, y)
    with pytest.warns(ConvergenceWarning, match=message):
        SoftmaxClassifier(max_iter=2, tol=1e-12).fit(chunked(X), chunked(y))


def test_importing_the_package_does_not_import_dask():
    code = ("import sys, numpy as np, softmax_regression as s; "
            "s.SoftmaxClassifier().fit(np.eye(4), [0, 1, 0, 1]); "
            "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- beyond the workers' memory ------------------------------------------------------------
@pytest.mark.slow
def test_fit_of_four_times_a_workers_memory_limit_completes():
    # Worker processes start at ~200 MB (Python, numpy, scipy, scikit-learn),
    # so the memory_limit here bounds the data each worker holds in memory
    # (the rest spills to its disk), not the process: the process-level
    # pause, spill and terminate thresholds are off.
    limit = 100_000_000
    config = {"distributed.worker.memory.target": 0.5,
              "distributed.worker.memory.spill": False,
              "distributed.worker.memory.pause": False,
              "distributed.worker.memory.terminate": False}
    with dask.config.set(config), distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
        memory_limit=limit,
    ) as cluster, distributed.Client(cluster) as client:
        X, y = generated_on_workers(2_000_000, 25, 3, 40)
        assert X.nbytes >= 4 * limit
        model = SoftmaxClassifier(max_iter=15, tol=1e-4)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        print(f"fit of {X.nbytes / 1e6:.0f} MB: {time.perf_counter() - start:.1f} s")
        read_back = client.run(
            lambda dask_worker: dask_worker.data.cumulative_metrics[("disk-read", "bytes")])
        # The chunks did not fit in the workers' memory: each pass read them from disk.
        assert sum(read_back.values()) > X.nbytes
        assert model.score(X, y) > 0.95
