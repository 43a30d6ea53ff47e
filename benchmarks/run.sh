#!/usr/bin/env bash
# Run every benchmark script with the project's virtualenv.
#
#   benchmarks/run.sh [SUBJECTS]     (default 1000000)
#
# Each benchmarks/*_bench.py takes --subjects N and prints its table with a baseline
# measured in the same run; keep the figures in benchmarks/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-1000000}"
for script in benchmarks/*_bench.py; do
    echo "== ${script} --subjects ${size}"
    .venv/bin/python "${script}" --subjects "${size}"
done
