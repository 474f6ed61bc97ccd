// A scenario's description (scenarios/<name>/scenario.json), loaded and checked before anything
// runs, so a mistake is reported with its place in the file and nothing is half set up.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace socklab {

// The two test hosts; each program runs in the namespace of the same name.
inline const std::vector<std::string> kSides{"client", "server"};

struct Param {
    std::string name;
    std::string default_expr;  // a number, or an expression over the other parameters
    double min = 0, max = 0;
    std::string help;
};

struct Step {
    std::string verb;     // start, await, release, checkpoint, nft, ip, until
    std::string side;     // the program or namespace it acts on
    std::string name;     // await/release: the event or step name; checkpoint: its name
    std::string within;   // await/until: deadline in seconds (expression); empty: the default
    std::string script;   // nft: the ruleset; ip: the arguments ({server.if}, {client.addr}... filled in)
    nlohmann::json until; // until: {"state": S, "count": expr[, "timer": T]} on the side's sockets
    std::string say;      // class mode (--step): what is about to happen
    std::string ask;      // class mode: the question to predict before it runs
    std::string where;    // "variants.x.steps[2]", for messages
};

struct Expectation {
    std::string kind;     // call, socket, transitions, packets, retransmits, counter, exit, trace, interval, holds
    nlohmann::json spec;  // the object as written, already checked
    std::string where;
    std::string when;     // empty, or a condition ("kernel >= 6.18", an expression): checked only where it holds
};

struct Variant {
    std::string name, doc;
    std::string floor;  // seconds of kernel timers the variant must wait for (expression), for benchmarks
    std::map<std::string, std::string> set;                       // parameter overrides (expressions)
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> args;  // side -> (flag, expr)
    std::vector<Step> steps;
    std::vector<Expectation> expect;                              // the scenario's shared ones included
};

struct Scenario {
    std::string name, title, blog_section, dir;
    std::vector<Param> params;
    std::vector<std::pair<std::string, std::string>> let;  // named expressions, in order
    std::map<std::string, std::map<std::string, std::string>> sysctls;  // side -> sysctl -> expr
    std::vector<Variant> variants;

    const Param* param(const std::string& name) const;
    const Variant* variant(const std::string& name) const;
};

struct ScenarioError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Names an expression may use besides parameters and "<side>.<sysctl>": the kernel-rule values.
const std::vector<std::string>& rule_names();

// "kernel >= 6.18": a kernel-version bound, for expectations whose rule changed in some release.
struct KernelCondition {
    std::string op;
    int major = 0, minor = 0;
    bool holds(int running_major, int running_minor) const;
};
std::optional<KernelCondition> parse_kernel_condition(const std::string& text);

// Names the expressions of expectations may also use, for what the run observed at a checkpoint
// (one of `checkpoints`, or "end", the snapshot every run takes last):
//   sockets.<checkpoint>.<side>.<STATE>.count|recv_q|send_q   sockets in STATE, and their queues summed
//   calls.<checkpoint>.<side>.<call>.count|total|<ERRNO>      reports of <call> up to then, the sum of
//                                                             their non-negative return values, and how
//                                                             many failed with that errno (e.g. EAGAIN)
// e.g. {"holds": "sockets.full.client.ESTABLISHED.send_q > 0"}.
bool is_observed_name(const std::string& name, const std::set<std::string>& checkpoints);

// Parses and checks a description; throws ScenarioError("<file>:<line>: ..." or "<file>: <path>: ...").
Scenario parse_scenario(const std::string& text, const std::string& file);
Scenario load_scenario(const std::string& dir);

// Every scenario directory below `root` that holds a scenario.json, sorted by name.
std::vector<std::string> scenario_names(const std::string& root);

// Parameter values: defaults, then the variant's set, then the user's --set (each checked against
// its range, a bad one named with its allowed values). Throws ScenarioError.
std::map<std::string, double> resolve_params(const Scenario& s, const Variant& v,
                                             const std::map<std::string, std::string>& user_set);

}  // namespace socklab
