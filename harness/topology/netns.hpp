// Entering a named network namespace (one made by `ip netns add`, bound at /run/netns/NAME).
#pragma once
#include <string>

namespace socklab {

// Path of a named namespace's bind mount; for "" the caller's own namespace.
std::string netns_path(const std::string& name);

// While alive, the calling thread is inside namespace `name`; the destructor returns it to
// the namespace it came from. Sockets opened meanwhile (netlink, AF_PACKET, pcap) stay bound
// to `name` for their whole life, which is why observers open theirs inside one of these.
class NetnsEnter {
public:
    explicit NetnsEnter(const std::string& name);
    ~NetnsEnter();
    NetnsEnter(const NetnsEnter&) = delete;
    NetnsEnter& operator=(const NetnsEnter&) = delete;

private:
    int home_fd_ = -1;
};

}  // namespace socklab
