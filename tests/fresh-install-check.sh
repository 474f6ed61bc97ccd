#!/usr/bin/env bash
# The .deb on a fresh Debian 12: a minimal bookworm root made with mmdebstrap (from this machine's
# apt sources), entered with pivot_root in a mount namespace of its own (a machine's own root, not
# a chroot: the kernel refuses unprivileged user namespaces in a chroot), where apt installs the
# package with its dependencies and its socklab runs a scenario from an empty directory as root
# and one as user nobody. Not part of ctest: it downloads about 60 packages (needs root,
# mmdebstrap and the apt mirror).
#   tests/fresh-install-check.sh build/socklab_0.1.0_amd64.deb
set -euo pipefail
deb=$(realpath "${1:?usage: fresh-install-check.sh SOCKLAB.deb (cd build && cpack -G DEB makes it)}")
fail() { echo "fresh-install-check: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run it as root (mmdebstrap, mounts, pivot_root)"
command -v mmdebstrap > /dev/null || fail "mmdebstrap is missing: apt-get install -y mmdebstrap"
root=$(mktemp -d /tmp/socklab-fresh.XXXXXX)
trap 'rm -rf --one-file-system "$root"' EXIT

start=$(date +%s)
mmdebstrap --variant=required --mode=root bookworm "$root" > "$root.log" 2>&1 || { tail -5 "$root.log"; fail "mmdebstrap failed"; }
rm -f "$root.log"
echo "== a fresh bookworm root (variant required, the priority-required packages of an installed system: $(chroot "$root" dpkg -l | grep -c ^ii) packages) in $(( $(date +%s) - start )) s"
cp "$deb" "$root/root/"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# Everything below runs in its own mount namespace: its mounts vanish with it.
unshare --mount --propagation private env DEB="$(basename "$deb")" ROOT="$root" bash -euo pipefail -c '
mount --bind "$ROOT" "$ROOT"
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
mkdir -p "$ROOT/.old"
cd "$ROOT"
pivot_root . .old
umount -l /.old
rmdir /.old
export PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive HOME=/root
t=$(date +%s)
apt-get update -qq
apt-get install -y -qq "/root/$DEB" > /root/apt.log 2>&1 || { tail -20 /root/apt.log; exit 1; }
echo "== apt-get install ./$DEB: $(( $(date +%s) - t )) s, $(dpkg -l | grep -c ^ii) packages now"
mkdir /root/lab && cd /root/lab
t=$(date +%s%N)
socklab run so_reuseaddr --color never > run.log 2>&1 || { tail -20 run.log; exit 1; }
echo "== as root, from an empty directory: socklab run so_reuseaddr: $(grep -c "^so_reuseaddr/.* passed, 0 failed" run.log) variants passed in $(( ($(date +%s%N) - t) / 1000000 )) ms; $(ls captures/so_reuseaddr | wc -l) run directories in ./captures"
cd /tmp
su nobody -s /bin/sh -c "socklab run rst_on_close_unread --variant unread --color never" > nobody.log 2>&1 || { tail -20 nobody.log; exit 1; }
grep -q "running inside a user namespace" nobody.log || { cat nobody.log; exit 1; }
echo "== as nobody: socklab run rst_on_close_unread --variant unread: $(tail -1 nobody.log | cut -d";" -f1)"
' || fail "see above"
echo "fresh-install-check: the .deb installs with apt on a fresh Debian 12 root and runs its scenarios ($(( $(date +%s) - start )) s)"
