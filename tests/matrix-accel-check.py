#!/usr/bin/env python3
"""kernel-matrix's choice of accelerator (runs.choose_accel): KVM only when /dev/kvm opens and a
probe guest boots under it, TCG otherwise, each with the reason the matrix reports. No /dev/kvm or qemu is needed: both are stood in for."""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from kernel_matrix.runs import choose_accel  # noqa: E402

probed = []


def probe(answer):
    def run():
        probed.append(answer)
        return answer
    return run


def check(got, want):
    if got != want:
        sys.exit("matrix-accel-check: FAIL: %r, expected %r" % (got, want))


# No /dev/kvm (or not openable): TCG, and no guest is booted to find out.
check(choose_accel(lambda: False, probe((True, ""))), ("tcg", "/dev/kvm cannot be opened"))
check(probed, [])
# /dev/kvm opens and a guest boots: KVM.
check(choose_accel(lambda: True, probe((True, ""))), ("kvm", "a probe guest booted under KVM"))
# /dev/kvm opens but the guest fails or hangs (this machine's nested KVM): TCG, saying why.
check(choose_accel(lambda: True, probe((False, "did not power off within 20 s"))),
      ("tcg", "/dev/kvm opens, but a probe guest did not power off within 20 s"))
check(len(probed), 2)
print("matrix-accel-check: TCG without /dev/kvm, KVM when a probe guest boots, TCG when it does not, each with its reason")
