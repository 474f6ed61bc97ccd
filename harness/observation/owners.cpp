#include "observation/owners.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "topology/netns.hpp"

namespace socklab {

std::map<uint64_t, std::vector<Owner>> socket_owners(const std::string& netns) {
    std::map<uint64_t, std::vector<Owner>> owners;
    struct stat target {};
    if (::stat(netns_path(netns).c_str(), &target) != 0) return owners;
    std::error_code ec;
    for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string pid_text = proc.path().filename().string();
        if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
        struct stat ns {};
        // A process is in the namespace when its ns/net is the same inode as the bind mount.
        if (::stat((proc.path() / "ns/net").c_str(), &ns) != 0 || ns.st_ino != target.st_ino || ns.st_dev != target.st_dev)
            continue;
        std::string comm;
        std::getline(std::ifstream(proc.path() / "comm"), comm);
        std::error_code fd_ec;
        for (const auto& fd : std::filesystem::directory_iterator(proc.path() / "fd", fd_ec)) {
            std::error_code link_ec;
            const std::string link = std::filesystem::read_symlink(fd.path(), link_ec).string();
            if (link_ec || link.rfind("socket:[", 0) != 0) continue;
            const uint64_t inode = std::stoull(link.substr(8));
            owners[inode].push_back({static_cast<pid_t>(std::stol(pid_text)), comm, std::stoi(fd.path().filename().string())});
        }
    }
    return owners;
}

}  // namespace socklab
