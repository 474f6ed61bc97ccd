#!/usr/bin/env bash
# Checks of the harness as a whole, run by ctest as root:
#   mutated <socklab> <scenario> <variant> <from> <to>
#       an expectation edited from <from> to <to> must turn the run red, saying expected and observed
#   tshark <captures> <scenario> <variant>
#       tshark's count of SYN, SYN-ACK and RST segments in the newest run's pcap equals the report's
#   killed <socklab> <scenario> <variant>
#       a run killed with SIGKILL in the middle leaves nothing once the next run has swept
set -euo pipefail
what=$1
shift

fail() { echo "FAIL: $*" >&2; exit 1; }

case "$what" in
mutated)
  socklab=$1 scenario=$2 variant=$3 from=$4 to=$5
  src=$(dirname "$0")/../scenarios/$scenario
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/scenarios/$scenario"
  grep -qF -- "$from" "$src/scenario.json" || fail "$from is not in $src/scenario.json"
  sed "s/$from/$to/" "$src/scenario.json" > "$tmp/scenarios/$scenario/scenario.json"
  set +e
  "$socklab" --scenarios "$tmp/scenarios" run "$scenario" --variant "$variant" --color never \
    --captures "$tmp/captures" > "$tmp/out" 2>&1
  status=$?
  set -e
  cat "$tmp/out"
  [ "$status" -eq 1 ] || fail "the mutated expectation ($from -> $to) exited $status, not 1"
  grep -q "FAIL" "$tmp/out" && grep -q "expected:" "$tmp/out" && grep -q "observed:" "$tmp/out" \
    || fail "the failure does not show expected and observed"
  echo "the mutated expectation ($from -> $to) turned the run red, as it must"
  ;;
tshark)
  captures=$1 scenario=$2 variant=$3
  run=$(ls -td "$captures/$scenario/$variant"-* 2>/dev/null | head -1)
  [ -n "$run" ] || fail "no run of $scenario/$variant under $captures"
  count() { tshark -r "$run/capture.pcap" -Y "$1" 2>/dev/null | wc -l; }
  report() { python3 -c "import json,sys; r=json.load(open('$run/report.json')); print(sum(1 for p in r['packets'] if p['flags']==sys.argv[1]))" "$1"; }
  for pair in "S:tcp.flags.syn==1 && tcp.flags.ack==0" "S.:tcp.flags.syn==1 && tcp.flags.ack==1" \
              "R:tcp.flags.reset==1 && tcp.flags.ack==0" "R.:tcp.flags.reset==1 && tcp.flags.ack==1"; do
    flags=${pair%%:*} filter=${pair#*:}
    t=$(count "$filter") r=$(report "$flags")
    echo "$flags: tshark $t, report $r"
    [ "$t" -eq "$r" ] || fail "tshark counts $t $flags segments in $run/capture.pcap, the report $r"
  done
  ;;
killed)
  socklab=$1 scenario=$2 variant=$3
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$socklab" run "$scenario" --variant "$variant" --color never --captures "$tmp" > "$tmp/out" 2>&1 &
  pid=$!
  # Wait until the run is in the middle: both programs started.
  for _ in $(seq 1 200); do
    grep -q "start client" "$tmp/out" && break
    sleep 0.05
  done
  grep -q "start client" "$tmp/out" || fail "the run never started its client"
  programs=$(ip netns pids "socklab-$pid-server" 2>/dev/null; ip netns pids "socklab-$pid-client" 2>/dev/null)
  [ -n "$programs" ] || fail "no programs found in the run's namespaces"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  # The programs die with the harness (PR_SET_PDEATHSIG); give the kernel a moment to reap them.
  for p in $programs; do
    for _ in $(seq 1 100); do [ -e "/proc/$p" ] || break; sleep 0.02; done
    [ -e "/proc/$p" ] && fail "program $p outlived its harness"
  done
  ip netns list | grep -q "socklab-$pid-" || fail "the killed run left no namespaces: nothing was tested"
  "$socklab" sweep
  ip netns list | grep "socklab-$pid-" && fail "namespaces of the killed run are still there"
  ls /sys/kernel/tracing/instances | grep "socklab-$pid-" && fail "tracefs instance of the killed run is still there"
  echo "the killed run $pid left nothing behind after the sweep"
  ;;
*)
  fail "unknown check $what"
  ;;
esac
