"""The runs: the suite (from `socklab list --json`), natively for the host kernel and in a qemu guest
for the others, and stopping them all on a signal."""
import json
import os
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
echo "$(date +%s.%N)" > $out/guest-start
uname -r > $out/kernel
export SOCKLAB_MACHINE_SLOW=@SLOW@
while read -r scenario variant family; do
  mkdir -p "$out/$scenario"
  t0=$(date +%s.%N)
  @SOCKLAB@ run "$scenario" --variant "${variant%%.*}" --family "$family" --out "$out/$scenario/$variant" --color never \
    > "$out/$scenario/$variant.stdout" 2> "$out/$scenario/$variant.stderr"
  status=$?
  echo "$status $t0 $(date +%s.%N)" > "$out/$scenario/$variant.status"
  echo "socklab-guest: $scenario/$variant: exit $status"
done < $out/suite.txt
echo "$(date +%s.%N)" > $out/guest-end
sync
/bin/busybox poweroff -f || echo o > /proc/sysrq-trigger
sleep 30
"""


def run_host(build, pairs, out):
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    start = time.time()
    open(os.path.join(out, "kernel"), "w").write(os.uname().release + "\n")
    for scenario, variant in pairs:
        if STOP.is_set():
            break
        os.makedirs(os.path.join(out, scenario), exist_ok=True)
        base = os.path.join(out, scenario, variant)
        t0 = time.time()
        with open(base + ".stdout", "w") as o, open(base + ".stderr", "w") as e:
            name, family = split_key(variant)
            proc = subprocess.Popen([os.path.join(build, "socklab"), "run", scenario, "--variant", name, "--family", family,
                                     "--out", base, "--color", "never"], stdout=o, stderr=e)
            with LOCK:
                RUNS.append(proc)
            status = proc.wait()
            with LOCK:
                RUNS.remove(proc)
        open(base + ".status", "w").write("%d %f %f\n" % (status, t0, time.time()))
        say("host: %s/%s: exit %d (%.1f s)" % (scenario, variant, status, time.time() - t0))
    return {"wall_s": time.time() - start}


def run_guest(build, pairs, out, kdir, release, slow, timeout, memory, image=None):
    """image: what qemu boots (a bzImage, or a vmlinux through PVH); default the kdir's vmlinux."""
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    open(os.path.join(out, "suite.txt"), "w").write("".join("%s %s %s\n" % (s, key, split_key(key)[1]) for s, key in pairs))
    guest = os.path.join(out, "guest.sh")
    text = GUEST.replace("@OUT@", out).replace("@SLOW@", str(slow)).replace("@SOCKLAB@", os.path.join(build, "socklab"))
    open(guest, "w").write(text)
    os.chmod(guest, 0o755)
    initramfs = build_initramfs(kdir, release)
    append = " ".join(["console=ttyS0", "panic=-1", "quiet", "socklab.kdir=" + kdir, "socklab.out=" + out,
                       "socklab.guest=" + guest])
    argv = ["nice", "-n", "10", "qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "1",
            "-m", memory, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-nic", "none",
            "-serial", "file:" + os.path.join(out, "console.log"),
            "-kernel", image or os.path.join(kdir, "vmlinux"), "-initrd", initramfs, "-append", append,
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
            "-virtfs", "local,path=" + out + ",mount_tag=results,security_model=none,multidevs=remap"]
    say(release + ": booting qemu (TCG, -smp 1, no network device) for %d variants" % len(pairs))
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
