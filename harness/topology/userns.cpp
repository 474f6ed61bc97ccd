#include "topology/userns.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/common.hpp"

namespace socklab {
namespace {

std::string sysctl(const std::string& path) {
    std::ifstream in(path);
    std::string value;
    in >> value;
    return value;
}

// Why unshare(CLONE_NEWUSER) failed: create_user_ns() gives ENOSPC at the user.max_user_namespaces
// limit and EPERM in a chroot; EPERM also comes from Debian's and AppArmor's switches.
std::string refusal(int err) {
    if (err == ENOSPC)
        return "the limit user.max_user_namespaces is reached, or 0 (sysctl user.max_user_namespaces)";
    if (err != EPERM)
        return "";
    if (sysctl("/proc/sys/kernel/unprivileged_userns_clone") == "0")
        return "this kernel does not allow unprivileged ones (sysctl kernel.unprivileged_userns_clone is 0)";
    if (sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1")
        return "AppArmor restricts unprivileged ones (sysctl kernel.apparmor_restrict_unprivileged_userns is 1)";
    return "the kernel refuses them inside a chroot, and a seccomp filter or a security module may forbid them";
}

}  // namespace

bool enter_user_namespace(std::string& why) {
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) != 0) {
        const int err = errno;
        const std::string because = refusal(err);
        why = std::string("cannot create a user namespace (") + std::strerror(err) + ")" + (because.empty() ? "" : ": " + because);
        return false;
    }
    // Map ourselves to root inside; setgroups must be denied before an unprivileged gid_map.
    try {
        write_file("/proc/self/setgroups", "deny");
        write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
        write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
    } catch (const std::runtime_error& e) {
        why = std::string("cannot map the user into its user namespace (") + e.what() + ")";
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
