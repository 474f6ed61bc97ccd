// The report of one run: a JSON file with everything observed and checked, its timeline of
// syscalls, states and packets between two hosts merged in time order. The pictures drawn from
// it are elsewhere (report/terminal.hpp, report/svg.hpp, report/html.hpp).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "expectations/expect.hpp"
#include "expectations/observations.hpp"

namespace socklab {

// What the report says about the run besides what was observed.
struct RunInfo {
    std::string scenario, variant, title, blog_section, run_id;
    std::string family = "4";  // --family: 4, 6 or mapped
    std::string kernel;       // uname -r
    std::string started_utc;  // ISO 8601
    std::map<std::string, double> params;
    std::string pcap;                // file name relative to the run directory
    std::vector<std::string> notes;  // e.g. "no tracefs: snapshots only"
    double duration_s = 0;
    std::map<std::string, double> phases;  // seconds: setup (its parts setup.sweep, .hosts, .capture, .trace),
                                           // choreography, evidence (teardown follows)
    std::optional<double> floor_s;         // the kernel timers the variant must wait for, from "floor"
    int attempt = 1;                       // 2: a retry after a flaky-looking failure
};

// One line of the merged timeline.
struct TimelineEntry {
    double t = 0;          // seconds since the run start
    std::string side;      // "client", "server", or "" for packets and checkpoints
    std::string kind;      // packet, state, call, mark, step, output, exit, checkpoint, retransmit, reset
    std::string text;      // what the terminal shows for it, e.g. "connect() = -1 ETIMEDOUT"
    bool to_server = false;  // packets: sent by the client
    long ref = -1;  // what it shows, as an index into the report's packets, transitions, events, exits or
                    // checkpoints (after its kind); -1 for traced retransmits and resets
};

// Packets, state transitions, program events, exits, checkpoints and traced retransmits and
// resets, sorted by time (entries at the same instant keep that order). Packets show sequence
// numbers relative to each direction's first SYN, and "(rtx)" when they are retransmissions.
std::vector<TimelineEntry> timeline(const Observations& seen);

// A packet as the timeline writes it: "S seq=0 :40012", "S. seq=0 ack=1 :40012", ". ack=1 :40012",
// "P. seq=1 ack=1 len=5 :40012 (rtx)": seq only where it says something (SYN, FIN, RST or data),
// rel_ack or else the raw ack, `ports` as given, and `notes` (an analysis: "rtx", "dup ack #1") in
// parentheses. The runs' packets and the captures' (socklab ladder) are written by this one function.
std::string packet_text(const Segment& s, uint32_t rel_seq, std::optional<uint32_t> rel_ack, const std::string& ports,
                        const std::vector<std::string>& notes);

// Every timeline entry but traced retransmits and resets names what it shows by its index in
// another array, under "packet", "transition", "event", "exit" or "checkpoint", so that pictures
// drawn from the file alone (socklab show) find a packet's flags or a call's return value.
nlohmann::json report_json(const RunInfo& run, const Observations& seen, const std::vector<Outcome>& outcomes);

// Pretty-printed with 2 spaces. Throws std::runtime_error naming the file when it cannot be written.
void write_report(const std::string& path, const nlohmann::json& report);

// report.json read back. Throws std::runtime_error naming the file when it cannot be read, is
// not JSON, or is not a report (no timeline or expectations).
nlohmann::json read_report(const std::string& path);

// How many of report["expectations"] passed, failed and were skipped, as report["summary"] says:
// a skipped expectation counts as skipped whatever its `passed` says.
struct Tally {
    int passed = 0, failed = 0, skipped = 0;
};
Tally tally(const nlohmann::json& expectations);

}  // namespace socklab
