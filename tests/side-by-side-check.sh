#!/usr/bin/env bash
# socklab run side by side (--cases, --jobs), as a user or a CI would meet it:
#   cases     three cases from a file, with --out: each case's directory, .status, .stdout and
#             .stderr; KTAP and the per-case lines in the file's order, whatever order they end in
#   refused   bad input is one sentence and exit 2, nothing run: a malformed line, an unknown
#             scenario or variant, a variant in a family it does not run in, --cases with --all
#   killed    the parent killed with SIGKILL mid-run: every run it had going tears itself down
#             (PR_SET_PDEATHSIG), and after a sweep nothing is left (namespaces, trace instances)
#   side-by-side-check.sh <mode> <socklab>
set -euo pipefail
mode=$1 socklab=$2
fail() { echo "side-by-side-check: FAIL: $*"; exit 1; }
tmp=$(mktemp -d /tmp/socklab-sbs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

case $mode in
cases)
  # The longest first in the file: it ends last, and must still be printed first.
  printf '%s\n' "# a longer case and two quick ones" "time_wait timer mapped" "rst_on_close_unread unread 6" \
    "so_reuseaddr time_wait 4" > "$tmp/cases"
  "$socklab" run --cases "$tmp/cases" --out "$tmp/out" --ktap --jobs 3 > "$tmp/ktap" 2> "$tmp/err" ||
    fail "socklab run --cases exited $?: $(tail -5 "$tmp/err")"
  for c in rst_on_close_unread/unread.ipv6 so_reuseaddr/time_wait time_wait/timer.mapped; do
    [ -f "$tmp/out/$c/report.json" ] || fail "no $c/report.json"
    read -r status t0 t1 < "$tmp/out/$c.status" || fail "no $c.status"
    [ "$status" = 0 ] || fail "$c.status says $status"
    python3 -c "import sys; sys.exit(not float(sys.argv[2]) > float(sys.argv[1]) > 0)" "$t0" "$t1" || fail "$c.status times $t0 $t1"
    [ -f "$tmp/out/$c.stdout" ] && [ -f "$tmp/out/$c.stderr" ] || fail "no $c.stdout or .stderr"
    grep -q "hosts: client" "$tmp/out/$c.stderr" || fail "$c.stderr lacks the run's progress lines"
  done
  order=$(grep -E "^(not )?ok [0-9]+ " "$tmp/ktap" | sed 's/^\(not \)\?ok [0-9]* //; s/ .*//' | tr '\n' ' ')
  [ "$order" = "time_wait.timer.mapped rst_on_close_unread.unread.ipv6 so_reuseaddr.time_wait " ] ||
    fail "KTAP in another order than the file's: $order"
  ended=$(grep -o "^\[[0-9]/3\] [a-z_/]*" "$tmp/err" | tail -1)
  [[ "$ended" == *time_wait/timer ]] || fail "the longest case was not the last to end ($ended): is it still the longest?"
  grep -q "3 runs, up to 3 at once, the longest first" "$tmp/err" || fail "no line saying how the runs go"
  echo "side-by-side-check: three cases side by side, each with its directory and .status; KTAP in the file's order"
  ;;
refused)
  refused() {  # expected sentence, then the arguments of socklab
    local want=$1; shift
    set +e
    "$socklab" "$@" > "$tmp/out" 2>&1
    local status=$?
    set -e
    [ "$status" -eq 2 ] || fail "socklab $* exited $status, not 2: $(cat "$tmp/out")"
    grep -qF -- "$want" "$tmp/out" || fail "socklab $*: expected \"$want\", got: $(cat "$tmp/out")"
    ! grep -q "runs, up to" "$tmp/out" || fail "socklab $* started runs before refusing"
  }
  printf 'rst_on_close_unread unread\n' > "$tmp/short"
  refused "$tmp/short:1: write \"scenario variant family\"" run --cases "$tmp/short" --captures "$tmp/c"
  printf 'rst_on_close_unread unread 4\nno_such_scenario x 4\n' > "$tmp/unknown"
  refused "no scenario named \"no_such_scenario\"" run --cases "$tmp/unknown" --captures "$tmp/c"
  printf 'rst_on_close_unread unread five\n' > "$tmp/family"
  refused "$tmp/family:1: family five: use 4, 6 or mapped" run --cases "$tmp/family" --captures "$tmp/c"
  printf 'so_reuseaddr nothing 4\n' > "$tmp/variant"
  refused "so_reuseaddr has no variant \"nothing\"" run --cases "$tmp/variant" --captures "$tmp/c"
  printf '# nothing\n' > "$tmp/empty"
  refused "names no case" run --cases "$tmp/empty" --captures "$tmp/c"
  refused "give one of them" run --all --cases "$tmp/short"
  refused "--cases $tmp/missing:" run --cases "$tmp/missing"
  [ ! -e "$tmp/c" ] || fail "a refused run left $tmp/c"
  echo "side-by-side-check: bad --cases files and options are refused in one sentence, nothing run"
  ;;
killed)
  printf '%s\n' "keepalive peer_powered_off 4" "syn_queue no_cookies 6" "server_closes_first half_close 4" \
    "time_wait timer 4" > "$tmp/cases"
  "$socklab" run --cases "$tmp/cases" --captures "$tmp/c" --jobs 4 > "$tmp/out" 2> "$tmp/err" &
  pid=$!
  for _ in $(seq 1 600); do  # until all four have started their clients (30 s at most)
    [ "$(pgrep -P "$pid" | wc -l)" -ge 4 ] && break
    sleep 0.05
  done
  children=$(pgrep -P "$pid" | tr '\n' ' ')
  [ "$(wc -w <<< "$children")" -ge 4 ] || fail "the four runs never all started (children: $children)"
  sleep 1  # in the middle of their choreographies
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  # Each run gets SIGTERM when its parent dies and tears its run down at once: within 3 s, where
  # keepalive/peer_powered_off alone has 4 s of its floor still to go.
  for c in $children; do
    for _ in $(seq 1 60); do [ -e "/proc/$c" ] || break; sleep 0.05; done
    [ -e "/proc/$c" ] && fail "run $c outlived its parent by 3 s: it did not hear of its death"
  done
  "$socklab" sweep > /dev/null  # the parent's own trace instances (one a job slot)
  for c in $pid $children; do
    ip netns list | grep "socklab-$c-" && fail "namespaces of run $c are still there"
    ls /sys/kernel/tracing/instances | grep "socklab-$c-" && fail "a trace instance of $c is still there"
  done
  echo "side-by-side-check: the parent killed mid-run, its four runs tore themselves down; nothing left after the sweep"
  ;;
*)
  fail "unknown mode $mode (cases, refused, killed)"
  ;;
esac
