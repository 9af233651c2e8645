#!/usr/bin/env bash
# Run every benchmark in bench/ (each bench/*_bench.py is a plain script with its own report); used by `make bench`.
# Extra arguments are passed to each script, e.g. `bench/run_all.sh --seconds 15`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
status=0
for script in bench/*_bench.py; do
  echo "== $script"
  BENCH_COMMAND="${BENCH_COMMAND:-$PY $script $*}" "$PY" "$script" "$@" || status=$?
done
exit $status
