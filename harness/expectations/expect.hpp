// Expectations: each one from a scenario's description checked against what the kernel did.
// Every kind (call, socket, packets, ...) is one class in expect.cpp that reads its own keys,
// checks itself against the observations and describes itself in one line.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "expectations/expr.hpp"
#include "expectations/observations.hpp"
#include "expectations/reader.hpp"

namespace socklab {

struct Timing {
    int hz = 100;          // CONFIG_HZ, for the timer windows
    double slack = 0.040;  // softirq and capture delay after a timer fires (s)
    // How late the capture may stamp a segment from the side it is not on: a veth hands it to the
    // peer's backlog, and the receiving softirq stamps it when it runs (s).
    double arrival = 0.003;
};

struct Outcome {
    std::string where;      // its place in scenario.json
    std::string text;       // the expectation, in one line
    std::string why;        // the rule it rests on
    bool passed = false;
    bool skipped = false;   // could not be checked here (e.g. no tracefs); says why in observed
    std::string expected, observed;
    std::optional<double> at;  // seconds into the run where the evidence is, when there is one spot
    std::string kind{}, side{}, subject{};  // what it is about, for tools that compare runs (kernel-matrix)
};

// A phase of a program: its calls after the `occurrence`th time (from 1) it printed step or mark
// `name`, up to its next step or mark; "start": before its first.
struct Phase {
    std::string name;
    int occurrence = 1;
};

// Where an expectation sits in its variant's timeline, which decides what some kinds are about.
struct Place {
    std::string checkpoint;              // the latest checkpoint before it ("end": the final snapshot)
    std::map<std::string, Phase> phase;  // side -> the program's phase there; absent: every call
    std::set<std::string> checkpoints;         // every checkpoint of the variant, "end" included
};

class Expectation {
public:
    virtual ~Expectation() = default;
    virtual Outcome check(const Observations& seen, const Lookup& lookup, const Timing& timing) const = 0;
    virtual std::string describe() const = 0;  // e.g. "server LISTEN at queue_full count=1"
    // For the report: the kind, the side it is about and its subject (call, state, flags, ...).
    std::string kind, side, subject;
    std::string where, why;
    // Checked only where every condition holds ("kernel >= 6.18", or an expression); `when` is
    // their text, "" when there is none.
    std::vector<std::string> conditions;
    std::string when;
    // Why its outcome depends on CPU contention, the kernel's own choice shifting with the
    // programs' timing; "" when it does not. Its variant then gets a CPU of its own side by side.
    std::string contention;
};
using ExpectationPtr = std::shared_ptr<const Expectation>;

// The kinds, as the keys that name them in a description.
const std::vector<std::string>& expectation_kinds();
// The kind an object is written as, or "" when it has none of their keys.
std::string kind_of(const nlohmann::json& j);
// Reads one expectation written at `place` of a timeline. Throws ScenarioError.
ExpectationPtr read_expectation(const Reader& reader, const nlohmann::json& j, const std::string& where,
                                const Place& place);

std::vector<Outcome> check(const std::vector<ExpectationPtr>& expectations, const Observations& seen,
                           const Lookup& lookup, const Timing& timing);

}  // namespace socklab
