#!/usr/bin/env bash
# Tests that need whole processes: MPI ranks and Ctrl-C.
#   process_tests.sh mpi CCPNET_EXE SOURCE_DIR
#   process_tests.sh mpi_defaults CCPNET_EXE SOURCE_DIR
#   process_tests.sh interrupt CCPNET_EXE SOURCE_DIR
#   process_tests.sh sweep_resume CCPNET_EXE SOURCE_DIR
#   process_tests.sh mpi_interrupt CCPNET_EXE SOURCE_DIR
#   process_tests.sh huge_pages CCPNET_EXE SOURCE_DIR
set -euo pipefail
what=$1 exe=$2 src=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

case "$what" in
  mpi)
    # 2 ranks write exactly the output of 1 process (SPEC 4).
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
    args=(run "$src/scenarios/two_ccp_peer.yaml" -n 20000 --threads 1 --quiet
          --set 'defaults.latent={pd: 0.05, beta: 0.6}')
    "$exe" "${args[@]}" --out "$work/one" > /dev/null
    mpirun -np 2 "$exe" "${args[@]}" --out "$work/two" > "$work/two.log"
    grep -q "2 MPI ranks" "$work/two.log" || { echo "mpirun did not run 2 ranks"; cat "$work/two.log"; exit 1; }
    for f in summary.json scenarios.csv ccps.csv members.csv scenario.resolved.yaml manifest.json; do
      cmp "$work/one/$f" "$work/two/$f" || { echo "FAIL: $f differs between 1 process and 2 MPI ranks"; exit 1; }
    done
    echo "1 passed, 0 failed"
    ;;
  mpi_defaults)
    # defaults.csv under 2 ranks: each rank streams its scenarios' default rows
    # into a part file, the root appends the parts in rank order: the same
    # bytes as one process, in scenario order, and no part file left (SPEC 4).
    # The reference network (300 members) stressed over ten daily steps:
    # members default on every day of the paths, CCPs fail in a few; 6,000
    # scenarios: rank 0 runs the first chunk of 4,096, rank 1 the rest.
    command -v mpirun > /dev/null || { echo "no mpirun: skipped"; exit 77; }
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
    args=(run "$src/scenarios/reference_network.yaml" -n 6000 --threads 1 --quiet --set generator.members=300
          --set market.shocks.volatility_multiplier=3 --set defaults.latent.pd=0.001
          --set simulation.horizon_days=10 --set simulation.step_days=1)
    "$exe" "${args[@]}" --out "$work/one" > /dev/null
    mpirun -np 2 "$exe" "${args[@]}" --out "$work/two" > "$work/two.log"
    grep -q "2 MPI ranks" "$work/two.log" || { echo "mpirun did not run 2 ranks"; cat "$work/two.log"; exit 1; }
    # Rows from both ranks' ranges, and CCP failures among them.
    first=$(sed -n 2p "$work/one/defaults.csv" | cut -d, -f1)
    last=$(tail -n 1 "$work/one/defaults.csv" | cut -d, -f1)
    [ "$first" -lt 4096 ] && [ "$last" -ge 4096 ] || { echo "FAIL: default rows from scenario $first to $last"; exit 1; }
    grep -q ',ccp,' "$work/one/defaults.csv" || { echo "FAIL: no CCP failure in defaults.csv"; exit 1; }
    for f in "$work"/one/*; do
      name=${f##*/}
      [ "$name" = run.json ] && continue  # wall time, threads and ranks
      cmp "$f" "$work/two/$name" || { echo "FAIL: $name differs between 1 process and 2 MPI ranks"; exit 1; }
    done
    diff <(ls -A "$work/one") <(ls -A "$work/two") || { echo "FAIL: not the same files"; exit 1; }
    if ls -A "$work" | grep -q 'ccpnet-'; then echo "FAIL: left behind: $(ls -A "$work")"; exit 1; fi
    echo "1 passed, 0 failed"
    ;;
  interrupt)
    # Ctrl-C stops a long run with a valid partial output that says so.
    "$exe" run "$src/scenarios/reference_network.yaml" -n 100000000 --quiet --out "$work/out" > "$work/log" 2>&1 &
    pid=$!
    # Once scenarios are being written (building the model takes seconds under
    # the sanitizers; a Ctrl-C before the run writes nothing, by design).
    for _ in $(seq 1 600); do
      [ "$(stat -c %s "$work"/.out.ccpnet-staging.*/scenarios.csv 2>/dev/null | head -1 || echo 0)" -gt 100000 ] \
        2>/dev/null && break
      sleep 0.1
    done
    kill -INT "$pid"
    set +e
    wait "$pid"
    code=$?
    set -e
    [ "$code" = 130 ] || { echo "FAIL: exit code $code, expected 130"; cat "$work/log"; exit 1; }
    grep -q '"partial": true' "$work/out/summary.json" || { echo "FAIL: summary.json is not marked partial"; exit 1; }
    n=$(grep -o '"scenarios": [0-9]*' "$work/out/summary.json" | head -1 | grep -o '[0-9]*$')
    rows=$(($(wc -l < "$work/out/scenarios.csv") - 1))
    [ "$n" -gt 0 ] && [ "$n" -lt 100000000 ] || { echo "FAIL: $n scenarios completed"; exit 1; }
    [ "$rows" = "$n" ] || { echo "FAIL: $rows rows for $n scenarios"; exit 1; }
    grep -q INTERRUPTED "$work/log" || { echo "FAIL: the summary does not say it was interrupted"; exit 1; }
    echo "1 passed, 0 failed"
    ;;
  mpi_interrupt)
    # Ctrl-C to mpirun: the ranks get SIGTERM and write a valid partial output.
    # A second Ctrl-C makes mpirun kill them: their staging directory stays, and
    # the next run into the same place removes it.
    # Open MPI's mpirun sends the ranks SIGTERM odls_base_sigkill_timeout
    # seconds after a Ctrl-C and SIGKILL as long again after (1 s by default):
    # on a loaded machine that can come before they have written, so after one
    # press they get 10 seconds here (README).
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
    staging_rows() { stat -c %s "$work"/.out.ccpnet-staging.*/scenarios.csv 2>/dev/null | head -1; }
    for presses in 1 2; do
      grace=$([ "$presses" = 1 ] && echo 10 || echo 1)
      OMPI_MCA_odls_base_sigkill_timeout=$grace mpirun -np 2 "$exe" run "$src/scenarios/reference_network.yaml" -n 100000000 --threads 1 --quiet \
        --out "$work/out" > "$work/log" 2>&1 &
      pid=$!
      for _ in $(seq 1 600); do [ "$(staging_rows || echo 0)" -gt 100000 ] 2>/dev/null && break; sleep 0.1; done
      kill -INT "$pid"
      if [ "$presses" = 2 ]; then sleep 0.05; kill -INT "$pid"; fi
      wait "$pid" || true
      if [ "$presses" = 1 ]; then
        grep -q '"partial": true' "$work/out/summary.json" || { echo "FAIL: no partial output"; cat "$work/log"; exit 1; }
        n=$(grep -o '"scenarios": [0-9]*' "$work/out/summary.json" | head -1 | grep -o '[0-9]*$')
        rows=$(($(wc -l < "$work/out/scenarios.csv") - 1))
        [ "$rows" = "$n" ] || { echo "FAIL: $rows rows for $n scenarios"; exit 1; }
        if ls -A "$work" | grep -q 'ccpnet-'; then echo "FAIL: left behind: $(ls -A "$work")"; exit 1; fi
      fi
      # mpirun may return before its killed ranks are gone.
      for dir in "$work"/.out.ccpnet-staging.*; do
        [ -e "$dir" ] || continue
        for _ in $(seq 1 100); do kill -0 "${dir##*.}" 2> /dev/null || break; sleep 0.1; done
      done
      "$exe" run "$src/scenarios/two_ccp_peer.yaml" -n 100 --quiet --out "$work/out" > /dev/null
      if ls -A "$work" | grep -q 'ccpnet-'; then
        echo "FAIL: after $presses Ctrl-C and another run, left behind: $(ls -A "$work")"; exit 1
      fi
    done
    echo "2 passed, 0 failed"
    ;;
  huge_pages)
    # With glibc 2.35 or later and THP on request, ccpnet runs itself again
    # once with glibc.malloc.hugetlb=1 added to its tunables (sim/main.cpp),
    # unless they name it already: its heap is then marked for huge pages (madvise,
    # VmFlags hg), and not with glibc.malloc.hugetlb=0. Read off the running
    # process: its first environment (CCPNET_HUGE_PAGES, the second run's
    # mark), its name and its memory map.
    version=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc 2\.\([0-9]*\).*/\1/p')
    [ "${version:-0}" -ge 35 ] && [ -r /proc/self/environ ] && [ -r /proc/self/smaps ] ||
      { echo "not glibc 2.35 or later on Linux: skipped"; exit 77; }
    watch_run() {  # ccpnet started with GLIBC_TUNABLES=$1: sets again (0/1) and marked (mappings with hg)
      GLIBC_TUNABLES=$1 "$exe" run "$src/scenarios/reference_network.yaml" -n 100000000 --quiet --out "$work/out" \
        > "$work/log" 2>&1 &
      local pid=$! name
      for _ in $(seq 1 600); do
        [ "$(stat -c %s "$work"/.out.ccpnet-staging.*/scenarios.csv 2>/dev/null | head -1 || echo 0)" -gt 10000 ] \
          2>/dev/null && break  # scenarios are being written
        sleep 0.1
      done
      again=$(tr '\0' '\n' < "/proc/$pid/environ" | grep -c '^CCPNET_HUGE_PAGES=1$' || true)
      marked=$(grep -c '^VmFlags:.* hg' "/proc/$pid/smaps" || true)
      name=$(cat "/proc/$pid/comm")
      kill -TERM "$pid"
      wait "$pid" || true
      [ "$name" = ccpnet ] || { echo "FAIL: the process is called '$name', not ccpnet"; exit 1; }
    }
    # The kernel gives huge pages on request (THP mode madvise; else there is
    # no second run), and the heap is glibc's (not a sanitizer's allocator):
    # the marks can be checked.
    thp=0 pages=0
    grep -q '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null && thp=1
    [ "$thp" = 1 ] && ! grep -qa '__asan_init\|__tsan_init\|__msan_init' "$exe" && pages=1
    watch_run glibc.malloc.perturb=0
    [ "$again" = "$thp" ] || { echo "FAIL: ccpnet ran itself again $again times where the kernel's THP is $thp"; exit 1; }
    [ "$pages" = 0 ] || [ "$marked" -gt 0 ] || { echo "FAIL: no mapping marked for huge pages"; exit 1; }
    watch_run glibc.malloc.hugetlb=0
    [ "$again" = 0 ] || { echo "FAIL: ccpnet ran itself again with glibc.malloc.hugetlb=0 given"; exit 1; }
    [ "$pages" = 0 ] || [ "$marked" = 0 ] || { echo "FAIL: $marked mappings marked with glibc.malloc.hugetlb=0"; exit 1; }
    echo "2 passed, 0 failed"
    ;;
  sweep_resume)
    # Ctrl-C stops a sweep with the grid points it finished written, and
    # --resume goes on to exactly what one uninterrupted sweep writes.
    args=(sweep "$src/scenarios/cover2_linked.yaml" -n 20000 --threads 1 --quiet
          --grid market.shocks.volatility_multiplier=1,1.5,2,2.5 --grid defaults.latent.pd=0.01,0.02,0.03,0.04,0.05)
    start=$(date +%s%N)
    "$exe" "${args[@]}" --out "$work/whole" > /dev/null
    half=$(( ($(date +%s%N) - start) / 2000000 ))  # milliseconds: Ctrl-C half-way through the same sweep
    "$exe" "${args[@]}" --out "$work/out" > "$work/log" 2>&1 &
    pid=$!
    sleep "$((half / 1000)).$(printf '%03d' $((half % 1000)))"
    kill -INT "$pid"
    set +e
    wait "$pid"
    code=$?
    set -e
    [ "$code" = 130 ] || { echo "FAIL: exit code $code, expected 130"; cat "$work/log"; exit 1; }
    grep -q '"partial": true' "$work/out/sweep.json" || { echo "FAIL: sweep.json is not marked partial"; exit 1; }
    [ -s "$work/out/sweep.resume.cbor" ] || { echo "FAIL: no resume state"; exit 1; }
    grep -q 'with --resume' "$work/log" || { echo "FAIL: the message does not say how to resume"; cat "$work/log"; exit 1; }
    "$exe" "${args[@]}" --out "$work/out" --resume > "$work/resumed.log"
    cmp "$work/whole/sweep.csv" "$work/out/sweep.csv" || { echo "FAIL: the resumed sweep.csv differs"; exit 1; }
    cmp "$work/whole/sweep.json" "$work/out/sweep.json" || { echo "FAIL: the resumed sweep.json differs"; exit 1; }
    [ ! -e "$work/out/sweep.resume.cbor" ] || { echo "FAIL: the resume state outlives the finished sweep"; exit 1; }
    # A finished sweep has nothing to resume: exit 2, its files as they were.
    set +e
    "$exe" "${args[@]}" --out "$work/out" --resume > /dev/null 2> "$work/again.log"
    code=$?
    set -e
    [ "$code" = 2 ] && grep -q 'no partial sweep' "$work/again.log" || { echo "FAIL: exit $code"; cat "$work/again.log"; exit 1; }
    cmp "$work/whole/sweep.csv" "$work/out/sweep.csv" || { echo "FAIL: a refused --resume changed sweep.csv"; exit 1; }
    echo "1 passed, 0 failed"
    ;;
  *) echo "unknown test $what"; exit 2 ;;
esac
