// What a CI reads: the runs of many variants as KTAP (kselftest's format, which kunit.py and TAP
// harnesses parse) and as JUnit XML. Both are drawn from the runs' report.json data, as the
// terminal, SVG and HTML pictures are; nothing here observes or checks anything.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace socklab {

// One variant in one address family, as a CI sees it: one test.
struct CaseRun {
    std::string scenario, variant, family = "4";  // family: 4, 6 or mapped
    std::vector<nlohmann::json> attempts;        // report.json of each attempt, in order (a second after a flaky-looking failure)
    std::vector<std::string> dirs;               // each attempt's run directory
    std::string skip_reason;                     // not run (e.g. not in this family): why
    std::string error;                           // could not run (socklab's exit 2 for it): the sentence
};

enum class Verdict { pass, fail, flake, skip, error };

// pass: the last attempt passed, at the first try; flake: it passed only on retry (not a pass);
// fail: the last attempt failed; skip: not run, or nothing could be checked; error: could not run.
Verdict verdict(const CaseRun& c);
const char* verdict_name(Verdict v);  // "pass", "fail", "flake", "skip", "error"

// A failure worth one retry: every failed expectation is about timing (retransmit schedules,
// intervals between moments) or a step that did not happen in time, which the machine's load can
// cause. A wrong count, state, call result or exit is the kernel's answer: retrying it would hide it.
bool flaky_looking(const nlohmann::json& report);

// "backlog_overflow.syn_dropped", ".ipv6" or ".mapped" after it in those families: ctest's name.
std::string case_name(const CaseRun& c);

// KTAP version 1: one test per case, its expectations as nested subtests, "# SKIP reason",
// expected and observed as diagnostic lines before a failed one, a plan line at each level.
std::string ktap(const std::vector<CaseRun>& cases);

// JUnit XML: one testsuite per scenario, one testcase per case; <failure> with expected and
// observed, <skipped>, <error>, and for a flake the first attempt as <flakyFailure> (Maven
// Surefire's element for a test that passed on rerun, which Jenkins and GitLab show).
std::string junit(const std::vector<CaseRun>& cases);

}  // namespace socklab
