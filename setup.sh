#!/usr/bin/env bash
# ccpnet set-up: installs missing Debian packages, builds, then runs.
#   ./setup.sh demo   install + build + run the default scenario
#   ./setup.sh test   install + build + run every test (ctest: C++ and Python)
#   ./setup.sh build  install + build only
#   ./setup.sh sanitize    install + build with clang 14, ASan and UBSan (build-sanitize), run the C++ tests
#   ./setup.sh fuzz [SECS] fuzz the scenario loader and model builder for SECS seconds (default 60) in the
#                          sanitize build; exit 1 on any crash, leak or sanitizer report (input kept in
#                          build-sanitize/fuzz-crashes: add it to tests/fuzz/regression)
# Idempotent: a second call installs nothing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost-graph-dev libeigen3-dev libtbb-dev libyaml-cpp-dev pybind11-dev
  libgtest-dev libgmock-dev libbenchmark-dev librandom123-dev libcli11-dev libfmt-dev
  nlohmann-json3-dev libssl-dev libopenmpi-dev openmpi-bin
  python3 python3-dev python3-numpy python3-pandas python3-scipy python3-matplotlib
  python3-pytest python3-nbclient python3-ipykernel python3-nbformat python3-yaml
  python3-dask python3-distributed python3-networkx
  python3-venv python3-pip python3-setuptools python3-wheel
  chromium graphviz
  clang-14 libclang-rt-14-dev
)

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "ccpnet setup: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

build() {
  local preset="${CCPNET_PRESET:-release}"
  if [ ! -f "build/CMakeCache.txt" ]; then
    cmake --preset "$preset"
  fi
  cmake --build build --parallel "$(nproc)"
}

# The sanitizer build: clang 14 with ASan + UBSan, the scenario loader and
# model builder also coverage-instrumented for libFuzzer, so that one build runs
# the C++ tests and the fuzz target.
build_sanitize() {
  if [ ! -f "build-sanitize/CMakeCache.txt" ]; then
    cmake --preset sanitize
  fi
  cmake --build build-sanitize --parallel "$(nproc)" --target ccpnet models_tests sim_tests fuzz_regression fuzz_scenario
}

fuzz() {
  local seconds="${1:-60}" dir=build-sanitize
  local corpus="$dir/fuzz-corpus" crashes="$dir/fuzz-crashes"
  mkdir -p "$corpus" "$crashes"
  # Seeds: the scenario library, the malformed inputs and every input that ever crashed.
  "$dir/bin/fuzz_scenario" -merge=1 "$corpus" scenarios tests/data/bad tests/fuzz/seeds tests/fuzz/regression >/dev/null 2>&1
  "$dir/bin/fuzz_scenario" "$corpus" -dict=tests/fuzz/scenario.dict -max_total_time="$seconds" \
    -max_len=65536 -timeout=30 -rss_limit_mb=2048 -artifact_prefix="$crashes/" -print_final_stats=1
}

cmd="${1:-demo}"
case "$cmd" in
  demo)
    install_missing; build
    ./build/bin/ccpnet run scenarios/two_ccp_peer.yaml --out build/demo-output --quiet
    ;;
  test)
    install_missing; build
    ctest --test-dir build --output-on-failure --timeout 600 -j "$(nproc)"
    ;;
  build)
    install_missing; build
    ;;
  sanitize)
    install_missing; build_sanitize
    # The MPI and browser process tests are left out: they time whole runs of
    # other programs (mpirun, Chromium) that ASan does not check.
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir build-sanitize --output-on-failure --timeout 900 -j "$(nproc)" -E '^process\.(mpi|report_browser)'
    ;;
  fuzz)
    install_missing; build_sanitize; fuzz "${2:-60}"
    ;;
  *) echo "usage: $0 [demo|test|build|sanitize|fuzz [SECONDS]]" >&2; exit 2 ;;
esac
