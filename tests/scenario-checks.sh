#!/usr/bin/env bash
# Checks of the harness as a whole, run by ctest as root:
#   mutated <socklab> <scenario> <variant> <from> <to>
#       an expectation edited from <from> to <to> must turn the run red, saying expected and observed
#   refused <socklab> <scenario> <from> <to> <message> [<run arguments>...]
#       a description edited from <from> to <to> (a misspelt name, a family it cannot run in) is
#       refused before anything runs: exit 2 with <message>, and no run directory
#   tshark <captures> <scenario> <variant> [<family>]
#       tshark reads the same TCP segments in the newest run's pcap (of that family: 4, 6, mapped)
#       as the report lists, and nothing but the run's own traffic
#   (mutated, killed, unprivileged: an optional last argument is the address family, 4 by default)
#   killed <socklab> <scenario> <variant>
#       a run killed with SIGKILL in the middle leaves nothing once the next run has swept
#   reaped <socklab> <scenario> <variant>
#       a passing run leaves its teardown to a reaper: `socklab sweep` right after it waits for
#       the reaper, has nothing to remove itself, and then nothing of the run is left
#   unprivileged <socklab> <scenario> <variant>
#       the variant passes when run as user nobody (in a user namespace, without tracefs), with the
#       expectations that need tracefs skipped, not passed
#   host-state <file>
#       writes what the host's network looks like (addresses, routes, nft ruleset, TCP sysctls,
#       namespaces that are not socklab's); host-compare <file> fails if it has changed since
#   census <socklab> [4|6]
#       socklab census counts the same sockets per state as ss in a namespace with a full queue
#       (on IPv4 or IPv6 loopback)
set -euo pipefail
what=$1
shift

fail() { echo "FAIL: $*" >&2; exit 1; }

# Runs socklab on a copy of the scenario's description edited from $from to $to (sed), in a
# temporary directory ($tmp, removed on exit); the output is in $tmp/out, the exit status in $status.
run_edited() {
  local socklab=$1 scenario=$2
  shift 2
  local src
  src=$(dirname "$0")/../scenarios/$scenario
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/scenarios/$scenario"
  grep -qF -- "$from" "$src/scenario.json" || fail "$from is not in $src/scenario.json"
  sed "s/$from/$to/" "$src/scenario.json" > "$tmp/scenarios/$scenario/scenario.json"
  set +e
  "$socklab" --scenarios "$tmp/scenarios" run "$scenario" "$@" --color never --captures "$tmp/captures" > "$tmp/out" 2>&1
  status=$?
  set -e
  cat "$tmp/out"
}

case "$what" in
mutated)
  socklab=$1 scenario=$2 variant=$3 from=$4 to=$5 family=${6:-4}
  run_edited "$socklab" "$scenario" --variant "$variant" --family "$family"
  [ "$status" -eq 1 ] || fail "the mutated expectation ($from -> $to) exited $status, not 1"
  grep -q "FAIL" "$tmp/out" && grep -q "expected:" "$tmp/out" && grep -q "observed:" "$tmp/out" \
    || fail "the failure does not show expected and observed"
  echo "the mutated expectation ($from -> $to) turned the run red, as it must"
  ;;
refused)
  # A misspelt name in a description is refused when it is loaded: exit 2 at once, one message
  # with the file, the place, the wrong name and the names that exist; nothing is run.
  socklab=$1 scenario=$2 from=$3 to=$4 message=$5
  shift 5
  run_edited "$socklab" "$scenario" "$@"
  [ "$status" -eq 2 ] || fail "the misspelt description ($from -> $to) exited $status, not 2"
  grep -qF -- "$message" "$tmp/out" || fail "the message does not say: $message"
  [ ! -e "$tmp/captures" ] || fail "a refused description left a run directory"
  echo "the misspelt description ($from -> $to) was refused at load time, as it must"
  ;;
tshark)
  captures=$1 scenario=$2 variant=$3 family=${4:-4}
  run=$(python3 "$(dirname "$0")/runs.py" "$captures" "$scenario" "$variant" "$family")
  [ -n "$run" ] || fail "no complete run of $scenario/$variant (family $family) under $captures"
  # One tshark pass; every TCP segment must match the report's, in order: addresses, ports, raw
  # sequence and acknowledgement numbers, flags and payload length. Every frame is the run's: TCP
  # between its two addresses, ARP or ICMP between them, nothing else (no ICMPv6 noise); and the
  # server's sockets have the client for peer in the run's family.
  seen=$(mktemp)
  trap 'rm -f "$seen"' EXIT
  ip=ip; [ "$family" = 6 ] && ip=ipv6
  tshark -r "$run/capture.pcap" -T fields -E separator='|' -e frame.protocols -e $ip.src -e $ip.dst -e arp.src.proto_ipv4 \
    -e arp.dst.proto_ipv4 -e tcp.srcport -e tcp.dstport -e tcp.seq_raw -e tcp.ack_raw -e tcp.flags -e tcp.len 2>/dev/null > "$seen" \
    || fail "tshark cannot read $run/capture.pcap"
  python3 - "$run" "$seen" <<'PY' || fail "tshark and the report disagree on $run/capture.pcap"
import json, sys
run = sys.argv[1]
names = {0x01: "F", 0x02: "S", 0x04: "R", 0x08: "P", 0x10: ".", 0x20: "U", 0x40: "E", 0x80: "W"}
def flags(hexflags):
    return "".join(sorted(c for bit, c in names.items() if int(hexflags, 16) & bit))
r = json.load(open(run + "/report.json"))
ours = set(r["addresses"].values())
seen = []
for n, line in enumerate(open(sys.argv[2]), 1):
    protocols, src, dst, arp_src, arp_dst, sport, dport, seq, ack, fl, length = line.rstrip("\n").split("|")
    layers = protocols.split(":")
    if ("arp" in layers and {arp_src, arp_dst} <= ours) or (("icmp" in layers or "icmpv6" in layers) and set(src.split(",") + dst.split(",")) <= ours):
        continue  # ARP between the two hosts, or an ICMP error one sends the other (a reject; tshark
                  # lists the outer and the quoted addresses, "a,b")
    if "tcp" not in layers or not {src, dst} <= ours:
        print(f"frame {n} is not the run's TCP: {protocols} {src or arp_src} > {dst or arp_dst} (the run's: {sorted(ours)})")
        sys.exit(1)
    seen.append((src, dst, int(sport), int(dport), int(seq), int(ack), flags(fl), int(length)))
# The server's connections, as sock_diag saw them, have the client for peer as the family has it:
# in a mapped run an IPv6 socket whose peer is ::ffff:<the client's IPv4 address>.
client = r["addresses"]["client"]
peer = "::ffff:" + client if r.get("family") == "mapped" else client
peers = {x["dst"] for c in r["checkpoints"] for x in c["sockets"]["server"] if x["state"] != "LISTEN"}
if peers - {peer}:
    print(f"the server's sockets have peers {sorted(peers)}, not only {peer}")
    sys.exit(1)
report = [(p["src"], p["dst"], p["sport"], p["dport"], p["seq"], p["ack"], "".join(sorted(p["flags"])), p["len"])
          for p in r["packets"]]
# A segment without ACK carries ack 0 in the report; tshark prints the raw field.
seen = [s if "." in s[6] else s[:5] + (0,) + s[6:] for s in seen]
print(f"tshark {len(seen)} TCP segments, report {len(report)}")
for i, (t, r) in enumerate(zip(seen, report)):
    if t != r:
        print(f"segment {i}: tshark {t}, report {r}")
        sys.exit(1)
sys.exit(len(seen) != len(report))
PY
  ;;
killed)
  socklab=$1 scenario=$2 variant=$3 family=${4:-4}
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$socklab" run "$scenario" --variant "$variant" --family "$family" --color never --captures "$tmp" > "$tmp/out" 2>&1 &
  pid=$!
  # Wait until the run is in the middle: both programs started.
  for _ in $(seq 1 600); do  # up to 30 s on a loaded machine
    grep -q "start client" "$tmp/out" && break
    sleep 0.05
  done
  grep -q "start client" "$tmp/out" || fail "the run never started its client"
  programs=$(ip netns pids "socklab-$pid-server" 2>/dev/null; ip netns pids "socklab-$pid-client" 2>/dev/null)
  [ -n "$programs" ] || fail "no programs found in the run's namespaces"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  # The programs die with the harness (PR_SET_PDEATHSIG); give the kernel a moment to reap them.
  # A zombie waiting for init to reap it is dead; only a running program counts.
  running() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
  for p in $programs; do
    for _ in $(seq 1 250); do running "$p" || break; sleep 0.02; done
    running "$p" && fail "program $p outlived its harness"
  done
  # Its namespaces existed (the programs ran in them). Under ctest -j another run starting now
  # may sweep them before we do, which is the same sweep under test; either way none may remain.
  "$socklab" sweep
  ip netns list | grep "socklab-$pid-" && fail "namespaces of the killed run are still there"
  ls /sys/kernel/tracing/instances | grep "socklab-$pid-" && fail "tracefs instance of the killed run is still there"
  echo "the killed run $pid left nothing behind after the sweep"
  ;;
reaped)
  socklab=$1 scenario=$2 variant=$3
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$socklab" run "$scenario" --variant "$variant" --color never --captures "$tmp" > "$tmp/out" 2>&1 &
  pid=$!
  wait "$pid" || fail "the run failed: $(tail -3 "$tmp/out")"
  # Only this run's names count: a test beside this one may leave a killed run's for any sweep.
  swept=$("$socklab" sweep | grep -F "socklab-$pid-" || true)
  [ -z "$swept" ] || fail "socklab sweep removed what the reaper of run $pid should have: $swept"
  ip netns list | grep "socklab-$pid-" && fail "namespaces of run $pid are still there"
  ls /sys/kernel/tracing/instances | grep "socklab-$pid-" && fail "the tracefs instance of run $pid is still there"
  ss -xl | grep -F "@socklab-owner-$pid " && fail "the reaper of run $pid still holds its claim"
  echo "run $pid: its reaper tore it down, and socklab sweep waited for it"
  ;;
unprivileged)
  socklab=$1 scenario=$2 variant=$3 family=${4:-4}
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  chmod 1777 "$tmp"
  set +e
  setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$socklab" run "$scenario" --variant "$variant" --family "$family" --captures "$tmp" --color never > "$tmp/out" 2>&1
  status=$?
  set -e
  cat "$tmp/out"
  [ "$status" -eq 0 ] || fail "the unprivileged run exited $status"
  grep -q "running inside a user namespace" "$tmp/out" || fail "the run did not say it runs in a user namespace"
  grep -Eq "[1-9][0-9]* skipped" "$tmp/out" || fail "no expectation was skipped, yet tracefs cannot be used here"
  ;;
host-state|host-compare)
  file=$1
  state() {
    ip -o addr show; ip route show table all; ip -6 route show table all 2>/dev/null
    nft list ruleset 2>/dev/null
    sysctl -a 2>/dev/null | grep -E '^net\.(core\.somaxconn|ipv4\.tcp_)'
    ip netns list | grep -v '^socklab-' || true
    ip -o link show | grep -c veth || true
  }
  if [ "$what" = host-state ]; then
    state > "$file"
    echo "host state recorded in $file ($(wc -l < "$file") lines)"
  else
    diff <(cat "$file") <(state) || fail "the host's network changed during the tests (diff above)"
    echo "the host's addresses, routes, nft ruleset, TCP sysctls and namespaces are as they were"
  fi
  ;;
census)
  socklab=$1 family=${2:-4}
  loopback=127.0.0.1 af=AF_INET
  [ "$family" = 6 ] && loopback=::1 af=AF_INET6
  ns=sltest-census-$$
  out=$(mktemp)
  ip netns add "$ns"
  trap 'ip netns pids "$ns" 2>/dev/null | xargs -r kill -9; ip netns del "$ns" 2>/dev/null; rm -f "$out"' EXIT
  ip -n "$ns" link set lo up
  # A listener on loopback with 3 connections waiting in its accept queue, never accepted.
  ip netns exec "$ns" python3 -c '
import socket, sys, time
family, address = getattr(socket, sys.argv[1]), sys.argv[2]
listener = socket.socket(family)
listener.bind((address, 8080))
listener.listen(5)
clients = [socket.create_connection((address, 8080)) for _ in range(3)]
print("ready", flush=True)
time.sleep(120)' "$af" "$loopback" > "$out" &
  for _ in $(seq 1 600); do grep -q ready "$out" && break; sleep 0.05; done  # up to 30 s when loaded
  grep -q ready "$out" || fail "the loopback connections were not made"
  json=$("$socklab" census --netns "$ns" --json)
  echo "$json"
  for pair in ESTABLISHED:established LISTEN:listening SYN_SENT:syn-sent TIME_WAIT:time-wait \
              CLOSE_WAIT:close-wait FIN_WAIT2:fin-wait-2; do
    key=${pair%%:*} state=${pair#*:}
    ours=$(echo "$json" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['states'].get('$key', 0))")
    theirs=$(ip netns exec "$ns" ss -Htan state "$state" | wc -l)
    echo "$key: socklab census $ours, ss $theirs"
    [ "$ours" -eq "$theirs" ] || fail "census counts $ours $key sockets, ss $theirs"
  done
  unowned=$(echo "$json" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['unowned'].get('ESTABLISHED', 0))")
  [ "$unowned" -eq 3 ] || fail "census counts $unowned ESTABLISHED sockets without a process, expected the 3 unaccepted"
  ;;
*)
  fail "unknown check $what"
  ;;
esac
