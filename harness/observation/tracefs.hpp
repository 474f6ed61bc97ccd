// State transitions and TCP events from a tracefs instance of the run's own.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace socklab {

struct TraceEvent {
    int64_t time_ns = 0;          // trace_clock "mono": CLOCK_MONOTONIC nanoseconds
    std::string name;             // "inet_sock_set_state", "tcp_retransmit_synack", "tcp_retransmit_skb",
                                  // "tcp_send_reset", "tcp_receive_reset"
    std::string saddr, daddr;     // the socket's local and remote address (IPv4, or IPv6 when family is AF_INET6)
    uint16_t sport = 0, dport = 0;
    std::string oldstate, newstate;  // inet_sock_set_state only, without TCP_ ("SYN_SENT")
    std::string state;            // tcp_retransmit_skb and tcp_send_reset: socket state, without TCP_
    std::string reason;           // tcp_send_reset: why the kernel reset ("NO_SOCKET"); "" before 6.10
};

// One line of trace_pipe; nullopt for lines that are not one of the events above.
std::optional<TraceEvent> parse_trace_line(std::string_view line);

// The tracefs mount point, mounting it at /sys/kernel/tracing when it is not (as root);
// nullopt with `why` filled when tracefs cannot be used.
std::optional<std::string> tracefs_root(std::string& why);

// An instance instances/<name> with the five events enabled and trace_clock mono. Only events
// whose saddr or daddr is in `addresses` are returned. The destructor removes the instance;
// with `keep`, it only stops tracing there, and an instance of that name that is already there
// is reused, emptied (making and removing one costs the kernel RCU grace periods: half a second
// under emulation on 6.1, which has no eventfs). The caller then removes it in the end
// (remove_trace_instance).
class TraceSession {
public:
    TraceSession(const std::string& root, const std::string& name, std::set<std::string> addresses, bool keep = false);
    ~TraceSession();
    TraceSession(const TraceSession&) = delete;
    TraceSession& operator=(const TraceSession&) = delete;
    int fd() const { return fd_; }             // trace_pipe, O_NONBLOCK, pollable
    std::vector<TraceEvent> read_available();  // everything readable now, without blocking
    void close_pipe();  // done reading: an open trace_pipe keeps the instance from being removed

private:
    std::string dir_;
    bool keep_;
    std::set<std::string> addresses_;
    int fd_ = -1;
    std::string partial_;
};

// Removes instances/<name>, if it is there.
void remove_trace_instance(const std::string& root, const std::string& name);

// Removes instances named `prefix`<pid>... whose pid is no longer a live socklab process.
void sweep_trace_instances(const std::string& root, const std::string& prefix);

}  // namespace socklab
