"""Kernels and guest images: Debian's kernel packages fetched and unpacked, and the initramfs that
boots one of them onto the host's root over 9p."""
import glob
import gzip
import io
import lzma
import os
import re
import shutil
import stat
import subprocess

from .common import Fail, run, say

PACKAGES = ["qemu-system-x86", "busybox-static", "kmod"]  # kmod: depmod here, modprobe in the guest
SERIES = {"6.1": r"^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$",
          "6.12": r"^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$"}
# What the initramfs loads itself, before the host's root (and modprobe) is there; the rest
# (veth, nf_tables, sch_*, ...) the guest kernel asks modprobe for on demand.
BOOT_MODULES = ["virtio_pci", "9pnet_virtio", "9p", "overlay"]


# ---------------------------------------------------------------------------------------------
# Packages and kernels


def ensure_packages():
    missing = [p for p in PACKAGES
               if "ok installed" not in run(["dpkg-query", "-W", "-f=${Status}", p]).stdout]
    if not missing:
        return
    say("installing " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing
    if run(cmd, env=env).returncode != 0:
        run(["apt-get", "update", "-qq"])
        r = run(cmd, env=env)
        if r.returncode != 0:
            raise Fail("apt-get install " + " ".join(missing) + " failed: " + r.stderr.strip()[-300:])


def version_key(name):
    return [int(x) for x in re.findall(r"\d+", name)]


def newest_package(series):
    pattern = SERIES[series]
    for attempt in range(2):
        out = run(["apt-cache", "search", "--names-only", pattern]).stdout
        names = [line.split()[0] for line in out.splitlines() if re.match(pattern, line.split()[0])]
        # A name the index lists but no longer has a candidate for cannot be downloaded.
        names = [n for n in names if "Candidate: (none)" not in run(["apt-cache", "policy", n]).stdout]
        if names:
            return max(names, key=version_key)
        if attempt == 0:
            say("no " + series + " kernel package in the apt index: apt-get update")
            run(["apt-get", "update", "-qq"])
    raise Fail("Debian's archive offers no " + series + " kernel package (" + pattern + ")")


def resolve_kernel(spec, cache):
    """host, a series (6.1), a package name or a release -> (label, package or None)."""
    if spec == "host":
        return "host", None
    if spec in SERIES:
        return None, newest_package(spec)
    package = spec if spec.startswith("linux-image-") else "linux-image-" + spec
    if not package.endswith("-unsigned") and run(["apt-cache", "show", package + "-unsigned"]).returncode == 0:
        package += "-unsigned"
    return None, package


def release_of(package):
    return re.sub(r"-unsigned$", "", package[len("linux-image-"):])


def fetch_kernel(package, cache):
    """Downloads and unpacks a kernel package once; returns its directory in the cache."""
    release = release_of(package)
    kdir = os.path.join(cache, release)
    root = os.path.join(kdir, "root")
    os.makedirs(os.path.join(cache, "debs"), exist_ok=True)
    debs = glob.glob(os.path.join(cache, "debs", package + "_*.deb"))
    if not debs:
        say("apt-get download " + package)
        r = run(["apt-get", "download", "-q", package], cwd=os.path.join(cache, "debs"))
        debs = glob.glob(os.path.join(cache, "debs", package + "_*.deb"))
        if r.returncode != 0 or not debs:
            raise Fail("apt-get download " + package + " failed: " + (r.stderr or r.stdout).strip()[-300:])
    else:
        say("cached: " + os.path.basename(debs[0]))
    if not os.path.exists(os.path.join(kdir, "unpacked")):
        shutil.rmtree(kdir, ignore_errors=True)
        os.makedirs(root)
        say("dpkg -x " + os.path.basename(debs[0]))
        r = run(["dpkg", "-x", debs[0], root])
        if r.returncode != 0:
            raise Fail("dpkg -x " + debs[0] + " failed: " + r.stderr.strip())
        r = run(["depmod", "-b", root, release])
        if r.returncode != 0:
            raise Fail("depmod -b " + root + " " + release + " failed: " + r.stderr.strip())
        extract_vmlinux(os.path.join(root, "boot", "vmlinuz-" + release), os.path.join(kdir, "vmlinux"))
        open(os.path.join(kdir, "unpacked"), "w").write(os.path.basename(debs[0]) + "\n")
    return kdir, release


def extract_vmlinux(bzimage, target):
    """The ELF vmlinux inside a bzImage (what scripts/extract-vmlinux does): booted through PVH,
    it spares the emulator the decompression."""
    data = open(bzimage, "rb").read()
    decoders = [(b"\x1f\x8b\x08", lambda b: gzip.GzipFile(fileobj=io.BytesIO(b)).read()),
                (b"\xfd7zXZ\x00", lambda b: lzma.LZMADecompressor().decompress(b)),
                (b"\x28\xb5\x2f\xfd", lambda b: run_bytes(["zstd", "-dc"], b))]
    for magic, decode in decoders:
        at = data.find(magic)
        while at >= 0:
            try:
                out = decode(data[at:])
                if out[:4] == b"\x7fELF":
                    open(target, "wb").write(out)
                    return
            except Exception:
                pass
            at = data.find(magic, at + 1)
    raise Fail("no vmlinux found inside " + bzimage)


def run_bytes(argv, data):
    return subprocess.run(argv, input=data, capture_output=True, check=False).stdout


# ---------------------------------------------------------------------------------------------
# The initramfs: busybox, the modules to reach the host's root, and /init


INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p"; }
die() { echo "socklab-init: $*"; echo o > /proc/sysrq-trigger; sleep 10; }
for m in $(cat /modules.order); do insmod /modules/$m || die "insmod $m failed"; done
kdir=$(arg socklab.kdir); out=$(arg socklab.out); guest=$(arg socklab.guest)
mkdir -p /lower /upper /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower || die "no 9p hostroot"
mount -t tmpfs -o size=1g,mode=0755 upper /upper
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot || die "no overlay"
mkdir -p /newroot/lib/modules /newroot/boot "/newroot$out"
mount --bind "/newroot$kdir/root/lib/modules" /newroot/lib/modules
mount --bind "/newroot$kdir/root/boot" /newroot/boot
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results "/newroot$out" || die "no 9p results"
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash "$guest"
"""


def cpio_newc(entries):
    """A newc cpio archive from (name, mode, data or None, rdev) entries."""
    out = bytearray()
    for ino, (name, mode, data, rdev) in enumerate(entries + [("TRAILER!!!", 0, b"", (0, 0))], 1):
        data = data or b""
        nameb = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(nameb), 0]
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + nameb
        out += b"\0" * (-len(out) % 4) + data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def module_closure(root, release, names):
    """The module files for `names` and their dependencies, dependencies first (modules.dep)."""
    moddir = os.path.join(root, "lib", "modules", release)
    deps = {}
    for line in open(os.path.join(moddir, "modules.dep")):
        path, _, rest = line.partition(":")
        deps[path] = rest.split()
    by_name = {re.sub(r"\.ko(\.xz|\.zst|\.gz)?$", "", os.path.basename(p)).replace("-", "_"): p for p in deps}
    builtin = open(os.path.join(moddir, "modules.builtin")).read()
    order = []

    def visit(path):
        if path in order:
            return
        for d in deps[path]:
            visit(d)
        order.append(path)

    for n in names:
        if n in by_name:
            visit(by_name[n])
        elif "/" + n.replace("_", "-") + ".ko" not in builtin.replace("_", "-"):
            raise Fail("kernel " + release + " has no module " + n + " (needed to mount the host's root over 9p)")
    return moddir, order


def build_initramfs(kdir, release):
    target = os.path.join(kdir, "initramfs.cpio")
    if os.path.exists(target) and os.path.getmtime(target) >= os.path.getmtime(__file__):
        return target
    moddir, order = module_closure(os.path.join(kdir, "root"), release, BOOT_MODULES)
    entries = [(d, stat.S_IFDIR | 0o755, None, (0, 0)) for d in ("bin", "dev", "proc", "sys", "modules")]
    entries.append(("dev/console", stat.S_IFCHR | 0o600, None, (5, 1)))
    entries.append(("bin/busybox", stat.S_IFREG | 0o755, open("/bin/busybox", "rb").read(), (0, 0)))
    entries.append(("init", stat.S_IFREG | 0o755, INIT.encode(), (0, 0)))
    names = []
    for path in order:
        data = open(os.path.join(moddir, path), "rb").read()
        if path.endswith(".xz"):
            data = lzma.decompress(data)
        elif path.endswith(".zst"):
            data = run_bytes(["zstd", "-dc"], data)
        name = re.sub(r"\.(xz|zst)$", "", os.path.basename(path))
        entries.append(("modules/" + name, stat.S_IFREG | 0o644, data, (0, 0)))
        names.append(name)
    entries.append(("modules.order", stat.S_IFREG | 0o644, ("\n".join(names) + "\n").encode(), (0, 0)))
    open(target + ".tmp", "wb").write(cpio_newc(entries))
    os.replace(target + ".tmp", target)
    return target
