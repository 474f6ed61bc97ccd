#include "observation/owners.hpp"

#include <filesystem>
#include <fstream>

#include "topology/netns.hpp"

namespace socklab {

std::map<uint64_t, std::vector<Owner>> socket_owners(const std::string& netns) {
    std::map<uint64_t, std::vector<Owner>> owners;
    for (pid_t pid : netns_pids(netns)) {
        const std::filesystem::path proc = "/proc/" + std::to_string(pid);
        std::string comm;
        std::getline(std::ifstream(proc / "comm"), comm);
        std::error_code fd_ec;
        for (const auto& fd : std::filesystem::directory_iterator(proc / "fd", fd_ec)) {
            std::error_code link_ec;
            const std::string link = std::filesystem::read_symlink(fd.path(), link_ec).string();
            if (link_ec || link.rfind("socket:[", 0) != 0) continue;
            const uint64_t inode = std::stoull(link.substr(8));
            owners[inode].push_back({pid, comm, std::stoi(fd.path().filename().string())});
        }
    }
    return owners;
}

}  // namespace socklab
