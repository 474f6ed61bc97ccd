// Unit tests of the CI outputs (report/ci.hpp): verdicts, which failures are retried, and the KTAP
// and JUnit text of a pass, a failure, a flake and a skip. The reports are report.json's shape,
// cut down to what the writers read. (tests/ci-check.py feeds a real run's output to kunit's
// parser and prove.)
#include <catch2/catch.hpp>

#include "report/ci.hpp"

using namespace socklab;
using nlohmann::json;

namespace {

json expectation(const std::string& text, bool passed, const std::string& kind = "socket", bool skipped = false) {
    return {{"text", text}, {"passed", passed}, {"skipped", skipped}, {"kind", kind}, {"where", "variants.v.timeline[3]"},
            {"expected", "3"}, {"observed", "4"}};
}

json report(std::vector<json> expectations) {
    return {{"duration_s", 0.5}, {"expectations", expectations}};
}

CaseRun one(std::vector<json> attempts, const std::string& family = "4") {
    CaseRun c;
    c.scenario = "s";
    c.variant = "v";
    c.family = family;
    c.attempts = std::move(attempts);
    for (size_t i = 0; i < c.attempts.size(); ++i) c.dirs.push_back("captures/s/v-" + std::to_string(i));
    return c;
}

}  // namespace

TEST_CASE("ci: verdicts", "[ci]") {
    const json pass = report({expectation("a", true)}), fail = report({expectation("a", false)});
    CHECK(verdict(one({pass})) == Verdict::pass);
    CHECK(verdict(one({fail})) == Verdict::fail);
    CHECK(verdict(one({fail, pass})) == Verdict::flake);  // passed only on retry: not a pass
    CHECK(verdict(one({fail, fail})) == Verdict::fail);
    CHECK(verdict(one({report({expectation("a", false, "socket", true)})})) == Verdict::skip);  // nothing checked
    CaseRun skipped = one({});
    skipped.skip_reason = "not run in family 6";
    CHECK(verdict(skipped) == Verdict::skip);
    CaseRun error = one({});
    error.error = "nft is not installed";
    CHECK(verdict(error) == Verdict::error);
    CHECK(case_name(one({pass}, "6")) == "s.v.ipv6");
    CHECK(case_name(one({pass}, "mapped")) == "s.v.mapped");
}

TEST_CASE("ci: only timing failures and missed deadlines look flaky", "[ci]") {
    CHECK(flaky_looking(report({expectation("rtx", false, "retransmits"), expectation("a", true)})));
    CHECK(flaky_looking(report({expectation("gap", false, "interval")})));
    json step = expectation("the choreography", false, "");
    step["where"] = "steps";
    CHECK(flaky_looking(report({step})));
    // A wrong count beside a timing failure is the kernel's answer: no retry.
    CHECK_FALSE(flaky_looking(report({expectation("rtx", false, "retransmits"), expectation("queue", false, "socket")})));
    CHECK_FALSE(flaky_looking(report({expectation("a", true)})));  // nothing failed
}

TEST_CASE("ci: KTAP of a pass, a failure, a flake and a skip", "[ci]") {
    CaseRun skipped = one({}, "6");
    skipped.skip_reason = "not run in family 6";
    json failing = report({expectation("count # of FINs", false), expectation("needs tracefs", false, "trace", true)});
    failing["expectations"][1]["observed"] = "no tracefs";
    const std::string text = ktap({one({report({expectation("a", true)})}), one({failing}),
                                   one({report({expectation("rtx", false, "retransmits")}), report({expectation("rtx", true)})}),
                                   skipped});
    CHECK(text.starts_with("KTAP version 1\n1..4\n"));
    CHECK(text.find("    KTAP version 1\n    # Subtest: s.v\n    1..1\n    ok 1 a\n") != std::string::npos);
    CHECK(text.find("ok 1 s.v\n") != std::string::npos);
    // A failure: expected and observed before its result; '#' would start a directive, so it is replaced.
    CHECK(text.find("    # expected: 3\n    # observed: 4\n    not ok 1 count + of FINs\n") != std::string::npos);
    CHECK(text.find("    ok 2 needs tracefs # SKIP no tracefs\n") != std::string::npos);
    CHECK(text.find("not ok 2 s.v\n") != std::string::npos);
    // A flake: ok, said to be a flake, with the first attempt's failure.
    CHECK(text.find("# s.v: FLAKE: failed on its first attempt, passed on retry") != std::string::npos);
    CHECK(text.find("# first attempt: rtx: expected 3; observed 4\n") != std::string::npos);
    CHECK(text.find("ok 3 s.v\n") != std::string::npos);
    CHECK(text.find("ok 4 s.v.ipv6 # SKIP not run in family 6\n") != std::string::npos);
    CHECK(text.find("# socklab: 1 passed, 1 flaky (passed on retry), 1 failed, 1 skipped, 0 could not run\n") !=
          std::string::npos);
}

TEST_CASE("ci: JUnit of a failure, a flake, a skip and an error", "[ci]") {
    CaseRun skipped = one({}, "6");
    skipped.skip_reason = "not run in family 6";
    CaseRun error = one({}, "mapped");
    error.error = "nft <missing> & \"more\"";
    const std::string xml = junit({one({report({expectation("a < b", false)})}),
                                   one({report({expectation("rtx", false, "retransmits")}), report({expectation("rtx", true)})}),
                                   skipped, error});
    CHECK(xml.find("<testsuites name=\"socklab\" tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\">") != std::string::npos);
    CHECK(xml.find("<testcase classname=\"socklab.s\" name=\"v\" time=\"0.500\">") != std::string::npos);
    CHECK(xml.find("message=\"1 of 1 expectations failed\">a &lt; b: expected 3; observed 4\n</failure>") != std::string::npos);
    CHECK(xml.find("<flakyFailure type=\"expectation\" message=\"failed on its first attempt, passed on retry\">rtx: expected 3") !=
          std::string::npos);
    CHECK(xml.find("name=\"v\" time=\"1.000\"") != std::string::npos);  // the flake's two attempts
    CHECK(xml.find("<skipped message=\"not run in family 6\"/>") != std::string::npos);
    CHECK(xml.find("<error type=\"environment\" message=\"nft &lt;missing&gt; &amp; &quot;more&quot;\"/>") != std::string::npos);
}
