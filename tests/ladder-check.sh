#!/usr/bin/env bash
# socklab ladder on captures of real connections, run by ctest as root:
#   ladder-check.sh <socklab> <peer> <convert> states 4|6
#       four connections between the tests' own programs (tests/ladder/peer.cpp) in two namespaces
#       of this check's own: a normal close, an RST on close with data unread, a simultaneous close
#       and a SYN retransmitted; each captured with tcpdump on the server's veth (Ethernet) and with
#       -i any as Linux cooked v2 and v1, and rewritten (tests/ladder/convert.cpp) as BSD loopback
#       (DLT_NULL, DLT_LOOP), raw IP, pcapng (editcap) and cut by a snaplen inside the TCP options. For each file
#       the final states socklab ladder infers must be what sock_diag (ss) saw in the namespaces,
#       and what the exchange is for; the HTML page must load in Chromium (tests/html-check.py).
#   ... mutated 4     the RST exchange's server reads the data first (a FIN, no RST, the server
#                     closing first): the check of that exchange must fail, naming the states; and
#                     a normal close's capture without its last ACK must infer other states than
#                     sock_diag saw (the server in LAST_ACK)
#   ... bad-input 4   not a capture, a cut-off file, an unknown link type, no TCP: one sentence, exit 2,
#                     no file written
#   ... many 4        30 connections: the table has 30 rows with the states ss saw, --stream and
#                     --port pick one
# SOCKLAB_LADDER_KEEP=DIR keeps the captures of "states" there.
# Namespaces are named sl-ladder-<pid>-{c,s} (not socklab-<pid>-..., which a run's sweep would take
# for a dead run's); everything is removed on exit, however the check ends.
set -euo pipefail
socklab=$1 peer=$2 convert=$3 what=$4 family=${5:-4}
here=$(cd "$(dirname "$0")" && pwd)

fail() { echo "FAIL: $*" >&2; exit 1; }

tmp=$(mktemp -d /tmp/socklab-ladder.XXXXXX)
ns_c=sl-ladder-$$-c
ns_s=sl-ladder-$$-s
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$ns_c" 2>/dev/null || true
  ip netns del "$ns_s" 2>/dev/null || true
  [ -n "${SOCKLAB_LADDER_DEBUG:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

if [ "$family" = 6 ]; then
  addr_c=2001:db8:ffff::1 addr_s=2001:db8:ffff::2 plen=64
else
  addr_c=198.19.250.1 addr_s=198.19.250.2 plen=30
fi

topology() {
  ip netns add "$ns_c"
  ip netns add "$ns_s"
  ip -n "$ns_c" link add name slc type veth peer name sls netns "$ns_s"
  for ns in "$ns_c" "$ns_s"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.all.addr_gen_mode=1 || true
    ip -n "$ns" link set lo up
  done
  ip netns exec "$ns_c" sysctl -qw net.ipv6.conf.slc.addr_gen_mode=1 || true
  ip netns exec "$ns_s" sysctl -qw net.ipv6.conf.sls.addr_gen_mode=1 || true
  local nodad=
  [ "$family" = 4 ] || nodad=nodad  # bind() at once, no duplicate address detection
  ip -n "$ns_c" addr add "$addr_c/$plen" dev slc $nodad
  ip -n "$ns_s" addr add "$addr_s/$plen" dev sls $nodad
  ip -n "$ns_c" link set slc up
  ip -n "$ns_s" link set sls up
}

# Waits until `$@` succeeds, polling, for at most $limit tenths of a second (an event, not a time).
until_true() {
  local limit=$1
  shift
  for _ in $(seq "$limit"); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# The state ss (sock_diag) shows for the connection to port $1 in namespace $2 ("client": the
# socket whose peer port it is, "server": whose local port it is, not the listener), in the
# tracepoint's spelling; CLOSED when there is none.
ss_state() {
  local port=$1 ns=$2 side=$3 line
  if [ "$side" = client ]; then
    line=$(ip netns exec "$ns" ss -tanH state all "( dport = :$port )" | head -1)
  else
    line=$(ip netns exec "$ns" ss -tanH state all "( sport = :$port )" | grep -v '^LISTEN' | head -1 || true)
  fi
  [ -n "$line" ] || { echo CLOSED; return; }
  awk '{print $1}' <<<"$line" | sed 's/^ESTAB$/ESTABLISHED/; s/FIN-WAIT-/FIN_WAIT/; s/-/_/g; s/^SYN_RECV$/SYN_RECV/'
}

# Neither end of the connection to port $1 is between states that a segment still in flight ends
# (the last ACK of a close may arrive after the programs have exited).
settled() {
  local c s
  c=$(ss_state "$1" "$ns_c" client) s=$(ss_state "$1" "$ns_s" server)
  ! grep -qE 'FIN_WAIT|CLOSING|LAST_ACK|SYN_RECV' <<<"$c $s"
}

both_in() {  # both_in PORT STATE: both ends of the connection are in STATE
  [ "$(ss_state "$1" "$ns_c" client)" = "$2" ] && [ "$(ss_state "$1" "$ns_s" server)" = "$2" ]
}

# tcpdump in the server's namespace, writing $1 with arguments $2...; returns once it listens.
start_tcpdump() {
  local out=$1
  shift
  ip netns exec "$ns_s" tcpdump -Z root -n -U --immediate-mode -w "$out" "$@" 2>"$out.log" &
  pids+=($!)
  until_true 100 grep -q "listening on" "$out.log" || fail "tcpdump did not start: $(cat "$out.log")"
}

stop_tcpdumps() {
  local p
  for p in "${tcpdumps[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}

start_server() {  # start_server PORT MODE [args]: returns once it listens
  local port=$1 mode=$2
  shift 2
  ip netns exec "$ns_s" "$peer" server --addr "$addr_s" --port "$port" --mode "$mode" "$@" >"$tmp/server-$port.out" &
  server_pid=$!
  pids+=($server_pid)
  until_true 50 grep -q listening "$tmp/server-$port.out" || fail "the test server on port $port did not listen"
}

# One exchange, captured in every link type: writes $tmp/<name>.<type>.pcap and records what ss saw
# in $tmp/<name>.kernel ("client STATE server STATE").
exchange() {
  local name=$1 port=$2 mode=$3 server_mode=${4:-$3}
  local base=$tmp/$name
  tcpdumps=()
  start_tcpdump "$base.ether.pcap" -i sls "tcp port $port"; tcpdumps+=($!)
  start_tcpdump "$base.sll2.pcap" -i any -y LINUX_SLL2 "tcp port $port"; tcpdumps+=($!)
  start_tcpdump "$base.sll.pcap" -i any -y LINUX_SLL "tcp port $port"; tcpdumps+=($!)
  local go=$tmp/go-$port
  case $mode in
    synrtx)
      ip netns exec "$ns_s" nft "table inet ladder_drop { chain input { type filter hook input priority 0; tcp dport $port drop; }; }"
      ip netns exec "$ns_c" "$peer" client --addr "$addr_s" --port "$port" --mode synrtx &
      local client=$!
      pids+=($client)
      # One retransmission: ss's timer field counts them, timer:(on,...,1).
      until_true 50 sh -c "ip netns exec $ns_c ss -tanoH state syn-sent '( dport = :$port )' | grep -q ',1)'" ||
        fail "$name: the client's SYN was not retransmitted"
      ;;
    *)
      start_server "$port" "$server_mode" --go "$go"
      ip netns exec "$ns_c" "$peer" client --addr "$addr_s" --port "$port" --mode "$mode" --go "$go" &
      local client=$!
      pids+=($client)
      if [ "$mode" = simclose ]; then
        until_true 50 both_in "$port" ESTABLISHED || fail "$name: not connected"
        # Each host forgets the other's hardware address and drops what would teach it again: both
        # FINs wait in a neighbour queue, and leave together when it is allowed (as in
        # scenarios/simultaneous_close).
        for ns in "$ns_c" "$ns_s"; do
          if [ "$family" = 6 ]; then
            ip netns exec "$ns" nft "table inet ladder_hold { chain input { type filter hook input priority 0; icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } drop; }; }"
          else
            ip netns exec "$ns" nft "table arp ladder_hold { chain input { type filter hook input priority 0; policy drop; }; }"
          fi
        done
        ip -n "$ns_c" neigh flush dev slc
        ip -n "$ns_s" neigh flush dev sls
        touch "$go"
        until_true 50 both_in "$port" FIN_WAIT1 || fail "$name: both ends did not reach FIN_WAIT1"
        local table=inet
        [ "$family" = 6 ] || table=arp
        ip netns exec "$ns_c" nft delete table "$table" ladder_hold
        ip netns exec "$ns_s" nft delete table "$table" ladder_hold
        until_true 100 both_in "$port" TIME_WAIT || fail "$name: both ends did not reach TIME_WAIT"
      fi
      wait "$client" || fail "$name: the test client failed"
      wait "$server_pid" || fail "$name: the test server failed"
      until_true 50 settled "$port" || fail "$name: the connection did not settle"
      ;;
  esac
  echo "client $(ss_state "$port" "$ns_c" client) server $(ss_state "$port" "$ns_s" server)" >"$base.kernel"
  stop_tcpdumps
  if [ "$mode" = synrtx ]; then
    kill "$client" 2>/dev/null || true
    wait "$client" 2>/dev/null || true
    ip netns exec "$ns_s" nft delete table inet ladder_drop
  fi
  for kind in null loop raw; do "$convert" "$base.ether.pcap" "$base.$kind.pcap" "$kind"; done
  # Cut within the TCP options (the timestamps), past the fixed header: 60 bytes in IPv4, 80 in IPv6.
  "$convert" "$base.ether.pcap" "$base.snap.pcap" ether $([ "$family" = 6 ] && echo 80 || echo 60)
  editcap -F pcapng "$base.sll2.pcap" "$base.pcapng.pcap"
}

# socklab ladder's inferred final states of the one connection in $1: "client STATE server STATE".
inferred() {
  "$socklab" ladder "$1" --color never >"$1.out" 2>"$1.err" || fail "socklab ladder $1: $(cat "$1.err")"
  local line
  line=$(grep '^final states (inferred): ' "$1.out") || fail "no final states in the ladder of $1"
  sed -E 's/^final states \(inferred\): (client\??) ([A-Z_0-9]+), (server\??) ([A-Z_0-9]+)$/client \2 server \4/' <<<"$line"
}

# Every link type of exchange $1 must infer what the kernel had, and what the exchange is for ($2).
check_exchange() {
  local name=$1 expected=$2 kernel
  kernel=$(cat "$tmp/$name.kernel")
  [ "$kernel" = "$expected" ] || fail "$name: expected $expected, but sock_diag saw $kernel (the exchange did not go as designed)"
  for kind in ether sll2 sll null loop raw snap pcapng; do
    local file=$tmp/$name.$kind.pcap got
    got=$(inferred "$file")
    [ "$got" = "$kernel" ] || fail "$name ($kind): socklab ladder inferred $got, sock_diag saw $kernel"
    local link
    link=$(head -1 "$file.out")
    echo "ok: $name ($kind: ${link#*: }): inferred $got = sock_diag"
  done
  grep -q "TCP segments" "$tmp/$name.ether.pcap.out"
}

case $what in
  states)
    topology
    exchange normal 8101 normal
    exchange rst 8102 rst
    exchange simclose 8103 simclose
    exchange synrtx 8104 synrtx
    check_exchange normal "client TIME_WAIT server CLOSED"
    check_exchange rst "client CLOSED server CLOSED"
    grep -q '(reset)' "$tmp/rst.ether.pcap.out" || fail "rst: no arrow names the reset"
    check_exchange simclose "client TIME_WAIT server TIME_WAIT"
    grep -q '≈\[FIN_WAIT1 -> CLOSING\]' "$tmp/simclose.sll2.pcap.out" || fail "simclose: no end went through CLOSING"
    check_exchange synrtx "client SYN_SENT server CLOSED"
    grep -q 'S seq=0 :[0-9]* (rtx)' "$tmp/synrtx.ether.pcap.out" || fail "synrtx: the SYN's copy is not named rtx"
    grep -q 'cut by the snaplen' "$tmp/normal.snap.pcap.out" || fail "the snaplen-cut capture does not say so"
    # The page of every exchange, in one file, as a reader opens it.
    mergecap -w "$tmp/all.pcap" "$tmp"/{normal,rst,simclose,synrtx}.sll2.pcap
    "$socklab" ladder "$tmp/all.pcap" --html "$tmp/all.html" --svg "$tmp/all.svg" --color never >"$tmp/all.out"
    for n in 0 1 2 3; do [ -s "$tmp/all-$n.svg" ] || fail "no all-$n.svg"; done
    "$here/html-check.py" --capture "$tmp/all.html"  # its own shebang: Debian's python3, with Pillow
    # To look at them, or to draw the README's picture: SOCKLAB_LADDER_KEEP=DIR keeps the captures.
    if [ -n "${SOCKLAB_LADDER_KEEP:-}" ]; then mkdir -p "$SOCKLAB_LADDER_KEEP" && cp "$tmp"/*.pcap "$SOCKLAB_LADDER_KEEP"; fi
    ;;
  mutated)
    topology
    exchange rst 8102 rst rst_read
    if out=$(check_exchange rst "client CLOSED server CLOSED" 2>&1); then
      fail "an RST exchange whose server read its data passed the check: $out"
    fi
    grep -q "expected client CLOSED server CLOSED, but sock_diag saw client CLOSED server TIME_WAIT" <<<"$out" ||
      fail "the mutated exchange failed for another reason: $out"
    # ... and the inference follows the kernel into the other states (the server closed first).
    check_exchange rst "client CLOSED server TIME_WAIT"
    echo "ok: the mutated exchange fails its check: $out"
    # A capture that lost the last segment (the client's ACK of the server's FIN) infers the server
    # still in LAST_ACK, where sock_diag saw it CLOSED: the comparison must catch it.
    exchange normal 8101 normal
    frames=$(tcpdump -r "$tmp/normal.ether.pcap" 2>/dev/null | wc -l)
    editcap -r "$tmp/normal.ether.pcap" "$tmp/lost.pcap" "1-$((frames - 1))"
    got=$(inferred "$tmp/lost.pcap")
    kernel=$(cat "$tmp/normal.kernel")
    [ "$got" != "$kernel" ] || fail "a capture without the last ACK still infers what sock_diag saw ($got)"
    [ "$got" = "client TIME_WAIT server LAST_ACK" ] || fail "a capture without the last ACK infers $got"
    echo "ok: a capture without its last ACK infers $got, not sock_diag's $kernel: the comparison fails"
    ;;
  bad-input)
    topology
    exchange normal 8101 normal
    printf 'this is a text file, not a capture, but long enough for a header\n' >"$tmp/text.pcap"
    cp "$tmp/normal.ether.pcap" "$tmp/cut.pcap"
    truncate -s -10 "$tmp/cut.pcap"
    "$convert" "$tmp/normal.ether.pcap" "$tmp/wifi.pcap" wifi
    tcpdump -Z root -r "$tmp/normal.ether.pcap" -w "$tmp/notcp.pcap" udp 2>/dev/null
    for bad in text:"is not a pcap or pcapng capture" cut:"is cut off after" wifi:"has link type IEEE802_11" \
               notcp:"holds no TCP segment" missing:"No such file"; do
      name=${bad%%:*} message=${bad#*:}
      status=0
      "$socklab" ladder "$tmp/$name.pcap" --svg "$tmp/$name.svg" --html "$tmp/$name.html" >"$tmp/$name.out" 2>"$tmp/$name.err" ||
        status=$?
      [ "$status" = 2 ] || fail "$name: exit $status, not 2"
      [ "$(wc -l <"$tmp/$name.err")" = 1 ] || fail "$name: not one sentence: $(cat "$tmp/$name.err")"
      grep -qF "$message" "$tmp/$name.err" || fail "$name: $(cat "$tmp/$name.err") does not say \"$message\""
      [ ! -s "$tmp/$name.out" ] && [ ! -e "$tmp/$name.svg" ] && [ ! -e "$tmp/$name.html" ] ||
        fail "$name: something was written"
      echo "ok: $name: $(cat "$tmp/$name.err")"
    done
    status=0
    "$socklab" ladder "$tmp/normal.ether.pcap" --filter 'tcp port nonsense' >/dev/null 2>"$tmp/filter.err" || status=$?
    [ "$status" = 2 ] && grep -q "is not a filter libpcap can compile" "$tmp/filter.err" || fail "a bad filter: $(cat "$tmp/filter.err")"
    echo "ok: bad filter: $(cat "$tmp/filter.err")"
    ;;
  many)
    topology
    tcpdumps=()
    start_tcpdump "$tmp/many.pcap" -i sls "tcp port 8105"; tcpdumps+=($!)
    start_server 8105 normal --count 30
    for _ in $(seq 30); do ip netns exec "$ns_c" "$peer" client --addr "$addr_s" --port 8105 --mode normal; done
    wait "$server_pid"
    until_true 50 sh -c "! ip netns exec $ns_s ss -tanH state last-ack | grep -q ." || fail "a server socket stays in LAST_ACK"
    tw=$(ip netns exec "$ns_c" ss -tanH state time-wait "( dport = :8105 )" | wc -l)
    stop_tcpdumps
    [ "$tw" = 30 ] || fail "sock_diag shows $tw TIME_WAIT, not 30"
    "$socklab" ladder "$tmp/many.pcap" --color never >"$tmp/many.out"
    rows=$(grep -cE '^[0-9]+ +[0-9.]+:[0-9]+ +[0-9.]+:8105 .* TIME_WAIT / CLOSED ' "$tmp/many.out" || true)
    [ "$rows" = 30 ] || fail "the table has $rows rows of TIME_WAIT / CLOSED, not 30 (sock_diag: 30 TIME_WAIT)"
    grep -q "30 connections: the diagrams of the first 20 follow" "$tmp/many.out" || fail "no word on the diagrams left out"
    [ "$(grep -c '^final states (inferred)' "$tmp/many.out")" = 20 ] || fail "not 20 diagrams"
    row=$(grep -E '^7 ' "$tmp/many.out")
    port7=$(awk '{print $2}' <<<"$row" | sed 's/.*://')
    "$socklab" ladder "$tmp/many.pcap" --stream 7 --color never >"$tmp/seven.out"
    [ "$(grep -c '^final states (inferred)' "$tmp/seven.out")" = 1 ] || fail "--stream 7 drew more than one"
    grep -q "socklab ladder .*/ connection 7" "$tmp/seven.out" || fail "--stream 7 drew another connection"
    grep -q ":$port7 ⇄ " "$tmp/seven.out" || fail "--stream 7 is not the table's row 7 (:$port7)"
    "$socklab" ladder "$tmp/many.pcap" --port "$port7" --color never >"$tmp/port.out"
    [ "$(grep -c '^final states (inferred)' "$tmp/port.out")" = 1 ] && grep -q ":$port7 ⇄ " "$tmp/port.out" ||
      fail "--port $port7 did not pick that connection"
    status=0
    "$socklab" ladder "$tmp/many.pcap" --stream 30 >/dev/null 2>"$tmp/range.err" || status=$?
    [ "$status" = 2 ] && grep -q "has connections 0 to 29" "$tmp/range.err" || fail "--stream 30: $(cat "$tmp/range.err")"
    echo "ok: 30 connections in the table, each TIME_WAIT / CLOSED as sock_diag saw; --stream 7 and --port $port7 pick row 7"
    ;;
  *) fail "unknown check $what" ;;
esac
