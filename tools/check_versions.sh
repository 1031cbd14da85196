#!/usr/bin/env bash
# Install each supported scikit-learn minor release in a fresh venv and run the
# core subset of the suite against it: check_estimator for every solver, the
# agreement with LogisticRegression, bad input and edge cases, callbacks (absent
# before 1.9), the solver and loss tests, failure atomicity, SoftmaxClassifierCV.
# Then the [onnx] extra and tests/deploy (ONNX export, skops) on the releases
# skl2onnx supports: where the extra does not install, or skl2onnx cannot
# convert that release's own LogisticRegression, the deploy tests are skipped
# and the summary says so.
#
#   bash tools/check_versions.sh             # 1.7.2 1.8.0 1.9.1
#   bash tools/check_versions.sh 1.8.0       # one release
#
# Venvs live in .venvs/ (ignored by git) and are reused between runs.
set -uo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(1.7.2 1.8.0 1.9.1)
tests=(tests/estimator/test_sklearn_checks.py tests/estimator/test_agreement.py tests/estimator/test_bad_input.py tests/estimator/test_edge_cases.py tests/estimator/test_callbacks.py
       tests/solvers/test_solvers.py tests/model/test_loss.py tests/estimator/test_atomicity.py tests/cv/test_cv.py)
summary=()
status=0

summary_line() {
    grep -E '^[0-9]+ (passed|failed)|(passed|failed).* in [0-9.]+s' "$1" | tail -n 1
}

# skl2onnx supports a release if its own LogisticRegression converter works there.
PROBE='
import numpy as np
import onnxruntime
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

X, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=1000).fit(X, y)
X32 = X.astype(np.float32)
onx = to_onnx(model, X32[:1], options={"zipmap": False})
session = onnxruntime.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
labels = session.run(None, {session.get_inputs()[0].name: X32})[0]
assert np.array_equal(labels, model.predict(X)), "the labels differ from predict"
'

# tests/deploy on release $1 in venv $2: appends to summary; a release that
# skl2onnx does not support is skipped (named), not failed.
deploy_tests() {
    local v=$1 venv=$2
    local log=".venvs/sklearn-$v-deploy.log"
    # scikit-learn stays pinned: installing the extra must not move it.
    if ! "$venv/bin/python" -m pip install --quiet "scikit-learn==$v" -e ".[onnx]" >"$log" 2>&1; then
        summary+=("scikit-learn $v: tests/deploy skipped: the [onnx] extra does not install (see $log)")
        return 0
    fi
    local skl2onnx
    skl2onnx=$("$venv/bin/python" -c "import skl2onnx; print(skl2onnx.__version__)" 2>>"$log")
    if ! "$venv/bin/python" -c "$PROBE" >>"$log" 2>&1; then
        summary+=("scikit-learn $v: tests/deploy skipped: skl2onnx ${skl2onnx:-?} does not convert this release's LogisticRegression (see $log)")
        return 0
    fi
    "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/deploy >>"$log" 2>&1
    local rc=$?
    local line
    line=$(summary_line "$log")
    summary+=("scikit-learn $v: tests/deploy with skl2onnx $skl2onnx: ${line:-no summary (see $log)} (exit $rc)")
    return $rc
}

for v in "${versions[@]}"; do
    venv=".venvs/sklearn-$v"
    if [ ! -x "$venv/bin/python" ]; then
        python -m venv "$venv" || exit 1
        "$venv/bin/python" -m pip install --quiet --upgrade pip
    fi
    "$venv/bin/python" -m pip install --quiet "scikit-learn==$v" pytest hypothesis pandas \
        array-api-strict numpydoc || exit 1
    "$venv/bin/python" -m pip install --quiet --no-deps -e . || exit 1
    log=".venvs/sklearn-$v.log"
    "$venv/bin/python" -m pytest -q -p no:cacheprovider "${tests[@]}" >"$log" 2>&1
    rc=$?
    line=$(summary_line "$log")
    summary+=("scikit-learn $v: ${line:-no summary (see $log)} (exit $rc)")
    [ $rc -eq 0 ] || status=1
    deploy_tests "$v" "$venv" || status=1
done
printf '%s\n' "${summary[@]}"
exit $status
