#include "topology/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace socklab {

std::string netns_path(const std::string& name) { return name.empty() ? "/proc/self/ns/net" : "/run/netns/" + name; }

NetnsEnter::NetnsEnter(const std::string& name) {
    home_fd_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home_fd_ < 0) throw std::runtime_error(std::string("cannot open own netns: ") + std::strerror(errno));
    int target = ::open(netns_path(name).c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) {
        ::close(home_fd_);
        throw std::runtime_error("network namespace " + name + " does not exist");
    }
    int rc = ::setns(target, CLONE_NEWNET);
    int err = errno;
    ::close(target);
    if (rc != 0) {
        ::close(home_fd_);
        throw std::runtime_error("setns(" + name + "): " + std::strerror(err));
    }
}

NetnsEnter::~NetnsEnter() {
    // Returning home cannot reasonably fail: we held a reference to it all along.
    (void)::setns(home_fd_, CLONE_NEWNET);
    ::close(home_fd_);
}

}  // namespace socklab
