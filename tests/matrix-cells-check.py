#!/usr/bin/env python3
"""kernel-matrix's cells of a retried run (analysis.cell_of): a run whose -retry directory passed is
a flake, shown as such in the table; one whose retry failed too is a fail; one never retried is
as before. Run folders made by hand, in the layout the matrix writes."""
import json
import os
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from kernel_matrix.analysis import cell_of, cell_text  # noqa: E402


def report(passed):
    return {"expectations": [{"where": "variants.v.timeline[4]", "kind": "retransmits", "side": "client", "text": "client S rtx",
                              "why": "tcp_retransmit_timer", "passed": passed, "skipped": False, "expected": "+1 s",
                              "observed": "+1 s" if passed else "+1.3 s"}]}


def write(kernel, variant, attempts, exit_status):
    base = os.path.join(kernel, "s", variant)
    for i, passed in enumerate(attempts):
        d = base + ("-retry" if i else "")
        os.makedirs(d)
        json.dump(report(passed), open(os.path.join(d, "report.json"), "w"))
    open(base + ".status", "w").write("%d 0 1\n" % exit_status)


with tempfile.TemporaryDirectory() as kernel:
    write(kernel, "flaky", [False, True], 0)
    write(kernel, "broken", [False, False], 1)
    write(kernel, "plain", [True], 0)
    cells = {v: cell_of(kernel, "s", v) for v in ("flaky", "broken", "plain")}
    got = {v: c["status"] for v, c in cells.items()}
    want = {"flaky": "flake", "broken": "fail", "plain": "pass"}
    if got != want:
        sys.exit("matrix-cells-check: FAIL: statuses %s, not %s" % (got, want))
    if "passed on retry, a flake; first attempt: client S rtx: expected +1 s; observed +1.3 s" not in cell_text(cells["flaky"]):
        sys.exit("matrix-cells-check: FAIL: the flake's cell does not say so: " + cell_text(cells["flaky"]))
    if "failed on retry too" not in cell_text(cells["broken"]):
        sys.exit("matrix-cells-check: FAIL: the failed retry's cell does not say so: " + cell_text(cells["broken"]))
    print("matrix-cells-check: flake, fail on retry and plain pass cells as they must be")
