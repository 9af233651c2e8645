#!/usr/bin/env bash
# Run every benchmark in bench/ (each bench/*_bench.py is a plain script with its own report); used by `make bench`.
# Extra arguments are passed to each script, e.g. `bench/run_all.sh --seconds 15`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
status=0
# ledger_bench.py writes bench/RESULTS.md afresh; the others put their own section back into it, so it runs first.
for script in bench/ledger_bench.py $(ls bench/*_bench.py | grep -v '^bench/ledger_bench.py$'); do
  echo "== $script"
  BENCH_COMMAND="${BENCH_COMMAND:-$PY $script $*}" "$PY" "$script" "$@" || status=$?
done
exit $status
