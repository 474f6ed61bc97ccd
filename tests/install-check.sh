#!/usr/bin/env bash
# socklab installed (cmake --install into a staging prefix) runs with the build tree out of reach:
# in a mount namespace of its own, tmpfs hides the source tree (and the build tree, wherever it
# is), so a path compiled in would find nothing. It must list the scenarios and run one, as root
# and as user nobody, writing its run directory under ./captures of where it is started.
#   install-check.sh <build dir> <source dir> <scenario> <variant>
set -euo pipefail
build=$(realpath "$1") source=$(realpath "$2") scenario=$3 variant=$4
fail() { echo "install-check: FAIL: $*"; exit 1; }
stage=$(mktemp -d /tmp/socklab-install.XXXXXX)
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"
cmake --install "$build" --prefix "$stage/usr" > "$stage/install.log" || fail "cmake --install failed: $(tail -3 "$stage/install.log")"
for f in bin/socklab "libexec/socklab/$scenario/client" "libexec/socklab/$scenario/server" \
         "libexec/socklab/$scenario/names.json" "share/socklab/scenarios/$scenario/scenario.json"; do
  [ -e "$stage/usr/$f" ] || fail "cmake --install did not install $f"
done
echo "installed into $stage/usr: $(find "$stage/usr" -type f | wc -l) files"
mkdir -m 1777 "$stage/work"
# Inside: the trees hidden, then the installed socklab as root and as nobody, from a directory of its own.
unshare --mount --propagation private bash -euo pipefail -c '
  stage=$1 source=$2 build=$3 scenario=$4 variant=$5
  mount -t tmpfs -o size=1m hidden "$source"
  [ -d "$build" ] && ! mountpoint -q "$build" && mount -t tmpfs -o size=1m hidden "$build" 2>/dev/null || true
  [ ! -e "$source/scenarios" ] || { echo "the source tree is still visible"; exit 1; }
  cd "$stage/work"
  "$stage/usr/bin/socklab" list | grep -q "^$scenario " || { echo "socklab list does not list $scenario"; exit 1; }
  "$stage/usr/bin/socklab" run "$scenario" --variant "$variant" --color never > root.out 2>&1 \
    || { cat root.out; echo "the installed socklab run as root failed"; exit 1; }
  mkdir -m 777 nobody && cd nobody
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$stage/usr/bin/socklab" run "$scenario" --variant "$variant" \
    --color never > ../nobody.out 2>&1 || { cat ../nobody.out; echo "the installed socklab run as nobody failed"; exit 1; }
' inside "$stage" "$source" "$build" "$scenario" "$variant" || fail "see above"
tail -1 "$stage/work/root.out"
tail -1 "$stage/work/nobody.out"
ls "$stage"/work/captures/"$scenario"/*/report.json > /dev/null 2>&1 || fail "the root run left no report.json under ./captures"
ls "$stage"/work/nobody/captures/"$scenario"/*/report.json > /dev/null 2>&1 || fail "the run as nobody left no report.json under ./captures"
grep -q "running inside a user namespace" "$stage/work/nobody.out" || fail "the run as nobody did not run in a user namespace"
echo "install-check: the installed socklab ran $scenario/$variant as root and as nobody with the build tree out of reach"
