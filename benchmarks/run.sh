#!/usr/bin/env bash
# Run every benchmark script with the project's virtualenv.
#
#   benchmarks/run.sh            each script at its own default size
#   benchmarks/run.sh SUBJECTS   every script with --subjects SUBJECTS
#
# Each benchmarks/*_bench.py takes --subjects N and prints its figures beside a baseline
# measured in the same run; the figures are kept in benchmarks/RESULTS.md. The soak
# (soak_bench.py, ten minutes) runs only with BENCH_SOAK=1.
set -euo pipefail
cd "$(dirname "$0")/.."
size=()
if [[ $# -gt 0 ]]; then
    size=(--subjects "$1")
fi
for script in benchmarks/*_bench.py; do
    # The soak holds the server at load for ten minutes: only when asked for.
    if [[ "${script}" == */soak_bench.py && -z "${BENCH_SOAK:-}" ]]; then
        echo "== ${script}: skipped (ten minutes; BENCH_SOAK=1 benchmarks/run.sh runs it)"
        continue
    fi
    echo "== ${script} ${size[*]:-}"
    .venv/bin/python "${script}" "${size[@]}"
done
