// Expectations: each one from a scenario's description checked against what the kernel did.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "expectations/observations.hpp"
#include "scenario/expr.hpp"
#include "scenario/scenario.hpp"

namespace socklab {

struct Timing {
    int hz = 100;          // CONFIG_HZ, for the timer windows
    double slack = 0.040;  // softirq and capture delay after a timer fires (s)
};

struct Outcome {
    std::string where;      // its place in scenario.json
    std::string text;       // the expectation, in one line
    std::string why;        // the rule it rests on
    bool passed = false;
    bool skipped = false;   // could not be checked here (e.g. no tracefs); says why in observed
    std::string expected, observed;
    std::optional<double> at;  // seconds into the run where the evidence is, when there is one spot
    // What it is about, for readers of report.json: kind (call, socket, ..., holds), side (client,
    // server, or ""), subject (the call, TCP state, flags, counter, event or rule; or ""). The
    // braces let an aggregate initializer that stops at `at` (a failed step) leave them out.
    std::string kind{}, side{}, subject{};
};

std::vector<Outcome> check(const std::vector<Expectation>& expectations, const Observations& seen,
                           const Lookup& lookup, const Timing& timing);

// The expectation as one line of text, e.g. "server LISTEN at queue_full: recv_q=queue".
std::string describe(const Expectation& e);

}  // namespace socklab
