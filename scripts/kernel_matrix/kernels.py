"""Kernels and guest images: Debian's kernel packages fetched and unpacked, and the initramfs that
boots one of them onto the host's root over 9p."""
import glob
import hashlib
import lzma
import os
import re
import shutil
import stat
import subprocess
import zlib

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
    decoders = [(b"\x1f\x8b\x08", gunzip),
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


def gunzip(data):
    """The gzip stream at the start of data, whatever follows it: a bzImage's gzip payload (the
    default compression of x86_64_defconfig) is followed by the setup's trailer, IKCONFIG's by
    IKCFG_ED, and gzip.GzipFile takes either for a bad second member."""
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)


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
if [ "$(arg socklab.probe)" = 1 ]; then echo "socklab-init: probe"; echo o > /proc/sysrq-trigger; sleep 10; fi
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
    if not os.path.exists(os.path.join(moddir, "modules.dep")):
        return moddir, []  # a kernel of the user's without modules: its config check found them built in
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


# ---------------------------------------------------------------------------------------------
# A kernel the user built (--kernel): its release, its config and what socklab needs of it

# Option -> (what socklab uses it for, whether a module will do). The fragment that sets them all
# is socklab.config beside this file (FTRACE there: TRACING and EVENT_TRACING, checked here, are
# options no one sets directly). A module does only with the kernel's modules (--modules), and
# only for what the guest loads itself (the boot modules) or asks modprobe for.
REQUIRED = {
    "CONFIG_NET_NS": ("network namespaces", False),
    "CONFIG_INET": ("TCP/IP", False),
    "CONFIG_IPV6": ("IPv6", True),
    "CONFIG_VETH": ("the veth pair", True),
    "CONFIG_UNIX": ("unix sockets (the address slot)", True),
    "CONFIG_PACKET": ("the AF_PACKET capture", True),
    "CONFIG_INET_DIAG": ("sock_diag snapshots", True),
    "CONFIG_INET_TCP_DIAG": ("sock_diag of TCP", True),
    "CONFIG_TRACING": ("tracefs", False),
    "CONFIG_EVENT_TRACING": ("tracefs events", False),
    "CONFIG_NF_TABLES": ("nftables", True),
    "CONFIG_NF_TABLES_INET": ("nft inet tables", False),
    "CONFIG_NF_TABLES_ARP": ("nft arp tables", False),
    "CONFIG_NFT_QUOTA": ("nft quota", True),
    "CONFIG_NFT_REJECT": ("nft reject", True),
    "CONFIG_VIRTIO_PCI": ("the guest's virtio devices", True),
    "CONFIG_NET_9P": ("9p (the guest's root)", True),
    "CONFIG_NET_9P_VIRTIO": ("9p over virtio", True),
    "CONFIG_9P_FS": ("the 9p file system", True),
    "CONFIG_OVERLAY_FS": ("the guest's overlay root", True),
    "CONFIG_TMPFS": ("tmpfs", False),
    "CONFIG_DEVTMPFS": ("devtmpfs", False),
    "CONFIG_BLK_DEV_INITRD": ("the initramfs", False),
    "CONFIG_SERIAL_8250_CONSOLE": ("the serial console", False),
    "CONFIG_BINFMT_SCRIPT": ("the initramfs's #! /init", False),
}
FRAGMENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "socklab.config")


def is_bzimage(data):
    return len(data) > 0x206 and data[0x202:0x206] == b"HdrS"


def kernel_elf(path):
    """The ELF vmlinux of an image: itself, or the one inside a bzImage."""
    data = open(path, "rb").read()
    if data[:4] == b"\x7fELF":
        return data
    if is_bzimage(data):
        target = os.path.join("/tmp", "socklab-vmlinux-%d" % os.getpid())
        try:
            extract_vmlinux(path, target)
            return open(target, "rb").read()
        finally:
            if os.path.exists(target):
                os.remove(target)
    raise Fail("--kernel " + path + " is neither a bzImage nor a vmlinux: give arch/x86/boot/bzImage or vmlinux of the build")


def image_release(elf, path):
    m = re.search(rb"Linux version ([^\s]+) ", elf)
    if not m:
        raise Fail("--kernel " + path + " has no \"Linux version\" string: is it a Linux kernel?")
    return m.group(1).decode()


def image_config(elf):
    """The config CONFIG_IKCONFIG stores in the image (what scripts/extract-ikconfig reads), or None."""
    at = elf.find(b"IKCFG_ST")
    if at < 0:
        return None
    try:
        return gunzip(elf[at + 8:]).decode(errors="replace")
    except zlib.error:
        return None


def parse_config(text):
    values = {}
    for line in text.splitlines():
        m = re.match(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$", line)
        if m:
            values[m.group(1)] = m.group(2)
    return values


def missing_options(config, with_modules, elf_boot):
    """What the config lacks for socklab, as 'CONFIG_X (what for)' texts."""
    need = dict(REQUIRED)
    if elf_boot:
        need["CONFIG_PVH"] = ("booting the ELF vmlinux (give the bzImage instead, or set it)", False)
    missing = []
    for option, (what, module_ok) in need.items():
        value = config.get(option)
        if value == "y" or (value == "m" and module_ok and with_modules):
            continue
        why = "a module, and no --modules given" if value == "m" and module_ok else "=m, which will not do" if value == "m" else "not set"
        missing.append("%s (%s: %s)" % (option, what, why))
    return missing


def custom_kernel(spec, cache):
    """A kernel of the user's, {"image", "config", "modules"}: checked, and given a directory in the
    cache as Debian's kernels have (vmlinux or the bzImage, root/lib/modules, root/boot/config)."""
    path = os.path.abspath(spec["image"])
    if not os.path.isfile(path):
        raise Fail("--kernel " + spec["image"] + ": no such file: give the bzImage (arch/x86/boot/bzImage) or vmlinux of your build")
    data = open(path, "rb").read()
    elf_boot = data[:4] == b"\x7fELF"
    elf = kernel_elf(path)
    release = image_release(elf, path)
    if spec.get("config"):
        if not os.path.isfile(spec["config"]):
            raise Fail("--config " + spec["config"] + ": no such file: give the kernel's .config")
        config_text, source = open(spec["config"], errors="replace").read(), spec["config"]
    else:
        config_text, source = image_config(elf), path + " (CONFIG_IKCONFIG)"
        if config_text is None:
            raise Fail("--kernel " + spec["image"] + " holds no config (no CONFIG_IKCONFIG): give its .config with --config FILE")
    modules = spec.get("modules")
    if modules:
        modules = os.path.abspath(modules)
        for candidate in (modules, os.path.join(modules, "lib", "modules", release)):
            if os.path.exists(os.path.join(candidate, "modules.dep")):
                modules = candidate
                break
        else:
            raise Fail("--modules " + spec["modules"] + " holds no modules.dep for " + release +
                       ": give the INSTALL_MOD_PATH of `make modules_install`, or its lib/modules/" + release)
    missing = missing_options(parse_config(config_text), bool(modules), elf_boot)
    if missing:
        raise Fail("kernel " + release + " (" + spec["image"] + ", config from " + source + ") lacks what socklab needs: " +
                   ", ".join(missing) + ("; give its modules with --modules DIR, or" if any("--modules" in m for m in missing)
                                         else ";") + " merge " + os.path.relpath(FRAGMENT) + " into its config and rebuild it")
    digest = hashlib.sha256(data).hexdigest()[:12]
    kdir = os.path.join(cache, "custom", release + "-" + digest)
    root = os.path.join(kdir, "root")
    os.makedirs(os.path.join(root, "lib", "modules"), exist_ok=True)
    os.makedirs(os.path.join(root, "boot"), exist_ok=True)
    link = os.path.join(root, "lib", "modules", release)
    if os.path.lexists(link):
        os.remove(link)
    if modules:
        os.symlink(modules, link)  # the guest sees the host's root: the link resolves there too
    open(os.path.join(root, "boot", "config-" + release), "w").write(config_text)
    image = os.path.join(kdir, "bzImage" if not elf_boot else "vmlinux")
    shutil.copyfile(path, image)
    return {"label": release, "release": release, "package": None, "custom": path, "kdir": kdir, "image": image}
