// Links and addresses inside one network namespace, over rtnetlink (what `ip link` and `ip addr`
// send, without starting a process for each).
#pragma once

#include <string>

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
    void set_up(const std::string& ifname);
    void add_ipv4(const std::string& ifname, const std::string& address, int prefix);
    // Blocks until `ifname`'s operational state is UP, for at most `seconds`; throws otherwise.
    void wait_operstate_up(const std::string& ifname, double seconds);

private:
    std::string netns_;
    mnl_socket* nl_ = nullptr;       // requests, each acknowledged
    mnl_socket* events_ = nullptr;   // RTMGRP_LINK notifications
    unsigned seq_ = 0;

    void request(void* message, const std::string& what);
    int index_of(const std::string& ifname, unsigned* operstate = nullptr);
};

}  // namespace socklab
