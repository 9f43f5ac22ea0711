#!/usr/bin/env bash
# Whole-run benchmarks (tests/bench/run_benchmarks.py): the reference network
# calm, stressed and extreme, one period and ten daily steps, 1 and 2 threads;
# the kernel's GFLOP/s; the growth table; 2 MPI ranks.
#   tests/bench/run_benchmarks.sh [--baseline EXE] [--quick] [--repeat R] ...
set -euo pipefail
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 tests/bench/run_benchmarks.py "$@"
