#include "topology/topology.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "topology/links.hpp"
#include "topology/netns.hpp"
#include "topology/owner.hpp"

namespace socklab {
namespace {

constexpr unsigned kSlots = 1u << 15;  // 198.18.0.0/15 cut into /30s
// Each test host's own TCP hash table: plenty for a few connections. The kernel derives two
// defaults from it: tcp_max_tw_buckets (half of it) and tcp_max_syn_backlog (at least 128).
constexpr unsigned kTcpHashBuckets = 1024;

// Claims an address slot for this process's life by binding an abstract unix socket named after
// it: the kernel frees the name when the process dies however it dies, so nothing is left over.
int claim_slot(unsigned& slot) {
    for (unsigned i = 0; i < kSlots; ++i) {
        unsigned candidate = (static_cast<unsigned>(::getpid()) + i) % kSlots;
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) break;
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::string name = "socklab-slot-" + std::to_string(candidate);
        std::memcpy(sa.sun_path + 1, name.data(), name.size());  // sun_path[0] == 0: abstract
        socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
        if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) == 0) {
            slot = candidate;
            return fd;
        }
        ::close(fd);
    }
    throw std::runtime_error("no free address slot in 198.18.0.0/15");
}

// Host 1 or 2 of the slot: 198.18.0.0/15 in /30s, or 2001:db8:0:<slot>::/64.
std::string slot_address(Family family, unsigned slot, unsigned host) {
    char text[INET6_ADDRSTRLEN];
    if (family == Family::ipv6) {
        unsigned char a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, static_cast<unsigned char>(slot >> 8),
                               static_cast<unsigned char>(slot & 255)};
        a[15] = static_cast<unsigned char>(host);
        return ::inet_ntop(AF_INET6, a, text, sizeof text);
    }
    const uint32_t value = htonl((198u << 24) | (18u << 16) | (slot * 4 + host));
    return ::inet_ntop(AF_INET, &value, text, sizeof text);
}

std::string sysctl_path(const std::string& key) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); ++i)
        if (path[i] == '.') path[i] = '/';
    return path;
}

}  // namespace

const std::vector<std::string>& observed_sysctls() {
    static const std::vector<std::string> keys{
        "net.core.somaxconn",          "net.ipv4.tcp_syn_retries",  "net.ipv4.tcp_synack_retries",
        "net.ipv4.tcp_syn_linear_timeouts", "net.ipv4.tcp_abort_on_overflow", "net.ipv4.tcp_syncookies",
        "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_retries2",
        "net.ipv4.tcp_orphan_retries", "net.ipv4.tcp_max_tw_buckets", "net.ipv4.tcp_pingpong_thresh",
        "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"};
    return keys;
}

std::string family_name(Family f) { return f == Family::ipv4 ? "4" : f == Family::ipv6 ? "6" : "mapped"; }

std::optional<Family> parse_family(const std::string& name) {
    for (Family f : {Family::ipv4, Family::ipv6, Family::mapped})
        if (family_name(f) == name) return f;
    return std::nullopt;
}

Topology::Topology(Family family) : family_(family) {
    slot_fd_ = claim_slot(slot_);
    for (const char* side : {"client", "server"})
        hosts_.push_back({side, owned_name(side), std::string("veth-") + side, slot_address(family, slot_, hosts_.size() + 1), ""});
    try {
        netns_add({client().netns, server().netns}, kTcpHashBuckets);
        const bool ipv6 = family == Family::ipv6;
        for (const auto& h : hosts_) quiet_ipv6(h.side, family);
        std::vector<std::unique_ptr<Links>> links;
        for (const auto& h : hosts_) {
            links.push_back(std::make_unique<Links>(h.netns));
            links.back()->set_up("lo");
        }
        // Both ends are created straight inside their namespaces: the host never sees the link.
        links[0]->add_veth(client().ifname, server().ifname, server().netns);
        // An IPv6 link has no neighbour discovery (IFF_NOARP below): a host then sends to its own
        // hardware address, so both ends get the same one, whatever becomes of the link.
        if (ipv6) links[1]->set_mac(server().ifname, links[0]->mac_of(client().ifname));
        // Up (and IFF_NOARP) before the address: addrconf joins the solicited-node group of an
        // IPv6 address as it is added, unless the link is already NOARP.
        for (size_t i = 0; i < hosts_.size(); ++i) {
            links[i]->set_up(hosts_[i].ifname, ipv6);
            links[i]->add_address(hosts_[i].ifname, hosts_[i].address, ipv6 ? 64 : 30);
        }
        for (size_t i = 0; i < hosts_.size(); ++i) {
            links[i]->wait_operstate_up(hosts_[i].ifname, 5);
            for (uint8_t byte : links[i]->mac_of(hosts_[i].ifname)) {
                char text[4];
                std::snprintf(text, sizeof text, "%s%02x", hosts_[i].mac.empty() ? "" : ":", byte);
                hosts_[i].mac += text;
            }
        }
    } catch (...) {
        remove();
        throw;
    }
}

Topology::~Topology() {
    if (!keep_) remove();
    ::close(slot_fd_);
}

// Before the veth exists, so that it is made with these: an IPv6 link without link-local
// addresses, router solicitations or DAD; no IPv6 at all on the link of an IPv4 or mapped run
// (lo keeps it: a mapped run's server listens on "::").
void Topology::quiet_ipv6(const std::string& side, Family family) {
    bool available = false;
    {
        NetnsEnter inside(host(side).netns);
        available = std::ifstream("/proc/sys/net/ipv6/conf/default/disable_ipv6").good();
    }
    if (!available) {
        if (family == Family::ipv4) return;  // no IPv6 in this kernel: nothing to keep quiet
        throw std::runtime_error("IPv6 is not available in this kernel (booted with ipv6.disable=1, or no ipv6 "
                                 "module): load it (modprobe ipv6), or run with --family 4");
    }
    if (family != Family::ipv6) {
        set_sysctl(side, "net.ipv6.conf.default.disable_ipv6", 1);
        set_sysctl(side, "net.ipv6.bindv6only", 0);  // a mapped run's "::" listener takes IPv4 too
        return;
    }
    set_sysctl(side, "net.ipv6.conf.default.disable_ipv6", 0);
    set_sysctl(side, "net.ipv6.conf.default.addr_gen_mode", 1);  // IN6_ADDR_GEN_MODE_NONE: no fe80::
    set_sysctl(side, "net.ipv6.conf.default.accept_ra", 0);
    set_sysctl(side, "net.ipv6.conf.default.router_solicitations", 0);
}

void Topology::remove() {
    for (const auto& h : hosts_) netns_delete(h.netns);
}

const Host& Topology::host(const std::string& side) const {
    for (const auto& h : hosts_)
        if (h.side == side) return h;
    throw std::logic_error("no host " + side);
}

void Topology::set_sysctl(const std::string& side, const std::string& key, long value) {
    NetnsEnter inside(host(side).netns);
    std::ofstream out(sysctl_path(key));
    out << value << '\n';
    out.flush();
    if (!out) throw std::runtime_error("cannot set " + key + "=" + std::to_string(value) + " in the " + side +
                                       " namespace (does this kernel have it?)");
}

Sysctls Topology::read_sysctls(const std::string& side, const std::vector<std::string>& keys) const {
    NetnsEnter inside(host(side).netns);
    Sysctls values;
    for (const auto& key : keys) {
        std::ifstream in(sysctl_path(key));
        long value;
        if (in >> value) values[key] = value;
    }
    return values;
}

std::vector<std::string> Topology::sweep() {
    std::vector<std::string> removed;
    for (const auto& name : netns_list()) {
        if (!is_stale(name)) continue;
        netns_delete(name);
        removed.push_back("network namespace " + name);
    }
    return removed;
}

}  // namespace socklab
