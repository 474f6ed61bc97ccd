#include "topology/userns.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace socklab {
namespace {

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    out.flush();
    return static_cast<bool>(out);
}

}  // namespace

bool enter_user_namespace(std::string& why) {
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) != 0) {
        why = std::string("cannot create a user namespace (") + std::strerror(errno) +
              "): this kernel does not allow unprivileged user namespaces (see sysctl user.max_user_namespaces)";
        return false;
    }
    // Map ourselves to root inside; setgroups must be denied before an unprivileged gid_map.
    if (!write_file("/proc/self/setgroups", "deny") || !write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
        !write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) {
        why = "cannot map the user into its user namespace";
        return false;
    }
    // A private /run, where the test hosts' namespaces are bound under /run/netns.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") != 0) {
        why = std::string("cannot mount a private /run (") + std::strerror(errno) + ")";
        return false;
    }
    return true;
}

}  // namespace socklab
