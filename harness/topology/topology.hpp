// Topology: the run's two test hosts, "client" and "server", each a network namespace with lo up,
// joined by a veth pair, with addresses from 198.18.0.0/15 (RFC 2544's benchmarking range) that no
// other live run holds, so that runs in parallel never see each other's events.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "topology/sysctls.hpp"

namespace socklab {

struct Host {
    std::string side;     // "client" or "server"
    std::string netns;    // socklab-<pid>-<side>
    std::string ifname;   // the veth end inside it
    std::string address;  // IPv4, as text
};

class Topology {
public:
    // Creates both namespaces and the link; on any failure removes what it made and throws.
    Topology();
    // Deletes both namespaces (and with them the veth pair and any nft tables in them).
    ~Topology();
    Topology(const Topology&) = delete;
    Topology& operator=(const Topology&) = delete;

    const Host& host(const std::string& side) const;
    const Host& client() const { return hosts_[0]; }
    const Host& server() const { return hosts_[1]; }
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
    int slot_fd_ = -1;
    bool keep_ = false;
    void remove();
};

// Sysctls the kernel rules read; reported for every run.
const std::vector<std::string>& observed_sysctls();

}  // namespace socklab
