#include "topology/links.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "common/common.hpp"
#include "topology/netns.hpp"

namespace socklab {
namespace {

mnl_socket* open_rtnetlink(const std::string& netns, unsigned groups) {
    mnl_socket* nl = mnl_socket_open(NETLINK_ROUTE);
    if (!nl) throw std::runtime_error("cannot open an rtnetlink socket in " + netns + ": " + errno_text());
    if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
        const std::string reason = errno_text();
        mnl_socket_close(nl);
        throw std::runtime_error("cannot bind an rtnetlink socket in " + netns + ": " + reason);
    }
    return nl;
}

struct LinkAnswer {
    int index = 0;
    unsigned operstate = IF_OPER_UNKNOWN;
    std::vector<uint8_t> mac;
};

int on_link(const nlmsghdr* nlh, void* data) {
    if (nlh->nlmsg_type != RTM_NEWLINK) return MNL_CB_OK;
    auto* answer = static_cast<LinkAnswer*>(data);
    answer->index = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh))->ifi_index;
    return mnl_attr_parse(nlh, sizeof(ifinfomsg), [](const nlattr* attr, void* out) {
        auto* answer = static_cast<LinkAnswer*>(out);
        if (mnl_attr_get_type(attr) == IFLA_OPERSTATE) answer->operstate = mnl_attr_get_u8(attr);
        if (mnl_attr_get_type(attr) == IFLA_ADDRESS) {
            const auto* bytes = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
            answer->mac.assign(bytes, bytes + mnl_attr_get_payload_len(attr));
        }
        return MNL_CB_OK;
    }, answer);
}

// AF_INET or AF_INET6, with the address in `out` (4 or 16 bytes).
int parse_address(const std::string& address, unsigned char out[16]) {
    if (::inet_pton(AF_INET, address.c_str(), out) == 1) return AF_INET;
    if (::inet_pton(AF_INET6, address.c_str(), out) == 1) return AF_INET6;
    throw std::invalid_argument("not an IPv4 or IPv6 address: " + address);
}

}  // namespace

Links::Links(const std::string& netns) : netns_(netns) {
    NetnsEnter inside(netns);  // netlink sockets act in the namespace they were opened in
    nl_ = open_rtnetlink(netns, 0);
    try {
        events_ = open_rtnetlink(netns, RTMGRP_LINK);
    } catch (...) {
        mnl_socket_close(nl_);
        throw;
    }
}

Links::~Links() {
    mnl_socket_close(nl_);
    mnl_socket_close(events_);
}

// Sends one request with NLM_F_ACK and reads the kernel's answer; `what` names it in errors.
void Links::request(void* message, const std::string& what) {
    auto* nlh = static_cast<nlmsghdr*>(message);
    nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = ++seq_;
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) throw std::runtime_error(what + ": " + errno_text());
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    const ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0 || mnl_cb_run(buf.data(), n, seq_, mnl_socket_get_portid(nl_), nullptr, nullptr) < 0)
        throw std::runtime_error(what + " in " + netns_ + ": " + errno_text());
}

int Links::index_of(const std::string& ifname, unsigned* operstate, std::vector<uint8_t>* mac) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = RTM_GETLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = ++seq_;
    mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname.c_str());
    const std::string what = "cannot look up " + ifname + " in " + netns_;
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) throw std::runtime_error(what + ": " + errno_text());
    LinkAnswer answer;
    const ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0 || mnl_cb_run(buf.data(), n, seq_, mnl_socket_get_portid(nl_), on_link, &answer) < 0 || answer.index == 0)
        throw std::runtime_error(what + ": " + errno_text());
    if (operstate) *operstate = answer.operstate;
    if (mac) *mac = answer.mac;
    return answer.index;
}

void Links::add_veth(const std::string& name, const std::string& peer, const std::string& peer_netns) {
    const int peer_fd = ::open(netns_path(peer_netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (peer_fd < 0) throw std::runtime_error("network namespace " + peer_netns + " does not exist");
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = RTM_NEWLINK;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
    nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
    nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    nlattr* peer_info = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    // The peer's attributes follow its own ifinfomsg header.
    mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, peer.c_str());
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(peer_fd));
    mnl_attr_nest_end(nlh, peer_info);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, linkinfo);
    try {
        request(nlh, "cannot create the veth pair " + name + "/" + peer + " (is the veth module available?)");
    } catch (...) {
        ::close(peer_fd);
        throw;
    }
    ::close(peer_fd);
}

void Links::set_up(const std::string& ifname, bool no_neighbour_discovery) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = RTM_NEWLINK;
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_change = static_cast<unsigned>(IFF_UP) | (no_neighbour_discovery ? static_cast<unsigned>(IFF_NOARP) : 0u);
    ifi->ifi_flags = ifi->ifi_change;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname.c_str());
    request(nlh, "cannot bring up " + ifname);
}

void Links::add_address(const std::string& ifname, const std::string& address, int prefix) {
    unsigned char addr[16] = {};
    const int family = parse_address(address, addr);
    const int index = index_of(ifname);
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = RTM_NEWADDR;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = static_cast<unsigned char>(family);
    ifa->ifa_prefixlen = static_cast<unsigned char>(prefix);
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = static_cast<unsigned>(index);
    if (family == AF_INET6) ifa->ifa_flags = IFA_F_NODAD;  // bind() works at once, and no DAD probes
    const size_t size = family == AF_INET ? 4 : 16;
    mnl_attr_put(nlh, IFA_LOCAL, size, addr);
    mnl_attr_put(nlh, IFA_ADDRESS, size, addr);
    request(nlh, "cannot add " + address + "/" + std::to_string(prefix) + " to " + ifname);
}

std::vector<uint8_t> Links::mac_of(const std::string& ifname) {
    std::vector<uint8_t> mac;
    index_of(ifname, nullptr, &mac);
    return mac;
}

void Links::set_mac(const std::string& ifname, const std::vector<uint8_t>& mac) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = RTM_NEWLINK;
    mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname.c_str());
    mnl_attr_put(nlh, IFLA_ADDRESS, mac.size(), mac.data());
    request(nlh, "cannot set the hardware address of " + ifname);
}

// "up" returns before linkwatch has run for the carrier: until then the device's queue is the
// noop qdisc, which drops what is sent. Linkwatch sets operstate UP in the same pass that
// activates the qdisc and announces it on RTMGRP_LINK, which we listen to since the constructor,
// so no change can slip between the check and the wait.
void Links::wait_operstate_up(const std::string& ifname, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    for (;;) {
        unsigned operstate = IF_OPER_UNKNOWN;
        index_of(ifname, &operstate);
        if (operstate == IF_OPER_UP) return;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{mnl_socket_get_fd(events_), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count()) + 1) > 0)
            (void)::recv(p.fd, buf.data(), buf.size(), MSG_DONTWAIT);  // any link event: look again
    }
    throw std::runtime_error(ifname + " in " + netns_ + " did not become operationally up within " +
                             std::to_string(static_cast<int>(seconds)) + " s");
}

}  // namespace socklab
