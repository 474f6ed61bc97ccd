#include "report/ci.hpp"

#include <map>
#include <sstream>

#include "report/report.hpp"
#include "report/text.hpp"

namespace socklab {

using nlohmann::json;

namespace {

// A KTAP name or directive ends at '#' and at the line's end: neither may appear in one.
std::string ktap_text(std::string text) {
    for (char& c : text)
        if (c == '#') c = '+';
        else if (c == '\n' || c == '\r') c = ' ';
    return text;
}

std::string xml_text(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default:
                // XML 1.0 allows no control characters but tab, newline and carriage return.
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += ' ';
                else out += c;
        }
    }
    return out;
}

bool failed(const json& e) { return !bool_field(e, "skipped") && !bool_field(e, "passed"); }

// "text: expected X; observed Y" for each failed expectation of a report, one a line.
std::string failures_text(const json& report) {
    std::string out;
    for (const auto& e : array_field(report, "expectations"))
        if (failed(e))
            out += text_field(e, "text") + ": expected " + text_field(e, "expected") + "; observed " +
                   text_field(e, "observed") + "\n";
    return out;
}

std::string seconds_text(const CaseRun& c) {
    double total = 0;
    for (const auto& r : c.attempts) total += number_field(r, "duration_s");
    return fixed_text(total, 3);
}

// Nothing could be checked: every expectation skipped (e.g. all need tracefs, which is missing).
bool nothing_checked(const json& report) {
    const Tally t = tally(array_field(report, "expectations"));
    return t.passed == 0 && t.failed == 0;
}

std::string skip_text(const CaseRun& c) {
    if (!c.skip_reason.empty()) return c.skip_reason;
    const json& last = c.attempts.back();
    for (const auto& e : array_field(last, "expectations"))
        if (bool_field(e, "skipped")) return "nothing could be checked here: " + text_field(e, "observed");
    return "no expectation to check";
}

}  // namespace

Verdict verdict(const CaseRun& c) {
    if (!c.error.empty()) return Verdict::error;
    if (c.attempts.empty()) return Verdict::skip;
    const json& last = c.attempts.back();
    if (tally(array_field(last, "expectations")).failed > 0) return Verdict::fail;
    if (c.attempts.size() > 1) return Verdict::flake;
    return nothing_checked(last) ? Verdict::skip : Verdict::pass;
}

const char* verdict_name(Verdict v) {
    switch (v) {
        case Verdict::pass: return "pass";
        case Verdict::fail: return "fail";
        case Verdict::flake: return "flake";
        case Verdict::skip: return "skip";
        case Verdict::error: return "error";
    }
    return "error";
}

bool flaky_looking(const json& report) {
    bool any = false;
    for (const auto& e : array_field(report, "expectations")) {
        if (!failed(e)) continue;
        any = true;
        const std::string kind = text_field(e, "kind"), where = text_field(e, "where");
        if (where != "steps" && kind != "retransmits" && kind != "interval") return false;
    }
    return any;
}

std::string case_name(const CaseRun& c) {
    const std::string suffix = c.family == "6" ? ".ipv6" : c.family == "mapped" ? ".mapped" : "";
    return c.scenario + "." + c.variant + suffix;
}

std::string ktap(const std::vector<CaseRun>& cases) {
    std::ostringstream out;
    out << "KTAP version 1\n1.." << cases.size() << "\n";
    std::map<Verdict, int> totals;
    int number = 0;
    for (const auto& c : cases) {
        ++number;
        const Verdict v = verdict(c);
        ++totals[v];
        const std::string name = ktap_text(case_name(c));
        if (!c.attempts.empty()) {
            // The last attempt's expectations, as the case's subtests.
            const json& expectations = array_field(c.attempts.back(), "expectations");
            out << "    KTAP version 1\n    # Subtest: " << name << "\n    1.." << expectations.size() << "\n";
            int sub = 0;
            for (const auto& e : expectations) {
                const std::string text = ktap_text(text_field(e, "text"));
                ++sub;
                if (bool_field(e, "skipped")) {
                    out << "    ok " << sub << " " << text << " # SKIP " << ktap_text(text_field(e, "observed")) << "\n";
                } else if (bool_field(e, "passed")) {
                    out << "    ok " << sub << " " << text << "\n";
                } else {
                    out << "    # expected: " << ktap_text(text_field(e, "expected")) << "\n"
                        << "    # observed: " << ktap_text(text_field(e, "observed")) << "\n"
                        << "    not ok " << sub << " " << text << "\n";
                }
            }
        }
        if (v == Verdict::flake) {
            out << "# " << name << ": FLAKE: failed on its first attempt, passed on retry (a flake, not a pass)\n";
            std::istringstream first(failures_text(c.attempts.front()));
            for (std::string line; std::getline(first, line);) out << "# first attempt: " << ktap_text(line) << "\n";
        }
        if (!c.dirs.empty()) out << "# " << name << ": report and capture in " << ktap_text(c.dirs.back()) << "\n";
        switch (v) {
            case Verdict::pass:
            case Verdict::flake: out << "ok " << number << " " << name << "\n"; break;
            case Verdict::skip: out << "ok " << number << " " << name << " # SKIP " << ktap_text(skip_text(c)) << "\n"; break;
            case Verdict::fail: out << "not ok " << number << " " << name << "\n"; break;
            case Verdict::error:
                out << "# " << name << ": could not run: " << ktap_text(c.error) << "\n"
                    << "not ok " << number << " " << name << "\n";
                break;
        }
    }
    out << "# socklab: " << totals[Verdict::pass] << " passed, " << totals[Verdict::flake] << " flaky (passed on retry), "
        << totals[Verdict::fail] << " failed, " << totals[Verdict::skip] << " skipped, " << totals[Verdict::error]
        << " could not run\n";
    // kselftest's closing line, which its CI tooling reads.
    out << "# Totals: pass:" << totals[Verdict::pass] + totals[Verdict::flake] << " fail:" << totals[Verdict::fail]
        << " xfail:0 xpass:0 skip:" << totals[Verdict::skip] << " error:" << totals[Verdict::error] << "\n";
    return out.str();
}

std::string junit(const std::vector<CaseRun>& cases) {
    // One testsuite per scenario, in the order the cases ran.
    std::vector<std::string> order;
    std::map<std::string, std::vector<const CaseRun*>> by_scenario;
    for (const auto& c : cases) {
        if (!by_scenario.count(c.scenario)) order.push_back(c.scenario);
        by_scenario[c.scenario].push_back(&c);
    }
    std::map<Verdict, int> all;
    std::ostringstream suites;
    for (const auto& scenario : order) {
        std::map<Verdict, int> counts;
        double seconds = 0;
        std::ostringstream body;
        for (const CaseRun* c : by_scenario[scenario]) {
            const Verdict v = verdict(*c);
            ++counts[v];
            ++all[v];
            for (const auto& r : c->attempts) seconds += number_field(r, "duration_s");
            std::string name = c->variant + (c->family == "6" ? ".ipv6" : c->family == "mapped" ? ".mapped" : "");
            body << "    <testcase classname=\"socklab." << xml_text(scenario) << "\" name=\"" << xml_text(name)
                 << "\" time=\"" << seconds_text(*c) << "\">\n";
            if (v == Verdict::fail) {
                const json& last = c->attempts.back();
                const Tally t = tally(array_field(last, "expectations"));
                body << "      <failure type=\"expectation\" message=\"" << t.failed << " of "
                     << t.passed + t.failed << " expectations failed" << (c->attempts.size() > 1 ? " (and on retry)" : "")
                     << "\">" << xml_text(failures_text(last)) << "</failure>\n";
            } else if (v == Verdict::flake) {
                body << "      <flakyFailure type=\"expectation\" message=\"failed on its first attempt, passed on retry\">"
                     << xml_text(failures_text(c->attempts.front())) << "</flakyFailure>\n";
            } else if (v == Verdict::skip) {
                body << "      <skipped message=\"" << xml_text(skip_text(*c)) << "\"/>\n";
            } else if (v == Verdict::error) {
                body << "      <error type=\"environment\" message=\"" << xml_text(c->error) << "\"/>\n";
            }
            if (!c->dirs.empty())
                body << "      <system-out>report and capture in " << xml_text(c->dirs.back()) << "</system-out>\n";
            body << "    </testcase>\n";
        }
        suites << "  <testsuite name=\"" << xml_text(scenario) << "\" tests=\"" << by_scenario[scenario].size()
               << "\" failures=\"" << counts[Verdict::fail] << "\" errors=\"" << counts[Verdict::error] << "\" skipped=\""
               << counts[Verdict::skip] << "\" time=\"" << fixed_text(seconds, 3) << "\">\n"
               << body.str() << "  </testsuite>\n";
    }
    std::ostringstream out;
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"socklab\" tests=\"" << cases.size()
        << "\" failures=\"" << all[Verdict::fail] << "\" errors=\"" << all[Verdict::error] << "\" skipped=\""
        << all[Verdict::skip] << "\">\n"
        << suites.str() << "</testsuites>\n";
    return out.str();
}

}  // namespace socklab
