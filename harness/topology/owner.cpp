#include "topology/owner.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>

namespace socklab {
namespace {

// The claim's address: abstract (sun_path[0] == 0), so nothing is left in the file system.
socklen_t claim_address(pid_t pid, sockaddr_un& sa) {
    sa = sockaddr_un{};
    sa.sun_family = AF_UNIX;
    const std::string name = "socklab-owner-" + std::to_string(pid);
    std::memcpy(sa.sun_path + 1, name.data(), name.size());
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

// A process names objects from several threads (the hosts, the trace instance), and a forked
// job claims its own pid: one claim a pid, the fd inherited from the parent closed.
void claim_own_names() {
    static std::mutex mutex;
    static pid_t claimed = 0;
    static int fd = -1;
    const std::lock_guard lock(mutex);
    const pid_t self = ::getpid();
    if (claimed == self) return;
    if (fd >= 0) ::close(fd);
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa;
    const socklen_t len = claim_address(self, sa);
    // Without a claim the names are still ours while this process lives: only a reaper's
    // teardown then looks like a dead run's leftovers, and the next sweep does it instead.
    if (fd >= 0 && (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0 || ::listen(fd, SOMAXCONN) != 0)) {
        ::close(fd);
        fd = -1;
    }
    claimed = self;
}

// A connection to pid's claim, or -1 when nobody holds it (ECONNREFUSED: no such name). A full
// backlog (EAGAIN) is a claim held too; then there is no connection to wait on, and -2 says so.
int connect_claim(pid_t pid) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -2;
    sockaddr_un sa;
    const socklen_t len = claim_address(pid, sa);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), len) == 0) return fd;
    const int err = errno;
    ::close(fd);
    return err == ECONNREFUSED || err == ENOENT ? -1 : -2;
}

bool process_alive(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    // "pid (comm) S ...": comm may hold spaces, so find the last ')'.
    auto close = line.rfind(')');
    auto open = line.find('(');
    if (open == std::string::npos || close == std::string::npos || close + 2 >= line.size()) return false;
    const std::string comm = line.substr(open + 1, close - open - 1);
    const char state = line[close + 2];
    return state != 'Z' && state != 'X' && comm.rfind("socklab", 0) == 0;
}

}  // namespace

std::string owned_name(const std::string& what) {
    claim_own_names();
    return kObjectPrefix + std::to_string(::getpid()) + "-" + what;
}

std::optional<pid_t> owner_of(const std::string& name) {
    const std::string prefix = kObjectPrefix;
    if (name.rfind(prefix, 0) != 0) return std::nullopt;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size();
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(first, last, pid);
    if (ec != std::errc() || end == first || pid <= 0) return std::nullopt;
    if (end != last && *end != '-') return std::nullopt;
    return pid;
}

bool owner_alive(pid_t pid) {
    if (process_alive(pid)) return true;
    const int fd = connect_claim(pid);
    if (fd >= 0) ::close(fd);
    return fd != -1;
}

bool wait_for_reaper(pid_t pid, double timeout_s) {
    if (process_alive(pid)) return true;  // a live run, not a reaper
    const int fd = connect_claim(pid);
    if (fd == -1) return true;
    if (fd == -2) return false;
    // The listener's last close hangs up every connection still in its backlog.
    pollfd p{fd, POLLIN, 0};
    int rc;
    do rc = ::poll(&p, 1, static_cast<int>(timeout_s * 1000));
    while (rc < 0 && errno == EINTR);
    ::close(fd);
    return rc > 0;
}

bool is_stale(const std::string& name) {
    auto pid = owner_of(name);
    return pid && !owner_alive(*pid);
}

}  // namespace socklab
