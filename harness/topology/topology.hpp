// Topology: the run's two test hosts, "client" and "server", each a network namespace with lo up,
// joined by a veth pair, with addresses that no other live run holds, so that runs in parallel
// never see each other's events: a /30 of 198.18.0.0/15 (RFC 2544's benchmarking range), or for
// IPv6 a /64 of 2001:db8::/32 (RFC 3849's documentation range).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "topology/sysctls.hpp"

namespace socklab {

// The address family of a run: IPv4 or IPv6 on the wire, or IPv4 on the wire with the server's
// socket an IPv6 one on "::" that takes IPv4 too (its peers appear as ::ffff:198.18.x.y).
enum class Family { ipv4, ipv6, mapped };
std::string family_name(Family f);                          // "4", "6", "mapped"
std::optional<Family> parse_family(const std::string& name);  // the same names

struct Host {
    std::string side;     // "client" or "server"
    std::string netns;    // socklab-<pid>-<side>
    std::string ifname;   // the veth end inside it
    std::string address;  // on the wire, as inet_ntop writes it: IPv4, or IPv6 for Family::ipv6
    std::string mac;      // the veth end's hardware address, "02:ab:..."
};

class Topology {
public:
    // Creates both namespaces and the link; on any failure removes what it made and throws.
    // IPv6 links have no link-local addresses, no router solicitations, no DAD and no neighbour
    // discovery (IFF_NOARP, both ends with one hardware address), and IPv4 links no IPv6 at all,
    // so that a capture holds the run's own traffic and nothing else.
    explicit Topology(Family family = Family::ipv4);
    // Deletes both namespaces (and with them the veth pair and any nft tables in them).
    ~Topology();
    Topology(const Topology&) = delete;
    Topology& operator=(const Topology&) = delete;

    const Host& host(const std::string& side) const;
    const Host& client() const { return hosts_[0]; }
    const Host& server() const { return hosts_[1]; }
    Family family() const { return family_; }
    unsigned slot() const { return slot_; }  // the run's address slot, distinct among live runs
    void keep() { keep_ = true; }  // --keep-netns: leave them for inspection

    // Writes net.* sysctls inside the side's namespace (through /proc/sys while inside it).
    void set_sysctl(const std::string& side, const std::string& key, long value);
    // Reads them back; keys the kernel does not have are left out.
    Sysctls read_sysctls(const std::string& side, const std::vector<std::string>& keys) const;

    // The namespaces and tracefs instances of runs whose process is gone: their programs are
    // killed and the objects removed. Returns what was removed, for the progress output.
    static std::vector<std::string> sweep();

private:
    std::vector<Host> hosts_;
    Family family_;
    unsigned slot_ = 0;
    int slot_fd_ = -1;
    bool keep_ = false;
    void quiet_ipv6(const std::string& side, Family family);
    void remove();
};

// Sysctls the kernel rules read; reported for every run.
const std::vector<std::string>& observed_sysctls();

}  // namespace socklab
