// The kernel's TCP timer rules, computed from a namespace's sysctls, so that an expectation about
// retransmissions or time-outs is derived rather than typed in. Each rule names its kernel source.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace socklab {

// Effective sysctl values of one namespace, read back after setting ("net.ipv4.tcp_syn_retries" -> 6).
using Sysctls = std::map<std::string, long>;

struct Schedule {
    std::vector<double> retransmits;  // seconds after the first transmission
    double give_up = 0;               // seconds after the first transmission when the kernel stops
};

// Client SYNs (net/ipv4/tcp_timer.c: tcp_write_timeout, tcp_retransmit_timer, tcp_model_timeout).
// The RTO starts at TCP_TIMEOUT_INIT (1 s). On 6.5+ kernels the first tcp_syn_linear_timeouts
// retransmits keep it at 1 s, then it doubles; older kernels (no such sysctl) double from the start.
// connect() fails when the retransmit count reaches tcp_syn_retries (+ linear timeouts) or when the
// time since the first SYN passes what tcp_syn_retries doublings would take, whichever comes first.
Schedule syn_sent_schedule(const Sysctls& client);

// Server SYN-ACKs of a request socket (net/ipv4/inet_connection_sock.c: reqsk_timer_handler):
// resent after 1, 2, 4 ... s, tcp_synack_retries times, and the entry expires at the next timeout.
Schedule syn_recv_schedule(const Sysctls& server);

// When a kernel timer armed for `interval` seconds can be seen to fire. msecs_to_jiffies rounds up
// and the timer is armed at a jiffy boundary (up to one jiffy early against wall time); the timer
// wheel (kernel/time/timer.c) then rounds the expiry up to its level's granularity, 8^level jiffies,
// at most 12.5% of the interval; `slack` covers softirq and capture delays after that.
struct Window {
    double lo, hi;
};
Window timer_window(double interval, int hz, double slack);

// CONFIG_HZ of the running kernel from /proc/config.gz or /boot/config-<release>; when neither is
// readable, 100, the coarsest tick, so windows err on the wide side.
int kernel_hz();

// Values expressions may use: "syn_sent.retransmits", "syn_sent.timeout", "syn_recv.retransmits",
// "syn_recv.first" (the first SYN-ACK retransmit), "syn_recv.lifetime" (see rule_names()).
std::map<std::string, double> rule_values(const Sysctls& client, const Sysctls& server);

}  // namespace socklab
