#!/usr/bin/env bash
# Whole-run benchmark: `ccpnet run` on the reference network end to end
# (including writing every output), 1 and 2 threads, and 2 MPI ranks x 1 thread.
#   tests/bench/run_benchmarks.sh [SCENARIOS]   (default 1,000,000)
set -euo pipefail
cd "$(dirname "$0")/../.."
exe=build/bin/ccpnet
n=${1:-1000000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rate() { grep -o '"scenarios_per_second": [0-9.e+]*' "$1/run.json" | awk '{printf "%.0f", $2}'; }
for cal in calm stressed extreme; do
  case $cal in
    calm) set_args=() ;;
    stressed) set_args=(--set market.shocks.volatility_multiplier=3 --set defaults.latent.pd=0.001) ;;
    extreme) set_args=(--set market.shocks.volatility_multiplier=6 --set defaults.latent.pd=0.02) ;;
  esac
  for t in 1 2; do
    /usr/bin/time -f "%e s wall, %M KiB max RSS" -o "$out/time" \
      "$exe" run scenarios/reference_network.yaml -n "$n" --threads "$t" --quiet "${set_args[@]}" --out "$out/r" > /dev/null
    echo "$cal threads=$t: $(rate "$out/r") scenarios/s ($(cat "$out/time")); P(default)=$(grep -o '"p_any_member_default": [0-9.e-]*' "$out/r/summary.json" | awk '{print $2}') P(CCP fail)=$(grep -o '"p_any_ccp_fail": [0-9.e-]*' "$out/r/summary.json" | awk '{print $2}')"
  done
done
if command -v mpirun > /dev/null; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  start=$(date +%s.%N)
  mpirun -np 2 "$exe" run scenarios/reference_network.yaml -n "$n" --threads 1 --quiet --out "$out/m" > /dev/null
  end=$(date +%s.%N)
  echo "calm 2 MPI ranks x 1 thread: $(echo "$n / ($end - $start)" | bc -l | xargs printf '%.0f') scenarios/s (wall, including start-up)"
fi
