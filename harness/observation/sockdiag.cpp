#include "observation/sockdiag.hpp"

#include "common/common.hpp"
#include "topology/netns.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace socklab {

namespace {

// Index = the kernel's TCP state number (include/net/tcp_states.h). 12 is TCP_NEW_SYN_RECV, the
// state of request sockets; `ss` shows those as SYN_RECV, and so do we.
constexpr std::array<const char*, 13> kStateNames = {
    "UNKNOWN",  "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
    "CLOSE",    "CLOSE_WAIT",  "LAST_ACK",   "LISTEN",   "CLOSING",   "SYN_RECV"};

// One bit per state (1 << state) for states 1..12: everything, including TIME_WAIT and
// NEW_SYN_RECV sockets, which live in separate kernel tables and only show up when asked for.
constexpr uint32_t kAllStates = ((1u << 13) - 1) & ~1u;

// Big enough for many inet_diag_msg records per read; the kernel fills as many as fit.
constexpr size_t kReceiveBufferSize = 32768;

std::string address_text(uint8_t family, const __be32 words[4]) {
    char text[INET6_ADDRSTRLEN] = {};
    if (!::inet_ntop(family, words, text, sizeof text)) return "";
    return text;
}

SocketInfo to_socket_info(const inet_diag_msg& msg) {
    SocketInfo info;
    info.state = tcp_state_name(msg.idiag_state);
    info.src = address_text(msg.idiag_family, msg.id.idiag_src);
    info.dst = address_text(msg.idiag_family, msg.id.idiag_dst);
    info.sport = ntohs(msg.id.idiag_sport);
    info.dport = ntohs(msg.id.idiag_dport);
    info.recv_q = msg.idiag_rqueue;
    info.send_q = msg.idiag_wqueue;
    info.inode = msg.idiag_inode;
    info.timer = msg.idiag_timer;
    info.expires_ms = msg.idiag_expires;
    info.retrans = msg.idiag_retrans;
    return info;
}

// libmnl calls this once per netlink message of the dump.
int on_diag_message(const nlmsghdr* nlh, void* data) {
    auto* sockets = static_cast<std::vector<SocketInfo>*>(data);
    if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY) return MNL_CB_OK;
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(inet_diag_msg)) return MNL_CB_OK;
    const auto* msg = static_cast<const inet_diag_msg*>(mnl_nlmsg_get_payload(nlh));
    sockets->push_back(to_socket_info(*msg));
    return MNL_CB_OK;
}

// Sends one dump request for `family` and collects the answers into `out`.
void dump_family(mnl_socket* nl, unsigned seq, uint8_t family, std::vector<SocketInfo>& out) {
    std::vector<char> buf(kReceiveBufferSize);

    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = seq;
    auto* req = static_cast<inet_diag_req_v2*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
    req->sdiag_family = family;
    req->sdiag_protocol = IPPROTO_TCP;
    req->idiag_states = kAllStates;

    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
        throw std::runtime_error("cannot send the sock_diag dump request: " + errno_text());

    const unsigned portid = mnl_socket_get_portid(nl);
    int ret = MNL_CB_OK;
    // mnl_cb_run returns MNL_CB_STOP at NLMSG_DONE and -1 for an NLMSG_ERROR (errno set).
    while (ret > MNL_CB_STOP) {
        const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
        if (n < 0) throw std::runtime_error("cannot read the sock_diag dump: " + errno_text());
        ret = mnl_cb_run(buf.data(), n, seq, portid, on_diag_message, &out);
    }
    if (ret < 0) throw std::runtime_error("the kernel refused the sock_diag dump: " + errno_text());
}

}  // namespace

SockDiag::SockDiag(const std::string& netns) {
    // A netlink socket belongs to the namespace it was created in, so create it inside `netns`.
    NetnsEnter inside(netns);
    nl_ = mnl_socket_open(NETLINK_SOCK_DIAG);
    if (!nl_) throw std::runtime_error("cannot open a sock_diag netlink socket in " + netns + ": " + errno_text());
    if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
        const std::string reason = errno_text();
        mnl_socket_close(nl_);
        nl_ = nullptr;
        throw std::runtime_error("cannot bind the sock_diag netlink socket in " + netns + ": " + reason);
    }
}

SockDiag::~SockDiag() {
    if (nl_) mnl_socket_close(nl_);
}

std::vector<SocketInfo> SockDiag::dump() {
    std::vector<SocketInfo> sockets;
    dump_family(nl_, ++seq_, AF_INET, sockets);
    dump_family(nl_, ++seq_, AF_INET6, sockets);
    return sockets;
}

std::string tcp_state_name(int state) {
    if (state <= 0 || state >= static_cast<int>(kStateNames.size())) return "UNKNOWN";
    return kStateNames[state];
}

bool is_tcp_state_name(const std::string& name) {
    for (size_t i = 1; i < kStateNames.size(); ++i)
        if (name == kStateNames[i]) return true;
    return false;
}

std::string tcp_timer_name(int timer) {
    static const char* names[] = {"none", "retransmit", "keepalive", "timewait", "probe"};
    if (timer < 0 || timer > 4) return "timer " + std::to_string(timer);
    return names[timer];
}

bool timer_matches(int timer, const std::string& wanted) {
    return wanted == "on" ? timer != 0 : tcp_timer_name(timer) == wanted;
}

}  // namespace socklab
