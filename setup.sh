#!/usr/bin/env bash
# ccpnet set-up: installs missing Debian packages, builds, then runs.
#   ./setup.sh demo   install + build + run the default scenario
#   ./setup.sh test   install + build + run every test (ctest: C++ and Python)
#   ./setup.sh build  install + build only
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
  python3-dask python3-distributed
  chromium
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
  *) echo "usage: $0 [demo|test|build]" >&2; exit 2 ;;
esac
