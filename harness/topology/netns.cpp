#include "topology/netns.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "common/common.hpp"

namespace socklab {
namespace {

constexpr const char* kNetnsDir = "/run/netns";

// /run/netns must be a shared mount point, so that a namespace bound there later is seen by
// every mount namespace (`ip netns exec` makes one of its own). Binding the directory onto
// itself makes it a mount point the first time; after that, marking it shared again is a no-op.
void prepare_netns_dir() {
    if (::mkdir(kNetnsDir, 0755) != 0 && errno != EEXIST)
        throw std::runtime_error(std::string("cannot create ") + kNetnsDir + ": " + errno_text());
    if (::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) == 0) return;
    if (errno != EINVAL || ::mount(kNetnsDir, kNetnsDir, "none", MS_BIND | MS_REC, nullptr) != 0 ||
        ::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) != 0)
        throw std::runtime_error(std::string("cannot make ") + kNetnsDir + " a shared mount point: " + errno_text());
}

}  // namespace


std::string netns_path(const std::string& name) { return name.empty() ? "/proc/self/ns/net" : std::string(kNetnsDir) + "/" + name; }

void netns_add(const std::vector<std::string>& names, unsigned tcp_hash_buckets) {
    prepare_netns_dir();
    std::vector<std::string> made;  // names bound so far, removed again on failure
    int home = -1, parent = -1;
    auto fail = [&](const std::string& what) {
        const std::string reason = what + ": " + errno_text();
        if (home >= 0 && ::setns(home, CLONE_NEWNET) != 0) std::abort();  // we held a reference: cannot happen
        for (int fd : {home, parent})
            if (fd >= 0) ::close(fd);
        for (const auto& name : made) netns_delete(name);
        throw std::runtime_error(reason);
    };
    // This thread steps into a parent namespace that lives only for this call (children take
    // their hash table size from its sysctl), makes each child from there, and comes home.
    home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) fail("cannot open own network namespace");
    if (::unshare(CLONE_NEWNET) != 0) fail("cannot create a network namespace");
    parent = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (parent < 0) fail("cannot open the new network namespace");
    if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/tcp_child_ehash_entries", "w")) {  // absent before 6.1: fine
        std::fprintf(f, "%u\n", tcp_hash_buckets);
        std::fclose(f);
    }
    for (const auto& name : names) {
        const std::string path = netns_path(name);
        const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
        if (fd < 0) fail("cannot create " + path);
        ::close(fd);
        made.push_back(name);
        if (::unshare(CLONE_NEWNET) != 0) fail("cannot create a network namespace");
        if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0)
            fail("cannot bind the new network namespace at " + path);
        if (::setns(parent, CLONE_NEWNET) != 0) fail("cannot return to the parent namespace");
    }
    if (::setns(home, CLONE_NEWNET) != 0) std::abort();  // we held a reference: cannot happen
    ::close(home);
    ::close(parent);
}

std::vector<pid_t> netns_pids(const std::string& name) {
    std::vector<pid_t> pids;
    struct stat target {};
    if (::stat(netns_path(name).c_str(), &target) != 0) return pids;
    DIR* proc = ::opendir("/proc");
    if (!proc) return pids;
    while (const dirent* entry = ::readdir(proc)) {
        char* end = nullptr;
        const long pid = std::strtol(entry->d_name, &end, 10);
        if (pid <= 0 || *end != '\0') continue;
        struct stat ns {};
        const std::string link = std::string("/proc/") + entry->d_name + "/ns/net";
        if (::stat(link.c_str(), &ns) == 0 && ns.st_dev == target.st_dev && ns.st_ino == target.st_ino)
            pids.push_back(static_cast<pid_t>(pid));
    }
    ::closedir(proc);
    return pids;
}

void netns_delete(const std::string& name) {
    for (pid_t pid : netns_pids(name)) ::kill(pid, SIGKILL);
    const std::string path = netns_path(name);
    ::umount2(path.c_str(), MNT_DETACH);
    ::unlink(path.c_str());
}

std::vector<std::string> netns_list() {
    std::vector<std::string> names;
    if (DIR* dir = ::opendir(kNetnsDir)) {
        while (const dirent* entry = ::readdir(dir))
            if (entry->d_name[0] != '.') names.emplace_back(entry->d_name);
        ::closedir(dir);
    }
    std::sort(names.begin(), names.end());
    return names;
}

NetnsEnter::NetnsEnter(const std::string& name) {
    home_fd_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home_fd_ < 0) throw std::runtime_error("cannot open own netns: " + errno_text());
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
