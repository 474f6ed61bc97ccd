// Running one variant of a scenario: set up the test hosts, start the observers, play the
// choreography step by step, gather what the kernel did, check the expectations, write the report.
#pragma once
#include <functional>
#include <map>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>

#include "scenario/scenario.hpp"
#include "topology/topology.hpp"

namespace socklab {

struct RunOptions {
    std::map<std::string, std::string> set;  // --set key=value
    std::string out_dir;                     // empty: <captures_root>/<scenario>/<run id>
    std::string captures_root;
    std::string programs_dir;                // holds <scenario>/client and <scenario>/server
    Family family = Family::ipv4;            // --family
    bool keep_netns = false;
    bool pictures = true;                    // ladder.svg and report.html (socklab show draws them later)
    bool color = false;
    bool step = false;                       // class mode: narrate each step and what followed it
    std::istream* keyboard = nullptr;        // class mode: wait for Enter here before each step (a tty)
    std::ostream* progress = nullptr;        // progress lines while it runs
    std::ostream* out = nullptr;             // the timeline and the verdicts
    int attempt = 1;                         // 2: the retry of a flaky-looking failure (its own run directory)
    std::function<void()> set_up_done;       // called once the hosts and observers are there
    std::string trace_instance;              // reuse this trace instance, and leave it (runs side by side:
                                             // one a job slot); empty: one of its own, removed at the end
    bool reap_after_exit = false;            // the last run of this process: if it passes, a reaper does the
                                             // teardown once the process has exited (process/reaper)
};

struct RunResult {
    int passed = 0, failed = 0, skipped = 0;
    std::string dir;                          // where report.json and capture.pcap are
};

// A problem with the environment or the input, found before or while setting up: exit status 2.
struct EnvironmentError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

RunResult run_variant(const Scenario& scenario, const Variant& variant, const RunOptions& options);

// Removes what runs that died left behind; returns one line per object removed. The objects of a
// run whose reaper is still at work are left to it, or with `wait_for_reapers` waited for (at
// most 5 s each, then removed here).
std::vector<std::string> sweep_leftovers(bool wait_for_reapers = false);

}  // namespace socklab
