#!/usr/bin/env python3
"""The CI outputs of `socklab run --all` checked by real consumers.

    ci-check.py ktap <socklab> <work dir>

Runs `socklab --scenarios <small suite> run --all --ktap --junit` on a few quick scenarios (symlinked
from scenarios/) and two edited copies: rst_on_close_unread with a wrong FIN count (a failure that
is the kernel's answer: not retried) and abortive_close with a wrong linger interval (a timing
failure: retried once, and failing again). Then:
  - the kernel's own KTAP parser (tools/testing/kunit/kunit_parser.py, from Debian's
    linux-source-6.1 in /usr/src, extracted once into <work dir>/kunit) must parse it without an
    error and find each case the listing has, with the verdict the run had; `kunit.py parse` must
    exit 1 (some failed);
  - prove (Perl's TAP harness) must read it without a parse error and fail exactly those cases;
  - the JUnit file must be XML with one testcase per case, failures with expected and observed;
  - every retried case has its first attempt and its retry on disk.
Each check is also shown to reject a malformed copy of the output (a wrong plan, no version line,
a subtest outside its indentation, a result without its number), so that it cannot pass on
anything.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = ["close_vs_shutdown", "simultaneous_close"]  # simultaneous_close: two variants not in IPv6 (SKIP)
EDITS = {"rst_on_close_unread": ('"packets": "server F.", "count": 0', '"packets": "server F.", "count": 5'),
         "abortive_close": ('"timer": 0, "name": "blocked"', '"timer": 5, "name": "blocked"')}
LINUX_SOURCE = "/usr/src/linux-source-6.1.tar.xz"


def fail(message):
    print("ci-check: FAIL: " + message)
    sys.exit(1)


def kunit_dir(work):
    """tools/testing/kunit of Debian's linux-source-6.1, extracted once (about 30 s of xz)."""
    target = os.path.join(work, "kunit", "linux-source-6.1", "tools", "testing", "kunit")
    if not os.path.exists(os.path.join(target, "kunit_parser.py")):
        if not os.path.exists(LINUX_SOURCE):
            fail(LINUX_SOURCE + " is missing: apt-get install linux-source-6.1 (scripts/setup installs it)")
        os.makedirs(os.path.join(work, "kunit"), exist_ok=True)
        subprocess.run(["tar", "-xJf", LINUX_SOURCE, "-C", os.path.join(work, "kunit"), "--wildcards",
                        "linux-source-6.1/tools/testing/kunit/*"], check=True)
    return target


def kunit_problems(kunit, text):
    """What the kernel's parser says is wrong with `text`, and the verdict of each top-level test."""
    sys.path.insert(0, kunit)
    import kunit_parser  # noqa: E402  the kernel's own
    import io
    import contextlib
    import kunit_printer  # noqa: E402
    log = io.StringIO()
    kunit_parser.stdout = kunit_printer.Printer(log)  # its messages, [ERROR] lines among them, read here
    with contextlib.redirect_stdout(log):
        test = kunit_parser.parse_run_tests(text.splitlines())
    problems = [line for line in log.getvalue().splitlines() if "[ERROR]" in line]
    if test.counts.errors:
        problems.append("%d errors" % test.counts.errors)
    names = {"SUCCESS": "pass", "FAILURE": "fail", "SKIPPED": "skip"}
    verdicts = {t.name: names.get(t.status.name, t.status.name) for t in test.subtests}
    return problems, verdicts


def prove_problems(text, path):
    open(path, "w").write(text)
    r = subprocess.run(["prove", "--exec", "cat", path], capture_output=True, text=True)
    out = r.stdout + r.stderr
    problems = [line for line in out.splitlines() if "Parse errors" in line or "parse error" in line.lower()]
    failed = set()
    m = re.search(r"Failed tests?:\s*([0-9, \-]+)", out)
    if m:
        for part in m.group(1).replace(" ", "").split(","):
            if "-" in part:
                a, b = part.split("-")
                failed.update(range(int(a), int(b) + 1))
            elif part:
                failed.add(int(part))
    tests = re.search(r"Tests=(\d+)", out)
    return problems, failed, int(tests.group(1)) if tests else -1, out


def malformed(text):
    """Copies of a good KTAP text, each broken in one way a consumer must notice."""
    lines = text.splitlines()
    plan = next(i for i, l in enumerate(lines) if re.match(r"^1\.\.\d+$", l))
    n = int(lines[plan][3:])
    first_sub = next(i for i, l in enumerate(lines) if l.startswith("    ok "))
    top_ok = next(i for i, l in enumerate(lines) if l.startswith("ok "))
    yield "a wrong plan", "\n".join(lines[:plan] + ["1..%d" % (n + 1)] + lines[plan + 1:])
    yield "no version line", "\n".join(lines[1:])
    yield "a subtest result outside its indentation", "\n".join(
        lines[:first_sub] + [lines[first_sub].strip()] + lines[first_sub + 1:])
    yield "a result without its number", "\n".join(
        lines[:top_ok] + [re.sub(r"^ok \d+ ", "ok ", lines[top_ok])] + lines[top_ok + 1:])


def expected_cases(socklab, suite):
    listing = json.loads(subprocess.run([socklab, "--scenarios", suite, "list", "--json"], capture_output=True,
                                        text=True, check=True).stdout)
    cases = []
    for s in listing["scenarios"]:
        for f in ("4", "6", "mapped"):
            for v in s["variants"]:
                suffix = {"4": "", "6": ".ipv6", "mapped": ".mapped"}[f]
                cases.append((s["name"] + "." + v["name"] + suffix, f in v["families"]))
    return cases


def main():
    if len(sys.argv) != 4 or sys.argv[1] != "ktap":
        sys.exit(__doc__)
    socklab, work = os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    kunit = kunit_dir(work)
    tmp = os.path.join(work, "ci-check")
    shutil.rmtree(tmp, ignore_errors=True)
    suite = os.path.join(tmp, "scenarios")
    os.makedirs(suite)
    for name in QUICK:
        os.symlink(os.path.join(SOURCE, "scenarios", name), os.path.join(suite, name))
    for name, (old, new) in EDITS.items():
        shutil.copytree(os.path.join(SOURCE, "scenarios", name), os.path.join(suite, name))
        path = os.path.join(suite, name, "scenario.json")
        text = open(path).read()
        if old not in text:
            fail("%s no longer holds %s: update the edit in this check" % (path, old))
        open(path, "w").write(text.replace(old, new, 1))
    junit = os.path.join(tmp, "junit.xml")
    r = subprocess.run([socklab, "--scenarios", suite, "run", "--all", "--ktap", "--junit", junit,
                        "--captures", os.path.join(tmp, "captures"), "--color", "never"], capture_output=True, text=True)
    open(os.path.join(tmp, "ktap.txt"), "w").write(r.stdout)
    open(os.path.join(tmp, "stderr.txt"), "w").write(r.stderr)
    print("socklab run --all --ktap: exit %d, %d lines of KTAP (in %s/ktap.txt)" % (r.returncode, len(r.stdout.splitlines()), tmp))
    if r.returncode != 1:
        fail("socklab run --all exited %d, not 1 (two edited scenarios fail): %s" % (r.returncode, r.stderr[-500:]))
    if not r.stdout.startswith("KTAP version 1\n"):
        fail("stdout does not start with KTAP version 1: the timeline or progress leaked into it")

    # Which cases must fail: those whose edited expectation they keep (from each case's report).
    cases = expected_cases(socklab, suite)
    ran = [name for name, runs in cases if runs]
    must_fail = {name for name in ran if name.split(".")[0] in EDITS}
    problems, verdicts = kunit_problems(kunit, r.stdout)
    if problems:
        fail("kunit_parser: " + "; ".join(problems))
    if list(verdicts) != [name for name, _ in cases]:
        fail("kunit_parser found the tests %s, not the listing's %s" % (list(verdicts), [n for n, _ in cases]))
    for name, runs in cases:
        want = "skip" if not runs else None
        if want and verdicts[name] != want:
            fail("%s: kunit_parser says %s, not skip (it does not run in that family)" % (name, verdicts[name]))
    failed = {n for n, v in verdicts.items() if v == "fail"}
    if not failed or not failed <= must_fail:
        fail("the failed tests %s are not a non-empty subset of the edited scenarios' %s" % (sorted(failed), sorted(must_fail)))
    for scenario in EDITS:
        if not any(n.startswith(scenario + ".") for n in failed):
            fail("no test of the edited " + scenario + " failed")
    print("kunit_parser: %d tests, no error; failed: %s" % (len(verdicts), ", ".join(sorted(failed))))
    cli = subprocess.run([sys.executable, os.path.join(kunit, "kunit.py"), "parse", os.path.join(tmp, "ktap.txt")],
                         capture_output=True, text=True)
    if cli.returncode != 1 or "[ERROR]" in cli.stdout:
        fail("kunit.py parse exited %d (1 expected: tests failed) or reported an error:\n%s" % (cli.returncode, cli.stdout[-800:]))
    summary = [line for line in cli.stdout.splitlines() if "Testing complete" in line]
    print("kunit.py parse: exit 1, " + (summary[-1].split("] ", 1)[-1] if summary else "no summary"))

    numbers = {name: i + 1 for i, (name, _) in enumerate(cases)}
    p_problems, p_failed, p_tests, out = prove_problems(r.stdout, os.path.join(tmp, "prove.t"))
    if p_problems or p_tests != len(cases) or p_failed != {numbers[n] for n in failed}:
        fail("prove: parse errors %s, %d tests (%d expected), failed %s (%s expected):\n%s" % (
            p_problems, p_tests, len(cases), sorted(p_failed), sorted(numbers[n] for n in failed), out[-800:]))
    print("prove: %d tests, no parse error, failed %s" % (p_tests, sorted(p_failed)))

    # The retried cases: abortive_close's timing failure, both attempts on disk; not rst_on_close_unread's.
    retried = [line for line in r.stderr.splitlines() if "looks flaky" in line]
    if not retried or any("rst_on_close_unread" in line for line in retried):
        fail("the timing failure was not retried, or the count failure was: %s" % retried)
    dirs = [d for d in os.listdir(os.path.join(tmp, "captures", "abortive_close")) if d.endswith("-retry")]
    if len(dirs) != len(retried):
        fail("%d retries said, %d retry run directories" % (len(retried), len(dirs)))
    print("retried once: %d timing failures (each failed again: fail, not flake), their retries in -retry directories" % len(dirs))

    root = ET.parse(junit).getroot()
    testcases = root.findall("./testsuite/testcase")
    if len(testcases) != len(cases):
        fail("JUnit: %d testcases, %d expected" % (len(testcases), len(cases)))
    junit_failed = {tc.get("classname").split(".", 1)[1] + "." + tc.get("name") for tc in testcases if tc.find("failure") is not None}
    if junit_failed != failed:
        fail("JUnit failures %s differ from KTAP's %s" % (sorted(junit_failed), sorted(failed)))
    for tc in testcases:
        f = tc.find("failure")
        if f is not None and ("expected" not in f.text or "observed" not in f.text):
            fail("JUnit failure without expected and observed: " + f.text)
    skipped = sum(tc.find("skipped") is not None for tc in testcases)
    if skipped != sum(not runs for _, runs in cases) or int(root.get("failures")) != len(failed):
        fail("JUnit: %d skipped, failures=%s" % (skipped, root.get("failures")))
    print("JUnit: %d testcases, %d failures with expected and observed, %d skipped" % (len(testcases), len(failed), skipped))

    # The checks above must reject broken KTAP: otherwise they prove nothing.
    for what, text in malformed(r.stdout):
        k_problems, k_verdicts = kunit_problems(kunit, text)
        p_problems, p_failed2, p_tests2, _ = prove_problems(text, os.path.join(tmp, "malformed.t"))
        kunit_caught = bool(k_problems) or list(k_verdicts) != [n for n, _ in cases]
        prove_caught = bool(p_problems) or p_tests2 != len(cases) or p_failed2 != p_failed
        if not (kunit_caught or prove_caught):
            fail("neither kunit_parser nor prove notices " + what)
        print("malformed (%s): caught by %s" % (what, " and ".join(
            n for n, c in (("kunit_parser", kunit_caught), ("prove", prove_caught)) if c)))
    print("ci-check: the KTAP and JUnit of socklab run --all are accepted by kunit_parser, kunit.py parse, prove and ElementTree")


if __name__ == "__main__":
    main()
