#!/usr/bin/env bash
# scripts/kernel-matrix --shard and merge: two parts of a small host-only matrix, merged, must give
# the table and differences of the unsharded run (matrix.md without its timings); each part runs a
# non-empty share and together they run each cell once. A merge missing a run must differ (so the
# comparison can fail), and a bad --shard or a missing part is refused with exit 2.
#   shard-check.sh <source dir> <build dir>
set -euo pipefail
source=$1 build=$2
fail() { echo "shard-check: FAIL: $*"; exit 1; }
tmp=$(mktemp -d /tmp/socklab-shards.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
matrix() { flock -w 600 /tmp/socklab-matrix.lock "$source/scripts/kernel-matrix" "$@"; }
sel=(--build "$build" --no-build --kernels host --scenario so_reuseaddr --scenario rst_on_close_unread --families 4,6)
table() { sed '/^## Timings/,$d' "$1/matrix.md"; }

set +e
"$source/scripts/kernel-matrix" "${sel[@]}" --shard 3/2 --out "$tmp/bad" > "$tmp/bad.out" 2>&1
status=$?
set -e
[ "$status" -eq 2 ] && grep -q "^kernel-matrix: --shard 3/2: write K/N with 1 <= K <= N" "$tmp/bad.out" \
  || fail "--shard 3/2 exited $status: $(cat "$tmp/bad.out")"
[ ! -e "$tmp/bad" ] || fail "a refused --shard left $tmp/bad"

matrix "${sel[@]}" --out "$tmp/all" > "$tmp/all.out" 2>&1 || fail "the unsharded run failed: $(tail -5 "$tmp/all.out")"
matrix "${sel[@]}" --shard 1/2 --out "$tmp/s1" > "$tmp/s1.out" 2>&1 || fail "shard 1/2 failed: $(tail -5 "$tmp/s1.out")"
matrix "${sel[@]}" --shard 2/2 --out "$tmp/s2" > "$tmp/s2.out" 2>&1 || fail "shard 2/2 failed: $(tail -5 "$tmp/s2.out")"
python3 - "$tmp" <<'PY' || fail "the parts do not split the cells"
import json, sys
t = sys.argv[1]
ran = [set(map(tuple, json.load(open("%s/s%d/matrix.json" % (t, k)))["ran"])) for k in (1, 2)]
suite = json.load(open(t + "/all/matrix.json"))["suite"]
assert all(ran), "a part ran nothing"
assert not ran[0] & ran[1], "a cell ran in both parts"
assert ran[0] | ran[1] == {("host", s, v) for s, v in suite}, "a cell ran in no part"
print("parts: %d and %d of %d runs" % (len(ran[0]), len(ran[1]), len(suite)))
PY

set +e
"$source/scripts/kernel-matrix" merge "$tmp/s1" --out "$tmp/half" > "$tmp/half.out" 2>&1
status=$?
set -e
[ "$status" -eq 2 ] && grep -q "parts 2/2 of 2 are missing" "$tmp/half.out" || fail "a merge without part 2 exited $status: $(cat "$tmp/half.out")"

"$source/scripts/kernel-matrix" merge "$tmp/s1" "$tmp/s2" --out "$tmp/merged" > "$tmp/merged.out" 2>&1 \
  || fail "merge failed: $(tail -5 "$tmp/merged.out")"
diff <(table "$tmp/all") <(table "$tmp/merged") || fail "the merged table differs from the unsharded one (diff above)"
echo "merged: $(grep -c '^| so_reuseaddr\|^| rst_on' "$tmp/merged/matrix.md") rows, the same table and differences as the unsharded run"

# The comparison must be able to fail: a part that lost one run merges into another table.
cp -r "$tmp/s2" "$tmp/s2-lost"
victim=$(find "$tmp/s2-lost/host" -name report.json | sort | head -1)
rm "$(dirname "$victim").status"
"$source/scripts/kernel-matrix" merge "$tmp/s1" "$tmp/s2-lost" --out "$tmp/merged-lost" > /dev/null 2>&1 || true
! diff -q <(table "$tmp/all") <(table "$tmp/merged-lost") > /dev/null || fail "a lost run did not change the merged table"
echo "shard-check: two parts merged equal the unsharded run; a lost run, a bad --shard and a missing part are caught"
