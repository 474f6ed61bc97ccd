// A scenario's description (scenarios/<name>/scenario.json), loaded and checked before anything
// runs, so that a mistake is reported with its place in the file and nothing is half set up.
// Each variant is a timeline: steps, and expectations where they happen (see docs/scenarios.md, "Adding a
// scenario"); a variant may be built on another one ("from", "change", "add").
#pragma once
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "expectations/expect.hpp"
#include "expectations/reader.hpp"
#include "topology/topology.hpp"

namespace socklab {

struct Param {
    std::string name;
    std::string default_expr;  // a number, or an expression over the other parameters
    double min = 0, max = 0;
    std::string help;
};

// The step verbs, each typed after loading.
struct Start {        // {"start": "server"}: that side's program
    std::string side;
};
struct Wait {         // {"wait": "server listening"}, {"wait": "client before close"}, {"wait": "client exit"}
    enum class For { mark, step, exit } what = For::mark;
    std::string side, name;
    std::string within;  // deadline in seconds (expression); empty: the default
};
struct Release {      // {"release": "client close"}: lets the program go on past that step
    std::string side, name;
};
struct Snapshot {     // {"checkpoint": "held"}: sock_diag, counters and fd owners on both sides
    std::string name;
};
struct Until {        // {"until": "server TIME_WAIT", "count": 1, "within": 5, "checkpoint": "held"}
    std::string side, state, timer, count, within, checkpoint;  // timer, checkpoint: optional
    // {"until": "client TcpExt.TCPWinProbe", "at_least": 3, ...}: a counter of the side's
    // namespace instead of a socket state (`counter` set, `state` and `timer` empty; count holds at_least).
    std::string counter;
};
struct Command {      // {"nft": "server", "script": "..."} or {"ip": "server", "args": "..."}
    std::string tool, side, text;  // text: with {client.addr}, {server.if}, {port}... to fill in
};
struct Kill {         // {"kill": "server", "signal": "KILL"}: sends that side's program a signal
    std::string side;
    int signal = 0;   // its number; written as its name without SIG, as kill -l lists them
};
using Action = std::variant<Start, Wait, Release, Snapshot, Until, Command, Kill>;

struct Step {
    Action action;
    std::string say;    // class mode (--step): what is about to happen
    std::string ask;    // class mode: the question to predict before it runs
    std::string where;  // "variants.x.timeline[2]", for messages
};
// The step in one line, as the progress output and class mode say it.
std::string describe(const Step& step);
// What a command's text may name in braces, filled in by the run: "port", and for each side
// "<side>.addr" (on the wire), "<side>.if" (its veth end), "<side>.mac" (that end's address).
const std::vector<std::string>& command_names();
// The checkpoint a step makes, or "".
std::string checkpoint_of(const Step& step);

struct Variant {
    std::string name, doc;
    std::string floor;  // seconds of kernel timers the variant must wait for (expression), for benchmarks
    // Why its evidence is sensitive to CPU contention (e.g. a 40 ms timer measured to a few ms):
    // run side by side, it gets a CPU of its own. Empty: it shares the CPUs. Written in the
    // description ("own_cpu"), the CPU is its alone; taken from an expectation (its contention),
    // it may share it with a few others of that kind.
    std::string own_cpu;
    bool own_cpu_alone = false;
    std::map<std::string, std::string> set;                                        // parameter overrides
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> args;  // side -> (flag, expr)
    std::vector<Step> steps;
    std::vector<ExpectationPtr> expect;  // in timeline order, the scenario's shared ones last
    // The address families it runs in ("families" in the description; every one by default).
    std::vector<Family> families{Family::ipv4, Family::ipv6, Family::mapped};
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

// Parses and checks a description; throws ScenarioError("<file>:<line>: ..." or "<file>: <path>: ...").
// With `programs`, every step, mark, call and role name is checked against the programs' own.
Scenario parse_scenario(const std::string& text, const std::string& file, const ProgramNames* programs = nullptr);
// `names_file`: the programs' names.json (built beside them); empty: not checked.
Scenario load_scenario(const std::string& dir, const std::string& names_file = "");

// Every scenario directory below `root` that holds a scenario.json, sorted by name.
std::vector<std::string> scenario_names(const std::string& root);

}  // namespace socklab
