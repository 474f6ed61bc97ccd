"""The analysis: key figures from each run's report.json, one cell per variant and kernel, the
differences between kernels and the rules behind them, and the matrix as Markdown and text."""
import json
import os

# ---------------------------------------------------------------------------------------------
# Figures from each run's report.json, cells, and the differences between kernels


def sig2(x):
    return float("%.2g" % x) if x else 0.0


def figures_of(report):
    """A few key figures of one run, each name -> a value comparable across kernels."""
    fig = {}
    addresses = report.get("addresses", {})
    side = {a: s for s, a in addresses.items()}
    # Listener queues at each checkpoint (accept queue length and backlog, as ss shows them). Of
    # several listeners (a reuseport group) only their number and backlogs: how the connections
    # split between them is the group's hash of random client ports, not a kernel rule.
    for cp in report.get("checkpoints", []):
        for s, socks in cp.get("sockets", {}).items():
            listeners = [k for k in socks if k.get("state") == "LISTEN"]
            if len(listeners) == 1:
                value = "recv_q %d send_q %d" % (listeners[0]["recv_q"], listeners[0]["send_q"])
            elif listeners:
                value = "%d listeners, send_q %s" % (len(listeners), " ".join(sorted(str(k["send_q"]) for k in listeners)))
            else:
                continue
            fig["%s listen@%s" % (s, cp["name"])] = value
    # Retransmits on a timer: intervals between copies of one segment (same ports, seq, flags and
    # length; SYN, FIN or data, not bare ACKs), when every interval is at least 0.1 s (shorter ones
    # are fast retransmits or window probes, which depend on scheduling, not on a kernel rule).
    copies = {}
    for p in report.get("packets", []):
        if not ("S" in p["flags"] or "F" in p["flags"] or p.get("len", 0) > 0):
            continue
        key = (p.get("from") or side.get(p["src"], "?"), p["flags"], p["sport"], p["dport"], p["seq"], p.get("len"))
        copies.setdefault(key, []).append(p["t"])
    schedules = {}
    for (s, flags, *_), times in copies.items():
        if len(times) > 1 and all(b - a >= 0.1 for a, b in zip(times, times[1:])):
            gaps = [sig2(b - a) for a, b in zip(times, times[1:])]
            schedules.setdefault("%s %s rtx" % (s, flags), []).append(gaps)
    for name, lists in schedules.items():
        fig[name] = max(lists, key=len)  # the longest schedule: the one that ran to the end
    # Resets and FINs each side sent; a FIN's copies once (they are in the rtx figures, and a slow
    # guest's tail-loss probe may add one that a fast host does not).
    for s in addresses:
        sent = [p for p in report.get("packets", []) if (p.get("from") or side.get(p["src"])) == s]
        fins = {(p["sport"], p["dport"], p["seq"]) for p in sent if "F" in p["flags"]}
        fig[s + " sent R/F"] = "R %d F %d" % (sum("R" in p["flags"] for p in sent), len(fins))
    # Calls that failed, by errno; a call that failed more than once is a program's retry loop,
    # whose count is the machine's speed, not a kernel rule.
    failed = {}
    for e in report.get("events", []):
        b = e.get("body", {})
        if "call" in b and b.get("errno"):
            k = "%s %s %s" % (e["side"], b["call"], b["errno"])
            failed[k] = failed.get(k, 0) + 1
    for s in addresses:
        mine = sorted("%s %s" % (k.split(" ", 1)[1], "x1" if n == 1 else "repeatedly")
                      for k, n in failed.items() if k.startswith(s + " "))
        fig[s + " failed calls"] = ", ".join(mine) if mine else "none"
    for x in report.get("exits", []):
        fig[x["side"] + " exit"] = ("signal %s" % x["signal"]) if x.get("signal") else "status %s" % x.get("status")
    return fig


KEY_FIGURES = ("listen@", " rtx", "sent R/F")  # what a cell shows; every figure goes to the JSON


def cell_of(kernel_out, scenario, variant):
    base = os.path.join(kernel_out, scenario, variant)
    cell = {"status": "missing", "figures": {}, "failed": [], "skipped": [], "expectations": []}
    try:
        status, t0, t1 = open(base + ".status").read().split()
        cell["exit"], cell["seconds"] = int(status), round(float(t1) - float(t0), 1)
    except (OSError, ValueError):
        cell["reason"] = "the run did not finish (see console.log)"
        return cell
    stderr = open(base + ".stderr", errors="replace").read().strip().splitlines() if os.path.exists(base + ".stderr") else []
    report_path = os.path.join(base, "report.json")
    first = None
    if os.path.exists(os.path.join(base + "-retry", "report.json")):
        # socklab retried a flaky-looking failure once (its -retry directory): the retry decides,
        # and a pass on it is a flake.
        first = json.load(open(report_path))
        report_path = os.path.join(base + "-retry", "report.json")
    if not os.path.exists(report_path):
        # socklab refused before anything ran (exit 2): the scenario cannot run on this kernel.
        cell["status"] = "skip" if cell["exit"] == 2 else "fail"
        cell["reason"] = stderr[-1] if stderr else "no report.json (exit %d)" % cell["exit"]
        return cell
    report = json.load(open(report_path))
    cell["report"] = report_path
    cell["kernel"] = report.get("kernel")
    cell["notes"] = report.get("notes", [])
    cell["sysctls"] = report.get("sysctls", {})
    cell["figures"] = figures_of(report)
    for e in report.get("expectations", []):
        cell["expectations"].append({k: e.get(k) for k in ("where", "kind", "side", "subject", "text", "why", "passed", "skipped",
                                                               "expected", "observed")})
        if e.get("skipped"):
            cell["skipped"].append(e["text"] + ": " + e.get("observed", ""))
        elif not e.get("passed"):
            cell["failed"].append(e["text"] + ": expected " + e.get("expected", "") + "; observed " + e.get("observed", ""))
    checked = [e for e in report.get("expectations", []) if not e.get("skipped")]
    cell["status"] = "fail" if cell["failed"] or cell["exit"] == 1 else "pass" if checked else "skip"
    if first is not None:
        cell["first_attempt"] = [e["text"] + ": expected " + e.get("expected", "") + "; observed " + e.get("observed", "")
                                 for e in first.get("expectations", []) if not e.get("skipped") and not e.get("passed")]
        if cell["status"] == "pass":
            cell["status"] = "flake"
    if cell["status"] == "skip":
        cell["reason"] = "no expectation could be checked here"
    return cell


def show(value):
    if isinstance(value, list):
        return "+" + ", ".join("%g" % v for v in value) + " s"
    return str(value)


def same(a, b):
    """Figures agree: equal, or retransmit intervals within 10% (or 0.1 s) of each other."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(abs(x - y) <= max(0.1, 0.1 * max(x, y)) for x, y in zip(a, b))
    return a == b


# Which expectations are about a figure, from the report's fields: (kind, the figure's subject
# part) -> does an expectation's subject match. An expectation without these fields matches nothing.
ABOUT = {"rtx": ("retransmits", lambda subject, what: subject == what.split()[0]),   # "S rtx": flags S
         "listen@": ("socket", lambda subject, what: subject == "LISTEN"),
         "sent R/F": ("packets", lambda subject, what: bool(set(subject or "") & set("RF"))),
         "failed calls": ("call", lambda subject, what: True),
         "exit": ("exit", lambda subject, what: True)}


def about(figure, e):
    """Whether expectation e (a cell's entry) is about figure ("<side> <what>")."""
    side, what = figure.split(" ", 1)
    kind, match = next((v for k, v in ABOUT.items() if k in what), (None, None))
    return kind is not None and e.get("kind") == kind and e.get("side") == side and match(e.get("subject"), what)


def explain(figure, cells):
    """The rules behind a figure: expectations about the same thing (their why, and what each
    kernel's rules made them expect), and sysctls that exist on some kernels only."""
    side = figure.split(" ", 1)[0]
    rules = []
    for e in [e for c in cells.values() for e in c.get("expectations", [])]:
        if about(figure, e) and e.get("why") and e["why"] not in [r["why"] for r in rules]:
            expected = {k: ("not checked here" if x["skipped"] else x["expected"])
                        for k, c in cells.items() for x in c.get("expectations", []) if x["where"] == e["where"]}
            rules.append({"expectation": e["text"], "where": e["where"], "why": e["why"], "expected": expected})
    # Sysctls a kernel lacks or sets differently, for the side the figure is about.
    sysctls = {}
    for k, c in cells.items():
        for name, value in c.get("sysctls", {}).get(side, {}).items():
            sysctls.setdefault(name, {})[k] = value
    kernels = [k for k, c in cells.items() if c.get("sysctls")]
    cited = " ".join(r["why"] + " " + " ".join(map(str, r["expected"].values())) for r in rules)
    for name, values in sorted(sysctls.items()):
        if name.rsplit(".", 1)[-1] not in cited:
            continue  # only the sysctls the rules name
        if len(values) < len(kernels) or len(set(values.values())) > 1:
            shown = {k: values.get(k, "absent") for k in kernels}
            rules.append({"sysctl": side + "." + name, "values": shown})
    return rules


def differences(cells):
    """What differs between the cells of one variant (on several kernels, or in several address
    families): its figures, and the expectations checked in some and skipped in others (each known
    by its place in scenario.json, so a "when" keyed on the kernel, a sysctl or the family)."""
    diffs = []
    ran = {k: c for k, c in cells.items() if c["status"] in ("pass", "fail", "flake")}
    for n in sorted({n for c in cells.values() for n in c["figures"]}):
        vals = {k: c["figures"].get(n) for k, c in ran.items()}
        present = list(vals.values())
        if len(present) > 1 and not all(same(present[0], v) for v in present[1:]):
            diffs.append({"figure": n, "values": {k: show(v) if v is not None else "none" for k, v in vals.items()},
                          "rules": explain(n, ran)})
    keyed, first = {}, {}
    for k, c in cells.items():
        for e in c.get("expectations", []):
            keyed.setdefault(e["where"], {})[k] = "skipped" if e["skipped"] else "checked"
            first.setdefault(e["where"], e)
    for where, values in keyed.items():
        if len(set(values.values())) > 1:
            e = first[where]
            diffs.append({"expectation": e["text"], "where": where, "values": values, "rules": [{"why": e["why"]}]})
    return diffs


def build_matrix(out, kernels, pairs, ran=None):
    """One row per pair; `ran` (a set of (kernel label, scenario, variant)), when given, is what
    this shard ran: the other cells are another shard's."""
    rows = []
    for scenario, variant in pairs:
        cells = {k["label"]: cell_of(k["out"], scenario, variant) if ran is None or (k["label"], scenario, variant) in ran
                 else {"status": "elsewhere", "reason": "in another shard", "figures": {}, "failed": [], "skipped": [],
                       "expectations": []} for k in kernels}
        rows.append({"scenario": scenario, "variant": variant, "cells": cells, "differences": differences(cells)})
    return rows


def family_differences(rows):
    """Per kernel, what differs between the address families of one variant."""
    by_variant = {}
    for r in rows:
        variant, _, suffix = r["variant"].partition(".")
        by_variant.setdefault((r["scenario"], variant), {})[suffix or "ipv4"] = r
    diffs = []
    for (scenario, variant), families in sorted(by_variant.items()):
        if len(families) < 2:
            continue
        for label in next(iter(families.values()))["cells"]:
            for d in differences({f: r["cells"][label] for f, r in families.items()}):
                diffs.append({"scenario": scenario, "variant": variant, "kernel": label, **d})
    return diffs


def cell_text(c):
    if c["status"] in ("skip", "missing", "elsewhere") and c.get("reason"):
        return c["status"] + ": " + c["reason"]
    parts = [c["status"]]
    for n, v in sorted(c["figures"].items()):
        if any(k in n for k in KEY_FIGURES):
            if n.endswith("sent R/F") and v == "R 0 F 0":
                continue
            parts.append(n + " " + show(v))
    if c["failed"]:
        parts.append("FAILED: " + "; ".join(c["failed"]))
    if c.get("first_attempt"):
        parts.append(("passed on retry, a flake; " if c["status"] == "flake" else "failed on retry too; ") +
                     "first attempt: " + "; ".join(c["first_attempt"]))
    return "; ".join(parts)


def markdown(matrix):
    labels = [k["label"] for k in matrix["kernels"]]
    lines = ["# socklab kernel matrix", "",
             "Kernels: " + ", ".join("%s (%s)" % (k["label"], k["release"]) for k in matrix["kernels"]), "",
             "| scenario/variant | " + " | ".join(labels) + " |", "| --- |" + " --- |" * len(labels)]
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    for r in matrix["rows"]:
        lines.append("| %s/%s | " % (r["scenario"], r["variant"]) +
                     " | ".join(esc(cell_text(r["cells"][l])) for l in labels) + " |")
    lines += ["", "## Differences between kernels", ""]
    any_diff = False
    for r in matrix["rows"]:
        for d in r["differences"]:
            any_diff = True
            what = d.get("figure") or "expectation \"%s\" (%s)" % (d["expectation"], d["where"])
            lines.append("- **%s/%s**: %s: %s" % (r["scenario"], r["variant"], esc(what),
                                                  "; ".join("%s %s" % (k, esc(v)) for k, v in d["values"].items())))
            for rule in d["rules"]:
                if "sysctl" in rule:
                    lines.append("  - sysctl %s: %s" % (rule["sysctl"], ", ".join("%s %s" % kv for kv in rule["values"].items())))
                else:
                    lines.append("  - rule: %s" % esc(rule["why"]))
                    if rule.get("expected") and len(set(rule["expected"].values())) > 1:
                        lines.append("    (expected: " + "; ".join("%s: %s" % (k, esc(v)) for k, v in rule["expected"].items()) + ")")
    if not any_diff:
        lines.append("None: every figure agrees across the kernels.")
    if "family_differences" in matrix:
        lines += ["", "## Differences between address families", ""]
        for d in matrix["family_differences"]:
            what = d.get("figure") or "expectation \"%s\" (%s)" % (d["expectation"], d["where"])
            lines.append("- **%s/%s** on %s: %s: %s" % (d["scenario"], d["variant"], d["kernel"], esc(what),
                                                        "; ".join("%s %s" % (k, esc(v)) for k, v in d["values"].items())))
            for rule in d["rules"]:
                if "why" in rule:
                    lines.append("  - rule: %s" % esc(rule["why"]))
        if not matrix["family_differences"]:
            lines.append("None: on every kernel, every figure agrees across IPv4, IPv6 and mapped.")
    lines += ["", "## Timings", ""]
    if matrix.get("accel"):
        lines += ["Guests under %s (%s), SOCKLAB_MACHINE_SLOW=%g." % (matrix["accel"].upper(), matrix["accel_why"],
                                                                      matrix["slow_factor"]), ""]
    for k in matrix["kernels"]:
        lines.append("- %s (%s): %s" % (k["label"], k["release"],
                                        ", ".join(("%s %d" % (n, v)) if n == "cpus" else "%s %.1f s" % (n, v)
                                                  for n, v in k["timing"].items())))
    return "\n".join(lines) + "\n"


def terminal(matrix):
    labels = [k["label"] for k in matrix["kernels"]]
    width = max(len("%s/%s" % (r["scenario"], r["variant"])) for r in matrix["rows"]) if matrix["rows"] else 20
    lines = []
    for r in matrix["rows"]:
        lines.append("%s/%s" % (r["scenario"], r["variant"]))
        for l in labels:
            lines.append("    %-8s %s" % (l, cell_text(r["cells"][l])))
    summary = "%-*s " % (width, "") + "  ".join("%-8s" % l for l in labels)
    lines.append("")
    lines.append(summary)
    for r in matrix["rows"]:
        lines.append("%-*s " % (width, "%s/%s" % (r["scenario"], r["variant"])) +
                     "  ".join("%-8s" % r["cells"][l]["status"] for l in labels))
    md = markdown(matrix)
    lines.append("")
    lines.append(md[md.index("## Differences"):])
    return "\n".join(lines)
