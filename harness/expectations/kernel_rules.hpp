// The kernel's TCP timer rules, computed from a namespace's sysctls, so that an expectation about
// retransmissions or time-outs is derived rather than typed in. Each rule names its kernel source.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "topology/sysctls.hpp"

namespace socklab {

struct Schedule {
    std::vector<double> retransmits;  // seconds after the first transmission
    double give_up = 0;               // seconds after the first transmission when the kernel stops
    // The successive kernel timers whose expiries add up to give_up, when that is not simply one
    // timer per retransmit and one more (empty: the gaps of retransmits, then give_up).
    std::vector<double> chain;
    // Seconds after the rule's starting moment of the first transmission, when the rule starts
    // before it (persist: the window closes, the first probe follows; keepalive: the idle time
    // before the first probe); retransmits and give_up are counted from the starting moment too,
    // and chain includes this first timer.
    double first = 0;
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

// Data of an established connection whose peer has gone silent (net/ipv4/tcp_timer.c,
// tcp_output.c), for one unacknowledged segment on a link whose SRTT is far below a jiffy (veth):
// - the RTO is srtt/8 + rttvar with rttvar >= tcp_rto_min (net.ipv4.tcp_rto_min_us, 200 ms), so
//   usecs_to_jiffies() makes it tcp_rto_min + 1 jiffy; the tail-loss probe (tcp_schedule_loss_probe)
//   fires first, 2*srtt (1 jiffy) + tcp_rto_min after the send, and re-arms a full RTO;
// - each RTO expiry retransmits and doubles the RTO, up to TCP_RTO_MAX (net.ipv4.tcp_rto_max_ms);
// - retrans_stamp is the skb's timestamp when the first RTO retransmit is made, i.e. that
//   retransmit's own time when it leaves the host (tcp_retransmit_skb);
// - with TCP_USER_TIMEOUT (`user_timeout` seconds, 0: unset) tcp_clamp_rto_to_user_timeout() cuts
//   the pending RTO so that the timer fires user_timeout after retrans_stamp, and
//   retransmits_timed_out() ends the connection then (ETIMEDOUT);
// - without it, retransmits_timed_out() ends it at the first RTO expiry at least
//   tcp_model_timeout(tcp_retries2, TCP_RTO_MIN) after retrans_stamp (one jiffy early allowed).
// Times are seconds after the send; `chain` holds the timers that lead to give_up.
Schedule established_schedule(const Sysctls& sender, double user_timeout, int hz);

// Zero-window probes of a sender whose peer advertised a zero window (net/ipv4/tcp_timer.c:
// tcp_probe_timer; tcp_output.c: tcp_send_probe0; include/net/tcp.h: tcp_probe0_base,
// tcp_probe0_when), in seconds after the ACK that closed the window (tcp_check_probe_timer() arms
// the timer then, nothing being in flight):
// - the base is max(icsk_rto, TCP_RTO_MIN): the RTO as established_schedule() has it on a veth
//   (tcp_rto_min + 1 jiffy), but never below the constant 200 ms, whatever tcp_rto_min_us says;
// - the first probe goes out one base after the window closed; after probe k the backoff is
//   min(k, tcp_retries2) (tcp_send_probe0 stops raising icsk_backoff there) and the next timer is
//   base << backoff, at most TCP_RTO_MAX (net.ipv4.tcp_rto_max_ms where the kernel has it);
// - `answered`: the peer answers each probe (with its zero window). Its ACK re-arms the same
//   timer (tcp_ack_probe) and resets icsk_probes_out, so tcp_retries2 never ends the connection
//   (RFC 1122 4.2.2.17); the schedule then lists `horizon` probes and never gives up on its own.
//   Silent peer: the timer that finds icsk_probes_out >= tcp_retries2 ends the connection
//   (tcp_write_err: ETIMEDOUT), i.e. the one after the tcp_retries2-th probe;
// - TCP_USER_TIMEOUT (`user_timeout` s, 0: unset): icsk_probes_tstamp is the first probe's time;
//   every later timer is clamped so that one fires user_timeout after it
//   (tcp_clamp_probe0_to_user_timeout), and that one ends the connection, answered or not.
Schedule persist_schedule(const Sysctls& sender, double user_timeout, int hz, bool answered, int horizon = 0);
// Keepalive probes of an idle established connection whose peer is silent (net/ipv4/tcp_timer.c:
// tcp_keepalive_timer; tcp_output.c: tcp_write_wakeup, tcp_xmit_probe_skb). The rule starts at
// the last segment received (keepalive_time_elapsed(): icsk_ack.lrcvtime, rcv_tstamp), when the
// timer armed at the connection's start or by setsockopt() is already running:
// - `idle` seconds later (TCP_KEEPIDLE, else net.ipv4.tcp_keepalive_time) the first probe, a bare
//   ACK with sequence snd_una - 1; then one each `interval` (TCP_KEEPINTVL, else
//   tcp_keepalive_intvl), each timer armed when the one before fired;
// - without TCP_USER_TIMEOUT the timer that finds icsk_probes_out >= `probes` (TCP_KEEPCNT, else
//   tcp_keepalive_probes) ends it: tcp_send_active_reset() and tcp_write_err() (ETIMEDOUT);
// - with it (`user_timeout` seconds, 0: unset) the probe count is ignored: the first timer with
//   at least one probe out and elapsed >= msecs_to_jiffies(user_timeout) ends it.
// `first` is the idle time; retransmits (the later probes), give_up and chain count from the rule's
// start, as persist_schedule's do.
// 0 for idle, interval or probes means unset: the sender's sysctl (or the kernel default) decides.
Schedule keepalive_schedule(const Sysctls& sender, double idle, double interval, long probes, double user_timeout, int hz);

// When a kernel timer armed for `interval` seconds can be seen to fire. msecs_to_jiffies rounds up
// and the timer is armed at a jiffy boundary (up to one jiffy early against wall time); the timer
// wheel (kernel/time/timer.c) then rounds the expiry up to its level's granularity, 8^level jiffies,
// at most 12.5% of the interval; `slack` covers softirq and capture delays after that.
struct Window {
    double lo, hi;
};
Window timer_window(double interval, int hz, double slack);

// The window in which the last of a chain of kernel timers (each armed when the one before fired)
// can be seen to fire, `total` seconds after the first was armed: each timer's own window
// (timer_window) adds its earliness and lateness; `slack` is counted once.
Window chain_window(const std::vector<double>& timers, double total, int hz, double slack);

// CONFIG_HZ of the running kernel from /proc/config.gz or /boot/config-<release>; when neither is
// readable, 100, the coarsest tick, so windows err on the wide side.
int kernel_hz();

// How many times slower than bare hardware this machine runs the harness and its programs, from
// the environment variable SOCKLAB_MACHINE_SLOW (its value, or nullptr when unset: 1). Set it when
// running under emulation (qemu TCG), as the kernel selftests' KSFT_MACHINE_SLOW: the kernel's
// timers keep real time there, but what follows a timer (softirq, capture, the harness's polling)
// and every exec take longer, so a run multiplies its timing slack and default step deadlines by it.
// Throws std::invalid_argument unless the value is a number >= 1.
double machine_slow_factor(const char* value);

// The receiver's delayed-ACK timer while ato is at its floor (include/net/tcp.h): TCP_DELACK_MIN
// = TCP_ATO_MIN = HZ/25 jiffies (40 ms at every usual HZ), in seconds. tcp_send_delayed_ack() arms
// the timer ato ahead; tcp_event_data_recv() starts ato at TCP_ATO_MIN, and above TCP_DELACK_MIN
// it is bounded by the smoothed RTT (at least TCP_DELACK_MIN), so on a link with an RTT far below
// 40 ms (veth) every delayed ACK waits TCP_DELACK_MIN.
double delack_min(int hz);

// How many replies, each sent within ato of the last segment received, make a receiver's
// connection interactive ("pingpong"), so that it stops ACKing a small segment when the
// application reads it (__tcp_cleanup_rbuf) and leaves it to the delayed-ACK timer
// (inet_csk_in_pingpong_mode, tcp_event_data_sent): net.ipv4.tcp_pingpong_thresh where the kernel
// has it (6.12 and later: 1 by default), else the constant TCP_PINGPONG_THRESH, 1 in 6.1.
long pingpong_thresh(const Sysctls& receiver);

// Values expressions may use: "syn_sent.retransmits", "syn_sent.timeout", "syn_recv.retransmits",
// "syn_recv.first" (the first SYN-ACK retransmit), "syn_recv.lifetime" (see rule_names()).
// "established.retransmits" and "established.timeout": the client's data (established_schedule,
// at this kernel's HZ) with the socket option `tcp_user_timeout` (ms) taken from `options` (a
// scenario's parameters; absent or 0: tcp_retries2 decides).
// "persist.first" (the first zero-window probe after the window closed), "persist.probes" and
// "persist.timeout" for a silent peer (persist_schedule, same option), and "persist.at" (when
// the probe numbered by the parameter `probes` goes out, the peer answering). "delack.min":
// delack_min() at this kernel's HZ; "pingpong.thresh": pingpong_thresh() of the server.
// "keepalive.probes" and "keepalive.timeout" (from the last segment received to the give-up): the
// client's keepalive (keepalive_schedule) with the socket options `keepidle`, `keepintvl` (s),
// `keepcnt` and `tcp_user_timeout` (ms) from `options` (absent or 0: the client's sysctls).
std::map<std::string, double> rule_values(const Sysctls& client, const Sysctls& server,
                                          const std::map<std::string, double>& options = {});

}  // namespace socklab
