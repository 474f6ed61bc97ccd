// Socket snapshots over netlink sock_diag (INET_DIAG), what `ss -tanoei` shows.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

// libmnl's socket handle, declared here at global scope so that the member below names it and
// not a new socklab::mnl_socket.
struct mnl_socket;

namespace socklab {

struct SocketInfo {
    std::string state;            // kernel name without TCP_: "LISTEN", "SYN_RECV", "TIME_WAIT", ...
    std::string src, dst;         // local and remote address as text
    uint16_t sport = 0, dport = 0;
    uint32_t recv_q = 0, send_q = 0;  // for LISTEN: accept queue length and backlog
    uint64_t inode = 0;           // 0: no file refers to it (no process owns it)
    uint8_t timer = 0;            // 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 zero window probe
    uint32_t expires_ms = 0;
    uint8_t retrans = 0;
};

// A sock_diag netlink socket opened inside namespace `netns` (and bound to it from then on).
class SockDiag {
public:
    explicit SockDiag(const std::string& netns);
    ~SockDiag();
    SockDiag(const SockDiag&) = delete;
    SockDiag& operator=(const SockDiag&) = delete;
    // Every TCP socket of the namespace, IPv4 and IPv6, all states (TIME_WAIT and SYN_RECV too).
    std::vector<SocketInfo> dump();

private:
    struct mnl_socket* nl_ = nullptr;
    unsigned seq_ = 0;
};

// Name of a state as the kernel's TCP_* constant without the prefix, e.g. 10 -> "LISTEN".
std::string tcp_state_name(int state);
// True when `name` is one of the names tcp_state_name() can return.
bool is_tcp_state_name(const std::string& name);
// sock_diag's idiag_timer as a word: 0 "none", 1 "retransmit", 2 "keepalive", 3 "timewait",
// 4 "probe" (zero window probe); "timer N" for anything else.
std::string tcp_timer_name(int timer);
// True when a socket's timer is `wanted`: one of those words, or "on" for any timer at all.
bool timer_matches(int timer, const std::string& wanted);

}  // namespace socklab
