// Links and addresses inside one network namespace, over rtnetlink (what `ip link` and `ip addr`
// send, without starting a process for each).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct mnl_socket;

namespace socklab {

class Links {
public:
    // Opens rtnetlink sockets inside `netns`: one for requests, one subscribed to link events.
    explicit Links(const std::string& netns);
    ~Links();
    Links(const Links&) = delete;
    Links& operator=(const Links&) = delete;

    // A veth pair: `name` here, `peer` created straight inside namespace `peer_netns`.
    void add_veth(const std::string& name, const std::string& peer, const std::string& peer_netns);
    // Brings the link up; with `no_neighbour_discovery` also sets IFF_NOARP: no ARP, and for IPv6
    // no neighbour solicitations and no multicast listener reports (addrconf_join_solict()).
    void set_up(const std::string& ifname, bool no_neighbour_discovery = false);
    // An IPv4 or IPv6 address; IPv6 without duplicate address detection (IFA_F_NODAD), usable at once.
    void add_address(const std::string& ifname, const std::string& address, int prefix);
    // The link's hardware address.
    std::vector<uint8_t> mac_of(const std::string& ifname);
    // Sets the link's hardware address (while it is down).
    void set_mac(const std::string& ifname, const std::vector<uint8_t>& mac);
    // Blocks until `ifname`'s operational state is UP, for at most `seconds`; throws otherwise.
    void wait_operstate_up(const std::string& ifname, double seconds);

private:
    std::string netns_;
    mnl_socket* nl_ = nullptr;       // requests, each acknowledged
    mnl_socket* events_ = nullptr;   // RTMGRP_LINK notifications
    unsigned seq_ = 0;

    void request(void* message, const std::string& what);
    int index_of(const std::string& ifname, unsigned* operstate = nullptr, std::vector<uint8_t>* mac = nullptr);
};

}  // namespace socklab
