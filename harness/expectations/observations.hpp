// Everything a run observed, from the kernel and the process table, gathered for the
// expectations and the report. All times are CLOCK_MONOTONIC nanoseconds.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "capture/capture.hpp"
#include "expectations/kernel_rules.hpp"
#include "observation/counters.hpp"
#include "observation/owners.hpp"
#include "observation/sockdiag.hpp"
#include "observation/tracefs.hpp"
#include "process/program.hpp"

namespace socklab {

struct Checkpoint {
    std::string name;
    int64_t time_ns = 0;
    // A checkpoint that waited for a condition ("until") saw it come true after since_ns, when
    // the last look that found it false began, and by time_ns; other checkpoints have none.
    std::optional<int64_t> since_ns;
    std::map<std::string, std::vector<SocketInfo>> sockets;  // side -> sock_diag dump
    std::map<std::string, Counters> counters;                // side -> TCP counters
    std::map<std::string, std::map<uint64_t, std::vector<Owner>>> owners;  // side -> inode -> holders
};

struct Observations {
    int64_t start_ns = 0;                          // the run's time zero
    int kernel_major = 0, kernel_minor = 0;        // the running kernel's release
    std::map<std::string, std::string> address;   // side -> its address
    std::map<std::string, Sysctls> sysctls;        // side -> effective values
    std::vector<ProgramEvent> events;
    std::map<std::string, ProgramExit> exits;
    std::vector<Checkpoint> checkpoints;           // in order; the last is "end"
    bool traced = false;                           // tracefs was available
    std::string trace_note;                        // why not, when not
    std::vector<TraceEvent> trace;
    std::vector<Segment> segments;                 // times converted to CLOCK_MONOTONIC
    // The side whose interface the capture listens on. The other side's segments are stamped on
    // arrival there, after the receiving softirq: up to Timing::arrival late.
    std::string captured_on = "server";

    // "client" or "server" for an address of this run, "" otherwise.
    std::string side_of(const std::string& address) const;
    const Checkpoint* checkpoint(const std::string& name) const;
    double seconds(int64_t time_ns) const { return static_cast<double>(time_ns - start_ns) / 1e9; }
};

}  // namespace socklab
