#!/usr/bin/env bash
# Install each supported scikit-learn minor release in a fresh venv and run the
# core subset of the suite against it: check_estimator for every solver, the
# agreement with LogisticRegression, bad input and edge cases, callbacks (absent
# before 1.9), the solver and loss tests, failure atomicity, SoftmaxClassifierCV.
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
    line=$(grep -E '^[0-9]+ (passed|failed)|(passed|failed).* in [0-9.]+s' "$log" | tail -n 1)
    summary+=("scikit-learn $v: ${line:-no summary (see $log)} (exit $rc)")
    [ $rc -eq 0 ] || status=1
done
printf '%s\n' "${summary[@]}"
exit $status
