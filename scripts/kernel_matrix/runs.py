"""The runs: the suite (from `socklab list --json`), natively for the host kernel and in a qemu guest
for the others, and stopping them all on a signal."""
import json
import os
import shlex
import shutil
import signal
import subprocess
import threading
import time

from .common import LOCK, Fail, run, say
from .kernels import build_initramfs

# ---------------------------------------------------------------------------------------------
# Running the suite: natively for the host kernel, in a qemu guest for the others


# A variant in a family is named as its ctest test is: "time_wait" (IPv4), "time_wait.ipv6",
# "time_wait.mapped".
SUFFIX = {"4": "", "6": ".ipv6", "mapped": ".mapped"}


def split_key(key):
    """"time_wait.ipv6" -> ("time_wait", "6")."""
    variant, _, suffix = key.partition(".")
    return variant, {"": "4", "ipv6": "6", "mapped": "mapped"}[suffix]


def suite(build, scenario_filter, variant_filter, families):
    """(scenario, variant in a family) pairs from the build's `socklab list --json`; a scenario
    that does not load (socklab exits 2 and names it) or is not built is left out, and said so."""
    r = run([os.path.join(build, "socklab"), "list", "--json"])
    try:
        scenarios = json.loads(r.stdout)["scenarios"]
    except (ValueError, KeyError):
        raise Fail("socklab list --json failed (exit %d): %s" % (r.returncode, r.stderr.strip()[-300:]))
    pairs = []
    for s in scenarios:
        name = s["name"]
        if scenario_filter and name not in scenario_filter:
            continue
        if "error" in s:
            say(name + ": cannot be loaded (" + s["error"] + "), left out")
            continue
        if not os.path.exists(os.path.join(build, "scenarios", name, "client")):
            say(name + ": not built in " + build + ", left out")
            continue
        pairs += [(name, v["name"] + SUFFIX[f]) for f in families for v in s["variants"]
                  if f in v.get("families", families) and (not variant_filter or name + "/" + v["name"] in variant_filter)]
    return pairs


GUEST = r"""#!/bin/bash
# Runs in the guest as PID 1 (written by scripts/kernel-matrix; the results share is $out).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
out=@OUT@
mount -t tmpfs tmpfs /run; mkdir -p /run/netns /run/lock  # the host's /run (its netns) stays out
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
echo "$(date +%s.%N)" > "$out/guest-start"
uname -r > "$out/kernel"
export SOCKLAB_MACHINE_SLOW=@SLOW@
# The cases side by side, as on the host (socklab's default --jobs from the guest's CPUs and its
# slowness); each case's .stdout, .stderr and .status beside its run directory, KTAP for them all,
# and no pictures (0.4-0.5 s a cell under TCG, measured with socklab show in a 6.1 guest:
# socklab show DIR draws them on the host).
# The runs write to the guest's own tmpfs, and come back over 9p in one copy at the end: under
# TCG every 9p write (a program's log line) is a round trip through the emulator.
mkdir -p /tmp/runs
@SOCKLAB@ run --cases "$out/suite.txt" --out /tmp/runs --ktap --no-pictures > "$out/socklab.ktap" 2> "$out/socklab.stderr"
echo "socklab-guest: exit $?"
cp -a /tmp/runs/. "$out/"
echo "$(date +%s.%N)" > "$out/guest-end"
sync
/bin/busybox poweroff -f || echo o > /proc/sysrq-trigger
sleep 30
"""


def write_suite(pairs, out):
    """The cases for socklab run --cases: one "scenario variant family" a line."""
    path = os.path.join(out, "suite.txt")
    open(path, "w").write("".join("%s %s %s\n" % ((s,) + split_key(key)) for s, key in pairs))
    return path


def run_host(build, pairs, out):
    """The cases side by side on the host: socklab's own scheduler (run --cases --out)."""
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    start = time.time()
    open(os.path.join(out, "kernel"), "w").write(os.uname().release + "\n")
    argv = [os.path.join(build, "socklab"), "run", "--cases", write_suite(pairs, out), "--out", out, "--ktap", "--no-pictures"]
    with open(os.path.join(out, "socklab.ktap"), "w") as o, open(os.path.join(out, "socklab.stderr"), "w") as e:
        with LOCK:
            if STOP.is_set():
                return {"wall_s": 0.0}
            proc = subprocess.Popen(argv, stdout=o, stderr=e)
            RUNS.append(proc)
        status = proc.wait()
        with LOCK:
            RUNS.remove(proc)
    say("host: %d runs: exit %d (%.1f s)" % (len(pairs), status, time.time() - start))
    return {"wall_s": time.time() - start}


# ---------------------------------------------------------------------------------------------
# The guest's accelerator: KVM where it works, TCG otherwise


KVM_SLOW = 2    # SOCKLAB_MACHINE_SLOW under KVM: a virtual CPU runs at nearly the host's speed
PROBE_S = 20    # a probe guest that has not powered off by then is taken for a hang


def choose_accel(kvm_opens, probe):
    """("kvm" or "tcg", why): KVM when /dev/kvm opens and a probe guest boots under it. Both
    are callables, so that the choice is tested without /dev/kvm or a guest."""
    if not kvm_opens():
        return "tcg", "/dev/kvm cannot be opened"
    ok, why = probe()
    return ("kvm", "a probe guest booted under KVM") if ok else ("tcg", "/dev/kvm opens, but a probe guest " + why)


def kvm_opens():
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC))
        return True
    except OSError:
        return False


def kvm_probe(kdir, release, cache):
    """(booted, why not): the kernel under KVM with an /init that only says so and powers off.
    Remembered in the cache for this boot of the host (its boot_id) and this qemu: a hang costs
    PROBE_S seconds."""
    qemu = run(["qemu-system-x86_64", "--version"]).stdout.split("\n")[0]
    boot_id = open("/proc/sys/kernel/random/boot_id").read().strip()
    memo = os.path.join(cache, "kvm-probe.json")
    key = "%s %s %s" % (boot_id, qemu, release)
    try:
        known = json.load(open(memo))
    except (OSError, ValueError):
        known = {}
    if key in known:
        return tuple(known[key])
    argv = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-smp", "1", "-m", "256M", "-nodefaults",
            "-no-user-config", "-display", "none", "-no-reboot", "-nic", "none", "-serial", "stdio",
            "-kernel", os.path.join(kdir, "vmlinux"), "-initrd", build_initramfs(kdir, release),
            "-append", "console=ttyS0 panic=-1 quiet socklab.probe=1"]
    say("probing KVM with %s: a guest that only powers off (at most %d s)" % (release, PROBE_S))
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=PROBE_S, check=False)
        text = (r.stdout + r.stderr).decode(errors="replace")
        lines = text.strip().splitlines() or ["no output"]
        answer = [True, ""] if "socklab-init: probe" in text else [False, "failed: " + lines[-1][:200]]
    except subprocess.TimeoutExpired:
        answer = [False, "did not power off within %d s" % PROBE_S]
    known[key] = answer
    json.dump(known, open(memo, "w"))
    return tuple(answer)


def run_guest(build, pairs, out, kdir, release, slow, timeout, memory, accel, cpus, image=None):
    """image: what qemu boots (a bzImage, or a vmlinux through PVH); default the kdir's vmlinux.
    accel: "kvm" or "tcg"; cpus: the guest's -smp (socklab's runs go side by side on them)."""
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    write_suite(pairs, out)
    guest = os.path.join(out, "guest.sh")
    text = (GUEST.replace("@OUT@", shlex.quote(out)).replace("@SLOW@", str(slow))
            .replace("@SOCKLAB@", shlex.quote(os.path.join(build, "socklab"))))
    open(guest, "w").write(text)
    os.chmod(guest, 0o755)
    initramfs = build_initramfs(kdir, release)
    append = " ".join(["console=ttyS0", "panic=-1", "quiet", "socklab.kdir=" + kdir, "socklab.out=" + out,
                       "socklab.guest=" + guest])
    cpu = ["-accel", "kvm", "-cpu", "host"] if accel == "kvm" else ["-accel", "tcg,thread=multi", "-cpu", "max"]
    argv = ["nice", "-n", "10", "qemu-system-x86_64"] + cpu + ["-smp", str(cpus),
            "-m", memory, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-nic", "none",
            "-serial", "file:" + os.path.join(out, "console.log"),
            "-kernel", image or os.path.join(kdir, "vmlinux"), "-initrd", initramfs, "-append", append,
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
            "-virtfs", "local,path=" + out + ",mount_tag=results,security_model=none,multidevs=remap"]
    say("%s: booting qemu (%s, -smp %d, no network device) for %d runs" % (release, accel.upper(), cpus, len(pairs)))
    start = time.time()
    with LOCK:
        if STOP.is_set():
            return {"wall_s": 0.0}
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        QEMUS.append(proc)
    try:
        qemu_out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_qemu(proc)
        qemu_out = ""
        say(release + ": the guest did not finish within %d s: stopped" % timeout)
    finally:
        with LOCK:
            QEMUS.remove(proc)
    if proc.returncode not in (0, None) and qemu_out:
        say(release + ": qemu: " + qemu_out.decode(errors="replace").strip()[-400:])
    wall = time.time() - start
    figures = {"wall_s": wall}
    try:
        g0 = float(open(os.path.join(out, "guest-start")).read())
        figures["boot_s"] = g0 - start
    except (OSError, ValueError):
        pass
    say("%s: guest done in %.1f s" % (release, wall))
    figures["cpus"] = cpus
    return figures


QEMUS = []   # guests running now
RUNS = []    # host runs of socklab running now
STOP = threading.Event()  # set on SIGINT/SIGTERM: no new run or guest starts


def stop_everything():
    """Stops every guest and host run now; socklab cleans up after itself on SIGTERM."""
    STOP.set()
    with LOCK:
        for p in list(QEMUS):
            stop_qemu(p)
        for p in RUNS:
            if p.poll() is None:
                p.terminate()


def stop_qemu(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # our own qemu, in a session of its own
        proc.wait()
